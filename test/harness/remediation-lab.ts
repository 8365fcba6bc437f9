import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

import { stringify } from "yaml";

import { ruleFile } from "../../components/alerting/rules/model";
import { remediationGroup } from "../../components/alerting/rules/remediation";
import { remediatorBundle } from "../../components/programs/bundle";
import { remediatorSettings } from "../../components/programs/remediator";
import type { StackConfig } from "../../config";
import type { AuditLine } from "../../remediator/engine";
import { plainRequest, probeOk } from "./https";
import { freePort, HOST, startServer, stopServer, waitReady, type Server } from "./processes";

/**
 * A cluster's remediation loop on 127.0.0.1, from the real parts: a test target exposing the
 * series kube-state-metrics, cAdvisor and kube-prometheus-stack's recording rules would, a real
 * Prometheus scraping it every second and evaluating the stack's own remediation rules, and the
 * remediator's deploy-time bundle run as a process against stand-ins of the APIs it calls.
 */

/** A workload as the test target shows it: opted in or not, and the CPU it burns over time. */
export interface LabWorkload {
    namespace: string;
    name: string;
    /** The opt-in label's value as kube-state-metrics exports it; none when undefined. */
    label?: string;
    /** CPU request of its one pod, in cores. */
    request: number;
    /** Cores used from `overFromMs` after the target started (before that: a tenth of the request). */
    usage: number;
    overFromMs?: number;
}

/** Text exposition of the workloads' series at `elapsedMs` after start. */
function labMetrics(workloads: readonly LabWorkload[], labelName: string, elapsedMs: number): string {
    const lines: string[] = [];
    for (const w of workloads) {
        const pod = `${w.name}-0`;
        const where = `namespace="${w.namespace}"`;
        if (w.label !== undefined) {
            lines.push(`kube_deployment_labels{${where},deployment="${w.name}",${labelName}="${w.label}"} 1`);
        }
        lines.push(
            `namespace_workload_pod:kube_pod_owner:relabel{${where},pod="${pod}",workload="${w.name}",workload_type="deployment"} 1`,
        );
        lines.push(
            `kube_pod_container_resource_requests{${where},pod="${pod}",container="app",resource="cpu",unit="core"} ${w.request}`,
        );
        // CPU seconds so far: idle (a tenth of the request) until overFromMs, then `usage`.
        const from = w.overFromMs ?? 0;
        const idle = Math.min(elapsedMs, from) / 1000;
        const busy = Math.max(0, elapsedMs - from) / 1000;
        const seconds = idle * w.request * 0.1 + busy * w.usage;
        lines.push(`container_cpu_usage_seconds_total{${where},pod="${pod}",container="app",image="app:1"} ${seconds}`);
    }
    return `${lines.join("\n")}\n`;
}

export interface Lab {
    prometheus: Server;
    prometheusUrl: string;
    target: http.Server;
    stop(): Promise<void>;
}

/** Starts the test target and a Prometheus evaluating the remediation rules of `config` every second. */
export async function startLab(
    prometheusBinary: string,
    dir: string,
    config: StackConfig,
    workloads: readonly LabWorkload[],
    labelName: string,
): Promise<Lab> {
    const started = Date.now();
    const target = http.createServer((req, res) => {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
        res.end(labMetrics(workloads, labelName, Date.now() - started));
    });
    const targetPort = await freePort();
    await new Promise<void>((resolve) => target.listen(targetPort, HOST, resolve));

    const rules = path.join(dir, "remediation-rules.yaml");
    fs.writeFileSync(
        rules,
        stringify(ruleFile([remediationGroup(config.remediation)], "docs/runbooks"), { lineWidth: 0 }),
    );
    fs.writeFileSync(
        path.join(dir, "prometheus.yml"),
        stringify({
            global: { scrape_interval: "1s", evaluation_interval: "1s" },
            rule_files: [rules],
            scrape_configs: [{ job_name: "cluster", static_configs: [{ targets: [`${HOST}:${targetPort}`] }] }],
        }),
    );
    const port = await freePort();
    const prometheus = startServer(
        "prometheus",
        prometheusBinary,
        [
            `--config.file=${path.join(dir, "prometheus.yml")}`,
            `--storage.tsdb.path=${path.join(dir, "prom-data")}`,
            `--web.listen-address=${HOST}:${port}`,
        ],
        port,
    );
    await waitReady(prometheus, () => probeOk(plainRequest(port, { path: "/-/ready" })));
    return {
        prometheus,
        prometheusUrl: `http://${HOST}:${port}`,
        target,
        async stop() {
            await stopServer(prometheus);
            await new Promise((resolve) => target.close(resolve));
        },
    };
}

export interface RemediatorProcess {
    child: ChildProcess;
    port: number;
    /** Audit lines written so far, parsed. */
    audit: AuditLine[];
    /** Everything it wrote to stderr. */
    stderr: () => string;
    /** Resolves with the first audit line matching, or rejects after `timeoutMs`. */
    waitFor(match: (line: AuditLine) => boolean, timeoutMs: number): Promise<AuditLine>;
    stop(): Promise<void>;
}

export interface RemediatorRun {
    config: StackConfig;
    prometheusUrl: string;
    kube: { port: number; serviceAccountDir: string };
    gitToken?: string;
    /** Replaces the gitops API URL (the stand-in's). */
    gitApiUrl?: string;
}

/** Runs the deploy-time bundle with settings from `config`, pointed at the lab and the stand-ins. */
export async function startRemediatorProcess(dir: string, run: RemediatorRun): Promise<RemediatorProcess> {
    fs.mkdirSync(dir, { recursive: true });
    const bundle = path.join(dir, "remediator.js");
    fs.writeFileSync(bundle, remediatorBundle());
    const port = await freePort();
    const base = remediatorSettings(run.config);
    const settings = {
        ...base,
        prometheusUrl: run.prometheusUrl,
        port,
        stateFile: path.join(dir, "state.json"),
        ...(base.gitops && run.gitApiUrl ? { gitops: { ...base.gitops, apiUrl: run.gitApiUrl } } : {}),
    };
    fs.writeFileSync(path.join(dir, "settings.json"), JSON.stringify(settings));
    if (run.gitToken !== undefined) fs.writeFileSync(path.join(dir, "token"), run.gitToken);
    const child = spawn(process.execPath, [bundle], {
        env: {
            PATH: process.env.PATH ?? "",
            KUBERNETES_SERVICE_HOST: HOST,
            KUBERNETES_SERVICE_PORT: String(run.kube.port),
            REMEDIATOR_SERVICE_ACCOUNT_DIR: run.kube.serviceAccountDir,
            REMEDIATOR_SETTINGS: path.join(dir, "settings.json"),
            REMEDIATOR_GIT_TOKEN_FILE: path.join(dir, "token"),
            POD_NAME: "remediator-test",
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const audit: AuditLine[] = [];
    const waiters: { match: (line: AuditLine) => boolean; resolve: (line: AuditLine) => void }[] = [];
    let buffer = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
        buffer += chunk.toString("utf8");
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
            const text = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            const line = JSON.parse(text) as AuditLine;
            if (!("outcome" in line)) continue;
            audit.push(line);
            for (const w of [...waiters]) {
                if (w.match(line)) {
                    waiters.splice(waiters.indexOf(w), 1);
                    w.resolve(line);
                }
            }
        }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
    });
    const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const server = { name: "remediator", port, child, log: () => stderr, exit: exit.then(() => child.exitCode) };
    await waitReady(server, () => probeOk(plainRequest(port, { path: "/healthz" })));
    return {
        child,
        port,
        audit,
        stderr: () => stderr,
        waitFor(match, timeoutMs) {
            const found = audit.find(match);
            if (found !== undefined) return Promise.resolve(found);
            return new Promise((resolve, reject) => {
                const timer = setTimeout(
                    () =>
                        reject(
                            new Error(
                                `no matching audit line in ${timeoutMs} ms; lines: ${JSON.stringify(audit)}\n${stderr}`,
                            ),
                        ),
                    timeoutMs,
                );
                waiters.push({
                    match,
                    resolve: (line) => {
                        clearTimeout(timer);
                        resolve(line);
                    },
                });
            });
        },
        async stop() {
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
            await exit;
            clearTimeout(timer);
        },
    };
}
