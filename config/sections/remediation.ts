import { z } from "zod";

import { MODES } from "../../remediator/settings";
import { field, isLabel, MAX_NAMESPACE_LENGTH, namespaceName, url } from "../fields";

/** The automatic reaction to non-critical workloads over budget: scale to 0 or a merge request. */

/** Namespaces no remediation ever touches, whatever the config says, besides the stack's own. */
const ALWAYS_PROTECTED_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

/** A Kubernetes label or annotation key: an optional DNS-subdomain prefix and a name. */
const QUALIFIED_KEY =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const PLACEHOLDERS = /^[^{}]*(\{(cluster|namespace|kind|name)\}[^{}]*)*$/;

/** Base URL of a Git host's API; `credentials` says where its token goes. */
export function gitApiUrl(credentials: string) {
    return url(
        {
            description:
                "Base URL of the hosting API: the GitLab instance (`https://gitlab.example.com`) or " +
                "`https://api.github.com` (GitHub Enterprise: `https://<host>/api/v3`).",
            expected: "an http(s) URL",
            examples: ["https://gitlab.example.com"],
        },
        { credentials },
    );
}

export const gitopsSchema = z
    .strictObject({
        provider: field(z.enum(["gitlab", "github"]), {
            description: "Where the GitOps repository is hosted.",
            examples: ["gitlab"],
        }),
        apiUrl: gitApiUrl("the token goes in the secret observability:remediationGitToken"),
        repository: field(z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/), {
            description: "The repository: `group/project` (GitLab, subgroups allowed) or `owner/repo` (GitHub).",
            expected: "a repository path <owner>/<name>",
            examples: ["platform/gitops"],
        }),
        targetBranch: field(
            z
                .string()
                .regex(/^[A-Za-z0-9._/-]+$/)
                .default("main"),
            {
                description: "Branch the merge requests target.",
                expected: "a branch name",
                examples: ["main"],
            },
        ),
        pathTemplate: field(z.string().min(1).regex(PLACEHOLDERS), {
            description:
                "Path of the file that declares a workload, with `{cluster}`, `{namespace}`, `{kind}` " +
                "(lowercase) and `{name}` placeholders. A file with several documents is searched for " +
                "the one of that kind and name.",
            expected: "a path using only the {cluster}, {namespace}, {kind} and {name} placeholders",
            examples: ["clusters/{cluster}/{namespace}/{name}.yaml"],
        }),
        fieldPath: field(
            z
                .string()
                .regex(PLACEHOLDERS)
                .regex(/^[^.]+(\.[^.]+)*$/)
                .default("spec.replicas"),
            {
                description:
                    "Dotted path of the replica count in that document: `spec.replicas` for a manifest, " +
                    "`replicaCount` for a Helm values file. Same placeholders.",
                expected: "a dotted path using only the {cluster}, {namespace}, {kind} and {name} placeholders",
                examples: ["spec.replicas"],
            },
        ),
    })
    .meta({
        description:
            "The GitOps repository `gitops` mode opens merge requests on; its token is the `remediationGitToken` secret.",
    });

const remediationBudgetSchema = z
    .strictObject({
        cpuRequestFactor: field(z.number().gt(1).default(2), {
            description:
                "A workload is over its CPU budget when it uses more than this many times the CPU it " +
                "requests. A workload can raise it with the `observability/budget-cpu-request-factor` annotation.",
            expected: "a number above 1",
            examples: [3],
        }),
        memoryLimitRatio: field(z.number().gt(0).lt(1).default(0.9), {
            description:
                "A workload is over its memory budget when a container's working set exceeds this share " +
                "of its limit. Raise per workload with `observability/budget-memory-limit-ratio`.",
            expected: "a number between 0 and 1",
            examples: [0.95],
        }),
        restarts: field(z.number().int().positive().default(5), {
            description:
                "Container restarts of one workload within 15 minutes that make a restart storm. Raise " +
                "per workload with `observability/budget-restarts`.",
            expected: "a positive whole number",
            examples: [10],
        }),
        forMinutes: field(z.number().int().positive().max(1440).default(10), {
            description: "How long a workload stays over budget before its alert fires and the remediator may act.",
            expected: "a whole number of minutes from 1 to 1440",
            examples: [15],
        }),
    })
    .default({ cpuRequestFactor: 2, memoryLimitRatio: 0.9, restarts: 5, forMinutes: 10 })
    .meta({ description: "The budget of an opted-in workload, cluster-wide defaults." });

export const remediationSchema = z
    .strictObject({
        mode: field(z.enum(MODES).default("dry-run"), {
            description:
                "What the remediator does with an over-budget opted-in workload: `off` (records the " +
                "decision, mode off), `dry-run` (records what it would do), `scale` (scales it to 0, the " +
                "replica count kept in an annotation), `gitops` (opens one merge request setting its " +
                "replicas to 0 in the GitOps repository). Every decision is logged and counted; one on a " +
                "workload it read also becomes a Kubernetes Event.",
            examples: ["scale"],
        }),
        killSwitch: field(z.boolean().default(false), {
            description: "Refuse every action, whatever the mode: the emergency stop.",
            examples: [true],
        }),
        optInLabel: z
            .strictObject({
                key: field(z.string().max(253).regex(QUALIFIED_KEY).default("observability/criticality"), {
                    description: "Label key a workload opts in with; kube-state-metrics exports it for the rules.",
                    expected: "a Kubernetes label key",
                    examples: ["example.com/tier"],
                }),
                value: field(z.string().regex(LABEL_VALUE).min(1).default("non-critical"), {
                    description: "Value of that label that opts in.",
                    expected: "a Kubernetes label value",
                    examples: ["best-effort"],
                }),
            })
            .default({ key: "observability/criticality", value: "non-critical" })
            .meta({ description: "The label that marks a workload as non-critical, so remediable." }),
        namespaces: field(z.array(namespaceName("batch")).default([]), {
            description:
                "Namespaces the remediator may act in, each granted by its own Role. Empty: every " +
                "namespace that is not protected, granted by a ClusterRole.",
            expected: "a list of namespace names",
            examples: [["batch", "previews"]],
        }),
        protectedNamespaces: field(z.array(namespaceName("payments")).default([]), {
            description:
                "Namespaces never acted in, besides kube-system, kube-public, kube-node-lease and the " +
                "stack's own namespaces, which always are.",
            expected: "a list of namespace names",
            examples: [["payments"]],
        }),
        budget: remediationBudgetSchema,
        maxActionsPerHour: field(z.number().int().min(1).max(100).default(3), {
            description: "At most this many actions (scale or merge request) in any hour, cluster-wide.",
            expected: "a whole number from 1 to 100",
            examples: [5],
        }),
        cooldownMinutes: field(z.number().int().min(0).max(10080).default(60), {
            description: "After acting on a workload, or restoring it, leave it alone this long.",
            expected: "a whole number of minutes up to a week",
            examples: [240],
        }),
        pollIntervalSeconds: field(z.number().int().min(5).max(600).default(30), {
            description: "How often the remediator reads the cluster's firing alerts.",
            expected: "a whole number of seconds from 5 to 600",
            examples: [15],
        }),
        fluxExemption: field(z.boolean().default(true), {
            description:
                "In `scale` mode, also annotate the workload `kustomize.toolkit.fluxcd.io/reconcile: " +
                "disabled` so Flux does not scale it back up; restore removes it. (Argo CD needs " +
                "`ignoreDifferences`, see docs/remediation.md.)",
            examples: [false],
        }),
        gitops: gitopsSchema.optional(),
        image: field(
            z
                .string()
                .regex(/^[^\s@]+@sha256:[0-9a-f]{64}$/)
                .optional(),
            {
                description:
                    "Image to run the remediator on instead of the pinned Node.js image, by digest; it " +
                    "must run `node` as a non-root user.",
                expected: "an image reference pinned by digest (<repository>@sha256:<64 hex>)",
                examples: ["registry.example.com/base/node@sha256:" + "0".repeat(64)],
            },
        ),
    })
    .superRefine((remediation, ctx) => {
        if (remediation.mode === "gitops" && remediation.gitops === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["gitops"],
                input: undefined,
                message: "the GitOps repository (provider, apiUrl, repository, pathTemplate) with mode gitops",
            });
        }
    })
    .default({
        mode: "dry-run",
        killSwitch: false,
        optInLabel: { key: "observability/criticality", value: "non-critical" },
        namespaces: [],
        protectedNamespaces: [],
        budget: { cpuRequestFactor: 2, memoryLimitRatio: 0.9, restarts: 5, forMinutes: 10 },
        maxActionsPerHour: 3,
        cooldownMinutes: 60,
        pollIntervalSeconds: 30,
        fluxExemption: true,
    })
    .meta({
        description:
            "The reaction to opted-in (non-critical) workloads that exceed their budget: rules on " +
            "every cluster and a remediator polling them. See docs/remediation.md.",
    });

export type RemediationConfig = z.output<typeof remediationSchema>;

/** Every namespace the remediator must never act in, for a stack whose own namespace is given. */
export function protectedNamespaces(remediation: RemediationConfig, namespace: string): string[] {
    const own = [namespace, `${namespace}-agents`];
    return [...new Set([...ALWAYS_PROTECTED_NAMESPACES, ...own, ...remediation.protectedNamespaces])].sort();
}

/** A namespace the remediator is told to act in, that is also protected, is a contradiction. */
export function refineRemediation(config: { namespace: string; remediation: RemediationConfig }, ctx: z.RefinementCtx) {
    if (!isLabel(config.namespace, MAX_NAMESPACE_LENGTH)) return;
    const remediation = {
        ...config.remediation,
        protectedNamespaces: config.remediation.protectedNamespaces.filter((name) => isLabel(name)),
    };
    const protectedSet = new Set(protectedNamespaces(remediation, config.namespace));
    config.remediation.namespaces.forEach((name, index) => {
        if (isLabel(name) && protectedSet.has(name)) {
            ctx.addIssue({
                code: "custom",
                path: ["remediation", "namespaces", index],
                input: name,
                message: `a namespace that is not protected (${[...protectedSet].join(", ")})`,
            });
        }
    });
}
