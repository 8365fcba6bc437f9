import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { stringify } from "yaml";

import { certificateSpecs, type CertificateSpec, type ProfileName } from "../components/pki/profiles";
import { describeOutcome, probeOk, request, REQUEST_TIMEOUT_MS, type Dial } from "./harness/https";
import {
    freePort,
    HOST,
    locateBinaries as locate,
    startServer,
    stopServer,
    waitReady,
    type BinaryName,
    type Server,
} from "./harness/processes";
import { webConfigYaml } from "./harness/web-config";
import {
    encodeWriteRequest,
    issueCa,
    issueLeaf,
    snappyBlock,
    writeTlsSecret,
    type Authority,
    type Issued,
} from "./harness/x509";
import { exampleMainConfig, projectDir, tempDir } from "./helpers";

/**
 * The fleet's TLS as real servers enforce it: Prometheus (receiving remote-write) and
 * Alertmanager run on certificates issued from the fleet's own certificate specs, with the web
 * config the program mounts, and a matrix of clients checks who gets in.
 */

const HOUR_MS = 3_600_000;
/** A name no server certificate of the fleet carries. */
const UNKNOWN_NAME = "thanos-query.other.svc";
const SUB_CLUSTER = "sub-eu-1";

// --- binaries -------------------------------------------------------------------------------

/** The binaries the matrix runs. */
type MatrixBinary = Extract<BinaryName, "prometheus" | "promtool" | "alertmanager">;

/** Every binary the matrix runs, or an error naming the Debian package of each missing one. */
const locateBinaries = (): Record<MatrixBinary, string> =>
    locate(["prometheus", "promtool", "alertmanager"], "the TLS matrix needs real servers");

// --- config and certificates ----------------------------------------------------------------

const config = exampleMainConfig(SUB_CLUSTER);
const specs = certificateSpecs(config);

function spec(predicate: (s: CertificateSpec) => boolean, what: string): CertificateSpec {
    const found = specs.find(predicate);
    if (found === undefined) throw new Error(`no certificate spec for ${what}`);
    return found;
}

const caSpec = spec((s) => s.kind === "ca", "the CA");
const serverSpec = (profile: ProfileName): CertificateSpec =>
    spec((s) => s.kind === "server" && s.profile === profile, `the ${profile} server`);
const clientSpec = spec((s) => s.kind === "client" && s.cluster === SUB_CLUSTER, `the ${SUB_CLUSTER} client`);

/** The name sub clusters dial: the server certificate's SAN under the exposure domain. */
function externalName(server: CertificateSpec): string {
    const name = server.dnsNames.find((n) => n.endsWith(`.${config.exposure.domain}`));
    if (name === undefined) throw new Error(`${server.id} has no SAN under ${config.exposure.domain}`);
    return name;
}

/** The name a client inside main dials: `<service>.<namespace>.svc`. */
const serviceName = (server: CertificateSpec): string => `${server.subject.commonName}.${config.namespace}.svc`;

// --- servers --------------------------------------------------------------------------------

/** The server's log line about the failed handshake of the client on `clientPort`, once it is written. */
async function handshakeError(server: Server, clientPort: number): Promise<string> {
    const marker = `TLS handshake error from ${HOST}:${clientPort}`;
    const deadline = Date.now() + REQUEST_TIMEOUT_MS;
    for (;;) {
        const line = server
            .log()
            .split("\n")
            .find((l) => l.includes(marker) && !/\d/.test(l.charAt(l.indexOf(marker) + marker.length)));
        if (line !== undefined) return line;
        if (Date.now() > deadline) throw new Error(`${server.name} logged no handshake error for ${marker}`);
        await new Promise((r) => setTimeout(r, 10));
    }
}

// --- the matrix -----------------------------------------------------------------------------

type IdentityName = "none" | "foreign" | "expired" | "noClientAuth" | "valid";
type DialledName = "external" | "service" | "unknown";

interface MatrixCase {
    title: string;
    identity: IdentityName;
    dial: DialledName;
    /**
     * `ok`: HTTP 200. `refused`: the server ends the handshake with one of these TLS alerts, as
     * Node reports them (which alert depends on the server's Go version), and logs the reason
     * for that very connection. `altname`: the client refuses the server's certificate for the
     * dialled name.
     */
    expect: { kind: "ok" } | { kind: "refused"; codes: string[]; reason: RegExp } | { kind: "altname" };
}

const CERTIFICATE_REQUIRED = "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED";
const BAD_CERTIFICATE = "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE";

const MATRIX: readonly MatrixCase[] = [
    {
        title: "refuses a client without a certificate during the TLS handshake",
        identity: "none",
        dial: "external",
        expect: {
            kind: "refused",
            codes: [CERTIFICATE_REQUIRED, BAD_CERTIFICATE],
            reason: /client didn't provide a certificate/,
        },
    },
    {
        title: "refuses a client certificate from a foreign CA of the same name during the TLS handshake",
        identity: "foreign",
        dial: "external",
        expect: {
            kind: "refused",
            codes: [BAD_CERTIFICATE, "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"],
            reason: /x509: certificate signed by unknown authority/,
        },
    },
    {
        title: "refuses an expired client certificate from the fleet CA during the TLS handshake",
        identity: "expired",
        dial: "external",
        expect: {
            kind: "refused",
            codes: [BAD_CERTIFICATE, "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED"],
            reason: /x509: certificate has expired or is not yet valid/,
        },
    },
    {
        title: "refuses a fleet certificate without the clientAuth extended key usage during the TLS handshake",
        identity: "noClientAuth",
        dial: "external",
        expect: {
            kind: "refused",
            codes: [BAD_CERTIFICATE, "ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE"],
            reason: /x509: certificate specifies an incompatible key usage/,
        },
    },
    {
        title: `answers 200 on /-/ready to the ${SUB_CLUSTER} cluster certificate`,
        identity: "valid",
        dial: "external",
        expect: { kind: "ok" },
    },
    {
        title: `is refused by a verifying client that dials ${UNKNOWN_NAME}, absent from its SANs`,
        identity: "valid",
        dial: "unknown",
        expect: { kind: "altname" },
    },
    {
        title: "answers 200 to the same client dialling the in-cluster Service name",
        identity: "valid",
        dial: "service",
        expect: { kind: "ok" },
    },
];

interface ServerUnderTest {
    name: string;
    binary: MatrixBinary;
    profile: ProfileName;
    args: (files: { dir: string; webConfig: string; port: number }) => string[];
    config: unknown;
}

const SERVERS: readonly ServerUnderTest[] = [
    {
        name: "Prometheus",
        binary: "prometheus",
        profile: "thanos-receive",
        config: { global: { scrape_interval: "1m" } },
        args: ({ dir, webConfig, port }) => [
            `--config.file=${path.join(dir, "config.yml")}`,
            `--storage.tsdb.path=${path.join(dir, "data")}`,
            `--web.listen-address=${HOST}:${port}`,
            `--web.config.file=${webConfig}`,
            "--web.enable-remote-write-receiver",
        ],
    },
    {
        name: "Alertmanager",
        binary: "alertmanager",
        profile: "alertmanager",
        config: { route: { receiver: "blackhole" }, receivers: [{ name: "blackhole" }] },
        args: ({ dir, webConfig, port }) => [
            `--config.file=${path.join(dir, "config.yml")}`,
            `--storage.path=${path.join(dir, "data")}`,
            `--web.listen-address=${HOST}:${port}`,
            `--web.config.file=${webConfig}`,
            "--cluster.listen-address=",
        ],
    },
];

const matrixTotal = SERVERS.length * MATRIX.length;
let matrixPassed = 0;

// --- tests ----------------------------------------------------------------------------------

it("finds prometheus, promtool and Alertmanager installed, as the TLS matrix runs them for real", () => {
    assert.doesNotThrow(locateBinaries);
});

describe("TLS matrix: real Prometheus and Alertmanager on fleet certificates", () => {
    const work = tempDir("tls-matrix");
    let binaries: Record<MatrixBinary, string>;
    let ca: Authority;
    const identities = new Map<IdentityName, Issued | undefined>();
    const serverCerts = new Map<ProfileName, Issued>();
    const running = new Map<ProfileName, Server>();

    /** A mounted Secret of the profile's server certificate in `dir`, and a web config reading it. */
    function mount(profile: ProfileName, dir: string): string {
        const issued = serverCerts.get(profile);
        assert.ok(issued, `no ${profile} certificate issued`);
        writeTlsSecret(path.join(dir, "tls"), issued, ca);
        const webConfig = path.join(dir, "web-config.yml");
        fs.writeFileSync(webConfig, webConfigYaml(path.join(dir, "tls")));
        return webConfig;
    }

    const runningServer = (profile: ProfileName): Server => {
        const server = running.get(profile);
        assert.ok(server, `${profile} server not running`);
        return server;
    };

    const dial = (profile: ProfileName, identity: IdentityName, name: DialledName): Dial => {
        const s = serverSpec(profile);
        const servername = name === "external" ? externalName(s) : name === "service" ? serviceName(s) : UNKNOWN_NAME;
        return { port: runningServer(profile).port, servername, identity: identities.get(identity) };
    };

    before(async () => {
        binaries = locateBinaries();

        ca = await issueCa(caSpec);
        const foreignCa = await issueCa(caSpec);
        const now = Date.now();
        identities.set("none", undefined);
        identities.set("valid", await issueLeaf(clientSpec, ca));
        identities.set("foreign", await issueLeaf(clientSpec, foreignCa));
        identities.set(
            "expired",
            await issueLeaf(clientSpec, ca, {
                notBefore: new Date(now - 48 * HOUR_MS),
                notAfter: new Date(now - HOUR_MS),
            }),
        );
        identities.set("noClientAuth", await issueLeaf({ ...clientSpec, extendedKeyUsages: ["server_auth"] }, ca));
        const profiles = new Set<ProfileName>(SERVERS.map((s) => s.profile));
        for (const profile of profiles) serverCerts.set(profile, await issueLeaf(serverSpec(profile), ca));

        const servers = await Promise.all(
            SERVERS.map(async (s) => {
                const dir = path.join(work, "servers", s.profile);
                const webConfig = mount(s.profile, dir);
                fs.writeFileSync(path.join(dir, "config.yml"), stringify(s.config));
                const port = await freePort();
                const server = startServer(s.name, binaries[s.binary], s.args({ dir, webConfig, port }), port);
                running.set(s.profile, server);
                return { server, profile: s.profile };
            }),
        );
        await Promise.all(
            servers.map(({ server, profile }) =>
                waitReady(server, () => probeOk(request(dial(profile, "valid", "external"), ca, { path: "/-/ready" }))),
            ),
        );
    });

    after(async () => {
        await Promise.all([...running.values()].map(stopServer));
    });

    it("issues certificates that carry their spec's subject, SANs, usages and lifetime", () => {
        const fleetCa = new X509Certificate(ca.cert);
        assert.equal(fleetCa.ca, true);
        assert.equal(fleetCa.subject, `O=observability\nOU=ca\nCN=${caSpec.subject.commonName}`);
        assert.ok(serverCerts.size >= SERVERS.length);
        for (const [profile, issued] of serverCerts) {
            const cert = new X509Certificate(issued.cert);
            const want = serverSpec(profile);
            assert.equal(cert.subject, `O=observability\nOU=server\nCN=${want.subject.commonName}`);
            assert.equal(cert.subjectAltName, want.dnsNames.map((n) => `DNS:${n}`).join(", "));
            // Node's `keyUsage` lists the extended key usages: serverAuth here.
            assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
            assert.equal(cert.ca, false);
            assert.ok(cert.verify(fleetCa.publicKey));
            const hours = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / HOUR_MS;
            assert.equal(hours, want.validityHours);
        }
    });

    it("builds each rejected client identity so that it breaks one property of the valid one", () => {
        const fleetCa = new X509Certificate(ca.cert);
        const cert = (name: IdentityName): X509Certificate => {
            const issued = identities.get(name);
            assert.ok(issued, `no ${name} identity`);
            return new X509Certificate(issued.cert);
        };
        const valid = cert("valid");
        assert.equal(valid.subject, `O=observability\nOU=cluster\nCN=${SUB_CLUSTER}`);
        assert.deepEqual(valid.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
        assert.ok(valid.verify(fleetCa.publicKey));

        const foreign = cert("foreign");
        assert.equal(foreign.subject, valid.subject);
        assert.equal(foreign.issuer, valid.issuer, "the foreign CA bears the fleet CA's name");
        assert.equal(foreign.verify(fleetCa.publicKey), false);

        const expired = cert("expired");
        assert.ok(expired.verify(fleetCa.publicKey));
        assert.ok(Date.parse(expired.validTo) < Date.now());

        const noClientAuth = cert("noClientAuth");
        assert.ok(noClientAuth.verify(fleetCa.publicKey));
        assert.deepEqual(noClientAuth.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
    });

    for (const server of SERVERS) {
        it(`promtool accepts the web config of ${server.name} on its ${server.profile} certificate`, () => {
            const dir = path.join(work, "promtool", server.profile);
            const webConfig = mount(server.profile, dir);
            const check = spawnSync(binaries.promtool, ["check", "web-config", webConfig], { encoding: "utf8" });
            assert.equal(check.status, 0, `promtool check web-config failed:\n${check.stdout}${check.stderr}`);

            // Control: promtool loads the files, so a key that is not the certificate's fails.
            const otherKey = identities.get("valid")?.key;
            assert.ok(otherKey);
            fs.writeFileSync(path.join(dir, "tls", "tls.key"), otherKey);
            const control = spawnSync(binaries.promtool, ["check", "web-config", webConfig], { encoding: "utf8" });
            assert.notEqual(control.status, 0, "promtool accepted a key that does not match the certificate");
            assert.match(control.stdout + control.stderr, /private key does not match public key/);
        });
    }

    for (const server of SERVERS) {
        describe(`${server.name} on the ${server.profile} certificate`, () => {
            for (const c of MATRIX) {
                it(c.title, async () => {
                    const outcome = await request(dial(server.profile, c.identity, c.dial), ca, { path: "/-/ready" });
                    switch (c.expect.kind) {
                        case "ok":
                            assert.equal(outcome.error, undefined, describeOutcome(outcome));
                            assert.equal(outcome.status, 200, describeOutcome(outcome));
                            break;
                        case "refused":
                            assert.equal(
                                outcome.status,
                                undefined,
                                `expected no response, got ${describeOutcome(outcome)}`,
                            );
                            assert.ok(outcome.error, "expected a request error");
                            assert.ok(outcome.serverVerified, "the client should have trusted the server first");
                            assert.ok(
                                c.expect.codes.includes(outcome.error.code ?? ""),
                                `expected one of ${c.expect.codes.join(", ")}, got ${describeOutcome(outcome)}`,
                            );
                            assert.ok(outcome.localPort, "the connection never got a local port");
                            assert.match(
                                await handshakeError(runningServer(server.profile), outcome.localPort),
                                c.expect.reason,
                            );
                            break;
                        case "altname":
                            assert.equal(
                                outcome.status,
                                undefined,
                                `expected no response, got ${describeOutcome(outcome)}`,
                            );
                            assert.equal(outcome.error?.code, "ERR_TLS_CERT_ALTNAME_INVALID", describeOutcome(outcome));
                            break;
                    }
                    matrixPassed++;
                });
            }
        });
    }

    it(`accepts a snappy remote-write from ${SUB_CLUSTER} on Prometheus and serves the sample back over mTLS`, async () => {
        const timestampMs = Date.now();
        const labels = { __name__: "tls_matrix_probe", cluster: SUB_CLUSTER };
        const body = snappyBlock(encodeWriteRequest([{ labels, samples: [{ value: 42.5, timestampMs }] }]));
        const valid = dial("thanos-receive", "valid", "external");
        const write = await request(valid, ca, {
            method: "POST",
            path: "/api/v1/write",
            headers: {
                "Content-Encoding": "snappy",
                "Content-Type": "application/x-protobuf",
                "X-Prometheus-Remote-Write-Version": "0.1.0",
            },
            body,
        });
        assert.equal(write.status, 204, describeOutcome(write));

        const query = await request(valid, ca, {
            path: `/api/v1/query?query=tls_matrix_probe&time=${timestampMs / 1000}`,
        });
        assert.equal(query.status, 200, describeOutcome(query));
        assert.deepEqual(JSON.parse(query.body ?? ""), {
            status: "success",
            data: { resultType: "vector", result: [{ metric: labels, value: [timestampMs / 1000, "42.5"] }] },
        });
    });

    it(`accepts an alert from ${SUB_CLUSTER} on Alertmanager and lists it back over mTLS`, async () => {
        const labels = { alertname: "TlsMatrixProbe", cluster: SUB_CLUSTER };
        const startsAt = new Date().toISOString();
        const valid = dial("alertmanager", "valid", "external");
        const post = await request(valid, ca, {
            method: "POST",
            path: "/api/v2/alerts",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify([{ labels, annotations: { summary: "TLS matrix probe" }, startsAt }]),
        });
        assert.equal(post.status, 200, describeOutcome(post));

        const list = await request(valid, ca, {
            path: `/api/v2/alerts?filter=${encodeURIComponent('alertname="TlsMatrixProbe"')}`,
        });
        assert.equal(list.status, 200, describeOutcome(list));
        const alerts = JSON.parse(list.body ?? "") as { labels: Record<string, string>; startsAt: string }[];
        assert.deepEqual(
            alerts.map((a) => ({ labels: a.labels, startsAt: Date.parse(a.startsAt) })),
            [{ labels, startsAt: Date.parse(startsAt) }],
        );
    });

    it("docs/security.md states how many cases of the client matrix pass", () => {
        const expected = `TLS matrix: ${matrixPassed}/${matrixTotal} cases pass`;
        const file = path.join(projectDir, "docs", "security.md");
        const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split(/\r?\n/) : [];
        assert.ok(lines.includes(expected), `docs/security.md should contain the line: ${expected}`);
    });
});
