import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";

import { receiverNeedsCredential, type MainConfig, type StackConfig, type StackSecrets } from "../../config";
import { credentialFiles } from "../core/credential-files";
import { commonLabels } from "../core/labels";
import {
    ALERTMANAGER_CONFIG_KEY,
    ALERTMANAGER_CONFIG_SECRET,
    alertmanagerConfig,
    RECEIVER_CREDENTIALS_SECRET,
    type AlertNames,
} from "./alertmanager-config";
import {
    alertsOf,
    certificateRules,
    clusterRuleGroups,
    fleetRuleGroups,
    ruleFile,
    type CertificateFacts,
    type RuleGroup,
} from "./rules";

/** The ConfigMap the Thanos Ruler loads its rule files from, and the file of the fleet rules. */
export const FLEET_RULES_CONFIGMAP = "thanos-fleet-rules";
export const FLEET_RULES_FILE = "fleet.yaml";

/** Our alert names the inhibition rules need, from the rule definitions. */
export function inhibitionNames(config: MainConfig): AlertNames {
    const fleet = fleetRuleGroups(config);
    const all = alertsOf([...clusterRuleGroups(config), ...fleet]);
    return {
        app: all.filter((a) => a.category === "app").map((a) => a.alert),
        traceDerived: alertsOf(fleet)
            .filter((a) => a.expr.includes("traces_spanmetrics_") && a.category === "app")
            .map((a) => a.alert),
    };
}

/** The content of the fleet rules file the Thanos Ruler reads. */
export function fleetRulesFile(config: MainConfig): string {
    return stringify(ruleFile(fleetRuleGroups(config), config.alerting.runbookBaseUrl), { lineWidth: 0 });
}

/** Main's `alertmanager.yaml`. */
export function alertmanagerConfigFile(config: MainConfig): string {
    return stringify(alertmanagerConfig(config, inhibitionNames(config)), { lineWidth: 0 });
}

function prometheusRule(
    name: string,
    resourceName: string,
    config: StackConfig,
    groups: pulumi.Input<RuleGroup[]>,
    opts: pulumi.CustomResourceOptions,
) {
    return new k8s.apiextensions.CustomResource(
        name,
        {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { name: resourceName, namespace: config.namespace, labels: commonLabels(config.cluster.name) },
            spec: pulumi.output(groups).apply((g) => ({ groups: ruleFile(g, config.alerting.runbookBaseUrl).groups })),
        },
        opts,
    );
}

/**
 * The cluster's own alert rules, as a PrometheusRule its Prometheus loads. On main, also the
 * certificate rules, written from the PKI's state at each `pulumi up`.
 */
export function clusterRules(
    name: string,
    config: StackConfig,
    certificates: pulumi.Input<readonly CertificateFacts[]> | undefined,
    opts: pulumi.CustomResourceOptions,
): pulumi.Resource[] {
    const rules = [prometheusRule(`${name}-rules`, "observability-rules", config, clusterRuleGroups(config), opts)];
    if (certificates !== undefined) {
        rules.push(
            prometheusRule(
                `${name}-certificate-rules`,
                "observability-certificates",
                config,
                pulumi.output(certificates).apply((c) => [certificateRules(c)]),
                opts,
            ),
        );
    }
    return rules;
}

/**
 * What main's Alertmanager and Thanos Ruler read before they start: the Alertmanager
 * configuration (no credential in it), the receivers' credentials, and the fleet rules.
 */
export function alertingInputs(
    name: string,
    config: MainConfig,
    secrets: StackSecrets,
    opts: pulumi.CustomResourceOptions,
): pulumi.Resource[] {
    const metadata = (n: string) => ({
        name: n,
        namespace: config.namespace,
        labels: commonLabels(config.cluster.name),
    });
    const resources: pulumi.Resource[] = [
        new k8s.core.v1.Secret(
            `${name}-alertmanager-config`,
            {
                metadata: metadata(ALERTMANAGER_CONFIG_SECRET),
                type: "Opaque",
                stringData: { [ALERTMANAGER_CONFIG_KEY]: alertmanagerConfigFile(config) },
            },
            opts,
        ),
        new k8s.core.v1.ConfigMap(
            `${name}-fleet-rules`,
            { metadata: metadata(FLEET_RULES_CONFIGMAP), data: { [FLEET_RULES_FILE]: fleetRulesFile(config) } },
            opts,
        ),
    ];
    const needing = config.alerting.receivers.filter(receiverNeedsCredential).map((r) => r.name);
    const credentials = secrets.alertReceiverCredentials;
    if (needing.length > 0) {
        if (credentials === undefined) {
            throw new Error(`alerting.receivers ${needing.join(", ")} need alertReceiverCredentials, which is not set`);
        }
        resources.push(
            new k8s.core.v1.Secret(
                `${name}-alertmanager-receivers`,
                {
                    metadata: metadata(RECEIVER_CREDENTIALS_SECRET),
                    type: "Opaque",
                    stringData: pulumi.secret(
                        credentials.apply((json) => credentialFiles(json, needing, "alertReceiverCredentials")),
                    ),
                },
                opts,
            ),
        );
    }
    return resources;
}
