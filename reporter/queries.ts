import { REPORT_SERIES as S } from "../alerts/report";

/**
 * Every query of the weekly report, by id. They read the hourly roll-ups (alerts/report.ts), so
 * each one touches 168 samples per series for a week. The benchmark issues the same list
 * directly to measure what the reporter adds on top of its queries.
 *
 * The ranges stop 1 ms short of a whole week (day): a roll-up sample stamped exactly at the
 * window's start covers the hour before it, which belongs to the previous window. Prometheus 2
 * includes both ends of a range, Prometheus 3 only the last; trimmed, both count each hour once.
 */

export const WEEK_RANGE = "6d23h59m59s999ms";
export const DAY_RANGE = "23h59m59s999ms";

export interface InstantQuery {
    expr: string;
    /** Also run at the previous window's end, for the week-over-week comparison. */
    compare: boolean;
}

const w = WEEK_RANGE;
const instant = (expr: string, compare = false): InstantQuery => ({ expr, compare });

/** Instant queries, run at the window's end (and the previous window's end when `compare`). */
export function instantQueries(certificateMetric: string) {
    return {
        nodesReady: instant(`avg by (cluster) (avg_over_time(${S.nodeReady}[${w}]))`, true),
        nodeDown: instant(
            `sum by (cluster, node) (count_over_time(${S.nodeReady}[${w}]) - sum_over_time(${S.nodeReady}[${w}])) * 60 > 0.5`,
        ),
        apiServer: instant(`avg by (cluster) (avg_over_time(${S.apiServerUp}[${w}]))`, true),
        controlPlane: instant(`avg by (cluster, component) (avg_over_time(${S.controlPlaneReady}[${w}]))`, true),
        metricHours: instant(`sum by (cluster) (count_over_time(${S.upSamples}[${w}]))`),
        alertMinutes: instant(
            `sum by (cluster, alertname, severity, category) (sum_over_time(${S.alertMinutes}[${w}]))`,
            true,
        ),
        alertStarts: instant(
            `sum by (cluster, alertname, severity, category) (sum_over_time(${S.alertStarts}[${w}]))`,
            true,
        ),
        budgets: instant(
            `sum by (cluster, namespace, workload, alertname, alertstate) (sum_over_time(${S.budgetMinutes}[${w}]))`,
        ),
        restarts: instant(`sum by (cluster, namespace, pod) (sum_over_time(${S.restarts}[${w}]))`, true),
        oomKills: instant(`sum by (cluster, namespace, pod) (sum_over_time(${S.oomKills}[${w}]))`, true),
        crashLoopHours: instant(`sum by (cluster, namespace, pod) (count_over_time(${S.crashLoop}[${w}]))`),
        pendingMinutes: instant(`sum by (cluster, namespace, pod) (sum_over_time(${S.pendingMinutes}[${w}]))`),
        topCpu: instant(`topk by (cluster) (5, avg_over_time(${S.workloadCpu}[${w}]))`),
        topMemory: instant(`topk by (cluster) (5, max_over_time(${S.workloadMemory}[${w}]))`),
        cpuUsed: instant(`avg by (cluster) (avg_over_time(${S.cpuUsed}[${w}]))`, true),
        cpuAllocatable: instant(`avg by (cluster) (avg_over_time(${S.cpuAllocatable}[${w}]))`, true),
        memoryUsed: instant(`avg by (cluster) (avg_over_time(${S.memoryUsed}[${w}]))`, true),
        memoryAllocatable: instant(`avg by (cluster) (avg_over_time(${S.memoryAllocatable}[${w}]))`, true),
        diskUsed: instant(`last_over_time(${S.diskUsed}[2h])`),
        diskSlope: instant(`deriv(${S.diskUsed}[${w}])`),
        pvcUsed: instant(`last_over_time(${S.pvcUsed}[2h])`),
        pvcSlope: instant(`deriv(${S.pvcUsed}[${w}])`),
        etcdBytes: instant(`max by (cluster) (max_over_time(${S.etcdBytes}[${w}]))`, true),
        remoteWriteFailed: instant(`sum by (cluster) (sum_over_time(${S.remoteWriteFailed}[${w}]))`, true),
        samplesDropped: instant(`sum by (cluster) (sum_over_time(${S.samplesDropped}[${w}]))`, true),
        logsDropped: instant(`sum by (cluster) (sum_over_time(${S.logsDropped}[${w}]))`, true),
        spansDropped: instant(`sum by (cluster) (sum_over_time(${S.spansDropped}[${w}]))`, true),
        remediation: instant(`sum by (cluster, mode) (sum_over_time(${S.remediationActions}[${w}]))`),
        spanP95: instant(
            `histogram_quantile(0.95, sum by (cluster, service, le) (sum_over_time(${S.spanLatency}[${w}])))`,
        ),
        spanCalls: instant(`sum by (cluster, service, status_code) (sum_over_time(${S.spanCalls}[${w}]))`),
        spanHours: instant(`sum by (cluster) (count_over_time(${S.spans}[${w}]))`),
        certificates: instant(certificateMetric),
    } satisfies Record<string, InstantQuery>;
}

export type InstantId = keyof ReturnType<typeof instantQueries>;

/** Daily series for the charts: 7 points, one per day, each over the day before it. */
export const DAILY_QUERIES = {
    alertMinutes: `sum by (cluster) (sum_over_time(${S.alertMinutes}[${DAY_RANGE}]))`,
    restarts: `sum by (cluster) (sum_over_time(${S.restarts}[${DAY_RANGE}]))`,
    cpuRatio:
        `sum by (cluster) (avg_over_time(${S.cpuUsed}[${DAY_RANGE}]))` +
        ` / sum by (cluster) (avg_over_time(${S.cpuAllocatable}[${DAY_RANGE}]))`,
} as const;

export type DailyId = keyof typeof DAILY_QUERIES;

/** Loki stream selectors: every line of a cluster, and its error lines (the agents set `level`). */
export const LOG_SELECTORS = {
    all: (cluster: string) => `{cluster=${JSON.stringify(cluster)}}`,
    errors: (cluster: string) => `{cluster=${JSON.stringify(cluster)}, level="error"}`,
} as const;
