import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";

import { stringify } from "yaml";

import { ruleFile } from "../../components/alerting/rules/model";
import { reportClusterGroup, reportFleetGroup } from "../../components/alerting/rules/report";
import { certificateSpecs, type CertificateSpec } from "../../components/pki/profiles";
import { REMEDIATOR_NAME } from "../../components/programs/remediator";
import { reportLinks } from "../../components/programs/reporter";
import { configSchema, type MainConfig } from "../../config";
import type { ReporterSettings } from "../../reporter/settings";
import {
    backfillRules,
    createBlocks,
    OpenMetricsWriter,
    restartPrometheus,
    startPrometheusOnData,
    stopPrometheus,
    type PrometheusOnData,
} from "./backfill";
import { request, probeOk } from "./https";
import { startLoki, type LokiStandIn, type TenantLogs } from "./loki";
import { freePort, HOST, locateBinaries, startServer, stopServer, waitReady, type Server } from "./processes";
import { KNOWN_WEEK, writeFleet, type FleetSpec, type Labels, type SeriesSink } from "./report-fleet";
import { webConfigYaml } from "./web-config";
import { issueCa, issueLeaf, writeTlsSecret, type Authority, type Issued } from "./x509";

/**
 * The weekly report's lab on 127.0.0.1: a synthetic fleet's history backfilled into a real
 * Prometheus (standing for Thanos Query, which speaks the same API), the report's hourly
 * roll-ups backfilled over it with promtool, a real Alertmanager, and a Loki stand-in; all three
 * behind TLS that requires a client certificate from the fleet CA, as the gateways on main do.
 */

export interface LabCertificates {
    /** The fleet CA's spec, a server spec (its names are replaced by 127.0.0.1) and the reporter's client spec. */
    ca: CertificateSpec;
    server: CertificateSpec;
    client: CertificateSpec;
}

/** Where the lab's fleet opens Grafana and browses its runbooks: what its report links to. */
export const LAB_GRAFANA_URL = "https://grafana.obs.example.org";
export const LAB_RUNBOOK_BASE_URL = "https://git.example.org/platform/observability/-/blob/main/docs/runbooks";

/** The main stack's config of a fleet with these clusters (main first), Grafana and runbooks at the lab's URLs. */
export function labConfig(clusters: readonly string[]): MainConfig {
    const [main = "hub", ...subs] = clusters;
    return configSchema.parse({
        role: "main",
        cluster: { name: main },
        exposure: { domain: "obs.example.org", kind: "traefik-passthrough" },
        storage: { kind: "filesystem" },
        grafana: { rootUrl: LAB_GRAFANA_URL },
        alerting: { runbookBaseUrl: LAB_RUNBOOK_BASE_URL },
        subClusters: subs.map((name) => ({ name })),
    }) as MainConfig;
}

/** The certificate specs of a fleet with these clusters (main first), as its PKI issues them. */
export function labCertificates(clusters: readonly string[]): LabCertificates {
    const specs = certificateSpecs(labConfig(clusters));
    const find = (what: string, p: (s: CertificateSpec) => boolean) => {
        const found = specs.find(p);
        if (found === undefined) throw new Error(`no certificate spec for ${what}`);
        return found;
    };
    return {
        ca: find("the CA", (s) => s.kind === "ca"),
        server: find("the query gateway", (s) => s.profile === "query-gateway"),
        client: find("the reporter", (s) => s.profile === "reporter"),
    };
}

export interface ReportLab {
    prometheus: PrometheusOnData;
    alertmanager: Server;
    alertmanagerUrl: string;
    loki: LokiStandIn;
    /** Loki's log-line queries (the remediator's audit lines), in front of `loki`. */
    lokiFront: LokiFront;
    ca: Authority;
    client: Issued;
    /** The reporter's certificate files. */
    clientDir: string;
    /** Settings pointing the reporter at the lab (delivery empty; add channels as needed). */
    settings: ReporterSettings;
    /** Samples written to the history. */
    samples: number;
    stop(): Promise<void>;
}

/** Alerts posted to Alertmanager before the report runs: firing now. */
export interface FiringAlert {
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

/**
 * A change to the synthetic history beyond what `writeFleet` writes: samples of a family's
 * series rewritten or dropped, and series added to a family (or a family of its own, written
 * last). Timestamps of an added series must rise.
 */
export interface SeriesAmendment {
    family: string;
    /** Series whose labels include these; every series of the family when absent. */
    match?: Labels;
    /** The sample's new value, or undefined to drop it. */
    value?: (value: number, t: number) => number | undefined;
    add?: { labels: Labels; samples: [number, number][] }[];
}

/** A remediator audit line, as the remediator writes it to its log (`remediator/engine.ts`). */
export type AuditLine = Record<string, string | number>;

export interface LabOptions {
    amendments?: SeriesAmendment[];
    /** The remediator's audit lines in each cluster's logs. */
    audit?: Record<string, AuditLine[]>;
}

/** The sink `writeFleet` writes to, with the amendments applied on the way to `sink`. */
export function amendedSink(sink: SeriesSink, amendments: readonly SeriesAmendment[]): SeriesSink & { close(): void } {
    let current: string | undefined;
    const written = new Set<string>();
    const matches = (a: SeriesAmendment, labels: Labels) =>
        Object.entries(a.match ?? {}).every(([k, v]) => labels[k] === v);
    const flush = (family: string | undefined) => {
        for (const a of amendments.filter((x) => x.family === family))
            for (const series of a.add ?? []) for (const [t, v] of series.samples) sink.sample(series.labels, v, t);
    };
    return {
        family(name, type) {
            flush(current);
            current = name;
            written.add(name);
            sink.family(name, type);
        },
        sample(labels, value, t) {
            let v: number | undefined = value;
            for (const a of amendments)
                if (a.family === current && a.value !== undefined && matches(a, labels) && v !== undefined)
                    v = a.value(v, t);
            if (v !== undefined) sink.sample(labels, v, t);
        },
        close() {
            flush(current);
            for (const family of new Set(amendments.map((a) => a.family))) {
                if (written.has(family)) continue;
                sink.family(family, "gauge");
                flush(family);
            }
        },
    };
}

/**
 * The known week's remediation, as the remediator's audit lines: its two dry-run actions at the
 * times its counter counts them, on batch/report-builder over its CPU budget.
 */
export function knownWeekAudit(): Record<string, AuditLine[]> {
    const incidents = KNOWN_WEEK.fleet.incidents;
    return {
        [incidents.cluster]: incidents.remediationAt.map((t) => ({
            time: new Date(t * 1000).toISOString(),
            cluster: incidents.cluster,
            mode: "dry-run",
            outcome: "would-act",
            reason: "dry-run",
            detail: "NonCriticalWorkloadCPUOverBudget: 3.6 over budget 3",
            alert: "NonCriticalWorkloadCPUOverBudget",
            namespace: "batch",
            kind: "Deployment",
            name: "report-builder",
            value: "3.6",
            budget: 3,
        })),
    };
}

export interface LokiFront {
    url: string;
    /** The audit-line queries it answered. */
    queries: { tenant: string | undefined; query: string }[];
    close(): Promise<void>;
}

/**
 * Loki's log-line query for the remediator's audit lines, in front of the index stand-in: the
 * same TLS with client certificates, `query_range` answered from the lab's audit lines by
 * tenant, every other path passed on to the stand-in.
 */
async function startLokiFront(
    tls: { cert: string; key: string; ca: string },
    client: Issued,
    standIn: string,
    audit: Record<string, AuditLine[]>,
): Promise<LokiFront> {
    const queries: LokiFront["queries"] = [];
    const target = new URL(standIn);
    const server = https.createServer(
        { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
        (req, res) => {
            const url = new URL(req.url ?? "/", "https://loki");
            const tenantHeader = req.headers["x-scope-orgid"];
            const tenant = typeof tenantHeader === "string" ? tenantHeader : undefined;
            if (url.pathname === "/loki/api/v1/query_range") {
                const query = url.searchParams.get("query") ?? "";
                queries.push({ tenant, query });
                const start = Date.parse(url.searchParams.get("start") ?? "");
                const end = Date.parse(url.searchParams.get("end") ?? "");
                const remediator = tenant !== undefined && query.includes(`service="${REMEDIATOR_NAME}"`);
                const lines = (remediator ? (audit[tenant] ?? []) : [])
                    .map((l) => ({ at: Date.parse(String(l.time)), line: JSON.stringify(l) }))
                    .filter((l) => l.at >= start && l.at <= end);
                res.writeHead(200, { "content-type": "application/json" });
                res.end(
                    JSON.stringify({
                        status: "success",
                        data: {
                            resultType: "streams",
                            result: [
                                {
                                    stream: { cluster: tenant ?? "", service: REMEDIATOR_NAME },
                                    values: lines.map((l) => [`${l.at}000000`, l.line]),
                                },
                            ],
                        },
                    }),
                );
                return;
            }
            const forward = https.request(
                {
                    host: target.hostname,
                    port: target.port,
                    path: req.url,
                    method: req.method,
                    headers: tenant === undefined ? {} : { "X-Scope-OrgID": tenant },
                    ca: tls.ca,
                    cert: client.cert,
                    key: client.key,
                    servername: HOST,
                    agent: false,
                },
                (answer) => {
                    res.writeHead(answer.statusCode ?? 502, answer.headers);
                    answer.pipe(res);
                },
            );
            forward.on("error", (error) => {
                res.writeHead(502);
                res.end(error.message);
            });
            forward.end();
        },
    );
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `https://${HOST}:${port}`,
        queries,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

export async function startReportLab(
    dir: string,
    fleet: FleetSpec,
    certificates: LabCertificates,
    logs: Record<string, TenantLogs>,
    firing: FiringAlert[],
    options: LabOptions = {},
): Promise<ReportLab> {
    const { alertmanager: amBinary } = locateBinaries(["alertmanager"], "the report reads a real Alertmanager");
    const ca = await issueCa(certificates.ca);
    const server = await issueLeaf({ ...certificates.server, dnsNames: [HOST] }, ca);
    const client = await issueLeaf(certificates.client, ca);
    const serverDir = writeTlsSecret(path.join(dir, "server-tls"), server, ca);
    const clientDir = writeTlsSecret(path.join(dir, "client-tls"), client, ca);
    const webConfig = path.join(dir, "web.yml");
    fs.writeFileSync(webConfig, webConfigYaml(serverDir));

    // History: raw series, then blocks; the roll-ups computed by promtool from a plain server.
    const history = path.join(dir, "fleet.om");
    const writer = OpenMetricsWriter.open(history);
    // Types do not matter to PromQL; gauges keep every name as written.
    const sink = amendedSink(
        { family: (name) => writer.family(name, "gauge"), sample: (l, v, t) => writer.sample(l, v, t) },
        options.amendments ?? [],
    );
    writeFleet(fleet, sink);
    sink.close();
    const summary = writer.close();
    const dataDir = path.join(dir, "tsdb");
    fs.mkdirSync(dataDir, { recursive: true });
    await createBlocks(history, dataDir);
    fs.rmSync(history);
    let prometheus = await startPrometheusOnData(dataDir);
    const rules = path.join(dir, "report.rules.yml");
    fs.writeFileSync(
        rules,
        stringify(ruleFile([reportClusterGroup, reportFleetGroup], "docs/runbooks"), { lineWidth: 0 }),
    );
    const weekSeconds = 7 * 86400;
    await backfillRules(
        rules,
        {
            url: prometheus.url,
            start: new Date((fleet.end - 2 * weekSeconds - 3600) * 1000),
            end: new Date(fleet.end * 1000),
        },
        dataDir,
    );
    prometheus = await restartPrometheus(prometheus, {
        webConfigFile: webConfig,
        tls: { ca, servername: HOST, identity: client },
    });

    // Alertmanager, TLS with client certificates required; the alerts posted are firing now.
    const amPort = await freePort();
    const amDir = path.join(dir, "alertmanager");
    fs.mkdirSync(amDir, { recursive: true });
    fs.writeFileSync(
        path.join(amDir, "alertmanager.yml"),
        stringify({ route: { receiver: "null", group_by: ["..."] }, receivers: [{ name: "null" }] }),
    );
    const alertmanager = startServer(
        "alertmanager",
        amBinary,
        [
            `--config.file=${path.join(amDir, "alertmanager.yml")}`,
            `--storage.path=${path.join(amDir, "data")}`,
            `--web.listen-address=${HOST}:${amPort}`,
            `--web.config.file=${webConfig}`,
            "--cluster.listen-address=",
        ],
        amPort,
    );
    const dial = { port: amPort, servername: HOST, identity: client };
    await waitReady(alertmanager, () => probeOk(request(dial, ca, { path: "/-/ready" })));
    if (firing.length > 0) {
        const posted = await request(dial, ca, {
            method: "POST",
            path: "/api/v2/alerts",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(firing),
        });
        if (posted.status !== 200)
            throw new Error(`posting alerts: ${posted.status} ${posted.body ?? posted.error?.message}`);
    }

    const loki = await startLoki({ cert: server.cert, key: server.key, ca: ca.cert }, logs);
    const lokiFront = await startLokiFront(
        { cert: server.cert, key: server.key, ca: ca.cert },
        client,
        loki.url,
        options.audit ?? {},
    );
    const config = labConfig(fleet.clusters.map((c) => c.name));
    const settings: ReporterSettings = {
        clusters: fleet.clusters.map((c) => ({ name: c.name, role: c.role, logs: logs[c.name] !== undefined })),
        prometheusUrl: prometheus.url,
        lokiUrl: lokiFront.url,
        alertmanagerUrl: `https://${HOST}:${amPort}`,
        tls: {
            certFile: path.join(clientDir, "tls.crt"),
            keyFile: path.join(clientDir, "tls.key"),
            caFile: path.join(clientDir, "ca.crt"),
        },
        timeZone: "Europe/Paris",
        concurrency: 4,
        queryTimeoutSeconds: 30,
        certificateMetric: "observability_certificate_expiry_timestamp_seconds",
        retentionAlerts: {
            metrics: ["ThanosCompactNotRunning"],
            logs: ["LokiRetentionNotApplied"],
            traces: ["TempoRetentionFailing"],
        },
        links: reportLinks(config),
        remediator: { namespace: config.namespace, service: REMEDIATOR_NAME },
        delivery: { webhooks: [] },
        credentialsDir: path.join(dir, "credentials"),
    };
    return {
        prometheus,
        alertmanager,
        alertmanagerUrl: settings.alertmanagerUrl,
        loki,
        lokiFront,
        ca,
        client,
        clientDir,
        settings,
        samples: summary.samples,
        stop: async () => {
            await lokiFront.close();
            await loki.close();
            await stopServer(alertmanager);
            await stopPrometheus(prometheus);
        },
    };
}
