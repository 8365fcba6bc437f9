import type { MainConfig, StackConfig } from "../config";
import { certificateRules, type CertificateFacts } from "./certificates";
import { agentPipeline, appHealth, clusterHealth, localRetention } from "./cluster";
import { alertPath, deadmanGroup, serviceHealth } from "./fleet";
import { storeRetention, stores } from "./main";
import { alertsOf, isAlert, type AlertRule, type RuleGroup } from "./model";
import { remediationGroup } from "./remediation";
import { reportAlertGroup, reportClusterGroup, reportFleetGroup } from "./report";

export { CERTIFICATE_EXPIRY_METRIC, certificateRules, type CertificateFacts } from "./certificates";
export * from "./model";
export { budgetRules, OPTED_IN_METRIC, type BudgetRule } from "./remediation";
export { EVALUATION_INTERVAL_SECONDS, REPORT_SERIES } from "./report";

/** Rules each cluster's own Prometheus evaluates; main adds the ones on its stores. */
export function clusterRuleGroups(config: StackConfig): RuleGroup[] {
    const groups = [
        clusterHealth,
        appHealth,
        agentPipeline,
        localRetention(config),
        remediationGroup(config.remediation),
        reportClusterGroup,
    ];
    if (config.role !== "main") return groups;
    return [...groups, stores, storeRetention, ...(config.report.enabled ? [reportAlertGroup(config.namespace)] : [])];
}

/** main's rule groups that watch the stores' retention. */
export function storeRetentionAlerts(): RuleGroup[] {
    return [stores, storeRetention].map((group) => ({
        ...group,
        rules: group.rules.filter((rule) => isAlert(rule) && rule.category === "retention"),
    }));
}

/** Rules main's Thanos Ruler evaluates over the whole fleet. */
export function fleetRuleGroups(config: MainConfig): RuleGroup[] {
    return [deadmanGroup(config), alertPath, serviceHealth(config), reportFleetGroup];
}

/**
 * kube-prometheus-stack default alerts turned off, each replaced by one of ours, and why
 * (docs/alerts.md repeats this).
 */
export const REPLACED_DEFAULT_ALERTS: Readonly<Record<string, string>> = {
    KubeControllerManagerDown:
        "fires on Talos whenever the controller-manager's metrics port is bound to localhost (the Talos default); ControlPlaneComponentDown reads the mirror pods instead",
    KubeSchedulerDown: "same as KubeControllerManagerDown, for the scheduler",
    KubeNodePressure: "info only, so never notified; NodeConditionPressure raises the same conditions as a warning",
};

/**
 * Every alert the stack defines, across roles, for docs and tests: main's groups with the
 * certificate group built from sample facts.
 */
export function allAlerts(main: MainConfig, certificates: readonly CertificateFacts[] = []): AlertRule[] {
    return alertsOf([...clusterRuleGroups(main), certificateRules(certificates), ...fleetRuleGroups(main)]);
}
