import * as fs from "node:fs";
import * as path from "node:path";

import { stringify } from "yaml";

import { ruleFile } from "../../../alerts/model";
import { reportClusterGroup, reportFleetGroup } from "../../../alerts/report";
import { certificateSpecs, type CertificateSpec } from "../../../components/pki-profiles";
import { configSchema, type MainConfig } from "../../../config";
import type { ReporterSettings } from "../../../reporter/settings";
import { writeFleet, type FleetSpec } from "../report-fleet";
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

/** The certificate specs of a fleet with these clusters (main first), as its PKI issues them. */
export function labCertificates(clusters: readonly string[]): LabCertificates {
    const [main = "hub", ...subs] = clusters;
    const config = configSchema.parse({
        role: "main",
        cluster: { name: main },
        exposure: { domain: "obs.example.org", kind: "traefik-passthrough" },
        storage: { kind: "filesystem" },
        subClusters: subs.map((name) => ({ name })),
    }) as MainConfig;
    const specs = certificateSpecs(config);
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

export async function startReportLab(
    dir: string,
    fleet: FleetSpec,
    certificates: LabCertificates,
    logs: Record<string, TenantLogs>,
    firing: FiringAlert[],
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
    writeFleet(fleet, { family: (name) => writer.family(name, "gauge"), sample: (l, v, t) => writer.sample(l, v, t) });
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
    const settings: ReporterSettings = {
        clusters: fleet.clusters.map((c) => ({ name: c.name, role: c.role, logs: logs[c.name] !== undefined })),
        prometheusUrl: prometheus.url,
        lokiUrl: loki.url,
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
        delivery: { webhooks: [] },
        credentialsDir: path.join(dir, "credentials"),
    };
    return {
        prometheus,
        alertmanager,
        alertmanagerUrl: settings.alertmanagerUrl,
        loki,
        ca,
        client,
        clientDir,
        settings,
        samples: summary.samples,
        stop: async () => {
            await loki.close();
            await stopServer(alertmanager);
            await stopPrometheus(prometheus);
        },
    };
}
