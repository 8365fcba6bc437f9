import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import * as fc from "fast-check";

import { PayloadError, readAlerts } from "../remediator/alerts";
import { decide, ownBudget, type LiveWorkload } from "../remediator/decide";
import { Remediator, type AuditLine } from "../remediator/engine";
import {
    FLUX_RECONCILE_ANNOTATION,
    ksmLabelName,
    OPT_OUT_ANNOTATION,
    ORIGINAL_REPLICAS_ANNOTATION,
    REMEDIATED_AT_ANNOTATION,
} from "../remediator/keys";
import { METRICS, remediatorRegistry } from "../remediator/metrics";
import { parseSettings, type Settings } from "../remediator/settings";
import type { WorkloadKind, WorkloadRef } from "../remediator/types";
import {
    alertsBody,
    collect,
    FakeGit,
    FakeKube,
    firing,
    RULES,
    testSettings,
    type FakeWorkload,
} from "./remediator-fakes";
import { tempDir } from "./helpers";

/**
 * The remediator's logic against in-memory stand-ins: the guardrails one by one, the property
 * that no sequence of polls breaks them, and hostile alert payloads.
 */

const T0 = Date.parse("2026-01-05T06:10:00Z");
const CPU = "NonCriticalWorkloadCPUOverBudget";
const OPTED_IN = { "observability/criticality": "non-critical" };

function workload(namespace: string, name: string, extra: Partial<FakeWorkload> = {}): FakeWorkload {
    return {
        namespace,
        kind: "Deployment",
        name,
        labels: { ...OPTED_IN },
        annotations: {},
        replicas: 3,
        resourceVersion: 1,
        ...extra,
    };
}

function setup(settings: Settings, workloads: FakeWorkload[], alerts: () => unknown) {
    let now = T0;
    const clock = () => now;
    const kube = new FakeKube(workloads, clock);
    const git = new FakeGit(clock);
    const { lines, audit } = collect();
    const metrics = remediatorRegistry();
    const remediator = new Remediator({
        settings,
        kube,
        git,
        fetchAlerts: async () => alerts(),
        clock,
        audit,
        metrics,
    });
    return {
        kube,
        git,
        lines,
        metrics,
        remediator,
        advance: (ms: number) => {
            now += ms;
        },
        now: () => now,
    };
}

describe("remediator: decisions", () => {
    const batch = workload("batch", "crunch");
    const ref: WorkloadRef = batch;

    it("scales an opted-in workload over budget to 0, keeping its replica count in an annotation first", async () => {
        const t = setup(testSettings(), [batch], () => alertsBody([firing(ref, CPU, "3.5")]));
        const report = await t.remediator.poll();
        const writes = t.kube.writes();
        assert.equal(writes.length, 2);
        const [annotate, scale] = writes;
        assert.equal(annotate?.op, "annotate");
        assert.equal(scale?.op, "scale");
        if (annotate?.op !== "annotate" || scale?.op !== "scale") return;
        assert.equal(annotate.resourceVersion, "1", "the annotation is guarded by the version read");
        assert.equal(annotate.annotations[ORIGINAL_REPLICAS_ANNOTATION], "3");
        assert.equal(annotate.annotations[REMEDIATED_AT_ANNOTATION], new Date(T0).toISOString());
        assert.equal(annotate.annotations[FLUX_RECONCILE_ANNOTATION], "disabled");
        assert.equal(scale.replicas, 0);
        assert.equal(t.kube.workloads.get("batch/Deployment/crunch")?.replicas, 0);
        assert.deepEqual(
            report.decisions.map((d) => [d.outcome, d.reason]),
            [["acted", "scaled-to-zero"]],
        );
        assert.match(
            report.decisions[0]?.detail ?? "",
            /scaled from 3 to 0 \(NonCriticalWorkloadCPUOverBudget: 3.5 over budget 2\)/,
        );
        const events = t.kube.calls.filter((c) => c.op === "event");
        assert.equal(events.length, 1);
        assert.equal(events[0]?.op === "event" && events[0].event.reason, "RemediationActed");
        assert.equal(events[0]?.op === "event" && events[0].event.type, "Warning");
        assert.equal(t.metrics.get(METRICS.actions, { mode: "scale" }), 1);
    });

    it("omits the Flux exemption when fluxExemption is off", async () => {
        const t = setup(testSettings({ fluxExemption: false }), [batch], () => alertsBody([firing(ref, CPU, "3.5")]));
        await t.remediator.poll();
        const annotate = t.kube.writes()[0];
        assert.ok(annotate?.op === "annotate" && !(FLUX_RECONCILE_ANNOTATION in annotate.annotations));
    });

    it("acts once per alert episode however often it polls", async () => {
        const t = setup(testSettings(), [batch], () => alertsBody([firing(ref, CPU, "3.5")]));
        await t.remediator.poll();
        const writes = t.kube.writes().length;
        const lines = t.lines.length;
        for (let i = 0; i < 5; i++) {
            t.advance(30_000);
            const report = await t.remediator.poll();
            assert.deepEqual(report.decisions, []);
        }
        assert.equal(t.kube.writes().length, writes);
        assert.equal(t.lines.length, lines);
    });

    it("in dry-run logs and posts an Event with what it would do, and changes nothing", async () => {
        const t = setup(testSettings({ mode: "dry-run" }), [batch], () => alertsBody([firing(ref, CPU, "3.5")]));
        const report = await t.remediator.poll();
        assert.deepEqual(t.kube.writes(), []);
        assert.deepEqual(
            report.decisions.map((d) => [d.outcome, d.reason, d.detail]),
            [["would-act", "dry-run", "would scale from 3 to 0 (NonCriticalWorkloadCPUOverBudget: 3.5 over budget 2)"]],
        );
        const event = t.kube.calls.find((c) => c.op === "event");
        assert.equal(event?.op === "event" && event.event.reason, "RemediationDryRun");
    });

    it("in gitops mode opens one merge request with the evidence and does not touch the cluster", async () => {
        const t = setup(testSettings({ mode: "gitops" }), [batch], () => alertsBody([firing(ref, CPU, "3.5")]));
        const report = await t.remediator.poll();
        assert.deepEqual(t.kube.writes(), []);
        assert.equal(t.git.proposals.length, 1);
        const evidence = t.git.proposals[0]?.evidence;
        assert.equal(evidence?.alertname, CPU);
        assert.equal(evidence?.value, "3.5");
        assert.equal(evidence?.budget, "2");
        assert.equal(evidence?.query, "cpu > 2");
        assert.equal(evidence?.cluster, "edge-a");
        assert.equal(report.decisions[0]?.url, "https://git.test/remediation/batch/Deployment/crunch");
    });

    it("in gitops mode adds nothing while the merge request of the workload is open", async () => {
        const t = setup(testSettings({ mode: "gitops", cooldownSeconds: 0 }), [batch], () =>
            alertsBody([
                firing(ref, CPU, "3.5", "2026-01-05T06:00:00Z"),
                firing(ref, "NonCriticalWorkloadRestartStorm", "9"),
            ]),
        );
        const report = await t.remediator.poll();
        assert.equal(t.git.proposals.length, 1);
        assert.deepEqual(
            report.decisions.map((d) => d.outcome),
            ["acted", "already-open"],
        );
    });

    const refusals: [string, Partial<Settings>, Partial<FakeWorkload> | undefined, string, string][] = [
        ["the kill switch", { killSwitch: true }, {}, "kill-switch", "the kill switch is on (remediation.killSwitch)"],
        ["mode off", { mode: "off" }, {}, "mode-off", "remediation.mode is off"],
        [
            "a namespace outside remediation.namespaces",
            { namespaces: ["previews"] },
            {},
            "namespace-not-allowed",
            "namespace batch is not in remediation.namespaces (previews)",
        ],
        ["a workload that does not exist", {}, undefined, "not-found", "Deployment batch/crunch does not exist"],
        [
            "a workload without the label",
            {},
            { labels: {} },
            "not-opted-in",
            'label observability/criticality is absent, not "non-critical"',
        ],
        [
            "a workload labelled otherwise",
            {},
            { labels: { "observability/criticality": "critical" } },
            "not-opted-in",
            'label observability/criticality is "critical", not "non-critical"',
        ],
        [
            "an opted-out workload",
            {},
            { annotations: { [OPT_OUT_ANNOTATION]: "true" } },
            "opted-out",
            `annotation ${OPT_OUT_ANNOTATION} is "true"`,
        ],
        ["a workload already at 0", {}, { replicas: 0 }, "already-at-zero", "it already has 0 replicas"],
        [
            "a workload whose own budget is higher",
            {},
            { annotations: { "observability/budget-cpu-request-factor": "4" } },
            "within-own-budget",
            "value 3.5 is within its own budget 4 (annotation observability/budget-cpu-request-factor)",
        ],
        [
            "a workload remediated 10 minutes ago",
            {},
            { annotations: { [REMEDIATED_AT_ANNOTATION]: "2026-01-05T06:00:00.000Z" } },
            "cooldown",
            "last acted on or restored at 2026-01-05T06:00:00.000Z, cooldown 3600s",
        ],
        [
            "a workload restored 10 minutes ago",
            {},
            { annotations: { "observability/restored-at": "2026-01-05T06:00:00.000Z" } },
            "cooldown",
            "last acted on or restored at 2026-01-05T06:00:00.000Z, cooldown 3600s",
        ],
    ];
    for (const [what, settings, change, reason, detail] of refusals) {
        it(`refuses ${what}, with the reason`, async () => {
            const workloads = change === undefined ? [] : [{ ...batch, ...change }];
            const t = setup(testSettings(settings), workloads, () => alertsBody([firing(ref, CPU, "3.5")]));
            const report = await t.remediator.poll();
            assert.deepEqual(t.kube.writes(), []);
            assert.deepEqual(
                report.decisions.map((d) => [d.outcome, d.reason, d.detail]),
                [["refused", reason, detail]],
            );
            assert.equal(t.metrics.get(METRICS.decisions, { outcome: "refused", reason }), 1);
        });
    }

    it("refuses a protected namespace without reading the workload or posting an Event there", async () => {
        const system = workload("kube-system", "coredns");
        const t = setup(testSettings(), [system], () => alertsBody([firing(system, CPU, "9")]));
        const report = await t.remediator.poll();
        assert.deepEqual(t.kube.calls, []);
        assert.deepEqual(
            report.decisions.map((d) => [d.reason, d.detail]),
            [["protected-namespace", "namespace kube-system is protected"]],
        );
    });

    it("stops at maxActionsPerHour and resumes when the hour has passed", async () => {
        const names = ["a", "b", "c", "d", "e"];
        const workloads = names.map((n) => workload("batch", n));
        const t = setup(testSettings({ maxActionsPerHour: 3 }), workloads, () =>
            alertsBody(workloads.map((w) => firing(w, CPU, "5"))),
        );
        const first = await t.remediator.poll();
        assert.deepEqual(
            first.decisions.map((d) => [d.name, d.outcome, d.reason]),
            [
                ["a", "acted", "scaled-to-zero"],
                ["b", "acted", "scaled-to-zero"],
                ["c", "acted", "scaled-to-zero"],
                ["d", "refused", "rate-limit"],
                ["e", "refused", "rate-limit"],
            ],
        );
        t.advance(3_600_001);
        const later = await t.remediator.poll();
        assert.deepEqual(
            later.decisions.map((d) => [d.name, d.outcome]),
            [
                ["d", "acted"],
                ["e", "acted"],
            ],
        );
    });

    it("keeps the hourly window across a restart through its state file", async () => {
        const stateFile = path.join(tempDir("remediator-state"), "state.json");
        const workloads = ["a", "b"].map((n) => workload("batch", n));
        const alerts = () => alertsBody(workloads.map((w) => firing(w, CPU, "5")));
        const settings = testSettings({ maxActionsPerHour: 1, stateFile });
        const first = setup(settings, workloads, alerts);
        await first.remediator.poll();
        assert.equal(first.kube.writes().filter((c) => c.op === "scale").length, 1);
        assert.ok(fs.existsSync(stateFile));
        // A new process, same cluster state: the second workload still waits for the hour.
        const second = setup(settings, [...first.kube.workloads.values()], alerts);
        const report = await second.remediator.poll();
        assert.deepEqual(second.kube.writes(), []);
        assert.deepEqual(
            report.decisions.filter((d) => d.name === "b").map((d) => d.reason),
            ["rate-limit"],
        );
    });

    it("undoes its annotations when the scale call fails, and retries at the next poll", async () => {
        const t = setup(testSettings(), [batch], () => alertsBody([firing(ref, CPU, "3.5")]));
        t.kube.failNextScale = true;
        const report = await t.remediator.poll();
        assert.deepEqual(
            report.decisions.map((d) => [d.outcome, d.reason, d.detail]),
            [["failed", "error", "scaling failed: 500"]],
        );
        assert.deepEqual(t.kube.workloads.get("batch/Deployment/crunch")?.annotations, {});
        t.advance(30_000);
        const retry = await t.remediator.poll();
        assert.deepEqual(
            retry.decisions.map((d) => d.outcome),
            ["acted"],
        );
        assert.equal(t.kube.workloads.get("batch/Deployment/crunch")?.replicas, 0);
    });

    it("reports an unreachable Prometheus as a failed poll and does nothing", async () => {
        const t = setup(testSettings(), [batch], () => {
            throw new Error("connect ECONNREFUSED 127.0.0.1:9090");
        });
        const report = await t.remediator.poll();
        assert.equal(report.ok, false);
        assert.deepEqual(t.kube.calls, []);
        assert.equal(report.decisions[0]?.reason, "error");
        assert.equal(t.metrics.get(METRICS.polls, { result: "error" }), 1);
        assert.equal(t.metrics.get(METRICS.lastPoll), 0);
    });

    it("exposes its metrics in the text format", async () => {
        const t = setup(testSettings({ mode: "dry-run" }), [batch], () => alertsBody([firing(ref, CPU, "3.5")]));
        await t.remediator.poll();
        const text = t.metrics.render();
        assert.match(text, /^# TYPE observability_remediation_decisions_total counter$/m);
        assert.match(text, /^observability_remediation_decisions_total\{outcome="would-act",reason="dry-run"\} 1$/m);
        assert.match(text, /^observability_remediation_mode\{mode="dry-run"\} 1$/m);
        assert.match(text, new RegExp(`^${METRICS.lastPoll} ${Math.floor(T0 / 1000)}$`, "m"));
    });
});

describe("remediator: budgets and alerts", () => {
    it("takes a budget annotation only where it raises the cluster default", () => {
        const cpu = RULES[0];
        assert.ok(cpu);
        assert.equal(ownBudget(cpu, {}), 2);
        assert.equal(ownBudget(cpu, { "observability/budget-cpu-request-factor": "5" }), 5);
        assert.equal(ownBudget(cpu, { "observability/budget-cpu-request-factor": "1" }), 2);
        assert.equal(ownBudget(cpu, { "observability/budget-cpu-request-factor": "lots" }), 2);
        assert.equal(ownBudget(cpu, { "observability/budget-cpu-request-factor": "" }), 2);
    });

    it("names kube-state-metrics labels as it does", () => {
        assert.equal(ksmLabelName("label", "observability/criticality"), "label_observability_criticality");
        assert.equal(
            ksmLabelName("annotation", "observability/remediation-opt-out"),
            "annotation_observability_remediation_opt_out",
        );
        assert.equal(ksmLabelName("label", "example.com/runTier"), "label_example_com_run_tier");
    });

    it("leaves pending alerts and alerts without the remediation label alone, silently", () => {
        const ref: WorkloadRef = { namespace: "batch", kind: "Deployment", name: "crunch" };
        const pending = { ...firing(ref, CPU, "3"), state: "pending" };
        const other = firing(ref, CPU, "3");
        (other.labels as Record<string, string>).remediation = "false";
        const read = readAlerts(alertsBody([pending, other]), new Set([CPU]));
        assert.deepEqual(read, { candidates: [], refused: [] });
    });

    it("rejects settings with a message naming each wrong field", () => {
        const good = testSettings();
        assert.deepEqual(parseSettings(JSON.stringify(good)), good);
        assert.throws(
            () => parseSettings(JSON.stringify({ ...good, mode: "nuke", maxActionsPerHour: 0, extra: 1 })),
            (error: Error) =>
                error.message.includes('mode: expected one of off, dry-run, scale, gitops, found "nuke"') &&
                error.message.includes("maxActionsPerHour: expected a whole number from 1") &&
                error.message.includes("extra: not a known setting"),
        );
        assert.throws(
            () => parseSettings(JSON.stringify({ ...good, mode: "gitops" })),
            /gitops: missing \(mode is gitops\)/,
        );
        assert.throws(() => parseSettings("{"), /not JSON/);
    });
});

// ---------------------------------------------------------------------------------------------
// Properties

const NAMESPACES = ["kube-system", "observability", "observability-agents", "batch", "previews", "payments"];
const KINDS: WorkloadKind[] = ["Deployment", "StatefulSet"];

const workloadArb = fc.record({
    namespace: fc.constantFrom(...NAMESPACES),
    kind: fc.constantFrom(...KINDS),
    name: fc.constantFrom("a", "b", "c", "d"),
    label: fc.constantFrom<string | undefined>("non-critical", "critical", undefined),
    optOut: fc.boolean(),
    replicas: fc.integer({ min: 0, max: 4 }),
    budget: fc.option(fc.constantFrom("1", "3", "8", "x"), { nil: undefined }),
});

const settingsArb = fc.record({
    mode: fc.constantFrom<Settings["mode"]>("off", "dry-run", "scale", "gitops"),
    // Mostly off, so the other guardrails get exercised.
    killSwitch: fc.constantFrom(false, false, false, false, true),
    namespaces: fc.constantFrom<string[]>([], ["batch"], ["batch", "previews"]),
    extraProtected: fc.constantFrom<string[]>([], ["payments"]),
    maxActionsPerHour: fc.integer({ min: 1, max: 4 }),
    cooldownSeconds: fc.constantFrom(0, 600, 3600),
});

const alertArb = fc.record({
    target: fc.nat({ max: 15 }),
    alert: fc.constantFrom(...RULES.map((r) => r.alert)),
    value: fc.constantFrom("0.5", "1.5", "2.5", "4", "10"),
    episode: fc.nat({ max: 2 }),
});

const stepArb = fc.record({
    alerts: fc.array(alertArb, { maxLength: 8 }),
    advanceMs: fc.constantFrom(0, 30_000, 300_000, 1_200_000, 3_600_000),
    repeat: fc.boolean(),
});

describe("remediator: properties", () => {
    it("never acts on a protected, unlisted, unlabelled or opted-out workload, nor beyond the rate limit, and repeats nothing", async () => {
        await fc.assert(
            fc.asyncProperty(
                settingsArb,
                fc.uniqueArray(workloadArb, { selector: (w) => `${w.namespace}/${w.kind}/${w.name}`, maxLength: 10 }),
                fc.array(stepArb, { minLength: 1, maxLength: 6 }),
                async (s, specs, steps) => {
                    const settings = testSettings({
                        mode: s.mode,
                        killSwitch: s.killSwitch,
                        namespaces: s.namespaces,
                        protectedNamespaces: [...testSettings().protectedNamespaces, ...s.extraProtected],
                        maxActionsPerHour: s.maxActionsPerHour,
                        cooldownSeconds: s.cooldownSeconds,
                    });
                    const workloads: FakeWorkload[] = specs.map((w) => ({
                        namespace: w.namespace,
                        kind: w.kind,
                        name: w.name,
                        labels: (w.label === undefined ? {} : { "observability/criticality": w.label }) as Record<
                            string,
                            string
                        >,
                        annotations: {
                            ...(w.optOut ? { [OPT_OUT_ANNOTATION]: "true" } : {}),
                            ...(w.budget ? { "observability/budget-cpu-request-factor": w.budget } : {}),
                        },
                        replicas: w.replicas,
                        resourceVersion: 1,
                    }));
                    // Targets beyond the workloads name ones that do not exist.
                    const targets: WorkloadRef[] = [
                        ...workloads,
                        ...NAMESPACES.map((ns) => ({ namespace: ns, kind: "Deployment" as const, name: "ghost" })),
                    ];
                    let current: unknown = alertsBody([]);
                    const t = setup(settings, workloads, () => current);
                    const acted: { at: number; ref: WorkloadRef }[] = [];
                    for (const step of steps) {
                        t.advance(step.advanceMs);
                        current = alertsBody(
                            step.alerts.map((a) => {
                                const target = targets[a.target % targets.length] as WorkloadRef;
                                return firing(target, a.alert, a.value, `2026-01-05T0${a.episode}:00:00Z`);
                            }),
                        );
                        const before = { calls: t.kube.writes().length, git: t.git.proposals.length };
                        const report = await t.remediator.poll();
                        for (const d of report.decisions) {
                            if (d.outcome !== "acted" && d.outcome !== "would-act") continue;
                            const ref = { namespace: d.namespace, kind: d.kind, name: d.name } as WorkloadRef;
                            const live = workloads.find(
                                (w) => w.namespace === ref.namespace && w.kind === ref.kind && w.name === ref.name,
                            );
                            assert.ok(!settings.killSwitch && settings.mode !== "off", "acted while off");
                            assert.ok(
                                !settings.protectedNamespaces.includes(ref.namespace),
                                "acted in a protected namespace",
                            );
                            assert.ok(
                                settings.namespaces.length === 0 || settings.namespaces.includes(ref.namespace),
                                "acted outside remediation.namespaces",
                            );
                            assert.ok(live !== undefined, "acted on a workload that does not exist");
                            assert.equal(
                                live.labels["observability/criticality"],
                                "non-critical",
                                "acted without the label",
                            );
                            assert.notEqual(
                                live.annotations[OPT_OUT_ANNOTATION],
                                "true",
                                "acted on an opted-out workload",
                            );
                            assert.ok(live.replicas > 0, "acted on a workload at 0");
                            acted.push({ at: t.now(), ref });
                        }
                        // Writes only in scale mode, merge requests only in gitops mode.
                        const writes = t.kube.writes().slice(before.calls);
                        if (settings.mode !== "scale") assert.deepEqual(writes, []);
                        if (settings.mode !== "gitops") assert.equal(t.git.proposals.length, before.git);
                        for (const w of writes) {
                            assert.ok(
                                !settings.protectedNamespaces.includes(w.ref.namespace),
                                "wrote to a protected namespace",
                            );
                        }
                        if (step.repeat) {
                            const again = await t.remediator.poll();
                            assert.deepEqual(
                                again.decisions.filter((d) => d.outcome === "acted" || d.outcome === "would-act"),
                                [],
                                "a repeated poll acted again",
                            );
                        }
                    }
                    // Rate limit over every sliding hour, cooldown per workload.
                    for (const a of acted) {
                        const inHour = acted.filter((b) => b.at > a.at - 3_600_000 && b.at <= a.at).length;
                        assert.ok(inHour <= settings.maxActionsPerHour, `${inHour} actions in an hour`);
                        const same = acted.filter(
                            (b) =>
                                b !== a &&
                                b.ref.namespace === a.ref.namespace &&
                                b.ref.kind === a.ref.kind &&
                                b.ref.name === a.ref.name &&
                                b.at <= a.at &&
                                a.at - b.at < settings.cooldownSeconds * 1000,
                        );
                        assert.deepEqual(same, [], "acted twice within the cooldown");
                    }
                },
            ),
            { numRuns: 1000 },
        );
    });

    it("decides the same way whatever the order the guardrails read the same facts in", () => {
        // decide() is pure: the same inputs give the same verdict.
        fc.assert(
            fc.property(workloadArb, fc.constantFrom("1.5", "2.5", "9"), (w, value) => {
                const settings = testSettings();
                const rule = RULES[0];
                assert.ok(rule);
                const candidate = {
                    ref: { namespace: w.namespace, kind: w.kind, name: w.name },
                    alertname: rule.alert,
                    value,
                    numericValue: Number(value),
                    activeAt: "2026-01-05T06:00:00Z",
                    summary: "",
                };
                const live: LiveWorkload = {
                    uid: "u",
                    resourceVersion: "1",
                    labels: (w.label === undefined ? {} : { "observability/criticality": w.label }) as Record<
                        string,
                        string
                    >,
                    annotations: w.optOut ? { [OPT_OUT_ANNOTATION]: "true" } : {},
                    replicas: w.replicas,
                };
                const a = decide(settings, rule, candidate, live, { actions: [] }, T0);
                const b = decide(settings, rule, candidate, structuredClone(live), { actions: [] }, T0);
                assert.deepEqual(a, b);
                if (a.act) assert.ok(Number(value) > 2 && w.label === "non-critical" && !w.optOut && w.replicas > 0);
            }),
            { numRuns: 1000 },
        );
    });
});

// ---------------------------------------------------------------------------------------------
// Hostile payloads

const VALID: WorkloadRef = { namespace: "batch", kind: "Deployment", name: "crunch" };

/** Strings an attacker or a bug might put in a label. */
const hostileString = fc.oneof(
    fc.string(),
    fc.constantFrom(
        "",
        "../../etc/passwd",
        "kube-system",
        "KUBE-SYSTEM",
        "batch/../kube-system",
        "a".repeat(300),
        "name with spaces",
        'crunch\n{"outcome":"acted"}',
        "__proto__",
        "constructor",
        "%2e%2e",
        "x;rm -rf /",
        "crunch\u0000",
        "ünïcode",
    ),
);
const hostileValue = fc.oneof(
    fc.anything(),
    fc.constantFrom("NaN", "Inf", "-Inf", "", " ", "1e309", "0x10", "3,5", null, 3.5, [], {}),
);

/** A remediation alert with one field broken. */
const brokenAlert = fc
    .record({
        field: fc.constantFrom(
            "labels",
            "namespace",
            "workload",
            "workload_type",
            "alertname",
            "value",
            "activeAt",
            "state",
            "whole",
        ),
        bad: fc.oneof(hostileString, hostileValue),
    })
    .map(({ field, bad }) => {
        const alert = firing(VALID, CPU, "3.5") as Record<string, unknown>;
        const labels = alert.labels as Record<string, unknown>;
        switch (field) {
            case "labels":
                alert.labels = typeof bad === "object" && bad !== null && !Array.isArray(bad) ? null : bad;
                return { alert, breaksLabels: true };
            case "whole":
                return {
                    alert: typeof bad === "object" && bad !== null && !Array.isArray(bad) ? [bad] : bad,
                    breaksLabels: true,
                };
            case "value":
            case "activeAt":
            case "state":
                alert[field] = bad;
                break;
            default:
                labels[field] = bad;
        }
        return { alert, breaksLabels: false };
    });

/** Whole answers that are not an alerts list. */
const brokenBody = fc.oneof(
    fc.anything(),
    fc.record({ status: fc.constantFrom("error", "success", "SUCCESS"), data: fc.anything() }),
    fc.constant({ status: "success", data: { alerts: "many" } }),
    fc.constant({ status: "success", data: { alerts: { length: 2 } } }),
    fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "status": "success", "data": {"alerts": {}}}')),
);

describe("remediator: hostile alert payloads", () => {
    it("never crashes, never acts, and logs a refusal for 600 malformed or hostile payloads", async () => {
        let checked = 0;
        await fc.assert(
            fc.asyncProperty(
                fc.oneof(
                    brokenBody.map((body) => ({ body, kind: "body" as const })),
                    fc.array(brokenAlert, { minLength: 1, maxLength: 4 }).map((alerts) => ({
                        body: alertsBody(alerts.map((a) => a.alert)),
                        kind: "alerts" as const,
                    })),
                    // Well-formed, but aimed where it must not land.
                    fc.constantFrom("kube-system", "observability", "kube-node-lease").map((ns) => ({
                        body: alertsBody([firing({ ...VALID, namespace: ns }, CPU, "99")]),
                        kind: "protected" as const,
                    })),
                ),
                async ({ body, kind }) => {
                    // Workloads exist everywhere, labelled, so only the guards stand in the way.
                    const everywhere = ["batch", "kube-system", "observability", "kube-node-lease"].map((ns) =>
                        workload(ns, "crunch"),
                    );
                    const t = setup(testSettings(), everywhere, () => body);
                    const report = await t.remediator.poll();
                    const acted = report.decisions.filter((d) => d.outcome === "acted" || d.outcome === "would-act");
                    if (kind === "body" && report.ok) {
                        // A fuzzed body can happen to be a valid, empty alerts list: nothing to refuse then.
                        assert.deepEqual(report.decisions, []);
                    } else if (acted.length === 0) {
                        assert.ok(
                            report.decisions.some((d) => d.outcome === "rejected" || d.outcome === "refused"),
                            `no refusal logged for ${JSON.stringify(body)?.slice(0, 200)}`,
                        );
                    }
                    // The one field a fuzzer may leave valid is the value: then the alert is sound and acts.
                    for (const d of acted) assert.equal(d.namespace, "batch");
                    assert.deepEqual(
                        t.kube.writes().filter((w) => w.ref.namespace !== "batch"),
                        [],
                    );
                    for (const line of report.decisions)
                        assert.ok(JSON.stringify(line).length < 2000, "an unbounded log line");
                    checked += 1;
                },
            ),
            { numRuns: 600 },
        );
        assert.equal(checked, 600);
    });

    it("refuses the whole answer when it is not a successful alerts list", () => {
        assert.throws(() => readAlerts("<html>", new Set([CPU])), PayloadError);
        assert.throws(
            () => readAlerts({ status: "error" }, new Set([CPU])),
            /expected status "success", found "error"/,
        );
        assert.throws(
            () => readAlerts({ status: "success", data: { alerts: new Array(20_001).fill({}) } }, new Set([CPU])),
            /expected at most 20000 alerts, found 20001/,
        );
    });

    it("names what is wrong with a malformed budget alert, quoting at most 80 characters of it", () => {
        const alert = firing({ ...VALID, name: "x".repeat(500) }, CPU, "3.5");
        const { refused } = readAlerts(alertsBody([alert]), new Set([CPU]));
        assert.equal(refused.length, 1);
        assert.match(
            refused[0] ?? "",
            /^alert 0: NonCriticalWorkloadCPUOverBudget: expected label workload to be an object name, found "x{80}…"$/,
        );
    });
});

/** Audit lines are JSON, one per line, each with the fields an SRE filters on. */
describe("remediator: audit lines", () => {
    it("carries cluster, mode, outcome, reason and the workload on each decision", async () => {
        const t = setup(testSettings({ mode: "dry-run" }), [workload("batch", "crunch")], () =>
            alertsBody([firing(VALID, CPU, "3.5")]),
        );
        await t.remediator.poll();
        const line = t.lines[0] as AuditLine;
        assert.deepEqual(
            {
                cluster: line.cluster,
                mode: line.mode,
                outcome: line.outcome,
                reason: line.reason,
                alert: line.alert,
                namespace: line.namespace,
                kind: line.kind,
                name: line.name,
                value: line.value,
                budget: line.budget,
                activeAt: line.activeAt,
            },
            {
                cluster: "edge-a",
                mode: "dry-run",
                outcome: "would-act",
                reason: "dry-run",
                alert: CPU,
                namespace: "batch",
                kind: "Deployment",
                name: "crunch",
                value: "3.5",
                budget: 2,
                activeAt: "2026-01-05T06:00:00Z",
            },
        );
        assert.equal(line.time, new Date(T0).toISOString());
    });
});
