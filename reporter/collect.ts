import { Links } from "./links";
import type { AlertmanagerApi, LogLine, LokiApi, PrometheusApi, Sample, Series } from "./sources";
import {
    DAILY_QUERIES,
    instantQueries,
    LOG_SELECTORS,
    TIMELINES,
    type DailyId,
    type InstantId,
    type TimelineId,
} from "./queries";
import type { ReporterSettings } from "./settings";
import type {
    ActiveAlert,
    AlertStat,
    FleetAlert,
    ClusterReport,
    Compared,
    Daily,
    FillForecast,
    LogProducer,
    PodCount,
    PodMinutes,
    PreviousWeek,
    RemediationAction,
    ServiceLatency,
    SignalArrival,
    Certificate,
    RetentionCompliance,
    Span,
} from "./types";
import { DAY_MS, type Period } from "./week";

/**
 * Reads a week of the fleet from the three APIs and shapes it per cluster. Each query asks for
 * every cluster at once (grouped `by (cluster)`), so the number of queries does not grow with the
 * fleet; only Loki is asked per cluster, as each cluster is its own tenant. Once the week's
 * figures show incidents, one more query per kind of incident reads their hours, so that each
 * finding links to its time range. A query that fails leaves its figures `null` and a warning;
 * the report is still made.
 */

export interface Sources {
    prometheus: PrometheusApi;
    loki?: LokiApi;
    alertmanager: AlertmanagerApi;
}

/** A cluster's figures, before it is scored. */
export type Collected = Omit<ClusterReport, "score" | "healthy">;

export interface Collection {
    clusters: Collected[];
    /** Every alert firing now, with its cluster (`""` for one without); empty when Alertmanager could not be read. */
    firing: FleetAlert[];
    certificates: Certificate[];
    retention: RetentionCompliance[];
    warnings: string[];
    /** Queries issued, for the benchmark and the log. */
    queries: number;
}

const TOP = 5;
const HOURS_PER_WEEK = 168;
const HOUR = 3600;
const WEEK = 7 * 86400;
/** Filesystems and volumes listed: this full, or full within this many days. */
const FILL_LISTED = 0.8;
const FILL_HORIZON_DAYS = 30;
const CERTIFICATE_HORIZON_DAYS = 30;
/** Audit lines read per cluster at most: far more actions than the remediator's rate limit allows in a week. */
const AUDIT_LINES = 500;

type Answers<K extends string, V> = Partial<Record<K, V>>;

/** One request of a report: what it is (for warnings) and how to make it. */
export interface Read<K, T> {
    id: K;
    what: string;
    run: () => Promise<T>;
}

/**
 * Every request a report makes before it knows its incidents, by what its answer is for:
 * `collect` makes them concurrently, the benchmark's baseline one after the other, so both
 * always issue the same list. Loki's hours cover both weeks in one request per cluster.
 */
export function reportReads(sources: Sources, settings: ReporterSettings, period: Period) {
    const plan = instantQueries(settings.certificateMetric);
    const ids = Object.keys(plan) as InstantId[];
    const weekStart = period.end - WEEK;
    const firstDay = period.end - 6 * (DAY_MS / 1000);
    const loki = sources.loki;
    const logClusters = loki ? settings.clusters.filter((c) => c.logs) : [];
    const remediator = settings.remediator;
    return {
        current: ids
            .filter((id) => plan[id].previousOnly !== true)
            .map((id): Read<InstantId, Sample[]> => ({
                id,
                what: `query ${id}`,
                run: () => sources.prometheus.query(plan[id].expr, period.end),
            })),
        previous: ids
            .filter((id) => plan[id].compare)
            .map((id): Read<InstantId, Sample[]> => ({
                id,
                what: `query ${id} (previous week)`,
                run: () => sources.prometheus.query(plan[id].expr, period.previousEnd),
            })),
        daily: (Object.keys(DAILY_QUERIES) as DailyId[]).map((id): Read<DailyId, Series[]> => ({
            id,
            what: `daily ${id}`,
            run: () => sources.prometheus.queryRange(DAILY_QUERIES[id], firstDay, period.end, DAY_MS / 1000),
        })),
        errorLogs: logClusters.map((c): Read<string, Sample[]> => ({
            id: c.name,
            what: `error logs of ${c.name}`,
            run: () => loki!.volume(c.name, LOG_SELECTORS.errors(c.name), weekStart, period.end, ["namespace"], TOP),
        })),
        logHours: logClusters.map((c): Read<string, Series[]> => ({
            id: c.name,
            what: `log arrival of ${c.name}`,
            run: () => loki!.volumeRange(c.name, LOG_SELECTORS.all(c.name), period.end - 2 * WEEK, period.end, HOUR),
        })),
        remediation: (remediator === undefined ? [] : logClusters).map((c): Read<string, LogLine[]> => ({
            id: c.name,
            what: `remediation audit lines of ${c.name}`,
            run: () =>
                loki!.lines(
                    c.name,
                    LOG_SELECTORS.remediation(c.name, remediator!.namespace, remediator!.service),
                    weekStart,
                    period.end,
                    AUDIT_LINES,
                ),
        })),
        alerts: { id: "alerts", what: "alerts firing now", run: () => sources.alertmanager.firing() },
    };
}

/** The incidents' hours to read, by roll-up: the label values that had one this week. */
export type TimelinePlan = Partial<Record<TimelineId, string[]>>;

/** The second round of requests: each roll-up's hourly samples for the series with an incident. */
export function timelineReads(sources: Sources, period: Period, plan: TimelinePlan): Read<TimelineId, Series[]>[] {
    return (Object.keys(TIMELINES) as TimelineId[])
        .filter((id) => (plan[id] ?? []).length > 0)
        .map((id) => ({
            id,
            what: `hours of ${id}`,
            run: () => sources.prometheus.querySamples(TIMELINES[id](plan[id] ?? []), period.end),
        }));
}

/** One hour of a roll-up: the time it was evaluated at (seconds) and the minutes of the hour before it that count. */
interface HourMark {
    t: number;
    minutes: number;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/**
 * The span of the hours with activity: from the first to the last. With `exact` minutes, an
 * incident that runs on into the next hour is taken to fill the end of its first hour and the
 * start of its last, which places it to the minute; otherwise the whole first and last hours
 * count. Minutes are rounded outwards.
 */
export function spanOfHours(marks: HourMark[], exact: boolean): Span | null {
    const active = marks.filter((m) => m.minutes >= 0.5).sort((a, b) => a.t - b.t);
    const first = active[0];
    const last = active.at(-1);
    if (first === undefined || last === undefined) return null;
    const near = (t: number) => active.some((m) => Math.abs(m.t - t) < 90);
    const from = exact && near(first.t + HOUR) ? first.t - first.minutes * 60 : first.t - HOUR;
    const to = exact && near(last.t - HOUR) ? last.t - HOUR + last.minutes * 60 : last.t;
    return { from: iso(Math.floor(from / 60) * 60), to: iso(Math.ceil(to / 60) * 60) };
}

/**
 * The hours `up` sent nothing, from the hourly sample counts: a missing hour counts 60 minutes,
 * an hour next to one counts the share of a full hour's samples it lacks. Hours before the first
 * sample and after the last, within the week, are missing too.
 */
export function gapMarks(points: [number, number][], weekStart: number, end: number): HourMark[] {
    const sorted = [...points].sort((a, b) => a[0] - b[0]);
    const full = Math.max(0, ...sorted.map(([, v]) => v));
    const marks: HourMark[] = [];
    const firstAt = sorted[0]?.[0];
    if (firstAt === undefined || full === 0) return [];
    for (let t = firstAt - HOUR; t > weekStart + HOUR / 2; t -= HOUR) marks.push({ t, minutes: 60 });
    sorted.forEach(([t, v], i) => {
        const before = sorted[i - 1];
        if (before !== undefined)
            for (let x = before[0] + HOUR; x < t - HOUR / 2; x += HOUR) marks.push({ t: x, minutes: 60 });
        marks.push({ t, minutes: (1 - v / full) * 60 });
    });
    for (let t = (sorted.at(-1)?.[0] ?? end) + HOUR; t <= end; t += HOUR) marks.push({ t, minutes: 60 });
    marks.sort((a, b) => a.t - b.t);
    // Only hours next to a missing one count: elsewhere a short hour is a target that came or went.
    const missing = marks.filter((m) => m.minutes >= 59.5);
    return marks.filter((m) => m.minutes >= 59.5 || missing.some((x) => Math.abs(Math.abs(x.t - m.t) - HOUR) < 90));
}

/** A PromQL label matcher list: `cluster="alpha", node="w2"`. */
const matchers = (labels: Record<string, string>) =>
    Object.entries(labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(", ");

/** The fields of a remediator audit line the report shows; undefined for any other line. */
/**
 * Actions per mode: the hourly roll-up of the remediator's counter, or the audit lines where they
 * count more. An hourly `increase` misses a step that falls between one window's last sample and
 * the next window's first; the audit lines record every action, so the larger figure is the true one.
 */
export function actionCounts(
    rollup: readonly { labels: Record<string, string>; value: number }[],
    details: readonly RemediationAction[] | null,
): Record<string, number> {
    const actions: Record<string, number> = {};
    for (const s of rollup) actions[s.labels.mode ?? "unknown"] = Math.round(s.value);
    const logged: Record<string, number> = {};
    for (const d of details ?? [])
        if (d.outcome === "acted" || d.outcome === "would-act") logged[d.mode] = (logged[d.mode] ?? 0) + 1;
    for (const [mode, n] of Object.entries(logged)) actions[mode] = Math.max(actions[mode] ?? 0, n);
    return actions;
}

function auditAction(line: string): RemediationAction | undefined {
    let parsed: unknown;
    try {
        parsed = JSON.parse(line);
    } catch {
        return undefined;
    }
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const a = parsed as Record<string, unknown>;
    const str = (k: string) => (typeof a[k] === "string" ? (a[k] as string) : "");
    if (str("outcome") !== "acted" && str("outcome") !== "would-act") return undefined;
    return {
        at: str("time"),
        mode: str("mode"),
        outcome: str("outcome"),
        namespace: str("namespace"),
        kind: str("kind"),
        name: str("name"),
        alertname: str("alert"),
        value: str("value"),
        budget: typeof a.budget === "number" && Number.isFinite(a.budget) ? a.budget : null,
        url: str("url") === "" ? null : str("url"),
    };
}

export async function collect(sources: Sources, settings: ReporterSettings, period: Period): Promise<Collection> {
    const warnings: string[] = [];
    let queries = 0;
    const attempt = async <T>(what: string, task: () => Promise<T>): Promise<T | undefined> => {
        queries += 1;
        try {
            return await task();
        } catch (error) {
            warnings.push(`${what}: ${(error as Error).message}`);
            return undefined;
        }
    };
    const links = new Links(settings.links);
    const window: Span = { from: period.window.start, to: period.window.end };
    const weekStart = period.end - WEEK;

    const reads = reportReads(sources, settings, period);
    const current: Answers<InstantId, Sample[]> = {};
    const previous: Answers<InstantId, Sample[]> = {};
    const daily: Answers<DailyId, Series[]> = {};
    const firstDay = period.end - 6 * (DAY_MS / 1000);
    const loki = sources.loki;
    const errorLogs = new Map<string, Sample[] | undefined>();
    const logHours = new Map<string, Series[] | undefined>();
    const auditLines = new Map<string, LogLine[] | undefined>();
    let firing: FleetAlert[] | undefined;
    const firingByCluster = new Map<string, ActiveAlert[]>();

    await Promise.all([
        ...reads.current.map(async (r) => (current[r.id] = await attempt(r.what, r.run))),
        ...reads.previous.map(async (r) => (previous[r.id] = await attempt(r.what, r.run))),
        ...reads.daily.map(async (r) => (daily[r.id] = await attempt(r.what, r.run))),
        ...reads.errorLogs.map(async (r) => errorLogs.set(r.id, await attempt(r.what, r.run))),
        ...reads.logHours.map(async (r) => logHours.set(r.id, await attempt(r.what, r.run))),
        ...reads.remediation.map(async (r) => auditLines.set(r.id, await attempt(r.what, r.run))),
        (async () => {
            const alerts = await attempt(reads.alerts.what, reads.alerts.run);
            if (alerts === undefined) return;
            firing = [];
            for (const a of alerts) {
                const { alertname = "", severity = "none", cluster = "", ...rest } = a.labels;
                const runbookAnnotation = a.annotations.runbook_url ?? "";
                const runbook = links.runbook(alertname, runbookAnnotation);
                const active: ActiveAlert = {
                    alertname,
                    severity,
                    since: a.startsAt,
                    summary: a.annotations.summary ?? "",
                    labels: Object.fromEntries(
                        Object.entries(rest).filter(([k]) => k !== "category" && k !== "prometheus"),
                    ),
                    runbookAnnotation,
                    runbook: runbook.link,
                    runbookMissing: runbook.missing,
                    silence: links.silence(a.labels),
                };
                firing.push({ ...active, cluster });
                firingByCluster.set(cluster, [...(firingByCluster.get(cluster) ?? []), active]);
            }
        })(),
    ]);

    // The incidents' hours, for the links' time ranges.
    const valuesOf = (id: InstantId, label: string, keep: (s: Sample) => boolean = () => true) =>
        [...new Set((current[id] ?? []).filter(keep).map((s) => s.labels[label] ?? ""))].filter((v) => v !== "");
    const timelinePlan: TimelinePlan = {
        nodeReady: valuesOf("nodeDown", "node"),
        alertMinutes: valuesOf("alertMinutes", "alertname", (s) => s.value > 0),
        crashLoop: valuesOf("crashLoopHours", "pod"),
        pending: valuesOf("pendingMinutes", "pod"),
        upSamples: valuesOf("metricHours", "cluster", (s) => s.value > 0 && s.value < HOURS_PER_WEEK),
    };
    const timelines: Answers<TimelineId, Series[]> = {};
    await Promise.all(
        timelineReads(sources, period, timelinePlan).map(async (r) => (timelines[r.id] = await attempt(r.what, r.run))),
    );
    const hoursOf = (id: TimelineId, labels: Record<string, string>): [number, number][] | undefined => {
        const found = timelines[id];
        if (found === undefined) return undefined;
        return found
            .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
            .flatMap((s) => s.points);
    };
    const spanOf = (id: TimelineId, labels: Record<string, string>, minutes: (v: number) => number, exact: boolean) => {
        const points = hoursOf(id, labels);
        if (points === undefined) return null;
        const byHour = new Map<number, number>();
        for (const [t, v] of points) byHour.set(t, (byHour.get(t) ?? 0) + minutes(v));
        return spanOfHours(
            [...byHour].map(([t, m]) => ({ t, minutes: Math.min(60, m) })),
            exact,
        );
    };

    const of = (answers: Answers<InstantId, Sample[]>, id: InstantId, cluster: string) =>
        answers[id]?.filter((s) => s.labels.cluster === cluster);
    /** One number per cluster: null when the query failed or the cluster has no such series. */
    const one = (answers: Answers<InstantId, Sample[]>, id: InstantId, cluster: string): number | null => {
        const found = of(answers, id, cluster);
        return found === undefined || found.length === 0 ? null : found.reduce((sum, s) => sum + s.value, 0);
    };
    const compared = (id: InstantId, cluster: string): Compared => ({
        current: one(current, id, cluster),
        previous: one(previous, id, cluster),
    });
    /** A sum over series that may legitimately be none (no restarts): 0 then, null only when the query failed. */
    const total = (answers: Answers<InstantId, Sample[]>, id: InstantId, cluster: string): number | null => {
        const found = of(answers, id, cluster);
        return found === undefined ? null : found.reduce((sum, s) => sum + s.value, 0);
    };
    const totals = (id: InstantId, cluster: string): Compared => ({
        current: total(current, id, cluster),
        previous: total(previous, id, cluster),
    });
    const explore = (expr: string, span: Span | null = window) => links.explore("metrics", expr, span ?? window);
    const podCounts = (id: InstantId, cluster: string, expr: (l: Record<string, string>) => string): PodCount[] =>
        (of(current, id, cluster) ?? [])
            .map((s) => {
                const labels = { cluster, namespace: s.labels.namespace ?? "", pod: s.labels.pod ?? "" };
                return {
                    namespace: labels.namespace,
                    pod: labels.pod,
                    count: Math.round(s.value),
                    link: explore(expr(labels)),
                };
            })
            .filter((p) => p.count > 0)
            .sort((a, b) => b.count - a.count || a.pod.localeCompare(b.pod))
            .slice(0, TOP);
    const podMinutes = (
        answers: Answers<InstantId, Sample[]>,
        id: InstantId,
        cluster: string,
        unit: number,
        timeline: {
            id: TimelineId;
            minutes: (v: number) => number;
            exact: boolean;
            expr: (l: Record<string, string>) => string;
        },
    ): PodMinutes[] =>
        (of(answers, id, cluster) ?? [])
            .map((s) => {
                const labels = { cluster, namespace: s.labels.namespace ?? "", pod: s.labels.pod ?? "" };
                const span = spanOf(timeline.id, labels, timeline.minutes, timeline.exact);
                return {
                    namespace: labels.namespace,
                    pod: labels.pod,
                    minutes: Math.round(s.value * unit),
                    span,
                    link: explore(timeline.expr(labels), span),
                };
            })
            .filter((p) => p.minutes > 0)
            .sort((a, b) => b.minutes - a.minutes || a.pod.localeCompare(b.pod));
    const dailyOf = (id: DailyId, cluster: string): Daily => {
        const series = daily[id]?.find((s) => s.labels.cluster === cluster);
        return Array.from({ length: 7 }, (_, i) => {
            const t = firstDay + i * 86400;
            return series?.points.find(([at]) => Math.abs(at - t) < 1)?.[1] ?? (daily[id] === undefined ? null : 0);
        });
    };
    const forecasts = (
        answers: Answers<InstantId, Sample[]>,
        usedId: InstantId,
        slopeId: InstantId,
        cluster: string,
        name: (l: Record<string, string>) => string,
        expr: (l: Record<string, string>) => string,
    ): FillForecast[] | null => {
        const used = of(answers, usedId, cluster);
        if (used === undefined) return null;
        const slopes = of(answers, slopeId, cluster) ?? [];
        return used
            .map((s) => {
                const key = name(s.labels);
                const slope = slopes.find((x) => name(x.labels) === key)?.value ?? 0;
                const daysToFull = slope > 0 ? Math.max(0, (1 - s.value) / (slope * 86400)) : null;
                return { name: key, used: s.value, daysToFull, link: explore(expr(s.labels)) };
            })
            .filter((f) => f.used >= FILL_LISTED || (f.daysToFull !== null && f.daysToFull <= FILL_HORIZON_DAYS))
            .sort((a, b) => (a.daysToFull ?? Infinity) - (b.daysToFull ?? Infinity) || b.used - a.used);
    };
    const diskName = (l: Record<string, string>) => `${l.instance ?? ""}:${l.mountpoint ?? ""}`;
    const diskExpr = (l: Record<string, string>) => {
        const m = matchers({ cluster: l.cluster ?? "", instance: l.instance ?? "", mountpoint: l.mountpoint ?? "" });
        return `1 - node_filesystem_avail_bytes{${m}} / node_filesystem_size_bytes{${m}}`;
    };
    const pvcName = (l: Record<string, string>) => `${l.namespace ?? ""}/${l.persistentvolumeclaim ?? ""}`;
    const pvcExpr = (l: Record<string, string>) => {
        const m = matchers({
            cluster: l.cluster ?? "",
            namespace: l.namespace ?? "",
            persistentvolumeclaim: l.persistentvolumeclaim ?? "",
        });
        return `kubelet_volume_stats_used_bytes{${m}} / kubelet_volume_stats_capacity_bytes{${m}}`;
    };
    /** Why a figure read from `id` is unknown for a cluster. */
    const why = (answers: Answers<InstantId, Sample[]>, id: InstantId, week: "this week" | "last week") =>
        answers[id] === undefined
            ? `query ${id}${week === "last week" ? " (previous week)" : ""} failed, see the warnings`
            : `no data from this cluster ${week}`;

    const clusters = settings.clusters.map((c): Collected => {
        const name = c.name;
        const minutes = of(current, "alertMinutes", name);
        const starts = of(current, "alertStarts", name);
        const key = (l: Record<string, string>) => `${l.alertname ?? ""}\u0000${l.severity ?? ""}`;
        const stats = new Map<string, AlertStat>();
        for (const s of [...(minutes ?? []), ...(starts ?? [])]) {
            const k = key(s.labels);
            if (!stats.has(k)) {
                const alertname = s.labels.alertname ?? "";
                const severity = s.labels.severity ?? "none";
                stats.set(k, { alertname, severity, firings: 0, firingMinutes: 0, span: null, links: [] });
            }
        }
        for (const s of minutes ?? []) stats.get(key(s.labels))!.firingMinutes += s.value;
        for (const s of starts ?? []) stats.get(key(s.labels))!.firings += Math.round(s.value);
        for (const stat of stats.values()) {
            const labels = { cluster: name, alertname: stat.alertname, severity: stat.severity };
            stat.span = spanOf("alertMinutes", labels, (v) => v, true);
            const runbook = links.runbook(stat.alertname, "");
            stat.links = [
                explore(
                    `ALERTS{${matchers({ cluster: name, alertname: stat.alertname, alertstate: "firing" })}}`,
                    stat.span,
                ),
                ...(runbook.link === null ? [] : [runbook.link]),
            ];
        }
        const bySeverity: Record<string, Compared> = {};
        const weeks = [
            [current, "current"],
            [previous, "previous"],
        ] as const;
        for (const [answers, field] of weeks) {
            const found = of(answers, "alertStarts", name);
            if (found === undefined) continue;
            // Critical and warning always show, 0 included: a week without them is news too.
            for (const severity of ["critical", "warning"])
                (bySeverity[severity] ??= { current: null, previous: null })[field] = 0;
            for (const s of found) {
                const entry = (bySeverity[s.labels.severity ?? "none"] ??= { current: null, previous: null });
                entry[field] = (entry[field] ?? 0) + Math.round(s.value);
            }
        }
        for (const [answers, field] of weeks) {
            if (answers.alertStarts === undefined) continue;
            for (const entry of Object.values(bySeverity)) entry[field] ??= 0;
        }

        const notes: Record<string, string> = {};
        const noteCompared = (path: string, value: Compared, id: InstantId) => {
            if (value.current === null) notes[path] = why(current, id, "this week");
            if (value.previous === null) notes[`${path}.previous`] = why(previous, id, "last week");
        };

        // Data arrival: metrics from the roll-ups' own samples, logs from Loki's hours, traces from the span metrics.
        const gapOf = (answers: Answers<InstantId, Sample[]>, id: InstantId): number | null => {
            if (answers[id] === undefined) return null;
            return HOURS_PER_WEEK - Math.min(HOURS_PER_WEEK, one(answers, id, name) ?? 0);
        };
        const metricGap = gapOf(current, "metricHours");
        const metricSpan =
            metricGap === null || metricGap === 0
                ? null
                : metricGap >= HOURS_PER_WEEK
                  ? window
                  : (() => {
                        const points = hoursOf("upSamples", { cluster: name });
                        return points === undefined ? null : spanOfHours(gapMarks(points, weekStart, period.end), true);
                    })();
        const signals: SignalArrival[] = [
            {
                signal: "metrics",
                gapHours: metricGap,
                span: metricSpan,
                link:
                    metricSpan === null
                        ? null
                        : explore(`sum(count_over_time(up{${matchers({ cluster: name })}}[5m]))`, metricSpan),
            },
        ];
        if (metricGap === null) notes["availability.signals.metrics"] = why(current, "metricHours", "this week");
        const logGaps = { current: null as number | null, previous: null as number | null };
        if (c.logs && loki) {
            const hours = logHours.get(name);
            if (hours === undefined) {
                notes["availability.signals.logs"] = `the log arrival of ${name} could not be read (see the warnings)`;
                signals.push({ signal: "logs", gapHours: null, span: null, link: null });
            } else {
                const withData = new Set(hours.flatMap((s) => s.points.filter(([, v]) => v > 0).map(([t]) => t)));
                const missing = (from: number) =>
                    Array.from({ length: HOURS_PER_WEEK }, (_, i) => from + (i + 1) * HOUR).filter(
                        (t) => !withData.has(t),
                    );
                const now = missing(weekStart);
                logGaps.current = now.length;
                logGaps.previous = missing(weekStart - WEEK).length;
                const first = now[0];
                const last = now.at(-1);
                const span =
                    first === undefined || last === undefined ? null : { from: iso(first - HOUR), to: iso(last) };
                signals.push({
                    signal: "logs",
                    gapHours: now.length,
                    span,
                    link:
                        span === null
                            ? null
                            : links.explore("logs", `sum(count_over_time({${matchers({ cluster: name })}}[5m]))`, span),
                });
            }
        } else {
            notes["availability.signals.logs"] = c.logs
                ? "no log store is configured for the report"
                : "the cluster ships no logs";
        }
        const spanHours = one(current, "spanHours", name);
        const traceGap = current.spanHours === undefined || spanHours === null ? null : gapOf(current, "spanHours");
        signals.push({ signal: "traces", gapHours: traceGap, span: null, link: null });
        if (traceGap === null) {
            notes["availability.signals.traces"] =
                current.spanHours === undefined
                    ? why(current, "spanHours", "this week")
                    : "no span metrics for this cluster: it sends no traces";
        }

        const lines = auditLines.get(name);
        const details =
            lines === undefined
                ? null
                : lines
                      .map((l) => auditAction(l.line))
                      .filter((a): a is RemediationAction => a !== undefined)
                      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
        const actions = actionCounts(of(current, "remediation", name) ?? [], details);
        const detailsMissing =
            details !== null
                ? ""
                : settings.remediator === undefined
                  ? "the remediator's audit lines are not read"
                  : !c.logs || !loki
                    ? "the cluster ships no logs, where the remediator's audit lines are"
                    : "the remediator's audit lines could not be read from Loki (see the warnings)";
        const remediatorStream =
            settings.remediator === undefined
                ? null
                : `{${matchers({ cluster: name, namespace: settings.remediator.namespace, service: settings.remediator.service })}}`;

        const errorSamples = errorLogs.get(name);
        const errorProducers: LogProducer[] | null =
            c.logs && loki && errorSamples !== undefined
                ? errorSamples
                      .map((s) => ({ namespace: s.labels.namespace ?? "", bytes: s.value }))
                      .sort((a, b) => b.bytes - a.bytes)
                      .slice(0, TOP)
                : null;

        const calls = of(current, "spanCalls", name) ?? [];
        const services: ServiceLatency[] = (of(current, "spanP95", name) ?? [])
            .filter((s) => Number.isFinite(s.value))
            .map((s) => {
                const service = s.labels.service ?? "";
                const mine = calls.filter((x) => x.labels.service === service);
                const all = mine.reduce((sum, x) => sum + x.value, 0);
                const errors = mine
                    .filter((x) => x.labels.status_code === "STATUS_CODE_ERROR")
                    .reduce((sum, x) => sum + x.value, 0);
                return {
                    service,
                    p95Seconds: s.value,
                    errorRatio: all > 0 ? errors / all : 0,
                    rate: all / (7 * 86400),
                };
            })
            .sort((a, b) => b.p95Seconds - a.p95Seconds || b.errorRatio - a.errorRatio)
            .slice(0, TOP);

        // The API server is its scrape (answered or not); its mirror pod's readiness would be the same row again.
        const apiServer = compared("apiServer", name);
        const controlPlane = (of(current, "controlPlane", name) ?? [])
            .filter((s) => s.labels.component !== "kube-apiserver")
            .map((s) => {
                const component = s.labels.component ?? "";
                const before = of(previous, "controlPlane", name)?.find((p) => p.labels.component === component);
                if (before === undefined)
                    notes["availability.controlPlane.previous"] = why(previous, "controlPlane", "last week");
                return { component, availability: { current: s.value, previous: before?.value ?? null } };
            })
            .sort((a, b) => a.component.localeCompare(b.component));

        const nodeSpan = (node: string) => spanOf("nodeReady", { cluster: name, node }, (v) => (1 - v) * 60, true);
        const nodeDowntime = (of(current, "nodeDown", name) ?? [])
            .map((s) => {
                const node = s.labels.node ?? "";
                const span = nodeSpan(node);
                return {
                    node,
                    minutes: Math.round(s.value),
                    span,
                    link: explore(
                        `kube_node_status_condition{${matchers({ cluster: name, node, condition: "Ready", status: "true" })}}`,
                        span,
                    ),
                };
            })
            .filter((n) => n.minutes > 0)
            .sort((a, b) => b.minutes - a.minutes || a.node.localeCompare(b.node));

        const remoteWrite = (id: InstantId): Compared =>
            c.role === "main" ? { current: null, previous: null } : roundCompared(compared(id, name));
        const stack = {
            remoteWriteFailed: remoteWrite("remoteWriteFailed"),
            samplesDropped: remoteWrite("samplesDropped"),
            logsDropped: roundCompared(compared("logsDropped", name)),
            spansDropped: roundCompared(compared("spansDropped", name)),
        };
        if (c.role === "main") {
            const reason = "main writes to its own store: it sends nothing over remote write";
            for (const k of ["remoteWriteFailed", "samplesDropped"]) {
                notes[`stack.${k}`] = reason;
                notes[`stack.${k}.previous`] = reason;
            }
        } else {
            noteCompared("stack.remoteWriteFailed", stack.remoteWriteFailed, "remoteWriteFailed");
            noteCompared("stack.samplesDropped", stack.samplesDropped, "samplesDropped");
        }
        noteCompared("stack.logsDropped", stack.logsDropped, "logsDropped");
        noteCompared("stack.spansDropped", stack.spansDropped, "spansDropped");

        const availability = {
            nodesReady: compared("nodesReady", name),
            nodeDowntime,
            apiServer,
            controlPlane,
            signals,
        };
        noteCompared("availability.nodesReady", availability.nodesReady, "nodesReady");
        noteCompared("availability.apiServer", apiServer, "apiServer");
        const workloads = {
            restarts: roundCompared(totals("restarts", name)),
            topRestarts: podCounts(
                "restarts",
                name,
                (l) => `increase(kube_pod_container_status_restarts_total{${matchers(l)}}[1h])`,
            ),
            oomKills: roundCompared(totals("oomKills", name)),
            topOomKills: podCounts(
                "oomKills",
                name,
                (l) => `kube_pod_container_status_last_terminated_reason{${matchers({ ...l, reason: "OOMKilled" })}}`,
            ),
            crashLoops: podMinutes(current, "crashLoopHours", name, 60, {
                id: "crashLoop",
                minutes: (v) => v * 60,
                exact: false,
                expr: (l) =>
                    `kube_pod_container_status_waiting_reason{${matchers({ ...l, reason: "CrashLoopBackOff" })}}`,
            }),
            pending: podMinutes(current, "pendingMinutes", name, 1, {
                id: "pending",
                minutes: (v) => v,
                exact: true,
                expr: (l) => `kube_pod_status_phase{${matchers({ ...l, phase: "Pending" })}}`,
            }),
            topCpu: consumers(of(current, "topCpu", name)),
            topMemory: consumers(of(current, "topMemory", name)),
            budgets: budgetStats(of(current, "budgets", name)).map((b) => ({
                ...b,
                link: explore(
                    `ALERTS{${matchers({ cluster: name, namespace: b.namespace, workload: b.workload, alertname: b.alertname })}}`,
                ),
            })),
            remediation: {
                actions,
                mergeRequests: actions.gitops ?? 0,
                details,
                detailsMissing,
                link:
                    remediatorStream === null || !c.logs || !loki
                        ? null
                        : links.explore("logs", `${remediatorStream} |= "outcome"`, window),
            },
            daily: dailyOf("restarts", name),
        };
        noteCompared("workloads.restarts", workloads.restarts, "restarts");
        noteCompared("workloads.oomKills", workloads.oomKills, "oomKills");
        const capacity = {
            cpuUsedCores: compared("cpuUsed", name),
            cpuAllocatableCores: compared("cpuAllocatable", name),
            memoryUsedBytes: compared("memoryUsed", name),
            memoryAllocatableBytes: compared("memoryAllocatable", name),
            disks: forecasts(current, "diskUsed", "diskSlope", name, diskName, diskExpr) ?? [],
            pvcs: forecasts(current, "pvcUsed", "pvcSlope", name, pvcName, pvcExpr) ?? [],
            etcdBytes: compared("etcdBytes", name),
            daily: dailyOf("cpuRatio", name),
        };
        noteCompared("capacity.cpuUsedCores", capacity.cpuUsedCores, "cpuUsed");
        noteCompared("capacity.cpuAllocatableCores", capacity.cpuAllocatableCores, "cpuAllocatable");
        noteCompared("capacity.memoryUsedBytes", capacity.memoryUsedBytes, "memoryUsed");
        noteCompared("capacity.memoryAllocatableBytes", capacity.memoryAllocatableBytes, "memoryAllocatable");
        noteCompared("capacity.etcdBytes", capacity.etcdBytes, "etcdBytes");
        const alertMinutes = totals("alertMinutes", name);
        noteCompared("alerts.firingMinutes", alertMinutes, "alertMinutes");
        if (current.alertMinutes === undefined) notes["alerts.noisiest"] = why(current, "alertMinutes", "this week");
        if (current.alertStarts === undefined) notes["alerts.bySeverity"] = why(current, "alertStarts", "this week");
        if (previous.alertStarts === undefined)
            notes["alerts.bySeverity.previous"] = why(previous, "alertStarts", "last week");
        if (firing === undefined) notes["alerts.firingNow"] = "Alertmanager could not be read (see the warnings)";

        const previousVolumes = (() => {
            const disks = forecasts(previous, "diskUsed", "diskSlope", name, diskName, diskExpr);
            const pvcs = forecasts(previous, "pvcUsed", "pvcSlope", name, pvcName, pvcExpr);
            return disks === null || pvcs === null
                ? null
                : [...disks, ...pvcs].map((v) => ({ name: v.name, used: v.used, daysToFull: v.daysToFull }));
        })();
        const previousPods = (id: InstantId) =>
            of(previous, id, name)
                ?.filter((s) => s.value > 0)
                .map((s) => ({ namespace: s.labels.namespace ?? "", pod: s.labels.pod ?? "" })) ?? null;
        const previousWeek: PreviousWeek = {
            nodeDowntime:
                of(previous, "nodeDown", name)
                    ?.map((s) => ({ node: s.labels.node ?? "", minutes: Math.round(s.value) }))
                    .filter((n) => n.minutes > 0)
                    .sort((a, b) => b.minutes - a.minutes || a.node.localeCompare(b.node)) ?? null,
            gapHours: {
                metrics: gapOf(previous, "metricHours"),
                logs: logGaps.previous,
                traces:
                    previous.spanHours === undefined || one(previous, "spanHours", name) === null
                        ? null
                        : gapOf(previous, "spanHours"),
            },
            crashLoops: previousPods("crashLoopHours"),
            pending: previousPods("pendingMinutes"),
            volumes: previousVolumes,
            criticalFiring:
                of(previous, "criticalFiring", name)
                    ?.map((s) => s.labels.alertname ?? "")
                    .sort() ?? null,
        };

        return {
            cluster: name,
            role: c.role,
            dashboard: links.dashboard(name, window),
            notes,
            previousWeek,
            availability,
            alerts: {
                bySeverity,
                noisiest: [...stats.values()]
                    .map((s) => ({ ...s, firingMinutes: Math.round(s.firingMinutes) }))
                    .sort(
                        (a, b) =>
                            b.firings - a.firings ||
                            b.firingMinutes - a.firingMinutes ||
                            a.alertname.localeCompare(b.alertname),
                    )
                    .slice(0, TOP),
                firingMinutes: alertMinutes,
                firingNow: firing === undefined ? [] : (firingByCluster.get(name) ?? []),
                daily: dailyOf("alertMinutes", name),
            },
            workloads,
            capacity,
            stack,
            errorLogs: errorProducers,
            services: services.length > 0 ? services : null,
        };
    });

    const nowSeconds = period.end;
    const certificates: Certificate[] = (current.certificates ?? [])
        .map((s) => ({
            id: s.labels.certificate ?? "",
            commonName: s.labels.common_name ?? "",
            expiresAt: new Date(s.value * 1000).toISOString(),
            daysLeft: Math.floor((s.value - nowSeconds) / 86400),
        }))
        .filter((c) => c.daysLeft <= CERTIFICATE_HORIZON_DAYS)
        .sort((a, b) => a.daysLeft - b.daysLeft || a.id.localeCompare(b.id));

    const retention: RetentionCompliance[] = (["metrics", "logs", "traces"] as const).map((store) => ({
        store,
        violationMinutes: Math.round(
            (current.alertMinutes ?? [])
                .filter((s) => settings.retentionAlerts[store].includes(s.labels.alertname ?? ""))
                .reduce((sum, s) => sum + s.value, 0),
        ),
    }));

    return { clusters, firing: firing ?? [], certificates, retention, warnings: warnings.sort(), queries };
}

function roundCompared(c: Compared): Compared {
    return {
        current: c.current === null ? null : Math.round(c.current),
        previous: c.previous === null ? null : Math.round(c.previous),
    };
}

function consumers(samples: Sample[] | undefined) {
    return (samples ?? [])
        .map((s) => ({ namespace: s.labels.namespace ?? "", workload: s.labels.workload ?? "", value: s.value }))
        .sort((a, b) => b.value - a.value || a.workload.localeCompare(b.workload))
        .slice(0, TOP);
}

function budgetStats(samples: Sample[] | undefined) {
    const byWorkload = new Map<
        string,
        { namespace: string; workload: string; alertname: string; pendingMinutes: number; firingMinutes: number }
    >();
    for (const s of samples ?? []) {
        const { namespace = "", workload = "", alertname = "", alertstate = "" } = s.labels;
        const k = `${namespace}/${workload}/${alertname}`;
        const entry = byWorkload.get(k) ?? { namespace, workload, alertname, pendingMinutes: 0, firingMinutes: 0 };
        if (alertstate === "firing") entry.firingMinutes += Math.round(s.value);
        else entry.pendingMinutes += Math.round(s.value);
        byWorkload.set(k, entry);
    }
    return [...byWorkload.values()].sort(
        (a, b) =>
            b.firingMinutes - a.firingMinutes ||
            b.pendingMinutes - a.pendingMinutes ||
            a.workload.localeCompare(b.workload),
    );
}
