import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";

import { DASHBOARD_LABEL } from "../components/core/labels";
import { useClock } from "../components/pki/rotation";
import { loadProgram, type ProgramLoad } from "./load";
import { MockEngine, ResourceRef, Secret, Unknown, type ResourceRecord } from "./mock-engine";
import { readStackWithMain, SECRET_MARKER } from "./stack-file";

/**
 * The offline render: evaluates the program with a stack's config under the mock engine and
 * turns what it declared into reviewable YAML, secrets redacted. Deterministic: the same
 * inputs give byte-identical files.
 */

export interface RenderOptions {
    projectDir: string;
    stack: string;
    /** A stack file other than `Pulumi.<stack>.yaml`. */
    stackFile?: string;
    /** Evaluate as `pulumi preview` does. */
    preview?: boolean;
    /**
     * The instant rotation decisions and certificate validity are computed at (ms). Defaults to
     * the wall clock; `npm run render` passes {@link renderClock}'s.
     */
    now?: number;
    /**
     * For a sub stack: the stack file of the main stack it references. Defaults to
     * `Pulumi.<stack>.yaml` for the last segment of `observability:mainStack`.
     */
    mainStackFile?: string;
}

export interface RenderResult {
    engine: MockEngine;
    records: ResourceRecord[];
    /** File name to content, as `writeRender` writes them. */
    files: Map<string, string>;
    /** Milliseconds spent running the program (load, evaluation, registrations). */
    programMs: number;
    /** How the SDK compiled the program. */
    load: ProgramLoad;
}

/**
 * Plain data for YAML, map keys sorted: secrets, unknowns and references become readable
 * markers.
 */
export function redact(value: unknown, nameOf: (urn: string) => string): unknown {
    // The SDK lifts secretness to the top-level property; keep the shape visible, every leaf hidden.
    if (value instanceof Secret) return redactLeaves(value.value);
    if (value instanceof Unknown) return "[unknown]";
    if (value instanceof ResourceRef) return `[resource ${nameOf(value.urn)}]`;
    if (Array.isArray(value)) return value.map((v) => redact(v, nameOf));
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(
            Object.keys(value)
                .sort()
                .map((k) => [k, redact((value as Record<string, unknown>)[k], nameOf)]),
        );
    }
    return value;
}

function redactLeaves(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redactLeaves);
    if (value instanceof Secret) return redactLeaves(value.value);
    if (value !== null && typeof value === "object" && !(value instanceof Unknown) && !(value instanceof ResourceRef)) {
        return Object.fromEntries(
            Object.keys(value)
                .sort()
                .map((k) => [k, redactLeaves((value as Record<string, unknown>)[k])]),
        );
    }
    return SECRET_MARKER;
}

/** How many secret values a decoded value holds. */
export function countSecrets(value: unknown): number {
    if (value instanceof Secret) return 1;
    if (Array.isArray(value)) return value.reduce((n: number, v) => n + countSecrets(v), 0);
    if (value !== null && typeof value === "object") {
        return Object.values(value).reduce((n: number, v) => n + countSecrets(v), 0);
    }
    return 0;
}

/** `type::name` of a URN, the stable identity a reviewer reads. */
export function shortUrn(urn: string): string {
    const parts = urn.split("::");
    const type = (parts[2] ?? "").split("$").pop() ?? "";
    return `${type}::${parts.slice(3).join("::")}`;
}

/** A provider reference `<urn>::<id>` without its id, which differs between runs. */
function providerName(reference: string): string {
    const urn = reference.split("::").slice(0, 4).join("::");
    return shortUrn(urn);
}

/** Records in tree order: the stack first, then each parent before its children by type and name. */
export function treeOrder(records: readonly ResourceRecord[]): ResourceRecord[] {
    const children = new Map<string | undefined, ResourceRecord[]>();
    for (const record of records) {
        const list = children.get(record.parent) ?? [];
        list.push(record);
        children.set(record.parent, list);
    }
    const ordered: ResourceRecord[] = [];
    const visit = (parent: string | undefined): void => {
        const list = (children.get(parent) ?? []).sort(
            (a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name),
        );
        for (const record of list) {
            ordered.push(record);
            visit(record.urn);
        }
    };
    visit(undefined);
    return ordered;
}

function document(record: ResourceRecord): Record<string, unknown> {
    const doc: Record<string, unknown> = { type: record.type, name: record.name };
    if (record.parent !== undefined) doc.parent = shortUrn(record.parent);
    if (record.provider !== undefined) doc.provider = providerName(record.provider);
    if (record.remote) doc.remote = true;
    const options: Record<string, unknown> = {};
    const o = record.options;
    if (o.dependsOn.length > 0) options.dependsOn = o.dependsOn.map(shortUrn);
    if (o.protect) options.protect = true;
    if (o.retainOnDelete) options.retainOnDelete = true;
    if (o.deleteBeforeReplace) options.deleteBeforeReplace = true;
    if (o.ignoreChanges.length > 0) options.ignoreChanges = o.ignoreChanges;
    if (o.replaceOnChanges.length > 0) options.replaceOnChanges = o.replaceOnChanges;
    if (o.additionalSecretOutputs.length > 0) options.additionalSecretOutputs = o.additionalSecretOutputs;
    if (o.aliases > 0) options.aliases = o.aliases;
    if (o.replacementTrigger !== undefined) options.replacementTrigger = redact(o.replacementTrigger, shortUrn);
    if (Object.keys(options).length > 0) doc.options = options;
    doc.inputs = redact(summarizeBundles(record), shortUrn);
    return doc;
}

/** ConfigMap values longer than this, holding code, are shown by size and digest. */
const BUNDLE_SUMMARY_BYTES = 64 * 1024;

/**
 * A ConfigMap's bundled code (minified JavaScript, built from this repository at deploy time)
 * shown as its size and digest: reviewers read the TypeScript it comes from, and the render
 * still changes whenever the code does.
 */
function summarizeBundles(record: ResourceRecord): Record<string, unknown> {
    const inputs = record.inputs as Record<string, unknown> & { data?: Record<string, unknown> };
    if (record.type !== "kubernetes:core/v1:ConfigMap" || typeof inputs.data !== "object" || inputs.data === null) {
        return inputs;
    }
    const data = Object.fromEntries(
        Object.entries(inputs.data).map(([key, value]) =>
            key.endsWith(".js") && typeof value === "string" && Buffer.byteLength(value) > BUNDLE_SUMMARY_BYTES
                ? [
                      key,
                      `[bundle: ${Buffer.byteLength(value)} bytes, sha256 ${createHash("sha256").update(value).digest("hex")}]`,
                  ]
                : [key, value],
        ),
    );
    return { ...inputs, data };
}

const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as const;

/** The files of a render: every resource as one YAML document, and the stack outputs. */
export function renderFiles(engine: MockEngine, stack: string, preview: boolean): Map<string, string> {
    const ordered = treeOrder(engine.records);
    const dashboards = dashboardFiles(ordered);
    const written = new Set(dashboards.map(([name]) => name));
    const header =
        `# Desired state of stack '${stack}'${preview ? " (preview)" : ""}: ${ordered.length} resources.\n` +
        "# Written by `npm run render`; secrets are shown as [secret], each dashboard as the file it is written to.\n";
    const resources =
        header + ordered.map((r) => stringify(document(withDashboardFiles(r, written)), YAML_OPTIONS)).join("---\n");
    const outputs =
        `# Outputs of stack '${stack}'.\n` + stringify(redact(engine.stackOutputs(), shortUrn), YAML_OPTIONS);
    return new Map([["resources.yaml", resources], ["outputs.yaml", outputs], ...dashboards]);
}

/** Whether a record is a ConfigMap the Grafana sidecar provisions dashboards from. */
function isDashboardConfigMap(record: ResourceRecord): boolean {
    if (record.type !== "kubernetes:core/v1:ConfigMap") return false;
    const inputs = record.inputs as { metadata?: { labels?: Record<string, unknown> } };
    return inputs.metadata?.labels?.[DASHBOARD_LABEL.key] === DASHBOARD_LABEL.value;
}

/**
 * A dashboard ConfigMap with each dashboard that has its own file replaced by that file's name:
 * each dashboard is written once, as JSON a reviewer diffs.
 */
function withDashboardFiles(record: ResourceRecord, written: ReadonlySet<string>): ResourceRecord {
    if (!isDashboardConfigMap(record)) return record;
    const inputs = record.inputs as Record<string, unknown> & { data?: Record<string, unknown> };
    const data = Object.fromEntries(
        Object.entries(inputs.data ?? {}).map(([key, value]) =>
            written.has(`dashboards/${key}`) ? [key, `[file dashboards/${key}]`] : [key, value],
        ),
    );
    return { ...record, inputs: { ...inputs, data } };
}

/**
 * The dashboards the stack provisions, each as its own JSON file under `dashboards/`, so a
 * reviewer diffs a dashboard change as JSON rather than as an escaped string in YAML.
 */
export function dashboardFiles(records: readonly ResourceRecord[]): [string, string][] {
    const files: [string, string][] = [];
    for (const record of records.filter(isDashboardConfigMap)) {
        const inputs = record.inputs as { data?: unknown };
        for (const [key, json] of Object.entries((inputs.data ?? {}) as Record<string, unknown>)) {
            if (key.endsWith(".json") && typeof json === "string") files.push([`dashboards/${key}`, json]);
        }
    }
    return files.sort(([a], [b]) => a.localeCompare(b));
}

/** Where the render's clock came from. */
export type ClockSource = "--now" | "SOURCE_DATE_EPOCH" | "last commit" | "wall clock";

export class ClockError extends Error {}

/**
 * The instant a render decides certificate rotation and validity at: `--now` when given, else
 * `SOURCE_DATE_EPOCH` (seconds) when set, else the time of the last commit of the project, so two
 * renders of one commit are byte-identical. Only outside a Git checkout, with neither set, is it
 * the wall clock.
 */
export function renderClock(options: {
    now?: string;
    env: Readonly<Record<string, string | undefined>>;
    projectDir: string;
}): { ms: number; source: ClockSource } {
    if (options.now !== undefined) {
        const ms = Date.parse(options.now);
        if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(options.now)) {
            throw new ClockError(
                `--now: expected an RFC 3339 instant like 2026-01-05T06:00:00Z, found '${options.now}'`,
            );
        }
        return { ms, source: "--now" };
    }
    const epoch = options.env.SOURCE_DATE_EPOCH;
    if (epoch !== undefined && epoch !== "") {
        if (!/^\d+$/.test(epoch)) {
            throw new ClockError(`SOURCE_DATE_EPOCH: expected whole seconds since 1970-01-01, found '${epoch}'`);
        }
        return { ms: Number(epoch) * 1000, source: "SOURCE_DATE_EPOCH" };
    }
    const git = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: options.projectDir, encoding: "utf8" });
    const seconds = git.status === 0 ? git.stdout.trim() : "";
    if (/^\d+$/.test(seconds)) return { ms: Number(seconds) * 1000, source: "last commit" };
    return { ms: Date.now(), source: "wall clock" };
}

/** Runs the program with a stack's config under the mock engine. */
export async function renderStack(options: RenderOptions): Promise<RenderResult> {
    const preview = options.preview ?? false;
    const now = options.now ?? Date.now();
    // mainStack is checked as a key before it names a file; main's problems come under its file's name.
    const { stack: stackConfig, main } = readStackWithMain(options.projectDir, options.stack, {
        ...(options.stackFile !== undefined ? { stackFile: options.stackFile } : {}),
        ...(options.mainStackFile !== undefined ? { mainStackFile: options.mainStackFile } : {}),
    });
    // A sub stack reads the main stack's outputs: evaluate main first, as it would be deployed.
    const stacks: Record<string, Record<string, unknown>> = {};
    if (main !== undefined) {
        const rendered = await renderStack({
            projectDir: options.projectDir,
            stack: main.stack,
            now,
            stackFile: main.file.file,
        });
        stacks[main.reference] = rendered.engine.stackOutputs();
    }
    pulumi.runtime.setAllConfig(stackConfig.values, stackConfig.secretKeys);
    const engine = new MockEngine({ project: stackConfig.project, stack: options.stack, preview, now, stacks });
    await engine.install();
    const restoreClock = useClock(() => now);
    const start = performance.now();
    let load: ProgramLoad;
    try {
        load = await loadProgram(engine, options.projectDir);
    } finally {
        restoreClock();
    }
    const programMs = performance.now() - start;
    return { engine, records: engine.records, files: renderFiles(engine, options.stack, preview), programMs, load };
}

/**
 * Writes the files into `outDir`, replacing what was there. Written beside it first and renamed
 * into place, so a failed write never leaves a half-rendered directory.
 */
export function writeRender(files: ReadonlyMap<string, string>, outDir: string): void {
    const target = path.resolve(outDir);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const staging = fs.mkdtempSync(`${target}.partial-`);
    try {
        for (const [name, content] of files) {
            fs.mkdirSync(path.dirname(path.join(staging, name)), { recursive: true });
            fs.writeFileSync(path.join(staging, name), content);
        }
        fs.rmSync(target, { recursive: true, force: true });
        fs.renameSync(staging, target);
    } catch (err) {
        fs.rmSync(staging, { recursive: true, force: true });
        throw err;
    }
}
