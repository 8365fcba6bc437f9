import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { containsUnknown, HELM_CHART_V4 } from "../render/mock-engine";
import { renderStack, type RenderResult } from "../render/render";
import { declared, projectDir } from "./helpers";

/** The example sub stack, evaluated as `pulumi preview` does. */
describe("program: example sub stack in preview", () => {
    let result: RenderResult;

    before(async () => {
        result = await renderStack({ projectDir, stack: "sub", preview: true });
    });

    it("declares the stack, the main stack reference, the provider, the sub component, its namespaces, their NetworkPolicies and identity", () => {
        assert.deepEqual(declared(result.records), [
            "kubernetes:apps/v1:Deployment | sub-eu-1-remediator | obs:index:Remediator::sub-eu-1-remediator",
            "kubernetes:core/v1:ConfigMap | sub-eu-1-remediator-code | obs:index:Remediator::sub-eu-1-remediator",
            "kubernetes:core/v1:Namespace | sub-eu-1-namespaces-agents | obs:index:Namespaces::sub-eu-1-namespaces",
            "kubernetes:core/v1:Namespace | sub-eu-1-namespaces-core | obs:index:Namespaces::sub-eu-1-namespaces",
            "kubernetes:core/v1:Secret | sub-eu-1-identity-agents | obs:index:SubCluster::sub-eu-1",
            "kubernetes:core/v1:Secret | sub-eu-1-identity-core | obs:index:SubCluster::sub-eu-1",
            "kubernetes:core/v1:Service | sub-eu-1-remediator-service | obs:index:Remediator::sub-eu-1-remediator",
            "kubernetes:core/v1:ServiceAccount | sub-eu-1-remediator-account | obs:index:Remediator::sub-eu-1-remediator",
            "kubernetes:helm.sh/v4:Chart | sub-eu-1-logs-vector | obs:index:Logs::sub-eu-1-logs",
            "kubernetes:helm.sh/v4:Chart | sub-eu-1-metrics-kps | obs:index:Metrics::sub-eu-1-metrics",
            "kubernetes:helm.sh/v4:Chart | sub-eu-1-traces-gateway | obs:index:Traces::sub-eu-1-traces",
            "kubernetes:monitoring.coreos.com/v1:PodMonitor | sub-eu-1-logs-vector-metrics | obs:index:Logs::sub-eu-1-logs",
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule | sub-eu-1-metrics-rules | obs:index:Metrics::sub-eu-1-metrics",
            "kubernetes:monitoring.coreos.com/v1:ServiceMonitor | sub-eu-1-remediator-metrics | obs:index:Remediator::sub-eu-1-remediator",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | sub-eu-1-network-policies-agents-default-deny-ingress | obs:index:NetworkPolicies::sub-eu-1-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | sub-eu-1-network-policies-core-allow-kube-state-metrics | obs:index:NetworkPolicies::sub-eu-1-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | sub-eu-1-network-policies-core-allow-otel-gateway | obs:index:NetworkPolicies::sub-eu-1-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | sub-eu-1-network-policies-core-allow-prometheus | obs:index:NetworkPolicies::sub-eu-1-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | sub-eu-1-network-policies-core-allow-prometheus-operator | obs:index:NetworkPolicies::sub-eu-1-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | sub-eu-1-network-policies-core-allow-remediator | obs:index:NetworkPolicies::sub-eu-1-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | sub-eu-1-network-policies-core-default-deny-ingress | obs:index:NetworkPolicies::sub-eu-1-network-policies",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole | sub-eu-1-remediator-role | obs:index:Remediator::sub-eu-1-remediator",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding | sub-eu-1-remediator-binding | obs:index:Remediator::sub-eu-1-remediator",
            "obs:index:Logs | sub-eu-1-logs | obs:index:SubCluster::sub-eu-1",
            "obs:index:Metrics | sub-eu-1-metrics | obs:index:SubCluster::sub-eu-1",
            "obs:index:Namespaces | sub-eu-1-namespaces | obs:index:SubCluster::sub-eu-1",
            "obs:index:NetworkPolicies | sub-eu-1-network-policies | obs:index:SubCluster::sub-eu-1",
            "obs:index:Remediator | sub-eu-1-remediator | obs:index:SubCluster::sub-eu-1",
            "obs:index:SubCluster | sub-eu-1 | pulumi:pulumi:Stack::observability-sub",
            "obs:index:Traces | sub-eu-1-traces | obs:index:SubCluster::sub-eu-1",
            "pulumi:providers:kubernetes | kubernetes | pulumi:pulumi:Stack::observability-sub",
            "pulumi:pulumi:Stack | observability-sub | ",
            "pulumi:pulumi:StackReference | main-stack | pulumi:pulumi:Stack::observability-sub",
        ]);
    });

    it("uses the ambient kubeconfig context when none is configured", () => {
        const provider = result.records.find((r) => r.type === "pulumi:providers:kubernetes");
        assert.deepEqual(provider?.inputs, {});
    });

    it("labels both namespaces with the sub cluster's name", () => {
        const namespaces = result.records.filter((r) => r.type === "kubernetes:core/v1:Namespace");
        assert.equal(namespaces.length, 2);
        for (const ns of namespaces) {
            const labels = (ns.inputs.metadata as { labels: Record<string, string> }).labels;
            assert.equal(labels["observability/cluster"], "sub-eu-1");
        }
    });

    it("puts NetworkPolicies in both namespaces by their literal names, known at preview", () => {
        const policies = result.records.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy");
        const where = policies.map((r) => {
            const metadata = r.inputs.metadata as { name: unknown; namespace: unknown };
            return `${String(metadata.namespace)}/${String(metadata.name)}`;
        });
        assert.deepEqual(where.sort(), [
            "observability-agents/default-deny-ingress",
            "observability/allow-kube-state-metrics",
            "observability/allow-otel-gateway",
            "observability/allow-prometheus",
            "observability/allow-prometheus-operator",
            "observability/allow-remediator",
            "observability/default-deny-ingress",
        ]);
        for (const policy of policies) assert.equal(containsUnknown(policy.inputs), false, policy.name);
    });

    it("keeps every chart input known at preview", () => {
        const charts = result.records.filter((r) => r.type === HELM_CHART_V4);
        for (const chart of charts) {
            assert.equal(containsUnknown(chart.inputs), false, chart.name);
        }
        assert.deepEqual(result.engine.problems(), []);
    });

    it("exports its identity and endpoints but no sub cluster list and no key material", () => {
        const outputs = result.engine.stackOutputs();
        assert.deepEqual(Object.keys(outputs).sort(), [
            "agentsNamespace",
            "clientCertificate",
            "clusterName",
            "endpoints",
            "namespace",
            "otlpEndpoints",
            "role",
            "talosLoggingPatch",
            "talosMachineConfigPatch",
            "traefikValues",
        ]);
        assert.equal(outputs.role, "sub");
        assert.equal(outputs.clusterName, "sub-eu-1");
        assert.doesNotMatch(JSON.stringify(outputs), /BEGIN/);
    });
});
