import { createHash } from "node:crypto";

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { MainConfig } from "../config";
import { INGEST } from "./endpoints";
import { exposeIngest } from "./exposure";
import { annotationKeys, commonLabels } from "./labels";
import { KPS_RELEASE } from "./metrics-values";
import { identityMapsSnippet, tempPathsSnippet, tlsServerSnippet } from "./nginx-mtls";
import { RESOURCES } from "./resources";
import { images } from "./versions";
import { TLS_MOUNT_DIR } from "./web-config";

/**
 * The client-verifying listener in front of main's Alertmanager. Alertmanager cannot require
 * client certificates on its own port without failing the operator's probes (P1), so alerts from
 * sub clusters arrive here: nginx with TLS 1.3 and the fleet CA, forwarding to Alertmanager's
 * in-cluster port. A cluster may only post alerts; a service (Grafana, the reporter) may only
 * read alerts, silences and status.
 */

export const ALERT_INGEST_NAME = INGEST.alerts.service;
/** Plain port for the kubelet's probes; it answers /healthz and nothing else. */
export const PROBE_PORT = 8080;
const CONFIG_DIR = "/etc/nginx";

export interface AlertIngestConfOptions {
    /** `listen` of the TLS server: a port, or `address:port`. */
    listen: string;
    /** `listen` of the probe server. */
    probeListen: string;
    /** Where the `kubernetes.io/tls` Secret is mounted. */
    tlsDir: string;
    /** Alertmanager's `host:port`. */
    upstream: string;
    /** A writable directory for nginx's pid and temporary files. */
    tempDir: string;
}

/** The whole nginx.conf of the listener: paths only, no key material. */
export function alertIngestNginxConf(o: AlertIngestConfOptions): string {
    const indented = (snippet: string, depth: number) =>
        snippet.split("\n").map((line) => `${"    ".repeat(depth)}${line}`);
    return [
        "worker_processes 1;",
        "error_log stderr warn;",
        `pid ${o.tempDir}/nginx.pid;`,
        "events { worker_connections 1024; }",
        "http {",
        ...indented(tempPathsSnippet(o.tempDir), 1),
        "    access_log off;",
        "    client_max_body_size 4m;",
        ...indented(identityMapsSnippet(), 1),
        '    map "$observability_ou $request_method $uri" $observability_allowed { default 0; ' +
            '"~^cluster POST /api/v2/alerts$" 1; ' +
            '"~^service GET /api/v2/(?:alerts|alerts/groups|silences|status|receivers)$" 1; }',
        "    server {",
        `        listen ${o.listen} ssl;`,
        ...indented(tlsServerSnippet(o.tlsDir), 2),
        "        location / {",
        "            if ($observability_allowed = 0) { return 403; }",
        `            proxy_pass http://${o.upstream};`,
        "        }",
        "    }",
        "    server {",
        `        listen ${o.probeListen};`,
        '        location = /healthz { return 200 "ok\\n"; }',
        "        location / { return 404; }",
        "    }",
        "}",
        "",
    ].join("\n");
}

export interface AlertIngestArgs {
    config: MainConfig;
    /** The listener's server certificate Secret and its revision. */
    tls: { secretName: string; revision: string };
}

/** The listener's Deployment, Service, configuration and exposure on main. */
export class AlertIngest extends pulumi.ComponentResource {
    constructor(name: string, args: AlertIngestArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:AlertIngest", name, {}, opts);
        const { config, tls } = args;
        const labels = { ...commonLabels(config.cluster.name), "app.kubernetes.io/name": ALERT_INGEST_NAME };
        const selector = { "app.kubernetes.io/name": ALERT_INGEST_NAME };
        const metadata = { name: ALERT_INGEST_NAME, namespace: config.namespace, labels };
        const conf = alertIngestNginxConf({
            listen: String(INGEST.alerts.targetPort),
            probeListen: String(PROBE_PORT),
            tlsDir: TLS_MOUNT_DIR,
            upstream: `${KPS_RELEASE}-alertmanager.${config.namespace}.svc:9093`,
            tempDir: "/tmp",
        });
        const configMap = new k8s.core.v1.ConfigMap(
            `${name}-config`,
            { metadata, data: { "nginx.conf": conf } },
            { parent: this },
        );
        new k8s.apps.v1.Deployment(
            name,
            {
                metadata,
                spec: {
                    replicas: config.profile === "small" ? 1 : 2,
                    selector: { matchLabels: selector },
                    template: {
                        metadata: {
                            labels,
                            // nginx reads its certificate and configuration at start.
                            annotations: {
                                [annotationKeys.certificateRevision]: tls.revision,
                                [annotationKeys.configRevision]: createHash("sha256")
                                    .update(conf)
                                    .digest("hex")
                                    .slice(0, 16),
                            },
                        },
                        spec: {
                            automountServiceAccountToken: false,
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: 101,
                                runAsGroup: 101,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            containers: [
                                {
                                    name: "nginx",
                                    image: images.nginxUnprivileged,
                                    ports: [
                                        { name: "alerts", containerPort: INGEST.alerts.targetPort },
                                        { name: "probe", containerPort: PROBE_PORT },
                                    ],
                                    securityContext: {
                                        allowPrivilegeEscalation: false,
                                        readOnlyRootFilesystem: true,
                                        capabilities: { drop: ["ALL"] },
                                    },
                                    resources: RESOURCES[config.profile].alertIngest,
                                    readinessProbe: { httpGet: { path: "/healthz", port: "probe" } },
                                    livenessProbe: { httpGet: { path: "/healthz", port: "probe" } },
                                    volumeMounts: [
                                        {
                                            name: "config",
                                            mountPath: `${CONFIG_DIR}/nginx.conf`,
                                            subPath: "nginx.conf",
                                        },
                                        { name: "tls", mountPath: TLS_MOUNT_DIR, readOnly: true },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "config", configMap: { name: configMap.metadata.name } },
                                { name: "tls", secret: { secretName: tls.secretName } },
                                { name: "tmp", emptyDir: {} },
                            ],
                        },
                    },
                },
            },
            { parent: this },
        );
        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata,
                spec: {
                    selector,
                    ports: [{ name: "alerts", port: INGEST.alerts.port, targetPort: INGEST.alerts.targetPort }],
                },
            },
            { parent: this },
        );
        exposeIngest(`${name}-exposure`, { config, signal: "alerts", podSelector: selector }, { parent: this });
        this.registerOutputs({});
    }
}
