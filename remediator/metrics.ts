/**
 * The remediator's metrics in Prometheus' text format. A handful of counters and gauges with
 * closed label sets; no client library needed.
 */

type Labels = Readonly<Record<string, string>>;

interface Family {
    help: string;
    type: "counter" | "gauge";
    series: Map<string, { labels: Labels; value: number }>;
}

function seriesKey(labels: Labels): string {
    return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function escapeValue(value: string): string {
    return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

export class Registry {
    private readonly families = new Map<string, Family>();

    define(name: string, type: Family["type"], help: string): void {
        if (!this.families.has(name)) this.families.set(name, { help, type, series: new Map() });
    }

    inc(name: string, labels: Labels = {}, by = 1): void {
        const entry = this.entry(name, labels);
        entry.value += by;
    }

    set(name: string, labels: Labels, value: number): void {
        this.entry(name, labels).value = value;
    }

    get(name: string, labels: Labels = {}): number {
        return this.families.get(name)?.series.get(seriesKey(labels))?.value ?? 0;
    }

    private entry(name: string, labels: Labels) {
        const family = this.families.get(name);
        if (family === undefined) throw new Error(`metric ${name} is not defined`);
        const key = seriesKey(labels);
        let entry = family.series.get(key);
        if (entry === undefined) {
            entry = { labels, value: 0 };
            family.series.set(key, entry);
        }
        return entry;
    }

    /** The exposition text, families and series in a stable order. */
    render(): string {
        const lines: string[] = [];
        for (const [name, family] of [...this.families].sort(([a], [b]) => a.localeCompare(b))) {
            lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
            for (const { labels, value } of [...family.series.values()].sort((a, b) =>
                seriesKey(a.labels).localeCompare(seriesKey(b.labels)),
            )) {
                const pairs = Object.entries(labels)
                    .sort(([a], [b]) => a.localeCompare(b))
                    .map(([k, v]) => `${k}="${escapeValue(v)}"`);
                lines.push(`${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${value}`);
            }
        }
        return `${lines.join("\n")}\n`;
    }
}

export const METRICS = {
    decisions: "observability_remediation_decisions_total",
    actions: "observability_remediation_actions_total",
    polls: "observability_remediation_polls_total",
    lastPoll: "observability_remediation_last_successful_poll_timestamp_seconds",
    killSwitch: "observability_remediation_kill_switch",
    mode: "observability_remediation_mode",
} as const;

/** A registry with the remediator's families defined. */
export function remediatorRegistry(): Registry {
    const registry = new Registry();
    registry.define(METRICS.decisions, "counter", "Decisions on firing budget alerts, by outcome and reason.");
    registry.define(METRICS.actions, "counter", "Actions taken (scale to 0, merge request opened, dry-run would-act).");
    registry.define(METRICS.polls, "counter", "Polls of the cluster's alerts, by result.");
    registry.define(METRICS.lastPoll, "gauge", "Time of the last successful poll of the alerts (seconds since epoch).");
    registry.define(METRICS.killSwitch, "gauge", "1 while the kill switch refuses every action.");
    registry.define(METRICS.mode, "gauge", "1 for the mode the remediator runs in.");
    return registry;
}
