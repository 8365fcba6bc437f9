import * as common from "@grafana/grafana-foundation-sdk/common";
import {
    DashboardBuilder,
    DashboardCursorSync,
    QueryVariableBuilder,
    RowBuilder,
    ThresholdsConfigBuilder,
    ThresholdsMode,
    VariableRefresh,
    VariableSort,
    type Dashboard,
} from "@grafana/grafana-foundation-sdk/dashboard";
import * as loki from "@grafana/grafana-foundation-sdk/loki";
import * as logs from "@grafana/grafana-foundation-sdk/logs";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";

import { DATASOURCE_UIDS } from "../components/grafana-values";

/**
 * Building blocks of the stack's dashboards, over the Grafana Foundation SDK: every panel
 * reads one of the provisioned datasources by its fixed UID, and every dashboard filters by the
 * `cluster` variable.
 */

export const METRICS_DS = { type: "prometheus", uid: DATASOURCE_UIDS.metrics } as const;
export const LOGS_DS = { type: "loki", uid: DATASOURCE_UIDS.logs } as const;

/** The selector every query of a cluster-scoped panel carries. */
export const CLUSTER = 'cluster=~"$cluster"';

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
                .allValue(".*"),
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

type Target = prometheus.DataqueryBuilder | loki.DataqueryBuilder;

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

/** A table of instant results, one row per series. */
export function instantTable(title: string, unit: string, targets: readonly prometheus.DataqueryBuilder[], span = 12) {
    return new table.PanelBuilder()
        .title(title)
        .unit(unit)
        .height(8)
        .span(span)
        .targets(refIds(targets.map((t) => t.instant().format(prometheus.PromQueryFormat.Table))));
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
