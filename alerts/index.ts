import type { MainConfig, StackConfig } from "../config";
import { certificateRules, type CertificateFacts } from "./certificates";
import { agentPipeline, appHealth, clusterHealth, localRetention } from "./cluster";
import { alertPath, deadmanGroup, serviceHealth } from "./fleet";
import { storeRetention, stores } from "./main";
import { alertsOf, type AlertRule, type RuleGroup } from "./model";
import { remediationGroup } from "./remediation";

export { certificateRules, type CertificateFacts } from "./certificates";
export * from "./model";
export { budgetRules, OPTED_IN_METRIC, type BudgetRule } from "./remediation";

/** Rules each cluster's own Prometheus evaluates; main adds the ones on its stores. */
export function clusterRuleGroups(config: StackConfig): RuleGroup[] {
    const groups = [
        clusterHealth,
        appHealth,
        agentPipeline,
        localRetention(config),
        remediationGroup(config.remediation),
    ];
    return config.role === "main" ? [...groups, stores, storeRetention] : groups;
}

/** Rules main's Thanos Ruler evaluates over the whole fleet. */
export function fleetRuleGroups(config: MainConfig): RuleGroup[] {
    return [deadmanGroup(config), alertPath, serviceHealth(config)];
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
