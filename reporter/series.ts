/**
 * What the reporter reads from Prometheus: the names of the hourly roll-ups that the report's
 * recording rules write (components/alerting/rules/report.ts defines them), and PromQL's string quoting, which the
 * rules share.
 */

/** Names of the roll-ups, for the reporter's queries. */
export const REPORT_SERIES = {
    nodeReady: "node:report_ready:avg1h",
    apiServerUp: "cluster:report_apiserver_up:avg1h",
    controlPlaneReady: "component:report_control_plane_ready:avg1h",
    upSamples: "cluster:report_up_samples:count1h",
    alertMinutes: "alertname:report_firing_minutes:sum1h",
    alertStarts: "alertname:report_firing_starts:count1h",
    budgetMinutes: "namespace_workload:report_budget_alert_minutes:sum1h",
    restarts: "namespace_pod:report_restarts:increase1h",
    oomKills: "namespace_pod:report_oom_kills:increase1h",
    crashLoop: "namespace_pod:report_crashloop:max1h",
    pendingMinutes: "namespace_pod:report_pending_minutes:sum1h",
    workloadCpu: "namespace_workload:report_cpu_cores:rate1h",
    workloadMemory: "namespace_workload:report_memory_working_set_bytes:max1h",
    cpuUsed: "cluster:report_cpu_used_cores:rate1h",
    cpuAllocatable: "cluster:report_cpu_allocatable_cores:avg1h",
    memoryUsed: "cluster:report_memory_used_bytes:avg1h",
    memoryAllocatable: "cluster:report_memory_allocatable_bytes:avg1h",
    diskUsed: "instance_mountpoint:report_filesystem_used:ratio",
    pvcUsed: "namespace_persistentvolumeclaim:report_volume_used:ratio",
    etcdBytes: "cluster:report_etcd_db_bytes:max1h",
    remoteWriteFailed: "cluster:report_remote_write_failed:increase1h",
    samplesDropped: "cluster:report_samples_dropped:increase1h",
    logsDropped: "cluster:report_logs_dropped:increase1h",
    spansDropped: "cluster:report_spans_dropped:increase1h",
    remediationActions: "cluster:report_remediation_actions:increase1h",
    spanLatency: "service:report_span_latency_bucket:increase1h",
    spanCalls: "service:report_span_calls:increase1h",
    spans: "cluster:report_spans:increase1h",
} as const;

/** A PromQL string literal. */
export function promString(value: string): string {
    return JSON.stringify(value);
}
