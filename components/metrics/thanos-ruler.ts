import { createHash } from "node:crypto";

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";

import type { MainConfig } from "../../config";
import { fleetRulesFile, FLEET_RULES_CONFIGMAP } from "../alerting/alerting";
import { EVALUATION_INTERVAL_SECONDS } from "../alerting/rules";
import { annotationKeys, commonLabels } from "../core/labels";
import { RESOURCES } from "../core/resources";
import { images } from "../core/versions";
import { frontUrl, queryGatewaySpec, alertIngestSpec } from "../network/mtls-front";
import { CLUSTER_IDENTITY_SECRET, tlsSecretName } from "../pki/profiles";
import { clientTlsFiles } from "../pki/tls-mount";
import {
    bucketColocation,
    OBJSTORE_CLAIM,
    OBJSTORE_DIR,
    OBJSTORE_KEY,
    OBJSTORE_SECRET,
    RULER_HEADLESS_SERVICE,
    RULER_REPLICA_LABEL,
    STORE_TLS_DIR,
    storeServerArgs,
    THANOS_RELEASE,
} from "./values";

/**
 * The Thanos Ruler of main, the stack's own rather than the chart's: the chart's Ruler always
 * dials Query's HTTP API in plain text (`--query`), and cannot take a client certificate. This
 * one reads PromQL through the query gateway with its own service certificate, sends alerts
 * through the alert ingest with main's cluster certificate, and serves its StoreAPI over mTLS
 * like every other Thanos store. It evaluates the fleet rules (components/alerting/alerting.ts).
 */

export const RULER_NAME = `${THANOS_RELEASE}-rule`;
/** The Ruler's pods: the labels the thanos chart gives its components, so Query and the flows find them. */
export const RULER_SELECTOR = {
    "app.kubernetes.io/name": "thanos",
    "app.kubernetes.io/instance": THANOS_RELEASE,
    "app.kubernetes.io/component": "rule",
} as const;
const GRPC_PORT = 10901;
const HTTP_PORT = 10902;
const DIRS = {
    data: "/var/thanos/rule",
    config: "/etc/thanos/config",
    rules: "/etc/thanos/rules",
    objstore: "/etc/thanos/objstore",
    query: "/etc/observability/query-client-tls",
    alerts: "/etc/observability/alerts-client-tls",
} as const;
/** Replica labels other writers add, dropped from the Ruler's alerts like its own. */
const REPLICA_LABELS = ["prometheus_replica", "receive_replica", RULER_REPLICA_LABEL];

/** A front the Ruler dials over HTTPS: its name verified, the client certificate mounted at `dir`. */
function frontTarget(url: URL, dir: string) {
    return {
        http_config: {
            tls_config: { ...clientTlsFiles(dir), server_name: url.hostname },
        },
        scheme: "https",
        static_configs: [url.host],
    };
}

/** The Ruler's query configuration: the query gateway, over mTLS with its service certificate. */
export function rulerQueryConfig(config: MainConfig): string {
    const gateway = new URL(frontUrl(queryGatewaySpec(config), "metrics", config.namespace));
    return stringify([frontTarget(gateway, DIRS.query)]);
}

/**
 * The Ruler's Alertmanager configuration: the alert ingest, over mTLS with main's cluster
 * certificate, which may post alerts there as every cluster's Prometheus does.
 */
export function rulerAlertmanagersConfig(config: MainConfig): string {
    const ingest = new URL(frontUrl(alertIngestSpec(config.namespace), "alerts", config.namespace));
    return stringify({ alertmanagers: [{ ...frontTarget(ingest, DIRS.alerts), api_version: "v2" }] });
}

/** The Ruler's arguments. */
export function rulerArgs(): string[] {
    return [
        "rule",
        `--grpc-address=0.0.0.0:${GRPC_PORT}`,
        `--http-address=0.0.0.0:${HTTP_PORT}`,
        `--data-dir=${DIRS.data}`,
        `--objstore.config-file=${DIRS.objstore}/${OBJSTORE_KEY}`,
        `--label=${RULER_REPLICA_LABEL}="$(NAME)"`,
        ...REPLICA_LABELS.map((label) => `--alert.label-drop=${label}`),
        "--tsdb.retention=48h",
        "--tsdb.block-duration=2h",
        `--rule-file=${DIRS.rules}/*.yaml`,
        // The interval the report's roll-ups assume of ALERTS samples, as on every Prometheus.
        `--eval-interval=${EVALUATION_INTERVAL_SECONDS}s`,
        `--query.config-file=${DIRS.config}/query.yaml`,
        `--alertmanagers.config-file=${DIRS.config}/alertmanagers.yaml`,
        ...storeServerArgs(),
    ];
}

const digest = (...parts: string[]) => createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 16);

export interface ThanosRulerArgs {
    config: MainConfig;
    /** Revision of the fleet CA: the Ruler reads its client CAs at start. */
    caRevision: string;
}

/** The Ruler's StatefulSet, headless Service, configuration and ServiceMonitor. */
export class ThanosRuler extends pulumi.ComponentResource {
    constructor(name: string, args: ThanosRulerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:ThanosRuler", name, {}, opts);
        const { config } = args;
        const namespace = config.namespace;
        const labels = { ...commonLabels(config.cluster.name), ...RULER_SELECTOR };
        const queryConfig = rulerQueryConfig(config);
        const alertmanagersConfig = rulerAlertmanagersConfig(config);
        const configMap = new k8s.core.v1.ConfigMap(
            `${name}-config`,
            {
                metadata: { name: `${RULER_NAME}-config`, namespace, labels },
                data: { "query.yaml": queryConfig, "alertmanagers.yaml": alertmanagersConfig },
            },
            { parent: this },
        );
        const filesystem = config.storage.kind === "filesystem";
        const colocation = bucketColocation(config);
        const secretVolume = (volume: string, secretName: string) => ({ name: volume, secret: { secretName } });
        const volumes = [
            { name: "config", configMap: { name: `${RULER_NAME}-config` } },
            { name: "rules", configMap: { name: FLEET_RULES_CONFIGMAP } },
            secretVolume("objstore", OBJSTORE_SECRET),
            secretVolume("store-tls", tlsSecretName({ profile: "thanos-store", kind: "server" })),
            secretVolume("query-client-tls", tlsSecretName({ profile: "thanos-ruler", kind: "client" })),
            secretVolume("alerts-client-tls", CLUSTER_IDENTITY_SECRET),
            ...(filesystem ? [{ name: OBJSTORE_CLAIM, persistentVolumeClaim: { claimName: OBJSTORE_CLAIM } }] : []),
        ];
        const mounts = [
            { name: "data", mountPath: DIRS.data },
            { name: "config", mountPath: DIRS.config, readOnly: true },
            { name: "rules", mountPath: DIRS.rules, readOnly: true },
            { name: "objstore", mountPath: DIRS.objstore, readOnly: true },
            { name: "store-tls", mountPath: STORE_TLS_DIR, readOnly: true },
            { name: "query-client-tls", mountPath: DIRS.query, readOnly: true },
            { name: "alerts-client-tls", mountPath: DIRS.alerts, readOnly: true },
            ...(filesystem ? [{ name: OBJSTORE_CLAIM, mountPath: OBJSTORE_DIR }] : []),
        ];
        const probe = (path: string, failureThreshold: number) => ({
            httpGet: { path, port: "http" },
            periodSeconds: 10,
            failureThreshold,
        });
        const storageClass = config.storage.kind === "filesystem" ? config.storage.storageClass : undefined;
        const statefulSet = new k8s.apps.v1.StatefulSet(
            name,
            {
                metadata: { name: RULER_NAME, namespace, labels },
                spec: {
                    serviceName: RULER_HEADLESS_SERVICE,
                    replicas: 1,
                    selector: { matchLabels: RULER_SELECTOR },
                    template: {
                        metadata: {
                            labels: { ...labels, ...colocation?.labels },
                            annotations: {
                                // Rules and configuration are read at start: a change rolls the Ruler.
                                [annotationKeys.configRevision]: digest(
                                    fleetRulesFile(config),
                                    queryConfig,
                                    alertmanagersConfig,
                                ),
                                [annotationKeys.certificateRevision]: args.caRevision,
                            },
                        },
                        spec: {
                            automountServiceAccountToken: false,
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: 65534,
                                runAsGroup: 65534,
                                fsGroup: 65534,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            ...(colocation !== undefined ? { affinity: colocation.affinity } : {}),
                            containers: [
                                {
                                    name: "thanos-rule",
                                    image: images.thanos,
                                    args: rulerArgs(),
                                    env: [{ name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
                                    ports: [
                                        { name: "grpc", containerPort: GRPC_PORT, protocol: "TCP" },
                                        { name: "http", containerPort: HTTP_PORT, protocol: "TCP" },
                                    ],
                                    livenessProbe: probe("/-/healthy", 4),
                                    readinessProbe: probe("/-/ready", 20),
                                    resources: RESOURCES[config.profile].thanosRuler,
                                    securityContext: {
                                        allowPrivilegeEscalation: false,
                                        readOnlyRootFilesystem: true,
                                        capabilities: { drop: ["ALL"] },
                                    },
                                    volumeMounts: mounts,
                                },
                            ],
                            volumes,
                        },
                    },
                    volumeClaimTemplates: [
                        {
                            metadata: { name: "data" },
                            spec: {
                                accessModes: ["ReadWriteOnce"],
                                resources: { requests: { storage: "5Gi" } },
                                ...(storageClass !== undefined ? { storageClassName: storageClass } : {}),
                            },
                        },
                    ],
                },
            },
            { parent: this, dependsOn: [configMap] },
        );
        new k8s.core.v1.Service(
            `${name}-headless`,
            {
                metadata: { name: RULER_HEADLESS_SERVICE, namespace, labels },
                spec: {
                    clusterIP: "None",
                    selector: RULER_SELECTOR,
                    ports: [
                        { name: "grpc", port: GRPC_PORT, targetPort: "grpc", protocol: "TCP" },
                        { name: "http", port: HTTP_PORT, targetPort: "http", protocol: "TCP" },
                    ],
                },
            },
            { parent: this },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-metrics`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata: { name: RULER_NAME, namespace, labels },
                spec: { selector: { matchLabels: RULER_SELECTOR }, endpoints: [{ port: "http", path: "/metrics" }] },
            },
            { parent: this, dependsOn: [statefulSet] },
        );
        this.registerOutputs({});
    }
}
