import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { parseAllDocuments } from "yaml";

import {
    VECTOR_METRICS_PORT,
    VECTOR_METRICS_PORT_NAME,
    bytesOf,
    gatewayHttpSnippet,
    LEVELS,
    logOutageHours,
    LOKI_LABELS,
    lokiValues,
    talosLoggingPatch,
    TALOS_FIELDS,
    talosVrl,
    UNKNOWN_LEVEL,
    vectorConfig,
    vectorValues,
    type VectorInput,
} from "../components/logs/values";
import { validateConfig, type StackConfig } from "../config";
import { vectorConfigProblems } from "../render/vector-schema";
import { projectDir, TEST_S3_STORAGE, testMain, testSub } from "./helpers";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- deep reads of chart values

const S3 = TEST_S3_STORAGE;
const main = testMain;
const sub = testSub;

const gatewayTls = { secretName: "logs-ingest-tls", revision: "rev-gw" };

function vectorInput(config: StackConfig): VectorInput {
    return {
        config,
        lokiEndpoint: { url: "https://logs.obs.acme.test:443", serverName: "logs.obs.acme.test" },
        identity: { secretName: "cluster-client-tls", revision: "rev-id" },
    };
}

describe("logs: Loki on main", () => {
    const values = lokiValues({ config: main(), gatewayTls }) as Values;

    it("applies the retention contract where the chart reads it, with the compactor's retention on (P8)", () => {
        assert.deepEqual(values.loki.compactor, { retention_enabled: true, delete_request_store: "filesystem" });
        assert.deepEqual(values.loki.limits_config, { retention_period: "720h" });
        const shorter = lokiValues({ config: main({ retention: { logs: "7d" } }), gatewayTls }) as Values;
        assert.equal(shorter.loki.limits_config.retention_period, "168h");
        // Not the chart's top-level `compactor`, which is the component, not Loki's configuration.
        assert.equal(values.compactor, undefined);
    });

    it("runs one tenant per cluster and lets readers query several at once", () => {
        assert.equal(values.loki.auth_enabled, true);
        assert.deepEqual(values.loki.querier, { multi_tenant_queries_enabled: true });
    });

    it("sets a TSDB v13 schema on the configured store", () => {
        assert.deepEqual(values.loki.schemaConfig.configs, [
            {
                from: "2024-04-01",
                store: "tsdb",
                object_store: "filesystem",
                schema: "v13",
                index: { prefix: "loki_index_", period: "24h" },
            },
        ]);
    });

    it("reads S3 credentials from the environment Secret, never from values", () => {
        const s3 = lokiValues({ config: main({ storage: S3 }), gatewayTls }) as Values;
        assert.deepEqual(s3.loki.storage, {
            type: "s3",
            bucketNames: { chunks: "acme-logs", ruler: "acme-logs" },
            s3: {
                endpoint: "s3.eu-west-1.amazonaws.com",
                region: "eu-west-1",
                s3ForcePathStyle: false,
                insecure: false,
            },
        });
        assert.deepEqual(s3.global.extraEnvFrom, [{ secretRef: { name: "object-storage-credentials" } }]);
        assert.equal(s3.loki.compactor.delete_request_store, "s3");
        assert.doesNotMatch(JSON.stringify(s3), /accessKeyId|secretAccessKey/);
    });

    it("runs monolithic by default and distributed in the large profile, never the simple scalable targets", () => {
        assert.equal(values.deploymentMode, "Monolithic");
        for (const target of ["read", "write", "backend"]) assert.deepEqual(values[target], { replicas: 0 }, target);
        assert.equal(values.singleBinary.replicas, 1);
        const large = lokiValues({ config: main({ storage: S3, profile: "large" }), gatewayTls }) as Values;
        assert.equal(large.deploymentMode, "Distributed");
        assert.equal(large.singleBinary.replicas, 0);
        assert.equal(large.ingester.replicas, 3);
        assert.equal(large.loki.commonConfig.replication_factor, 3);
    });

    it("refuses the large profile on filesystem storage, naming the key", () => {
        const result = validateConfig({
            values: {
                "observability:role": "main",
                "observability:cluster": '{"name":"hub"}',
                "observability:profile": "large",
                "observability:exposure": '{"domain":"obs.acme.test","kind":"loadbalancer"}',
                "observability:storage": '{"kind":"filesystem"}',
            },
            isSecret: () => false,
        });
        assert.ok("problems" in result);
        assert.deepEqual(result.problems, [
            'observability:storage.kind: expected s3 with profile large, whose horizontally scaled stores need object storage, found "filesystem"; example: filesystem',
        ]);
    });

    it("turns off the bundled MinIO, the canary and the chart tests", () => {
        assert.deepEqual(
            [values.minio, values.lokiCanary, values.test],
            [{ enabled: false }, { enabled: false }, { enabled: false }],
        );
    });

    it("makes the gateway verify client certificates, probed on its port, rolled on a new certificate", () => {
        const gateway = values.gateway;
        assert.equal(gateway.nginxConfig.ssl, true);
        assert.match(gateway.nginxConfig.serverSnippet, /ssl_verify_client on;/);
        assert.match(gateway.nginxConfig.serverSnippet, /ssl_client_certificate \/etc\/observability\/tls\/ca.crt;/);
        assert.deepEqual(gateway.readinessProbe, { httpGet: null, tcpSocket: { port: "http" } });
        assert.deepEqual(gateway.metrics, { enabled: false });
        assert.deepEqual(gateway.extraVolumes, [{ name: "gateway-tls", secret: { secretName: "logs-ingest-tls" } }]);
        assert.deepEqual(gateway.podAnnotations, { "observability/certificate-revision": "rev-gw" });
        assert.equal(gateway.service.port, 8443);
    });

    it("takes the tenant from a cluster certificate's CN and forwards it, whatever the client sent", () => {
        const http = gatewayHttpSnippet();
        assert.match(http, /map \$observability_ou \$observability_tenant \{ default ""; cluster \$observability_cn;/);
        assert.match(
            values.gateway.nginxConfig.locationSnippet,
            /proxy_set_header X-Scope-OrgID \$observability_tenant;/,
        );
        assert.doesNotMatch(values.gateway.nginxConfig.locationSnippet, /\$remote_user/);
    });
});

describe("logs: the Vector agent", () => {
    const config = vectorConfig(vectorInput(sub()));
    const loki = (config.sinks as Values).main;

    it("has the structure Vector expects of every component it uses", () => {
        assert.deepEqual(vectorConfigProblems(config), []);
        assert.deepEqual(
            vectorConfigProblems(vectorConfig(vectorInput(sub({ logs: { talosServiceLogs: "push" } })))),
            [],
        );
    });

    it("would catch a misspelt TLS field, an unknown input and a source feeding nothing", () => {
        const broken = structuredClone(config) as Values;
        broken.sinks.main.tls.cert_file = broken.sinks.main.tls.crt_file;
        broken.transforms.pods_normalized.inputs = ["pod"];
        assert.deepEqual(vectorConfigProblems(broken).sort(), [
            "pods: 'pods' feeds nothing: its events would be lost",
            'sinks.main.tls: Unrecognized key: "cert_file"',
            "transforms.pods_normalized.inputs: input 'pod' is no source or transform",
        ]);
    });

    it("reads pod logs, Talos kernel logs by push and Talos service logs from their files, once each", () => {
        assert.deepEqual(config.sources, {
            agent_metrics: { type: "internal_metrics" },
            pods: { type: "kubernetes_logs" },
            talos_kernel: { type: "socket", mode: "tcp", address: "127.0.0.1:6050", decoding: { codec: "json" } },
            talos_services: {
                type: "file",
                include: ["/var/log/*.log"],
                exclude: ["/var/log/kernel.log"],
                read_from: "beginning",
            },
        });
    });

    it("exposes its own metrics, and only those, on the port the PodMonitor scrapes", () => {
        const sinks = config.sinks as Values;
        assert.deepEqual(sinks.prom_exporter, {
            type: "prometheus_exporter",
            inputs: ["agent_metrics"],
            address: `0.0.0.0:${VECTOR_METRICS_PORT}`,
        });
        assert.ok(!sinks.main.inputs.includes("agent_metrics"), "metric events would go to Loki");
        // The chart names the container port after the sink id: kebab-case, 15 characters at most.
        assert.equal("prom_exporter".replaceAll("_", "-").slice(0, 15), VECTOR_METRICS_PORT_NAME);
    });

    it("takes Talos service logs by push instead of from files when configured, never both", () => {
        const push = vectorConfig(vectorInput(sub({ logs: { talosServiceLogs: "push" } })));
        assert.deepEqual((push.sources as Values).talos_services, {
            type: "socket",
            mode: "tcp",
            address: "127.0.0.1:6051",
            decoding: { codec: "json" },
        });
        assert.ok(!JSON.stringify(push.sources).includes("/var/log/*.log"));
    });

    it("ships to main with the cluster certificate and a blocking disk buffer of the configured size", () => {
        assert.equal(loki.endpoint, "https://logs.obs.acme.test:443");
        assert.deepEqual(loki.tls, {
            ca_file: "/etc/observability/tls/ca.crt",
            crt_file: "/etc/observability/tls/tls.crt",
            key_file: "/etc/observability/tls/tls.key",
            verify_certificate: true,
            verify_hostname: true,
            server_name: "logs.obs.acme.test",
        });
        assert.deepEqual(loki.buffer, { type: "disk", max_size: 1024 ** 3, when_full: "block" });
        const bigger = vectorConfig(vectorInput(sub({ logs: { bufferSize: "5Gi" } })));
        assert.equal((bigger.sinks as Values).main.buffer.max_size, 5 * 1024 ** 3);
        assert.equal(loki.tenant_id, undefined, "the tenant comes from the certificate, not from the sender");
    });

    it("labels streams with cluster, namespace, node, service, level and job only", () => {
        assert.deepEqual(Object.keys(loki.labels).sort(), [...LOKI_LABELS].sort());
        assert.equal(loki.labels.cluster, "edge-a");
        assert.doesNotMatch(JSON.stringify(loki.labels), /pod|uid|trace/);
    });

    it("runs as an Agent on the node's network, with the identity mounted and rolled on a new certificate", () => {
        const values = vectorValues(vectorInput(sub())) as Values;
        assert.equal(values.role, "Agent");
        assert.equal(values.podHostNetwork, true);
        assert.equal(values.dnsPolicy, "ClusterFirstWithHostNet");
        assert.deepEqual(values.extraVolumes, [
            { name: "cluster-identity", secret: { secretName: "cluster-client-tls" } },
        ]);
        assert.deepEqual(values.podAnnotations, {
            "observability/certificate-revision": "rev-id",
            // Vector runs as root; the policy pack accepts that only with a reason on the pod template.
            "observability/runs-as-root": "reads root-owned log files on the node",
        });
        assert.deepEqual(values.securityContext.capabilities, { drop: ["ALL"] });
        assert.equal(values.securityContext.readOnlyRootFilesystem, true);
    });

    it("converts buffer sizes to bytes", () => {
        assert.equal(bytesOf("512Mi"), 512 * 1024 ** 2);
        assert.throws(() => bytesOf("1G"), /expected a quantity like 1Gi/);
    });
});

/**
 * The Talos mapping, interpreted from the same data the VRL generator reads: no Vector binary
 * runs here, so the test checks the mapping the VRL is generated from, and that the VRL does
 * carry every rule of it.
 */
function mapTalos(line: Record<string, unknown>, defaultService: string | null): Record<string, unknown> {
    const event: Record<string, unknown> = { ...line };
    const out: Record<string, unknown> = {};
    out.message = event[TALOS_FIELDS.message];
    const raw =
        typeof event[TALOS_FIELDS.level] === "string" ? (event[TALOS_FIELDS.level] as string).toLowerCase() : "";
    out.level = LEVELS[raw] ?? UNKNOWN_LEVEL;
    out.service = event[TALOS_FIELDS.service] ?? defaultService;
    out.timestamp = new Date(String(event[TALOS_FIELDS.time])).toISOString();
    for (const [key, value] of Object.entries(event)) {
        if (!(Object.values(TALOS_FIELDS) as string[]).includes(key)) out[key] = value;
    }
    return out;
}

describe("logs: Talos lines through the mapping", () => {
    it("maps a service line: message, level, service and time from the talos-* fields", () => {
        const line = {
            msg: "[talos] apply config request: immediate true, on reboot false",
            "talos-level": "info",
            "talos-service": "machined",
            "talos-time": "2021-11-10T10:48:49.294858021Z",
        };
        assert.deepEqual(mapTalos(line, null), {
            message: "[talos] apply config request: immediate true, on reboot false",
            level: "info",
            service: "machined",
            timestamp: "2021-11-10T10:48:49.294Z",
        });
    });

    it("maps a kernel line to the kernel service, keeping facility and priority in the line", () => {
        const line = {
            clock: 6252819,
            facility: "user",
            msg: "[talos] task startAllServices (1/1): waiting for 6 services\n",
            priority: "warning",
            seq: 711,
            "talos-level": "warn",
            "talos-time": "2021-11-26T16:53:21.3258698Z",
        };
        assert.deepEqual(mapTalos(line, "kernel"), {
            message: "[talos] task startAllServices (1/1): waiting for 6 services\n",
            level: "warn",
            service: "kernel",
            timestamp: "2021-11-26T16:53:21.325Z",
            clock: 6252819,
            facility: "user",
            priority: "warning",
            seq: 711,
        });
    });

    it("folds every syslog priority into five levels", () => {
        const folded = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "bogus"].map(
            (p) => LEVELS[p] ?? UNKNOWN_LEVEL,
        );
        assert.deepEqual(folded, ["error", "error", "error", "error", "warn", "info", "info", "debug", "unknown"]);
    });

    it("generates VRL that carries every field of the mapping and every level of the table", () => {
        const vrl = talosVrl("kernel");
        for (const field of Object.values(TALOS_FIELDS)) assert.ok(vrl.includes(`."${field}"`), field);
        for (const [from, to] of Object.entries(LEVELS)) {
            assert.ok(vrl.includes(`raw_level == "${from}"`), from);
            assert.ok(vrl.includes(`.level = "${to}"`), to);
        }
        assert.match(vrl, /if !exists\(\.service\) \{ \.service = "kernel" \}/);
        assert.doesNotMatch(vrl, /\$[0-9A-Za-z{]/, "a `$` would be read as an environment variable by Vector");
    });
});

describe("logs: the Talos machine-config patch", () => {
    it("configures kernel log delivery to the node-local agent, and service logs only when pushed", () => {
        const files = parseAllDocuments(talosLoggingPatch({ bufferSize: "1Gi", talosServiceLogs: "files" })).map((d) =>
            d.toJS(),
        );
        assert.deepEqual(files, [
            {
                apiVersion: "v1alpha1",
                kind: "KmsgLogConfig",
                name: "observability-kernel",
                url: "tcp://127.0.0.1:6050/",
            },
        ]);
        const push = parseAllDocuments(talosLoggingPatch({ bufferSize: "1Gi", talosServiceLogs: "push" })).map((d) =>
            d.toJS(),
        );
        assert.deepEqual(push[0], {
            machine: { logging: { destinations: [{ endpoint: "tcp://127.0.0.1:6051/", format: "json_lines" }] } },
        });
        assert.equal(push.length, 2);
    });
});

describe("logs: the outage figures in docs/reliability.md", () => {
    it("are what logOutageHours gives for the default buffer", () => {
        const doc = fs.readFileSync(path.join(projectDir, "docs", "reliability.md"), "utf8");
        const hours = [50, 200, 1000].map((rate) => `${logOutageHours(bytesOf("1Gi"), rate, 300).toFixed(1)} h`);
        const row = doc
            .split("\n")
            .find((line) => line.startsWith("| 1 GiB (default)"))
            ?.split("|")
            .map((cell) => cell.trim())
            .filter((cell) => cell !== "");
        assert.deepEqual(row, ["1 GiB (default)", ...hours]);
        assert.equal(logOutageHours(bytesOf("1Gi"), 200, 300).toFixed(1), "2.5");
    });
});
