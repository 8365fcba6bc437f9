import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { parse, stringify } from "yaml";

import { FLEET_RULES_CONFIGMAP, FLEET_RULES_FILE } from "../components/alerting/alerting";
import {
    ALERTMANAGER_CONFIG_KEY,
    ALERTMANAGER_CONFIG_SECRET,
    KPS_APP_ALERTS,
    RECEIVER_CREDENTIALS_SECRET,
} from "../components/alerting/alertmanager-config";
import {
    alertsOf,
    allAlerts,
    certificateRules,
    clusterRuleGroups,
    COMPLEMENTED_DEFAULT_ALERTS,
    defaultRulesState,
    DROPPED_DEFAULT_ALERTS,
    durationSeconds,
    fleetRuleGroups,
    isAlert,
    KPS_RULE_FILES,
    REPLACED_DEFAULT_ALERTS,
    REPORT_SERIES,
    ruleFile,
    type AlertRule,
    type RecordingRule,
    type RuleGroup,
} from "../components/alerting/rules";
import { KPS_CHART_DEFAULTS } from "../components/alerting/rules/kps-defaults";
import { charts } from "../components/core/versions";
import { STACK_METRICS } from "../components/grafana/dashboards";
import { kpsValues } from "../components/metrics/values";
import { SEVERITIES } from "../config";
import { reveal } from "../render/mock-engine";
import { renderStack, type RenderResult } from "../render/render";
import { Secret } from "../render/values";
import { alertDocs } from "../scripts/alerts-docs";
import {
    ALERT_CASES,
    CASE_CERTIFICATE,
    ONSET_CASES,
    RECORDING_CASES,
    type AlertCase,
    type OnsetCase,
    type RecordingCase,
} from "./alert-cases";
import { locateBinaries } from "./harness/processes";
import { fixture, mainConfig, projectDir, tempDir, testSub } from "./helpers";
import { parsePromql } from "./promql";

/**
 * The stack's alert rules: their shape, their runbooks, the metrics they read, and their
 * behaviour, proven by the real promtool: every rule file checks, every alert has cases that
 * fire (with the exact summary and description) and cases that stay silent, every alert whose
 * runbook states its timing fires exactly then, and every recording rule records what it should
 * from all the series its exporter exposes side by side.
 */

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- rendered resource data

const main = mainConfig({
    cluster: { name: "hub" },
    exposure: { domain: "obs.acme.test", kind: "traefik-passthrough" },
    storage: { kind: "filesystem" },
    subClusters: [{ name: "edge-a" }],
});
const sub = testSub();
const BASE = main.alerting.runbookBaseUrl;

/** Rule files the cases run against: each with its evaluation interval. */
const FILES: Record<string, { groups: RuleGroup[]; evaluationInterval: string }> = {
    cluster: { groups: clusterRuleGroups(main), evaluationInterval: "1m" },
    certificates: { groups: [certificateRules([CASE_CERTIFICATE])], evaluationInterval: "1h" },
    fleet: { groups: fleetRuleGroups(main), evaluationInterval: "1m" },
};
const alerts = Object.values(FILES).flatMap((f) => alertsOf(f.groups));
const fileOf = new Map(
    Object.entries(FILES).flatMap(([file, f]) => alertsOf(f.groups).map((a) => [a.alert, file] as const)),
);
const byName = new Map(alerts.map((a) => [a.alert, a]));

const kpsAlerts = JSON.parse(
    fs.readFileSync(fixture("kps-rules/kube-prometheus-stack-88.5.3-alerts.json"), "utf8"),
) as Record<string, string[]>;
const kpsNames = new Set(Object.values(kpsAlerts).flat());

interface FixtureRuleFile {
    file: string;
    toggle: string;
    needs: string[];
    droppedWith: string[];
    alerts: string[];
    alertNeeds?: Record<string, string[]>;
    recordingRules: number;
}
const kpsRuleFiles = JSON.parse(
    fs.readFileSync(fixture("kps-rules/kube-prometheus-stack-88.5.3-rule-files.json"), "utf8"),
) as { chartDefaults: { unsetToggles: string[]; enabled: Record<string, boolean> }; files: FixtureRuleFile[] };

/** The stack's kube-prometheus-stack values for a main or sub configuration. */
const helmValues = (config: typeof main | typeof sub) =>
    kpsValues({ config, agentsNamespace: "observability-agents" }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Helm values

/** Alerts whose runbook states their timing, each proven by an onset case. */
const TIMED = [
    "ControlPlaneComponentDown",
    "ControlPlaneComponentAbsent",
    "APIServerAllInstancesDown",
    "TraceGatewayRefusingSpans",
    "TraceGatewayDroppingSpans",
    "TraceGatewayExportFailing",
    "ServiceTailLatencyHigh",
    "RollupEvaluationFailing",
];

/** Every recording rule of the rule files, with the file it is in. */
const records = Object.entries(FILES).flatMap(([file, f]) =>
    f.groups.flatMap((g) => g.rules.filter((r): r is RecordingRule => !isAlert(r)).map((r) => ({ file, rule: r }))),
);

/**
 * The metric names an expression reads: by name, and every name of the catalog a `__name__`
 * regex matches.
 */
function metricsRead(expr: string): string[] {
    const byRegex = [...expr.matchAll(/__name__\s*=~\s*"([^"]+)"/g)].flatMap(([, pattern]) =>
        [...STACK_METRICS].filter((m) => new RegExp(`^(?:${pattern})$`).test(m)),
    );
    return [...new Set([...parsePromql(expr).metrics, ...byRegex])];
}

function promqlOf(alert: AlertRule): string[] {
    return [alert.expr, ...alert.runbook.diagnosis];
}

describe("alerts: definitions", () => {
    it("are the same set whichever way they are listed, with unique names no default alert uses", () => {
        assert.deepEqual(
            allAlerts(main, [CASE_CERTIFICATE]).map((a) => a.alert),
            alerts.map((a) => a.alert),
        );
        assert.equal(byName.size, alerts.length, "duplicate alert names");
        for (const alert of alerts) {
            assert.match(alert.alert, /^[A-Z][A-Za-z0-9]+$/);
            assert.ok(!kpsNames.has(alert.alert), `${alert.alert} is also a kube-prometheus-stack alert`);
        }
        assert.ok(alerts.length >= 30, `${alerts.length} alerts`);
    });

    it("carry a severity, a category, a summary, a description and a complete runbook", () => {
        for (const alert of alerts) {
            assert.ok((SEVERITIES as readonly string[]).includes(alert.severity), alert.alert);
            assert.match(alert.for, /^[0-9]+[mh]$/, alert.alert);
            assert.ok(alert.summary.length > 10 && alert.description.length > 20, alert.alert);
            const { symptom, impact, diagnosis, fix } = alert.runbook;
            assert.ok(symptom !== "" && impact !== "" && diagnosis.length > 0 && fix.length > 0, alert.alert);
        }
    });

    it("compile to rule-file entries with severity, category and a runbook URL under the configured base", () => {
        const file = ruleFile(FILES.fleet?.groups ?? [], "https://git.example.com/runbooks/");
        const entries = file.groups.flatMap((g) => g.rules) as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any -- rule file data
        for (const entry of entries.filter((e) => e.alert !== undefined)) {
            assert.equal(entry.annotations.runbook_url, `https://git.example.com/runbooks/${entry.alert}.md`);
            assert.equal(entry.labels.severity, byName.get(entry.alert)?.severity);
            assert.equal(entry.labels.category, byName.get(entry.alert)?.category);
        }
    });

    it("read only metrics the stack produces, in rules and runbook queries alike", () => {
        for (const alert of alerts) {
            for (const query of promqlOf(alert)) {
                const parsed = parsePromql(query);
                assert.equal(parsed.errors, 0, `${alert.alert}: ${query}`);
                const unknown = parsed.metrics.filter((m) => !STACK_METRICS.has(m));
                assert.deepEqual(unknown, [], `${alert.alert}: ${query}`);
            }
        }
        // Control: a made-up metric is caught.
        assert.deepEqual(
            parsePromql("rate(made_up_total[5m])").metrics.filter((m) => !STACK_METRICS.has(m)),
            ["made_up_total"],
        );
    });

    it("keep the cluster label in every fleet rule, so each alert names its cluster", () => {
        for (const alert of alertsOf(FILES.fleet?.groups ?? [])) {
            const firing = ALERT_CASES.filter((c) => c.alert === alert.alert && c.fires.length > 0);
            for (const c of firing) for (const f of c.fires) assert.ok(f.labels.cluster !== undefined, c.name);
        }
    });

    it("run the same cluster rules on a sub cluster, without main's stores, and no fleet rules", () => {
        const onSub = clusterRuleGroups(sub).map((g) => g.name);
        const onMain = clusterRuleGroups(main).map((g) => g.name);
        assert.deepEqual(
            onMain.filter((g) => !onSub.includes(g)),
            ["observability.stores", "observability.retention-stores", "observability.report-health"],
        );
        assert.ok(onSub.every((g) => onMain.includes(g)));
        for (const group of [...clusterRuleGroups(sub), ...clusterRuleGroups(main)])
            assert.equal(group.placement, "cluster");
        for (const group of fleetRuleGroups(main)) assert.equal(group.placement, "fleet");
    });

    it("put every configured cluster, and only those, in the dead-man's switches", () => {
        const expr = (name: string) => alertsOf(fleetRuleGroups(main)).find((a) => a.alert === name)?.expr ?? "";
        for (const cluster of ["hub", "edge-a"])
            assert.ok(expr("ClusterMetricsAbsent").includes(`up{cluster="${cluster}"}`));
        assert.ok(expr("ClusterLogsAbsent").includes('tenant=~"hub|edge-a"'));
        const many = mainConfig({
            cluster: { name: "hub" },
            exposure: { domain: "obs.acme.test", kind: "traefik-passthrough" },
            storage: { kind: "filesystem" },
            subClusters: Array.from({ length: 50 }, (_, i) => ({ name: `edge-${i}` })),
        });
        const absent = alertsOf(fleetRuleGroups(many)).find((a) => a.alert === "ClusterMetricsAbsent")?.expr ?? "";
        assert.equal(absent.match(/absent_over_time/g)?.length, 51);
    });
});

describe("alerts: kube-prometheus-stack defaults", () => {
    it("turns off only default alerts that exist in the pinned chart, each replaced by one of ours", () => {
        for (const [name, { by }] of Object.entries(REPLACED_DEFAULT_ALERTS)) {
            assert.ok(kpsNames.has(name), name);
            assert.ok(byName.has(by), `${name} is replaced by ${by}, which the stack does not define`);
        }
        const values = helmValues(main);
        assert.deepEqual(Object.keys(values.defaultRules.disabled).sort(), Object.keys(REPLACED_DEFAULT_ALERTS).sort());
        assert.equal(values.defaultRules.create, true);
        for (const { by } of Object.values(COMPLEMENTED_DEFAULT_ALERTS)) assert.ok(byName.has(by), by);
    });

    it("knows the pinned chart's rule files as the facts taken from the chart record them", () => {
        assert.equal(
            charts.kubePrometheusStack.version,
            "88.5.3",
            "refresh components/alerting/rules/kps-defaults.ts and the fixtures",
        );
        assert.deepEqual(
            KPS_RULE_FILES.map((f) => ({
                file: f.file,
                toggle: f.toggle,
                needs: [...(f.needs ?? [])],
                droppedWith: [...(f.droppedWith ?? [])],
                alerts: [...f.alerts],
                ...(f.alertNeeds !== undefined ? { alertNeeds: f.alertNeeds } : {}),
                recordingRules: f.recordingRules,
            })),
            kpsRuleFiles.files,
        );
        assert.deepEqual(KPS_CHART_DEFAULTS, kpsRuleFiles.chartDefaults);
        // The two fixtures agree: the alerts of each toggle's files are the alerts listed under it.
        const byToggle = new Map<string, string[]>();
        for (const f of kpsRuleFiles.files) byToggle.set(f.toggle, [...(byToggle.get(f.toggle) ?? []), ...f.alerts]);
        assert.deepEqual(
            [...byToggle].map(([t, a]) => [t, [...a].sort()]).sort(),
            Object.entries(kpsAlerts)
                .map(([t, a]) => [t, [...a].sort()])
                .sort(),
        );
    });

    it("drops a file whose condition checks a disabled alert, and only then", () => {
        const names = (state: ReturnType<typeof defaultRulesState>, wanted: string) =>
            [...state.alerts].filter(([, a]) => a.state === wanted).map(([n]) => n);
        const none = defaultRulesState({ defaultRules: { create: true, rules: {}, disabled: {} } });
        assert.deepEqual(names(none, "disabled"), []);
        assert.equal(none.alerts.get("KubeSchedulerInstanceUnreachable")?.state, "kept");
        // The chart leaves four recording files unset, and Windows off.
        assert.deepEqual(
            none.files.filter((f) => !f.rendered).map((f) => f.file.file),
            [
                "k8s.rules.container_cpu_limits",
                "k8s.rules.container_cpu_requests",
                "k8s.rules.container_memory_limits",
                "k8s.rules.container_memory_requests",
                "windows.node.rules",
                "windows.pod.rules",
            ],
        );
        const one = defaultRulesState({ defaultRules: { disabled: { KubeSchedulerDown: true, KubeAPIDown: true } } });
        assert.equal(one.alerts.get("KubeSchedulerDown")?.state, "disabled");
        assert.equal(one.alerts.get("KubeSchedulerInstanceUnreachable")?.state, "dropped-with-file");
        // KubeAPIDown is checked alert by alert: its file stays.
        assert.equal(one.alerts.get("KubeAPIDown")?.state, "disabled");
        assert.equal(one.alerts.get("KubeAPIInstanceUnreachable")?.state, "kept");
    });

    it("says for every default alert it turns off what replaces it or why it is dropped, on both roles", () => {
        for (const config of [main, sub]) {
            const state = defaultRulesState(helmValues(config));
            const off = [...state.alerts].filter(([, a]) => a.state === "disabled" || a.state === "dropped-with-file");
            assert.deepEqual(
                off.map(([n]) => n).sort(),
                [...Object.keys(REPLACED_DEFAULT_ALERTS), ...Object.keys(DROPPED_DEFAULT_ALERTS)].sort(),
            );
            for (const name of Object.keys(DROPPED_DEFAULT_ALERTS)) assert.ok(kpsNames.has(name), name);
            for (const name of [
                "PrometheusRuleFailures",
                "KubeAPIDown",
                "TargetDown",
                ...Object.keys(COMPLEMENTED_DEFAULT_ALERTS),
            ])
                assert.equal(state.alerts.get(name)?.state, "kept", name);
        }
    });

    it("inhibits application alerts by names the pinned chart defines", () => {
        const apps = new Set([...(kpsAlerts.kubernetesApps ?? []), ...(kpsAlerts.kubernetesStorage ?? [])]);
        assert.deepEqual([...KPS_APP_ALERTS].sort(), [...apps].sort());
    });

    it("keeps the default groups the coverage relies on", () => {
        const values = helmValues(main);
        for (const [toggle, alert] of [
            ["kubernetesSystem", "KubeNodeNotReady"],
            ["kubernetesSystem", "KubeletDown"],
            ["kubeApiserverSlos", "KubeAPIErrorBudgetBurn"],
            ["nodeExporterAlerting", "NodeFilesystemSpaceFillingUp"],
            ["nodeExporterAlerting", "NodeClockSkewDetected"],
            ["kubernetesApps", "KubePodCrashLooping"],
            ["kubernetesStorage", "KubePersistentVolumeFillingUp"],
            ["prometheus", "PrometheusRemoteWriteBehind"],
            ["prometheus", "PrometheusRuleFailures"],
            ["general", "TargetDown"],
            ["general", "Watchdog"],
        ] as const) {
            assert.ok(kpsAlerts[toggle]?.includes(alert), `${alert} in ${toggle}`);
            assert.notEqual(values.defaultRules.rules[toggle], false, toggle);
            assert.notEqual(values.defaultRules.disabled[alert], true, alert);
        }
    });
});

describe("alerts: runbooks and reference", () => {
    const docs = alertDocs();

    it("has a runbook with symptom, impact, diagnosis and fix for every alert, and none for unknown alerts", () => {
        const dir = path.join(projectDir, "docs", "runbooks");
        const present = new Set(fs.readdirSync(dir));
        for (const alert of alerts) {
            const file = `${alert.alert}.md`;
            assert.ok(present.has(file), `docs/runbooks/${file} is missing: run npm run alerts:docs`);
            const text = fs.readFileSync(path.join(dir, file), "utf8");
            for (const heading of ["## Symptom", "## Impact", "## Diagnosis", "## Fix"]) {
                assert.ok(text.includes(heading), `${file}: ${heading}`);
            }
        }
        assert.deepEqual([...present].sort(), alerts.map((a) => `${a.alert}.md`).sort());
    });

    it("checks in runbooks and docs/alerts.md exactly as written from the rules", () => {
        for (const [file, content] of docs) {
            assert.equal(
                fs.readFileSync(path.join(projectDir, file), "utf8"),
                content,
                `${file} is stale: run npm run alerts:docs`,
            );
        }
    });

    it("lists every alert in docs/alerts.md with its severity and where it is evaluated", () => {
        const page = docs.get("docs/alerts.md") ?? "";
        for (const alert of alerts) {
            const row = page.split("\n").find((line) => line.startsWith(`| [${alert.alert}]`));
            assert.ok(row !== undefined, alert.alert);
            assert.ok(row.includes(`| ${alert.severity} |`), row);
            assert.match(row, /Prometheus|Thanos Ruler/);
        }
        for (const name of Object.keys(REPLACED_DEFAULT_ALERTS)) assert.ok(page.includes(`\`${name}\``), name);
    });

    it("says in docs/alerts.md, for every alert of the chart, whether it is kept, replaced, dropped or not rendered", () => {
        const page = docs.get("docs/alerts.md") ?? "";
        const section = page.slice(page.indexOf("## kube-prometheus-stack defaults"));
        const parts = new Map(
            section
                .split("\n### ")
                .slice(1)
                .map((part) => [part.slice(0, part.indexOf("\n")), part] as const),
        );
        const fates = ["Kept", "Replaced", "Dropped", "Not rendered"];
        assert.deepEqual(
            [...parts.keys()].filter((k) => fates.includes(k)),
            fates,
        );
        const replaced = new Set(Object.keys(REPLACED_DEFAULT_ALERTS));
        const dropped = new Set(Object.keys(DROPPED_DEFAULT_ALERTS));
        for (const name of kpsNames) {
            const where = fates.filter((fate) => (parts.get(fate) ?? "").includes(`\`${name}\``));
            const expected = replaced.has(name) ? "Replaced" : dropped.has(name) ? "Dropped" : "Kept";
            assert.deepEqual(where, [expected], name);
        }
        // The 139 alerts of the chart, five of them turned off.
        assert.match(
            section,
            new RegExp(`${kpsNames.size - replaced.size - dropped.size} of the chart's ${kpsNames.size} alerts run`),
        );
        for (const name of Object.keys(COMPLEMENTED_DEFAULT_ALERTS)) {
            assert.ok((parts.get("Kept, with a gap the stack's alerts fill") ?? "").includes(`\`${name}\``), name);
        }
    });

    it("states in the runbook how long after its condition starts each timed alert fires", () => {
        for (const name of TIMED) {
            const alert = byName.get(name);
            assert.ok(alert?.timing !== undefined, `${name} has no timing`);
            const earliest = durationSeconds(alert.timing.detection) + durationSeconds(alert.for);
            const spoken = (s: number) =>
                s < 60 ? `${s}s` : s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m ${s % 60}s`;
            const runbook = docs.get(`docs/runbooks/${name}.md`) ?? "";
            // From the first scrape (30 s) and the first evaluation (30 s) on.
            assert.ok(
                runbook.includes(`## Timing`) &&
                    runbook.includes(`fires ${spoken(earliest)} to ${spoken(earliest + 60)} after`),
                `${name}: ${runbook.slice(runbook.indexOf("## Timing"))}`,
            );
        }
    });
});

// ---------------------------------------------------------------------------------------------
// promtool

interface PromtoolTest {
    name: string;
    interval: string;
    input_series: { series: string; values: string }[];
    alert_rule_test?: { eval_time: string; alertname: string; exp_alerts: unknown[] }[];
    promql_expr_test?: { expr: string; eval_time: string; exp_samples: { labels: string; value: number }[] }[];
}

const inputSeries = (series: Record<string, string>) =>
    Object.entries(series).map(([name, values]) => ({ series: name, values }));

function expectedAlerts(alert: AlertRule, fires: AlertCase["fires"]) {
    return fires.map((f) => ({
        exp_labels: { ...f.labels, severity: alert.severity, category: alert.category, ...alert.labels },
        exp_annotations: {
            summary: f.summary,
            description: f.description,
            runbook_url: `${BASE}/${alert.alert}.md`,
        },
    }));
}

function alertOf(c: { alert: string; name: string }): AlertRule {
    const alert = byName.get(c.alert);
    if (alert === undefined) throw new Error(`case '${c.name}' is for unknown alert ${c.alert}`);
    return alert;
}

function promtoolTest(c: AlertCase, interval: string): PromtoolTest {
    const alert = alertOf(c);
    return {
        name: c.name,
        interval,
        input_series: inputSeries(c.series),
        alert_rule_test: [{ eval_time: c.at, alertname: c.alert, exp_alerts: expectedAlerts(alert, c.fires) }],
    };
}

/**
 * An onset case as promtool tests: still pending one evaluation before the runbook's earliest
 * instant (`start` + detection + `for`), firing at it.
 */
function onsetTest(c: OnsetCase, interval: string): PromtoolTest {
    const alert = alertOf(c);
    if (alert.timing === undefined) throw new Error(`${c.alert} states no timing`);
    const fires = durationSeconds(c.start) + durationSeconds(alert.timing.detection) + durationSeconds(alert.for);
    return {
        name: c.name,
        interval,
        input_series: inputSeries(c.series),
        alert_rule_test: [
            { eval_time: `${fires - durationSeconds(interval)}s`, alertname: c.alert, exp_alerts: [] },
            { eval_time: `${fires}s`, alertname: c.alert, exp_alerts: expectedAlerts(alert, c.fires) },
        ],
    };
}

/** A series selector as promtool prints it, `{__name__="n", a="b"}`, from a name and labels. */
function selector(name: string, labels: Record<string, string>): string {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    return `${name}{${pairs.join(", ")}}`;
}

function recordingTest(c: RecordingCase, interval: string): PromtoolTest {
    return {
        name: c.name,
        interval: c.interval ?? interval,
        input_series: inputSeries(c.series),
        promql_expr_test: [
            {
                expr: c.record,
                eval_time: c.at,
                exp_samples: c.samples.map((s) => ({ labels: selector(c.record, s.labels), value: s.value })),
            },
        ],
    };
}

/** Groups with their recording rules only: what a recording case checks, no alert writing ALERTS. */
const recordingOnly = (groups: readonly RuleGroup[]): RuleGroup[] =>
    groups.map((g) => ({ ...g, rules: g.rules.filter((r) => !isAlert(r)) })).filter((g) => g.rules.length > 0);

describe("alerts: promtool", () => {
    const work = tempDir("alerts-promtool");
    let promtool: string;

    before(() => {
        promtool = locateBinaries(["promtool"], "alert rules are checked and unit-tested with promtool").promtool;
    });

    const writeRules = (name: string, groups: readonly RuleGroup[]): string => {
        const file = path.join(work, `${name}.rules.yml`);
        fs.writeFileSync(file, stringify(ruleFile(groups, BASE), { lineWidth: 0 }));
        return file;
    };

    /** Runs promtool tests against one rule file. */
    const runTests = (
        name: string,
        groups: readonly RuleGroup[],
        evaluationInterval: string,
        tests: PromtoolTest[],
    ) => {
        const rules = writeRules(name, groups);
        const file = path.join(work, `${name}.test.yml`);
        fs.writeFileSync(
            file,
            stringify(
                { rule_files: [path.basename(rules)], evaluation_interval: evaluationInterval, tests },
                { lineWidth: 0 },
            ),
        );
        return spawnSync(promtool, ["test", "rules", file], { encoding: "utf8", cwd: work });
    };

    /** Runs every case of one rule file through `promtool test rules`. */
    const runCases = (name: string, groups: readonly RuleGroup[], evaluationInterval: string, cases: AlertCase[]) =>
        runTests(
            name,
            groups,
            evaluationInterval,
            cases.map((c) => promtoolTest(c, evaluationInterval)),
        );

    it("accepts every generated rule file: both roles' cluster rules, the certificates, the fleet rules", () => {
        const files = [
            writeRules("main-cluster", clusterRuleGroups(main)),
            writeRules("sub-cluster", clusterRuleGroups(sub)),
            writeRules("certificates", [certificateRules([CASE_CERTIFICATE])]),
            writeRules("fleet", fleetRuleGroups(main)),
        ];
        const result = spawnSync(promtool, ["check", "rules", ...files], { encoding: "utf8" });
        assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
        assert.equal(result.stdout.match(/SUCCESS/g)?.length, 4);
    });

    it("refuses a broken rule file (control)", () => {
        const broken: RuleGroup = {
            name: "broken",
            placement: "cluster",
            rules: [{ ...(alertsOf(FILES.cluster?.groups ?? [])[0] as AlertRule), expr: "sum(rate(up[5m])" }],
        };
        const result = spawnSync(promtool, ["check", "rules", writeRules("broken", [broken])], { encoding: "utf8" });
        assert.notEqual(result.status, 0);
    });

    it("has, for every alert, at least one case that fires and one that stays silent", () => {
        for (const alert of alerts) {
            const cases = ALERT_CASES.filter((c) => c.alert === alert.alert);
            assert.ok(
                cases.some((c) => c.fires.length > 0),
                `${alert.alert} has no firing case`,
            );
            assert.ok(
                cases.some((c) => c.fires.length === 0),
                `${alert.alert} has no silent case`,
            );
        }
        for (const c of ALERT_CASES) assert.ok(byName.has(c.alert), `case for unknown alert ${c.alert}`);
    });

    for (const [name, { groups, evaluationInterval }] of Object.entries(FILES)) {
        it(`passes every case of the ${name} rules`, () => {
            const cases = ALERT_CASES.filter((c) => fileOf.get(c.alert) === name);
            assert.ok(cases.length > 0);
            const result = runCases(name, groups, evaluationInterval, cases);
            assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
            assert.match(result.stdout, /SUCCESS/);
        });
    }

    it("has an onset case for every alert whose runbook states its timing, and nothing else", () => {
        const timed = alerts.filter((a) => a.timing !== undefined).map((a) => a.alert);
        assert.deepEqual([...timed].sort(), [...TIMED].sort());
        assert.deepEqual([...new Set(ONSET_CASES.map((c) => c.alert))].sort(), [...TIMED].sort());
    });

    for (const [name, { groups, evaluationInterval }] of Object.entries(FILES)) {
        const cases = ONSET_CASES.filter((c) => fileOf.get(c.alert) === name);
        if (cases.length === 0) continue;
        it(`fires the ${name} rules when their runbooks say: pending one evaluation before, firing then`, () => {
            const result = runTests(
                `${name}-onset`,
                groups,
                evaluationInterval,
                cases.map((c) => onsetTest(c, evaluationInterval)),
            );
            assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
        });
    }

    it("has a case for every recording rule that feeds every metric the rule reads at once", () => {
        for (const { rule } of records) {
            const cases = RECORDING_CASES.filter((c) => c.record === rule.record);
            const read = metricsRead(rule.expr);
            const full = cases.filter((c) => {
                const fed = new Set(Object.keys(c.series).map((series) => parsePromql(series).metrics[0]));
                return read.every((metric) => fed.has(metric));
            });
            assert.ok(full.length > 0, `${rule.record}: no case feeds all of ${read.join(", ")}`);
        }
        const known = new Set(records.map((r) => r.rule.record));
        for (const c of RECORDING_CASES) assert.ok(known.has(c.record), `case for unknown record ${c.record}`);
        // Every roll-up of the report among them.
        for (const name of Object.values(REPORT_SERIES)) assert.ok(known.has(name), name);
        // Control: a name regex counts every catalog name it matches.
        assert.deepEqual(
            metricsRead('increase({__name__=~"otelcol_exporter_(send|enqueue)_failed_spans"}[1h])').sort(),
            ["otelcol_exporter_enqueue_failed_spans", "otelcol_exporter_send_failed_spans"],
        );
    });

    for (const [name, { groups, evaluationInterval }] of Object.entries(FILES)) {
        it(`records what every recording rule of the ${name} rules should`, () => {
            const held = new Set(records.filter((r) => r.file === name).map((r) => r.rule.record));
            const cases = RECORDING_CASES.filter((c) => held.has(c.record));
            assert.ok(cases.length > 0);
            const result = runTests(
                `${name}-records`,
                recordingOnly(groups),
                evaluationInterval,
                cases.map((c) => recordingTest(c, evaluationInterval)),
            );
            assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
        });
    }

    it("fails to evaluate a roll-up over several counters by a name regex, on the same cases (control)", () => {
        const cases = RECORDING_CASES.filter((c) => c.record === REPORT_SERIES.spansDropped);
        const group: RuleGroup = {
            name: "regex",
            placement: "cluster",
            rules: [
                {
                    record: REPORT_SERIES.spansDropped,
                    expr: 'sum by (cluster) (increase({__name__=~"otelcol_exporter_(?:send|enqueue)_failed_spans"}[1h]))',
                },
            ],
        };
        const result = runTests(
            "regex",
            [group],
            "1m",
            cases.map((c) => recordingTest(c, "1m")),
        );
        assert.notEqual(result.status, 0);
        assert.match(`${result.stdout}${result.stderr}`, /same labelset/);
    });

    it("misses a component gone from one cluster with a bare absent() over the fleet's data (control)", () => {
        const [health] = clusterRuleGroups(main);
        assert.ok(health !== undefined);
        const bare: RuleGroup = {
            ...health,
            rules: health.rules.map((r) =>
                isAlert(r) && r.alert === "ControlPlaneComponentAbsent"
                    ? {
                          ...r,
                          expr:
                              'label_replace(absent(kube_pod_status_ready{namespace="kube-system", condition="true", pod=~"kube-scheduler-.+"} == 1),' +
                              ' "component", "kube-scheduler", "", "") * on () group_left () count(kube_node_role{role="control-plane"})',
                      }
                    : r,
            ),
        };
        const fleetCase = ALERT_CASES.filter(
            (c) => c.alert === "ControlPlaneComponentAbsent" && c.name.includes("edge-a"),
        );
        assert.equal(fleetCase.length, 1);
        assert.equal(runCases("as-one-cluster", [health], "1m", fleetCase).status, 0);
        const result = runCases("bare-absent", [bare], "1m", fleetCase);
        assert.notEqual(result.status, 0, result.stdout);
    });

    it("fails the cases when a rule stops firing or a description changes (control)", () => {
        const [first] = FILES.cluster?.groups ?? [];
        assert.ok(first !== undefined);
        const mutate = (change: (a: AlertRule) => AlertRule): RuleGroup => ({
            ...first,
            rules: first.rules.map((r) => (isAlert(r) && r.alert === "ControlPlaneComponentDown" ? change(r) : r)),
        });
        const cases = ALERT_CASES.filter((c) => c.alert === "ControlPlaneComponentDown");
        for (const group of [
            mutate((a) => ({ ...a, expr: `${a.expr} and on () vector(0) > 1` })),
            mutate((a) => ({ ...a, description: a.description.replace("Only", "At most") })),
        ]) {
            const result = runCases("mutated", [group], "1m", cases);
            assert.notEqual(result.status, 0, result.stdout);
        }
    });
});

// ---------------------------------------------------------------------------------------------
// As the stacks declare them

describe("alerts: as the stacks declare them", () => {
    let mainRender: RenderResult;
    let subRender: RenderResult;
    let largeRender: RenderResult;

    before(async () => {
        // One at a time: a render owns the Pulumi runtime while it runs.
        mainRender = await renderStack({ projectDir, stack: "main" });
        subRender = await renderStack({ projectDir, stack: "sub" });
        largeRender = await renderStack({
            projectDir,
            stack: "main-large",
            stackFile: fixture("Pulumi.main-large.yaml"),
        });
    });

    const find = (result: RenderResult, type: string, name: string): Values => {
        const record = result.records.find((r) => r.type === type && (r.inputs as Values).metadata?.name === name);
        assert.ok(record !== undefined, `${type} ${name}`);
        return record.inputs as Values;
    };
    const chartValues = (result: RenderResult, suffix: string): Values => {
        const record = result.records.find((r) => r.type.endsWith("helm.sh/v4:Chart") && r.name.endsWith(suffix));
        assert.ok(record !== undefined, suffix);
        return (record.inputs as Values).values as Values;
    };
    const RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";

    it("gives each role's Prometheus its cluster rules as a PrometheusRule, and main the certificate rules", () => {
        const mainGroups = (find(mainRender, RULE, "observability-rules").spec.groups as Values[]).map((g) => g.name);
        const subGroups = (find(subRender, RULE, "observability-rules").spec.groups as Values[]).map((g) => g.name);
        assert.deepEqual(
            mainGroups,
            clusterRuleGroups(main).map((g) => g.name),
        );
        assert.deepEqual(
            subGroups,
            clusterRuleGroups(sub).map((g) => g.name),
        );
        const certificates = find(mainRender, RULE, "observability-certificates").spec.groups[0].rules as Values[];
        const records = certificates.filter((r) => r.record !== undefined);
        // One expiry and one renewal series per certificate of the PKI, each a constant instant.
        assert.ok(records.length >= 2 * 10, `${records.length}`);
        for (const r of records) assert.match(r.expr, /^vector\([0-9]+\)$/);
        assert.ok(!subRender.records.some((r) => (r.inputs as Values).metadata?.name === "observability-certificates"));
    });

    it("loads the fleet rules into the Ruler and sends its alerts through the alert ingest, as every cluster does", () => {
        const configMap = find(mainRender, "kubernetes:core/v1:ConfigMap", FLEET_RULES_CONFIGMAP);
        const file = parse(configMap.data[FLEET_RULES_FILE]) as Values;
        assert.deepEqual(
            (file.groups as Values[]).map((g) => g.name),
            fleetRuleGroups(main).map((g) => g.name),
        );
        assert.equal(chartValues(mainRender, "-thanos").rule.enabled, false, "the chart's Ruler is off");
        const ruler = find(mainRender, "kubernetes:apps/v1:StatefulSet", "thanos-rule").spec.template.spec;
        const rulesVolume = (ruler.volumes as Values[]).find((v) => v.name === "rules");
        assert.deepEqual(rulesVolume?.configMap, { name: FLEET_RULES_CONFIGMAP });
        const config = find(mainRender, "kubernetes:core/v1:ConfigMap", "thanos-rule-config");
        const alertmanagers = parse(config.data["alertmanagers.yaml"]).alertmanagers as Values[];
        assert.deepEqual(alertmanagers[0]?.static_configs, ["alertmanager-ingest.observability.svc:9443"]);
        assert.equal(alertmanagers[0]?.scheme, "https");
        assert.equal(
            alertmanagers[0]?.http_config.tls_config.cert_file,
            "/etc/observability/alerts-client-tls/tls.crt",
        );
        // Main's own Prometheus too: no plain hop to Alertmanager left.
        const prometheus = chartValues(mainRender, "-kps").prometheus.prometheusSpec;
        assert.equal(prometheus.disableAlerting, true);
        assert.deepEqual(prometheus.additionalAlertManagerConfigs[0].static_configs, [
            { targets: ["alertmanager-ingest.observability.svc:9443"] },
        ]);
    });

    it("hands Alertmanager its configuration through a Secret, with HA replicas and no chart-rendered config", () => {
        const am = chartValues(mainRender, "-kps").alertmanager;
        assert.equal(am.alertmanagerSpec.useExistingSecret, true);
        assert.equal(am.alertmanagerSpec.configSecret, ALERTMANAGER_CONFIG_SECRET);
        assert.ok(am.alertmanagerSpec.replicas >= 2);
        assert.deepEqual(am.podDisruptionBudget, { enabled: true, minAvailable: 1 });
        assert.equal(am.alertmanagerSpec.secrets, undefined, "no receiver takes a credential in this stack");
        const secret = reveal(find(mainRender, "kubernetes:core/v1:Secret", ALERTMANAGER_CONFIG_SECRET)) as Values;
        assert.equal(parse(secret.stringData[ALERTMANAGER_CONFIG_KEY]).route.receiver, "none");
        assert.equal(chartValues(subRender, "-kps").alertmanager.enabled, false);
    });

    it("keeps receiver credentials in their own Secret, secret in the render, mounted by Alertmanager", () => {
        const am = chartValues(largeRender, "-kps").alertmanager;
        assert.deepEqual(am.alertmanagerSpec.secrets, [RECEIVER_CREDENTIALS_SECRET]);
        assert.equal(am.alertmanagerSpec.replicas, 3);
        // Secret as a whole from the program on, one file per receiver, none readable offline.
        const credentials = find(largeRender, "kubernetes:core/v1:Secret", RECEIVER_CREDENTIALS_SECRET);
        assert.ok(credentials.stringData instanceof Secret);
        assert.deepEqual(reveal(credentials.stringData), { pager: "[secret]", chat: "[secret]", mail: "[secret]" });
        const config = reveal(find(largeRender, "kubernetes:core/v1:Secret", ALERTMANAGER_CONFIG_SECRET)) as Values;
        const text = config.stringData[ALERTMANAGER_CONFIG_KEY] as string;
        assert.match(text, /routing_key_file: \/etc\/alertmanager\/secrets\/alertmanager-receivers\/pager/);
        assert.match(text, /receiver: chat/);
        const rules = find(largeRender, RULE, "observability-rules").spec.groups[0].rules as Values[];
        assert.match(
            rules[0]?.annotations.runbook_url,
            /^https:\/\/git\.example\.org\/platform\/observability\/-\/blob\/main\/docs\/runbooks\/[A-Za-z]+\.md$/,
        );
    });
});
