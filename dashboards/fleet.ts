import { CLUSTER, graph, instantTable, logql, promql, row, singleStat, stackDashboard } from "./common";

/**
 * Fleet overview: is every cluster there, is each signal arriving from it, what is firing,
 * and who consumes the most.
 */
export function fleetDashboard() {
    return stackDashboard(
        "obs-fleet",
        "Fleet overview",
        "Every cluster of the fleet: arrival of metrics, logs and traces, alerts firing, top consumers.",
    )
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
            singleStat(
                "Nodes not ready",
                "none",
                promql(
                    `sum(kube_node_status_condition{${CLUSTER}, condition="Ready", status="true"} == 0) or vector(0)`,
                ).instant(),
                1,
            ),
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
            graph(
                "Metric series received per cluster",
                "short",
                [promql(`sum by (cluster) (count_over_time(up{${CLUSTER}}[$__interval]))`, "{{cluster}}")],
                8,
            ),
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
            ),
        )
        .withRow(row("Alerts"))
        .withPanel(
            instantTable(
                "Alerts firing by cluster and severity",
                "none",
                [promql(`sum by (cluster, severity, alertname) (ALERTS{${CLUSTER}, alertstate="firing"})`)],
                24,
            ),
        )
        .withRow(row("Capacity and top consumers"))
        .withPanel(
            graph("CPU used / allocatable", "percentunit", [
                promql(
                    `sum by (cluster) (rate(container_cpu_usage_seconds_total{${CLUSTER}, container!=""}[$__rate_interval]))` +
                        ` / sum by (cluster) (kube_node_status_allocatable{${CLUSTER}, resource="cpu"})`,
                    "{{cluster}}",
                ),
            ]),
        )
        .withPanel(
            graph("Memory used / allocatable", "percentunit", [
                promql(
                    `sum by (cluster) (container_memory_working_set_bytes{${CLUSTER}, container!=""})` +
                        ` / sum by (cluster) (kube_node_status_allocatable{${CLUSTER}, resource="memory"})`,
                    "{{cluster}}",
                ),
            ]),
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
