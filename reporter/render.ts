import {
    byText,
    bySeverity,
    changeText,
    compare,
    cores,
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
    type Better,
    type Change,
    type Tone,
    type Unit,
} from "./format";
import type { Block, Cell, Figure, Outline, Part, Section, SeriesKind } from "./outline";
import { renderHtml } from "./render-html";
import { renderMarkdown } from "./render-markdown";
import type {
    ActiveAlert,
    ClusterReport,
    Compared,
    Daily,
    FillForecast,
    Link,
    PodCount,
    PodMinutes,
    RenderedReport,
    Report,
    ScoreReason,
    Span,
} from "./types";
import { weekLabel } from "./week";

/**
 * What the weekly report says, once, as an outline of sections, figure tables and daily series
 * that the Markdown and HTML renderers only lay out: both show the same figures, formatted the
 * same way, with the same links. `renderReport` is the entry point the reporter calls.
 */

const figure = (c: Change, strong = false): Figure => ({ text: c.value, change: c.change, tone: c.tone, strong });

const pod = (p: { namespace: string; pod: string }): string => `${p.namespace}/${p.pod}`;

/** A cell of links only. */
const look = (links: (Link | null | undefined)[]): Cell => {
    const known = links.filter(
        (l, i): l is Link => l !== null && l !== undefined && links.findIndex((x) => x?.url === l.url) === i,
    );
    return known.length === 0 ? "" : { text: "", links: known };
};

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

/** The cluster's reasons as the report orders them: firing now, to act on, then the past; most points first. */
const reasonsOf = (cluster: ClusterReport): ScoreReason[] => cluster.score.reasons;

/** The most urgent reason in the fleet and its cluster: firing now before anything to act on before the past. */
export function topReason(report: Report): { cluster: string; points: number; text: string } | undefined {
    const rank = { now: 0, action: 1, past: 2 } as const;
    let top: { cluster: string; reason: ScoreReason } | undefined;
    for (const cluster of clusterOrder(report)) {
        const reason = reasonsOf(cluster)[0];
        if (reason === undefined) continue;
        if (
            top === undefined ||
            rank[reason.urgency] < rank[top.reason.urgency] ||
            (rank[reason.urgency] === rank[top.reason.urgency] && reason.points > top.reason.points)
        ) {
            top = { cluster: cluster.cluster, reason };
        }
    }
    return top && { cluster: top.cluster, points: top.reason.points, text: top.reason.text };
}

/** Why a figure is n/a, from the cluster's notes. */
const noteOf = (c: ClusterReport, path: string): string => c.notes[path] ?? "no data";

/**
 * A compared figure, with the reason beside any n/a: `n/a (main writes to its own store…)`,
 * `3 (vs n/a: query restarts (previous week) failed, see the warnings)`.
 */
function known(c: ClusterReport, path: string, value: Compared, unit: Unit, better: Better, strong = false): Figure {
    const change = compare(value, unit, better);
    const f = figure(change, strong);
    if (value.current === null) return { ...f, text: `${NA} (${noteOf(c, path)})`, change: "" };
    if (value.previous === null) return { ...f, change: `vs ${NA}: ${noteOf(c, `${path}.previous`)}` };
    return f;
}

/** A fleet figure: a sum or mean over the clusters, unknown when any cluster's is. */
function fleetFigure(value: Compared, unit: Unit, better: Better, why: string, strong = false): Figure {
    const f = figure(compare(value, unit, better), strong);
    if (value.current === null) return { ...f, text: `${NA} (${why})`, change: "" };
    if (value.previous === null) return { ...f, change: `vs ${NA}: ${why} last week` };
    return f;
}

/** `Wed 2026-11-18 11:00 to 14:00`, the end's date only when it differs; empty without a span. */
function spanText(span: Span | null, tz: string): string {
    if (span === null) return "";
    const from = dateTime(span.from, tz);
    const to = dateTime(span.to, tz);
    const day = (t: string) => t.slice(0, t.lastIndexOf(" "));
    return `${from} to ${day(from) === day(to) ? to.slice(to.lastIndexOf(" ") + 1) : to}`;
}

function podTable(lead: string, rows: PodCount[], what: string): Block {
    return {
        kind: "table",
        lead,
        columns: [{ title: "Pod" }, { title: what, numeric: true }, { title: "Look", long: true }],
        rows: rows.map((r) => [pod(r), integer(r.count), look([r.link])]),
        empty: "none",
    };
}

function podMinutesTable(lead: string, rows: PodMinutes[], what: string, tz: string): Block {
    return {
        kind: "table",
        lead,
        columns: [{ title: "Pod" }, { title: what, numeric: true }, { title: "When" }, { title: "Look", long: true }],
        rows: rows.map((r) => [pod(r), duration(r.minutes), spanText(r.span, tz), look([r.link])]),
        empty: "none",
    };
}

function fillTable(lead: string, what: string, rows: FillForecast[]): Block {
    return {
        kind: "table",
        lead,
        columns: [
            { title: what },
            { title: "Used", numeric: true },
            { title: "Full in", numeric: true },
            { title: "Look", long: true },
        ],
        rows: rows.map((r) => [
            r.name,
            { text: percent(r.used, 0), share: r.used },
            r.daysToFull === null
                ? "not filling"
                : { text: days(r.daysToFull), tone: r.daysToFull <= 7 ? "bad" : "neutral" },
            look([r.link]),
        ]),
        empty: "none over 80% or filling within 30 days",
    };
}

function usedShare(used: number | null, allocatable: number | null): Cell {
    if (used === null || allocatable === null || allocatable <= 0) return `${NA} (used or allocatable unknown)`;
    const share = used / allocatable;
    return { text: percent(share, 0), share };
}

/**
 * A part's blocks with its empty tables and lists folded into one line, `None this week: most
 * restarts, OOM kills.`, where there are at least two; a single one keeps its own line.
 */
function compact(blocks: Block[]): Block[] {
    const isEmpty = (b: Block): b is Extract<Block, { kind: "table" }> =>
        b.kind === "table" && b.rows.length === 0 && b.empty === "none";
    const folded = blocks.filter(isEmpty);
    if (folded.length < 2) return blocks;
    // `Crash loops` reads `crash loops` inside the sentence; `OOM kills` stays as it is.
    const lower = (lead: string) => (/^[A-Z][a-z]/.test(lead) ? lead.charAt(0).toLowerCase() + lead.slice(1) : lead);
    const leads = folded.map((b, i) => (i === 0 ? b.lead : lower(b.lead)));
    const at = blocks.findIndex(isEmpty);
    const rest = blocks.filter((b) => !isEmpty(b));
    rest.splice(at, 0, { kind: "note", text: `None this week: ${leads.join(", ")}.` });
    return rest;
}

/** A daily series, or one line saying why it is unknown. */
function dailyBlock(
    series: SeriesKind,
    title: string,
    labels: string[],
    values: Daily,
    format: (v: number) => string,
    scaleMax?: number,
): Block {
    if (values.every((v) => v === null))
        return { kind: "note", text: `${title}: ${NA} (its query failed, see the warnings).` };
    return { kind: "daily", series, title, labels, values, format, ...(scaleMax === undefined ? {} : { scaleMax }) };
}

/** Alerts firing now, most severe first, each with its runbook and Grafana's silence form for it. */
function firingTable(alerts: (ActiveAlert & { cluster?: string })[], tz: string, withCluster: boolean): Block {
    const rows = [...alerts]
        .sort((a, b) => bySeverity(a.severity, b.severity) || byText(a.since, b.since))
        .map((a) => {
            const where = Object.entries(a.labels)
                .sort(([x], [y]) => byText(x, y))
                .map(([k, v]) => `${k}=${v}`)
                .join(", ");
            const links: Cell = {
                text: a.runbook === null ? `no runbook link: ${a.runbookMissing}` : "",
                links: [a.runbook, a.silence].filter((l): l is Link => l !== null),
            };
            return [
                ...(withCluster ? [a.cluster === "" || a.cluster === undefined ? "(fleet)" : a.cluster] : []),
                a.alertname,
                a.severity === "critical" ? { text: a.severity, tone: "bad" as Tone } : a.severity,
                dateTime(a.since, tz),
                where,
                a.summary,
                links,
            ];
        });
    return {
        kind: "table",
        lead: "Firing now",
        columns: [
            ...(withCluster ? [{ title: "Cluster" }] : []),
            { title: "Alert" },
            { title: "Severity" },
            { title: "Since" },
            { title: "Where", long: true },
            { title: "Summary", long: true },
            { title: "Look", long: true },
        ],
        rows,
        empty: "nothing",
    };
}

function scorePart(c: ClusterReport): Part {
    const { score } = c;
    const previousByTerm = new Map(score.previousReasons.map((r) => [r.term, r]));
    const rows: Cell[][] = score.reasons.map((r) => [
        integer(r.points),
        score.previous === null ? NA : integer(previousByTerm.get(r.term)?.points ?? 0),
        r.section,
        r.urgency === "now" ? { text: r.text, tone: "bad", strong: true } : r.text,
        look(r.links),
    ]);
    const current = new Set(score.reasons.map((r) => r.term));
    for (const r of score.previousReasons.filter((p) => !current.has(p.term))) {
        rows.push(["0", integer(r.points), r.section, `last week: ${r.text}`, ""]);
    }
    const lost = score.reasons.reduce((sum, r) => sum + r.points, 0);
    const lostBefore = score.previousReasons.reduce((sum, r) => sum + r.points, 0);
    if (rows.length > 0) {
        rows.push([
            { text: integer(lost), strong: true },
            score.previous === null ? NA : { text: integer(lostBefore), strong: true },
            "",
            {
                text:
                    `total: 100 − ${integer(lost)} = ${integer(score.value)}` +
                    (lost > 100 ? " (never below 0)" : "") +
                    (score.previous === null
                        ? ""
                        : `; last week 100 − ${integer(lostBefore)} = ${integer(score.previous)}`),
                strong: true,
            },
            "",
        ]);
    }
    const blocks: Block[] = [
        {
            kind: "facts",
            rows: [
                [
                    "Score",
                    figure(compare({ current: score.value, previous: score.previous }, UNITS.score, "higher"), true),
                ],
            ],
        },
        {
            kind: "table",
            lead: "Points off",
            columns: [
                { title: "Points", numeric: true },
                { title: "Last week", numeric: true },
                { title: "Section" },
                { title: "Reason", long: true },
                { title: "Look", long: true },
            ],
            rows,
            empty: "none",
        },
    ];
    if (score.lacks.length > 0)
        blocks.push({ kind: "note", text: `This week's score leaves out ${score.lacks.join("; ")}.` });
    if (score.previous !== null && score.previousLacks.length > 0)
        blocks.push({ kind: "note", text: `Last week's score leaves out ${score.previousLacks.join("; ")}.` });
    if (score.previous === null)
        blocks.push({ kind: "note", text: `Last week's score: ${NA} (${score.previousLacks.join("; ")}).` });
    return { title: "Score", blocks };
}

function clusterSection(report: Report, c: ClusterReport, id: string): Section {
    const tz = report.timeZone;
    const labels = (values: Daily) => dayLabels(report.window, values.length, tz);
    const { availability: av, alerts, workloads: wl, capacity: cap, stack } = c;

    const gap = (signal: string, h: number | null): Cell =>
        h === null
            ? `${NA} (${noteOf(c, `availability.signals.${signal}`)})`
            : h === 0
              ? { text: "none", tone: "good" }
              : { text: hours(h), tone: "bad" };
    const gaps = av.signals.filter((s) => s.gapHours !== null && s.gapHours > 0);
    const unknown = av.signals.filter((s) => s.gapHours === null);
    const quiet = av.signals.filter((s) => s.gapHours === 0).map((s) => s.signal);
    const availability: Part = {
        title: "Availability",
        blocks: compact([
            {
                kind: "facts",
                rows: [
                    ["Nodes Ready", known(c, "availability.nodesReady", av.nodesReady, UNITS.availability, "higher")],
                    ["API server", known(c, "availability.apiServer", av.apiServer, UNITS.availability, "higher")],
                    ...av.controlPlane.map((cp): [string, Cell] => [
                        cp.component,
                        known(c, "availability.controlPlane", cp.availability, UNITS.availability, "higher"),
                    ]),
                ],
            },
            {
                kind: "table",
                lead: "Nodes not Ready",
                columns: [
                    { title: "Node" },
                    { title: "Not Ready for", numeric: true },
                    { title: "When" },
                    { title: "Look", long: true },
                ],
                rows: av.nodeDowntime.map((n) => [n.node, duration(n.minutes), spanText(n.span, tz), look([n.link])]),
                empty: "none",
            },
            gaps.length === 0
                ? {
                      kind: "note",
                      text: `Data arrival: ${[
                          ...(quiet.length > 0 ? [`no hour without data (${quiet.join(", ")})`] : []),
                          ...unknown.map((s) => `${s.signal} ${NA} (${noteOf(c, `availability.signals.${s.signal}`)})`),
                      ].join("; ")}.`,
                  }
                : {
                      kind: "table",
                      lead: "Data arrival",
                      columns: [
                          { title: "Signal" },
                          { title: "Hours without data", numeric: true },
                          { title: "When" },
                          { title: "Look", long: true },
                      ],
                      rows: av.signals.map((s) => [
                          s.signal,
                          gap(s.signal, s.gapHours),
                          spanText(s.span, tz),
                          look([s.link]),
                      ]),
                      empty: NA,
                  },
        ]),
    };

    const alertsPart: Part = {
        title: "Alerts",
        blocks: compact([
            {
                kind: "facts",
                rows: [
                    [
                        "Alert-minutes firing",
                        known(c, "alerts.firingMinutes", alerts.firingMinutes, UNITS.minutes, "lower"),
                    ],
                    [
                        "Firing now",
                        c.notes["alerts.firingNow"] !== undefined
                            ? `${NA} (${c.notes["alerts.firingNow"]})`
                            : alerts.firingNow.length === 0
                              ? { text: "nothing", tone: "good" }
                              : { text: plural(alerts.firingNow.length, "alert"), tone: "bad" },
                    ],
                ],
            },
            firingTable(alerts.firingNow, tz, false),
            {
                kind: "table",
                lead: "Firings by severity",
                columns: [{ title: "Severity" }, { title: "Firings", numeric: true }],
                rows: Object.entries(alerts.bySeverity)
                    .sort(([a], [b]) => bySeverity(a, b))
                    .map(([severity, n]) => [severity, known(c, "alerts.bySeverity", n, UNITS.count, "lower")]),
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
                    { title: "When" },
                    { title: "Look", long: true },
                ],
                rows: alerts.noisiest.map((a) => [
                    a.alertname,
                    a.severity,
                    integer(a.firings),
                    duration(a.firingMinutes),
                    spanText(a.span, tz),
                    look(a.links),
                ]),
                empty: "none",
            },
            dailyBlock("alerts", "Alert-minutes firing per day", labels(alerts.daily), alerts.daily, duration),
        ]),
    };

    const actionCount = Object.entries(wl.remediation.actions)
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
        empty: `${NA} (no usage recorded)`,
    });
    const remediation = wl.remediation;
    const remediationBlock: Block =
        remediation.details === null
            ? {
                  kind: "note",
                  text:
                      actionCount === ""
                          ? "Remediation: no action."
                          : `Remediation: ${actionCount}; the workloads are not named: ${remediation.detailsMissing}.`,
              }
            : {
                  kind: "table",
                  lead: "Remediation",
                  columns: [
                      { title: "When" },
                      { title: "Workload", long: true },
                      { title: "Action" },
                      { title: "Alert" },
                      { title: "Usage", numeric: true },
                      { title: "Budget", numeric: true },
                      { title: "Look", long: true },
                  ],
                  rows: remediation.details.map((a) => [
                      dateTime(a.at, tz),
                      `${a.namespace}/${a.kind === "" ? "" : `${a.kind.toLowerCase()}/`}${a.name}`,
                      a.outcome === "would-act"
                          ? `dry-run: would have ${a.mode === "gitops" ? "opened a merge request" : "scaled to 0"}`
                          : a.mode === "gitops"
                            ? "merge request opened"
                            : "scaled to 0",
                      a.alertname,
                      a.value === "" ? NA : a.value,
                      a.budget === null ? `${NA} (not in the audit line)` : String(a.budget),
                      look([a.url === null ? null : { label: "merge request", url: a.url }, remediation.link]),
                  ]),
                  empty: "none",
              };
    const workloads: Part = {
        title: "Workloads",
        blocks: compact([
            {
                kind: "facts",
                rows: [
                    ["Container restarts", known(c, "workloads.restarts", wl.restarts, UNITS.count, "lower")],
                    ["OOM kills", known(c, "workloads.oomKills", wl.oomKills, UNITS.count, "lower")],
                    ["Crash-looping pods", integer(wl.crashLoops.length)],
                    ["Long-pending pods", integer(wl.pending.length)],
                    ["Remediation actions", actionCount === "" ? "none" : actionCount],
                    ["Merge requests opened", integer(remediation.mergeRequests)],
                ],
            },
            podTable("Most restarts", wl.topRestarts, "Restarts"),
            podTable("OOM kills", wl.topOomKills, "OOM kills"),
            podMinutesTable("Crash loops", wl.crashLoops, "In CrashLoopBackOff for", tz),
            podMinutesTable("Pending", wl.pending, "Pending for", tz),
            {
                kind: "table",
                lead: "Non-critical workloads near or over budget",
                columns: [
                    { title: "Workload" },
                    { title: "Alert" },
                    { title: "Near (pending)", numeric: true },
                    { title: "Over (firing)", numeric: true },
                    { title: "Look", long: true },
                ],
                rows: wl.budgets.map((b) => [
                    `${b.namespace}/${b.workload}`,
                    b.alertname,
                    duration(b.pendingMinutes),
                    { text: duration(b.firingMinutes), tone: b.firingMinutes > 0 ? "bad" : "neutral" },
                    look([b.link]),
                ]),
                empty: "none",
            },
            ...(actionCount === "" && (remediation.details === null || remediation.details.length === 0)
                ? []
                : [remediationBlock]),
            consumers("Largest CPU users", "CPU (average)", wl.topCpu, cores),
            consumers("Largest memory users", "Memory (peak)", wl.topMemory, bytes),
            dailyBlock("restarts", "Container restarts per day", labels(wl.daily), wl.daily, integer),
        ]),
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
                        known(c, "capacity.cpuUsedCores", cap.cpuUsedCores, UNITS.cores, "neither"),
                        known(c, "capacity.cpuAllocatableCores", cap.cpuAllocatableCores, UNITS.cores, "neither"),
                        usedShare(cap.cpuUsedCores.current, cap.cpuAllocatableCores.current),
                    ],
                    [
                        "Memory",
                        known(c, "capacity.memoryUsedBytes", cap.memoryUsedBytes, UNITS.bytes, "neither"),
                        known(c, "capacity.memoryAllocatableBytes", cap.memoryAllocatableBytes, UNITS.bytes, "neither"),
                        usedShare(cap.memoryUsedBytes.current, cap.memoryAllocatableBytes.current),
                    ],
                ],
                empty: NA,
            },
            {
                kind: "facts",
                rows: [["etcd database", known(c, "capacity.etcdBytes", cap.etcdBytes, UNITS.bytes, "lower")]],
            },
            ...(cap.disks.length === 0 && cap.pvcs.length === 0
                ? [
                      {
                          kind: "note",
                          text: "Disks and persistent volume claims: none over 80% or filling within 30 days.",
                      } as Block,
                  ]
                : [
                      fillTable("Disks", "Filesystem", cap.disks),
                      fillTable("Persistent volume claims", "Claim", cap.pvcs),
                  ]),
            dailyBlock("cpu", "CPU used of allocatable per day", labels(cap.daily), cap.daily, (v) => percent(v, 0), 1),
        ],
    };

    const stackPart: Part = {
        title: "Observability stack",
        blocks: [
            {
                kind: "facts",
                rows: [
                    [
                        "Samples failed to send to main",
                        known(c, "stack.remoteWriteFailed", stack.remoteWriteFailed, UNITS.count, "lower"),
                    ],
                    ["Samples dropped", known(c, "stack.samplesDropped", stack.samplesDropped, UNITS.count, "lower")],
                    ["Log events dropped", known(c, "stack.logsDropped", stack.logsDropped, UNITS.count, "lower")],
                    ["Spans dropped", known(c, "stack.spansDropped", stack.spansDropped, UNITS.count, "lower")],
                ],
            },
        ],
    };

    const parts = [scorePart(c), availability, alertsPart, workloads, capacity, stackPart];
    const notCollected: Block[] = [];
    if (c.errorLogs === null) {
        notCollected.push({
            kind: "note",
            text: `Error logs: not collected (${c.notes["availability.signals.logs"] ?? "Loki could not be read, see the warnings"}).`,
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
    if (c.dashboard !== null) {
        parts.unshift({
            title: null,
            blocks: [{ kind: "note", text: "Its dashboard over the week:", links: [c.dashboard] }],
        });
    }

    return {
        id,
        title: `${c.cluster} (${c.role}): score ${integer(c.score.value)}`,
        score: { value: c.score.value, previous: c.score.previous },
        parts,
    };
}

/** A healthy cluster in one line: its score and what stayed quiet, with its dashboard. */
function healthyLine(c: ClusterReport): Cell {
    const change = changeText(compare({ current: c.score.value, previous: c.score.previous }, UNITS.score, "higher"));
    return {
        text:
            `${c.cluster} (${c.role}): score ${change}; every node Ready, no hour without metrics or logs, ` +
            "no critical or warning alert, nothing firing, no restart, no volume over 80% or filling",
        links: c.dashboard ? [c.dashboard] : [],
    };
}

function fleetSection(report: Report, clusters: ClusterReport[]): Section {
    const { fleet } = report;
    const tz = report.timeZone;
    const compliant = fleet.retention.filter((r) => r.violationMinutes === 0).length;
    const firingNow = firingText(fleet.firingNow);
    const alertmanagerRead = !report.warnings.some((w) => w.startsWith("alerts firing now:"));
    const unhealthy = clusters.filter((c) => !c.healthy);
    const healthy = clusters.filter((c) => c.healthy);
    const retention: Block =
        fleet.retention.length > 0 && compliant === fleet.retention.length
            ? {
                  kind: "note",
                  text: `Retention: every store compliant (${fleet.retention.map((r) => r.store).join(", ")}).`,
              }
            : {
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
              };
    return {
        id: "fleet",
        title: "Fleet",
        parts: [
            {
                title: "Firing now",
                blocks: alertmanagerRead
                    ? [
                          {
                              kind: "note",
                              text: `Firing now: ${firingNow}.`,
                              links: [report.links.alerts, report.links.silences].filter((l): l is Link => l !== null),
                          },
                          ...(fleet.firing.length === 0 ? [] : [firingTable(fleet.firing, tz, true)]),
                      ]
                    : [{ kind: "note", text: `Firing now: ${NA} (Alertmanager could not be read, see the warnings).` }],
            },
            {
                title: "To act on this week",
                blocks: [
                    {
                        kind: "list",
                        lead: "To act on this week",
                        items: fleet.actions.map((a): Cell => ({
                            text: a.cluster === null ? a.text : `${a.cluster}: ${a.text}`,
                            links: a.links,
                        })),
                        empty: "nothing: no volume full within 7 days or over 90%, no certificate to renew",
                    },
                ],
            },
            {
                title: "The week",
                blocks: [
                    {
                        kind: "facts",
                        rows: [
                            ["Clusters", integer(fleet.clusters)],
                            [
                                "Mean score",
                                fleetFigure(fleet.score, UNITS.score, "higher", "a cluster's score is unknown", true),
                            ],
                            [
                                "Lowest score",
                                fleet.worst === null
                                    ? `${NA} (no cluster)`
                                    : `${integer(fleet.worst.score)} (${fleet.worst.cluster})`,
                            ],
                            [
                                "Alert-minutes firing",
                                fleetFigure(
                                    fleet.firingMinutes,
                                    UNITS.minutes,
                                    "lower",
                                    "a cluster's figure is unknown",
                                ),
                            ],
                            [
                                "Container restarts",
                                fleetFigure(fleet.restarts, UNITS.count, "lower", "a cluster's figure is unknown"),
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
                            { title: "Most urgent reason", long: true },
                            { title: "Look", long: true },
                        ],
                        rows: unhealthy.map((c) => {
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
                                reason === undefined ? "none" : `${reason.text} (${plural(reason.points, "point")})`,
                                look([...(reason?.links ?? []).slice(0, 2), c.dashboard]),
                            ];
                        }),
                        empty: "none: every cluster is healthy",
                    },
                    {
                        kind: "list",
                        lead: "Healthy",
                        items: healthy.map(healthyLine),
                        empty: "none",
                    },
                    retention,
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

/** The report as an outline: the fleet first, then each cluster with something to say, lowest score first. */
export function outline(report: Report): Outline {
    const tz = report.timeZone;
    const clusters = clusterOrder(report);
    const ids = sectionIds(clusters);
    const span = (w: { start: string; end: string }) => `${dateTime(w.start, tz)} to ${dateTime(w.end, tz)}`;
    const grafana = report.links.grafana;
    return {
        title: report.title,
        intro: [
            `${span(report.window)} (${tz}), compared with the week before (${span(report.previousWindow)}).`,
            `Generated ${dateTime(report.generatedAt, tz)}. ▲/▼: change against last week; ${NA}: not available, the reason beside it.`,
            ...(grafana === null
                ? []
                : [
                      {
                          text: `Links open Grafana${report.links.grafanaNote === "" ? "" : ` (${report.links.grafanaNote})`}: Explore over each incident's hours, dashboards over the week, Alertmanager's alerts and silences.`,
                          links: [grafana],
                      } as Cell,
                  ]),
        ],
        sections: [
            fleetSection(report, clusters),
            ...clusters.flatMap((c, i) => (c.healthy ? [] : [clusterSection(report, c, ids[i] ?? "")])),
        ],
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

/** At most six lines of plain text for a chat message: what fires now and what to act on come first. */
export function summary(report: Report): string {
    const { fleet } = report;
    const lines = [`${report.title}: ${plural(fleet.clusters, "cluster")}`];
    const named = fleet.firing
        .slice(0, 3)
        .map((a) => `${a.alertname} on ${a.cluster === "" ? "the fleet" : a.cluster}`)
        .join(", ");
    const more = fleet.firing.length > 3 ? `, ${fleet.firing.length - 3} more` : "";
    lines.push(`Firing now: ${firingText(fleet.firingNow)}${named === "" ? "" : ` (${named}${more})`}`);
    const first = fleet.actions[0];
    if (first !== undefined) {
        const others = fleet.actions.length > 1 ? ` (${fleet.actions.length - 1} more)` : "";
        lines.push(`To act on: ${first.cluster === null ? "" : `${first.cluster}, `}${first.text}${others}`);
    }
    const worst = fleet.worst === null ? "" : `, lowest ${fleet.worst.cluster} ${integer(fleet.worst.score)}`;
    lines.push(`Fleet score ${changeText(compare(fleet.score, UNITS.score, "higher"))}${worst}`);
    const top = topReason(report);
    if (top !== undefined) lines.push(`Most urgent: ${top.cluster}, ${top.text} (${plural(top.points, "point")})`);
    if (report.warnings.length > 0) lines.push(`Warnings: ${integer(report.warnings.length)}, some figures are ${NA}`);
    return lines.slice(0, 6).map(oneLine).join("\n");
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
