import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { commonLabels, labelKeys } from "./labels";

export type NamespaceRole = "core" | "agents";

export interface NamespaceSpec {
    name: string;
    role: NamespaceRole;
    labels: Record<string, string>;
}

/**
 * Pod Security levels per namespace role. Talos enforces `baseline` cluster-wide; the core
 * namespace states it explicitly and audits and warns at `restricted`, the level every workload
 * of ours is built to meet. Node collectors (node-exporter, log agents) need host paths, host
 * network or host PID, so they live apart in a `privileged` namespace.
 */
const POD_SECURITY: Record<NamespaceRole, { enforce: string; audit: string; warn: string }> = {
    core: { enforce: "baseline", audit: "restricted", warn: "restricted" },
    agents: { enforce: "privileged", audit: "privileged", warn: "privileged" },
};

/** The namespace of the node collectors, derived from the core namespace. */
export function agentsNamespaceName(namespace: string): string {
    return `${namespace}-agents`;
}

/** The namespaces a cluster of either role gets, with their labels. */
export function namespaceSpecs(namespace: string, clusterName: string): NamespaceSpec[] {
    const roles: [string, NamespaceRole][] = [
        [namespace, "core"],
        [agentsNamespaceName(namespace), "agents"],
    ];
    return roles.map(([name, role]) => {
        const level = POD_SECURITY[role];
        return {
            name,
            role,
            labels: {
                ...commonLabels(clusterName),
                [labelKeys.namespaceRole]: role,
                "pod-security.kubernetes.io/enforce": level.enforce,
                "pod-security.kubernetes.io/enforce-version": "latest",
                "pod-security.kubernetes.io/audit": level.audit,
                "pod-security.kubernetes.io/warn": level.warn,
            },
        };
    });
}

export interface NamespacesArgs {
    /** Namespace of the stack's own workloads; the agents namespace is `<namespace>-agents`. */
    namespace: string;
    /** Name of the cluster, put on every namespace as a label. */
    clusterName: string;
}

/** The stack's namespaces, labelled for Pod Security and with their role. */
export class Namespaces extends pulumi.ComponentResource {
    /** Name of the namespace for the stack's own workloads. */
    public readonly core: pulumi.Output<string>;
    /** Name of the privileged namespace for node collectors. */
    public readonly agents: pulumi.Output<string>;

    constructor(name: string, args: NamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:Namespaces", name, {}, opts);
        const created = namespaceSpecs(args.namespace, args.clusterName).map(
            (spec) =>
                [
                    spec.role,
                    new k8s.core.v1.Namespace(
                        `${name}-${spec.role}`,
                        { metadata: { name: spec.name, labels: spec.labels } },
                        { parent: this },
                    ),
                ] as const,
        );
        const byRole = new Map(created);
        this.core = (byRole.get("core") as k8s.core.v1.Namespace).metadata.name;
        this.agents = (byRole.get("agents") as k8s.core.v1.Namespace).metadata.name;
        this.registerOutputs({ core: this.core, agents: this.agents });
    }
}
