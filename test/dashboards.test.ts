import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { parser as logqlParser } from "@grafana/lezer-logql";
import { stringify } from "yaml";

import { DASHBOARD_LABEL, FOLDER_ANNOTATION, FOLDERS } from "../components/core/labels";
import { METRIC_CATALOG, STACK_METRICS, stackDashboards, type StackDashboard } from "../components/grafana/dashboards";
import { DATASOURCE_UIDS } from "../components/grafana/values";
import { LOKI_LABELS } from "../components/logs/values";
import { renderStack, type RenderResult } from "../render/render";
import { locateBinaries } from "./harness/processes";
import { projectDir, tempDir, testMain } from "./helpers";
import { parsePromql as parsePromqlText, type ParsedPromql } from "./promql";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- dashboard JSON

/**
 * The stack's dashboards, as built: every query parses (PromQL by promtool and by Prometheus'
 * own grammar, LogQL by Loki's grammar), names only metrics the stack produces and Loki labels
 * it sets, reads a provisioned datasource, and filters by the `cluster` variable.
 */

interface Query {
    dashboard: string;
    panel: string;
    datasource: string;
    expr: string;
}

/** Every query of a dashboard, with the datasource UID it reads. */
function queries(dashboard: StackDashboard): Query[] {
    const out: Query[] = [];
    for (const panel of (dashboard.json.panels ?? []) as Values[]) {
        for (const target of (panel.targets ?? []) as Values[]) {
            out.push({
                dashboard: dashboard.file,
                panel: String(panel.title),
                datasource: String(target.datasource?.uid ?? panel.datasource?.uid),
                expr: String(target.expr),
            });
        }
    }
    return out;
}

/** A query with Grafana's variables replaced by values a parser accepts. */
function substituteVariables(expr: string): string {
    return expr
        .replace(/\$__(rate_interval|interval|auto|range)\b/g, "5m")
        .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, "x");
}

/** A dashboard query parsed by Prometheus' grammar, Grafana's variables substituted first. */
function parsePromql(expr: string): ParsedPromql {
    return parsePromqlText(substituteVariables(expr));
}

function parseLogql(expr: string): { errors: number; labels: string[] } {
    const text = substituteVariables(expr);
    const cursor = logqlParser.parse(text).cursor();
    const result = { errors: 0, labels: [] as string[] };
    let inMatcher = false;
    do {
        if (cursor.type.isError) result.errors++;
        if (cursor.name === "Matcher") inMatcher = true;
        else if (cursor.name === "Identifier" && inMatcher) {
            result.labels.push(text.slice(cursor.from, cursor.to));
            inMatcher = false;
        }
    } while (cursor.next());
    return result;
}

/** Producers whose metrics come from every cluster: their queries must filter by `cluster`. */
const PER_CLUSTER = new Set<string>([
    ...METRIC_CATALOG.prometheus,
    ...METRIC_CATALOG.kubeStateMetrics,
    ...METRIC_CATALOG.cadvisor,
    ...METRIC_CATALOG.nodeExporter,
    ...METRIC_CATALOG.controlPlane,
    ...METRIC_CATALOG.vector,
    ...METRIC_CATALOG.collector,
]);

const dashboards = stackDashboards(testMain());
const all = dashboards.flatMap(queries);
const promqlQueries = all.filter((q) => q.datasource === DATASOURCE_UIDS.metrics);
const logqlQueries = all.filter((q) => q.datasource === DATASOURCE_UIDS.logs);

describe("dashboards: structure", () => {
    it("builds the fleet overview, pipeline health, Talos, cluster drill-down and traces dashboards, each with a fixed UID", () => {
        assert.deepEqual(
            dashboards.map((d) => [d.file, d.json.uid, d.folder]),
            [
                ["fleet-overview.json", "obs-fleet", FOLDERS.fleet],
                ["pipeline-health.json", "obs-pipeline", FOLDERS.fleet],
                ["talos.json", "obs-talos", FOLDERS.fleet],
                ["cluster.json", "obs-cluster", FOLDERS.fleet],
                ["traces.json", "obs-traces", FOLDERS.fleet],
            ],
        );
    });

    it("gives every dashboard a multi-value `cluster` variable read from the metrics datasource", () => {
        for (const d of dashboards) {
            const variable = ((d.json.templating?.list ?? []) as Values[]).find((v) => v.name === "cluster");
            assert.ok(variable, `${d.file} has no cluster variable`);
            assert.equal(variable.datasource.uid, DATASOURCE_UIDS.metrics);
            assert.equal(variable.multi, true);
            // "All" must not match the empty string: Loki refuses `{cluster=~".*"}`.
            assert.equal(variable.allValue, ".+");
            assert.match(variable.definition, /^label_values\(up, cluster\)$/);
        }
    });

    it("reads only provisioned datasources, by UID, with at least one query per panel", () => {
        const uids = new Set<string>(Object.values(DATASOURCE_UIDS));
        for (const q of all) assert.ok(uids.has(q.datasource), `${q.dashboard} / ${q.panel}: ${q.datasource}`);
        for (const d of dashboards) {
            for (const panel of (d.json.panels ?? []) as Values[]) {
                if (panel.type === "row") continue;
                assert.ok((panel.targets ?? []).length > 0, `${d.file} / ${panel.title} has no query`);
            }
        }
        assert.ok(promqlQueries.length >= 70, `only ${promqlQueries.length} PromQL queries`);
        assert.ok(logqlQueries.length >= 4, `only ${logqlQueries.length} LogQL queries`);
    });

    it("covers each signal's arrival, alerts and consumers on the fleet overview", () => {
        const fleet = all.filter((q) => q.dashboard === "fleet-overview.json").map((q) => q.expr);
        for (const needle of ["up{", "{cluster=~", "otelcol_exporter_sent_spans", "ALERTS{", "topk(10"]) {
            assert.ok(
                fleet.some((e) => e.includes(needle)),
                `the fleet overview has no query with ${needle}`,
            );
        }
    });
});

describe("dashboards: what the on-call opens first, linked from the fleet overview", () => {
    const byUid = (uid: string) => {
        const found = dashboards.find((d) => d.json.uid === uid);
        assert.ok(found, uid);
        return found;
    };
    const panelsOf = (uid: string) => (byUid(uid).json.panels ?? []) as Values[];
    const exprsOf = (uid: string) => all.filter((q) => q.dashboard === byUid(uid).file).map((q) => q.expr);

    it("links the fleet overview to the drill-down and the traces view, carrying the time range and `cluster`", () => {
        const links = (byUid("obs-fleet").json.links ?? []) as Values[];
        for (const uid of ["obs-cluster", "obs-traces"]) {
            const link = links.find((l) => l.url === `/d/${uid}`);
            assert.ok(link, `no header link to ${uid}`);
            assert.equal(link.type, "link");
            assert.equal(link.includeVars, true);
            assert.equal(link.keepTime, true);
            // Not hidden in the controls menu.
            assert.equal(link.placement, undefined);
        }
    });

    it("links each per-cluster series of the fleet overview to that cluster's drill-down or traces", () => {
        const dataLinks = panelsOf("obs-fleet").flatMap((p) =>
            ((p.fieldConfig?.defaults?.links ?? []) as Values[]).map((l): [string, string] => [
                String(p.title),
                String(l.url),
            ]),
        );
        const toCluster = dataLinks.filter(([, url]) => url.startsWith("/d/obs-cluster?var-cluster=${__"));
        const toTraces = dataLinks.filter(([, url]) =>
            url.startsWith("/d/obs-traces?var-cluster=${__field.labels.cluster}"),
        );
        assert.ok(toCluster.length >= 3, JSON.stringify(dataLinks));
        assert.deepEqual(
            toTraces.map(([title]) => title),
            ["Spans shipped per cluster"],
        );
        for (const [, url] of dataLinks) assert.ok(url.endsWith("&${__url_time_range}"), url);
        // Tables link by the row's field, series by their label.
        const table = dataLinks.find(([title]) => title === "Alerts firing by cluster and severity");
        assert.match(table?.[1] ?? "", /var-cluster=\$\{__data\.fields\.cluster\}/);
        const stat = panelsOf("obs-fleet").find((p) => p.title === "Nodes not ready");
        assert.match(String(stat?.links?.[0]?.url), /^\/d\/obs-cluster\?\$\{cluster:queryparam\}&/);
    });

    it("drills into one cluster: nodes, workloads, pods, volumes, control plane", () => {
        const rows = panelsOf("obs-cluster")
            .filter((p) => p.type === "row")
            .map((p) => p.title);
        assert.deepEqual(rows, ["Nodes", "Workloads", "Pods", "Volumes", "Control plane"]);
        const exprs = exprsOf("obs-cluster").join("\n");
        for (const needle of [
            'kube_node_status_condition{cluster=~"$cluster", condition="Ready", status="true"}',
            "node_cpu_seconds_total",
            "kube_deployment_spec_replicas",
            "kube_statefulset_status_replicas_ready",
            "kube_daemonset_status_number_ready",
            'phase="Pending"',
            'reason="CrashLoopBackOff"',
            "kube_pod_container_status_restarts_total",
            "kubelet_volume_stats_used_bytes",
            "kube_persistentvolumeclaim_status_phase",
            "apiserver|kube-scheduler|kube-controller-manager|kube-etcd",
            "etcd_server_has_leader",
        ]) {
            assert.ok(exprs.includes(needle), `the drill-down has no query with ${needle}`);
        }
    });

    it("shows traces: Tempo's service graph, RED per service from span metrics, traces to open", () => {
        const panels = panelsOf("obs-traces");
        const graph = panels.find((p) => p.type === "nodeGraph");
        assert.ok(graph, "no node graph");
        assert.equal(graph.datasource.uid, DATASOURCE_UIDS.traces);
        assert.equal(graph.targets[0].queryType, "serviceMap");
        assert.equal(graph.targets[0].datasource.uid, DATASOURCE_UIDS.traces);
        const exprs = exprsOf("obs-traces").join("\n");
        assert.ok(exprs.includes('traces_spanmetrics_calls_total{cluster=~"$cluster"'));
        assert.ok(exprs.includes('status_code="STATUS_CODE_ERROR"'));
        assert.ok(exprs.includes('traces_spanmetrics_latency_bucket{cluster=~"$cluster"'));
        const searches = panels.flatMap((p) => (p.targets ?? []) as Values[]).filter((t) => t.queryType === "traceql");
        assert.ok(searches.length >= 2);
        for (const t of searches) assert.equal(t.datasource.uid, DATASOURCE_UIDS.traces);
    });

    it("links the new dashboards back to the fleet overview", () => {
        for (const uid of ["obs-cluster", "obs-traces"]) {
            const links = (byUid(uid).json.links ?? []) as Values[];
            assert.ok(
                links.some((l) => l.url === "/d/obs-fleet" && l.includeVars === true),
                uid,
            );
        }
    });
});

describe("dashboards: PromQL", () => {
    it("parses every expression with Prometheus' grammar", () => {
        for (const q of promqlQueries) {
            assert.equal(parsePromql(q.expr).errors, 0, `${q.dashboard} / ${q.panel}: ${q.expr}`);
        }
        // Every panel title is unique within its dashboard: the data cases are keyed by it.
        for (const d of dashboards) {
            const titles = ((d.json.panels ?? []) as Values[]).filter((p) => p.type !== "row").map((p) => p.title);
            assert.equal(new Set(titles).size, titles.length, d.file);
        }
        // Control: the parser reports a broken expression.
        assert.ok(parsePromql("sum(rate(up[5m])").errors > 0);
    });

    it("names only metrics the stack produces (the catalog shared with the rules)", () => {
        const unknown = promqlQueries.flatMap((q) =>
            parsePromql(q.expr)
                .metrics.filter((m) => !STACK_METRICS.has(m))
                .map((m) => `${q.dashboard} / ${q.panel}: ${m}`),
        );
        assert.deepEqual(unknown, []);
        // Control: a metric outside the catalog is found.
        assert.deepEqual(parsePromql('rate(made_up_metric_total{cluster=~"$cluster"}[$__rate_interval])').metrics, [
            "made_up_metric_total",
        ]);
    });

    it("filters every per-cluster metric by the cluster variable", () => {
        const unfiltered: string[] = [];
        for (const q of promqlQueries) {
            for (const [metric, labels] of parsePromql(q.expr).matchers) {
                if (PER_CLUSTER.has(metric) && !labels.includes("cluster")) {
                    unfiltered.push(`${q.dashboard} / ${q.panel}: ${metric}`);
                }
            }
        }
        assert.deepEqual(unfiltered, []);
    });

    it("uses every catalog entry's spelling as Prometheus exposes it", () => {
        for (const name of STACK_METRICS) assert.match(name, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
        // Counters of the collector carry no `_total` at the pinned version; Tempo's receiver ones neither.
        assert.ok(
            STACK_METRICS.has("otelcol_exporter_sent_spans") && !STACK_METRICS.has("otelcol_exporter_sent_spans_total"),
        );
        assert.ok(STACK_METRICS.has("tempo_receiver_refused_spans"));
    });

    describe("promtool", () => {
        const work = tempDir("dashboards-promtool");
        let promtool: string;

        before(() => {
            promtool = locateBinaries(["promtool"], "dashboard queries are checked by promtool").promtool;
        });

        /** Each expression as a recording rule, which promtool parses with Prometheus' own parser. */
        const check = (exprs: readonly string[]) => {
            const file = path.join(work, `rules-${exprs.length}.yml`);
            const rules = exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: substituteVariables(expr) }));
            fs.writeFileSync(file, stringify({ groups: [{ name: "dashboards", rules }] }));
            return spawnSync(promtool, ["check", "rules", file], { encoding: "utf8" });
        };

        it("accepts every expression", () => {
            const result = check(promqlQueries.map((q) => q.expr));
            assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
            assert.match(result.stdout, new RegExp(`SUCCESS: ${promqlQueries.length} rules found`));
        });

        it("refuses a broken expression (control)", () => {
            const result = check(["sum by (cluster) (rate(up[5m])"]);
            assert.notEqual(result.status, 0);
        });
    });
});

describe("dashboards: LogQL", () => {
    it("parses every expression with Loki's grammar and selects only labels the agents set", () => {
        const labels = new Set<string>(LOKI_LABELS);
        for (const q of logqlQueries) {
            const parsed = parseLogql(q.expr);
            assert.equal(parsed.errors, 0, `${q.dashboard} / ${q.panel}: ${q.expr}`);
            assert.ok(parsed.labels.includes("cluster"), `${q.dashboard} / ${q.panel} does not select a cluster`);
            for (const label of parsed.labels) assert.ok(labels.has(label), `${q.panel}: label ${label}`);
        }
        // Control: the parser reports a broken selector.
        assert.ok(parseLogql('{cluster=~"x"').errors > 0);
    });
});

describe("dashboards: as the main stack declares them", () => {
    let result: RenderResult;

    before(async () => {
        result = await renderStack({ projectDir, stack: "main", preview: true });
    });

    it("puts each dashboard in a ConfigMap the sidecar loads, into its folder, as the JSON built", () => {
        const maps = result.records.filter(
            (r) =>
                r.type === "kubernetes:core/v1:ConfigMap" &&
                (r.inputs as Values).metadata.labels?.[DASHBOARD_LABEL.key] === DASHBOARD_LABEL.value,
        );
        assert.equal(maps.length, 5);
        for (const map of maps) {
            const inputs = map.inputs as Values;
            assert.equal(inputs.metadata.annotations[FOLDER_ANNOTATION], FOLDERS.fleet);
            const [file, json] = Object.entries(inputs.data as Record<string, string>)[0] ?? [];
            const built = dashboards.find((d) => d.file === file);
            assert.ok(built, `unexpected dashboard ${file}`);
            assert.deepEqual(JSON.parse(json ?? ""), JSON.parse(JSON.stringify(built.json)));
        }
    });

    it("shows each dashboard as its own JSON file in the render", () => {
        const files = [...result.files.keys()].filter((f) => f.startsWith("dashboards/"));
        assert.deepEqual(files.sort(), [
            "dashboards/cluster.json",
            "dashboards/fleet-overview.json",
            "dashboards/pipeline-health.json",
            "dashboards/talos.json",
            "dashboards/traces.json",
        ]);
        assert.equal(JSON.parse(result.files.get("dashboards/talos.json") ?? "{}").uid, "obs-talos");
    });

    it("has the kube-prometheus-stack ship its dashboards with a cluster variable, into their own folder", () => {
        const kps = result.records.find((r) => r.name === "main-metrics-kps");
        const grafana = (kps?.inputs as Values | undefined)?.values.grafana;
        assert.equal(grafana.enabled, false);
        assert.equal(grafana.forceDeployDashboards, true);
        assert.deepEqual(grafana.sidecar.dashboards.multicluster, {
            global: { enabled: true },
            etcd: { enabled: true },
        });
        assert.equal(grafana.sidecar.dashboards.label, DASHBOARD_LABEL.key);
        assert.equal(grafana.sidecar.dashboards.labelValue, DASHBOARD_LABEL.value);
        assert.deepEqual(grafana.sidecar.dashboards.annotations, { [FOLDER_ANNOTATION]: FOLDERS.kubernetes });
    });
});
