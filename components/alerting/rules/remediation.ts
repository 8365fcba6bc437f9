import type { RemediationConfig } from "../../../config";
import {
    BUDGET_ANNOTATIONS,
    ksmLabelName,
    OPT_OUT_ANNOTATION,
    REMEDIATION_LABEL,
    type BudgetKind,
} from "../../../remediator/keys";
import { METRICS } from "../../../remediator/metrics";
import { promString, type AlertRule, type RuleGroup } from "./model";

/**
 * Budget rules of opted-in (non-critical) workloads, evaluated by each cluster's own Prometheus so
 * that its remediator sees them while the link to main is down. Each alert names the workload by
 * `namespace`, `workload_type` (`deployment` or `statefulset`) and `workload`, and carries the
 * `remediation` label the remediator selects on.
 */

/** Workloads opted in and not opted out, one series per workload (recorded, so every rule joins it). */
export const OPTED_IN_METRIC = "namespace_workload:remediation_opted_in:info";

/** kube-prometheus-stack's pod-to-workload mapping (its `k8s.rules.pod_owner` group). */
const POD_OWNER = "namespace_workload_pod:kube_pod_owner:relabel";

/** Workload types the remediator can scale, as kube-state-metrics names their metrics and label. */
const SCALABLE = ["deployment", "statefulset"] as const;

function optedInExpr(remediation: RemediationConfig): string {
    const label = ksmLabelName("label", remediation.optInLabel.key);
    const optOut = ksmLabelName("annotation", OPT_OUT_ANNOTATION);
    const perType = SCALABLE.map(
        (type) =>
            `label_replace(label_replace(` +
            `kube_${type}_labels{${label}=${promString(remediation.optInLabel.value)}}` +
            ` unless on (namespace, ${type}) kube_${type}_annotations{${optOut}="true"},` +
            ` "workload", "$1", "${type}", "(.+)"), "workload_type", "${type}", "", "")`,
    );
    return `max by (namespace, workload, workload_type) (${perType.join(" or ")})`;
}

/** A per-container or per-pod series, given the workload labels of its pod. */
const byWorkload = (series: string) =>
    `${series} * on (namespace, pod) group_left (workload, workload_type) ${POD_OWNER}`;

const OPTED_IN = `on (namespace, workload, workload_type) ${OPTED_IN_METRIC}`;

const WHERE = "{{ $labels.workload_type }} {{ $labels.namespace }}/{{ $labels.workload }}";

/** A budget rule, with the budget the remediator compares the alert's value with. */
interface BudgetAlert extends AlertRule {
    budget: BudgetKind;
    threshold: number;
}

/** What the remediator needs to know of one budget alert. */
export interface BudgetRule {
    alert: string;
    budget: BudgetKind;
    /** The cluster-wide budget the rule fires above. */
    threshold: number;
    /** The rule's expression, quoted as evidence. */
    query: string;
}

const RUNBOOK_FIX_COMMON = [
    "`dry-run` mode: the remediator logged and posted an Event with what it would do; act by hand if needed.",
    "`scale` mode: the workload is at 0 replicas. Fix the cause, then `npm run remediation -- restore <namespace>/<kind>/<name>`.",
    "`gitops` mode: review the merge request the remediator opened; merge it to stop the workload, or close it and fix the cause.",
    `A workload that legitimately needs more raises its own budget with the \`${BUDGET_ANNOTATIONS.cpu}\`, \`${BUDGET_ANNOTATIONS.memory}\` or \`${BUDGET_ANNOTATIONS.restarts}\` annotation, or opts out with \`${OPT_OUT_ANNOTATION}: "true"\`.`,
];

function budgetAlerts(remediation: RemediationConfig): BudgetAlert[] {
    const { budget } = remediation;
    const forDuration = `${budget.forMinutes}m`;
    const labels = { [REMEDIATION_LABEL]: "true" };
    return [
        {
            alert: "NonCriticalWorkloadCPUOverBudget",
            budget: "cpu",
            threshold: budget.cpuRequestFactor,
            expr:
                `(sum by (namespace, workload, workload_type) (${byWorkload('rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m])')})` +
                ` / sum by (namespace, workload, workload_type) (${byWorkload('kube_pod_container_resource_requests{resource="cpu"}')}))` +
                ` > ${budget.cpuRequestFactor} and ${OPTED_IN}`,
            for: forDuration,
            severity: "warning",
            category: "app",
            labels,
            summary: `Non-critical ${WHERE} uses {{ $value | humanize }} times the CPU it requests`,
            description:
                `Above its budget of ${budget.cpuRequestFactor} times its CPU request for ${forDuration}: the ` +
                "remediator acts on it according to its mode.",
            runbook: {
                symptom: "An opted-in workload has used far more CPU than it requests for several minutes.",
                impact:
                    "It takes CPU the scheduler promised to other pods of its nodes: their latency rises and " +
                    "critical workloads get throttled.",
                diagnosis: [
                    'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="<namespace>", container!=""}[5m]))',
                    'kube_pod_container_resource_requests{namespace="<namespace>", resource="cpu"}',
                ],
                fix: RUNBOOK_FIX_COMMON,
            },
        },
        {
            alert: "NonCriticalWorkloadMemoryNearLimit",
            budget: "memory",
            threshold: budget.memoryLimitRatio,
            expr:
                `max by (namespace, workload, workload_type) (${byWorkload(
                    '(max by (namespace, pod, container) (container_memory_working_set_bytes{container!="", image!=""})' +
                        ' / on (namespace, pod, container) max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory"}))',
                )})` + ` > ${budget.memoryLimitRatio} and ${OPTED_IN}`,
            for: forDuration,
            severity: "warning",
            category: "app",
            labels,
            summary: `Non-critical ${WHERE} is at {{ $value | humanizePercentage }} of its memory limit`,
            description:
                `A container has stayed above ${+(budget.memoryLimitRatio * 100).toFixed(2)}% of its memory limit for ` +
                `${forDuration}: the next spike is an OOM kill. The remediator acts on it according to its mode.`,
            runbook: {
                symptom: "A container of an opted-in workload has stayed close to its memory limit.",
                impact: "It is about to be OOM-killed, and its node's memory is under pressure meanwhile.",
                diagnosis: [
                    'container_memory_working_set_bytes{namespace="<namespace>", container!=""}',
                    'kube_pod_container_resource_limits{namespace="<namespace>", resource="memory"}',
                ],
                fix: RUNBOOK_FIX_COMMON,
            },
        },
        {
            alert: "NonCriticalWorkloadRestartStorm",
            budget: "restarts",
            threshold: budget.restarts,
            expr:
                `sum by (namespace, workload, workload_type) (${byWorkload("increase(kube_pod_container_status_restarts_total[15m])")})` +
                ` >= ${budget.restarts} and ${OPTED_IN}`,
            for: forDuration,
            severity: "warning",
            category: "app",
            labels,
            summary: `Non-critical ${WHERE} restarted {{ $value | humanize }} times in 15 minutes`,
            description:
                `At least ${budget.restarts} container restarts in 15 minutes, for ${forDuration}: a crash ` +
                "loop burning CPU, image pulls and log volume. The remediator acts on it according to its mode.",
            runbook: {
                symptom: "The containers of an opted-in workload keep restarting.",
                impact: "Each restart costs CPU, image pulls and log lines; the workload does no useful work meanwhile.",
                diagnosis: [
                    'increase(kube_pod_container_status_restarts_total{namespace="<namespace>"}[15m])',
                    'kube_pod_container_status_last_terminated_reason{namespace="<namespace>"}',
                ],
                fix: ["Read the previous container's log: `kubectl logs --previous <pod>`.", ...RUNBOOK_FIX_COMMON],
            },
        },
    ];
}

/** The rule group of a cluster: the opted-in workloads, their budgets, and the remediator's own health. */
export function remediationGroup(remediation: RemediationConfig): RuleGroup {
    const stale = remediation.pollIntervalSeconds * 5;
    return {
        name: "observability.remediation",
        placement: "cluster",
        rules: [
            { record: OPTED_IN_METRIC, expr: optedInExpr(remediation) },
            ...budgetAlerts(remediation).map(asAlertRule),
            {
                alert: "RemediatorNotPolling",
                expr: `time() - ${METRICS.lastPoll} > ${stale}`,
                for: "5m",
                severity: "warning",
                category: "stack",
                summary: "The remediator of this cluster has not read its alerts for {{ $value | humanizeDuration }}",
                description:
                    `Its last successful poll of Prometheus' alerts is older than ${stale}s (5 poll intervals): ` +
                    "over-budget workloads are not acted on.",
                runbook: {
                    symptom: "The remediator runs but cannot read the cluster's alerts.",
                    impact: "No remediation happens: opted-in workloads over budget keep consuming.",
                    diagnosis: [METRICS.lastPoll, "sum by (result) (rate(observability_remediation_polls_total[15m]))"],
                    fix: [
                        "The remediator's log names the failing request: Prometheus down, or a NetworkPolicy in the way.",
                        "Check the Prometheus Service it is configured with (`kps-prometheus` in the stack's namespace).",
                    ],
                },
            },
        ],
    };
}

/** The rule file's view of a budget alert: the rule without the remediator's fields. */
function asAlertRule(alert: BudgetAlert): AlertRule {
    const rule: Partial<BudgetAlert> = { ...alert };
    delete rule.budget;
    delete rule.threshold;
    return rule as AlertRule;
}

/** What the remediator is told about each budget alert: the only alerts it may act on. */
export function budgetRules(remediation: RemediationConfig): BudgetRule[] {
    return budgetAlerts(remediation).map((rule) => ({
        alert: rule.alert,
        budget: rule.budget,
        threshold: rule.threshold,
        query: rule.expr,
    }));
}
