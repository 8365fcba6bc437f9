import type { SEVERITIES } from "../../../config";
import { promString } from "../../../reporter/series";

/**
 * Alert rules as typed data. Each alert carries its runbook, so that docs/runbooks and
 * docs/alerts.md are written from the same source as the rule files (`npm run alerts:docs`).
 */

export type Severity = (typeof SEVERITIES)[number];

/** What an alert is about: routing, inhibition and the docs group alerts by it. */
export type Category = "cluster" | "app" | "stack" | "deadman" | "retention";

/**
 * Where a group is evaluated: `cluster` in each cluster's own Prometheus (it keeps working while
 * the link to main is down), `fleet` in main's Thanos Ruler, over every cluster's data.
 */
export type Placement = "cluster" | "fleet";

export interface Runbook {
    /** What the person paged sees. */
    symptom: string;
    /** What breaks, for whom, if nothing is done. */
    impact: string;
    /** PromQL to run first, in Grafana's Explore or the Prometheus UI. */
    diagnosis: readonly string[];
    /** Steps that resolve it, most likely first. */
    fix: readonly string[];
}

/**
 * How long after its condition starts an alert fires, for the runbook. The expression sees the
 * condition at the first scrape that shows it, then after `detection`; the evaluator then needs
 * the expression true for the rule's `for`. A promtool case per alert proves the lower bound: not
 * firing one evaluation before `detection` + `for`, firing at it.
 */
export interface Timing {
    /** What starts the clock, in words. */
    condition: string;
    /**
     * How long the expression needs, from the first scrape that shows the condition, to turn
     * true (a window to fill, a silence to last); "0m" when that scrape does.
     */
    detection: string;
    /** What makes it slower or faster, in words. */
    note?: string;
}

export interface AlertRule {
    alert: string;
    expr: string;
    /** How long the condition must hold; "0m" fires on the first evaluation. */
    for: string;
    severity: Severity;
    category: Category;
    /** One line, with the labels that say where. */
    summary: string;
    /** With the measured value (`$value`) and the threshold. */
    description: string;
    /** Extra labels, beside severity and category. */
    labels?: Readonly<Record<string, string>>;
    runbook: Runbook;
    timing?: Timing;
}

export interface RecordingRule {
    record: string;
    expr: string;
    labels?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
    name: string;
    placement: Placement;
    /** Evaluation interval of this group, when not the evaluator's global one (`1h`). */
    interval?: string;
    rules: readonly (AlertRule | RecordingRule)[];
}

export function isAlert(rule: AlertRule | RecordingRule): rule is AlertRule {
    return "alert" in rule;
}

/** Label set on every dead-man alert; the inhibition rules key on it. */
export const DEADMAN_LABEL = { name: "deadman", value: "true" } as const;

/** One group in Prometheus' rule file format. */
function ruleFileGroup(group: RuleGroup, runbookBaseUrl: string) {
    return {
        name: group.name,
        ...(group.interval !== undefined ? { interval: group.interval } : {}),
        rules: group.rules.map((rule) =>
            isAlert(rule)
                ? {
                      alert: rule.alert,
                      expr: rule.expr,
                      for: rule.for,
                      labels: { severity: rule.severity, category: rule.category, ...rule.labels },
                      annotations: {
                          summary: rule.summary,
                          description: rule.description,
                          runbook_url: `${runbookBaseUrl.replace(/\/+$/, "")}/${rule.alert}.md`,
                      },
                  }
                : { record: rule.record, expr: rule.expr, ...(rule.labels ? { labels: { ...rule.labels } } : {}) },
        ),
    };
}

/** A whole rule file, as promtool and the rule loaders read it. */
export function ruleFile(groups: readonly RuleGroup[], runbookBaseUrl: string) {
    return { groups: groups.map((group) => ruleFileGroup(group, runbookBaseUrl)) };
}

/** Every alert of some groups. */
export function alertsOf(groups: readonly RuleGroup[]): AlertRule[] {
    return groups.flatMap((group) => group.rules.filter(isAlert));
}

/** Seconds of a Prometheus duration made of one unit (`30s`, `5m`, `1h`, `2d`). */
export function durationSeconds(duration: string): number {
    const match = /^([0-9]+)([smhd])$/.exec(duration);
    if (match === null) throw new Error(`expected a duration like 5m, found ${JSON.stringify(duration)}`);
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "s" | "m" | "h" | "d"];
    return Number(match[1]) * unit;
}

/** A duration in seconds as a Prometheus duration of its largest whole unit (`90s`, `5m`, `2h`). */
export function formatDuration(seconds: number): string {
    for (const [unit, size] of [
        ["d", 86400],
        ["h", 3600],
        ["m", 60],
    ] as const) {
        if (seconds > 0 && seconds % size === 0) return `${seconds / size}${unit}`;
    }
    return `${seconds}s`;
}

/**
 * The sum, by some labels, of one range function over several counters of one exporter. A range
 * function drops the metric name, so over `{__name__=~"a|b"}` it leaves two series with one label
 * set wherever a target exposes both, and the whole expression fails to evaluate. Each counter is
 * tagged with its name in a `counter` label first.
 */
export function sumOverCounters(by: string, fn: string, range: string, counters: readonly string[]): string {
    const tagged = counters.map((c) => `label_replace(${fn}(${c}[${range}]), "counter", ${promString(c)}, "", "")`);
    return `sum by (${by}) (${tagged.join(" or ")})`;
}

export { promString };
