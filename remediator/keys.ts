/**
 * Annotation keys and alert labels the remediator, its rules and its restore command agree on.
 * The rules (components/alerting/rules/remediation.ts) and the in-cluster code both import them from here.
 */

/** On a workload: `"true"` keeps the remediator away from it even when it is opted in. */
export const OPT_OUT_ANNOTATION = "observability/remediation-opt-out";

/** On a workload: its own budget, above the cluster default, per kind of budget. */
export const BUDGET_ANNOTATIONS = {
    cpu: "observability/budget-cpu-request-factor",
    memory: "observability/budget-memory-limit-ratio",
    restarts: "observability/budget-restarts",
} as const;

export type BudgetKind = keyof typeof BUDGET_ANNOTATIONS;

/** Written when scaling to 0: the replica count to restore. */
export const ORIGINAL_REPLICAS_ANNOTATION = "observability/original-replicas";
/** Written when acting, kept by restore: the cooldown counts from it across restarts. */
export const REMEDIATED_AT_ANNOTATION = "observability/remediated-at";
/** Written by restore: the cooldown counts from it too, so a restored workload gets time to recover. */
export const RESTORED_AT_ANNOTATION = "observability/restored-at";
/** Written when acting: the alert that caused it. */
export const REMEDIATED_BY_ANNOTATION = "observability/remediated-by";

/** Flux's kustomize-controller skips an object carrying this annotation with value `disabled`. */
export const FLUX_RECONCILE_ANNOTATION = "kustomize.toolkit.fluxcd.io/reconcile";

/** Label on every alert the remediator may act on. */
export const REMEDIATION_LABEL = "remediation";

/** Where the pod mounts its settings, and (gitops mode) its token: apart, since one read-only volume cannot hold the other's mount point. */
export const SETTINGS_FILE = "/etc/remediator/settings.json";
export const TOKEN_FILE = "/etc/remediator-git/token";

/** The controller name in Events and audit lines. */
export const CONTROLLER = "observability.remediator";

/**
 * A Kubernetes label or annotation key as kube-state-metrics turns it into a Prometheus label
 * name: every character outside [a-zA-Z0-9_] becomes `_`, then camel case becomes snake case in
 * lower case, after a `label_` or `annotation_` prefix.
 */
export function ksmLabelName(prefix: "label" | "annotation", key: string): string {
    const sanitized = key.replace(/[^a-zA-Z0-9_]/g, "_");
    return `${prefix}_${sanitized.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()}`;
}
