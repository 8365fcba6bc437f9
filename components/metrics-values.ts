import { createHash } from "node:crypto";

import { stringify } from "yaml";

import { durationHours, receiverNeedsCredential, type MainConfig, type StackConfig } from "../config";
import { EVALUATION_INTERVAL_SECONDS, REPLACED_DEFAULT_ALERTS } from "../alerts";
import { OPT_OUT_ANNOTATION } from "../remediator/keys";
import { ALERTMANAGER_CONFIG_SECRET, RECEIVER_CREDENTIALS_SECRET } from "./alertmanager-config";
import { FLEET_RULES_CONFIGMAP, fleetRulesFile } from "./alerting";
import { annotationKeys, DASHBOARD_LABEL, FOLDER_ANNOTATION, FOLDERS, labelKeys } from "./labels";
import type { IngestEndpoint } from "./endpoints";
import type { RemoteWriteSpec } from "./remote-write";
import { mebibytes, PROMETHEUS_STORAGE, REPLICAS, RESOURCES } from "./resources";
import { TLS_MOUNT_DIR } from "./tls-mount";

/**
 * Helm values of the metrics bricks, as pure functions of the configuration: kube-prometheus-stack
 * on both roles, Thanos on main. Every key is checked against the pinned chart's defaults by
 * test/values-keys.test.ts; secrets only ever appear as Secret names.
 */

/** Release names, fixed so that Service names are known: `kps-alertmanager`, `thanos-query`... */
export const KPS_RELEASE = "kps";
export const THANOS_RELEASE = "thanos";

/** The Secret holding Thanos' object storage configuration, and its key. */
export const OBJSTORE_SECRET = "thanos-objstore";
export const OBJSTORE_KEY = "objstore.yml";
/** Where the shared filesystem store is mounted when `storage.kind` is filesystem. */
export const OBJSTORE_DIR = "/var/thanos/objstore";
export const OBJSTORE_CLAIM = "thanos-objstore";

/** Where kube-prometheus-stack mounts `prometheusSpec.secrets` in the Prometheus container. */
export const PROMETHEUS_SECRETS_DIR = "/etc/prometheus/secrets";

/** The port the Prometheus operator serves its metrics on: plain HTTP, its webhooks and TLS off. */
export const OPERATOR_HTTP_PORT = 8080;

/** Share of the Prometheus volume it may fill before it deletes old blocks. */
export const RETENTION_SIZE_SHARE = 0.85;

/** `retentionSize` for a volume: a share of it, so Prometheus deletes before the disk is full. */
export function retentionSize(volume: string): string {
    return `${Math.floor(mebibytes(volume) * RETENTION_SIZE_SHARE)}MiB`;
}

/**
 * Every series scraped by this cluster's Prometheus keeps an application's own `cluster` label
 * as `exported_cluster`: the `cluster` label is the stack's, added as an external label.
 */
export const CLUSTER_LABEL_RELABELINGS = [
    { sourceLabels: ["cluster"], regex: "(.+)", targetLabel: "exported_cluster", action: "replace" },
    { regex: "cluster", action: "labeldrop" },
];

export interface KpsInput {
    config: StackConfig;
    /** Namespace of the node collectors (node-exporter needs host access). */
    agentsNamespace: string;
    /** Sub clusters: where metrics and alerts go, with the cluster identity Secret. */
    ship?: { remoteWrite: RemoteWriteSpec; alerts: IngestEndpoint; identitySecret: string };
}

function pvc(size: string, storageClass: string | undefined) {
    return {
        volumeClaimTemplate: {
            spec: {
                accessModes: ["ReadWriteOnce"],
                resources: { requests: { storage: size } },
                ...(storageClass !== undefined ? { storageClassName: storageClass } : {}),
            },
        },
    };
}

/** Raw Prometheus `alertmanagers` entry towards main's Alertmanager, with the cluster's certificate. */
export function alertmanagerEndpoint(alerts: IngestEndpoint, identitySecret: string) {
    const dir = `${PROMETHEUS_SECRETS_DIR}/${identitySecret}`;
    return {
        scheme: "https",
        api_version: "v2",
        static_configs: [{ targets: [`${alerts.serverName}:${alerts.port}`] }],
        tls_config: {
            ca_file: `${dir}/ca.crt`,
            cert_file: `${dir}/tls.crt`,
            key_file: `${dir}/tls.key`,
            server_name: alerts.serverName,
            min_version: "TLS13",
        },
    };
}

/** kube-prometheus-stack values for either role. */
export function kpsValues(input: KpsInput): Record<string, unknown> {
    const { config } = input;
    const profile = config.profile;
    const res = RESOURCES[profile];
    const replicas = REPLICAS[profile];
    const isMain = config.role === "main";
    const storageSize = config.metrics.storageSize ?? PROMETHEUS_STORAGE[profile];
    const etcd = config.talos.controlPlaneNodes;

    const prometheusSpec: Record<string, unknown> = {
        replicas: replicas.prometheus,
        externalLabels: { cluster: config.cluster.name },
        // The report's roll-ups turn ALERTS samples into minutes with this interval.
        evaluationInterval: `${EVALUATION_INTERVAL_SECONDS}s`,
        retention: config.retention.metrics.local,
        retentionSize: retentionSize(storageSize),
        storageSpec: pvc(storageSize, config.metrics.storageClass),
        resources: res.prometheus,
        // Pick up every monitor and rule in the cluster, not only this release's.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
        scrapeClasses: [{ name: "observability", default: true, metricRelabelings: CLUSTER_LABEL_RELABELINGS }],
        enableFeatures: ["exemplar-storage"],
    };
    if (input.ship !== undefined) {
        prometheusSpec.remoteWrite = [input.ship.remoteWrite];
        prometheusSpec.secrets = [input.ship.identitySecret];
        prometheusSpec.additionalAlertManagerConfigs = [
            alertmanagerEndpoint(input.ship.alerts, input.ship.identitySecret),
        ];
    }
    if (isMain) {
        prometheusSpec.thanos = {
            objectStorageConfig: { existingSecret: { name: OBJSTORE_SECRET, key: OBJSTORE_KEY } },
            resources: res.thanosSidecar,
            ...(config.storage.kind === "filesystem"
                ? { volumeMounts: [{ name: OBJSTORE_CLAIM, mountPath: OBJSTORE_DIR }] }
                : {}),
        };
        if (config.storage.kind === "filesystem") {
            prometheusSpec.volumes = [objstoreVolume()];
        }
        const colocation = bucketColocation(config);
        if (colocation !== undefined) {
            prometheusSpec.podMetadata = { labels: colocation.labels };
            prometheusSpec.affinity = colocation.affinity;
        }
    }

    return {
        fullnameOverride: KPS_RELEASE,
        defaultRules: {
            create: true,
            rules: { etcd: etcd.length > 0, kubeProxy: config.talos.kubeProxy },
            // Each replaced by one of the stack's own rules (alerts/index.ts says why).
            disabled: Object.fromEntries(Object.keys(REPLACED_DEFAULT_ALERTS).map((alert) => [alert, true])),
        },
        // Grafana is the stack's own release; the chart still ships its dashboards for its sidecar,
        // with a `cluster` variable, into their own folder.
        grafana: {
            enabled: false,
            forceDeployDashboards: isMain,
            defaultDashboardsEnabled: true,
            defaultDashboardsTimezone: "utc",
            sidecar: {
                dashboards: {
                    label: DASHBOARD_LABEL.key,
                    labelValue: DASHBOARD_LABEL.value,
                    annotations: { [FOLDER_ANNOTATION]: FOLDERS.kubernetes },
                    multicluster: { global: { enabled: true }, etcd: { enabled: true } },
                },
            },
        },
        // Sub clusters send their alerts to main's Alertmanager.
        alertmanager: config.role === "main" ? alertmanagerValues(config) : { enabled: false },
        kubelet: { serviceMonitor: { resource: true, resourcePath: "/metrics/resource", cAdvisor: true } },
        // Talos runs these as static pods labelled like kubeadm's: the chart's selectors match once
        // the machine-config patch opens their metrics ports.
        kubeControllerManager: { enabled: true },
        kubeScheduler: { enabled: true },
        kubeEtcd: { enabled: etcd.length > 0, endpoints: etcd },
        kubeProxy: { enabled: config.talos.kubeProxy },
        prometheusOperator: {
            resources: res.prometheusOperator,
            // Chart v4 never runs Helm hooks, and the webhooks' certificate is made by hook Jobs
            // (P24): without them the operator waits forever for its Secret. Rules are checked by
            // the operator when it loads them instead (docs/decisions.md).
            admissionWebhooks: { enabled: false },
            tls: { enabled: false },
            // The reloader beside every Prometheus and Alertmanager; unset, the chart asks for none.
            prometheusConfigReloader: { resources: res.configReloader },
        },
        "kube-state-metrics": { resources: res.kubeStateMetrics, ...remediationAllowlists(config) },
        "prometheus-node-exporter": { namespaceOverride: input.agentsNamespace, resources: res.nodeExporter },
        prometheus: {
            thanosService: { enabled: isMain },
            prometheusSpec,
        },
    };
}

/**
 * The opt-in label and the opt-out annotation of scalable workloads, exported by
 * kube-state-metrics so the remediation rules can join on them; nothing else of theirs.
 */
export function remediationAllowlists(config: StackConfig) {
    const resources = ["deployments", "statefulsets"];
    return {
        metricLabelsAllowlist: resources.map((r) => `${r}=[${config.remediation.optInLabel.key}]`),
        metricAnnotationsAllowList: resources.map((r) => `${r}=[${OPT_OUT_ANNOTATION}]`),
    };
}

/** Main's Alertmanager: HA replicas, configuration and receiver credentials from the stack's Secrets. */
function alertmanagerValues(config: MainConfig) {
    const replicas = REPLICAS[config.profile].alertmanager;
    const credentials = config.alerting.receivers.some(receiverNeedsCredential);
    return {
        enabled: true,
        alertmanagerSpec: {
            replicas,
            resources: RESOURCES[config.profile].alertmanager,
            // The chart renders no configuration of its own; the operator reads ours (P11).
            useExistingSecret: true,
            configSecret: ALERTMANAGER_CONFIG_SECRET,
            ...(credentials ? { secrets: [RECEIVER_CREDENTIALS_SECRET] } : {}),
        },
        podDisruptionBudget: { enabled: replicas > 1, minAvailable: 1 },
    };
}

function objstoreVolume() {
    return { name: OBJSTORE_CLAIM, persistentVolumeClaim: { claimName: OBJSTORE_CLAIM } };
}

/**
 * Label and affinity of every pod that mounts the filesystem bucket: with a ReadWriteOnce
 * volume they must share a node, so each requires a node running a pod with the label (the
 * first one scheduled matches its own term and goes anywhere). Nothing with s3 or ReadWriteMany.
 */
export function bucketColocation(
    config: MainConfig,
): { labels: Record<string, string>; affinity: unknown } | undefined {
    if (config.storage.kind !== "filesystem" || config.storage.accessMode !== "ReadWriteOnce") return undefined;
    const labels = { [labelKeys.bucketVolume]: OBJSTORE_CLAIM };
    return {
        labels,
        affinity: {
            podAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                    { labelSelector: { matchLabels: labels }, topologyKey: "kubernetes.io/hostname" },
                ],
            },
        },
    };
}

/** The Thanos object storage configuration file for the stack's storage, credentials included. */
export function objstoreConfig(
    storage: Exclude<MainConfig["storage"], { kind: "filesystem" }> | { kind: "filesystem"; size?: string },
    credentials?: { accessKeyId: string; secretAccessKey: string },
): string {
    if (storage.kind === "filesystem") {
        return stringify({ type: "FILESYSTEM", config: { directory: OBJSTORE_DIR } });
    }
    if (credentials === undefined) throw new Error("S3 storage needs credentials");
    const url = new URL(storage.endpoint);
    return stringify({
        type: "S3",
        config: {
            bucket: storage.buckets.metrics,
            endpoint: url.host,
            region: storage.region,
            insecure: url.protocol === "http:",
            bucket_lookup_type: storage.forcePathStyle ? "path" : "auto",
            access_key: credentials.accessKeyId,
            secret_key: credentials.secretAccessKey,
        },
    });
}

export interface ThanosInput {
    config: MainConfig;
    /** Name of the `kubernetes.io/tls` Secret of the remote-write listener, and its revision. */
    receiveTls: { secretName: string; revision: string };
}

/** Compactor flags from the retention contract: how long each resolution is kept. */
export function compactorRetentionArgs(retention: MainConfig["retention"]["metrics"]): string[] {
    return [
        `--retention.resolution-raw=${retention.raw}`,
        `--retention.resolution-5m=${retention.fiveMinutes}`,
        `--retention.resolution-1h=${retention.oneHour}`,
    ];
}

/** Thanos (stevehipwell chart) values for main. */
export function thanosValues(input: ThanosInput): Record<string, unknown> {
    const { config, receiveTls } = input;
    const res = RESOURCES[config.profile];
    const replicas = REPLICAS[config.profile];
    const storageClass = config.storage.kind === "filesystem" ? (config.storage.storageClass ?? null) : null;
    const persistence = (size: string) => ({ enabled: true, size, storageClass });
    const colocation = bucketColocation(config);
    const shared =
        config.storage.kind === "filesystem"
            ? {
                  extraVolumes: [objstoreVolume()],
                  extraVolumeMounts: [{ name: OBJSTORE_CLAIM, mountPath: OBJSTORE_DIR }],
                  ...(colocation !== undefined ? { podLabels: colocation.labels, affinity: colocation.affinity } : {}),
              }
            : {};
    const tlsVolume = "remote-write-tls";
    const localHours = durationHours(config.retention.metrics.local);

    return {
        fullnameOverride: THANOS_RELEASE,
        objstoreConfig: { create: false, name: OBJSTORE_SECRET, key: OBJSTORE_KEY },
        // The main Prometheus, through its sidecar; Receive and the Store Gateway are found by the chart.
        additionalEndpoints: [
            `dnssrv+_grpc._tcp.${KPS_RELEASE}-thanos-discovery.${config.namespace}.svc.cluster.local`,
        ],
        // HA Prometheus pairs and replicated Receive ingestors write each sample more than once.
        additionalReplicaLabels: ["prometheus_replica", "receive_replica"],
        // Receive, compaction and store health, for the pipeline dashboard and the alerts.
        serviceMonitor: { enabled: true },
        query: { resources: res.thanosQuery },
        storeGateway: { resources: res.thanosStoreGateway, persistence: persistence("10Gi"), ...shared },
        compact: {
            enabled: true,
            resources: res.thanosCompactor,
            persistence: persistence("20Gi"),
            extraArgs: compactorRetentionArgs(config.retention.metrics),
            ...shared,
        },
        receive: {
            enabled: true,
            // Local TSDB blocks are kept this long after upload; queries older than that go to storage.
            retention: `${localHours}h`,
            replicationFactor: replicas.receiveIngestor >= 3 ? 3 : 1,
            ingestor: {
                replicas: replicas.receiveIngestor,
                resources: res.thanosReceiveIngestor,
                persistence: persistence("20Gi"),
                ...shared,
            },
            router: {
                resources: res.thanosReceiveRouter,
                // The remote-write port verifies client certificates; probes stay on the HTTP port.
                extraArgs: [
                    `--remote-write.server-tls-cert=${TLS_MOUNT_DIR}/tls.crt`,
                    `--remote-write.server-tls-key=${TLS_MOUNT_DIR}/tls.key`,
                    `--remote-write.server-tls-client-ca=${TLS_MOUNT_DIR}/ca.crt`,
                    "--remote-write.server-tls-min-version=1.3",
                    // The tenant is the client certificate's CN: the cluster name, not a header.
                    "--receive.tenant-certificate-field=commonName",
                ],
                extraVolumes: [{ name: tlsVolume, secret: { secretName: receiveTls.secretName } }],
                extraVolumeMounts: [{ name: tlsVolume, mountPath: TLS_MOUNT_DIR, readOnly: true }],
                // The client CA is read once at start: a new certificate rolls the router.
                podAnnotations: { [annotationKeys.certificateRevision]: receiveTls.revision },
            },
        },
        rule: {
            enabled: true,
            resources: res.thanosRuler,
            persistence: persistence("5Gi"),
            // Every Alertmanager replica, through the SRV record of the operator's governing Service
            // (its web port is named `http-web` by the chart).
            alertmanagersConfig: {
                create: true,
                value: stringify({
                    alertmanagers: [
                        {
                            scheme: "http",
                            api_version: "v2",
                            static_configs: [
                                `dnssrv+_http-web._tcp.alertmanager-operated.${config.namespace}.svc.cluster.local`,
                            ],
                        },
                    ],
                }),
            },
            // The fleet rules, generated with the rest of the stack (components/alerting.ts).
            rules: { create: false, name: FLEET_RULES_CONFIGMAP },
            // The chart's reloader sidecar cannot be hardened (no securityContext value): the
            // rules' digest rolls the Ruler instead when they change.
            configReloader: { enabled: false },
            podAnnotations: {
                [annotationKeys.configRevision]: createHash("sha256")
                    .update(fleetRulesFile(config))
                    .digest("hex")
                    .slice(0, 16),
            },
            ...shared,
        },
    };
}

/**
 * The Talos machine-config patch that opens the control plane's metrics to Prometheus, for
 * `talosctl patch mc --nodes <control-plane nodes> --patch @patch.yaml`. etcd's metrics URL is
 * plain HTTP without authentication: firewall port 2381 to the cluster's own nodes.
 */
export function talosMachineConfigPatch(talos: StackConfig["talos"]): string {
    const cluster: Record<string, unknown> = {
        controllerManager: { extraArgs: { "bind-address": "0.0.0.0" } },
        scheduler: { extraArgs: { "bind-address": "0.0.0.0" } },
        etcd: { extraArgs: { "listen-metrics-urls": "http://0.0.0.0:2381" } },
    };
    if (talos.kubeProxy) {
        cluster.proxy = { extraArgs: { "metrics-bind-address": "0.0.0.0:10249" } };
    }
    return stringify({ cluster });
}
