import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { programBundle } from "../components/programs/bundle";
import type { TenantLogs } from "../test/harness/loki";
import type { FleetSpec } from "../test/harness/report-fleet";
import { labCertificates, startReportLab } from "../test/harness/report-lab";

/**
 * The weekly report over a 10-cluster fleet's week: the reporter's bundle run as a process (its
 * wall time and peak RSS), then every query it issues run again directly, one after the other,
 * through the same mTLS client; the ratio of the two is what the reporter adds (scoring,
 * rendering, start-up) net of its concurrency. Writes docs/benchmarks.md.
 */

const CLUSTERS = 10;
const WORKLOADS = 20;
const STEP_SECONDS = 300;
const END = Date.parse("2026-11-23T06:00:00Z") / 1000;
const TARGET_RATIO = 1.2;
const TARGET_MIB = 150;

async function main(): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-report-"));
    const clusters = Array.from({ length: CLUSTERS }, (_, i) => ({
        name: i === 0 ? "hub" : `edge-${String(i).padStart(2, "0")}`,
        role: i === 0 ? ("main" as const) : ("sub" as const),
    }));
    const fleet: FleetSpec = { clusters, end: END, step: STEP_SECONDS, workloads: WORKLOADS };
    const hours = Array.from({ length: 2 * 168 }, (_, i) => END - 14 * 86400 + i * 3600);
    const logs: Record<string, TenantLogs> = Object.fromEntries(
        clusters.map((c) => [c.name, { errorBytes: { apps: 4096, batch: 512 }, hoursWithData: hours }]),
    );
    const started = Date.now();
    const lab = await startReportLab(
        path.join(dir, "lab"),
        fleet,
        labCertificates(clusters.map((c) => c.name)),
        logs,
        [],
    );
    const labMs = Date.now() - started;
    try {
        const settingsFile = path.join(dir, "settings.json");
        fs.writeFileSync(settingsFile, JSON.stringify(lab.settings));
        const bundle = path.join(dir, "reporter.js");
        fs.writeFileSync(bundle, programBundle("reporter"));
        // Peak RSS read by the process itself as it exits.
        const peak = path.join(dir, "peak.js");
        fs.writeFileSync(
            peak,
            "process.on('exit', () => require('fs').writeSync(2, `PEAK_RSS_KIB=${process.resourceUsage().maxRSS}\\n`));\n",
        );
        const runs: { ms: number; inProcessMs: number; kib: number; code: number | null }[] = [];
        for (let i = 0; i < 3; i += 1) {
            const t0 = process.hrtime.bigint();
            const child = spawn(
                process.execPath,
                ["--require", peak, bundle, "--settings", settingsFile, "--at", new Date(END * 1000).toISOString()],
                { stdio: ["ignore", "pipe", "pipe"] },
            );
            let stdout = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
            let stderr = "";
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            const kib = Number(/PEAK_RSS_KIB=(\d+)/.exec(stderr)?.[1] ?? NaN);
            // The run's own figure: from its first query to its last delivery, without Node's start-up.
            const inProcessMs = Number(/"totalMs":(\d+)/.exec(stdout)?.[1] ?? NaN);
            runs.push({ ms, inProcessMs, kib, code });
        }

        // The same queries, issued directly and one at a time, from a fresh process as well.
        const rawRuns: { ms: number; queries: number }[] = [];
        for (let i = 0; i < 3; i += 1) {
            const child = spawn(
                process.execPath,
                [
                    "--require",
                    "ts-node/register/transpile-only",
                    path.join(__dirname, "report-queries.ts"),
                    settingsFile,
                    new Date(END * 1000).toISOString(),
                ],
                { stdio: ["ignore", "pipe", "inherit"] },
            );
            let stdout = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
            const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
            if (code !== 0) throw new Error(`report-queries exited ${code}`);
            const result = JSON.parse(stdout) as { queries: number; totalMs: number };
            rawRuns.push({ ms: result.totalMs, queries: result.queries });
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
        const reportMs = median(runs.map((r) => r.inProcessMs));
        const processMs = median(runs.map((r) => r.ms));
        const rawMs = median(rawRuns.map((r) => r.ms));
        const queries = rawRuns[0]?.queries ?? 0;
        const peakMiB = Math.max(...runs.map((r) => r.kib)) / 1024;
        const ratio = reportMs / rawMs;
        const met = ratio <= TARGET_RATIO && peakMiB <= TARGET_MIB && runs.every((r) => r.code === 0);
        const section = [
            "<!-- report-bench:start -->",
            `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Node ${process.version}: ` +
                `${CLUSTERS} clusters, ${WORKLOADS} workloads each, two weeks at ${STEP_SECONDS} s steps ` +
                `(${lab.samples.toLocaleString("en")} raw samples, backfilled with the hourly roll-ups in ${(labMs / 1000).toFixed(0)} s); ` +
                `the reporter's bundle run 3 times (concurrency ${lab.settings.concurrency}), then its ${queries} queries ` +
                "issued directly one after the other from a fresh process, 3 times; medians. Both figures leave out Node's start-up.",
            "",
            "| report (collect, score, render, deliver) | its queries issued directly | ratio (target ≤ 1.2) | whole process, Node start-up included | peak RSS (target ≤ 150 MiB) |",
            "| ---: | ---: | ---: | ---: | ---: |",
            `| ${reportMs.toFixed(0)} ms | ${rawMs.toFixed(0)} ms | ${ratio.toFixed(2)} | ${processMs.toFixed(0)} ms | ${peakMiB.toFixed(1)} MiB |`,
            "",
            `- ${met ? "Within" : "**Beyond**"} both targets.`,
            "<!-- report-bench:end -->",
        ].join("\n");
        const doc = path.join(__dirname, "..", "docs", "benchmarks.md");
        const current = fs.readFileSync(doc, "utf8");
        const pattern = /<!-- report-bench:start -->[\s\S]*<!-- report-bench:end -->/;
        if (!pattern.test(current)) throw new Error(`${doc} has no report-bench markers`);
        fs.writeFileSync(doc, current.replace(pattern, section));
        process.stdout.write(`${section}\n`);
        process.stdout.write("rewrote docs/benchmarks.md, a committed file: review and commit the diff\n");
        if (!met) process.exitCode = 1;
    } finally {
        await lab.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
});
