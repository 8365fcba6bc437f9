import type { AlertmanagerApi, LokiApi, PrometheusApi, Sample, Series } from "./sources";
import { DAILY_QUERIES, instantQueries, LOG_SELECTORS, type DailyId, type InstantId } from "./queries";
import type { ReporterSettings } from "./settings";
import type {
    ActiveAlert,
    AlertStat,
    ClusterReport,
    Compared,
    Daily,
    FillForecast,
    LogProducer,
    PodCount,
    PodMinutes,
    ServiceLatency,
    Signal,
    Certificate,
    RetentionCompliance,
} from "./types";
import { DAY_MS, type Period } from "./week";

/**
 * Reads a week of the fleet from the three APIs and shapes it per cluster. Each query asks for
 * every cluster at once (grouped `by (cluster)`), so the number of queries does not grow with the
 * fleet; only Loki is asked per cluster, as each cluster is its own tenant. A query that fails
 * leaves its figures `null` and a warning; the report is still made.
 */

export interface Sources {
    prometheus: PrometheusApi;
    loki?: LokiApi;
    alertmanager: AlertmanagerApi;
}

/** A cluster's figures, before it is scored. */
export type Collected = Omit<ClusterReport, "score">;

export interface Collection {
    clusters: Collected[];
    certificates: Certificate[];
    retention: RetentionCompliance[];
    warnings: string[];
    /** Queries issued, for the benchmark and the log. */
    queries: number;
}

const TOP = 5;
const HOURS_PER_WEEK = 168;
/** Filesystems and volumes listed: this full, or full within this many days. */
const FILL_LISTED = 0.8;
const FILL_HORIZON_DAYS = 30;
const CERTIFICATE_HORIZON_DAYS = 30;

type Answers<K extends string, V> = Partial<Record<K, V>>;

/** One request of a report: what it is (for warnings) and how to make it. */
export interface Read<K, T> {
    id: K;
    what: string;
    run: () => Promise<T>;
}

/**
 * Every request a report makes, by what its answer is for: `collect` makes them concurrently,
 * the benchmark's baseline one after the other, so both always issue the same list.
 */
export function reportReads(sources: Sources, settings: ReporterSettings, period: Period) {
    const plan = instantQueries(settings.certificateMetric);
    const ids = Object.keys(plan) as InstantId[];
    const weekStart = period.end - 7 * 86400;
    const firstDay = period.end - 6 * (DAY_MS / 1000);
    const loki = sources.loki;
    const logClusters = loki ? settings.clusters.filter((c) => c.logs) : [];
    return {
        current: ids.map((id): Read<InstantId, Sample[]> => ({
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
            run: () => loki!.volumeRange(c.name, LOG_SELECTORS.all(c.name), weekStart, period.end, 3600),
        })),
        alerts: { id: "alerts", what: "alerts firing now", run: () => sources.alertmanager.firing() },
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

    const reads = reportReads(sources, settings, period);
    const current: Answers<InstantId, Sample[]> = {};
    const previous: Answers<InstantId, Sample[]> = {};
    const daily: Answers<DailyId, Series[]> = {};
    const firstDay = period.end - 6 * (DAY_MS / 1000);
    const loki = sources.loki;
    const errorLogs = new Map<string, Sample[] | undefined>();
    const logHours = new Map<string, Series[] | undefined>();
    let firing: ActiveAlert[] | undefined;
    const firingByCluster = new Map<string, ActiveAlert[]>();

    await Promise.all([
        ...reads.current.map(async (r) => (current[r.id] = await attempt(r.what, r.run))),
        ...reads.previous.map(async (r) => (previous[r.id] = await attempt(r.what, r.run))),
        ...reads.daily.map(async (r) => (daily[r.id] = await attempt(r.what, r.run))),
        ...reads.errorLogs.map(async (r) => errorLogs.set(r.id, await attempt(r.what, r.run))),
        ...reads.logHours.map(async (r) => logHours.set(r.id, await attempt(r.what, r.run))),
        (async () => {
            const alerts = await attempt(reads.alerts.what, reads.alerts.run);
            if (alerts === undefined) return;
            firing = [];
            for (const a of alerts) {
                const { alertname = "", severity = "none", cluster = "", ...rest } = a.labels;
                const active: ActiveAlert = {
                    alertname,
                    severity,
                    since: a.startsAt,
                    summary: a.annotations.summary ?? "",
                    labels: Object.fromEntries(
                        Object.entries(rest).filter(([k]) => k !== "category" && k !== "prometheus"),
                    ),
                };
                firing.push(active);
                firingByCluster.set(cluster, [...(firingByCluster.get(cluster) ?? []), active]);
            }
        })(),
    ]);

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
    const podCounts = (id: InstantId, cluster: string): PodCount[] =>
        (of(current, id, cluster) ?? [])
            .map((s) => ({ namespace: s.labels.namespace ?? "", pod: s.labels.pod ?? "", count: Math.round(s.value) }))
            .filter((p) => p.count > 0)
            .sort((a, b) => b.count - a.count || a.pod.localeCompare(b.pod))
            .slice(0, TOP);
    const podMinutes = (id: InstantId, cluster: string, unit: number): PodMinutes[] =>
        (of(current, id, cluster) ?? [])
            .map((s) => ({
                namespace: s.labels.namespace ?? "",
                pod: s.labels.pod ?? "",
                minutes: Math.round(s.value * unit),
            }))
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
        usedId: InstantId,
        slopeId: InstantId,
        cluster: string,
        name: (l: Record<string, string>) => string,
    ): FillForecast[] => {
        const slopes = of(current, slopeId, cluster) ?? [];
        return (of(current, usedId, cluster) ?? [])
            .map((s) => {
                const key = name(s.labels);
                const slope = slopes.find((x) => name(x.labels) === key)?.value ?? 0;
                const daysToFull = slope > 0 ? Math.max(0, (1 - s.value) / (slope * 86400)) : null;
                return { name: key, used: s.value, daysToFull };
            })
            .filter((f) => f.used >= FILL_LISTED || (f.daysToFull !== null && f.daysToFull <= FILL_HORIZON_DAYS))
            .sort((a, b) => (a.daysToFull ?? Infinity) - (b.daysToFull ?? Infinity) || b.used - a.used);
    };

    const clusters = settings.clusters.map((c): Collected => {
        const name = c.name;
        const minutes = of(current, "alertMinutes", name);
        const starts = of(current, "alertStarts", name);
        const key = (l: Record<string, string>) => `${l.alertname ?? ""}\u0000${l.severity ?? ""}`;
        const stats = new Map<string, AlertStat>();
        for (const s of [...(minutes ?? []), ...(starts ?? [])]) {
            const k = key(s.labels);
            if (!stats.has(k)) {
                stats.set(k, {
                    alertname: s.labels.alertname ?? "",
                    severity: s.labels.severity ?? "none",
                    firings: 0,
                    firingMinutes: 0,
                });
            }
        }
        for (const s of minutes ?? []) stats.get(key(s.labels))!.firingMinutes += s.value;
        for (const s of starts ?? []) stats.get(key(s.labels))!.firings += Math.round(s.value);
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

        const metricHours = one(current, "metricHours", name);
        const spanHours = one(current, "spanHours", name);
        const signals: { signal: Signal; gapHours: number | null }[] = [
            {
                signal: "metrics",
                gapHours:
                    current.metricHours === undefined
                        ? null
                        : HOURS_PER_WEEK - Math.min(HOURS_PER_WEEK, metricHours ?? 0),
            },
        ];
        if (c.logs && loki) {
            const hours = logHours.get(name);
            const withData =
                hours === undefined
                    ? null
                    : new Set(hours.flatMap((s) => s.points.filter(([, v]) => v > 0).map(([t]) => t))).size;
            signals.push({
                signal: "logs",
                gapHours: withData === null ? null : Math.max(0, HOURS_PER_WEEK - withData),
            });
        }
        signals.push({
            signal: "traces",
            gapHours:
                current.spanHours === undefined || spanHours === null
                    ? null
                    : HOURS_PER_WEEK - Math.min(HOURS_PER_WEEK, spanHours),
        });

        const actions: Record<string, number> = {};
        for (const s of of(current, "remediation", name) ?? [])
            actions[s.labels.mode ?? "unknown"] = Math.round(s.value);

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

        return {
            cluster: name,
            role: c.role,
            availability: {
                nodesReady: compared("nodesReady", name),
                nodeDowntime: (of(current, "nodeDown", name) ?? [])
                    .map((s) => ({ node: s.labels.node ?? "", minutes: Math.round(s.value) }))
                    .filter((n) => n.minutes > 0)
                    .sort((a, b) => b.minutes - a.minutes || a.node.localeCompare(b.node)),
                apiServer: compared("apiServer", name),
                controlPlane: (of(current, "controlPlane", name) ?? [])
                    .map((s) => {
                        const component = s.labels.component ?? "";
                        const before = of(previous, "controlPlane", name)?.find(
                            (p) => p.labels.component === component,
                        );
                        return { component, availability: { current: s.value, previous: before?.value ?? null } };
                    })
                    .sort((a, b) => a.component.localeCompare(b.component)),
                signals,
            },
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
                firingMinutes: totals("alertMinutes", name),
                firingNow: firing === undefined ? [] : (firingByCluster.get(name) ?? []),
                daily: dailyOf("alertMinutes", name),
            },
            workloads: {
                restarts: roundCompared(totals("restarts", name)),
                topRestarts: podCounts("restarts", name),
                oomKills: roundCompared(totals("oomKills", name)),
                topOomKills: podCounts("oomKills", name),
                crashLoops: podMinutes("crashLoopHours", name, 60),
                pending: podMinutes("pendingMinutes", name, 1),
                topCpu: consumers(of(current, "topCpu", name)),
                topMemory: consumers(of(current, "topMemory", name)),
                budgets: budgetStats(of(current, "budgets", name)),
                remediation: { actions, mergeRequests: actions.gitops ?? 0 },
                daily: dailyOf("restarts", name),
            },
            capacity: {
                cpuUsedCores: compared("cpuUsed", name),
                cpuAllocatableCores: compared("cpuAllocatable", name),
                memoryUsedBytes: compared("memoryUsed", name),
                memoryAllocatableBytes: compared("memoryAllocatable", name),
                disks: forecasts("diskUsed", "diskSlope", name, (l) => `${l.instance ?? ""}:${l.mountpoint ?? ""}`),
                pvcs: forecasts(
                    "pvcUsed",
                    "pvcSlope",
                    name,
                    (l) => `${l.namespace ?? ""}/${l.persistentvolumeclaim ?? ""}`,
                ),
                etcdBytes: compared("etcdBytes", name),
                daily: dailyOf("cpuRatio", name),
            },
            stack: {
                remoteWriteFailed:
                    c.role === "main"
                        ? { current: null, previous: null }
                        : roundCompared(compared("remoteWriteFailed", name)),
                samplesDropped:
                    c.role === "main"
                        ? { current: null, previous: null }
                        : roundCompared(compared("samplesDropped", name)),
                logsDropped: roundCompared(compared("logsDropped", name)),
                spansDropped: roundCompared(compared("spansDropped", name)),
            },
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

    return { clusters, certificates, retention, warnings: warnings.sort(), queries };
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
