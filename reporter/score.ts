import type { Collected } from "./collect";
import type { Link, Score, ScoreReason, Signal, Urgency } from "./types";

/**
 * A cluster's health score: 100 minus whole points for what went wrong, each deduction capped
 * so that one bad area cannot hide all others, each with the sentence that explains it and
 * where to look. Both weeks are scored by the same terms from the same kind of figures: each
 * term reads a week's view of the cluster, so last week's score leaves nothing out that this
 * week's counts, and a term whose figures are unknown says so instead of counting 0.
 * docs/report.md lists the deductions.
 */

type Week = "current" | "previous";

/** One week's figures, as the terms read them: `null` is unknown (a query failed), `undefined` does not apply. */
interface WeekView {
    nodeDowntime: { node: string; minutes: number; link?: Link | null }[] | null;
    apiServer: number | null;
    controlPlane: { component: string; availability: number | null }[];
    /** Hours without data by signal; undefined where the signal is not collected. */
    gaps: Partial<Record<Signal, number | null>>;
    gapLinks: Link[];
    fired: Record<"critical" | "warning", number | null>;
    firedLinks: Record<"critical" | "warning", Link[]>;
    /** Critical alerts firing at the end of the week, and where to look. */
    criticalFiring: string[] | null;
    criticalLinks: Link[];
    restarts: number | null;
    topRestarts: { namespace: string; pod: string; count: number; link: Link | null } | undefined;
    oomKills: number | null;
    oomLink: Link | null;
    crashLoops: { namespace: string; pod: string; link?: Link | null }[] | null;
    pending: { namespace: string; pod: string; link?: Link | null }[] | null;
    cpu: [number | null, number | null];
    memory: [number | null, number | null];
    volumes: { name: string; used: number; daysToFull: number | null; link?: Link | null }[] | null;
    losses: { samplesDropped?: number | null; logsDropped: number | null; spansDropped: number | null };
    remoteWriteFailed?: number | null;
    dashboard: Link | null;
}

/** Whether a note says a figure is unknown because something failed, rather than not applying. */
const failed = (note: string | undefined) => note !== undefined && /failed|could not be read/.test(note);

function viewOf(c: Collected, week: Week): WeekView {
    const now = week === "current";
    const p = c.previousWeek;
    const pick = (v: { current: number | null; previous: number | null }) => v[week];
    const noteKey = (path: string) => (now ? path : `${path}.previous`);
    const signalGap = (signal: Signal): number | null | undefined => {
        if (now) {
            const found = c.availability.signals.find((s) => s.signal === signal);
            if (found === undefined) return undefined;
            if (found.gapHours !== null) return found.gapHours;
            return failed(c.notes[`availability.signals.${signal}`]) ? null : undefined;
        }
        const gap = p.gapHours[signal];
        if (gap !== null) return gap;
        const collectedNow = c.availability.signals.find((s) => s.signal === signal)?.gapHours;
        // Not collected now (no logs shipped, no traces): not collected then either.
        return collectedNow === null || collectedNow === undefined ? undefined : null;
    };
    const severityFired = (severity: "critical" | "warning") => {
        const entry = c.alerts.bySeverity[severity];
        return entry === undefined ? (failed(c.notes["alerts.noisiest"]) ? null : 0) : entry[week];
    };
    const linksOf = (items: { link?: Link | null }[], label: (i: number) => string) =>
        items.flatMap((item, i) => (item.link ? [{ ...item.link, label: label(i) }] : [])).slice(0, 3);
    const firingNow = c.alerts.firingNow.filter((a) => a.severity === "critical");
    /** A loss counter without series (nothing shipped it) lost nothing; only a failed query is unknown. */
    const loss = (value: number | null, path: string) =>
        value === null && !failed(c.notes[noteKey(path)]) ? 0 : value;
    const remote = (value: number | null, path: string) => (c.role === "main" ? undefined : loss(value, path));
    return {
        nodeDowntime: now ? c.availability.nodeDowntime : p.nodeDowntime,
        apiServer: pick(c.availability.apiServer),
        controlPlane: c.availability.controlPlane.map((cp) => ({
            component: cp.component,
            availability: pick(cp.availability),
        })),
        gaps: Object.fromEntries(
            (["metrics", "logs", "traces"] as const).flatMap((s) => {
                const gap = signalGap(s);
                return gap === undefined ? [] : [[s, gap]];
            }),
        ),
        gapLinks: now ? c.availability.signals.flatMap((s) => (s.link ? [{ ...s.link, label: s.signal }] : [])) : [],
        fired: { critical: severityFired("critical"), warning: severityFired("warning") },
        firedLinks: {
            critical: now
                ? linksOf(
                      c.alerts.noisiest
                          .filter((a) => a.severity === "critical")
                          .map((a) => ({ link: a.links[0] ?? null })),
                      (i) => c.alerts.noisiest.filter((a) => a.severity === "critical")[i]?.alertname ?? "",
                  )
                : [],
            warning: now
                ? linksOf(
                      c.alerts.noisiest
                          .filter((a) => a.severity === "warning")
                          .map((a) => ({ link: a.links[0] ?? null })),
                      (i) => c.alerts.noisiest.filter((a) => a.severity === "warning")[i]?.alertname ?? "",
                  )
                : [],
        },
        criticalFiring: now
            ? failed(c.notes["alerts.firingNow"])
                ? null
                : [...new Set(firingNow.map((a) => a.alertname))]
            : p.criticalFiring,
        criticalLinks: now
            ? firingNow.flatMap((a) => [
                  ...(a.runbook ? [{ ...a.runbook, label: `${a.alertname} runbook` }] : []),
                  ...(a.silence ? [{ ...a.silence, label: `silence ${a.alertname}` }] : []),
              ])
            : [],
        restarts: pick(c.workloads.restarts),
        topRestarts: now ? c.workloads.topRestarts[0] : undefined,
        oomKills: pick(c.workloads.oomKills),
        oomLink: now ? (c.workloads.topOomKills[0]?.link ?? null) : null,
        crashLoops: now ? c.workloads.crashLoops : p.crashLoops,
        pending: now ? c.workloads.pending : p.pending,
        cpu: [pick(c.capacity.cpuUsedCores), pick(c.capacity.cpuAllocatableCores)],
        memory: [pick(c.capacity.memoryUsedBytes), pick(c.capacity.memoryAllocatableBytes)],
        volumes: now ? [...c.capacity.disks, ...c.capacity.pvcs] : p.volumes,
        losses: {
            ...(c.role === "main"
                ? {}
                : { samplesDropped: remote(pick(c.stack.samplesDropped), "stack.samplesDropped") }),
            logsDropped: loss(pick(c.stack.logsDropped), "stack.logsDropped"),
            spansDropped: loss(pick(c.stack.spansDropped), "stack.spansDropped"),
        },
        ...(c.role === "main"
            ? {}
            : { remoteWriteFailed: remote(pick(c.stack.remoteWriteFailed), "stack.remoteWriteFailed") }),
        dashboard: now ? c.dashboard : null,
    };
}

/** What a term finds in a week: nothing, a deduction, or that its figures are unknown (and why). */
type Found = undefined | { points: number; text: string; links?: Link[] } | { unknown: string };

interface Term {
    term: string;
    section: ScoreReason["section"];
    urgency: Urgency;
    deduct(v: WeekView): Found;
}

/** Whole points: a started unit counts (1 point per 15 minutes: 16 minutes is 2), then the cap. */
const whole = (points: number, cap: number) => Math.min(cap, Math.ceil(points - 1e-9));
const pct = (ratio: number) => `${(ratio * 100).toFixed(2)} %`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const unknown = (what: string): Found => ({ unknown: what });

const HOURS_PER_WEEK = 168;

/** Below this share of the week, availability costs points. */
const AVAILABILITY_TARGET = 0.999;

export const SCORE_TERMS: readonly Term[] = [
    {
        term: "node-downtime",
        section: "availability",
        urgency: "past",
        deduct(v) {
            if (v.nodeDowntime === null) return unknown("node downtime could not be read");
            const minutes = v.nodeDowntime.reduce((sum, n) => sum + n.minutes, 0);
            if (minutes === 0) return undefined;
            const worst = v.nodeDowntime[0];
            const nodes = v.nodeDowntime.length;
            return {
                points: whole(minutes / 15, 20),
                text:
                    nodes === 1 && worst
                        ? `node ${worst.node} was not ready for ${plural(worst.minutes, "minute")}`
                        : `${nodes} nodes were not ready for ${minutes} minutes in all (most: ${worst?.node}, ${worst?.minutes} minutes)`,
                links: v.nodeDowntime.flatMap((n) => (n.link ? [{ ...n.link, label: n.node }] : [])).slice(0, 3),
            };
        },
    },
    {
        term: "api-server",
        section: "availability",
        urgency: "past",
        deduct(v) {
            const up = v.apiServer;
            if (up === null || up >= AVAILABILITY_TARGET) return undefined;
            return {
                points: whole((AVAILABILITY_TARGET - up) * 1000, 20),
                text: `the API server answered ${pct(up)} of its scrapes (target ${pct(AVAILABILITY_TARGET)})`,
                links: v.dashboard ? [v.dashboard] : [],
            };
        },
    },
    {
        term: "control-plane",
        section: "availability",
        urgency: "past",
        deduct(v) {
            const down = v.controlPlane.filter((p) => p.availability !== null && p.availability < AVAILABILITY_TARGET);
            if (down.length === 0) return undefined;
            return {
                points: whole(down.length * 5, 15),
                text: `control plane below ${pct(AVAILABILITY_TARGET)}: ${down
                    .map((p) => `${p.component} ${pct(p.availability ?? 0)}`)
                    .join(", ")}`,
                links: v.dashboard ? [v.dashboard] : [],
            };
        },
    },
    {
        term: "data-arrival",
        section: "data",
        urgency: "past",
        deduct(v) {
            const metrics = v.gaps.metrics;
            if (metrics === null) return unknown("the hours without metrics could not be read");
            if (metrics !== undefined && metrics >= HOURS_PER_WEEK) {
                return { points: 100, text: "no metrics arrived from this cluster during the week", links: v.gapLinks };
            }
            if (v.gaps.logs === null) return unknown("the hours without logs could not be read");
            const gaps = (["metrics", "logs"] as const).flatMap((s) => {
                const hours = v.gaps[s];
                return hours !== undefined && hours !== null && hours > 0 ? [[s, hours] as const] : [];
            });
            if (gaps.length === 0) return undefined;
            const hours = gaps.reduce((sum, [, h]) => sum + h, 0);
            return {
                points: whole(hours * 2, 15),
                text: `data missing at main: ${gaps.map(([s, h]) => `${s} ${plural(h, "hour")}`).join(", ")}`,
                links: v.gapLinks.filter((l) => l.label !== "traces"),
            };
        },
    },
    {
        term: "critical-firing",
        section: "alerts",
        urgency: "now",
        deduct(v) {
            if (v.criticalFiring === null) return unknown("the alerts firing could not be read");
            if (v.criticalFiring.length === 0) return undefined;
            return {
                points: whole(v.criticalFiring.length * 10, 20),
                text: `${plural(v.criticalFiring.length, "critical alert")} still firing: ${v.criticalFiring.join(", ")}`,
                links: v.criticalLinks,
            };
        },
    },
    {
        term: "critical-fired",
        section: "alerts",
        urgency: "past",
        deduct(v) {
            const critical = v.fired.critical;
            if (critical === null) return unknown("the alerts that fired could not be read");
            if (critical === 0) return undefined;
            return {
                points: whole(critical * 2, 10),
                text: `${plural(critical, "critical alert")} fired`,
                links: v.firedLinks.critical,
            };
        },
    },
    {
        term: "warning-fired",
        section: "alerts",
        urgency: "past",
        deduct(v) {
            const warning = v.fired.warning;
            if (warning === null) return unknown("the alerts that fired could not be read");
            if (warning === 0) return undefined;
            return {
                points: whole(warning / 2, 5),
                text: `${plural(warning, "warning")} fired`,
                links: v.firedLinks.warning,
            };
        },
    },
    {
        term: "restarts",
        section: "workloads",
        urgency: "past",
        deduct(v) {
            if (v.restarts === null) return unknown("the container restarts could not be read");
            if (v.restarts === 0) return undefined;
            const top = v.topRestarts;
            return {
                points: whole(v.restarts / 10, 10),
                text: `${plural(v.restarts, "container restart")}${top ? ` (most: ${top.namespace}/${top.pod}, ${top.count})` : ""}`,
                links: top?.link ? [{ ...top.link, label: `${top.namespace}/${top.pod}` }] : [],
            };
        },
    },
    {
        term: "oom-kills",
        section: "workloads",
        urgency: "past",
        deduct(v) {
            if (v.oomKills === null) return unknown("the OOM kills could not be read");
            if (v.oomKills === 0) return undefined;
            return {
                points: whole(v.oomKills * 2, 10),
                text: `${plural(v.oomKills, "container")} killed out of memory`,
                links: v.oomLink ? [v.oomLink] : [],
            };
        },
    },
    {
        term: "crash-loops",
        section: "workloads",
        urgency: "past",
        deduct(v) {
            if (v.crashLoops === null) return unknown("the crash loops could not be read");
            const loops = v.crashLoops.length;
            if (loops === 0) return undefined;
            return {
                points: whole(loops * 3, 15),
                text: `${plural(loops, "pod")} in CrashLoopBackOff (${v.crashLoops.map((p) => `${p.namespace}/${p.pod}`).join(", ")})`,
                links: v.crashLoops
                    .flatMap((p) => (p.link ? [{ ...p.link, label: `${p.namespace}/${p.pod}` }] : []))
                    .slice(0, 3),
            };
        },
    },
    {
        term: "pending",
        section: "workloads",
        urgency: "past",
        deduct(v) {
            if (v.pending === null) return unknown("the Pending pods could not be read");
            const pending = v.pending.length;
            if (pending === 0) return undefined;
            return {
                points: whole(pending * 2, 10),
                text: `${plural(pending, "pod")} stuck Pending (${v.pending.map((p) => `${p.namespace}/${p.pod}`).join(", ")})`,
                links: v.pending
                    .flatMap((p) => (p.link ? [{ ...p.link, label: `${p.namespace}/${p.pod}` }] : []))
                    .slice(0, 3),
            };
        },
    },
    {
        term: "cpu-memory",
        section: "capacity",
        urgency: "past",
        deduct(v) {
            const full = [
                ["CPU", ...v.cpu],
                ["memory", ...v.memory],
            ] as const;
            const hot = full.filter(
                ([, used, total]) => used !== null && total !== null && total > 0 && used / total > 0.85,
            );
            if (hot.length === 0) return undefined;
            return {
                points: whole(hot.length * 5, 10),
                text: hot
                    .map(([what, used, total]) => `${what} at ${pct((used ?? 0) / (total ?? 1))} of allocatable`)
                    .join(", "),
                links: v.dashboard ? [v.dashboard] : [],
            };
        },
    },
    {
        term: "volumes-full-soon",
        section: "capacity",
        urgency: "action",
        deduct(v) {
            if (v.volumes === null) return unknown("the volumes could not be read");
            const soon = v.volumes.filter((x) => x.daysToFull !== null && x.daysToFull <= 7);
            if (soon.length === 0) return undefined;
            return {
                points: whole(soon.length * 10, 20),
                text: `full within 7 days: ${soon.map(describeVolume).join("; ")}`,
                links: soon.flatMap((x) => (x.link ? [{ ...x.link, label: x.name }] : [])).slice(0, 3),
            };
        },
    },
    {
        term: "volumes-filling",
        section: "capacity",
        urgency: "action",
        deduct(v) {
            if (v.volumes === null) return unknown("the volumes could not be read");
            const later = v.volumes.filter(
                (x) =>
                    !(x.daysToFull !== null && x.daysToFull <= 7) &&
                    (x.used >= 0.9 || (x.daysToFull !== null && x.daysToFull <= 30)),
            );
            if (later.length === 0) return undefined;
            return {
                points: whole(later.length * 5, 10),
                text: `over 90 % or full within 30 days: ${later.map(describeVolume).join("; ")}`,
                links: later.flatMap((x) => (x.link ? [{ ...x.link, label: x.name }] : [])).slice(0, 3),
            };
        },
    },
    {
        term: "stack-losses",
        section: "stack",
        urgency: "past",
        deduct(v) {
            const lost = [
                ["samples dropped", v.losses.samplesDropped],
                ["log events discarded", v.losses.logsDropped],
                ["spans dropped", v.losses.spansDropped],
            ] as const;
            const failedFigures = [...lost.map(([, n]) => n), v.remoteWriteFailed].filter((n) => n === null);
            if (failedFigures.length > 0) return unknown("the stack's losses could not be read");
            const nonZero = lost.filter(([, n]) => (n ?? 0) > 0);
            const failedSamples = v.remoteWriteFailed ?? 0;
            if (nonZero.length === 0 && failedSamples === 0) return undefined;
            return {
                points: whole(nonZero.length * 5 + (failedSamples > 0 ? 3 : 0), 15),
                text: [
                    ...nonZero.map(([what, n]) => `${n} ${what}`),
                    ...(failedSamples > 0 ? [`${failedSamples} remote-write samples failed`] : []),
                ].join(", "),
                links: v.dashboard ? [v.dashboard] : [],
            };
        },
    },
];

function describeVolume(v: { name: string; used: number; daysToFull: number | null }): string {
    return `${v.name} ${pct(v.used)} used${v.daysToFull !== null ? `, full in ${v.daysToFull.toFixed(1)} days` : ""}`;
}

const URGENCY_ORDER: Record<Urgency, number> = { now: 0, action: 1, past: 2 };

/** Most urgent first (firing now, to act on this week, the past), then most points. */
export function byUrgency(a: ScoreReason, b: ScoreReason): number {
    return (
        URGENCY_ORDER[a.urgency] - URGENCY_ORDER[b.urgency] ||
        b.points - a.points ||
        (a.text < b.text ? -1 : a.text > b.text ? 1 : 0)
    );
}

/** The points, reasons and unknown terms of one week's figures. */
export function scoreWeek(c: Collected, week: Week): { value: number; reasons: ScoreReason[]; lacks: string[] } {
    const view = viewOf(c, week);
    const reasons: ScoreReason[] = [];
    const lacks: string[] = [];
    for (const term of SCORE_TERMS) {
        const found = term.deduct(view);
        if (found === undefined) continue;
        if ("unknown" in found) {
            lacks.push(`${term.term}: ${found.unknown}`);
            continue;
        }
        if (found.points <= 0) continue;
        reasons.push({
            term: term.term,
            points: found.points,
            section: term.section,
            urgency: term.urgency,
            text: found.text,
            links: week === "current" ? (found.links ?? []) : [],
        });
    }
    reasons.sort(byUrgency);
    const lost = reasons.reduce((sum, r) => sum + r.points, 0);
    return { value: Math.max(0, 100 - lost), reasons, lacks };
}

/**
 * The score of this week with its reasons, and last week's by the same terms. A week whose
 * figures are mostly unknown (the cluster sent nothing) has no previous score rather than a
 * perfect one.
 */
export function score(c: Collected): Score {
    const now = scoreWeek(c, "current");
    const previousKnown = c.availability.nodesReady.previous !== null || c.workloads.restarts.previous !== null;
    const before = previousKnown ? scoreWeek(c, "previous") : undefined;
    return {
        value: now.value,
        previous: before?.value ?? null,
        reasons: now.reasons,
        previousReasons: before?.reasons ?? [],
        lacks: now.lacks,
        previousLacks: before?.lacks ?? ["every term: nothing arrived from this cluster last week"],
    };
}
