import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { parse, stringify } from "yaml";

import { rulerAlertmanagersConfig, rulerQueryConfig } from "../components/metrics/thanos-ruler";
import {
    alertIngestSpec,
    frontNginxConf,
    OTLP_TRACE_EXPORT,
    queryGatewaySpec,
    traceIngestSpec,
    type FrontSpec,
} from "../components/network/mtls-front";
import { certificateSpecs, type CertificateSpec, type ProfileName } from "../components/pki/profiles";
import type { ResourceRecord } from "../render/mock-engine";
import { renderStack, type RenderResult } from "../render/render";
import { startAlertmanager } from "./harness/alertmanager";
import { describeOutcome, plainRequest, probeOk, request, REQUEST_TIMEOUT_MS, type Outcome } from "./harness/https";
import { locateNginx } from "./harness/nginx";
import { freePort, HOST, locateBinaries, startServer, stopServer, waitReady, type Server } from "./harness/processes";
import { issueCa, issueLeaf, writeTlsSecret, type Authority, type Issued } from "./harness/x509";
import { exampleMainConfig, projectDir, tempDir, TEST_S3_STORAGE, testMain } from "./helpers";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- deep reads of resource inputs

const SUB_CLUSTER = "sub-eu-1";
const ALERTS = "/api/v2/alerts";

/**
 * A real nginx on the front's generated configuration, each listener on a free port of its own
 * and forwarding to the given upstreams in order; checked by `nginx -t` first.
 */
async function startFront(
    binary: string,
    work: string,
    tlsDir: string,
    spec: FrontSpec,
    upstreams: readonly string[],
    grpc?: { upstreamTlsDir: string; upstreamServerName: string },
): Promise<Server & { ports: number[] }> {
    const ports = await Promise.all(spec.listeners.map(() => freePort()));
    const probePort = await freePort();
    const conf = frontNginxConf({
        listeners: spec.listeners.map((l, i) => ({
            ...l,
            listen: `${HOST}:${ports[i] ?? 0}`,
            upstream: upstreams[i] ?? "",
            ...(grpc !== undefined ? { upstreamServerName: grpc.upstreamServerName } : {}),
        })),
        probeListen: `${HOST}:${probePort}`,
        tlsDir,
        ...(grpc !== undefined ? { upstreamTlsDir: grpc.upstreamTlsDir } : {}),
        tempDir: work,
    });
    fs.writeFileSync(path.join(work, "nginx.conf"), conf);
    const args = ["-p", work, "-c", path.join(work, "nginx.conf"), "-e", path.join(work, "error.log")];
    const check = spawnSync(binary, ["-t", ...args], { encoding: "utf8" });
    assert.equal(check.status, 0, `nginx -t refused the generated configuration:\n${check.stderr}`);
    const server = startServer("nginx", binary, [...args, "-g", "daemon off; master_process off;"], ports[0] ?? 0);
    await waitReady(server, () => probeOk(plainRequest(probePort, { path: "/healthz" })));
    return Object.assign(server, { ports });
}

/**
 * The fleet CA, a front's server certificate as a mounted Secret, a cluster and a service
 * identity, and a way to issue any other certificate of the fleet's specs.
 */
async function frontIdentities(work: string, server: ProfileName) {
    const specs = certificateSpecs(exampleMainConfig(SUB_CLUSTER));
    const spec = (predicate: (s: CertificateSpec) => boolean): CertificateSpec => {
        const found = specs.find(predicate);
        assert.ok(found);
        return found;
    };
    const ca = await issueCa(spec((s) => s.kind === "ca"));
    const issued = await issueLeaf(
        spec((s) => s.profile === server),
        ca,
    );
    /** The certificate of a profile (a cluster's, for `cluster-<name>`), from the fleet CA. */
    const issue = (id: string, validity?: { notBefore: Date; notAfter: Date }): Promise<Issued> =>
        issueLeaf(
            spec((s) => s.id === id),
            ca,
            validity,
        );
    return {
        ca,
        spec,
        issue,
        tlsDir: writeTlsSecret(path.join(work, "tls"), issued, ca),
        cluster: await issue(`cluster-${SUB_CLUSTER}`),
        grafana: await issue("grafana"),
    };
}

describe("fronts: as declared on main", () => {
    let result: RenderResult;
    const byName = (name: string): ResourceRecord => {
        const record = result.records.find((r) => r.name === name && r.custom);
        assert.ok(record, `no ${name}`);
        return record;
    };

    before(async () => {
        result = await renderStack({ projectDir, stack: "main", preview: true });
    });

    it("runs nginx unprivileged, read-only, without capabilities, within the profile's resources", () => {
        const spec = (byName("main-alert-ingest").inputs as Values).spec.template.spec;
        assert.deepEqual(spec.securityContext, {
            runAsNonRoot: true,
            runAsUser: 101,
            runAsGroup: 101,
            seccompProfile: { type: "RuntimeDefault" },
        });
        const container = spec.containers[0];
        assert.deepEqual(container.securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        });
        assert.deepEqual(container.resources, {
            requests: { cpu: "20m", memory: "32Mi" },
            limits: { cpu: "100m", memory: "64Mi" },
        });
        assert.deepEqual(spec.volumes[1], { name: "tls", secret: { secretName: "alertmanager-tls" } });
        assert.deepEqual(container.readinessProbe, { httpGet: { path: "/healthz", port: "probe" } });
    });

    it("serves the alerts endpoint sub clusters dial, on the example's node port", () => {
        const exposure = byName("main-alert-ingest-exposure");
        assert.equal(exposure.type, "kubernetes:core/v1:Service");
        assert.deepEqual((exposure.inputs.spec as Values).ports, [
            { name: "alerts", port: 9443, targetPort: 9443, protocol: "TCP", nodePort: 30943 },
        ]);
        assert.deepEqual((exposure.inputs.spec as Values).selector, {
            "app.kubernetes.io/name": "alertmanager-ingest",
        });
        assert.deepEqual((byName("main-alert-ingest-service").inputs.spec as Values).ports, [
            { name: "alerts", port: 9443, targetPort: 9443 },
        ]);
    });

    it("forwards to main's Alertmanager in-cluster, and rolls on a new certificate", () => {
        const conf = (byName("main-alert-ingest-config").inputs as Values).data["nginx.conf"] as string;
        assert.match(conf, /proxy_pass http:\/\/kps-alertmanager\.observability\.svc:9093;/);
        const annotations = (byName("main-alert-ingest").inputs as Values).spec.template.metadata.annotations;
        assert.match(annotations["observability/certificate-revision"], /^[0-9a-f]{16}$/);
        assert.match(annotations["observability/config-revision"], /^[0-9a-f]{16}$/);
    });

    it("serves Thanos Query's and Tempo's ports in-cluster only, on its own certificate", () => {
        assert.deepEqual((byName("main-query-gateway-service").inputs.spec as Values).ports, [
            { name: "metrics", port: 10902, targetPort: 10902 },
            { name: "traces", port: 3200, targetPort: 3200 },
        ]);
        assert.ok(!result.records.some((r) => r.name === "main-query-gateway-exposure"), "the gateway is exposed");
        const spec = (byName("main-query-gateway").inputs as Values).spec.template.spec;
        assert.deepEqual(spec.volumes[1], { name: "tls", secret: { secretName: "query-gateway-tls" } });
        const conf = (byName("main-query-gateway-config").inputs as Values).data["nginx.conf"] as string;
        assert.match(conf, /proxy_pass http:\/\/thanos-query\.observability\.svc:10902;/);
        assert.match(conf, /proxy_pass http:\/\/tempo\.observability\.svc:3200;/);
    });

    it("reads traces from the query frontend when Tempo is distributed", () => {
        const large = queryGatewaySpec(testMain({ profile: "large", storage: TEST_S3_STORAGE }));
        assert.equal(large.listeners[1]?.upstream, "tempo-query-frontend.observability.svc:3200");
    });

    it("refuses a listener name or an allow rule nginx would misread", () => {
        const listener = { name: "metrics", upstream: "127.0.0.1:1", allow: ["^service GET /$"], listen: "1" };
        const base = { probeListen: "2", tlsDir: "/tls", tempDir: "/tmp" };
        assert.throws(
            () => frontNginxConf({ ...base, listeners: [{ ...listener, name: "bad-name" }] }),
            /front listener name "bad-name" is not \[a-z0-9_\]/,
        );
        assert.throws(
            () => frontNginxConf({ ...base, listeners: [{ ...listener, allow: ['^service GET /" 1; default 1;'] }] }),
            /contains a double quote/,
        );
        assert.match(frontNginxConf({ ...base, listeners: [listener] }), /\$observability_allowed_metrics/);
    });
});

describe("alert ingest: a real nginx in front of a real Alertmanager", () => {
    const work = tempDir("alert-ingest");
    const servername = "alerts.obs.example.com";
    let ca: Authority;
    let cluster: Issued;
    let grafana: Issued;
    let main: Issued;
    let nginx: Server;
    let alertmanager: Server;

    const send = (identity: Issued | undefined, method: string, body?: string): Promise<Outcome> =>
        request({ port: nginx.port, servername, identity }, ca, {
            method,
            path: ALERTS,
            ...(body !== undefined ? { body, headers: { "content-type": "application/json" } } : {}),
        });

    const alertsAtAlertmanager = async (): Promise<Values[]> => {
        const outcome = await plainRequest(alertmanager.port, { path: ALERTS });
        assert.equal(outcome.status, 200, describeOutcome(outcome));
        return JSON.parse(outcome.body ?? "[]") as Values[];
    };

    before(async () => {
        const binaries = locateBinaries(["alertmanager"], "the alert ingest proof runs a real Alertmanager");
        const nginxBinary = locateNginx();
        const ids = await frontIdentities(work, "alertmanager");
        const tlsDir = ids.tlsDir;
        ({ ca, cluster, grafana } = ids);
        main = await ids.issue("cluster-main");

        alertmanager = await startAlertmanager(binaries.alertmanager, work, {
            route: { receiver: "blackhole" },
            receivers: [{ name: "blackhole" }],
        });
        const amPort = alertmanager.port;

        nginx = await startFront(nginxBinary, work, tlsDir, alertIngestSpec("observability"), [`${HOST}:${amPort}`]);
    });

    after(async () => {
        await Promise.all([nginx, alertmanager].filter((s) => s !== undefined).map(stopServer));
    });

    it("delivers a sub cluster's alert to Alertmanager, with the cluster label it carries", async () => {
        const alert = [{ labels: { alertname: "IngestProbe", cluster: SUB_CLUSTER, severity: "info" } }];
        const outcome = await send(cluster, "POST", JSON.stringify(alert));
        assert.equal(outcome.status, 200, describeOutcome(outcome));
        const held = await alertsAtAlertmanager();
        assert.deepEqual(
            held.map((a) => [a.labels.alertname, a.labels.cluster]),
            [["IngestProbe", SUB_CLUSTER]],
        );
    });

    it("delivers the alerts of main's Ruler and Prometheus, on main's own cluster certificate", async () => {
        const ingest = (parse(rulerAlertmanagersConfig(exampleMainConfig(SUB_CLUSTER))) as Values).alertmanagers[0];
        assert.equal(ingest.http_config.tls_config.server_name, "alertmanager-ingest.observability.svc");
        const alert = [{ labels: { alertname: "FleetRuleProbe", cluster: "main", severity: "info" } }];
        const outcome = await request(
            { port: nginx.port, servername: ingest.http_config.tls_config.server_name, identity: main },
            ca,
            {
                method: "POST",
                path: ALERTS,
                body: JSON.stringify(alert),
                headers: { "content-type": "application/json" },
            },
        );
        assert.equal(outcome.status, 200, describeOutcome(outcome));
        assert.ok((await alertsAtAlertmanager()).some((a) => a.labels.alertname === "FleetRuleProbe"));
    });

    it("refuses a client without a certificate before Alertmanager", async () => {
        const before = (await alertsAtAlertmanager()).length;
        const alert = [{ labels: { alertname: "Anonymous", cluster: "forged" } }];
        const outcome = await send(undefined, "POST", JSON.stringify(alert));
        assert.equal(outcome.status, 400, describeOutcome(outcome));
        assert.equal((await alertsAtAlertmanager()).length, before);
    });

    it("refuses Grafana's certificate posting alerts, and lets it read them", async () => {
        const post = await send(grafana, "POST", JSON.stringify([{ labels: { alertname: "FromGrafana" } }]));
        assert.equal(post.status, 403, describeOutcome(post));
        const read = await send(grafana, "GET");
        assert.equal(read.status, 200, describeOutcome(read));
        assert.ok(!(await alertsAtAlertmanager()).some((a) => a.labels.alertname === "FromGrafana"));
    });

    it("refuses a cluster certificate reading or silencing", async () => {
        const read = await send(cluster, "GET");
        assert.equal(read.status, 403, describeOutcome(read));
        const silence = await request({ port: nginx.port, servername, identity: cluster }, ca, {
            method: "POST",
            path: "/api/v2/silences",
            body: "{}",
            headers: { "content-type": "application/json" },
        });
        assert.equal(silence.status, 403, describeOutcome(silence));
    });
});

describe("query gateway: a real nginx before a real Prometheus and a Tempo stand-in", () => {
    const work = tempDir("query-gateway");
    const config = exampleMainConfig(SUB_CLUSTER);
    const servername = "query-gateway.observability.svc";
    const tempoRequests: string[] = [];
    const tempoTenants: (string | string[] | undefined)[] = [];
    let ca: Authority;
    let cluster: Issued;
    let grafana: Issued;
    let ruler: Issued;
    let nginx: Server & { ports: number[] };
    let prometheus: Server;
    let tempo: http.Server;

    const ask = (listener: 0 | 1, identity: Issued | undefined, method: string, target: string, body?: string) =>
        request({ port: nginx.ports[listener] ?? 0, servername, identity }, ca, {
            method,
            path: target,
            ...(body !== undefined ? { body, headers: { "content-type": "application/x-www-form-urlencoded" } } : {}),
        });

    before(async () => {
        const binaries = locateBinaries(["prometheus"], "the query gateway proof runs a real Prometheus");
        const nginxBinary = locateNginx();
        const ids = await frontIdentities(work, "query-gateway");
        const tlsDir = ids.tlsDir;
        ({ ca, cluster, grafana } = ids);
        ruler = await ids.issue("thanos-ruler");

        const promPort = await freePort();
        fs.writeFileSync(path.join(work, "prometheus.yml"), stringify({ global: { scrape_interval: "1m" } }));
        prometheus = startServer(
            "prometheus",
            binaries.prometheus,
            [
                `--config.file=${path.join(work, "prometheus.yml")}`,
                `--storage.tsdb.path=${path.join(work, "prom-data")}`,
                `--web.listen-address=${HOST}:${promPort}`,
            ],
            promPort,
        );
        await waitReady(prometheus, () => probeOk(plainRequest(promPort, { path: "/-/ready" })));

        tempo = http.createServer((req, res) => {
            tempoRequests.push(`${req.method} ${req.url}`);
            tempoTenants.push(req.headers["x-scope-orgid"]);
            res.writeHead(200, { "content-type": "application/json" });
            res.end('{"traces":[]}');
        });
        const tempoPort = await freePort();
        await new Promise<void>((resolve) => tempo.listen(tempoPort, HOST, resolve));

        nginx = await startFront(nginxBinary, work, tlsDir, queryGatewaySpec(config), [
            `${HOST}:${promPort}`,
            `${HOST}:${tempoPort}`,
        ]);
    });

    after(async () => {
        await Promise.all([nginx, prometheus].filter((s) => s !== undefined).map(stopServer));
        await new Promise((resolve) => tempo?.close(resolve));
    });

    it("answers Grafana's PromQL from Prometheus, by GET and by POST", async () => {
        const get = await ask(0, grafana, "GET", "/api/v1/query?query=vector(7)");
        assert.equal(get.status, 200, describeOutcome(get));
        assert.equal((JSON.parse(get.body ?? "{}") as Values).data.result[0].value[1], "7");
        const post = await ask(0, grafana, "POST", "/api/v1/query", "query=vector(8)");
        assert.equal(post.status, 200, describeOutcome(post));
        assert.equal((JSON.parse(post.body ?? "{}") as Values).data.result[0].value[1], "8");
    });

    it("refuses a cluster certificate, no certificate, and Prometheus' admin API", async () => {
        const asCluster = await ask(0, cluster, "GET", "/api/v1/query?query=vector(1)");
        assert.equal(asCluster.status, 403, describeOutcome(asCluster));
        const anonymous = await ask(0, undefined, "GET", "/api/v1/query?query=vector(1)");
        assert.equal(anonymous.status, 400, describeOutcome(anonymous));
        const admin = await ask(0, grafana, "POST", "/api/v1/admin/tsdb/snapshot");
        assert.equal(admin.status, 403, describeOutcome(admin));
        // Control: Prometheus would have answered the admin call itself (404 with the API off).
        const direct = await plainRequest(prometheus.port, { method: "POST", path: "/api/v1/admin/tsdb/snapshot" });
        assert.notEqual(direct.status, 403, describeOutcome(direct));
    });

    it("answers the Ruler's PromQL on its own certificate, under the name its query configuration verifies", async () => {
        const target = (parse(rulerQueryConfig(config)) as Values[])[0];
        assert.equal(target?.http_config.tls_config.server_name, servername);
        assert.equal(target?.scheme, "https");
        const outcome = await request(
            { port: nginx.ports[0] ?? 0, servername: target?.http_config.tls_config.server_name, identity: ruler },
            ca,
            {
                method: "POST",
                path: "/api/v1/query",
                body: "query=vector(3)",
                headers: { "content-type": "application/x-www-form-urlencoded" },
            },
        );
        assert.equal(outcome.status, 200, describeOutcome(outcome));
        assert.equal((JSON.parse(outcome.body ?? "{}") as Values).data.result[0].value[1], "3");
        // The Ruler only reads: the admin API stays closed to it too.
        const admin = await ask(0, ruler, "POST", "/api/v1/admin/tsdb/snapshot");
        assert.equal(admin.status, 403, describeOutcome(admin));
    });

    it("passes Grafana's trace reads to Tempo and nothing from a cluster", async () => {
        const read = await request({ port: nginx.ports[1] ?? 0, servername, identity: grafana }, ca, {
            path: "/api/v2/search/tags?scope=resource",
            headers: { "X-Scope-OrgID": "main|sub-eu-1" },
        });
        assert.equal(read.status, 200, describeOutcome(read));
        assert.deepEqual(tempoTenants, ["main|sub-eu-1"], "Grafana's tenants reach Tempo as it sent them");
        const fromCluster = await ask(1, cluster, "GET", "/api/search");
        assert.equal(fromCluster.status, 403, describeOutcome(fromCluster));
        const write = await ask(1, grafana, "POST", "/api/search", "q=1");
        assert.equal(write.status, 403, describeOutcome(write));
        assert.deepEqual(tempoRequests, ["GET /api/v2/search/tags?scope=resource"]);
    });
});

/** What the Tempo receiver stand-in saw of one call. */
interface ReceivedCall {
    path: string;
    tenant: string | string[] | undefined;
    /** The CN of the client certificate the call came with: the front's. */
    peer: string;
}

/** A gRPC call over HTTP/2 and TLS: the HTTP status and `grpc-status`, or the error. */
interface GrpcOutcome {
    status?: number;
    grpcStatus?: string;
    error?: string;
}

/** An empty gRPC message: uncompressed, zero length. */
const EMPTY_GRPC_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);

function grpcCall(
    port: number,
    servername: string,
    ca: Issued,
    identity: Issued | undefined,
    target: string,
    headers: Record<string, string> = {},
): Promise<GrpcOutcome> {
    return new Promise((resolve) => {
        const session = http2.connect(`https://${HOST}:${port}`, {
            servername,
            ca: ca.cert,
            ...(identity !== undefined ? { cert: identity.cert, key: identity.key } : {}),
        });
        const done = (outcome: GrpcOutcome) => {
            session.close();
            resolve(outcome);
        };
        session.on("error", (error) => done({ error: error.message }));
        const call = session.request({
            ":method": "POST",
            ":path": target,
            "content-type": "application/grpc",
            te: "trailers",
            ...headers,
        });
        const outcome: GrpcOutcome = {};
        call.setTimeout(REQUEST_TIMEOUT_MS, () => call.close(http2.constants.NGHTTP2_CANCEL));
        call.on("response", (h) => {
            outcome.status = Number(h[":status"]);
            if (h["grpc-status"] !== undefined) outcome.grpcStatus = String(h["grpc-status"]);
        });
        call.on("trailers", (t) => {
            if (t["grpc-status"] !== undefined) outcome.grpcStatus = String(t["grpc-status"]);
        });
        call.on("error", (error) => done({ ...outcome, error: error.message }));
        call.on("data", () => undefined);
        call.on("end", () => done(outcome));
        call.end(EMPTY_GRPC_MESSAGE);
    });
}

describe("trace ingest: a real nginx before a Tempo receiver stand-in, over mTLS both ways", () => {
    const work = tempDir("trace-ingest");
    const config = exampleMainConfig(SUB_CLUSTER);
    const servername = "traces.obs.example.com";
    const calls: ReceivedCall[] = [];
    let ca: Authority;
    let cluster: Issued;
    let grafana: Issued;
    let main: Issued;
    const rejected = new Map<string, Issued | undefined>();
    let nginx: Server;
    let misnamed: Server;
    let receiver: http2.Http2SecureServer;

    const send = (identity: Issued | undefined, target = OTLP_TRACE_EXPORT, headers?: Record<string, string>) =>
        grpcCall(nginx.port, servername, ca, identity, target, headers);

    before(async () => {
        const nginxBinary = locateNginx();
        const ids = await frontIdentities(work, "tempo");
        ({ ca, cluster, grafana } = ids);
        main = await ids.issue("cluster-main");
        const clusterSpec = ids.spec((s) => s.cluster === SUB_CLUSTER);
        const now = Date.now();
        rejected.set("no certificate", undefined);
        rejected.set("a foreign CA", await issueLeaf(clusterSpec, await issueCa(ids.spec((s) => s.kind === "ca"))));
        rejected.set(
            "an expired certificate",
            await ids.issue(`cluster-${SUB_CLUSTER}`, {
                notBefore: new Date(now - 48 * 3_600_000),
                notAfter: new Date(now - 3_600_000),
            }),
        );
        rejected.set(
            "no clientAuth usage",
            await issueLeaf({ ...clusterSpec, extendedKeyUsages: ["server_auth"] }, ids.ca),
        );

        // Tempo's receiver as its configuration asks: TLS 1.3, client certificates from the fleet CA.
        const receiverCert = await ids.issue("tempo-receiver");
        receiver = http2.createSecureServer({
            cert: receiverCert.cert,
            key: receiverCert.key,
            ca: ca.cert,
            requestCert: true,
            rejectUnauthorized: true,
            minVersion: "TLSv1.3",
        });
        receiver.on("stream", (stream, headers) => {
            const socket = stream.session?.socket as import("node:tls").TLSSocket | undefined;
            calls.push({
                path: String(headers[":path"]),
                tenant: headers["x-scope-orgid"],
                peer: String(socket?.getPeerCertificate().subject?.CN ?? ""),
            });
            stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
            stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
            stream.end(EMPTY_GRPC_MESSAGE);
        });
        const receiverPort = await freePort();
        await new Promise<void>((resolve) => receiver.listen(receiverPort, HOST, resolve));

        const upstreamTlsDir = writeTlsSecret(path.join(work, "upstream-tls"), await ids.issue("traces-ingest"), ca);
        // Production dials the Service by its name; here by address, verifying the same name.
        const upstream = `${HOST}:${receiverPort}`;
        const receiverName = new URL(`grpc://${traceIngestSpec(config).listeners[0]?.upstream}`).hostname;
        nginx = await startFront(nginxBinary, work, ids.tlsDir, traceIngestSpec(config), [upstream], {
            upstreamTlsDir,
            upstreamServerName: receiverName,
        });
        const misnamedWork = path.join(work, "misnamed");
        fs.mkdirSync(misnamedWork, { recursive: true });
        misnamed = await startFront(nginxBinary, misnamedWork, ids.tlsDir, traceIngestSpec(config), [upstream], {
            upstreamTlsDir,
            upstreamServerName: "tempo.elsewhere.svc",
        });
    });

    after(async () => {
        await Promise.all([nginx, misnamed].filter((s) => s !== undefined).map(stopServer));
        await new Promise((resolve) => receiver?.close(resolve));
    });

    it("dials the receiver of the profile's Tempo Service, verifying the name its certificate carries", () => {
        assert.equal(traceIngestSpec(config).listeners[0]?.upstream, "tempo.observability.svc:4317");
        const large = traceIngestSpec(testMain({ profile: "large", storage: TEST_S3_STORAGE }));
        assert.equal(large.listeners[0]?.upstream, "tempo-distributor.observability.svc:4317");
    });

    it("forwards a sub cluster's spans with its name as the tenant, whatever tenant it sent", async () => {
        calls.length = 0;
        const outcome = await send(cluster, OTLP_TRACE_EXPORT, { "x-scope-orgid": "main" });
        assert.deepEqual(outcome, { status: 200, grpcStatus: "0" });
        assert.deepEqual(calls, [
            { path: OTLP_TRACE_EXPORT, tenant: SUB_CLUSTER, peer: "traces-ingest.observability" },
        ]);
    });

    it("gives main's own spans main's tenant", async () => {
        calls.length = 0;
        const outcome = await send(main);
        assert.deepEqual(outcome, { status: 200, grpcStatus: "0" });
        assert.deepEqual(
            calls.map((c) => c.tenant),
            ["main"],
        );
    });

    for (const reason of ["no certificate", "a foreign CA", "an expired certificate", "no clientAuth usage"]) {
        it(`refuses a client with ${reason} before Tempo`, async () => {
            calls.length = 0;
            const outcome = await send(rejected.get(reason));
            // nginx answers 400 over HTTP/2 once the handshake failed verification.
            assert.equal(outcome.status, 400, JSON.stringify(outcome));
            assert.deepEqual(calls, []);
        });
    }

    it("refuses a service certificate and any other gRPC method", async () => {
        calls.length = 0;
        assert.equal((await send(grafana)).status, 403);
        const metrics = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
        assert.equal((await send(cluster, metrics)).status, 403);
        assert.equal((await send(cluster, `${OTLP_TRACE_EXPORT}x`)).status, 403);
        assert.deepEqual(calls, []);
    });

    it("fails the call when the receiver's certificate does not carry the name it verifies", async () => {
        calls.length = 0;
        const outcome = await grpcCall(misnamed.port, servername, ca, cluster, OTLP_TRACE_EXPORT);
        assert.equal(outcome.status, 502, JSON.stringify(outcome));
        assert.deepEqual(calls, []);
    });
});
