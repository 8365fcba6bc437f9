/**
 * `npm run bench:manifests`: times `npm run render -- --manifests` of the main stack with 50 sub
 * clusters, as a whole process, and the share Helm takes of it, and writes the figures to
 * docs/benchmarks.md (a committed file). Needs the charts (`npm run charts`).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { chartCacheDir, locateCharts } from "../render/chart-cache";
import { helpOnly } from "../render/command-line";
import { median, stackFileWithSubs, timedRender } from "./bench";

const projectDir = path.resolve(__dirname, "..");
const SUBS = 50;
const RUNS = 3;

interface Sample {
    wallMs: number;
    programMs: number;
    helmMs: number;
    chartObjects: number;
}

function renderOnce(stackFile: string, outDir: string): Sample {
    const { wallMs, timing } = timedRender(stackFile, SUBS, outDir, ["--manifests"]);
    return {
        wallMs,
        programMs: Number(timing.programMs ?? NaN),
        helmMs: Number(timing.helmMs ?? NaN),
        chartObjects: Number(timing.chartObjects ?? 0),
    };
}

const USAGE = `usage: npm run bench:manifests [-- --help]

Times \`npm run render -- --manifests\` of the main stack with ${SUBS} sub clusters and rewrites its
section of docs/benchmarks.md, a committed file: review and commit the diff. Needs the charts
(npm run charts).`;

function main(): void {
    const early = helpOnly("bench:manifests", USAGE);
    if (early !== undefined) {
        process.exitCode = early;
        return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-manifests-"));
    let samples: Sample[];
    try {
        const file = stackFileWithSubs(dir, SUBS);
        samples = Array.from({ length: RUNS }, (_, i) => renderOnce(file, path.join(dir, `out-${i}`)));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const located = [...locateCharts(chartCacheDir(projectDir)).values()];
    const source = located.every((c) => c.verified)
        ? "the verified chart archives"
        : "charts from unpacked folders (not the verified archives)";
    const wall = median(samples.map((s) => s.wallMs));
    const helm = median(samples.map((s) => s.helmMs));
    const program = median(samples.map((s) => s.programMs));
    const section = [
        "<!-- manifests-bench:start -->",
        `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Node ${process.version}, ` +
            `median of ${RUNS} runs of \`npm run render -- --stack <main with ${SUBS} subs> --manifests\`, ${source}.`,
        "",
        "| whole process | program | Helm (templating, parsing, checks of the chart output) | Helm's share | chart-made objects |",
        "| ---: | ---: | ---: | ---: | ---: |",
        `| ${wall.toFixed(0)} ms | ${program.toFixed(0)} ms | ${helm.toFixed(0)} ms | ${((100 * helm) / wall).toFixed(0)} % | ${samples[0]?.chartObjects ?? 0} |`,
        "<!-- manifests-bench:end -->",
    ].join("\n");
    const doc = path.join(projectDir, "docs", "benchmarks.md");
    const current = fs.readFileSync(doc, "utf8");
    const markers = /<!-- manifests-bench:start -->[\s\S]*<!-- manifests-bench:end -->/;
    if (!markers.test(current)) throw new Error(`${doc} has no manifests-bench markers`);
    fs.writeFileSync(doc, current.replace(markers, section));
    process.stdout.write(`${section}\n`);
    process.stdout.write("rewrote docs/benchmarks.md (committed: review and commit the diff)\n");
}

main();
