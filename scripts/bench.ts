/**
 * `npm run bench`: times the offline render of the main stack with 1, 5, 10 and 50 sub
 * clusters and writes the figures to docs/benchmarks.md.
 *
 * Program time is measured inside the render process, from the SDK's `run` being called to the
 * last registration answered: loading and evaluating the program and every resource
 * registration. TypeScript is transpiled without type checking (the type check is `tsc` in the
 * test gate, as PULUMI_NODEJS_TRANSPILE_ONLY does for the CLI).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

import { parse, stringify } from "yaml";

import { withBudgetSection } from "./lib/budget";

const projectDir = path.resolve(__dirname, "..");
const SUB_COUNTS = [1, 5, 10, 50];
const RUNS = 5;
const TARGET_MS = 2000;
const TARGET_RATIO = 3;

interface Sample {
    programMs: number;
    wallMs: number;
    resources: number;
}

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] as number;
}

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

/**
 * One `npm run render --timing` of the main stack with `count` subs, as a whole process: its
 * wall time and the figures the render prints.
 */
export function timedRender(
    stackFile: string,
    count: number,
    outDir: string,
    extraArgs: string[] = [],
): { wallMs: number; timing: Record<string, number> } {
    const start = performance.now();
    const result = spawnSync(
        process.execPath,
        [
            "--require",
            "ts-node/register",
            path.join(projectDir, "scripts", "render.ts"),
            ...["--stack", `bench-${count}`, "--stack-file", stackFile, "--out", outDir, "--timing", ...extraArgs],
        ],
        { cwd: projectDir, encoding: "utf8", env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } },
    );
    const wallMs = performance.now() - start;
    if (result.status !== 0) throw new Error(`render failed: ${result.stderr}`);
    return { wallMs, timing: JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as Record<string, number> };
}

function renderOnce(stackFile: string, count: number, outDir: string): Sample {
    const { wallMs, timing } = timedRender(stackFile, count, outDir);
    return { programMs: timing.programMs ?? NaN, resources: timing.resources ?? 0, wallMs };
}

function main(): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    const rows: { subs: number; resources: number; programMs: number; wallMs: number }[] = [];
    try {
        for (const count of SUB_COUNTS) {
            const file = stackFileWithSubs(dir, count);
            const samples = Array.from({ length: RUNS }, (_, i) => renderOnce(file, count, path.join(dir, `out-${i}`)));
            rows.push({
                subs: count,
                resources: samples[0]?.resources ?? 0,
                programMs: median(samples.map((s) => s.programMs)),
                wallMs: median(samples.map((s) => s.wallMs)),
            });
            process.stdout.write(`${count} sub clusters: ${JSON.stringify(rows[rows.length - 1])}\n`);
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const at = (n: number) => rows.find((r) => r.subs === n)?.programMs ?? NaN;
    const ratio = at(50) / at(5);
    const pass50 = at(50) <= TARGET_MS;
    const passRatio = ratio <= TARGET_RATIO;
    const table = [
        "| sub clusters | resources | program time (median) | whole render process (median) |",
        "| ---: | ---: | ---: | ---: |",
        ...rows.map((r) => `| ${r.subs} | ${r.resources} | ${r.programMs.toFixed(0)} ms | ${r.wallMs.toFixed(0)} ms |`),
    ].join("\n");
    const section = [
        "<!-- render-bench:start -->",
        `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Node ${process.version}, ` +
            `median of ${RUNS} runs each.`,
        "",
        table,
        "",
        `- main with 50 sub clusters: ${at(50).toFixed(0)} ms of program time (target at most ${TARGET_MS} ms): ` +
            (pass50 ? "met" : "**missed**"),
        `- t(50)/t(5) = ${ratio.toFixed(2)} (target at most ${TARGET_RATIO}): ${passRatio ? "met" : "**missed**"}`,
        "<!-- render-bench:end -->",
    ].join("\n");
    const doc = path.join(projectDir, "docs", "benchmarks.md");
    const current = fs.readFileSync(doc, "utf8");
    const updated = withBudgetSection(
        current.replace(/<!-- render-bench:start -->[\s\S]*<!-- render-bench:end -->/, section),
    );
    if (updated === current && !current.includes(section)) {
        throw new Error(`${doc} has no render-bench markers`);
    }
    fs.writeFileSync(doc, updated);
    process.stdout.write(`${section}\n`);
    if (!pass50 || !passRatio) process.exitCode = 1;
}

if (require.main === module) main();
