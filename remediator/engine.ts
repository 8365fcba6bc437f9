import * as fs from "node:fs";

import { PayloadError, quote, readAlerts, type Candidate } from "./alerts";
import {
    decide,
    decideBeforeRead,
    HOUR_MS,
    namespaceRefusal,
    type LiveWorkload,
    type Refusal,
    type Verdict,
} from "./decide";
import {
    FLUX_RECONCILE_ANNOTATION,
    ORIGINAL_REPLICAS_ANNOTATION,
    REMEDIATED_AT_ANNOTATION,
    REMEDIATED_BY_ANNOTATION,
} from "./keys";
import type { KubeApi } from "./kube";
import { METRICS, type Registry } from "./metrics";
import type { BudgetRuleSettings, Settings } from "./settings";
import type { Evidence, GitHosting, WorkloadRef } from "./types";

/**
 * One remediator: each poll reads the firing budget alerts, re-reads each workload, runs the
 * guardrails and acts by mode. Every decision is an audit line (JSON), a metric and, when the
 * workload exists in a namespace it may touch, a Kubernetes Event. A decision already recorded
 * for the same alert episode is not repeated, so polling again and again acts at most once.
 */

/** What an audit line says. `acted`: changed something; `would-act`: dry run; the rest changed nothing. */
export type Outcome = "acted" | "would-act" | "refused" | "already-open" | "failed" | "rejected";

export interface AuditLine {
    time: string;
    cluster: string;
    mode: Settings["mode"];
    outcome: Outcome;
    reason: Refusal | "scaled-to-zero" | "merge-request" | "dry-run" | "invalid-alert" | "invalid-payload" | "error";
    detail: string;
    alert?: string;
    namespace?: string;
    kind?: string;
    name?: string;
    value?: string;
    budget?: number;
    activeAt?: string;
    url?: string;
}

export interface RemediatorDeps {
    settings: Settings;
    kube: KubeApi;
    git?: GitHosting;
    /** The parsed JSON of Prometheus' `/api/v1/alerts`; throws when it cannot be had. */
    fetchAlerts: () => Promise<unknown>;
    clock?: () => number;
    audit: (line: AuditLine) => void;
    metrics: Registry;
}

export interface PollReport {
    ok: boolean;
    decisions: AuditLine[];
}

interface Persisted {
    actions: number[];
    lastActed: Record<string, number>;
}

export class Remediator {
    private readonly settings: Settings;
    private readonly rules: Map<string, BudgetRuleSettings>;
    private readonly clock: () => number;
    /** Last decision per alert episode (alert, workload, activeAt): what makes polls idempotent. */
    private readonly episodes = new Map<string, string>();
    private readonly episodesActed = new Set<string>();
    private previousRefusedAlerts = new Set<string>();
    private actions: number[] = [];
    private lastActed = new Map<string, number>();

    constructor(private readonly deps: RemediatorDeps) {
        this.settings = deps.settings;
        this.rules = new Map(deps.settings.rules.map((rule) => [rule.alert, rule]));
        this.clock = deps.clock ?? Date.now;
        this.load();
        const { metrics } = deps;
        metrics.set(METRICS.killSwitch, {}, this.settings.killSwitch ? 1 : 0);
        metrics.set(METRICS.mode, { mode: this.settings.mode }, 1);
    }

    async poll(): Promise<PollReport> {
        const decisions: AuditLine[] = [];
        const now = this.clock();
        let body: unknown;
        let read: { candidates: Candidate[]; refused: string[] };
        try {
            body = await this.deps.fetchAlerts();
            read = readAlerts(body, new Set(this.rules.keys()));
        } catch (error) {
            const invalid = error instanceof PayloadError;
            this.deps.metrics.inc(METRICS.polls, { result: invalid ? "invalid" : "error" });
            decisions.push(
                this.record({
                    outcome: "rejected",
                    reason: invalid ? "invalid-payload" : "error",
                    detail: `alerts not read, nothing done: ${invalid ? error.message : quote((error as Error).message)}`,
                }),
            );
            return { ok: false, decisions };
        }
        this.deps.metrics.inc(METRICS.polls, { result: "ok" });
        this.deps.metrics.set(METRICS.lastPoll, {}, Math.floor(now / 1000));

        // A malformed alert is reported once while it keeps coming back, not at every poll.
        const refusedNow = new Set(read.refused);
        for (const detail of refusedNow) {
            if (!this.previousRefusedAlerts.has(detail)) {
                decisions.push(this.record({ outcome: "rejected", reason: "invalid-alert", detail }));
            }
        }
        this.previousRefusedAlerts = refusedNow;

        const current = new Set<string>();
        const ordered = [...read.candidates].sort(
            (a, b) => a.activeAt.localeCompare(b.activeAt) || episodeKey(a).localeCompare(episodeKey(b)),
        );
        for (const candidate of ordered) {
            const key = episodeKey(candidate);
            if (current.has(key)) continue;
            current.add(key);
            if (this.episodesActed.has(key)) continue;
            const line = await this.consider(candidate, key, now);
            if (line !== undefined) decisions.push(line);
        }
        for (const key of [...this.episodes.keys()]) {
            if (!current.has(key)) {
                this.episodes.delete(key);
                this.episodesActed.delete(key);
            }
        }
        return { ok: true, decisions };
    }

    private async consider(candidate: Candidate, key: string, now: number): Promise<AuditLine | undefined> {
        const rule = this.rules.get(candidate.alertname) as BudgetRuleSettings;
        const { ref } = candidate;
        const about = {
            alert: candidate.alertname,
            namespace: ref.namespace,
            kind: ref.kind,
            name: ref.name,
            value: candidate.value,
            activeAt: candidate.activeAt,
        };
        let live: LiveWorkload | undefined;
        let verdict = decideBeforeRead(this.settings, ref.namespace);
        if (verdict === undefined) {
            try {
                live = await this.deps.kube.getWorkload(ref);
            } catch (error) {
                return this.once(key, {
                    ...about,
                    outcome: "failed",
                    reason: "error",
                    detail: (error as Error).message,
                });
            }
            verdict = decide(
                this.settings,
                rule,
                candidate,
                live,
                { actions: this.actions, lastActedAt: this.lastActed.get(workloadKey(ref)) },
                now,
            );
        }
        if (!verdict.act) {
            return this.once(
                key,
                {
                    ...about,
                    outcome: "refused",
                    reason: verdict.refusal,
                    detail: verdict.detail,
                    budget: verdict.budget,
                },
                live,
            );
        }
        const workload = live as LiveWorkload;
        const evidence: Evidence = {
            cluster: this.settings.cluster,
            alertname: candidate.alertname,
            value: candidate.value,
            budget: String(verdict.budget),
            query: rule.query,
            activeAt: candidate.activeAt,
            decidedAt: new Date(now).toISOString(),
            summary: candidate.summary,
        };
        try {
            const line = await this.act(candidate, workload, evidence, verdict, now);
            const full = { ...about, budget: verdict.budget, ...line };
            if (full.outcome === "acted" || full.outcome === "would-act") {
                this.remember(ref, now);
                this.episodesActed.add(key);
                this.deps.metrics.inc(METRICS.actions, { mode: this.settings.mode });
            }
            return this.once(key, full, workload);
        } catch (error) {
            return this.once(
                key,
                {
                    ...about,
                    budget: verdict.budget,
                    outcome: "failed",
                    reason: "error",
                    detail: (error as Error).message,
                },
                workload,
            );
        }
    }

    private async act(
        candidate: Candidate,
        live: LiveWorkload,
        evidence: Evidence,
        verdict: Extract<Verdict, { act: true }>,
        now: number,
    ): Promise<Pick<AuditLine, "outcome" | "reason" | "detail" | "url">> {
        const { ref } = candidate;
        const over = `${candidate.alertname}: ${candidate.value} over budget ${verdict.budget}`;
        switch (this.settings.mode) {
            case "scale": {
                const annotations: Record<string, string> = {
                    [ORIGINAL_REPLICAS_ANNOTATION]: String(live.replicas),
                    [REMEDIATED_AT_ANNOTATION]: new Date(now).toISOString(),
                    [REMEDIATED_BY_ANNOTATION]: candidate.alertname,
                };
                if (this.settings.fluxExemption) annotations[FLUX_RECONCILE_ANNOTATION] = "disabled";
                // The count to restore is written first, guarded by the version just read: if
                // anything changed the workload meanwhile, the patch fails and nothing is scaled.
                await this.deps.kube.annotate(ref, annotations, live.resourceVersion);
                try {
                    await this.deps.kube.scale(ref, 0);
                } catch (error) {
                    // Undo the annotations so the next poll retries instead of seeing a cooldown.
                    const undo = Object.fromEntries(Object.keys(annotations).map((k) => [k, null]));
                    await this.deps.kube.annotate(ref, undo).catch(() => undefined);
                    throw error;
                }
                return {
                    outcome: "acted",
                    reason: "scaled-to-zero",
                    detail: `scaled from ${live.replicas} to 0 (${over})`,
                };
            }
            case "gitops": {
                const git = this.deps.git;
                if (git === undefined) throw new Error("gitops mode without a Git hosting client");
                const outcome = await git.proposeScaleToZero(ref, evidence);
                return outcome.kind === "opened"
                    ? {
                          outcome: "acted",
                          reason: "merge-request",
                          detail: `merge request opened (${over})`,
                          url: outcome.url,
                      }
                    : {
                          outcome: "already-open",
                          reason: "merge-request",
                          detail: `a merge request is already open, none added (${over})`,
                          url: outcome.url,
                      };
            }
            default:
                return {
                    outcome: "would-act",
                    reason: "dry-run",
                    detail: `would scale from ${live.replicas} to 0 (${over})`,
                };
        }
    }

    /**
     * Records a decision unless the same one was recorded for this episode already: the audit
     * line, the metric and, for an existing workload the remediator may touch, an Event.
     */
    private async once(
        key: string,
        fields: Omit<AuditLine, "time" | "cluster" | "mode">,
        live?: LiveWorkload,
    ): Promise<AuditLine | undefined> {
        const signature = `${fields.outcome}/${fields.reason}`;
        if (this.episodes.get(key) === signature) return undefined;
        this.episodes.set(key, signature);
        const line = this.record(fields);
        const mayTouch =
            live !== undefined &&
            fields.namespace !== undefined &&
            namespaceRefusal(this.settings, fields.namespace) === undefined;
        if (mayTouch && fields.kind !== undefined && fields.name !== undefined) {
            try {
                await this.deps.kube.createEvent({
                    regarding: {
                        namespace: fields.namespace as string,
                        kind: fields.kind as WorkloadRef["kind"],
                        name: fields.name,
                        uid: live.uid,
                    },
                    type: fields.outcome === "acted" ? "Warning" : "Normal",
                    reason: EVENT_REASONS[fields.outcome],
                    action: this.settings.mode === "gitops" ? "OpenMergeRequest" : "ScaleToZero",
                    note: `${fields.detail}${fields.url !== undefined ? ` ${fields.url}` : ""}`,
                });
            } catch (error) {
                this.record({
                    ...fields,
                    outcome: "failed",
                    reason: "error",
                    detail: `Event not created: ${(error as Error).message}`,
                });
            }
        }
        return line;
    }

    private record(fields: Omit<AuditLine, "time" | "cluster" | "mode">): AuditLine {
        const line: AuditLine = {
            time: new Date(this.clock()).toISOString(),
            cluster: this.settings.cluster,
            mode: this.settings.mode,
            ...fields,
        };
        this.deps.metrics.inc(METRICS.decisions, { outcome: line.outcome, reason: line.reason });
        this.deps.audit(line);
        return line;
    }

    private remember(ref: WorkloadRef, now: number) {
        this.actions = [...this.actions.filter((at) => at > now - HOUR_MS), now];
        this.lastActed.set(workloadKey(ref), now);
        const cooldownMs = this.settings.cooldownSeconds * 1000;
        for (const [key, at] of this.lastActed) {
            if (at <= now - Math.max(cooldownMs, HOUR_MS)) this.lastActed.delete(key);
        }
        this.save();
    }

    /** The rate limiter's window and the cooldowns, from the state file of a previous run. */
    private load() {
        const file = this.settings.stateFile;
        if (file === undefined || !fs.existsSync(file)) return;
        try {
            const state = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Persisted>;
            const now = this.clock();
            if (Array.isArray(state.actions)) {
                this.actions = state.actions.filter((at) => typeof at === "number" && at > now - HOUR_MS && at <= now);
            }
            if (state.lastActed !== undefined && typeof state.lastActed === "object") {
                for (const [key, at] of Object.entries(state.lastActed)) {
                    if (typeof at === "number") this.lastActed.set(key, at);
                }
            }
        } catch (error) {
            // A corrupt state file must not stop the remediator; the rate limit then starts
            // from the annotations' cooldowns alone.
            this.record({
                outcome: "failed",
                reason: "error",
                detail: `state file ignored: ${(error as Error).message}`,
            });
        }
    }

    private save() {
        const file = this.settings.stateFile;
        if (file === undefined) return;
        const state: Persisted = { actions: this.actions, lastActed: Object.fromEntries(this.lastActed) };
        fs.writeFileSync(`${file}.tmp`, JSON.stringify(state));
        fs.renameSync(`${file}.tmp`, file);
    }
}

const EVENT_REASONS: Record<Outcome, string> = {
    acted: "RemediationActed",
    "would-act": "RemediationDryRun",
    refused: "RemediationRefused",
    "already-open": "RemediationPending",
    failed: "RemediationFailed",
    rejected: "RemediationRejected",
};

function workloadKey(ref: WorkloadRef): string {
    return `${ref.namespace}/${ref.kind}/${ref.name}`;
}

function episodeKey(candidate: Candidate): string {
    return `${candidate.alertname}|${workloadKey(candidate.ref)}|${candidate.activeAt}`;
}
