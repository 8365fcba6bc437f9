import * as fs from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

import { OFFLINE_SECRET } from "../../config/schema";

/**
 * Reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the CLI hands config to a program:
 * full keys (`<namespace>:<key>`) to string values, objects as JSON text. Encrypted values
 * (`secure:`) cannot be decrypted offline: they become an opaque placeholder and the key is
 * marked secret, which is all the program may rely on anyway.
 */

/** How a secret value is shown wherever this project writes one out. */
export const SECRET_MARKER = OFFLINE_SECRET;

export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

export interface StackConfigFile {
    project: string;
    stack: string;
    file: string;
    values: Record<string, string>;
    secretKeys: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The project name from `Pulumi.yaml`. */
export function readProjectName(projectDir: string): string {
    const file = path.join(projectDir, "Pulumi.yaml");
    const project: unknown = parse(fs.readFileSync(file, "utf8"));
    if (!isRecord(project) || typeof project.name !== "string") {
        throw new StackFileError(`${file}: expected a 'name' key with the project name`);
    }
    return project.name;
}

/** Stack names that have a `Pulumi.<stack>.yaml` in the project directory. */
export function availableStacks(projectDir: string): string[] {
    return fs
        .readdirSync(projectDir)
        .map((entry) => /^Pulumi\.(.+)\.yaml$/.exec(entry)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
}

/** Replaces `{secure: ...}` leaves by the placeholder; reports whether any was found. */
function redactSecure(value: unknown): { value: unknown; secret: boolean } {
    if (isRecord(value)) {
        const keys = Object.keys(value);
        if (keys.length === 1 && keys[0] === "secure") {
            return { value: SECRET_MARKER, secret: true };
        }
        let secret = false;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            const r = redactSecure(v);
            out[k] = r.value;
            secret ||= r.secret;
        }
        return { value: out, secret };
    }
    if (Array.isArray(value)) {
        const items = value.map(redactSecure);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    return { value, secret: false };
}

/** Reads one stack's config. `file` overrides the default `Pulumi.<stack>.yaml`. */
export function readStackConfig(projectDir: string, stack: string, file?: string): StackConfigFile {
    const project = readProjectName(projectDir);
    const stackFile = file ?? path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        const known = availableStacks(projectDir);
        throw new StackFileError(
            `no stack file ${path.relative(process.cwd(), stackFile) || stackFile} for stack '${stack}'; ` +
                `stacks with a file here: ${known.length > 0 ? known.join(", ") : "none"}`,
        );
    }
    let document: unknown;
    try {
        document = parse(fs.readFileSync(stackFile, "utf8"));
    } catch (err) {
        throw new StackFileError(`${stackFile}: not valid YAML: ${(err as Error).message}`);
    }
    const config = isRecord(document) ? document.config : undefined;
    if (config === undefined || config === null) {
        throw new StackFileError(`${stackFile}: no 'config:' section; see Pulumi.main.yaml for a complete example`);
    }
    if (!isRecord(config)) {
        throw new StackFileError(`${stackFile}: 'config:' must be a map of keys to values`);
    }
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, rawValue] of Object.entries(config)) {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        const { value, secret } = redactSecure(rawValue);
        values[key] = typeof value === "string" ? value : JSON.stringify(value);
        if (secret) secretKeys.push(key);
    }
    return { project, stack, file: stackFile, values, secretKeys: secretKeys.sort() };
}
