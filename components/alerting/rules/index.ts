import type { MainConfig, StackConfig } from "../../../config";
import { certificateRules, type CertificateFacts } from "./certificates";
import { agentPipeline, appHealth, clusterHealth, localRetention } from "./cluster";
import { alertPath, deadmanGroup, serviceHealth } from "./fleet";
import { storeRetention, stores } from "./main";
import { alertsOf, isAlert, type AlertRule, type RuleGroup } from "./model";
import { remediationGroup } from "./remediation";
import { reportAlertGroup, reportClusterGroup, reportFleetGroup, ruleEvaluationGroup } from "./report";

export { CERTIFICATE_EXPIRY_METRIC, certificateRules, type CertificateFacts } from "./certificates";
export * from "./model";
export {
    COMPLEMENTED_DEFAULT_ALERTS,
    defaultRulesState,
    DROPPED_DEFAULT_ALERTS,
    KPS_RULE_FILES,
    REPLACED_DEFAULT_ALERTS,
    type DefaultAlertState,
    type DefaultRuleFile,
    type Replacement,
} from "./kps-defaults";
export { budgetRules, OPTED_IN_METRIC, type BudgetRule } from "./remediation";
export { EVALUATION_INTERVAL_SECONDS, REPORT_SERIES, SCRAPE_INTERVAL_SECONDS } from "./report";

/** Rules each cluster's own Prometheus evaluates; main adds the ones on its stores. */
export function clusterRuleGroups(config: StackConfig): RuleGroup[] {
    const groups = [
        clusterHealth,
        appHealth,
        agentPipeline,
        localRetention(config),
        remediationGroup(config.remediation),
        reportClusterGroup,
        ruleEvaluationGroup,
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
 * Every alert the stack defines, across roles, for docs and tests: main's groups with the
 * certificate group built from sample facts.
 */
export function allAlerts(main: MainConfig, certificates: readonly CertificateFacts[] = []): AlertRule[] {
    return alertsOf([...clusterRuleGroups(main), certificateRules(certificates), ...fleetRuleGroups(main)]);
}
