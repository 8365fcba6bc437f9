import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { StackConfig } from "../../config";
import { commonLabels } from "../core/labels";
import { namespaceSpecs, type NamespaceRole } from "../core/namespaces";
import { brickFlows, peerSelector, type BrickFlows, type LabelSelector, type PortAccess } from "./flows";

/**
 * Ingress NetworkPolicies of the stack's namespaces, generated from the flow table
 * (components/network/flows.ts): each namespace denies ingress by default, and each brick gets
 * a policy selecting its own pods that lets in, port by port, only the clients the table names.
 * Egress stays open: its destinations (object storage, SMTP, chat webhooks, Git hosts, the API
 * server, DNS, main's ingest from a sub) depend on the configuration. docs/security.md has the
 * table.
 */

export const DEFAULT_DENY = "default-deny-ingress";

/** The policy of a brick: `allow-<brick>`. */
export function allowPolicyName(brick: BrickFlows["id"]): string {
    return `allow-${brick}`;
}

export interface PolicyPort {
    protocol: "TCP" | "UDP";
    port: number;
}

export interface PolicyPeer {
    podSelector: LabelSelector;
}

export interface IngressRule {
    /** Absent: from anywhere. */
    from?: PolicyPeer[];
    /** Absent: on every port. */
    ports?: PolicyPort[];
}

export interface PolicySpec {
    podSelector: LabelSelector | Record<string, never>;
    policyTypes: ["Ingress"];
    /** Absent: nothing is let in. */
    ingress?: IngressRule[];
}

export interface NamespacePolicy {
    role: NamespaceRole;
    namespace: string;
    name: string;
    spec: PolicySpec;
}

/**
 * The ingress rules of a brick: one per group of ports that share their clients, ports in the
 * table's order, plus one letting the brick's pods reach each other when it is a mesh.
 */
function brickRules(brick: BrickFlows, flows: readonly BrickFlows[]): IngressRule[] {
    const rules: IngressRule[] = [];
    const groups = new Map<string, { peers: PortAccess["from"]; ports: PolicyPort[] }>();
    for (const access of brick.ports) {
        if (access.from.length === 0) continue;
        const key = JSON.stringify(access.from);
        const group = groups.get(key) ?? { peers: access.from, ports: [] };
        group.ports.push({ protocol: access.protocol, port: access.port });
        groups.set(key, group);
    }
    for (const { peers, ports } of groups.values()) {
        const selectors = peers.map((p) => peerSelector(p, flows));
        // A single `anywhere` opens the ports to every source; otherwise each brick is a peer.
        if (selectors.some((s) => s === undefined)) {
            rules.push({ ports });
        } else {
            rules.push({ from: selectors.map((s) => ({ podSelector: s as LabelSelector })), ports });
        }
    }
    if (brick.internal !== undefined) rules.push({ from: [{ podSelector: brick.selector }] });
    return rules;
}

/** Every NetworkPolicy of a cluster: per namespace the stack creates, the deny, then the bricks' allows. */
export function networkPolicySpecs(config: StackConfig): NamespacePolicy[] {
    const flows = brickFlows(config);
    return namespaceSpecs(config.namespace, config.cluster.name).flatMap(({ name: namespace, role }) => {
        const policies: NamespacePolicy[] = [
            { role, namespace, name: DEFAULT_DENY, spec: { podSelector: {}, policyTypes: ["Ingress"] } },
        ];
        // The agents namespace holds only host-network collectors, which no policy governs:
        // its deny guards whatever lands there later.
        if (role !== "core") return policies;
        for (const brick of flows) {
            const ingress = brickRules(brick, flows);
            if (ingress.length === 0) continue;
            policies.push({
                role,
                namespace,
                name: allowPolicyName(brick.id),
                spec: { podSelector: brick.selector, policyTypes: ["Ingress"], ingress },
            });
        }
        return policies;
    });
}

export interface NetworkPoliciesArgs {
    config: StackConfig;
}

/**
 * The NetworkPolicies of the stack's namespaces. In each namespace the deny comes after the
 * policies that let traffic in, so a running stack never sees the one without the others.
 */
export class NetworkPolicies extends pulumi.ComponentResource {
    constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:NetworkPolicies", name, {}, opts);
        const labels = commonLabels(args.config.cluster.name);
        const declare = (policy: NamespacePolicy, dependsOn: pulumi.Resource[]) =>
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${policy.role}-${policy.name}`,
                { metadata: { name: policy.name, namespace: policy.namespace, labels }, spec: policy.spec },
                { parent: this, ...(dependsOn.length > 0 ? { dependsOn } : {}) },
            );
        const specs = networkPolicySpecs(args.config);
        for (const namespace of new Set(specs.map((p) => p.namespace))) {
            const policies = specs.filter((p) => p.namespace === namespace);
            const allows = policies.filter((p) => p.name !== DEFAULT_DENY).map((p) => declare(p, []));
            for (const deny of policies.filter((p) => p.name === DEFAULT_DENY)) declare(deny, allows);
        }
        this.registerOutputs({});
    }
}
