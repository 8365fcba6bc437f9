import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import * as fc from "fast-check";
import { stringify } from "yaml";
import type { z } from "zod";

import { configSchema, mainSchema, SECRET_KEYS, subSchema, validateConfig, type RawConfig } from "../config";
import { configKey, lineKey } from "../config/errors";
import { FleetError, readFleet } from "../delivery/fleet";
import { renderCli, tempDir } from "./helpers";

/**
 * Property-based: invalid values generated for every key of the schema (and for the secret keys,
 * and for near misses of the namespace) must be refused the way a user deserves, through the same
 * functions `npm run render` and `npm run pipeline` use: no crash, the key named, each line
 * `<key>: expected …, found …` in words (no raw pattern, nothing invisible), no secret-marked
 * value anywhere in the output. A sample goes end to end through the render's command line, which
 * must also exit 1 and write nothing.
 */

type Json = unknown;
type Path = (string | number)[];

/** A node of the schema that holds a value in one of the base stacks: a key to break. */
interface Target {
    base: keyof typeof BASES;
    path: Path;
    /** The key telling alternatives apart: breaking it may move the problem to its siblings. */
    discriminator: boolean;
}

const IMAGE = `registry.example.com/base/node@sha256:${"0".repeat(64)}`;

const common = {
    kubernetes: { context: "admin@hub" },
    charts: { directory: "/srv/charts" },
    namespace: "observability",
    talos: { controlPlaneNodes: ["10.0.0.10", "fd00::1"], kubeProxy: false },
    metrics: { storageSize: "30Gi", storageClass: "fast" },
    logs: { bufferSize: "2Gi", talosServiceLogs: "push" },
    traces: { queueSize: "10Gi", traefik: { sampleRate: 0.5 }, instrumentation: { enabled: true, sampleRatio: 0.25 } },
    remediation: {
        mode: "gitops",
        killSwitch: false,
        optInLabel: { key: "example.com/tier", value: "best-effort" },
        namespaces: ["batch"],
        protectedNamespaces: ["payments"],
        budget: { cpuRequestFactor: 3, memoryLimitRatio: 0.95, restarts: 10, forMinutes: 15 },
        maxActionsPerHour: 5,
        cooldownMinutes: 240,
        pollIntervalSeconds: 15,
        fluxExemption: false,
        gitops: {
            provider: "gitlab",
            apiUrl: "https://gitlab.example.com",
            repository: "platform/gitops",
            targetBranch: "main",
            pathTemplate: "clusters/{cluster}/{namespace}/{name}.yaml",
            fieldPath: "spec.replicas",
        },
        image: IMAGE,
    },
};

/** Stacks that set (nearly) every key, so that every key can be broken in place. */
const BASES = {
    main: {
        values: {
            role: "main",
            cluster: { name: "main" },
            ...common,
            profile: "large",
            exposure: {
                domain: "obs.example.com",
                kind: "nodeport",
                nodePorts: { metrics: 30291, logs: 30443, traces: 30317, alerts: 30943 },
            },
            storage: {
                kind: "s3",
                endpoint: "https://s3.eu-west-1.amazonaws.com",
                region: "eu-west-1",
                forcePathStyle: true,
                buckets: { metrics: "acme-metrics", logs: "acme-logs", traces: "acme-traces" },
            },
            retention: {
                metrics: { raw: "30d", fiveMinutes: "180d", oneHour: "1y", local: "2d" },
                logs: "30d",
                traces: "14d",
            },
            pki: {
                lifetimes: {
                    ca: { validity: "10y", renewBefore: "1y" },
                    tempo: { validity: "90d", renewBefore: "30d" },
                },
                generation: 1,
            },
            grafana: {
                storageSize: "10Gi",
                storageClass: "fast",
                rootUrl: "https://grafana.example.com",
                adminPasswordGeneration: 1,
                oidc: {
                    name: "SSO",
                    clientId: "grafana",
                    authUrl: "https://id.example.com/auth",
                    tokenUrl: "https://id.example.com/token",
                    apiUrl: "https://id.example.com/userinfo",
                    scopes: "openid profile",
                    roleAttributePath: "'Viewer'",
                    allowSignUp: false,
                },
            },
            alerting: {
                receivers: [
                    {
                        name: "mail",
                        kind: "email",
                        to: ["sre@example.com"],
                        from: "am@example.com",
                        smarthost: "smtp.example.com:587",
                        username: "am",
                        sendResolved: false,
                    },
                    { name: "chat", kind: "slack", channel: "#alerts", sendResolved: true },
                    { name: "mm", kind: "mattermost" },
                    { name: "ms", kind: "teams" },
                    { name: "hook", kind: "webhook", url: "https://hooks.example.com/x", bearerToken: true },
                    { name: "pager", kind: "pagerduty" },
                ],
                routes: [
                    {
                        receiver: "pager",
                        severities: ["critical"],
                        clusters: ["edge-a"],
                        alertnames: ["ClusterMetricsAbsent"],
                    },
                ],
                defaultReceiver: "chat",
                heartbeatReceiver: "hook",
                runbookBaseUrl: "https://git.example.com/platform/observability/-/blob/main/docs/runbooks",
                serviceErrorRatio: 0.02,
                serviceLatencySeconds: 0.5,
            },
            report: {
                enabled: true,
                schedule: "30 6 * * 1",
                timeZone: "Europe/Paris",
                concurrency: 2,
                queryTimeoutSeconds: 120,
                email: {
                    host: "smtp.example.com",
                    port: 465,
                    security: "tls",
                    from: "obs@example.com",
                    to: ["sre@example.com"],
                    username: "obs",
                },
                webhooks: [{ name: "sre-chat", kind: "slack" }],
                git: {
                    provider: "gitlab",
                    apiUrl: "https://gitlab.example.com",
                    repository: "platform/reports",
                    branch: "main",
                    directory: "reports",
                },
                grafanaUrl: "https://grafana.example.com",
                image: IMAGE,
            },
            delivery: { canary: "edge-a" },
            subClusters: [{ name: "edge-a" }, { name: "edge-b" }],
        },
        secrets: {
            s3AccessKeyId: "AKIA-stand-in",
            s3SecretAccessKey: "stand-in",
            grafanaOidcClientSecret: "stand-in",
            alertReceiverCredentials: JSON.stringify({ mail: "p", chat: "u", mm: "u", ms: "u", hook: "t", pager: "k" }),
            remediationGitToken: "glpat-stand-in",
            reportCredentials: JSON.stringify({ "smtp-password": "p", "git-token": "t", "webhook-sre-chat": "u" }),
        },
    },
    filesystem: {
        values: {
            role: "main",
            cluster: { name: "main" },
            exposure: { domain: "obs.example.com", kind: "traefik-passthrough" },
            storage: { kind: "filesystem", size: "100Gi", storageClass: "fast", accessMode: "ReadWriteMany" },
            subClusters: [{ name: "edge-a" }],
        },
        secrets: {},
    },
    sub: {
        values: {
            role: "sub",
            cluster: { name: "edge-a" },
            ...common,
            profile: "medium",
            mainStack: "acme/observability/main",
            retention: { metrics: { local: "3d" } },
            alerting: { runbookBaseUrl: "https://git.example.com/runbooks" },
        },
        secrets: { remediationGitToken: "glpat-stand-in" },
    },
} as const;

type Base = (typeof BASES)[keyof typeof BASES];

function def(schema: z.ZodType): Record<string, unknown> & { type: string } {
    return (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
}

function unwrapped(schema: z.ZodType): z.ZodType {
    let current = schema;
    while (["default", "optional", "nullable"].includes(def(current).type))
        current = def(current).innerType as z.ZodType;
    return current;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The schema of each target (kept apart, so that a counterexample prints short). */
const SCHEMAS = new Map<Target, z.ZodType>();

/** Every node of `schema` at or under `path` that `value` reaches, the node itself included. */
function targets(
    base: keyof typeof BASES,
    schema: z.ZodType,
    value: unknown,
    path: Path,
    discriminator = false,
): Target[] {
    const found: Target[] = [];
    if (path.length > 0) {
        const target = { base, path, discriminator };
        SCHEMAS.set(target, schema);
        found.push(target);
    }
    let inner = unwrapped(schema);
    let d = def(inner);
    if (d.type === "union" && typeof d.discriminator === "string" && isRecord(value)) {
        const key = d.discriminator;
        const option = (d.options as z.ZodType[]).find((o) =>
            (def((def(o).shape as Record<string, z.ZodType>)[key] as z.ZodType).values as unknown[]).includes(
                value[key],
            ),
        );
        if (option === undefined) return found;
        inner = option;
        d = def(inner);
    }
    if (d.type === "object" && isRecord(value)) {
        const key = def(unwrapped(schema)).discriminator;
        for (const [child, childSchema] of Object.entries(d.shape as Record<string, z.ZodType>)) {
            found.push(...targets(base, childSchema, value[child], [...path, child], child === key));
        }
    } else if (d.type === "array" && Array.isArray(value)) {
        value.forEach((element, index) =>
            found.push(...targets(base, d.element as z.ZodType, element, [...path, index])),
        );
    }
    return found;
}

const ALL_TARGETS: Target[] = (Object.keys(BASES) as (keyof typeof BASES)[]).flatMap((name) =>
    targets(name, BASES[name].values.role === "main" ? mainSchema : subSchema, BASES[name].values, []),
);

/** Strings a new user writes, and strings that break things. */
const TRICKY_STRINGS = [
    "",
    " ",
    "30days",
    "1.5y",
    "ten years",
    "0",
    "0d",
    "0Gi",
    "-1",
    "1e400",
    "99999999999999999999d",
    "NaN",
    "null",
    "true",
    "61 25 32 13 8",
    "* * * *",
    "@every 5m",
    "Mars/Base",
    "europe/paris",
    "+01:00",
    "a".repeat(64),
    `${"a".repeat(64)}.example.com`,
    "https://user:S3CRET-IN-URL@host.example.com",
    "https://host.example.com/?token=S3CRET-IN-URL",
    "ftp://host.example.com",
    "ma\u200bin",
    "\u202eniam",
    "nul\u0000l",
    "Main_1",
    "x".repeat(300),
    "{",
    "[1,",
    '{"a":1}',
    "acme/observability",
    "../../etc/passwd",
    "\ud800",
];

const TRICKY_NUMBERS = [-1, 0, 0.5, -0.0001, 1e9, 65536, 1e308, Number.MAX_SAFE_INTEGER + 2];

const MUTATIONS: ((value: string) => string)[] = [
    (v) => `${v} `,
    (v) => `${v}x`,
    (v) => `${v}\u200b`,
    (v) => v.toUpperCase(),
    (v) => `-${v}`,
    (v) => `${v}.5`,
    (v) => v.slice(1),
    (v) => `${v}${v}`.repeat(20),
];

const anyValue: fc.Arbitrary<Json> = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...TRICKY_STRINGS) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 20 }) },
    { weight: 2, arbitrary: fc.constantFrom<Json>(...TRICKY_NUMBERS, true, false, null) },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double()) },
    {
        weight: 1,
        arbitrary: fc.oneof(
            fc.array(fc.constantFrom<Json>("", "x", 1, null), { maxLength: 3 }),
            fc.dictionary(fc.constantFrom("", "kind", "name", "x"), fc.constantFrom<Json>("", 1, null), { maxKeys: 3 }),
        ),
    },
);

function baseValue(target: Target): unknown {
    let value: unknown = BASES[target.base].values;
    for (const segment of target.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[segment];
    return value;
}

/** Invalid candidates for one target: anything, or the base value slightly wrong. */
function valueFor(target: Target): fc.Arbitrary<Json> {
    const current = baseValue(target);
    if (typeof current === "string") {
        return fc.oneof(
            anyValue,
            fc.constantFrom(...MUTATIONS).map((mutate) => mutate(current)),
        );
    }
    if (typeof current === "number") {
        return fc.oneof(anyValue, fc.constantFrom(-current, current + 0.5, current * 1000, String(current)));
    }
    return anyValue;
}

function setAt(values: Record<string, unknown>, path: Path, value: Json): Record<string, unknown> {
    const copy = structuredClone(values);
    let holder: Record<PropertyKey, unknown> = copy;
    for (const segment of path.slice(0, -1)) {
        if (holder[segment] === undefined) holder[segment] = typeof segment === "number" ? [] : {};
        holder = holder[segment] as Record<PropertyKey, unknown>;
    }
    holder[path[path.length - 1] as PropertyKey] = value;
    return copy;
}

/** The CLI's view of a stack: each top-level key's value as text, objects as JSON. */
function toRaw(values: Record<string, unknown>, secrets: Record<string, string>, secretKeys: string[]): RawConfig {
    const text: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
        text[`observability:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    for (const [key, value] of Object.entries(secrets)) text[`observability:${key}`] = value;
    const marked = new Set(secretKeys.map((k) => `observability:${k}`));
    return { values: text, isSecret: (key) => marked.has(key) };
}

/** What the schema receives for a top-level key: text, or what its JSON text parses to. */
function effective(text: string): { value: unknown } | "not JSON" {
    if (/^\s*[[{]/.test(text)) {
        try {
            return { value: JSON.parse(text) as unknown };
        } catch {
            return "not JSON";
        }
    }
    return { value: text };
}

/** Whether the broken value alone already fails its own key's schema (as the program receives it). */
function refusedAlone(target: Target, raw: RawConfig): boolean {
    const top = effective(raw.values[`observability:${String(target.path[0])}`] ?? "");
    if (top === "not JSON") return true;
    let value: unknown = top.value;
    for (const segment of target.path.slice(1)) value = (value as Record<PropertyKey, unknown> | undefined)?.[segment];
    return !(SCHEMAS.get(target) as z.ZodType).safeParse(value).success;
}

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]|(?! )\p{Zs}/u;
const LINE = /^\S+: expected .+, found .+$/;
const FORBIDDEN = [
    "Invalid input",
    "Invalid string",
    "must match pattern",
    "/^",
    "keys , ",
    "expected Invalid",
    "expected Too ",
    "undefined",
    "[object Object]",
    "NaN",
    "Symbol(",
];

/** What every reported line must look like. */
function assertWellFormed(lines: readonly string[], context: string): void {
    assert.ok(lines.length > 0, `no problem reported: ${context}`);
    for (const line of lines) {
        assert.match(line, LINE, `${context}\n${line}`);
        assert.doesNotMatch(line, INVISIBLE, `${context}\nan invisible character in: ${JSON.stringify(line)}`);
        // What was expected is this program's words: no raw pattern or validator message.
        const expected = line.slice(line.indexOf(": expected ") + 11, line.indexOf(", found "));
        for (const fragment of FORBIDDEN)
            assert.ok(!expected.includes(fragment), `${context}\n${fragment} in: ${line}`);
    }
}

/** Whether one of the lines is about the target's key (for a discriminator, any key of its object). */
function names(lines: readonly string[], target: Target): boolean {
    const key = configKey(target.path);
    const parent = configKey(target.path.slice(0, -1));
    // The key itself, or a key inside it (a broken object's missing key); for a discriminator,
    // its object: the alternative it now selects may lack other keys.
    const within = (about: string, outer: string) =>
        about === outer || about.startsWith(`${outer}.`) || about.startsWith(`${outer}[`);
    return lines.some((line) => within(lineKey(line), target.discriminator ? parent : key));
}

const CANARY = "S3CRET-CANARY";

interface Case {
    target: Target;
    value: Json;
    /** Mark the broken key's top-level key secret (its value then carries the canary). */
    secret: boolean;
}

function build(c: Case): { values: Record<string, unknown>; secrets: Record<string, string>; secretKeys: string[] } {
    const base: Base = BASES[c.target.base];
    const value = c.secret ? (typeof c.value === "string" ? `${CANARY}${c.value}` : [CANARY, c.value]) : c.value;
    return {
        values: setAt(base.values, c.target.path, value),
        secrets: { ...base.secrets },
        secretKeys: [...Object.keys(base.secrets), ...(c.secret ? [String(c.target.path[0])] : [])],
    };
}

const caseArbitrary: fc.Arbitrary<Case> = fc
    .constantFrom(...ALL_TARGETS)
    .chain((target) =>
        fc.record({
            target: fc.constant(target),
            value: valueFor(target),
            secret: fc.nat({ max: 3 }).map((n) => n === 0),
        }),
    )
    .filter((c) => {
        const { values, secrets, secretKeys } = build(c);
        return c.secret || refusedAlone(c.target, toRaw(values, secrets, secretKeys));
    });

function describeCase(c: Case): string {
    return `${configKey(c.target.path)} (${c.target.base}) = ${JSON.stringify(c.value)?.slice(0, 120)}${c.secret ? " [secret]" : ""}`;
}

describe("config fuzz: the bases", () => {
    it("are valid stacks, and reach every key of both roles", () => {
        for (const [name, base] of Object.entries(BASES)) {
            const result = validateConfig(toRaw(base.values, base.secrets, Object.keys(base.secrets)));
            assert.ok("config" in result, `${name}: ${"problems" in result ? result.problems.join("\n") : ""}`);
        }
        const reached = new Set(ALL_TARGETS.map((t) => configKey(t.path.filter((s) => typeof s === "string"))));
        for (const schema of [mainSchema, subSchema]) {
            for (const key of Object.keys(schema.shape)) assert.ok(reached.has(configKey([key])), key);
        }
        assert.ok(ALL_TARGETS.length > 250, `${ALL_TARGETS.length} keys to break`);
        assert.ok(configSchema !== undefined);
    });
});

describe("config fuzz: invalid values, in-process as the render and the pipeline validate them", () => {
    it("refuses each one without a crash, naming the key, in words, never quoting a secret", () => {
        fc.assert(
            fc.property(caseArbitrary, (c) => {
                const { values, secrets, secretKeys } = build(c);
                const result = validateConfig(toRaw(values, secrets, secretKeys));
                const context = describeCase(c);
                assert.ok("problems" in result, `accepted: ${context}`);
                assertWellFormed(result.problems, context);
                if (c.secret) {
                    const top = configKey([c.target.path[0] as string]);
                    assert.ok(
                        result.problems.some((l) => lineKey(l) === top && l.includes("found a secret")),
                        `${context}\n${result.problems.join("\n")}`,
                    );
                    assert.ok(
                        !result.problems.join("\n").includes(CANARY),
                        `${context}\n${result.problems.join("\n")}`,
                    );
                } else {
                    assert.ok(names(result.problems, c.target), `${context}\n${result.problems.join("\n")}`);
                }
            }),
            { numRuns: 1500, includeErrorInReport: true },
        );
    });

    it("checks the secret keys whatever else is wrong, never quoting them, in plain text or not", () => {
        const secretCase = fc.record({
            key: fc.constantFrom(...SECRET_KEYS.map((s) => s.key)),
            content: fc.oneof(
                fc.constant(`not json ${CANARY}`),
                fc.constant(JSON.stringify([CANARY])),
                fc.constant(JSON.stringify({ [CANARY]: CANARY })),
                fc.constant(JSON.stringify({ mail: CANARY, "https://hooks.example.com/x": CANARY })),
                fc.string({ maxLength: 20 }).map((s) => `${CANARY}${s}`),
            ),
            marked: fc.boolean(),
            alsoBroken: fc.option(fc.constantFrom(...ALL_TARGETS.filter((t) => t.base === "main")), { nil: undefined }),
        });
        fc.assert(
            fc.property(secretCase, ({ key, content, marked, alsoBroken }) => {
                const base = BASES.main;
                const values = alsoBroken === undefined ? base.values : setAt(base.values, alsoBroken.path, "\u0001");
                const secrets = { ...base.secrets, [key]: content };
                const secretKeys = Object.keys(base.secrets).filter((k) => marked || k !== key);
                const result = validateConfig(toRaw(values, secrets, secretKeys));
                const context = `${key} = ${content} (${marked ? "secret" : "plain"}), also ${alsoBroken?.path.join(".")}`;
                if (!marked) {
                    assert.ok("problems" in result, context);
                    assert.ok(
                        result.problems.some((l) =>
                            l.startsWith(`observability:${key}: expected a Pulumi secret, found a plain-text value`),
                        ),
                        `${context}\n${"problems" in result ? result.problems.join("\n") : ""}`,
                    );
                }
                if ("problems" in result) {
                    assertWellFormed(result.problems, context);
                    assert.ok(
                        !result.problems.join("\n").includes(CANARY),
                        `${context}\n${result.problems.join("\n")}`,
                    );
                }
            }),
            { numRuns: 300, includeErrorInReport: true },
        );
    });

    it("reports a key of a near-miss namespace instead of ignoring it", () => {
        const namespace = fc.oneof(
            fc.constantFrom(
                "observabilty",
                "Observability",
                "obervability",
                "observability2",
                "observabiltiy",
                "OBSERVABILITY",
            ),
            fc
                .tuple(fc.nat({ max: 12 }), fc.constantFrom("", "x", "-", "_"))
                .map(([at, insert]) => `observability`.slice(0, at) + insert + `observability`.slice(at + 1)),
        );
        fc.assert(
            fc.property(namespace, fc.constantFrom("profile", "retention", "cluster"), (ns, key) => {
                fc.pre(ns !== "observability");
                const base = BASES.sub;
                const raw = toRaw(base.values, base.secrets, Object.keys(base.secrets));
                const result = validateConfig({ ...raw, values: { ...raw.values, [`${ns}:${key}`]: "x" } });
                assert.ok("problems" in result, ns);
                assertWellFormed(result.problems, ns);
                assert.ok(
                    result.problems.some(
                        (l) => l.startsWith(`${ns}:${key}: `) && l.endsWith(`did you mean observability:${key}?`),
                    ),
                );
            }),
            { numRuns: 100, includeErrorInReport: true },
        );
    });
});

/** A stack file as a user writes it: `observability:` keys, secrets encrypted. */
function stackFileText(c: Case): string {
    const { values, secrets, secretKeys } = build(c);
    const config: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(values)) {
        config[`observability:${key}`] = secretKeys.includes(key)
            ? { secure: `v1:${Buffer.from(JSON.stringify(value)).toString("base64")}` }
            : value;
    }
    for (const [key, value] of Object.entries(secrets)) {
        config[`observability:${key}`] = { secure: `v1:${Buffer.from(value).toString("base64")}` };
    }
    return stringify({ config });
}

/** The problem lines of a failure's message, without the file each starts with. */
function problemLines(message: string): string[] {
    return message
        .split("\n")
        .map((line) => line.trim().replace(/^\S+\.yaml: /, ""))
        .filter((line) => line.startsWith("observability:"));
}

/** Asserts lines name the case's key (the top-level key for a secret-marked one), never its secret. */
function assertNamed(lines: readonly string[], c: Case, context: string): void {
    if (c.secret) {
        const top = configKey([c.target.path[0] as string]);
        assert.ok(
            lines.some((l) => lineKey(l) === top && l.includes("found a secret")),
            `${context}\n${lines.join("\n")}`,
        );
    } else {
        assert.ok(names(lines, c.target), `${context}\n${lines.join("\n")}`);
    }
}

describe("config fuzz: through the pipeline's reading of a repository's stacks", () => {
    it("stops before any stack with the file and the key of each problem", () => {
        fc.assert(
            fc.property(
                caseArbitrary.filter((c) => c.target.base !== "filesystem"),
                (c) => {
                    const dir = tempDir("config-fuzz-fleet");
                    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: observability\nruntime: nodejs\n");
                    const main =
                        c.target.base === "main" ? stackFileText(c) : stringify({ config: fileConfig(BASES.main) });
                    fs.writeFileSync(path.join(dir, "Pulumi.main.yaml"), main);
                    if (c.target.base === "sub") fs.writeFileSync(path.join(dir, "Pulumi.sub.yaml"), stackFileText(c));
                    let error: unknown;
                    try {
                        readFleet(dir);
                    } catch (err) {
                        error = err;
                    }
                    const context = describeCase(c);
                    assert.ok(error instanceof FleetError, `${context}: ${String(error)}`);
                    assert.ok(error.message.includes(`Pulumi.${c.target.base}.yaml: `), `${context}\n${error.message}`);
                    assertNamed(problemLines(error.message), c, context);
                    assert.doesNotMatch(error.message, /\n\s+at |v1:/);
                    assert.ok(!error.message.includes(CANARY));
                    fs.rmSync(dir, { recursive: true, force: true });
                },
            ),
            { numRuns: 60, includeErrorInReport: true },
        );
    });
});

function fileConfig(base: Base): Record<string, unknown> {
    const config: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(base.values)) config[`observability:${key}`] = value;
    for (const [key, value] of Object.entries(base.secrets))
        config[`observability:${key}`] = { secure: `v1:${value.length}` };
    return config;
}

describe("config fuzz: end to end, through npm run render", () => {
    // Each run starts Node.js and the program: a small sample, the rest is checked in-process.
    const mainCases = fc.sample(
        caseArbitrary.filter((c) => c.target.base !== "sub"),
        6,
    );
    const subCases = fc.sample(
        caseArbitrary.filter((c) => c.target.base === "sub" && c.target.path[0] === "mainStack"),
        2,
    );
    for (const [index, c] of [...mainCases, ...subCases].entries()) {
        it(`refuses sample ${index + 1}: exit 1, the key named, no trace, no secret, nothing written`, () => {
            const dir = tempDir("config-fuzz-cli");
            const file = path.join(dir, "Pulumi.fuzz.yaml");
            fs.writeFileSync(file, stackFileText(c));
            const out = path.join(dir, "rendered", "fuzz");
            const result = renderCli(["--stack", "fuzz", "--stack-file", file, "--out", out]);
            const context = `${describeCase(c)}\n${result.stderr}`;
            assert.equal(result.status, 1, context);
            assert.equal(result.stdout, "", context);
            assert.match(result.stderr, /^render: invalid stack configuration \(\d+ problems?\):\n/, context);
            assert.doesNotMatch(result.stderr, /unexpected failure|\n\s+at /, context);
            assertNamed(problemLines(result.stderr), c, context);
            assert.ok(!result.stderr.includes(CANARY) && !result.stderr.includes("v1:"), context);
            assert.equal(fs.existsSync(path.join(dir, "rendered")), false, "nothing may be written");
        });
    }
});
