import { stringify } from "yaml";

import { durationHours, type MainConfig, type StackConfig } from "../../config";
import { annotationKeys } from "../core/labels";
import { REPLICAS, RESOURCES, TEMPO_DISTRIBUTED } from "../core/resources";
import { images } from "../core/versions";
import { bytesOf, OBJECT_STORAGE_SECRET } from "../logs/values";
import { inClusterEndpoint, inClusterNames, type IngestEndpoint } from "../network/endpoints";
import { clientTlsFiles, TLS_MOUNT_DIR } from "../pki/tls-mount";

/**
 * Traces: Tempo on main, one tenant per cluster, behind the trace ingest that verifies client
 * certificates and sets the tenant from them (components/network/mtls-front.ts); an OpenTelemetry
 * Collector gateway on every cluster, which applications and Traefik send to in-cluster and which
 * ships to main with the cluster's certificate through a persistent queue. Pure functions of the
 * configuration, tested as data.
 */

export const TEMPO_RELEASE = "tempo";
export const GATEWAY_RELEASE = "otel-gateway";

/** OTLP ports, the same on Tempo's receivers and on the gateway's. */
export const OTLP_PORTS = { grpc: 4317, http: 4318 } as const;
/** Tempo's HTTP port: API, metrics and probes, never behind client verification. */
export const TEMPO_HTTP_PORT = 3200;
/** The header Tempo reads the tenant from, on writes and reads (`a|b` reads several). */
export const TEMPO_TENANT_HEADER = "X-Scope-OrgID";
/** Where Tempo mounts its client identity (main's cluster certificate) for the metrics-generator. */
export const CLIENT_TLS_MOUNT_DIR = "/etc/observability/client-tls";
/** Where the gateway keeps its persistent sending queue, on a volume of its own per replica. */
export const QUEUE_DIR = "/var/lib/otelcol/queue";
/** Name of that volume's claim template (and of its mount). */
export const QUEUE_VOLUME = "queue";

/** Names of the gateway's components, shared by its configuration and the checks on it. */
export const GATEWAY_COMPONENTS = {
    receiver: "otlp",
    memoryLimiter: "memory_limiter",
    k8sAttributes: "k8s_attributes",
    cluster: "resource/cluster",
    batch: "batch",
    exporter: "otlp_grpc/tempo",
    queueStorage: "file_storage/queue",
    health: "health_check",
} as const;

// ---------------------------------------------------------------------------------------------
// Tempo

/**
 * Server TLS of an OTLP receiver. `client_ca_file`, not `ca_file`, is what makes the receiver
 * require and verify a client certificate (P6); both the certificate and the client CA are
 * re-read in place.
 */
export function receiverTls(dir: string = TLS_MOUNT_DIR) {
    return {
        cert_file: `${dir}/tls.crt`,
        key_file: `${dir}/tls.key`,
        client_ca_file: `${dir}/ca.crt`,
        client_ca_file_reload: true,
        reload_interval: "5m",
        min_version: "1.3",
    };
}

/**
 * The OTLP receiver of Tempo: gRPC only, client-verifying, reached by the trace ingest alone;
 * nothing else listens (P14). It would take any fleet certificate and any tenant header, so the
 * NetworkPolicy lets only the ingest's pods in.
 */
export function tempoReceivers() {
    return { otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${OTLP_PORTS.grpc}`, tls: receiverTls() } } } };
}

/** Span metrics and service graphs keep the cluster the gateway stamped on each span. */
export const GENERATOR_DIMENSIONS = ["cluster"] as const;

/**
 * The metrics-generator's remote-write to main's metrics store: the receive router in-cluster,
 * with main's own cluster certificate (the router verifies every writer).
 */
export function generatorRemoteWrite(namespace: string) {
    return {
        url: inClusterEndpoint("metrics", namespace).url,
        send_exemplars: true,
        tls_config: {
            ...clientTlsFiles(CLIENT_TLS_MOUNT_DIR),
            min_version: "TLS13",
        },
    };
}

/** The metrics-generator block of Tempo's configuration. */
function metricsGenerator(namespace: string, dataDir: string) {
    return {
        processor: {
            service_graphs: { dimensions: [...GENERATOR_DIMENSIONS], enable_client_server_prefix: true },
            span_metrics: { dimensions: [...GENERATOR_DIMENSIONS] },
        },
        storage: { path: `${dataDir}/generator/wal`, remote_write: [generatorRemoteWrite(namespace)] },
        traces_storage: { path: `${dataDir}/generator/traces` },
    };
}

/** Every tenant (each cluster) runs both processors of the metrics-generator. */
export const TEMPO_OVERRIDES = {
    defaults: { metrics_generator: { processors: ["service-graphs", "span-metrics"] } },
} as const;

/** Where Tempo keeps trace blocks: the object store of main, or the local volume. */
function traceBackend(config: MainConfig, dataDir: string) {
    const storage = config.storage;
    if (storage.kind === "s3") {
        const endpoint = new URL(storage.endpoint);
        return {
            backend: "s3",
            // Credentials come from the environment (AWS_* from a Secret), never from values.
            s3: {
                bucket: storage.buckets.traces,
                endpoint: endpoint.host,
                region: storage.region,
                forcepathstyle: storage.forcePathStyle,
                insecure: endpoint.protocol === "http:",
            },
        };
    }
    return { backend: "local", local: { path: `${dataDir}/traces` } };
}

/** Tempo's data directory, on the volume. */
const TEMPO_DATA_DIR = "/var/tempo";

/** Block retention from the retention contract, in hours. */
export function tempoRetention(config: MainConfig): string {
    return `${durationHours(config.retention.traces)}h`;
}

/**
 * The whole configuration file of monolithic Tempo, as data. One tenant per cluster: the trace
 * ingest sets it from the client certificate's CN, and spans without one are refused.
 */
export function tempoConfig(config: MainConfig): Record<string, unknown> {
    return {
        stream_over_http_enabled: true,
        // Gossip only with this release's members, should another Tempo share the network.
        memberlist: { cluster_label: `${TEMPO_RELEASE}.${config.namespace}` },
        multitenancy_enabled: true,
        usage_report: { reporting_enabled: false },
        server: { http_listen_port: TEMPO_HTTP_PORT },
        distributor: { receivers: tempoReceivers() },
        compactor: { compaction: { block_retention: tempoRetention(config) } },
        storage: { trace: { ...traceBackend(config, TEMPO_DATA_DIR), wal: { path: `${TEMPO_DATA_DIR}/wal` } } },
        metrics_generator: metricsGenerator(config.namespace, TEMPO_DATA_DIR),
        overrides: TEMPO_OVERRIDES,
    };
}

export interface TempoInput {
    config: MainConfig;
    /** The server certificate of Tempo's receiver (verified by the trace ingest) and its revision. */
    serverTls: { secretName: string; revision: string };
    /** Main's own cluster identity Secret (core namespace) and its revision. */
    identity: { secretName: string; revision: string };
}

/** Container security of every Tempo pod: the data lives on volumes, the root stays read-only. */
const RESTRICTED_CONTAINER = {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

function tlsVolumes(input: TempoInput) {
    return {
        volumes: [
            { name: "tempo-tls", secret: { secretName: input.serverTls.secretName } },
            { name: "client-tls", secret: { secretName: input.identity.secretName } },
        ],
        mounts: [
            { name: "tempo-tls", mountPath: TLS_MOUNT_DIR, readOnly: true },
            { name: "client-tls", mountPath: CLIENT_TLS_MOUNT_DIR, readOnly: true },
        ],
    };
}

/** The CA both certificates were issued by is read at start only: a new one rolls Tempo. */
const tempoAnnotations = (input: TempoInput) => ({
    [annotationKeys.certificateRevision]: `${input.serverTls.revision}.${input.identity.revision}`,
});

/** grafana-community `tempo` (monolithic) values, for the small and medium profiles. */
export function tempoValues(input: TempoInput): Record<string, unknown> {
    const { config } = input;
    const storage = config.storage;
    const tls = tlsVolumes(input);
    return {
        fullnameOverride: TEMPO_RELEASE,
        // The chart's own configuration template would keep the unauthenticated jaeger receivers
        // (P14: setting them to null breaks its Service template), so the file is ours, whole.
        config: stringify(tempoConfig(config)),
        tempo: {
            // Only shapes the Service's ports: jaeger's are left out, OTLP's kept. Each protocol
            // keeps an object, since the chart's port template reads `.endpoint` from it.
            receivers: {
                jaeger: {
                    protocols: Object.fromEntries(
                        ["grpc", "thrift_binary", "thrift_compact", "thrift_http"].map((p) => [p, { endpoint: null }]),
                    ),
                },
                // OTLP over HTTP is not received: its port closes too.
                otlp: { protocols: { ...tempoReceivers().otlp.protocols, http: { endpoint: null } } },
            },
            // Mounts the scratch directory the generator expects; its configuration is in `config`.
            metricsGenerator: { enabled: true },
            reportingEnabled: false,
            resources: RESOURCES[config.profile].tempo,
            securityContext: RESTRICTED_CONTAINER,
            extraEnvFrom: storage.kind === "s3" ? [{ secretRef: { name: OBJECT_STORAGE_SECRET } }] : [],
            extraVolumeMounts: tls.mounts,
        },
        extraVolumes: tls.volumes,
        // The write-ahead log (and the blocks, on filesystem storage) survive a restart.
        persistence: {
            enabled: true,
            size: storage.kind === "filesystem" ? storage.size : "10Gi",
            ...(storage.kind === "filesystem" && storage.storageClass !== undefined
                ? { storageClassName: storage.storageClass }
                : {}),
        },
        serviceMonitor: { enabled: true },
        podAnnotations: tempoAnnotations(input),
    };
}

/** tempo-distributed values, for the large profile: no Kafka, object storage required. */
export function tempoDistributedValues(input: TempoInput): Record<string, unknown> {
    const { config } = input;
    const res = RESOURCES[config.profile].tempo;
    const tls = tlsVolumes(input);
    const serverMount = tls.mounts.filter((m) => m.name === "tempo-tls");
    const clientMount = tls.mounts.filter((m) => m.name === "client-tls");
    const component = (replicas: number, extra: Record<string, unknown> = {}) => ({
        replicas,
        resources: res,
        podAnnotations: tempoAnnotations(input),
        ...extra,
    });
    const receiverConfig = { tls: receiverTls() };
    return {
        fullnameOverride: TEMPO_RELEASE,
        multitenancyEnabled: true,
        reportingEnabled: false,
        traces: { otlp: { grpc: { enabled: true, receiverConfig }, http: { enabled: false } } },
        global: {
            extraEnvFrom: [{ secretRef: { name: OBJECT_STORAGE_SECRET } }],
        },
        // Every component's container, as restricted as the monolith's.
        tempo: { securityContext: RESTRICTED_CONTAINER },
        // The query cache is sized for installs far larger than the profile; Tempo queries
        // the backend directly.
        memcached: { enabled: false },
        memcachedExporter: { enabled: false },
        // The chart writes the write-ahead log's place itself.
        storage: { trace: traceBackend(config, TEMPO_DATA_DIR) },
        overrides: TEMPO_OVERRIDES,
        distributor: component(TEMPO_DISTRIBUTED.distributor, {
            extraVolumes: tls.volumes.filter((v) => v.name === "tempo-tls"),
            extraVolumeMounts: serverMount,
        }),
        ingester: component(TEMPO_DISTRIBUTED.ingester),
        querier: component(TEMPO_DISTRIBUTED.querier),
        queryFrontend: component(TEMPO_DISTRIBUTED.queryFrontend),
        compactor: component(TEMPO_DISTRIBUTED.compactor, {
            config: { compaction: { block_retention: tempoRetention(config) } },
        }),
        metricsGenerator: component(TEMPO_DISTRIBUTED.metricsGenerator, {
            enabled: true,
            extraVolumes: tls.volumes.filter((v) => v.name === "client-tls"),
            extraVolumeMounts: clientMount,
            config: metricsGenerator(config.namespace, TEMPO_DATA_DIR),
        }),
    };
}

/** The Service of Tempo's OTLP receiver, which the trace ingest dials: the monolith, or the distributors. */
export function tempoReceiverService(config: Pick<StackConfig, "profile">): string {
    return config.profile === "large" ? `${TEMPO_RELEASE}-distributor` : TEMPO_RELEASE;
}

/** The Service answering Tempo's HTTP query API: the monolith, or the query frontend in large. */
export function tempoQueryService(config: Pick<StackConfig, "profile">): string {
    return config.profile === "large" ? `${TEMPO_RELEASE}-query-frontend` : TEMPO_RELEASE;
}

// ---------------------------------------------------------------------------------------------
// The gateway

/** What a span costs on average, encoded, for sizing the queue in time (an estimate, documented). */
export const SPAN_BYTES = 1024;
/**
 * Share of the queue volume the queue may fill: the store's own overhead and the compaction,
 * which copies the live data into a new file before it swaps, need the rest.
 */
export const QUEUE_FILL = 0.45;

/** The persistent queue's size in bytes (the `bytes` sizer) for a volume of `volume`. */
export function queueBytes(volume: string): number {
    return Math.floor(bytesOf(volume) * QUEUE_FILL);
}

/** How long a gateway replica can be cut from main before its queue is full, in hours. */
export function traceOutageHours(queueSizeBytes: number, spansPerSecond: number, bytesPerSpan = SPAN_BYTES): number {
    return queueSizeBytes / (spansPerSecond * bytesPerSpan) / 3600;
}

export interface GatewayInput {
    config: StackConfig;
    /** Where the gateway ships: Tempo's OTLP gRPC `host:port`, and the TLS name to verify. */
    tempo: IngestEndpoint;
    /** This cluster's identity Secret (core namespace) and its revision. */
    identity: { secretName: string; revision: string };
}

/** Resource attributes the gateway stamps on every span, whatever the sender said. */
export function clusterAttributes(clusterName: string) {
    return [
        { key: "k8s.cluster.name", value: clusterName, action: "upsert" },
        { key: "cluster", value: clusterName, action: "upsert" },
    ];
}

/** Pod metadata the gateway adds to spans, found by the sender's pod IP. */
export const K8S_METADATA = [
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.pod.uid",
    "k8s.node.name",
    "k8s.deployment.name",
    "k8s.statefulset.name",
    "k8s.daemonset.name",
    "k8s.job.name",
    "k8s.cronjob.name",
] as const;

/** The gateway's whole collector configuration, as data. */
export function gatewayConfig(input: GatewayInput): Record<string, unknown> {
    const c = GATEWAY_COMPONENTS;
    const podIp = "${env:MY_POD_IP}";
    return {
        extensions: {
            [c.health]: { endpoint: `${podIp}:13133` },
            [c.queueStorage]: {
                directory: QUEUE_DIR,
                create_directory: false,
                timeout: "10s",
                compaction: { on_start: true, on_rebound: true, directory: QUEUE_DIR },
            },
        },
        receivers: {
            // In-cluster senders (applications, Traefik) have no certificate: plain OTLP on the
            // pod network only; the hop to main is the one that carries mTLS.
            [c.receiver]: {
                protocols: {
                    grpc: { endpoint: `${podIp}:${OTLP_PORTS.grpc}` },
                    http: { endpoint: `${podIp}:${OTLP_PORTS.http}` },
                },
            },
        },
        processors: {
            // Refuses data (senders retry) before the container's memory limit is reached.
            [c.memoryLimiter]: { check_interval: "1s", limit_percentage: 80, spike_limit_percentage: 20 },
            [c.k8sAttributes]: {
                passthrough: false,
                pod_association: [
                    { sources: [{ from: "resource_attribute", name: "k8s.pod.ip" }] },
                    { sources: [{ from: "resource_attribute", name: "k8s.pod.uid" }] },
                    { sources: [{ from: "connection" }] },
                ],
                extract: { metadata: [...K8S_METADATA] },
            },
            [c.cluster]: { attributes: clusterAttributes(input.config.cluster.name) },
            [c.batch]: { send_batch_size: 512, send_batch_max_size: 1024, timeout: "5s" },
        },
        exporters: {
            [c.exporter]: {
                endpoint: input.tempo.url,
                tls: {
                    ...clientTlsFiles(),
                    server_name_override: input.tempo.serverName,
                    min_version: "1.3",
                    // A renewed client certificate is picked up without a restart.
                    reload_interval: "5m",
                },
                timeout: "30s",
                // On disk: what main has not acknowledged survives a link loss and a restart.
                sending_queue: {
                    enabled: true,
                    storage: c.queueStorage,
                    sizer: "bytes",
                    queue_size: queueBytes(input.config.traces.queueSize),
                    num_consumers: 4,
                    block_on_overflow: false,
                },
                // Never give up while the link is down: 0 means no deadline.
                retry_on_failure: { enabled: true, initial_interval: "5s", max_interval: "30s", max_elapsed_time: 0 },
            },
        },
        service: {
            extensions: [c.health, c.queueStorage],
            pipelines: {
                traces: {
                    receivers: [c.receiver],
                    processors: [c.memoryLimiter, c.k8sAttributes, c.cluster, c.batch],
                    exporters: [c.exporter],
                },
            },
            telemetry: {
                metrics: { readers: [{ pull: { exporter: { prometheus: { host: podIp, port: 8888 } } } }] },
            },
        },
    };
}

/** The chart's default receivers' ports, closed: only OTLP and the collector's metrics stay open. */
const CLOSED_PORTS = ["jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin"] as const;

/** opentelemetry-collector values: a StatefulSet, each replica with its queue volume. */
export function gatewayValues(input: GatewayInput): Record<string, unknown> {
    const { config } = input;
    return {
        fullnameOverride: GATEWAY_RELEASE,
        mode: "statefulset",
        image: { repository: images.otelCollector.repository, tag: images.otelCollector.tag },
        command: { name: images.otelCollector.command },
        replicaCount: REPLICAS[config.profile].traceGateway,
        // Used as the configuration file as it is, not merged with the chart's defaults (which
        // would bring jaeger, zipkin and a debug exporter back).
        alternateConfig: gatewayConfig(input),
        ports: {
            ...Object.fromEntries(CLOSED_PORTS.map((p) => [p, { enabled: false }])),
            metrics: { enabled: true },
        },
        // k8s_attributes reads pods, namespaces and replica sets (for the deployment name).
        clusterRole: {
            create: true,
            rules: [
                { apiGroups: [""], resources: ["pods", "namespaces"], verbs: ["get", "list", "watch"] },
                { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
            ],
        },
        resources: RESOURCES[config.profile].traceGateway,
        podSecurityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            // The queue volume is writable by the collector's user.
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
        },
        securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
        statefulset: {
            volumeClaimTemplates: [
                {
                    metadata: { name: QUEUE_VOLUME },
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        resources: { requests: { storage: config.traces.queueSize } },
                    },
                },
            ],
        },
        extraVolumes: [{ name: "cluster-identity", secret: { secretName: input.identity.secretName } }],
        extraVolumeMounts: [
            { name: "cluster-identity", mountPath: TLS_MOUNT_DIR, readOnly: true },
            { name: QUEUE_VOLUME, mountPath: QUEUE_DIR },
        ],
        serviceMonitor: { enabled: true },
        // The CA that verifies main is read at start (only the client certificate is reloaded):
        // a new identity, which a new CA brings, rolls the gateway. The queue is on its volume.
        podAnnotations: { [annotationKeys.certificateRevision]: input.identity.revision },
    };
}

/** The gateway's in-cluster OTLP endpoints, for applications and Traefik. */
export function gatewayEndpoints(namespace: string) {
    const host = inClusterNames(GATEWAY_RELEASE, namespace)[2] as string;
    return {
        grpc: `${host}:${OTLP_PORTS.grpc}`,
        http: `http://${host}:${OTLP_PORTS.http}`,
    };
}

// ---------------------------------------------------------------------------------------------
// Traefik and applications

/**
 * The Traefik chart values fragment this stack outputs (it does not deploy Traefik): traces to
 * the gateway, JSON access logs (which carry `trace_id` and `span_id` once tracing is on, so
 * Loki lines link to Tempo), Prometheus metrics with a ServiceMonitor.
 */
export function traefikValues(config: StackConfig): Record<string, unknown> {
    const name = config.cluster.name;
    return {
        tracing: {
            otlp: {
                enabled: true,
                grpc: { enabled: true, endpoint: gatewayEndpoints(config.namespace).grpc, insecure: true },
            },
            sampleRate: config.traces.traefik.sampleRate,
            serviceName: "traefik",
            resourceAttributes: { "k8s.cluster.name": name, cluster: name },
        },
        log: { format: "json" },
        accessLog: {
            enabled: true,
            format: "json",
            fields: { defaultMode: "keep", headers: { defaultMode: "drop" } },
        },
        metrics: { prometheus: { service: { enabled: true }, serviceMonitor: { enabled: true } } },
    };
}

/** Name of the Instrumentation resource, in the stack's namespace. */
export const INSTRUMENTATION_NAME = "observability";

/**
 * The OpenTelemetry Operator `Instrumentation` spec: every SDK the operator injects sends
 * OTLP/HTTP (its default for Java, Node.js, Python and Go) to the gateway.
 */
export function instrumentationSpec(config: StackConfig): Record<string, unknown> {
    return {
        exporter: { endpoint: gatewayEndpoints(config.namespace).http },
        propagators: ["tracecontext", "baggage"],
        sampler: { type: "parentbased_traceidratio", argument: String(config.traces.instrumentation.sampleRatio) },
        resource: { addK8sUIDAttributes: true },
    };
}

/** The annotation value that opts a pod in: `<namespace>/<name>` of the Instrumentation. */
export function instrumentationReference(namespace: string): string {
    return `${namespace}/${INSTRUMENTATION_NAME}`;
}
