import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfigModule from "@pulumi/pulumi/runtime/config";

import type { z } from "zod";

import { configKey, describeIssues, keyName, show } from "./errors";
import { NAMESPACE } from "./namespace";
import {
    configSchema,
    mainSchema,
    OFFLINE_SECRET,
    SECRET_KEYS,
    subSchema,
    type SecretKeyName,
    type StackConfig,
} from "./schema";
import { closest } from "./text";

export { NAMESPACE } from "./namespace";
export * from "./schema";

/**
 * Raised for invalid stack configuration. A `RunError`, so the Pulumi CLI prints the message
 * alone, without a stack trace, and exits non-zero before any resource is declared.
 */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: readonly string[]) {
        super(
            `invalid stack configuration (${problems.length} ${problems.length === 1 ? "problem" : "problems"}):\n` +
                problems.map((p) => `  ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Secrets the validated config needs, as Pulumi secret outputs, by key. */
export type StackSecrets = Partial<Record<SecretKeyName, pulumi.Output<string>>>;

export interface LoadedConfig {
    config: StackConfig;
    secrets: StackSecrets;
}

/** A raw view of the stack's config: the key/value pairs the CLI hands to the program. */
export interface RawConfig {
    /** Full keys (`observability:role`) to their string values. */
    values: Readonly<Record<string, string>>;
    /** Full keys whose value is a Pulumi secret. */
    isSecret: (fullKey: string) => boolean;
}

const secretKeyNames = new Set<string>(SECRET_KEYS.map((s) => s.key));

const roleSchemas = { main: mainSchema, sub: subSchema } as const;

/** Keys of either role's schema. */
const schemaKeyNames = new Set<string>([...Object.keys(mainSchema.shape), ...Object.keys(subSchema.shape)]);

/** What a secret-marked schema key is checked as: no value a message could quote or compare. */
const SECRET_PLACEHOLDER = Symbol("secret");

const plainValueExpected = `a plain value (secrets belong only in ${[...secretKeyNames].map((k) => `${NAMESPACE}:${k}`).join(", ")})`;

/**
 * Collects the `observability:` keys into one object, as the schema expects it. Objects and
 * arrays arrive as JSON text; scalars stay strings. A schema key that holds a secret is a
 * problem of its own, and its value never appears in a message: the schema sees a placeholder
 * no check can read. A secret-marked key the schema does not know is reported as unknown, with
 * the closest key, secret keys included.
 */
export function namespaceObject(raw: RawConfig): {
    input: Record<string, unknown>;
    problems: string[];
    secretSchemaKeys: string[];
} {
    const input: Record<string, unknown> = {};
    const problems: string[] = [];
    const secretSchemaKeys: string[] = [];
    const prefix = `${NAMESPACE}:`;
    for (const [fullKey, text] of Object.entries(raw.values)) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        if (secretKeyNames.has(key)) continue;
        if (raw.isSecret(fullKey)) {
            secretSchemaKeys.push(key);
            if (schemaKeyNames.has(key)) {
                problems.push(
                    `${configKey([key])}: expected ${plainValueExpected}, found a secret; set it again without --secret`,
                );
                input[key] = SECRET_PLACEHOLDER;
            } else {
                const suggestion = closest(key, [...schemaKeyNames, ...secretKeyNames]);
                problems.push(
                    `${configKey([key])}: expected a key of this program (see docs/configuration.md), found ` +
                        `unknown key ${show(key)}, set as a secret` +
                        (suggestion === undefined ? "" : `; did you mean ${suggestion}?`),
                );
            }
            continue;
        }
        const trimmed = text.trimStart();
        if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
            try {
                input[key] = JSON.parse(text);
            } catch {
                problems.push(`${configKey([key])}: expected valid YAML or JSON, found ${show(text)}`);
            }
        } else {
            input[key] = text;
        }
    }
    return { input, problems, secretSchemaKeys };
}

/**
 * Keys of a namespace that is a near miss of this program's (`observabilty:`, `Observability:`):
 * no program reads them, so what they set would be silently lost. Each is a problem.
 */
export function nearMissNamespaces(values: Readonly<Record<string, string>>): string[] {
    const problems: string[] = [];
    for (const fullKey of Object.keys(values)) {
        const colon = fullKey.indexOf(":");
        if (colon < 0) continue;
        const namespace = fullKey.slice(0, colon);
        if (namespace === NAMESPACE || closest(namespace, [NAMESPACE]) === undefined) continue;
        const key = fullKey.slice(colon + 1);
        problems.push(
            `${keyName(fullKey)}: expected a key of the ${NAMESPACE} namespace (no program reads ` +
                `${keyName(namespace)}:), found the namespace ${show(namespace)}; did you mean ${NAMESPACE}:${keyName(key)}?`,
        );
    }
    return problems;
}

/** Whether a problem line is about `key` or one of its sub-keys. */
function isAbout(line: string, key: string): boolean {
    const full = configKey([key]);
    return line.startsWith(`${full}:`) || line.startsWith(`${full}.`) || line.startsWith(`${full}[`);
}

/**
 * What can be known of the config when it does not validate: each section of the role's schema
 * that is valid on its own, the others absent. Undefined when the role itself is unknown.
 */
function partialConfig(input: Record<string, unknown>): Record<string, unknown> | undefined {
    const role = input.role;
    if (role !== "main" && role !== "sub") return undefined;
    const partial: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(roleSchemas[role].shape)) {
        const parsed = (schema as z.ZodType).safeParse(input[key]);
        if (parsed.success) partial[key] = parsed.data;
    }
    return partial;
}

/**
 * Runs a question about the config that may read sections a partial config lacks: undefined
 * when it cannot be answered (the sections it needs have problems of their own).
 */
function ask<T>(question: () => T): T | undefined {
    try {
        return question();
    } catch {
        return undefined;
    }
}

/**
 * Problems of the secret keys, whether or not the rest validates: a credential in plain text is
 * always one; a missing secret is one when the sections that decide whether it is needed are
 * valid; a secret's content is checked against the sections it depends on.
 */
function secretProblems(raw: RawConfig, config: Record<string, unknown> | undefined): string[] {
    const problems: string[] = [];
    for (const secret of SECRET_KEYS) {
        const fullKey = `${NAMESPACE}:${secret.key}`;
        const value = raw.values[fullKey];
        const set = value !== undefined && value !== "";
        if (set && !raw.isSecret(fullKey)) {
            problems.push(
                `${fullKey}: expected a Pulumi secret, found a plain-text value; example: ` +
                    `pulumi config rm ${fullKey} && pulumi config set --secret ${fullKey} '${secret.example}'`,
            );
            continue;
        }
        if (config === undefined) continue;
        const needed = ask(() => secret.requiredWhen(config as StackConfig));
        if (needed !== true) continue;
        if (!set) {
            problems.push(
                `${fullKey}: expected a Pulumi secret (${secret.description}), found nothing (the key is ` +
                    `not set); example: pulumi config set --secret ${fullKey} '${secret.example}'`,
            );
        } else if ("check" in secret && value !== OFFLINE_SECRET) {
            const lines = ask(() => secret.check(value, config as StackConfig)) ?? [];
            problems.push(...lines.map((line) => `${fullKey}: ${line}`));
        }
    }
    return problems;
}

/**
 * Validates raw config. Returns the typed config, or every problem found, one line each: the
 * full key, what was expected, what was found, and an example. Schema, secrets and near-miss
 * namespaces are all checked in one run; no value of a secret-marked key appears in any line.
 */
export function validateConfig(raw: RawConfig): { config: StackConfig } | { problems: string[] } {
    const { input, problems, secretSchemaKeys } = namespaceObject(raw);
    problems.push(...nearMissNamespaces(raw.values));
    let parsed: ReturnType<typeof configSchema.safeParse>;
    try {
        parsed = configSchema.safeParse(input, { reportInput: true });
    } catch {
        // A check that fails on a value it did not expect is a defect; its message may quote the
        // value, so none of it is shown.
        return {
            problems: [
                `${NAMESPACE}: expected a configuration every check can read, found one that made a check ` +
                    "fail unexpectedly; the problem is in this program, please report it with the keys set",
            ],
        };
    }
    if (!parsed.success) {
        const issues = describeIssues(configSchema, parsed.error.issues, input, {
            topLevelSuggestions: [...secretKeyNames],
        }).filter((line) => !secretSchemaKeys.some((key) => isAbout(line, key)));
        problems.push(...issues);
    }
    problems.push(...secretProblems(raw, parsed.success ? parsed.data : ask(() => partialConfig(input))));
    const all = [...new Set(problems)].sort();
    if (!parsed.success && all.length === 0) {
        return {
            problems: [
                `${NAMESPACE}: expected a configuration the schema accepts, found one it refuses without a reason`,
            ],
        };
    }
    if (!parsed.success || all.length > 0) return { problems: all };
    return { config: parsed.data };
}

/** The CLI's view of config, through the SDK. */
function runtimeConfig(): RawConfig {
    // `isConfigSecret` is not part of the SDK's typed surface; it reads the secret-key list the
    // CLI passes to every program (PULUMI_CONFIG_SECRET_KEYS).
    const { isConfigSecret } = runtimeConfigModule as unknown as {
        isConfigSecret?: (key: string) => boolean;
    };
    if (isConfigSecret === undefined) {
        throw new pulumi.RunError("this version of @pulumi/pulumi cannot tell secret config keys apart");
    }
    return { values: pulumi.runtime.allConfig(), isSecret: isConfigSecret };
}

/**
 * Reads and validates the stack configuration. Throws {@link ConfigError} listing every problem
 * before the program declares anything.
 */
export function loadConfig(raw: RawConfig = runtimeConfig()): LoadedConfig {
    const result = validateConfig(raw);
    if ("problems" in result) {
        throw new ConfigError(result.problems);
    }
    const config = result.config;
    const secrets: StackSecrets = {};
    for (const secret of SECRET_KEYS) {
        if (!secret.requiredWhen(config)) continue;
        // Same as `config.requireSecret`: the value the CLI decrypted, wrapped as a secret output.
        secrets[secret.key] = pulumi.secret(raw.values[`${NAMESPACE}:${secret.key}`] ?? "");
    }
    return { config, secrets };
}
