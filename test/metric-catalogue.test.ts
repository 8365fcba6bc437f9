import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { parser as promqlParser } from "@prometheus-io/lezer-promql";

import {
    CERTIFICATE_EXPIRY_METRIC,
    certificateRules,
    clusterRuleGroups,
    fleetRuleGroups,
    isAlert,
    type RuleGroup,
} from "../components/alerting/rules";
import { charts, images, imageTag } from "../components/core/versions";
import { METRIC_CATALOG, STACK_METRICS, stackDashboards, type StackDashboard } from "../components/grafana/dashboards";
import {
    CATALOG_GROUP_PRODUCERS,
    METRIC_SOURCES,
    PRODUCERS,
    UNFOLLOWED_PINS,
    type MetricSource,
    type Pin,
    type Producer,
} from "../components/grafana/dashboards/metric-sources";
import { DATASOURCE_UIDS, datasources } from "../components/grafana/values";
import { remediatorRegistry } from "../remediator/metrics";
import { DAILY_QUERIES, instantQueries, TIMELINES } from "../reporter/queries";
import { fixture, projectDir, testMain, testSub } from "./helpers";
import { parsePromql } from "./promql";

/**
 * The metric catalogue against what reads it and against the pinned versions: every metric name
 * a rule, a roll-up, a runbook query, a dashboard, a report query or a datasource link reads is
 * catalogued and has a source entry (components/grafana/dashboards/metric-sources.ts) saying where the pinned
 * version defines it; no entry outlives its name; and every pin a producer follows still has the
 * value the producer's names were checked at.
 */

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- dashboard and datasource JSON

/** A PromQL expression the stack runs, and where it is written. */
interface Query {
    where: string;
    expr: string;
}

// ---------------------------------------------------------------------------------------------
// What reads metrics

const SAMPLE_CERTIFICATE = {
    id: "sample",
    profile: "server",
    commonName: "sample.obs.acme.test",
    notAfter: "2027-06-01T00:00:00Z",
    renewFrom: "2027-05-01T00:00:00Z",
};

const main = testMain({ subClusters: [{ name: "edge-a" }], talos: { controlPlaneNodes: ["10.0.0.10"] } });
const sub = testSub({ talos: { controlPlaneNodes: ["10.0.1.10"] } });

/** Every rule group of either role: each cluster's, the certificates', main's Thanos Ruler's. */
const RULE_GROUPS: RuleGroup[] = [
    ...clusterRuleGroups(main),
    ...clusterRuleGroups(sub),
    certificateRules([SAMPLE_CERTIFICATE]),
    ...fleetRuleGroups(main),
];

/** Each rule's expression and each alert's runbook queries. */
function ruleQueries(groups: readonly RuleGroup[]): Query[] {
    return groups.flatMap((group) =>
        group.rules.flatMap((rule): Query[] =>
            isAlert(rule)
                ? [
                      { where: `rule ${group.name} / ${rule.alert}`, expr: rule.expr },
                      ...rule.runbook.diagnosis.map((expr, i) => ({
                          where: `rule ${group.name} / ${rule.alert}, runbook query ${i + 1}`,
                          expr,
                      })),
                  ]
                : [{ where: `rule ${group.name} / record ${rule.record}`, expr: rule.expr }],
        ),
    );
}

/** Every panel of a dashboard, rows' collapsed panels included. */
function panelsOf(panels: readonly Values[]): Values[] {
    return panels.flatMap((panel) => [panel, ...panelsOf((panel.panels ?? []) as Values[])]);
}

/** The selector a Grafana query variable reads: `label_values(<selector>, label)`, `query_result(<expr>)`. */
function variableQuery(definition: string): string | undefined {
    const labelValues = /^\s*label_values\((.+),\s*[\w.]+\s*\)\s*$/s.exec(definition);
    if (labelValues !== null) return labelValues[1];
    return /^\s*query_result\((.+)\)\s*$/s.exec(definition)?.[1];
}

/** Every PromQL query of the dashboards that reads the metrics datasource, and its variables'. */
function dashboardQueries(dashboards: readonly StackDashboard[]): Query[] {
    return dashboards.flatMap((dashboard) => {
        const panels = panelsOf((dashboard.json.panels ?? []) as Values[]).flatMap((panel) =>
            ((panel.targets ?? []) as Values[])
                .filter((t) => (t.datasource?.uid ?? panel.datasource?.uid) === DATASOURCE_UIDS.metrics)
                .filter((t) => typeof t.expr === "string")
                .map((t) => ({ where: `dashboard ${dashboard.file} / ${panel.title} / ${t.refId}`, expr: t.expr })),
        );
        const variables = ((dashboard.json.templating?.list ?? []) as Values[])
            .filter((v) => v.type === "query" && v.datasource?.uid === DATASOURCE_UIDS.metrics)
            .flatMap((v) => {
                const definition = typeof v.query === "string" ? v.query : String(v.query?.query ?? v.definition);
                const expr = variableQuery(definition);
                return expr === undefined ? [] : [{ where: `dashboard ${dashboard.file} / variable ${v.name}`, expr }];
            });
        return [...panels, ...variables];
    });
}

/** Every query of the weekly report, timelines with sample values. */
function reportQueries(): Query[] {
    return [
        ...Object.entries(instantQueries(CERTIFICATE_EXPIRY_METRIC)).map(([id, q]) => ({
            where: `report instant query ${id}`,
            expr: q.expr,
        })),
        ...Object.entries(DAILY_QUERIES).map(([id, expr]) => ({ where: `report daily query ${id}`, expr })),
        ...Object.entries(TIMELINES).map(([id, timeline]) => ({
            where: `report timeline ${id}`,
            expr: timeline(["a", "b"]),
        })),
    ];
}

/** The metric queries Grafana's datasources link to (traces to metrics). */
function datasourceQueries(): Query[] {
    return (datasources(main) as Values[]).flatMap((ds) =>
        ((ds.jsonData?.tracesToMetrics?.queries ?? []) as Values[]).map((q) => ({
            where: `datasource ${ds.type} / tracesToMetrics ${q.name}`,
            expr: String(q.query),
        })),
    );
}

/** A query with Grafana's variables replaced by values Prometheus' grammar accepts. */
function substituteVariables(expr: string): string {
    return expr
        .replace(/\{\$__tags(?:,\s*)?/g, "{")
        .replace(/\$__(rate_interval|interval|auto|range)\b/g, "5m")
        .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, "x");
}

// ---------------------------------------------------------------------------------------------
// Metric names in PromQL

/** A PromQL string literal's value. */
function stringValue(literal: string): string {
    if (literal.startsWith("`")) return literal.slice(1, -1);
    if (literal.startsWith("'"))
        return JSON.parse(`"${literal.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"')}"`);
    return JSON.parse(literal) as string;
}

/**
 * Metric names selected by label matchers rather than by an identifier: `{"name"}`,
 * `{__name__="name"}` (exact) and `{__name__=~"re"}` (patterns). Negative matchers select no name.
 */
function nameMatchers(text: string): { exact: string[]; patterns: string[] } {
    const out = { exact: [] as string[], patterns: [] as string[] };
    const tree = promqlParser.parse(text);
    tree.iterate({
        enter: (node) => {
            if (node.name === "QuotedLabelName" && node.node.parent?.name === "LabelMatchers") {
                out.exact.push(stringValue(text.slice(node.from, node.to)));
            }
            if (node.name !== "UnquotedLabelMatcher" && node.name !== "QuotedLabelMatcher") return;
            const label = node.node.firstChild;
            const op = node.node.getChild("MatchOp");
            const value = node.node.getChild("StringLiteral");
            if (label === null || op === null || value === null) return;
            const labelText = text.slice(label.from, label.to);
            const name = label.name === "QuotedLabelName" ? stringValue(labelText) : labelText;
            if (name !== "__name__") return;
            const matched = stringValue(text.slice(value.from, value.to));
            const opText = text.slice(op.from, op.to);
            if (opText === "=") out.exact.push(matched);
            if (opText === "=~") out.patterns.push(matched);
        },
    });
    return out;
}

/**
 * Every string a regular expression made only of literals, groups and alternations matches, or
 * undefined for any other regular expression (a class, a wildcard, a repetition).
 */
function expandAlternation(re: string): string[] | undefined {
    let pos = 0;
    const alternatives = (): string[] | undefined => {
        let result: string[] = [];
        for (;;) {
            const sequence = concatenation();
            if (sequence === undefined) return undefined;
            result = [...result, ...sequence];
            if (re[pos] !== "|") return result;
            pos++;
        }
    };
    const concatenation = (): string[] | undefined => {
        let result = [""];
        while (pos < re.length && re[pos] !== "|" && re[pos] !== ")") {
            let part: string[] | undefined;
            const c = re[pos] as string;
            if (c === "(") {
                pos += re.startsWith("(?:", pos) ? 3 : 1;
                part = alternatives();
                if (re[pos] !== ")") return undefined;
                pos++;
            } else if (c === "\\") {
                const escaped = re[pos + 1];
                if (escaped === undefined || /[A-Za-z0-9]/.test(escaped)) return undefined;
                part = [escaped];
                pos += 2;
            } else if (/[A-Za-z0-9_:-]/.test(c)) {
                part = [c];
                pos++;
            } else {
                return undefined;
            }
            if (part === undefined || ["*", "+", "?", "{"].includes(re[pos] ?? "")) return undefined;
            result = result.flatMap((prefix) => (part as string[]).map((suffix) => prefix + suffix));
            if (result.length > 256) return undefined;
        }
        return result;
    };
    const expanded = alternatives();
    return expanded !== undefined && pos === re.length ? expanded : undefined;
}

/** What a query needs of the catalogue and the sources, as failure lines (empty when it has all). */
function queryProblems(
    query: Query,
    catalogue: ReadonlySet<string>,
    sources: Readonly<Record<string, MetricSource>>,
): string[] {
    const text = substituteVariables(query.expr);
    const parsed = parsePromql(text);
    if (parsed.errors > 0) return [`${query.where}: does not parse as PromQL: ${query.expr}`];
    const matchers = nameMatchers(text);
    const names = new Set([...parsed.metrics, ...matchers.exact]);
    const problems: string[] = [];
    for (const pattern of matchers.patterns) {
        const expanded = expandAlternation(pattern);
        if (expanded !== undefined) {
            for (const name of expanded) names.add(name);
            continue;
        }
        const anchored = new RegExp(`^(?:${pattern})$`);
        const matching = [...catalogue].filter((name) => anchored.test(name));
        if (matching.length === 0)
            problems.push(`${query.where}: {__name__=~"${pattern}"} matches no catalogued metric`);
        for (const name of matching) names.add(name);
    }
    for (const name of names) {
        if (!catalogue.has(name)) {
            problems.push(
                `${query.where}: ${name} is not in the metric catalogue (components/grafana/dashboards/metric-catalog.ts)`,
            );
        } else if (sources[name] === undefined) {
            problems.push(
                `${query.where}: ${name} has no source entry (components/grafana/dashboards/metric-sources.ts)`,
            );
        }
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Pins

type PinValue = { value: string } | { missing: string };

const CHART_VALUES = fixture("chart-values");

/** A dotted path into parsed values. */
function at(values: unknown, dotted: string): unknown {
    return dotted.split(".").reduce<unknown>((v, key) => (v as Values | undefined)?.[key], values);
}

/** The version of each subchart's default-values fixture (test/fixtures/chart-values/<chart>-<version>.json). */
function fixtureVersions(chart: string): string[] {
    const pattern = new RegExp(`^${chart.replace(/[-.]/g, "\\$&")}-(\\d[\\w.+-]*?)\\.json$`);
    return fs
        .readdirSync(CHART_VALUES)
        .filter((file) => !file.endsWith(".schema.json"))
        .flatMap((file) => pattern.exec(file)?.[1] ?? [])
        .sort();
}

/** The Kubernetes minors the desired state is checked against, from package.json's schema aliases. */
function kubernetesMinors(): string[] {
    const pkg = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as Values;
    const deps = { ...pkg.dependencies, ...pkg.devDependencies } as Record<string, string>;
    return Object.keys(deps)
        .flatMap((name) => /^kubernetes-models-(\d+\.\d+)$/.exec(name)?.[1] ?? [])
        .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/** What a pin holds in this repository now. */
function livePin(pin: Pin): PinValue {
    switch (pin.kind) {
        case "chart":
            return { value: charts[pin.chart].version };
        case "image":
            return { value: pin.image === "thanos" ? imageTag(images.thanos) : images.otelCollector.tag };
        case "chart default": {
            const { chart, version } = charts[pin.chart];
            const file = path.join(CHART_VALUES, `${chart}-${version}.json`);
            if (!fs.existsSync(file)) return { missing: `no default values of ${chart} ${version} in ${file}` };
            return { value: String(at(JSON.parse(fs.readFileSync(file, "utf8")), pin.path)) };
        }
        case "subchart":
            return { value: fixtureVersions(pin.chart).join(", ") };
        case "kubernetes":
            return { value: kubernetesMinors().join(", ") };
    }
}

/** The value a pin had when the producer was checked. */
function recordedPin(pin: Pin): string {
    switch (pin.kind) {
        case "chart":
            return pin.version;
        case "image":
            return pin.tag;
        case "chart default":
            return pin.value;
        case "subchart":
            return pin.version;
        case "kubernetes":
            return pin.minors.join(", ");
    }
}

function describePin(pin: Pin): string {
    switch (pin.kind) {
        case "chart":
            return `charts.${pin.chart}.version`;
        case "image":
            return `the tag of images.${pin.image}`;
        case "chart default":
            return `the default ${pin.path} of charts.${pin.chart}`;
        case "subchart":
            return `the ${pin.chart} subchart's default values in test/fixtures/chart-values`;
        case "kubernetes":
            return "the Kubernetes minors of package.json (kubernetes-models-<minor>)";
    }
}

/** Each pin whose value moved since its producer was checked, as a message saying what to do. */
function pinDrift(producers: Readonly<Record<string, Producer>>, live: (pin: Pin) => PinValue): string[] {
    return Object.entries(producers).flatMap(([id, producer]) =>
        producer.follows.flatMap((pin) => {
            const now = live(pin);
            const recorded = recordedPin(pin);
            if ("value" in now && now.value === recorded) return [];
            const found = "value" in now ? now.value : now.missing;
            return [
                `${producer.name} (${id}) follows ${describePin(pin)}: checked at ${recorded}, now ${found}. ` +
                    `Re-check ${producer.name}'s metric names at the new version, then record it in ` +
                    "components/grafana/dashboards/metric-sources.ts (the pin, `checked` and each entry's source)",
            ];
        }),
    );
}

// ---------------------------------------------------------------------------------------------
// Catalogue and sources

/** Catalogued names without a source entry, and entries whose name is no longer catalogued. */
function coverage(catalogue: ReadonlySet<string>, sources: Readonly<Record<string, MetricSource>>) {
    return {
        unsourced: [...catalogue].filter((name) => sources[name] === undefined).sort(),
        stale: Object.keys(sources)
            .filter((name) => !catalogue.has(name))
            .sort(),
    };
}

/** Entries attributed to a producer their catalogue group does not allow, or checked at another version. */
function attributionProblems(sources: Readonly<Record<string, MetricSource>>): string[] {
    const groups = Object.entries(METRIC_CATALOG) as [keyof typeof METRIC_CATALOG, readonly string[]][];
    return groups.flatMap(([group, names]) =>
        names.flatMap((name) => {
            const entry = sources[name];
            if (entry === undefined) return []; // reported by coverage()
            const allowed: readonly string[] = CATALOG_GROUP_PRODUCERS[group];
            const now = PRODUCERS[entry.producer].checked;
            return [
                ...(allowed.includes(entry.producer) ? [] : [`${name}: ${entry.producer} is not a ${group} producer`]),
                ...(entry.checked === now
                    ? []
                    : [`${name}: checked at ${entry.checked}, ${entry.producer} now at ${now}`]),
            ];
        }),
    );
}

/** The stack's own entries whose file is missing, or whose name no rule records or the remediator exposes. */
function stackProblems(
    sources: Readonly<Record<string, MetricSource>>,
    recorded: ReadonlySet<string>,
    exposed: ReadonlySet<string>,
): string[] {
    return Object.entries(sources).flatMap(([name, entry]) => {
        if (entry.producer !== "stack") return [];
        const found = entry.kind === "recording rule" ? recorded : exposed;
        return [
            ...(fs.existsSync(path.join(projectDir, entry.path)) ? [] : [`${name}: ${entry.path} does not exist`]),
            ...(found.has(name) ? [] : [`${name}: no ${entry.kind} defines it`]),
        ];
    });
}

const QUERIES = {
    rules: ruleQueries(RULE_GROUPS),
    dashboards: dashboardQueries(stackDashboards(main)),
    report: reportQueries(),
    datasources: datasourceQueries(),
};
const ALL_QUERIES = Object.values(QUERIES).flat();

describe("metric catalogue: what the stack reads", () => {
    it("finds the queries of every kind", () => {
        const { rules, dashboards, report, datasources: links } = QUERIES;
        assert.ok(rules.length >= 80, `only ${rules.length} rule queries`);
        assert.ok(dashboards.length >= 40, `only ${dashboards.length} dashboard queries`);
        assert.ok(report.length >= 30, `only ${report.length} report queries`);
        assert.ok(links.length >= 3, `only ${links.length} datasource queries`);
        // Recording rules, dashboard variables and report timelines are all walked.
        assert.ok(QUERIES.rules.some((q) => q.where.includes("/ record ")));
        assert.ok(QUERIES.dashboards.some((q) => q.where.includes("/ variable cluster")));
        assert.ok(QUERIES.report.some((q) => q.where.startsWith("report timeline ")));
    });

    it("reads only catalogued metrics that have a source entry", () => {
        // Each problem once: the same rule runs on main and on a sub cluster.
        assert.deepEqual([...new Set(ALL_QUERIES.flatMap((q) => queryProblems(q, STACK_METRICS, METRIC_SOURCES)))], []);
    });

    it("names the query and the metric when a name is not catalogued or has no source", () => {
        const catalogue = new Set(["known_total", "sourceless_total"]);
        const sources = { known_total: METRIC_SOURCES.up as MetricSource };
        assert.deepEqual(
            queryProblems(
                { where: "here", expr: "rate(made_up_total[5m]) / rate(known_total[5m])" },
                catalogue,
                sources,
            ),
            ["here: made_up_total is not in the metric catalogue (components/grafana/dashboards/metric-catalog.ts)"],
        );
        assert.deepEqual(queryProblems({ where: "here", expr: "sourceless_total" }, catalogue, sources), [
            "here: sourceless_total has no source entry (components/grafana/dashboards/metric-sources.ts)",
        ]);
        // Names in __name__ matchers and quoted selectors count too; negative matchers select nothing.
        assert.deepEqual(
            queryProblems(
                { where: "here", expr: 'sum(increase({__name__=~"known_total|other_(?:a|b)"}[1h]))' },
                catalogue,
                sources,
            ),
            [
                "here: other_a is not in the metric catalogue (components/grafana/dashboards/metric-catalog.ts)",
                "here: other_b is not in the metric catalogue (components/grafana/dashboards/metric-catalog.ts)",
            ],
        );
        assert.deepEqual(queryProblems({ where: "here", expr: '{"dotted.name"}' }, catalogue, sources), [
            "here: dotted.name is not in the metric catalogue (components/grafana/dashboards/metric-catalog.ts)",
        ]);
        assert.deepEqual(queryProblems({ where: "here", expr: '{"__name__"="other_c"}' }, catalogue, sources), [
            "here: other_c is not in the metric catalogue (components/grafana/dashboards/metric-catalog.ts)",
        ]);
        assert.deepEqual(queryProblems({ where: "here", expr: '{__name__!~"gone_.*"}' }, catalogue, sources), []);
        assert.deepEqual(queryProblems({ where: "here", expr: '{__name__=~"nothing_.+"}' }, catalogue, sources), [
            'here: {__name__=~"nothing_.+"} matches no catalogued metric',
        ]);
        // Grafana's variables are substituted before parsing; a broken query is reported, not skipped.
        assert.deepEqual(
            queryProblems(
                { where: "here", expr: 'rate(known_total{x=~"$cluster"}[$__rate_interval])' },
                catalogue,
                sources,
            ),
            [],
        );
        assert.match(
            queryProblems({ where: "here", expr: "sum(rate(x[5m])" }, catalogue, sources)[0] ?? "",
            /does not parse/,
        );
    });

    it("expands plain alternations of a __name__ regular expression, and only those", () => {
        assert.deepEqual(expandAlternation("otelcol_exporter_(?:send|enqueue)_failed_spans"), [
            "otelcol_exporter_send_failed_spans",
            "otelcol_exporter_enqueue_failed_spans",
        ]);
        assert.deepEqual(expandAlternation("a|b(c|d)"), ["a", "bc", "bd"]);
        assert.deepEqual(expandAlternation("a\\.b"), ["a.b"]);
        for (const re of ["a.*", "a+", "[ab]", "a(b", "a)b", "ab?", "a{2}", "\\d"]) {
            assert.equal(expandAlternation(re), undefined, re);
        }
    });
});

describe("metric catalogue: sources", () => {
    it("has a source entry for every catalogued name, and none for a name no longer catalogued", () => {
        assert.deepEqual(coverage(STACK_METRICS, METRIC_SOURCES), { unsourced: [], stale: [] });
        // Control: a new catalogued name and a removed one are both found.
        const catalogue = new Set([...STACK_METRICS].filter((name) => name !== "up"));
        catalogue.add("brand_new_total");
        assert.deepEqual(coverage(catalogue, METRIC_SOURCES), { unsourced: ["brand_new_total"], stale: ["up"] });
    });

    it("attributes each name to a producer of its catalogue group, checked at that producer's version", () => {
        assert.deepEqual(attributionProblems(METRIC_SOURCES), []);
        // Control: an entry under another group's producer, or checked at an older version, is found.
        const moved = { ...METRIC_SOURCES, up: { ...(METRIC_SOURCES.loki_discarded_samples_total as MetricSource) } };
        const loadavg = { repo: "github.com/prometheus/node_exporter", ref: "v1.11.0", path: "collector/loadavg.go" };
        const old = {
            ...METRIC_SOURCES,
            node_load1: { producer: "nodeExporter", checked: "v1.11.0", source: loadavg },
        } as const;
        assert.deepEqual(attributionProblems(moved), ["up: loki is not a prometheus producer"]);
        assert.deepEqual(attributionProblems(old), ["node_load1: checked at v1.11.0, nodeExporter now at v1.12.1"]);
    });

    it("cites each upstream name as a file of a GitHub repository at a tag or commit", () => {
        for (const [name, entry] of Object.entries(METRIC_SOURCES)) {
            if (entry.producer === "stack") continue;
            assert.match(entry.source.repo, /^github\.com\/[\w.-]+\/[\w.-]+$/, name);
            assert.match(entry.source.ref, /^[\w.+-]+$/, name);
            assert.match(entry.source.path, /^[\w.-]+(\/[\w.+-]+)*\.(go|rs|yaml)$/, name);
            assert.match(name, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/, name);
        }
    });

    it("finds the stack's own names where their entries say: recording rules, the remediator's families", () => {
        const recorded = new Set(RULE_GROUPS.flatMap((g) => g.rules.flatMap((r) => (isAlert(r) ? [] : [r.record]))));
        const exposed = new Set(
            remediatorRegistry()
                .render()
                .split("\n")
                .flatMap((line) => /^# TYPE (\S+) /.exec(line)?.[1] ?? []),
        );
        assert.ok(exposed.size >= 3 && recorded.size >= 20, `${exposed.size} families, ${recorded.size} records`);
        assert.deepEqual(stackProblems(METRIC_SOURCES, recorded, exposed), []);
        // Control: a recorded name the rules no longer write, and a file that does not exist, are found.
        const gone = {
            "gone:record:sum": {
                producer: "stack",
                checked: "this repository",
                kind: "recording rule",
                path: "components/alerting/rules/gone.ts",
            },
        } as const;
        assert.deepEqual(stackProblems(gone, recorded, exposed), [
            "gone:record:sum: components/alerting/rules/gone.ts does not exist",
            "gone:record:sum: no recording rule defines it",
        ]);
    });
});

describe("metric catalogue: pins", () => {
    it("checked every producer at the versions its pins hold now", () => {
        assert.deepEqual(pinDrift(PRODUCERS, livePin), []);
    });

    it("asks to re-check a producer's names when one of its pins moves", () => {
        const moved = (pin: Pin): PinValue =>
            pin.kind === "chart" && pin.chart === "loki" ? { value: "19.0.0" } : livePin(pin);
        assert.deepEqual(pinDrift(PRODUCERS, moved), [
            "Loki (loki) follows charts.loki.version: checked at 18.11.0, now 19.0.0. Re-check Loki's metric names " +
                "at the new version, then record it in components/grafana/dashboards/metric-sources.ts (the pin, `checked` and each entry's source)",
        ]);
        // A producer recorded at another version than the pin holds is caught the same way.
        const stale = {
            thanos: { ...PRODUCERS.thanos, follows: [{ kind: "image", image: "thanos", tag: "v0.41.0" }] },
        } as const;
        assert.match(
            pinDrift(stale, livePin)[0] ?? "",
            /^Thanos \(thanos\) follows the tag of images\.thanos: checked at v0\.41\.0, now v0\.42\.4\./,
        );
        // A default value read from a chart version without its fixture is reported, not taken as equal.
        const missing = (pin: Pin): PinValue =>
            pin.kind === "chart default" ? { missing: "no default values" } : livePin(pin);
        assert.ok(pinDrift(PRODUCERS, missing).some((m) => m.includes("now no default values")));
    });

    it("reads every pin kind from the repository", () => {
        assert.deepEqual(livePin({ kind: "kubernetes", minors: [] }), { value: "1.33, 1.34" });
        assert.deepEqual(livePin({ kind: "subchart", chart: "kube-state-metrics", version: "" }), { value: "8.4.0" });
        assert.deepEqual(
            livePin({
                kind: "chart default",
                chart: "kubePrometheusStack",
                path: "alertmanager.alertmanagerSpec.image.tag",
                value: "",
            }),
            { value: "v0.34.0" },
        );
    });

    it("follows or explains every pin of components/core/versions.ts", () => {
        const followed = new Set(
            Object.values(PRODUCERS).flatMap((p: Producer) =>
                p.follows.flatMap((pin) =>
                    pin.kind === "chart"
                        ? [`charts.${pin.chart}`]
                        : pin.kind === "image"
                          ? [`images.${pin.image}`]
                          : [],
                ),
            ),
        );
        const pins = [
            ...Object.keys(charts).map((c) => `charts.${c}`),
            ...Object.keys(images).map((i) => `images.${i}`),
        ];
        assert.deepEqual(
            pins.filter((pin) => !followed.has(pin) && UNFOLLOWED_PINS[pin] === undefined),
            [],
            "a pin no producer follows: follow it in PRODUCERS or say why in UNFOLLOWED_PINS",
        );
        assert.deepEqual(
            Object.keys(UNFOLLOWED_PINS).filter((pin) => !pins.includes(pin) || followed.has(pin)),
            [],
        );
    });
});
