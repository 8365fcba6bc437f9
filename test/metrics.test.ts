import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { parse } from "yaml";

import { budget } from "../components/core/resources";
import { remoteWriteSpec } from "../components/metrics/remote-write";
import {
    bucketColocation,
    compactorRetentionArgs,
    kpsValues,
    objstoreConfig,
    retentionSize,
    talosMachineConfigPatch,
    thanosValues,
} from "../components/metrics/values";
import { ingestEndpoints } from "../components/network/endpoints";
import type { MainConfig, SubConfig } from "../config";
import { budgetSection } from "../render/budget";
import type { ResourceRecord } from "../render/mock-engine";
import { renderStack, type RenderResult } from "../render/render";
import { fixture, projectDir, stackConfig, TEST_S3_STORAGE, testMain } from "./helpers";

const main = (extra: Record<string, unknown> = {}) =>
    stackConfig({
        role: "main",
        cluster: { name: "hub" },
        exposure: { domain: "obs.acme.test", kind: "traefik-passthrough" },
        storage: { kind: "filesystem" },
        talos: { controlPlaneNodes: ["10.0.0.10", "10.0.0.11"] },
        ...extra,
    }) as MainConfig;

const sub = (extra: Record<string, unknown> = {}) =>
    stackConfig({
        role: "sub",
        cluster: { name: "edge-a" },
        mainStack: "acme/observability/main",
        ...extra,
    }) as SubConfig;

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- deep reads of chart values

function subValues(config: SubConfig = sub()): Values {
    const endpoints = ingestEndpoints({ domain: "obs.acme.test", kind: "traefik-passthrough" });
    return kpsValues({
        config,
        agentsNamespace: "observability-agents",
        ship: {
            remoteWrite: remoteWriteSpec(endpoints.metrics, "cluster-client-tls"),
            alerts: endpoints.alerts,
            identitySecret: "cluster-client-tls",
        },
    });
}

/** Every key of an object tree, at any depth. */
function keysOf(value: unknown): string[] {
    if (Array.isArray(value)) return value.flatMap(keysOf);
    if (value === null || typeof value !== "object") return [];
    return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
}

describe("metrics: a sub cluster's Prometheus", () => {
    const values = subValues();
    const spec = values.prometheus.prometheusSpec;

    it("labels every series with the cluster, and keeps an application's own cluster label as exported_cluster", () => {
        assert.deepEqual(spec.externalLabels, { cluster: "edge-a" });
        assert.deepEqual(spec.scrapeClasses, [
            {
                name: "observability",
                default: true,
                metricRelabelings: [
                    { sourceLabels: ["cluster"], regex: "(.+)", targetLabel: "exported_cluster", action: "replace" },
                    { regex: "cluster", action: "labeldrop" },
                ],
            },
        ]);
    });

    it("remote-writes to main's metrics endpoint with the cluster certificate, by Secret name, in CRD camelCase", () => {
        assert.deepEqual(spec.remoteWrite[0].tlsConfig, {
            ca: { secret: { name: "cluster-client-tls", key: "ca.crt" } },
            cert: { secret: { name: "cluster-client-tls", key: "tls.crt" } },
            keySecret: { name: "cluster-client-tls", key: "tls.key" },
            serverName: "metrics.obs.acme.test",
            minVersion: "TLS13",
        });
        assert.equal(spec.remoteWrite[0].url, "https://metrics.obs.acme.test:443/api/v1/receive");
        // The CRD prunes unknown fields silently: a snake_case key would turn TLS off (P3).
        assert.deepEqual(
            keysOf(spec.remoteWrite).filter((k) => k.includes("_")),
            [],
        );
    });

    it("keeps retrying through a link loss, with backoff capped so it catches up soon after", () => {
        const queue = spec.remoteWrite[0].queueConfig;
        assert.equal(queue.maxBackoff, "10s");
        assert.equal(queue.retryOnRateLimit, true);
        assert.ok(queue.maxShards >= 10);
    });

    it("sends alerts to main's Alertmanager over mTLS with files from the mounted identity Secret", () => {
        assert.deepEqual(spec.secrets, ["cluster-client-tls"]);
        assert.deepEqual(spec.additionalAlertManagerConfigs, [
            {
                scheme: "https",
                api_version: "v2",
                static_configs: [{ targets: ["alerts.obs.acme.test:443"] }],
                tls_config: {
                    ca_file: "/etc/prometheus/secrets/cluster-client-tls/ca.crt",
                    cert_file: "/etc/prometheus/secrets/cluster-client-tls/tls.crt",
                    key_file: "/etc/prometheus/secrets/cluster-client-tls/tls.key",
                    server_name: "alerts.obs.acme.test",
                    min_version: "TLS13",
                },
            },
        ]);
        assert.deepEqual(values.alertmanager, { enabled: false });
    });

    it("runs in server mode, evaluating its rules locally", () => {
        assert.equal(values.prometheus.agentMode, undefined);
        assert.equal(values.defaultRules.create, true);
    });

    it("scrapes kubelet resource metrics and cAdvisor, with node-exporter in the privileged namespace", () => {
        assert.deepEqual(values.kubelet.serviceMonitor, {
            resource: true,
            resourcePath: "/metrics/resource",
            cAdvisor: true,
        });
        assert.equal(values["prometheus-node-exporter"].namespaceOverride, "observability-agents");
    });

    it("keeps Grafana out of this chart", () => {
        assert.equal(values.grafana.enabled, false);
    });
});

describe("metrics: Talos control plane", () => {
    it("scrapes etcd on the configured control-plane nodes and keeps its alerts", () => {
        const values = kpsValues({ config: main(), agentsNamespace: "x-agents" }) as Values;
        assert.deepEqual(values.kubeEtcd, { enabled: true, endpoints: ["10.0.0.10", "10.0.0.11"] });
        assert.equal(values.defaultRules.rules.etcd, true);
        assert.equal(values.kubeControllerManager.enabled, true);
        assert.equal(values.kubeScheduler.enabled, true);
    });

    it("turns etcd scraping and alerts off without control-plane nodes, and kube-proxy's without kube-proxy", () => {
        const values = subValues(sub({ talos: { kubeProxy: false } }));
        assert.deepEqual(values.kubeEtcd, { enabled: false, endpoints: [] });
        assert.deepEqual(values.defaultRules.rules, { etcd: false, kubeProxy: false });
        assert.deepEqual(values.kubeProxy, { enabled: false });
    });

    it("writes the machine-config patch that opens the control plane's metrics", () => {
        assert.deepEqual(parse(talosMachineConfigPatch({ controlPlaneNodes: [], kubeProxy: true })), {
            cluster: {
                controllerManager: { extraArgs: { "bind-address": "0.0.0.0" } },
                scheduler: { extraArgs: { "bind-address": "0.0.0.0" } },
                etcd: { extraArgs: { "listen-metrics-urls": "http://0.0.0.0:2381" } },
                proxy: { extraArgs: { "metrics-bind-address": "0.0.0.0:10249" } },
            },
        });
        const withoutProxy = parse(talosMachineConfigPatch({ controlPlaneNodes: [], kubeProxy: false })) as Values;
        assert.equal(withoutProxy.cluster.proxy, undefined);
    });
});

describe("metrics: Thanos on main", () => {
    const values = thanosValues({
        config: main(),
        receiveTls: { secretName: "thanos-receive-tls", revision: "abc123" },
        caRevision: "ca-1",
    }) as Values;
    const router = values.receive.router;
    const ingestor = values.receive.ingestor;
    const storeServer = [
        "--grpc-server-tls-cert=/etc/observability/store-tls/tls.crt",
        "--grpc-server-tls-key=/etc/observability/store-tls/tls.key",
        "--grpc-server-tls-client-ca=/etc/observability/store-tls/ca.crt",
        "--grpc-server-tls-min-version=1.3",
    ];
    const storeMount = { name: "store-tls", mountPath: "/etc/observability/store-tls", readOnly: true };
    const storeVolume = { name: "store-tls", secret: { secretName: "thanos-store-tls" } };

    it("verifies client certificates on the remote-write port and takes the tenant from their CN", () => {
        assert.deepEqual(router.extraArgs.slice(0, 5), [
            "--remote-write.server-tls-cert=/etc/observability/tls/tls.crt",
            "--remote-write.server-tls-key=/etc/observability/tls/tls.key",
            "--remote-write.server-tls-client-ca=/etc/observability/tls/ca.crt",
            "--remote-write.server-tls-min-version=1.3",
            "--receive.tenant-certificate-field=commonName",
        ]);
        assert.deepEqual(router.extraVolumes[0], {
            name: "remote-write-tls",
            secret: { secretName: "thanos-receive-tls" },
        });
        assert.deepEqual(router.extraVolumeMounts[0], {
            name: "remote-write-tls",
            mountPath: "/etc/observability/tls",
            readOnly: true,
        });
    });

    it("forwards writes to the ingestors over mTLS, verifying the StoreAPI name", () => {
        for (const arg of [
            "--remote-write.client-tls-secure",
            "--remote-write.client-tls-cert=/etc/observability/store-client-tls/tls.crt",
            "--remote-write.client-tls-key=/etc/observability/store-client-tls/tls.key",
            "--remote-write.client-tls-ca=/etc/observability/store-client-tls/ca.crt",
            "--remote-write.client-server-name=thanos-store.observability.svc",
        ]) {
            assert.ok(router.extraArgs.includes(arg), arg);
        }
        assert.deepEqual(router.extraVolumes[1], {
            name: "store-client-tls",
            secret: { secretName: "thanos-router-client-tls" },
        });
    });

    it("requires client certificates on every gRPC server: query, store gateway, ingestors and the router", () => {
        const servers = { query: values.query, storeGateway: values.storeGateway, ingestor, router };
        for (const [name, brick] of Object.entries(servers)) {
            for (const arg of storeServer) assert.ok(brick.extraArgs.includes(arg), `${name}: ${arg}`);
            assert.ok(
                brick.extraVolumes.some((v: unknown) => JSON.stringify(v) === JSON.stringify(storeVolume)),
                name,
            );
            assert.ok(
                brick.extraVolumeMounts.some((m: unknown) => JSON.stringify(m) === JSON.stringify(storeMount)),
                name,
            );
        }
    });

    it("takes no plain writes at the ingestors and keeps Cap'n Proto on loopback", () => {
        for (const arg of [
            "--remote-write.server-tls-cert=/etc/observability/store-tls/tls.crt",
            "--remote-write.server-tls-client-ca=/etc/observability/store-tls/ca.crt",
            "--receive.capnproto-address=127.0.0.1:19391",
        ]) {
            assert.ok(ingestor.extraArgs.includes(arg), arg);
        }
        assert.ok(router.extraArgs.includes("--receive.capnproto-address=127.0.0.1:19391"));
    });

    it("dials every store with Query's client certificate, verifying the shared StoreAPI name", () => {
        assert.deepEqual(values.query.extraArgs, [
            "--grpc-client-tls-secure",
            "--grpc-client-tls-cert=/etc/observability/store-client-tls/tls.crt",
            "--grpc-client-tls-key=/etc/observability/store-client-tls/tls.key",
            "--grpc-client-tls-ca=/etc/observability/store-client-tls/ca.crt",
            "--grpc-client-server-name=thanos-store.observability.svc",
            ...storeServer,
        ]);
        assert.deepEqual(values.query.extraVolumes, [
            { name: "store-client-tls", secret: { secretName: "thanos-query-client-tls" } },
            storeVolume,
        ]);
    });

    it("rolls the bricks that read a client CA when it changes", () => {
        assert.deepEqual(router.podAnnotations, { "observability/certificate-revision": "abc123" });
        for (const brick of [values.query, values.storeGateway, ingestor]) {
            assert.deepEqual(brick.podAnnotations, { "observability/certificate-revision": "ca-1" });
        }
    });

    it("reads object storage from a Secret by name and queries the sidecar and the stack's Ruler", () => {
        assert.deepEqual(values.objstoreConfig, { create: false, name: "thanos-objstore", key: "objstore.yml" });
        assert.deepEqual(values.additionalEndpoints, [
            "dnssrv+_grpc._tcp.kps-thanos-discovery.observability.svc.cluster.local",
            "dnssrv+_grpc._tcp.thanos-rule-headless.observability.svc.cluster.local",
        ]);
        assert.deepEqual(values.additionalReplicaLabels, ["prometheus_replica", "receive_replica", "rule_replica"]);
    });

    it("runs Query, Store Gateway, Compactor and Receive; the Ruler is the stack's own", () => {
        for (const brick of ["compact", "receive"]) assert.equal(values[brick].enabled, true, brick);
        assert.equal(values.rule.enabled, false);
        assert.equal(values.query.enabled, undefined, "query is on by default");
        assert.equal(values.storeGateway.enabled, undefined, "the store gateway is on by default");
    });

    it("never keeps the chart's 'standard' storage class", () => {
        for (const brick of [values.compact, values.storeGateway, values.receive.ingestor]) {
            assert.equal(brick.persistence.storageClass, null);
        }
    });
});

describe("metrics: the retention contract", () => {
    const contract = {
        retention: { metrics: { raw: "14d", fiveMinutes: "90d", oneHour: "2y", local: "3d" } },
        metrics: { storageSize: "40Gi" },
    };
    const config = main(contract);

    it("gives Prometheus its local retention and a size limit at 85% of its volume", () => {
        const spec = (kpsValues({ config, agentsNamespace: "a" }) as Values).prometheus.prometheusSpec;
        assert.equal(spec.retention, "3d");
        assert.equal(spec.retentionSize, "34816MiB");
        assert.equal(retentionSize("20Gi"), "17408MiB");
        assert.equal(spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage, "40Gi");
    });

    it("gives the Thanos compactor each resolution's retention", () => {
        const values = thanosValues({
            config,
            receiveTls: { secretName: "s", revision: "r" },
            caRevision: "c",
        }) as Values;
        assert.deepEqual(values.compact.extraArgs, [
            "--retention.resolution-raw=14d",
            "--retention.resolution-5m=90d",
            "--retention.resolution-1h=2y",
        ]);
        assert.deepEqual(compactorRetentionArgs(config.retention.metrics), values.compact.extraArgs);
    });

    it("gives Thanos Receive the local retention for its TSDB", () => {
        const values = thanosValues({
            config,
            receiveTls: { secretName: "s", revision: "r" },
            caRevision: "c",
        }) as Values;
        assert.equal(values.receive.retention, "72h");
    });

    it("gives a sub cluster's Prometheus its own local retention", () => {
        const spec = subValues(sub({ retention: { metrics: { local: "7d" } } })).prometheus.prometheusSpec;
        assert.equal(spec.retention, "7d");
    });
});

describe("metrics: object storage configuration", () => {
    it("points every Thanos brick at the shared volume for filesystem storage", () => {
        assert.deepEqual(parse(objstoreConfig({ kind: "filesystem", size: "50Gi" })), {
            type: "FILESYSTEM",
            config: { directory: "/var/thanos/objstore" },
        });
    });

    it("writes an S3 configuration with the endpoint's host and the metrics bucket", () => {
        const storage = {
            kind: "s3" as const,
            endpoint: "http://minio.storage.svc:9000",
            region: "eu-west-1",
            forcePathStyle: true,
            buckets: { metrics: "m-bucket", logs: "l-bucket", traces: "t-bucket" },
        };
        assert.deepEqual(parse(objstoreConfig(storage, { accessKeyId: "id", secretAccessKey: "key" })), {
            type: "S3",
            config: {
                bucket: "m-bucket",
                endpoint: "minio.storage.svc:9000",
                region: "eu-west-1",
                insecure: true,
                bucket_lookup_type: "path",
                access_key: "id",
                secret_key: "key",
            },
        });
    });
});

describe("metrics: resource budget of the small profile", () => {
    it("keeps a sub cluster within 1 vCPU and 1.5 GiB, plus 150m and 256 MiB per node", () => {
        const b = budget("sub", "small");
        assert.ok(b.cluster.millicores <= 1000, `${b.cluster.millicores}m`);
        assert.ok(b.cluster.mebibytes <= 1536, `${b.cluster.mebibytes}Mi`);
        assert.ok(b.perNode.millicores <= 150 && b.perNode.mebibytes <= 256, JSON.stringify(b.perNode));
    });

    it("leaves the reporter out of main's budget when the weekly report is off", () => {
        const on = budget("main", "small");
        const off = budget("main", "small", { report: false });
        assert.equal(on.cluster.millicores - off.cluster.millicores, 50);
        assert.equal(on.cluster.mebibytes - off.cluster.mebibytes, 128);
        assert.deepEqual(budget("sub", "small", { report: false }), budget("sub", "small"));
    });

    it("keeps main within 3 vCPU and 6 GiB", () => {
        const b = budget("main", "small");
        assert.ok(b.cluster.millicores + b.perNode.millicores <= 3000, `${b.cluster.millicores}m`);
        assert.ok(b.cluster.mebibytes + b.perNode.mebibytes <= 6144, `${b.cluster.mebibytes}Mi`);
    });
});

describe("metrics: the main stack as declared", () => {
    let result: RenderResult;
    const chart = (name: string): ResourceRecord => {
        const record = result.records.find((r) => r.name === name);
        assert.ok(record, `no ${name}`);
        return record;
    };

    before(async () => {
        result = await renderStack({ projectDir, stack: "main", preview: true });
    });

    it("pins both charts, with their repositories, in the stack's namespace", () => {
        const kps = chart("main-metrics-kps").inputs;
        assert.deepEqual(
            [kps.chart, kps.version, kps.name, kps.namespace],
            ["kube-prometheus-stack", "88.5.3", "kps", "observability"],
        );
        assert.deepEqual(kps.repositoryOpts, { repo: "https://prometheus-community.github.io/helm-charts" });
        const thanos = chart("main-metrics-thanos").inputs;
        assert.deepEqual([thanos.chart, thanos.version, thanos.name], ["thanos", "1.24.1", "thanos"]);
    });

    it("exposes the remote-write port on a node port, the example's exposure, targeting the router's pods", () => {
        const service = result.records.find((r) => r.name === "main-metrics-metrics-ingest");
        assert.deepEqual(service?.inputs.spec, {
            type: "NodePort",
            selector: {
                "app.kubernetes.io/name": "thanos",
                "app.kubernetes.io/instance": "thanos",
                "app.kubernetes.io/component": "receive-router",
            },
            ports: [{ name: "metrics", port: 19291, targetPort: 19291, protocol: "TCP", nodePort: 30291 }],
        });
        assert.equal(
            result.records.some((r) => r.type === "kubernetes:traefik.io/v1alpha1:IngressRouteTCP"),
            false,
            "no Traefik route: the example needs no Traefik",
        );
    });

    it("keeps the chart values known at preview", () => {
        assert.deepEqual(result.engine.problems(), []);
    });

    it("shares one ReadWriteOnce volume between the Thanos bricks, which it schedules on one node", () => {
        const claim = result.records.find((r) => r.type === "kubernetes:core/v1:PersistentVolumeClaim");
        assert.deepEqual((claim?.inputs.spec as Values).accessModes, ["ReadWriteOnce"]);
        const colocated = {
            podAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                    {
                        labelSelector: { matchLabels: { "observability/bucket-volume": "thanos-objstore" } },
                        topologyKey: "kubernetes.io/hostname",
                    },
                ],
            },
        };
        const thanos = chart("main-metrics-thanos").inputs.values as Values;
        for (const brick of [thanos.storeGateway, thanos.compact, thanos.receive.ingestor]) {
            assert.deepEqual(brick.affinity, colocated);
            assert.deepEqual(brick.podLabels, { "observability/bucket-volume": "thanos-objstore" });
        }
        const ruler = result.records.find(
            (r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.name === "main-metrics-thanos-rule",
        );
        const rulerPod = (ruler?.inputs.spec as Values).template;
        assert.deepEqual(rulerPod.spec.affinity, colocated);
        assert.equal(rulerPod.metadata.labels["observability/bucket-volume"], "thanos-objstore");
        const prometheus = (chart("main-metrics-kps").inputs.values as Values).prometheus.prometheusSpec;
        assert.deepEqual(prometheus.affinity, colocated);
        assert.deepEqual(prometheus.podMetadata.labels, { "observability/bucket-volume": "thanos-objstore" });
    });
});

describe("metrics: main stacks exposed through Traefik and through LoadBalancers", () => {
    it("routes the remote-write port through a Traefik passthrough route by SNI, and spreads a ReadWriteMany bucket", async () => {
        const result = await renderStack({
            projectDir,
            stack: "main-large",
            stackFile: fixture("Pulumi.main-large.yaml"),
            preview: true,
        });
        const route = result.records.find((r) => r.name === "core-metrics-metrics-ingest");
        assert.equal(route?.type, "kubernetes:traefik.io/v1alpha1:IngressRouteTCP");
        assert.deepEqual(route?.inputs.spec, {
            entryPoints: ["websecure"],
            routes: [
                {
                    match: "HostSNI(`metrics.obs.example.org`)",
                    services: [{ name: "thanos-receive-router", port: 19291 }],
                },
            ],
            tls: { passthrough: true },
        });
        const rwx = testMain({ storage: { kind: "filesystem", accessMode: "ReadWriteMany" } });
        assert.equal(bucketColocation(rwx), undefined, "ReadWriteMany: no co-location");
        assert.ok(bucketColocation(testMain()), "ReadWriteOnce, the default: co-located");
        assert.equal(bucketColocation(testMain({ storage: TEST_S3_STORAGE })), undefined, "s3: no co-location");
    });

    it("exposes only the remote-write port of the router pods", async () => {
        const result = await renderStack({ projectDir, stack: "main-s3", stackFile: fixture("Pulumi.main-s3.yaml") });
        const service = result.records.find((r) => r.name === "hub-metrics-metrics-ingest");
        assert.deepEqual(service?.inputs.spec, {
            type: "LoadBalancer",
            selector: {
                "app.kubernetes.io/name": "thanos",
                "app.kubernetes.io/instance": "thanos",
                "app.kubernetes.io/component": "receive-router",
            },
            ports: [{ name: "metrics", port: 19291, targetPort: 19291, protocol: "TCP" }],
        });
    });

    it("exposes the log gateway's port, targeting the port its nginx listens on", async () => {
        const result = await renderStack({ projectDir, stack: "main-s3", stackFile: fixture("Pulumi.main-s3.yaml") });
        const service = result.records.find((r) => r.name === "hub-logs-logs-ingest");
        assert.deepEqual((service?.inputs.spec as Values).ports, [
            { name: "logs", port: 8443, targetPort: 8080, protocol: "TCP" },
        ]);
        assert.equal((service?.inputs.spec as Values).selector["app.kubernetes.io/component"], "gateway");
    });
});

describe("metrics: the budget in docs/benchmarks.md", () => {
    it("is the one the profile table gives (regenerate with npm run bench)", () => {
        const doc = fs.readFileSync(path.join(projectDir, "docs", "benchmarks.md"), "utf8");
        assert.ok(doc.includes(budgetSection()), "docs/benchmarks.md: resource section is stale; run npm run bench");
    });
});
