import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { commonLabels } from "../components/core/labels";
import { agentsNamespaceName, namespaceSpecs } from "../components/core/namespaces";
import { charts, type ChartPin } from "../components/core/versions";
import { GRAFANA_CONTAINER_PORT, grafanaValues } from "../components/grafana/values";
import { lokiValues } from "../components/logs/values";
import { kpsValues, OPERATOR_HTTP_PORT, thanosValues } from "../components/metrics/values";
import { INGEST } from "../components/network/endpoints";
import { brickFlows, type BrickFlows, type BrickId } from "../components/network/flows";
import { alertIngestSpec } from "../components/network/mtls-front";
import { allowPolicyName, DEFAULT_DENY, networkPolicySpecs } from "../components/network/policies";
import { gatewayConfig, OTLP_PORTS, tempoDistributedValues, tempoReceivers } from "../components/traces/values";
import type { StackConfig } from "../config";
import { ingressAllowed, type PodView, type Source } from "../render/desired-state/network-policy";
import { type ResourceRecord } from "../render/mock-engine";
import { renderStack, shortUrn, type RenderResult } from "../render/render";
import { fixture, projectDir, TEST_S3_STORAGE, testMain, testSub } from "./helpers";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- deep reads of Helm values

/** A pinned chart's default values (test/fixtures/chart-values). */
function chartDefaults(pin: ChartPin): Values {
    return JSON.parse(fs.readFileSync(fixture(`chart-values/${pin.chart}-${pin.version}.json`), "utf8")) as Values;
}

/**
 * A pod of each brick, labelled as its selector asks and listening on the ports of the table:
 * what the policies see. The deploy tests check the same against the pods the charts make.
 */
function podOf(brick: BrickFlows, namespace: string): PodView {
    return {
        name: brick.id,
        namespace,
        labels: {
            ...brick.selector.matchLabels,
            "app.kubernetes.io/component": brick.selector.matchLabels["app.kubernetes.io/component"] ?? brick.id,
        },
        ports: brick.ports.map((p) => ({ containerPort: p.port, protocol: p.protocol })),
    };
}

function cluster(config: StackConfig) {
    const flows = brickFlows(config);
    const policies = networkPolicySpecs(config).map((p) => ({
        metadata: { name: p.name, namespace: p.namespace },
        spec: p.spec as unknown as Record<string, unknown>,
    }));
    const namespaces = namespaceSpecs(config.namespace, config.cluster.name).map((n) => ({
        name: n.name,
        labels: n.labels,
    }));
    const pods = new Map(flows.map((b) => [b.id, podOf(b, config.namespace)]));
    const pod = (id: BrickId) => {
        const found = pods.get(id);
        assert.ok(found, `no ${id} on this cluster`);
        return found;
    };
    const reaches = (source: Source, target: BrickId, port: number, protocol: "TCP" | "UDP" = "TCP") =>
        ingressAllowed({ policies, namespaces, target: pod(target), port, protocol, source }).allowed;
    const from = (id: BrickId): Source => ({ kind: "pod", pod: pod(id) });
    return { flows, pods, reaches, from };
}

const APPLICATION: Source = {
    kind: "pod",
    pod: { namespace: "shop", labels: { "app.kubernetes.io/name": "checkout" }, ports: [] },
};
const OUTSIDE: Source = { kind: "external", ip: "198.51.100.7" };

describe("network policies: the specs", () => {
    const main = testMain();
    const sub = testSub();

    it("denies ingress by default in every namespace the stack creates, whatever its name", () => {
        for (const config of [main, sub, testMain({ namespace: "monitoring" })]) {
            const policies = networkPolicySpecs(config);
            const created = namespaceSpecs(config.namespace, config.cluster.name).map((ns) => ns.name);
            assert.deepEqual(new Set(policies.map((p) => p.namespace)), new Set(created));
            for (const namespace of created) {
                const deny = policies.find((p) => p.namespace === namespace && p.name === DEFAULT_DENY);
                assert.deepEqual(deny?.spec, { podSelector: {}, policyTypes: ["Ingress"] }, namespace);
            }
        }
    });

    it("gives each brick of the core namespace one policy selecting its own pods, never every pod", () => {
        for (const config of [main, sub]) {
            const policies = networkPolicySpecs(config).filter((p) => p.name !== DEFAULT_DENY);
            assert.ok(policies.length > 0);
            for (const policy of policies) {
                assert.equal(policy.namespace, config.namespace, policy.name);
                assert.notDeepEqual(policy.spec.podSelector, {}, `${policy.name} selects every pod`);
                const brick = brickFlows(config).find((b) => allowPolicyName(b.id) === policy.name);
                assert.ok(brick, `${policy.name} is not a brick's`);
                assert.deepEqual(policy.spec.podSelector, brick.selector);
            }
        }
    });

    it("holds nothing but the deny in the agents namespace, whose collectors run on the host network", () => {
        const agents = networkPolicySpecs(main).filter((p) => p.namespace === agentsNamespaceName(main.namespace));
        assert.deepEqual(
            agents.map((p) => p.name),
            [DEFAULT_DENY],
        );
    });
});

describe("network policies: who reaches what on main", () => {
    const { reaches, from, flows } = cluster(testMain());

    it("lets sub clusters and main's own senders reach every ingest listener, which verifies client certificates", () => {
        for (const source of [OUTSIDE, APPLICATION]) {
            assert.ok(reaches(source, "thanos-receive-router", INGEST.metrics.targetPort));
            assert.ok(reaches(source, "loki-gateway", INGEST.logs.targetPort));
            assert.ok(reaches(source, "trace-ingest", INGEST.traces.targetPort));
            assert.ok(reaches(source, "alert-ingest", INGEST.alerts.targetPort));
        }
    });

    it("keeps Tempo's receiver to the trace ingest: no tenant can be written around it", () => {
        assert.ok(reaches(from("trace-ingest"), "tempo", OTLP_PORTS.grpc));
        for (const source of [OUTSIDE, APPLICATION, from("otel-gateway"), from("grafana"), from("prometheus")]) {
            assert.equal(reaches(source, "tempo", OTLP_PORTS.grpc), false);
        }
    });

    it("closes the ingestors' plaintext remote-write port to everyone, the router and Prometheus included", () => {
        for (const source of [
            OUTSIDE,
            APPLICATION,
            from("thanos-receive-router"),
            from("prometheus"),
            from("grafana"),
        ]) {
            assert.equal(reaches(source, "thanos-receive-ingestor", INGEST.metrics.targetPort), false);
        }
        // The router's writes go over the ingestors' gRPC port.
        assert.ok(reaches(from("thanos-receive-router"), "thanos-receive-ingestor", 10901));
        assert.equal(reaches(from("grafana"), "thanos-receive-ingestor", 10901), false);
    });

    it("opens the StoreAPI of every store to Thanos Query alone", () => {
        for (const store of ["prometheus", "thanos-store-gateway", "thanos-rule", "thanos-receive-ingestor"] as const) {
            assert.ok(reaches(from("thanos-query"), store, 10901), store);
            const others: Source[] = [from("grafana"), from("loki"), APPLICATION, OUTSIDE];
            others.forEach((other, i) =>
                assert.equal(reaches(other, store, 10901), false, `${store} from source ${i}`),
            );
        }
    });

    it("keeps Loki's API to its gateway, Prometheus and Loki itself: no tenant can be written around the gateway", () => {
        assert.ok(reaches(from("loki-gateway"), "loki", 3100));
        assert.ok(reaches(from("prometheus"), "loki", 3100));
        assert.ok(reaches(from("loki"), "loki", 9095), "Loki's components reach each other");
        for (const source of [from("grafana"), from("otel-gateway"), APPLICATION, OUTSIDE]) {
            assert.equal(reaches(source, "loki", 3100), false);
        }
    });

    it("lets Grafana and the reporter read only through the query gateway, not Thanos Query or Tempo directly", () => {
        for (const reader of ["grafana", "reporter"] as const) {
            assert.ok(reaches(from(reader), "query-gateway", 10902));
            assert.ok(reaches(from(reader), "query-gateway", 3200));
            assert.equal(reaches(from(reader), "thanos-query", 10902), false);
            assert.equal(reaches(from(reader), "tempo", 3200), false);
        }
        assert.ok(reaches(from("query-gateway"), "thanos-query", 10902));
        assert.ok(reaches(from("query-gateway"), "tempo", 3200));
        assert.equal(reaches(APPLICATION, "query-gateway", 10902), false);
    });

    it("lets alerts into Alertmanager through the alert ingest only (Prometheus scrapes it); its replicas gossip", () => {
        assert.ok(reaches(from("alert-ingest"), "alertmanager", 9093));
        for (const sender of ["prometheus", "thanos-rule"] as const) {
            assert.ok(reaches(from(sender), "alert-ingest", INGEST.alerts.targetPort), sender);
        }
        assert.equal(reaches(from("thanos-rule"), "alertmanager", 9093), false, "the Ruler goes through the ingest");
        assert.equal(reaches(from("grafana"), "alertmanager", 9093), false);
        assert.equal(reaches(OUTSIDE, "alertmanager", 9093), false);
        assert.ok(reaches(from("alertmanager"), "alertmanager", 9094, "TCP"));
        assert.ok(reaches(from("alertmanager"), "alertmanager", 9094, "UDP"));
        assert.equal(reaches(from("prometheus"), "alertmanager", 9094), false);
    });

    it("lets the Ruler read PromQL through the query gateway only", () => {
        assert.ok(reaches(from("thanos-rule"), "query-gateway", 10902));
        assert.equal(reaches(from("thanos-rule"), "thanos-query", 10902), false);
    });

    it("lets Prometheus scrape every brick's metrics port, and nothing else reach it", () => {
        for (const brick of flows) {
            for (const access of brick.ports.filter((p) => p.kind === "metrics")) {
                assert.ok(reaches(from("prometheus"), brick.id, access.port), `${brick.id}:${access.port}`);
                assert.equal(reaches(APPLICATION, brick.id, access.port), false, `${brick.id}:${access.port}`);
            }
        }
    });

    it("lets users reach Grafana and applications the OTLP gateway, from any namespace", () => {
        assert.ok(reaches(OUTSIDE, "grafana", GRAFANA_CONTAINER_PORT));
        assert.ok(reaches(APPLICATION, "otel-gateway", OTLP_PORTS.grpc));
        assert.ok(reaches(APPLICATION, "otel-gateway", OTLP_PORTS.http));
        assert.equal(reaches(APPLICATION, "prometheus", 9090), false);
        assert.ok(reaches(from("remediator"), "prometheus", 9090), "the remediator polls its alerts");
    });
});

describe("network policies: a sub", () => {
    const { reaches, from, flows } = cluster(testSub());

    it("runs only Prometheus, its operator and exporter, the OTLP gateway and the remediator as bricks", () => {
        assert.deepEqual(flows.map((b) => b.id).sort(), [
            "kube-state-metrics",
            "otel-gateway",
            "prometheus",
            "prometheus-operator",
            "remediator",
        ]);
    });

    it("opens the OTLP gateway to applications and Prometheus' API to itself and the remediator only", () => {
        assert.ok(reaches(APPLICATION, "otel-gateway", OTLP_PORTS.grpc));
        assert.ok(reaches(from("remediator"), "prometheus", 9090));
        assert.equal(reaches(APPLICATION, "prometheus", 9090), false);
        assert.equal(reaches(OUTSIDE, "prometheus", 9090), false);
        assert.ok(reaches(from("prometheus"), "prometheus-operator", OPERATOR_HTTP_PORT));
    });
});

describe("network policies: the table's ports are those the bricks' values keep", () => {
    const main = testMain();
    const tls = { secretName: "server-tls", revision: "r" };
    const identity = { secretName: "cluster-client-tls", revision: "r" };
    const port = (id: BrickId, config: StackConfig = main) =>
        new Set(
            brickFlows(config)
                .find((b) => b.id === id)
                ?.ports.map((p) => p.port),
        );

    it("metrics: Thanos Receive router's remote-write port, the chart's default that the values keep", () => {
        const router = (thanosValues({ config: main, receiveTls: tls, caRevision: "c" }) as Values).receive
            .router as Values;
        assert.equal("httpRemoteWritePort" in router, false);
        assert.equal(chartDefaults(charts.thanos).receive.router.httpRemoteWritePort, INGEST.metrics.targetPort);
        assert.ok(port("thanos-receive-router").has(INGEST.metrics.targetPort));
    });

    it("logs: the Loki gateway's container port, the chart's default that the values keep", () => {
        const gateway = (lokiValues({ config: main, gatewayTls: tls }) as Values).gateway as Values;
        assert.equal("containerPort" in gateway, false);
        assert.equal(chartDefaults(charts.loki).gateway.containerPort, INGEST.logs.targetPort);
        assert.ok(port("loki-gateway").has(INGEST.logs.targetPort));
    });

    it("traces: Tempo's OTLP gRPC receiver, monolithic and distributed", () => {
        assert.equal(tempoReceivers().otlp.protocols.grpc.endpoint, `0.0.0.0:${INGEST.traces.targetPort}`);
        const large = testMain({ profile: "large", storage: TEST_S3_STORAGE });
        const distributed = tempoDistributedValues({ config: large, serverTls: tls, identity }) as Values;
        assert.equal("port" in distributed.traces.otlp.grpc, false);
        assert.equal(chartDefaults(charts.tempoDistributed).traces.otlp.grpc.port, INGEST.traces.targetPort);
        assert.ok(port("tempo").has(INGEST.traces.targetPort));
    });

    it("alerts: the alert ingest front's exposed listener", () => {
        const spec = alertIngestSpec(main.namespace);
        assert.deepEqual(
            spec.listeners.map((l) => l.targetPort),
            [INGEST.alerts.targetPort],
        );
        assert.ok(port("alert-ingest").has(INGEST.alerts.targetPort));
    });

    it("Grafana: its container port, the chart's service.targetPort, which the values keep", () => {
        const values = grafanaValues({ config: main, clientRevision: "r" }) as Values;
        assert.equal("service" in values, false);
        assert.equal(chartDefaults(charts.grafana).service.targetPort, GRAFANA_CONTAINER_PORT);
        assert.ok(port("grafana").has(GRAFANA_CONTAINER_PORT));
    });

    it("the OTLP gateway: the ports its receivers bind, which the chart's container ports match, on both roles", () => {
        for (const config of [main, testSub()]) {
            const tempo = { serverName: "traces.obs.acme.test", port: 443, url: "traces.obs.acme.test:443" };
            const receivers = (gatewayConfig({ config, tempo, identity }) as Values).receivers.otlp.protocols;
            assert.equal(receivers.grpc.endpoint, `\${env:MY_POD_IP}:${OTLP_PORTS.grpc}`);
            assert.equal(receivers.http.endpoint, `\${env:MY_POD_IP}:${OTLP_PORTS.http}`);
            assert.ok(port("otel-gateway", config).has(OTLP_PORTS.grpc), config.role);
        }
        const chartPorts = chartDefaults(charts.opentelemetryCollector).ports;
        assert.equal(chartPorts.otlp.containerPort, OTLP_PORTS.grpc);
        assert.equal(chartPorts["otlp-http"].containerPort, OTLP_PORTS.http);
    });

    it("the operator: webhooks and TLS off, so it serves only plain metrics on the port the table opens to Prometheus", () => {
        for (const config of [main, testSub()]) {
            const values = kpsValues({ config, agentsNamespace: agentsNamespaceName(config.namespace) }) as Values;
            const operator = values.prometheusOperator as Values;
            assert.equal(operator.admissionWebhooks.enabled, false);
            assert.equal(operator.tls.enabled, false);
            assert.deepEqual([...port("prometheus-operator", config)], [OPERATOR_HTTP_PORT]);
        }
    });
});

describe("network policies: the component in the main program", () => {
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
        const deny = byName("hub-network-policies-core-default-deny-ingress");
        const allows = policies()
            .filter((r) => r.name.startsWith("hub-network-policies-core-allow-"))
            .map((r) => r.urn)
            .sort();
        assert.ok(allows.length > 10);
        assert.deepEqual([...deny.options.dependsOn].sort(), allows);
        assert.deepEqual(byName("hub-network-policies-agents-default-deny-ingress").options.dependsOn, []);
    });
});

describe("network policies: docs/security.md", () => {
    const doc = fs.readFileSync(path.join(projectDir, "docs", "security.md"), "utf8");

    it("lists every port of every brick of the flow table, with who may connect", () => {
        const rows = doc.split("\n").filter((line) => line.startsWith("| `allow-"));
        for (const config of [testMain(), testSub()]) {
            for (const brick of brickFlows(config)) {
                for (const access of brick.ports) {
                    const row = rows.find(
                        (r) =>
                            r.startsWith(`| \`${allowPolicyName(brick.id)}\``) &&
                            r.includes(`| ${access.port}/${access.protocol} `),
                    );
                    assert.ok(row, `docs/security.md: no row for ${brick.id} ${access.port}/${access.protocol}`);
                    const clients = access.from.map((p) => ("brick" in p ? `\`${p.brick}\`` : "anywhere"));
                    for (const client of clients.length > 0 ? clients : ["nobody"]) {
                        assert.ok(row.includes(client), `docs/security.md: ${brick.id} ${access.port} lacks ${client}`);
                    }
                }
            }
        }
    });
});
