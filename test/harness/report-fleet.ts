/**
 * A synthetic week (and the week before) of a fleet's metrics, with known answers, for the
 * report's integration test and benchmark. Series are the raw ones the report's hourly roll-ups
 * read, labelled `cluster` as the fleet's store holds them. Every cluster runs the same healthy
 * baseline; `incidents` adds the facts the report must state.
 *
 * Samples fall 10 s after each minute, as scrapes do, never on the hour the roll-ups evaluate at.
 */

export type Labels = Record<string, string>;

export interface SeriesSink {
    family(name: string, type: "gauge" | "counter"): void;
    sample(labels: Labels, value: number, timestampSeconds: number): void;
}

export interface FleetSpec {
    clusters: { name: string; role: "main" | "sub" }[];
    /** End of the reported week (seconds since epoch, on the hour). */
    end: number;
    /** Seconds between samples of ordinary series. */
    step: number;
    /** Workloads per cluster (each with one pod). */
    workloads: number;
    /** The facts added to one cluster. */
    incidents?: Incidents;
}

/** The facts of the integration test, all within the reported week unless said otherwise. */
export interface Incidents {
    cluster: string;
    /** Node not Ready from `start` for `minutes`. */
    nodeDown: { node: string; start: number; minutes: number };
    /** Container restarts of one pod: times in the week, plus times in the previous week. */
    restarts: { namespace: string; pod: string; at: number[]; previousAt: number[] };
    /** One restart that was an OOM kill. */
    oomKill: { namespace: string; pod: string; at: number };
    /** An alert firing from `start` for `minutes`. */
    alert: { alertname: string; severity: string; start: number; minutes: number };
    /** A filesystem going from `from` to `to` used over the week. */
    disk: { node: string; mountpoint: string; from: number; to: number };
    /** Hours without any `up` sample (a metrics gap at main). */
    metricsGap: { start: number; hours: number };
    /** A pod in CrashLoopBackOff from `start` for `minutes`. */
    crashLoop: { namespace: string; pod: string; start: number; minutes: number };
    /** A pod Pending for `minutes` within one hour starting at `hourStart`. */
    pending: { namespace: string; pod: string; hourStart: number; minutes: number };
    /** Remediation actions (dry-run) at these times. */
    remediationAt: number[];
}

const WEEK = 7 * 86400;
const OFFSET = 10;
/** History before the previous week, so the first roll-up hours have full ranges. */
const LEAD_IN = 2 * 3600;

const NODES = ["cp1", "w1", "w2"] as const;
const CORES_PER_NODE = 4;
const MEMORY_PER_NODE = 16 * 2 ** 30;

function times(spec: FleetSpec, step = spec.step): number[] {
    const start = spec.end - 2 * WEEK - LEAD_IN;
    const out: number[] = [];
    for (let t = start + OFFSET; t < spec.end; t += step) out.push(t);
    return out;
}

const nodeName = (cluster: string, node: string) => `${cluster}-${node}`;
export const workloadName = (i: number) => `app-${String(i).padStart(3, "0")}`;
/** CPU cores of workload i: distinct, so the top 5 is known (the highest index uses most). */
export const workloadCores = (i: number) => 0.05 * (i + 1);
export const workloadBytes = (i: number) => (64 + 16 * i) * 2 ** 20;
/** The one container of workload i's pod, as cAdvisor labels it. */
const containerOf = (cluster: string, i: number): Labels => ({
    cluster,
    namespace: "apps",
    pod: `${workloadName(i)}-0`,
    container: "main",
    image: "app:1",
});

/** Writes every series of the fleet to the sink, one family at a time. */
export function writeFleet(spec: FleetSpec, sink: SeriesSink): void {
    const ts = times(spec);
    const inc = spec.incidents;
    const clusterOf = (c: string) => ({ cluster: c });
    const within = (t: number, start: number, minutes: number) => t >= start && t < start + minutes * 60;
    const each = (fn: (cluster: string, role: string) => void) => spec.clusters.forEach((c) => fn(c.name, c.role));

    sink.family("kube_node_status_condition", "gauge");
    each((cluster) => {
        for (const node of NODES) {
            const name = nodeName(cluster, node);
            const down = inc?.cluster === cluster && inc.nodeDown.node === name ? inc.nodeDown : undefined;
            for (const t of ts) {
                const ready = down && within(t, down.start, down.minutes) ? 0 : 1;
                sink.sample({ ...clusterOf(cluster), node: name, condition: "Ready", status: "true" }, ready, t);
            }
        }
    });

    sink.family("kube_node_status_allocatable", "gauge");
    each((cluster) => {
        for (const node of NODES) {
            for (const t of ts) {
                sink.sample(
                    { ...clusterOf(cluster), node: nodeName(cluster, node), resource: "cpu", unit: "core" },
                    CORES_PER_NODE,
                    t,
                );
                sink.sample(
                    { ...clusterOf(cluster), node: nodeName(cluster, node), resource: "memory", unit: "byte" },
                    MEMORY_PER_NODE,
                    t,
                );
            }
        }
    });

    sink.family("up", "gauge");
    each((cluster) => {
        const gap = inc?.cluster === cluster ? inc.metricsGap : undefined;
        const jobs = ["apiserver", "kubelet", "kube-etcd", "node-exporter"];
        for (const job of jobs) {
            for (const t of ts) {
                if (gap && within(t, gap.start, gap.hours * 60)) continue;
                sink.sample({ ...clusterOf(cluster), job, instance: `${job}:1` }, 1, t);
            }
        }
    });

    sink.family("kube_pod_status_ready", "gauge");
    each((cluster) => {
        for (const component of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
            const pod = `${component}-${nodeName(cluster, "cp1")}`;
            for (const t of ts)
                sink.sample({ ...clusterOf(cluster), namespace: "kube-system", pod, condition: "true" }, 1, t);
        }
    });

    sink.family("etcd_mvcc_db_total_size_in_bytes", "gauge");
    each((cluster) => {
        const first = ts[0] ?? 0;
        for (const t of ts)
            sink.sample(
                { ...clusterOf(cluster), instance: "etcd:2381" },
                50 * 2 ** 20 + Math.floor((t - first) / 3600) * 4096,
                t,
            );
    });

    sink.family("namespace_workload_pod:kube_pod_owner:relabel", "gauge");
    each((cluster) => {
        for (let i = 0; i < spec.workloads; i += 1) {
            const labels = {
                ...clusterOf(cluster),
                namespace: "apps",
                pod: `${workloadName(i)}-0`,
                workload: workloadName(i),
                workload_type: "deployment",
            };
            for (const t of ts) sink.sample(labels, 1, t);
        }
    });

    sink.family("container_cpu_usage_seconds_total", "counter");
    each((cluster) => {
        for (let i = 0; i < spec.workloads; i += 1) {
            const labels = containerOf(cluster, i);
            const first = ts[0] ?? 0;
            for (const t of ts) sink.sample(labels, (t - first) * workloadCores(i), t);
        }
    });

    sink.family("container_memory_working_set_bytes", "gauge");
    each((cluster) => {
        for (let i = 0; i < spec.workloads; i += 1) {
            const labels = containerOf(cluster, i);
            for (const t of ts) sink.sample(labels, workloadBytes(i), t);
        }
    });

    sink.family("kube_pod_container_status_restarts_total", "counter");
    each((cluster) => {
        if (inc?.cluster !== cluster) return;
        const { restarts, oomKill } = inc;
        const pods = [
            { ...restarts, at: [...restarts.at, ...restarts.previousAt] },
            { namespace: oomKill.namespace, pod: oomKill.pod, at: [oomKill.at] },
        ];
        for (const p of pods) {
            const labels = { ...clusterOf(cluster), namespace: p.namespace, pod: p.pod, container: "main" };
            for (const t of ts) sink.sample(labels, p.at.filter((a) => a <= t).length, t);
        }
    });

    sink.family("kube_pod_container_status_last_terminated_reason", "gauge");
    each((cluster) => {
        if (inc?.cluster !== cluster) return;
        const labels = {
            ...clusterOf(cluster),
            namespace: inc.oomKill.namespace,
            pod: inc.oomKill.pod,
            container: "main",
            reason: "OOMKilled",
        };
        for (const t of ts) if (t >= inc.oomKill.at) sink.sample(labels, 1, t);
    });

    sink.family("kube_pod_container_status_waiting_reason", "gauge");
    each((cluster) => {
        if (inc?.cluster !== cluster) return;
        const c = inc.crashLoop;
        const labels = {
            ...clusterOf(cluster),
            namespace: c.namespace,
            pod: c.pod,
            container: "main",
            reason: "CrashLoopBackOff",
        };
        for (const t of ts) if (within(t, c.start, c.minutes)) sink.sample(labels, 1, t);
    });

    sink.family("kube_pod_status_phase", "gauge");
    each((cluster) => {
        if (inc?.cluster !== cluster) return;
        const p = inc.pending;
        const labels = { ...clusterOf(cluster), namespace: p.namespace, pod: p.pod, phase: "Pending" };
        // The pod exists all along; it is Pending only for those minutes.
        for (const t of ts) sink.sample(labels, within(t, p.hourStart, p.minutes) ? 1 : 0, t);
    });

    sink.family("node_filesystem_avail_bytes", "gauge");
    const size = 100 * 2 ** 30;
    const used = (cluster: string, node: string, t: number) => {
        const d = inc?.cluster === cluster && inc.disk.node === node ? inc.disk : undefined;
        if (d === undefined) return 0.4;
        const progress = Math.min(1, Math.max(0, (t - (spec.end - WEEK)) / WEEK));
        return d.from + (d.to - d.from) * progress;
    };
    each((cluster) => {
        for (const node of NODES) {
            const name = nodeName(cluster, node);
            const labels = {
                ...clusterOf(cluster),
                instance: name,
                mountpoint: "/var",
                fstype: "xfs",
                device: "/dev/sda5",
            };
            for (const t of ts) sink.sample(labels, Math.round(size * (1 - used(cluster, name, t))), t);
        }
    });
    sink.family("node_filesystem_size_bytes", "gauge");
    each((cluster) => {
        for (const node of NODES) {
            const labels = {
                ...clusterOf(cluster),
                instance: nodeName(cluster, node),
                mountpoint: "/var",
                fstype: "xfs",
                device: "/dev/sda5",
            };
            for (const t of ts) sink.sample(labels, size, t);
        }
    });

    for (const counter of [
        "prometheus_remote_storage_samples_failed_total",
        "prometheus_remote_storage_samples_dropped_total",
        "vector_buffer_discarded_events_total",
        "otelcol_exporter_send_failed_spans",
    ]) {
        sink.family(counter, "counter");
        each((cluster) => {
            for (const t of ts) sink.sample({ ...clusterOf(cluster), instance: "x:1" }, 0, t);
        });
    }

    sink.family("observability_remediation_actions_total", "counter");
    each((cluster) => {
        const at = inc?.cluster === cluster ? inc.remediationAt : [];
        for (const t of ts) sink.sample({ ...clusterOf(cluster), mode: "dry-run" }, at.filter((a) => a <= t).length, t);
    });

    // Span metrics: every cluster's `checkout` service, 95 ok and 5 failed spans a minute, 95th
    // percentile 0.75 s (90 % under 0.5 s, all under 1 s).
    sink.family("traces_spanmetrics_calls_total", "counter");
    each((cluster) => {
        const first = ts[0] ?? 0;
        for (const [status, perMinute] of [
            ["STATUS_CODE_OK", 95],
            ["STATUS_CODE_ERROR", 5],
        ] as const) {
            const labels = {
                ...clusterOf(cluster),
                service: "checkout",
                span_kind: "SPAN_KIND_SERVER",
                status_code: status,
            };
            for (const t of ts) sink.sample(labels, ((t - first) / 60) * perMinute, t);
        }
    });
    sink.family("traces_spanmetrics_latency_bucket", "counter");
    each((cluster) => {
        const first = ts[0] ?? 0;
        for (const [le, perMinute] of [
            ["0.1", 50],
            ["0.5", 90],
            ["1", 100],
            ["+Inf", 100],
        ] as const) {
            const labels = { ...clusterOf(cluster), service: "checkout", span_kind: "SPAN_KIND_SERVER", le };
            for (const t of ts) sink.sample(labels, ((t - first) / 60) * perMinute, t);
        }
    });

    // ALERTS are written once per evaluation (30 s) while an alert fires.
    sink.family("ALERTS", "gauge");
    each((cluster) => {
        if (inc?.cluster !== cluster) return;
        const a = inc.alert;
        const labels = {
            ...clusterOf(cluster),
            alertname: a.alertname,
            alertstate: "firing",
            severity: a.severity,
            category: "app",
        };
        for (let t = a.start + OFFSET; t < a.start + a.minutes * 60; t += 30) sink.sample(labels, 1, t);
    });

    sink.family("observability_certificate_expiry_timestamp_seconds", "gauge");
    const main = spec.clusters.find((c) => c.role === "main");
    if (main) {
        for (const [certificate, days] of [
            ["cluster-alpha", 20],
            ["thanos-receive", 80],
        ] as const) {
            const labels = { ...clusterOf(main.name), certificate, profile: "x", common_name: certificate };
            for (const t of ts) sink.sample(labels, spec.end + days * 86400, t);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The known week of the integration test and the docs' sample report.

const t = (iso: string) => Date.parse(iso) / 1000;
/** Monday 23 November 2026, 07:00 in Paris: the report of ISO week 2026-W47. */
const KNOWN_END = t("2026-11-23T06:00:00Z");

const hoursOf = (skip: (start: number) => boolean) =>
    Array.from({ length: 2 * 168 }, (_, i) => KNOWN_END - 2 * WEEK + i * 3600).filter((h) => !skip(h));

/**
 * Two clusters, main `hub` healthy, sub `alpha` with: node alpha-w2 not Ready 2 hours; 3
 * restarts of shop/api-0 (1 the week before), which also crash-looped 2 hours; one OOM kill of
 * batch/cruncher-0; batch/report-1 Pending 40 minutes; HighErrorRate (critical) firing 45
 * minutes; alpha-w1:/var filling from 60 % to 81 %; 3 hours without metrics and 2 without logs;
 * 2 remediation actions (dry-run); NodeFilesystemAlmostFull firing at report time; error logs
 * from shop (40 KiB) and batch (1 KiB); certificate cluster-alpha expiring in 20 days.
 */
export const KNOWN_WEEK = {
    end: KNOWN_END,
    fleet: {
        clusters: [
            { name: "hub", role: "main" },
            { name: "alpha", role: "sub" },
        ],
        end: KNOWN_END,
        step: 60,
        workloads: 8,
        incidents: {
            cluster: "alpha",
            nodeDown: { node: "alpha-w2", start: t("2026-11-18T10:00:00Z"), minutes: 120 },
            restarts: {
                namespace: "shop",
                pod: "api-0",
                at: [t("2026-11-17T09:20:00Z"), t("2026-11-18T14:40:00Z"), t("2026-11-20T03:05:00Z")],
                previousAt: [t("2026-11-12T11:11:00Z")],
            },
            oomKill: { namespace: "batch", pod: "cruncher-0", at: t("2026-11-19T08:30:00Z") },
            alert: { alertname: "HighErrorRate", severity: "critical", start: t("2026-11-20T13:00:00Z"), minutes: 45 },
            disk: { node: "alpha-w1", mountpoint: "/var", from: 0.6, to: 0.81 },
            metricsGap: { start: t("2026-11-21T02:00:00Z"), hours: 3 },
            crashLoop: { namespace: "shop", pod: "api-0", start: t("2026-11-18T14:00:00Z"), minutes: 120 },
            pending: { namespace: "batch", pod: "report-1", hourStart: t("2026-11-19T14:00:00Z"), minutes: 40 },
            remediationAt: [t("2026-11-17T12:00:00Z"), t("2026-11-21T18:30:00Z")],
        },
    } satisfies FleetSpec,
    logs: {
        hub: { errorBytes: {}, hoursWithData: hoursOf(() => false) },
        alpha: {
            errorBytes: { shop: 40960, batch: 1024 },
            hoursWithData: hoursOf((h) => h === t("2026-11-22T01:00:00Z") || h === t("2026-11-22T02:00:00Z")),
        },
    } satisfies Record<string, { errorBytes: Record<string, number>; hoursWithData: number[] }>,
    firing: [
        {
            labels: {
                alertname: "NodeFilesystemAlmostFull",
                severity: "critical",
                cluster: "alpha",
                instance: "alpha-w1",
            },
            annotations: { summary: "alpha-w1:/var is 81 % full" },
        },
    ],
};
