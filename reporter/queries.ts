import { promString, REPORT_SERIES as S } from "./series";

/**
 * Every query of the weekly report, by id. They read the hourly roll-ups (components/alerting/rules/report.ts), so
 * each one touches 168 samples per series for a week. The benchmark issues the same list
 * directly to measure what the reporter adds on top of its queries.
 *
 * The ranges stop 1 ms short of a whole week (day): a roll-up sample stamped exactly at the
 * window's start covers the hour before it, which belongs to the previous window. Prometheus 2
 * includes both ends of a range, Prometheus 3 only the last; trimmed, both count each hour once.
 */

export const WEEK_RANGE = "6d23h59m59s999ms";
export const DAY_RANGE = "23h59m59s999ms";
export const HOUR_RANGE = "59m59s999ms";

export interface InstantQuery {
    expr: string;
    /** Also run at the previous window's end, for the week-over-week comparison and last week's score. */
    compare: boolean;
    /** Run at the previous window's end only. */
    previousOnly?: boolean;
}

const w = WEEK_RANGE;
const instant = (expr: string, compare = false): InstantQuery => ({ expr, compare });
const previousOnly = (expr: string): InstantQuery => ({ expr, compare: true, previousOnly: true });

/** Instant queries, run at the window's end (and the previous window's end when `compare`). */
export function instantQueries(certificateMetric: string) {
    return {
        nodesReady: instant(`avg by (cluster) (avg_over_time(${S.nodeReady}[${w}]))`, true),
        nodeDown: instant(
            `sum by (cluster, node) (count_over_time(${S.nodeReady}[${w}]) - sum_over_time(${S.nodeReady}[${w}])) * 60 > 0.5`,
            true,
        ),
        apiServer: instant(`avg by (cluster) (avg_over_time(${S.apiServerUp}[${w}]))`, true),
        controlPlane: instant(`avg by (cluster, component) (avg_over_time(${S.controlPlaneReady}[${w}]))`, true),
        metricHours: instant(`sum by (cluster) (count_over_time(${S.upSamples}[${w}]))`, true),
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
        crashLoopHours: instant(`sum by (cluster, namespace, pod) (count_over_time(${S.crashLoop}[${w}]))`, true),
        pendingMinutes: instant(`sum by (cluster, namespace, pod) (sum_over_time(${S.pendingMinutes}[${w}]))`, true),
        topCpu: instant(`topk by (cluster) (5, avg_over_time(${S.workloadCpu}[${w}]))`),
        topMemory: instant(`topk by (cluster) (5, max_over_time(${S.workloadMemory}[${w}]))`),
        cpuUsed: instant(`avg by (cluster) (avg_over_time(${S.cpuUsed}[${w}]))`, true),
        cpuAllocatable: instant(`avg by (cluster) (avg_over_time(${S.cpuAllocatable}[${w}]))`, true),
        memoryUsed: instant(`avg by (cluster) (avg_over_time(${S.memoryUsed}[${w}]))`, true),
        memoryAllocatable: instant(`avg by (cluster) (avg_over_time(${S.memoryAllocatable}[${w}]))`, true),
        diskUsed: instant(`last_over_time(${S.diskUsed}[2h])`, true),
        diskSlope: instant(`deriv(${S.diskUsed}[${w}])`, true),
        pvcUsed: instant(`last_over_time(${S.pvcUsed}[2h])`, true),
        pvcSlope: instant(`deriv(${S.pvcUsed}[${w}])`, true),
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
        spanHours: instant(`sum by (cluster) (count_over_time(${S.spans}[${w}]))`, true),
        criticalFiring: previousOnly(
            `sum by (cluster, alertname) (last_over_time(${S.alertMinutes}{severity="critical"}[${HOUR_RANGE}])) > 0`,
        ),
        certificates: instant(certificateMetric),
    } satisfies Record<string, InstantQuery>;
}

export type InstantId = keyof ReturnType<typeof instantQueries>;

/** A PromQL regular expression matching exactly these values. */
export function exactly(values: readonly string[]): string {
    return promString([...new Set(values)].map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"));
}

/**
 * The hours of an incident, read once the week's figures show one: each roll-up's raw samples
 * over the week (one per hour, at the time it was evaluated), for the series that had one. An
 * instant query of a range selector answers them as they are stored, with their timestamps.
 */
export const TIMELINES = {
    /** Share of the hour each node was Ready. */
    nodeReady: (nodes: readonly string[]) => `${S.nodeReady}{node=~${exactly(nodes)}}[${WEEK_RANGE}]`,
    /** Alert-minutes firing in the hour. */
    alertMinutes: (alerts: readonly string[]) => `${S.alertMinutes}{alertname=~${exactly(alerts)}}[${WEEK_RANGE}]`,
    /** 1 for each hour a pod was crash-looping. */
    crashLoop: (pods: readonly string[]) => `${S.crashLoop}{pod=~${exactly(pods)}}[${WEEK_RANGE}]`,
    /** Minutes of the hour a pod was Pending. */
    pending: (pods: readonly string[]) => `${S.pendingMinutes}{pod=~${exactly(pods)}}[${WEEK_RANGE}]`,
    /** Samples of `up` in the hour: an hour without any is missing. */
    upSamples: (clusters: readonly string[]) => `${S.upSamples}{cluster=~${exactly(clusters)}}[${WEEK_RANGE}]`,
} as const;

export type TimelineId = keyof typeof TIMELINES;

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
    /** The remediator's audit lines of actions taken or, in dry-run, that would have been. */
    remediation: (cluster: string, namespace: string, service: string) =>
        `{cluster=${JSON.stringify(cluster)}, namespace=${JSON.stringify(namespace)}, service=${JSON.stringify(service)}}` +
        ' |~ `"outcome":"(acted|would-act)"`',
} as const;
