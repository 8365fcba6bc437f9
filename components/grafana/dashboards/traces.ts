import {
    CLUSTER,
    DASHBOARD_UIDS,
    dashboardLink,
    graph,
    instantTable,
    panelLink,
    promql,
    row,
    serviceGraph,
    stackDashboard,
    TRACES_DS,
    traceTable,
} from "./common";

/**
 * The cluster variable as a regular expression for Tempo's queries: Grafana's `regex` format
 * (values escaped, several joined as `(a|b)`, "All" as the variable's all value), spelled out
 * because these strings are not PromQL the metrics datasource would format itself.
 */
const CLUSTER_REGEX = "${cluster:regex}";

/** Spans of requests a service serves (the metrics-generator's `span_kind`). */
const SERVED = 'span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER"';

/** Span metrics of served requests, per cluster and service (the `cluster` dimension). */
const requests = (extra = "") =>
    `sum by (cluster, service) (rate(traces_spanmetrics_calls_total{${CLUSTER}, ${SERVED}${extra}}[$__rate_interval]))`;

const REQUEST_RATE = requests();
/** Failed share of requests; 0, not nothing, for a service without failures. */
const ERROR_RATIO = `(${requests(', status_code="STATUS_CODE_ERROR"')} or 0 * ${REQUEST_RATE}) / ${REQUEST_RATE}`;
const P95 =
    "histogram_quantile(0.95, sum by (cluster, service, le) " +
    `(rate(traces_spanmetrics_latency_bucket{${CLUSTER}, ${SERVED}}[$__rate_interval])))`;

/** Placeholders in a link to Explore, filled by Grafana from the clicked table row and the time range. */
const LINK_FIELDS = {
    SERVICE_FIELD: "${__data.fields.service:percentencode}",
    CLUSTER_FIELD: "${__data.fields.cluster:percentencode}",
    RANGE_FROM: "${__from}",
    RANGE_TO: "${__to}",
} as const;

/**
 * A link to Explore, on the traces datasource, with a TraceQL search for the service and cluster
 * of the row clicked, over the dashboard's time range. Explore reads its state from the `panes`
 * parameter (JSON); the row's values are percent-encoded into it.
 */
export function exploreTracesUrl(extraCondition = ""): string {
    const query =
        '{ resource.service.name = "SERVICE_FIELD" && resource.cluster = "CLUSTER_FIELD" && kind = server' +
        `${extraCondition} }`;
    const panes = {
        traces: {
            datasource: TRACES_DS.uid,
            queries: [{ refId: "A", datasource: TRACES_DS, queryType: "traceql", query, limit: 20 }],
            range: { from: "RANGE_FROM", to: "RANGE_TO" },
        },
    };
    let encoded = encodeURIComponent(JSON.stringify(panes));
    for (const [placeholder, value] of Object.entries(LINK_FIELDS)) encoded = encoded.replaceAll(placeholder, value);
    return `/explore?schemaVersion=1&panes=${encoded}`;
}

/**
 * Traces: Tempo's service graph and RED per service from the span metrics of every cluster,
 * with links to the traces themselves.
 */
export function tracesDashboard() {
    return stackDashboard(
        DASHBOARD_UIDS.traces,
        "Traces",
        "Service graph, requests, errors and duration per service from span metrics, and traces to open.",
    )
        .link(dashboardLink("Fleet overview", DASHBOARD_UIDS.fleet, "Every cluster of the fleet"))
        .link(dashboardLink("Cluster drill-down", DASHBOARD_UIDS.cluster, "Nodes, workloads, pods, volumes"))
        .withRow(row("Service graph"))
        .withPanel(
            // Edges with either end in the selected clusters; a database or an uninstrumented
            // caller has no cluster of its own.
            serviceGraph("Service graph", [
                `{client_cluster=~"${CLUSTER_REGEX}"}`,
                `{server_cluster=~"${CLUSTER_REGEX}"}`,
            ]),
        )
        .withRow(row("Requests, errors, duration per service"))
        .withPanel(graph("Requests per service", "reqps", [promql(REQUEST_RATE, "{{cluster}} {{service}}")], 8))
        .withPanel(graph("Error ratio per service", "percentunit", [promql(ERROR_RATIO, "{{cluster}} {{service}}")], 8))
        .withPanel(graph("p95 duration per service", "s", [promql(P95, "{{cluster}} {{service}}")], 8))
        .withPanel(
            instantTable(
                "Services: rate, error ratio, p95 (links to their traces)",
                "short",
                [promql(REQUEST_RATE), promql(ERROR_RATIO), promql(P95)],
                24,
            )
                // The merged columns, named and each in its own unit.
                .overrideByName("Value #A", [
                    { id: "displayName", value: "Requests" },
                    { id: "unit", value: "reqps" },
                ])
                .overrideByName("Value #B", [
                    { id: "displayName", value: "Error ratio" },
                    { id: "unit", value: "percentunit" },
                ])
                .overrideByName("Value #C", [
                    { id: "displayName", value: "p95 duration" },
                    { id: "unit", value: "s" },
                ])
                .dataLinks([
                    panelLink("Traces of ${__data.fields.service}", exploreTracesUrl()),
                    panelLink("Failed traces of ${__data.fields.service}", exploreTracesUrl(" && status = error")),
                ]),
        )
        .withRow(row("Traces"))
        .withPanel(traceTable("Traces with errors", `{ resource.cluster =~ "${CLUSTER_REGEX}" && status = error }`))
        .withPanel(
            traceTable(
                "Served requests slower than 1 s",
                `{ resource.cluster =~ "${CLUSTER_REGEX}" && kind = server && duration > 1s }`,
            ),
        )
        .build();
}
