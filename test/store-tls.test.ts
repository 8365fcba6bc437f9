import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as tls from "node:tls";

import { kpsValues, STORE_CLIENT_TLS_DIR, STORE_TLS_DIR, thanosValues } from "../components/metrics/values";
import { certificateSpecs, tlsSecretName, type CertificateSpec } from "../components/pki/profiles";
import { renderStack, type RenderResult } from "../render/render";
import { REQUEST_TIMEOUT_MS } from "./harness/https";
import { freePort, HOST } from "./harness/processes";
import { issueCa, issueLeaf, writeTlsSecret, type Authority, type Issued } from "./harness/x509";
import { exampleMainConfig, projectDir, tempDir } from "./helpers";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- deep reads of values

/**
 * The Thanos StoreAPI's mutual TLS, from the flags the program gives each brick to a real
 * handshake. No Thanos binary runs here: each flag is followed to the file it names, the file to
 * the mounted Secret, the Secret to its certificate profile, and a TLS server set up as the
 * server flags ask (certificate, key, a client CA, which makes Thanos require and verify client
 * certificates, TLS 1.3) meets each client the program configures, with the client flags'
 * certificate and the server name they verify. OpenSSL, through Node, does the verifying.
 */

const SUB_CLUSTER = "sub-eu-1";
const HOUR_MS = 3_600_000;
const config = exampleMainConfig(SUB_CLUSTER);
const specs = certificateSpecs(config);
const thanos = thanosValues({
    config,
    receiveTls: { secretName: "thanos-receive-tls", revision: "r" },
    caRevision: "c",
}) as Values;
const prometheusSpec = (kpsValues({ config, agentsNamespace: "a", caRevision: "c" }) as Values).prometheus
    .prometheusSpec;

/** The value of `--<name>=` in `args`. */
function flag(args: readonly string[], name: string): string {
    const found = args.find((a) => a.startsWith(`--${name}=`));
    assert.ok(found !== undefined, `--${name} is not set in ${args.join(" ")}`);
    return found.slice(name.length + 3);
}

interface Mounts {
    volumes: readonly Values[];
    mounts: readonly Values[];
}

/** The Secret a file path lies in, through the mount whose directory holds it and that mount's volume. */
function secretOf(file: string, where: Mounts): string {
    const mount = where.mounts.find((m) => path.dirname(file) === m.mountPath);
    assert.ok(mount, `nothing is mounted at ${path.dirname(file)}`);
    const volume = where.volumes.find((v) => v.name === mount.name);
    assert.ok(volume?.secret?.secretName, `volume ${mount.name} is not a Secret`);
    return volume.secret.secretName as string;
}

/** The certificate profile whose Secret has that name: certificate, key and CA come from it together. */
function profileOf(secretName: string): CertificateSpec {
    const spec = specs.find((s) => s.cluster === undefined && s.kind !== "ca" && tlsSecretName(s) === secretName);
    assert.ok(spec, `no certificate profile lands in Secret ${secretName}`);
    return spec;
}

/** A brick's TLS files, all in one Secret: that Secret's profile, and the files' names in it. */
function tlsFiles(files: Record<"cert" | "key" | "ca", string>, where: Mounts) {
    const secrets = new Set(Object.values(files).map((f) => secretOf(f, where)));
    assert.equal(secrets.size, 1, `the files come from several Secrets: ${[...secrets].join(", ")}`);
    assert.deepEqual(
        Object.values(files).map((f) => path.basename(f)),
        ["tls.crt", "tls.key", "ca.crt"],
    );
    return profileOf([...secrets][0] as string);
}

const chartMounts = (brick: Values): Mounts => ({ volumes: brick.extraVolumes, mounts: brick.extraVolumeMounts });

/** Server flags of a StoreAPI brick: its profile, and the TLS version it takes at least. */
function storeServer(args: readonly string[], where: Mounts) {
    const spec = tlsFiles(
        {
            cert: flag(args, "grpc-server-tls-cert"),
            key: flag(args, "grpc-server-tls-key"),
            ca: flag(args, "grpc-server-tls-client-ca"),
        },
        where,
    );
    return { spec, minVersion: flag(args, "grpc-server-tls-min-version") };
}

interface StoreClient {
    name: string;
    spec: CertificateSpec;
    servername: string;
}

type IdentityName = "none" | "foreign" | "expired" | "noClientAuth" | "valid";

/** Why the server refuses each identity: OpenSSL's verification result for the client's certificate. */
const REFUSED: Record<Exclude<IdentityName, "valid">, string> = {
    none: "NO_CERTIFICATE",
    foreign: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    expired: "CERT_HAS_EXPIRED",
    // A server verifies a client certificate for the TLS client purpose: clientAuth is required.
    noClientAuth: "INVALID_PURPOSE",
};

/** A handshake and one line from the server: the peer CN it verified, or the client's error code. */
function handshake(
    port: number,
    servername: string,
    ca: Issued,
    identity: Issued | undefined,
): Promise<{ line?: string; code?: string }> {
    return new Promise((resolve) => {
        const socket = tls.connect({
            host: HOST,
            port,
            servername,
            ca: ca.cert,
            ...(identity !== undefined ? { cert: identity.cert, key: identity.key } : {}),
        });
        let data = "";
        socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error("no answer")));
        socket.on("data", (chunk: Buffer) => (data += chunk.toString("utf8")));
        socket.on("end", () => resolve({ line: data.trim() }));
        socket.on("error", (error: NodeJS.ErrnoException) => resolve({ code: error.code ?? error.message }));
    });
}

describe("Thanos StoreAPI: every gRPC server of main on the thanos-store certificate, clients required", () => {
    let rendered: RenderResult;
    let ruler: Values;

    before(async () => {
        rendered = await renderStack({ projectDir, stack: "main" });
        const record = rendered.records.find(
            (r) => r.type === "kubernetes:apps/v1:StatefulSet" && (r.inputs as Values).metadata?.name === "thanos-rule",
        );
        assert.ok(record, "the Ruler's StatefulSet");
        ruler = (record.inputs as Values).spec.template.spec;
    });

    it("gives Query, the Store Gateway, the Receive router and ingestors server TLS from the thanos-store Secret", () => {
        for (const [name, brick] of Object.entries({
            query: thanos.query,
            storeGateway: thanos.storeGateway,
            router: thanos.receive.router,
            ingestor: thanos.receive.ingestor,
        })) {
            const server = storeServer(brick.extraArgs, chartMounts(brick));
            assert.equal(server.spec.profile, "thanos-store", name);
            assert.equal(server.minVersion, "1.3", name);
        }
    });

    it("gives the stack's Ruler the same server TLS", () => {
        const container = ruler.containers[0] as Values;
        const server = storeServer(container.args, { volumes: ruler.volumes, mounts: container.volumeMounts });
        assert.equal(server.spec.profile, "thanos-store");
    });

    it("gives the Prometheus sidecar the same files, mounted into it", () => {
        const sidecar = prometheusSpec.thanos;
        const where = { volumes: prometheusSpec.volumes, mounts: sidecar.volumeMounts };
        const tlsConfig = sidecar.grpcServerTlsConfig;
        const spec = tlsFiles({ cert: tlsConfig.certFile, key: tlsConfig.keyFile, ca: tlsConfig.caFile }, where);
        assert.equal(spec.profile, "thanos-store");
        assert.equal(path.dirname(tlsConfig.certFile), STORE_TLS_DIR);
    });

    it("gives the ingestors' remote-write listener the same certificate, clients required, though nothing may reach it", () => {
        const ingestor = thanos.receive.ingestor;
        const args = ingestor.extraArgs as string[];
        const spec = tlsFiles(
            {
                cert: flag(args, "remote-write.server-tls-cert"),
                key: flag(args, "remote-write.server-tls-key"),
                ca: flag(args, "remote-write.server-tls-client-ca"),
            },
            chartMounts(ingestor),
        );
        assert.equal(spec.profile, "thanos-store");
        assert.equal(flag(args, "receive.capnproto-address"), "127.0.0.1:19391");
    });
});

describe("Thanos StoreAPI: real handshakes, each client over the five-case matrix", () => {
    const work = tempDir("store-tls");
    const seenByServer: string[] = [];
    const refusals: string[] = [];
    let ca: Authority;
    let server: tls.Server;
    let port: number;
    const clients: StoreClient[] = [];
    const identities = new Map<string, Map<IdentityName, Issued | undefined>>();

    before(async () => {
        const caSpec = specs.find((s) => s.kind === "ca");
        assert.ok(caSpec);
        ca = await issueCa(caSpec);
        const foreignCa = await issueCa(caSpec);

        // The server, as the Store Gateway's flags set it up, on files in a Secret's layout.
        const gateway = thanos.storeGateway;
        const { spec: serverSpec, minVersion } = storeServer(gateway.extraArgs, chartMounts(gateway));
        const dir = writeTlsSecret(path.join(work, "server"), await issueLeaf(serverSpec, ca), ca);
        const file = (f: string) => fs.readFileSync(path.join(dir, path.basename(f)));
        server = tls.createServer(
            {
                cert: file(flag(gateway.extraArgs, "grpc-server-tls-cert")),
                key: file(flag(gateway.extraArgs, "grpc-server-tls-key")),
                ca: file(flag(gateway.extraArgs, "grpc-server-tls-client-ca")),
                requestCert: true,
                // Checked below, as `rejectUnauthorized` would, keeping OpenSSL's reason for the test.
                rejectUnauthorized: false,
                minVersion: minVersion === "1.3" ? "TLSv1.3" : "TLSv1.2",
            },
            (socket) => {
                if (!socket.authorized) {
                    const presented = Object.keys(socket.getPeerCertificate()).length > 0;
                    refusals.push(presented ? String(socket.authorizationError) : "NO_CERTIFICATE");
                    socket.destroy();
                    return;
                }
                const cn = String(socket.getPeerCertificate().subject?.CN ?? "");
                seenByServer.push(cn);
                socket.end(`${cn}\n`);
            },
        );
        server.on("tlsClientError", (error: NodeJS.ErrnoException) => refusals.push(error.code ?? error.message));
        port = await freePort();
        await new Promise<void>((resolve) => server.listen(port, HOST, resolve));

        // The clients, as their flags set them up.
        const query = thanos.query;
        const router = thanos.receive.router;
        const clientFlags = {
            "Thanos Query": {
                args: query.extraArgs as string[],
                where: chartMounts(query),
                prefix: "grpc-client",
                secure: "grpc-client-tls-secure",
                name: "grpc-client-server-name",
            },
            "the Receive router": {
                args: router.extraArgs as string[],
                where: chartMounts(router),
                prefix: "remote-write.client",
                secure: "remote-write.client-tls-secure",
                name: "remote-write.client-server-name",
            },
        };
        for (const [name, c] of Object.entries(clientFlags)) {
            assert.ok(c.args.includes(`--${c.secure}`), `${name} dials without TLS`);
            const spec = tlsFiles(
                {
                    cert: flag(c.args, `${c.prefix}-tls-cert`),
                    key: flag(c.args, `${c.prefix}-tls-key`),
                    ca: flag(c.args, `${c.prefix}-tls-ca`),
                },
                c.where,
            );
            assert.equal(path.dirname(flag(c.args, `${c.prefix}-tls-cert`)), STORE_CLIENT_TLS_DIR);
            clients.push({ name, spec, servername: flag(c.args, c.name) });
            const now = Date.now();
            identities.set(
                name,
                new Map<IdentityName, Issued | undefined>([
                    ["none", undefined],
                    ["foreign", await issueLeaf(spec, foreignCa)],
                    [
                        "expired",
                        await issueLeaf(spec, ca, {
                            notBefore: new Date(now - 48 * HOUR_MS),
                            notAfter: new Date(now - HOUR_MS),
                        }),
                    ],
                    ["noClientAuth", await issueLeaf({ ...spec, extendedKeyUsages: ["server_auth"] }, ca)],
                    ["valid", await issueLeaf(spec, ca)],
                ]),
            );
        }
    });

    after(async () => {
        await new Promise((resolve) => server?.close(resolve));
    });

    it("dials with each client's own service identity, verifying the one name every store carries", () => {
        assert.deepEqual(
            clients.map((c) => [c.name, c.spec.profile, c.servername]),
            [
                ["Thanos Query", "thanos-query", "thanos-store.observability.svc"],
                ["the Receive router", "thanos-router", "thanos-store.observability.svc"],
            ],
        );
    });

    for (const name of ["Thanos Query", "the Receive router"]) {
        describe(name, () => {
            const client = () => clients.find((c) => c.name === name) as StoreClient;
            const identity = (id: IdentityName) => identities.get(name)?.get(id);

            it("completes the handshake with its certificate; the server verified its CN", async () => {
                seenByServer.length = 0;
                const outcome = await handshake(port, client().servername, ca, identity("valid"));
                assert.deepEqual(outcome, { line: `${client().spec.profile}.observability` });
                assert.deepEqual(seenByServer, [`${client().spec.profile}.observability`]);
            });

            for (const [id, reason] of Object.entries(REFUSED)) {
                const title = {
                    none: "no certificate",
                    foreign: "a certificate from a foreign CA of the same name",
                    expired: "an expired certificate",
                    noClientAuth: "a certificate without clientAuth",
                }[id];
                it(`is refused with ${title}`, async () => {
                    seenByServer.length = 0;
                    refusals.length = 0;
                    const outcome = await handshake(port, client().servername, ca, identity(id as IdentityName));
                    assert.equal(outcome.line ?? "", "", "the server answered");
                    assert.deepEqual(refusals, [reason]);
                    assert.deepEqual(seenByServer, []);
                });
            }

            it("refuses the server under a name its certificate does not carry", async () => {
                const outcome = await handshake(port, "thanos-query.observability.svc", ca, identity("valid"));
                assert.deepEqual(outcome, { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
            });
        });
    }
});
