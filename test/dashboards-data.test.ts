import * as assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { parser as logqlParser } from "@grafana/lezer-logql";

import { STACK_METRICS, stackDashboards, type StackDashboard } from "../components/grafana/dashboards";
import { DATASOURCE_UIDS } from "../components/grafana/values";
import { LOKI_LABELS } from "../components/logs/values";
import { clusterAttributes, GENERATOR_DIMENSIONS, tempoConfig } from "../components/traces/values";
import {
    createBlocks,
    OpenMetricsWriter,
    queryInstant,
    queryRange,
    startPrometheusOnData,
    stopPrometheus,
    type Labels,
    type MatrixSeries,
    type PrometheusOnData,
    type VectorSample,
} from "./harness/backfill";
import { tempDir, testMain } from "./helpers";
import { parsePromql } from "./promql";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- dashboard JSON

/**
 * The dashboards proven on data. Every PromQL query of every panel has its variables replaced
 * as Grafana replaces them, for "All" and for chosen clusters, runs against a real Prometheus
 * on 127.0.0.1 that holds synthetic series, and must give the answer worked out by hand from
 * those series (written next to each case). Tempo's service graph is run as the queries Grafana
 * sends the metrics store for it. LogQL has no engine here (Loki is not packaged): each query is
 * held to Loki's rule for stream selectors and to the labels the agents set; TraceQL to the
 * attributes the trace gateway stamps.
 */

// --- Grafana's variables ----------------------------------------------------------------------

/** Clusters of the synthetic fleet, and the selections each query is run for. */
const CLUSTERS = ["main", "sub-1", "sub-2"] as const;
const SELECTIONS = { all: "All", one: ["sub-1"], two: ["main", "sub-2"] } as const;
type SelectionName = keyof typeof SELECTIONS;
type Selection = "All" | readonly string[];

/**
 * Grafana's built-in intervals for the panel range the tests use: the last 30 minutes at a 60 s
 * step. `$__interval` is the step (`$__auto` in Loki's queries); `$__rate_interval` is
 * max(`$__interval` + scrape interval, 4 × scrape interval) with the metrics datasource's 30 s
 * `timeInterval`, so 2m; `$__range` is the panel's range in seconds.
 */
const RANGE_SECONDS = 30 * 60;
const STEP_SECONDS = 60;
const BUILT_INS: Record<string, string> = {
    __interval: "1m",
    __auto: "1m",
    __rate_interval: "2m",
    __range: `${RANGE_SECONDS}s`,
};

/**
 * `$cluster` as Grafana writes it into a query. "All" becomes the variable's custom all value,
 * verbatim whatever the format. Chosen values are regex-escaped (the Prometheus and Loki
 * datasources' own formatting, and the `regex` format) and several are joined as `(a|b)`;
 * cluster names are DNS labels, which escaping leaves as they are, so the model refuses any
 * other name rather than guess an escaping.
 */
function clusterValue(selection: Selection, allValue: string, format: string | undefined): string {
    if (format !== undefined && format !== "regex") throw new Error(`\${cluster:${format}} is not modelled`);
    if (selection === "All") return allValue;
    for (const name of selection) {
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new Error(`cluster name ${name} is not a DNS label`);
    }
    return selection.length === 1 ? String(selection[0]) : `(${selection.join("|")})`;
}

/** A query with every variable replaced; an unknown variable is an error, not left in place. */
function interpolate(text: string, selection: Selection, allValue: string): string {
    return text.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g, (whole, braced?: string, format?: string, bare?: string) => {
        const name = braced ?? bare ?? "";
        if (name === "cluster") return clusterValue(selection, allValue, format);
        const builtIn = BUILT_INS[name];
        if (builtIn === undefined || format !== undefined)
            throw new Error(`${whole} is not a variable of the dashboards`);
        return builtIn;
    });
}

// --- the dashboards' queries ------------------------------------------------------------------

interface Target {
    dashboard: string;
    panel: string;
    refId: string;
    datasource: string;
    instant: boolean;
    json: Values;
    /** The cluster variable's all value, from the dashboard's own templating. */
    allValue: string;
}

const dashboards = stackDashboards(testMain());

function targets(dashboard: StackDashboard): Target[] {
    const variable = ((dashboard.json.templating?.list ?? []) as Values[]).find((v) => v.name === "cluster");
    const allValue = String(variable?.allValue);
    return ((dashboard.json.panels ?? []) as Values[]).flatMap((panel) =>
        ((panel.targets ?? []) as Values[]).map((target) => ({
            dashboard: String(dashboard.json.uid),
            panel: String(panel.title),
            refId: String(target.refId),
            datasource: String(target.datasource?.uid ?? panel.datasource?.uid),
            instant: target.instant === true,
            json: target,
            allValue,
        })),
    );
}

const allTargets = dashboards.flatMap(targets);
const keyOf = (t: { dashboard: string; panel: string; refId: string }) => `${t.dashboard} / ${t.panel} / ${t.refId}`;

// --- synthetic series -------------------------------------------------------------------------

/** The instant every query is evaluated at (instant) or ends at (range). */
const END = Date.UTC(2025, 2, 3, 12, 0, 0) / 1000;
const SCRAPE_SECONDS = 30;
/** Most series start two hours before the end; those read over a day start 26 hours before. */
const RECENT = END - 2 * 3600;
const DAY_AGO = END - 26 * 3600;

type Value = (t: number) => number;
const constant =
    (v: number): Value =>
    () =>
        v;
/** A counter growing by `perSecond` from 0 at `from`. */
const growing =
    (perSecond: number, from = RECENT): Value =>
    (t) =>
        perSecond * (t - from);
/** A counter stepping up by one every `period` seconds from `from`. */
const stepping =
    (period: number, from = RECENT): Value =>
    (t) =>
        Math.floor((t - from) / period);
/** A counter stepping up by one at each of `times`. */
const steppedAt =
    (times: readonly number[]): Value =>
    (t) =>
        times.filter((s) => s <= t).length;

interface Series {
    labels: Labels;
    value: Value;
    from: number;
}
const FAMILIES = new Map<string, Series[]>();

function series(name: string, labels: Labels, value: Value, from = RECENT): void {
    const list = FAMILIES.get(name) ?? [];
    list.push({ labels, value, from });
    FAMILIES.set(name, list);
}

/** Buckets of a histogram whose cumulative counts grow by `perSecond[i]` for `le[i]`. */
function histogram(name: string, labels: Labels, les: readonly string[], perSecond: readonly number[]): void {
    les.forEach((le, i) => series(`${name}_bucket`, { ...labels, le }, growing(perSecond[i] ?? NaN)));
}

// Targets: `up` per cluster. main 7 targets, sub-1 5 (the scheduler down), sub-2 6 (one etcd down).
const controlPlane = (cluster: string, ip: string, etcd: readonly [string, number][], scheduler = 1) => {
    series("up", { cluster, job: "apiserver", instance: `${ip}1:6443` }, constant(1));
    series("up", { cluster, job: "kube-scheduler", instance: `${ip}1:10259` }, constant(scheduler));
    series("up", { cluster, job: "kube-controller-manager", instance: `${ip}1:10257` }, constant(1));
    for (const [host, up] of etcd)
        series("up", { cluster, job: "kube-etcd", instance: `${ip}${host}:2381` }, constant(up));
};
controlPlane("main", "10.0.0.", [
    ["1", 1],
    ["2", 1],
    ["3", 1],
]);
series("up", { cluster: "main", job: "node-exporter", instance: "10.0.0.1:9100" }, constant(1));
controlPlane("sub-1", "10.1.0.", [["1", 1]], 0);
series("up", { cluster: "sub-1", job: "node-exporter", instance: "10.1.0.1:9100" }, constant(1));
controlPlane("sub-2", "10.2.0.", [
    ["1", 1],
    ["2", 1],
    ["3", 0],
]);

// Series taken in per scrape: main 1000 + 500 + 250, sub-1 800 + 200, sub-2 300.
for (const [cluster, job, samples] of [
    ["main", "kube-state-metrics", 1000],
    ["main", "kubelet", 500],
    ["main", "node-exporter", 250],
    ["sub-1", "kube-state-metrics", 800],
    ["sub-1", "kubelet", 200],
    ["sub-2", "kubelet", 300],
] as const) {
    series("scrape_samples_post_metric_relabeling", { cluster, job, instance: `${job}:8080` }, constant(samples));
}

// Nodes: main m1–m3 Ready; sub-1 s1a Ready, s1b Ready=false, s1c Ready=unknown; sub-2 s2a, s2b Ready.
// kube-state-metrics writes one series per status, 1 for the current one.
const NODES: [string, string, "true" | "false" | "unknown", number, number][] = [
    // cluster, node, Ready status, allocatable CPU, allocatable memory
    ["main", "m1", "true", 4, 8e9],
    ["main", "m2", "true", 4, 8e9],
    ["main", "m3", "true", 4, 8e9],
    ["sub-1", "s1a", "true", 2, 4e9],
    ["sub-1", "s1b", "false", 2, 4e9],
    ["sub-1", "s1c", "unknown", 2, 4e9],
    ["sub-2", "s2a", "true", 4, 8e9],
    ["sub-2", "s2b", "true", 4, 8e9],
];
for (const [cluster, node, ready, cpu, memory] of NODES) {
    series("kube_node_info", { cluster, node, kernel_version: "6.12.0-talos" }, constant(1));
    for (const status of ["true", "false", "unknown"]) {
        series(
            "kube_node_status_condition",
            { cluster, node, condition: "Ready", status },
            constant(status === ready ? 1 : 0),
        );
    }
    series("kube_node_status_allocatable", { cluster, node, resource: "cpu", unit: "core" }, constant(cpu));
    series("kube_node_status_allocatable", { cluster, node, resource: "memory", unit: "byte" }, constant(memory));
}

// Alerts: main Watchdog (none) and DiskFilling (warning) firing; sub-1 NodeNotReady (critical)
// and PodCrash (warning) firing, ApiLatency (critical) pending; sub-2 EtcdMemberDown (critical).
for (const [cluster, alertname, alertstate, severity] of [
    ["main", "Watchdog", "firing", "none"],
    ["main", "DiskFilling", "firing", "warning"],
    ["sub-1", "NodeNotReady", "firing", "critical"],
    ["sub-1", "PodCrash", "firing", "warning"],
    ["sub-1", "ApiLatency", "pending", "critical"],
    ["sub-2", "EtcdMemberDown", "firing", "critical"],
] as const) {
    series("ALERTS", { cluster, alertname, alertstate, severity }, constant(1));
}

// Containers: CPU in cores (a counter of seconds) and working set. The pod-level cgroup series
// (no `container` label) repeat their containers' sum and must not be counted twice.
for (const [cluster, pod, container, cores, bytes] of [
    ["main", "p1", "c", 1, 2e9],
    ["main", "p2", "c", 2, 4e9],
    ["main", "p2", "", 2, 4e9],
    ["sub-1", "p3", "a", 1, 4e9],
    ["sub-1", "p3", "b", 2, 5e9],
    ["sub-1", "p3", "", 3, 9e9],
    ["sub-2", "p4", "c", 2, 4e9],
] as const) {
    const labels = { cluster, namespace: "app", pod, container };
    series("container_cpu_usage_seconds_total", labels, growing(cores));
    series("container_memory_working_set_bytes", labels, constant(bytes));
}

// Restarts: p1 none; p3 at 25 h, 20 h, 10 h and 5 h before the end; p4 (crash-looping) every 10 minutes.
const HOUR = 3600;
series(
    "kube_pod_container_status_restarts_total",
    { cluster: "main", namespace: "app", pod: "p1", container: "c" },
    constant(0),
    DAY_AGO,
);
series(
    "kube_pod_container_status_restarts_total",
    { cluster: "sub-1", namespace: "app", pod: "p3", container: "a" },
    steppedAt([END - 25 * HOUR, END - 20 * HOUR, END - 10 * HOUR, END - 5 * HOUR]),
    DAY_AGO,
);
series(
    "kube_pod_container_status_restarts_total",
    { cluster: "sub-2", namespace: "app", pod: "p4", container: "c" },
    stepping(600, DAY_AGO),
    DAY_AGO,
);

// Pods: phases as kube-state-metrics writes them, one series per phase.
const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];
for (const [cluster, pod, phase] of [
    ["main", "p1", "Running"],
    ["main", "p2", "Running"],
    ["sub-1", "p3", "Running"],
    ["sub-1", "p5", "Pending"],
    ["sub-2", "p4", "Running"],
    ["sub-2", "p6", "Failed"],
    ["sub-2", "p7", "Succeeded"],
] as const) {
    for (const p of PHASES) {
        series("kube_pod_status_phase", { cluster, namespace: "app", pod, phase: p }, constant(p === phase ? 1 : 0));
    }
}
series(
    "kube_pod_container_status_waiting_reason",
    { cluster: "sub-2", namespace: "app", pod: "p4", container: "c", reason: "CrashLoopBackOff" },
    constant(1),
);
series(
    "kube_pod_container_status_waiting_reason",
    { cluster: "sub-1", namespace: "app", pod: "p5", container: "web", reason: "ImagePullBackOff" },
    constant(1),
);

// Workloads: desired and ready. Short: sub-1 web (3/1), sub-2 db (3/2), sub-1 vector (3/2).
for (const [kind, desired, ready, cluster, namespace, name, want, have] of [
    [
        "deployment",
        "kube_deployment_spec_replicas",
        "kube_deployment_status_replicas_ready",
        "main",
        "obs",
        "grafana",
        1,
        1,
    ],
    [
        "deployment",
        "kube_deployment_spec_replicas",
        "kube_deployment_status_replicas_ready",
        "sub-1",
        "app",
        "web",
        3,
        1,
    ],
    [
        "deployment",
        "kube_deployment_spec_replicas",
        "kube_deployment_status_replicas_ready",
        "sub-2",
        "app",
        "api",
        2,
        2,
    ],
    [
        "statefulset",
        "kube_statefulset_replicas",
        "kube_statefulset_status_replicas_ready",
        "main",
        "obs",
        "prometheus",
        2,
        2,
    ],
    ["statefulset", "kube_statefulset_replicas", "kube_statefulset_status_replicas_ready", "sub-2", "app", "db", 3, 2],
    [
        "daemonset",
        "kube_daemonset_status_desired_number_scheduled",
        "kube_daemonset_status_number_ready",
        "main",
        "agents",
        "vector",
        3,
        3,
    ],
    [
        "daemonset",
        "kube_daemonset_status_desired_number_scheduled",
        "kube_daemonset_status_number_ready",
        "sub-1",
        "agents",
        "vector",
        3,
        2,
    ],
] as const) {
    series(desired, { cluster, namespace, [kind]: name }, constant(want));
    series(ready, { cluster, namespace, [kind]: name }, constant(have));
}

// Volumes: main 45 of 50 GB, sub-1 1 of 10, sub-2 8 of 10; a claim of sub-2 pending.
for (const [cluster, namespace, claim, used, capacity] of [
    ["main", "obs", "data-prometheus-0", 45e9, 50e9],
    ["sub-1", "app", "data-db", 1e9, 10e9],
    ["sub-2", "app", "data-db-0", 8e9, 10e9],
] as const) {
    const labels = { cluster, namespace, persistentvolumeclaim: claim, job: "kubelet" };
    series("kubelet_volume_stats_used_bytes", labels, constant(used));
    series("kubelet_volume_stats_capacity_bytes", labels, constant(capacity));
}
for (const [cluster, namespace, claim, phase] of [
    ["main", "obs", "data-prometheus-0", "Bound"],
    ["sub-2", "app", "data-db-2", "Pending"],
] as const) {
    for (const p of ["Lost", "Bound", "Pending"]) {
        series(
            "kube_persistentvolumeclaim_status_phase",
            { cluster, namespace, persistentvolumeclaim: claim, phase: p },
            constant(p === phase ? 1 : 0),
        );
    }
}

// Remote write from the subs: sub-1 30 s behind, sub-2 5 s; failures, retries, drops, pending.
for (const [cluster, lag] of [
    ["sub-1", 30],
    ["sub-2", 5],
] as const) {
    const labels = { cluster, remote_name: "main", url: "https://metrics.example.org/api/v1/receive" };
    series("prometheus_remote_storage_queue_highest_timestamp_seconds", labels, (t) => t);
    series("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", labels, (t) => t - lag);
    series("prometheus_remote_storage_samples_failed_total", labels, growing(cluster === "sub-1" ? 2 : 0));
    series("prometheus_remote_storage_samples_retried_total", labels, growing(cluster === "sub-1" ? 5 : 1));
}
series(
    "prometheus_remote_storage_samples_dropped_total",
    { cluster: "sub-2", remote_name: "main", reason: "too_old" },
    growing(0.5),
);
series(
    "prometheus_remote_storage_samples_pending",
    { cluster: "sub-1", remote_name: "main", instance: "a" },
    constant(100),
);
series(
    "prometheus_remote_storage_samples_pending",
    { cluster: "sub-1", remote_name: "main", instance: "b" },
    constant(50),
);
series(
    "prometheus_remote_storage_samples_pending",
    { cluster: "sub-2", remote_name: "main", instance: "a" },
    constant(0),
);

// Thanos Receive on main: 20/s answered 200, 1/s 500; queries on another handler; replication.
for (const [handler, code, pod, perSecond] of [
    ["receive", "200", "receive-0", 10],
    ["receive", "200", "receive-1", 10],
    ["receive", "500", "receive-0", 1],
    ["query", "200", "query-0", 100],
] as const) {
    series("http_requests_total", { cluster: "main", handler, code, pod }, growing(perSecond));
}
series("thanos_receive_replications_total", { cluster: "main", result: "error" }, growing(0.25));
series("thanos_receive_replications_total", { cluster: "main", result: "success" }, growing(9));

// Vector: the disk buffer of the `main` sink at 25 %, 0 % and 50 %; another component's ignored.
for (const [cluster, host, component_id, size] of [
    ["sub-1", "h1", "main", 250e6],
    ["sub-1", "h2", "main", 0],
    ["main", "h3", "main", 500e6],
    ["main", "h3", "other", 900e6],
] as const) {
    const labels = { cluster, host, component_id, component_kind: "sink", buffer_type: "disk" };
    series("vector_buffer_size_bytes", labels, constant(size));
    series("vector_buffer_max_size_bytes", labels, constant(1e9));
}
series(
    "vector_component_errors_total",
    { cluster: "sub-2", host: "h4", component_id: "main", error_type: "request_failed", stage: "sending" },
    growing(0.5),
);
series(
    "vector_buffer_discarded_events_total",
    { cluster: "sub-2", host: "h4", component_id: "main", intentional: "false" },
    growing(2),
);

// Loki on main: lines by tenant, discards, push latency (queries are slower and not counted).
series("loki_distributor_lines_received_total", { cluster: "main", tenant: "main", pod: "d0" }, growing(100));
series("loki_distributor_lines_received_total", { cluster: "main", tenant: "sub-1", pod: "d0" }, growing(25));
series("loki_distributor_lines_received_total", { cluster: "main", tenant: "sub-1", pod: "d1" }, growing(25));
series("loki_discarded_samples_total", { cluster: "main", tenant: "sub-1", reason: "rate_limited" }, growing(3));
const LOKI_LE = ["0.05", "0.1", "0.5", "+Inf"];
histogram("loki_request_duration_seconds", { cluster: "main", route: "loki_api_v1_push" }, LOKI_LE, [50, 90, 100, 100]);
histogram(
    "loki_request_duration_seconds",
    { cluster: "main", route: "loki_api_v1_query_range" },
    LOKI_LE,
    [0, 0, 0, 100],
);

// Trace gateways: queue fill, spans sent, failures; Tempo on main.
for (const [cluster, pod, queue, sent, sendFailed, enqueueFailed, refused] of [
    ["main", "gw-0", 0, 10, 0, 0, 2],
    ["main", "gw-1", 0, 5, 0, 0, 0],
    ["sub-1", "gw-0", 250, 20, 1, 0, 0],
    ["sub-2", "gw-0", 0, 0, 0, 0.5, 0],
] as const) {
    const labels = { cluster, pod, exporter: "otlp_grpc/tempo" };
    series("otelcol_exporter_queue_size", labels, constant(queue));
    series("otelcol_exporter_queue_capacity", labels, constant(1000));
    series("otelcol_exporter_sent_spans", labels, growing(sent));
    series("otelcol_exporter_send_failed_spans", labels, growing(sendFailed));
    series("otelcol_exporter_enqueue_failed_spans", labels, growing(enqueueFailed));
    series("otelcol_receiver_refused_spans", { cluster, pod, receiver: "otlp" }, growing(refused));
}
series("tempo_distributor_spans_received_total", { cluster: "main", tenant: "main" }, growing(10));
series("tempo_distributor_spans_received_total", { cluster: "main", tenant: "sub-1" }, growing(20));
series("tempo_receiver_refused_spans", { cluster: "main", receiver: "otlp/otlp" }, growing(1));
series("tempo_discarded_spans_total", { cluster: "main", tenant: "sub-1", reason: "rate_limited" }, growing(2));

// API servers: main 50/s answered 200; sub-1 20/s 200 and 1/s 500. Latency: watches are long and excluded.
for (const [cluster, code, verb, perSecond] of [
    ["main", "200", "GET", 30],
    ["main", "200", "LIST", 20],
    ["sub-1", "200", "GET", 20],
    ["sub-1", "500", "GET", 1],
] as const) {
    series("apiserver_request_total", { cluster, code, verb, resource: "pods" }, growing(perSecond));
}
const API_LE = ["0.1", "0.25", "1", "+Inf"];
histogram("apiserver_request_duration_seconds", { cluster: "main", verb: "GET" }, API_LE, [80, 95, 100, 100]);
histogram("apiserver_request_duration_seconds", { cluster: "main", verb: "WATCH" }, API_LE, [0, 0, 0, 10]);
histogram("apiserver_request_duration_seconds", { cluster: "sub-1", verb: "GET" }, API_LE, [100, 100, 100, 100]);

// etcd: main three members with a leader; sub-1 one without; sub-2 two with. Leader changes:
// sub-1 every 20 minutes, sub-2 every 30 minutes, main none. Sizes and disk latencies.
for (const [cluster, instance, leader, changesEvery, size] of [
    ["main", "10.0.0.1:2381", 1, 0, 100e6],
    ["main", "10.0.0.2:2381", 1, 0, 120e6],
    ["main", "10.0.0.3:2381", 1, 0, 110e6],
    ["sub-1", "10.1.0.1:2381", 0, 1200, 50e6],
    ["sub-2", "10.2.0.1:2381", 1, 1800, 60e6],
    ["sub-2", "10.2.0.2:2381", 1, 0, 70e6],
] as const) {
    series("etcd_server_has_leader", { cluster, instance }, constant(leader));
    series(
        "etcd_server_leader_changes_seen_total",
        { cluster, instance },
        changesEvery === 0 ? constant(0) : stepping(changesEvery),
    );
    series("etcd_mvcc_db_total_size_in_bytes", { cluster, instance }, constant(size));
}
const WAL_LE = ["0.001", "0.002", "0.004", "0.008", "+Inf"];
histogram(
    "etcd_disk_wal_fsync_duration_seconds",
    { cluster: "main", instance: "10.0.0.1:2381" },
    WAL_LE,
    [50, 90, 100, 100, 100],
);
histogram(
    "etcd_disk_wal_fsync_duration_seconds",
    { cluster: "sub-1", instance: "10.1.0.1:2381" },
    WAL_LE,
    [0, 0, 0, 100, 100],
);
const COMMIT_LE = ["0.01", "0.025", "0.05", "+Inf"];
histogram(
    "etcd_disk_backend_commit_duration_seconds",
    { cluster: "main", instance: "10.0.0.1:2381" },
    COMMIT_LE,
    [10, 50, 100, 100],
);
histogram(
    "etcd_disk_backend_commit_duration_seconds",
    { cluster: "sub-2", instance: "10.2.0.1:2381" },
    COMMIT_LE,
    [100, 100, 100, 100],
);

// node-exporter: /var 25 % and 10 % free (the root file system is ignored), memory, clock, CPU.
for (const [cluster, instance, varFree, rootFree, memAvailable, memTotal, offset] of [
    ["main", "10.0.0.1:9100", 25e9, 1e9, 4e9, 16e9, -0.002],
    ["sub-1", "10.1.0.1:9100", 10e9, 9e9, 1e9, 8e9, 0.05],
] as const) {
    series("node_filesystem_avail_bytes", { cluster, instance, mountpoint: "/var" }, constant(varFree));
    series("node_filesystem_size_bytes", { cluster, instance, mountpoint: "/var" }, constant(100e9));
    series("node_filesystem_avail_bytes", { cluster, instance, mountpoint: "/" }, constant(rootFree));
    series("node_filesystem_size_bytes", { cluster, instance, mountpoint: "/" }, constant(10e9));
    series("node_memory_MemAvailable_bytes", { cluster, instance }, constant(memAvailable));
    series("node_memory_MemTotal_bytes", { cluster, instance }, constant(memTotal));
    series("node_timex_offset_seconds", { cluster, instance }, constant(offset));
}
// Idle share: main's two CPUs 0.5 each, sub-1's one CPU 0.25.
for (const [cluster, instance, cpu, idle] of [
    ["main", "10.0.0.1:9100", "0", 0.5],
    ["main", "10.0.0.1:9100", "1", 0.5],
    ["sub-1", "10.1.0.1:9100", "0", 0.25],
] as const) {
    series("node_cpu_seconds_total", { cluster, instance, cpu, mode: "idle" }, growing(idle));
    series("node_cpu_seconds_total", { cluster, instance, cpu, mode: "user" }, growing(1 - idle));
}

// Span metrics, with the `cluster` dimension. Served requests: sub-1 frontend 9/s fine and
// 1/s failed, checkout 10/s; sub-2 cart 6/s; main grafana 2/s. frontend's own calls out (client
// spans) are not requests it serves.
const SPAN_LE = ["0.1", "0.5", "1", "2.5", "+Inf"];
for (const [cluster, service, kind, status, perSecond, buckets] of [
    ["sub-1", "frontend", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET", 9, [4, 8, 9, 9, 9]],
    ["sub-1", "frontend", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR", 1, [0, 0, 0, 1, 1]],
    ["sub-1", "frontend", "SPAN_KIND_CLIENT", "STATUS_CODE_UNSET", 10, [0, 0, 0, 0, 10]],
    ["sub-1", "checkout", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET", 10, [10, 10, 10, 10, 10]],
    ["sub-2", "cart", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET", 6, [0, 3, 6, 6, 6]],
    ["main", "grafana", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET", 2, [2, 2, 2, 2, 2]],
] as const) {
    const labels = { cluster, service, span_name: "request", span_kind: kind, status_code: status };
    series("traces_spanmetrics_calls_total", labels, growing(perSecond));
    histogram("traces_spanmetrics_latency", labels, SPAN_LE, buckets);
}

// Service graph edges (client/server prefixed dimensions): a database and an uninstrumented
// caller have no cluster of their own.
for (const [client, server, clientCluster, serverCluster, perSecond, failedPerSecond] of [
    ["frontend", "checkout", "sub-1", "sub-1", 10, 1],
    ["checkout", "postgres", "sub-1", "", 4, 0],
    ["user", "frontend", "", "sub-1", 8, 0],
    ["frontend", "cart", "sub-2", "sub-2", 6, 0],
] as const) {
    const labels = { client, server, client_cluster: clientCluster, server_cluster: serverCluster };
    series("traces_service_graph_request_total", labels, growing(perSecond));
    series("traces_service_graph_request_failed_total", labels, growing(failedPerSecond));
    series("traces_service_graph_request_server_seconds_sum", labels, growing(perSecond * 0.1));
}

/** Writes every series from its start to END, a sample every scrape interval. */
function writeSeries(file: string): void {
    const writer = OpenMetricsWriter.open(file);
    try {
        for (const [name, list] of FAMILIES) {
            writer.family(name, name.endsWith("_total") ? "counter" : "gauge");
            for (const s of list) {
                const handle = writer.series(s.labels);
                for (let t = s.from; t <= END; t += SCRAPE_SECONDS) handle.sample(s.value(t), t);
            }
        }
        writer.close();
    } catch (error) {
        writer.discard();
        throw error;
    }
}

// --- expected answers -------------------------------------------------------------------------

interface Row {
    labels: Record<string, string>;
    value: number;
}
const row = (labels: Record<string, string>, value: number): Row => ({ labels, value });
/** One number without labels: an aggregate, or `vector(0)`. */
const single = (value: number): Row[] => [row({}, value)];

/**
 * What a query gives: the same rows for every selection, those of other clusters left out
 * (`perCluster`), or a value per selection (aggregates over the selected clusters).
 */
type Expectation = { perCluster: Row[] } | { bySelection: Record<SelectionName, Row[]> };
const perCluster = (...rows: Row[]): Expectation => ({ perCluster: rows });
const bySelection = (all: number, one: number, two: number): Expectation => ({
    bySelection: { all: single(all), one: single(one), two: single(two) },
});

function expected(expectation: Expectation, selection: SelectionName): Row[] {
    if ("bySelection" in expectation) return expectation.bySelection[selection];
    const chosen = SELECTIONS[selection];
    return expectation.perCluster.filter(
        (r) =>
            r.labels.cluster === undefined ||
            chosen === "All" ||
            (chosen as readonly string[]).includes(r.labels.cluster),
    );
}

interface DataCase {
    expect: Expectation;
    /** The rows come in this order (a `sort_desc`). */
    ordered?: boolean;
}

const c = (cluster: string, labels: Record<string, string> = {}) => ({ cluster, ...labels });

/** Every PromQL target of every panel, by `dashboard / panel / refId`, and its answer. */
const CASES: Record<string, DataCase> = {
    // Fleet overview.
    "obs-fleet / Clusters sending metrics / A": { expect: bySelection(3, 1, 2) },
    // sub-1 has s1b (Ready=false) and s1c (Ready=unknown).
    "obs-fleet / Nodes not ready / A": { expect: bySelection(2, 2, 0) },
    "obs-fleet / Critical alerts firing / A": { expect: bySelection(2, 1, 1) },
    "obs-fleet / Warnings firing / A": { expect: bySelection(2, 1, 1) },
    "obs-fleet / Metric series received per cluster / A": {
        expect: perCluster(row(c("main"), 1750), row(c("sub-1"), 1000), row(c("sub-2"), 300)),
    },
    "obs-fleet / Spans shipped per cluster / A": {
        expect: perCluster(row(c("main"), 15), row(c("sub-1"), 20), row(c("sub-2"), 0)),
    },
    "obs-fleet / Alerts firing by cluster and severity / A": {
        expect: perCluster(
            row(c("main", { severity: "none", alertname: "Watchdog" }), 1),
            row(c("main", { severity: "warning", alertname: "DiskFilling" }), 1),
            row(c("sub-1", { severity: "critical", alertname: "NodeNotReady" }), 1),
            row(c("sub-1", { severity: "warning", alertname: "PodCrash" }), 1),
            row(c("sub-2", { severity: "critical", alertname: "EtcdMemberDown" }), 1),
        ),
    },
    // Cores used over allocatable: main 3/12, sub-1 3/6, sub-2 2/8.
    "obs-fleet / CPU used / allocatable / A": {
        expect: perCluster(row(c("main"), 0.25), row(c("sub-1"), 0.5), row(c("sub-2"), 0.25)),
    },
    // Working set over allocatable: main 6/24 GB, sub-1 9/12, sub-2 4/16.
    "obs-fleet / Memory used / allocatable / A": {
        expect: perCluster(row(c("main"), 0.25), row(c("sub-1"), 0.75), row(c("sub-2"), 0.25)),
    },
    "obs-fleet / Top 10 pods by CPU / A": {
        expect: perCluster(
            row(c("main", { namespace: "app", pod: "p1" }), 1),
            row(c("main", { namespace: "app", pod: "p2" }), 2),
            row(c("sub-1", { namespace: "app", pod: "p3" }), 3),
            row(c("sub-2", { namespace: "app", pod: "p4" }), 2),
        ),
    },
    "obs-fleet / Top 10 pods by memory / A": {
        expect: perCluster(
            row(c("main", { namespace: "app", pod: "p1" }), 2e9),
            row(c("main", { namespace: "app", pod: "p2" }), 4e9),
            row(c("sub-1", { namespace: "app", pod: "p3" }), 9e9),
            row(c("sub-2", { namespace: "app", pod: "p4" }), 4e9),
        ),
    },
    // p3: three of its four restarts in the last day; p4: one every 10 minutes, 144 a day.
    "obs-fleet / Restarts in the last 24 hours / A": {
        expect: perCluster(
            row(c("sub-1", { namespace: "app", pod: "p3" }), 3),
            row(c("sub-2", { namespace: "app", pod: "p4" }), 144),
        ),
    },

    // Pipeline health.
    "obs-pipeline / Remote-write lag / A": { expect: perCluster(row(c("sub-1"), 30), row(c("sub-2"), 5)) },
    "obs-pipeline / Samples failed, retried, dropped / A": {
        expect: perCluster(row(c("sub-1"), 2), row(c("sub-2"), 0)),
    },
    "obs-pipeline / Samples failed, retried, dropped / B": {
        expect: perCluster(row(c("sub-1"), 5), row(c("sub-2"), 1)),
    },
    "obs-pipeline / Samples failed, retried, dropped / C": {
        expect: perCluster(row(c("sub-2", { reason: "too_old" }), 0.5)),
    },
    "obs-pipeline / Samples pending / A": { expect: perCluster(row(c("sub-1"), 150), row(c("sub-2"), 0)) },
    "obs-pipeline / Thanos Receive answers by code / A": {
        expect: perCluster(row({ code: "200" }, 20), row({ code: "500" }, 1)),
    },
    "obs-pipeline / Receive replication errors / A": { expect: perCluster(row({}, 0.25)) },
    "obs-pipeline / Disk buffer fill / A": {
        expect: perCluster(
            row(c("sub-1", { host: "h1" }), 0.25),
            row(c("sub-1", { host: "h2" }), 0),
            row(c("main", { host: "h3" }), 0.5),
        ),
    },
    "obs-pipeline / Agent errors by component / A": {
        expect: perCluster(row(c("sub-2", { component_id: "main", error_type: "request_failed" }), 0.5)),
    },
    "obs-pipeline / Events discarded / A": { expect: perCluster(row(c("sub-2", { intentional: "false" }), 2)) },
    "obs-pipeline / Loki lines received by tenant / A": {
        expect: perCluster(row({ tenant: "main" }, 100), row({ tenant: "sub-1" }, 50)),
    },
    "obs-pipeline / Loki samples discarded / A": {
        expect: perCluster(row({ tenant: "sub-1", reason: "rate_limited" }, 3)),
    },
    // Push buckets 50, 90, 100, 100 per second: rank 99 lies in (0.1, 0.5], 9 of its 10: 0.1 + 0.4 × 0.9.
    "obs-pipeline / Loki push latency p99 / A": { expect: perCluster(row({}, 0.46)) },
    "obs-pipeline / Gateway queue fill / A": {
        expect: perCluster(
            row(c("main", { pod: "gw-0" }), 0),
            row(c("main", { pod: "gw-1" }), 0),
            row(c("sub-1", { pod: "gw-0" }), 0.25),
            row(c("sub-2", { pod: "gw-0" }), 0),
        ),
    },
    "obs-pipeline / Gateway spans failed or refused / A": {
        expect: perCluster(row(c("main"), 0), row(c("sub-1"), 1), row(c("sub-2"), 0)),
    },
    "obs-pipeline / Gateway spans failed or refused / B": {
        expect: perCluster(row(c("main"), 0), row(c("sub-1"), 0), row(c("sub-2"), 0.5)),
    },
    "obs-pipeline / Gateway spans failed or refused / C": {
        expect: perCluster(row(c("main"), 2), row(c("sub-1"), 0), row(c("sub-2"), 0)),
    },
    "obs-pipeline / Tempo spans received, refused, discarded / A": { expect: perCluster(row({}, 30)) },
    "obs-pipeline / Tempo spans received, refused, discarded / B": { expect: perCluster(row({}, 1)) },
    "obs-pipeline / Tempo spans received, refused, discarded / C": {
        expect: perCluster(row({ reason: "rate_limited" }, 2)),
    },

    // Talos clusters.
    "obs-talos / Control plane targets down / A": {
        expect: perCluster(
            row(c("sub-1", { job: "kube-scheduler", instance: "10.1.0.1:10259" }), 0),
            row(c("sub-2", { job: "kube-etcd", instance: "10.2.0.3:2381" }), 0),
        ),
    },
    "obs-talos / API server requests by code / A": {
        expect: perCluster(
            row(c("main", { code: "200" }), 50),
            row(c("sub-1", { code: "200" }), 20),
            row(c("sub-1", { code: "500" }), 1),
        ),
    },
    // main without watches 80, 95, 100, 100: rank 99 in (0.25, 1], 4 of 5: 0.25 + 0.75 × 0.8.
    // sub-1 all within 0.1: 0.1 × 99/100.
    "obs-talos / API server latency p99 (excluding watches) / A": {
        expect: perCluster(row(c("main"), 0.85), row(c("sub-1"), 0.099)),
    },
    "obs-talos / Members with a leader / A": {
        expect: perCluster(row(c("main"), 3), row(c("sub-1"), 0), row(c("sub-2"), 2)),
    },
    "obs-talos / Leader changes / A": { expect: perCluster(row(c("main"), 0), row(c("sub-1"), 3), row(c("sub-2"), 2)) },
    "obs-talos / Database size / A": {
        expect: perCluster(
            row(c("main", { instance: "10.0.0.1:2381" }), 100e6),
            row(c("main", { instance: "10.0.0.2:2381" }), 120e6),
            row(c("main", { instance: "10.0.0.3:2381" }), 110e6),
            row(c("sub-1", { instance: "10.1.0.1:2381" }), 50e6),
            row(c("sub-2", { instance: "10.2.0.1:2381" }), 60e6),
            row(c("sub-2", { instance: "10.2.0.2:2381" }), 70e6),
        ),
    },
    // main 50, 90, 100: rank 99 in (0.002, 0.004], 9 of 10; sub-1 all in (0.004, 0.008]: 99 of 100.
    "obs-talos / WAL fsync p99 / A": {
        expect: perCluster(
            row(c("main", { instance: "10.0.0.1:2381" }), 0.0038),
            row(c("sub-1", { instance: "10.1.0.1:2381" }), 0.00796),
        ),
    },
    // main 10, 50, 100: rank 99 in (0.025, 0.05], 49 of 50; sub-2 all within 0.01.
    "obs-talos / Backend commit p99 / A": {
        expect: perCluster(
            row(c("main", { instance: "10.0.0.1:2381" }), 0.0495),
            row(c("sub-2", { instance: "10.2.0.1:2381" }), 0.0099),
        ),
    },
    "obs-talos / EPHEMERAL (/var) free / A": {
        expect: perCluster(
            row(c("main", { instance: "10.0.0.1:9100" }), 0.25),
            row(c("sub-1", { instance: "10.1.0.1:9100" }), 0.1),
        ),
    },
    "obs-talos / Memory available / A": {
        expect: perCluster(
            row(c("main", { instance: "10.0.0.1:9100" }), 0.25),
            row(c("sub-1", { instance: "10.1.0.1:9100" }), 0.125),
        ),
    },
    "obs-talos / Clock offset / A": {
        expect: perCluster(
            row(c("main", { instance: "10.0.0.1:9100" }), 0.002),
            row(c("sub-1", { instance: "10.1.0.1:9100" }), 0.05),
        ),
    },

    // Cluster drill-down.
    "obs-cluster / Nodes / A": { expect: bySelection(8, 3, 5) },
    "obs-cluster / Nodes not ready / A": { expect: bySelection(2, 2, 0) },
    "obs-cluster / Not-ready nodes / A": {
        expect: perCluster(row(c("sub-1", { node: "s1b" }), 0), row(c("sub-1", { node: "s1c" }), 0)),
    },
    "obs-cluster / CPU busy per node / A": {
        expect: perCluster(
            row(c("main", { instance: "10.0.0.1:9100" }), 0.5),
            row(c("sub-1", { instance: "10.1.0.1:9100" }), 0.75),
        ),
    },
    "obs-cluster / Memory used per node / A": {
        expect: perCluster(
            row(c("main", { instance: "10.0.0.1:9100" }), 0.75),
            row(c("sub-1", { instance: "10.1.0.1:9100" }), 0.875),
        ),
    },
    // sub-1 web and vector, sub-2 db.
    "obs-cluster / Workloads short of replicas / A": { expect: bySelection(3, 2, 1) },
    // sub-1 p5 Pending, sub-2 p6 Failed (p7 Succeeded is a finished pod).
    "obs-cluster / Pods not running / A": { expect: bySelection(2, 1, 1) },
    "obs-cluster / Pods pending / A": { expect: bySelection(1, 1, 0) },
    "obs-cluster / Containers crash-looping / A": { expect: bySelection(1, 0, 1) },
    "obs-cluster / Deployments short of ready replicas / A": {
        expect: perCluster(row(c("sub-1", { namespace: "app", deployment: "web" }), 2)),
    },
    "obs-cluster / StatefulSets short of ready replicas / A": {
        expect: perCluster(row(c("sub-2", { namespace: "app", statefulset: "db" }), 1)),
    },
    "obs-cluster / DaemonSets short of ready pods / A": {
        expect: perCluster(row(c("sub-1", { namespace: "agents", daemonset: "vector" }), 1)),
    },
    "obs-cluster / Pods not running, by phase / A": {
        expect: perCluster(
            row(c("sub-1", { namespace: "app", pod: "p5", phase: "Pending" }), 1),
            row(c("sub-2", { namespace: "app", pod: "p6", phase: "Failed" }), 1),
        ),
    },
    "obs-cluster / Containers waiting, by reason / A": {
        expect: perCluster(
            row(c("sub-1", { namespace: "app", pod: "p5", container: "web", reason: "ImagePullBackOff" }), 1),
            row(c("sub-2", { namespace: "app", pod: "p4", container: "c", reason: "CrashLoopBackOff" }), 1),
        ),
    },
    "obs-cluster / Restarts in the last hour / A": {
        expect: perCluster(row(c("sub-2", { namespace: "app", pod: "p4" }), 6)),
    },
    // main's claim at 90 %.
    "obs-cluster / Volumes over 85 % full / A": { expect: bySelection(1, 0, 1) },
    "obs-cluster / Claims pending / A": { expect: bySelection(1, 0, 1) },
    "obs-cluster / Volumes by fill / A": {
        ordered: true,
        expect: perCluster(
            row(c("main", { namespace: "obs", persistentvolumeclaim: "data-prometheus-0" }), 0.9),
            row(c("sub-2", { namespace: "app", persistentvolumeclaim: "data-db-0" }), 0.8),
            row(c("sub-1", { namespace: "app", persistentvolumeclaim: "data-db" }), 0.1),
        ),
    },
    "obs-cluster / Control-plane targets down / A": { expect: bySelection(2, 1, 1) },
    "obs-cluster / etcd members without a leader / A": { expect: bySelection(1, 1, 0) },
    "obs-cluster / Control-plane targets up, by component / A": {
        expect: perCluster(
            ...CLUSTERS.flatMap((cluster) =>
                ["apiserver", "kube-scheduler", "kube-controller-manager", "kube-etcd"].map((job) => {
                    const value =
                        cluster === "sub-1" && job === "kube-scheduler"
                            ? 0
                            : cluster === "sub-2" && job === "kube-etcd"
                              ? 2 / 3
                              : 1;
                    return row(c(cluster, { job }), value);
                }),
            ),
        ),
    },

    // Traces.
    "obs-traces / Requests per service / A": { expect: perCluster(...SERVICES("rate")) },
    "obs-traces / Error ratio per service / A": { expect: perCluster(...SERVICES("errors")) },
    "obs-traces / p95 duration per service / A": { expect: perCluster(...SERVICES("p95")) },
    "obs-traces / Services: rate, error ratio, p95 (links to their traces) / A": {
        expect: perCluster(...SERVICES("rate")),
    },
    "obs-traces / Services: rate, error ratio, p95 (links to their traces) / B": {
        expect: perCluster(...SERVICES("errors")),
    },
    "obs-traces / Services: rate, error ratio, p95 (links to their traces) / C": {
        expect: perCluster(...SERVICES("p95")),
    },
};

/**
 * RED of the served requests per service. frontend: 10/s, 1 failed; buckets 4, 8, 9, 10, 10
 * (fine and failed summed), rank 9.5 in (1, 2.5]: 1 + 1.5 × 0.5. checkout: all within 0.1, rank
 * 9.5 of 10. cart: 0, 3, 6, rank 5.7 in (0.5, 1]: 0.5 + 0.5 × 2.7/3. grafana: rank 1.9 of 2 within 0.1.
 */
function SERVICES(what: "rate" | "errors" | "p95"): Row[] {
    const table: [string, string, number, number, number][] = [
        ["sub-1", "frontend", 10, 0.1, 1.75],
        ["sub-1", "checkout", 10, 0, 0.095],
        ["sub-2", "cart", 6, 0, 0.95],
        ["main", "grafana", 2, 0, 0.095],
    ];
    return table.map(([cluster, service, rate, errors, p95]) =>
        row(c(cluster, { service }), what === "rate" ? rate : what === "errors" ? errors : p95),
    );
}

/**
 * The service graph: what Grafana asks the metrics store for each `serviceMapQuery` selector
 * (`sum by (client, server) (rate(<metric><selector>[$__range]))`, the selectors' results
 * joined with `OR`), for the request and failure counters the edges show.
 */
const SERVICE_GRAPH_METRICS = ["traces_service_graph_request_total", "traces_service_graph_request_failed_total"];
const edge = (client: string, server: string, value: number) => row({ client, server }, value);
const SERVICE_GRAPH_CASES: Record<string, Record<string, Record<SelectionName, Row[]>>> = {
    "obs-traces / Service graph / A": {
        traces_service_graph_request_total: {
            all: [
                edge("frontend", "checkout", 10),
                edge("checkout", "postgres", 4),
                edge("user", "frontend", 8),
                edge("frontend", "cart", 6),
            ],
            one: [edge("frontend", "checkout", 10), edge("checkout", "postgres", 4), edge("user", "frontend", 8)],
            two: [edge("frontend", "cart", 6)],
        },
        traces_service_graph_request_failed_total: {
            all: [
                edge("frontend", "checkout", 1),
                edge("checkout", "postgres", 0),
                edge("user", "frontend", 0),
                edge("frontend", "cart", 0),
            ],
            one: [edge("frontend", "checkout", 1), edge("checkout", "postgres", 0), edge("user", "frontend", 0)],
            two: [edge("frontend", "cart", 0)],
        },
    },
};

function serviceGraphQueries(target: Target, selection: Selection): Map<string, string> {
    const raw = target.json.serviceMapQuery as string | string[];
    const selectors = (Array.isArray(raw) ? raw : [raw]).map((s) => interpolate(s, selection, target.allValue));
    return new Map(
        SERVICE_GRAPH_METRICS.map((metric) => [
            metric,
            selectors.map((s) => `sum by (client, server) (rate(${metric}${s}[${BUILT_INS.__range}]))`).join(" OR "),
        ]),
    );
}

// --- comparing results ------------------------------------------------------------------------

const labelKey = (labels: Record<string, string>): string =>
    JSON.stringify(
        Object.entries(labels)
            .filter(([name]) => name !== "__name__")
            .sort(([a], [b]) => a.localeCompare(b)),
    );

function close(actual: number, want: number): boolean {
    return Math.abs(actual - want) <= 1e-9 * Math.max(1, Math.abs(want));
}

function assertRows(actual: VectorSample[], want: Row[], ordered: boolean, what: string): void {
    const got = actual.map((s) => `${labelKey(s.metric)} = ${s.value}`);
    const message = `${what}\n  got:  ${got.join("\n        ")}\n  want: ${want.map((r) => `${labelKey(r.labels)} = ${r.value}`).join("\n        ")}`;
    assert.equal(actual.length, want.length, message);
    const byKey = new Map(actual.map((s) => [labelKey(s.metric), s]));
    want.forEach((r, i) => {
        const sample = ordered ? actual[i] : byKey.get(labelKey(r.labels));
        assert.ok(sample !== undefined && labelKey(sample.metric) === labelKey(r.labels), message);
        assert.ok(close(sample.value, r.value), message);
    });
}

const RANGE_POINTS = RANGE_SECONDS / STEP_SECONDS + 1;

function assertSeries(actual: MatrixSeries[], want: Row[], what: string): void {
    const got = actual.map(
        (s) => `${labelKey(s.metric)} = [${[...new Set(s.samples.map((p) => p.value))].join(", ")}]`,
    );
    const message = `${what}\n  got:  ${got.join("\n        ")}\n  want: ${want.map((r) => `${labelKey(r.labels)} = ${r.value}`).join("\n        ")}`;
    assert.equal(actual.length, want.length, message);
    for (const r of want) {
        const s = actual.find((a) => labelKey(a.metric) === labelKey(r.labels));
        assert.ok(s !== undefined, message);
        assert.equal(s.samples.length, RANGE_POINTS, `${message}\n  (a point at every step of the range)`);
        for (const p of s.samples) assert.ok(close(p.value, r.value), `${message}\n  at ${p.time.toISOString()}`);
    }
}

// --- the proofs -------------------------------------------------------------------------------

const promqlTargets = allTargets.filter((t) => t.datasource === DATASOURCE_UIDS.metrics);
const logqlTargets = allTargets.filter((t) => t.datasource === DATASOURCE_UIDS.logs);
const tempoTargets = allTargets.filter((t) => t.datasource === DATASOURCE_UIDS.traces);
const serviceMapTargets = tempoTargets.filter((t) => t.json.queryType === "serviceMap");
const traceqlTargets = tempoTargets.filter((t) => t.json.queryType === "traceql");

describe("dashboards on data: every panel has a case", () => {
    it("has a data case for every PromQL target and every service graph, and no case without its target", () => {
        const keys = new Set(promqlTargets.map(keyOf));
        assert.deepEqual(
            promqlTargets.map(keyOf).filter((k) => CASES[k] === undefined),
            [],
            "PromQL targets without a data case",
        );
        assert.deepEqual(
            Object.keys(CASES).filter((k) => !keys.has(k)),
            [],
            "data cases whose target is gone",
        );
        assert.deepEqual(serviceMapTargets.map(keyOf), Object.keys(SERVICE_GRAPH_CASES));
    });

    it("knows every panel's datasource: metrics, logs (Loki's rules), traces (graph or TraceQL)", () => {
        for (const d of dashboards) {
            for (const panel of (d.json.panels ?? []) as Values[]) {
                if (panel.type === "row") continue;
                assert.ok((panel.targets ?? []).length > 0, `${d.file} / ${panel.title} has no query`);
            }
        }
        const classified =
            promqlTargets.length + logqlTargets.length + serviceMapTargets.length + traceqlTargets.length;
        assert.equal(classified, allTargets.length);
        assert.ok(logqlTargets.length >= 4 && traceqlTargets.length >= 2 && serviceMapTargets.length === 1);
    });

    it("names only catalogued metrics in the queries Grafana builds for the service graph", () => {
        for (const target of serviceMapTargets) {
            for (const query of serviceGraphQueries(target, "All").values()) {
                assert.deepEqual(
                    parsePromql(query).metrics.filter((m) => !STACK_METRICS.has(m)),
                    [],
                );
            }
        }
    });
});

describe("dashboards on data: Grafana's variables", () => {
    it("writes All as the custom all value, one value as itself, several as an alternation", () => {
        assert.equal(interpolate('up{cluster=~"$cluster"}', "All", ".+"), 'up{cluster=~".+"}');
        assert.equal(interpolate('up{cluster=~"${cluster}"}', ["sub-1"], ".+"), 'up{cluster=~"sub-1"}');
        assert.equal(interpolate('{c=~"${cluster:regex}"}', ["main", "sub-2"], ".+"), '{c=~"(main|sub-2)"}');
        assert.equal(
            interpolate("rate(x[$__rate_interval]) [$__interval] $__range", "All", ".+"),
            "rate(x[2m]) [1m] 1800s",
        );
        assert.throws(() => interpolate("$namespace", "All", ".+"), /not a variable/);
        assert.throws(() => interpolate("${cluster:csv}", "All", ".+"), /not modelled/);
        assert.throws(() => interpolate("$cluster", ["a.b"], ".+"), /DNS label/);
    });
});

describe("dashboards on data: PromQL against Prometheus with known series", () => {
    const work = tempDir("dashboards-data");
    let prometheus: PrometheusOnData;

    before(async () => {
        const file = path.join(work, "series.om.txt");
        writeSeries(file);
        const dataDir = path.join(work, "data");
        await createBlocks(file, dataDir);
        prometheus = await startPrometheusOnData(dataDir);
    });

    after(async () => {
        if (prometheus !== undefined) await stopPrometheus(prometheus);
    });

    const end = new Date(END * 1000);
    const range = { start: new Date((END - RANGE_SECONDS) * 1000), end, stepSeconds: STEP_SECONDS };

    for (const selection of Object.keys(SELECTIONS) as SelectionName[]) {
        it(`gives every panel its known answer with cluster = ${JSON.stringify(SELECTIONS[selection])}`, async () => {
            for (const target of promqlTargets) {
                const data = CASES[keyOf(target)];
                if (data === undefined) continue; // reported by the coverage test
                const query = interpolate(String(target.json.expr), SELECTIONS[selection], target.allValue);
                const want = expected(data.expect, selection);
                const what = `${keyOf(target)} [${selection}]: ${query}`;
                if (target.instant) {
                    assertRows(await queryInstant(prometheus.target, query, end), want, data.ordered === true, what);
                } else {
                    assertSeries(await queryRange(prometheus.target, query, range), want, what);
                }
            }
        });

        it(`draws the service graph's edges with cluster = ${JSON.stringify(SELECTIONS[selection])}`, async () => {
            for (const target of serviceMapTargets) {
                const cases = SERVICE_GRAPH_CASES[keyOf(target)] ?? {};
                for (const [metric, query] of serviceGraphQueries(target, SELECTIONS[selection])) {
                    const want = cases[metric]?.[selection];
                    assert.ok(want !== undefined, `${keyOf(target)}: no answer for ${metric}`);
                    const what = `${keyOf(target)} [${selection}]: ${query}`;
                    assertRows(await queryInstant(prometheus.target, query, end), want, false, what);
                }
            }
        });
    }

    describe("the three findings, on data that exposes them", () => {
        const fleet = (panel: string) => {
            const target = promqlTargets.find((t) => t.dashboard === "obs-fleet" && t.panel === panel);
            assert.ok(target, panel);
            return target;
        };

        it("counts 2 nodes not ready where two of sub-1's three are not, where the sum of zeros said 0", async () => {
            const target = fleet("Nodes not ready");
            const now = interpolate(String(target.json.expr), ["sub-1"], target.allValue);
            assert.deepEqual(
                (await queryInstant(prometheus.target, now, end)).map((s) => s.value),
                [2],
            );
            const former =
                'sum(kube_node_status_condition{cluster=~"sub-1", condition="Ready", status="true"} == 0) or vector(0)';
            assert.deepEqual(
                (await queryInstant(prometheus.target, former, end)).map((s) => s.value),
                [0],
            );
        });

        it("counts series per cluster, not the samples of `up`", async () => {
            const target = fleet("Metric series received per cluster");
            const now = interpolate(String(target.json.expr), "All", target.allValue);
            const received = await queryInstant(prometheus.target, now, end);
            assert.equal(received.find((s) => s.metric.cluster === "main")?.value, 1750);
            // The former query: main's 7 `up` series, 3 samples each in a 1m window closed at both
            // ends (Prometheus 2), whatever the number of series.
            const former = 'sum by (cluster) (count_over_time(up{cluster=~".+"}[1m]))';
            const samples = await queryInstant(prometheus.target, former, end);
            assert.equal(samples.find((s) => s.metric.cluster === "main")?.value, 21);
        });
    });
});

// --- LogQL: Loki's rules ----------------------------------------------------------------------

interface StreamMatcher {
    label: string;
    op: "=" | "!=" | "=~" | "!~";
    value: string;
}

/** A LogQL string literal's value: double-quoted with Go escapes, or a raw backquoted one. */
function unquote(literal: string): string {
    if (literal.startsWith("`")) return literal.slice(1, -1);
    return JSON.parse(literal) as string;
}

/** The stream selectors of a LogQL query (pipeline label filters are not selectors), and its parse errors. */
function streamSelectors(query: string): { errors: number; selectors: StreamMatcher[][] } {
    const cursor = logqlParser.parse(query).cursor();
    const selectors: StreamMatcher[][] = [];
    let errors = 0;
    do {
        if (cursor.type.isError) errors++;
        if (cursor.name !== "Selector") continue;
        const selector: StreamMatcher[] = [];
        const inner = cursor.node.cursor();
        const stop = inner.to;
        while (inner.next() && inner.from < stop) {
            if (inner.name !== "Matcher") continue;
            const parts: string[] = [];
            const m = inner.node.cursor();
            m.firstChild();
            do parts.push(query.slice(m.from, m.to));
            while (m.nextSibling());
            const [label = "", op = "", literal = '""'] = parts;
            selector.push({ label, op: op as StreamMatcher["op"], value: unquote(literal) });
        }
        selectors.push(selector);
    } while (cursor.next());
    return { errors, selectors };
}

/** Whether a matcher matches the empty string (a regular expression matches the whole value). */
function matchesEmpty(m: StreamMatcher): boolean {
    switch (m.op) {
        case "=":
            return m.value === "";
        case "!=":
            return m.value !== "";
        case "=~":
            return new RegExp(`^(?:${m.value})$`).test("");
        case "!~":
            return !new RegExp(`^(?:${m.value})$`).test("");
    }
}

/**
 * Loki's rule for stream selectors (pkg/logql/syntax, v3.7.6 as the loki chart 18.11.0 ships):
 * a matcher that matches the empty string cannot use the index (a stream without the label
 * would match it), so it is applied as a filter after the lookup; every selector of a query must
 * keep at least one matcher that does not, or Loki refuses the query: "queries require at least
 * one regexp or equality matcher that does not have an empty-compatible value". `{app=~".*"}`,
 * `{app!="x"}` and `{app=""}` alone are refused; `{app=~".+"}` and `{app="x", other!="y"}` are not.
 * Returns why the query is refused, or nothing.
 */
function lokiRefuses(query: string): string | undefined {
    const { errors, selectors } = streamSelectors(query);
    if (errors > 0) return "parse error";
    if (selectors.length === 0) return "no stream selector";
    for (const selector of selectors) {
        if (!selector.some((m) => !matchesEmpty(m))) {
            return "queries require at least one regexp or equality matcher that does not have an empty-compatible value";
        }
    }
    return undefined;
}

describe("dashboards on data: LogQL as Loki takes it", () => {
    it("refuses what Loki refuses, accepts what it accepts (the checker itself)", () => {
        for (const refused of [
            'sum by (cluster) (count_over_time({cluster=~".*"} [1m]))',
            '{cluster!="main"}',
            '{cluster=""}',
            '{cluster=~".*", level!="info"}',
            '{namespace!~"kube-.*"} |= "error"',
            'count_over_time({cluster=~".+"}[1m]) + count_over_time({cluster=~".*"}[1m])',
        ]) {
            assert.ok(lokiRefuses(refused) !== undefined, refused);
        }
        for (const accepted of [
            '{cluster=~".+"}',
            '{cluster=~"(main|sub-1)"}',
            '{cluster="main", level!="info"}',
            '{cluster=~".*", job="talos"} | level="error"',
            'count_over_time({cluster=~".+"}[1m]) + count_over_time({job="pods"}[1m])',
        ]) {
            assert.equal(lokiRefuses(accepted), undefined, accepted);
        }
        // A label filter after the selector is no stream matcher: it neither helps nor hurts.
        assert.ok(lokiRefuses('{cluster=~".*"} | level="error"') !== undefined);
    });

    it('was refused with the former "All" (`.*`) on the log lines panel, and is taken now', () => {
        const target = logqlTargets.find(
            (t) => t.dashboard === "obs-fleet" && t.panel === "Log lines received per cluster",
        );
        assert.ok(target);
        assert.ok(lokiRefuses(interpolate(String(target.json.expr), "All", ".*")) !== undefined);
        assert.equal(lokiRefuses(interpolate(String(target.json.expr), "All", target.allValue)), undefined);
    });

    for (const selection of Object.keys(SELECTIONS) as SelectionName[]) {
        it(`has every LogQL query taken by Loki, on labels the agents set, with cluster = ${JSON.stringify(SELECTIONS[selection])}`, () => {
            const labels = new Set<string>(LOKI_LABELS);
            for (const target of logqlTargets) {
                const query = interpolate(String(target.json.expr), SELECTIONS[selection], target.allValue);
                assert.equal(lokiRefuses(query), undefined, `${keyOf(target)}: ${query}`);
                for (const selector of streamSelectors(query).selectors) {
                    assert.ok(
                        selector.some((m) => m.label === "cluster"),
                        `${keyOf(target)} selects no cluster`,
                    );
                    for (const m of selector) assert.ok(labels.has(m.label), `${keyOf(target)}: label ${m.label}`);
                    // The cluster matcher keeps exactly the selected clusters.
                    const cluster = selector.find((m) => m.label === "cluster");
                    const kept = CLUSTERS.filter((name) => new RegExp(`^(?:${cluster?.value ?? ""})$`).test(name));
                    const chosen = SELECTIONS[selection];
                    assert.deepEqual(kept, chosen === "All" ? [...CLUSTERS] : [...chosen]);
                }
            }
        });
    }
});

// --- Tempo: the service graph's labels, TraceQL's attributes, links to traces -----------------

describe("dashboards on data: traces", () => {
    it("filters the service graph on the labels the metrics-generator writes (client_/server_ prefixed dimensions)", () => {
        const generator = (tempoConfig(testMain()) as Values).metrics_generator.processor;
        assert.equal(generator.service_graphs.enable_client_server_prefix, true);
        assert.ok(generator.service_graphs.dimensions.includes("cluster"));
        assert.ok(generator.span_metrics.dimensions.includes("cluster"));
        assert.ok((GENERATOR_DIMENSIONS as readonly string[]).includes("cluster"));
        for (const target of serviceMapTargets) {
            const selectors = target.json.serviceMapQuery as string[];
            assert.deepEqual(
                selectors.map((s) => /^\{(\w+)=~/.exec(s)?.[1]),
                ["client_cluster", "server_cluster"],
            );
        }
    });

    it("searches traces by the `cluster` resource attribute the gateway stamps, keeping the selected clusters", () => {
        assert.ok(clusterAttributes("sub-1").some((a) => a.key === "cluster" && a.value === "sub-1"));
        for (const target of traceqlTargets) {
            const query = String(target.json.query);
            assert.match(query, /^\{ resource\.cluster =~ "\$\{cluster:regex\}" && .+ \}$/, keyOf(target));
            for (const selection of Object.keys(SELECTIONS) as SelectionName[]) {
                const chosen = SELECTIONS[selection];
                const regex = /resource\.cluster =~ "([^"]*)"/.exec(interpolate(query, chosen, target.allValue))?.[1];
                const kept = CLUSTERS.filter((name) => new RegExp(`^(?:${regex ?? ""})$`).test(name));
                assert.deepEqual(
                    kept,
                    chosen === "All" ? [...CLUSTERS] : [...chosen],
                    `${keyOf(target)} [${selection}]`,
                );
            }
        }
    });

    it("links each service of the RED table to its traces in Explore, on the traces datasource", () => {
        const traces = dashboards.find((d) => d.json.uid === "obs-traces");
        const table = ((traces?.json.panels ?? []) as Values[]).find((p) => String(p.title).startsWith("Services:"));
        const links = (table?.fieldConfig?.defaults?.links ?? []) as Values[];
        assert.equal(links.length, 2);
        for (const link of links) {
            // Grafana fills the row's values percent-encoded, and the time range in milliseconds.
            const url = String(link.url)
                .replaceAll("${__data.fields.service:percentencode}", encodeURIComponent("check out"))
                .replaceAll("${__data.fields.cluster:percentencode}", "sub-1")
                .replaceAll("${__from}", "1000")
                .replaceAll("${__to}", "2000");
            const parsed = new URL(url, "https://grafana.example.org");
            assert.equal(parsed.pathname, "/explore");
            const panes = JSON.parse(parsed.searchParams.get("panes") ?? "{}") as Values;
            const pane = Object.values(panes)[0] as Values;
            assert.equal(pane.datasource, DATASOURCE_UIDS.traces);
            assert.deepEqual(pane.range, { from: "1000", to: "2000" });
            const query = pane.queries[0] as Values;
            assert.equal(query.datasource.uid, DATASOURCE_UIDS.traces);
            assert.equal(query.queryType, "traceql");
            assert.match(query.query, /resource\.service\.name = "check out" && resource\.cluster = "sub-1"/);
        }
        assert.match(String(links[1]?.url), /status%20%3D%20error/);
    });
});
