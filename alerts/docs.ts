import { mainSchema, subSchema, type MainConfig, type SubConfig } from "../config/schema";
import { certificateRules } from "./certificates";
import { allAlerts, clusterRuleGroups, fleetRuleGroups, REPLACED_DEFAULT_ALERTS } from "./index";
import { isAlert, type AlertRule, type Category, type RuleGroup } from "./model";

/**
 * docs/alerts.md and docs/runbooks/<Alert>.md, written from the rule definitions
 * (`npm run alerts:docs`); a test fails when the files differ from what this writes.
 */

const CATEGORY_TITLES: Record<Category, string> = {
    deadman: "Dead-man's switches",
    cluster: "Cluster health",
    app: "Application health",
    stack: "The stack itself",
    retention: "Retention compliance",
};

/** Where each alert is evaluated, in words. */
function placements(main: MainConfig, sub: SubConfig): Map<string, string> {
    const everywhere = new Set(clusterRuleGroups(sub).map((g) => g.name));
    const where = new Map<string, string>();
    const note = (groups: readonly RuleGroup[], text: (g: RuleGroup) => string) => {
        for (const group of groups) {
            for (const rule of group.rules.filter(isAlert)) where.set(rule.alert, text(group));
        }
    };
    note([...clusterRuleGroups(main), certificateRules([])], (g) =>
        everywhere.has(g.name) ? "every cluster's Prometheus" : "main's Prometheus",
    );
    note(fleetRuleGroups(main), () => "main's Thanos Ruler (whole fleet)");
    return where;
}

/** One runbook page. */
function runbookPage(alert: AlertRule, where: string): string {
    const lines = [
        `# ${alert.alert}`,
        "",
        `Severity **${alert.severity}**, evaluated in ${where}. Summary: ${alert.summary}`,
        "",
        "## Symptom",
        "",
        alert.runbook.symptom,
        "",
        "## Impact",
        "",
        alert.runbook.impact,
        "",
        "## Diagnosis",
        "",
        "Run in Grafana's Explore (Thanos datasource), replacing `<…>` placeholders:",
        "",
        ...alert.runbook.diagnosis.flatMap((query) => ["```promql", query, "```", ""]),
        "## Fix",
        "",
        ...alert.runbook.fix.map((step, i) => `${i + 1}. ${step}`),
        "",
        "## Rule",
        "",
        "```promql",
        alert.expr,
        "```",
        "",
        `Fires after the condition holds for ${alert.for}.`,
        "",
    ];
    return lines.join("\n");
}

function escapeCell(text: string): string {
    return text.replace(/\|/g, "\\|");
}

/** The alert reference. */
function alertsPage(alerts: readonly AlertRule[], where: ReadonlyMap<string, string>): string {
    const sections = (Object.keys(CATEGORY_TITLES) as Category[]).flatMap((category) => {
        const inCategory = alerts.filter((a) => a.category === category);
        return [
            `### ${CATEGORY_TITLES[category]}`,
            "",
            "| alert | severity | evaluated in | meaning |",
            "| --- | --- | --- | --- |",
            ...inCategory.map(
                (a) =>
                    `| [${a.alert}](runbooks/${a.alert}.md) | ${a.severity} | ${where.get(a.alert) ?? "?"} | ${escapeCell(a.runbook.symptom)} |`,
            ),
            "",
        ];
    });
    const replaced = Object.entries(REPLACED_DEFAULT_ALERTS).map(([name, why]) => `- \`${name}\`: ${why}.`);
    return [
        "# Alerts",
        "",
        "<!-- Written by `npm run alerts:docs` from alerts/*.ts; edit those, not this file. -->",
        "",
        `The stack defines ${alerts.length} alerts of its own, as typed code in \`alerts/\`, each with a`,
        "runbook in `docs/runbooks/`. kube-prometheus-stack's default rules run beside them (see the end of",
        "this page). Every alert carries `severity`, `category`, `cluster`, `summary`, `description` and",
        "`runbook_url` (`alerting.runbookBaseUrl` + `/<Alert>.md`).",
        "",
        "## Where rules run",
        "",
        "- **Every cluster's Prometheus** evaluates the cluster, application, agent and local retention",
        "  rules on its own data, from a `PrometheusRule`. They keep firing while the metrics link to main",
        "  is down, and reach main's Alertmanager through the alert ingest (mTLS). Prometheus adds the",
        "  `cluster` external label to every alert it sends.",
        "- **Main's Prometheus** adds the rules on the stores only main runs (Thanos, Loki, Tempo) and the",
        "  fleet certificates' expiry, written from the PKI's state at each `pulumi up`.",
        "- **Main's Thanos Ruler** evaluates the fleet rules through Thanos Query: per-cluster dead-man's",
        "  switches, alert delivery from each cluster, and service health from span metrics. Their",
        "  expressions keep the `cluster` label of the data.",
        "",
        "## The stack's alerts",
        "",
        ...sections,
        "## Alertmanager",
        "",
        "Main runs Alertmanager with HA replicas (2 in small and medium, 3 in large) from a configuration",
        "the program writes into the Secret `alertmanager-config`; receiver credentials live in the",
        "Secret `alertmanager-receivers` and are read from files, never written into the configuration.",
        "See docs/configuration.md (`alerting`) for receivers and routes.",
        "",
        "- **Routing**: main's Watchdog goes to `alerting.heartbeatReceiver` every minute; other",
        "  clusters' Watchdogs and InfoInhibitor go nowhere; then `alerting.routes` in order; info alerts",
        "  no route matched are not notified (the weekly report lists them); the rest go to",
        "  `alerting.defaultReceiver`.",
        "- **Grouping**: by `alertname` and `cluster`; first notification after 30s, new alerts in a group",
        "  after 5m; warnings repeat daily, critical alerts every 4 hours.",
        "- **Inhibitions**: critical hides the same alert's warning and info, warning its info;",
        "  `ClusterMetricsAbsent` hides the cluster's other alerts except dead-man's switches and the",
        "  delivery-path alerts that explain it; `KubeAPIDown` hides the cluster's application alerts;",
        "  `ClusterTracesStopped` hides the cluster's alerts derived from span metrics.",
        "",
        "## kube-prometheus-stack defaults",
        "",
        "All default rule groups stay on (etcd when `talos.controlPlaneNodes` is set, kube-proxy when",
        "`talos.kubeProxy` is true). They cover, among others: node not ready and unreachable",
        "(`KubeNodeNotReady`, `KubeNodeUnreachable`), `KubeletDown`, API server errors and latency",
        "(`KubeAPIErrorBudgetBurn`, `KubeAPIDown`), etcd members, leader changes, database size and fsync",
        "(`etcdMembersDown`, `etcdHighNumberOfLeaderChanges`, `etcdDatabaseQuotaLowSpace`,",
        "`etcdHighFsyncDurations`), disk and inode fill forecasts (`NodeFilesystemSpaceFillingUp`,",
        "`NodeFilesystemFilesFillingUp`), memory (`NodeMemoryHighUtilization`), clock skew",
        "(`NodeClockSkewDetected`), kubelet certificates (`KubeletClientCertificateExpiration`,",
        "`KubeletServerCertificateExpiration`), crash loops, pods not ready, replica mismatches, job",
        "failures, HPA at max and PVCs filling (`KubePodCrashLooping`, `KubePodNotReady`,",
        "`KubeDeploymentReplicasMismatch`, `KubeStatefulSetReplicasMismatch`, `KubeJobFailed`,",
        "`KubeHpaMaxedOut`, `KubePersistentVolumeFillingUp`), remote write failing or behind, rule",
        "evaluation and configuration reload failures (`PrometheusRemoteStorageFailures`,",
        "`PrometheusRemoteWriteBehind`, `PrometheusRuleFailures`, `PrometheusBadConfig`,",
        "`AlertmanagerFailedReload`, `ConfigReloaderSidecarErrors`) and the `Watchdog`. Their runbooks are",
        "upstream (runbooks.prometheus-operator.dev).",
        "",
        "Turned off (`defaultRules.disabled`), each replaced by one of the stack's alerts:",
        "",
        ...replaced,
        "",
    ].join("\n");
}

/** The fleet the docs show rules for: main `main` with one sub cluster `sub-eu-1`, defaults elsewhere. */
function docsFleet(): { main: MainConfig; sub: SubConfig } {
    const common = { cluster: { name: "main" } };
    return {
        main: mainSchema.parse({
            role: "main",
            ...common,
            exposure: { domain: "obs.example.com", kind: "traefik-passthrough" },
            storage: { kind: "filesystem" },
            subClusters: [{ name: "sub-eu-1" }],
        }),
        sub: subSchema.parse({ role: "sub", cluster: { name: "sub-eu-1" }, mainStack: "acme/observability/main" }),
    };
}

/** Every docs file the alerts own, by path relative to the project. */
export function alertDocs(fleet = docsFleet()): Map<string, string> {
    const where = placements(fleet.main, fleet.sub);
    const alerts = allAlerts(fleet.main);
    const files = new Map<string, string>();
    files.set("docs/alerts.md", alertsPage(alerts, where));
    for (const alert of alerts) {
        files.set(`docs/runbooks/${alert.alert}.md`, runbookPage(alert, where.get(alert.alert) ?? "?"));
    }
    return files;
}
