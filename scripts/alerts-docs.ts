/**
 * `npm run alerts:docs`: rewrites docs/alerts.md and one runbook per alert in docs/runbooks/ from
 * the rule definitions in components/alerting/rules/. They are committed: review and commit the diff. A test fails
 * when the committed files are stale (test/alerts.test.ts reads alertDocs from here).
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { allAlerts, clusterRuleGroups, fleetRuleGroups } from "../components/alerting/rules";
import { certificateRules } from "../components/alerting/rules/certificates";
import {
    COMPLEMENTED_DEFAULT_ALERTS,
    defaultRulesState,
    DROPPED_DEFAULT_ALERTS,
    REPLACED_DEFAULT_ALERTS,
    type DefaultRuleFileState,
} from "../components/alerting/rules/kps-defaults";
import {
    durationSeconds,
    isAlert,
    type AlertRule,
    type Category,
    type Placement,
    type RuleGroup,
} from "../components/alerting/rules/model";
import { EVALUATION_INTERVAL_SECONDS, SCRAPE_INTERVAL_SECONDS } from "../components/alerting/rules/report";
import { charts } from "../components/core/versions";
import { kpsValues } from "../components/metrics/values";
import { mainSchema, subSchema, type MainConfig, type SubConfig } from "../config/schema";
import { helpOnly } from "../render/command-line";

const CATEGORY_TITLES: Record<Category, string> = {
    deadman: "Dead-man's switches",
    cluster: "Cluster health",
    app: "Application health",
    stack: "The stack itself",
    retention: "Retention compliance",
};

interface Where {
    /** In words. */
    text: string;
    placement: Placement;
}

/** Where each alert is evaluated. */
function placements(main: MainConfig, sub: SubConfig): Map<string, Where> {
    const everywhere = new Set(clusterRuleGroups(sub).map((g) => g.name));
    const where = new Map<string, Where>();
    const note = (groups: readonly RuleGroup[], text: (g: RuleGroup) => string) => {
        for (const group of groups) {
            for (const rule of group.rules.filter(isAlert)) {
                where.set(rule.alert, { text: text(group), placement: group.placement });
            }
        }
    };
    note([...clusterRuleGroups(main), certificateRules([])], (g) =>
        everywhere.has(g.name) ? "every cluster's Prometheus" : "main's Prometheus",
    );
    note(fleetRuleGroups(main), () => "main's Thanos Ruler (whole fleet)");
    return where;
}

/** A number of seconds in words: `5m`, `6m 30s`. */
function spoken(seconds: number): string {
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    if (minutes === 0) return `${rest}s`;
    return rest === 0 ? `${minutes}m` : `${minutes}m ${rest}s`;
}

/** The runbook's timing: how long after its condition starts the alert fires. */
function timingSection(alert: AlertRule, placement: Placement): string[] {
    const timing = alert.timing;
    if (timing === undefined) return [`Fires after the condition holds for ${alert.for}.`, ""];
    const detection = durationSeconds(timing.detection);
    const earliest = detection + durationSeconds(alert.for);
    const latest = earliest + SCRAPE_INTERVAL_SECONDS + EVALUATION_INTERVAL_SECONDS;
    const evaluator =
        placement === "fleet"
            ? `main's Thanos Ruler evaluates it every ${EVALUATION_INTERVAL_SECONDS}s over the fleet's data`
            : `the cluster's Prometheus evaluates it every ${EVALUATION_INTERVAL_SECONDS}s`;
    const sample =
        placement === "fleet"
            ? `the first sample that shows it (written at most ${SCRAPE_INTERVAL_SECONDS}s later)`
            : `the first scrape that shows it (every ${SCRAPE_INTERVAL_SECONDS}s)`;
    const seen =
        detection === 0
            ? `${sample[0]?.toUpperCase()}${sample.slice(1)} turns the expression true`
            : `The expression turns true ${spoken(detection)} after ${sample}`;
    const hold = alert.for === "0m" ? "fires on the first evaluation that sees it" : `must see it for ${alert.for}`;
    return [
        "## Timing",
        "",
        `The clock starts when ${timing.condition}. ${seen}; ${evaluator} and ${hold}. It fires ` +
            `${spoken(earliest)} to ${spoken(latest)} after the condition starts` +
            (placement === "fleet"
                ? ", plus the time the data takes to reach main (seconds on a healthy link)."
                : ".") +
            (timing.note !== undefined ? ` ${timing.note}` : ""),
        "",
    ];
}

/** One runbook page. */
function runbookPage(alert: AlertRule, where: Where): string {
    const lines = [
        `# ${alert.alert}`,
        "",
        `Severity **${alert.severity}**, evaluated in ${where.text}. Summary: ${alert.summary}`,
        "",
        "## Symptom",
        "",
        alert.runbook.symptom,
        "",
        "## Impact",
        "",
        alert.runbook.impact,
        "",
        "## Diagnosis",
        "",
        "Run in Grafana's Explore (Thanos datasource), replacing `<…>` placeholders:",
        "",
        ...alert.runbook.diagnosis.flatMap((query) => ["```promql", query, "```", ""]),
        "## Fix",
        "",
        ...alert.runbook.fix.map((step, i) => `${i + 1}. ${step}`),
        "",
        "## Rule",
        "",
        "```promql",
        alert.expr,
        "```",
        "",
        ...timingSection(alert, where.placement),
    ];
    return lines.join("\n");
}

function escapeCell(text: string): string {
    return text.replace(/\|/g, "\\|");
}

/** The Helm values of kube-prometheus-stack with every optional part of the stack on, and with all of them off. */
function kpsVariants(): { full: Record<string, unknown>; bare: Record<string, unknown> } {
    const values = (talos: { controlPlaneNodes: string[]; kubeProxy: boolean }) =>
        kpsValues({
            config: mainSchema.parse({ ...docsMainInput, talos }),
            agentsNamespace: "observability-agents",
        });
    return {
        full: values({ controlPlaneNodes: ["10.0.0.10"], kubeProxy: true }),
        bare: values({ controlPlaneNodes: [], kubeProxy: false }),
    };
}

/** When a default rule file runs, for files the stack's configuration switches. */
const SWITCHED_FILES: Readonly<Record<string, string>> = {
    etcd: "with `talos.controlPlaneNodes`",
    kubeProxy: "with `talos.kubeProxy`",
};

const recordingRules = (count: number) => `${count} recording rule${count === 1 ? "" : "s"}`;
const alertLink = (name: string) => `[${name}](runbooks/${name}.md)`;
const code = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(", ");

/** kube-prometheus-stack's default rules: what runs, what the stack replaces or drops, and why. */
function defaultsSection(version: string): string[] {
    const { full, bare } = kpsVariants();
    const state = defaultRulesState(full);
    const bareFiles = new Map(defaultRulesState(bare).files.map((f) => [f.file.file, f.rendered]));
    const byState = (wanted: string) => [...state.alerts].filter(([, a]) => a.state === wanted).map(([name]) => name);
    const turnedOff = [...byState("disabled"), ...byState("dropped-with-file")];
    for (const name of turnedOff) {
        if ((REPLACED_DEFAULT_ALERTS[name] === undefined) === (DROPPED_DEFAULT_ALERTS[name] === undefined))
            throw new Error(
                `${name} is turned off: say in components/alerting/rules/kps-defaults.ts what replaces it or why it is dropped`,
            );
    }
    for (const name of [...Object.keys(REPLACED_DEFAULT_ALERTS), ...Object.keys(DROPPED_DEFAULT_ALERTS)]) {
        if (!turnedOff.includes(name)) throw new Error(`${name} is not turned off by the stack's values`);
    }
    for (const name of Object.keys(COMPLEMENTED_DEFAULT_ALERTS)) {
        if (state.alerts.get(name)?.state !== "kept") throw new Error(`${name} does not run`);
    }
    const kept = byState("kept");
    const fileOf = (name: string) => `\`${state.alerts.get(name)?.file}\``;
    const runs = (f: DefaultRuleFileState) => {
        if (bareFiles.get(f.file.file) === true) return "always";
        const when = SWITCHED_FILES[f.file.toggle];
        if (when === undefined) throw new Error(`${f.file.file} runs only with some configurations: say which`);
        return when;
    };
    const keptRows = state.files
        .filter((f) => f.rendered)
        .map((f) => {
            const alerts = f.file.alerts.filter((a) => state.alerts.get(a)?.state === "kept");
            const recording = f.file.recordingRules > 0 ? [recordingRules(f.file.recordingRules)] : [];
            return `| \`${f.file.file}\` | \`${f.file.toggle}\` | ${runs(f)} | ${[code(alerts), ...recording].filter((x) => x !== "").join("; ")} |`;
        });
    const notRendered = state.files.filter(
        (f) => !f.rendered && (f.file.droppedWith ?? []).every((a) => !turnedOff.includes(a)),
    );
    const offInRendered = byState("off").filter((name) =>
        state.files.some((f) => f.rendered && f.file.file === state.alerts.get(name)?.file),
    );
    const fileDroppers = state.files.flatMap((f) => f.file.droppedWith ?? []);
    return [
        "## kube-prometheus-stack defaults",
        "",
        `kube-prometheus-stack ${version} renders its default rules into every cluster's Prometheus beside the`,
        "stack's own (`defaultRules.create`), from its `templates/prometheus/rules-1.14/`. Below is what the",
        "stack's values make of each rule file and alert, written from `components/alerting/rules/kps-defaults.ts`, which a",
        `test checks against the chart's files: ${kept.length} of the chart's ${state.alerts.size} alerts run. Their runbooks are`,
        "upstream (runbooks.prometheus-operator.dev).",
        "",
        "`defaultRules.rules.<switch>` turns a whole file on or off; `defaultRules.disabled.<Alert>` drops",
        `one alert, except ${code(fileDroppers)}: the chart checks`,
        "them in their whole file's condition, so disabling one drops its file with every alert in it.",
        "",
        "### Kept",
        "",
        "| rule file | switch | runs | alerts kept |",
        "| --- | --- | --- | --- |",
        ...keptRows,
        "",
        "### Replaced",
        "",
        "Turned off, each replaced by one of the stack's alerts:",
        "",
        ...Object.entries(REPLACED_DEFAULT_ALERTS).map(
            ([name, r]) => `- \`${name}\` (${fileOf(name)}), by ${alertLink(r.by)}: ${r.why}.`,
        ),
        "",
        "### Dropped",
        "",
        ...Object.entries(DROPPED_DEFAULT_ALERTS).map(([name, why]) => `- \`${name}\` (${fileOf(name)}): ${why}.`),
        "",
        "### Kept, with a gap the stack's alerts fill",
        "",
        ...Object.entries(COMPLEMENTED_DEFAULT_ALERTS).map(
            ([name, r]) => `- \`${name}\` (${fileOf(name)}): ${r.why}; see ${alertLink(r.by)}.`,
        ),
        "",
        "### Not rendered",
        "",
        ...notRendered.map(
            (f) =>
                `- \`${f.file.file}\` (${f.file.alerts.length > 0 ? code(f.file.alerts) : recordingRules(f.file.recordingRules)}): ${f.reason}.`,
        ),
        ...offInRendered.map((name) => `- \`${name}\` (${fileOf(name)}): a component it needs is off.`),
        "",
    ];
}

/** The alert reference. */
function alertsPage(alerts: readonly AlertRule[], where: ReadonlyMap<string, Where>): string {
    const sections = (Object.keys(CATEGORY_TITLES) as Category[]).flatMap((category) => {
        const inCategory = alerts.filter((a) => a.category === category);
        return [
            `### ${CATEGORY_TITLES[category]}`,
            "",
            "| alert | severity | evaluated in | meaning |",
            "| --- | --- | --- | --- |",
            ...inCategory.map(
                (a) =>
                    `| [${a.alert}](runbooks/${a.alert}.md) | ${a.severity} | ${where.get(a.alert)?.text ?? "?"} | ${escapeCell(a.runbook.symptom)} |`,
            ),
            "",
        ];
    });
    return [
        "# Alerts",
        "",
        "<!-- Written by `npm run alerts:docs` from components/alerting/rules/*.ts; edit those, not this file. -->",
        "",
        `The stack defines ${alerts.length} alerts of its own, as typed code in \`components/alerting/rules/\`, each with a`,
        "runbook in `docs/runbooks/` that says how long after its condition starts it fires.",
        "kube-prometheus-stack's default rules run beside them (see the end of this page). Every alert",
        "carries `severity`, `category`, `cluster`, `summary`, `description` and `runbook_url`",
        "(`alerting.runbookBaseUrl` + `/<Alert>.md`).",
        "",
        "## Where rules run",
        "",
        "- **Every cluster's Prometheus** evaluates the cluster, application, agent and local retention",
        "  rules on its own data, from a `PrometheusRule`. They keep firing while the metrics link to main",
        "  is down, and reach main's Alertmanager through the alert ingest (mTLS). Prometheus adds the",
        "  `cluster` external label to every alert it sends.",
        "- **Main's Prometheus** adds the rules on the stores only main runs (Thanos, Loki, Tempo) and the",
        "  fleet certificates' expiry, written from the PKI's state at each `pulumi up`.",
        "- **Main's Thanos Ruler** evaluates the fleet rules through Thanos Query: per-cluster dead-man's",
        "  switches, alert delivery from each cluster, and service health from span metrics. Their",
        "  expressions keep the `cluster` label of the data.",
        "",
        "A component gone from one sub cluster (`ControlPlaneComponentAbsent`, `APIServerAllInstancesDown`)",
        "is caught by that cluster's own Prometheus: it sees its own data first hand, without the",
        "remote-write delay, and keeps alerting while the link to main is down. Their expressions count",
        "`by (cluster)`, control-plane nodes against ready pods and API server targets against those",
        "that answer, never with a bare `absent()`: over the fleet's data on main, an `absent()` would",
        "stay silent as long as any other cluster still has the component (a test shows both). When the",
        "sub's Prometheus is down itself, `ClusterMetricsAbsent` fires on main instead; when its alerts",
        "cannot leave, `ClusterAlertDeliveryFailing`.",
        "",
        "## The stack's alerts",
        "",
        ...sections,
        "## Alertmanager",
        "",
        "Main runs Alertmanager with HA replicas (2 in small and medium, 3 in large) from a configuration",
        "the program writes into the Secret `alertmanager-config`; receiver credentials live in the",
        "Secret `alertmanager-receivers` and are read from files, never written into the configuration.",
        "See docs/configuration.md (`alerting`) for receivers and routes.",
        "",
        "- **Routing**: main's Watchdog goes to `alerting.heartbeatReceiver` every minute; other",
        "  clusters' Watchdogs and InfoInhibitor go nowhere; then `alerting.routes` in order; info alerts",
        "  no route matched are not notified (the weekly report lists them); the rest go to",
        "  `alerting.defaultReceiver`.",
        "- **Grouping**: by `alertname` and `cluster`; first notification after 30s, new alerts in a group",
        "  after 5m; warnings repeat daily, critical alerts every 4 hours.",
        "- **Inhibitions**: critical hides the same alert's warning and info, warning its info;",
        "  `ClusterMetricsAbsent` hides the cluster's other alerts except dead-man's switches and the",
        "  delivery-path alerts that explain it; `KubeAPIDown` hides the cluster's application alerts;",
        "  `ClusterTracesStopped` hides the cluster's alerts derived from span metrics.",
        "",
        ...defaultsSection(charts.kubePrometheusStack.version),
    ].join("\n");
}

/** Main's configuration in the docs: `main` with one sub cluster `sub-eu-1`, defaults elsewhere. */
const docsMainInput = {
    role: "main",
    cluster: { name: "main" },
    exposure: { domain: "obs.example.com", kind: "traefik-passthrough" },
    storage: { kind: "filesystem" },
    subClusters: [{ name: "sub-eu-1" }],
} as const;

/** The fleet the docs show rules for. */
function docsFleet(): { main: MainConfig; sub: SubConfig } {
    return {
        main: mainSchema.parse(docsMainInput),
        sub: subSchema.parse({ role: "sub", cluster: { name: "sub-eu-1" }, mainStack: "acme/observability/main" }),
    };
}

/** Every docs file the alerts own, by path relative to the project. */
export function alertDocs(fleet = docsFleet()): Map<string, string> {
    const where = placements(fleet.main, fleet.sub);
    const alerts = allAlerts(fleet.main);
    const files = new Map<string, string>();
    files.set("docs/alerts.md", alertsPage(alerts, where));
    for (const alert of alerts) {
        const place = where.get(alert.alert);
        if (place === undefined) throw new Error(`${alert.alert} is in no rule group`);
        files.set(`docs/runbooks/${alert.alert}.md`, runbookPage(alert, place));
    }
    return files;
}

const USAGE = `usage: npm run alerts:docs [-- --help]

Rewrites docs/alerts.md and docs/runbooks/ from the rule definitions in components/alerting/rules/. They are
committed: review and commit the diff.`;

function main(): number {
    const early = helpOnly("alerts:docs", USAGE);
    if (early !== undefined) return early;
    const root = path.resolve(__dirname, "..");
    const files = alertDocs();
    const runbooks = path.join(root, "docs", "runbooks");
    fs.mkdirSync(runbooks, { recursive: true });
    for (const file of fs.readdirSync(runbooks)) {
        if (!files.has(`docs/runbooks/${file}`)) fs.rmSync(path.join(runbooks, file));
    }
    for (const [file, content] of files) {
        fs.writeFileSync(path.join(root, file), content);
    }
    process.stdout.write(
        `rewrote docs/alerts.md and ${files.size - 1} runbooks (committed files: review and commit the diff)\n`,
    );
    return 0;
}

if (require.main === module) process.exitCode = main();
