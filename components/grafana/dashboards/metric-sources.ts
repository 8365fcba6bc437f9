import { METRICS } from "../../../remediator/metrics";
import { CERTIFICATE_EXPIRY_METRIC, CERTIFICATE_RENEWAL_METRIC } from "../../alerting/rules/certificates";
import { OPTED_IN_METRIC } from "../../alerting/rules/remediation";
import { REPORT_SERIES } from "../../alerting/rules/report";
import type { charts } from "../../core/versions";
import type { METRIC_CATALOG } from "./metric-catalog";

/**
 * Where each name of the metric catalog (metric-catalog.ts) comes from: the producer, the version
 * of it the name was checked at, and the upstream file that defines or emits the name at that
 * version. Rules, roll-ups, dashboards and report queries read these names; an exporter that
 * renames one silently empties them. test/metric-catalogue.test.ts fails for a name read without
 * an entry here, for an entry whose name left the catalog, and for a pin of components/core/versions.ts
 * (or a chart default, or a supported Kubernetes minor) that no longer matches the version a
 * producer was checked at: re-check that producer's names at the new version, then update it here.
 */

/** Where a producer's version is decided, in this repository, and the value it had when checked. */
export type Pin =
    /** `charts.<chart>.version` in components/core/versions.ts. */
    | { kind: "chart"; chart: keyof typeof charts; version: string }
    /** The tag of `images.<image>` in components/core/versions.ts. */
    | { kind: "image"; image: "thanos" | "otelCollector"; tag: string }
    /**
     * A value of the chart's default values at its pinned version (the stack does not override
     * it), as test/fixtures/chart-values/<chart>-<version>.json holds it.
     */
    | { kind: "chart default"; chart: keyof typeof charts; path: string; value: string }
    /** A subchart of kube-prometheus-stack, as test/fixtures/chart-values names its default values. */
    | { kind: "subchart"; chart: string; version: string }
    /** The Kubernetes minors the desired state is checked against (package.json `kubernetes-models-<minor>`). */
    | { kind: "kubernetes"; minors: readonly string[] };

/** A program whose metrics the stack reads. */
export interface Producer {
    name: string;
    /** Every pin its version follows; a change to any of them means its names must be re-checked. */
    follows: readonly Pin[];
    /** The upstream version (or versions) its names were checked at, as the sources' tags spell it. */
    checked: string;
    /** How `checked` follows from the pins. */
    derivation: string;
    /** How names in its source become the names Prometheus stores, when they differ. */
    naming?: string;
}

const KPS = { kind: "chart", chart: "kubePrometheusStack", version: "88.5.3" } as const;
const KUBERNETES = { kind: "kubernetes", minors: ["1.33", "1.34"] } as const;

/** Every producer of a catalogued name. */
export const PRODUCERS = {
    prometheus: {
        name: "Prometheus",
        follows: [
            KPS,
            {
                kind: "chart default",
                chart: "kubePrometheusStack",
                path: "prometheus.prometheusSpec.image.tag",
                value: "v3.14.0-distroless",
            },
        ],
        checked: "v3.14.0",
        derivation: "the image tag kube-prometheus-stack 88.5.3 sets by default (`v3.14.0-distroless`)",
    },
    thanos: {
        name: "Thanos",
        follows: [
            { kind: "image", image: "thanos", tag: "v0.42.4" },
            { kind: "chart", chart: "thanos", version: "1.24.1" },
            {
                kind: "chart default",
                chart: "kubePrometheusStack",
                path: "prometheusOperator.thanosImage.tag",
                value: "v0.42.4",
            },
        ],
        checked: "v0.42.4",
        derivation:
            "the Ruler runs `images.thanos`; Receive, Store Gateway, Compactor and Query the thanos chart 1.24.1 " +
            "at its appVersion 0.42.4; the sidecar the tag kube-prometheus-stack gives the operator",
    },
    kubeStateMetrics: {
        name: "kube-state-metrics",
        follows: [KPS, { kind: "subchart", chart: "kube-state-metrics", version: "8.4.0" }],
        checked: "v2.20.0",
        derivation: "appVersion of the kube-state-metrics 8.4.0 subchart of kube-prometheus-stack 88.5.3",
    },
    nodeExporter: {
        name: "node-exporter",
        follows: [KPS, { kind: "subchart", chart: "prometheus-node-exporter", version: "4.56.1" }],
        checked: "v1.12.1",
        derivation: "appVersion of the prometheus-node-exporter 4.56.1 subchart of kube-prometheus-stack 88.5.3",
    },
    kubePrometheusStackRules: {
        name: "kube-prometheus-stack default recording rules",
        follows: [KPS],
        checked: "kube-prometheus-stack-88.5.3",
        derivation: "the chart's own rule templates (`defaultRules.create: true`)",
    },
    apiserver: {
        name: "Kubernetes API server",
        follows: [KUBERNETES],
        checked: "kubernetes-1.33.0 and kubernetes-1.34.0",
        derivation: "the Kubernetes minors the stack supports, read in the staging repository k8s.io/apiserver",
    },
    kubelet: {
        name: "kubelet",
        follows: [KUBERNETES],
        checked: "v1.33 and v1.34",
        derivation: "the Kubernetes minors the stack supports",
    },
    cadvisor: {
        name: "cAdvisor (the kubelet's /metrics/cadvisor)",
        follows: [KUBERNETES],
        checked: "v0.52.1",
        derivation: "github.com/google/cadvisor as the go.mod of Kubernetes 1.33 and 1.34 requires it",
    },
    etcd: {
        name: "etcd (a Talos service)",
        follows: [KUBERNETES],
        checked: "v3.6.4 to v3.6.12",
        derivation:
            "Talos 1.11 to 1.13, the releases that run Kubernetes 1.33 and 1.34, default to etcd v3.6.4 (v1.11.0) " +
            "up to v3.6.12 (v1.13.9) (github.com/siderolabs/talos: pkg/machinery/constants/constants.go, " +
            "`DefaultEtcdVersion`); names read at v3.6.12, the same files define them at v3.6.4 and v3.6.5",
    },
    loki: {
        name: "Loki",
        follows: [{ kind: "chart", chart: "loki", version: "18.11.0" }],
        checked: "v3.7.6",
        derivation: "appVersion of the loki chart 18.11.0 (the stack sets no image tag)",
    },
    tempo: {
        name: "Tempo (and its metrics-generator)",
        follows: [
            { kind: "chart", chart: "tempo", version: "2.2.4" },
            { kind: "chart", chart: "tempoDistributed", version: "2.26.2" },
        ],
        checked: "v2.10.8 and v2.10.7",
        derivation: "appVersions of the tempo chart 2.2.4 (2.10.8) and the tempo-distributed chart 2.26.2 (2.10.7)",
        naming:
            "span metrics and service graphs are written by the metrics-generator in its default classic " +
            "histogram mode (modules/generator/registry/interface.go), so histograms arrive as `_bucket`, `_sum`, `_count`",
    },
    otelCollector: {
        name: "OpenTelemetry Collector (trace gateway)",
        follows: [{ kind: "image", image: "otelCollector", tag: "0.158.0" }],
        checked: "v0.158.0",
        derivation: "the image tag the gateway runs (components/traces/values.ts sets it over the chart's)",
        naming:
            "instrument names are kept as written, without `_total` on counters and without unit suffixes: " +
            "the gateway's `service.telemetry.metrics.readers` (components/traces/values.ts) is a pull/prometheus " +
            "reader with only host and port, and the collector fills `without_units` and `without_type_suffix` " +
            "with true for an explicit reader (service/telemetry/otelconftelemetry/internal/migration/v0.3.0.go, " +
            "`applyPrometheusDefaults`); otelconf v0.24.0 (required by service/go.mod) then selects the `NoTranslation` strategy " +
            "(github.com/open-telemetry/opentelemetry-go-contrib@otelconf/v0.24.0: otelconf/v0.3.0/metric.go), for " +
            "which go.opentelemetry.io/otel/exporters/prometheus v0.66.0 adds neither suffix " +
            "(github.com/open-telemetry/opentelemetry-go@exporters/prometheus/v0.66.0: exporters/prometheus/config.go)",
    },
    vector: {
        name: "Vector (log agents)",
        follows: [{ kind: "chart", chart: "vector", version: "0.56.0" }],
        checked: "v0.56.0",
        derivation: "appVersion `0.56.0-distroless-libc` of the vector chart 0.56.0",
        naming:
            "the `internal_metrics` source names each metric in the `vector` namespace (src/sources/internal_metrics.rs) " +
            "and the `prometheus_exporter` sink exposes `<namespace>_<name>` as is (src/sinks/prometheus/collector.rs)",
    },
    stack: {
        name: "this stack",
        follows: [],
        checked: "this repository",
        derivation: "defined by the stack's own code, in the file each entry names",
    },
} as const satisfies Record<string, Producer>;

export type ProducerId = keyof typeof PRODUCERS;

/** Pins of components/core/versions.ts no producer follows, and why. */
export const UNFOLLOWED_PINS: Readonly<Record<string, string>> = {
    "charts.grafana": "Grafana's own metrics are read by no rule, dashboard or report",
    "charts.opentelemetryCollector": "the gateway runs `images.otelCollector`, set over the chart's image",
    "charts.traefik": "not deployed",
    "images.nginxUnprivileged": "the nginx fronts expose no metrics the stack reads",
    "images.node": "the remediator's metrics are the stack's own (remediator/metrics.ts)",
};

/** An upstream file, at a tag (or commit), that defines or emits a name. */
export interface UpstreamFile {
    /** `github.com/<owner>/<name>`. */
    repo: string;
    /** Tag, or commit where the producer pins a module by pseudo-version. */
    ref: string;
    path: string;
}

/** Where one catalogued name comes from. */
export type MetricSource =
    | {
          producer: Exclude<ProducerId, "stack">;
          /** The producer's `checked` version this entry was verified at. */
          checked: string;
          source: UpstreamFile;
          /** How the exposed name differs from the source's spelling, when it does. */
          note?: string;
      }
    | {
          producer: "stack";
          checked: "this repository";
          /** A recording rule of the stack, or a family of an exposition the stack serves itself. */
          kind: "recording rule" | "exposition";
          /** The file of this repository that defines the name. */
          path: string;
      };

/** Entries of one upstream repository at one ref, for one producer. */
function upstream(producer: Exclude<ProducerId, "stack">, repo: string, ref: string) {
    const checked = PRODUCERS[producer].checked;
    return (path: string, note?: string): MetricSource => ({
        producer,
        checked,
        source: { repo: `github.com/${repo}`, ref, path },
        ...(note !== undefined ? { note } : {}),
    });
}

const ours = (kind: "recording rule" | "exposition", path: string): MetricSource => ({
    producer: "stack",
    checked: "this repository",
    kind,
    path,
});

const HISTOGRAM = "a classic histogram: the source names the family, Prometheus stores its `_bucket`, `_sum`, `_count`";

const prometheus = upstream("prometheus", "prometheus/prometheus", "v3.14.0");
const REMOTE = "storage/remote/queue_manager.go";
const REMOTE_NAME = "namespace `prometheus` and subsystem `remote_storage` (storage/remote/storage.go)";
const NOTIFIER = "namespace `prometheus`, subsystem `notifications` (notifier/manager.go)";
const thanos = upstream("thanos", "thanos-io/thanos", "v0.42.4");
const objstore = upstream("thanos", "thanos-io/objstore", "71d60dfee488");
const OBJSTORE =
    "github.com/thanos-io/objstore v0.0.0-20250804093838-71d60dfee488 (Thanos' go.mod) registers `objstore_*`; " +
    "every Thanos component wraps its registerer with the prefix `thanos_` (cmd/thanos/receive.go, store.go, " +
    "compact.go, rule.go, sidecar.go: `objstore.WrapWithMetrics`)";
const ksm = upstream("kubeStateMetrics", "kubernetes/kube-state-metrics", "v2.20.0");
const nodeExporter = upstream("nodeExporter", "prometheus/node_exporter", "v1.12.1");
const MEMINFO =
    "collector/meminfo.go prefixes the /proc/meminfo keys of collector/meminfo_linux.go with `node_memory_`";
const cadvisor = upstream("cadvisor", "google/cadvisor", "v0.52.1");
const kubelet = upstream("kubelet", "kubernetes/kubernetes", "v1.34.0");
const VOLUME_STATS =
    "subsystem `kubelet` and the key constants of pkg/kubelet/metrics/metrics.go (`VolumeStats*BytesKey`); same in 1.33";
const apiserver = upstream("apiserver", "kubernetes/apiserver", "kubernetes-1.34.0");
const APISERVER =
    "subsystem `apiserver`; same file at kubernetes-1.33.0 (in-tree: staging/src/k8s.io/apiserver/pkg/endpoints/metrics/metrics.go)";
const etcd = upstream("etcd", "etcd-io/etcd", "v3.6.12");
const loki = upstream("loki", "grafana/loki", "v3.7.6");
const LOKI_NAMESPACE = "namespace `loki` (pkg/util/constants/metrics_namespace.go)";
const LOKI_SERVER =
    "the vendored dskit HTTP server's `request_duration_seconds` in the server's metrics namespace, which " +
    "pkg/loki/loki.go sets to `loki`; classic buckets (`instrument.DefBuckets`)";
const tempo = upstream("tempo", "grafana/tempo", "v2.10.8");
const TEMPO_RECEIVER =
    "a client_golang counter Tempo names itself (no `_total`), counting what the vendored collector receiverhelper " +
    "v0.150.0 records as `otelcol_receiver_*_spans`; same file at v2.10.7";
const collector = upstream("otelCollector", "open-telemetry/opentelemetry-collector", "v0.158.0");
const EXPORTER_HELPER = "exporter/exporterhelper/internal/metadata/generated_telemetry.go";
const vector = upstream("vector", "vectordotdev/vector", "v0.56.0");
const VECTOR_NAMES = "lib/vector-common/src/internal_event/metric_name.rs";
const kpsRules = upstream(
    "kubePrometheusStackRules",
    "prometheus-community/helm-charts",
    "kube-prometheus-stack-88.5.3",
);

/** Every catalogued name, with where it comes from. */
export const METRIC_SOURCES: Readonly<Record<string, MetricSource>> = {
    // Prometheus
    up: prometheus("scrape/scrape.go", "written by the scrape loop for every target (`scrapeHealthMetric`)"),
    scrape_samples_post_metric_relabeling: prometheus(
        "scrape/scrape.go",
        "written by the scrape loop for every target",
    ),
    ALERTS: prometheus(
        "rules/alerting.go",
        "`alertMetricName`; Thanos Ruler writes it too, through prometheus/prometheus v0.309.1 (v3.9.1)",
    ),
    ALERTS_FOR_STATE: prometheus("rules/alerting.go", "`alertForStateMetricName`"),
    prometheus_remote_storage_samples_failed_total: prometheus(REMOTE, REMOTE_NAME),
    prometheus_remote_storage_samples_retried_total: prometheus(REMOTE, REMOTE_NAME),
    prometheus_remote_storage_samples_dropped_total: prometheus(REMOTE, REMOTE_NAME),
    prometheus_remote_storage_samples_pending: prometheus(REMOTE, REMOTE_NAME),
    prometheus_remote_storage_queue_highest_timestamp_seconds: prometheus(REMOTE, REMOTE_NAME),
    prometheus_remote_storage_queue_highest_sent_timestamp_seconds: prometheus(REMOTE, REMOTE_NAME),
    prometheus_rule_evaluation_failures_total: prometheus(
        "rules/group.go",
        "namespace `prometheus`; Thanos Ruler exposes it too (prometheus/prometheus v0.309.1, same file at v3.9.1), " +
            "with a `strategy` label its pkg/rules/manager.go adds",
    ),
    prometheus_rule_group_interval_seconds: prometheus(
        "rules/group.go",
        "namespace `prometheus`; Thanos Ruler exposes it too (prometheus/prometheus v0.309.1, same file at v3.9.1)",
    ),
    prometheus_config_last_reload_successful: prometheus("cmd/prometheus/main.go"),
    prometheus_tsdb_head_series: prometheus("tsdb/head.go"),
    prometheus_tsdb_lowest_timestamp_seconds: prometheus("cmd/prometheus/main.go"),
    prometheus_tsdb_size_retentions_total: prometheus("tsdb/db.go"),
    prometheus_tsdb_time_retentions_total: prometheus("tsdb/db.go"),
    prometheus_tsdb_storage_blocks_bytes: prometheus("tsdb/db.go"),
    prometheus_tsdb_compactions_failed_total: prometheus("tsdb/db.go"),
    prometheus_notifications_errors_total: prometheus("notifier/metric.go", NOTIFIER),
    prometheus_notifications_sent_total: prometheus("notifier/metric.go", NOTIFIER),
    prometheus_notifications_alertmanagers_discovered: prometheus("notifier/metric.go"),

    // kube-state-metrics
    kube_node_status_condition: ksm("internal/store/node.go"),
    kube_node_info: ksm("internal/store/node.go"),
    kube_node_status_allocatable: ksm("internal/store/node.go"),
    kube_node_role: ksm("internal/store/node.go"),
    kube_pod_container_status_waiting_reason: ksm("internal/store/pod.go"),
    kube_pod_container_status_restarts_total: ksm("internal/store/pod.go"),
    kube_pod_container_status_last_terminated_reason: ksm("internal/store/pod.go"),
    kube_pod_status_phase: ksm("internal/store/pod.go"),
    kube_pod_status_ready: ksm("internal/store/pod.go"),
    kube_pod_container_resource_limits: ksm("internal/store/pod.go"),
    kube_pod_container_resource_requests: ksm("internal/store/pod.go"),
    kube_cronjob_status_last_schedule_time: ksm("internal/store/cronjob.go"),
    kube_cronjob_status_last_successful_time: ksm("internal/store/cronjob.go"),
    kube_job_status_failed: ksm("internal/store/job.go"),
    kube_deployment_labels: ksm(
        "internal/store/deployment.go",
        "carries only the labels `--metric-labels-allowlist` allows",
    ),
    kube_deployment_annotations: ksm(
        "internal/store/deployment.go",
        "carries only the annotations `--metric-annotations-allowlist` allows",
    ),
    kube_deployment_spec_replicas: ksm("internal/store/deployment.go"),
    kube_deployment_status_replicas_ready: ksm("internal/store/deployment.go"),
    kube_statefulset_labels: ksm(
        "internal/store/statefulset.go",
        "carries only the labels `--metric-labels-allowlist` allows",
    ),
    kube_statefulset_annotations: ksm(
        "internal/store/statefulset.go",
        "carries only the annotations `--metric-annotations-allowlist` allows",
    ),
    kube_statefulset_replicas: ksm("internal/store/statefulset.go"),
    kube_statefulset_status_replicas_ready: ksm("internal/store/statefulset.go"),
    kube_daemonset_status_desired_number_scheduled: ksm("internal/store/daemonset.go"),
    kube_daemonset_status_number_ready: ksm("internal/store/daemonset.go"),
    kube_persistentvolumeclaim_status_phase: ksm("internal/store/persistentvolumeclaim.go"),

    // The kubelet and its cAdvisor endpoint
    container_cpu_usage_seconds_total: cadvisor("metrics/prometheus.go"),
    container_memory_working_set_bytes: cadvisor("metrics/prometheus.go"),
    kubelet_volume_stats_used_bytes: kubelet("pkg/kubelet/metrics/collectors/volume_stats.go", VOLUME_STATS),
    kubelet_volume_stats_capacity_bytes: kubelet("pkg/kubelet/metrics/collectors/volume_stats.go", VOLUME_STATS),

    // node-exporter
    node_load1: nodeExporter("collector/loadavg.go"),
    node_memory_MemAvailable_bytes: nodeExporter("collector/meminfo_linux.go", MEMINFO),
    node_memory_MemTotal_bytes: nodeExporter("collector/meminfo_linux.go", MEMINFO),
    node_filesystem_avail_bytes: nodeExporter("collector/filesystem_common.go"),
    node_filesystem_size_bytes: nodeExporter("collector/filesystem_common.go"),
    node_timex_offset_seconds: nodeExporter("collector/timex.go"),
    node_cpu_seconds_total: nodeExporter("collector/cpu_common.go"),

    // The control plane
    apiserver_request_total: apiserver("pkg/endpoints/metrics/metrics.go", APISERVER),
    apiserver_request_duration_seconds_bucket: apiserver(
        "pkg/endpoints/metrics/metrics.go",
        `${APISERVER}; ${HISTOGRAM}`,
    ),
    etcd_server_has_leader: etcd("server/etcdserver/metrics.go"),
    etcd_server_leader_changes_seen_total: etcd("server/etcdserver/metrics.go"),
    etcd_mvcc_db_total_size_in_bytes: etcd("server/storage/mvcc/metrics.go"),
    etcd_disk_wal_fsync_duration_seconds_bucket: etcd("server/storage/wal/metrics.go", HISTOGRAM),
    etcd_disk_backend_commit_duration_seconds_bucket: etcd("server/storage/backend/metrics.go", HISTOGRAM),

    // Thanos
    http_requests_total: thanos(
        "pkg/extprom/http/metrics.go",
        "Receive instruments its handler `receive` with a tenant label (pkg/receive/handler.go)",
    ),
    thanos_receive_replications_total: thanos("pkg/receive/handler.go"),
    thanos_compact_halted: thanos("cmd/thanos/compact.go"),
    thanos_compact_iterations_total: thanos("cmd/thanos/compact.go"),
    thanos_compact_group_compactions_failures_total: thanos("pkg/compact/compact.go"),
    thanos_compact_todo_compactions: thanos(
        "pkg/compact/compact.go",
        "registered while `--compact.progress-interval` is above 0 (default 5m, cmd/thanos/compact.go)",
    ),
    thanos_objstore_bucket_operations_total: objstore("objstore.go", OBJSTORE),
    thanos_objstore_bucket_operation_failures_total: objstore("objstore.go", OBJSTORE),
    thanos_objstore_bucket_last_successful_upload_time: objstore("objstore.go", OBJSTORE),
    thanos_alert_sender_alerts_dropped_total: thanos("pkg/alert/alert.go"),
    thanos_alert_sender_errors_total: thanos("pkg/alert/alert.go"),
    thanos_rule_config_last_reload_successful: thanos("cmd/thanos/rule.go"),

    // Vector
    vector_buffer_size_bytes: vector(VECTOR_NAMES, "set by lib/vector-buffers/src/internal_events.rs"),
    vector_buffer_max_size_bytes: vector(VECTOR_NAMES, "set by lib/vector-buffers/src/internal_events.rs"),
    vector_buffer_discarded_events_total: vector(VECTOR_NAMES, "counted by lib/vector-buffers/src/internal_events.rs"),
    vector_component_errors_total: vector(VECTOR_NAMES),
    vector_component_sent_events_total: vector(VECTOR_NAMES),

    // Loki
    loki_distributor_lines_received_total: loki("pkg/loghttp/push/push.go", LOKI_NAMESPACE),
    loki_distributor_bytes_received_total: loki("pkg/loghttp/push/push.go", LOKI_NAMESPACE),
    loki_discarded_samples_total: loki("pkg/validation/validate.go", LOKI_NAMESPACE),
    loki_request_duration_seconds_bucket: loki("vendor/github.com/grafana/dskit/server/metrics.go", LOKI_SERVER),
    loki_request_duration_seconds_count: loki("vendor/github.com/grafana/dskit/server/metrics.go", LOKI_SERVER),
    loki_compactor_apply_retention_last_successful_run_timestamp_seconds: loki(
        "pkg/compactor/metrics.go",
        "namespace `loki_compactor`",
    ),
    loki_compactor_apply_retention_operation_total: loki("pkg/compactor/metrics.go", "namespace `loki_compactor`"),

    // Tempo
    tempo_distributor_spans_received_total: tempo("modules/distributor/distributor.go"),
    tempo_receiver_accepted_spans: tempo("modules/distributor/receiver/metrics_provider.go", TEMPO_RECEIVER),
    tempo_receiver_refused_spans: tempo("modules/distributor/receiver/metrics_provider.go", TEMPO_RECEIVER),
    tempo_discarded_spans_total: tempo("modules/overrides/discarded_spans.go"),
    traces_spanmetrics_calls_total: tempo("modules/generator/processor/spanmetrics/spanmetrics.go"),
    traces_spanmetrics_latency_bucket: tempo(
        "modules/generator/processor/spanmetrics/spanmetrics.go",
        "family `traces_spanmetrics_latency`; modules/generator/registry/histogram.go writes `_bucket`",
    ),
    traces_service_graph_request_total: tempo("modules/generator/processor/servicegraphs/servicegraphs.go"),
    traces_service_graph_request_failed_total: tempo("modules/generator/processor/servicegraphs/servicegraphs.go"),
    traces_service_graph_request_server_seconds_bucket: tempo(
        "modules/generator/processor/servicegraphs/servicegraphs.go",
        "family `traces_service_graph_request_server_seconds`; modules/generator/registry/histogram.go writes `_bucket`",
    ),
    traces_service_graph_request_server_seconds_sum: tempo(
        "modules/generator/processor/servicegraphs/servicegraphs.go",
        "family `traces_service_graph_request_server_seconds`; modules/generator/registry/histogram.go writes `_sum`",
    ),
    tempodb_retention_errors_total: tempo("tempodb/tempodb.go"),
    tempodb_retention_deleted_total: tempo("tempodb/tempodb.go"),

    // The OpenTelemetry Collector gateway: instrument names as written (PRODUCERS.otelCollector.naming)
    otelcol_exporter_queue_size: collector(EXPORTER_HELPER, "a gauge with unit `{batch}`, exposed without it"),
    otelcol_exporter_queue_capacity: collector(EXPORTER_HELPER, "a gauge with unit `{batch}`, exposed without it"),
    otelcol_exporter_sent_spans: collector(EXPORTER_HELPER, "a counter: exposed without `_total`"),
    otelcol_exporter_send_failed_spans: collector(EXPORTER_HELPER, "a counter: exposed without `_total`"),
    otelcol_exporter_enqueue_failed_spans: collector(EXPORTER_HELPER, "a counter: exposed without `_total`"),
    otelcol_receiver_accepted_spans: collector(
        "receiver/receiverhelper/internal/metadata/generated_telemetry.go",
        "a counter: exposed without `_total`",
    ),
    otelcol_receiver_failed_spans: collector(
        "receiver/receiverhelper/internal/metadata/generated_telemetry.go",
        "a counter: exposed without `_total`; recorded on every request, but above 0 only with the alpha feature " +
            "gate `receiverhelper.newReceiverMetrics` on (receiver/receiverhelper/obsreport.go)",
    ),
    otelcol_receiver_refused_spans: collector(
        "receiver/receiverhelper/internal/metadata/generated_telemetry.go",
        "a counter: exposed without `_total`",
    ),

    // kube-prometheus-stack's recording rules
    "namespace_workload_pod:kube_pod_owner:relabel": kpsRules(
        "charts/kube-prometheus-stack/templates/prometheus/rules-1.14/k8s.rules.pod_owner.yaml",
        "gated by `defaultRules.rules.k8sPodOwner`, on by default and left on (components/metrics/values.ts)",
    ),

    // The stack's own
    [CERTIFICATE_EXPIRY_METRIC]: ours("recording rule", "components/alerting/rules/certificates.ts"),
    [CERTIFICATE_RENEWAL_METRIC]: ours("recording rule", "components/alerting/rules/certificates.ts"),
    [OPTED_IN_METRIC]: ours("recording rule", "components/alerting/rules/remediation.ts"),
    ...Object.fromEntries(
        Object.values(REPORT_SERIES).map((name) => [
            name,
            ours("recording rule", "components/alerting/rules/report.ts"),
        ]),
    ),
    [METRICS.lastPoll]: ours("exposition", "remediator/metrics.ts"),
    [METRICS.polls]: ours("exposition", "remediator/metrics.ts"),
    [METRICS.actions]: ours("exposition", "remediator/metrics.ts"),
};

/** The producers each group of the catalog may name. */
export const CATALOG_GROUP_PRODUCERS = {
    prometheus: ["prometheus"],
    kubeStateMetrics: ["kubeStateMetrics"],
    cadvisor: ["cadvisor"],
    kubelet: ["kubelet"],
    nodeExporter: ["nodeExporter"],
    controlPlane: ["apiserver", "etcd"],
    thanos: ["thanos"],
    vector: ["vector"],
    loki: ["loki"],
    tempo: ["tempo"],
    collector: ["otelCollector"],
    recorded: ["stack"],
    kpsRecorded: ["kubePrometheusStackRules"],
    remediator: ["stack"],
} as const satisfies Record<keyof typeof METRIC_CATALOG, readonly ProducerId[]>;
