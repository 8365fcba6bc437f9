import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfigModule from "@pulumi/pulumi/runtime/config";

import { configKey, describeIssues } from "./errors";
import { NAMESPACE } from "./namespace";
import { configSchema, OFFLINE_SECRET, SECRET_KEYS, type SecretKeyName, type StackConfig } from "./schema";

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

/**
 * Collects the `observability:` keys into one object, as the schema expects it. Objects and
 * arrays arrive as JSON text; scalars stay strings. A schema key that holds a secret is a
 * problem of its own, and its value never appears in a message.
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
        const secret = raw.isSecret(fullKey);
        if (secret) {
            secretSchemaKeys.push(key);
            problems.push(
                `${fullKey}: expected a plain value (secrets belong only in ` +
                    `${[...secretKeyNames].map((k) => `${prefix}${k}`).join(", ")}), ` +
                    "found a secret; set it again without --secret",
            );
        }
        const trimmed = text.trimStart();
        if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
            try {
                input[key] = JSON.parse(text);
            } catch {
                if (!secret) {
                    problems.push(
                        `${fullKey}: expected valid YAML or JSON, found ${JSON.stringify(text.slice(0, 60))}`,
                    );
                }
            }
        } else {
            input[key] = text;
        }
    }
    return { input, problems, secretSchemaKeys };
}

/** Whether a problem line is about `key` or one of its sub-keys. */
function isAbout(line: string, key: string): boolean {
    const full = configKey([key]);
    return line.startsWith(`${full}:`) || line.startsWith(`${full}.`) || line.startsWith(`${full}[`);
}

/**
 * Validates raw config. Returns the typed config, or every problem found, one line each:
 * the full key, what was expected, what was found, and an example.
 */
export function validateConfig(raw: RawConfig): { config: StackConfig } | { problems: string[] } {
    const { input, problems, secretSchemaKeys } = namespaceObject(raw);
    const parsed = configSchema.safeParse(input, { reportInput: true });
    if (!parsed.success) {
        // A secret's value would be quoted in "found ...": only its own problem is reported.
        const issues = describeIssues(configSchema, parsed.error.issues, input).filter(
            (line) => !secretSchemaKeys.some((key) => isAbout(line, key)),
        );
        return { problems: [...problems, ...issues].sort() };
    }
    for (const secret of SECRET_KEYS) {
        const fullKey = `${NAMESPACE}:${secret.key}`;
        const value = raw.values[fullKey];
        if (!secret.requiredWhen(parsed.data)) continue;
        if (value === undefined || value === "") {
            problems.push(
                `${fullKey}: expected a Pulumi secret (${secret.description}), found nothing (the key is ` +
                    `not set); example: pulumi config set --secret ${fullKey} '${secret.example}'`,
            );
        } else if (!raw.isSecret(fullKey)) {
            problems.push(
                `${fullKey}: expected a Pulumi secret, found a plain-text value; example: ` +
                    `pulumi config rm ${fullKey} && pulumi config set --secret ${fullKey} '${secret.example}'`,
            );
        } else if ("check" in secret && value !== OFFLINE_SECRET) {
            problems.push(...secret.check(value, parsed.data).map((line) => `${fullKey}: ${line}`));
        }
    }
    if (problems.length > 0) return { problems: problems.sort() };
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
