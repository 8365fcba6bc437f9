import { NULL_RECEIVER, type AlertingConfig, type MainConfig, type ReceiverConfig } from "../../config";
import { KPS_RULE_FILES } from "./rules/kps-defaults";
import { DEADMAN_LABEL } from "./rules/model";

/**
 * Alertmanager's configuration on main, as data: receivers, routes and inhibitions from the
 * `alerting` config. Credentials are never in it: each receiver reads its own from a file of
 * the receivers Secret, which the operator mounts under `/etc/alertmanager/secrets/<name>/`.
 */

/** The Secret holding `alertmanager.yaml`, and the one holding receiver credentials (one key per receiver). */
export const ALERTMANAGER_CONFIG_SECRET = "alertmanager-config";
export const ALERTMANAGER_CONFIG_KEY = "alertmanager.yaml";
export const RECEIVER_CREDENTIALS_SECRET = "alertmanager-receivers";
export const RECEIVER_CREDENTIALS_DIR = `/etc/alertmanager/secrets/${RECEIVER_CREDENTIALS_SECRET}`;

/** Grouping and repetition for a fleet reviewed weekly: one notification per alert and cluster. */
export const ROUTING_TIMERS = {
    groupWait: "30s",
    groupInterval: "5m",
    /** Warnings repeat daily; critical alerts every 4 hours until resolved or silenced. */
    repeatInterval: "24h",
    criticalRepeatInterval: "4h",
    /** The heartbeat: the external switch expects a ping every minute or so. */
    heartbeatInterval: "1m",
} as const;

/**
 * Application alerts kube-prometheus-stack 88.5.3 ships (its kubernetesApps and
 * kubernetesStorage groups), inhibited with ours while their cluster's API server is down.
 */
export const KPS_APP_ALERTS: readonly string[] = KPS_RULE_FILES.filter(
    (f) => f.file === "kubernetes-apps" || f.file === "kubernetes-storage",
).flatMap((f) => f.alerts);

/**
 * Alerts about the stack's own delivery path: they explain a silent cluster, so the metrics
 * dead-man's switch leaves them visible.
 */
const PIPELINE_ALERTS = "Prometheus.*|Alertmanager.*|ConfigReloader.*";

function credentialFile(receiver: ReceiverConfig): string {
    return `${RECEIVER_CREDENTIALS_DIR}/${receiver.name}`;
}

/** PagerDuty takes critical, error, warning or info: our severities, anything else as error. */
const PAGERDUTY_SEVERITY =
    '{{ if eq .CommonLabels.severity "critical" }}critical{{ else if eq .CommonLabels.severity "warning" }}warning' +
    '{{ else if eq .CommonLabels.severity "info" }}info{{ else }}error{{ end }}';

function receiverEntry(receiver: ReceiverConfig): Record<string, unknown> {
    const send_resolved = receiver.sendResolved;
    switch (receiver.kind) {
        case "email":
            return {
                name: receiver.name,
                email_configs: [
                    {
                        to: receiver.to.join(", "),
                        from: receiver.from,
                        smarthost: receiver.smarthost,
                        require_tls: true,
                        send_resolved,
                        ...(receiver.username !== undefined
                            ? { auth_username: receiver.username, auth_password_file: credentialFile(receiver) }
                            : {}),
                    },
                ],
            };
        case "slack":
        case "mattermost":
            // Mattermost's incoming webhooks take Slack's payload.
            return {
                name: receiver.name,
                slack_configs: [
                    {
                        api_url_file: credentialFile(receiver),
                        send_resolved,
                        ...(receiver.channel !== undefined ? { channel: receiver.channel } : {}),
                    },
                ],
            };
        case "teams":
            return {
                name: receiver.name,
                msteamsv2_configs: [{ webhook_url_file: credentialFile(receiver), send_resolved }],
            };
        case "webhook":
            return {
                name: receiver.name,
                webhook_configs: [
                    {
                        url: receiver.url,
                        send_resolved,
                        ...(receiver.bearerToken
                            ? {
                                  http_config: {
                                      authorization: { type: "Bearer", credentials_file: credentialFile(receiver) },
                                  },
                              }
                            : {}),
                    },
                ],
            };
        case "pagerduty":
            return {
                name: receiver.name,
                pagerduty_configs: [
                    { routing_key_file: credentialFile(receiver), send_resolved, severity: PAGERDUTY_SEVERITY },
                ],
            };
    }
}

/** `label="value"` and `label=~"a|b"` matchers, quoted for Alertmanager. */
function matcher(label: string, values: readonly string[]): string {
    return values.length === 1
        ? `${label}=${JSON.stringify(values[0])}`
        : `${label}=~${JSON.stringify(values.join("|"))}`;
}

function userRoute(route: AlertingConfig["routes"][number]): Record<string, unknown> {
    const matchers = [
        ...(route.severities ? [matcher("severity", route.severities)] : []),
        ...(route.clusters ? [matcher("cluster", route.clusters)] : []),
        ...(route.alertnames ? [matcher("alertname", route.alertnames)] : []),
    ];
    return {
        receiver: route.receiver,
        ...(matchers.length > 0 ? { matchers } : {}),
        routes: [{ matchers: ['severity="critical"'], repeat_interval: ROUTING_TIMERS.criticalRepeatInterval }],
    };
}

/** Names of our own alerts of a category, for inhibition matchers. */
export interface AlertNames {
    app: readonly string[];
    /** Alerts derived from traces: they go quiet with the traces. */
    traceDerived: readonly string[];
}

/** The whole `alertmanager.yaml` of main, as data. */
export function alertmanagerConfig(config: Pick<MainConfig, "alerting" | "cluster">, names: AlertNames) {
    const { alerting } = config;
    const fallback = alerting.defaultReceiver ?? NULL_RECEIVER;
    const appAlerts = [...names.app, ...KPS_APP_ALERTS].join("|");
    return {
        global: { resolve_timeout: "5m" },
        route: {
            receiver: fallback,
            group_by: ["alertname", "cluster"],
            group_wait: ROUTING_TIMERS.groupWait,
            group_interval: ROUTING_TIMERS.groupInterval,
            repeat_interval: ROUTING_TIMERS.repeatInterval,
            routes: [
                {
                    // Main's Watchdog proves the whole alert path to an external heartbeat.
                    matchers: ['alertname="Watchdog"', matcher("cluster", [config.cluster.name])],
                    receiver: alerting.heartbeatReceiver ?? NULL_RECEIVER,
                    group_wait: "0s",
                    group_interval: ROUTING_TIMERS.heartbeatInterval,
                    repeat_interval: ROUTING_TIMERS.heartbeatInterval,
                },
                // Sub clusters' liveness is the dead-man's switch's job, not their Watchdog's.
                { matchers: ['alertname=~"Watchdog|InfoInhibitor"'], receiver: NULL_RECEIVER },
                ...alerting.routes.map(userRoute),
                { matchers: ['severity="info"'], receiver: NULL_RECEIVER },
                {
                    matchers: ['severity="critical"'],
                    receiver: fallback,
                    repeat_interval: ROUTING_TIMERS.criticalRepeatInterval,
                },
            ],
        },
        inhibit_rules: [
            {
                source_matchers: ['severity="critical"'],
                target_matchers: ['severity=~"warning|info"'],
                equal: ["cluster", "namespace", "alertname"],
            },
            {
                source_matchers: ['severity="warning"'],
                target_matchers: ['severity="info"'],
                equal: ["cluster", "namespace", "alertname"],
            },
            {
                source_matchers: ['alertname="InfoInhibitor"'],
                target_matchers: ['severity="info"'],
                equal: ["cluster", "namespace"],
            },
            {
                // A cluster main hears nothing from: its other alerts are stale or consequences.
                source_matchers: ['alertname="ClusterMetricsAbsent"'],
                target_matchers: [
                    `${DEADMAN_LABEL.name}!="${DEADMAN_LABEL.value}"`,
                    'category!="stack"',
                    `alertname!~"${PIPELINE_ALERTS}|Watchdog"`,
                ],
                equal: ["cluster"],
            },
            {
                // A cluster whose API server is down: its workloads' alerts follow from it.
                source_matchers: ['alertname=~"KubeAPIDown|APIServerAllInstancesDown"'],
                target_matchers: [`alertname=~"${appAlerts}"`],
                equal: ["cluster"],
            },
            {
                source_matchers: ['alertname="ClusterTracesStopped"'],
                target_matchers: [`alertname=~"${names.traceDerived.join("|")}"`],
                equal: ["cluster"],
            },
        ],
        receivers: [{ name: NULL_RECEIVER }, ...alerting.receivers.map(receiverEntry)],
    };
}
