import type { Collection } from "./collect";
import { score } from "./score";
import type { ReporterSettings } from "./settings";
import { REPORT_SCHEMA_VERSION, type ClusterReport, type Compared, type Report } from "./types";
import { weekLabel, type Period } from "./week";

/** The report from what was collected: each cluster scored, the fleet summed up, worst first. */
export function buildReport(
    collection: Collection,
    period: Period,
    settings: ReporterSettings,
    generatedAt: Date,
): Report {
    const clusters: ClusterReport[] = collection.clusters
        .map((c) => ({ ...c, score: score(c) }))
        .sort((a, b) => a.score.value - b.score.value || a.cluster.localeCompare(b.cluster));
    const worst = clusters[0];
    const firingNow: Record<string, number> = {};
    for (const c of clusters)
        for (const a of c.alerts.firingNow) firingNow[a.severity] = (firingNow[a.severity] ?? 0) + 1;
    return {
        schemaVersion: REPORT_SCHEMA_VERSION,
        title: `Weekly health report ${weekLabel(period.week)}`,
        week: period.week,
        window: period.window,
        previousWindow: period.previousWindow,
        generatedAt: generatedAt.toISOString(),
        timeZone: settings.timeZone,
        fleet: {
            clusters: clusters.length,
            worst: worst ? { cluster: worst.cluster, score: worst.score.value } : null,
            score: {
                current: mean(clusters.map((c) => c.score.value)),
                previous: mean(clusters.map((c) => c.score.previous)),
            },
            firingMinutes: sum(clusters.map((c) => c.alerts.firingMinutes)),
            restarts: sum(clusters.map((c) => c.workloads.restarts)),
            certificates: collection.certificates,
            retention: collection.retention,
            firingNow,
        },
        clusters,
        warnings: collection.warnings,
    };
}

/** Mean of known values, rounded; null when any is unknown, so the fleet never looks better than it is. */
function mean(values: (number | null)[]): number | null {
    if (values.length === 0 || values.some((v) => v === null)) return null;
    return Math.round((values as number[]).reduce((a, b) => a + b, 0) / values.length);
}

function sum(values: Compared[]): Compared {
    const add = (field: keyof Compared) =>
        values.some((v) => v[field] === null) ? null : values.reduce((total, v) => total + (v[field] ?? 0), 0);
    return { current: add("current"), previous: add("previous") };
}
