import type { MainConfig } from "../../../config";
import { DEADMAN_LABEL, promString, type AlertRule, type RuleGroup } from "./model";

/**
 * Rules main's Thanos Ruler evaluates over the whole fleet's data, through Thanos Query: what
 * no single cluster can see about itself. Every expression keeps the `cluster` label of the
 * data it reads, so each alert says which cluster it is about.
 */

/** Every cluster main expects data from: itself and each configured sub cluster. */
function fleetClusters(config: Pick<MainConfig, "cluster" | "subClusters">): string[] {
    return [config.cluster.name, ...config.subClusters.map((sub) => sub.name)];
}

/** Window without data after which a signal counts as stopped; `for` adds one evaluation. */
const SILENCE = "3m";

/** The same expression for each cluster, joined with `or`: one series per silent cluster. */
function perCluster(clusters: readonly string[], expr: (cluster: string) => string): string {
    return clusters.map((cluster) => `(${expr(cluster)})`).join(" or ");
}

function deadman(signal: "metrics" | "logs" | "traces", rule: Omit<AlertRule, "labels" | "category">): AlertRule {
    return { ...rule, category: "deadman", labels: { [DEADMAN_LABEL.name]: DEADMAN_LABEL.value, signal } };
}

/** Per-cluster, per-signal dead-man's switch: main notices within 5 minutes when a cluster goes quiet. */
export function deadmanGroup(config: Pick<MainConfig, "cluster" | "subClusters">): RuleGroup {
    const clusters = fleetClusters(config);
    return {
        name: "observability.deadman",
        placement: "fleet",
        rules: [
            deadman("metrics", {
                alert: "ClusterMetricsAbsent",
                expr: perCluster(clusters, (c) => `absent_over_time(up{cluster=${promString(c)}}[${SILENCE}])`),
                for: "1m",
                severity: "critical",
                summary: "No metrics from cluster {{ $labels.cluster }}",
                description: `Main has received no sample from {{ $labels.cluster }} for ${SILENCE}: its Prometheus, or the link to main, is down.`,
                runbook: {
                    symptom: "Thanos Query holds no `up` series of the cluster from the last minutes.",
                    impact:
                        "Main is blind to the cluster: its dashboards go flat and fleet rules cannot see it. " +
                        "The cluster's own rules still run and still alert if the alert path works.",
                    diagnosis: [
                        'max by (cluster) (timestamp(up{cluster="<cluster>"}))',
                        'sum by (cluster) (rate(prometheus_remote_storage_samples_failed_total{cluster="<cluster>"}[5m]))',
                        'sum by (code) (rate(http_requests_total{handler="receive"}[5m]))',
                    ],
                    fix: [
                        "On the sub cluster: is Prometheus running (`kubectl -n <namespace> get pods`), and does its log show remote-write errors (TLS, DNS, 4xx)?",
                        "On main: is the remote-write exposure reachable, and the receive router healthy (ThanosReceiveErrors)?",
                        "A certificate past its renewal: see ObservabilityCertificateExpiring and run the rotation (`pulumi up` on main, then on the sub).",
                        "Samples resume from the sub's WAL once the link is back; nothing is lost within `retention.metrics.local`.",
                    ],
                },
            }),
            deadman("logs", {
                alert: "ClusterLogsAbsent",
                expr:
                    `label_replace(sum by (tenant) (increase(loki_distributor_lines_received_total{tenant=~${promString(clusters.join("|"))}}[${SILENCE}])), "cluster", "$1", "tenant", "(.+)") == 0 or ` +
                    perCluster(
                        clusters,
                        (c) =>
                            `label_replace(absent_over_time(loki_distributor_lines_received_total{tenant=${promString(c)}}[${SILENCE}]), "cluster", "$1", "tenant", "(.+)")`,
                    ),
                for: "1m",
                severity: "critical",
                summary: "No logs from cluster {{ $labels.cluster }}",
                description: `Loki has taken no log line from {{ $labels.cluster }} for ${SILENCE}.`,
                runbook: {
                    symptom: "Loki's distributors received no line for the cluster's tenant in the last minutes.",
                    impact: "The cluster's logs stop at main; the agents buffer them on disk until the buffer fills.",
                    diagnosis: [
                        "sum by (tenant) (rate(loki_distributor_lines_received_total[5m]))",
                        'max by (pod) (vector_buffer_size_bytes{cluster="<cluster>"} / vector_buffer_max_size_bytes{cluster="<cluster>"})',
                        'sum by (pod) (rate(vector_component_errors_total{cluster="<cluster>", component_kind="sink"}[5m]))',
                    ],
                    fix: [
                        "Agent sink errors on the cluster name the cause (TLS, 403 from the gateway, DNS).",
                        "Every cluster silent at once: Loki or its gateway on main is down; see LokiPushErrors.",
                        "The agents resend from their disk buffers once the path is back.",
                    ],
                },
            }),
            deadman("traces", {
                alert: "ClusterTracesStopped",
                expr:
                    `sum by (cluster) (increase(traces_spanmetrics_calls_total[${SILENCE}])) == 0` +
                    " and sum by (cluster) (increase(traces_spanmetrics_calls_total[6h])) > 0",
                for: "1m",
                severity: "warning",
                summary: "Traces from cluster {{ $labels.cluster }} stopped",
                description: `Spans from {{ $labels.cluster }} arrived in the last 6 hours but none for ${SILENCE}.`,
                runbook: {
                    symptom:
                        "Tempo's span metrics for the cluster stopped growing, after spans arrived earlier. A " +
                        "cluster that never sends traces does not alert.",
                    impact: "The cluster's traces stop at main; the gateway queues them on disk until the queue fills.",
                    diagnosis: [
                        'sum by (cluster) (rate(traces_spanmetrics_calls_total{cluster="<cluster>"}[5m]))',
                        'sum by (pod) (rate(otelcol_receiver_accepted_spans{cluster="<cluster>"}[5m]))',
                        'sum by (pod) (rate(otelcol_exporter_send_failed_spans{cluster="<cluster>"}[5m]))',
                    ],
                    fix: [
                        "Gateway accepting but failing to export: the path to main (TLS, exposure, Tempo); see TraceGatewayExportFailing.",
                        "Gateway accepting nothing: the applications stopped sending (a deploy, a sampling change) — confirm with their owners.",
                    ],
                },
            }),
        ],
    };
}

/** Alert delivery from each cluster, seen from main: a cluster cannot alert about its own broken alert path. */
export const alertPath: RuleGroup = {
    name: "observability.alert-path",
    placement: "fleet",
    rules: [
        {
            alert: "ClusterAlertDeliveryFailing",
            expr:
                "sum by (cluster) (rate(prometheus_notifications_errors_total[5m]))" +
                " / sum by (cluster) (rate(prometheus_notifications_sent_total[5m])) > 0.1" +
                " or sum by (cluster) (prometheus_notifications_alertmanagers_discovered) < 1",
            for: "10m",
            severity: "critical",
            category: "stack",
            summary: "Cluster {{ $labels.cluster }} cannot deliver its alerts to main",
            description:
                "{{ $labels.cluster }}'s Prometheus fails {{ $value | humanizePercentage }} of its alert " +
                "notifications, or has no Alertmanager. Its local alerts do not reach anyone.",
            runbook: {
                symptom: "The cluster's Prometheus reports failing alert notifications, or no Alertmanager discovered.",
                impact: "Alerts evaluated on the cluster (everything but the fleet rules) never reach a receiver.",
                diagnosis: [
                    'sum by (cluster, alertmanager) (rate(prometheus_notifications_errors_total{cluster="<cluster>"}[5m]))',
                    'prometheus_notifications_alertmanagers_discovered{cluster="<cluster>"}',
                ],
                fix: [
                    "The Prometheus log on the cluster names the error: TLS (certificate), DNS of the alert endpoint, or 4xx from the alert ingest.",
                    "403 from the alert ingest: the client certificate is not a cluster certificate of this fleet's CA.",
                    "Check the alert ingest front on main (`kubectl -n <namespace> get pods -l app.kubernetes.io/component=alert-ingest`).",
                ],
            },
        },
    ],
};

/** The 99th percentile threshold, as a multiple of the 95th percentile one (`alerting.serviceLatencySeconds`). */
export const TAIL_LATENCY_FACTOR = 2;

/** Server spans in 5 minutes below which a service's 99th percentile is too thin to alert on. */
export const TAIL_MIN_SPANS = 100;

/** Application health from Tempo's span metrics, per service of each cluster. */
export function serviceHealth(config: Pick<MainConfig, "alerting">): RuleGroup {
    const { serviceErrorRatio, serviceLatencySeconds } = config.alerting;
    const tailSeconds = serviceLatencySeconds * TAIL_LATENCY_FACTOR;
    const server = 'span_kind="SPAN_KIND_SERVER"';
    return {
        name: "observability.service-health",
        placement: "fleet",
        rules: [
            {
                alert: "ServiceErrorRateHigh",
                expr:
                    `sum by (cluster, service) (rate(traces_spanmetrics_calls_total{${server}, status_code="STATUS_CODE_ERROR"}[5m]))` +
                    ` / sum by (cluster, service) (rate(traces_spanmetrics_calls_total{${server}}[5m])) > ${serviceErrorRatio}` +
                    ` and sum by (cluster, service) (rate(traces_spanmetrics_calls_total{${server}}[5m])) > 0.1`,
                for: "10m",
                severity: "warning",
                category: "app",
                summary:
                    "Service {{ $labels.service }} on {{ $labels.cluster }} fails {{ $value | humanizePercentage }} of its requests",
                description:
                    `{{ $value | humanizePercentage }} of {{ $labels.service }}'s server spans ended in error over 5 minutes ` +
                    `(threshold ${serviceErrorRatio * 100}%, \`alerting.serviceErrorRatio\`).`,
                runbook: {
                    symptom: "The share of the service's server spans with status ERROR is above the threshold.",
                    impact: "Users of the service get errors.",
                    diagnosis: [
                        'sum by (span_name) (rate(traces_spanmetrics_calls_total{service="<service>", status_code="STATUS_CODE_ERROR"}[5m]))',
                        'sum by (client, server) (rate(traces_service_graph_request_failed_total{server="<service>"}[5m]))',
                    ],
                    fix: [
                        'Open failing traces in Grafana (Tempo, `{ resource.service.name = "<service>" && status = error }`) and follow them to their logs.',
                        "A failing dependency shows in the service graph as failed edges from the service.",
                        "A recent deploy: roll it back through GitOps.",
                    ],
                },
            },
            {
                alert: "ServiceLatencyHigh",
                expr:
                    `histogram_quantile(0.95, sum by (cluster, service, le) (rate(traces_spanmetrics_latency_bucket{${server}}[5m])))` +
                    ` > ${serviceLatencySeconds}`,
                for: "10m",
                severity: "warning",
                category: "app",
                summary: "Service {{ $labels.service }} on {{ $labels.cluster }} is slow",
                description:
                    `The 95th percentile of {{ $labels.service }}'s server spans is {{ $value | humanizeDuration }} ` +
                    `(threshold ${serviceLatencySeconds}s, \`alerting.serviceLatencySeconds\`).`,
                runbook: {
                    symptom: "The 95th percentile duration of the service's server spans is above the threshold.",
                    impact: "Users of the service wait; callers may time out.",
                    diagnosis: [
                        'histogram_quantile(0.95, sum by (span_name, le) (rate(traces_spanmetrics_latency_bucket{service="<service>", span_kind="SPAN_KIND_SERVER"}[5m])))',
                        'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))',
                    ],
                    fix: [
                        'Find the slow span names above, then open slow traces in Grafana (`{ resource.service.name = "<service>" && duration > 2s }`).',
                        "CPU throttling or a saturated dependency are the usual causes: compare with the service graph and the pod's CPU.",
                    ],
                },
            },
            {
                alert: "ServiceTailLatencyHigh",
                expr:
                    `histogram_quantile(0.99, sum by (cluster, service, le) (rate(traces_spanmetrics_latency_bucket{${server}}[5m])))` +
                    ` > ${tailSeconds}` +
                    ` and on (cluster, service) sum by (cluster, service) (increase(traces_spanmetrics_calls_total{${server}}[5m])) >= ${TAIL_MIN_SPANS}`,
                for: "10m",
                severity: "warning",
                category: "app",
                summary: "Service {{ $labels.service }} on {{ $labels.cluster }} has a slow tail",
                description:
                    `The 99th percentile of {{ $labels.service }}'s server spans is {{ $value | humanizeDuration }} ` +
                    `(threshold ${tailSeconds}s, ${TAIL_LATENCY_FACTOR} times \`alerting.serviceLatencySeconds\`), ` +
                    `over at least ${TAIL_MIN_SPANS} spans in 5 minutes.`,
                runbook: {
                    symptom:
                        `The 99th percentile duration of the service's server spans is above ${TAIL_LATENCY_FACTOR} times the ` +
                        "95th percentile threshold, however low the 95th percentile is.",
                    impact:
                        "One request in a hundred, or more, waits for seconds: callers with timeouts fail them, " +
                        "and a page that makes many calls hits the slow tail on most loads.",
                    diagnosis: [
                        'histogram_quantile(0.99, sum by (span_name, le) (rate(traces_spanmetrics_latency_bucket{service="<service>", span_kind="SPAN_KIND_SERVER"}[5m])))',
                        'histogram_quantile(0.95, sum by (span_name, le) (rate(traces_spanmetrics_latency_bucket{service="<service>", span_kind="SPAN_KIND_SERVER"}[5m])))',
                        'sum by (span_name, status_code) (rate(traces_spanmetrics_calls_total{service="<service>", span_kind="SPAN_KIND_SERVER"}[5m]))',
                    ],
                    fix: [
                        `Open the slowest traces in Grafana (\`{ resource.service.name = "<service>" && kind = server && duration > ${tailSeconds}s }\`): a tail is usually one span name, one dependency or one pod.`,
                        "A tail that is one pod: it is throttled, on a busy node or warming a cache; compare its CPU with its siblings' and restart or move it.",
                        "A tail of retries or timeouts towards a dependency: the service graph shows the slow edge; fix the dependency or the retry policy.",
                        "Garbage collection pauses and lock contention show as a tail without errors: profile the service.",
                    ],
                },
                timing: {
                    condition: "the service's slow requests start",
                    detection: "0m",
                    note:
                        "When more than 5% of requests turn slow at once, the first 5-minute rate that holds them " +
                        "shows it; a thinner tail (1 to 5%) needs up to 4 more minutes of the rate window.",
                },
            },
        ],
    };
}
