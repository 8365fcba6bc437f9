import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { configSchema } from "../config";
import { ksmLabelName } from "../remediator/keys";
import { startKubeApi } from "../test/harness/kube-api";
import { locateBinaries } from "../test/harness/processes";
import { startLab, startRemediatorProcess, type LabWorkload } from "../test/harness/remediation-lab";

/**
 * Latency from a budget alert turning firing in a real Prometheus to the remediator's scale
 * call on the Kubernetes API stand-in, over 100 workloads that go over budget half a second
 * apart (so the alerts land at every phase of the poll cycle). Writes docs/benchmarks.md.
 */

const WORKLOADS = 100;
const POLL_SECONDS = 5;
const LABEL = "observability/criticality";
const WATCH_EVERY_MS = 100;

function percentile(sorted: number[], p: number): number {
    const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
    return sorted[Math.max(0, index)] ?? NaN;
}

async function main(): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-remediation-"));
    const { prometheus } = locateBinaries(["prometheus"], "the remediation benchmark runs a real Prometheus");
    const config = configSchema.parse({
        role: "sub",
        cluster: { name: "bench" },
        mainStack: "acme/observability/main",
        remediation: {
            mode: "scale",
            budget: { forMinutes: 1 },
            pollIntervalSeconds: POLL_SECONDS,
            maxActionsPerHour: WORKLOADS,
            cooldownMinutes: 0,
        },
    });
    const names = Array.from({ length: WORKLOADS }, (_, i) => `job-${String(i).padStart(3, "0")}`);
    const workloads: LabWorkload[] = names.map((name, i) => ({
        namespace: "batch",
        name,
        label: "non-critical",
        request: 0.5,
        usage: 20,
        overFromMs: 2_000 + i * 500,
    }));
    const lab = await startLab(prometheus, dir, config, workloads, ksmLabelName("label", LABEL));
    const kube = await startKubeApi(
        path.join(dir, "kube"),
        names.map((name) => ({
            namespace: "batch",
            kind: "Deployment",
            name,
            labels: { [LABEL]: "non-critical" },
            replicas: 2,
        })),
    );
    const remediator = await startRemediatorProcess(path.join(dir, "remediator"), {
        config,
        prometheusUrl: lab.prometheusUrl,
        kube,
    });
    // When each alert is first seen firing, watching Prometheus' API every 100 ms.
    const firingAt = new Map<string, number>();
    const deadline = Date.now() + 300_000;
    try {
        while (Date.now() < deadline) {
            const response = await fetch(`${lab.prometheusUrl}/api/v1/alerts`);
            const body = (await response.json()) as {
                data: { alerts: { labels: Record<string, string>; state: string }[] };
            };
            const now = Date.now();
            for (const alert of body.data.alerts) {
                if (alert.state === "firing" && !firingAt.has(alert.labels.workload ?? "")) {
                    firingAt.set(alert.labels.workload ?? "", now);
                }
            }
            const scaled = kube.requests.filter((r) => r.method === "PATCH" && r.path.endsWith("/scale")).length;
            if (scaled >= WORKLOADS) break;
            await new Promise((r) => setTimeout(r, WATCH_EVERY_MS));
        }
        const latencies: number[] = [];
        for (const r of kube.requests) {
            const match = /deployments\/([^/]+)\/scale$/.exec(r.path);
            const fired = match ? firingAt.get(match[1] as string) : undefined;
            if (r.method === "PATCH" && fired !== undefined) latencies.push(r.at - fired);
        }
        latencies.sort((a, b) => a - b);
        if (latencies.length < WORKLOADS) {
            throw new Error(`only ${latencies.length} of ${WORKLOADS} workloads were scaled\n${remediator.stderr()}`);
        }
        const p50 = percentile(latencies, 50);
        const p99 = percentile(latencies, 99);
        const target = POLL_SECONDS * 1000 + 1000;
        const met = p99 <= target;
        const section = [
            "<!-- remediation-bench:start -->",
            `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Node ${process.version}: ` +
                `${WORKLOADS} workloads going over budget 0.5 s apart, poll interval ${POLL_SECONDS} s, rule \`for\` 1m, ` +
                `Prometheus evaluating every second; firing observed by watching its alerts API every ${WATCH_EVERY_MS} ms.`,
            "",
            "| alerts | p50 | p99 | max | target (poll interval + 1 s) |",
            "| ---: | ---: | ---: | ---: | ---: |",
            `| ${latencies.length} | ${(p50 / 1000).toFixed(2)} s | ${(p99 / 1000).toFixed(2)} s | ` +
                `${((latencies[latencies.length - 1] ?? NaN) / 1000).toFixed(2)} s | ${target / 1000} s |`,
            "",
            `- p99 ${met ? "within" : "**beyond**"} the target.`,
            "<!-- remediation-bench:end -->",
        ].join("\n");
        const doc = path.join(__dirname, "..", "docs", "benchmarks.md");
        const current = fs.readFileSync(doc, "utf8");
        const pattern = /<!-- remediation-bench:start -->[\s\S]*<!-- remediation-bench:end -->/;
        if (!pattern.test(current)) throw new Error(`${doc} has no remediation-bench markers`);
        fs.writeFileSync(doc, current.replace(pattern, section));
        process.stdout.write(`${section}\n`);
        if (!met) process.exitCode = 1;
    } finally {
        await remediator.stop();
        await Promise.all([lab.stop(), kube.close()]);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
});
