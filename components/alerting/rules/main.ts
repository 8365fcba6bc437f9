import type { RuleGroup } from "./model";

/**
 * Rules on the stores only main runs (Thanos, Loki, Tempo), evaluated by main's Prometheus, which
 * scrapes them: they keep working when Thanos Query or the Ruler are the thing that broke.
 */

const LOKI_PUSH = 'route=~"loki_api_v1_push|otlp_v1_logs"';

export const stores: RuleGroup = {
    name: "observability.stores",
    placement: "cluster",
    rules: [
        {
            alert: "ThanosCompactHalted",
            expr: "max(thanos_compact_halted) == 1",
            for: "5m",
            severity: "critical",
            category: "stack",
            summary: "Thanos compactor halted",
            description:
                "The compactor stopped on an error it will not retry: no compaction, no downsampling, no retention until it is fixed.",
            runbook: {
                symptom: "`thanos_compact_halted` is 1.",
                impact:
                    "Object storage grows without bound: old blocks are neither downsampled nor deleted, so the " +
                    "retention contract is broken and long-range queries slow down.",
                diagnosis: ["thanos_compact_halted", "increase(thanos_compact_group_compactions_failures_total[1h])"],
                fix: [
                    "The compactor's log gives the halting error, most often overlapping blocks or a corrupted block.",
                    "Overlaps: find the blocks with `thanos tools bucket verify`, then mark the bad one with `thanos tools bucket mark --marker=deletion-mark.json`.",
                    "Restart the compactor pod once the cause is gone; it resumes where it stopped.",
                ],
            },
        },
        {
            alert: "ThanosReceiveErrors",
            expr:
                'sum(rate(http_requests_total{handler="receive", code=~"5.."}[5m]))' +
                ' / sum(rate(http_requests_total{handler="receive"}[5m])) > 0.05',
            for: "10m",
            severity: "critical",
            category: "stack",
            summary: "Thanos Receive fails {{ $value | humanizePercentage }} of remote-write requests",
            description:
                "{{ $value | humanizePercentage }} of the remote-write requests from the fleet end in a 5xx: sub clusters retry and fall behind.",
            runbook: {
                symptom: "Thanos Receive answers remote-write with server errors.",
                impact: "Sub clusters' samples queue in their WAL; beyond its reach they are dropped.",
                diagnosis: [
                    'sum by (code, tenant) (rate(http_requests_total{handler="receive"}[5m]))',
                    "sum by (result) (rate(thanos_receive_replications_total[5m]))",
                    "sum by (operation) (rate(thanos_objstore_bucket_operation_failures_total[5m]))",
                ],
                fix: [
                    "Ingestors out of disk or memory: check their volumes and OOM kills.",
                    "Replication errors: an ingestor is down and the quorum cannot be met; bring it back.",
                ],
            },
        },
        {
            alert: "ThanosBucketOperationsFailing",
            expr:
                "sum by (job, operation) (rate(thanos_objstore_bucket_operation_failures_total[5m]))" +
                " / sum by (job, operation) (rate(thanos_objstore_bucket_operations_total[5m])) > 0.05",
            for: "15m",
            severity: "warning",
            category: "stack",
            summary:
                "{{ $labels.job }} fails {{ $value | humanizePercentage }} of {{ $labels.operation }} calls to object storage",
            description:
                "Object storage refuses or fails {{ $value | humanizePercentage }} of {{ $labels.operation }} operations from {{ $labels.job }}.",
            runbook: {
                symptom: "Calls from a Thanos component to the object store fail.",
                impact:
                    "Store gateway: long-range queries miss data. Receive and sidecar: blocks are not uploaded. " +
                    "Compactor: retention and downsampling stall.",
                diagnosis: [
                    "sum by (job, operation) (rate(thanos_objstore_bucket_operation_failures_total[5m]))",
                    "thanos_objstore_bucket_last_successful_upload_time",
                ],
                fix: [
                    "Credentials rotated on the storage side: update `s3AccessKeyId`/`s3SecretAccessKey` and `pulumi up`.",
                    "Bucket full, quota or endpoint unreachable: the component's log shows the storage's error.",
                ],
            },
        },
        {
            alert: "ThanosRuleEvaluationFailing",
            expr: 'sum by (rule_group) (increase(prometheus_rule_evaluation_failures_total{strategy=~".+"}[10m])) > 0',
            for: "10m",
            severity: "critical",
            category: "stack",
            summary: "Thanos Ruler fails to evaluate {{ $labels.rule_group }}",
            description:
                "{{ $value | humanize }} evaluations of the fleet rule group failed in 10 minutes: the fleet alerts it holds (dead-man's switches among them) are blind.",
            runbook: {
                symptom: "The Thanos Ruler reports failed rule evaluations.",
                impact: "Fleet rules, including the per-cluster dead-man's switches, do not fire while it lasts.",
                diagnosis: [
                    'sum by (rule_group) (rate(prometheus_rule_evaluation_failures_total{strategy=~".+"}[5m]))',
                    'sum by (code) (rate(http_requests_total{handler="query"}[5m]))',
                ],
                fix: [
                    "The Ruler queries Thanos Query: check that Query is up and answers (its log, its `up` series).",
                    "Query timeouts on large fleets: look at the slow rule in the Ruler's log.",
                ],
            },
        },
        {
            alert: "ThanosRuleAlertDeliveryFailing",
            expr:
                "sum(increase(thanos_alert_sender_alerts_dropped_total[10m])) > 0" +
                " or sum(rate(thanos_alert_sender_errors_total[5m])) > 0",
            for: "10m",
            severity: "critical",
            category: "stack",
            summary: "Thanos Ruler cannot deliver fleet alerts to Alertmanager",
            description: "The Ruler fails or drops alert notifications ({{ $value | humanize }}) for 10 minutes.",
            runbook: {
                symptom: "The Thanos Ruler's alert sender reports errors or dropped alerts.",
                impact: "Fleet alerts (dead-man's switches, service health, alert path) reach no receiver.",
                diagnosis: [
                    "sum by (alertmanager) (rate(thanos_alert_sender_errors_total[5m]))",
                    "rate(thanos_alert_sender_alerts_dropped_total[5m])",
                ],
                fix: [
                    "Alertmanager pods down or not ready: `kubectl -n <namespace> get pods -l app.kubernetes.io/name=alertmanager`.",
                    "DNS: the Ruler finds Alertmanagers through the SRV record of `alertmanager-operated`; check it resolves.",
                ],
            },
        },
        {
            alert: "ThanosRuleConfigReloadFailing",
            expr: "max(thanos_rule_config_last_reload_successful) == 0",
            for: "10m",
            severity: "warning",
            category: "stack",
            summary: "Thanos Ruler could not load its rules",
            description:
                "The last reload of the fleet rule files failed: the Ruler keeps evaluating the previous ones.",
            runbook: {
                symptom: "`thanos_rule_config_last_reload_successful` is 0.",
                impact: "Changes to the fleet rules (new sub clusters in the dead-man's switch) are not applied.",
                diagnosis: ["thanos_rule_config_last_reload_successful"],
                fix: [
                    "The Ruler's log names the rule file and error. The rules are generated and checked with promtool in CI: an edited ConfigMap is the usual cause; `pulumi up` restores it.",
                ],
            },
        },
        {
            alert: "LokiPushErrors",
            expr:
                `sum by (route) (rate(loki_request_duration_seconds_count{${LOKI_PUSH}, status_code=~"5.."}[5m]))` +
                ` / sum by (route) (rate(loki_request_duration_seconds_count{${LOKI_PUSH}}[5m])) > 0.05`,
            for: "10m",
            severity: "critical",
            category: "stack",
            summary: "Loki fails {{ $value | humanizePercentage }} of log pushes ({{ $labels.route }})",
            description:
                "{{ $value | humanizePercentage }} of pushes on {{ $labels.route }} end in a 5xx: agents retry and buffer.",
            runbook: {
                symptom: "Loki answers log pushes with server errors.",
                impact: "Agents keep logs in their disk buffers; once full, they stop reading.",
                diagnosis: [
                    `sum by (route, status_code) (rate(loki_request_duration_seconds_count{${LOKI_PUSH}}[5m]))`,
                    "sum by (tenant, reason) (rate(loki_discarded_samples_total[5m]))",
                ],
                fix: [
                    "Ingesters out of memory or disk (WAL): check their pods and volumes.",
                    "Object storage unreachable: flushes fail and ingesters back up; check the bucket.",
                ],
            },
        },
        {
            alert: "LokiDiscardingLogs",
            expr: "sum by (tenant, reason) (rate(loki_discarded_samples_total[5m])) > 0",
            for: "15m",
            severity: "warning",
            category: "stack",
            summary: "Loki discards logs of {{ $labels.tenant }} ({{ $labels.reason }})",
            description:
                "{{ $value | humanize }} lines per second of tenant {{ $labels.tenant }} are refused for {{ $labels.reason }}.",
            runbook: {
                symptom: "Loki refuses lines of a tenant (a cluster) for a limit or validation reason.",
                impact: "Those lines are lost; the agent does not retry refused lines.",
                diagnosis: ["sum by (tenant, reason) (rate(loki_discarded_samples_total[5m]))"],
                fix: [
                    "`rate_limited` / `per_stream_rate_limit`: a workload floods its logs; quiet it, or raise the limits.",
                    "`greater_than_max_sample_age` / `too_far_behind`: an agent resent an old buffer after a long outage.",
                ],
            },
        },
        {
            alert: "TempoRefusingSpans",
            expr: "sum(rate(tempo_receiver_refused_spans[5m])) > 0",
            for: "10m",
            severity: "warning",
            category: "stack",
            summary: "Tempo refuses spans",
            description:
                "Tempo's OTLP receiver refuses {{ $value | humanize }} spans per second: gateways queue and retry them.",
            runbook: {
                symptom: "Tempo's receiver refuses spans.",
                impact: "Gateways keep the spans in their persistent queues; once full they drop new ones.",
                diagnosis: [
                    "sum by (receiver, transport) (rate(tempo_receiver_refused_spans[5m]))",
                    "sum by (reason) (rate(tempo_discarded_spans_total[5m]))",
                ],
                fix: [
                    "Ingestion limits hit (`rate_limited`): raise Tempo's limits or reduce sampling.",
                    "Ingesters unhealthy: check their pods and the object store.",
                ],
            },
        },
        {
            alert: "TempoDiscardingSpans",
            expr: "sum by (reason) (rate(tempo_discarded_spans_total[5m])) > 0",
            for: "15m",
            severity: "warning",
            category: "stack",
            summary: "Tempo discards spans ({{ $labels.reason }})",
            description: "{{ $value | humanize }} spans per second are discarded for {{ $labels.reason }}.",
            runbook: {
                symptom: "Tempo discards spans after receiving them.",
                impact: "Those spans are lost: traces with holes.",
                diagnosis: ["sum by (reason) (rate(tempo_discarded_spans_total[5m]))"],
                fix: [
                    "`trace_too_large`: one trace exceeds the size limit, usually a loop creating spans; fix the instrumentation.",
                    "`rate_limited` / `live_traces_exceeded`: raise the limits or sample more.",
                ],
            },
        },
    ],
};

export const storeRetention: RuleGroup = {
    name: "observability.retention-stores",
    placement: "cluster",
    rules: [
        {
            alert: "ThanosCompactNotRunning",
            expr: "sum(increase(thanos_compact_iterations_total[6h])) == 0",
            for: "30m",
            severity: "warning",
            category: "retention",
            summary: "Thanos compactor has not completed a run in 6 hours",
            description:
                "No successful compactor iteration in 6 hours: metric retention and downsampling are not applied to object storage.",
            runbook: {
                symptom: "The compactor finished no iteration for 6 hours.",
                impact:
                    "The metrics retention contract (retention.metrics.raw/fiveMinutes/oneHour) is applied by " +
                    "the compactor only: expired blocks stay and the bucket keeps growing.",
                diagnosis: [
                    "increase(thanos_compact_iterations_total[1d])",
                    "thanos_compact_halted",
                    "thanos_compact_todo_compactions",
                ],
                fix: [
                    "Halted: see ThanosCompactHalted.",
                    "Running but never finishing: a large backlog; give the compactor more CPU and disk, it catches up.",
                ],
            },
        },
        {
            alert: "LokiRetentionNotApplied",
            expr:
                "time() - max(loki_compactor_apply_retention_last_successful_run_timestamp_seconds) > 3 * 3600" +
                ' or sum(increase(loki_compactor_apply_retention_operation_total{status="failure"}[1h])) > 0',
            for: "30m",
            severity: "warning",
            category: "retention",
            summary: "Loki's retention has not run successfully",
            description:
                "Loki's compactor last applied retention {{ $value | humanizeDuration }} ago, or failed to: logs older than the contract stay in the bucket.",
            runbook: {
                symptom: "The Loki compactor's retention pass has not succeeded for hours, or it fails.",
                impact: "Logs outlive `retention.logs`: the contract (and any legal deletion duty) is broken, the bucket grows.",
                diagnosis: [
                    "time() - loki_compactor_apply_retention_last_successful_run_timestamp_seconds",
                    "sum by (status) (increase(loki_compactor_apply_retention_operation_total[1d]))",
                ],
                fix: [
                    "The compactor's log gives the error; object storage permissions (delete) are the usual cause.",
                    "Only one compactor may run: check that exactly one pod holds the compactor ring.",
                ],
            },
        },
        {
            alert: "TempoRetentionFailing",
            expr: "sum(increase(tempodb_retention_errors_total[1h])) > 0",
            for: "0m",
            severity: "warning",
            category: "retention",
            summary: "Tempo fails to apply retention",
            description:
                "{{ $value | humanize }} retention errors in the last hour: trace blocks older than the contract may stay.",
            runbook: {
                symptom: "Tempo's compactor reports retention errors.",
                impact: "Traces outlive `retention.traces` and the bucket grows.",
                diagnosis: [
                    "increase(tempodb_retention_errors_total[1d])",
                    "increase(tempodb_retention_deleted_total[1d])",
                ],
                fix: [
                    "The compactor's log names the failing block; object storage permissions (delete) are the usual cause.",
                ],
            },
        },
    ],
};
