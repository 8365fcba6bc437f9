import type * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";

import { durationHours, receiverNeedsCredential, type MainConfig, type StackConfig } from "../../config";
import { OPT_OUT_ANNOTATION } from "../../remediator/keys";
import { ALERTMANAGER_CONFIG_SECRET, RECEIVER_CREDENTIALS_SECRET } from "../alerting/alertmanager-config";
import { EVALUATION_INTERVAL_SECONDS, REPLACED_DEFAULT_ALERTS } from "../alerting/rules";

import { annotationKeys, DASHBOARD_LABEL, FOLDER_ANNOTATION, FOLDERS, labelKeys } from "../core/labels";
import { mebibytes, PROMETHEUS_STORAGE, REPLICAS, RESOURCES } from "../core/resources";
import { inClusterEndpoint, inClusterNames, THANOS_STORE_NAME, type IngestEndpoint } from "../network/endpoints";
import { CLUSTER_IDENTITY_SECRET, tlsSecretName } from "../pki/profiles";
import { clientTlsFiles, TLS_MOUNT_DIR } from "../pki/tls-mount";
import type { RemoteWriteSpec } from "./remote-write";

/**
 * Helm values of the metrics bricks, as pure functions of the configuration: kube-prometheus-stack
 * on both roles, Thanos on main. Every key is checked against the pinned chart's defaults by
 * test/values-keys.test.ts; secrets only ever appear as Secret names.
 */

/** Release names, fixed so that Service names are known: `kps-alertmanager`, `thanos-query`... */
export const KPS_RELEASE = "kps";
export const THANOS_RELEASE = "thanos";
/** The Ruler's headless Service, which Query discovers it by, as the chart named it. */
export const RULER_HEADLESS_SERVICE = `${THANOS_RELEASE}-rule-headless`;
/** The external label that tells the Ruler's replicas apart, dropped from its alerts. */
export const RULER_REPLICA_LABEL = "rule_replica";

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
    /** Main: the fleet CA's revision, which rolls the Prometheus pods (their sidecar's client CA). */
    caRevision?: string;
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
            ...clientTlsFiles(dir),
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
        // Main's own alerts take the sub clusters' path: the alert ingest, with main's cluster
        // certificate, rather than the chart's plain in-cluster hop to Alertmanager.
        prometheusSpec.disableAlerting = true;
        prometheusSpec.secrets = [CLUSTER_IDENTITY_SECRET];
        prometheusSpec.additionalAlertManagerConfigs = [
            alertmanagerEndpoint(inClusterEndpoint("alerts", config.namespace), CLUSTER_IDENTITY_SECRET),
        ];
        const filesystem = config.storage.kind === "filesystem";
        const storeTls = storeServerTls();
        prometheusSpec.thanos = {
            objectStorageConfig: { existingSecret: { name: OBJSTORE_SECRET, key: OBJSTORE_KEY } },
            resources: res.thanosSidecar,
            // The sidecar's StoreAPI over mTLS like every other: the operator honours file paths
            // only (P5), mounted into the sidecar whole (it copies a mount's name and path only).
            grpcServerTlsConfig: {
                certFile: `${STORE_TLS_DIR}/tls.crt`,
                keyFile: `${STORE_TLS_DIR}/tls.key`,
                caFile: `${STORE_TLS_DIR}/ca.crt`,
            },
            volumeMounts: [
                ...(filesystem ? [{ name: OBJSTORE_CLAIM, mountPath: OBJSTORE_DIR }] : []),
                { name: storeTls.mount.name, mountPath: storeTls.mount.mountPath },
            ],
        };
        prometheusSpec.volumes = [...(filesystem ? [objstoreVolume()] : []), storeTls.volume];
        const colocation = bucketColocation(config);
        prometheusSpec.podMetadata = {
            ...(colocation !== undefined ? { labels: colocation.labels } : {}),
            annotations: { [annotationKeys.certificateRevision]: input.caRevision ?? "" },
        };
        if (colocation !== undefined) prometheusSpec.affinity = colocation.affinity;
    }

    return {
        fullnameOverride: KPS_RELEASE,
        defaultRules: {
            create: true,
            rules: { etcd: etcd.length > 0, kubeProxy: config.talos.kubeProxy },
            // Each replaced by one of the stack's own rules (components/alerting/rules/index.ts says why).
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
): { labels: Record<string, string>; affinity: k8s.types.input.core.v1.Affinity } | undefined {
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
    /**
     * Revision of the fleet CA: Thanos reloads its certificates when their files change, but
     * reads a client CA only at start, so a new CA rolls the pods.
     */
    caRevision: string;
}

/** Compactor flags from the retention contract: how long each resolution is kept. */
export function compactorRetentionArgs(retention: MainConfig["retention"]["metrics"]): string[] {
    return [
        `--retention.resolution-raw=${retention.raw}`,
        `--retention.resolution-5m=${retention.fiveMinutes}`,
        `--retention.resolution-1h=${retention.oneHour}`,
    ];
}

/** Where a Thanos brick mounts the StoreAPI server certificate (`thanos-store`). */
export const STORE_TLS_DIR = "/etc/observability/store-tls";
/** Where a Thanos brick mounts the client certificate it dials StoreAPIs with. */
export const STORE_CLIENT_TLS_DIR = "/etc/observability/store-client-tls";
const STORE_TLS_VOLUME = "store-tls";
const STORE_CLIENT_TLS_VOLUME = "store-client-tls";

/** The name every StoreAPI certificate carries, as clients verify it. */
export function storeServerName(namespace: string): string {
    return inClusterNames(THANOS_STORE_NAME, namespace)[2] as string;
}

/** gRPC server TLS of a StoreAPI: its certificate, and client certificates from the fleet CA required. */
export function storeServerArgs(dir: string = STORE_TLS_DIR): string[] {
    return [
        `--grpc-server-tls-cert=${dir}/tls.crt`,
        `--grpc-server-tls-key=${dir}/tls.key`,
        // A client CA makes the server require and verify client certificates.
        `--grpc-server-tls-client-ca=${dir}/ca.crt`,
        "--grpc-server-tls-min-version=1.3",
    ];
}

/** A Secret volume and its mount, read-only. */
function secretMount(volume: string, secretName: string, dir: string) {
    return {
        volume: { name: volume, secret: { secretName } },
        mount: { name: volume, mountPath: dir, readOnly: true },
    };
}

const storeServerTls = () =>
    secretMount(STORE_TLS_VOLUME, tlsSecretName({ profile: "thanos-store", kind: "server" }), STORE_TLS_DIR);

/** Thanos values for main: Query, Store Gateway, Compactor and Receive, every StoreAPI hop over mTLS. */
export function thanosValues(input: ThanosInput): Record<string, unknown> {
    const { config, receiveTls, caRevision } = input;
    const ns = config.namespace;
    const res = RESOURCES[config.profile];
    const replicas = REPLICAS[config.profile];
    const storageClass = config.storage.kind === "filesystem" ? (config.storage.storageClass ?? null) : null;
    const persistence = (size: string) => ({ enabled: true, size, storageClass });
    const colocation = bucketColocation(config);
    const bucket =
        config.storage.kind === "filesystem"
            ? {
                  volumes: [objstoreVolume()],
                  mounts: [{ name: OBJSTORE_CLAIM, mountPath: OBJSTORE_DIR }],
                  ...(colocation !== undefined ? { podLabels: colocation.labels, affinity: colocation.affinity } : {}),
              }
            : { volumes: [], mounts: [] };
    const { volumes: bucketVolumes, mounts: bucketMounts, ...placement } = bucket;
    const storeTls = storeServerTls();
    const rolls = { podAnnotations: { [annotationKeys.certificateRevision]: caRevision } };
    /** A StoreAPI component: the bucket when on a filesystem, its server certificate. */
    const store = (args: string[] = []) => ({
        extraArgs: [...storeServerArgs(), ...args],
        extraVolumes: [...bucketVolumes, storeTls.volume],
        extraVolumeMounts: [...bucketMounts, storeTls.mount],
        ...placement,
        ...rolls,
    });
    const queryClient = secretMount(
        STORE_CLIENT_TLS_VOLUME,
        tlsSecretName({ profile: "thanos-query", kind: "client" }),
        STORE_CLIENT_TLS_DIR,
    );
    const routerClient = secretMount(
        STORE_CLIENT_TLS_VOLUME,
        tlsSecretName({ profile: "thanos-router", kind: "client" }),
        STORE_CLIENT_TLS_DIR,
    );
    const remoteWriteVolume = "remote-write-tls";
    const localHours = durationHours(config.retention.metrics.local);
    // Receive's Cap'n Proto replication listener has no TLS: loopback only (writes go over gRPC).
    const capnproto = "--receive.capnproto-address=127.0.0.1:19391";

    return {
        fullnameOverride: THANOS_RELEASE,
        objstoreConfig: { create: false, name: OBJSTORE_SECRET, key: OBJSTORE_KEY },
        // The main Prometheus, through its sidecar, and the stack's own Ruler (components/metrics/thanos-ruler.ts);
        // Receive and the Store Gateway are found by the chart.
        additionalEndpoints: [
            `dnssrv+_grpc._tcp.${KPS_RELEASE}-thanos-discovery.${ns}.svc.cluster.local`,
            `dnssrv+_grpc._tcp.${RULER_HEADLESS_SERVICE}.${ns}.svc.cluster.local`,
        ],
        // HA Prometheus pairs, replicated Receive ingestors and Ruler replicas write each sample more than once.
        additionalReplicaLabels: ["prometheus_replica", "receive_replica", RULER_REPLICA_LABEL],
        // Receive, compaction and store health, for the pipeline dashboard and the alerts.
        serviceMonitor: { enabled: true },
        query: {
            resources: res.thanosQuery,
            // One client configuration for every store (Thanos applies it globally), verifying the
            // name every StoreAPI certificate carries: the stores are reached by IP.
            extraArgs: [
                "--grpc-client-tls-secure",
                `--grpc-client-tls-cert=${STORE_CLIENT_TLS_DIR}/tls.crt`,
                `--grpc-client-tls-key=${STORE_CLIENT_TLS_DIR}/tls.key`,
                `--grpc-client-tls-ca=${STORE_CLIENT_TLS_DIR}/ca.crt`,
                `--grpc-client-server-name=${storeServerName(ns)}`,
                // Query serves a StoreAPI too, which nothing dials: closed, and over mTLS all the same.
                ...storeServerArgs(),
            ],
            extraVolumes: [queryClient.volume, storeTls.volume],
            extraVolumeMounts: [queryClient.mount, storeTls.mount],
            ...rolls,
        },
        storeGateway: { resources: res.thanosStoreGateway, persistence: persistence("10Gi"), ...store() },
        compact: {
            enabled: true,
            resources: res.thanosCompactor,
            persistence: persistence("20Gi"),
            extraArgs: compactorRetentionArgs(config.retention.metrics),
            extraVolumes: bucketVolumes,
            extraVolumeMounts: bucketMounts,
            ...placement,
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
                ...store([
                    // Its own remote-write listener takes no plain writes: TLS with client
                    // certificates required, and nothing is let in by the NetworkPolicies.
                    `--remote-write.server-tls-cert=${STORE_TLS_DIR}/tls.crt`,
                    `--remote-write.server-tls-key=${STORE_TLS_DIR}/tls.key`,
                    `--remote-write.server-tls-client-ca=${STORE_TLS_DIR}/ca.crt`,
                    "--remote-write.server-tls-min-version=1.3",
                    capnproto,
                ]),
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
                    // Writes forwarded to the ingestors' gRPC port, over mTLS.
                    "--remote-write.client-tls-secure",
                    `--remote-write.client-tls-cert=${STORE_CLIENT_TLS_DIR}/tls.crt`,
                    `--remote-write.client-tls-key=${STORE_CLIENT_TLS_DIR}/tls.key`,
                    `--remote-write.client-tls-ca=${STORE_CLIENT_TLS_DIR}/ca.crt`,
                    `--remote-write.client-server-name=${storeServerName(ns)}`,
                    capnproto,
                    // Its own gRPC port takes writes for any tenant (WritableStoreAPI): mTLS there too.
                    ...storeServerArgs(),
                ],
                extraVolumes: [
                    { name: remoteWriteVolume, secret: { secretName: receiveTls.secretName } },
                    routerClient.volume,
                    storeTls.volume,
                ],
                extraVolumeMounts: [
                    { name: remoteWriteVolume, mountPath: TLS_MOUNT_DIR, readOnly: true },
                    routerClient.mount,
                    storeTls.mount,
                ],
                // The client CAs are read once at start: a new certificate rolls the router.
                podAnnotations: { [annotationKeys.certificateRevision]: receiveTls.revision },
            },
        },
        // The Ruler is the stack's own (components/metrics/thanos-ruler.ts): the chart's always dials Query
        // in plain HTTP and cannot take the client certificate of the query gateway.
        rule: { enabled: false },
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
