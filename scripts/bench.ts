/**
 * `npm run bench`: times `npm run render` of the main stack with 1, 10 and 50 sub clusters as a
 * whole process, warm (the bundles of these sources kept by an earlier run) and cold; rewrites the render and resource-budget sections of docs/benchmarks.md (a committed file:
 * review and commit the diff).
 *
 * The render loads the program as the Pulumi CLI does: the SDK's own `run`, TypeScript on,
 * compiled by the ts-node registration the SDK makes from Pulumi.yaml's runtime options, so its
 * start-up is the start-up of `pulumi preview` and `pulumi up` less the engine's gRPC.
 * Targets are reported met or missed; they never fail the command.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

import { parse, stringify } from "yaml";

import { withBudgetSection } from "../render/budget";

const projectDir = path.resolve(__dirname, "..");
const SUB_COUNTS = [1, 10, 50];
const RUNS = 5;
/** Runs of the cold variant. */
const FEW_RUNS = 3;
/** Whole render process of main with 50 sub clusters, warm. */
const TARGET_WALL_MS = 3000;
const DOC = path.join(projectDir, "docs", "benchmarks.md");

/** The other benchmarks, each a script that rewrites its own section of docs/benchmarks.md. */
const PARTS = { remediation: "bench-remediation.ts", report: "bench-report.ts" } as const;

export const USAGE = `usage: npm run bench [-- --only render|remediation|report]

Times the offline render (this script), the remediation loop (scripts/bench-remediation.ts) and
the weekly report (scripts/bench-report.ts), and rewrites their sections of docs/benchmarks.md,
a committed file: review and commit the diff. The last two need Debian's prometheus,
prometheus-alertmanager and promtool. Takes a few minutes.

options:
  --only <part>   run one benchmark: render, remediation or report
  --help          this text

exit codes: 0 done (a missed target is reported, not failed), 1 a benchmark failed, 64 bad usage`;

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Pulumi.main.yaml with its sub cluster list replaced by `count` entries, written into `dir`. */
export function stackFileWithSubs(dir: string, count: number): string {
    const doc = parse(fs.readFileSync(path.join(projectDir, "Pulumi.main.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    doc.config["observability:subClusters"] = Array.from({ length: count }, (_, i) => ({ name: `sub-${i + 1}` }));
    // The example's canary is one of the subs replaced here.
    delete doc.config["observability:delivery"];
    const file = path.join(dir, `Pulumi.bench-${count}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
}

export interface RenderVariant {
    /** Environment on top of the caller's. */
    env?: Record<string, string>;
}

/**
 * One render of the main stack with `count` subs as `npm run render` runs it, as a whole
 * process: its wall time and the figures `--timing` prints.
 */
export function timedRender(
    stackFile: string,
    count: number,
    outDir: string,
    extraArgs: string[] = [],
    variant: RenderVariant = {},
): { wallMs: number; timing: Record<string, number | boolean> } {
    const start = performance.now();
    const result = spawnSync(
        process.execPath,
        [
            "--require",
            "ts-node/register/transpile-only",
            path.join(projectDir, "render", "cli.ts"),
            ...["--stack", `bench-${count}`, "--stack-file", stackFile, "--out", outDir, "--timing", ...extraArgs],
            ...["--now", "2026-01-05T06:00:00Z"],
        ],
        { cwd: projectDir, encoding: "utf8", env: { ...process.env, ...variant.env } },
    );
    const wallMs = performance.now() - start;
    if (result.status !== 0) throw new Error(`render failed: ${result.stderr}`);
    return {
        wallMs,
        timing: JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as Record<string, number | boolean>,
    };
}

interface Row {
    label: string;
    subs: number;
    resources: number;
    runs: number;
    programMs: number;
    wallMs: number;
    typeChecked: boolean;
}

function measure(
    label: string,
    count: number,
    runs: number,
    file: string,
    dir: string,
    variant: () => RenderVariant,
): Row {
    const samples = Array.from({ length: runs }, (_, i) =>
        timedRender(file, count, path.join(dir, `out-${count}-${i}`), [], variant()),
    );
    const row: Row = {
        label,
        subs: count,
        runs,
        resources: Number(samples[0]?.timing.resources ?? 0),
        programMs: median(samples.map((s) => Number(s.timing.programMs))),
        wallMs: median(samples.map((s) => s.wallMs)),
        typeChecked: samples.every((s) => s.timing.typeChecked === true),
    };
    process.stdout.write(`${label}, ${count} sub clusters: ${JSON.stringify(row)}\n`);
    return row;
}

function main(): number {
    let only: string | undefined;
    try {
        const { values } = parseArgs({
            options: { help: { type: "boolean" }, only: { type: "string" } },
            strict: true,
        });
        if (values.help) {
            process.stdout.write(`${USAGE}\n`);
            return 0;
        }
        only = values.only;
        if (only !== undefined && only !== "render" && !(only in PARTS)) {
            throw new Error(`--only: expected render, remediation or report, found "${only}"`);
        }
    } catch (err) {
        process.stderr.write(`bench: ${(err as Error).message}; see npm run bench -- --help\n`);
        return 64;
    }
    if (only === undefined || only === "render") renderBench();
    for (const [part, script] of Object.entries(PARTS)) {
        if (only !== undefined && only !== part) continue;
        const run = spawnSync(
            process.execPath,
            ["--require", "ts-node/register/transpile-only", path.join(__dirname, script)],
            { cwd: projectDir, stdio: "inherit" },
        );
        if (run.status !== 0) {
            process.stderr.write(`bench: ${script} failed (exit ${run.status ?? run.signal})\n`);
            return 1;
        }
    }
    return 0;
}

/** The render benchmark: its section of docs/benchmarks.md. */
function renderBench(): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    const rows: Row[] = [];
    try {
        const warmCache = path.join(dir, "bundles");
        const files = new Map(SUB_COUNTS.map((count) => [count, stackFileWithSubs(dir, count)]));
        const file = (count: number) => files.get(count) as string;
        // Warm: the bundles of these sources were built by an earlier run (the first one, here).
        timedRender(file(1), 1, path.join(dir, "warm-up"), [], { env: { OBSERVABILITY_BUNDLE_CACHE: warmCache } });
        for (const count of SUB_COUNTS) {
            rows.push(
                measure("warm", count, RUNS, file(count), dir, () => ({
                    env: { OBSERVABILITY_BUNDLE_CACHE: warmCache },
                })),
            );
        }
        // Cold: as on a fresh clone, nothing kept (every run gets an empty bundle folder).
        let cold = 0;
        for (const count of [1, 50]) {
            rows.push(
                measure("cold", count, FEW_RUNS, file(count), dir, () => ({
                    env: { OBSERVABILITY_BUNDLE_CACHE: path.join(dir, `cold-${cold++}`) },
                })),
            );
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const warm50 = rows.find((r) => r.label === "warm" && r.subs === 50);
    const met = warm50 !== undefined && warm50.wallMs <= TARGET_WALL_MS;
    const table = [
        "| run | sub clusters | resources | type-checked | program (median) | whole `npm run render` process (median) | runs |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
        ...rows.map(
            (r) =>
                `| ${r.label} | ${r.subs} | ${r.resources} | ${r.typeChecked ? "yes" : "no"} | ` +
                `${r.programMs.toFixed(0)} ms | ${r.wallMs.toFixed(0)} ms | ${r.runs} |`,
        ),
    ].join("\n");
    const section = [
        "<!-- render-bench:start -->",
        `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Node ${process.version}, ` +
            `load average ${os.loadavg()[0]?.toFixed(1)} when it started.`,
        "",
        table,
        "",
        `- main with 50 sub clusters, warm: ${warm50?.wallMs.toFixed(0) ?? "?"} ms for the whole process ` +
            `(target at most ${TARGET_WALL_MS} ms): ${met ? "met" : "**missed**"}`,
        "<!-- render-bench:end -->",
    ].join("\n");
    const current = fs.readFileSync(DOC, "utf8");
    const markers = /<!-- render-bench:start -->[\s\S]*<!-- render-bench:end -->/;
    if (!markers.test(current)) throw new Error(`${DOC} has no render-bench markers`);
    fs.writeFileSync(DOC, withBudgetSection(current.replace(markers, section)));
    process.stdout.write(`${section}\n`);
    process.stdout.write("rewrote docs/benchmarks.md (committed: review and commit the diff)\n");
}

if (require.main === module) process.exitCode = main();
