import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { parseAllDocuments } from "yaml";

import { validateConfig, type MainConfig, type RawConfig, type StackConfig } from "../config";
import type { ResourceRecord } from "../render/mock-engine";
import { shortUrn } from "../render/render";

/** The project root: where Pulumi.yaml and package.json are. */
export const projectDir = path.resolve(__dirname, "..");

export const fixture = (name: string): string => path.join(projectDir, "test", "fixtures", name);

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}

export interface CliResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** Runs `npm run render -- <args>` as a user would, in a child process. */
export function renderCli(args: string[]): CliResult {
    const result = spawnSync(
        process.execPath,
        ["--require", "ts-node/register/transpile-only", path.join(projectDir, "render", "cli.ts"), ...args],
        { cwd: projectDir, encoding: "utf8" },
    );
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The YAML documents of a rendered resources file. */
export function readDocuments(file: string): Record<string, unknown>[] {
    return parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS() as Record<string, unknown>);
}

/** `type | name | parent` of every record, sorted: the shape of a declared stack at a glance. */
export function declared(records: readonly ResourceRecord[]): string[] {
    return records.map((r) => [r.type, r.name, r.parent === undefined ? "" : shortUrn(r.parent)].join(" | ")).sort();
}

/** Builds the CLI's view of config: `observability:`-prefixed keys, objects as JSON text. */
export function rawConfig(values: Record<string, unknown>, secretKeys: string[] = []): RawConfig {
    const entries = Object.entries(values).map(([key, value]) => [
        key.includes(":") ? key : `observability:${key}`,
        typeof value === "string" ? value : JSON.stringify(value),
    ]);
    const secrets = new Set(secretKeys.map((k) => (k.includes(":") ? k : `observability:${k}`)));
    return { values: Object.fromEntries(entries), isSecret: (key) => secrets.has(key) };
}

/** The problems validation finds in these values; fails the test when it accepts them. */
export function configProblems(values: Record<string, unknown>, secretKeys: string[] = []): string[] {
    const result = validateConfig(rawConfig(values, secretKeys));
    if (!("problems" in result)) throw new Error("expected the config to be rejected");
    return result.problems;
}

/** The smallest valid main stack's values, as its file would hold them. */
export const VALID_MAIN = {
    role: "main",
    cluster: { name: "main" },
    exposure: { domain: "obs.example.com", kind: "traefik-passthrough" },
    storage: { kind: "filesystem" },
    subClusters: [{ name: "sub-eu-1" }],
};

/** The smallest valid sub stack's values, naming main `acme/observability/main`. */
export const VALID_SUB = { role: "sub", cluster: { name: "sub-eu-1" }, mainStack: "acme/observability/main" };

const S3_SECRET_KEYS = ["observability:s3AccessKeyId", "observability:s3SecretAccessKey"];

/**
 * A validated stack configuration from `observability:` keys given as plain data, as a stack
 * file would hold them. With S3 storage, the two credentials are stood in as secrets.
 */
export function stackConfig(values: Record<string, unknown>, secrets: Record<string, string> = {}): StackConfig {
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
        raw[`observability:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const secretKeys = Object.keys(secrets).map((key) => `observability:${key}`);
    for (const [key, value] of Object.entries(secrets)) raw[`observability:${key}`] = value;
    const s3 = raw["observability:storage"]?.includes('"s3"') === true;
    if (s3) for (const key of S3_SECRET_KEYS) raw[key] = "stand-in";
    const result = validateConfig({
        values: raw,
        isSecret: (key) => (s3 && S3_SECRET_KEYS.includes(key)) || secretKeys.includes(key),
    });
    if (!("config" in result)) throw new Error(result.problems.join("\n"));
    return result.config;
}

/** A validated main configuration: {@link stackConfig} with `role: main`. */
export function mainConfig(values: Record<string, unknown>, secrets: Record<string, string> = {}): MainConfig {
    const config = stackConfig({ role: "main", ...values }, secrets);
    if (config.role !== "main") throw new Error("expected a main config");
    return config;
}

/** The fleet the real-process tests run: main `main` on obs.example.com with one sub cluster. */
export function exampleMainConfig(subCluster: string): MainConfig {
    return mainConfig({
        cluster: { name: "main" },
        exposure: { domain: "obs.example.com", kind: "traefik-passthrough" },
        storage: { kind: "filesystem" },
        subClusters: [{ name: subCluster }],
    });
}

/** S3 storage of the unit-test fleet, one bucket per signal. */
export const TEST_S3_STORAGE = {
    kind: "s3",
    endpoint: "https://s3.eu-west-1.amazonaws.com",
    region: "eu-west-1",
    buckets: { metrics: "acme-metrics", logs: "acme-logs", traces: "acme-traces" },
};

/** Main `hub` of the unit-test fleet on obs.acme.test (Traefik passthrough, filesystem storage). */
export const testMain = (extra: Record<string, unknown> = {}): MainConfig =>
    mainConfig({
        cluster: { name: "hub" },
        exposure: { domain: "obs.acme.test", kind: "traefik-passthrough" },
        storage: { kind: "filesystem" },
        ...extra,
    });

/** Sub `edge-a` of the unit-test fleet. */
export const testSub = (extra: Record<string, unknown> = {}): StackConfig =>
    stackConfig({ role: "sub", cluster: { name: "edge-a" }, mainStack: "acme/observability/main", ...extra });
