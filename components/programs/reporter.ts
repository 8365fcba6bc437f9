import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { reportCredentialNames, type MainConfig } from "../../config";
import { CREDENTIALS_DIR, REPORT_CRONJOB, SETTINGS_FILE } from "../../reporter/keys";
import type { LinkSettings, ReporterSettings } from "../../reporter/settings";
import type { Signal } from "../../reporter/types";
import { alertsOf, allAlerts, CERTIFICATE_EXPIRY_METRIC, storeRetentionAlerts } from "../alerting/rules";
import { credentialFiles } from "../core/credential-files";
import { commonLabels } from "../core/labels";
import { RESOURCES } from "../core/resources";
import { images } from "../core/versions";
import { stackDashboards } from "../grafana/dashboards";
import { datasources, DATASOURCE_UIDS, GRAFANA_RELEASE } from "../grafana/values";
import { inClusterEndpoint } from "../network/endpoints";
import { alertIngestSpec, frontUrl, queryGatewaySpec } from "../network/mtls-front";
import { tlsSecretName } from "../pki/profiles";
import { NONROOT_POD_SECURITY, programCode, programCodeVolume, programContainer } from "./node-program";
import { REMEDIATOR_NAME } from "./remediator";

/**
 * The weekly health report: a CronJob on main that runs the reporter's bundle on the pinned
 * Node.js image with the `reporter` client certificate. It reads the fleet through the query
 * gateway, the log gateway and the alert ingest, like Grafana, and needs nothing from the
 * Kubernetes API: its ServiceAccount has no role and no token. docs/report.md explains the report.
 */

const TLS_DIR = "/etc/reporter-tls";
/** A run that takes longer is stopped: its queries are stuck. */
export const REPORT_DEADLINE_SECONDS = 1800;

/** The store whose retention each retention alert of main watches, read off the alert's name. */
function retentionAlerts(): Record<Signal, string[]> {
    const byStore: Record<Signal, string[]> = { metrics: [], logs: [], traces: [] };
    const prefixes: [string, Signal][] = [
        ["Thanos", "metrics"],
        ["Loki", "logs"],
        ["Tempo", "traces"],
    ];
    for (const alert of alertsOf(storeRetentionAlerts())) {
        const store = prefixes.find(([prefix]) => alert.alert.startsWith(prefix))?.[1];
        if (store === undefined) throw new Error(`retention alert ${alert.alert} names no known store`);
        byStore[store].push(alert.alert);
    }
    return byStore;
}

/** The local port of the port-forward docs/grafana.md gives, when Grafana has no URL of its own. */
export const GRAFANA_LOCAL_PORT = 3000;

/** Dashboards a cluster's link may open, most specific first: the first one the stack provisions wins. */
const CLUSTER_DASHBOARDS = ["obs-cluster", "obs-fleet"] as const;

/**
 * Where the report's Grafana links go: `report.grafanaUrl`, else `grafana.rootUrl` (where users
 * open Grafana behind their ingress), else the port-forward docs/grafana.md gives, which the
 * report then tells its reader to run: the stack itself never exposes Grafana.
 */
export function reportGrafanaUrl(config: MainConfig): { url: string; note: string } {
    const url = config.report.grafanaUrl ?? config.grafana.rootUrl;
    if (url !== undefined) return { url, note: "" };
    return {
        url: `http://localhost:${GRAFANA_LOCAL_PORT}`,
        note: `after kubectl -n ${config.namespace} port-forward svc/${GRAFANA_RELEASE} ${GRAFANA_LOCAL_PORT}:80`,
    };
}

/** The report's links: Grafana, the dashboard of a cluster, the datasources Explore uses, the runbooks. */
export function reportLinks(config: MainConfig): LinkSettings {
    const grafana = reportGrafanaUrl(config);
    const uids = new Set(stackDashboards(config).map((d) => String(d.json.uid ?? "")));
    const clusterDashboard = CLUSTER_DASHBOARDS.find((uid) => uids.has(uid));
    if (clusterDashboard === undefined)
        throw new Error(`none of the dashboards ${CLUSTER_DASHBOARDS.join(", ")} is provisioned`);
    const alertmanager = datasources(config).find((d) => d.uid === DATASOURCE_UIDS.alerts);
    if (alertmanager === undefined) throw new Error("no Alertmanager datasource is provisioned for Grafana");
    return {
        grafanaUrl: grafana.url,
        grafanaNote: grafana.note,
        clusterDashboard,
        metricsDatasource: DATASOURCE_UIDS.metrics,
        logsDatasource: DATASOURCE_UIDS.logs,
        alertmanagerDatasource: alertmanager.name,
        runbookBaseUrl: config.alerting.runbookBaseUrl,
        runbookAlerts: [...new Set(allAlerts(config).map((a) => a.alert))].sort(),
    };
}

/** The reporter's settings document, from the main stack's config. */
export function reporterSettings(config: MainConfig): ReporterSettings {
    const ns = config.namespace;
    const { report } = config;
    return {
        clusters: [
            { name: config.cluster.name, role: "main", logs: true },
            ...config.subClusters.map((sub) => ({ name: sub.name, role: "sub" as const, logs: true })),
        ],
        prometheusUrl: frontUrl(queryGatewaySpec(config), "metrics", ns),
        lokiUrl: new URL(inClusterEndpoint("logs", ns).url).origin,
        alertmanagerUrl: frontUrl(alertIngestSpec(ns), "alerts", ns),
        tls: { certFile: `${TLS_DIR}/tls.crt`, keyFile: `${TLS_DIR}/tls.key`, caFile: `${TLS_DIR}/ca.crt` },
        timeZone: report.timeZone,
        concurrency: report.concurrency,
        queryTimeoutSeconds: report.queryTimeoutSeconds,
        certificateMetric: CERTIFICATE_EXPIRY_METRIC,
        retentionAlerts: retentionAlerts(),
        links: reportLinks(config),
        remediator: { namespace: ns, service: REMEDIATOR_NAME },
        delivery: {
            ...(report.email !== undefined ? { email: { ...report.email, to: [...report.email.to] } } : {}),
            webhooks: report.webhooks.map((hook) => ({ ...hook })),
            ...(report.git !== undefined ? { git: { ...report.git } } : {}),
        },
        credentialsDir: CREDENTIALS_DIR,
    };
}

export interface ReporterArgs {
    config: MainConfig;
    /** The `reportCredentials` secret: a JSON object of credential files, when a channel needs one. */
    credentials?: pulumi.Output<string>;
}

export class Reporter extends pulumi.ComponentResource {
    constructor(name: string, args: ReporterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:Reporter", name, {}, opts);
        const { config } = args;
        const namespace = config.namespace;
        const labels = { ...commonLabels(config.cluster.name), "app.kubernetes.io/name": REPORT_CRONJOB };
        const metadata = { name: REPORT_CRONJOB, namespace, labels };

        const code = programCode(name, "reporter", SETTINGS_FILE, reporterSettings(config), metadata, this);
        const credentials =
            args.credentials !== undefined
                ? new k8s.core.v1.Secret(
                      `${name}-credentials`,
                      {
                          metadata: { name: `${REPORT_CRONJOB}-credentials`, namespace, labels },
                          type: "Opaque",
                          // One file per credential: the key names are the reporter's file names.
                          stringData: pulumi.secret(
                              args.credentials.apply((json) =>
                                  credentialFiles(json, reportCredentialNames(config.report), "reportCredentials"),
                              ),
                          ),
                      },
                      { parent: this },
                  )
                : undefined;
        // Its own account, bound to no role, its token never mounted: the reporter reads no Kubernetes object.
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-account`,
            { metadata, automountServiceAccountToken: false },
            { parent: this },
        );

        new k8s.batch.v1.CronJob(
            name,
            {
                metadata,
                spec: {
                    schedule: config.report.schedule,
                    timeZone: config.report.timeZone,
                    // Never two reports at once; a run missed by more than an hour is skipped, not run late twice.
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 3600,
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: {
                        metadata: { labels },
                        spec: {
                            // No retry: a second run would deliver again to the channels that worked.
                            backoffLimit: 0,
                            activeDeadlineSeconds: REPORT_DEADLINE_SECONDS,
                            template: {
                                // Each run is a new pod: it reads the code, settings and certificate as they are then.
                                metadata: { labels },
                                spec: {
                                    serviceAccountName: REPORT_CRONJOB,
                                    automountServiceAccountToken: false,
                                    restartPolicy: "Never",
                                    securityContext: NONROOT_POD_SECURITY,
                                    containers: [
                                        programContainer({
                                            program: "reporter",
                                            image: config.report.image ?? images.node,
                                            settingsFile: SETTINGS_FILE,
                                            resources: RESOURCES[config.profile].reporter,
                                            volumeMounts: [
                                                { name: "tls", mountPath: TLS_DIR, readOnly: true },
                                                ...(credentials
                                                    ? [
                                                          {
                                                              name: "credentials",
                                                              mountPath: CREDENTIALS_DIR,
                                                              readOnly: true,
                                                          },
                                                      ]
                                                    : []),
                                            ],
                                        }),
                                    ],
                                    volumes: [
                                        programCodeVolume(code),
                                        {
                                            name: "tls",
                                            secret: {
                                                secretName: tlsSecretName({ profile: "reporter", kind: "client" }),
                                            },
                                        },
                                        ...(credentials
                                            ? [
                                                  {
                                                      name: "credentials",
                                                      secret: { secretName: credentials.metadata.name },
                                                  },
                                              ]
                                            : []),
                                    ],
                                },
                            },
                        },
                    },
                },
            },
            { parent: this, dependsOn: [account] },
        );
        this.registerOutputs({});
    }
}
