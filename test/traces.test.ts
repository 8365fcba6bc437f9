import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";

import { RESOURCES } from "../components/core/resources";
import { OBJECT_STORAGE_SECRET } from "../components/logs/values";
import { inClusterEndpoint, ingestEndpoints } from "../components/network/endpoints";
import {
    CLIENT_TLS_MOUNT_DIR,
    gatewayConfig,
    gatewayValues,
    QUEUE_DIR,
    QUEUE_FILL,
    queueBytes,
    tempoDistributedValues,
    tempoValues,
    traceOutageHours,
    traefikValues,
    instrumentationSpec,
    type GatewayInput,
    type TempoInput,
} from "../components/traces/values";
import { validateConfig, type MainConfig, type StackConfig } from "../config";
import { collectorConfigProblems, type Mount } from "../render/collector-config";
import type { ResourceRecord } from "../render/mock-engine";
import { renderStack } from "../render/render";
import { fixture, projectDir, TEST_S3_STORAGE, testMain, testSub } from "./helpers";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- deep reads of chart values

const S3 = TEST_S3_STORAGE;
const main = testMain;
const sub = testSub;

const tempoInput = (config: MainConfig): TempoInput => ({
    config,
    serverTls: { secretName: "tempo-receiver-tls", revision: "rev-tempo" },
    identity: { secretName: "cluster-client-tls", revision: "rev-id" },
});

/** Sub edge-a's input: main's trace endpoint as the bundle carries it. */
const subGateway = (config: StackConfig = sub()): GatewayInput => ({
    config,
    tempo: ingestEndpoints({ domain: "obs.acme.test", kind: "traefik-passthrough" }).traces,
    identity: { secretName: "cluster-client-tls", revision: "rev-id" },
});

const mainGateway = (config: MainConfig = main()): GatewayInput => ({
    config,
    tempo: inClusterEndpoint("traces", config.namespace),
    identity: { secretName: "cluster-client-tls", revision: "rev-main" },
});

/** The volumes mounted into a container, from a values list of core/v1 VolumeMounts. */
const mountsOf = (list: unknown): Mount[] => list as Mount[];

/** Helm's merge of user values over chart defaults: maps merge, null deletes, the rest replaces. */
function helmMerge(defaults: unknown, values: unknown): unknown {
    const isMap = (v: unknown): v is Record<string, unknown> =>
        typeof v === "object" && v !== null && !Array.isArray(v);
    if (!isMap(defaults) || !isMap(values)) return values;
    const out: Record<string, unknown> = { ...defaults };
    for (const [key, value] of Object.entries(values)) {
        if (value === null) delete out[key];
        else out[key] = helmMerge(defaults[key], value);
    }
    return out;
}

const chartFile = (name: string): unknown =>
    JSON.parse(fs.readFileSync(fixture(`chart-values/${name}`), "utf8")) as unknown;

// ---------------------------------------------------------------------------------------------

describe("traces: Tempo on main (monolithic)", () => {
    const values = tempoValues(tempoInput(main())) as Values;
    const config = parse(values.config as string) as Values;
    const mounts = mountsOf(values.tempo.extraVolumeMounts);

    it("listens for OTLP over gRPC only, the trace ingest's protocol: no jaeger, zipkin, opencensus or OTLP/HTTP (P14)", () => {
        assert.deepEqual(Object.keys(config.distributor.receivers), ["otlp"]);
        assert.deepEqual(Object.keys(config.distributor.receivers.otlp.protocols), ["grpc"]);
        assert.equal(config.distributor.receivers.otlp.protocols.grpc.endpoint, "0.0.0.0:4317");
    });

    it("verifies client certificates with client_ca_file, never ca_file (P6), reloading certificate and CA", () => {
        const tls = config.distributor.receivers.otlp.protocols.grpc.tls as Values;
        assert.equal(tls.client_ca_file, "/etc/observability/tls/ca.crt");
        assert.equal(tls.ca_file, undefined, "ca_file verifies no client");
        assert.equal(tls.client_ca_file_reload, true);
        assert.ok(typeof tls.reload_interval === "string");
        assert.equal(tls.min_version, "1.3");
    });

    it("mounts the server certificate where the receivers read it, and main's identity where the generator does", () => {
        const volumes = values.extraVolumes as Values[];
        const secretAt = (dir: string) => {
            const mount = mounts.find((m) => m.mountPath === dir);
            return volumes.find((v) => v.name === (mount as unknown as Values | undefined)?.name)?.secret?.secretName;
        };
        assert.equal(secretAt("/etc/observability/tls"), "tempo-receiver-tls");
        assert.equal(secretAt(CLIENT_TLS_MOUNT_DIR), "cluster-client-tls");
        assert.ok(mounts.every((m) => m.readOnly === true));
    });

    it("keeps the Service's OTLP ports and drops jaeger's: each jaeger protocol stays a map without endpoint", () => {
        // The chart's port template reads `.endpoint` of each protocol: a missing map would fail
        // the render, a map with an endpoint would open the port.
        for (const protocol of ["grpc", "thrift_binary", "thrift_compact", "thrift_http"]) {
            assert.deepEqual(values.tempo.receivers.jaeger.protocols[protocol], { endpoint: null }, protocol);
        }
        assert.equal(values.tempo.receivers.otlp.protocols.grpc.endpoint, "0.0.0.0:4317");
        const defaults = (chartFile("tempo-2.2.4.json") as Values).tempo.receivers;
        const merged = helmMerge(defaults, values.tempo.receivers) as Values;
        for (const protocol of Object.values(merged.jaeger.protocols) as Values[]) {
            assert.equal(protocol.endpoint, undefined);
        }
        // OTLP over HTTP, on by default, closes the same way.
        assert.ok((defaults as Values).otlp.protocols.http.endpoint, "the chart opens OTLP/HTTP by default");
        assert.equal(merged.otlp.protocols.http.endpoint, undefined);
    });

    it("applies the retention contract as block retention", () => {
        assert.equal(config.compactor.compaction.block_retention, "336h");
        const week = parse(tempoValues(tempoInput(main({ retention: { traces: "7d" } }))).config as string) as Values;
        assert.equal(week.compactor.compaction.block_retention, "168h");
    });

    it("runs one tenant per cluster, with both metrics-generator processors on for each", () => {
        assert.equal(config.multitenancy_enabled, true);
        assert.deepEqual(config.overrides.defaults.metrics_generator.processors, ["service-graphs", "span-metrics"]);
    });

    it("writes span metrics and service graphs to the receive router in-cluster, with main's certificate", () => {
        const [remoteWrite, ...more] = config.metrics_generator.storage.remote_write as Values[];
        assert.equal(more.length, 0);
        assert.equal(remoteWrite?.url, "https://thanos-receive-router.observability.svc:19291/api/v1/receive");
        assert.deepEqual(remoteWrite?.tls_config, {
            ca_file: `${CLIENT_TLS_MOUNT_DIR}/ca.crt`,
            cert_file: `${CLIENT_TLS_MOUNT_DIR}/tls.crt`,
            key_file: `${CLIENT_TLS_MOUNT_DIR}/tls.key`,
            min_version: "TLS13",
        });
        // Each span's origin cluster becomes a label of the metrics computed from it.
        assert.deepEqual(config.metrics_generator.processor.span_metrics.dimensions, ["cluster"]);
        assert.deepEqual(config.metrics_generator.processor.service_graphs.dimensions, ["cluster"]);
        assert.ok(values.tempo.metricsGenerator.enabled);
    });

    it("keeps every TLS file of the configuration on a mounted volume, and every data path on the volume", () => {
        const files: string[] = [];
        const walk = (v: unknown): void => {
            if (typeof v === "object" && v !== null) {
                for (const [k, child] of Object.entries(v)) {
                    if (k.endsWith("_file") && typeof child === "string") files.push(child);
                    else walk(child);
                }
            }
        };
        walk(config);
        // The gRPC receiver's certificate, key and client CA; the generator's three client files.
        assert.equal(files.length, 3 + 3);
        for (const file of files) {
            assert.ok(
                mounts.some((m) => file.startsWith(`${m.mountPath}/`)),
                `${file} is on no mount`,
            );
        }
        for (const path of [
            config.storage.trace.wal.path,
            config.storage.trace.local.path,
            config.metrics_generator.storage.path,
            config.metrics_generator.traces_storage.path,
        ]) {
            assert.ok(String(path).startsWith("/var/tempo/"), `${path} is off the persistent volume`);
        }
        assert.equal(values.persistence.enabled, true);
    });

    it("stores blocks on the filesystem volume, sized and classed from config", () => {
        assert.equal(config.storage.trace.backend, "local");
        assert.equal(values.persistence.size, "50Gi");
        const classed = tempoValues(
            tempoInput(main({ storage: { kind: "filesystem", size: "200Gi", storageClass: "fast" } })),
        ) as Values;
        assert.equal(classed.persistence.size, "200Gi");
        assert.equal(classed.persistence.storageClassName, "fast");
        assert.deepEqual(values.tempo.extraEnvFrom, []);
    });

    it("stores blocks in the traces bucket with S3, the credentials only through the Secret's environment", () => {
        const s3 = tempoValues(tempoInput(main({ storage: S3 }))) as Values;
        const s3Config = parse(s3.config as string) as Values;
        assert.deepEqual(s3Config.storage.trace.s3, {
            bucket: "acme-traces",
            endpoint: "s3.eu-west-1.amazonaws.com",
            region: "eu-west-1",
            forcepathstyle: false,
            insecure: false,
        });
        assert.deepEqual(s3.tempo.extraEnvFrom, [{ secretRef: { name: OBJECT_STORAGE_SECRET } }]);
        assert.doesNotMatch(JSON.stringify(s3), /stand-in|access_key|secret_key/);
    });

    it("runs non-root with a read-only root filesystem, no capabilities, and the profile's resources", () => {
        assert.equal(values.tempo.securityContext.readOnlyRootFilesystem, true);
        assert.equal(values.tempo.securityContext.runAsNonRoot, true);
        assert.equal(values.tempo.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(values.tempo.securityContext.capabilities, { drop: ["ALL"] });
        assert.deepEqual(values.tempo.resources, RESOURCES.small.tempo);
        const medium = tempoValues(tempoInput(main({ profile: "medium" }))) as Values;
        assert.deepEqual(medium.tempo.resources, RESOURCES.medium.tempo);
    });

    it("rolls Tempo when either certificate is re-issued (the CAs it trusts are read at start)", () => {
        const annotation = values.podAnnotations["observability/certificate-revision"] as string;
        assert.ok(annotation.includes("rev-tempo") && annotation.includes("rev-id"));
    });
});

describe("traces: Tempo on main (large profile, tempo-distributed)", () => {
    const config = main({ profile: "large", storage: S3 });
    const values = tempoDistributedValues(tempoInput(config)) as Values;

    it("turns the OTLP gRPC receiver on with client_ca_file verification, and OTLP/HTTP off", () => {
        assert.equal(values.traces.otlp.grpc.enabled, true);
        const tls = values.traces.otlp.grpc.receiverConfig.tls as Values;
        assert.equal(tls.client_ca_file, "/etc/observability/tls/ca.crt");
        assert.equal(tls.ca_file, undefined);
        assert.deepEqual(values.traces.otlp.http, { enabled: false });
        assert.equal(values.traces.jaeger, undefined, "jaeger stays off, as the chart defaults it");
        assert.equal(values.multitenancyEnabled, true);
    });

    it("mounts the server certificate in the distributors and main's identity in the metrics-generator", () => {
        assert.deepEqual(values.distributor.extraVolumes, [
            { name: "tempo-tls", secret: { secretName: "tempo-receiver-tls" } },
        ]);
        assert.deepEqual(values.distributor.extraVolumeMounts[0].mountPath, "/etc/observability/tls");
        assert.deepEqual(values.metricsGenerator.extraVolumes, [
            { name: "client-tls", secret: { secretName: "cluster-client-tls" } },
        ]);
        assert.equal(values.metricsGenerator.extraVolumeMounts[0].mountPath, CLIENT_TLS_MOUNT_DIR);
        const remoteWrite = values.metricsGenerator.config.storage.remote_write[0] as Values;
        assert.ok(String(remoteWrite.tls_config.cert_file).startsWith(`${CLIENT_TLS_MOUNT_DIR}/`));
        assert.equal(values.metricsGenerator.enabled, true);
    });

    it("applies retention, the traces bucket and the credentials Secret to every component", () => {
        assert.equal(values.compactor.config.compaction.block_retention, "336h");
        assert.equal(values.storage.trace.backend, "s3");
        assert.equal(values.storage.trace.s3.bucket, "acme-traces");
        assert.deepEqual(values.global.extraEnvFrom, [{ secretRef: { name: OBJECT_STORAGE_SECRET } }]);
        assert.equal(values.ingester.replicas, 3);
        assert.deepEqual(values.distributor.resources, RESOURCES.large.tempo);
    });
});

describe("traces: the OTLP gateway", () => {
    for (const [role, input] of [
        ["sub", subGateway()],
        ["main", mainGateway()],
    ] as const) {
        it(`holds together on ${role}: defined components, started extensions, files on mounted volumes`, () => {
            const values = gatewayValues(input) as Values;
            assert.deepEqual(collectorConfigProblems(values.alternateConfig, mountsOf(values.extraVolumeMounts)), []);
        });
    }

    it("ships a sub cluster's spans to main's external name, verifying it, with the cluster certificate", () => {
        const exporter = (gatewayConfig(subGateway()) as Values).exporters["otlp_grpc/tempo"] as Values;
        assert.equal(exporter.endpoint, "traces.obs.acme.test:443");
        assert.equal(exporter.tls.server_name_override, "traces.obs.acme.test");
        assert.equal(exporter.tls.cert_file, "/etc/observability/tls/tls.crt");
        assert.equal(exporter.tls.reload_interval, "5m");
        const values = gatewayValues(subGateway()) as Values;
        assert.deepEqual(values.extraVolumes, [
            { name: "cluster-identity", secret: { secretName: "cluster-client-tls" } },
        ]);
    });

    it("ships main's own spans in-cluster through the trace ingest, like every cluster's", () => {
        const exporter = (gatewayConfig(mainGateway()) as Values).exporters["otlp_grpc/tempo"] as Values;
        assert.equal(exporter.endpoint, "traces-ingest.observability.svc:4317");
        assert.equal(exporter.tls.server_name_override, "traces-ingest.observability.svc");
    });

    it("stamps the cluster on every span, over what the sender said", () => {
        const processors = (gatewayConfig(subGateway()) as Values).processors as Values;
        assert.deepEqual(processors["resource/cluster"].attributes, [
            { key: "k8s.cluster.name", value: "edge-a", action: "upsert" },
            { key: "cluster", value: "edge-a", action: "upsert" },
        ]);
        assert.deepEqual((gatewayConfig(subGateway()) as Values).service.pipelines.traces.processors, [
            "memory_limiter",
            "k8s_attributes",
            "resource/cluster",
            "batch",
        ]);
    });

    it("queues on its own volume, sized from config in bytes, and retries without deadline", () => {
        const config = sub({ traces: { queueSize: "10Gi" } });
        const values = gatewayValues(subGateway(config)) as Values;
        const exporter = values.alternateConfig.exporters["otlp_grpc/tempo"] as Values;
        assert.equal(exporter.sending_queue.sizer, "bytes");
        assert.equal(exporter.sending_queue.queue_size, Math.floor(10 * 1024 ** 3 * QUEUE_FILL));
        assert.equal(exporter.sending_queue.storage, "file_storage/queue");
        assert.equal(exporter.retry_on_failure.max_elapsed_time, 0);
        const [claim] = values.statefulset.volumeClaimTemplates as Values[];
        assert.equal(claim?.spec.resources.requests.storage, "10Gi");
        const queueMount = (values.extraVolumeMounts as Values[]).find((m) => m.mountPath === QUEUE_DIR);
        assert.equal(queueMount?.name, claim?.metadata.name);
        assert.notEqual(queueMount?.readOnly, true);
        assert.equal(values.mode, "statefulset");
    });

    it("computes how long a link loss the queue outlives, from its size and the span rate", () => {
        assert.equal(queueBytes("1Gi"), Math.floor(1024 ** 3 * 0.45));
        // 5Gi (the default) at 0.45 is 2.25 GiB; at 100 spans/s of 1 KiB that is 6.55 hours.
        assert.equal(Math.round(traceOutageHours(queueBytes("5Gi"), 100) * 100) / 100, 6.55);
        assert.equal(traceOutageHours(queueBytes("5Gi"), 200), traceOutageHours(queueBytes("5Gi"), 100) / 2);
    });

    it("states in docs/traces.md the outage each queue volume covers, as traceOutageHours computes it", () => {
        const doc = fs.readFileSync(path.join(projectDir, "docs", "traces.md"), "utf8");
        const rates = [10, 100, 1000];
        for (const volume of ["5Gi", "20Gi"]) {
            const row = new RegExp(`^\\| ${volume} +\\|(.*)\\|$`, "m").exec(doc);
            assert.ok(row, `no row for ${volume}`);
            const cells = (row[1] ?? "").split("|").map((c) => c.trim());
            const expected = rates.map((rate) => `${traceOutageHours(queueBytes(volume), rate).toFixed(1)} h`);
            assert.deepEqual(cells, expected, volume);
        }
    });

    it("closes the chart's jaeger and zipkin ports and replaces its default configuration whole", () => {
        const values = gatewayValues(subGateway()) as Values;
        for (const port of ["jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin"]) {
            assert.deepEqual(values.ports[port], { enabled: false }, port);
        }
        assert.equal(values.config, undefined, "`config` merges with the defaults; `alternateConfig` does not");
        assert.deepEqual(Object.keys(values.alternateConfig.receivers), ["otlp"]);
        assert.equal(values.image.repository, "docker.io/otel/opentelemetry-collector-k8s");
        assert.equal(values.command.name, "otelcol-k8s");
    });

    it("runs non-root with a read-only root filesystem, no capabilities, the profile's resources and replicas", () => {
        const values = gatewayValues(subGateway(sub({ profile: "medium" }))) as Values;
        assert.equal(values.securityContext.readOnlyRootFilesystem, true);
        assert.deepEqual(values.securityContext.capabilities, { drop: ["ALL"] });
        assert.equal(values.podSecurityContext.runAsNonRoot, true);
        assert.deepEqual(values.resources, RESOURCES.medium.traceGateway);
        assert.equal(values.replicaCount, 2);
    });

    it("passes the chart's JSON schema once merged with its defaults, as Helm checks it", () => {
        const schema = chartFile("opentelemetry-collector-0.170.0.schema.json") as Record<string, unknown>;
        // "http://json-schema.org/schema#" names no draft Ajv knows; the body is draft-07.
        const body = Object.fromEntries(Object.entries(schema).filter(([key]) => key !== "$schema"));
        const validate = new Ajv({ strict: false, allErrors: true }).compile(body);
        const merged = helmMerge(chartFile("opentelemetry-collector-0.170.0.json"), gatewayValues(subGateway()));
        assert.ok(validate(merged), JSON.stringify(validate.errors));
        const broken = helmMerge(merged, { ports: { zipkin: { enabled: "no" } } });
        assert.equal(validate(broken), false, "the schema check can fail");
    });
});

describe("collectorConfigProblems", () => {
    const values = gatewayValues(subGateway()) as Values;
    const mounts = mountsOf(values.extraVolumeMounts);
    const good = (): Values => structuredClone(values.alternateConfig) as Values;

    it("reports a pipeline that names an undefined component, and a component in no pipeline", () => {
        const config = good();
        config.service.pipelines.traces.processors = ["memory_limiter", "k8sattribute", "resource/cluster", "batch"];
        assert.deepEqual(collectorConfigProblems(config, mounts), [
            "service.pipelines.traces.processors: 'k8sattribute' is not defined under processors",
            "processors.k8s_attributes: defined but in no pipeline",
        ]);
    });

    it("reports a deprecated or foreign component type and processors out of order", () => {
        const config = good();
        config.exporters["otlp/tempo"] = config.exporters["otlp_grpc/tempo"];
        delete config.exporters["otlp_grpc/tempo"];
        config.service.pipelines.traces.exporters = ["otlp/tempo"];
        config.service.pipelines.traces.processors = ["k8s_attributes", "memory_limiter", "resource/cluster", "batch"];
        assert.deepEqual(collectorConfigProblems(config, mounts), [
            "exporters.otlp/tempo: type 'otlp' is not one of otlp_grpc, otlp_http",
            "service.pipelines.traces.processors: memory_limiter must come first",
        ]);
    });

    it("reports a queue that is not persistent or whose storage is not started, and retries that give up", () => {
        const memory = good();
        delete memory.exporters["otlp_grpc/tempo"].sending_queue.storage;
        memory.exporters["otlp_grpc/tempo"].retry_on_failure.max_elapsed_time = "300s";
        assert.deepEqual(collectorConfigProblems(memory, mounts), [
            "exporters.otlp_grpc/tempo.sending_queue: not persistent (no storage extension)",
            "exporters.otlp_grpc/tempo.retry_on_failure: gives up (max_elapsed_time must be 0)",
        ]);
        const unstarted = good();
        unstarted.service.extensions = ["health_check"];
        assert.deepEqual(collectorConfigProblems(unstarted, mounts), [
            "extensions.file_storage/queue: defined but not in service.extensions",
            "exporters.otlp_grpc/tempo.sending_queue.storage: 'file_storage/queue' is not a started file_storage extension",
        ]);
    });

    it("reports TLS files off the mounted volumes, a client without its certificate, and a queue on a read-only volume", () => {
        const config = good();
        config.exporters["otlp_grpc/tempo"].tls.ca_file = "/tls/ca.crt";
        delete config.exporters["otlp_grpc/tempo"].tls.key_file;
        const readOnly = mounts.map((m) => ({ ...m, readOnly: true }));
        assert.deepEqual(collectorConfigProblems(config, readOnly), [
            `extensions.file_storage/queue.directory: ${QUEUE_DIR} is on no writable volume`,
            `extensions.file_storage/queue.compaction.directory: ${QUEUE_DIR} is on no writable volume`,
            "exporters.otlp_grpc/tempo.tls.key_file: missing (mTLS needs it)",
            "exporters.otlp_grpc/tempo.tls.ca_file: /tls/ca.crt is on no mounted volume",
        ]);
    });

    it("reports an exporter that skips verification", () => {
        const config = good();
        config.exporters["otlp_grpc/tempo"].tls.insecure_skip_verify = true;
        assert.deepEqual(collectorConfigProblems(config, mounts), ["exporters.otlp_grpc/tempo.tls: not verified TLS"]);
    });
});

describe("traces: Traefik and applications", () => {
    it("outputs a Traefik fragment that sends to the gateway at the configured rate, with JSON access logs", () => {
        const values = traefikValues(sub({ traces: { traefik: { sampleRate: 0.25 } } })) as Values;
        assert.deepEqual(values.tracing.otlp, {
            enabled: true,
            grpc: { enabled: true, endpoint: "otel-gateway.observability.svc:4317", insecure: true },
        });
        assert.equal(values.tracing.sampleRate, 0.25);
        assert.equal(values.tracing.resourceAttributes.cluster, "edge-a");
        assert.equal(values.accessLog.format, "json");
        assert.equal(values.accessLog.fields.defaultMode, "keep", "trace_id and span_id are kept fields");
    });

    it("passes the Traefik chart's JSON schema merged with its defaults, and the schema rejects a misspelt key", () => {
        const schema = chartFile("traefik-41.3.0.schema.json") as Record<string, unknown>;
        const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
        const defaults = chartFile("traefik-41.3.0.json");
        const merged = helmMerge(defaults, traefikValues(sub()));
        assert.ok(validate(merged), JSON.stringify(validate.errors));
        assert.equal(validate(helmMerge(merged, { tracing: { sampleRat: 0.1 } })), false);
    });

    it("points auto-instrumented SDKs at the gateway's OTLP/HTTP port with the configured ratio", () => {
        const spec = instrumentationSpec(sub({ traces: { instrumentation: { enabled: true, sampleRatio: 0.5 } } }));
        assert.deepEqual(spec.exporter, { endpoint: "http://otel-gateway.observability.svc:4318" });
        assert.deepEqual(spec.sampler, { type: "parentbased_traceidratio", argument: "0.5" });
    });

    it("refuses a sample rate outside 0..1, naming the key", () => {
        const result = validateConfig({
            values: {
                "observability:role": "sub",
                "observability:cluster": '{"name":"edge-a"}',
                "observability:mainStack": "acme/observability/main",
                "observability:traces": '{"traefik":{"sampleRate":1.5}}',
            },
            isSecret: () => false,
        });
        assert.ok("problems" in result);
        assert.equal(result.problems.length, 1);
        assert.match(
            result.problems[0] ?? "",
            /^observability:traces\.traefik\.sampleRate: expected a number from 0 to 1/,
        );
    });
});

describe("traces: the large main stack as declared", () => {
    let records: ResourceRecord[];
    let outputs: Record<string, unknown>;
    before(async () => {
        const result = await renderStack({
            projectDir,
            stack: "main-large",
            stackFile: fixture("Pulumi.main-large.yaml"),
        });
        records = result.records;
        outputs = result.engine.stackOutputs();
    });
    const byName = (name: string): ResourceRecord => {
        const record = records.find((r) => r.name === name);
        assert.ok(record, `no resource named ${name}`);
        return record;
    };

    it("deploys tempo-distributed, whose distributors the trace ingest dials by their own Service", () => {
        const chart = byName("core-traces-tempo").inputs;
        assert.deepEqual([chart.chart, chart.version], ["tempo-distributed", "2.26.2"]);
        assert.equal(
            records.find((r) => r.name === "core-traces-tempo-ingest"),
            undefined,
            "no Service of our own before the distributors",
        );
        const conf = byName("core-trace-ingest-config").inputs as Values;
        assert.match(conf.data["nginx.conf"], /grpc_pass grpcs:\/\/tempo-distributor\.observability\.svc:4317;/);
        assert.match(conf.data["nginx.conf"], /grpc_ssl_name tempo-distributor\.observability\.svc;/);
    });

    it("routes traces.<domain> by SNI to the trace ingest, TLS passed through to it", () => {
        const route = records.find(
            (r) =>
                r.type === "kubernetes:traefik.io/v1alpha1:IngressRouteTCP" &&
                (r.inputs.metadata as Values).name === "traces-ingest",
        );
        assert.deepEqual((route?.inputs.spec as Values).routes, [
            { match: "HostSNI(`traces.obs.example.org`)", services: [{ name: "traces-ingest", port: 4317 }] },
        ]);
        assert.equal((route?.inputs.spec as Values).tls.passthrough, true);
    });

    it("creates the Instrumentation when asked, and outputs the reference pods use", () => {
        const instrumentation = records.find((r) => r.name === "core-traces-instrumentation");
        assert.equal((instrumentation?.inputs as Values | undefined)?.kind, "Instrumentation");
        assert.deepEqual((instrumentation?.inputs as Values).spec.sampler, {
            type: "parentbased_traceidratio",
            argument: "0.5",
        });
        assert.equal(outputs.instrumentation, "observability/observability");
        assert.equal((outputs.traefikValues as Values).tracing.sampleRate, 0.25);
    });

    it("gives the gateway the configured queue volume and three replicas", () => {
        const values = byName("core-traces-gateway").inputs.values as Values;
        assert.equal(values.replicaCount, 3);
        assert.equal(values.statefulset.volumeClaimTemplates[0].spec.resources.requests.storage, "8Gi");
    });
});

describe("traces: the example stacks as declared", () => {
    it("creates no Instrumentation when it is off (the default)", async () => {
        for (const stack of ["main", "sub"]) {
            const result = await renderStack({ projectDir, stack });
            assert.equal(result.records.filter((r) => r.name.endsWith("-instrumentation")).length, 0, stack);
            assert.equal(result.engine.stackOutputs().instrumentation, undefined);
            assert.ok(
                result.records.some((r) => r.name.endsWith("-traces-gateway")),
                `${stack}: no gateway`,
            );
        }
    });
});
