/**
 * kube-prometheus-stack's default rule files at the pinned version (88.5.3), as facts taken from
 * its `templates/prometheus/rules-1.14/`: the switch and values each file needs, and its alerts by
 * name (no expression is kept). With the stack's Helm values they say which default alerts run,
 * which the stack replaces and which it drops: docs/alerts.md is written from here, and a test
 * checks these facts against test/fixtures/kps-rules.
 */

export interface DefaultRuleFile {
    /** The template's name, without `.yaml`. */
    file: string;
    /** `defaultRules.rules.<toggle>` switches the whole file. */
    toggle: string;
    /** Values the whole file needs besides its toggle (`kubeEtcd.enabled`). */
    needs?: readonly string[];
    /**
     * Alerts whose `defaultRules.disabled` entry drops the whole file, not only themselves: the
     * chart checks them in the file's own condition.
     */
    droppedWith?: readonly string[];
    alerts: readonly string[];
    /** Values single alerts need beyond the file's. */
    alertNeeds?: Readonly<Record<string, readonly string[]>>;
    recordingRules: number;
}

export const KPS_RULE_FILES: readonly DefaultRuleFile[] = [
    {
        file: "alertmanager.rules",
        toggle: "alertmanager",
        alerts: [
            "AlertmanagerFailedReload",
            "AlertmanagerMembersInconsistent",
            "AlertmanagerFailedToSendAlerts",
            "AlertmanagerClusterFailedToSendAlerts",
            "AlertmanagerConfigInconsistent",
            "AlertmanagerClusterDown",
            "AlertmanagerClusterCrashlooping",
            "AlertmanagerClusterFailedPeers",
        ],
        recordingRules: 0,
    },
    { file: "config-reloaders", toggle: "configReloaders", alerts: ["ConfigReloaderSidecarErrors"], recordingRules: 0 },
    {
        file: "etcd",
        toggle: "etcd",
        needs: ["kubeEtcd.enabled"],
        alerts: [
            "etcdMembersDown",
            "etcdInsufficientMembers",
            "etcdNoLeader",
            "etcdHighNumberOfLeaderChanges",
            "etcdHighNumberOfFailedGRPCRequests",
            "etcdGRPCRequestsSlow",
            "etcdMemberCommunicationSlow",
            "etcdHighNumberOfFailedProposals",
            "etcdHighFsyncDurations",
            "etcdHighCommitDurations",
            "etcdDatabaseQuotaLowSpace",
            "etcdExcessiveDatabaseGrowth",
            "etcdDatabaseHighFragmentationRatio",
        ],
        recordingRules: 0,
    },
    {
        file: "general.rules",
        toggle: "general",
        alerts: ["TargetDown", "Watchdog", "InfoInhibitor"],
        recordingRules: 0,
    },
    { file: "k8s.rules.container_cpu_limits", toggle: "k8sContainerCpuLimits", alerts: [], recordingRules: 2 },
    { file: "k8s.rules.container_cpu_requests", toggle: "k8sContainerCpuRequests", alerts: [], recordingRules: 2 },
    {
        file: "k8s.rules.container_cpu_usage_seconds_total",
        toggle: "k8sContainerCpuUsageSecondsTotal",
        alerts: [],
        recordingRules: 2,
    },
    { file: "k8s.rules.container_memory_cache", toggle: "k8sContainerMemoryCache", alerts: [], recordingRules: 1 },
    { file: "k8s.rules.container_memory_limits", toggle: "k8sContainerMemoryLimits", alerts: [], recordingRules: 2 },
    {
        file: "k8s.rules.container_memory_requests",
        toggle: "k8sContainerMemoryRequests",
        alerts: [],
        recordingRules: 2,
    },
    { file: "k8s.rules.container_memory_rss", toggle: "k8sContainerMemoryRss", alerts: [], recordingRules: 1 },
    { file: "k8s.rules.container_memory_swap", toggle: "k8sContainerMemorySwap", alerts: [], recordingRules: 1 },
    {
        file: "k8s.rules.container_memory_working_set_bytes",
        toggle: "k8sContainerMemoryWorkingSetBytes",
        alerts: [],
        recordingRules: 1,
    },
    { file: "k8s.rules.container_resource", toggle: "k8sContainerResource", alerts: [], recordingRules: 8 },
    { file: "k8s.rules.pod_owner", toggle: "k8sPodOwner", alerts: [], recordingRules: 8 },
    {
        file: "kube-apiserver-availability.rules",
        toggle: "kubeApiserverAvailability",
        needs: ["kubeApiServer.enabled"],
        alerts: [],
        recordingRules: 16,
    },
    {
        file: "kube-apiserver-burnrate.rules",
        toggle: "kubeApiserverBurnrate",
        needs: ["kubeApiServer.enabled"],
        alerts: [],
        recordingRules: 14,
    },
    {
        file: "kube-apiserver-histogram.rules",
        toggle: "kubeApiserverHistogram",
        needs: ["kubeApiServer.enabled"],
        alerts: [],
        recordingRules: 2,
    },
    {
        file: "kube-apiserver-slos",
        toggle: "kubeApiserverSlos",
        needs: ["kubeApiServer.enabled"],
        alerts: ["KubeAPIErrorBudgetBurn"],
        recordingRules: 0,
    },
    { file: "kube-prometheus-general.rules", toggle: "kubePrometheusGeneral", alerts: [], recordingRules: 2 },
    {
        file: "kube-prometheus-node-recording.rules",
        toggle: "kubePrometheusNodeRecording",
        alerts: [],
        recordingRules: 6,
    },
    {
        file: "kube-scheduler.rules",
        toggle: "kubeSchedulerRecording",
        needs: ["kubeScheduler.enabled"],
        alerts: [],
        recordingRules: 9,
    },
    {
        file: "kube-state-metrics",
        toggle: "kubeStateMetrics",
        alerts: [
            "KubeStateMetricsListErrors",
            "KubeStateMetricsWatchErrors",
            "KubeStateMetricsShardingMismatch",
            "KubeStateMetricsShardsMissing",
        ],
        recordingRules: 0,
    },
    { file: "kubelet.rules", toggle: "kubelet", needs: ["kubelet.enabled"], alerts: [], recordingRules: 3 },
    {
        file: "kubernetes-apps",
        toggle: "kubernetesApps",
        alerts: [
            "KubePodCrashLooping",
            "KubePodNotReady",
            "KubeDeploymentGenerationMismatch",
            "KubeDeploymentReplicasMismatch",
            "KubeDeploymentRolloutStuck",
            "KubeStatefulSetReplicasMismatch",
            "KubeStatefulSetGenerationMismatch",
            "KubeStatefulSetUpdateNotRolledOut",
            "KubeDaemonSetRolloutStuck",
            "KubeContainerWaiting",
            "KubeDaemonSetNotScheduled",
            "KubeDaemonSetMisScheduled",
            "KubeJobNotCompleted",
            "KubeJobFailed",
            "KubeHpaReplicasMismatch",
            "KubeHpaMaxedOut",
            "KubePdbNotEnoughHealthyPods",
        ],
        recordingRules: 0,
    },
    {
        file: "kubernetes-resources",
        toggle: "kubernetesResources",
        alerts: [
            "KubeCPUOvercommit",
            "KubeMemoryOvercommit",
            "KubeCPUQuotaOvercommit",
            "KubeMemoryQuotaOvercommit",
            "KubeQuotaAlmostFull",
            "KubeQuotaFullyUsed",
            "KubeQuotaExceeded",
            "CPUThrottlingHigh",
        ],
        recordingRules: 0,
    },
    {
        file: "kubernetes-storage",
        toggle: "kubernetesStorage",
        alerts: ["KubePersistentVolumeFillingUp", "KubePersistentVolumeInodesFillingUp", "KubePersistentVolumeErrors"],
        recordingRules: 0,
    },
    {
        file: "kubernetes-system-apiserver",
        toggle: "kubernetesSystem",
        alerts: [
            "KubeClientCertificateExpiration",
            "KubeAggregatedAPIErrors",
            "KubeAggregatedAPIDown",
            "KubeAPIDown",
            "KubeAPIInstanceUnreachable",
            "KubeAPITerminatedRequests",
        ],
        alertNeeds: { KubeAPIDown: ["kubeApiServer.enabled"] },
        recordingRules: 0,
    },
    {
        file: "kubernetes-system-controller-manager",
        toggle: "kubeControllerManager",
        needs: ["kubeControllerManager.enabled"],
        droppedWith: ["KubeControllerManagerDown"],
        alerts: ["KubeControllerManagerDown", "KubeControllerManagerInstanceUnreachable"],
        recordingRules: 0,
    },
    {
        file: "kubernetes-system-kube-proxy",
        toggle: "kubeProxy",
        needs: ["kubeProxy.enabled"],
        droppedWith: ["KubeProxyDown"],
        alerts: ["KubeProxyDown", "KubeProxyInstanceUnreachable"],
        recordingRules: 0,
    },
    {
        file: "kubernetes-system-kubelet",
        toggle: "kubernetesSystem",
        alerts: [
            "KubeNodeNotReady",
            "KubeNodePressure",
            "KubeNodeUnreachable",
            "KubeletTooManyPods",
            "KubeNodeReadinessFlapping",
            "KubeNodeEviction",
            "KubeletPlegDurationHigh",
            "KubeletPodStartUpLatencyHigh",
            "KubeletClientCertificateExpiration",
            "KubeletServerCertificateExpiration",
            "KubeletClientCertificateRenewalErrors",
            "KubeletServerCertificateRenewalErrors",
            "KubeletInstanceUnreachable",
            "KubeletDown",
        ],
        alertNeeds: { KubeletDown: ["prometheusOperator.kubeletService.enabled"] },
        recordingRules: 0,
    },
    {
        file: "kubernetes-system-scheduler",
        toggle: "kubeSchedulerAlerting",
        needs: ["kubeScheduler.enabled"],
        droppedWith: ["KubeSchedulerDown"],
        alerts: ["KubeSchedulerDown", "KubeSchedulerInstanceUnreachable"],
        recordingRules: 0,
    },
    {
        file: "kubernetes-system",
        toggle: "kubernetesSystem",
        alerts: ["KubeVersionMismatch", "KubeClientErrors"],
        recordingRules: 0,
    },
    { file: "node-exporter.rules", toggle: "nodeExporterRecording", alerts: [], recordingRules: 15 },
    {
        file: "node-exporter",
        toggle: "nodeExporterAlerting",
        alerts: [
            "NodeFilesystemSpaceFillingUp",
            "NodeFilesystemAlmostOutOfSpace",
            "NodeFilesystemFilesFillingUp",
            "NodeFilesystemAlmostOutOfFiles",
            "NodeNetworkReceiveErrs",
            "NodeNetworkTransmitErrs",
            "NodeHighNumberConntrackEntriesUsed",
            "NodeTextFileCollectorScrapeError",
            "NodeClockSkewDetected",
            "NodeClockNotSynchronising",
            "NodeRAIDDegraded",
            "NodeRAIDDiskFailure",
            "NodeFileDescriptorLimit",
            "NodeCPUHighUsage",
            "NodeSystemSaturation",
            "NodeMemoryMajorPagesFaults",
            "NodeMemoryHighUtilization",
            "NodeDiskIOSaturation",
            "NodeSystemdServiceFailed",
            "NodeSystemdServiceCrashlooping",
            "NodeBondingDegraded",
        ],
        recordingRules: 0,
    },
    { file: "node-network", toggle: "network", alerts: ["NodeNetworkInterfaceFlapping"], recordingRules: 0 },
    { file: "node.rules", toggle: "node", alerts: [], recordingRules: 5 },
    {
        file: "prometheus-operator",
        toggle: "prometheusOperator",
        alerts: [
            "PrometheusOperatorListErrors",
            "PrometheusOperatorWatchErrors",
            "PrometheusOperatorSyncFailed",
            "PrometheusOperatorReconcileErrors",
            "PrometheusOperatorStatusUpdateErrors",
            "PrometheusOperatorNodeLookupErrors",
            "PrometheusOperatorNotReady",
            "PrometheusOperatorRejectedResources",
        ],
        recordingRules: 0,
    },
    {
        file: "prometheus",
        toggle: "prometheus",
        alerts: [
            "PrometheusBadConfig",
            "PrometheusSDRefreshFailure",
            "PrometheusKubernetesListWatchFailures",
            "PrometheusNotificationQueueRunningFull",
            "PrometheusErrorSendingAlertsToSomeAlertmanagers",
            "PrometheusNotConnectedToAlertmanagers",
            "PrometheusTSDBReloadsFailing",
            "PrometheusTSDBCompactionsFailing",
            "PrometheusNotIngestingSamples",
            "PrometheusDuplicateTimestamps",
            "PrometheusOutOfOrderTimestamps",
            "PrometheusRemoteStorageFailures",
            "PrometheusRemoteWriteBehind",
            "PrometheusRemoteWriteDesiredShards",
            "PrometheusRuleFailures",
            "PrometheusMissingRuleEvaluations",
            "PrometheusTargetLimitHit",
            "PrometheusLabelLimitHit",
            "PrometheusScrapeBodySizeLimitHit",
            "PrometheusScrapeSampleLimitHit",
            "PrometheusTargetSyncFailure",
            "PrometheusHighQueryLoad",
            "PrometheusErrorSendingAlertsToAnyAlertmanager",
        ],
        recordingRules: 0,
    },
    {
        file: "windows.node.rules",
        toggle: "windows",
        needs: ["windowsMonitoring.enabled"],
        alerts: [],
        recordingRules: 21,
    },
    {
        file: "windows.pod.rules",
        toggle: "windows",
        needs: ["windowsMonitoring.enabled"],
        alerts: [],
        recordingRules: 11,
    },
];

/** Values the rule files depend on, as the chart has them when the stack's values leave them out. */
export const KPS_CHART_DEFAULTS = {
    /** `defaultRules.rules` switches the chart's values do not list: off unless set. */
    unsetToggles: [
        "k8sContainerCpuLimits",
        "k8sContainerCpuRequests",
        "k8sContainerMemoryLimits",
        "k8sContainerMemoryRequests",
    ],
    enabled: {
        "kubeApiServer.enabled": true,
        "kubelet.enabled": true,
        "prometheusOperator.kubeletService.enabled": true,
        "windowsMonitoring.enabled": false,
        "kubeEtcd.enabled": true,
        "kubeScheduler.enabled": true,
        "kubeControllerManager.enabled": true,
        "kubeProxy.enabled": true,
    },
} as const;

/** A default alert the stack's values turn off, and the stack's alert that does its job. */
export interface Replacement {
    by: string;
    why: string;
}

/**
 * Default alerts turned off by name (`defaultRules.disabled`), each replaced by one of the stack's
 * alerts, and why.
 */
export const REPLACED_DEFAULT_ALERTS: Readonly<Record<string, Replacement>> = {
    KubeSchedulerDown: {
        by: "ControlPlaneComponentAbsent",
        why:
            'it sees the scheduler only through its scrape target (`absent(up{job="kube-scheduler"})`, 15 minutes), ' +
            "so it depends on the chart's Service finding the Talos static pods; ControlPlaneComponentAbsent reads " +
            "the mirror pods kube-state-metrics reports, pages after 5 minutes and needs no metrics port",
    },
    KubeControllerManagerDown: {
        by: "ControlPlaneComponentAbsent",
        why: "the same as KubeSchedulerDown, for the controller manager",
    },
    KubeNodePressure: {
        by: "NodeConditionPressure",
        why: "info only, so never notified; NodeConditionPressure raises the same conditions as a warning",
    },
};

/**
 * Default alerts the stack's values drop without a replacement of their own, and why: the chart
 * renders some files only while one of their alerts is on.
 */
export const DROPPED_DEFAULT_ALERTS: Readonly<Record<string, string>> = {
    KubeSchedulerInstanceUnreachable:
        "dropped with its file, which the chart renders only while KubeSchedulerDown is on. A scheduler whose " +
        "metrics cannot be scraped still raises TargetDown (kept: more than 10% of a job's targets down for " +
        "10 minutes, which is any one of a control plane's few schedulers), and one that is not ready " +
        "ControlPlaneComponentDown",
    KubeControllerManagerInstanceUnreachable:
        "the same as KubeSchedulerInstanceUnreachable, for the controller manager: its file goes with " +
        "KubeControllerManagerDown",
};

/** Default alerts kept, with a gap one of the stack's alerts fills. */
export const COMPLEMENTED_DEFAULT_ALERTS: Readonly<Record<string, Replacement>> = {
    KubeAPIDown: {
        by: "APIServerAllInstancesDown",
        why:
            'it fires only once no API server target is left at all (`absent(up{job="apiserver"})`, 15 ' +
            "minutes); while the instances are still listed and none answers, only warnings fire " +
            "(KubeAPIInstanceUnreachable, TargetDown). APIServerAllInstancesDown pages for that after 5 minutes",
    },
    PrometheusRuleFailures: {
        by: "RollupEvaluationFailing",
        why:
            "it needs failures in every 5-minute window for 15 minutes, which a group evaluated once an hour " +
            "(the weekly report's roll-ups) never gives; RollupEvaluationFailing pages on any failure of a " +
            "group evaluated every 5 minutes or less often. Groups evaluated every 30 s stay with " +
            "PrometheusRuleFailures (critical)",
    },
};

/** What the values make of one default alert. */
export type DefaultAlertState =
    | "kept"
    /** Turned off by its own `defaultRules.disabled` entry. */
    | "disabled"
    /** Gone because another alert of its file is disabled. */
    | "dropped-with-file"
    /** Never rendered: its file's switch, or a component it watches, is off. */
    | "off";

export interface DefaultRuleFileState {
    file: DefaultRuleFile;
    rendered: boolean;
    /** Why not, when not rendered. */
    reason?: string;
}

export interface DefaultRulesState {
    files: DefaultRuleFileState[];
    alerts: Map<string, { file: string; state: DefaultAlertState }>;
}

type Values = Readonly<Record<string, unknown>>;

function valueAt(values: Values, path: string): unknown {
    return path
        .split(".")
        .reduce<unknown>(
            (value, key) => (value !== null && typeof value === "object" ? (value as Values)[key] : undefined),
            values,
        );
}

/** A `<component>.enabled` value: the stack's, else the chart's default. */
function isEnabled(values: Values, path: string): boolean {
    const set = valueAt(values, path);
    if (typeof set === "boolean") return set;
    const chart = (KPS_CHART_DEFAULTS.enabled as Readonly<Record<string, boolean>>)[path];
    if (chart === undefined) throw new Error(`no chart default known for ${path}`);
    return chart;
}

function toggleOn(values: Values, toggle: string): boolean {
    const set = valueAt(values, `defaultRules.rules.${toggle}`);
    if (typeof set === "boolean") return set;
    return !(KPS_CHART_DEFAULTS.unsetToggles as readonly string[]).includes(toggle);
}

function disabledByName(values: Values, alert: string): boolean {
    return valueAt(values, `defaultRules.disabled.${alert}`) === true;
}

/** Which default rule files and alerts kube-prometheus-stack renders with these Helm values. */
export function defaultRulesState(values: Values): DefaultRulesState {
    const create = valueAt(values, "defaultRules.create") !== false;
    const files: DefaultRuleFileState[] = [];
    const alerts = new Map<string, { file: string; state: DefaultAlertState }>();
    for (const file of KPS_RULE_FILES) {
        const off = [
            ...(create ? [] : ["`defaultRules.create` is off"]),
            ...(toggleOn(values, file.toggle) ? [] : [`\`defaultRules.rules.${file.toggle}\` is off`]),
            ...(file.needs ?? []).filter((path) => !isEnabled(values, path)).map((path) => `\`${path}\` is off`),
        ];
        const droppedBy = (file.droppedWith ?? []).filter((alert) => disabledByName(values, alert));
        const reason =
            off.length > 0
                ? off.join(", ")
                : droppedBy.length > 0
                  ? `\`defaultRules.disabled.${droppedBy.join("`, `defaultRules.disabled.")}\` drops it`
                  : undefined;
        files.push({ file, rendered: reason === undefined, ...(reason !== undefined ? { reason } : {}) });
        for (const alert of file.alerts) {
            const needsOff = (file.alertNeeds?.[alert] ?? []).some((path) => !isEnabled(values, path));
            const state: DefaultAlertState =
                off.length > 0 || needsOff
                    ? "off"
                    : disabledByName(values, alert)
                      ? "disabled"
                      : droppedBy.length > 0
                        ? "dropped-with-file"
                        : "kept";
            alerts.set(alert, { file: file.file, state });
        }
    }
    return { files, alerts };
}
