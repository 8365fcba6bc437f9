import {
    CLUSTER,
    clusterLink,
    DASHBOARD_UIDS,
    dashboardLink,
    graph,
    instantTable,
    logql,
    panelLink,
    promql,
    row,
    singleStat,
    stackDashboard,
} from "./common";

/**
 * Nodes whose Ready condition is not true (false or unknown): kube-state-metrics gives each node
 * one series per status of the condition, 1 for the current one, so a not-ready node is one
 * whose `status="true"` series is 0. Counted, not summed: the values kept are all 0.
 */
export const NODES_NOT_READY =
    `count(max by (cluster, node) (kube_node_status_condition{${CLUSTER}, condition="Ready", status="true"}) == 0)` +
    " or vector(0)";

/**
 * Fleet overview: is every cluster there, is each signal arriving from it, what is firing,
 * and who consumes the most.
 */
export function fleetDashboard() {
    return stackDashboard(
        DASHBOARD_UIDS.fleet,
        "Fleet overview",
        "Every cluster of the fleet: arrival of metrics, logs and traces, alerts firing, top consumers.",
    )
        .link(
            dashboardLink(
                "Cluster drill-down",
                DASHBOARD_UIDS.cluster,
                "Nodes, workloads, pods, volumes, control plane",
            ),
        )
        .link(dashboardLink("Traces", DASHBOARD_UIDS.traces, "Service graph, RED per service, traces"))
        .withRow(row("Clusters"))
        .withPanel(
            singleStat(
                "Clusters sending metrics",
                "none",
                promql(`count(count by (cluster) (up{${CLUSTER}}))`).instant(),
                1,
                true,
            ),
        )
        .withPanel(
            singleStat("Nodes not ready", "none", promql(NODES_NOT_READY).instant(), 1).links([
                panelLink(
                    "Cluster drill-down",
                    `/d/${DASHBOARD_UIDS.cluster}?\${cluster:queryparam}&\${__url_time_range}`,
                ),
            ]),
        )
        .withPanel(
            singleStat(
                "Critical alerts firing",
                "none",
                promql(`sum(ALERTS{${CLUSTER}, alertstate="firing", severity="critical"}) or vector(0)`).instant(),
                1,
            ),
        )
        .withPanel(
            singleStat(
                "Warnings firing",
                "none",
                promql(`sum(ALERTS{${CLUSTER}, alertstate="firing", severity="warning"}) or vector(0)`).instant(),
                1,
            ),
        )
        .withRow(row("Signals arriving"))
        .withPanel(
            // Series each cluster's Prometheus takes in per scrape, over all its targets: what it
            // ships to main (no write relabelling drops any).
            graph(
                "Metric series received per cluster",
                "short",
                [promql(`sum by (cluster) (scrape_samples_post_metric_relabeling{${CLUSTER}})`, "{{cluster}}")],
                8,
            ).dataLinks([clusterLink("Cluster drill-down", DASHBOARD_UIDS.cluster)]),
        )
        .withPanel(
            graph(
                "Log lines received per cluster",
                "short",
                [logql(`sum by (cluster) (count_over_time({${CLUSTER}} [$__auto]))`, "{{cluster}}")],
                8,
            ),
        )
        .withPanel(
            graph(
                "Spans shipped per cluster",
                "short",
                [
                    promql(
                        `sum by (cluster) (rate(otelcol_exporter_sent_spans{${CLUSTER}}[$__rate_interval]))`,
                        "{{cluster}}",
                    ),
                ],
                8,
            ).dataLinks([clusterLink("Traces of this cluster", DASHBOARD_UIDS.traces)]),
        )
        .withRow(row("Alerts"))
        .withPanel(
            instantTable(
                "Alerts firing by cluster and severity",
                "none",
                [promql(`sum by (cluster, severity, alertname) (ALERTS{${CLUSTER}, alertstate="firing"})`)],
                24,
            ).dataLinks([clusterLink("Cluster drill-down", DASHBOARD_UIDS.cluster, "row")]),
        )
        .withRow(row("Capacity and top consumers"))
        .withPanel(
            graph("CPU used / allocatable", "percentunit", [
                promql(
                    `sum by (cluster) (rate(container_cpu_usage_seconds_total{${CLUSTER}, container!=""}[$__rate_interval]))` +
                        ` / sum by (cluster) (kube_node_status_allocatable{${CLUSTER}, resource="cpu"})`,
                    "{{cluster}}",
                ),
            ]).dataLinks([clusterLink("Cluster drill-down", DASHBOARD_UIDS.cluster)]),
        )
        .withPanel(
            graph("Memory used / allocatable", "percentunit", [
                promql(
                    `sum by (cluster) (container_memory_working_set_bytes{${CLUSTER}, container!=""})` +
                        ` / sum by (cluster) (kube_node_status_allocatable{${CLUSTER}, resource="memory"})`,
                    "{{cluster}}",
                ),
            ]).dataLinks([clusterLink("Cluster drill-down", DASHBOARD_UIDS.cluster)]),
        )
        .withPanel(
            instantTable("Top 10 pods by CPU", "cores", [
                promql(
                    "topk(10, sum by (cluster, namespace, pod) " +
                        `(rate(container_cpu_usage_seconds_total{${CLUSTER}, container!=""}[5m])))`,
                ),
            ]),
        )
        .withPanel(
            instantTable("Top 10 pods by memory", "bytes", [
                promql(
                    "topk(10, sum by (cluster, namespace, pod) " +
                        `(container_memory_working_set_bytes{${CLUSTER}, container!=""}))`,
                ),
            ]),
        )
        .withPanel(
            instantTable(
                "Restarts in the last 24 hours",
                "none",
                [
                    promql(
                        "topk(10, sum by (cluster, namespace, pod) " +
                            `(increase(kube_pod_container_status_restarts_total{${CLUSTER}}[24h])) > 0)`,
                    ),
                ],
                24,
            ),
        )
        .build();
}
