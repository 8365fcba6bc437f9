import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { escapeForTpl, escapeValuesForTpl, unescapedTemplateActions } from "../components/core/helm-tpl";
import { vectorValues } from "../components/logs/values";
import { networkPolicySpecs } from "../components/network/policies";
import { applyOrderFindings, waitsFor } from "../render/desired-state/apply-order";
import {
    addressesIn,
    addressProblems,
    budgetProblems,
    hookProblems,
    imageProblems,
    podSecurityFindings,
    referenceProblems,
    requestedResources,
} from "../render/desired-state/checks";
import {
    HOOK_ANNOTATION,
    normalize,
    plainValues,
    prerequisiteApiVersions,
    servedApiVersions,
    splitManifest,
    typeTokenGvk,
    type ChartRender,
    type KObject,
} from "../render/desired-state/manifests";
import { reachabilityProblems } from "../render/desired-state/reachability";
import { builtinProblems, prunedFields, schemaProblems } from "../render/desired-state/schema";
import { operatedWorkload, workloadOf, type DesiredState, type StateObject } from "../render/desired-state/state";
import { NO_OPTIONS, Secret, Unknown, type ResourceRecord } from "../render/mock-engine";
import type { RenderResult } from "../render/render";
import { testMain, testSub } from "./helpers";

/**
 * The deploy checks as pure functions, on desired states built by hand: each check is shown
 * to find what it looks for and to stay quiet otherwise. The deploy tests run the same checks
 * on the charts' real output (`npm run test:deploy`).
 */

const URN = (name: string) => `urn:pulumi:s::p::t::${name}`;

function record(name: string, extra: Partial<ResourceRecord> = {}): ResourceRecord {
    return {
        urn: URN(name),
        type: "kubernetes:core/v1:ConfigMap",
        name,
        parent: undefined,
        custom: true,
        remote: false,
        provider: undefined,
        inputs: {},
        options: { ...NO_OPTIONS, dependsOn: [] },
        ...extra,
    };
}

function chartRender(name: string, objects: KObject[], extra: Partial<ChartRender> = {}): ChartRender {
    return {
        record: record(name, { type: "kubernetes:helm.sh/v4:Chart", custom: false, remote: true }),
        pin: { chart: name, version: "1.0.0", repo: "https://charts.example" },
        source: { pin: { chart: name, version: "1.0.0", repo: "" }, path: "/charts", verified: true },
        release: name,
        namespace: "observability",
        values: {},
        objects,
        firstUp: objects,
        hooks: [],
        ...extra,
    };
}

const crd = (group: string, kind: string): KObject => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${kind.toLowerCase()}s.${group}` },
    spec: {
        group,
        names: { kind, plural: `${kind.toLowerCase()}s` },
        scope: "Namespaced",
        versions: [
            {
                name: "v1",
                served: true,
                storage: true,
                schema: {
                    openAPIV3Schema: {
                        type: "object",
                        properties: {
                            spec: {
                                type: "object",
                                properties: {
                                    port: { type: "integer" },
                                    free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                                },
                            },
                        },
                    },
                },
            },
        ],
    },
});

const deployment = (
    name: string,
    container: Record<string, unknown>,
    extra: Record<string, unknown> = {},
): KObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "observability" },
    spec: {
        replicas: 2,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, ...container }], ...extra } },
    },
});

function state(entries: StateObject[], records: ResourceRecord[] = [], charts: ChartRender[] = []): DesiredState {
    const config = testMain();
    return {
        stack: "hub",
        config,
        render: { records, engine: undefined, files: new Map(), programMs: 0 } as unknown as RenderResult,
        charts,
        objects: entries,
        workloads: entries.flatMap((e) => {
            const w = workloadOf(e);
            return w === undefined ? [] : [w];
        }),
        namespaces: [
            {
                name: "observability",
                labels: {
                    "kubernetes.io/metadata.name": "observability",
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
        ],
    };
}

const program = (object: KObject, name = object.metadata.name): StateObject => ({
    object,
    source: "program",
    urn: URN(name),
});

describe("desired state: what Chart v4 makes of a helm template stream", () => {
    it("keeps hooks apart, drops empty documents and refuses a document that is not an object", () => {
        const stream = [
            "---\n# Source: x/templates/empty.yaml\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
            `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hook\n  annotations:\n    ${HOOK_ANNOTATION}: pre-install\n`,
        ].join("---\n");
        const { objects, hooks } = splitManifest(stream, "x");
        assert.deepEqual(
            objects.map((o) => o.metadata.name),
            ["a"],
        );
        assert.deepEqual(
            hooks.map((o) => o.metadata.name),
            ["hook"],
        );
        assert.throws(() => splitManifest("- a list\n", "x"), /not an object/);
    });

    it("puts the release namespace on namespaced objects only, built-in or by their CRD's scope", () => {
        const scopes = new Map([["example.com/Widget", "Cluster"]]);
        const objects: KObject[] = [
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } },
            { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "b" } },
            { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "c" } },
            { apiVersion: "example.com/v1", kind: "Gadget", metadata: { name: "d" } },
            { apiVersion: "v1", kind: "Secret", metadata: { name: "e", namespace: "elsewhere" } },
        ];
        assert.deepEqual(
            normalize(objects, "observability", scopes).map((o) => o.metadata.namespace),
            ["observability", undefined, undefined, "observability", "elsewhere"],
        );
    });

    it("serves each CRD's versions as group/version and group/version/Kind", () => {
        assert.deepEqual(servedApiVersions([crd("example.com", "Widget")]), [
            "example.com/v1",
            "example.com/v1/Widget",
        ]);
    });

    it("names as prerequisites the custom resources of the program whose CRD the stack does not install", () => {
        const records = [
            record("route", { type: "kubernetes:traefik.io/v1alpha1:IngressRouteTCP" }),
            record("monitor", { type: "kubernetes:monitoring.coreos.com/v1:PodMonitor" }),
            record("policy", { type: "kubernetes:networking.k8s.io/v1:NetworkPolicy" }),
        ];
        assert.deepEqual(prerequisiteApiVersions(records, ["monitoring.coreos.com/v1/PodMonitor"]), [
            "traefik.io/v1alpha1",
            "traefik.io/v1alpha1/IngressRouteTCP",
        ]);
        assert.deepEqual(typeTokenGvk("kubernetes:core/v1:Secret"), { apiVersion: "v1", kind: "Secret" });
        assert.equal(typeTokenGvk("kubernetes:helm.sh/v4:Chart"), undefined);
    });

    it("refuses chart values holding a secret or a value unknown at preview", () => {
        assert.deepEqual(plainValues({ a: [1, { b: "c" }] }, "v"), { a: [1, { b: "c" }] });
        assert.throws(() => plainValues({ a: { b: new Secret("x") } }, "v"), /v\.a\.b holds a secret/);
        assert.throws(() => plainValues({ a: [Unknown.instance] }, "v"), /v\.a\[0\] is unknown/);
    });
});

describe("desired state: apply order", () => {
    const widget: KObject = {
        apiVersion: "example.com/v1",
        kind: "Widget",
        metadata: { name: "w", namespace: "observability" },
    };
    const installer = chartRender("installer", [crd("example.com", "Widget")]);

    it("reports a custom resource that nothing orders after its CRD's chart", () => {
        const s = state(
            [
                { object: installer.objects[0] as KObject, source: "installer", urn: installer.record.urn },
                program(widget, "w"),
            ],
            [installer.record, record("w")],
            [installer],
        );
        const found = applyOrderFindings(s);
        assert.equal(found.problems.length, 1);
        assert.match(found.problems[0] ?? "", /Widget\/observability\/w may be created before its CRD/);
    });

    it("accepts one that waits for the chart through its parent's dependencies", () => {
        const parent = record("component", {
            type: "obs:index:X",
            custom: false,
            options: { ...NO_OPTIONS, dependsOn: [installer.record.urn] },
        });
        const child = record("w", { parent: parent.urn });
        const s = state(
            [
                { object: installer.objects[0] as KObject, source: "installer", urn: installer.record.urn },
                program(widget, "w"),
            ],
            [installer.record, parent, child],
            [installer],
        );
        assert.deepEqual(applyOrderFindings(s).problems, []);
        assert.ok(waitsFor([installer.record, parent, child])(child.urn).has(installer.record.urn));
    });

    it("reports objects a chart renders only once a CRD is served, unless the chart waits for it", () => {
        const gated = chartRender("gated", [widget], { firstUp: [] });
        const objects = [
            { object: installer.objects[0] as KObject, source: "installer", urn: installer.record.urn },
            { object: widget, source: "gated", urn: gated.record.urn },
        ];
        const unordered = applyOrderFindings(state(objects, [installer.record, gated.record], [installer, gated]));
        assert.ok(unordered.problems.some((p) => /rendered only when its API is served/.test(p)));
        gated.record.options = { ...NO_OPTIONS, dependsOn: [installer.record.urn] };
        assert.deepEqual(
            applyOrderFindings(state(objects, [installer.record, gated.record], [installer, gated])).problems,
            [],
        );
    });

    it("lists a custom resource whose CRD the stack does not install as a prerequisite", () => {
        const route: KObject = { apiVersion: "traefik.io/v1alpha1", kind: "IngressRouteTCP", metadata: { name: "r" } };
        assert.deepEqual(applyOrderFindings(state([program(route)])).prerequisites, [
            "traefik.io/v1alpha1/IngressRouteTCP",
        ]);
    });
});

describe("desired state: hooks, images, Pod Security, references, addresses, requests", () => {
    const hardened = {
        image: "example/app:1.2.3",
        resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "128Mi" } },
        securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            runAsNonRoot: true,
            seccompProfile: { type: "RuntimeDefault" },
        },
    };

    it("reports every Helm hook a chart renders", () => {
        const hook: KObject = {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "h", annotations: { [HOOK_ANNOTATION]: "post-install" } },
        };
        const s = state([], [], [chartRender("c", [], { hooks: [hook] })]);
        assert.deepEqual(hookProblems(s).length, 1);
        assert.match(hookProblems(s)[0] ?? "", /Job\/h is a Helm hook \(post-install\)/);
        assert.deepEqual(hookProblems(state([], [], [chartRender("c", [])])), []);
    });

    it("accepts full version tags and digests, and reports moving tags and a missing image", () => {
        const s = state([
            program(deployment("a", { ...hardened, image: "example/a:v0.42.4" })),
            program(deployment("b", { ...hardened, image: `example/b:1.31-alpine` })),
            program(deployment("c", { ...hardened, image: `example/c@sha256:${"a".repeat(64)}` })),
            program(deployment("d", { ...hardened, image: "example/d:latest" })),
            program(deployment("e", { ...hardened, image: undefined })),
        ]);
        assert.deepEqual(
            imageProblems(s).map((p) => p.split(":")[0]),
            ["Deployment/observability/b", "Deployment/observability/d", "Deployment/observability/e"],
        );
    });

    it("refuses at the enforced level and lists the restricted warnings apart", () => {
        const s = state([
            program(deployment("ok", hardened)),
            program(deployment("loose", { ...hardened, securityContext: {} })),
            program(deployment("host", hardened, { hostNetwork: true })),
        ]);
        const findings = podSecurityFindings(s);
        assert.deepEqual(
            findings.problems.map((p) => p.split(":")[0]),
            ["Deployment/observability/host"],
        );
        assert.ok(findings.warnings.some((w) => w.startsWith("Deployment/observability/loose: privilegeEscalation")));
        assert.equal(
            findings.warnings.some((w) => w.startsWith("Deployment/observability/ok")),
            false,
        );
    });

    it("finds missing Secrets, ConfigMaps, claims and accounts, but not optional ones or what operators make", () => {
        const secret: KObject = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "present", namespace: "observability" },
        };
        const pod = deployment(
            "refs",
            { ...hardened, envFrom: [{ secretRef: { name: "present" } }, { configMapRef: { name: "gone" } }] },
            {
                serviceAccountName: "nobody",
                volumes: [
                    { name: "a", secret: { secretName: "missing-secret" } },
                    { name: "b", configMap: { name: "missing-optional", optional: true } },
                    { name: "c", persistentVolumeClaim: { claimName: "missing-claim" } },
                    { name: "d", secret: { secretName: "prometheus-kps-prometheus-tls-assets-0" } },
                ],
            },
        );
        const problems = referenceProblems(state([program(secret), program(pod)]));
        assert.deepEqual(
            problems.map((p) => p.replace(/^.*needs /, "")),
            [
                "Secret observability/missing-secret, which nothing creates",
                "PersistentVolumeClaim observability/missing-claim, which nothing creates",
                "ServiceAccount observability/nobody, which nothing creates",
                "ConfigMap observability/gone, which nothing creates",
            ],
        );
    });

    it("reads in-cluster addresses, SRV names included, and checks their Service and port", () => {
        assert.deepEqual(
            addressesIn(
                "url: http://loki.observability.svc.cluster.local:3100/x, dnssrv+_grpc._tcp.thanos-store.observability.svc",
            ),
            [
                {
                    service: "loki",
                    namespace: "observability",
                    port: 3100,
                    text: "loki.observability.svc.cluster.local:3100",
                },
                {
                    service: "thanos-store",
                    namespace: "observability",
                    portName: "grpc",
                    text: "_grpc._tcp.thanos-store.observability.svc",
                },
            ],
        );
        const service: KObject = {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "loki", namespace: "observability" },
            spec: { ports: [{ name: "http", port: 3100 }] },
        };
        const config = (text: string): KObject => ({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "c", namespace: "observability" },
            data: { file: text },
        });
        const problems = (text: string) => addressProblems(state([program(service), program(config(text))]));
        assert.deepEqual(problems("loki.observability.svc:3100 and _http._tcp.loki.observability.svc"), []);
        assert.match(problems("loki.observability.svc:9095")[0] ?? "", /has no port 9095/);
        assert.match(problems("_grpc._tcp.loki.observability.svc")[0] ?? "", /has no port named grpc/);
        assert.match(
            problems("tempo.observability.svc:3200")[0] ?? "",
            /Service observability\/tempo, which does not exist/,
        );
        assert.deepEqual(problems("minio.storage.svc:9000"), [], "another namespace is the user's");
        const encoded: KObject = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "s", namespace: "observability" },
            data: { "datasources.yaml": Buffer.from("url: https://tempo.observability.svc:3200").toString("base64") },
        };
        assert.match(
            addressProblems(state([program(service), program(encoded)]))[0] ?? "",
            /observability\/tempo, which does not exist/,
        );
    });

    it("sums requests per cluster and per node, replicas counted, and reports containers without them", () => {
        const daemon: KObject = {
            apiVersion: "apps/v1",
            kind: "DaemonSet",
            metadata: { name: "agent", namespace: "observability" },
            spec: { template: { metadata: {}, spec: { containers: [{ name: "agent", ...hardened }] } } },
        };
        const s = state([
            program(deployment("a", hardened)),
            program(deployment("b", { image: "x/y:1.0.0" })),
            program(daemon),
        ]);
        const { requests, problems } = requestedResources(s);
        assert.deepEqual(requests, {
            cluster: { millicores: 200, mebibytes: 128 },
            perNode: { millicores: 100, mebibytes: 64 },
        });
        assert.equal(problems.length, 4, problems.join("\n"));
        assert.match(budgetProblems(s).at(-1) ?? "", /the budget says/);
    });
});

describe("desired state: the operator's pods", () => {
    it("makes Prometheus pods with the operator's labels, ports and the reloader's resources", () => {
        const prometheus: KObject = {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "Prometheus",
            metadata: { name: "kps-prometheus", namespace: "observability" },
            spec: {
                replicas: 2,
                image: "quay.io/prometheus/prometheus:v3.14.0",
                thanos: {},
                podMetadata: { labels: { extra: "x" } },
            },
        };
        const reloader = { requests: { cpu: "10m" }, limits: { cpu: "100m" } };
        const w = operatedWorkload(
            prometheus,
            { reloaderResources: reloader, thanosImage: "quay.io/thanos/thanos:v0.42.4" },
            "kps",
        );
        assert.ok(w);
        assert.equal(w.replicas, 2);
        assert.deepEqual(w.template.metadata.labels, {
            extra: "x",
            "app.kubernetes.io/instance": "kps-prometheus",
            "app.kubernetes.io/managed-by": "prometheus-operator",
            "app.kubernetes.io/name": "prometheus",
            "operator.prometheus.io/name": "kps-prometheus",
            "operator.prometheus.io/shard": "0",
            prometheus: "kps-prometheus",
        });
        assert.deepEqual(
            w.template.spec.containers.map((c) => [c.name, c.ports?.map((p) => p.containerPort)]),
            [
                ["prometheus", [9090]],
                ["config-reloader", [8080]],
                ["thanos-sidecar", [10902, 10901]],
            ],
        );
        assert.deepEqual(w.template.spec.containers[1]?.resources, reloader);
        assert.equal(w.template.spec.containers[2]?.image, "quay.io/thanos/thanos:v0.42.4");
    });
});

describe("desired state: reachability under the generated policies", () => {
    const policies = (config = testMain()) =>
        networkPolicySpecs(config).map((p) =>
            program({
                apiVersion: "networking.k8s.io/v1",
                kind: "NetworkPolicy",
                metadata: { name: p.name, namespace: p.namespace },
                spec: p.spec,
            }),
        );
    const pod = (name: string, labels: Record<string, string>, ports: number[]): StateObject =>
        program({
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name, namespace: "observability" },
            spec: {
                template: {
                    metadata: { labels },
                    spec: { containers: [{ name, ports: ports.map((containerPort) => ({ containerPort })) }] },
                },
            },
        });
    const ingestor = pod(
        "ingestor",
        {
            "app.kubernetes.io/name": "thanos",
            "app.kubernetes.io/instance": "thanos",
            "app.kubernetes.io/component": "receive-ingestor",
        },
        [10901, 10902, 19291],
    );
    const grafana = pod(
        "grafana",
        { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" },
        [3000],
    );

    it("reports a brick whose selector matches no pod and a port its pods do not listen on", () => {
        const problems = reachabilityProblems(state([...policies(), ingestor]));
        assert.ok(problems.includes("brick prometheus: its selector selects no pod of the desired state"));
        const renamed = pod(
            "ingestor",
            {
                "app.kubernetes.io/name": "thanos",
                "app.kubernetes.io/instance": "thanos",
                "app.kubernetes.io/component": "receive-ingestor",
            },
            [10901, 10902],
        );
        assert.ok(
            reachabilityProblems(state([...policies(), renamed])).some((p) =>
                /no pod of it listens on TCP 19291/.test(p),
            ),
        );
    });

    it("reports the ingestor's plaintext port reachable when a policy opens the port namespace-wide", () => {
        const open = program({
            apiVersion: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata: { name: "allow-entrypoints", namespace: "observability" },
            spec: { podSelector: {}, ingress: [{ ports: [{ port: 19291 }] }] },
        });
        const before = reachabilityProblems(state([...policies(), ingestor, grafana]));
        assert.equal(
            before.some((p) => p.startsWith("thanos-receive-ingestor TCP 19291")),
            false,
        );
        const after = reachabilityProblems(state([...policies(), open, ingestor, grafana]));
        assert.ok(
            after.some((p) => /^thanos-receive-ingestor TCP 19291 .*can connect/.test(p)),
            after.join("\n"),
        );
    });

    it("reports an intended client the policies refuse", () => {
        const withoutAllows = policies().filter((p) => p.object.metadata.name === "default-deny-ingress");
        const problems = reachabilityProblems(state([...withoutAllows, ingestor, grafana]));
        assert.ok(
            problems.some((p) => /grafana TCP 3000 .*intended client outside the cluster is refused/.test(p)),
            problems.join("\n"),
        );
    });

    it("needs no policy for the agents' host-network pods and none reaches a sub's Prometheus API from outside", () => {
        assert.ok(networkPolicySpecs(testSub()).every((p) => p.spec.podSelector !== undefined));
    });
});

describe("desired state: schemas", () => {
    it("reports a built-in object invalid for a Kubernetes version, and a kind that version does not serve", async () => {
        const bad = deployment("x", { ports: [{ containerPort: "eighty" }] });
        const problems = await builtinProblems(bad, "1.34");
        assert.equal(problems.length, 1);
        assert.match(problems[0] ?? "", /invalid for Kubernetes 1\.34: .*containerPort must be integer/);
        assert.deepEqual(await builtinProblems(deployment("y", { image: "a/b:1.0.0" }), "1.33"), []);
        const gone: KObject = { apiVersion: "policy/v1beta1", kind: "PodSecurityPolicy", metadata: { name: "p" } };
        assert.match((await builtinProblems(gone, "1.34"))[0] ?? "", /policy\/v1beta1 is a pre-release API/);
        const unknown: KObject = { apiVersion: "apps/v1", kind: "Widget", metadata: { name: "w" } };
        assert.match((await builtinProblems(unknown, "1.34"))[0] ?? "", /serves no apps\/v1 Widget/);
    });

    it("checks custom resources against their CRD, fields it would prune included", async () => {
        const definition = { object: crd("example.com", "Widget"), source: "c", urn: URN("c") };
        const widget = (spec: unknown): StateObject =>
            program({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec } as KObject);
        assert.deepEqual(await schemaProblems([definition, widget({ port: 1, free: { any: 1 } })], ["1.34"]), []);
        const [invalid] = await schemaProblems([definition, widget({ port: "one" })], ["1.34"]);
        assert.match(invalid ?? "", /invalid for its CRD: \/spec\/port must be integer/);
        const [pruned] = await schemaProblems([definition, widget({ port: 1, tls_config: {} })], ["1.34"]);
        assert.match(pruned ?? "", /field spec\.tls_config is not in the CRD's schema and would be pruned/);
        assert.deepEqual(prunedFields({ a: { b: 1 } }, { properties: { a: { additionalProperties: true } } }, ""), []);
    });
});

describe("desired state: Vector's templates through Helm's tpl", () => {
    it("escapes every {{ of Vector's configuration, and nothing else", () => {
        assert.equal(escapeForTpl("{{ job }} and {{{"), '{{ "{{" }} job }} and {{ "{{" }}{');
        assert.deepEqual(escapeValuesForTpl({ "{{k}}": ["{{ a }}", 1, null] }), {
            '{{ "{{" }}k}}': ['{{ "{{" }} a }}', 1, null],
        });
        assert.deepEqual(unescapedTemplateActions({ a: ["x", "{{ y }}"], "{{z": 1 }), ["a[1]", "{key {{z}"]);
        const identity = { secretName: "cluster-client-tls", revision: "r" };
        for (const config of [testMain(), testSub()]) {
            const values = vectorValues({
                config,
                lokiEndpoint: { url: "https://logs:8443", serverName: "logs" },
                identity,
            });
            assert.ok(JSON.stringify(values.customConfig).includes('{{ \\"{{\\" }} job }}'));
            assert.deepEqual(unescapedTemplateActions(values.customConfig), []);
        }
    });
});
