/**
 * `promtool test rules` cases for every alert of the stack: input series in promtool's
 * expanding notation (`a+bxN` is N+1 samples, one per minute unless the case says otherwise),
 * the evaluation time, and what must fire then, with the exact summary and description. A case
 * with no expected alert proves the alert stays silent on data that resembles the firing one.
 *
 * The unit-test fleet: main `hub`, one sub `edge-a`, local retention 2d. Certificates are
 * evaluated hourly (their alerts look days ahead); everything else every minute.
 */

import { OPTED_IN_METRIC, REPORT_SERIES as S } from "../components/alerting/rules";
import { CERTIFICATE_EXPIRY_METRIC, CERTIFICATE_RENEWAL_METRIC } from "../components/alerting/rules/certificates";

export interface ExpectedAlert {
    /** The alert's labels beyond the rule's own (severity, category, ...). */
    labels: Record<string, string>;
    summary: string;
    description: string;
}

export interface AlertCase {
    alert: string;
    /** What the case shows. */
    name: string;
    series: Record<string, string>;
    at: string;
    fires: ExpectedAlert[];
}

/**
 * When an alert fires, for the runbook's timing: `start` is the first sample that shows the
 * condition. The alert must be pending (not firing) one evaluation before `start` + the rule's
 * `timing.detection` + its `for`, and fire as `fires` says at that instant.
 */
export interface OnsetCase {
    alert: string;
    name: string;
    series: Record<string, string>;
    start: string;
    fires: ExpectedAlert[];
}

/**
 * A recording rule fed with every series its exporter exposes side by side (all the statuses,
 * reasons, containers and counters of one target), with each sample it must record at `at`.
 */
export interface RecordingCase {
    record: string;
    name: string;
    series: Record<string, string>;
    /** Interval of the input samples, when not the rule file's evaluation interval. */
    interval?: string;
    at: string;
    samples: { labels: Record<string, string>; value: number }[];
}

const OK = "STATUS_CODE_OK";
const ERROR = "STATUS_CODE_ERROR";
const server = (cluster: string, service: string, status: string) =>
    `traces_spanmetrics_calls_total{cluster="${cluster}", service="${service}", span_kind="SPAN_KIND_SERVER", status_code="${status}"}`;
const latency = (le: string) =>
    `traces_spanmetrics_latency_bucket{cluster="edge-a", service="shop", span_kind="SPAN_KIND_SERVER", le="${le}"}`;
const ready = (pod: string) => `kube_pod_status_ready{namespace="kube-system", pod="${pod}", condition="true"}`;
const controlPlaneNodes = {
    'kube_node_role{node="cp1", role="control-plane"}': "1x20",
    'kube_node_role{node="cp2", role="control-plane"}': "1x20",
};
const optIn = (type: string, name: string, value: string) =>
    `kube_${type}_labels{namespace="batch", ${type}="${name}", label_observability_criticality="${value}"}`;
const owner = (pod: string, workload: string, type: string) =>
    `namespace_workload_pod:kube_pod_owner:relabel{namespace="batch", pod="${pod}", workload="${workload}", workload_type="${type}"}`;
const PROM_POD = "prometheus-kps-prometheus-0";

/** The same timeline with every value 0 (gaps and staleness kept). */
const zeros = (values: string) =>
    values
        .split(" ")
        .map((v) => (v === "stale" || v.startsWith("_") ? v : v.replace(/^[0-9.]+(\+[0-9.]+)?/, "0")))
        .join(" ");
/** kube-state-metrics' three readiness series of a pod, `condition` true, false and unknown. */
const readiness = (pod: string, ready: string, notReady: string, extra = "") => ({
    [`kube_pod_status_ready{${extra}namespace="kube-system", pod="${pod}", condition="true"}`]: ready,
    [`kube_pod_status_ready{${extra}namespace="kube-system", pod="${pod}", condition="false"}`]: notReady,
    [`kube_pod_status_ready{${extra}namespace="kube-system", pod="${pod}", condition="unknown"}`]: zeros(ready),
});
const apiserver = (instance: string, extra = "") =>
    `up{${extra}job="apiserver", namespace="default", service="kubernetes", instance="${instance}"}`;
const receiver = (metric: string, transport: string) =>
    `otelcol_receiver_${metric}_spans{job="otel-gateway", pod="otel-gateway-0", receiver="otlp", transport="${transport}"}`;

/** Tempo's span-metric latency buckets (0.002 s doubling up to 16.384 s), as exposed. */
export const LATENCY_BUCKETS = [
    "0.002",
    "0.004",
    "0.008",
    "0.016",
    "0.032",
    "0.064",
    "0.128",
    "0.256",
    "0.512",
    "1.024",
    "2.048",
    "4.096",
    "8.192",
    "16.384",
    "+Inf",
] as const;

/** A counter growing by `step` a minute through consecutive segments of `minutes` each, from 0. */
function counter(segments: readonly { step: number; minutes: number }[]): string {
    let value = 0;
    return segments
        .map(({ step, minutes }, i) => {
            // The first segment starts with the sample at minute 0; each later one a minute after the last.
            const first = i === 0 ? 0 : value + step;
            const count = i === 0 ? minutes : minutes - 1;
            value = first + step * count;
            return `${first}+${step}x${count}`;
        })
        .join(" ");
}

/**
 * A latency histogram of one service's spans as Tempo exposes it (every bucket, `_count`,
 * `_sum`), from cumulative per-minute counts by bucket over consecutive segments (a bucket not
 * listed holds what the next smaller one holds).
 */
function histogram(
    labels: string,
    segments: readonly { perMinute: Readonly<Record<string, number>>; minutes: number }[],
): Record<string, string> {
    const cumulative = (perMinute: Readonly<Record<string, number>>) => {
        let last = 0;
        return LATENCY_BUCKETS.map((le) => (last = perMinute[le] ?? last));
    };
    const byBucket = segments.map((s) => ({ buckets: cumulative(s.perMinute), minutes: s.minutes }));
    const total = (s: { buckets: number[] }) => s.buckets[LATENCY_BUCKETS.length - 1] ?? 0;
    return {
        ...Object.fromEntries(
            LATENCY_BUCKETS.map((le, b) => [
                `traces_spanmetrics_latency_bucket{${labels}, le="${le}"}`,
                counter(byBucket.map((s) => ({ step: s.buckets[b] ?? 0, minutes: s.minutes }))),
            ]),
        ),
        [`traces_spanmetrics_latency_count{${labels}}`]: counter(
            byBucket.map((s) => ({ step: total(s), minutes: s.minutes })),
        ),
        // A quarter of a second per span on average: only its presence matters here.
        [`traces_spanmetrics_latency_sum{${labels}}`]: counter(
            byBucket.map((s) => ({ step: total(s) / 4, minutes: s.minutes })),
        ),
    };
}
const shop = (kind: string) =>
    `cluster="edge-a", service="shop", span_name="GET /cart", span_kind="${kind}", status_code="STATUS_CODE_UNSET"`;
/** 1000 server spans a minute, 1.5% of them between 4.096 and 8.192 s: a 95th percentile of 0.23 s, a 99th of 5.46 s. */
const SLOW_TAIL = {
    "0.016": 50,
    "0.032": 200,
    "0.064": 600,
    "0.128": 850,
    "0.256": 970,
    "0.512": 980,
    "1.024": 985,
    "8.192": 1000,
};
const FAST = { "0.016": 100, "0.032": 300, "0.064": 600, "0.128": 800, "0.256": 1000 };
const RULE_GROUP = "/etc/thanos/rules/fleet.yaml;observability.deadman";
const RULER_ROLLUPS = "/etc/thanos/rules/fleet.yaml;observability.report-traces";
const PROM_RULES =
    "/etc/prometheus/rules/prometheus-kps-prometheus-rulefiles-0/observability-observability-rules-3f7a.yaml";
const ROLLUPS = `${PROM_RULES};observability.report`;
const LOCAL_GROUP = `${PROM_RULES};observability.cluster-health`;

export const ALERT_CASES: AlertCase[] = [
    // --- cluster health ---------------------------------------------------------------------
    {
        alert: "ControlPlaneComponentDown",
        name: "one of two control-plane nodes has no ready scheduler",
        series: {
            ...controlPlaneNodes,
            [ready("kube-scheduler-cp1")]: "1x20",
            [ready("kube-scheduler-cp2")]: "0x20",
            [ready("kube-apiserver-cp1")]: "1x20",
            [ready("kube-apiserver-cp2")]: "1x20",
        },
        at: "15m",
        fires: [
            {
                labels: { component: "kube-scheduler" },
                summary: "kube-scheduler is not ready on every control-plane node",
                description:
                    "Only 1 control-plane nodes run a ready kube-scheduler static pod. Read from the mirror pods " +
                    "Talos' kubelet registers, so it works whether or not the component's metrics port is open.",
            },
        ],
    },
    {
        alert: "ControlPlaneComponentDown",
        name: "silent on Talos defaults: every mirror pod ready, no control-plane metrics scraped at all",
        series: {
            ...controlPlaneNodes,
            [ready("kube-scheduler-cp1")]: "1x20",
            [ready("kube-scheduler-cp2")]: "1x20",
            [ready("kube-controller-manager-cp1")]: "1x20",
            [ready("kube-controller-manager-cp2")]: "1x20",
            'up{job="kubelet"}': "1x20",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "ControlPlaneComponentDown",
        name: "silent when no scheduler is ready on any node: that is ControlPlaneComponentAbsent",
        series: {
            ...controlPlaneNodes,
            [ready("kube-scheduler-cp1")]: "0x20",
            [ready("kube-scheduler-cp2")]: "0x20",
            [ready("kube-apiserver-cp1")]: "1x20",
            [ready("kube-apiserver-cp2")]: "1x20",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "ControlPlaneComponentAbsent",
        name: "every scheduler mirror pod gone, the controller managers ready",
        series: {
            ...controlPlaneNodes,
            ...readiness("kube-scheduler-cp1", "1x4 stale", "0x4 stale"),
            ...readiness("kube-scheduler-cp2", "1x4 stale", "0x4 stale"),
            ...readiness("kube-controller-manager-cp1", "1x20", "0x20"),
            ...readiness("kube-controller-manager-cp2", "1x20", "0x20"),
            ...readiness("kube-apiserver-cp1", "1x20", "0x20"),
            ...readiness("coredns-5d78c9869d-abcde", "1x20", "0x20"),
        },
        at: "15m",
        fires: [
            {
                labels: { component: "kube-scheduler" },
                summary: "No ready kube-scheduler in the cluster",
                description:
                    "None of the 2 control-plane nodes runs a ready kube-scheduler pod, or its mirror pods are " +
                    "gone: the component is down in the whole cluster.",
            },
        ],
    },
    {
        alert: "ControlPlaneComponentAbsent",
        name: "controller-manager pods on every node, none ready (a crash loop everywhere)",
        series: {
            ...controlPlaneNodes,
            ...readiness("kube-scheduler-cp1", "1x20", "0x20"),
            ...readiness("kube-scheduler-cp2", "1x20", "0x20"),
            ...readiness("kube-controller-manager-cp1", "0x20", "1x20"),
            ...readiness("kube-controller-manager-cp2", "0x20", "1x20"),
        },
        at: "15m",
        fires: [
            {
                labels: { component: "kube-controller-manager" },
                summary: "No ready kube-controller-manager in the cluster",
                description:
                    "None of the 2 control-plane nodes runs a ready kube-controller-manager pod, or its mirror " +
                    "pods are gone: the component is down in the whole cluster.",
            },
        ],
    },
    {
        alert: "ControlPlaneComponentAbsent",
        name: "two clusters' data side by side: the scheduler is gone from edge-a only",
        series: {
            'kube_node_role{cluster="hub", node="cp1", role="control-plane"}': "1x20",
            'kube_node_role{cluster="edge-a", node="cp1", role="control-plane"}': "1x20",
            ...readiness("kube-scheduler-cp1", "1x20", "0x20", 'cluster="hub", '),
            ...readiness("kube-controller-manager-cp1", "1x20", "0x20", 'cluster="hub", '),
            ...readiness("kube-scheduler-cp1", "1x4 stale", "0x4 stale", 'cluster="edge-a", '),
            ...readiness("kube-controller-manager-cp1", "1x20", "0x20", 'cluster="edge-a", '),
        },
        at: "15m",
        fires: [
            {
                labels: { cluster: "edge-a", component: "kube-scheduler" },
                summary: "No ready kube-scheduler in the cluster",
                description:
                    "None of the 1 control-plane nodes runs a ready kube-scheduler pod, or its mirror pods are " +
                    "gone: the component is down in the whole cluster.",
            },
        ],
    },
    {
        alert: "ControlPlaneComponentAbsent",
        name: "silent while one of two schedulers is ready",
        series: {
            ...controlPlaneNodes,
            ...readiness("kube-scheduler-cp1", "1x20", "0x20"),
            ...readiness("kube-scheduler-cp2", "0x20", "1x20"),
            ...readiness("kube-controller-manager-cp1", "1x20", "0x20"),
            ...readiness("kube-controller-manager-cp2", "1x20", "0x20"),
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "ControlPlaneComponentAbsent",
        name: "silent when kube-state-metrics reports nothing at all (its own absence is not the control plane's)",
        series: { 'up{job="kube-state-metrics", instance="10.244.1.7:8080"}': "0x20" },
        at: "15m",
        fires: [],
    },
    {
        alert: "APIServerAllInstancesDown",
        name: "all three API server instances fail their scrapes",
        series: {
            [apiserver("10.0.0.10:6443")]: "1x4 0x20",
            [apiserver("10.0.0.11:6443")]: "1x4 0x20",
            [apiserver("10.0.0.12:6443")]: "1x4 0x20",
            'up{job="kubelet", instance="10.0.0.10:10250"}': "1x25",
        },
        at: "15m",
        fires: [
            {
                labels: {},
                summary: "No API server instance of the cluster answers",
                description:
                    "All 3 API server instances failed their scrapes for 5 minutes: the Kubernetes API of the " +
                    "cluster is down.",
            },
        ],
    },
    {
        alert: "APIServerAllInstancesDown",
        name: "two clusters' data side by side: every API server of edge-a down, hub's up",
        series: {
            [apiserver("10.0.0.10:6443", 'cluster="hub", ')]: "1x25",
            [apiserver("10.1.0.10:6443", 'cluster="edge-a", ')]: "1x4 0x20",
            [apiserver("10.1.0.11:6443", 'cluster="edge-a", ')]: "1x4 0x20",
        },
        at: "15m",
        fires: [
            {
                labels: { cluster: "edge-a" },
                summary: "No API server instance of the cluster answers",
                description:
                    "All 2 API server instances failed their scrapes for 5 minutes: the Kubernetes API of the " +
                    "cluster is down.",
            },
        ],
    },
    {
        alert: "APIServerAllInstancesDown",
        name: "silent while one of three instances answers (KubeAPIInstanceUnreachable's warning)",
        series: {
            [apiserver("10.0.0.10:6443")]: "1x4 0x20",
            [apiserver("10.0.0.11:6443")]: "1x4 0x20",
            [apiserver("10.0.0.12:6443")]: "1x25",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "APIServerAllInstancesDown",
        name: "silent when other jobs' targets are down",
        series: {
            [apiserver("10.0.0.10:6443")]: "1x25",
            'up{job="kubelet", instance="10.0.0.10:10250"}': "0x25",
            'up{job="kube-scheduler", instance="10.0.0.10:10259"}': "0x25",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "NodeConditionPressure",
        name: "memory pressure held for 5 minutes",
        series: {
            'kube_node_status_condition{node="w1", condition="MemoryPressure", status="true"}': "1x10",
            'kube_node_status_condition{node="w1", condition="MemoryPressure", status="false"}': "0x10",
        },
        at: "10m",
        fires: [
            {
                labels: { node: "w1", condition: "MemoryPressure" },
                summary: "Node w1 reports MemoryPressure",
                description: "The kubelet on w1 has reported MemoryPressure for 5 minutes: it evicts pods to recover.",
            },
        ],
    },
    {
        alert: "NodeConditionPressure",
        name: "silent on a ready node without pressure",
        series: {
            'kube_node_status_condition{node="w1", condition="MemoryPressure", status="true"}': "0x10",
            'kube_node_status_condition{node="w1", condition="Ready", status="true"}': "1x10",
        },
        at: "10m",
        fires: [],
    },
    // --- application health -----------------------------------------------------------------
    {
        alert: "ContainerOOMKilled",
        name: "a restart whose last termination was an OOM kill",
        series: {
            'kube_pod_container_status_restarts_total{namespace="shop", pod="api-1", container="api"}': "0x15 1x10",
            'kube_pod_container_status_last_terminated_reason{namespace="shop", pod="api-1", container="api", reason="OOMKilled"}':
                "0x15 1x10",
        },
        at: "18m",
        fires: [
            {
                labels: { namespace: "shop", pod: "api-1", container: "api" },
                summary: "shop/api-1 (api) was OOM-killed",
                description:
                    "Container api restarted 1 times in 10 minutes, the last time killed for exceeding its memory limit.",
            },
        ],
    },
    {
        alert: "ContainerOOMKilled",
        name: "silent on a restart for another reason",
        series: {
            'kube_pod_container_status_restarts_total{namespace="shop", pod="api-1", container="api"}': "0x15 1x10",
            'kube_pod_container_status_last_terminated_reason{namespace="shop", pod="api-1", container="api", reason="Error"}':
                "0x15 1x10",
            'kube_pod_container_status_last_terminated_reason{namespace="shop", pod="api-1", container="api", reason="OOMKilled"}':
                "0x25",
        },
        at: "18m",
        fires: [],
    },
    // --- remediation ------------------------------------------------------------------------
    {
        alert: "NonCriticalWorkloadCPUOverBudget",
        name: "an opted-in deployment at 3 times its CPU request",
        series: {
            [optIn("deployment", "crunch", "non-critical")]: "1x30",
            [owner("crunch-1", "crunch", "deployment")]: "1x30",
            'container_cpu_usage_seconds_total{namespace="batch", pod="crunch-1", container="app", image="crunch:1"}':
                "0+180x30",
            'kube_pod_container_resource_requests{namespace="batch", pod="crunch-1", container="app", resource="cpu"}':
                "1x30",
        },
        at: "20m",
        fires: [
            {
                labels: { namespace: "batch", workload: "crunch", workload_type: "deployment" },
                summary: "Non-critical deployment batch/crunch uses 3 times the CPU it requests",
                description:
                    "Above its budget of 2 times its CPU request for 10m: the remediator acts on it according to its mode.",
            },
        ],
    },
    {
        alert: "NonCriticalWorkloadCPUOverBudget",
        name: "silent on the same usage by a workload that did not opt in",
        series: {
            [optIn("deployment", "crunch", "critical")]: "1x30",
            [owner("crunch-1", "crunch", "deployment")]: "1x30",
            'container_cpu_usage_seconds_total{namespace="batch", pod="crunch-1", container="app", image="crunch:1"}':
                "0+180x30",
            'kube_pod_container_resource_requests{namespace="batch", pod="crunch-1", container="app", resource="cpu"}':
                "1x30",
        },
        at: "20m",
        fires: [],
    },
    {
        alert: "NonCriticalWorkloadMemoryNearLimit",
        name: "an opted-in statefulset at 95% of its memory limit",
        series: {
            [optIn("statefulset", "cache", "non-critical")]: "1x30",
            [owner("cache-0", "cache", "statefulset")]: "1x30",
            'container_memory_working_set_bytes{namespace="batch", pod="cache-0", container="redis", image="redis:7"}':
                "950x30",
            'kube_pod_container_resource_limits{namespace="batch", pod="cache-0", container="redis", resource="memory"}':
                "1000x30",
        },
        at: "20m",
        fires: [
            {
                labels: { namespace: "batch", workload: "cache", workload_type: "statefulset" },
                summary: "Non-critical statefulset batch/cache is at 95% of its memory limit",
                description:
                    "A container has stayed above 90% of its memory limit for 10m: the next spike is an OOM kill. " +
                    "The remediator acts on it according to its mode.",
            },
        ],
    },
    {
        alert: "NonCriticalWorkloadMemoryNearLimit",
        name: "silent on an opted-in statefulset that opted out by annotation",
        series: {
            [optIn("statefulset", "cache", "non-critical")]: "1x30",
            'kube_statefulset_annotations{namespace="batch", statefulset="cache", annotation_observability_remediation_opt_out="true"}':
                "1x30",
            [owner("cache-0", "cache", "statefulset")]: "1x30",
            'container_memory_working_set_bytes{namespace="batch", pod="cache-0", container="redis", image="redis:7"}':
                "950x30",
            'kube_pod_container_resource_limits{namespace="batch", pod="cache-0", container="redis", resource="memory"}':
                "1000x30",
        },
        at: "20m",
        fires: [],
    },
    {
        alert: "NonCriticalWorkloadRestartStorm",
        name: "an opted-in deployment restarting every minute",
        series: {
            [optIn("deployment", "flaky", "non-critical")]: "1x40",
            [owner("flaky-1", "flaky", "deployment")]: "1x40",
            'kube_pod_container_status_restarts_total{namespace="batch", pod="flaky-1", container="app"}': "0+1x40",
        },
        at: "30m",
        fires: [
            {
                labels: { namespace: "batch", workload: "flaky", workload_type: "deployment" },
                summary: "Non-critical deployment batch/flaky restarted 15 times in 15 minutes",
                description:
                    "At least 5 container restarts in 15 minutes, for 10m: a crash loop burning CPU, image pulls " +
                    "and log volume. The remediator acts on it according to its mode.",
            },
        ],
    },
    {
        alert: "NonCriticalWorkloadRestartStorm",
        name: "silent on two restarts in a quarter of an hour",
        series: {
            [optIn("deployment", "flaky", "non-critical")]: "1x40",
            [owner("flaky-1", "flaky", "deployment")]: "1x40",
            'kube_pod_container_status_restarts_total{namespace="batch", pod="flaky-1", container="app"}':
                "0x20 1x10 2x10",
        },
        at: "30m",
        fires: [],
    },
    {
        alert: "RemediatorNotPolling",
        name: "a remediator whose last good poll is stuck",
        series: { 'observability_remediation_last_successful_poll_timestamp_seconds{pod="remediator-1"}': "0x20" },
        at: "10m",
        fires: [
            {
                labels: { pod: "remediator-1" },
                summary: "The remediator of this cluster has not read its alerts for 10m 0s",
                description:
                    "Its last successful poll of Prometheus' alerts is older than 150s (5 poll intervals): " +
                    "over-budget workloads are not acted on.",
            },
        ],
    },
    {
        alert: "RemediatorNotPolling",
        name: "silent while polls succeed",
        series: { 'observability_remediation_last_successful_poll_timestamp_seconds{pod="remediator-1"}': "0+60x20" },
        at: "10m",
        fires: [],
    },
    // --- the weekly report ----------------------------------------------------------------
    {
        alert: "WeeklyReportNotDelivered",
        name: "the last scheduled run never succeeded",
        series: {
            'kube_cronjob_status_last_schedule_time{namespace="observability", cronjob="weekly-report"}': "100000x60",
            'kube_cronjob_status_last_successful_time{namespace="observability", cronjob="weekly-report"}': "99000x60",
        },
        at: "50m",
        fires: [
            {
                labels: { namespace: "observability", cronjob: "weekly-report" },
                summary: "The weekly health report was not delivered",
                description:
                    "The report's last scheduled run has not succeeded, or none has for 8 days: a delivery " +
                    "channel refused it, the fleet's stores could not be read, or the CronJob does not run.",
            },
        ],
    },
    {
        alert: "WeeklyReportNotDelivered",
        name: "the first run failed: no success at all",
        series: {
            'kube_cronjob_status_last_schedule_time{namespace="observability", cronjob="weekly-report"}': "100000x60",
        },
        at: "50m",
        fires: [
            {
                labels: { namespace: "observability", cronjob: "weekly-report" },
                summary: "The weekly health report was not delivered",
                description:
                    "The report's last scheduled run has not succeeded, or none has for 8 days: a delivery " +
                    "channel refused it, the fleet's stores could not be read, or the CronJob does not run.",
            },
        ],
    },
    {
        alert: "WeeklyReportNotDelivered",
        name: "silent once the scheduled run succeeded",
        series: {
            'kube_cronjob_status_last_schedule_time{namespace="observability", cronjob="weekly-report"}': "1000x60",
            'kube_cronjob_status_last_successful_time{namespace="observability", cronjob="weekly-report"}': "1200x60",
        },
        at: "50m",
        fires: [],
    },
    {
        alert: "WeeklyReportNotDelivered",
        name: "silent in another namespace's CronJob of the same name",
        series: {
            'kube_cronjob_status_last_schedule_time{namespace="other", cronjob="weekly-report"}': "1000x60",
            'kube_cronjob_status_last_successful_time{namespace="other", cronjob="weekly-report"}': "900x60",
        },
        at: "50m",
        fires: [],
    },
    // --- agents -----------------------------------------------------------------------------
    {
        alert: "RemoteWriteSamplesDropped",
        name: "samples dropped as too old",
        series: {
            'prometheus_remote_storage_samples_dropped_total{remote_name="main", url="https://metrics.obs.acme.test/api/v1/receive", reason="too_old"}':
                "0+10x20",
        },
        at: "15m",
        fires: [
            {
                labels: { remote_name: "main", url: "https://metrics.obs.acme.test/api/v1/receive" },
                summary: "Prometheus dropped samples meant for main (main)",
                description:
                    "100 samples were dropped in 10 minutes instead of being sent to " +
                    "https://metrics.obs.acme.test/api/v1/receive: they are lost for main.",
            },
        ],
    },
    {
        alert: "RemoteWriteSamplesDropped",
        name: "silent when the drop counter stands still",
        series: {
            'prometheus_remote_storage_samples_dropped_total{remote_name="main", url="https://metrics.obs.acme.test/api/v1/receive", reason="too_old"}':
                "5x20",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "LogAgentBufferNearlyFull",
        name: "a disk buffer 90% full for 10 minutes",
        series: {
            'vector_buffer_size_bytes{pod="vector-x", component_id="to_main", buffer_type="disk"}': "900x20",
            'vector_buffer_max_size_bytes{pod="vector-x", component_id="to_main", buffer_type="disk"}': "1000x20",
        },
        at: "15m",
        fires: [
            {
                labels: { pod: "vector-x", component_id: "to_main" },
                summary: "Log agent vector-x buffer to_main is 90% full",
                description:
                    "The disk buffer of sink to_main holds 90% of its size: main is not taking logs as fast as " +
                    "the node produces them. When full, the agent stops reading.",
            },
        ],
    },
    {
        alert: "LogAgentBufferNearlyFull",
        name: "silent at half full",
        series: {
            'vector_buffer_size_bytes{pod="vector-x", component_id="to_main", buffer_type="disk"}': "500x20",
            'vector_buffer_max_size_bytes{pod="vector-x", component_id="to_main", buffer_type="disk"}': "1000x20",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "LogAgentDroppingEvents",
        name: "events discarded by a buffer",
        series: { 'vector_buffer_discarded_events_total{pod="vector-x", component_id="to_main"}': "0+3x20" },
        at: "15m",
        fires: [
            {
                labels: { pod: "vector-x", component_id: "to_main" },
                summary: "Log agent vector-x discarded log events",
                description: "30 events were discarded by buffer to_main in 10 minutes.",
            },
        ],
    },
    {
        alert: "LogAgentDroppingEvents",
        name: "silent when nothing more is discarded",
        series: { 'vector_buffer_discarded_events_total{pod="vector-x", component_id="to_main"}': "12x20" },
        at: "15m",
        fires: [],
    },
    {
        alert: "LogAgentSinkErrors",
        name: "a sink failing for 15 minutes",
        series: {
            'vector_component_errors_total{pod="vector-x", component_id="to_main", component_kind="sink"}': "0+60x30",
        },
        at: "25m",
        fires: [
            {
                labels: { pod: "vector-x", component_id: "to_main" },
                summary: "Log agent vector-x fails to send (to_main)",
                description: "Sink to_main reports 1 errors per second for 15 minutes.",
            },
        ],
    },
    {
        alert: "LogAgentSinkErrors",
        name: "silent on errors of a source, not a sink",
        series: {
            'vector_component_errors_total{pod="vector-x", component_id="pods", component_kind="source"}': "0+60x30",
        },
        at: "25m",
        fires: [],
    },
    {
        alert: "TraceGatewayQueueFilling",
        name: "queue at 60% for 10 minutes",
        series: {
            'otelcol_exporter_queue_size{pod="gw-0", exporter="otlp/main"}': "600x20",
            'otelcol_exporter_queue_capacity{pod="gw-0", exporter="otlp/main"}': "1000x20",
        },
        at: "15m",
        fires: [
            {
                labels: { pod: "gw-0", exporter: "otlp/main" },
                summary: "Trace gateway gw-0 queue is 60% full",
                description:
                    "Exporter otlp/main holds 60% of its queue for 10 minutes: spans leave more slowly than they arrive.",
            },
        ],
    },
    {
        alert: "TraceGatewayQueueFilling",
        name: "silent at 10%",
        series: {
            'otelcol_exporter_queue_size{pod="gw-0", exporter="otlp/main"}': "100x20",
            'otelcol_exporter_queue_capacity{pod="gw-0", exporter="otlp/main"}': "1000x20",
        },
        at: "15m",
        fires: [],
    },
    {
        alert: "TraceGatewayDroppingSpans",
        name: "spans refused by a full queue",
        series: { 'otelcol_exporter_enqueue_failed_spans{pod="gw-0", exporter="otlp/main"}': "0+5x20" },
        at: "15m",
        fires: [
            {
                labels: { pod: "gw-0", exporter: "otlp/main" },
                summary: "Trace gateway gw-0 dropped spans",
                description: "50 spans could not be queued by otlp/main in 10 minutes: the queue is full.",
            },
        ],
    },
    {
        alert: "TraceGatewayDroppingSpans",
        name: "silent when the counter stands still",
        series: { 'otelcol_exporter_enqueue_failed_spans{pod="gw-0", exporter="otlp/main"}': "7x20" },
        at: "15m",
        fires: [],
    },
    {
        alert: "TraceGatewayExportFailing",
        name: "exports failing for 15 minutes",
        series: { 'otelcol_exporter_send_failed_spans{pod="gw-0", exporter="otlp/main"}': "0+120x30" },
        at: "25m",
        fires: [
            {
                labels: { pod: "gw-0", exporter: "otlp/main" },
                summary: "Trace gateway gw-0 fails to export spans",
                description: "otlp/main fails 2 spans per second for 15 minutes.",
            },
        ],
    },
    {
        alert: "TraceGatewayExportFailing",
        name: "silent while spans are sent without failure",
        series: {
            'otelcol_exporter_send_failed_spans{pod="gw-0", exporter="otlp/main"}': "0x30",
            'otelcol_exporter_sent_spans{pod="gw-0", exporter="otlp/main"}': "0+600x30",
        },
        at: "25m",
        fires: [],
    },
    {
        alert: "TraceGatewayRefusingSpans",
        name: "the receiver refuses a span per second over gRPC, HTTP unaffected",
        series: {
            [receiver("accepted", "grpc")]: "0+600x30",
            [receiver("refused", "grpc")]: "0+60x30",
            [receiver("failed", "grpc")]: "0x30",
            [receiver("accepted", "http")]: "0+120x30",
            [receiver("refused", "http")]: "0x30",
            [receiver("failed", "http")]: "0x30",
        },
        at: "25m",
        fires: [
            {
                labels: { pod: "otel-gateway-0", receiver: "otlp", transport: "grpc" },
                summary: "Trace gateway otel-gateway-0 refuses incoming spans (grpc)",
                description:
                    "Receiver otlp turns away 1 spans per second over grpc for 10 minutes: applications must " +
                    "retry them or lose them.",
            },
        ],
    },
    {
        alert: "TraceGatewayRefusingSpans",
        name: "spans counted as failed rather than refused (the newReceiverMetrics feature gate on)",
        series: {
            [receiver("accepted", "grpc")]: "0+600x30",
            [receiver("refused", "grpc")]: "0x30",
            [receiver("failed", "grpc")]: "0+120x30",
        },
        at: "25m",
        fires: [
            {
                labels: { pod: "otel-gateway-0", receiver: "otlp", transport: "grpc" },
                summary: "Trace gateway otel-gateway-0 refuses incoming spans (grpc)",
                description:
                    "Receiver otlp turns away 2 spans per second over grpc for 10 minutes: applications must " +
                    "retry them or lose them.",
            },
        ],
    },
    {
        alert: "TraceGatewayRefusingSpans",
        name: "silent when refusals stopped and everything is accepted",
        series: {
            [receiver("accepted", "grpc")]: "0+600x30",
            [receiver("refused", "grpc")]: "12x30",
            [receiver("failed", "grpc")]: "0x30",
        },
        at: "25m",
        fires: [],
    },
    // --- local retention (2d: limit 48h + 4.8h + 3h = 200880 s) ------------------------------
    {
        alert: "PrometheusDataBeyondRetention",
        name: "oldest sample 305400 s old, past the 2d contract and its slack",
        series: { [`prometheus_tsdb_lowest_timestamp_seconds{pod="${PROM_POD}"}`]: "-300000x100" },
        at: "90m",
        fires: [
            {
                labels: { pod: PROM_POD },
                summary: `Prometheus ${PROM_POD} keeps data longer than its retention`,
                description: "Its oldest sample is 3d 12h 50m 0s old; the contract is 2d (plus block slack).",
            },
        ],
    },
    {
        alert: "PrometheusDataBeyondRetention",
        name: "silent with data younger than the contract",
        series: { [`prometheus_tsdb_lowest_timestamp_seconds{pod="${PROM_POD}"}`]: "-150000x100" },
        at: "90m",
        fires: [],
    },
    {
        alert: "PrometheusRetentionBySize",
        name: "a size-based deletion in the last hour",
        series: { [`prometheus_tsdb_size_retentions_total{pod="${PROM_POD}"}`]: "0x30 1x40" },
        at: "60m",
        fires: [
            {
                labels: { pod: PROM_POD },
                summary: `Prometheus ${PROM_POD} deletes data before its retention time: the volume is too small`,
                description:
                    "Blocks were deleted 1 times in the last hour to stay under the size limit, before 2d of data was kept.",
            },
        ],
    },
    {
        alert: "PrometheusRetentionBySize",
        name: "silent when only time-based retention deletes",
        series: {
            [`prometheus_tsdb_size_retentions_total{pod="${PROM_POD}"}`]: "0x70",
            [`prometheus_tsdb_time_retentions_total{pod="${PROM_POD}"}`]: "0+1x70",
        },
        at: "60m",
        fires: [],
    },
    // --- stores on main -----------------------------------------------------------------------
    {
        alert: "ThanosCompactHalted",
        name: "compactor halted",
        series: { 'thanos_compact_halted{pod="thanos-compact-0"}': "1x10" },
        at: "10m",
        fires: [
            {
                labels: {},
                summary: "Thanos compactor halted",
                description:
                    "The compactor stopped on an error it will not retry: no compaction, no downsampling, no retention until it is fixed.",
            },
        ],
    },
    {
        alert: "ThanosCompactHalted",
        name: "silent while it runs",
        series: { 'thanos_compact_halted{pod="thanos-compact-0"}': "0x10" },
        at: "10m",
        fires: [],
    },
    {
        alert: "ThanosReceiveErrors",
        name: "10% of remote-write requests fail",
        series: {
            'http_requests_total{handler="receive", code="200"}': "0+540x30",
            'http_requests_total{handler="receive", code="500"}': "0+60x30",
        },
        at: "20m",
        fires: [
            {
                labels: {},
                summary: "Thanos Receive fails 10% of remote-write requests",
                description:
                    "10% of the remote-write requests from the fleet end in a 5xx: sub clusters retry and fall behind.",
            },
        ],
    },
    {
        alert: "ThanosReceiveErrors",
        name: "silent when 5xx are on another handler",
        series: {
            'http_requests_total{handler="receive", code="200"}': "0+540x30",
            'http_requests_total{handler="query", code="500"}': "0+60x30",
        },
        at: "20m",
        fires: [],
    },
    {
        alert: "ThanosBucketOperationsFailing",
        name: "a fifth of the store gateway's reads fail",
        series: {
            'thanos_objstore_bucket_operations_total{job="thanos-store-gateway", operation="get"}': "0+100x30",
            'thanos_objstore_bucket_operation_failures_total{job="thanos-store-gateway", operation="get"}': "0+20x30",
        },
        at: "25m",
        fires: [
            {
                labels: { job: "thanos-store-gateway", operation: "get" },
                summary: "thanos-store-gateway fails 20% of get calls to object storage",
                description: "Object storage refuses or fails 20% of get operations from thanos-store-gateway.",
            },
        ],
    },
    {
        alert: "ThanosBucketOperationsFailing",
        name: "silent without failures",
        series: {
            'thanos_objstore_bucket_operations_total{job="thanos-store-gateway", operation="get"}': "0+100x30",
            'thanos_objstore_bucket_operation_failures_total{job="thanos-store-gateway", operation="get"}': "3x30",
        },
        at: "25m",
        fires: [],
    },
    {
        alert: "ThanosRuleEvaluationFailing",
        name: "the Ruler fails a fleet group",
        series: {
            [`prometheus_rule_evaluation_failures_total{rule_group="${RULE_GROUP}", strategy="abort"}`]: "0+1x30",
        },
        at: "25m",
        fires: [
            {
                labels: { rule_group: RULE_GROUP },
                summary: `Thanos Ruler fails to evaluate ${RULE_GROUP}`,
                description:
                    "10 evaluations of the fleet rule group failed in 10 minutes: the fleet alerts it holds (dead-man's switches among them) are blind.",
            },
        ],
    },
    {
        alert: "ThanosRuleEvaluationFailing",
        name: "silent on Prometheus' own failures (no strategy label: kube-prometheus-stack alerts on those)",
        series: { 'prometheus_rule_evaluation_failures_total{rule_group="/etc/prometheus/rules/x.yaml;g"}': "0+1x30" },
        at: "25m",
        fires: [],
    },
    {
        alert: "ThanosRuleEvaluationFailing",
        name: "silent on the Ruler's hourly group failing once an evaluation: RollupEvaluationFailing's",
        series: {
            [`prometheus_rule_evaluation_failures_total{job="thanos-rule", rule_group="${RULER_ROLLUPS}", strategy="abort"}`]:
                "0x30 1x30",
            [`prometheus_rule_group_interval_seconds{job="thanos-rule", rule_group="${RULER_ROLLUPS}", strategy="abort"}`]:
                "3600x60",
        },
        at: "45m",
        fires: [],
    },
    {
        alert: "RollupEvaluationFailing",
        name: "Prometheus' hourly roll-up group failed its last evaluation",
        series: {
            [`prometheus_rule_evaluation_failures_total{job="kps-prometheus", pod="${PROM_POD}", rule_group="${ROLLUPS}"}`]:
                "0x30 1x30",
            [`prometheus_rule_group_interval_seconds{job="kps-prometheus", pod="${PROM_POD}", rule_group="${ROLLUPS}"}`]:
                "3600x60",
            [`prometheus_rule_evaluations_total{job="kps-prometheus", pod="${PROM_POD}", rule_group="${ROLLUPS}"}`]:
                "0x30 1x30",
            [`prometheus_rule_evaluation_failures_total{job="kps-prometheus", pod="${PROM_POD}", rule_group="${LOCAL_GROUP}"}`]:
                "0x60",
            [`prometheus_rule_group_interval_seconds{job="kps-prometheus", pod="${PROM_POD}", rule_group="${LOCAL_GROUP}"}`]:
                "30x60",
        },
        at: "45m",
        fires: [
            {
                labels: { job: "kps-prometheus", rule_group: ROLLUPS },
                summary: `kps-prometheus fails to evaluate ${ROLLUPS}`,
                description: `1 evaluations of ${ROLLUPS}, a group evaluated every 5m or less often, failed in the last 90m: the series it records have holes.`,
            },
        ],
    },
    {
        alert: "RollupEvaluationFailing",
        name: "the Thanos Ruler's hourly group failed, seen by main's Prometheus",
        series: {
            [`prometheus_rule_evaluation_failures_total{job="thanos-rule", rule_group="${RULER_ROLLUPS}", strategy="abort"}`]:
                "0x30 1x30",
            [`prometheus_rule_group_interval_seconds{job="thanos-rule", rule_group="${RULER_ROLLUPS}", strategy="abort"}`]:
                "3600x60",
        },
        at: "45m",
        fires: [
            {
                labels: { job: "thanos-rule", rule_group: RULER_ROLLUPS },
                summary: `thanos-rule fails to evaluate ${RULER_ROLLUPS}`,
                description: `1 evaluations of ${RULER_ROLLUPS}, a group evaluated every 5m or less often, failed in the last 90m: the series it records have holes.`,
            },
        ],
    },
    {
        alert: "RollupEvaluationFailing",
        name: "silent on a group evaluated every 30 s failing: PrometheusRuleFailures pages for it",
        series: {
            [`prometheus_rule_evaluation_failures_total{job="kps-prometheus", pod="${PROM_POD}", rule_group="${LOCAL_GROUP}"}`]:
                "0+2x60",
            [`prometheus_rule_group_interval_seconds{job="kps-prometheus", pod="${PROM_POD}", rule_group="${LOCAL_GROUP}"}`]:
                "30x60",
        },
        at: "45m",
        fires: [],
    },
    {
        alert: "RollupEvaluationFailing",
        name: "silent once the hourly group's last failure is more than 90 minutes old",
        series: {
            [`prometheus_rule_evaluation_failures_total{job="kps-prometheus", pod="${PROM_POD}", rule_group="${ROLLUPS}"}`]:
                "0x10 1x120",
            [`prometheus_rule_group_interval_seconds{job="kps-prometheus", pod="${PROM_POD}", rule_group="${ROLLUPS}"}`]:
                "3600x130",
        },
        at: "110m",
        fires: [],
    },
    {
        alert: "ThanosRuleAlertDeliveryFailing",
        name: "the Ruler drops alerts",
        series: {
            'thanos_alert_sender_alerts_dropped_total{pod="thanos-rule-0"}': "0+1x30",
            'thanos_alert_sender_errors_total{pod="thanos-rule-0", alertmanager="http://10.0.0.9:9093/api/v2/alerts"}':
                "0x30",
        },
        at: "25m",
        fires: [
            {
                labels: {},
                summary: "Thanos Ruler cannot deliver fleet alerts to Alertmanager",
                description: "The Ruler fails or drops alert notifications (10) for 10 minutes.",
            },
        ],
    },
    {
        alert: "ThanosRuleAlertDeliveryFailing",
        name: "silent while delivery works",
        series: {
            'thanos_alert_sender_alerts_dropped_total{pod="thanos-rule-0"}': "0x30",
            'thanos_alert_sender_errors_total{pod="thanos-rule-0", alertmanager="http://10.0.0.9:9093/api/v2/alerts"}':
                "0x30",
        },
        at: "25m",
        fires: [],
    },
    {
        alert: "ThanosRuleConfigReloadFailing",
        name: "a failed reload",
        series: { 'thanos_rule_config_last_reload_successful{pod="thanos-rule-0"}': "0x20" },
        at: "15m",
        fires: [
            {
                labels: {},
                summary: "Thanos Ruler could not load its rules",
                description:
                    "The last reload of the fleet rule files failed: the Ruler keeps evaluating the previous ones.",
            },
        ],
    },
    {
        alert: "ThanosRuleConfigReloadFailing",
        name: "silent after a good reload",
        series: { 'thanos_rule_config_last_reload_successful{pod="thanos-rule-0"}': "1x20" },
        at: "15m",
        fires: [],
    },
    {
        alert: "LokiPushErrors",
        name: "10% of pushes fail",
        series: {
            'loki_request_duration_seconds_count{route="loki_api_v1_push", status_code="204"}': "0+900x30",
            'loki_request_duration_seconds_count{route="loki_api_v1_push", status_code="500"}': "0+100x30",
        },
        at: "20m",
        fires: [
            {
                labels: { route: "loki_api_v1_push" },
                summary: "Loki fails 10% of log pushes (loki_api_v1_push)",
                description: "10% of pushes on loki_api_v1_push end in a 5xx: agents retry and buffer.",
            },
        ],
    },
    {
        alert: "LokiPushErrors",
        name: "silent when the errors are on queries",
        series: {
            'loki_request_duration_seconds_count{route="loki_api_v1_push", status_code="204"}': "0+900x30",
            'loki_request_duration_seconds_count{route="loki_api_v1_query_range", status_code="500"}': "0+100x30",
        },
        at: "20m",
        fires: [],
    },
    {
        alert: "LokiDiscardingLogs",
        name: "a tenant rate-limited for 15 minutes",
        series: { 'loki_discarded_samples_total{tenant="edge-a", reason="rate_limited"}': "0+60x30" },
        at: "25m",
        fires: [
            {
                labels: { tenant: "edge-a", reason: "rate_limited" },
                summary: "Loki discards logs of edge-a (rate_limited)",
                description: "1 lines per second of tenant edge-a are refused for rate_limited.",
            },
        ],
    },
    {
        alert: "LokiDiscardingLogs",
        name: "silent when discards stopped",
        series: { 'loki_discarded_samples_total{tenant="edge-a", reason="rate_limited"}': "40x30" },
        at: "25m",
        fires: [],
    },
    {
        alert: "TempoRefusingSpans",
        name: "the receiver refuses spans",
        series: { 'tempo_receiver_refused_spans{receiver="otlp", transport="grpc"}': "0+60x30" },
        at: "20m",
        fires: [
            {
                labels: {},
                summary: "Tempo refuses spans",
                description: "Tempo's OTLP receiver refuses 1 spans per second: gateways queue and retry them.",
            },
        ],
    },
    {
        alert: "TempoRefusingSpans",
        name: "silent while everything is accepted",
        series: {
            'tempo_receiver_refused_spans{receiver="otlp", transport="grpc"}': "0x30",
            'tempo_receiver_accepted_spans{receiver="otlp", transport="grpc"}': "0+600x30",
        },
        at: "20m",
        fires: [],
    },
    {
        alert: "TempoDiscardingSpans",
        name: "too large traces discarded",
        series: { 'tempo_discarded_spans_total{reason="trace_too_large", tenant="single-tenant"}': "0+120x30" },
        at: "25m",
        fires: [
            {
                labels: { reason: "trace_too_large" },
                summary: "Tempo discards spans (trace_too_large)",
                description: "2 spans per second are discarded for trace_too_large.",
            },
        ],
    },
    {
        alert: "TempoDiscardingSpans",
        name: "silent when discards stopped",
        series: { 'tempo_discarded_spans_total{reason="trace_too_large", tenant="single-tenant"}': "9x30" },
        at: "25m",
        fires: [],
    },
    // --- store retention ----------------------------------------------------------------------
    {
        alert: "ThanosCompactNotRunning",
        name: "no successful iteration for 6 hours",
        series: { 'thanos_compact_iterations_total{pod="thanos-compact-0"}': "7x500" },
        at: "400m",
        fires: [
            {
                labels: {},
                summary: "Thanos compactor has not completed a run in 6 hours",
                description:
                    "No successful compactor iteration in 6 hours: metric retention and downsampling are not applied to object storage.",
            },
        ],
    },
    {
        alert: "ThanosCompactNotRunning",
        name: "silent while iterations complete",
        series: { 'thanos_compact_iterations_total{pod="thanos-compact-0"}': "0+1x500" },
        at: "400m",
        fires: [],
    },
    {
        alert: "LokiRetentionNotApplied",
        name: "retention last succeeded 5 hours ago",
        series: { 'loki_compactor_apply_retention_last_successful_run_timestamp_seconds{pod="loki-0"}': "0x400" },
        at: "300m",
        fires: [
            {
                labels: {},
                summary: "Loki's retention has not run successfully",
                description:
                    "Loki's compactor last applied retention 5h 0m 0s ago, or failed to: logs older than the contract stay in the bucket.",
            },
        ],
    },
    {
        alert: "LokiRetentionNotApplied",
        name: "silent while retention runs every minute and never fails",
        series: {
            'loki_compactor_apply_retention_last_successful_run_timestamp_seconds{pod="loki-0"}': "0+60x400",
            'loki_compactor_apply_retention_operation_total{pod="loki-0", status="failure"}': "0x400",
        },
        at: "300m",
        fires: [],
    },
    {
        alert: "TempoRetentionFailing",
        name: "a retention error in the last hour",
        series: { 'tempodb_retention_errors_total{pod="tempo-0"}': "0x30 1x40" },
        at: "60m",
        fires: [
            {
                labels: {},
                summary: "Tempo fails to apply retention",
                description: "1 retention errors in the last hour: trace blocks older than the contract may stay.",
            },
        ],
    },
    {
        alert: "TempoRetentionFailing",
        name: "silent without errors",
        series: { 'tempodb_retention_errors_total{pod="tempo-0"}': "0x70" },
        at: "60m",
        fires: [],
    },
    // --- certificates (hourly; the sample certificate renews from 0 and expires at 30 days) -----
    {
        alert: "ObservabilityCertificateRenewalOverdue",
        name: "renewal window open for 30 hours",
        series: {},
        at: "30h",
        fires: [
            {
                labels: { certificate: "cluster-edge-a", profile: "cluster", common_name: "edge-a" },
                summary: "Certificate cluster-edge-a is past its renewal date",
                description:
                    "Its renewal window opened 1d 6h 0m 0s ago and no `pulumi up` of main has renewed it: the " +
                    "scheduled rotation run is not happening.",
            },
        ],
    },
    {
        alert: "ObservabilityCertificateRenewalOverdue",
        name: "silent within the first day of the window",
        series: {},
        at: "20h",
        fires: [],
    },
    {
        alert: "ObservabilityCertificateExpiring",
        name: "5 days before expiry",
        series: {},
        at: "600h",
        fires: [
            {
                labels: { certificate: "cluster-edge-a", profile: "cluster", common_name: "edge-a" },
                summary: "Certificate cluster-edge-a expires in 5d 0h 0m 0s",
                description: "edge-a (cluster) expires in 5d 0h 0m 0s; when it does, the mTLS link it secures stops.",
            },
        ],
    },
    {
        alert: "ObservabilityCertificateExpiring",
        name: "silent 10 days before expiry",
        series: {},
        at: "480h",
        fires: [],
    },
    // --- fleet: dead-man's switches -----------------------------------------------------------
    {
        alert: "ClusterMetricsAbsent",
        name: "fires 5 minutes after edge-a's last sample",
        series: { 'up{cluster="hub", job="x"}': "1x20", 'up{cluster="edge-a", job="x"}': "1x5 _x15" },
        at: "10m",
        fires: [
            {
                labels: { cluster: "edge-a" },
                summary: "No metrics from cluster edge-a",
                description:
                    "Main has received no sample from edge-a for 3m: its Prometheus, or the link to main, is down.",
            },
        ],
    },
    {
        alert: "ClusterMetricsAbsent",
        name: "silent while both clusters send",
        series: { 'up{cluster="hub", job="x"}': "1x20", 'up{cluster="edge-a", job="x"}': "1x20" },
        at: "10m",
        fires: [],
    },
    {
        alert: "ClusterLogsAbsent",
        name: "edge-a's line counter stops growing",
        series: {
            'loki_distributor_lines_received_total{tenant="hub"}': "0+100x20",
            'loki_distributor_lines_received_total{tenant="edge-a"}': "0+100x5 500x15",
        },
        at: "10m",
        fires: [
            {
                labels: { cluster: "edge-a", tenant: "edge-a" },
                summary: "No logs from cluster edge-a",
                description: "Loki has taken no log line from edge-a for 3m.",
            },
        ],
    },
    {
        alert: "ClusterLogsAbsent",
        name: "edge-a never sent a line",
        series: { 'loki_distributor_lines_received_total{tenant="hub"}': "0+100x20" },
        at: "10m",
        fires: [
            {
                labels: { cluster: "edge-a", tenant: "edge-a" },
                summary: "No logs from cluster edge-a",
                description: "Loki has taken no log line from edge-a for 3m.",
            },
        ],
    },
    {
        alert: "ClusterLogsAbsent",
        name: "silent while both clusters send, and for a tenant that is not in the fleet",
        series: {
            'loki_distributor_lines_received_total{tenant="hub"}': "0+100x20",
            'loki_distributor_lines_received_total{tenant="edge-a"}': "0+100x20",
            'loki_distributor_lines_received_total{tenant="retired"}': "500x20",
        },
        at: "10m",
        fires: [],
    },
    {
        alert: "ClusterTracesStopped",
        name: "spans stop after an hour of traffic",
        series: { [server("edge-a", "shop", OK)]: "0+10x60 600x20" },
        at: "66m",
        fires: [
            {
                labels: { cluster: "edge-a" },
                summary: "Traces from cluster edge-a stopped",
                description: "Spans from edge-a arrived in the last 6 hours but none for 3m.",
            },
        ],
    },
    {
        alert: "ClusterTracesStopped",
        name: "silent while spans keep coming",
        series: { [server("edge-a", "shop", OK)]: "0+10x80" },
        at: "66m",
        fires: [],
    },
    {
        alert: "ClusterAlertDeliveryFailing",
        name: "half of edge-a's notifications fail",
        series: {
            'prometheus_notifications_errors_total{cluster="edge-a", alertmanager="https://alerts.obs.acme.test/api/v2/alerts"}':
                "0+30x30",
            'prometheus_notifications_sent_total{cluster="edge-a", alertmanager="https://alerts.obs.acme.test/api/v2/alerts"}':
                "0+60x30",
            'prometheus_notifications_alertmanagers_discovered{cluster="edge-a"}': "1x30",
        },
        at: "25m",
        fires: [
            {
                labels: { cluster: "edge-a" },
                summary: "Cluster edge-a cannot deliver its alerts to main",
                description:
                    "edge-a's Prometheus fails 50% of its alert notifications, or has no Alertmanager. Its local " +
                    "alerts do not reach anyone.",
            },
        ],
    },
    {
        alert: "ClusterAlertDeliveryFailing",
        name: "edge-a has discovered no Alertmanager",
        series: { 'prometheus_notifications_alertmanagers_discovered{cluster="edge-a"}': "0x30" },
        at: "25m",
        fires: [
            {
                labels: { cluster: "edge-a" },
                summary: "Cluster edge-a cannot deliver its alerts to main",
                description:
                    "edge-a's Prometheus fails 0% of its alert notifications, or has no Alertmanager. Its local " +
                    "alerts do not reach anyone.",
            },
        ],
    },
    {
        alert: "ClusterAlertDeliveryFailing",
        name: "silent while notifications succeed",
        series: {
            'prometheus_notifications_errors_total{cluster="edge-a", alertmanager="https://alerts.obs.acme.test/api/v2/alerts"}':
                "2x30",
            'prometheus_notifications_sent_total{cluster="edge-a", alertmanager="https://alerts.obs.acme.test/api/v2/alerts"}':
                "0+60x30",
            'prometheus_notifications_alertmanagers_discovered{cluster="edge-a"}': "1x30",
        },
        at: "25m",
        fires: [],
    },
    // --- fleet: service health from span metrics ----------------------------------------------
    {
        alert: "ServiceErrorRateHigh",
        name: "10% of shop's server spans fail",
        series: { [server("edge-a", "shop", ERROR)]: "0+60x30", [server("edge-a", "shop", OK)]: "0+540x30" },
        at: "25m",
        fires: [
            {
                labels: { cluster: "edge-a", service: "shop" },
                summary: "Service shop on edge-a fails 10% of its requests",
                description:
                    "10% of shop's server spans ended in error over 5 minutes (threshold 5%, `alerting.serviceErrorRatio`).",
            },
        ],
    },
    {
        alert: "ServiceErrorRateHigh",
        name: "silent on the same error share at 0.05 requests per second",
        series: { [server("edge-a", "shop", ERROR)]: "0+0.3x30", [server("edge-a", "shop", OK)]: "0+2.7x30" },
        at: "25m",
        fires: [],
    },
    {
        alert: "ServiceLatencyHigh",
        name: "every request between 1 and 4 seconds",
        series: { [latency("1")]: "0x30", [latency("4")]: "0+60x30", [latency("+Inf")]: "0+60x30" },
        at: "25m",
        fires: [
            {
                labels: { cluster: "edge-a", service: "shop" },
                summary: "Service shop on edge-a is slow",
                description:
                    "The 95th percentile of shop's server spans is 3.85s (threshold 2s, `alerting.serviceLatencySeconds`).",
            },
        ],
    },
    {
        alert: "ServiceLatencyHigh",
        name: "silent when every request is under a second",
        series: { [latency("1")]: "0+60x30", [latency("4")]: "0+60x30", [latency("+Inf")]: "0+60x30" },
        at: "25m",
        fires: [],
    },
    {
        alert: "ServiceLatencyHigh",
        name: "silent on a slow tail alone: a 95th percentile of 0.23 s (ServiceTailLatencyHigh's)",
        series: histogram(shop("SPAN_KIND_SERVER"), [{ perMinute: SLOW_TAIL, minutes: 30 }]),
        at: "25m",
        fires: [],
    },
    {
        alert: "ServiceTailLatencyHigh",
        name: "1.5% of shop's requests take 4 to 8 s while its 95th percentile stays at 0.23 s",
        series: {
            ...histogram(shop("SPAN_KIND_SERVER"), [{ perMinute: SLOW_TAIL, minutes: 30 }]),
            ...histogram(shop("SPAN_KIND_CLIENT"), [{ perMinute: { "16.384": 1000 }, minutes: 30 }]),
            [server("edge-a", "shop", "STATUS_CODE_UNSET")]: "0+1000x30",
        },
        at: "25m",
        fires: [
            {
                labels: { cluster: "edge-a", service: "shop" },
                summary: "Service shop on edge-a has a slow tail",
                description:
                    "The 99th percentile of shop's server spans is 5.461s (threshold 4s, 2 times " +
                    "`alerting.serviceLatencySeconds`), over at least 100 spans in 5 minutes.",
            },
        ],
    },
    {
        alert: "ServiceTailLatencyHigh",
        name: "silent when the tail stays under 4 s (between 2 and 4 s)",
        series: {
            ...histogram(shop("SPAN_KIND_SERVER"), [
                { perMinute: { ...SLOW_TAIL, "2.048": 985, "4.096": 1000 }, minutes: 30 },
            ]),
            [server("edge-a", "shop", "STATUS_CODE_UNSET")]: "0+1000x30",
        },
        at: "25m",
        fires: [],
    },
    {
        alert: "ServiceTailLatencyHigh",
        name: "silent on a slow tail of 10 spans a minute: too few for a 99th percentile",
        series: {
            ...histogram(shop("SPAN_KIND_SERVER"), [{ perMinute: { "0.256": 9, "8.192": 10 }, minutes: 30 }]),
            [server("edge-a", "shop", "STATUS_CODE_UNSET")]: "0+10x30",
        },
        at: "25m",
        fires: [],
    },
];

/** The sample certificate the certificate cases are written for. */
export const CASE_CERTIFICATE = {
    id: "cluster-edge-a",
    profile: "cluster",
    commonName: "edge-a",
    notAfter: "1970-01-31T00:00:00Z",
    renewFrom: "1970-01-01T00:00:00Z",
} as const;

/** For each alert whose runbook states its timing: when it fires after its condition starts. */
export const ONSET_CASES: OnsetCase[] = [
    {
        alert: "ControlPlaneComponentDown",
        name: "the scheduler of cp2 stops being ready at minute 10",
        series: {
            ...controlPlaneNodes,
            [ready("kube-scheduler-cp1")]: "1x30",
            [ready("kube-scheduler-cp2")]: "1x9 0x20",
        },
        start: "10m",
        fires: [
            {
                labels: { component: "kube-scheduler" },
                summary: "kube-scheduler is not ready on every control-plane node",
                description:
                    "Only 1 control-plane nodes run a ready kube-scheduler static pod. Read from the mirror pods " +
                    "Talos' kubelet registers, so it works whether or not the component's metrics port is open.",
            },
        ],
    },
    {
        alert: "ControlPlaneComponentAbsent",
        name: "both scheduler mirror pods disappear at minute 10",
        series: {
            ...controlPlaneNodes,
            ...readiness("kube-scheduler-cp1", "1x9 stale", "0x9 stale"),
            ...readiness("kube-scheduler-cp2", "1x9 stale", "0x9 stale"),
            ...readiness("kube-controller-manager-cp1", "1x30", "0x30"),
            ...readiness("kube-controller-manager-cp2", "1x30", "0x30"),
        },
        start: "10m",
        fires: [
            {
                labels: { component: "kube-scheduler" },
                summary: "No ready kube-scheduler in the cluster",
                description:
                    "None of the 2 control-plane nodes runs a ready kube-scheduler pod, or its mirror pods are " +
                    "gone: the component is down in the whole cluster.",
            },
        ],
    },
    {
        alert: "APIServerAllInstancesDown",
        name: "the last two API servers stop answering at minute 10",
        series: {
            [apiserver("10.0.0.10:6443")]: "1x9 0x20",
            [apiserver("10.0.0.11:6443")]: "1x9 0x20",
        },
        start: "10m",
        fires: [
            {
                labels: {},
                summary: "No API server instance of the cluster answers",
                description:
                    "All 2 API server instances failed their scrapes for 5 minutes: the Kubernetes API of the " +
                    "cluster is down.",
            },
        ],
    },
    {
        alert: "TraceGatewayRefusingSpans",
        name: "refusals start between minutes 10 and 11",
        series: {
            [receiver("accepted", "grpc")]: "0+600x40",
            [receiver("refused", "grpc")]: "0x10 60+60x30",
            [receiver("failed", "grpc")]: "0x40",
        },
        start: "11m",
        fires: [
            {
                labels: { pod: "otel-gateway-0", receiver: "otlp", transport: "grpc" },
                summary: "Trace gateway otel-gateway-0 refuses incoming spans (grpc)",
                description:
                    "Receiver otlp turns away 1 spans per second over grpc for 10 minutes: applications must " +
                    "retry them or lose them.",
            },
        ],
    },
    {
        alert: "TraceGatewayDroppingSpans",
        name: "the full queue refuses its first spans between minutes 10 and 11",
        series: { 'otelcol_exporter_enqueue_failed_spans{pod="gw-0", exporter="otlp/main"}': "0x10 5+5x10" },
        start: "11m",
        fires: [
            {
                labels: { pod: "gw-0", exporter: "otlp/main" },
                summary: "Trace gateway gw-0 dropped spans",
                description: "5 spans could not be queued by otlp/main in 10 minutes: the queue is full.",
            },
        ],
    },
    {
        alert: "TraceGatewayExportFailing",
        name: "exports start failing between minutes 10 and 11",
        series: { 'otelcol_exporter_send_failed_spans{pod="gw-0", exporter="otlp/main"}': "0x10 120+120x30" },
        start: "11m",
        fires: [
            {
                labels: { pod: "gw-0", exporter: "otlp/main" },
                summary: "Trace gateway gw-0 fails to export spans",
                description: "otlp/main fails 2 spans per second for 15 minutes.",
            },
        ],
    },
    {
        alert: "ServiceTailLatencyHigh",
        name: "6% of shop's requests turn slow (4 to 8 s) from minute 11",
        series: {
            ...histogram(shop("SPAN_KIND_SERVER"), [
                { perMinute: FAST, minutes: 10 },
                {
                    perMinute: { "0.016": 94, "0.032": 282, "0.064": 564, "0.128": 752, "0.256": 940, "8.192": 1000 },
                    minutes: 30,
                },
            ]),
            [server("edge-a", "shop", "STATUS_CODE_UNSET")]: "0+1000x40",
        },
        start: "11m",
        fires: [
            {
                labels: { cluster: "edge-a", service: "shop" },
                summary: "Service shop on edge-a has a slow tail",
                description:
                    "The 99th percentile of shop's server spans is 7.509s (threshold 4s, 2 times " +
                    "`alerting.serviceLatencySeconds`), over at least 100 spans in 5 minutes.",
            },
        ],
    },
    {
        alert: "RollupEvaluationFailing",
        name: "the hourly roll-ups fail an evaluation between minutes 30 and 31",
        series: {
            [`prometheus_rule_evaluation_failures_total{job="kps-prometheus", pod="${PROM_POD}", rule_group="${ROLLUPS}"}`]:
                "0x30 1x30",
            [`prometheus_rule_group_interval_seconds{job="kps-prometheus", pod="${PROM_POD}", rule_group="${ROLLUPS}"}`]:
                "3600x60",
        },
        start: "31m",
        fires: [
            {
                labels: { job: "kps-prometheus", rule_group: ROLLUPS },
                summary: `kps-prometheus fails to evaluate ${ROLLUPS}`,
                description: `1 evaluations of ${ROLLUPS}, a group evaluated every 5m or less often, failed in the last 90m: the series it records have holes.`,
            },
        ],
    },
];

// ---------------------------------------------------------------------------------------------
// Recording rules. The roll-ups are evaluated at 90m over the hour before, from series that
// start before that hour (counters growing steadily) or inside it (a node that joined, a target
// discovered late), so that no sample sits on the window's edge.

const SHOP = 'namespace="shop"';
const cadvisor = (pod: string, container: string, image: string, id: string) =>
    `{namespace="shop", pod="${pod}", container="${container}", image="${image}", id="${id}"}`;
const API_1 = cadvisor("api-1", "api", "registry.example/api:1.4", "/kubepods/burstable/pod-a1/c1");
const SIDECAR_1 = cadvisor("api-1", "proxy", "registry.example/envoy:1.31", "/kubepods/burstable/pod-a1/c2");
const POD_1 = cadvisor("api-1", "", "", "/kubepods/burstable/pod-a1");
const API_2 = cadvisor("api-2", "api", "registry.example/api:1.4", "/kubepods/burstable/pod-a2/c1");
const JOB_X = `{namespace="shop", pod="migrate-x", container="main", image="registry.example/migrate:2", id="/kubepods/besteffort/pod-m/c1"}`;
const ROOT = '{id="/"}';
const owners = {
    'namespace_workload_pod:kube_pod_owner:relabel{namespace="shop", pod="api-1", workload="api", workload_type="deployment"}':
        "1x90",
    'namespace_workload_pod:kube_pod_owner:relabel{namespace="shop", pod="api-2", workload="api", workload_type="deployment"}':
        "1x90",
};
const restarts = (pod: string, container: string) =>
    `kube_pod_container_status_restarts_total{${SHOP}, pod="${pod}", container="${container}"}`;
const terminated = (pod: string, container: string, reason: string) =>
    `kube_pod_container_status_last_terminated_reason{${SHOP}, pod="${pod}", container="${container}", reason="${reason}"}`;
const phases = (
    pod: string,
    values: Partial<Record<"Pending" | "Running" | "Succeeded" | "Failed" | "Unknown", string>>,
    zero: string,
) =>
    Object.fromEntries(
        (["Pending", "Running", "Succeeded", "Failed", "Unknown"] as const).map((phase) => [
            `kube_pod_status_phase{${SHOP}, pod="${pod}", uid="${pod}-uid", phase="${phase}"}`,
            values[phase] ?? zero,
        ]),
    );
const condition = (node: string, type: string, values: Record<"true" | "false" | "unknown", string>) =>
    Object.fromEntries(
        (["true", "false", "unknown"] as const).map((status) => [
            `kube_node_status_condition{node="${node}", condition="${type}", status="${status}"}`,
            values[status],
        ]),
    );
const REMOTE = 'remote_name="main", url="https://metrics.obs.acme.test/api/v1/receive"';
const remoteWrite = {
    [`prometheus_remote_storage_samples_total{${REMOTE}}`]: "0+1000x90",
    [`prometheus_remote_storage_samples_failed_total{${REMOTE}}`]: "0+2x90",
    [`prometheus_remote_storage_samples_retried_total{${REMOTE}}`]: "0+5x90",
    [`prometheus_remote_storage_samples_dropped_total{${REMOTE}}`]: "0+1x90",
    [`prometheus_remote_storage_samples_pending{${REMOTE}}`]: "10x90",
};
/** The gateway's exporter metrics, both failure counters with one label set once their names go. */
const GATEWAY =
    'job="otel-gateway", exporter="otlp_grpc/tempo", otel_scope_name="go.opentelemetry.io/collector/exporter/exporterhelper"';
const gateway = (pod: string, send: string, enqueue: string) => ({
    [`otelcol_exporter_sent_spans{${GATEWAY}, pod="${pod}"}`]: "0+1000x90",
    [`otelcol_exporter_send_failed_spans{${GATEWAY}, pod="${pod}"}`]: send,
    [`otelcol_exporter_enqueue_failed_spans{${GATEWAY}, pod="${pod}"}`]: enqueue,
    [`otelcol_exporter_queue_size{${GATEWAY}, pod="${pod}"}`]: "5x90",
    [`otelcol_exporter_queue_capacity{${GATEWAY}, pod="${pod}"}`]: "1000x90",
});
const ALERT_W1 =
    'alertname="NodeConditionPressure", severity="warning", category="cluster", node="w1", condition="MemoryPressure"';
const ALERT_W2 =
    'alertname="NodeConditionPressure", severity="warning", category="cluster", node="w2", condition="DiskPressure"';
/**
 * ALERTS as Prometheus writes them every 30 s (90m is sample 180): w1 pending from 59:00, firing
 * 64:00-68:30 and again 80:00-82:30; w2 pending from 80:00, firing from 85:00; the Watchdog
 * firing from 59:00 (Prometheus started then).
 */
const alertSamples = {
    [`ALERTS{${ALERT_W1}, alertstate="pending"}`]: "_x118 1x9 stale",
    [`ALERTS{${ALERT_W1}, alertstate="firing"}`]: "_x128 1x9 stale _x21 1x5 stale",
    [`ALERTS_FOR_STATE{${ALERT_W1}}`]: "_x118 3540x9 stale _x31 4800x5 stale",
    [`ALERTS{${ALERT_W2}, alertstate="pending"}`]: "_x160 1x9 stale",
    [`ALERTS{${ALERT_W2}, alertstate="firing"}`]: "_x170 1x10",
    'ALERTS{alertname="Watchdog", alertstate="firing", severity="none"}': "_x118 1x62",
};
const BUDGET =
    'alertname="NonCriticalWorkloadCPUOverBudget", severity="warning", category="app", remediation="true", namespace="batch", workload="crunch", workload_type="deployment"';
const span = (cluster: string, service: string, name: string, kind: string, status = "STATUS_CODE_UNSET") =>
    `cluster="${cluster}", service="${service}", span_name="${name}", span_kind="SPAN_KIND_${kind}", status_code="${status}"`;
const CART = { "0.064": 30, "0.256": 50, "1.024": 60 };
const ORDER = { "0.256": 10, "2.048": 20 };
const API = { "0.032": 100 };
/** Cumulative per-minute counts of histograms added up, by bucket. */
const addHistograms = (...histograms: Readonly<Record<string, number>>[]) => {
    const last = histograms.map(() => 0);
    return LATENCY_BUCKETS.map((le) => ({
        le,
        perMinute: histograms.reduce((sum, h, i) => sum + (last[i] = h[le] ?? last[i] ?? 0), 0),
    }));
};
const calls = (labels: string) => `traces_spanmetrics_calls_total{${labels}}`;
const spanSeries = {
    ...histogram(span("edge-a", "shop", "GET /cart", "SERVER"), [{ perMinute: CART, minutes: 90 }]),
    ...histogram(span("edge-a", "shop", "POST /order", "SERVER"), [{ perMinute: ORDER, minutes: 90 }]),
    ...histogram(span("edge-a", "shop", "GET /stock", "CLIENT"), [{ perMinute: { "16.384": 40 }, minutes: 90 }]),
    ...histogram(span("hub", "api", "GET /v1/items", "SERVER"), [{ perMinute: API, minutes: 90 }]),
    [calls(span("edge-a", "shop", "GET /cart", "SERVER"))]: "0+60x90",
    [calls(span("edge-a", "shop", "POST /order", "SERVER"))]: "0+15x90",
    [calls(span("edge-a", "shop", "POST /order", "SERVER", "STATUS_CODE_ERROR"))]: "0+5x90",
    [calls(span("edge-a", "shop", "GET /stock", "CLIENT"))]: "0+40x90",
    [calls(span("hub", "api", "GET /v1/items", "SERVER"))]: "0+100x90",
    [calls(span("edge-b", "batch", "run", "SERVER"))]: "500x90",
};

const allocatable = Object.fromEntries(
    [
        ["cp1", 4, 8589934592],
        ["w1", 8, 17179869184],
    ].flatMap(([node, cpu, memory]) => [
        [`kube_node_status_allocatable{node="${node}", resource="cpu", unit="core"}`, `${cpu}x90`],
        [`kube_node_status_allocatable{node="${node}", resource="memory", unit="byte"}`, `${memory}x90`],
        [`kube_node_status_allocatable{node="${node}", resource="pods", unit="integer"}`, "110x90"],
        [`kube_node_status_allocatable{node="${node}", resource="ephemeral_storage", unit="byte"}`, "50000000000x90"],
    ]),
);
const NODE_EXPORTER = "10.0.0.20:9100";
/** node-exporter's series of one filesystem of 100 bytes, `avail` of them available. */
const filesystem = (mountpoint: string, fstype: string, device: string, avail: number) =>
    Object.fromEntries(
        [
            ["avail_bytes", avail],
            ["size_bytes", 100],
            ["free_bytes", avail + 5],
            ["files", 1000],
            ["files_free", 900],
            ["readonly", 0],
            ["device_error", 0],
        ].map(([metric, value]) => [
            `node_filesystem_${metric}{instance="${NODE_EXPORTER}", mountpoint="${mountpoint}", fstype="${fstype}", device="${device}"}`,
            `${value}x90`,
        ]),
    );
/** The kubelet's statistics of a claim of 40 bytes. */
const volume = (claim: string, used: number) =>
    Object.fromEntries(
        [
            ["used_bytes", used],
            ["capacity_bytes", 40],
            ["available_bytes", 40 - used],
            ["inodes", 1000],
            ["inodes_free", 990],
            ["inodes_used", 10],
        ].map(([metric, value]) => [
            `kubelet_volume_stats_${metric}{namespace="db", persistentvolumeclaim="${claim}", node="w1", job="kubelet", metrics_path="/metrics"}`,
            `${value}x90`,
        ]),
    );

export const RECORDING_CASES: RecordingCase[] = [
    {
        record: S.nodeReady,
        name: "a node Ready all hour, one that joined at 59m and was Ready half of its time",
        series: {
            ...condition("cp1", "Ready", { true: "1x90", false: "0x90", unknown: "0x90" }),
            ...condition("cp1", "MemoryPressure", { true: "0x90", false: "1x90", unknown: "0x90" }),
            ...condition("cp1", "DiskPressure", { true: "0x90", false: "1x90", unknown: "0x90" }),
            ...condition("w1", "Ready", { true: "_x59 0x15 1x15", false: "_x59 1x15 0x15", unknown: "_x59 0x31" }),
            ...condition("w1", "MemoryPressure", { true: "_x59 0x31", false: "_x59 1x31", unknown: "_x59 0x31" }),
            'kube_node_role{node="cp1", role="control-plane"}': "1x90",
        },
        at: "90m",
        samples: [
            { labels: { node: "cp1" }, value: 1 },
            { labels: { node: "w1" }, value: 0.5 },
        ],
    },
    {
        record: S.apiServerUp,
        name: "one API server up all hour, one up half the time, other jobs' targets ignored",
        series: {
            [apiserver("10.0.0.10:6443")]: "1x90",
            [apiserver("10.0.0.11:6443")]: "_x59 1x15 0x15",
            'up{job="kubelet", instance="10.0.0.10:10250"}': "1x90",
            'up{job="kube-state-metrics", instance="10.244.1.7:8080"}': "0x90",
        },
        at: "90m",
        samples: [{ labels: {}, value: 0.75 }],
    },
    {
        record: S.controlPlaneReady,
        name: "readiness by component from every readiness series of kube-system, and etcd's scrapes",
        series: {
            ...readiness("kube-apiserver-cp1", "1x90", "0x90"),
            ...readiness("kube-apiserver-cp2", "_x59 0x15 1x15", "_x59 1x15 0x15"),
            ...readiness("kube-scheduler-cp1", "1x90", "0x90"),
            ...readiness("kube-controller-manager-cp1", "1x90", "0x90"),
            ...readiness("coredns-5d78c9869d-abcde", "0x90", "1x90"),
            'up{job="kube-etcd", instance="10.0.0.10:2381"}': "1x90",
            'up{job="kube-etcd", instance="10.0.0.11:2381"}': "0x90",
            [apiserver("10.0.0.10:6443")]: "0x90",
        },
        at: "90m",
        samples: [
            { labels: { component: "kube-apiserver" }, value: 0.75 },
            { labels: { component: "kube-controller-manager" }, value: 1 },
            { labels: { component: "kube-scheduler" }, value: 1 },
            { labels: { component: "etcd" }, value: 0.5 },
        ],
    },
    {
        record: S.upSamples,
        name: "every target's samples since Prometheus started at 59m, a stale one's until it went",
        series: {
            [apiserver("10.0.0.10:6443")]: "_x59 1x31",
            'up{job="kubelet", instance="10.0.0.10:10250"}': "_x59 1x31",
            'up{job="kube-state-metrics", instance="10.244.1.7:8080"}': "_x59 0x15 stale",
        },
        at: "90m",
        // 32 + 32 + 16 samples.
        samples: [{ labels: {}, value: 80 }],
    },
    {
        record: S.alertMinutes,
        name: "firing samples only, pending and ALERTS_FOR_STATE beside them",
        series: alertSamples,
        interval: "30s",
        at: "90m",
        // NodeConditionPressure: 10 + 6 samples of w1, 11 of w2; Watchdog: 63 samples; 30 s each.
        samples: [
            { labels: { alertname: "NodeConditionPressure", severity: "warning", category: "cluster" }, value: 13.5 },
            { labels: { alertname: "Watchdog", severity: "none" }, value: 31.5 },
        ],
    },
    {
        record: S.alertStarts,
        name: "each start of a firing series, a resolved alert firing again included",
        series: alertSamples,
        interval: "30s",
        at: "90m",
        samples: [
            { labels: { alertname: "NodeConditionPressure", severity: "warning", category: "cluster" }, value: 3 },
            { labels: { alertname: "Watchdog", severity: "none" }, value: 1 },
        ],
    },
    {
        record: S.budgetMinutes,
        name: "pending and firing minutes of a budget alert, an alert without the remediation label left out",
        series: {
            [`ALERTS{${BUDGET}, alertstate="pending"}`]: "_x120 1x19 stale",
            [`ALERTS{${BUDGET}, alertstate="firing"}`]: "_x140 1x40",
            'ALERTS{alertname="ContainerOOMKilled", alertstate="firing", severity="warning", category="app", namespace="batch", pod="crunch-1", container="app"}':
                "_x150 1x30",
        },
        interval: "30s",
        at: "90m",
        samples: [
            {
                labels: {
                    namespace: "batch",
                    workload: "crunch",
                    alertname: "NonCriticalWorkloadCPUOverBudget",
                    alertstate: "pending",
                },
                value: 10,
            },
            {
                labels: {
                    namespace: "batch",
                    workload: "crunch",
                    alertname: "NonCriticalWorkloadCPUOverBudget",
                    alertstate: "firing",
                },
                value: 20.5,
            },
        ],
    },
    {
        record: S.restarts,
        name: "restarts summed over a pod's containers, pods without restarts left out",
        series: {
            [restarts("api-1", "api")]: "0+1x90",
            [restarts("api-1", "proxy")]: "5x90",
            [restarts("web-1", "web")]: "3x90",
        },
        at: "90m",
        samples: [{ labels: { namespace: "shop", pod: "api-1" }, value: 60 }],
    },
    {
        record: S.oomKills,
        name: "restarts of the container whose last termination was an OOM kill only",
        series: {
            [restarts("api-1", "api")]: "0+1x90",
            [terminated("api-1", "api", "OOMKilled")]: "1x90",
            [restarts("api-1", "proxy")]: "0+0.5x90",
            [terminated("api-1", "proxy", "Error")]: "1x90",
            [restarts("web-1", "web")]: "2x90",
            [terminated("web-1", "web", "OOMKilled")]: "1x90",
            [`kube_pod_container_status_last_terminated_exitcode{${SHOP}, pod="api-1", container="api"}`]: "137x90",
        },
        at: "90m",
        samples: [{ labels: { namespace: "shop", pod: "api-1" }, value: 60 }],
    },
    {
        record: S.crashLoop,
        name: "a container in CrashLoopBackOff for 10 minutes, other waiting reasons beside it",
        series: {
            [`kube_pod_container_status_waiting_reason{${SHOP}, pod="api-1", container="api", reason="CrashLoopBackOff"}`]:
                "_x60 1x10 stale",
            [`kube_pod_container_status_waiting_reason{${SHOP}, pod="web-1", container="web", reason="ContainerCreating"}`]:
                "1x90",
            [`kube_pod_container_status_waiting_reason{${SHOP}, pod="job-1", container="main", reason="ImagePullBackOff"}`]:
                "1x90",
        },
        at: "90m",
        samples: [{ labels: { namespace: "shop", pod: "api-1" }, value: 1 }],
    },
    {
        record: S.pendingMinutes,
        name: "a pod Pending since it was created at 59m, every phase series beside it",
        series: {
            ...phases("stuck-1", { Pending: "_x59 1x31" }, "_x59 0x31"),
            ...phases("web-1", { Running: "1x90" }, "0x90"),
        },
        at: "90m",
        samples: [{ labels: { namespace: "shop", pod: "stuck-1" }, value: 60 }],
    },
    {
        record: S.workloadCpu,
        name: "containers' CPU by workload, pod and node cgroups and ownerless pods left out",
        series: {
            [`container_cpu_usage_seconds_total${API_1}`]: "0+30x90",
            [`container_cpu_usage_seconds_total${SIDECAR_1}`]: "0+15x90",
            [`container_cpu_usage_seconds_total${POD_1}`]: "0+45x90",
            [`container_cpu_usage_seconds_total${API_2}`]: "0+45x90",
            [`container_cpu_usage_seconds_total${JOB_X}`]: "0+60x90",
            [`container_cpu_usage_seconds_total${ROOT}`]: "0+240x90",
            ...owners,
        },
        at: "90m",
        // 0.5 + 0.25 cores in api-1, 0.75 in api-2.
        samples: [{ labels: { namespace: "shop", workload: "api" }, value: 1.5 }],
    },
    {
        record: S.workloadMemory,
        name: "containers' peak working sets by workload, the pod cgroup left out",
        series: {
            [`container_memory_working_set_bytes${API_1}`]: "200x90",
            [`container_memory_working_set_bytes${SIDECAR_1}`]: "50x90",
            [`container_memory_working_set_bytes${POD_1}`]: "260x90",
            [`container_memory_working_set_bytes${API_2}`]: "100x60 400x29",
            [`container_memory_working_set_bytes${ROOT}`]: "5000x90",
            ...owners,
        },
        at: "90m",
        samples: [{ labels: { namespace: "shop", workload: "api" }, value: 650 }],
    },
    {
        record: S.cpuUsed,
        name: "every container's CPU, ownerless ones included, no cgroup counted twice",
        series: {
            [`container_cpu_usage_seconds_total${API_1}`]: "0+30x90",
            [`container_cpu_usage_seconds_total${SIDECAR_1}`]: "0+15x90",
            [`container_cpu_usage_seconds_total${POD_1}`]: "0+45x90",
            [`container_cpu_usage_seconds_total${API_2}`]: "0+45x90",
            [`container_cpu_usage_seconds_total${JOB_X}`]: "0+60x90",
            [`container_cpu_usage_seconds_total${ROOT}`]: "0+240x90",
        },
        at: "90m",
        samples: [{ labels: {}, value: 2.5 }],
    },
    {
        record: S.cpuAllocatable,
        name: "allocatable CPU of every node, other resources beside it",
        series: allocatable,
        at: "90m",
        samples: [{ labels: {}, value: 12 }],
    },
    {
        record: S.memoryUsed,
        name: "containers' average working sets, a container started at 59m counted from then",
        series: {
            [`container_memory_working_set_bytes${API_1}`]: "200x90",
            [`container_memory_working_set_bytes${SIDECAR_1}`]: "50x90",
            [`container_memory_working_set_bytes${POD_1}`]: "260x90",
            [`container_memory_working_set_bytes${API_2}`]: "_x59 100x15 300x15",
            [`container_memory_working_set_bytes${ROOT}`]: "5000x90",
        },
        at: "90m",
        samples: [{ labels: {}, value: 450 }],
    },
    {
        record: S.memoryAllocatable,
        name: "allocatable memory of every node, other resources beside it",
        series: allocatable,
        at: "90m",
        samples: [{ labels: {}, value: 25769803776 }],
    },
    {
        record: S.diskUsed,
        name: "Talos' data partitions, tmpfs, overlays and pod volumes left out",
        series: {
            ...filesystem("/var", "xfs", "/dev/sda6", 25),
            ...filesystem("/system/state", "xfs", "/dev/sda5", 50),
            ...filesystem("/run", "tmpfs", "tmpfs", 90),
            ...filesystem("/var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pvc-1/mount", "ext4", "/dev/sdb", 1),
            ...filesystem("/var/lib/containerd/rootfs/c1", "overlay", "overlay", 2),
        },
        at: "90m",
        samples: [
            { labels: { instance: NODE_EXPORTER, mountpoint: "/var" }, value: 0.75 },
            { labels: { instance: NODE_EXPORTER, mountpoint: "/system/state" }, value: 0.5 },
        ],
    },
    {
        record: S.pvcUsed,
        name: "each claim's used share, every volume statistic beside it",
        series: { ...volume("data-0", 30), ...volume("logs-0", 10) },
        at: "90m",
        samples: [
            { labels: { namespace: "db", persistentvolumeclaim: "data-0" }, value: 0.75 },
            { labels: { namespace: "db", persistentvolumeclaim: "logs-0" }, value: 0.25 },
        ],
    },
    {
        record: S.etcdBytes,
        name: "the largest database of the members over the hour, in-use size beside it",
        series: {
            'etcd_mvcc_db_total_size_in_bytes{job="kube-etcd", instance="10.0.0.10:2381"}': "100x59 120 100x30",
            'etcd_mvcc_db_total_size_in_bytes{job="kube-etcd", instance="10.0.0.11:2381"}': "110x90",
            'etcd_mvcc_db_total_size_in_use_in_bytes{job="kube-etcd", instance="10.0.0.10:2381"}': "150x90",
        },
        at: "90m",
        samples: [{ labels: {}, value: 120 }],
    },
    {
        record: S.remoteWriteFailed,
        name: "failed samples, every other remote-write counter beside them",
        series: remoteWrite,
        at: "90m",
        samples: [{ labels: {}, value: 120 }],
    },
    {
        record: S.samplesDropped,
        name: "dropped samples, every other remote-write counter beside them",
        series: remoteWrite,
        at: "90m",
        samples: [{ labels: {}, value: 60 }],
    },
    {
        record: S.logsDropped,
        name: "events discarded by the buffers of two agents",
        series: {
            'vector_buffer_discarded_events_total{pod="vector-a", component_id="to_main", intentional="false"}':
                "0+1x90",
            'vector_buffer_discarded_events_total{pod="vector-b", component_id="to_main", intentional="false"}':
                "0+0.5x90",
            'vector_buffer_size_bytes{pod="vector-a", component_id="to_main", buffer_type="disk"}': "100x90",
            'vector_component_errors_total{pod="vector-a", component_id="to_main", component_kind="sink"}': "0+1x90",
        },
        at: "90m",
        samples: [{ labels: {}, value: 90 }],
    },
    {
        record: S.spansDropped,
        name: "both failure counters of two gateway pods, side by side with one label set",
        series: { ...gateway("otel-gateway-0", "0+10x90", "0+5x90"), ...gateway("otel-gateway-1", "0+1x90", "0x90") },
        at: "90m",
        // 600 + 300 from pod 0, 60 from pod 1.
        samples: [{ labels: {}, value: 960 }],
    },
    {
        record: S.spansDropped,
        name: "a gateway that has only ever failed sends (its queue never refused a span)",
        series: {
            [`otelcol_exporter_sent_spans{${GATEWAY}, pod="otel-gateway-0"}`]: "0+1000x90",
            [`otelcol_exporter_send_failed_spans{${GATEWAY}, pod="otel-gateway-0"}`]: "0+10x90",
        },
        at: "90m",
        samples: [{ labels: {}, value: 600 }],
    },
    {
        record: S.remediationActions,
        name: "actions by mode, the remediator's other counters beside them",
        series: {
            'observability_remediation_actions_total{pod="remediator-1", mode="scale"}': "0+0.25x90",
            'observability_remediation_polls_total{pod="remediator-1", result="ok"}': "0+2x90",
            'observability_remediation_last_successful_poll_timestamp_seconds{pod="remediator-1"}': "0+60x90",
        },
        at: "90m",
        samples: [{ labels: { mode: "scale" }, value: 15 }],
    },
    {
        record: OPTED_IN_METRIC,
        name: "opted-in deployments and statefulsets, the opted-out and the critical left out",
        series: {
            [optIn("deployment", "crunch", "non-critical")]: "1x20",
            'kube_deployment_annotations{namespace="batch", deployment="crunch"}': "1x20",
            [optIn("deployment", "nightly", "non-critical")]: "1x20",
            'kube_deployment_annotations{namespace="batch", deployment="nightly", annotation_observability_remediation_opt_out="true"}':
                "1x20",
            [optIn("deployment", "api", "critical")]: "1x20",
            'kube_deployment_labels{namespace="batch", deployment="plain"}': "1x20",
            [optIn("statefulset", "cache", "non-critical")]: "1x20",
            'kube_statefulset_annotations{namespace="batch", statefulset="cache"}': "1x20",
        },
        at: "10m",
        samples: [
            { labels: { namespace: "batch", workload: "crunch", workload_type: "deployment" }, value: 1 },
            { labels: { namespace: "batch", workload: "cache", workload_type: "statefulset" }, value: 1 },
        ],
    },
    {
        record: CERTIFICATE_EXPIRY_METRIC,
        name: "the sample certificate's expiry instant",
        series: {},
        at: "1h",
        samples: [
            { labels: { certificate: "cluster-edge-a", profile: "cluster", common_name: "edge-a" }, value: 2592000 },
        ],
    },
    {
        record: CERTIFICATE_RENEWAL_METRIC,
        name: "the sample certificate's renewal instant",
        series: {},
        at: "1h",
        samples: [{ labels: { certificate: "cluster-edge-a", profile: "cluster", common_name: "edge-a" }, value: 0 }],
    },
    {
        record: S.spanLatency,
        name: "server spans' buckets by cluster and service, client spans and `_count`/`_sum` beside them",
        series: spanSeries,
        at: "90m",
        samples: [
            ...addHistograms(CART, ORDER).map(({ le, perMinute }) => ({
                labels: { cluster: "edge-a", service: "shop", le },
                value: 60 * perMinute,
            })),
            ...addHistograms(API).map(({ le, perMinute }) => ({
                labels: { cluster: "hub", service: "api", le },
                value: 60 * perMinute,
            })),
        ],
    },
    {
        record: S.spanCalls,
        name: "server spans by status, client spans beside them",
        series: spanSeries,
        at: "90m",
        samples: [
            { labels: { cluster: "edge-a", service: "shop", status_code: "STATUS_CODE_UNSET" }, value: 4500 },
            { labels: { cluster: "edge-a", service: "shop", status_code: "STATUS_CODE_ERROR" }, value: 300 },
            { labels: { cluster: "hub", service: "api", status_code: "STATUS_CODE_UNSET" }, value: 6000 },
            { labels: { cluster: "edge-b", service: "batch", status_code: "STATUS_CODE_UNSET" }, value: 0 },
        ],
    },
    {
        record: S.spans,
        name: "every span of each cluster, a cluster without spans this hour left out",
        series: spanSeries,
        at: "90m",
        samples: [
            { labels: { cluster: "edge-a" }, value: 7200 },
            { labels: { cluster: "hub" }, value: 6000 },
        ],
    },
];
