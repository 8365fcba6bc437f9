import type { Collected, Collection } from "./collect";
import { bySeverity, date } from "./format";
import { Links } from "./links";
import { score } from "./score";
import type { ReporterSettings } from "./settings";
import {
    REPORT_SCHEMA_VERSION,
    type ActionItem,
    type ClusterReport,
    type Compared,
    type FleetAlert,
    type Report,
    type Score,
} from "./types";
import { weekLabel, type Period } from "./week";

/** The runbook a certificate close to expiry points to: its renewal is overdue. */
const CERTIFICATE_RUNBOOK_ALERT = "ObservabilityCertificateRenewalOverdue";

/** Volumes the fleet's summary lists as needing action this week: full within this many days, or this full. */
const ACTION_DAYS = 7;
const ACTION_USED = 0.9;

/**
 * A cluster with nothing to report: no point off, nothing firing, no volume listed, no budget
 * alert, no remediation, and every term of its score known. The report gives it one line.
 */
export function isHealthy(c: Collected, s: Score): boolean {
    return (
        s.value === 100 &&
        s.reasons.length === 0 &&
        s.lacks.length === 0 &&
        c.alerts.firingNow.length === 0 &&
        c.capacity.disks.length === 0 &&
        c.capacity.pvcs.length === 0 &&
        c.workloads.budgets.length === 0 &&
        Object.values(c.workloads.remediation.actions).every((n) => n === 0)
    );
}

/** What to act on this week: volumes full within 7 days or over 90 %, certificates to renew; soonest first. */
function actionItems(clusters: ClusterReport[], collection: Collection, links: Links, timeZone: string): ActionItem[] {
    const items: { days: number; item: ActionItem }[] = [];
    for (const c of clusters) {
        for (const v of [...c.capacity.disks, ...c.capacity.pvcs]) {
            const soon = v.daysToFull !== null && v.daysToFull <= ACTION_DAYS;
            if (!soon && v.used < ACTION_USED) continue;
            const full = v.daysToFull === null ? "not filling" : `full in ${v.daysToFull.toFixed(1)} days`;
            items.push({
                days: v.daysToFull ?? ACTION_DAYS,
                item: {
                    cluster: c.cluster,
                    text: `volume ${v.name} is ${(v.used * 100).toFixed(0)} % used, ${full}`,
                    links: v.link ? [v.link] : [],
                },
            });
        }
    }
    const runbook = links.runbook(CERTIFICATE_RUNBOOK_ALERT, "").link;
    for (const cert of collection.certificates) {
        items.push({
            days: cert.daysLeft,
            item: {
                cluster: null,
                text:
                    `certificate ${cert.id} (${cert.commonName}) expires in ${cert.daysLeft} days, on ${date(cert.expiresAt, timeZone)}: ` +
                    "its renewal is due, run the rotation (pulumi up on main, then on the sub it belongs to)",
                links: runbook ? [runbook] : [],
            },
        });
    }
    return items
        .sort((a, b) => a.days - b.days || (a.item.text < b.item.text ? -1 : a.item.text > b.item.text ? 1 : 0))
        .map((i) => i.item);
}

/** The report from what was collected: each cluster scored, the fleet summed up, worst first. */
export function buildReport(
    collection: Collection,
    period: Period,
    settings: ReporterSettings,
    generatedAt: Date,
): Report {
    const links = new Links(settings.links);
    const clusters: ClusterReport[] = collection.clusters
        .map((c) => {
            const s = score(c);
            return { ...c, score: s, healthy: isHealthy(c, s) };
        })
        .sort((a, b) => a.score.value - b.score.value || a.cluster.localeCompare(b.cluster));
    const worst = clusters[0];
    const firingNow: Record<string, number> = {};
    for (const a of collection.firing) firingNow[a.severity] = (firingNow[a.severity] ?? 0) + 1;
    const firing: FleetAlert[] = [...collection.firing].sort(
        (a, b) =>
            bySeverity(a.severity, b.severity) ||
            (a.since < b.since ? -1 : a.since > b.since ? 1 : 0) ||
            a.cluster.localeCompare(b.cluster) ||
            a.alertname.localeCompare(b.alertname),
    );
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
            firing,
            actions: actionItems(clusters, collection, links, settings.timeZone),
            healthy: clusters.filter((c) => c.healthy).map((c) => c.cluster),
        },
        links: {
            grafana: links.grafana(),
            grafanaNote: settings.links.grafanaNote,
            alerts: links.alerts(),
            silences: links.silences(),
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
