import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import * as tls from "node:tls";
import { after, before, describe, it } from "node:test";

import { LOKI_RELEASE } from "../../components/logs/values";
import { INGEST } from "../../components/network/endpoints";
import { certificateSpecs, type CertificateSpec } from "../../components/pki/profiles";
import { TLS_MOUNT_DIR } from "../../components/pki/tls-mount";
import { describeOutcome, request, REQUEST_TIMEOUT_MS, type Outcome } from "../harness/https";
import { locateNginx, NGINX_PACKAGE, nginxArgs, nginxVersion } from "../harness/nginx";
import { freePort, HOST, startServer, stopServer, waitReady, type Server } from "../harness/processes";
import { issueCa, issueLeaf, writeTlsSecret, type Authority, type Issued } from "../harness/x509";
import { exampleMainConfig, tempDir } from "../helpers";
import { stateOf, variants, type Variant } from "./context";

/**
 * The Loki gateway as nginx runs it: the nginx.conf the pinned Loki chart templates from the
 * example main stack's values (the program's snippets in the http, server and every location
 * block, as the chart places them), in a real nginx on 127.0.0.1 with the logs-ingest server
 * certificate. A recording HTTP server stands in for Loki, so each case shows both what the
 * client got and what, if anything, reached Loki, with which X-Scope-OrgID.
 */

const HOUR_MS = 3_600_000;
const SUB_CLUSTER = "sub-eu-1";
/** The tenants Grafana asks for in one multi-tenant query. */
const MULTI_TENANT = `main|${SUB_CLUSTER}`;
const PUSH_PATH = "/loki/api/v1/push";
const QUERY_PATH = `/loki/api/v1/query_range?query=${encodeURIComponent('{job="talos"}')}&limit=10`;
const PUSH_BODY = JSON.stringify({ streams: [{ stream: { job: "talos" }, values: [["1700000000000000000", "x"]] }] });

// --- nginx ----------------------------------------------------------------------------------

interface GatewayLayout {
    dir: string;
    port: number;
    upstreamPort: number;
    tlsDir: string;
}

interface Rewrite {
    /** Why the chart's line cannot run as it is on 127.0.0.1. */
    what: string;
    from: RegExp;
    to: string;
    /** How many places it must change: a chart that changes them makes the test say so. */
    count: number | "some";
}

/**
 * The chart's nginx.conf, as the Loki chart templates it with the program's values, made to
 * run on 127.0.0.1: only addresses, paths and logging change, each rewrite counted; every
 * location, snippet and TLS directive stays the chart's own.
 */
export function localGatewayConf(chartConf: string, layout: GatewayLayout): string {
    const rewrites: Rewrite[] = [
        // First: the paths written below are themselves under /tmp.
        { what: "the pid file is the one the harness sets", from: /^pid\s+\S+;\n/m, to: "", count: 1 },
        { what: "temporary files in the test's folder", from: /\/tmp\//g, to: `${layout.dir}/`, count: "some" },
        { what: "one process, which the test starts and stops", from: /^/, to: "master_process off;\n", count: 1 },
        {
            what: "errors into a file at level info, where client verification failures are logged",
            from: /^error_log\s+\/dev\/stderr;$/m,
            to: `error_log ${path.join(layout.dir, "error.log")} info;`,
            count: 1,
        },
        {
            what: "no access log on the terminal",
            from: /access_log\s+\/dev\/stderr\s+main;/g,
            to: "access_log off;",
            count: 1,
        },
        {
            what: "no cluster DNS: every upstream is an address",
            from: /^(\s*)resolver\s+\S+;$/m,
            to: `$1resolver ${HOST};`,
            count: 1,
        },
        {
            what: "the container port, on 127.0.0.1 and a free port",
            from: new RegExp(`^(\\s*)listen\\s+${INGEST.logs.targetPort} ssl;$`, "m"),
            to: `$1listen ${HOST}:${layout.port} ssl;`,
            count: 1,
        },
        {
            what: "no IPv6 listener",
            from: new RegExp(`^\\s*listen\\s+\\[::\\]:${INGEST.logs.targetPort} ssl;\\n`, "m"),
            to: "",
            count: 1,
        },
        {
            what: "Loki's Services: the recording stand-in",
            from: /http:\/\/[a-z0-9.-]+\.svc\.cluster\.local:3100/g,
            to: `http://${HOST}:${layout.upstreamPort}`,
            count: "some",
        },
        { what: "the certificates' folder", from: new RegExp(TLS_MOUNT_DIR, "g"), to: layout.tlsDir, count: 3 },
    ];
    let conf = chartConf;
    for (const rewrite of rewrites) {
        const found =
            conf.match(
                new RegExp(
                    rewrite.from.source,
                    rewrite.from.flags.includes("g") ? rewrite.from.flags : `${rewrite.from.flags}g`,
                ),
            )?.length ?? 0;
        if (rewrite.count === "some" ? found === 0 : found !== rewrite.count) {
            throw new Error(
                `the chart's nginx.conf changed: "${rewrite.what}" matches ${found} times, expected ${rewrite.count}`,
            );
        }
        conf = conf.replace(rewrite.from, rewrite.to);
    }
    return conf;
}

// --- config and certificates ----------------------------------------------------------------

const config = exampleMainConfig(SUB_CLUSTER);
const specs = certificateSpecs(config);

function specById(id: string): CertificateSpec {
    const found = specs.find((s) => s.id === id);
    if (found === undefined) throw new Error(`no certificate spec ${id}`);
    return found;
}

const caSpec = specById("ca");
const gatewaySpec = specById("logs-ingest");
const clusterSpec = specById(`cluster-${SUB_CLUSTER}`);
const grafanaSpec = specById("grafana");

/** The name sub clusters dial: the gateway certificate's SAN under the exposure domain. */
const externalName = gatewaySpec.dnsNames.find((n) => n.endsWith(`.${config.exposure.domain}`));
/** The name Grafana dials inside main: `<service>.<namespace>.svc`. */
const inClusterName = gatewaySpec.dnsNames.find(
    (n) => n === `${gatewaySpec.subject.commonName}.${config.namespace}.svc`,
);

/**
 * OpenSSL's verify results, as nginx logs them at level info, for each certificate the fleet CA
 * does not vouch for as a client; the wording depends on the OpenSSL version.
 */
const VERIFY_RESULTS = {
    foreign: "(?:20:unable to get local issuer certificate|21:unable to verify the first certificate)",
    expired: "10:certificate has expired",
    noClientAuth: "26:uns(?:uitable|upported) certificate purpose",
} as const;

const verifyError = (result: string): RegExp => new RegExp(`client SSL certificate verify error: \\(${result}\\)`);

type IdentityName = "none" | "foreign" | "expired" | "noClientAuth" | "cluster" | "service" | "serverOu" | "caOu";

// --- the upstream ---------------------------------------------------------------------------

/** What Loki would have seen of one request. */
interface Received {
    method: string;
    path: string;
    orgId: string | undefined;
}

function startUpstream(received: Received[]): Promise<http.Server> {
    const server = http.createServer((req, res) => {
        const orgId = req.headers["x-scope-orgid"];
        received.push({
            method: req.method ?? "",
            path: req.url ?? "",
            orgId: Array.isArray(orgId) ? orgId.join(",") : orgId,
        });
        req.resume();
        req.on("end", () => res.end("upstream ok"));
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, HOST, () => resolve(server));
    });
}

// --- tests ----------------------------------------------------------------------------------

it("finds nginx installed, as the Loki gateway proof runs it for real", (t) => {
    const binary = locateNginx();
    t.diagnostic(nginxVersion(binary));
});

it(`names the Debian package \`${NGINX_PACKAGE}\` when nginx is missing`, () => {
    assert.throws(() => locateNginx(tempDir("no-nginx-path"), []), /install the Debian package `nginx`/);
});

describe("Loki gateway: a real nginx running the program's snippets on fleet certificates", () => {
    const work = tempDir("logs-gateway");
    const errorLog = path.join(work, "error.log");
    const received: Received[] = [];
    const identities = new Map<IdentityName, Issued | undefined>();
    let ca: Authority;
    let upstream: http.Server | undefined;
    let nginx: Server | undefined;
    let configTest: { status: number | null; output: string } | undefined;

    const gatewayPort = (): number => {
        assert.ok(nginx, "nginx is not running");
        return nginx.port;
    };

    interface Attempt {
        outcome: Outcome;
        /** What reached the upstream because of this request. */
        upstream: Received[];
        /** What nginx logged about this request. */
        log: string;
    }

    /** One request over TLS, dialling `servername`; requests run one at a time. */
    async function attempt(
        identity: IdentityName,
        options: { method?: string; path: string; orgId?: string; servername?: string },
    ): Promise<Attempt> {
        const servername = options.servername ?? externalName;
        assert.ok(servername, "the gateway certificate has no external name");
        const first = received.length;
        const logOffset = fs.statSync(errorLog).size;
        const method = options.method ?? "GET";
        const outcome = await request({ port: gatewayPort(), servername, identity: identities.get(identity) }, ca, {
            method,
            path: options.path,
            headers: {
                ...(options.orgId === undefined ? {} : { "X-Scope-OrgID": options.orgId }),
                ...(method === "POST" ? { "Content-Type": "application/json" } : {}),
            },
            body: method === "POST" ? PUSH_BODY : undefined,
        });
        // nginx writes its log line, and forwards to Loki, before it answers the client.
        const log = fs.readFileSync(errorLog).subarray(logOffset).toString("utf8");
        return { outcome, upstream: received.slice(first), log };
    }

    /** Waits until nginx's log since `offset` has a line matching `pattern`; fails with that log otherwise. */
    async function logged(offset: number, pattern: RegExp): Promise<void> {
        const deadline = Date.now() + REQUEST_TIMEOUT_MS;
        for (;;) {
            const log = fs.readFileSync(errorLog).subarray(offset).toString("utf8");
            if (pattern.test(log)) return;
            if (Date.now() > deadline) assert.fail(`nginx logged no line matching ${pattern}:\n${log}`);
            await new Promise((r) => setTimeout(r, 10));
        }
    }

    function assertRefused(a: Attempt, status: number, body: RegExp): void {
        assert.equal(a.outcome.error, undefined, describeOutcome(a.outcome));
        assert.ok(a.outcome.serverVerified, "the client should have trusted the gateway's certificate");
        assert.equal(a.outcome.status, status, describeOutcome(a.outcome));
        assert.match(a.outcome.body ?? "", body);
        assert.deepEqual(a.upstream, [], "a refused request reached Loki");
    }

    function assertForwarded(a: Attempt, expected: Received): void {
        assert.equal(a.outcome.error, undefined, describeOutcome(a.outcome));
        assert.ok(a.outcome.serverVerified, "the client should have trusted the gateway's certificate");
        assert.equal(a.outcome.status, 200, describeOutcome(a.outcome));
        assert.equal(a.outcome.body, "upstream ok");
        assert.deepEqual(a.upstream, [expected]);
    }

    before(async () => {
        const binary = locateNginx();

        ca = await issueCa(caSpec);
        const foreignCa = await issueCa(caSpec);
        const now = Date.now();
        identities.set("none", undefined);
        identities.set("cluster", await issueLeaf(clusterSpec, ca));
        identities.set("service", await issueLeaf(grafanaSpec, ca));
        identities.set("foreign", await issueLeaf(clusterSpec, foreignCa));
        identities.set(
            "expired",
            await issueLeaf(clusterSpec, ca, {
                notBefore: new Date(now - 48 * HOUR_MS),
                notAfter: new Date(now - HOUR_MS),
            }),
        );
        identities.set("noClientAuth", await issueLeaf({ ...clusterSpec, extendedKeyUsages: ["server_auth"] }, ca));
        // Fleet certificates that can authenticate as clients but name neither identity.
        identities.set(
            "serverOu",
            await issueLeaf({ ...gatewaySpec, extendedKeyUsages: ["server_auth", "client_auth"] }, ca),
        );
        identities.set(
            "caOu",
            await issueLeaf(
                { ...caSpec, kind: "client", keyUsages: ["digital_signature"], extendedKeyUsages: ["client_auth"] },
                ca,
            ),
        );

        upstream = await startUpstream(received);
        const upstreamPort = (upstream.address() as AddressInfo).port;
        const port = await freePort();
        const tlsDir = writeTlsSecret(path.join(work, "tls"), await issueLeaf(gatewaySpec, ca), ca);
        assert.ok(externalName && inClusterName, "the gateway certificate lacks its external or in-cluster name");
        const state = await stateOf(variants()[0] as Variant);
        const loki = state.charts.find((c) => c.release === LOKI_RELEASE);
        const map = loki?.objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === `${LOKI_RELEASE}-gateway`);
        const chartConf = (map?.data as Record<string, string> | undefined)?.["nginx.conf"];
        assert.ok(chartConf, "the Loki chart rendered no gateway nginx.conf");
        fs.writeFileSync(
            path.join(work, "nginx.conf"),
            localGatewayConf(chartConf, { dir: work, port, upstreamPort, tlsDir }),
        );
        fs.writeFileSync(errorLog, "");

        const check = spawnSync(binary, ["-t", ...nginxArgs(work)], { encoding: "utf8" });
        configTest = { status: check.status, output: `${check.stdout}${check.stderr}` };
        if (check.status !== 0) throw new Error(`nginx -t refused the gateway configuration:\n${configTest.output}`);

        const server = startServer("nginx", binary, nginxArgs(work), port);
        nginx = server;
        // Ready when it answers HTTP at all, whatever it answers: the cases judge the answers.
        await waitReady(server, async () => {
            const o = await request({ port, servername: externalName, identity: undefined }, ca, { path: "/" });
            return o.status !== undefined ? { ready: true } : { ready: false, why: describeOutcome(o) };
        });
        received.length = 0;
    });

    after(async () => {
        if (nginx !== undefined) await stopServer(nginx);
        const server = upstream;
        if (server !== undefined) await new Promise((resolve) => server.close(resolve));
    });

    it("passes nginx -t with the chart's configuration and the program's snippets in it", () => {
        assert.ok(configTest, "nginx -t did not run");
        assert.equal(configTest.status, 0, configTest.output);
        assert.match(configTest.output, /syntax is ok/);
        assert.match(configTest.output, /test is successful/);
    });

    it("issues the clients as the fleet does: cluster OU and name, service OU and dotted name", () => {
        const subject = (name: IdentityName): string => {
            const issued = identities.get(name);
            assert.ok(issued, `no ${name} identity`);
            return new X509Certificate(issued.cert).subject;
        };
        assert.equal(subject("cluster"), `O=observability\nOU=cluster\nCN=${SUB_CLUSTER}`);
        assert.equal(subject("service"), "O=observability\nOU=service\nCN=grafana.observability");
        assert.equal(subject("serverOu"), `O=observability\nOU=server\nCN=${gatewaySpec.subject.commonName}`);
        assert.equal(subject("caOu"), `O=observability\nOU=ca\nCN=${caSpec.subject.commonName}`);
    });

    describe("refuses before Loki whoever the fleet CA did not vouch for as a client", () => {
        it("answers 400 to a client without a certificate, as ssl_verify_client on does", async () => {
            const a = await attempt("none", { method: "POST", path: PUSH_PATH, orgId: "main" });
            assertRefused(a, 400, /No required SSL certificate was sent/);
        });

        it("answers 400 to a certificate from a foreign CA bearing the fleet CA's name", async () => {
            const a = await attempt("foreign", { method: "POST", path: PUSH_PATH, orgId: "main" });
            assertRefused(a, 400, /The SSL certificate error/);
            assert.match(a.log, verifyError(VERIFY_RESULTS.foreign));
        });

        it("answers 400 to an expired certificate from the fleet CA", async () => {
            const a = await attempt("expired", { method: "POST", path: PUSH_PATH, orgId: "main" });
            assertRefused(a, 400, /The SSL certificate error/);
            assert.match(a.log, verifyError(VERIFY_RESULTS.expired));
        });

        it("answers 400 to a fleet certificate without the clientAuth extended key usage", async () => {
            const a = await attempt("noClientAuth", { method: "POST", path: PUSH_PATH, orgId: "main" });
            assertRefused(a, 400, /The SSL certificate error/);
            assert.match(a.log, verifyError(VERIFY_RESULTS.noClientAuth));
        });
    });

    describe(`takes a cluster's tenant from its certificate: ${SUB_CLUSTER}, whatever it claims`, () => {
        it(`forwards a push claiming the tenant main as a push of ${SUB_CLUSTER}`, async () => {
            const a = await attempt("cluster", { method: "POST", path: PUSH_PATH, orgId: "main" });
            assertForwarded(a, { method: "POST", path: PUSH_PATH, orgId: SUB_CLUSTER });
        });

        it("answers 403 to a cluster querying: clusters only push", async () => {
            const a = await attempt("cluster", { path: QUERY_PATH, orgId: "main" });
            assertRefused(a, 403, /403 Forbidden/);
        });

        it("answers 403 to a cluster calling Loki's admin endpoints through the gateway", async () => {
            for (const path of ["/flush", "/ingester/shutdown", "/loki/api/v1/delete?query=%7Bjob%3D%22x%22%7D"]) {
                const a = await attempt("cluster", { method: "POST", path });
                assertRefused(a, 403, /403 Forbidden/);
            }
        });

        it(`forwards a push that names no tenant as a push of ${SUB_CLUSTER}`, async () => {
            const a = await attempt("cluster", { method: "POST", path: PUSH_PATH });
            assertForwarded(a, { method: "POST", path: PUSH_PATH, orgId: SUB_CLUSTER });
        });
    });

    describe("lets a service read the tenants it names, and never push", () => {
        it(`forwards Grafana's query of ${MULTI_TENANT} with that very tenant list`, async () => {
            const a = await attempt("service", { path: QUERY_PATH, orgId: MULTI_TENANT, servername: inClusterName });
            assertForwarded(a, { method: "GET", path: QUERY_PATH, orgId: MULTI_TENANT });
        });

        it("answers 403 to Grafana pushing, even to a tenant it names", async () => {
            const a = await attempt("service", {
                method: "POST",
                path: PUSH_PATH,
                orgId: SUB_CLUSTER,
                servername: inClusterName,
            });
            assertRefused(a, 403, /403 Forbidden/);
        });

        it("answers 403 to Grafana pushing over OTLP", async () => {
            const a = await attempt("service", {
                method: "POST",
                path: "/otlp/v1/logs",
                orgId: SUB_CLUSTER,
                servername: inClusterName,
            });
            assertRefused(a, 403, /403 Forbidden/);
        });

        it("answers 403 to Grafana pushing on the legacy push path", async () => {
            const a = await attempt("service", {
                method: "POST",
                path: "/api/prom/push",
                orgId: SUB_CLUSTER,
                servername: inClusterName,
            });
            assertRefused(a, 403, /403 Forbidden/);
        });

        it("answers 403 to Grafana deleting logs or reading Loki's configuration", async () => {
            for (const [method, path] of [
                ["POST", "/loki/api/v1/delete?query=%7Bjob%3D%22x%22%7D"],
                ["GET", "/config"],
            ] as const) {
                const a = await attempt("service", { method, path, orgId: SUB_CLUSTER, servername: inClusterName });
                assertRefused(a, 403, /403 Forbidden/);
            }
        });

        it("answers 403 to Grafana querying without naming a tenant", async () => {
            const a = await attempt("service", { path: QUERY_PATH, servername: inClusterName });
            assertRefused(a, 403, /403 Forbidden/);
        });
    });

    describe("answers 403 to a fleet client certificate that is neither a cluster nor a service", () => {
        it("refuses a certificate with OU=server and clientAuth, whatever tenant it names", async () => {
            const a = await attempt("serverOu", { path: QUERY_PATH, orgId: "main" });
            assertRefused(a, 403, /403 Forbidden/);
        });

        it("refuses a client certificate bearing the CA's subject, OU=ca", async () => {
            const a = await attempt("caOu", { method: "POST", path: PUSH_PATH, orgId: "main" });
            assertRefused(a, 403, /403 Forbidden/);
        });
    });

    describe("speaks TLS 1.3 only", () => {
        /** A bare TLS handshake with the cluster certificate, at most `maxVersion`. */
        function handshake(
            maxVersion: tls.SecureVersion,
        ): Promise<{ protocol?: string; error?: NodeJS.ErrnoException }> {
            const identity = identities.get("cluster");
            assert.ok(identity, "no cluster identity");
            return new Promise((resolve) => {
                const socket = tls.connect({
                    host: HOST,
                    port: gatewayPort(),
                    servername: externalName,
                    ca: ca.cert,
                    cert: identity.cert,
                    key: identity.key,
                    maxVersion,
                    timeout: REQUEST_TIMEOUT_MS,
                });
                socket.once("secureConnect", () => {
                    const protocol = socket.getProtocol() ?? undefined;
                    socket.end();
                    resolve({ protocol });
                });
                socket.once("timeout", () => socket.destroy(new Error(`no handshake within ${REQUEST_TIMEOUT_MS} ms`)));
                socket.once("error", (error: NodeJS.ErrnoException) => resolve({ error }));
            });
        }

        it("refuses a TLS 1.2 client with a valid cluster certificate during the handshake", async () => {
            const logOffset = fs.statSync(errorLog).size;
            const first = received.length;
            const outcome = await handshake("TLSv1.2");
            assert.equal(outcome.protocol, undefined, `negotiated ${outcome.protocol ?? ""}`);
            assert.equal(outcome.error?.code, "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION", outcome.error?.message);
            // The alert may reach the client before nginx writes its log line.
            await logged(logOffset, /SSL_do_handshake\(\) failed .*unsupported protocol/);
            assert.deepEqual(received.slice(first), []);
        });

        it("negotiates TLS 1.3 with the same client when it may", async () => {
            const outcome = await handshake("TLSv1.3");
            assert.equal(outcome.error, undefined, outcome.error?.message);
            assert.equal(outcome.protocol, "TLSv1.3");
        });
    });
});
