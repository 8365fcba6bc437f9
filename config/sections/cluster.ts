import { z } from "zod";

import { dnsLabel, field, MAX_NAMESPACE_LENGTH } from "../fields";

/** The cluster itself: its name, Kubernetes access, chart source, namespace, profile, Talos nodes and the sub clusters main serves. */

export const clusterSchema = z
    .strictObject({
        name: dnsLabel({
            description:
                "Name of this cluster. It becomes the `cluster` label on every metric, log line and " +
                "trace, and the identity (certificate CN) a sub cluster presents to main.",
            examples: ["main", "sub-eu-1"],
        }),
    })
    .meta({ description: "Identity of the cluster this stack deploys to." });

export const kubernetesSchema = z
    .strictObject({
        context: field(z.string().min(1).optional(), {
            description:
                "kubeconfig context the Kubernetes provider uses. Unset: the current context of " +
                "the kubeconfig found in $KUBECONFIG or ~/.kube/config.",
            expected: "a kubeconfig context name",
            examples: ["admin@talos-main"],
        }),
    })
    .default({})
    .meta({ description: "How the program reaches the cluster." });

export const chartsSchema = z
    .strictObject({
        directory: field(z.string().min(1).optional(), {
            description:
                "Install every chart from `<directory>/<chart>-<version>.tgz` instead of its " +
                "repository, for clusters without access to the chart repositories. Each archive " +
                "must match the sha256 pinned in components/core/versions.ts; `npm run charts -- --dir " +
                "<directory>` fills it on a machine that has access. Relative paths are relative to " +
                "the project directory. Unset: each chart comes from its repository.",
            expected: "a directory path",
            examples: ["/srv/observability-charts"],
        }),
    })
    .default({})
    .meta({ description: "Where the Helm charts are installed from." });

export const namespaceSchema = dnsLabel(
    {
        description:
            "Namespace for the stack's own workloads. Node collectors that need host access go to " +
            "`<namespace>-agents`, labelled for the `privileged` Pod Security level.",
        examples: ["observability"],
    },
    MAX_NAMESPACE_LENGTH,
).default("observability");

export const profileSchema = field(z.enum(["small", "medium", "large"]).default("small"), {
    description:
        "Resource profile: requests and limits of every brick. `large` also switches to the " +
        "horizontally scaled modes.",
    examples: ["small"],
});

export const subClusterEntry = z
    .strictObject({
        name: dnsLabel({
            description: "Name of the sub cluster, equal to `observability:cluster.name` in its own stack.",
            examples: ["sub-eu-1"],
        }),
    })
    .meta({ description: "A sub cluster allowed to ship to main." });

export const talosSchema = z
    .strictObject({
        controlPlaneNodes: field(
            z
                .array(
                    field(z.union([z.ipv4(), z.ipv6()]), {
                        description: "IP address of a control-plane node.",
                        expected: "an IPv4 or IPv6 address",
                        examples: ["10.0.0.10"],
                    }),
                )
                .default([]),
            {
                description:
                    "IP addresses of the control-plane nodes. etcd is a Talos service, not a pod: " +
                    "Prometheus scrapes its metrics at <ip>:2381 (opened by the `talosMachineConfigPatch` " +
                    "output). Empty: etcd is not scraped and its alerts are off.",
                expected: "a list of IPv4 or IPv6 addresses",
                examples: [["10.0.0.10", "10.0.0.11", "10.0.0.12"]],
            },
        ),
        kubeProxy: field(z.boolean().default(true), {
            description:
                "Whether the cluster runs kube-proxy. Set false with Cilium's kube-proxy " +
                "replacement, so kube-proxy is neither scraped nor alerted on.",
            examples: [false],
        }),
    })
    .default({ controlPlaneNodes: [], kubeProxy: true })
    .meta({ description: "Facts about the Talos cluster that scraping depends on." });
