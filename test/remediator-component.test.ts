import * as assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { budgetRules } from "../components/alerting/rules";
import { RESOURCES } from "../components/core/resources";
import { images } from "../components/core/versions";
import { remediationAllowlists } from "../components/metrics/values";
import { CONFIGMAP_LIMIT_BYTES, remediatorBundle } from "../components/programs/bundle";
import { REMEDIATOR_DIR, remediatorRules, remediatorSettings } from "../components/programs/remediator";
import { parseSettings } from "../remediator/settings";
import { reveal } from "../render/mock-engine";
import { renderStack, type RenderResult } from "../render/render";
import { projectDir, stackConfig } from "./helpers";

/**
 * The remediator as the stacks declare it: settings from config, RBAC no wider than the mode,
 * the pod's security, and the bundle's size against the ConfigMap limit.
 */

const fixture = (name: string) => path.join(projectDir, "test", "fixtures", name);

type Manifest = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Kubernetes manifests

function byType(result: RenderResult, type: string): Manifest[] {
    return result.records.filter((r) => r.type === type).map((r) => reveal(r.inputs) as Manifest);
}

describe("remediator: settings and rights from config", () => {
    it("grants read and Events only, except in scale mode where it may also patch workloads and their scale", () => {
        const read = { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ["get"] };
        const events = { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"] };
        for (const mode of ["off", "dry-run", "gitops"] as const) {
            assert.deepEqual(remediatorRules(mode), [read, events], mode);
        }
        assert.deepEqual(remediatorRules("scale"), [
            { ...read, verbs: ["get", "patch"] },
            { apiGroups: ["apps"], resources: ["deployments/scale", "statefulsets/scale"], verbs: ["patch"] },
            events,
        ]);
        for (const rule of remediatorRules("scale")) {
            assert.ok(
                !rule.verbs.some((v) => ["list", "watch", "delete", "update", "*"].includes(v)),
                rule.verbs.join(),
            );
        }
    });

    it("writes settings the remediator parses, with the stack's own namespaces protected", () => {
        const config = stackConfig({
            role: "sub",
            cluster: { name: "edge-a" },
            mainStack: "acme/observability/main",
            namespace: "obs",
            remediation: { mode: "scale", cooldownMinutes: 30, protectedNamespaces: ["payments"] },
        });
        const settings = remediatorSettings(config);
        assert.deepEqual(parseSettings(JSON.stringify(settings)), settings);
        assert.equal(settings.prometheusUrl, "http://kps-prometheus.obs.svc:9090");
        assert.equal(settings.cooldownSeconds, 1800);
        assert.deepEqual(settings.protectedNamespaces, [
            "kube-node-lease",
            "kube-public",
            "kube-system",
            "obs",
            "obs-agents",
            "payments",
        ]);
        assert.deepEqual(settings.rules, budgetRules(config.remediation));
        assert.deepEqual(
            settings.rules.map((r) => [r.alert, r.budget, r.threshold]),
            [
                ["NonCriticalWorkloadCPUOverBudget", "cpu", 2],
                ["NonCriticalWorkloadMemoryNearLimit", "memory", 0.9],
                ["NonCriticalWorkloadRestartStorm", "restarts", 5],
            ],
        );
        assert.equal(settings.gitops, undefined);
    });

    it("has kube-state-metrics export the opt-in label and the opt-out annotation of scalable workloads only", () => {
        const config = stackConfig({
            role: "sub",
            cluster: { name: "edge-a" },
            mainStack: "acme/observability/main",
            remediation: { optInLabel: { key: "example.com/tier", value: "best-effort" } },
        });
        assert.deepEqual(remediationAllowlists(config), {
            metricLabelsAllowlist: ["deployments=[example.com/tier]", "statefulsets=[example.com/tier]"],
            metricAnnotationsAllowList: [
                "deployments=[observability/remediation-opt-out]",
                "statefulsets=[observability/remediation-opt-out]",
            ],
        });
    });

    it("bundles into less than the ConfigMap limit", () => {
        const size = Buffer.byteLength(remediatorBundle());
        assert.ok(
            size < CONFIGMAP_LIMIT_BYTES * 0.75,
            `${size} bytes leaves too little margin under ${CONFIGMAP_LIMIT_BYTES}`,
        );
        assert.match(remediatorBundle(), /^"use strict";/);
    });
});

describe("remediator: the example sub stack (dry-run, every namespace)", () => {
    let result: RenderResult;
    before(async () => {
        result = await renderStack({ projectDir, stack: "sub" });
    });

    it("runs one remediator, never two at once, on the pinned image with the bundle from its ConfigMap", () => {
        const [deployment] = byType(result, "kubernetes:apps/v1:Deployment").filter(
            (d) => d.metadata.name === "remediator",
        );
        assert.ok(deployment);
        assert.equal(deployment.spec.replicas, 1);
        assert.deepEqual(deployment.spec.strategy, { type: "Recreate" });
        const pod = deployment.spec.template.spec;
        const [container] = pod.containers;
        assert.equal(container.image, images.node);
        assert.match(images.node, /@sha256:[0-9a-f]{64}$/);
        assert.deepEqual(container.args, [`${REMEDIATOR_DIR}/remediator.js`]);
        assert.deepEqual(pod.securityContext, {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: "RuntimeDefault" },
        });
        assert.deepEqual(container.securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        });
        assert.deepEqual(container.resources, RESOURCES.small.remediator);
        assert.equal(container.livenessProbe.httpGet.path, "/healthz");
        assert.equal(container.readinessProbe.httpGet.path, "/readyz");
        assert.ok(!pod.volumes.some((v: Manifest) => v.secret !== undefined), "a Secret mounted without gitops mode");
    });

    it("carries its settings in the ConfigMap beside the code, in dry-run by default", () => {
        const [code] = byType(result, "kubernetes:core/v1:ConfigMap").filter((c) => c.metadata.name === "remediator");
        assert.ok(code);
        const settings = parseSettings(code.data["settings.json"]);
        assert.equal(settings.mode, "dry-run");
        assert.equal(settings.cluster, "sub-eu-1");
        assert.equal(code.data["remediator.js"], remediatorBundle());
    });

    it("binds a ClusterRole without patch rights, and a ServiceMonitor on its metrics port", () => {
        const [role] = byType(result, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole");
        assert.deepEqual(role?.rules, remediatorRules("dry-run"));
        const [monitor] = byType(result, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor");
        assert.deepEqual(monitor?.spec.endpoints, [{ port: "http-metrics", path: "/metrics", interval: "30s" }]);
    });
});

describe("remediator: a main stack in gitops mode over two namespaces", () => {
    let result: RenderResult;
    before(async () => {
        result = await renderStack({ projectDir, stack: "main-large", stackFile: fixture("Pulumi.main-large.yaml") });
    });

    it("grants a Role in each listed namespace and no ClusterRole", () => {
        const roles = byType(result, "kubernetes:rbac.authorization.k8s.io/v1:Role");
        assert.deepEqual(
            roles.map((r) => [r.metadata.namespace, r.metadata.name]),
            [
                ["batch", "observability-remediator"],
                ["previews", "observability-remediator"],
            ],
        );
        for (const role of roles) assert.deepEqual(role.rules, remediatorRules("gitops"));
        const bindings = byType(result, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
        assert.deepEqual(
            bindings.map((b) => [b.metadata.namespace, b.subjects]),
            ["batch", "previews"].map((ns) => [
                ns,
                [{ kind: "ServiceAccount", name: "remediator", namespace: "observability" }],
            ]),
        );
        assert.deepEqual(byType(result, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"), []);
    });

    it("keeps the Git token in a Secret, mounted, and out of the settings", () => {
        const record = result.records.find(
            (r) => r.type === "kubernetes:core/v1:Secret" && r.name.endsWith("remediator-git-token"),
        );
        assert.ok(record);
        assert.equal(record.inputs.stringData !== undefined, true);
        const [code] = byType(result, "kubernetes:core/v1:ConfigMap").filter((c) => c.metadata.name === "remediator");
        const settings = parseSettings(code?.data["settings.json"]);
        assert.deepEqual(settings.gitops, {
            provider: "gitlab",
            apiUrl: "https://git.example.org",
            repository: "platform/gitops",
            targetBranch: "main",
            pathTemplate: "clusters/{cluster}/{namespace}/{name}.yaml",
            fieldPath: "spec.replicas",
        });
        assert.deepEqual(settings.namespaces, ["batch", "previews"]);
        assert.ok(settings.protectedNamespaces.includes("payments"));
        assert.equal(settings.rules[0]?.threshold, 3);
        const [deployment] = byType(result, "kubernetes:apps/v1:Deployment").filter(
            (d) => d.metadata.name === "remediator",
        );
        assert.deepEqual(
            deployment?.spec.template.spec.volumes.find((v: Manifest) => v.name === "git"),
            { name: "git", secret: { secretName: "remediator-git" } },
        );
        assert.deepEqual(deployment?.spec.template.spec.containers[0].resources, RESOURCES.large.remediator);
        // Apart from the read-only code volume, which could not hold another volume's mount point.
        const mounts = deployment?.spec.template.spec.containers[0].volumeMounts as Manifest[];
        assert.deepEqual(
            mounts.map((m) => [m.name, m.mountPath]),
            [
                ["code", "/etc/remediator"],
                ["git", "/etc/remediator-git"],
                ["state", "/var/lib/remediator"],
            ],
        );
    });
});
