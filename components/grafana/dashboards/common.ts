import * as common from "@grafana/grafana-foundation-sdk/common";
import {
    DashboardBuilder,
    DashboardCursorSync,
    DashboardLinkBuilder,
    DashboardLinkType,
    QueryVariableBuilder,
    RowBuilder,
    ThresholdsConfigBuilder,
    ThresholdsMode,
    VariableRefresh,
    VariableSort,
    type Dashboard,
    type DashboardLink,
} from "@grafana/grafana-foundation-sdk/dashboard";
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as loki from "@grafana/grafana-foundation-sdk/loki";
import * as logs from "@grafana/grafana-foundation-sdk/logs";
import * as nodegraph from "@grafana/grafana-foundation-sdk/nodegraph";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as tempo from "@grafana/grafana-foundation-sdk/tempo";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";

import { DATASOURCE_UIDS } from "../values";

/**
 * Building blocks of the stack's dashboards, over the Grafana Foundation SDK: every panel
 * reads one of the provisioned datasources by its fixed UID, and every dashboard filters by the
 * `cluster` variable.
 */

export const METRICS_DS = { type: "prometheus", uid: DATASOURCE_UIDS.metrics } as const;
export const LOGS_DS = { type: "loki", uid: DATASOURCE_UIDS.logs } as const;
export const TRACES_DS = { type: "tempo", uid: DATASOURCE_UIDS.traces } as const;

/** The selector every query of a cluster-scoped panel carries. */
export const CLUSTER = 'cluster=~"$cluster"';

/**
 * What `$cluster` becomes when "All" is selected. Loki refuses a stream selector none of whose
 * matchers rejects the empty string (`{cluster=~".*"}` is an error, `{cluster=~".+"}` is not),
 * so the value must not match "". In PromQL it keeps every series that has a cluster label,
 * which every per-cluster series has (external labels, span metrics' dimension).
 */
export const CLUSTER_ALL_VALUE = ".+";

/** The stack's dashboards by UID, for links between them. */
export const DASHBOARD_UIDS = {
    fleet: "obs-fleet",
    pipeline: "obs-pipeline",
    talos: "obs-talos",
    cluster: "obs-cluster",
    traces: "obs-traces",
} as const;

/** A dashboard of the stack: fixed UID, tagged, the `cluster` variable first. */
export function stackDashboard(uid: string, title: string, description: string): DashboardBuilder {
    return new DashboardBuilder(title)
        .uid(uid)
        .description(description)
        .tags(["observability"])
        .readonly()
        .refresh("1m")
        .time({ from: "now-6h", to: "now" })
        .timezone("utc")
        .tooltip(DashboardCursorSync.Crosshair)
        .withVariable(
            new QueryVariableBuilder("cluster")
                .label("Cluster")
                .datasource(METRICS_DS)
                .query({ query: "label_values(up, cluster)", refId: "cluster" })
                .definition("label_values(up, cluster)")
                .refresh(VariableRefresh.OnTimeRangeChanged)
                .sort(VariableSort.NaturalAsc)
                .multi(true)
                .includeAll(true)
                .allValue(CLUSTER_ALL_VALUE),
        );
}

/** A PromQL target. */
export function promql(expr: string, legend = "__auto"): prometheus.DataqueryBuilder {
    return new prometheus.DataqueryBuilder().datasource(METRICS_DS).expr(expr).legendFormat(legend).refId("A");
}

/** A LogQL target. */
export function logql(expr: string, legend = ""): loki.DataqueryBuilder {
    return new loki.DataqueryBuilder().datasource(LOGS_DS).expr(expr).legendFormat(legend).refId("A");
}

/** A Tempo target: a TraceQL search, or the service graph Grafana builds from the metrics store. */
export function traceql(query: string, limit = 20): tempo.DataqueryBuilder {
    return new tempo.DataqueryBuilder()
        .datasource(TRACES_DS)
        .queryType(tempo.TempoQueryType.Traceql)
        .query(query)
        .limit(limit)
        .tableType(tempo.SearchTableType.Traces)
        .refId("A");
}

type Target = prometheus.DataqueryBuilder | loki.DataqueryBuilder | tempo.DataqueryBuilder;

/** Targets lettered A, B, C… in panel order. */
const refIds = (targets: readonly Target[]): Target[] => targets.map((t, i) => t.refId(String.fromCharCode(65 + i)));

/** A time series panel, half the width by default. */
export function graph(title: string, unit: string, targets: readonly Target[], span = 12) {
    return new timeseries.PanelBuilder()
        .title(title)
        .unit(unit)
        .height(8)
        .span(span)
        .targets(refIds(targets))
        .legend(
            new common.VizLegendOptionsBuilder()
                .showLegend(true)
                .displayMode(common.LegendDisplayMode.Table)
                .placement(common.LegendPlacement.Bottom)
                .calcs(["lastNotNull", "max"]),
        );
}

/** A single-value panel, red from `red` upwards (or downwards when `lowIsBad`). */
export function singleStat(title: string, unit: string, target: Target, red: number, lowIsBad = false, span = 6) {
    // The first step has no lower bound: Grafana's JSON spells it null.
    const base = null as unknown as number;
    const steps = lowIsBad
        ? [
              { value: base, color: "red" },
              { value: red, color: "green" },
          ]
        : [
              { value: base, color: "green" },
              { value: red, color: "red" },
          ];
    return new stat.PanelBuilder()
        .title(title)
        .unit(unit)
        .height(4)
        .span(span)
        .targets(refIds([target]))
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps));
}

/**
 * A table of instant results, one row per series. Several targets are merged into one row per
 * label set (their values as columns `Value #A`, `Value #B`…).
 */
export function instantTable(title: string, unit: string, targets: readonly prometheus.DataqueryBuilder[], span = 12) {
    const panel = new table.PanelBuilder()
        .title(title)
        .unit(unit)
        .height(8)
        .span(span)
        .targets(refIds(targets.map((t) => t.instant().format(prometheus.PromQueryFormat.Table))));
    return targets.length > 1 ? panel.withTransformation({ id: "merge", options: {} }) : panel;
}

/** A table of traces found by a TraceQL search; each trace ID opens the trace. */
export function traceTable(title: string, query: string, span = 12) {
    return new table.PanelBuilder()
        .title(title)
        .height(8)
        .span(span)
        .targets([traceql(query)]);
}

/**
 * Tempo's service graph: Grafana queries the metrics store for the metrics-generator's
 * `traces_service_graph_*` series, filtered by each selector of `selectors` (their results
 * joined with `OR`), and draws the nodes and edges.
 */
export function serviceGraph(title: string, selectors: readonly string[], span = 24) {
    return new nodegraph.PanelBuilder()
        .title(title)
        .height(12)
        .span(span)
        .datasource(TRACES_DS)
        .targets([
            new tempo.DataqueryBuilder()
                .datasource(TRACES_DS)
                .queryType(tempo.TempoQueryType.ServiceMap)
                .serviceMapQuery([...selectors])
                .refId("A"),
        ]);
}

/** A link in the dashboard's header to another of the stack's dashboards, carrying the time range and `cluster`. */
export function dashboardLink(title: string, uid: string, tooltip: string): cog.Builder<DashboardLink> {
    const builder = new DashboardLinkBuilder(title)
        .type(DashboardLinkType.Link)
        .url(`/d/${uid}`)
        .icon("dashboard")
        .tooltip(tooltip)
        .includeVars(true)
        .keepTime(true)
        .asDropdown(false)
        .targetBlank(false);
    // The SDK defaults `placement` to the controls menu, which hides the link in a dropdown.
    return {
        build: () => {
            const link = builder.build();
            delete link.placement;
            return link;
        },
    };
}

/**
 * A panel link or data link: Grafana keeps `title`, `url` and `targetBlank` of these (the SDK
 * types them as dashboard links, whose other fields mean nothing here).
 */
export function panelLink(title: string, url: string): cog.Builder<DashboardLink> {
    return { build: () => ({ title, url, targetBlank: false }) as DashboardLink };
}

/**
 * A data link to another dashboard for the one cluster a series (`labels`) or a table row
 * (`row`) belongs to, over the same time range.
 */
export function clusterLink(title: string, uid: string, from: "labels" | "row" = "labels") {
    const cluster = from === "labels" ? "${__field.labels.cluster}" : "${__data.fields.cluster}";
    return panelLink(title, `/d/${uid}?var-cluster=${cluster}&\${__url_time_range}`);
}

/** A panel of log lines. */
export function logLines(title: string, expr: string, span = 24) {
    return new logs.PanelBuilder()
        .title(title)
        .height(10)
        .span(span)
        .targets([logql(expr)])
        .showTime(true)
        .wrapLogMessage(true)
        .sortOrder(common.LogsSortOrder.Descending);
}

export const row = (title: string) => new RowBuilder(title);

/** A built dashboard, as the JSON Grafana provisions. */
export type DashboardJson = Dashboard;
