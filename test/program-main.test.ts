import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { Secret, type ResourceRecord } from "../render/mock-engine";
import { renderStack, type RenderResult } from "../render/render";
import { declared, fixture, projectDir } from "./helpers";

/**
 * The whole program, loaded as the CLI loads it, with a main stack on S3 storage, in normal
 * (non-preview) mode. Does not prove anything about a real cluster's admission of these objects.
 */
describe("program: main stack with S3 storage", () => {
    let result: RenderResult;
    const byName = (name: string): ResourceRecord => {
        const record = result.records.find((r) => r.name === name);
        assert.ok(record, `no resource named ${name}`);
        return record;
    };

    before(async () => {
        result = await renderStack({ projectDir, stack: "main-s3", stackFile: fixture("Pulumi.main-s3.yaml") });
    });

    it("declares exactly the stack, the provider, the role component and its parts, and the storage Secret", () => {
        const outsidePki = result.records.filter((r) => !(r.parent ?? "").endsWith("obs:index:Pki::hub-pki"));
        assert.deepEqual(declared(outsidePki), [
            "kubernetes:apps/v1:Deployment | hub-alert-ingest | obs:index:MtlsFront::hub-alert-ingest",
            "kubernetes:apps/v1:Deployment | hub-query-gateway | obs:index:MtlsFront::hub-query-gateway",
            "kubernetes:apps/v1:Deployment | hub-remediator | obs:index:Remediator::hub-remediator",
            "kubernetes:apps/v1:Deployment | hub-trace-ingest | obs:index:MtlsFront::hub-trace-ingest",
            "kubernetes:apps/v1:StatefulSet | hub-metrics-thanos-rule | obs:index:ThanosRuler::hub-metrics-thanos-rule",
            "kubernetes:batch/v1:CronJob | hub-reporter | obs:index:Reporter::hub-reporter",
            "kubernetes:core/v1:ConfigMap | hub-alert-ingest-config | obs:index:MtlsFront::hub-alert-ingest",
            "kubernetes:core/v1:ConfigMap | hub-grafana-dashboard-cluster | obs:index:Grafana::hub-grafana",
            "kubernetes:core/v1:ConfigMap | hub-grafana-dashboard-fleet-overview | obs:index:Grafana::hub-grafana",
            "kubernetes:core/v1:ConfigMap | hub-grafana-dashboard-pipeline-health | obs:index:Grafana::hub-grafana",
            "kubernetes:core/v1:ConfigMap | hub-grafana-dashboard-talos | obs:index:Grafana::hub-grafana",
            "kubernetes:core/v1:ConfigMap | hub-grafana-dashboard-traces | obs:index:Grafana::hub-grafana",
            "kubernetes:core/v1:ConfigMap | hub-metrics-fleet-rules | obs:index:Metrics::hub-metrics",
            "kubernetes:core/v1:ConfigMap | hub-metrics-thanos-rule-config | obs:index:ThanosRuler::hub-metrics-thanos-rule",
            "kubernetes:core/v1:ConfigMap | hub-query-gateway-config | obs:index:MtlsFront::hub-query-gateway",
            "kubernetes:core/v1:ConfigMap | hub-remediator-code | obs:index:Remediator::hub-remediator",
            "kubernetes:core/v1:ConfigMap | hub-reporter-code | obs:index:Reporter::hub-reporter",
            "kubernetes:core/v1:ConfigMap | hub-trace-ingest-config | obs:index:MtlsFront::hub-trace-ingest",
            "kubernetes:core/v1:Namespace | hub-namespaces-agents | obs:index:Namespaces::hub-namespaces",
            "kubernetes:core/v1:Namespace | hub-namespaces-core | obs:index:Namespaces::hub-namespaces",
            "kubernetes:core/v1:Secret | hub-grafana-admin | obs:index:Grafana::hub-grafana",
            "kubernetes:core/v1:Secret | hub-metrics-alertmanager-config | obs:index:Metrics::hub-metrics",
            "kubernetes:core/v1:Secret | hub-metrics-objstore | obs:index:Metrics::hub-metrics",
            "kubernetes:core/v1:Secret | hub-object-storage | obs:index:MainCluster::hub",
            "kubernetes:core/v1:Service | hub-alert-ingest-exposure | obs:index:MtlsFront::hub-alert-ingest",
            "kubernetes:core/v1:Service | hub-alert-ingest-service | obs:index:MtlsFront::hub-alert-ingest",
            "kubernetes:core/v1:Service | hub-logs-logs-ingest | obs:index:Logs::hub-logs",
            "kubernetes:core/v1:Service | hub-metrics-metrics-ingest | obs:index:Metrics::hub-metrics",
            "kubernetes:core/v1:Service | hub-metrics-thanos-rule-headless | obs:index:ThanosRuler::hub-metrics-thanos-rule",
            "kubernetes:core/v1:Service | hub-query-gateway-service | obs:index:MtlsFront::hub-query-gateway",
            "kubernetes:core/v1:Service | hub-remediator-service | obs:index:Remediator::hub-remediator",
            "kubernetes:core/v1:Service | hub-trace-ingest-exposure | obs:index:MtlsFront::hub-trace-ingest",
            "kubernetes:core/v1:Service | hub-trace-ingest-service | obs:index:MtlsFront::hub-trace-ingest",
            "kubernetes:core/v1:ServiceAccount | hub-remediator-account | obs:index:Remediator::hub-remediator",
            "kubernetes:core/v1:ServiceAccount | hub-reporter-account | obs:index:Reporter::hub-reporter",
            "kubernetes:helm.sh/v4:Chart | hub-grafana-chart | obs:index:Grafana::hub-grafana",
            "kubernetes:helm.sh/v4:Chart | hub-logs-loki | obs:index:Logs::hub-logs",
            "kubernetes:helm.sh/v4:Chart | hub-logs-vector | obs:index:Logs::hub-logs",
            "kubernetes:helm.sh/v4:Chart | hub-metrics-kps | obs:index:Metrics::hub-metrics",
            "kubernetes:helm.sh/v4:Chart | hub-metrics-thanos | obs:index:Metrics::hub-metrics",
            "kubernetes:helm.sh/v4:Chart | hub-traces-gateway | obs:index:Traces::hub-traces",
            "kubernetes:helm.sh/v4:Chart | hub-traces-tempo | obs:index:Traces::hub-traces",
            "kubernetes:monitoring.coreos.com/v1:PodMonitor | hub-logs-vector-metrics | obs:index:Logs::hub-logs",
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule | hub-metrics-certificate-rules | obs:index:Metrics::hub-metrics",
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule | hub-metrics-rules | obs:index:Metrics::hub-metrics",
            "kubernetes:monitoring.coreos.com/v1:ServiceMonitor | hub-metrics-thanos-rule-metrics | obs:index:ThanosRuler::hub-metrics-thanos-rule",
            "kubernetes:monitoring.coreos.com/v1:ServiceMonitor | hub-remediator-metrics | obs:index:Remediator::hub-remediator",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-agents-default-deny-ingress | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-alert-ingest | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-alertmanager | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-grafana | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-kube-state-metrics | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-loki | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-loki-gateway | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-otel-gateway | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-prometheus | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-prometheus-operator | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-query-gateway | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-remediator | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-tempo | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-thanos-compact | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-thanos-query | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-thanos-receive-ingestor | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-thanos-receive-router | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-thanos-rule | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-thanos-store-gateway | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-allow-trace-ingest | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy | hub-network-policies-core-default-deny-ingress | obs:index:NetworkPolicies::hub-network-policies",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole | hub-remediator-role | obs:index:Remediator::hub-remediator",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding | hub-remediator-binding | obs:index:Remediator::hub-remediator",
            "obs:index:Grafana | hub-grafana | obs:index:MainCluster::hub",
            "obs:index:Logs | hub-logs | obs:index:MainCluster::hub",
            "obs:index:MainCluster | hub | pulumi:pulumi:Stack::observability-main-s3",
            "obs:index:Metrics | hub-metrics | obs:index:MainCluster::hub",
            "obs:index:MtlsFront | hub-alert-ingest | obs:index:MainCluster::hub",
            "obs:index:MtlsFront | hub-query-gateway | obs:index:MainCluster::hub",
            "obs:index:MtlsFront | hub-trace-ingest | obs:index:MainCluster::hub",
            "obs:index:Namespaces | hub-namespaces | obs:index:MainCluster::hub",
            "obs:index:NetworkPolicies | hub-network-policies | obs:index:MainCluster::hub",
            "obs:index:Pki | hub-pki | obs:index:MainCluster::hub",
            "obs:index:Remediator | hub-remediator | obs:index:MainCluster::hub",
            "obs:index:Reporter | hub-reporter | obs:index:MainCluster::hub",
            "obs:index:ThanosRuler | hub-metrics-thanos-rule | obs:index:Metrics::hub-metrics",
            "obs:index:Traces | hub-traces | obs:index:MainCluster::hub",
            "pulumi:providers:kubernetes | kubernetes | pulumi:pulumi:Stack::observability-main-s3",
            "pulumi:pulumi:Stack | observability-main-s3 | ",
            "random:index/randomPassword:RandomPassword | hub-grafana-admin-password | obs:index:Grafana::hub-grafana",
        ]);
    });

    it("points the one Kubernetes provider at the configured context", () => {
        assert.deepEqual(byName("kubernetes").inputs, { context: "admin@hub" });
    });

    it("creates every Kubernetes object through that provider", () => {
        const kubernetesObjects = result.records.filter((r) => r.type.startsWith("kubernetes:"));
        // Two namespaces, the storage Secret, fifteen certificate Secrets (see pki-profiles.test.ts), the
        // Thanos object storage Secret, the metrics, logs, traces and alerts LoadBalancers, seven charts
        // (kps, Thanos, Loki, Vector, Tempo, the trace gateway, Grafana), the ConfigMap, Deployment and
        // Service of each front (alert ingest, query gateway, trace ingest), the Ruler's ConfigMap,
        // StatefulSet, headless Service and ServiceMonitor, Vector's PodMonitor, Grafana's admin
        // Secret and its five dashboard ConfigMaps, the Alertmanager configuration Secret, the fleet
        // rules ConfigMap, two PrometheusRules (cluster rules, certificate rules), and the remediator's
        // ConfigMap, Deployment, Service, ServiceAccount, ServiceMonitor, ClusterRole and binding, and
        // the report's ConfigMap, ServiceAccount and CronJob, and twenty-one NetworkPolicies (a default
        // deny in each namespace, one policy per brick that takes connections in the core one).
        assert.equal(kubernetesObjects.length, 2 + 1 + 15 + 1 + 4 + 7 + 3 * 3 + 4 + 1 + 1 + 5 + 1 + 1 + 2 + 7 + 3 + 21);
        for (const record of kubernetesObjects) {
            assert.match(record.provider ?? "", /[:$]pulumi:providers:kubernetes::kubernetes::/, record.name);
        }
    });

    it("labels the core namespace baseline-enforced and restricted-audited", () => {
        assert.deepEqual(byName("hub-namespaces-core").inputs.metadata, {
            name: "monitoring",
            labels: {
                "app.kubernetes.io/managed-by": "pulumi",
                "app.kubernetes.io/part-of": "observability",
                "observability/cluster": "hub",
                "observability/namespace-role": "core",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/enforce-version": "latest",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        });
    });

    it("puts node collectors in a privileged namespace derived from the core one", () => {
        const metadata = byName("hub-namespaces-agents").inputs.metadata as Record<string, Record<string, string>>;
        assert.equal(metadata.name, "monitoring-agents");
        assert.equal(metadata.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
        assert.equal(metadata.labels?.["observability/namespace-role"], "agents");
    });

    it("keeps the S3 credentials secret inside the Secret, and nowhere else", () => {
        const inputs = byName("hub-object-storage").inputs;
        assert.equal(inputs.type, "Opaque");
        // The SDK marks the whole stringData map secret when any value in it is.
        assert.ok(inputs.stringData instanceof Secret, "credentials must reach the engine as a secret");
        assert.deepEqual(inputs.stringData.value, {
            AWS_ACCESS_KEY_ID: "[secret]",
            AWS_SECRET_ACCESS_KEY: "[secret]",
        });
        // Thanos reads the same credentials from its own object storage Secret, secret as a whole.
        const objstore = byName("hub-metrics-objstore").inputs.stringData;
        assert.ok(objstore instanceof Secret);
        const elsewhere = result.records.filter(
            (r) => !["hub-object-storage", "hub-metrics-objstore"].includes(r.name),
        );
        assert.doesNotMatch(JSON.stringify(elsewhere), /AWS_|\[secret\]/);
    });

    it("renders the credentials as [secret]", () => {
        const resources = result.files.get("resources.yaml") ?? "";
        assert.match(resources, /AWS_SECRET_ACCESS_KEY: "\[secret\]"/);
        assert.doesNotMatch(resources, /ZmFrZWNpcGhlcnRleHQ/);
    });

    it("exports role, cluster name, namespaces, the sub clusters and the PKI's outputs", () => {
        const outputs = result.engine.stackOutputs();
        assert.deepEqual(Object.keys(outputs).sort(), [
            "agentsNamespace",
            "certificates",
            "clusterName",
            "namespace",
            "otlpEndpoints",
            "role",
            "runbookBaseUrl",
            "subClusterBundles",
            "subClusters",
            "talosLoggingPatch",
            "talosMachineConfigPatch",
            "traefikValues",
        ]);
        assert.deepEqual(
            {
                ...outputs,
                certificates: undefined,
                subClusterBundles: undefined,
                talosMachineConfigPatch: undefined,
                talosLoggingPatch: undefined,
                traefikValues: undefined,
            },
            {
                role: "main",
                clusterName: "hub",
                namespace: "monitoring",
                agentsNamespace: "monitoring-agents",
                subClusters: ["edge-a", "edge-b"],
                // No receiver in this stack: the relative default, which its subs then keep.
                runbookBaseUrl: "docs/runbooks",
                otlpEndpoints: {
                    grpc: "otel-gateway.monitoring.svc:4317",
                    http: "http://otel-gateway.monitoring.svc:4318",
                },
                certificates: undefined,
                subClusterBundles: undefined,
                talosMachineConfigPatch: undefined,
                talosLoggingPatch: undefined,
                traefikValues: undefined,
            },
        );
    });
});
