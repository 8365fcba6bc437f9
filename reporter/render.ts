import {
    byText,
    bySeverity,
    changeText,
    compare,
    cores,
    date,
    dateTime,
    dayLabels,
    days,
    duration,
    hours,
    integer,
    NA,
    oneLine,
    percent,
    perSecond,
    plural,
    seconds,
    UNITS,
    bytes,
    type Change,
    type Tone,
} from "./format";
import { renderHtml } from "./render-html";
import { renderMarkdown } from "./render-markdown";
import type { ClusterReport, Daily, FillForecast, PodCount, PodMinutes, RenderedReport, Report } from "./types";
import { weekLabel } from "./week";

/**
 * What the weekly report says, once, as an outline of sections, figure tables and daily series
 * that the Markdown and HTML renderers only lay out: both show the same figures, formatted the
 * same way. `renderReport` is the entry point the reporter calls.
 */

/** A table cell: plain text, or a figure with its change against last week. */
export type Cell = string | Figure;

export interface Figure {
    text: string;
    /** `▲ 2 vs 1`, `unchanged`; shown after the text. */
    change?: string;
    /** Whether the change is good news, for colour. */
    tone?: Tone;
    /** A share (0-1) the HTML also draws as a small bar. */
    share?: number;
    strong?: boolean;
}

export interface Column {
    title: string;
    /** Right-aligned, on one line. */
    numeric?: boolean;
    /** On one line (dates). */
    nowrap?: boolean;
    /** Long text (labels, summaries) that may break anywhere rather than widen the table. */
    long?: boolean;
}

/** The days' series the HTML draws as bars and the Markdown shows as a row of figures. */
export type SeriesKind = "alerts" | "restarts" | "cpu";

export type Block =
    /** Label and figure pairs. */
    | { kind: "facts"; rows: [string, Cell][] }
    /** A table introduced by `lead`; without rows, one line: `<lead>: <empty>`. */
    | { kind: "table"; lead: string; columns: Column[]; rows: Cell[][]; empty: string }
    | { kind: "note"; text: string }
    | { kind: "list"; lead: string; items: string[]; empty: string }
    | {
          kind: "daily";
          series: SeriesKind;
          title: string;
          labels: string[];
          values: Daily;
          format: (value: number) => string;
          /** Top of the scale when fixed (1 for shares); the largest value otherwise. */
          scaleMax?: number;
      }
    | { kind: "scores"; title: string; rows: { cluster: string; value: number; previous: number | null }[] };

/** A subsection; without a title its blocks follow the previous one's. */
export interface Part {
    title: string | null;
    blocks: Block[];
}

export interface Section {
    /** Stable anchor: `fleet`, `cluster-alpha`. */
    id: string;
    title: string;
    /** The cluster's score, drawn beside the title in HTML. */
    score?: { value: number; previous: number | null };
    parts: Part[];
}

export interface Outline {
    title: string;
    intro: string[];
    sections: Section[];
}

const figure = (c: Change, strong = false): Figure => ({ text: c.value, change: c.change, tone: c.tone, strong });

const pod = (p: { namespace: string; pod: string }): string => `${p.namespace}/${p.pod}`;

/** Clusters lowest score first, then by name: the order of the sections. */
export function clusterOrder(report: Report): ClusterReport[] {
    return [...report.clusters].sort((a, b) => a.score.value - b.score.value || byText(a.cluster, b.cluster));
}

/**
 * Anchors of the clusters' sections: `cluster-alpha`, letters, digits and dashes only, so they
 * need no escaping anywhere; a name that folds onto an earlier one gets `-2`, `-3`, ….
 */
export function sectionIds(clusters: readonly ClusterReport[]): string[] {
    const taken = new Set(["fleet"]);
    return clusters.map((c) => {
        const base = `cluster-${c.cluster.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
        let id = base;
        for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
        taken.add(id);
        return id;
    });
}

/** `1 critical, 3 warning`, most severe first; `nothing` when empty. */
export function firingText(bySeverityCount: Record<string, number>): string {
    const entries = Object.entries(bySeverityCount)
        .filter(([, n]) => n > 0)
        .sort(([a], [b]) => bySeverity(a, b));
    return entries.length === 0 ? "nothing" : entries.map(([s, n]) => `${integer(n)} ${s}`).join(", ");
}

const reasonsOf = (cluster: ClusterReport) => [...cluster.score.reasons].sort((a, b) => b.points - a.points);

/** The largest deduction in the fleet and its cluster; the lower-scored cluster wins a tie. */
export function topReason(report: Report): { cluster: string; points: number; text: string } | undefined {
    let top: { cluster: string; points: number; text: string } | undefined;
    for (const cluster of clusterOrder(report)) {
        const reason = reasonsOf(cluster)[0];
        if (reason !== undefined && (top === undefined || reason.points > top.points)) {
            top = { cluster: cluster.cluster, points: reason.points, text: reason.text };
        }
    }
    return top;
}

function podTable(lead: string, rows: PodCount[], what: string): Block {
    return {
        kind: "table",
        lead,
        columns: [{ title: "Pod" }, { title: what, numeric: true }],
        rows: rows.map((r) => [pod(r), integer(r.count)]),
        empty: "none",
    };
}

function podMinutesTable(lead: string, rows: PodMinutes[], what: string): Block {
    return {
        kind: "table",
        lead,
        columns: [{ title: "Pod" }, { title: what, numeric: true }],
        rows: rows.map((r) => [pod(r), duration(r.minutes)]),
        empty: "none",
    };
}

function fillTable(lead: string, what: string, rows: FillForecast[]): Block {
    return {
        kind: "table",
        lead,
        columns: [{ title: what }, { title: "Used", numeric: true }, { title: "Full in", numeric: true }],
        rows: rows.map((r) => [
            r.name,
            { text: percent(r.used, 0), share: r.used },
            r.daysToFull === null
                ? "not filling"
                : { text: days(r.daysToFull), tone: r.daysToFull <= 7 ? "bad" : "neutral" },
        ]),
        empty: "none over 80% or filling within 30 days",
    };
}

function usedShare(used: number | null, allocatable: number | null): Cell {
    if (used === null || allocatable === null || allocatable <= 0) return NA;
    const share = used / allocatable;
    return { text: percent(share, 0), share };
}

function clusterSection(report: Report, c: ClusterReport, id: string): Section {
    const tz = report.timeZone;
    const labels = (values: Daily) => dayLabels(report.window, values.length, tz);
    const { availability: av, alerts, workloads: wl, capacity: cap, stack } = c;

    const score: Part = {
        title: "Score",
        blocks: [
            {
                kind: "facts",
                rows: [
                    [
                        "Score",
                        figure(
                            compare({ current: c.score.value, previous: c.score.previous }, UNITS.score, "higher"),
                            true,
                        ),
                    ],
                ],
            },
            {
                kind: "table",
                lead: "Points off",
                columns: [{ title: "Points", numeric: true }, { title: "Section" }, { title: "Reason" }],
                rows: reasonsOf(c).map((r) => [integer(r.points), r.section, r.text]),
                empty: "none",
            },
        ],
    };

    const gap = (h: number | null): Cell =>
        h === null
            ? `${NA} (not collected)`
            : h === 0
              ? { text: "none", tone: "good" }
              : { text: hours(h), tone: "bad" };
    const availability: Part = {
        title: "Availability",
        blocks: [
            {
                kind: "facts",
                rows: [
                    ["Nodes Ready", figure(compare(av.nodesReady, UNITS.availability, "higher"))],
                    ["API server", figure(compare(av.apiServer, UNITS.availability, "higher"))],
                    ...av.controlPlane.map((cp): [string, Cell] => [
                        cp.component,
                        figure(compare(cp.availability, UNITS.availability, "higher")),
                    ]),
                ],
            },
            {
                kind: "table",
                lead: "Nodes not Ready",
                columns: [{ title: "Node" }, { title: "Not Ready for", numeric: true }],
                rows: av.nodeDowntime.map((n) => [n.node, duration(n.minutes)]),
                empty: "none, every node stayed Ready",
            },
            {
                kind: "table",
                lead: "Data arrival",
                columns: [{ title: "Signal" }, { title: "Hours without data", numeric: true }],
                rows: av.signals.map((s) => [s.signal, gap(s.gapHours)]),
                empty: NA,
            },
        ],
    };

    const alertsPart: Part = {
        title: "Alerts",
        blocks: [
            {
                kind: "facts",
                rows: [
                    ["Alert-minutes firing", figure(compare(alerts.firingMinutes, UNITS.minutes, "lower"))],
                    [
                        "Firing now",
                        alerts.firingNow.length === 0
                            ? { text: "nothing", tone: "good" }
                            : { text: plural(alerts.firingNow.length, "alert"), tone: "bad" },
                    ],
                ],
            },
            {
                kind: "table",
                lead: "Firings by severity",
                columns: [{ title: "Severity" }, { title: "Firings", numeric: true }],
                rows: Object.entries(alerts.bySeverity)
                    .sort(([a], [b]) => bySeverity(a, b))
                    .map(([severity, n]) => [severity, figure(compare(n, UNITS.count, "lower"))]),
                empty: "none",
            },
            {
                kind: "table",
                lead: "Noisiest alerts",
                columns: [
                    { title: "Alert" },
                    { title: "Severity" },
                    { title: "Firings", numeric: true },
                    { title: "Firing for", numeric: true },
                ],
                rows: alerts.noisiest.map((a) => [
                    a.alertname,
                    a.severity,
                    integer(a.firings),
                    duration(a.firingMinutes),
                ]),
                empty: "none",
            },
            {
                kind: "table",
                lead: "Firing now",
                columns: [
                    { title: "Alert" },
                    { title: "Severity" },
                    { title: "Since" },
                    { title: "Where", long: true },
                    { title: "Summary", long: true },
                ],
                rows: [...alerts.firingNow]
                    .sort((a, b) => bySeverity(a.severity, b.severity) || byText(a.since, b.since))
                    .map((a) => [
                        a.alertname,
                        a.severity,
                        dateTime(a.since, tz),
                        Object.entries(a.labels)
                            .sort(([x], [y]) => byText(x, y))
                            .map(([k, v]) => `${k}=${v}`)
                            .join(", "),
                        a.summary,
                    ]),
                empty: "nothing",
            },
            {
                kind: "daily",
                series: "alerts",
                title: "Alert-minutes firing per day",
                labels: labels(alerts.daily),
                values: alerts.daily,
                format: duration,
            },
        ],
    };

    const remediation = Object.entries(wl.remediation.actions)
        .filter(([, n]) => n > 0)
        .sort(([a], [b]) => byText(a, b))
        .map(([kind, n]) => `${kind} ${integer(n)}`)
        .join(", ");
    const consumers = (
        lead: string,
        what: string,
        rows: { namespace: string; workload: string; value: number }[],
        f: (v: number) => string,
    ): Block => ({
        kind: "table",
        lead,
        columns: [{ title: "Workload" }, { title: what, numeric: true }],
        rows: rows.map((r) => [`${r.namespace}/${r.workload}`, f(r.value)]),
        empty: NA,
    });
    const workloads: Part = {
        title: "Workloads",
        blocks: [
            {
                kind: "facts",
                rows: [
                    ["Container restarts", figure(compare(wl.restarts, UNITS.count, "lower"))],
                    ["OOM kills", figure(compare(wl.oomKills, UNITS.count, "lower"))],
                    ["Crash-looping pods", integer(wl.crashLoops.length)],
                    ["Long-pending pods", integer(wl.pending.length)],
                    ["Remediation actions", remediation === "" ? "none" : remediation],
                    ["Merge requests opened", integer(wl.remediation.mergeRequests)],
                ],
            },
            podTable("Most restarts", wl.topRestarts, "Restarts"),
            podTable("OOM kills", wl.topOomKills, "OOM kills"),
            podMinutesTable("Crash loops", wl.crashLoops, "In CrashLoopBackOff for"),
            podMinutesTable("Pending", wl.pending, "Pending for"),
            consumers("Largest CPU users", "CPU (average)", wl.topCpu, cores),
            consumers("Largest memory users", "Memory (peak)", wl.topMemory, bytes),
            {
                kind: "table",
                lead: "Non-critical workloads near or over budget",
                columns: [
                    { title: "Workload" },
                    { title: "Alert" },
                    { title: "Near (pending)", numeric: true },
                    { title: "Over (firing)", numeric: true },
                ],
                rows: wl.budgets.map((b) => [
                    `${b.namespace}/${b.workload}`,
                    b.alertname,
                    duration(b.pendingMinutes),
                    { text: duration(b.firingMinutes), tone: b.firingMinutes > 0 ? "bad" : "neutral" },
                ]),
                empty: "none",
            },
            {
                kind: "daily",
                series: "restarts",
                title: "Container restarts per day",
                labels: labels(wl.daily),
                values: wl.daily,
                format: integer,
            },
        ],
    };

    const capacity: Part = {
        title: "Capacity",
        blocks: [
            {
                kind: "table",
                lead: "Used against allocatable",
                columns: [
                    { title: "Resource" },
                    { title: "Used", numeric: true },
                    { title: "Allocatable", numeric: true },
                    { title: "Share used", numeric: true },
                ],
                rows: [
                    [
                        "CPU",
                        figure(compare(cap.cpuUsedCores, UNITS.cores, "neither")),
                        figure(compare(cap.cpuAllocatableCores, UNITS.cores, "neither")),
                        usedShare(cap.cpuUsedCores.current, cap.cpuAllocatableCores.current),
                    ],
                    [
                        "Memory",
                        figure(compare(cap.memoryUsedBytes, UNITS.bytes, "neither")),
                        figure(compare(cap.memoryAllocatableBytes, UNITS.bytes, "neither")),
                        usedShare(cap.memoryUsedBytes.current, cap.memoryAllocatableBytes.current),
                    ],
                ],
                empty: NA,
            },
            { kind: "facts", rows: [["etcd database", figure(compare(cap.etcdBytes, UNITS.bytes, "lower"))]] },
            fillTable("Disks", "Filesystem", cap.disks),
            fillTable("Persistent volume claims", "Claim", cap.pvcs),
            {
                kind: "daily",
                series: "cpu",
                title: "CPU used of allocatable per day",
                labels: labels(cap.daily),
                values: cap.daily,
                format: (v) => percent(v, 0),
                scaleMax: 1,
            },
        ],
    };

    const stackPart: Part = {
        title: "Observability stack",
        blocks: [
            {
                kind: "facts",
                rows: [
                    ["Samples failed to send to main", figure(compare(stack.remoteWriteFailed, UNITS.count, "lower"))],
                    ["Samples dropped", figure(compare(stack.samplesDropped, UNITS.count, "lower"))],
                    ["Log events dropped", figure(compare(stack.logsDropped, UNITS.count, "lower"))],
                    ["Spans dropped", figure(compare(stack.spansDropped, UNITS.count, "lower"))],
                ],
            },
        ],
    };

    const parts = [score, availability, alertsPart, workloads, capacity, stackPart];
    const notCollected: Block[] = [];
    if (c.errorLogs === null) {
        notCollected.push({
            kind: "note",
            text: "Error logs: not collected (the cluster ships no logs, or Loki could not be read).",
        });
    } else {
        parts.push({
            title: "Error logs",
            blocks: [
                {
                    kind: "table",
                    lead: "Top error-log producers",
                    columns: [{ title: "Namespace" }, { title: "Error logs", numeric: true }],
                    rows: c.errorLogs.map((l) => [l.namespace, bytes(l.bytes)]),
                    empty: "none",
                },
            ],
        });
    }
    if (c.services === null) {
        notCollected.push({
            kind: "note",
            text: "Services: not collected (no span metrics for this cluster).",
        });
    } else {
        parts.push({
            title: "Services",
            blocks: [
                {
                    kind: "table",
                    lead: "Slowest and most failing services",
                    columns: [
                        { title: "Service" },
                        { title: "p95 latency", numeric: true },
                        { title: "Errors", numeric: true },
                        { title: "Spans", numeric: true },
                    ],
                    rows: c.services.map((s) => [
                        s.service,
                        seconds(s.p95Seconds),
                        { text: percent(s.errorRatio, 2), tone: s.errorRatio >= 0.01 ? "bad" : "neutral" },
                        perSecond(s.rate),
                    ]),
                    empty: "none",
                },
            ],
        });
    }
    if (notCollected.length > 0) parts.push({ title: null, blocks: notCollected });

    return {
        id,
        title: `${c.cluster} (${c.role}): score ${integer(c.score.value)}`,
        score: { value: c.score.value, previous: c.score.previous },
        parts,
    };
}

function fleetSection(report: Report, clusters: ClusterReport[]): Section {
    const { fleet } = report;
    const tz = report.timeZone;
    const compliant = fleet.retention.filter((r) => r.violationMinutes === 0).length;
    const firingNow = firingText(fleet.firingNow);
    const certificates = [...fleet.certificates].sort((a, b) => a.daysLeft - b.daysLeft || byText(a.id, b.id));
    return {
        id: "fleet",
        title: "Fleet",
        parts: [
            {
                title: "Summary",
                blocks: [
                    {
                        kind: "facts",
                        rows: [
                            ["Clusters", integer(fleet.clusters)],
                            ["Mean score", figure(compare(fleet.score, UNITS.score, "higher"), true)],
                            [
                                "Lowest score",
                                fleet.worst === null ? NA : `${integer(fleet.worst.score)} (${fleet.worst.cluster})`,
                            ],
                            ["Firing now", { text: firingNow, tone: firingNow === "nothing" ? "good" : "bad" }],
                            ["Alert-minutes firing", figure(compare(fleet.firingMinutes, UNITS.minutes, "lower"))],
                            ["Container restarts", figure(compare(fleet.restarts, UNITS.count, "lower"))],
                            [
                                "Certificates expiring within 30 days",
                                { text: integer(certificates.length), tone: certificates.length > 0 ? "bad" : "good" },
                            ],
                            [
                                "Retention compliance",
                                fleet.retention.length === 0
                                    ? NA
                                    : {
                                          text: `${compliant} of ${plural(fleet.retention.length, "store")} compliant`,
                                          tone: compliant === fleet.retention.length ? "good" : "bad",
                                      },
                            ],
                            ["Warnings", integer(report.warnings.length)],
                        ],
                    },
                    {
                        kind: "scores",
                        title: "Score per cluster, lowest first; the mark is last week's score",
                        rows: clusters.map((c) => ({
                            cluster: c.cluster,
                            value: c.score.value,
                            previous: c.score.previous,
                        })),
                    },
                    {
                        kind: "table",
                        lead: "Clusters",
                        columns: [
                            { title: "Cluster" },
                            { title: "Role" },
                            { title: "Score", numeric: true },
                            { title: "Largest deduction" },
                        ],
                        rows: clusters.map((c) => {
                            const reason = reasonsOf(c)[0];
                            return [
                                c.cluster,
                                c.role,
                                figure(
                                    compare(
                                        { current: c.score.value, previous: c.score.previous },
                                        UNITS.score,
                                        "higher",
                                    ),
                                ),
                                reason === undefined ? "none" : `${reason.text} (${integer(reason.points)} points)`,
                            ];
                        }),
                        empty: "none",
                    },
                ],
            },
            {
                title: "Certificates expiring within 30 days",
                blocks: [
                    {
                        kind: "table",
                        lead: "Certificates expiring within 30 days",
                        columns: [
                            { title: "Certificate" },
                            { title: "Common name" },
                            { title: "Expires", nowrap: true },
                            { title: "Days left", numeric: true },
                        ],
                        rows: certificates.map((cert) => [
                            cert.id,
                            cert.commonName,
                            date(cert.expiresAt, tz),
                            { text: integer(cert.daysLeft), tone: cert.daysLeft <= 7 ? "bad" : "neutral" },
                        ]),
                        empty: "none",
                    },
                ],
            },
            {
                title: "Retention compliance",
                blocks: [
                    {
                        kind: "table",
                        lead: "Retention compliance",
                        columns: [
                            { title: "Store" },
                            { title: "Retention alert firing", numeric: true },
                            { title: "Status" },
                        ],
                        rows: fleet.retention.map((r) => [
                            r.store,
                            duration(r.violationMinutes),
                            r.violationMinutes === 0
                                ? { text: "compliant", tone: "good" }
                                : { text: "violated", tone: "bad" },
                        ]),
                        empty: NA,
                    },
                ],
            },
            {
                title: "Warnings",
                blocks: [
                    { kind: "list", lead: "Warnings", items: report.warnings, empty: "none, every query answered" },
                ],
            },
        ],
    };
}

/** The report as an outline: the fleet first, then each cluster, lowest score first. */
export function outline(report: Report): Outline {
    const tz = report.timeZone;
    const clusters = clusterOrder(report);
    const ids = sectionIds(clusters);
    const span = (w: { start: string; end: string }) => `${dateTime(w.start, tz)} to ${dateTime(w.end, tz)}`;
    return {
        title: report.title,
        intro: [
            `${span(report.window)} (${tz}), compared with the week before (${span(report.previousWindow)}).`,
            `Generated ${dateTime(report.generatedAt, tz)}. ▲/▼: change against last week; ${NA}: not available (see the warnings).`,
        ],
        sections: [fleetSection(report, clusters), ...clusters.map((c, i) => clusterSection(report, c, ids[i] ?? ""))],
    };
}

/** `Weekly health report 2026-W47: 3 clusters, lowest score 62 (alpha)`. */
export function subject(report: Report): string {
    const lowest =
        report.fleet.worst === null
            ? "no score"
            : `lowest score ${integer(report.fleet.worst.score)} (${report.fleet.worst.cluster})`;
    return oneLine(`${report.title}: ${plural(report.fleet.clusters, "cluster")}, ${lowest}`);
}

/** At most six lines of plain text for a chat message. */
export function summary(report: Report): string {
    const { fleet } = report;
    const lines = [`${report.title}: ${plural(fleet.clusters, "cluster")}`];
    const worst = fleet.worst === null ? "" : `, lowest ${fleet.worst.cluster} ${integer(fleet.worst.score)}`;
    lines.push(`Fleet score ${changeText(compare(fleet.score, UNITS.score, "higher"))}${worst}`);
    lines.push(`Firing now: ${firingText(fleet.firingNow)}`);
    const top = topReason(report);
    if (top !== undefined) lines.push(`Top reason: ${top.cluster}, ${top.text} (${integer(top.points)} points)`);
    const soonest = [...fleet.certificates].sort((a, b) => a.daysLeft - b.daysLeft)[0];
    if (soonest !== undefined) {
        lines.push(
            `Certificates expiring within 30 days: ${integer(fleet.certificates.length)}, first ${soonest.id} in ${plural(Math.round(soonest.daysLeft), "day")}`,
        );
    }
    if (report.warnings.length > 0) lines.push(`Warnings: ${integer(report.warnings.length)}, some figures are ${NA}`);
    return lines.map(oneLine).join("\n");
}

/** Repository path of the week's Markdown: `reports/2026-W47.md`. */
export function reportPath(report: Report, directory = "reports"): string {
    const dir = directory.replace(/\/+$/, "");
    const name = `${weekLabel(report.week)}.md`;
    return dir === "" ? name : `${dir}/${name}`;
}

/** The report in every format the delivery channels send. */
export function renderReport(report: Report, directory = "reports"): RenderedReport {
    const doc = outline(report);
    return {
        subject: subject(report),
        summary: summary(report),
        markdown: renderMarkdown(doc),
        html: renderHtml(doc),
        json: JSON.stringify(report, null, 2) + "\n",
        path: reportPath(report, directory),
    };
}
