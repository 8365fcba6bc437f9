import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { StackConfig } from "../config";
import { INGEST, INGEST_SIGNALS } from "./endpoints";
import { GRAFANA_CONTAINER_PORT } from "./grafana-values";
import { commonLabels } from "./labels";
import { OPERATOR_WEBHOOK_PORT } from "./metrics-values";
import { namespaceSpecs, type NamespaceRole } from "./namespaces";
import { GATEWAY_RELEASE, OTLP_PORTS } from "./traces-values";

/**
 * Ingress NetworkPolicies of the stack's namespaces, as data. Each namespace denies ingress by
 * default and lets in every pod of the stack's two namespaces (the bricks call each other and
 * Prometheus scrapes them); the core namespace also opens, to anyone, the ports that must be
 * reached from outside those namespaces. Egress stays open: its destinations (object storage,
 * SMTP, chat webhooks, Git hosts, the API server, DNS) depend on the configuration.
 * docs/security.md has the table.
 */

export const POLICY_NAMES = {
    defaultDeny: "default-deny-ingress",
    fromStack: "allow-from-stack",
    entrypoints: "allow-entrypoints",
} as const;
export type PolicyName = (typeof POLICY_NAMES)[keyof typeof POLICY_NAMES];

/**
 * The label the API server puts on every namespace, set to its name. Unlike a label of our own,
 * nobody can put it on another namespace to be let in.
 */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export interface PolicyPort {
    protocol: "TCP";
    port: number;
}

export interface PolicyPeer {
    namespaceSelector: { matchExpressions: { key: string; operator: "In"; values: string[] }[] };
}

export interface IngressRule {
    /** Absent: from anywhere. */
    from?: PolicyPeer[];
    /** Absent: on every port. */
    ports?: PolicyPort[];
}

export interface PolicySpec {
    /** Always every pod of the namespace. */
    podSelector: Record<string, never>;
    policyTypes: ["Ingress"];
    /** Absent: nothing is let in. */
    ingress?: IngressRule[];
}

export interface NamespacePolicy {
    role: NamespaceRole;
    namespace: string;
    name: PolicyName;
    spec: PolicySpec;
}

/** A port of the core namespace open to anyone, and what listens there. */
export interface Entrypoint {
    port: number;
    listeners: string[];
}

/**
 * The TCP ports the core namespace opens to anyone, ascending: the pods' own ports, since a
 * NetworkPolicy sees traffic after a Service has translated it.
 */
export function entrypoints(config: StackConfig): Entrypoint[] {
    const found: { port: number; listener: string }[] = [];
    if (config.role === "main") {
        // Each ingest listener verifies client certificates. With Traefik passthrough, Traefik's
        // pods (in their own namespace) dial it; with LoadBalancer Services, the outside does.
        for (const signal of INGEST_SIGNALS) {
            const ingest = INGEST[signal];
            found.push({ port: ingest.targetPort, listener: `${ingest.service} (${signal} ingest)` });
        }
        // Users, through the ingress controller they put before Grafana.
        found.push({ port: GRAFANA_CONTAINER_PORT, listener: "grafana" });
    }
    // Applications and Traefik, in any namespace, send traces to the cluster's gateway.
    found.push(
        { port: OTLP_PORTS.grpc, listener: `${GATEWAY_RELEASE} (OTLP gRPC)` },
        { port: OTLP_PORTS.http, listener: `${GATEWAY_RELEASE} (OTLP HTTP)` },
    );
    // The API server calls the operator's admission webhooks (PrometheusRule checks).
    found.push({ port: OPERATOR_WEBHOOK_PORT, listener: "prometheus-operator (admission webhooks)" });

    const byPort = new Map<number, string[]>();
    for (const { port, listener } of found) byPort.set(port, [...(byPort.get(port) ?? []), listener]);
    return [...byPort.entries()].sort(([a], [b]) => a - b).map(([port, listeners]) => ({ port, listeners }));
}

/** Every NetworkPolicy of a cluster, per namespace the stack creates: core first, then agents. */
export function networkPolicySpecs(config: StackConfig): NamespacePolicy[] {
    const namespaces = namespaceSpecs(config.namespace, config.cluster.name);
    const stack: PolicyPeer = {
        namespaceSelector: {
            matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: "In", values: namespaces.map((ns) => ns.name) }],
        },
    };
    const ingress = (rules?: IngressRule[]): PolicySpec => ({
        podSelector: {},
        policyTypes: ["Ingress"],
        ...(rules !== undefined ? { ingress: rules } : {}),
    });
    return namespaces.flatMap(({ name: namespace, role }) => {
        const policies: NamespacePolicy[] = [
            { role, namespace, name: POLICY_NAMES.defaultDeny, spec: ingress() },
            { role, namespace, name: POLICY_NAMES.fromStack, spec: ingress([{ from: [stack] }]) },
        ];
        if (role === "core") {
            const ports = entrypoints(config).map(({ port }): PolicyPort => ({ protocol: "TCP", port }));
            policies.push({ role, namespace, name: POLICY_NAMES.entrypoints, spec: ingress([{ ports }]) });
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
            const allows = policies.filter((p) => p.name !== POLICY_NAMES.defaultDeny).map((p) => declare(p, []));
            for (const deny of policies.filter((p) => p.name === POLICY_NAMES.defaultDeny)) declare(deny, allows);
        }
        this.registerOutputs({});
    }
}
