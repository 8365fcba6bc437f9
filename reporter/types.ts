/**
 * The weekly report as data: what the reporter collects, what the renderers (Markdown, HTML,
 * JSON) and the delivery channels read. Nothing here imports Pulumi; the reporter runs in a
 * CronJob from a bundle built at deploy time.
 *
 * Conventions: times are RFC 3339 strings in UTC; durations are minutes; ratios are 0-1; a value
 * the reporter could not read is `null`, never 0, and the reason is in `Report.warnings`.
 */

/** Version of the JSON document; bumped on any incompatible change. */
export const REPORT_SCHEMA_VERSION = 1;

/** A value this week and the same value the week before (`null` where unknown). */
export interface Compared {
    current: number | null;
    previous: number | null;
}

/** An ISO 8601 week: the week of the window's midpoint names the report. */
export interface IsoWeek {
    year: number;
    week: number;
}

export interface Window {
    /** Inclusive start (RFC 3339). */
    start: string;
    /** Exclusive end (RFC 3339): the time the report was asked for. */
    end: string;
}

/** One reason a cluster's score is below 100. */
export interface ScoreReason {
    /** Points taken off. */
    points: number;
    /** Which section it comes from. */
    section: "availability" | "alerts" | "workloads" | "capacity" | "stack" | "data";
    /** One sentence, with the figure: "node talos-w2 was not ready for 120 minutes". */
    text: string;
}

export interface Score {
    /** 0-100. */
    value: number;
    /** Last week's score, computed the same way from last week's figures. */
    previous: number | null;
    /** Largest first; their points add up to 100 - value (before the floor at 0). */
    reasons: ScoreReason[];
}

/**
 * A daily series over the window, for the small charts: 7 values, oldest first; value i covers
 * the 24 hours from `window.start` plus i days.
 */
export type Daily = (number | null)[];

export interface NodeDowntime {
    node: string;
    /** Minutes not Ready during the window. */
    minutes: number;
}

export interface ComponentAvailability {
    /** `kube-apiserver`, `kube-controller-manager`, `kube-scheduler`, `etcd`. */
    component: string;
    /** Share of the window the component was up/ready on every control-plane node (0-1). */
    availability: Compared;
}

export type Signal = "metrics" | "logs" | "traces";

export interface SignalArrival {
    signal: Signal;
    /** Hours of the window without any data from the cluster; null when the signal is not collected. */
    gapHours: number | null;
}

export interface Availability {
    /** Average share of nodes Ready (0-1). */
    nodesReady: Compared;
    /** Nodes that were not Ready at some point, most minutes first. */
    nodeDowntime: NodeDowntime[];
    /** Share of the window the API server answered its scrapes (0-1). */
    apiServer: Compared;
    controlPlane: ComponentAvailability[];
    signals: SignalArrival[];
}

export interface AlertStat {
    alertname: string;
    severity: string;
    /** Times it started firing. */
    firings: number;
    /** Sum over its instances of the minutes spent firing. */
    firingMinutes: number;
}

export interface ActiveAlert {
    alertname: string;
    severity: string;
    /** When it started (RFC 3339). */
    since: string;
    summary: string;
    /** Labels that say where (namespace, pod, node, …), without alertname, severity and cluster. */
    labels: Record<string, string>;
}

export interface Alerts {
    /** Firings by severity. */
    bySeverity: Record<string, Compared>;
    /** Most firings first (then most minutes), at most 5. */
    noisiest: AlertStat[];
    /** Alert-minutes firing over the window. */
    firingMinutes: Compared;
    /** Firing at report time, from Alertmanager (active, not silenced, not inhibited). */
    firingNow: ActiveAlert[];
    /** Alert-minutes firing per day. */
    daily: Daily;
}

export interface PodCount {
    namespace: string;
    pod: string;
    count: number;
}

export interface PodMinutes {
    namespace: string;
    pod: string;
    minutes: number;
}

export interface Consumer {
    namespace: string;
    workload: string;
    /** Cores (CPU, average over the window) or bytes (memory, peak working set). */
    value: number;
}

export interface BudgetStat {
    namespace: string;
    workload: string;
    alertname: string;
    /** Minutes the budget alert was pending (near) or firing (over). */
    pendingMinutes: number;
    firingMinutes: number;
}

export interface Remediation {
    /** Actions by kind (`scaled`, `dry-run`, `merge-request`, `refused`, …) over the window. */
    actions: Record<string, number>;
    /** Merge (pull) requests opened. */
    mergeRequests: number;
}

export interface Workloads {
    restarts: Compared;
    /** Pods with the most container restarts, at most 5. */
    topRestarts: PodCount[];
    oomKills: Compared;
    topOomKills: PodCount[];
    /** Pods that were in CrashLoopBackOff, and for how many hours of the window (hour resolution). */
    crashLoops: PodMinutes[];
    /** Pods Pending for more than a few minutes in an hour, and for how long. */
    pending: PodMinutes[];
    /** Largest average CPU users (cores), at most 5. */
    topCpu: Consumer[];
    /** Largest peak memory users (bytes), at most 5. */
    topMemory: Consumer[];
    /** Non-critical workloads whose budget alerts were pending or firing. */
    budgets: BudgetStat[];
    remediation: Remediation;
    /** Container restarts per day. */
    daily: Daily;
}

export interface FillForecast {
    /** Node and mount point, or namespace and PVC. */
    name: string;
    /** Share used at the end of the window (0-1). */
    used: number;
    /** Days until full at the week's rate; null when not filling. */
    daysToFull: number | null;
}

export interface Capacity {
    cpuUsedCores: Compared;
    cpuAllocatableCores: Compared;
    memoryUsedBytes: Compared;
    memoryAllocatableBytes: Compared;
    /** Filesystems over 80 % used or full within 30 days, fullest first. */
    disks: FillForecast[];
    pvcs: FillForecast[];
    /** Largest etcd database among the members (bytes). */
    etcdBytes: Compared;
    /** CPU used / allocatable per day. */
    daily: Daily;
}

export interface Stack {
    /** Samples Prometheus failed to send to main. */
    remoteWriteFailed: Compared;
    /** Samples Prometheus dropped instead of sending. */
    samplesDropped: Compared;
    /** Log events the agents discarded. */
    logsDropped: Compared;
    /** Spans the trace gateway failed to export. */
    spansDropped: Compared;
}

export interface LogProducer {
    namespace: string;
    /** Bytes of error logs over the window. */
    bytes: number;
}

export interface ServiceLatency {
    service: string;
    /** 95th percentile of span duration over the window (seconds). */
    p95Seconds: number;
    /** Share of spans with status error (0-1). */
    errorRatio: number;
    /** Spans per second on average. */
    rate: number;
}

export interface ClusterReport {
    cluster: string;
    role: "main" | "sub";
    score: Score;
    availability: Availability;
    alerts: Alerts;
    workloads: Workloads;
    capacity: Capacity;
    stack: Stack;
    /** Top error-log producers; null when the cluster ships no logs or Loki could not be read. */
    errorLogs: LogProducer[] | null;
    /** Slowest and most failing services; null when no span metrics exist for the cluster. */
    services: ServiceLatency[] | null;
}

export interface Certificate {
    /** The PKI's certificate id (`thanos-receive`, `cluster-alpha`, …). */
    id: string;
    commonName: string;
    expiresAt: string;
    daysLeft: number;
}

export interface RetentionCompliance {
    store: Signal;
    /** Minutes the store's retention alert fired over the window; 0 is compliant. */
    violationMinutes: number;
}

export interface FleetReport {
    clusters: number;
    /** Lowest cluster score and its cluster. */
    worst: { cluster: string; score: number } | null;
    /** Mean of the clusters' scores. */
    score: Compared;
    firingMinutes: Compared;
    restarts: Compared;
    /** mTLS certificates of the fleet PKI expiring within 30 days of the report. */
    certificates: Certificate[];
    retention: RetentionCompliance[];
    /** Firing now across the fleet, by severity. */
    firingNow: Record<string, number>;
}

export interface Report {
    schemaVersion: typeof REPORT_SCHEMA_VERSION;
    /** Title line: "Weekly health report 2026-W47". */
    title: string;
    week: IsoWeek;
    window: Window;
    previousWindow: Window;
    /** When the report was made (RFC 3339). */
    generatedAt: string;
    /** The IANA time zone dates are shown in. */
    timeZone: string;
    fleet: FleetReport;
    /** Lowest score first. */
    clusters: ClusterReport[];
    /** Queries that failed or timed out, and what is missing because of them. */
    warnings: string[];
}

/** The report in every output format, ready for the delivery channels. */
export interface RenderedReport {
    /** Mail subject, chat title: "Weekly health report 2026-W47: 2 clusters, lowest score 72 (alpha)". */
    subject: string;
    /** Short plain text (a few lines) for chat messages. */
    summary: string;
    markdown: string;
    html: string;
    json: string;
    /** Repository path of the Markdown: `reports/2026-W47.md`. */
    path: string;
}
