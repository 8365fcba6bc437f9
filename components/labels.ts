/** Label keys the stack puts on its objects; NetworkPolicies and alerts select on them. */
export const LABEL_PREFIX = "observability";

export const labelKeys = {
    /** Which part of the stack a namespace holds: `core` or `agents`. */
    namespaceRole: `${LABEL_PREFIX}/namespace-role`,
    /** The cluster the object belongs to. */
    cluster: `${LABEL_PREFIX}/cluster`,
} as const;

/** Labels every object of the stack carries. */
export function commonLabels(clusterName: string): Record<string, string> {
    return {
        "app.kubernetes.io/part-of": "observability",
        "app.kubernetes.io/managed-by": "pulumi",
        [labelKeys.cluster]: clusterName,
    };
}
