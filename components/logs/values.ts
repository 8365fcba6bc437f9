import { stringify } from "yaml";

import { durationHours, type MainConfig, type StackConfig } from "../../config";
import { escapeValuesForTpl } from "../core/helm-tpl";
import { annotationKeys } from "../core/labels";
import { LOKI_DISTRIBUTED, RESOURCES } from "../core/resources";
import { images, imageTag } from "../core/versions";
import { identityMapsSnippet, tlsServerSnippet } from "../network/nginx-mtls";
import { TLS_MOUNT_DIR } from "../pki/tls-mount";

/**
 * Logs: Loki on main behind its nginx gateway, which verifies client certificates and sets the
 * tenant from them; Vector agents on every node of every cluster. Pure functions of the
 * configuration, tested as data.
 */

export const LOKI_RELEASE = "loki";
export const VECTOR_RELEASE = "vector";
/** Where the credentials Secret of main (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) is read by Loki. */
export const OBJECT_STORAGE_SECRET = "object-storage-credentials";

/** Ports of the node-local sockets the Talos push delivers to. */
export const TALOS_KERNEL_PORT = 6050;
export const TALOS_SERVICE_PORT = 6051;

// ---------------------------------------------------------------------------------------------
// The gateway: client certificates decide the tenant.

/** Loki read API paths a service identity (Grafana, the reporter) may call, under /loki/api/v1/. */
export const READ_PATHS = [
    "query",
    "query_range",
    "labels",
    "label/[^/]+/values",
    "series",
    "index/stats",
    "index/volume",
    "index/volume_range",
    "patterns",
    "detected_fields",
    "detected_field/[^/]+/values",
    "detected_labels",
    "format_query",
    "status/buildinfo",
    "tail",
] as const;

/**
 * nginx `http` block: who the client is and what it may do. A cluster certificate (OU=cluster)
 * may only push, as its own tenant, the CN; what it says in X-Scope-OrgID is ignored. A service
 * certificate (OU=service: Grafana, the reporter) may only read, the tenants it names. Everything
 * else (admin, delete, flush, legacy push paths) is refused: an allow-list, not a deny-list.
 */
export function gatewayHttpSnippet(): string {
    const reads = `(?:${READ_PATHS.join("|")})`;
    return [
        identityMapsSnippet(),
        'map $observability_ou $observability_tenant { default ""; cluster $observability_cn; service $http_x_scope_orgid; }',
        'map "$observability_ou $request_method $uri" $observability_allowed { default 0; ' +
            '"~^cluster POST /(?:loki/api/v1/push|otlp/v1/logs)$" 1; ' +
            `"~^service (?:GET|POST) /loki/api/v1/${reads}$" 1; }`,
    ].join("\n");
}

/** nginx `server` block: TLS with the gateway's certificate, client certificates required. */
export function gatewayServerSnippet(tlsDir: string = TLS_MOUNT_DIR): string {
    return tlsServerSnippet(tlsDir);
}

/** nginx `location` blocks: refuse what the identity may not do, then set the tenant. */
export function gatewayLocationSnippet(): string {
    return [
        'if ($observability_tenant = "") { return 403; }',
        "if ($observability_allowed = 0) { return 403; }",
        "proxy_set_header X-Scope-OrgID $observability_tenant;",
    ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Loki

export interface LokiInput {
    config: MainConfig;
    /** The gateway's server certificate Secret and its revision. */
    gatewayTls: { secretName: string; revision: string };
}

/** Loki (grafana-community chart) values for main. */
export function lokiValues(input: LokiInput): Record<string, unknown> {
    const { config, gatewayTls } = input;
    const res = RESOURCES[config.profile];
    const distributed = config.profile === "large";
    const storage = config.storage;
    const objectStore = storage.kind === "s3" ? "s3" : "filesystem";

    const lokiStorage =
        storage.kind === "s3"
            ? {
                  type: "s3",
                  // The chart reads these two; `admin` is for the enterprise edition.
                  bucketNames: { chunks: storage.buckets.logs, ruler: storage.buckets.logs },
                  // Credentials come from the environment (AWS_* from a Secret), never from values.
                  s3: {
                      endpoint: new URL(storage.endpoint).host,
                      region: storage.region,
                      s3ForcePathStyle: storage.forcePathStyle,
                      insecure: new URL(storage.endpoint).protocol === "http:",
                  },
              }
            : { type: "filesystem" };

    const values: Record<string, unknown> = {
        fullnameOverride: LOKI_RELEASE,
        deploymentMode: distributed ? "Distributed" : "Monolithic",
        loki: {
            auth_enabled: true,
            commonConfig: { replication_factor: distributed ? 3 : 1 },
            schemaConfig: {
                configs: [
                    {
                        from: "2024-04-01",
                        store: "tsdb",
                        object_store: objectStore,
                        schema: "v13",
                        index: { prefix: "loki_index_", period: "24h" },
                    },
                ],
            },
            storage: lokiStorage,
            // Retention applies only with the compactor's retention on and a delete-request store
            // (P8); the chart reads both from loki.compactor and loki.limits_config.
            compactor: { retention_enabled: true, delete_request_store: objectStore },
            limits_config: { retention_period: `${durationHours(config.retention.logs)}h` },
            // Grafana and the report read several clusters (tenants) in one query.
            querier: { multi_tenant_queries_enabled: true },
        },
        // Ingest rates, discards and latencies for the pipeline dashboard and the alerts.
        monitoring: { serviceMonitor: { enabled: true } },
        global: {
            extraEnvFrom: storage.kind === "s3" ? [{ secretRef: { name: OBJECT_STORAGE_SECRET } }] : [],
        },
        singleBinary: distributed
            ? { replicas: 0 }
            : {
                  replicas: 1,
                  resources: res.loki,
                  persistence: {
                      enabled: true,
                      size: storage.kind === "filesystem" ? storage.size : "10Gi",
                      storageClass: storage.kind === "filesystem" ? (storage.storageClass ?? null) : null,
                  },
              },
        gateway: {
            enabled: true,
            // The same nginx as the stack's own fronts, at a full version.
            image: { tag: imageTag(images.nginxUnprivileged) },
            resources: res.lokiGateway,
            service: { port: 8443 },
            nginxConfig: {
                ssl: true,
                httpSnippet: gatewayHttpSnippet(),
                serverSnippet: gatewayServerSnippet(),
                locationSnippet: gatewayLocationSnippet(),
            },
            extraVolumes: [{ name: "gateway-tls", secret: { secretName: gatewayTls.secretName } }],
            extraVolumeMounts: [{ name: "gateway-tls", mountPath: TLS_MOUNT_DIR, readOnly: true }],
            // Every request needs a client certificate: probe the port, not an HTTP path (P13).
            readinessProbe: { httpGet: null, tcpSocket: { port: "http" } },
            // The access-log exporter scrapes the gateway over plain HTTP (P13).
            metrics: { enabled: false },
            // nginx reads its certificates at start: a new certificate rolls the gateway.
            podAnnotations: { [annotationKeys.certificateRevision]: gatewayTls.revision },
        },
        // The simple scalable targets default to 3 replicas each; the chart refuses to render them
        // next to the monolithic or the distributed ones.
        read: { replicas: 0 },
        write: { replicas: 0 },
        backend: { replicas: 0 },
        // Deprecated bundled MinIO (P16); canary and chart tests talk to the gateway without a
        // certificate (P13).
        minio: { enabled: false },
        lokiCanary: { enabled: false },
        // No Loki rules: the sidecar that would load them from ConfigMaps stays out.
        sidecar: { rules: { enabled: false } },
        test: { enabled: false },
        // memcached sized for large installs by default; Loki's own caches do for these profiles.
        chunksCache: { enabled: false },
        resultsCache: { enabled: false },
    };
    if (distributed) {
        for (const [component, replicas] of Object.entries(LOKI_DISTRIBUTED)) {
            values[component] = { replicas, resources: res.loki };
        }
        // No Loki rules: the ruler the distributed mode adds by default stays out.
        values.ruler = { enabled: false };
    }
    return values;
}

// ---------------------------------------------------------------------------------------------
// The Talos field mapping, as data: the VRL generator emits it, the tests interpret it.

/** Talos JSON fields and the event fields they become. */
export const TALOS_FIELDS = {
    message: "msg",
    level: "talos-level",
    service: "talos-service",
    time: "talos-time",
} as const;

/** Every level a source may use, lowercased, to the five levels used as a label. */
export const LEVELS: Readonly<Record<string, string>> = {
    emerg: "error",
    alert: "error",
    crit: "error",
    critical: "error",
    fatal: "error",
    panic: "error",
    err: "error",
    error: "error",
    warning: "warn",
    warn: "warn",
    notice: "info",
    info: "info",
    informational: "info",
    debug: "debug",
    trace: "debug",
};
export const UNKNOWN_LEVEL = "unknown";

/** The `job` label of each kind of log line: Talos (services and kernel) or pods. */
export const LOG_JOBS = { talos: "talos", pods: "pods" } as const;

/** Loki labels: low cardinality only. Pod names, uids and trace ids stay in the line. */
export const LOKI_LABELS = ["cluster", "namespace", "node", "service", "level", "job"] as const;

function vrlString(value: string): string {
    return JSON.stringify(value);
}

/**
 * VRL setting `.level` from the first string among `candidates` (VRL paths), through
 * {@link LEVELS}; anything else becomes "unknown". Plain comparisons: VRL's `??` only catches
 * errors, not nulls, so each candidate is tested explicitly.
 */
function levelVrl(candidates: readonly string[]): string {
    const picks = candidates.map(
        (path, i) => `${i === 0 ? "if" : "} else if"} is_string(${path}) {\n    raw_level = downcase(string!(${path}))`,
    );
    const targets = [...new Set(Object.values(LEVELS))];
    const branches = targets.map((target, i) => {
        const sources = Object.entries(LEVELS)
            .filter(([, to]) => to === target)
            .map(([from]) => `raw_level == ${vrlString(from)}`)
            .join(" || ");
        return `${i === 0 ? "if" : "} else if"} ${sources} {\n    .level = ${vrlString(target)}`;
    });
    return ['raw_level = ""', ...picks, "}", ...branches, `} else {\n    .level = ${vrlString(UNKNOWN_LEVEL)}\n}`].join(
        "\n",
    );
}

/** VRL normalising a Talos event (push or file) into message, level, service, timestamp, node. */
export function talosVrl(defaultService: string | null): string {
    const f = TALOS_FIELDS;
    const field = (name: string) => `.${vrlString(name)}`;
    return [
        "# Lines read from a file are JSON text in .message; pushed lines are already fields.",
        'if is_string(.message) && starts_with(string!(.message), "{") {',
        "    parsed, err = parse_json(string!(.message))",
        "    if err == null && is_object(parsed) { . = merge(., object!(parsed)) }",
        "}",
        `if exists(${field(f.message)}) { .message = del(${field(f.message)}) }`,
        levelVrl([field(f.level)]),
        `del(${field(f.level)})`,
        `if exists(${field(f.service)}) { .service = del(${field(f.service)}) }`,
        defaultService !== null
            ? `if !exists(.service) { .service = ${vrlString(defaultService)} }`
            : [
                  "if !exists(.service) && is_string(.file) {",
                  "    name, err = parse_regex(string!(.file), r'/(?P<service>[^/]+)\\.log$')",
                  "    if err == null { .service = name.service }",
                  "}",
              ].join("\n"),
        `if is_string(${field(f.time)}) {`,
        `    ts, err = parse_timestamp(string!(${field(f.time)}), "%+")`,
        "    if err == null { .timestamp = ts }",
        "}",
        `del(${field(f.time)})`,
        'node, err = get_env_var("VECTOR_SELF_NODE_NAME")',
        '.node = if err == null { node } else { "unknown" }',
        `.job = ${vrlString(LOG_JOBS.talos)}`,
        '.namespace = "talos"',
    ].join("\n");
}

/** VRL normalising a pod log event: labels from Kubernetes metadata, level from a JSON line. */
export function podVrl(): string {
    return [
        ".namespace = .kubernetes.pod_namespace",
        ".node = .kubernetes.pod_node_name",
        '.service = .kubernetes.pod_labels."app.kubernetes.io/name"',
        "if is_null(.service) { .service = .kubernetes.container_name }",
        `.job = ${vrlString(LOG_JOBS.pods)}`,
        "line = {}",
        "if is_string(.message) {",
        "    parsed, err = parse_json(string!(.message))",
        "    if err == null && is_object(parsed) { line = object!(parsed) }",
        "}",
        levelVrl(POD_LEVEL_FIELDS.map((f) => `line.${f}`)),
        // The pod's identity stays in the line, out of the labels.
        ".pod = .kubernetes.pod_name",
        ".container = .kubernetes.container_name",
        "del(.kubernetes)",
        "del(.file)",
    ].join("\n");
}

/** Fields of a JSON pod log line that may carry its level, in order of preference. */
export const POD_LEVEL_FIELDS = ["level", "severity", "lvl"] as const;

// ---------------------------------------------------------------------------------------------
// Vector

export interface VectorInput {
    config: StackConfig;
    /** Where this cluster ships: `https://host:port` and the TLS name to verify. */
    lokiEndpoint: { url: string; serverName: string };
    /** The cluster identity Secret, and its revision (Vector does not reload TLS files). */
    identity: { secretName: string; revision: string };
}

const BINARY_BYTES: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** Bytes of a binary quantity (`1Gi`). */
export function bytesOf(quantity: string): number {
    const match = /^([0-9]+)(Ki|Mi|Gi|Ti)$/.exec(quantity);
    if (match === null) throw new Error(`expected a quantity like 1Gi, found ${quantity}`);
    return Number(match[1]) * (BINARY_BYTES[match[2] as string] as number);
}

/** Port of the agent's own metrics (Vector's default for its Prometheus exporter), on the node's network. */
export const VECTOR_METRICS_PORT = 9598;
/** The container port the chart derives from the exporter sink's name. */
export const VECTOR_METRICS_PORT_NAME = "prom-exporter";

/** Vector's smallest accepted disk buffer (256 MiB plus one record). */
export const MIN_DISK_BUFFER_BYTES = 268_435_488;

/** The agent's whole Vector configuration, as data. */
export function vectorConfig(input: VectorInput): Record<string, unknown> {
    const { config } = input;
    const push = config.logs.talosServiceLogs === "push";
    const sources: Record<string, unknown> = {
        pods: { type: "kubernetes_logs" },
        talos_kernel: {
            type: "socket",
            mode: "tcp",
            address: `127.0.0.1:${TALOS_KERNEL_PORT}`,
            decoding: { codec: "json" },
        },
        talos_services: push
            ? {
                  type: "socket",
                  mode: "tcp",
                  address: `127.0.0.1:${TALOS_SERVICE_PORT}`,
                  decoding: { codec: "json" },
              }
            : {
                  type: "file",
                  include: ["/var/log/*.log"],
                  // Kernel lines come structured by push; the text copy would duplicate them.
                  exclude: ["/var/log/kernel.log"],
                  read_from: "beginning",
              },
    };
    const bufferBytes = Math.max(bytesOf(config.logs.bufferSize), MIN_DISK_BUFFER_BYTES);
    const labels = Object.fromEntries(
        LOKI_LABELS.map((label) => [label, label === "cluster" ? config.cluster.name : `{{ ${label} }}`]),
    );
    return {
        data_dir: "/vector-data-dir",
        sources: {
            ...sources,
            // The agent's own health: buffer fill, errors and discards, for the pipeline dashboard.
            agent_metrics: { type: "internal_metrics" },
        },
        transforms: {
            talos_kernel_normalized: { type: "remap", inputs: ["talos_kernel"], source: talosVrl("kernel") },
            talos_services_normalized: { type: "remap", inputs: ["talos_services"], source: talosVrl(null) },
            pods_normalized: { type: "remap", inputs: ["pods"], source: podVrl() },
        },
        sinks: {
            main: {
                type: "loki",
                inputs: ["talos_kernel_normalized", "talos_services_normalized", "pods_normalized"],
                endpoint: input.lokiEndpoint.url,
                encoding: { codec: "json" },
                labels,
                remove_label_fields: true,
                out_of_order_action: "accept",
                // No tenant_id: the gateway takes the tenant from the client certificate.
                tls: {
                    ca_file: `${TLS_MOUNT_DIR}/ca.crt`,
                    crt_file: `${TLS_MOUNT_DIR}/tls.crt`,
                    key_file: `${TLS_MOUNT_DIR}/tls.key`,
                    verify_certificate: true,
                    verify_hostname: true,
                    server_name: input.lokiEndpoint.serverName,
                },
                buffer: { type: "disk", max_size: bufferBytes, when_full: "block" },
            },
            // The chart names the container port after the sink: `prom-exporter`.
            prom_exporter: {
                type: "prometheus_exporter",
                inputs: ["agent_metrics"],
                address: `0.0.0.0:${VECTOR_METRICS_PORT}`,
            },
        },
    };
}

/** Vector (role Agent) values: a DaemonSet in the privileged namespace. */
export function vectorValues(input: VectorInput): Record<string, unknown> {
    const res = RESOURCES[input.config.profile];
    return {
        fullnameOverride: VECTOR_RELEASE,
        role: "Agent",
        // The chart runs customConfig through Helm's tpl: Vector's own `{{ label }}` templates
        // must reach Vector as written (P23).
        customConfig: escapeValuesForTpl(vectorConfig(input)),
        // The Talos push goes to 127.0.0.1 of the node: the agent shares the node's network.
        podHostNetwork: true,
        dnsPolicy: "ClusterFirstWithHostNet",
        resources: res.vectorAgent,
        // Reads root-owned log files and writes its buffer on the node; nothing more.
        securityContext: {
            runAsUser: 0,
            runAsNonRoot: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
        extraVolumes: [{ name: "cluster-identity", secret: { secretName: input.identity.secretName } }],
        extraVolumeMounts: [{ name: "cluster-identity", mountPath: TLS_MOUNT_DIR, readOnly: true }],
        podAnnotations: {
            [annotationKeys.certificateRevision]: input.identity.revision,
            [annotationKeys.runsAsRoot]: "reads root-owned log files on the node",
        },
    };
}

/**
 * The Talos machine-config patch for log delivery to the node-local agent, for every node:
 * kernel logs always (KmsgLogConfig, applied without reboot), service logs when they come by
 * push. Plain TCP on 127.0.0.1 only: it never leaves the node.
 */
export function talosLoggingPatch(logs: StackConfig["logs"]): string {
    const documents: Record<string, unknown>[] = [];
    if (logs.talosServiceLogs === "push") {
        documents.push({
            machine: {
                logging: {
                    destinations: [{ endpoint: `tcp://127.0.0.1:${TALOS_SERVICE_PORT}/`, format: "json_lines" }],
                },
            },
        });
    }
    documents.push({
        apiVersion: "v1alpha1",
        kind: "KmsgLogConfig",
        name: "observability-kernel",
        url: `tcp://127.0.0.1:${TALOS_KERNEL_PORT}/`,
    });
    return documents.map((d) => stringify(d)).join("---\n");
}

/** What an event costs in Vector's disk buffer, relative to the raw line (metadata, encoding). */
export const BUFFER_OVERHEAD = 2;

/**
 * How long a node can be cut from main before its log agent's buffer is full, in hours, for a
 * given log rate. After that the agent stops reading: files keep their place until the kubelet
 * or Talos rotates them away, and the Talos push falls back on its 1 MiB ring per service.
 */
export function logOutageHours(bufferBytes: number, linesPerSecond: number, bytesPerLine: number): number {
    return bufferBytes / (linesPerSecond * bytesPerLine * BUFFER_OVERHEAD) / 3600;
}
