/**
 * `npm run reliability [-- --cut-seconds N]`: cuts the remote-write link of a sub cluster for
 * ten minutes (or N seconds) with real Prometheus servers on 127.0.0.1, checks that every sample
 * scraped around the cut reaches the receiver once the link is back, and writes the figures to
 * docs/reliability.md (a committed file). The scenario is `test/harness/link-loss.ts`, which the test suite
 * runs with a one-minute cut.
 *
 * The run is bounded: past the cut plus a fixed allowance, or on SIGINT/SIGTERM, every server
 * is killed and the script exits non-zero.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { validateConfig, type MainConfig } from "../config";
import { readStackConfig } from "../render/stack-file";
import { DEFAULT_CATCH_UP_TIMEOUT_MS, runLinkLoss, SENDER_JOB, type LinkLossResult } from "../test/harness/link-loss";
import { killAll } from "../test/harness/processes";

const projectDir = path.resolve(__dirname, "..");
const DOC = path.join(projectDir, "docs", "reliability.md");
const DEFAULT_CUT_SECONDS = 600;
/** Time allowed on top of the cut: certificates, start-ups, steady state, catch-up, the window's tail. */
const ALLOWANCE_MS = 5 * 60_000;
const START = "<!-- reliability:start -->";
const END = "<!-- reliability:end -->";

const USAGE = `usage: npm run reliability -- [--cut-seconds N]

Cuts the remote-write link of a sub cluster for N seconds (default ${DEFAULT_CUT_SECONDS}) between real Prometheus
servers on 127.0.0.1, checks that every sample reaches the receiver once the link is back, and
rewrites the figures in docs/reliability.md, a committed file: review and commit the diff. Needs
Debian's prometheus.

exit codes: 0 no sample lost, 1 samples lost or no catch-up in time, 64 bad usage`;

function usage(problem: string): never {
    process.stderr.write(`reliability: ${problem}; see npm run reliability -- --help\n`);
    process.exit(64);
}

function parseArgs(argv: readonly string[]): { cutSeconds: number } {
    let cutSeconds = DEFAULT_CUT_SECONDS;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
        if (flag === "--help") {
            process.stdout.write(`${USAGE}\n`);
            process.exit(0);
        }
        if (flag !== "--cut-seconds") usage(`unknown argument ${arg}`);
        const value = inline ?? argv[++i];
        if (value === undefined || !/^[1-9][0-9]*$/.test(value)) usage(`--cut-seconds takes a positive whole number`);
        cutSeconds = Number(value);
    }
    return { cutSeconds };
}

/** Main's stack config and the sub cluster it lists first: the identity the sender plays. */
function mainStack(): { config: MainConfig; subCluster: string } {
    const stack = readStackConfig(projectDir, "main");
    const result = validateConfig({ values: stack.values, isSecret: (k) => stack.secretKeys.includes(k) });
    if (!("config" in result)) throw new Error(`${stack.file}:\n${result.problems.join("\n")}`);
    if (result.config.role !== "main") throw new Error(`${stack.file} is not a main stack`);
    const subCluster = result.config.subClusters[0]?.name;
    if (subCluster === undefined) throw new Error(`${stack.file} lists no sub cluster`);
    return { config: result.config, subCluster };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function section(r: LinkLossResult, subCluster: string): string {
    const version = /version (\S+)/.exec(r.prometheusVersion)?.[1] ?? r.prometheusVersion;
    const catchUp =
        r.catchUpMs === undefined
            ? `**not reached** within ${seconds(r.catchUpTimeoutMs)}`
            : `${seconds(r.catchUpMs)} (bound ${seconds(r.catchUpTimeoutMs)})`;
    return [
        START,
        "",
        `Measured ${r.startedAt.toISOString().slice(0, 10)} with Prometheus ${version} at both ends, ` +
            `sender playing \`${subCluster}\`, scraping every ${r.scrapeIntervalSeconds} s.`,
        "",
        `- cut length (receiver stopped to ready again): ${seconds(r.cut.endMs - r.cut.startMs)}`,
        `- samples expected (\`up{job="${SENDER_JOB}"}\` at the sender, 10 s before the cut to 10 s after): ` +
            `${r.samplesExpected}, of which ${r.samplesInCut} scraped during the cut`,
        `- samples received: ${r.samplesReceived}`,
        `- samples lost: ${r.samplesLost}`,
        `- catch-up time (receiver ready to holding every sample up to then): ${catchUp}`,
        `- samples the sender had to send again, all its series together: ${r.samplesRetried}`,
        "",
        END,
    ].join("\n");
}

async function main(): Promise<void> {
    const { cutSeconds } = parseArgs(process.argv.slice(2));
    const { config, subCluster } = mainStack();
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "reliability-"));
    process.once("exit", () => {
        killAll();
        fs.rmSync(workDir, { recursive: true, force: true });
    });
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            process.stderr.write(`${signal}: stopping every server\n`);
            process.exit(1);
        });
    }
    const budgetMs = cutSeconds * 1000 + ALLOWANCE_MS;
    setTimeout(() => {
        process.stderr.write(`no result within ${seconds(budgetMs)}: stopping every server\n`);
        process.exit(1);
    }, budgetMs).unref();

    const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    log(`link-loss scenario, ${cutSeconds}-second cut, ${subCluster} towards main`);
    const result = await runLinkLoss({
        config,
        subCluster,
        cutSeconds,
        workDir,
        catchUpTimeoutMs: DEFAULT_CATCH_UP_TIMEOUT_MS,
        log,
    });

    const text = section(result, subCluster);
    const current = fs.readFileSync(DOC, "utf8");
    const start = current.indexOf(START);
    const end = current.indexOf(END);
    if (start < 0 || end < start) throw new Error(`${DOC} has no ${START} ... ${END} markers`);
    fs.writeFileSync(DOC, current.slice(0, start) + text + current.slice(end + END.length));
    process.stdout.write(`${text}\nrewrote docs/reliability.md (committed: review and commit the diff)\n`);

    if (result.samplesLost > 0 || result.catchUpMs === undefined) {
        process.stderr.write(`--- sender's remote storage metrics ---\n${result.senderRemoteStorageMetrics}\n`);
        process.exitCode = 1;
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
});
