import * as fs from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

import { validateConfig } from "../config";
import { lineKey, show } from "../config/errors";
import { NAMESPACE } from "../config/namespace";
import { OFFLINE_SECRET } from "../config/schema";
import { escapeInvisible } from "../config/text";

/**
 * Reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the CLI hands config to a program:
 * full keys (`<namespace>:<key>`) to string values, objects as JSON text. Encrypted values
 * (`secure:`) cannot be decrypted offline: they become an opaque placeholder and the key is
 * marked secret, which is all the program may rely on anyway. A file over
 * {@link MAX_STACK_FILE_BYTES} is refused before it is parsed, and a sub stack's file whose
 * `observability:mainStack` cannot name a stack is refused with every problem of the file, since
 * callers find the main stack's file from that key.
 */

/** How a secret value is shown wherever this project writes one out. */
export const SECRET_MARKER = OFFLINE_SECRET;

export class StackFileError extends Error {
    /** One line per problem, each starting with the file it is in. */
    readonly problems: readonly string[];

    constructor(message: string, problems: readonly string[] = [message]) {
        super(message);
        this.name = "StackFileError";
        this.problems = problems;
    }

    /** Problems of stack files' configuration, as the program reports its own: one line each. */
    static configuration(problems: readonly string[]): StackFileError {
        const count = `${problems.length} ${problems.length === 1 ? "problem" : "problems"}`;
        return new StackFileError(
            `invalid stack configuration (${count}):\n${problems.map((p) => `  ${p}`).join("\n")}`,
            problems,
        );
    }
}

/**
 * The largest stack file read: a stack file holds keys and encrypted values, a few kilobytes,
 * and the YAML parser takes seconds on some files of a megabyte.
 */
export const MAX_STACK_FILE_BYTES = 128 * 1024;

/** A file's name as messages show it: relative to the working directory when it is inside it. */
export function displayPath(file: string): string {
    const relative = path.relative(process.cwd(), file);
    const inside = relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
    return escapeInvisible(inside ? relative : file);
}

/** A stack or project file's text, refused before reading when it is not a file or too large. */
function readText(file: string): string {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(file);
    } catch (err) {
        throw new StackFileError(
            `${displayPath(file)}: cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
        );
    }
    if (!stat.isFile()) throw new StackFileError(`${displayPath(file)}: expected a file, found a directory or device`);
    if (stat.size > MAX_STACK_FILE_BYTES) {
        throw new StackFileError(
            `${displayPath(file)}: ${stat.size} bytes, over the ${MAX_STACK_FILE_BYTES}-byte limit of a stack file; ` +
                "a stack file holds keys and encrypted values, a few kilobytes",
        );
    }
    try {
        return fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new StackFileError(
            `${displayPath(file)}: cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
        );
    }
}

/** Parses YAML text; a broken file is named with where it breaks, never with its content. */
function parseYaml(file: string, text: string): unknown {
    try {
        return parse(text);
    } catch (err) {
        // The parser's message goes on with the offending lines, which may hold a credential.
        const first = String((err as Error).message).split("\n")[0] ?? "";
        throw new StackFileError(`${displayPath(file)}: not valid YAML: ${escapeInvisible(first).slice(0, 200)}`);
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
    const project = parseYaml(file, readText(file));
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
    const document = parseYaml(stackFile, readText(stackFile));
    const config = isRecord(document) ? document.config : undefined;
    if (config === undefined || config === null) {
        throw new StackFileError(`${stackFile}: no 'config:' section; see Pulumi.main.yaml for a complete example`);
    }
    if (!isRecord(config)) {
        throw new StackFileError(`${stackFile}: 'config:' must be a map of keys to values`);
    }
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    const empty = new Set<string>();
    for (const [rawKey, rawValue] of Object.entries(config)) {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        const { value, secret } = redactSecure(rawValue);
        values[key] = typeof value === "string" ? value : JSON.stringify(value);
        if (secret) secretKeys.push(key);
        if (rawValue === null) empty.add(key);
    }
    const read: StackConfigFile = { project, stack, file: stackFile, values, secretKeys: secretKeys.sort() };
    if (mainStackReference(read) === undefined) {
        throw StackFileError.configuration(stackFileProblems(read, empty));
    }
    return read;
}

const ROLE_KEY = `${NAMESPACE}:role`;
const MAIN_STACK_KEY = `${NAMESPACE}:mainStack`;
const STACK_REFERENCE = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/([A-Za-z0-9_.-]+)$/;

/**
 * The main stack a sub stack's file names in `observability:mainStack`: the reference and the
 * stack's name, once the key has passed its checks (set, plain, `<organization>/<project>/<stack>`).
 * Undefined when it has not; null for a file that is not a sub stack's.
 */
export function mainStackReference(file: StackConfigFile): { reference: string; stack: string } | null | undefined {
    if (file.values[ROLE_KEY] !== "sub" || file.secretKeys.includes(ROLE_KEY)) return null;
    const reference = file.values[MAIN_STACK_KEY];
    if (reference === undefined || file.secretKeys.includes(MAIN_STACK_KEY)) return undefined;
    const match = STACK_REFERENCE.exec(reference);
    return match === null ? undefined : { reference, stack: match[1] as string };
}

/**
 * Every problem of a stack file's configuration, as the program reports them, each line starting
 * with the file's name. `empty` lists the keys written without a value.
 */
export function stackFileProblems(file: StackConfigFile, empty: ReadonlySet<string> = new Set()): string[] {
    const result = validateConfig({ values: file.values, isSecret: (key) => file.secretKeys.includes(key) });
    if (!("problems" in result)) return [];
    const name = displayPath(file.file);
    return result.problems.map((problem) => {
        const key = lineKey(problem);
        // YAML's null arrives as the text "null": say what was written.
        const line =
            empty.has(key) && !file.secretKeys.includes(key)
                ? problem.replace(/, found "null"(;|$)/, ", found nothing (the key has no value)$1")
                : problem;
        return `${name}: ${line}`;
    });
}

/** A stack's file and, for a sub stack, the file of the main stack it names. */
export interface StackWithMain {
    stack: StackConfigFile;
    main?: { reference: string; stack: string; file: StackConfigFile };
}

/**
 * Reads a stack's file and, for a sub stack, the main stack's file its `observability:mainStack`
 * names (`mainStackFile`, else `Pulumi.<stack>.yaml` beside the project): the key is checked
 * before it is used to find a file. Throws {@link StackFileError} listing, each under its file's
 * name, every problem of the main stack's file together with the sub stack's own, or the key's
 * problem when it names no stack with a file. Problems of the stack's own file alone are left to
 * the program, which reports them as it always does.
 */
export function readStackWithMain(
    projectDir: string,
    stack: string,
    options: { stackFile?: string; mainStackFile?: string } = {},
): StackWithMain {
    const own = readStackConfig(projectDir, stack, options.stackFile);
    const named = mainStackReference(own);
    if (named === null || named === undefined) return { stack: own };
    const mainFile = options.mainStackFile ?? path.join(projectDir, `Pulumi.${named.stack}.yaml`);
    if (!fs.existsSync(mainFile)) {
        const known = availableStacks(projectDir);
        throw StackFileError.configuration([
            `${displayPath(own.file)}: ${MAIN_STACK_KEY}: expected the stack reference of a stack with a file here ` +
                `(${known.join(", ") || "none"}), found ${show(named.reference)}; example: acme/observability/main`,
            ...stackFileProblems(own).filter((line) => !line.includes(` ${MAIN_STACK_KEY}: `)),
        ]);
    }
    const main = readStackConfig(projectDir, named.stack, mainFile);
    const problems: string[] = [];
    if (main.values[ROLE_KEY] !== "main") {
        const role = main.values[ROLE_KEY];
        problems.push(
            `${displayPath(main.file)}: ${ROLE_KEY}: expected "main" (the stack ${named.reference} that ` +
                `${displayPath(own.file)} names in ${MAIN_STACK_KEY}), found ` +
                (main.secretKeys.includes(ROLE_KEY) ? "a secret" : show(role)),
        );
    } else {
        problems.push(...stackFileProblems(main));
    }
    if (problems.length > 0) throw StackFileError.configuration([...problems, ...stackFileProblems(own)]);
    return { stack: own, main: { reference: named.reference, stack: named.stack, file: main } };
}
