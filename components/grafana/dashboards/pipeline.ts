import { CLUSTER, DASHBOARD_UIDS, graph, logLines, promql, row, stackDashboard } from "./common";

/**
 * Pipeline health: each hop a signal takes from a cluster to main, its backlog and its errors.
 * Senders (Prometheus, Vector, the trace gateway) run on every cluster; receivers (Thanos
 * Receive, Loki, Tempo) on main.
 */
export function pipelineDashboard(namespace: string) {
    const rate = (metric: string, by: string, extra = "") =>
        `sum by (${by}) (rate(${metric}{${CLUSTER}${extra}}[$__rate_interval]))`;
    return stackDashboard(
        DASHBOARD_UIDS.pipeline,
        "Pipeline health",
        "Remote-write lag and failures, log agent buffers and errors, trace gateway queues, ingest on main.",
    )
        .withRow(row("Metrics: remote-write from each cluster"))
        .withPanel(
            graph(
                "Remote-write lag",
                "s",
                [
                    promql(
                        `max by (cluster) (prometheus_remote_storage_queue_highest_timestamp_seconds{${CLUSTER}}` +
                            ` - prometheus_remote_storage_queue_highest_sent_timestamp_seconds{${CLUSTER}})`,
                        "{{cluster}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Samples failed, retried, dropped",
                "short",
                [
                    promql(rate("prometheus_remote_storage_samples_failed_total", "cluster"), "{{cluster}} failed"),
                    promql(rate("prometheus_remote_storage_samples_retried_total", "cluster"), "{{cluster}} retried"),
                    promql(
                        rate("prometheus_remote_storage_samples_dropped_total", "cluster, reason"),
                        "{{cluster}} dropped ({{reason}})",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Samples pending",
                "short",
                [promql(`sum by (cluster) (prometheus_remote_storage_samples_pending{${CLUSTER}})`, "{{cluster}}")],
                8,
            ),
        )
        .withPanel(
            graph("Thanos Receive answers by code", "reqps", [
                promql('sum by (code) (rate(http_requests_total{handler="receive"}[$__rate_interval]))', "{{code}}"),
            ]),
        )
        .withPanel(
            graph("Receive replication errors", "short", [
                promql('sum (rate(thanos_receive_replications_total{result="error"}[$__rate_interval]))', "errors"),
            ]),
        )
        .withRow(row("Logs: Vector agents on every node"))
        .withPanel(
            graph(
                "Disk buffer fill",
                "percentunit",
                [
                    promql(
                        `max by (cluster, host) (vector_buffer_size_bytes{${CLUSTER}, component_id="main"}` +
                            ` / vector_buffer_max_size_bytes{${CLUSTER}, component_id="main"})`,
                        "{{cluster}} {{host}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Agent errors by component",
                "short",
                [
                    promql(
                        rate("vector_component_errors_total", "cluster, component_id, error_type"),
                        "{{cluster}} {{component_id}} {{error_type}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Events discarded",
                "short",
                [
                    promql(
                        rate("vector_buffer_discarded_events_total", "cluster, intentional"),
                        "{{cluster}} intentional={{intentional}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Loki lines received by tenant",
                "short",
                [
                    promql(
                        "sum by (tenant) (rate(loki_distributor_lines_received_total[$__rate_interval]))",
                        "{{tenant}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Loki samples discarded",
                "short",
                [
                    promql(
                        "sum by (tenant, reason) (rate(loki_discarded_samples_total[$__rate_interval]))",
                        "{{tenant}} {{reason}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Loki push latency p99",
                "s",
                [
                    promql(
                        "histogram_quantile(0.99, sum by (le) " +
                            '(rate(loki_request_duration_seconds_bucket{route=~"loki_api_v1_push|otlp_v1_logs"}[$__rate_interval])))',
                        "p99",
                    ),
                ],
                8,
            ),
        )
        .withRow(row("Traces: gateway on every cluster, Tempo on main"))
        .withPanel(
            graph(
                "Gateway queue fill",
                "percentunit",
                [
                    promql(
                        `max by (cluster, pod) (otelcol_exporter_queue_size{${CLUSTER}}` +
                            ` / otelcol_exporter_queue_capacity{${CLUSTER}})`,
                        "{{cluster}} {{pod}}",
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Gateway spans failed or refused",
                "short",
                [
                    promql(rate("otelcol_exporter_send_failed_spans", "cluster"), "{{cluster}} send failed"),
                    promql(rate("otelcol_exporter_enqueue_failed_spans", "cluster"), "{{cluster}} enqueue failed"),
                    promql(rate("otelcol_receiver_refused_spans", "cluster"), "{{cluster}} refused"),
                ],
                8,
            ),
        )
        .withPanel(
            graph(
                "Tempo spans received, refused, discarded",
                "short",
                [
                    promql("sum (rate(tempo_distributor_spans_received_total[$__rate_interval]))", "received"),
                    promql("sum (rate(tempo_receiver_refused_spans[$__rate_interval]))", "refused"),
                    promql(
                        "sum by (reason) (rate(tempo_discarded_spans_total[$__rate_interval]))",
                        "discarded ({{reason}})",
                    ),
                ],
                8,
            ),
        )
        .withRow(row("The stack's own error logs"))
        .withPanel(logLines("Errors logged by the stack", `{${CLUSTER}, namespace="${namespace}", level="error"}`))
        .build();
}
