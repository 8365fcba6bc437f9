import type { Candidate } from "./alerts";
import { BUDGET_ANNOTATIONS, OPT_OUT_ANNOTATION, REMEDIATED_AT_ANNOTATION, RESTORED_AT_ANNOTATION } from "./keys";
import type { BudgetRuleSettings, Settings } from "./settings";

/**
 * The guardrails, as one pure function: given a firing budget alert, the live workload as just
 * read, and what was done in the last hour, whether to act and, if not, why. Checked in order,
 * cheapest and most absolute first, so the reason given is the strongest one.
 */

/** Why nothing was done: a closed set, used as a metric label. */
export type Refusal =
    | "kill-switch"
    | "mode-off"
    | "protected-namespace"
    | "namespace-not-allowed"
    | "not-found"
    | "not-opted-in"
    | "opted-out"
    | "already-at-zero"
    | "within-own-budget"
    | "cooldown"
    | "rate-limit";

/** The workload as the API server returned it, reduced to what the guardrails read. */
export interface LiveWorkload {
    uid: string;
    resourceVersion: string;
    labels: Readonly<Record<string, string>>;
    annotations: Readonly<Record<string, string>>;
    replicas: number;
}

export interface History {
    /** Times (ms) of the actions taken, most recent last. */
    actions: readonly number[];
    /** Time (ms) of the last action on this workload, as remembered by the remediator. */
    lastActedAt?: number;
}

export type Verdict = { act: true; budget: number } | { act: false; refusal: Refusal; detail: string; budget?: number };

export const HOUR_MS = 3_600_000;

/** Refusals that need no read of the workload. */
export function decideBeforeRead(settings: Settings, namespace: string): Verdict | undefined {
    if (settings.killSwitch) return refuse("kill-switch", "the kill switch is on (remediation.killSwitch)");
    if (settings.mode === "off") return refuse("mode-off", "remediation.mode is off");
    return namespaceRefusal(settings, namespace);
}

/** Why the remediator may not touch a namespace at all (not even read or post an Event there), if it may not. */
export function namespaceRefusal(settings: Settings, namespace: string): Verdict | undefined {
    if (settings.protectedNamespaces.includes(namespace)) {
        return refuse("protected-namespace", `namespace ${namespace} is protected`);
    }
    if (settings.namespaces.length > 0 && !settings.namespaces.includes(namespace)) {
        return refuse(
            "namespace-not-allowed",
            `namespace ${namespace} is not in remediation.namespaces (${settings.namespaces.join(", ")})`,
        );
    }
    return undefined;
}

/** Actions taken in the hour before `now`. */
function actionsInLastHour(actions: readonly number[], now: number): number {
    return actions.filter((at) => at > now - HOUR_MS && at <= now).length;
}

/** The workload's own budget: its annotation where it raises the cluster default, the default otherwise. */
export function ownBudget(rule: BudgetRuleSettings, annotations: Readonly<Record<string, string>>): number {
    const text = annotations[BUDGET_ANNOTATIONS[rule.budget]];
    const own = text === undefined || text.trim() === "" ? NaN : Number(text);
    return Number.isFinite(own) && own > rule.threshold ? own : rule.threshold;
}

export function decide(
    settings: Settings,
    rule: BudgetRuleSettings,
    candidate: Candidate,
    live: LiveWorkload | undefined,
    history: History,
    now: number,
): Verdict {
    const early = decideBeforeRead(settings, candidate.ref.namespace);
    if (early !== undefined) return early;
    const { ref } = candidate;
    if (live === undefined) return refuse("not-found", `${ref.kind} ${ref.namespace}/${ref.name} does not exist`);
    const { key, value } = settings.optInLabel;
    if (live.labels[key] !== value) {
        return refuse(
            "not-opted-in",
            `label ${key} is ${live.labels[key] === undefined ? "absent" : JSON.stringify(live.labels[key])}, not ${JSON.stringify(value)}`,
        );
    }
    if (live.annotations[OPT_OUT_ANNOTATION] === "true") {
        return refuse("opted-out", `annotation ${OPT_OUT_ANNOTATION} is "true"`);
    }
    if (live.replicas === 0) return refuse("already-at-zero", "it already has 0 replicas");
    const budget = ownBudget(rule, live.annotations);
    if (!(candidate.numericValue > budget)) {
        return refuse(
            "within-own-budget",
            `value ${candidate.value} is within its own budget ${budget} (annotation ${BUDGET_ANNOTATIONS[rule.budget]})`,
            budget,
        );
    }
    const cooldownMs = settings.cooldownSeconds * 1000;
    const annotated = [REMEDIATED_AT_ANNOTATION, RESTORED_AT_ANNOTATION]
        .map((key) => Date.parse(live.annotations[key] ?? ""))
        .filter((at) => !Number.isNaN(at));
    const last = Math.max(history.lastActedAt ?? -Infinity, ...annotated);
    if (now - last < cooldownMs) {
        return refuse(
            "cooldown",
            `last acted on or restored at ${new Date(last).toISOString()}, cooldown ${settings.cooldownSeconds}s`,
            budget,
        );
    }
    const recent = actionsInLastHour(history.actions, now);
    if (recent >= settings.maxActionsPerHour) {
        return refuse(
            "rate-limit",
            `${recent} actions in the last hour, at most ${settings.maxActionsPerHour} (remediation.maxActionsPerHour)`,
            budget,
        );
    }
    return { act: true, budget };
}

function refuse(refusal: Refusal, detail: string, budget?: number): Verdict {
    return budget === undefined ? { act: false, refusal, detail } : { act: false, refusal, detail, budget };
}
