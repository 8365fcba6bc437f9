import { METRICS } from "../../../remediator/metrics";
import { CERTIFICATE_EXPIRY_METRIC, CERTIFICATE_RENEWAL_METRIC } from "../../alerting/rules/certificates";
import { OPTED_IN_METRIC } from "../../alerting/rules/remediation";
import { REPORT_SERIES } from "../../alerting/rules/report";

/**
 * Every metric name the stack's dashboards (and alert rules) may use: the ones its own bricks
 * and scrape configuration produce, by producer. A query naming anything else would show an
 * empty panel or a rule that never fires; the tests refuse it. Names are as exposed on each
 * brick's Prometheus endpoint at the pinned versions (histograms as their `_bucket` series).
 */
export const METRIC_CATALOG = {
    /** Prometheus itself, on every series it evaluates or scrapes. */
    prometheus: [
        "up",
        "ALERTS",
        "ALERTS_FOR_STATE",
        "prometheus_remote_storage_samples_failed_total",
        "prometheus_remote_storage_samples_retried_total",
        "prometheus_remote_storage_samples_dropped_total",
        "prometheus_remote_storage_samples_pending",
        "prometheus_remote_storage_queue_highest_timestamp_seconds",
        "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
        "prometheus_rule_evaluation_failures_total",
        "prometheus_config_last_reload_successful",
        "prometheus_tsdb_head_series",
        "prometheus_tsdb_lowest_timestamp_seconds",
        "prometheus_tsdb_size_retentions_total",
        "prometheus_tsdb_time_retentions_total",
        "prometheus_tsdb_storage_blocks_bytes",
        "prometheus_tsdb_compactions_failed_total",
        "prometheus_notifications_errors_total",
        "prometheus_notifications_sent_total",
        "prometheus_notifications_alertmanagers_discovered",
        "prometheus_rule_group_interval_seconds",
        "scrape_samples_post_metric_relabeling",
    ],
    /** kube-state-metrics. */
    kubeStateMetrics: [
        "kube_node_status_condition",
        "kube_node_info",
        "kube_pod_container_status_waiting_reason",
        "kube_cronjob_status_last_schedule_time",
        "kube_cronjob_status_last_successful_time",
        "kube_job_status_failed",
        "kube_pod_container_status_restarts_total",
        "kube_pod_container_status_last_terminated_reason",
        "kube_pod_status_phase",
        "kube_node_status_allocatable",
        "kube_node_role",
        "kube_pod_status_ready",
        "kube_pod_container_resource_limits",
        "kube_pod_container_resource_requests",
        // Only the labels and annotations the remediation settings allow (metricLabelsAllowlist).
        "kube_deployment_labels",
        "kube_deployment_annotations",
        "kube_statefulset_labels",
        "kube_statefulset_annotations",
        "kube_deployment_spec_replicas",
        "kube_deployment_status_replicas_ready",
        "kube_statefulset_replicas",
        "kube_statefulset_status_replicas_ready",
        "kube_daemonset_status_desired_number_scheduled",
        "kube_daemonset_status_number_ready",
        "kube_persistentvolumeclaim_status_phase",
    ],
    /** The kubelet's cAdvisor endpoint. */
    cadvisor: ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"],
    /** The kubelet's own endpoint: volume usage of mounted PersistentVolumeClaims. */
    kubelet: ["kubelet_volume_stats_used_bytes", "kubelet_volume_stats_capacity_bytes"],
    /** node-exporter on every node. */
    nodeExporter: [
        "node_load1",
        "node_memory_MemAvailable_bytes",
        "node_memory_MemTotal_bytes",
        "node_filesystem_avail_bytes",
        "node_filesystem_size_bytes",
        "node_timex_offset_seconds",
        "node_cpu_seconds_total",
    ],
    /** The Kubernetes control plane: API server, and etcd as a Talos service. */
    controlPlane: [
        "apiserver_request_total",
        "apiserver_request_duration_seconds_bucket",
        "etcd_server_has_leader",
        "etcd_server_leader_changes_seen_total",
        "etcd_mvcc_db_total_size_in_bytes",
        "etcd_disk_wal_fsync_duration_seconds_bucket",
        "etcd_disk_backend_commit_duration_seconds_bucket",
    ],
    /** Thanos on main (Receive, Compactor, Store Gateway, Ruler; object storage calls of each). */
    thanos: [
        "http_requests_total",
        "thanos_receive_replications_total",
        "thanos_compact_halted",
        "thanos_compact_iterations_total",
        "thanos_compact_group_compactions_failures_total",
        "thanos_compact_todo_compactions",
        "thanos_objstore_bucket_operations_total",
        "thanos_objstore_bucket_operation_failures_total",
        "thanos_objstore_bucket_last_successful_upload_time",
        "thanos_alert_sender_alerts_dropped_total",
        "thanos_alert_sender_errors_total",
        "thanos_rule_config_last_reload_successful",
    ],
    /** Vector's `internal_metrics`, on every node of every cluster. */
    vector: [
        "vector_buffer_size_bytes",
        "vector_buffer_max_size_bytes",
        "vector_buffer_discarded_events_total",
        "vector_component_errors_total",
        "vector_component_sent_events_total",
    ],
    /** Loki on main. */
    loki: [
        "loki_distributor_lines_received_total",
        "loki_distributor_bytes_received_total",
        "loki_discarded_samples_total",
        "loki_request_duration_seconds_bucket",
        "loki_request_duration_seconds_count",
        "loki_compactor_apply_retention_last_successful_run_timestamp_seconds",
        "loki_compactor_apply_retention_operation_total",
    ],
    /** Tempo on main, and the span metrics its metrics-generator writes. */
    tempo: [
        "tempo_distributor_spans_received_total",
        "tempo_receiver_accepted_spans",
        "tempo_receiver_refused_spans",
        "tempo_discarded_spans_total",
        "traces_spanmetrics_calls_total",
        "traces_spanmetrics_latency_bucket",
        "traces_service_graph_request_total",
        "traces_service_graph_request_failed_total",
        "traces_service_graph_request_server_seconds_bucket",
        "traces_service_graph_request_server_seconds_sum",
        "tempodb_retention_errors_total",
        "tempodb_retention_deleted_total",
    ],
    /** The OpenTelemetry Collector trace gateway: no `_total` suffix on its counters. */
    collector: [
        "otelcol_exporter_queue_size",
        "otelcol_exporter_queue_capacity",
        "otelcol_exporter_sent_spans",
        "otelcol_exporter_send_failed_spans",
        "otelcol_exporter_enqueue_failed_spans",
        "otelcol_receiver_accepted_spans",
        "otelcol_receiver_refused_spans",
        "otelcol_receiver_failed_spans",
    ],
    /** The stack's own recording rules: the fleet PKI's certificates, written at each `pulumi up`. */
    recorded: [CERTIFICATE_EXPIRY_METRIC, CERTIFICATE_RENEWAL_METRIC, OPTED_IN_METRIC, ...Object.values(REPORT_SERIES)],
    /** kube-prometheus-stack's default recording rules the stack's rules build on. */
    kpsRecorded: ["namespace_workload_pod:kube_pod_owner:relabel"],
    /** The remediator of each cluster. */
    remediator: [METRICS.lastPoll, METRICS.polls, METRICS.actions],
} as const satisfies Record<string, readonly string[]>;

/** The catalog as one set of names. */
export const STACK_METRICS: ReadonlySet<string> = new Set(Object.values(METRIC_CATALOG).flat());
