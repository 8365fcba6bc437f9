/**
 * `promtool test rules` cases for every alert of the stack: input series in promtool's
 * expanding notation (`a+bxN` is N+1 samples, one per minute unless the case says otherwise),
 * the evaluation time, and what must fire then, with the exact summary and description. A case
 * with no expected alert proves the alert stays silent on data that resembles the firing one.
 *
 * The unit-test fleet: main `hub`, one sub `edge-a`, local retention 2d. Certificates are
 * evaluated hourly (their alerts look days ahead); everything else every minute.
 */

export interface ExpectedAlert {
    /** The alert's labels beyond the rule's own (severity, category, ...). */
    labels: Record<string, string>;
    summary: string;
    description: string;
}

export interface AlertCase {
    alert: string;
    /** What the case shows. */
    name: string;
    series: Record<string, string>;
    at: string;
    fires: ExpectedAlert[];
}

const OK = "STATUS_CODE_OK";
const ERROR = "STATUS_CODE_ERROR";
const server = (cluster: string, service: string, status: string) =>
    `traces_spanmetrics_calls_total{cluster="${cluster}", service="${service}", span_kind="SPAN_KIND_SERVER", status_code="${status}"}`;
const latency = (le: string) =>
    `traces_spanmetrics_latency_bucket{cluster="edge-a", service="shop", span_kind="SPAN_KIND_SERVER", le="${le}"}`;
const ready = (pod: string) => `kube_pod_status_ready{namespace="kube-system", pod="${pod}", condition="true"}`;
const controlPlaneNodes = {
    'kube_node_role{node="cp1", role="control-plane"}': "1x20",
    'kube_node_role{node="cp2", role="control-plane"}': "1x20",
};
const optIn = (type: string, name: string, value: string) =>
    `kube_${type}_labels{namespace="batch", ${type}="${name}", label_observability_criticality="${value}"}`;
const owner = (pod: string, workload: string, type: string) =>
    `namespace_workload_pod:kube_pod_owner:relabel{namespace="batch", pod="${pod}", workload="${workload}", workload_type="${type}"}`;
const PROM_POD = "prometheus-kps-prometheus-0";
const RULE_GROUP = "/etc/thanos/rules/fleet.yaml;observability.deadman";

export const ALERT_CASES: AlertCase[] = [
    // --- cluster health ---------------------------------------------------------------------
    {
        alert: "ControlPlaneComponentDown",
        name: "one of two control-plane nodes has no ready scheduler",
        series: {
            ...controlPlaneNodes,
            [ready("kube-scheduler-cp1")]: "1x20",
            [ready("kube-scheduler-cp2")]: "0x20",
            [ready("kube-apiserver-cp1")]: "1x20",
            [ready("kube-apiserver-cp2")]: "1x20",
        },
        at: "15m",
        fires: [
            {
                labels: { component: "kube-scheduler" },
                summary: "kube-scheduler is not ready on every control-plane node",
                description:
                    "Only 1 control-plane nodes run a ready kube-scheduler static pod. Read from the mirror pods " +
                    "Talos' kubelet registers, so it works whether or not the component's metrics port is open.",
            },
        ],
    },
    {
        alert: "ControlPlaneComponentDown",
        name: "silent on Talos defaults: every mirror pod ready, no control-plane metrics scraped at all",
        series: {
            ...controlPlaneNodes,
            [ready("kube-scheduler-cp1")]: "1x20",
            [ready("kube-scheduler-cp2")]: "1x20",
            [ready("kube-controller-manager-cp1")]: "1x20",
            [ready("kube-controller-manager-cp2")]: "1x20",
            'up{job="kubelet"}': "1x20",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "NodeConditionPressure",
        name: "memory pressure held for 5 minutes",
        series: {
            'kube_node_status_condition{node="w1", condition="MemoryPressure", status="true"}': "1x10",
            'kube_node_status_condition{node="w1", condition="MemoryPressure", status="false"}': "0x10",
        },
        at: "10m",
        fires: [
            {
                labels: { node: "w1", condition: "MemoryPressure" },
                summary: "Node w1 reports MemoryPressure",
                description: "The kubelet on w1 has reported MemoryPressure for 5 minutes: it evicts pods to recover.",
            },
        ],
    },
    {
        alert: "NodeConditionPressure",
        name: "silent on a ready node without pressure",
        series: {
            'kube_node_status_condition{node="w1", condition="MemoryPressure", status="true"}': "0x10",
            'kube_node_status_condition{node="w1", condition="Ready", status="true"}': "1x10",
        },
        at: "10m",
        fires: [],
    },
    // --- application health -----------------------------------------------------------------
    {
        alert: "ContainerOOMKilled",
        name: "a restart whose last termination was an OOM kill",
        series: {
            'kube_pod_container_status_restarts_total{namespace="shop", pod="api-1", container="api"}': "0x15 1x10",
            'kube_pod_container_status_last_terminated_reason{namespace="shop", pod="api-1", container="api", reason="OOMKilled"}':
                "0x15 1x10",
        },
        at: "18m",
        fires: [
            {
                labels: { namespace: "shop", pod: "api-1", container: "api" },
                summary: "shop/api-1 (api) was OOM-killed",
                description:
                    "Container api restarted 1 times in 10 minutes, the last time killed for exceeding its memory limit.",
            },
        ],
    },
    {
        alert: "ContainerOOMKilled",
        name: "silent on a restart for another reason",
        series: {
            'kube_pod_container_status_restarts_total{namespace="shop", pod="api-1", container="api"}': "0x15 1x10",
            'kube_pod_container_status_last_terminated_reason{namespace="shop", pod="api-1", container="api", reason="Error"}':
                "0x15 1x10",
            'kube_pod_container_status_last_terminated_reason{namespace="shop", pod="api-1", container="api", reason="OOMKilled"}':
                "0x25",
        },
        at: "18m",
        fires: [],
    },
    // --- remediation ------------------------------------------------------------------------
    {
        alert: "NonCriticalWorkloadCPUOverBudget",
        name: "an opted-in deployment at 3 times its CPU request",
        series: {
            [optIn("deployment", "crunch", "non-critical")]: "1x30",
            [owner("crunch-1", "crunch", "deployment")]: "1x30",
            'container_cpu_usage_seconds_total{namespace="batch", pod="crunch-1", container="app", image="crunch:1"}':
                "0+180x30",
            'kube_pod_container_resource_requests{namespace="batch", pod="crunch-1", container="app", resource="cpu"}':
                "1x30",
        },
        at: "20m",
        fires: [
            {
                labels: { namespace: "batch", workload: "crunch", workload_type: "deployment" },
                summary: "Non-critical deployment batch/crunch uses 3 times the CPU it requests",
                description:
                    "Above its budget of 2 times its CPU request for 10m: the remediator acts on it according to its mode.",
            },
        ],
    },
    {
        alert: "NonCriticalWorkloadCPUOverBudget",
        name: "silent on the same usage by a workload that did not opt in",
        series: {
            [optIn("deployment", "crunch", "critical")]: "1x30",
            [owner("crunch-1", "crunch", "deployment")]: "1x30",
            'container_cpu_usage_seconds_total{namespace="batch", pod="crunch-1", container="app", image="crunch:1"}':
                "0+180x30",
            'kube_pod_container_resource_requests{namespace="batch", pod="crunch-1", container="app", resource="cpu"}':
                "1x30",
        },
        at: "20m",
        fires: [],
    },
    {
        alert: "NonCriticalWorkloadMemoryNearLimit",
        name: "an opted-in statefulset at 95% of its memory limit",
        series: {
            [optIn("statefulset", "cache", "non-critical")]: "1x30",
            [owner("cache-0", "cache", "statefulset")]: "1x30",
            'container_memory_working_set_bytes{namespace="batch", pod="cache-0", container="redis", image="redis:7"}':
                "950x30",
            'kube_pod_container_resource_limits{namespace="batch", pod="cache-0", container="redis", resource="memory"}':
                "1000x30",
        },
        at: "20m",
        fires: [
            {
                labels: { namespace: "batch", workload: "cache", workload_type: "statefulset" },
                summary: "Non-critical statefulset batch/cache is at 95% of its memory limit",
                description:
                    "A container has stayed above 90% of its memory limit for 10m: the next spike is an OOM kill. " +
                    "The remediator acts on it according to its mode.",
            },
        ],
    },
    {
        alert: "NonCriticalWorkloadMemoryNearLimit",
        name: "silent on an opted-in statefulset that opted out by annotation",
        series: {
            [optIn("statefulset", "cache", "non-critical")]: "1x30",
            'kube_statefulset_annotations{namespace="batch", statefulset="cache", annotation_observability_remediation_opt_out="true"}':
                "1x30",
            [owner("cache-0", "cache", "statefulset")]: "1x30",
            'container_memory_working_set_bytes{namespace="batch", pod="cache-0", container="redis", image="redis:7"}':
                "950x30",
            'kube_pod_container_resource_limits{namespace="batch", pod="cache-0", container="redis", resource="memory"}':
                "1000x30",
        },
        at: "20m",
        fires: [],
    },
    {
        alert: "NonCriticalWorkloadRestartStorm",
        name: "an opted-in deployment restarting every minute",
        series: {
            [optIn("deployment", "flaky", "non-critical")]: "1x40",
            [owner("flaky-1", "flaky", "deployment")]: "1x40",
            'kube_pod_container_status_restarts_total{namespace="batch", pod="flaky-1", container="app"}': "0+1x40",
        },
        at: "30m",
        fires: [
            {
                labels: { namespace: "batch", workload: "flaky", workload_type: "deployment" },
                summary: "Non-critical deployment batch/flaky restarted 15 times in 15 minutes",
                description:
                    "At least 5 container restarts in 15 minutes, for 10m: a crash loop burning CPU, image pulls " +
                    "and log volume. The remediator acts on it according to its mode.",
            },
        ],
    },
    {
        alert: "NonCriticalWorkloadRestartStorm",
        name: "silent on two restarts in a quarter of an hour",
        series: {
            [optIn("deployment", "flaky", "non-critical")]: "1x40",
            [owner("flaky-1", "flaky", "deployment")]: "1x40",
            'kube_pod_container_status_restarts_total{namespace="batch", pod="flaky-1", container="app"}':
                "0x20 1x10 2x10",
        },
        at: "30m",
        fires: [],
    },
    {
        alert: "RemediatorNotPolling",
        name: "a remediator whose last good poll is stuck",
        series: { 'observability_remediation_last_successful_poll_timestamp_seconds{pod="remediator-1"}': "0x20" },
        at: "10m",
        fires: [
            {
                labels: { pod: "remediator-1" },
                summary: "The remediator of this cluster has not read its alerts for 10m 0s",
                description:
                    "Its last successful poll of Prometheus' alerts is older than 150s (5 poll intervals): " +
                    "over-budget workloads are not acted on.",
            },
        ],
    },
    {
        alert: "RemediatorNotPolling",
        name: "silent while polls succeed",
        series: { 'observability_remediation_last_successful_poll_timestamp_seconds{pod="remediator-1"}': "0+60x20" },
        at: "10m",
        fires: [],
    },
    // --- the weekly report ----------------------------------------------------------------
    {
        alert: "WeeklyReportNotDelivered",
        name: "the last scheduled run never succeeded",
        series: {
            'kube_cronjob_status_last_schedule_time{namespace="observability", cronjob="weekly-report"}': "100000x60",
            'kube_cronjob_status_last_successful_time{namespace="observability", cronjob="weekly-report"}': "99000x60",
        },
        at: "50m",
        fires: [
            {
                labels: { namespace: "observability", cronjob: "weekly-report" },
                summary: "The weekly health report was not delivered",
                description:
                    "The report's last scheduled run has not succeeded, or none has for 8 days: a delivery " +
                    "channel refused it, the fleet's stores could not be read, or the CronJob does not run.",
            },
        ],
    },
    {
        alert: "WeeklyReportNotDelivered",
        name: "the first run failed: no success at all",
        series: {
            'kube_cronjob_status_last_schedule_time{namespace="observability", cronjob="weekly-report"}': "100000x60",
        },
        at: "50m",
        fires: [
            {
                labels: { namespace: "observability", cronjob: "weekly-report" },
                summary: "The weekly health report was not delivered",
                description:
                    "The report's last scheduled run has not succeeded, or none has for 8 days: a delivery " +
                    "channel refused it, the fleet's stores could not be read, or the CronJob does not run.",
            },
        ],
    },
    {
        alert: "WeeklyReportNotDelivered",
        name: "silent once the scheduled run succeeded",
        series: {
            'kube_cronjob_status_last_schedule_time{namespace="observability", cronjob="weekly-report"}': "1000x60",
            'kube_cronjob_status_last_successful_time{namespace="observability", cronjob="weekly-report"}': "1200x60",
        },
        at: "50m",
        fires: [],
    },
    {
        alert: "WeeklyReportNotDelivered",
        name: "silent in another namespace's CronJob of the same name",
        series: {
            'kube_cronjob_status_last_schedule_time{namespace="other", cronjob="weekly-report"}': "1000x60",
            'kube_cronjob_status_last_successful_time{namespace="other", cronjob="weekly-report"}': "900x60",
        },
        at: "50m",
        fires: [],
    },
    // --- agents -----------------------------------------------------------------------------
    {
        alert: "RemoteWriteSamplesDropped",
        name: "samples dropped as too old",
        series: {
            'prometheus_remote_storage_samples_dropped_total{remote_name="main", url="https://metrics.obs.acme.test/api/v1/receive", reason="too_old"}':
                "0+10x20",
        },
        at: "15m",
        fires: [
            {
                labels: { remote_name: "main", url: "https://metrics.obs.acme.test/api/v1/receive" },
                summary: "Prometheus dropped samples meant for main (main)",
                description:
                    "100 samples were dropped in 10 minutes instead of being sent to " +
                    "https://metrics.obs.acme.test/api/v1/receive: they are lost for main.",
            },
        ],
    },
    {
        alert: "RemoteWriteSamplesDropped",
        name: "silent when the drop counter stands still",
        series: {
            'prometheus_remote_storage_samples_dropped_total{remote_name="main", url="https://metrics.obs.acme.test/api/v1/receive", reason="too_old"}':
                "5x20",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "LogAgentBufferNearlyFull",
        name: "a disk buffer 90% full for 10 minutes",
        series: {
            'vector_buffer_size_bytes{pod="vector-x", component_id="to_main", buffer_type="disk"}': "900x20",
            'vector_buffer_max_size_bytes{pod="vector-x", component_id="to_main", buffer_type="disk"}': "1000x20",
        },
        at: "15m",
        fires: [
            {
                labels: { pod: "vector-x", component_id: "to_main" },
                summary: "Log agent vector-x buffer to_main is 90% full",
                description:
                    "The disk buffer of sink to_main holds 90% of its size: main is not taking logs as fast as " +
                    "the node produces them. When full, the agent stops reading.",
            },
        ],
    },
    {
        alert: "LogAgentBufferNearlyFull",
        name: "silent at half full",
        series: {
            'vector_buffer_size_bytes{pod="vector-x", component_id="to_main", buffer_type="disk"}': "500x20",
            'vector_buffer_max_size_bytes{pod="vector-x", component_id="to_main", buffer_type="disk"}': "1000x20",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "LogAgentDroppingEvents",
        name: "events discarded by a buffer",
        series: { 'vector_buffer_discarded_events_total{pod="vector-x", component_id="to_main"}': "0+3x20" },
        at: "15m",
        fires: [
            {
                labels: { pod: "vector-x", component_id: "to_main" },
                summary: "Log agent vector-x discarded log events",
                description: "30 events were discarded by buffer to_main in 10 minutes.",
            },
        ],
    },
    {
        alert: "LogAgentDroppingEvents",
        name: "silent when nothing more is discarded",
        series: { 'vector_buffer_discarded_events_total{pod="vector-x", component_id="to_main"}': "12x20" },
        at: "15m",
        fires: [],
    },
    {
        alert: "LogAgentSinkErrors",
        name: "a sink failing for 15 minutes",
        series: {
            'vector_component_errors_total{pod="vector-x", component_id="to_main", component_kind="sink"}': "0+60x30",
        },
        at: "25m",
        fires: [
            {
                labels: { pod: "vector-x", component_id: "to_main" },
                summary: "Log agent vector-x fails to send (to_main)",
                description: "Sink to_main reports 1 errors per second for 15 minutes.",
            },
        ],
    },
    {
        alert: "LogAgentSinkErrors",
        name: "silent on errors of a source, not a sink",
        series: {
            'vector_component_errors_total{pod="vector-x", component_id="pods", component_kind="source"}': "0+60x30",
        },
        at: "25m",
        fires: [],
    },
    {
        alert: "TraceGatewayQueueFilling",
        name: "queue at 60% for 10 minutes",
        series: {
            'otelcol_exporter_queue_size{pod="gw-0", exporter="otlp/main"}': "600x20",
            'otelcol_exporter_queue_capacity{pod="gw-0", exporter="otlp/main"}': "1000x20",
        },
        at: "15m",
        fires: [
            {
                labels: { pod: "gw-0", exporter: "otlp/main" },
                summary: "Trace gateway gw-0 queue is 60% full",
                description:
                    "Exporter otlp/main holds 60% of its queue for 10 minutes: spans leave more slowly than they arrive.",
            },
        ],
    },
    {
        alert: "TraceGatewayQueueFilling",
        name: "silent at 10%",
        series: {
            'otelcol_exporter_queue_size{pod="gw-0", exporter="otlp/main"}': "100x20",
            'otelcol_exporter_queue_capacity{pod="gw-0", exporter="otlp/main"}': "1000x20",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "TraceGatewayDroppingSpans",
        name: "spans refused by a full queue",
        series: { 'otelcol_exporter_enqueue_failed_spans{pod="gw-0", exporter="otlp/main"}': "0+5x20" },
        at: "15m",
        fires: [
            {
                labels: { pod: "gw-0", exporter: "otlp/main" },
                summary: "Trace gateway gw-0 dropped spans",
                description: "50 spans could not be queued by otlp/main in 10 minutes: the queue is full.",
            },
        ],
    },
    {
        alert: "TraceGatewayDroppingSpans",
        name: "silent when the counter stands still",
        series: { 'otelcol_exporter_enqueue_failed_spans{pod="gw-0", exporter="otlp/main"}': "7x20" },
        at: "15m",
        fires: [],
    },
    {
        alert: "TraceGatewayExportFailing",
        name: "exports failing for 15 minutes",
        series: { 'otelcol_exporter_send_failed_spans{pod="gw-0", exporter="otlp/main"}': "0+120x30" },
        at: "25m",
        fires: [
            {
                labels: { pod: "gw-0", exporter: "otlp/main" },
                summary: "Trace gateway gw-0 fails to export spans",
                description: "otlp/main fails 2 spans per second for 15 minutes.",
            },
        ],
    },
    {
        alert: "TraceGatewayExportFailing",
        name: "silent while spans are sent without failure",
        series: {
            'otelcol_exporter_send_failed_spans{pod="gw-0", exporter="otlp/main"}': "0x30",
            'otelcol_exporter_sent_spans{pod="gw-0", exporter="otlp/main"}': "0+600x30",
        },
        at: "25m",
        fires: [],
    },
    // --- local retention (2d: limit 48h + 4.8h + 3h = 200880 s) ------------------------------
    {
        alert: "PrometheusDataBeyondRetention",
        name: "oldest sample 305400 s old, past the 2d contract and its slack",
        series: { [`prometheus_tsdb_lowest_timestamp_seconds{pod="${PROM_POD}"}`]: "-300000x100" },
        at: "90m",
        fires: [
            {
                labels: { pod: PROM_POD },
                summary: `Prometheus ${PROM_POD} keeps data longer than its retention`,
                description: "Its oldest sample is 3d 12h 50m 0s old; the contract is 2d (plus block slack).",
            },
        ],
    },
    {
        alert: "PrometheusDataBeyondRetention",
        name: "silent with data younger than the contract",
        series: { [`prometheus_tsdb_lowest_timestamp_seconds{pod="${PROM_POD}"}`]: "-150000x100" },
        at: "90m",
        fires: [],
    },
    {
        alert: "PrometheusRetentionBySize",
        name: "a size-based deletion in the last hour",
        series: { [`prometheus_tsdb_size_retentions_total{pod="${PROM_POD}"}`]: "0x30 1x40" },
        at: "60m",
        fires: [
            {
                labels: { pod: PROM_POD },
                summary: `Prometheus ${PROM_POD} deletes data before its retention time: the volume is too small`,
                description:
                    "Blocks were deleted 1 times in the last hour to stay under the size limit, before 2d of data was kept.",
            },
        ],
    },
    {
        alert: "PrometheusRetentionBySize",
        name: "silent when only time-based retention deletes",
        series: {
            [`prometheus_tsdb_size_retentions_total{pod="${PROM_POD}"}`]: "0x70",
            [`prometheus_tsdb_time_retentions_total{pod="${PROM_POD}"}`]: "0+1x70",
        },
        at: "60m",
        fires: [],
    },
    // --- stores on main -----------------------------------------------------------------------
    {
        alert: "ThanosCompactHalted",
        name: "compactor halted",
        series: { 'thanos_compact_halted{pod="thanos-compact-0"}': "1x10" },
        at: "10m",
        fires: [
            {
                labels: {},
                summary: "Thanos compactor halted",
                description:
                    "The compactor stopped on an error it will not retry: no compaction, no downsampling, no retention until it is fixed.",
            },
        ],
    },
    {
        alert: "ThanosCompactHalted",
        name: "silent while it runs",
        series: { 'thanos_compact_halted{pod="thanos-compact-0"}': "0x10" },
        at: "10m",
        fires: [],
    },
    {
        alert: "ThanosReceiveErrors",
        name: "10% of remote-write requests fail",
        series: {
            'http_requests_total{handler="receive", code="200"}': "0+540x30",
            'http_requests_total{handler="receive", code="500"}': "0+60x30",
        },
        at: "20m",
        fires: [
            {
                labels: {},
                summary: "Thanos Receive fails 10% of remote-write requests",
                description:
                    "10% of the remote-write requests from the fleet end in a 5xx: sub clusters retry and fall behind.",
            },
        ],
    },
    {
        alert: "ThanosReceiveErrors",
        name: "silent when 5xx are on another handler",
        series: {
            'http_requests_total{handler="receive", code="200"}': "0+540x30",
            'http_requests_total{handler="query", code="500"}': "0+60x30",
        },
        at: "20m",
        fires: [],
    },
    {
        alert: "ThanosBucketOperationsFailing",
        name: "a fifth of the store gateway's reads fail",
        series: {
            'thanos_objstore_bucket_operations_total{job="thanos-store-gateway", operation="get"}': "0+100x30",
            'thanos_objstore_bucket_operation_failures_total{job="thanos-store-gateway", operation="get"}': "0+20x30",
        },
        at: "25m",
        fires: [
            {
                labels: { job: "thanos-store-gateway", operation: "get" },
                summary: "thanos-store-gateway fails 20% of get calls to object storage",
                description: "Object storage refuses or fails 20% of get operations from thanos-store-gateway.",
            },
        ],
    },
    {
        alert: "ThanosBucketOperationsFailing",
        name: "silent without failures",
        series: {
            'thanos_objstore_bucket_operations_total{job="thanos-store-gateway", operation="get"}': "0+100x30",
            'thanos_objstore_bucket_operation_failures_total{job="thanos-store-gateway", operation="get"}': "3x30",
        },
        at: "25m",
        fires: [],
    },
    {
        alert: "ThanosRuleEvaluationFailing",
        name: "the Ruler fails a fleet group",
        series: {
            [`prometheus_rule_evaluation_failures_total{rule_group="${RULE_GROUP}", strategy="abort"}`]: "0+1x30",
        },
        at: "25m",
        fires: [
            {
                labels: { rule_group: RULE_GROUP },
                summary: `Thanos Ruler fails to evaluate ${RULE_GROUP}`,
                description:
                    "10 evaluations of the fleet rule group failed in 10 minutes: the fleet alerts it holds (dead-man's switches among them) are blind.",
            },
        ],
    },
    {
        alert: "ThanosRuleEvaluationFailing",
        name: "silent on Prometheus' own failures (no strategy label: kube-prometheus-stack alerts on those)",
        series: { 'prometheus_rule_evaluation_failures_total{rule_group="/etc/prometheus/rules/x.yaml;g"}': "0+1x30" },
        at: "25m",
        fires: [],
    },
    {
        alert: "ThanosRuleAlertDeliveryFailing",
        name: "the Ruler drops alerts",
        series: {
            'thanos_alert_sender_alerts_dropped_total{pod="thanos-rule-0"}': "0+1x30",
            'thanos_alert_sender_errors_total{pod="thanos-rule-0", alertmanager="http://10.0.0.9:9093/api/v2/alerts"}':
                "0x30",
        },
        at: "25m",
        fires: [
            {
                labels: {},
                summary: "Thanos Ruler cannot deliver fleet alerts to Alertmanager",
                description: "The Ruler fails or drops alert notifications (10) for 10 minutes.",
            },
        ],
    },
    {
        alert: "ThanosRuleAlertDeliveryFailing",
        name: "silent while delivery works",
        series: {
            'thanos_alert_sender_alerts_dropped_total{pod="thanos-rule-0"}': "0x30",
            'thanos_alert_sender_errors_total{pod="thanos-rule-0", alertmanager="http://10.0.0.9:9093/api/v2/alerts"}':
                "0x30",
        },
        at: "25m",
        fires: [],
    },
    {
        alert: "ThanosRuleConfigReloadFailing",
        name: "a failed reload",
        series: { 'thanos_rule_config_last_reload_successful{pod="thanos-rule-0"}': "0x20" },
        at: "15m",
        fires: [
            {
                labels: {},
                summary: "Thanos Ruler could not load its rules",
                description:
                    "The last reload of the fleet rule files failed: the Ruler keeps evaluating the previous ones.",
            },
        ],
    },
    {
        alert: "ThanosRuleConfigReloadFailing",
        name: "silent after a good reload",
        series: { 'thanos_rule_config_last_reload_successful{pod="thanos-rule-0"}': "1x20" },
        at: "15m",
        fires: [],
    },
    {
        alert: "LokiPushErrors",
        name: "10% of pushes fail",
        series: {
            'loki_request_duration_seconds_count{route="loki_api_v1_push", status_code="204"}': "0+900x30",
            'loki_request_duration_seconds_count{route="loki_api_v1_push", status_code="500"}': "0+100x30",
        },
        at: "20m",
        fires: [
            {
                labels: { route: "loki_api_v1_push" },
                summary: "Loki fails 10% of log pushes (loki_api_v1_push)",
                description: "10% of pushes on loki_api_v1_push end in a 5xx: agents retry and buffer.",
            },
        ],
    },
    {
        alert: "LokiPushErrors",
        name: "silent when the errors are on queries",
        series: {
            'loki_request_duration_seconds_count{route="loki_api_v1_push", status_code="204"}': "0+900x30",
            'loki_request_duration_seconds_count{route="loki_api_v1_query_range", status_code="500"}': "0+100x30",
        },
        at: "20m",
        fires: [],
    },
    {
        alert: "LokiDiscardingLogs",
        name: "a tenant rate-limited for 15 minutes",
        series: { 'loki_discarded_samples_total{tenant="edge-a", reason="rate_limited"}': "0+60x30" },
        at: "25m",
        fires: [
            {
                labels: { tenant: "edge-a", reason: "rate_limited" },
                summary: "Loki discards logs of edge-a (rate_limited)",
                description: "1 lines per second of tenant edge-a are refused for rate_limited.",
            },
        ],
    },
    {
        alert: "LokiDiscardingLogs",
        name: "silent when discards stopped",
        series: { 'loki_discarded_samples_total{tenant="edge-a", reason="rate_limited"}': "40x30" },
        at: "25m",
        fires: [],
    },
    {
        alert: "TempoRefusingSpans",
        name: "the receiver refuses spans",
        series: { 'tempo_receiver_refused_spans{receiver="otlp", transport="grpc"}': "0+60x30" },
        at: "20m",
        fires: [
            {
                labels: {},
                summary: "Tempo refuses spans",
                description: "Tempo's OTLP receiver refuses 1 spans per second: gateways queue and retry them.",
            },
        ],
    },
    {
        alert: "TempoRefusingSpans",
        name: "silent while everything is accepted",
        series: {
            'tempo_receiver_refused_spans{receiver="otlp", transport="grpc"}': "0x30",
            'tempo_receiver_accepted_spans{receiver="otlp", transport="grpc"}': "0+600x30",
        },
        at: "20m",
        fires: [],
    },
    {
        alert: "TempoDiscardingSpans",
        name: "too large traces discarded",
        series: { 'tempo_discarded_spans_total{reason="trace_too_large", tenant="single-tenant"}': "0+120x30" },
        at: "25m",
        fires: [
            {
                labels: { reason: "trace_too_large" },
                summary: "Tempo discards spans (trace_too_large)",
                description: "2 spans per second are discarded for trace_too_large.",
            },
        ],
    },
    {
        alert: "TempoDiscardingSpans",
        name: "silent when discards stopped",
        series: { 'tempo_discarded_spans_total{reason="trace_too_large", tenant="single-tenant"}': "9x30" },
        at: "25m",
        fires: [],
    },
    // --- store retention ----------------------------------------------------------------------
    {
        alert: "ThanosCompactNotRunning",
        name: "no successful iteration for 6 hours",
        series: { 'thanos_compact_iterations_total{pod="thanos-compact-0"}': "7x500" },
        at: "400m",
        fires: [
            {
                labels: {},
                summary: "Thanos compactor has not completed a run in 6 hours",
                description:
                    "No successful compactor iteration in 6 hours: metric retention and downsampling are not applied to object storage.",
            },
        ],
    },
    {
        alert: "ThanosCompactNotRunning",
        name: "silent while iterations complete",
        series: { 'thanos_compact_iterations_total{pod="thanos-compact-0"}': "0+1x500" },
        at: "400m",
        fires: [],
    },
    {
        alert: "LokiRetentionNotApplied",
        name: "retention last succeeded 5 hours ago",
        series: { 'loki_compactor_apply_retention_last_successful_run_timestamp_seconds{pod="loki-0"}': "0x400" },
        at: "300m",
        fires: [
            {
                labels: {},
                summary: "Loki's retention has not run successfully",
                description:
                    "Loki's compactor last applied retention 5h 0m 0s ago, or failed to: logs older than the contract stay in the bucket.",
            },
        ],
    },
    {
        alert: "LokiRetentionNotApplied",
        name: "silent while retention runs every minute and never fails",
        series: {
            'loki_compactor_apply_retention_last_successful_run_timestamp_seconds{pod="loki-0"}': "0+60x400",
            'loki_compactor_apply_retention_operation_total{pod="loki-0", status="failure"}': "0x400",
        },
        at: "300m",
        fires: [],
    },
    {
        alert: "TempoRetentionFailing",
        name: "a retention error in the last hour",
        series: { 'tempodb_retention_errors_total{pod="tempo-0"}': "0x30 1x40" },
        at: "60m",
        fires: [
            {
                labels: {},
                summary: "Tempo fails to apply retention",
                description: "1 retention errors in the last hour: trace blocks older than the contract may stay.",
            },
        ],
    },
    {
        alert: "TempoRetentionFailing",
        name: "silent without errors",
        series: { 'tempodb_retention_errors_total{pod="tempo-0"}': "0x70" },
        at: "60m",
        fires: [],
    },
    // --- certificates (hourly; the sample certificate renews from 0 and expires at 30 days) -----
    {
        alert: "ObservabilityCertificateRenewalOverdue",
        name: "renewal window open for 30 hours",
        series: {},
        at: "30h",
        fires: [
            {
                labels: { certificate: "cluster-edge-a", profile: "cluster", common_name: "edge-a" },
                summary: "Certificate cluster-edge-a is past its renewal date",
                description:
                    "Its renewal window opened 1d 6h 0m 0s ago and no `pulumi up` of main has renewed it: the " +
                    "scheduled rotation run is not happening.",
            },
        ],
    },
    {
        alert: "ObservabilityCertificateRenewalOverdue",
        name: "silent within the first day of the window",
        series: {},
        at: "20h",
        fires: [],
    },
    {
        alert: "ObservabilityCertificateExpiring",
        name: "5 days before expiry",
        series: {},
        at: "600h",
        fires: [
            {
                labels: { certificate: "cluster-edge-a", profile: "cluster", common_name: "edge-a" },
                summary: "Certificate cluster-edge-a expires in 5d 0h 0m 0s",
                description: "edge-a (cluster) expires in 5d 0h 0m 0s; when it does, the mTLS link it secures stops.",
            },
        ],
    },
    {
        alert: "ObservabilityCertificateExpiring",
        name: "silent 10 days before expiry",
        series: {},
        at: "480h",
        fires: [],
    },
    // --- fleet: dead-man's switches -----------------------------------------------------------
    {
        alert: "ClusterMetricsAbsent",
        name: "fires 5 minutes after edge-a's last sample",
        series: { 'up{cluster="hub", job="x"}': "1x20", 'up{cluster="edge-a", job="x"}': "1x5 _x15" },
        at: "10m",
        fires: [
            {
                labels: { cluster: "edge-a" },
                summary: "No metrics from cluster edge-a",
                description:
                    "Main has received no sample from edge-a for 3m: its Prometheus, or the link to main, is down.",
            },
        ],
    },
    {
        alert: "ClusterMetricsAbsent",
        name: "silent while both clusters send",
        series: { 'up{cluster="hub", job="x"}': "1x20", 'up{cluster="edge-a", job="x"}': "1x20" },
        at: "10m",
        fires: [],
    },
    {
        alert: "ClusterLogsAbsent",
        name: "edge-a's line counter stops growing",
        series: {
            'loki_distributor_lines_received_total{tenant="hub"}': "0+100x20",
            'loki_distributor_lines_received_total{tenant="edge-a"}': "0+100x5 500x15",
        },
        at: "10m",
        fires: [
            {
                labels: { cluster: "edge-a", tenant: "edge-a" },
                summary: "No logs from cluster edge-a",
                description: "Loki has taken no log line from edge-a for 3m.",
            },
        ],
    },
    {
        alert: "ClusterLogsAbsent",
        name: "edge-a never sent a line",
        series: { 'loki_distributor_lines_received_total{tenant="hub"}': "0+100x20" },
        at: "10m",
        fires: [
            {
                labels: { cluster: "edge-a", tenant: "edge-a" },
                summary: "No logs from cluster edge-a",
                description: "Loki has taken no log line from edge-a for 3m.",
            },
        ],
    },
    {
        alert: "ClusterLogsAbsent",
        name: "silent while both clusters send, and for a tenant that is not in the fleet",
        series: {
            'loki_distributor_lines_received_total{tenant="hub"}': "0+100x20",
            'loki_distributor_lines_received_total{tenant="edge-a"}': "0+100x20",
            'loki_distributor_lines_received_total{tenant="retired"}': "500x20",
        },
        at: "10m",
        fires: [],
    },
    {
        alert: "ClusterTracesStopped",
        name: "spans stop after an hour of traffic",
        series: { [server("edge-a", "shop", OK)]: "0+10x60 600x20" },
        at: "66m",
        fires: [
            {
                labels: { cluster: "edge-a" },
                summary: "Traces from cluster edge-a stopped",
                description: "Spans from edge-a arrived in the last 6 hours but none for 3m.",
            },
        ],
    },
    {
        alert: "ClusterTracesStopped",
        name: "silent while spans keep coming",
        series: { [server("edge-a", "shop", OK)]: "0+10x80" },
        at: "66m",
        fires: [],
    },
    {
        alert: "ClusterAlertDeliveryFailing",
        name: "half of edge-a's notifications fail",
        series: {
            'prometheus_notifications_errors_total{cluster="edge-a", alertmanager="https://alerts.obs.acme.test/api/v2/alerts"}':
                "0+30x30",
            'prometheus_notifications_sent_total{cluster="edge-a", alertmanager="https://alerts.obs.acme.test/api/v2/alerts"}':
                "0+60x30",
            'prometheus_notifications_alertmanagers_discovered{cluster="edge-a"}': "1x30",
        },
        at: "25m",
        fires: [
            {
                labels: { cluster: "edge-a" },
                summary: "Cluster edge-a cannot deliver its alerts to main",
                description:
                    "edge-a's Prometheus fails 50% of its alert notifications, or has no Alertmanager. Its local " +
                    "alerts do not reach anyone.",
            },
        ],
    },
    {
        alert: "ClusterAlertDeliveryFailing",
        name: "edge-a has discovered no Alertmanager",
        series: { 'prometheus_notifications_alertmanagers_discovered{cluster="edge-a"}': "0x30" },
        at: "25m",
        fires: [
            {
                labels: { cluster: "edge-a" },
                summary: "Cluster edge-a cannot deliver its alerts to main",
                description:
                    "edge-a's Prometheus fails 0% of its alert notifications, or has no Alertmanager. Its local " +
                    "alerts do not reach anyone.",
            },
        ],
    },
    {
        alert: "ClusterAlertDeliveryFailing",
        name: "silent while notifications succeed",
        series: {
            'prometheus_notifications_errors_total{cluster="edge-a", alertmanager="https://alerts.obs.acme.test/api/v2/alerts"}':
                "2x30",
            'prometheus_notifications_sent_total{cluster="edge-a", alertmanager="https://alerts.obs.acme.test/api/v2/alerts"}':
                "0+60x30",
            'prometheus_notifications_alertmanagers_discovered{cluster="edge-a"}': "1x30",
        },
        at: "25m",
        fires: [],
    },
    // --- fleet: service health from span metrics ----------------------------------------------
    {
        alert: "ServiceErrorRateHigh",
        name: "10% of shop's server spans fail",
        series: { [server("edge-a", "shop", ERROR)]: "0+60x30", [server("edge-a", "shop", OK)]: "0+540x30" },
        at: "25m",
        fires: [
            {
                labels: { cluster: "edge-a", service: "shop" },
                summary: "Service shop on edge-a fails 10% of its requests",
                description:
                    "10% of shop's server spans ended in error over 5 minutes (threshold 5%, `alerting.serviceErrorRatio`).",
            },
        ],
    },
    {
        alert: "ServiceErrorRateHigh",
        name: "silent on the same error share at 0.05 requests per second",
        series: { [server("edge-a", "shop", ERROR)]: "0+0.3x30", [server("edge-a", "shop", OK)]: "0+2.7x30" },
        at: "25m",
        fires: [],
    },
    {
        alert: "ServiceLatencyHigh",
        name: "every request between 1 and 4 seconds",
        series: { [latency("1")]: "0x30", [latency("4")]: "0+60x30", [latency("+Inf")]: "0+60x30" },
        at: "25m",
        fires: [
            {
                labels: { cluster: "edge-a", service: "shop" },
                summary: "Service shop on edge-a is slow",
                description:
                    "The 95th percentile of shop's server spans is 3.85s (threshold 2s, `alerting.serviceLatencySeconds`).",
            },
        ],
    },
    {
        alert: "ServiceLatencyHigh",
        name: "silent when every request is under a second",
        series: { [latency("1")]: "0+60x30", [latency("4")]: "0+60x30", [latency("+Inf")]: "0+60x30" },
        at: "25m",
        fires: [],
    },
];

/** The sample certificate the certificate cases are written for. */
export const CASE_CERTIFICATE = {
    id: "cluster-edge-a",
    profile: "cluster",
    commonName: "edge-a",
    notAfter: "1970-01-31T00:00:00Z",
    renewFrom: "1970-01-01T00:00:00Z",
} as const;
