import { durationHours, type StackConfig } from "../../../config";
import { sumOverCounters, type RuleGroup } from "./model";

/**
 * Rules every cluster's own Prometheus evaluates, on its own data: they keep firing (and reach
 * main's Alertmanager through the alert ingest) while the metrics link to main is down. The
 * `cluster` label comes from Prometheus' external labels, added to every alert it sends.
 *
 * kube-prometheus-stack's default rules run beside these; these cover what they miss or get
 * wrong on Talos (docs/alerts.md lists both).
 */

/** Control-plane nodes, per cluster (`by (cluster)` is a no-op on a cluster's own data). */
const CONTROL_PLANE_NODES = 'count by (cluster) (kube_node_role{role="control-plane"})';

/** Ready mirror pods of some control-plane components, per cluster and component. */
function readyControlPlanePods(components: readonly string[], filter = ""): string {
    const names = components.map((c) => c.replace(/^kube-/, "")).join("|");
    return (
        "sum by (cluster, component) (label_replace(" +
        `kube_pod_status_ready{namespace="kube-system", condition="true", pod=~"kube-(${names})-.+"}${filter}, ` +
        `"component", "$1", "pod", "(kube-(?:${names}))-.+"))`
    );
}

/**
 * Components whose absence the mirror pods tell: the API server's pods are reported through the
 * API server itself, so while it is down kube-state-metrics keeps their last state.
 */
export const ABSENT_COMPONENTS = ["kube-controller-manager", "kube-scheduler"] as const;

const CONTROL_PLANE_FIX = [
    "`talosctl -n <node> service kubelet` and `talosctl -n <node> containers -k`: is the static pod running?",
    "`talosctl -n <node> logs -k kube-system/<pod>:<container>` for its own error (certificates, etcd reachability, flags).",
    "A bad machine-config patch on `cluster.apiServer|controllerManager|scheduler.extraArgs` is the usual cause: `talosctl -n <node> get staticpods -o yaml`, then revert the patch.",
];

export const clusterHealth: RuleGroup = {
    name: "observability.cluster-health",
    placement: "cluster",
    rules: [
        {
            alert: "ControlPlaneComponentDown",
            expr:
                `(${readyControlPlanePods(["kube-apiserver", "kube-controller-manager", "kube-scheduler"])} > 0)` +
                ` < on (cluster) group_left () ${CONTROL_PLANE_NODES}`,
            for: "10m",
            severity: "critical",
            category: "cluster",
            summary: "{{ $labels.component }} is not ready on every control-plane node",
            description:
                "Only {{ $value }} control-plane nodes run a ready {{ $labels.component }} static pod. " +
                "Read from the mirror pods Talos' kubelet registers, so it works whether or not the " +
                "component's metrics port is open.",
            runbook: {
                symptom:
                    "Some, not all, control-plane nodes have no ready kube-apiserver, kube-controller-manager or kube-scheduler pod.",
                impact:
                    "The control plane runs on less redundancy: one more failure and nothing is scheduled " +
                    "(scheduler), no controller reconciles (controller-manager) or the API is unreachable " +
                    "(apiserver). None ready at all is ControlPlaneComponentAbsent or APIServerAllInstancesDown.",
                diagnosis: [
                    'kube_pod_status_ready{namespace="kube-system", condition="true", pod=~"kube-(apiserver|controller-manager|scheduler)-.+"}',
                    'kube_node_role{role="control-plane"}',
                    'kube_node_status_condition{condition="Ready", status="true"}',
                ],
                fix: CONTROL_PLANE_FIX,
            },
            timing: {
                condition: "a control-plane node's component pod stops being ready while another node's stays ready",
                detection: "0m",
            },
        },
        {
            alert: "ControlPlaneComponentAbsent",
            expr:
                `(${ABSENT_COMPONENTS.map((c) => `label_replace(${CONTROL_PLANE_NODES}, "component", "${c}", "", "")`).join(" or ")})` +
                ` unless on (cluster, component) ${readyControlPlanePods(ABSENT_COMPONENTS, " == 1")}`,
            for: "5m",
            severity: "critical",
            category: "cluster",
            summary: "No ready {{ $labels.component }} in the cluster",
            description:
                "None of the {{ $value }} control-plane nodes runs a ready {{ $labels.component }} pod, or its " +
                "mirror pods are gone: the component is down in the whole cluster.",
            runbook: {
                symptom:
                    "kube-state-metrics reports control-plane nodes but no ready kube-controller-manager or kube-scheduler pod on any of them.",
                impact:
                    "kube-scheduler: no new pod is placed (rollouts, rescheduling after a node loss, Jobs). " +
                    "kube-controller-manager: nothing reconciles (ReplicaSets, Deployments, endpoints, node " +
                    "lifecycle, service-account tokens). Running pods keep running.",
                diagnosis: [
                    'kube_pod_status_ready{namespace="kube-system", pod=~"kube-(controller-manager|scheduler)-.+"}',
                    'kube_node_role{role="control-plane"}',
                    'kube_pod_status_phase{namespace="kube-system", pod=~"kube-(controller-manager|scheduler)-.+"}',
                ],
                fix: [
                    "`talosctl -n <control-plane node> get staticpodstatus` and `talosctl -n <node> containers -k`: does the kubelet run the static pod at all?",
                    ...CONTROL_PLANE_FIX.slice(1),
                    "No mirror pod on any node while the containers run: the kubelets cannot register them; `talosctl -n <node> logs kubelet`.",
                ],
            },
            timing: {
                condition: "the last ready pod of the component stops being ready, or its mirror pod disappears",
                detection: "0m",
                note: "kube-state-metrics sees the change within seconds of the kubelet reporting it.",
            },
        },
        {
            alert: "APIServerAllInstancesDown",
            expr: 'count by (cluster) (up{job="apiserver"} == 0) unless on (cluster) (up{job="apiserver"} == 1)',
            for: "5m",
            severity: "critical",
            category: "cluster",
            summary: "No API server instance of the cluster answers",
            description:
                "All {{ $value }} API server instances failed their scrapes for 5 minutes: the Kubernetes API of " +
                "the cluster is down.",
            runbook: {
                symptom: "Every API server target Prometheus knows fails its scrape.",
                impact:
                    "Nothing can change in the cluster: no deploy, no scaling, no rescheduling, no new pod; " +
                    "controllers and kubelets cannot report. Running pods keep serving until something needs " +
                    "the API. The cluster's alerts still reach main.",
                diagnosis: [
                    'up{job="apiserver"}',
                    'sum by (code) (rate(apiserver_request_total{job="apiserver"}[5m]))',
                    "etcd_server_has_leader",
                ],
                fix: [
                    "`talosctl -n <control-plane node> containers -k` and `talosctl -n <node> logs -k kube-system/kube-apiserver-<node>:kube-apiserver`: a crash loop names its cause.",
                    "etcd without a leader or quorum stops the API server: `talosctl -n <node> etcd status` and `talosctl -n <node> service etcd`.",
                    "A recent machine-config change to `cluster.apiServer` (flags, admission plugins, certificate SANs): revert it with `talosctl patch mc`.",
                    "A Prometheus that cannot authenticate shows every instance down too: check its log for 401/403 before acting on the control plane.",
                ],
            },
            timing: {
                condition: "the last API server instance stops answering",
                detection: "0m",
                note: "A scrape waits for its timeout (10 s) before it counts as failed.",
            },
        },
        {
            alert: "NodeConditionPressure",
            expr: 'max by (node, condition) (kube_node_status_condition{condition=~"MemoryPressure|DiskPressure|PIDPressure", status="true"}) == 1',
            for: "5m",
            severity: "warning",
            category: "cluster",
            summary: "Node {{ $labels.node }} reports {{ $labels.condition }}",
            description:
                "The kubelet on {{ $labels.node }} has reported {{ $labels.condition }} for 5 minutes: it evicts pods to recover.",
            runbook: {
                symptom: "The node's kubelet reports MemoryPressure, DiskPressure or PIDPressure.",
                impact: "The kubelet evicts pods, lowest priority first, and the scheduler stops placing new ones there.",
                diagnosis: [
                    'kube_node_status_condition{condition=~"MemoryPressure|DiskPressure|PIDPressure", status="true"} == 1',
                    "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
                    'topk(10, sum by (namespace, pod) (container_memory_working_set_bytes{container!=""}))',
                ],
                fix: [
                    "Memory: find the largest consumers above and lower their limits or move them; check for pods without limits.",
                    "Disk: on Talos the EPHEMERAL partition holds images, logs and emptyDirs: `talosctl -n <node> usage /var`; prune with `talosctl -n <node> image` or free the volume.",
                    "PIDs: a fork loop in one pod; find it with `talosctl -n <node> processes` and fix or delete that workload.",
                ],
            },
        },
    ],
};

export const appHealth: RuleGroup = {
    name: "observability.app-health",
    placement: "cluster",
    rules: [
        {
            alert: "ContainerOOMKilled",
            expr:
                "(kube_pod_container_status_restarts_total - kube_pod_container_status_restarts_total offset 10m >= 1)" +
                " and ignoring (reason) " +
                'max_over_time(kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}[10m]) == 1',
            for: "0m",
            severity: "warning",
            category: "app",
            summary: "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) was OOM-killed",
            description:
                "Container {{ $labels.container }} restarted {{ $value }} times in 10 minutes, the last time " +
                "killed for exceeding its memory limit.",
            runbook: {
                symptom: "A container restarted and its last termination reason is OOMKilled.",
                impact: "In-flight work of the container is lost at each kill; repeated kills become a crash loop.",
                diagnosis: [
                    'kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} == 1',
                    'max_over_time(container_memory_working_set_bytes{container!=""}[1h])',
                    'kube_pod_container_resource_limits{resource="memory"}',
                ],
                fix: [
                    "Compare the container's working set over the last hours with its limit: a steady climb is a leak, a plateau near the limit is an undersized limit.",
                    "Raise the memory limit in the workload's manifest (through GitOps), or fix the leak.",
                    "Runtimes that size their heap from the host (JVM, Node.js) need it from the limit: `-XX:MaxRAMPercentage`, `--max-old-space-size`.",
                ],
            },
        },
    ],
};

export const agentPipeline: RuleGroup = {
    name: "observability.agents",
    placement: "cluster",
    rules: [
        {
            alert: "RemoteWriteSamplesDropped",
            expr: "sum by (remote_name, url) (increase(prometheus_remote_storage_samples_dropped_total[10m])) > 0",
            for: "0m",
            severity: "critical",
            category: "stack",
            summary: "Prometheus dropped samples meant for main ({{ $labels.remote_name }})",
            description:
                "{{ $value | humanize }} samples were dropped in 10 minutes instead of being sent to {{ $labels.url }}: they are lost for main.",
            runbook: {
                symptom: "The sub cluster's Prometheus dropped samples from its remote-write queue.",
                impact: "Those samples never reach main: gaps in long-term storage and fleet rules.",
                diagnosis: [
                    "sum by (reason) (rate(prometheus_remote_storage_samples_dropped_total[5m]))",
                    "rate(prometheus_remote_storage_samples_failed_total[5m])",
                    "prometheus_remote_storage_queue_highest_timestamp_seconds - prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
                ],
                fix: [
                    "reason `too_old`: the queue fell further behind than the WAL keeps; restore the link to main (see ClusterMetricsAbsent) and the receive router's health.",
                    "reason `dropped_series` or relabeling: a write relabel config drops them on purpose; nothing to do.",
                    "Refused samples (4xx from the receiver): out-of-order or too-old samples after a long outage; they cannot be ingested.",
                ],
            },
        },
        {
            alert: "LogAgentBufferNearlyFull",
            expr:
                "max by (pod, component_id) (vector_buffer_size_bytes)" +
                " / max by (pod, component_id) (vector_buffer_max_size_bytes) > 0.8",
            for: "10m",
            severity: "warning",
            category: "stack",
            summary:
                "Log agent {{ $labels.pod }} buffer {{ $labels.component_id }} is {{ $value | humanizePercentage }} full",
            description:
                "The disk buffer of sink {{ $labels.component_id }} holds {{ $value | humanizePercentage }} of its size: " +
                "main is not taking logs as fast as the node produces them. When full, the agent stops reading.",
            runbook: {
                symptom: "A Vector agent's disk buffer towards main is more than 80% full.",
                impact:
                    "Logs reach main late. When the buffer is full the agent stops reading files; lines " +
                    "rotated away meanwhile are lost.",
                diagnosis: [
                    "vector_buffer_size_bytes / vector_buffer_max_size_bytes",
                    'sum by (pod, component_id) (rate(vector_component_errors_total{component_kind="sink"}[5m]))',
                    'sum by (route, status_code) (rate(loki_request_duration_seconds_count{route=~"loki_api_v1_push|otlp_v1_logs"}[5m]))',
                ],
                fix: [
                    "Check the link to main and the logs gateway (certificate, exposure): sink errors say why sends fail.",
                    "Loki refusing (rate limits, 5xx): see LokiPushErrors on main.",
                    "A burst of logging from one workload: find it in Grafana (Loki, `sum by (namespace) (bytes_rate(...))`) and quiet it, or raise `logs.bufferSize`.",
                ],
            },
        },
        {
            alert: "LogAgentDroppingEvents",
            expr: "sum by (pod, component_id) (increase(vector_buffer_discarded_events_total[10m])) > 0",
            for: "0m",
            severity: "critical",
            category: "stack",
            summary: "Log agent {{ $labels.pod }} discarded log events",
            description:
                "{{ $value | humanize }} events were discarded by buffer {{ $labels.component_id }} in 10 minutes.",
            runbook: {
                symptom: "A Vector agent discarded events from a buffer.",
                impact: "Those log lines are lost.",
                diagnosis: [
                    "sum by (pod, component_id) (rate(vector_buffer_discarded_events_total[5m]))",
                    "vector_buffer_size_bytes / vector_buffer_max_size_bytes",
                ],
                fix: [
                    "The stack's buffers block when full rather than drop: a discarding buffer means a changed `when_full`; restore the rendered agent config.",
                    "A corrupted disk buffer is discarded at start: look for `buffer` errors in the agent's log and check the node's disk.",
                ],
            },
        },
        {
            alert: "LogAgentSinkErrors",
            expr: 'sum by (pod, component_id) (rate(vector_component_errors_total{component_kind="sink"}[5m])) > 0',
            for: "15m",
            severity: "warning",
            category: "stack",
            summary: "Log agent {{ $labels.pod }} fails to send ({{ $labels.component_id }})",
            description:
                "Sink {{ $labels.component_id }} reports {{ $value | humanize }} errors per second for 15 minutes.",
            runbook: {
                symptom: "A Vector agent's sink keeps reporting errors.",
                impact: "Logs pile up in the disk buffer (LogAgentBufferNearlyFull follows).",
                diagnosis: [
                    'sum by (pod, component_id, error_type) (rate(vector_component_errors_total{component_kind="sink"}[5m]))',
                    "vector_buffer_size_bytes / vector_buffer_max_size_bytes",
                ],
                fix: [
                    "`kubectl logs` of the agent pod names the error: TLS (certificate expired or rotated without a restart), DNS, or HTTP status from the gateway.",
                    "403 from the gateway: the certificate's OU is not `cluster`; re-run `pulumi up` on the sub stack to restore its identity Secret.",
                ],
            },
        },
        {
            alert: "TraceGatewayQueueFilling",
            expr:
                "max by (pod, exporter) (otelcol_exporter_queue_size)" +
                " / max by (pod, exporter) (otelcol_exporter_queue_capacity) > 0.5",
            for: "10m",
            severity: "warning",
            category: "stack",
            summary: "Trace gateway {{ $labels.pod }} queue is {{ $value | humanizePercentage }} full",
            description:
                "Exporter {{ $labels.exporter }} holds {{ $value | humanizePercentage }} of its queue for 10 minutes: " +
                "spans leave more slowly than they arrive.",
            runbook: {
                symptom: "The OpenTelemetry Collector gateway's sending queue towards main keeps growing.",
                impact: "Traces reach main late; when the queue is full, new spans are refused and senders drop them.",
                diagnosis: [
                    "otelcol_exporter_queue_size / otelcol_exporter_queue_capacity",
                    "sum by (pod, exporter) (rate(otelcol_exporter_send_failed_spans[5m]))",
                    "sum by (pod, exporter) (rate(otelcol_exporter_sent_spans[5m]))",
                ],
                fix: [
                    "Sends failing: check the link and Tempo's OTLP receiver on main (TempoRefusingSpans).",
                    "Sends slow but succeeding: Tempo ingests too slowly; scale it or move to the large profile.",
                    "A tracing burst: lower the sampling ratio of the noisy service.",
                ],
            },
        },
        {
            alert: "TraceGatewayDroppingSpans",
            expr: "sum by (pod, exporter) (increase(otelcol_exporter_enqueue_failed_spans[10m])) > 0",
            for: "0m",
            severity: "critical",
            category: "stack",
            summary: "Trace gateway {{ $labels.pod }} dropped spans",
            description:
                "{{ $value | humanize }} spans could not be queued by {{ $labels.exporter }} in 10 minutes: the queue is full.",
            runbook: {
                symptom: "Spans were refused because the gateway's persistent queue is full.",
                impact: "Those spans are lost unless the sending SDK retried them.",
                diagnosis: [
                    "otelcol_exporter_queue_size / otelcol_exporter_queue_capacity",
                    "sum by (pod, exporter) (rate(otelcol_exporter_send_failed_spans[5m]))",
                ],
                fix: [
                    "Restore delivery to main first (TraceGatewayQueueFilling).",
                    "Raise `traces.queueSize` if outages longer than the queue holds are expected.",
                ],
            },
            timing: { condition: "the gateway's queue refuses its first batch of spans", detection: "0m" },
        },
        {
            alert: "TraceGatewayExportFailing",
            expr: "sum by (pod, exporter) (rate(otelcol_exporter_send_failed_spans[5m])) > 0",
            for: "15m",
            severity: "warning",
            category: "stack",
            summary: "Trace gateway {{ $labels.pod }} fails to export spans",
            description: "{{ $labels.exporter }} fails {{ $value | humanize }} spans per second for 15 minutes.",
            runbook: {
                symptom: "The gateway's exporter towards main keeps failing.",
                impact: "Spans wait in the persistent queue (TraceGatewayQueueFilling follows).",
                diagnosis: [
                    "sum by (pod, exporter) (rate(otelcol_exporter_send_failed_spans[5m]))",
                    "otelcol_exporter_queue_size / otelcol_exporter_queue_capacity",
                ],
                fix: [
                    "The gateway's log names the error: TLS handshake (certificate), unavailable (Tempo down or exposure), or resource exhausted (Tempo limits).",
                    "After a certificate rotation the gateway restarts on its own (revision annotation); if not, re-run `pulumi up` on the stack.",
                ],
            },
            timing: { condition: "the gateway's exports towards main start failing", detection: "0m" },
        },
        {
            alert: "TraceGatewayRefusingSpans",
            expr:
                sumOverCounters("pod, receiver, transport", "rate", "5m", [
                    "otelcol_receiver_refused_spans",
                    "otelcol_receiver_failed_spans",
                ]) + " > 0",
            for: "10m",
            severity: "warning",
            category: "stack",
            summary: "Trace gateway {{ $labels.pod }} refuses incoming spans ({{ $labels.transport }})",
            description:
                "Receiver {{ $labels.receiver }} turns away {{ $value | humanize }} spans per second over " +
                "{{ $labels.transport }} for 10 minutes: applications must retry them or lose them.",
            runbook: {
                symptom:
                    "The gateway's OTLP receiver answers senders with errors: its memory limiter refuses data, or the queue towards main is full.",
                impact:
                    "Applications' SDKs retry refused spans for a while, then drop them: traces with holes, or " +
                    "none, for the services that send to this gateway.",
                diagnosis: [
                    "sum by (pod, receiver, transport) (rate(otelcol_receiver_refused_spans[5m]))",
                    "sum by (pod, receiver, transport) (rate(otelcol_receiver_accepted_spans[5m]))",
                    "sum by (pod, exporter) (rate(otelcol_exporter_enqueue_failed_spans[5m]))",
                    "otelcol_exporter_queue_size / otelcol_exporter_queue_capacity",
                ],
                fix: [
                    "The queue is full (TraceGatewayDroppingSpans fires too): restore delivery to main first (TraceGatewayExportFailing, TraceGatewayQueueFilling).",
                    "The queue is not full: the memory limiter refuses data at 80% of the gateway's memory limit. Compare the accepted rate with the usual one; a tracing burst from one service is lowered at its sampler, a lasting growth needs the next `profile`.",
                    "Spans counted as failed rather than refused (`otelcol_receiver_failed_spans`, with the collector's `receiverhelper.newReceiverMetrics` feature gate on) failed inside the gateway: its log names the error.",
                ],
            },
            timing: { condition: "the receiver refuses its first spans", detection: "0m" },
        },
    ],
};

/**
 * Slack on top of a time retention before data counts as kept too long: Prometheus deletes
 * whole blocks (up to a tenth of the retention long), a while after they expire.
 */
function retentionSlackSeconds(retentionHours: number): number {
    return Math.round(retentionHours * 3600 * 0.1 + 3 * 3600);
}

/** The retention contract of this cluster's own Prometheus. */
export function localRetention(config: StackConfig): RuleGroup {
    const hours = durationHours(config.retention.metrics.local);
    const limit = hours * 3600 + retentionSlackSeconds(hours);
    return {
        name: "observability.retention-local",
        placement: "cluster",
        rules: [
            {
                alert: "PrometheusDataBeyondRetention",
                expr: `time() - prometheus_tsdb_lowest_timestamp_seconds > ${limit}`,
                for: "1h",
                severity: "warning",
                category: "retention",
                summary: "Prometheus {{ $labels.pod }} keeps data longer than its retention",
                description:
                    `Its oldest sample is {{ $value | humanizeDuration }} old; the contract is ` +
                    `${config.retention.metrics.local} (plus block slack).`,
                runbook: {
                    symptom:
                        "The oldest sample in the cluster's Prometheus is older than `retention.metrics.local` allows.",
                    impact: "The retention contract is not applied: data kept longer than promised, and a volume filling.",
                    diagnosis: [
                        "time() - prometheus_tsdb_lowest_timestamp_seconds",
                        "prometheus_tsdb_storage_blocks_bytes",
                        "rate(prometheus_tsdb_compactions_failed_total[1h])",
                    ],
                    fix: [
                        "Failing compactions keep expired blocks: see PrometheusTSDBCompactionsFailing and the pod's log.",
                        "Check the running flags (`/api/v1/status/flags`, `storage.tsdb.retention.time`) against the rendered Prometheus resource.",
                    ],
                },
            },
            {
                alert: "PrometheusRetentionBySize",
                expr: "increase(prometheus_tsdb_size_retentions_total[1h]) > 0",
                for: "0m",
                severity: "warning",
                category: "retention",
                summary: "Prometheus {{ $labels.pod }} deletes data before its retention time: the volume is too small",
                description:
                    `Blocks were deleted {{ $value | humanize }} times in the last hour to stay under the size ` +
                    `limit, before ${config.retention.metrics.local} of data was kept.`,
                runbook: {
                    symptom: "Prometheus deleted blocks because the size limit (85% of its volume) was reached.",
                    impact:
                        "The local retention contract is not met: less history than promised while the link to " +
                        "main is down, and for local dashboards.",
                    diagnosis: [
                        "increase(prometheus_tsdb_size_retentions_total[1d])",
                        "prometheus_tsdb_storage_blocks_bytes",
                        "prometheus_tsdb_head_series",
                    ],
                    fix: [
                        "Raise `metrics.storageSize` (the volume must be expandable) or shorten `retention.metrics.local`.",
                        'A series explosion: find the job with `topk(10, count by (job) ({__name__=~".+"}))` and drop the offending labels.',
                    ],
                },
            },
        ],
    };
}
