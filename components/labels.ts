/** Label keys the stack puts on its objects; NetworkPolicies and alerts select on them. */
export const LABEL_PREFIX = "observability";

export const labelKeys = {
    /** Which part of the stack a namespace holds: `core` or `agents`. */
    namespaceRole: `${LABEL_PREFIX}/namespace-role`,
    /** The cluster the object belongs to. */
    cluster: `${LABEL_PREFIX}/cluster`,
} as const;

export const annotationKeys = {
    /**
     * Digest of what a certificate Secret holds. Pods of bricks that read certificate files only
     * at start carry it too, so a new certificate rolls them.
     */
    certificateRevision: `${LABEL_PREFIX}/certificate-revision`,
    /** Digest of a configuration file a workload reads only at start. */
    configRevision: `${LABEL_PREFIX}/config-revision`,
} as const;

/** Labels every object of the stack carries. */
export function commonLabels(clusterName: string): Record<string, string> {
    return {
        "app.kubernetes.io/part-of": "observability",
        "app.kubernetes.io/managed-by": "pulumi",
        [labelKeys.cluster]: clusterName,
    };
}
