import type { Collected } from "./collect";
import type { Score, ScoreReason } from "./types";

/**
 * A cluster's health score: 100 minus points for what went wrong during the week, each
 * deduction capped so that one bad area cannot hide all others, each with the sentence that
 * explains it. The same function scores the previous week from the previous week's figures, so
 * the delta compares like with like. docs/report.md lists the deductions.
 */

interface Rule {
    section: ScoreReason["section"];
    /** Points and reason for this week's figures, or nothing. */
    deduct(c: Collected, week: "current" | "previous"): { points: number; text: string } | undefined;
}

const capped = (points: number, cap: number) => Math.min(cap, Math.round(points * 10) / 10);
const pct = (ratio: number) => `${(ratio * 100).toFixed(2)} %`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const HOURS_PER_WEEK = 168;

/** Below this share of the week, availability costs points. */
const AVAILABILITY_TARGET = 0.999;

export const SCORE_RULES: readonly Rule[] = [
    {
        section: "availability",
        deduct(c, week) {
            if (week === "previous") return undefined;
            const minutes = c.availability.nodeDowntime.reduce((sum, n) => sum + n.minutes, 0);
            if (minutes === 0) return undefined;
            const worst = c.availability.nodeDowntime[0];
            const nodes = c.availability.nodeDowntime.length;
            return {
                points: capped(minutes / 30, 20),
                text:
                    nodes === 1 && worst
                        ? `node ${worst.node} was not ready for ${plural(worst.minutes, "minute")}`
                        : `${nodes} nodes were not ready for ${minutes} minutes in all (most: ${worst?.node}, ${worst?.minutes} minutes)`,
            };
        },
    },
    {
        section: "availability",
        deduct(c, week) {
            const up = c.availability.apiServer[week];
            if (up === null || up >= AVAILABILITY_TARGET) return undefined;
            return {
                points: capped((AVAILABILITY_TARGET - up) * 1000, 20),
                text: `the API server answered ${pct(up)} of its scrapes (target ${pct(AVAILABILITY_TARGET)})`,
            };
        },
    },
    {
        section: "availability",
        deduct(c, week) {
            const down = c.availability.controlPlane.filter((p) => {
                const v = p.availability[week];
                return v !== null && v < AVAILABILITY_TARGET;
            });
            if (down.length === 0) return undefined;
            return {
                points: capped(down.length * 5, 15),
                text: `control plane below ${pct(AVAILABILITY_TARGET)}: ${down
                    .map((p) => `${p.component} ${pct(p.availability[week] ?? 0)}`)
                    .join(", ")}`,
            };
        },
    },
    {
        section: "data",
        deduct(c, week) {
            if (week === "previous") return undefined;
            const metrics = c.availability.signals.find((s) => s.signal === "metrics");
            if (metrics?.gapHours !== undefined && metrics.gapHours !== null && metrics.gapHours >= HOURS_PER_WEEK) {
                return { points: 100, text: "no metrics arrived from this cluster during the week" };
            }
            const gaps = c.availability.signals.filter((s) => (s.gapHours ?? 0) > 0 && s.signal !== "traces");
            if (gaps.length === 0) return undefined;
            const hours = gaps.reduce((sum, s) => sum + (s.gapHours ?? 0), 0);
            return {
                points: capped(hours * 2, 15),
                text: `data missing at main: ${gaps.map((s) => `${s.signal} ${plural(s.gapHours ?? 0, "hour")}`).join(", ")}`,
            };
        },
    },
    {
        section: "alerts",
        deduct(c, week) {
            const critical = c.alerts.bySeverity.critical?.[week] ?? 0;
            if (critical === 0) return undefined;
            return { points: capped(critical * 5, 20), text: `${plural(critical, "critical alert")} fired` };
        },
    },
    {
        section: "alerts",
        deduct(c, week) {
            const warning = c.alerts.bySeverity.warning?.[week] ?? 0;
            if (warning === 0) return undefined;
            return { points: capped(warning, 10), text: `${plural(warning, "warning")} fired` };
        },
    },
    {
        section: "alerts",
        deduct(c, week) {
            if (week === "previous") return undefined;
            const now = c.alerts.firingNow.filter((a) => a.severity === "critical");
            if (now.length === 0) return undefined;
            return {
                points: capped(now.length * 10, 20),
                text: `${plural(now.length, "critical alert")} still firing: ${[...new Set(now.map((a) => a.alertname))].join(", ")}`,
            };
        },
    },
    {
        section: "workloads",
        deduct(c, week) {
            const restarts = c.workloads.restarts[week] ?? 0;
            if (restarts === 0) return undefined;
            const top = week === "current" ? c.workloads.topRestarts[0] : undefined;
            return {
                points: capped(Math.max(1, restarts / 10), 10),
                text: `${plural(restarts, "container restart")}${top ? ` (most: ${top.namespace}/${top.pod}, ${top.count})` : ""}`,
            };
        },
    },
    {
        section: "workloads",
        deduct(c, week) {
            const kills = c.workloads.oomKills[week] ?? 0;
            if (kills === 0) return undefined;
            return { points: capped(kills * 2, 10), text: `${plural(kills, "container")} killed out of memory` };
        },
    },
    {
        section: "workloads",
        deduct(c, week) {
            if (week === "previous") return undefined;
            const loops = c.workloads.crashLoops.length;
            if (loops === 0) return undefined;
            return {
                points: capped(loops * 3, 15),
                text: `${plural(loops, "pod")} in CrashLoopBackOff (${c.workloads.crashLoops.map((p) => `${p.namespace}/${p.pod}`).join(", ")})`,
            };
        },
    },
    {
        section: "workloads",
        deduct(c, week) {
            if (week === "previous") return undefined;
            const pending = c.workloads.pending.length;
            if (pending === 0) return undefined;
            return { points: capped(pending * 2, 10), text: `${plural(pending, "pod")} stuck Pending` };
        },
    },
    {
        section: "capacity",
        deduct(c, week) {
            const full = [
                ["CPU", c.capacity.cpuUsedCores[week], c.capacity.cpuAllocatableCores[week]],
                ["memory", c.capacity.memoryUsedBytes[week], c.capacity.memoryAllocatableBytes[week]],
            ] as const;
            const hot = full.filter(
                ([, used, total]) => used !== null && total !== null && total > 0 && used / total > 0.85,
            );
            if (hot.length === 0) return undefined;
            return {
                points: capped(hot.length * 5, 10),
                text: hot
                    .map(([what, used, total]) => `${what} at ${pct((used ?? 0) / (total ?? 1))} of allocatable`)
                    .join(", "),
            };
        },
    },
    {
        section: "capacity",
        deduct(c, week) {
            if (week === "previous") return undefined;
            const volumes = [...c.capacity.disks, ...c.capacity.pvcs];
            const soon = volumes.filter((v) => v.daysToFull !== null && v.daysToFull <= 7);
            const later = volumes.filter(
                (v) => !soon.includes(v) && (v.used >= 0.9 || (v.daysToFull !== null && v.daysToFull <= 30)),
            );
            if (soon.length === 0 && later.length === 0) return undefined;
            const describe = (v: (typeof volumes)[number]) =>
                `${v.name} ${pct(v.used)} used${v.daysToFull !== null ? `, full in ${v.daysToFull.toFixed(1)} days` : ""}`;
            return {
                points: capped(soon.length * 10 + later.length * 5, 20),
                text: `volumes filling: ${[...soon, ...later].map(describe).join("; ")}`,
            };
        },
    },
    {
        section: "stack",
        deduct(c, week) {
            const lost = [
                ["samples dropped", c.stack.samplesDropped[week]],
                ["log events discarded", c.stack.logsDropped[week]],
                ["spans dropped", c.stack.spansDropped[week]],
            ] as const;
            const nonZero = lost.filter(([, n]) => (n ?? 0) > 0);
            const failed = c.stack.remoteWriteFailed[week] ?? 0;
            if (nonZero.length === 0 && failed === 0) return undefined;
            return {
                points: capped(nonZero.length * 5 + (failed > 0 ? 3 : 0), 15),
                text: [
                    ...nonZero.map(([what, n]) => `${n} ${what}`),
                    ...(failed > 0 ? [`${failed} remote-write samples failed`] : []),
                ].join(", "),
            };
        },
    },
];

/** The points and reasons of one week's figures. */
export function scoreWeek(c: Collected, week: "current" | "previous"): { value: number; reasons: ScoreReason[] } {
    const reasons = SCORE_RULES.flatMap((rule) => {
        const found = rule.deduct(c, week);
        return found && found.points > 0 ? [{ points: found.points, section: rule.section, text: found.text }] : [];
    }).sort((a, b) => b.points - a.points || a.text.localeCompare(b.text));
    const lost = reasons.reduce((sum, r) => sum + r.points, 0);
    return { value: Math.max(0, Math.round(100 - lost)), reasons };
}

/**
 * The score of this week with its reasons, and last week's for the delta. A week whose figures
 * are mostly unknown (the cluster sent nothing) has no previous score rather than a perfect one.
 */
export function score(c: Collected): Score {
    const now = scoreWeek(c, "current");
    const previousKnown = c.availability.nodesReady.previous !== null || c.workloads.restarts.previous !== null;
    return { value: now.value, previous: previousKnown ? scoreWeek(c, "previous").value : null, reasons: now.reasons };
}
