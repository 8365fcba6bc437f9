/**
 * Label keys the stack puts on its objects. The NetworkPolicies do not select on them: they pick
 * the stack's namespaces by `kubernetes.io/metadata.name`, which no other namespace can carry.
 */
export const LABEL_PREFIX = "observability";

export const labelKeys = {
    /** Which part of the stack a namespace holds: `core` or `agents`. */
    namespaceRole: `${LABEL_PREFIX}/namespace-role`,
    /** The cluster the object belongs to. */
    cluster: `${LABEL_PREFIX}/cluster`,
    /**
     * On the pods that mount the Thanos bucket volume of a filesystem store: with a
     * ReadWriteOnce volume they are scheduled together by it.
     */
    bucketVolume: `${LABEL_PREFIX}/bucket-volume`,
} as const;

export const annotationKeys = {
    /**
     * Digest of what a certificate Secret holds. Pods of bricks that read certificate files only
     * at start carry it too, so a new certificate rolls them.
     */
    certificateRevision: `${LABEL_PREFIX}/certificate-revision`,
    /** Digest of a configuration file a workload reads only at start. */
    configRevision: `${LABEL_PREFIX}/config-revision`,
    /**
     * On a pod template whose containers must run as root, with the reason: the policy pack's
     * workload-security rule accepts root only there.
     */
    runsAsRoot: `${LABEL_PREFIX}/runs-as-root`,
} as const;

/** Labels every object of the stack carries. */
export function commonLabels(clusterName: string): Record<string, string> {
    return {
        "app.kubernetes.io/part-of": "observability",
        "app.kubernetes.io/managed-by": "pulumi",
        [labelKeys.cluster]: clusterName,
    };
}

/** Label (and value) of the ConfigMaps Grafana's dashboard sidecar loads: ours and the kube-prometheus-stack's. */
export const DASHBOARD_LABEL = { key: "grafana_dashboard", value: "1" } as const;
/** Annotation naming the Grafana folder a dashboard ConfigMap lands in. */
export const FOLDER_ANNOTATION = "grafana_folder";
/** Folder of the stack's own dashboards, and of the kube-prometheus-stack's. */
export const FOLDERS = { fleet: "Observability", kubernetes: "Kubernetes" } as const;
