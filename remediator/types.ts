/**
 * Shapes shared by the remediator's parts. The remediator runs in each cluster from a bundle
 * built at deploy time; nothing here imports Pulumi.
 */

/** Workload kinds the remediator can scale, as the Kubernetes API names them. */
export const WORKLOAD_KINDS = ["Deployment", "StatefulSet"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** A namespace name (DNS-1123 label). */
export const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** One workload, as alerts name it and as the restore command takes it (`<namespace>/<kind>/<name>`). */
export interface WorkloadRef {
    namespace: string;
    kind: WorkloadKind;
    name: string;
}

/** What made the remediator act: carried into Events, audit lines and merge request descriptions. */
export interface Evidence {
    /** The cluster the workload runs in. */
    cluster: string;
    alertname: string;
    /** The alert expression's value when last evaluated, as Prometheus reported it. */
    value: string;
    /** The workload's budget the value was compared with. */
    budget: string;
    /** The PromQL expression of the alert rule. */
    query: string;
    /** When the alert became active (RFC 3339). */
    activeAt: string;
    /** When the remediator decided (RFC 3339). */
    decidedAt: string;
    /** The alert's summary annotation. */
    summary: string;
}

/** Where the GitOps repository lives and how a workload's replica count is found in it. */
export interface GitopsSettings {
    provider: "gitlab" | "github";
    /** API base: `https://gitlab.example.com` (GitLab) or `https://api.github.com` (GitHub). */
    apiUrl: string;
    /** `group/project` on GitLab, `owner/repo` on GitHub. */
    repository: string;
    /** Branch merge requests target. */
    targetBranch: string;
    /** Path of the file holding the workload, with `{cluster}`, `{namespace}`, `{kind}`, `{name}` placeholders. */
    pathTemplate: string;
    /** Dotted path of the replica count inside that document, same placeholders. */
    fieldPath: string;
}

export type GitopsOutcome =
    { kind: "opened"; url: string; branch: string } | { kind: "already-open"; url: string; branch: string };

/** Opens the merge (pull) request that sets a workload's replicas to 0 in the GitOps repository. */
export interface GitHosting {
    proposeScaleToZero(ref: WorkloadRef, evidence: Evidence): Promise<GitopsOutcome>;
}
