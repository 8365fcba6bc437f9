import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import type { StackConfig } from "../config";
import { INGEST, INGEST_SIGNALS } from "../components/endpoints";
import { GRAFANA_CONTAINER_PORT, grafanaValues } from "../components/grafana-values";
import { commonLabels } from "../components/labels";
import { lokiValues } from "../components/logs-values";
import { kpsValues, OPERATOR_WEBHOOK_PORT, thanosValues } from "../components/metrics-values";
import { alertIngestSpec } from "../components/mtls-front";
import { agentsNamespaceName, namespaceSpecs } from "../components/namespaces";
import {
    entrypoints,
    NAMESPACE_NAME_LABEL,
    networkPolicySpecs,
    POLICY_NAMES,
    type NamespacePolicy,
    type PolicySpec,
} from "../components/network-policies";
import {
    gatewayConfig,
    GATEWAY_RELEASE,
    OTLP_PORTS,
    tempoDistributedValues,
    tempoReceivers,
} from "../components/traces-values";
import { charts, type ChartPin } from "../components/versions";
import { type ResourceRecord } from "../scripts/lib/mock-engine";
import { renderStack, shortUrn, type RenderResult } from "../scripts/lib/render";
import { fixture, projectDir, TEST_S3_STORAGE, testMain, testSub } from "./helpers";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- deep reads of Helm values

/** A pinned chart's default values (test/fixtures/chart-values). */
function chartDefaults(pin: ChartPin): Values {
    return JSON.parse(fs.readFileSync(fixture(`chart-values/${pin.chart}-${pin.version}.json`), "utf8")) as Values;
}

/** The ports a policy rule lists: each once, ascending, TCP. */
const tcp = (...ports: number[]) =>
    [...new Set(ports)].sort((a, b) => a - b).map((port) => ({ protocol: "TCP" as const, port }));

const MAIN_PORTS = [
    ...INGEST_SIGNALS.map((signal) => INGEST[signal].targetPort),
    GRAFANA_CONTAINER_PORT,
    OTLP_PORTS.grpc,
    OTLP_PORTS.http,
    OPERATOR_WEBHOOK_PORT,
];
const SUB_PORTS = [OTLP_PORTS.grpc, OTLP_PORTS.http, OPERATOR_WEBHOOK_PORT];

/** What the policies of a cluster whose core namespace is `namespace` must be, in order. */
function expectedPolicies(namespace: string, entrypointPorts: number[]): NamespacePolicy[] {
    const agents = agentsNamespaceName(namespace);
    const deny: PolicySpec = { podSelector: {}, policyTypes: ["Ingress"] };
    const fromStack: PolicySpec = {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [
            {
                from: [
                    {
                        namespaceSelector: {
                            matchExpressions: [
                                { key: "kubernetes.io/metadata.name", operator: "In", values: [namespace, agents] },
                            ],
                        },
                    },
                ],
            },
        ],
    };
    return [
        { role: "core", namespace, name: "default-deny-ingress", spec: deny },
        { role: "core", namespace, name: "allow-from-stack", spec: fromStack },
        {
            role: "core",
            namespace,
            name: "allow-entrypoints",
            spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ ports: tcp(...entrypointPorts) }] },
        },
        { role: "agents", namespace: agents, name: "default-deny-ingress", spec: deny },
        { role: "agents", namespace: agents, name: "allow-from-stack", spec: fromStack },
    ];
}

describe("network policies: the specs", () => {
    const passthrough = testMain();
    const loadbalancer = testMain({ exposure: { domain: "obs.acme.test", kind: "loadbalancer" } });
    const sub = testSub();

    it("on main with Traefik passthrough: deny, the stack's namespaces, and the ingest, Grafana, OTLP and webhook ports", () => {
        assert.equal(passthrough.exposure.kind, "traefik-passthrough");
        assert.deepEqual(networkPolicySpecs(passthrough), expectedPolicies(passthrough.namespace, MAIN_PORTS));
    });

    it("on main with LoadBalancer Services: the same pod ports, which those Services target", () => {
        assert.equal(loadbalancer.exposure.kind, "loadbalancer");
        assert.deepEqual(networkPolicySpecs(loadbalancer), expectedPolicies(loadbalancer.namespace, MAIN_PORTS));
    });

    it("on a sub: only the OTLP gateway and the webhook are entrypoints", () => {
        assert.equal(sub.role, "sub");
        assert.deepEqual(networkPolicySpecs(sub), expectedPolicies(sub.namespace, SUB_PORTS));
    });

    it("names each entrypoint's listeners; Tempo and the gateway share the OTLP gRPC port on main", () => {
        assert.equal(INGEST.traces.targetPort, OTLP_PORTS.grpc);
        const listeners = (config: StackConfig) => new Map(entrypoints(config).map((e) => [e.port, e.listeners]));
        assert.deepEqual(
            listeners(passthrough),
            new Map([
                [INGEST.metrics.targetPort, ["thanos-receive-router (metrics ingest)"]],
                [INGEST.logs.targetPort, ["loki-gateway (logs ingest)"]],
                [OTLP_PORTS.grpc, ["tempo (traces ingest)", `${GATEWAY_RELEASE} (OTLP gRPC)`]],
                [INGEST.alerts.targetPort, ["alertmanager-ingest (alerts ingest)"]],
                [GRAFANA_CONTAINER_PORT, ["grafana"]],
                [OTLP_PORTS.http, [`${GATEWAY_RELEASE} (OTLP HTTP)`]],
                [OPERATOR_WEBHOOK_PORT, ["prometheus-operator (admission webhooks)"]],
            ]),
        );
        assert.deepEqual(
            listeners(sub),
            new Map([
                [OTLP_PORTS.grpc, [`${GATEWAY_RELEASE} (OTLP gRPC)`]],
                [OTLP_PORTS.http, [`${GATEWAY_RELEASE} (OTLP HTTP)`]],
                [OPERATOR_WEBHOOK_PORT, ["prometheus-operator (admission webhooks)"]],
            ]),
        );
        const ports = entrypoints(passthrough).map((e) => e.port);
        assert.deepEqual(
            ports,
            [...ports].sort((a, b) => a - b),
            "ascending, so the rendered policy reads in order",
        );
    });

    it("denies by default: every pod of each namespace selected, Ingress only, no rule", () => {
        for (const config of [passthrough, sub]) {
            const denies = networkPolicySpecs(config).filter((p) => p.name === POLICY_NAMES.defaultDeny);
            assert.equal(denies.length, 2);
            for (const deny of denies) {
                assert.deepEqual(deny.spec.podSelector, {});
                assert.deepEqual(deny.spec.policyTypes, ["Ingress"]);
                assert.equal(deny.spec.ingress, undefined);
            }
        }
    });

    it("selects every pod in every policy and restricts only ingress: egress is configuration dependent", () => {
        for (const policy of [...networkPolicySpecs(passthrough), ...networkPolicySpecs(sub)]) {
            assert.deepEqual(policy.spec.podSelector, {}, policy.name);
            assert.deepEqual(policy.spec.policyTypes, ["Ingress"], policy.name);
        }
    });

    it("gives every namespace the stack creates a default deny and the stack's own traffic, whatever its name", () => {
        for (const config of [passthrough, sub, testMain({ namespace: "monitoring" })]) {
            const policies = networkPolicySpecs(config);
            for (const ns of namespaceSpecs(config.namespace, config.cluster.name)) {
                const names = policies.filter((p) => p.namespace === ns.name && p.role === ns.role).map((p) => p.name);
                assert.ok(names.includes(POLICY_NAMES.defaultDeny), `${ns.name}: no default deny`);
                assert.ok(names.includes(POLICY_NAMES.fromStack), `${ns.name}: no allow-from-stack`);
            }
            const created = new Set(namespaceSpecs(config.namespace, config.cluster.name).map((ns) => ns.name));
            assert.deepEqual(new Set(policies.map((p) => p.namespace)), created);
        }
    });

    it("lets in the stack's namespaces by the name label the API server sets, not a label of ours", () => {
        const fromStack = networkPolicySpecs(passthrough).find((p) => p.name === POLICY_NAMES.fromStack);
        const selector = fromStack?.spec.ingress?.[0]?.from?.[0]?.namespaceSelector;
        assert.equal(NAMESPACE_NAME_LABEL, "kubernetes.io/metadata.name");
        assert.deepEqual(selector?.matchExpressions[0]?.key, NAMESPACE_NAME_LABEL);
    });
});

describe("network policies: the entrypoints are the ports the serving bricks listen on", () => {
    const main = testMain();
    const tls = { secretName: "server-tls", revision: "r" };
    const identity = { secretName: "cluster-client-tls", revision: "r" };
    const opened = new Set(entrypoints(main).map((e) => e.port));
    const openedOnSub = new Set(entrypoints(testSub()).map((e) => e.port));

    it("metrics: Thanos Receive router's remote-write port, the chart's default that the values keep", () => {
        const router = (thanosValues({ config: main, receiveTls: tls }) as Values).receive.router as Values;
        assert.equal("httpRemoteWritePort" in router, false);
        assert.equal(chartDefaults(charts.thanos).receive.router.httpRemoteWritePort, INGEST.metrics.targetPort);
        assert.ok(opened.has(INGEST.metrics.targetPort));
    });

    it("logs: the Loki gateway's container port, the chart's default that the values keep", () => {
        const gateway = (lokiValues({ config: main, gatewayTls: tls }) as Values).gateway as Values;
        assert.equal("containerPort" in gateway, false);
        assert.equal(chartDefaults(charts.loki).gateway.containerPort, INGEST.logs.targetPort);
        assert.ok(opened.has(INGEST.logs.targetPort));
    });

    it("traces: Tempo's OTLP gRPC receiver, monolithic and distributed", () => {
        const grpc = tempoReceivers().otlp.protocols.grpc.endpoint;
        assert.equal(grpc, `0.0.0.0:${INGEST.traces.targetPort}`);
        const large = testMain({ profile: "large", storage: TEST_S3_STORAGE });
        const distributed = tempoDistributedValues({ config: large, serverTls: tls, identity }) as Values;
        assert.equal("port" in distributed.traces.otlp.grpc, false);
        assert.equal(chartDefaults(charts.tempoDistributed).traces.otlp.grpc.port, INGEST.traces.targetPort);
        assert.ok(opened.has(INGEST.traces.targetPort));
    });

    it("alerts: the alert ingest front's exposed listener", () => {
        const spec = alertIngestSpec(main.namespace);
        assert.equal(spec.expose, "alerts");
        assert.deepEqual(
            spec.listeners.map((l) => l.targetPort),
            [INGEST.alerts.targetPort],
        );
        assert.ok(opened.has(INGEST.alerts.targetPort));
    });

    it("Grafana: its container port, the chart's service.targetPort, which the values keep", () => {
        const values = grafanaValues({ config: main, clientRevision: "r" }) as Values;
        assert.equal("service" in values, false);
        assert.equal(chartDefaults(charts.grafana).service.targetPort, GRAFANA_CONTAINER_PORT);
        assert.ok(opened.has(GRAFANA_CONTAINER_PORT));
        assert.equal(openedOnSub.has(GRAFANA_CONTAINER_PORT), false, "no Grafana on a sub");
    });

    it("the OTLP gateway: the ports its receivers bind, which the chart's container ports match, on both roles", () => {
        for (const config of [main, testSub()]) {
            const tempo = { serverName: "traces.obs.acme.test", port: 443, url: "traces.obs.acme.test:443" };
            const receivers = (gatewayConfig({ config, tempo, identity }) as Values).receivers.otlp.protocols;
            assert.equal(receivers.grpc.endpoint, `\${env:MY_POD_IP}:${OTLP_PORTS.grpc}`);
            assert.equal(receivers.http.endpoint, `\${env:MY_POD_IP}:${OTLP_PORTS.http}`);
            const ports = new Set(entrypoints(config).map((e) => e.port));
            assert.ok(ports.has(OTLP_PORTS.grpc) && ports.has(OTLP_PORTS.http), config.role);
        }
        const chartPorts = chartDefaults(charts.opentelemetryCollector).ports;
        assert.equal(chartPorts.otlp.containerPort, OTLP_PORTS.grpc);
        assert.equal(chartPorts["otlp-http"].containerPort, OTLP_PORTS.http);
    });

    it("the operator's admission webhooks: on by chart default, served by the operator on its TLS port", () => {
        const operator = chartDefaults(charts.kubePrometheusStack).prometheusOperator;
        assert.equal(operator.admissionWebhooks.enabled, true);
        assert.equal(operator.admissionWebhooks.deployment.enabled, false, "no webhook Deployment of its own");
        assert.equal(operator.tls.enabled, true);
        assert.equal(operator.tls.internalPort, OPERATOR_WEBHOOK_PORT);
        for (const config of [main, testSub()]) {
            const values = kpsValues({ config, agentsNamespace: agentsNamespaceName(config.namespace) }) as Values;
            const ours = values.prometheusOperator as Values;
            for (const key of ["admissionWebhooks", "tls", "enabled"]) {
                assert.equal(key in ours, false, `${config.role}: prometheusOperator.${key} is set; review the policy`);
            }
            assert.ok(new Set(entrypoints(config).map((e) => e.port)).has(OPERATOR_WEBHOOK_PORT), config.role);
        }
    });
});

describe("network policies: the component in the main program (LoadBalancer exposure)", () => {
    let result: RenderResult;
    const policies = () => result.records.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    const byName = (name: string): ResourceRecord => {
        const record = result.records.find((r) => r.name === name);
        assert.ok(record, `no resource named ${name}`);
        return record;
    };

    before(async () => {
        result = await renderStack({ projectDir, stack: "main-s3", stackFile: fixture("Pulumi.main-s3.yaml") });
    });

    it("declares each spec as a NetworkPolicy named after its namespace's role, in the literal namespace", () => {
        const config = testMain({
            namespace: "monitoring",
            exposure: { domain: "obs.acme.test", kind: "loadbalancer" },
        });
        const expected = networkPolicySpecs(config).map((p) => ({
            name: `hub-network-policies-${p.role}-${p.name}`,
            parent: "obs:index:NetworkPolicies::hub-network-policies",
            metadata: { name: p.name, namespace: p.namespace, labels: commonLabels("hub") },
            spec: p.spec,
        }));
        const declaredPolicies = policies().map((r) => ({
            name: r.name,
            parent: shortUrn(r.parent ?? ""),
            metadata: r.inputs.metadata,
            spec: r.inputs.spec,
        }));
        const byResource = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
        assert.deepEqual(declaredPolicies.sort(byResource), expected.sort(byResource));
    });

    it("creates each namespace's deny after the policies that let traffic in", () => {
        const urn = (name: string) => byName(name).urn;
        assert.deepEqual(byName("hub-network-policies-core-default-deny-ingress").options.dependsOn.sort(), [
            urn("hub-network-policies-core-allow-entrypoints"),
            urn("hub-network-policies-core-allow-from-stack"),
        ]);
        assert.deepEqual(byName("hub-network-policies-agents-default-deny-ingress").options.dependsOn, [
            urn("hub-network-policies-agents-allow-from-stack"),
        ]);
        assert.deepEqual(byName("hub-network-policies-core-allow-from-stack").options.dependsOn, []);
    });

    it("opens every target port of the ingest LoadBalancer Services", () => {
        const entry = byName("hub-network-policies-core-allow-entrypoints").inputs.spec as Values;
        const open = new Set((entry.ingress[0].ports as { port: number }[]).map((p) => p.port));
        const balancers = result.records.filter(
            (r) => r.type === "kubernetes:core/v1:Service" && (r.inputs.spec as Values).type === "LoadBalancer",
        );
        assert.equal(balancers.length, INGEST_SIGNALS.length);
        for (const service of balancers) {
            for (const port of (service.inputs.spec as Values).ports as { targetPort: number }[]) {
                assert.ok(open.has(port.targetPort), `${service.name}: target port ${port.targetPort} is not open`);
            }
        }
    });
});

describe("network policies: docs/security.md", () => {
    const doc = fs.readFileSync(path.join(projectDir, "docs", "security.md"), "utf8");

    it("lists the entrypoint ports of each role as the policies open them", () => {
        for (const [role, config] of [
            ["main", testMain()],
            ["sub", testSub()],
        ] as const) {
            const row = doc
                .split("\n")
                .find(
                    (line) =>
                        /^\| `<namespace>` +\|/.test(line) &&
                        line.includes(`| ${role} `) &&
                        line.includes("`allow-entrypoints`"),
                );
            assert.ok(row, `docs/security.md: no allow-entrypoints row for ${role}`);
            const cells = row.split("|").map((c) => c.trim());
            const listed = (cells[5] ?? "").match(/\d+/g)?.map(Number) ?? [];
            assert.deepEqual(
                listed,
                entrypoints(config).map((e) => e.port),
                `docs/security.md: the ${role} ports of allow-entrypoints`,
            );
        }
    });
});
