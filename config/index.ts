import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfigModule from "@pulumi/pulumi/runtime/config";

import { configKey, describeIssues } from "./errors";
import { NAMESPACE } from "./namespace";
import { configSchema, SECRET_KEYS, type StackConfig } from "./schema";

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

/** Secrets of the stack, as Pulumi secret outputs. */
export interface StackSecrets {
    s3?: {
        accessKeyId: pulumi.Output<string>;
        secretAccessKey: pulumi.Output<string>;
    };
}

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

const secretKeyNames = new Set(SECRET_KEYS.map((s) => s.key));

/**
 * Collects the `observability:` keys into one object, as the schema expects it. Objects and
 * arrays arrive as JSON text; scalars stay strings.
 */
export function namespaceObject(raw: RawConfig): { input: Record<string, unknown>; problems: string[] } {
    const input: Record<string, unknown> = {};
    const problems: string[] = [];
    const prefix = `${NAMESPACE}:`;
    for (const [fullKey, text] of Object.entries(raw.values)) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        if (secretKeyNames.has(key)) continue;
        if (raw.isSecret(fullKey)) {
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
                problems.push(`${fullKey}: expected valid YAML or JSON, found ${JSON.stringify(text.slice(0, 60))}`);
            }
        } else {
            input[key] = text;
        }
    }
    return { input, problems };
}

/**
 * Validates raw config. Returns the typed config, or every problem found, one line each:
 * the full key, what was expected, what was found, and an example.
 */
export function validateConfig(raw: RawConfig): { config: StackConfig } | { problems: string[] } {
    const { input, problems } = namespaceObject(raw);
    const parsed = configSchema.safeParse(input, { reportInput: true });
    if (!parsed.success) {
        return { problems: [...problems, ...describeIssues(configSchema, parsed.error.issues, input)] };
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
    // Same as `config.requireSecret`: the value the CLI decrypted, wrapped as a secret output.
    const secret = (key: string) => pulumi.secret(raw.values[`${NAMESPACE}:${key}`] ?? "");
    const secrets: StackSecrets = {};
    if (config.role === "main" && config.storage.kind === "s3") {
        secrets.s3 = { accessKeyId: secret("s3AccessKeyId"), secretAccessKey: secret("s3SecretAccessKey") };
    }
    return { config, secrets };
}

export { configKey };
