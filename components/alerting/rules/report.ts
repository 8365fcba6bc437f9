import { REPORT_CRONJOB } from "../../../reporter/keys";
import { REPORT_SERIES } from "../../../reporter/series";
import {
    durationSeconds,
    formatDuration,
    promString,
    sumOverCounters,
    type RecordingRule,
    type RuleGroup,
} from "./model";

/**
 * Hourly roll-ups the weekly report reads. A 7-day range over raw series (every container's CPU
 * counter, every ALERTS sample) is heavy; these groups evaluate once an hour over the last hour,
 * so the report sums or averages 168 small samples per series instead.
 *
 * Every rule keeps `cluster` in its `by` clause: a cluster's own Prometheus has no such label
 * (it is an external label, added when the samples are shipped), so locally the clause is a
 * no-op; over the fleet's data the same expression keeps clusters apart. The reporter reads the
 * rule names from here, so a renamed rule cannot silently empty a section.
 */

/** The interval of the roll-up groups: each sample covers exactly the hour before it. */
export const REPORT_INTERVAL = "1h";

/** Prometheus' rule evaluation interval on every cluster (set in the chart values too). */
export const EVALUATION_INTERVAL_SECONDS = 30;

/** The Prometheus operator's default scrape interval, which the stack keeps for every target. */
export const SCRAPE_INTERVAL_SECONDS = 30;

/** The counters of spans the trace gateway gives up on: failed sends, and spans its full queue refused. */
export const GATEWAY_DROPPED_SPANS = ["otelcol_exporter_send_failed_spans", "otelcol_exporter_enqueue_failed_spans"];

/** Minutes one ALERTS sample stands for: alerts are written once per evaluation. */
const MINUTES_PER_EVALUATION = EVALUATION_INTERVAL_SECONDS / 60;

const CONTAINERS = 'container!="", image!=""';
const POD_OWNER = "namespace_workload_pod:kube_pod_owner:relabel";
const FILESYSTEMS = 'fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*", mountpoint!~"/run.*|/var/lib/kubelet/pods/.+"';
const CONTROL_PLANE_POD = "kube-(apiserver|controller-manager|scheduler)-.+";

export { REPORT_SERIES };

const S = REPORT_SERIES;

/** Counters summed over the hour, per cluster. */
const hourlyIncrease = (record: string, counter: string): RecordingRule => ({
    record,
    expr: `sum by (cluster) (increase(${counter}[1h]))`,
});

/** The roll-ups each cluster's Prometheus evaluates on its own data. */
export const reportClusterGroup: RuleGroup = {
    name: "observability.report",
    placement: "cluster",
    interval: REPORT_INTERVAL,
    rules: [
        {
            record: S.nodeReady,
            expr: 'avg by (cluster, node) (avg_over_time(kube_node_status_condition{condition="Ready", status="true"}[1h]))',
        },
        { record: S.apiServerUp, expr: 'avg by (cluster) (avg_over_time(up{job="apiserver"}[1h]))' },
        {
            record: S.controlPlaneReady,
            expr:
                "avg by (cluster, component) (label_replace(avg_over_time(" +
                `kube_pod_status_ready{namespace="kube-system", condition="true", pod=~"${CONTROL_PLANE_POD}"}[1h]), ` +
                '"component", "$1", "pod", "(kube-(?:apiserver|controller-manager|scheduler))-.+"))' +
                ' or label_replace(avg by (cluster) (avg_over_time(up{job="kube-etcd"}[1h])), "component", "etcd", "", "")',
        },
        { record: S.upSamples, expr: "sum by (cluster) (count_over_time(up[1h]))" },
        {
            record: S.alertMinutes,
            expr: `sum by (cluster, alertname, severity, category) (count_over_time(ALERTS{alertstate="firing"}[1h])) * ${MINUTES_PER_EVALUATION}`,
        },
        {
            // A firing series with no firing sample one evaluation earlier has just started.
            record: S.alertStarts,
            expr:
                "sum by (cluster, alertname, severity, category) (count_over_time(" +
                `(ALERTS{alertstate="firing"} unless ALERTS{alertstate="firing"} offset ${EVALUATION_INTERVAL_SECONDS}s)` +
                `[1h:${EVALUATION_INTERVAL_SECONDS}s]))`,
        },
        {
            record: S.budgetMinutes,
            expr: `sum by (cluster, namespace, workload, alertname, alertstate) (count_over_time(ALERTS{remediation="true"}[1h])) * ${MINUTES_PER_EVALUATION}`,
        },
        {
            record: S.restarts,
            expr: "sum by (cluster, namespace, pod) (increase(kube_pod_container_status_restarts_total[1h])) > 0",
        },
        {
            record: S.oomKills,
            expr:
                "sum by (cluster, namespace, pod) ((increase(kube_pod_container_status_restarts_total[1h]) > 0)" +
                ' and on (cluster, namespace, pod, container) (kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} == 1))',
        },
        {
            record: S.crashLoop,
            expr: 'max by (cluster, namespace, pod) (max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[1h])) == 1',
        },
        {
            // Only pods Pending for more than 5 minutes of the hour: every pod is Pending briefly at start.
            record: S.pendingMinutes,
            expr: 'sum by (cluster, namespace, pod) (avg_over_time(kube_pod_status_phase{phase="Pending"}[1h])) * 60 > 5',
        },
        {
            record: S.workloadCpu,
            expr:
                `sum by (cluster, namespace, workload) (sum by (cluster, namespace, pod) (rate(container_cpu_usage_seconds_total{${CONTAINERS}}[1h]))` +
                ` * on (cluster, namespace, pod) group_left (workload) ${POD_OWNER})`,
        },
        {
            record: S.workloadMemory,
            expr:
                `sum by (cluster, namespace, workload) (sum by (cluster, namespace, pod) (max_over_time(container_memory_working_set_bytes{${CONTAINERS}}[1h]))` +
                ` * on (cluster, namespace, pod) group_left (workload) ${POD_OWNER})`,
        },
        { record: S.cpuUsed, expr: `sum by (cluster) (rate(container_cpu_usage_seconds_total{${CONTAINERS}}[1h]))` },
        {
            record: S.cpuAllocatable,
            expr: 'sum by (cluster) (avg_over_time(kube_node_status_allocatable{resource="cpu"}[1h]))',
        },
        {
            record: S.memoryUsed,
            expr: `sum by (cluster) (avg_over_time(container_memory_working_set_bytes{${CONTAINERS}}[1h]))`,
        },
        {
            record: S.memoryAllocatable,
            expr: 'sum by (cluster) (avg_over_time(kube_node_status_allocatable{resource="memory"}[1h]))',
        },
        {
            record: S.diskUsed,
            expr:
                `1 - max by (cluster, instance, mountpoint) (node_filesystem_avail_bytes{${FILESYSTEMS}}` +
                ` / node_filesystem_size_bytes{${FILESYSTEMS}})`,
        },
        {
            record: S.pvcUsed,
            expr: "max by (cluster, namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes)",
        },
        { record: S.etcdBytes, expr: "max by (cluster) (max_over_time(etcd_mvcc_db_total_size_in_bytes[1h]))" },
        hourlyIncrease(S.remoteWriteFailed, "prometheus_remote_storage_samples_failed_total"),
        hourlyIncrease(S.samplesDropped, "prometheus_remote_storage_samples_dropped_total"),
        hourlyIncrease(S.logsDropped, "vector_buffer_discarded_events_total"),
        { record: S.spansDropped, expr: sumOverCounters("cluster", "increase", "1h", GATEWAY_DROPPED_SPANS) },
        {
            record: S.remediationActions,
            expr: "sum by (cluster, mode) (increase(observability_remediation_actions_total[1h]))",
        },
    ],
};

/**
 * Groups evaluated this often or less have their failures missed by kube-prometheus-stack's
 * PrometheusRuleFailures, which looks for one in every 5-minute window for 15 minutes.
 */
const SLOW_GROUP_SECONDS = 300;

/** The window failures of slow groups are counted over: one and a half of the roll-ups' interval. */
const SLOW_GROUP_WINDOW = formatDuration((durationSeconds(REPORT_INTERVAL) * 3) / 2);

/**
 * Failed evaluations of rule groups evaluated every 5 minutes or less often (the roll-ups), on
 * every Prometheus and, through main's Prometheus which scrapes it, the Thanos Ruler: such a
 * group fails once per evaluation, too seldom for PrometheusRuleFailures to ever fire.
 */
export const ruleEvaluationGroup: RuleGroup = {
    name: "observability.rule-evaluation",
    placement: "cluster",
    rules: [
        {
            alert: "RollupEvaluationFailing",
            expr:
                `sum by (job, rule_group) (increase(prometheus_rule_evaluation_failures_total[${SLOW_GROUP_WINDOW}])) > 0` +
                ` and on (job, rule_group) max by (job, rule_group) (prometheus_rule_group_interval_seconds) >= ${SLOW_GROUP_SECONDS}`,
            for: "0m",
            severity: "critical",
            category: "stack",
            summary: "{{ $labels.job }} fails to evaluate {{ $labels.rule_group }}",
            description:
                `{{ $value | humanize }} evaluations of {{ $labels.rule_group }}, a group evaluated every ${formatDuration(SLOW_GROUP_SECONDS)} ` +
                `or less often, failed in the last ${SLOW_GROUP_WINDOW}: the series it records have holes.`,
            runbook: {
                symptom: `A rule group evaluated every ${formatDuration(SLOW_GROUP_SECONDS)} or less often (the weekly report's hourly roll-ups) failed an evaluation.`,
                impact:
                    "Each failed evaluation leaves an hour out of the roll-ups: the weekly report's numbers for " +
                    "the cluster are wrong or missing. A rule that fails once fails every hour until fixed.",
                diagnosis: [
                    `sum by (job, rule_group) (increase(prometheus_rule_evaluation_failures_total[${SLOW_GROUP_WINDOW}]))`,
                    `prometheus_rule_group_interval_seconds >= ${SLOW_GROUP_SECONDS}`,
                ],
                fix: [
                    "The evaluator's log names the rule and the error: `kubectl -n <namespace> logs <prometheus or thanos-rule pod> | grep -i 'evaluating rule failed'`.",
                    "`vector cannot contain metrics with the same labelset`: a range function over several metric names at once; tag each counter with its name before adding them up, as the roll-ups do.",
                    "Query timeouts or sample limits: the roll-up reads too many series in an hour; find the metric's cardinality and drop the labels that explode it.",
                    "A rule changed by hand in the PrometheusRule or the Ruler's ConfigMap: `pulumi up` restores the generated one.",
                ],
            },
            timing: {
                condition: "an evaluation of such a group fails",
                detection: "0m",
                note: "A broken hourly roll-up fails at its next evaluation, up to an hour after the change that broke it.",
            },
        },
    ],
};

/**
 * A service's own latency and errors are those of the requests it serves: its client spans (its
 * calls to others) would count a slow or failing dependency twice, as the service graph does.
 */
const SERVER_SPANS = 'span_kind="SPAN_KIND_SERVER"';

/**
 * Roll-ups of the span metrics, which main's trace store generates straight into the metrics
 * store: only main's Thanos Ruler sees them. Latency and calls count server spans, as the service
 * health alerts do; the traffic roll-up counts every span.
 */
export const reportFleetGroup: RuleGroup = {
    name: "observability.report-traces",
    placement: "fleet",
    interval: REPORT_INTERVAL,
    rules: [
        {
            record: S.spanLatency,
            expr: `sum by (cluster, service, le) (increase(traces_spanmetrics_latency_bucket{${SERVER_SPANS}}[1h]))`,
        },
        {
            record: S.spanCalls,
            expr: `sum by (cluster, service, status_code) (increase(traces_spanmetrics_calls_total{${SERVER_SPANS}}[1h]))`,
        },
        { record: S.spans, expr: "sum by (cluster) (increase(traces_spanmetrics_calls_total[1h])) > 0" },
    ],
};

/**
 * The report's own health, on main: its last run failed (a channel refused it, or nothing could be
 * read), or no run succeeded for more than a week. kube-state-metrics reads both from the
 * CronJob's status; the reporter needs no metrics endpoint of its own.
 */
export function reportAlertGroup(namespace: string): RuleGroup {
    const selector = `namespace=${promString(namespace)}, cronjob="${REPORT_CRONJOB}"`;
    const scheduled = `max by (namespace, cronjob) (kube_cronjob_status_last_schedule_time{${selector}})`;
    const succeeded = `max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${selector}})`;
    return {
        name: "observability.report-health",
        placement: "cluster",
        rules: [
            {
                alert: "WeeklyReportNotDelivered",
                // A run scheduled after the last success, still not successful once its deadline has
                // passed; or no success for 8 days (the CronJob suspended, or its runs never start).
                expr:
                    `(${scheduled} > ${succeeded}) or (${scheduled} unless on (namespace, cronjob) ${succeeded})` +
                    ` or (time() - ${succeeded} > 8 * 86400)`,
                for: "45m",
                severity: "warning",
                category: "stack",
                summary: "The weekly health report was not delivered",
                description:
                    "The report's last scheduled run has not succeeded, or none has for 8 days: a delivery " +
                    "channel refused it, the fleet's stores could not be read, or the CronJob does not run.",
                runbook: {
                    symptom: "The last Job of the weekly-report CronJob failed or never finished.",
                    impact: "Nobody got this week's report, or some channels did not (e-mail, chat, Git history).",
                    diagnosis: [
                        `kube_cronjob_status_last_schedule_time{${selector}}`,
                        `kube_cronjob_status_last_successful_time{${selector}}`,
                        'kube_job_status_failed{job_name=~"weekly-report-.+"}',
                    ],
                    fix: [
                        "`kubectl -n <namespace> logs job/<failed job>`: the last line lists the channels that failed; each failure has its own line with the reason.",
                        "A channel's credential: check the `reportCredentials` secret and run `pulumi up`.",
                        "Re-run once fixed: `kubectl -n <namespace> create job --from=cronjob/weekly-report weekly-report-manual` (channels that worked get the report again).",
                    ],
                },
            },
        ],
    };
}
