import * as fs from "node:fs";
import * as path from "node:path";

import { stringify } from "yaml";

import { remoteWriteSpec } from "../../components/metrics/remote-write";
import { ingestEndpoints } from "../../components/network/endpoints";
import { certificateSpecs, CLUSTER_IDENTITY_SECRET, type CertificateSpec } from "../../components/pki/profiles";
import type { MainConfig } from "../../config";
import { describeOutcome, plainRequest, probeOk, request, type Dial, type Outcome } from "./https";
import {
    binaryVersion,
    HOST,
    freePort,
    locateBinaries,
    startServer,
    stopServer,
    waitReady,
    type Server,
} from "./processes";
import { prometheusRemoteWrite, type PrometheusRemoteWrite, type SecretFiles } from "./remote-write";
import { webConfigYaml } from "./web-config";
import { issueCa, issueLeaf, writeTlsSecret } from "./x509";

/**
 * The link-loss scenario, with real Prometheus servers on 127.0.0.1. A receiver stands in for
 * Thanos Receive: Prometheus with its remote-write receiver, behind the web config the program
 * mounts and the `thanos-receive` server certificate. A sender plays a sub cluster: Prometheus
 * scraping itself every second, with the cluster's external label, remote-writing with the entry
 * the program generates (converted as prometheus-operator does) and the cluster's client
 * certificate. Once samples flow, the receiver is stopped for the length of the cut, then
 * restarted on the same port and data. The sender's own TSDB is the reference: every sample it
 * scraped around the cut must end up at the receiver.
 */

export const SENDER_JOB = "sender";
const SCRAPE_INTERVAL_SECONDS = 1;
/** How long samples must have flowed before the cut, and how far the compared window extends past it. */
const MARGIN_MS = 10_000;
const STEADY_TIMEOUT_MS = 60_000;
export const DEFAULT_CATCH_UP_TIMEOUT_MS = 90_000;
/** After the window's end, how long the last samples have to arrive (one scrape, one batch deadline). */
const TAIL_TIMEOUT_MS = 20_000;
const POLL_MS = 250;

export interface LinkLossOptions {
    config: MainConfig;
    /** The sub cluster the sender plays; its client certificate and `cluster` label. */
    subCluster: string;
    /** How long the receiver stays down. */
    cutSeconds: number;
    /** Where certificates, configurations and both TSDBs go. */
    workDir: string;
    /** How long the backlog may take to reach the receiver once it is back. */
    catchUpTimeoutMs?: number;
    /** Progress, one line at a time. */
    log?: (line: string) => void;
}

export interface LinkLossResult {
    /** `prometheus --version`, first line; both ends run it. */
    prometheusVersion: string;
    startedAt: Date;
    /** The sender's `remote_write` entry, converted from the program's. */
    remoteWrite: PrometheusRemoteWrite;
    /** Labels of the sender's `up` series as the receiver held it before the cut. */
    labelsAtReceiver: Record<string, string>;
    /** Exit code of the receiver's graceful stop. */
    receiverExitCode: number | null;
    /** From SIGTERM to the restarted receiver answering ready. */
    cut: { startMs: number; endMs: number; seconds: number };
    /** The compared range: the cut with a margin on either side. */
    window: { startMs: number; endMs: number };
    scrapeIntervalSeconds: number;
    /** Samples the sender scraped during the cut. */
    samplesInCut: number;
    /** Samples the sender holds in the window. */
    samplesExpected: number;
    /** Of those, samples the receiver holds. */
    samplesReceived: number;
    /** Of those, samples the receiver lacks. */
    samplesLost: number;
    /** Timestamps (ms) of the first lost samples, for failure messages. */
    lostTimestamps: number[];
    /** From the receiver being ready again to it holding every sample from the window's start to then. */
    catchUpMs: number | undefined;
    catchUpTimeoutMs: number;
    /** Samples the sender had to send again (`prometheus_remote_storage_samples_retried_total`). */
    samplesRetried: number;
    /** The sender's `prometheus_remote_storage_*` metrics at the end. */
    senderRemoteStorageMetrics: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function findSpec(specs: readonly CertificateSpec[], predicate: (s: CertificateSpec) => boolean, what: string) {
    const found = specs.find(predicate);
    if (found === undefined) throw new Error(`no certificate spec for ${what}`);
    return found;
}

interface Series {
    metric: Record<string, string>;
    /** Sample timestamps, ms. */
    timestamps: number[];
}

/**
 * The raw samples of `selector` with timestamps in [startMs, endMs]: a range selector evaluated
 * at `endMs` returns the stored samples themselves, not a computed value.
 */
async function rawSamples(
    get: (p: string) => Promise<Outcome>,
    selector: string,
    startMs: number,
    endMs: number,
): Promise<Series[]> {
    const query = `${selector}[${endMs - startMs}ms]`;
    const outcome = await get(`/api/v1/query?query=${encodeURIComponent(query)}&time=${endMs / 1000}`);
    if (outcome.status !== 200) throw new Error(`query ${query}: ${describeOutcome(outcome)}`);
    const answer = JSON.parse(outcome.body ?? "") as {
        data: { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
    };
    if (answer.data.resultType !== "matrix") throw new Error(`query ${query}: ${answer.data.resultType}, not a matrix`);
    return answer.data.result.map((r) => ({
        metric: r.metric,
        timestamps: r.values.map(([t]) => Math.round(t * 1000)),
    }));
}

const timestampsOf = (series: readonly Series[]): number[] => series.flatMap((s) => s.timestamps).sort((a, b) => a - b);

function compare(expected: readonly number[], held: readonly number[]): { received: number; lost: number[] } {
    const have = new Set(held);
    const lost = expected.filter((t) => !have.has(t));
    return { received: expected.length - lost.length, lost };
}

/** Sum of a counter over its label sets, from a text exposition. */
function counterSum(exposition: string, name: string): number {
    return exposition
        .split("\n")
        .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

export async function runLinkLoss(options: LinkLossOptions): Promise<LinkLossResult> {
    const log = options.log ?? (() => undefined);
    const catchUpTimeoutMs = options.catchUpTimeoutMs ?? DEFAULT_CATCH_UP_TIMEOUT_MS;
    const { config, subCluster, workDir } = options;
    const startedAt = new Date();
    const { prometheus } = locateBinaries(["prometheus"], "the link-loss scenario runs real Prometheus servers");
    const prometheusVersion = binaryVersion(prometheus);

    // Certificates from the fleet's own specs.
    const specs = certificateSpecs(config);
    const caSpec = findSpec(specs, (s) => s.kind === "ca", "the CA");
    const serverSpec = findSpec(specs, (s) => s.kind === "server" && s.profile === "thanos-receive", "thanos-receive");
    const clientSpec = findSpec(specs, (s) => s.kind === "client" && s.cluster === subCluster, subCluster);
    const endpoint = ingestEndpoints(config.exposure).metrics;
    if (!serverSpec.dnsNames.includes(endpoint.serverName)) {
        throw new Error(`the thanos-receive certificate does not cover ${endpoint.serverName}`);
    }
    const ca = await issueCa(caSpec);
    const serverCert = await issueLeaf(serverSpec, ca);
    const clientCert = await issueLeaf(clientSpec, ca);

    // Receiver: Thanos Receive's certificate and web config, a data directory that outlives it.
    const receiverDir = path.join(workDir, "receiver");
    const receiverTls = writeTlsSecret(path.join(receiverDir, "tls"), serverCert, ca);
    fs.writeFileSync(path.join(receiverDir, "web-config.yml"), webConfigYaml(receiverTls));
    fs.writeFileSync(path.join(receiverDir, "config.yml"), stringify({ global: { scrape_interval: "1m" } }));
    const receiverPort = await freePort();
    const receiverArgs = [
        `--config.file=${path.join(receiverDir, "config.yml")}`,
        `--storage.tsdb.path=${path.join(receiverDir, "data")}`,
        `--web.listen-address=${HOST}:${receiverPort}`,
        `--web.config.file=${path.join(receiverDir, "web-config.yml")}`,
        "--web.enable-remote-write-receiver",
    ];
    const toReceiver: Dial = { port: receiverPort, servername: endpoint.serverName, identity: clientCert };
    const receiverGet = (p: string) => request(toReceiver, ca, { path: p });

    // Sender: the sub cluster's Prometheus, with the program's remote-write entry.
    const senderDir = path.join(workDir, "sender");
    const identityDir = writeTlsSecret(path.join(senderDir, CLUSTER_IDENTITY_SECRET), clientCert, ca);
    const files: SecretFiles = {
        "ca.crt": path.join(identityDir, "ca.crt"),
        "tls.crt": path.join(identityDir, "tls.crt"),
        "tls.key": path.join(identityDir, "tls.key"),
    };
    // Dial 127.0.0.1 and verify the name sub clusters dial, which the server certificate carries.
    const url = `https://${HOST}:${receiverPort}/api/v1/write`;
    const remoteWrite = prometheusRemoteWrite(
        remoteWriteSpec({ ...endpoint, port: receiverPort, url }, CLUSTER_IDENTITY_SECRET),
        files,
    );
    const senderPort = await freePort();
    fs.writeFileSync(
        path.join(senderDir, "config.yml"),
        stringify({
            global: {
                scrape_interval: `${SCRAPE_INTERVAL_SECONDS}s`,
                scrape_timeout: `${SCRAPE_INTERVAL_SECONDS}s`,
                external_labels: { cluster: subCluster },
            },
            scrape_configs: [{ job_name: SENDER_JOB, static_configs: [{ targets: [`${HOST}:${senderPort}`] }] }],
            remote_write: [remoteWrite],
        }),
    );
    const senderArgs = [
        `--config.file=${path.join(senderDir, "config.yml")}`,
        `--storage.tsdb.path=${path.join(senderDir, "data")}`,
        `--web.listen-address=${HOST}:${senderPort}`,
    ];
    const senderGet = (p: string) => plainRequest(senderPort, { path: p });

    const atSender = `up{job="${SENDER_JOB}"}`;
    const atReceiver = `up{job="${SENDER_JOB}",cluster="${subCluster}"}`;
    const held = async (startMs: number, endMs: number) => {
        const [sent, got] = await Promise.all([
            rawSamples(senderGet, atSender, startMs, endMs),
            rawSamples(receiverGet, atReceiver, startMs, endMs),
        ]);
        return { sent: timestampsOf(sent), got: timestampsOf(got) };
    };

    const started: Server[] = [];
    const startReceiver = async (): Promise<Server> => {
        const server = startServer("receiver", prometheus, receiverArgs, receiverPort);
        started.push(server);
        await waitReady(server, () => probeOk(receiverGet("/-/ready")));
        return server;
    };

    try {
        let receiver = await startReceiver();
        const sender = startServer("sender", prometheus, senderArgs, senderPort);
        started.push(sender);
        await waitReady(sender, () => probeOk(senderGet("/-/ready")));
        log(`receiver on ${HOST}:${receiverPort}, sender on ${HOST}:${senderPort}`);

        // Steady state: the receiver holds the sender's series over at least the margin.
        let labelsAtReceiver: Record<string, string> | undefined;
        let last = "nothing yet";
        const steadyDeadline = Date.now() + STEADY_TIMEOUT_MS;
        while (labelsAtReceiver === undefined) {
            if (Date.now() > steadyDeadline) {
                throw new Error(
                    `the receiver did not hold ${MARGIN_MS} ms of the sender's samples within ` +
                        `${STEADY_TIMEOUT_MS} ms; last: ${last}\n--- sender stderr ---\n${sender.log()}`,
                );
            }
            const now = Date.now();
            try {
                const series = await rawSamples(receiverGet, `up{job="${SENDER_JOB}"}`, now - 3_600_000, now);
                const first = series[0];
                last = `${series.length} series, first sample ${first?.timestamps[0] ?? "none"}`;
                if (series.length === 1 && first !== undefined && (first.timestamps[0] ?? now) <= now - MARGIN_MS) {
                    labelsAtReceiver = first.metric;
                }
            } catch (err) {
                last = (err as Error).message;
            }
            if (labelsAtReceiver === undefined) await sleep(POLL_MS);
        }
        log(`samples flow: ${JSON.stringify(labelsAtReceiver)}`);

        // The cut.
        const cutStartMs = Date.now();
        const receiverExitCode = await stopServer(receiver);
        log(`receiver stopped (exit ${receiverExitCode}); down for ${options.cutSeconds} s`);
        await sleep(options.cutSeconds * 1000);
        receiver = await startReceiver();
        const cutEndMs = Date.now();
        log(`receiver back after ${((cutEndMs - cutStartMs) / 1000).toFixed(1)} s`);

        // Catch-up: the receiver holds everything the sender scraped from the window's start to the restart.
        const window = { startMs: cutStartMs - MARGIN_MS, endMs: cutEndMs + MARGIN_MS };
        const catchUpDeadline = cutEndMs + catchUpTimeoutMs;
        let catchUpMs: number | undefined;
        last = "none";
        while (catchUpMs === undefined && Date.now() < catchUpDeadline) {
            try {
                const { sent, got } = await held(window.startMs, cutEndMs);
                if (sent.length > 0 && compare(sent, got).lost.length === 0) catchUpMs = Date.now() - cutEndMs;
            } catch (err) {
                last = (err as Error).message;
            }
            if (catchUpMs === undefined) await sleep(POLL_MS);
        }
        log(
            catchUpMs === undefined
                ? `no catch-up within ${catchUpTimeoutMs} ms; last error: ${last}`
                : `caught up in ${catchUpMs} ms`,
        );

        // The whole window, once its last scrape has had time to be sent.
        await sleep(window.endMs + SCRAPE_INTERVAL_SECONDS * 1000 - Date.now());
        const tailDeadline = Math.max(catchUpDeadline, Date.now() + TAIL_TIMEOUT_MS);
        let sent: number[] = [];
        let outcome = { received: 0, lost: [] as number[] };
        for (;;) {
            const h = await held(window.startMs, window.endMs);
            sent = h.sent;
            outcome = compare(h.sent, h.got);
            if (outcome.lost.length === 0 || Date.now() > tailDeadline) break;
            await sleep(POLL_MS);
        }

        const metrics = await senderGet("/metrics");
        const exposition = metrics.body ?? describeOutcome(metrics);
        const senderRemoteStorageMetrics = exposition
            .split("\n")
            .filter((l) => l.startsWith("prometheus_remote_storage_"))
            .join("\n");

        return {
            prometheusVersion,
            startedAt,
            remoteWrite,
            labelsAtReceiver,
            receiverExitCode,
            cut: { startMs: cutStartMs, endMs: cutEndMs, seconds: (cutEndMs - cutStartMs) / 1000 },
            window,
            scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
            samplesInCut: sent.filter((t) => t >= cutStartMs && t <= cutEndMs).length,
            samplesExpected: sent.length,
            samplesReceived: outcome.received,
            samplesLost: outcome.lost.length,
            lostTimestamps: outcome.lost.slice(0, 20),
            catchUpMs,
            catchUpTimeoutMs,
            samplesRetried: counterSum(exposition, "prometheus_remote_storage_samples_retried_total"),
            senderRemoteStorageMetrics,
        };
    } finally {
        await Promise.all(started.map(stopServer));
    }
}
