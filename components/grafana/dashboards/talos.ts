import { LOG_JOBS } from "../../logs/values";
import { CLUSTER, DASHBOARD_UIDS, graph, instantTable, logLines, logql, promql, row, stackDashboard } from "./common";

/** Jobs of the control plane as the kube-prometheus-stack scrapes them on Talos. */
export const CONTROL_PLANE_JOBS = "apiserver|kube-scheduler|kube-controller-manager|kube-etcd";

/**
 * Talos: the control plane (API server, scheduler, controller manager), etcd as a Talos
 * service, and the node services Talos runs outside Kubernetes, seen through their logs.
 */
export function talosDashboard() {
    return stackDashboard(
        DASHBOARD_UIDS.talos,
        "Talos clusters",
        "Control plane, etcd and Talos node services of every cluster.",
    )
        .withRow(row("Control plane"))
        .withPanel(
            instantTable("Control plane targets down", "none", [
                promql(`up{${CLUSTER}, job=~"${CONTROL_PLANE_JOBS}"} == 0`),
            ]),
        )
        .withPanel(
            graph("API server requests by code", "reqps", [
                promql(
                    `sum by (cluster, code) (rate(apiserver_request_total{${CLUSTER}}[$__rate_interval]))`,
                    "{{cluster}} {{code}}",
                ),
            ]),
        )
        .withPanel(
            graph("API server latency p99 (excluding watches)", "s", [
                promql(
                    "histogram_quantile(0.99, sum by (cluster, le) " +
                        `(rate(apiserver_request_duration_seconds_bucket{${CLUSTER}, verb!~"WATCH|CONNECT"}[$__rate_interval])))`,
                    "{{cluster}}",
                ),
            ]),
        )
        .withRow(row("etcd"))
        .withPanel(
            graph(
                "Members with a leader",
                "short",
                [promql(`sum by (cluster) (etcd_server_has_leader{${CLUSTER}})`, "{{cluster}}")],
                8,
            ),
        )
        .withPanel(
            graph(
                "Leader changes",
                "short",
                [
                    promql(
                        `sum by (cluster) (increase(etcd_server_leader_changes_seen_total{${CLUSTER}}[1h]))`,
                        "{{cluster}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Database size",
                "bytes",
                [
                    promql(
                        `max by (cluster, instance) (etcd_mvcc_db_total_size_in_bytes{${CLUSTER}})`,
                        "{{cluster}} {{instance}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph("WAL fsync p99", "s", [
                promql(
                    "histogram_quantile(0.99, sum by (cluster, instance, le) " +
                        `(rate(etcd_disk_wal_fsync_duration_seconds_bucket{${CLUSTER}}[$__rate_interval])))`,
                    "{{cluster}} {{instance}}",
                ),
            ]),
        )
        .withPanel(
            graph("Backend commit p99", "s", [
                promql(
                    "histogram_quantile(0.99, sum by (cluster, instance, le) " +
                        `(rate(etcd_disk_backend_commit_duration_seconds_bucket{${CLUSTER}}[$__rate_interval])))`,
                    "{{cluster}} {{instance}}",
                ),
            ]),
        )
        .withRow(row("Nodes"))
        .withPanel(
            graph(
                "EPHEMERAL (/var) free",
                "percentunit",
                [
                    promql(
                        `min by (cluster, instance) (node_filesystem_avail_bytes{${CLUSTER}, mountpoint="/var"}` +
                            ` / node_filesystem_size_bytes{${CLUSTER}, mountpoint="/var"})`,
                        "{{cluster}} {{instance}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Memory available",
                "percentunit",
                [
                    promql(
                        `min by (cluster, instance) (node_memory_MemAvailable_bytes{${CLUSTER}}` +
                            ` / node_memory_MemTotal_bytes{${CLUSTER}})`,
                        "{{cluster}} {{instance}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Clock offset",
                "s",
                [
                    promql(
                        `max by (cluster, instance) (abs(node_timex_offset_seconds{${CLUSTER}}))`,
                        "{{cluster}} {{instance}}",
                    ),
                ],
                8,
            ),
        )
        .withRow(row("Talos node services"))
        .withPanel(
            graph(
                "Service log lines by level",
                "short",
                [
                    logql(
                        `sum by (cluster, node, service, level) (count_over_time({${CLUSTER}, job="${LOG_JOBS.talos}", level=~"error|warn"} [$__auto]))`,
                        "{{cluster}} {{node}} {{service}} {{level}}",
                    ),
                ],
                24,
            ),
        )
        .withPanel(logLines("Service errors", `{${CLUSTER}, job="${LOG_JOBS.talos}", level="error"}`))
        .build();
}
