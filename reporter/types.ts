/**
 * The weekly report as data: what the reporter collects, what the renderers (Markdown, HTML,
 * JSON) and the delivery channels read. Nothing here imports Pulumi; the reporter runs in a
 * CronJob from a bundle built at deploy time.
 *
 * Conventions: times are RFC 3339 strings in UTC; durations are minutes; ratios are 0-1; a value
 * the reporter could not read is `null`, never 0, and the reason is in `Report.warnings`.
 */

/** Version of the JSON document; bumped on any incompatible change. */
export const REPORT_SCHEMA_VERSION = 2;

/** Where to look: a Grafana dashboard or Explore view, a runbook, Alertmanager's alerts and silences in Grafana. */
export interface Link {
    /** What the link opens, in a word or two: `Explore`, `runbook`, `silence`. */
    label: string;
    /** An absolute http(s) URL. */
    url: string;
}

/** When something happened: the span from its first minute to its last, as far as the roll-ups tell. */
export interface Span {
    /** RFC 3339. */
    from: string;
    /** RFC 3339. */
    to: string;
}

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

/**
 * How soon a reason asks for someone: firing now, to act on this week (a volume filling, a
 * certificate expiring), or what happened during the week.
 */
export type Urgency = "now" | "action" | "past";

/** One reason a cluster's score is below 100. */
export interface ScoreReason {
    /** The deduction's stable name (`node-downtime`), the same for both weeks. */
    term: string;
    /** Whole points taken off. */
    points: number;
    /** Which section it comes from. */
    section: "availability" | "alerts" | "workloads" | "capacity" | "stack" | "data";
    urgency: Urgency;
    /** One sentence, with the figure: "node talos-w2 was not ready for 120 minutes". */
    text: string;
    /** Where to look (this week's reasons only). */
    links: Link[];
}

export interface Score {
    /** 0-100: 100 minus the reasons' points, never below 0. */
    value: number;
    /** Last week's score, by the same terms from last week's figures; null when last week is unknown. */
    previous: number | null;
    /** Most urgent first, then most points; their points add up to 100 - value (before the floor at 0). */
    reasons: ScoreReason[];
    /** Last week's reasons, the same terms from last week's figures. */
    previousReasons: ScoreReason[];
    /** Terms this week's score could not count, each with why (a query failed). */
    lacks: string[];
    /** Terms last week's score could not count, each with why. */
    previousLacks: string[];
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
    /** From its first minute not Ready to its last; null when the hours could not be read. */
    span: Span | null;
    link: Link | null;
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
    /** From the first hour without data to the end of the last (hour resolution); null without a gap. */
    span: Span | null;
    link: Link | null;
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
    /** From its first minute firing to its last; null when the hours could not be read. */
    span: Span | null;
    /** Explore over that span, and its runbook when it has one. */
    links: Link[];
}

export interface ActiveAlert {
    alertname: string;
    severity: string;
    /** When it started (RFC 3339). */
    since: string;
    summary: string;
    /** Labels that say where (namespace, pod, node, …), without alertname, severity and cluster. */
    labels: Record<string, string>;
    /** The alert's `runbook_url` annotation, as Alertmanager has it; empty without one. */
    runbookAnnotation: string;
    /** Its runbook, when a reader can open it; otherwise why not. */
    runbook: Link | null;
    runbookMissing: string;
    /** Grafana's silence form for it, filled in with its labels. */
    silence: Link | null;
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
    link: Link | null;
}

export interface PodMinutes {
    namespace: string;
    pod: string;
    minutes: number;
    span: Span | null;
    link: Link | null;
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
    link: Link | null;
}

/** One thing the remediator did, or would have done in dry-run, from its audit line. */
export interface RemediationAction {
    /** RFC 3339. */
    at: string;
    /** `scale`, `gitops`, `dry-run`. */
    mode: string;
    /** `acted` or `would-act`. */
    outcome: string;
    namespace: string;
    kind: string;
    name: string;
    /** The budget alert that asked for it. */
    alertname: string;
    /** What the workload used, as the alert measured it. */
    value: string;
    /** Its budget, in the alert's unit; null when the line has none. */
    budget: number | null;
    /** The merge request, in gitops mode. */
    url: string | null;
}

export interface Remediation {
    /** Actions by kind (`scaled`, `dry-run`, `merge-request`, `refused`, …) over the window. */
    actions: Record<string, number>;
    /** Merge (pull) requests opened. */
    mergeRequests: number;
    /** Each action with its workload, budget and usage; null when the audit lines could not be read. */
    details: RemediationAction[] | null;
    /** Why `details` is null. */
    detailsMissing: string;
    /** The remediator's audit lines in Explore over the window. */
    link: Link | null;
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
    link: Link | null;
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

/**
 * Last week's figures the score needs beside the compared ones, read the same way at the end
 * of last week; a figure is null when its query failed.
 */
export interface PreviousWeek {
    /** Minutes not Ready, by node. */
    nodeDowntime: { node: string; minutes: number }[] | null;
    /** Hours without data, by signal (null where not collected or unknown). */
    gapHours: Record<Signal, number | null>;
    crashLoops: { namespace: string; pod: string }[] | null;
    pending: { namespace: string; pod: string }[] | null;
    /** Volumes listed at the end of last week, as `capacity.disks` and `capacity.pvcs`. */
    volumes: { name: string; used: number; daysToFull: number | null }[] | null;
    /** Critical alerts firing in the last hour of last week (the roll-ups; Alertmanager only knows the present). */
    criticalFiring: string[] | null;
}

export interface ClusterReport {
    cluster: string;
    role: "main" | "sub";
    score: Score;
    /** A score of 100 with nothing firing and nothing to act on: the report gives it one line. */
    healthy: boolean;
    /** The cluster's dashboard in Grafana over the window. */
    dashboard: Link | null;
    /** Why a figure is `null`, by its path in this object (`stack.remoteWriteFailed`); a query failure otherwise. */
    notes: Record<string, string>;
    previousWeek: PreviousWeek;
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

/** An alert firing now, with its cluster, for the fleet's summary. */
export interface FleetAlert extends ActiveAlert {
    cluster: string;
}

/** Something to act on this week, with where to look. */
export interface ActionItem {
    /** The cluster it concerns; null for the fleet (a certificate of main's PKI). */
    cluster: string | null;
    text: string;
    links: Link[];
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
    /** Every alert firing now, most severe first. */
    firing: FleetAlert[];
    /** What to act on this week: volumes filling, certificates expiring; soonest first. */
    actions: ActionItem[];
    /** Clusters with nothing to report (the `healthy` ones). */
    healthy: string[];
}

/** Where the report's links go, and what a reader needs to open them. */
export interface ReportLinks {
    /** Grafana's home. */
    grafana: Link | null;
    /** What a reader must do first for the Grafana links to open (a port-forward), when anything. */
    grafanaNote: string;
    /** Alertmanager's alerts and silences, in Grafana. */
    alerts: Link | null;
    silences: Link | null;
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
    links: ReportLinks;
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
