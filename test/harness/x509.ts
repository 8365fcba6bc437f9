// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API
// loaded first.
import "reflect-metadata";

import * as fs from "node:fs";
import { isIP } from "node:net";
import * as path from "node:path";

import * as x509 from "@peculiar/x509";

import type { CertificateSpec, ExtendedKeyUsage, KeyUsage } from "../../components/pki/profiles";

/**
 * Real certificates from the fleet's certificate specs, issued with @peculiar/x509 on Node's
 * WebCrypto (ECDSA P-256, as the Pki component), so TLS tests can run real servers on them.
 * Also the two encoders a Prometheus remote-write request needs: protobuf and snappy.
 */

const KEY_ALGORITHM: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING_ALGORITHM: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

const KEY_USAGE_FLAGS: Record<KeyUsage, x509.KeyUsageFlags> = {
    digital_signature: x509.KeyUsageFlags.digitalSignature,
    cert_signing: x509.KeyUsageFlags.keyCertSign,
    crl_signing: x509.KeyUsageFlags.cRLSign,
};

const EXTENDED_KEY_USAGES: Record<ExtendedKeyUsage, x509.ExtendedKeyUsage> = {
    server_auth: x509.ExtendedKeyUsage.serverAuth,
    client_auth: x509.ExtendedKeyUsage.clientAuth,
};

const HOUR_MS = 3_600_000;

/** A certificate and its key, as the PEM files of a `kubernetes.io/tls` Secret hold them. */
export interface Issued {
    spec: CertificateSpec;
    /** The certificate, PEM. */
    cert: string;
    /** The private key, PKCS#8 PEM. */
    key: string;
}

/** An issued CA, with what it takes to sign. */
export interface Authority extends Issued {
    certificate: x509.X509Certificate;
    privateKey: CryptoKey;
}

/** Overrides of a certificate's validity; the spec's lifetime from now otherwise. */
export interface Validity {
    notBefore?: Date;
    notAfter?: Date;
}

function subjectName(spec: CertificateSpec): x509.JsonName {
    return [
        { O: [spec.subject.organization] },
        { OU: [spec.subject.organizationalUnit] },
        { CN: [spec.subject.commonName] },
    ];
}

function validity(spec: CertificateSpec, overrides: Validity): { notBefore: Date; notAfter: Date } {
    // Certificate times have a resolution of one second; never start after "now".
    const notBefore = overrides.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000);
    const notAfter = overrides.notAfter ?? new Date(notBefore.getTime() + spec.validityHours * HOUR_MS);
    return { notBefore, notAfter };
}

function usageExtensions(spec: CertificateSpec): x509.Extension[] {
    const extensions: x509.Extension[] = [];
    if (spec.keyUsages.length > 0) {
        const flags = spec.keyUsages.reduce((acc, usage) => acc | KEY_USAGE_FLAGS[usage], 0);
        extensions.push(new x509.KeyUsagesExtension(flags, true));
    }
    if (spec.extendedKeyUsages.length > 0) {
        extensions.push(new x509.ExtendedKeyUsageExtension(spec.extendedKeyUsages.map((u) => EXTENDED_KEY_USAGES[u])));
    }
    if (spec.dnsNames.length > 0) {
        extensions.push(
            new x509.SubjectAlternativeNameExtension(
                // An IP literal (a stand-in on 127.0.0.1) is an IP address name, not a DNS one.
                spec.dnsNames.map((value): x509.JsonGeneralName => ({ type: isIP(value) ? "ip" : "dns", value })),
            ),
        );
    }
    return extensions;
}

async function generateKeys(): Promise<CryptoKeyPair> {
    return crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
    const der = await crypto.subtle.exportKey("pkcs8", key);
    return x509.PemConverter.encode(der, "PRIVATE KEY");
}

/**
 * A self-signed CA from a `ca` spec. Issuing the same spec twice gives two CAs with the same
 * name and different keys: the second one is a foreign CA that only looks like the fleet's.
 */
export async function issueCa(spec: CertificateSpec, overrides: Validity = {}): Promise<Authority> {
    if (spec.kind !== "ca") throw new Error(`${spec.id} is not a CA certificate spec`);
    const keys = await generateKeys();
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
        name: subjectName(spec),
        keys,
        ...validity(spec, overrides),
        signingAlgorithm: SIGNING_ALGORITHM,
        extensions: [
            new x509.BasicConstraintsExtension(true, undefined, true),
            ...usageExtensions(spec),
            await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        ],
    });
    return {
        spec,
        cert: certificate.toString("pem"),
        key: await privateKeyPem(keys.privateKey),
        certificate,
        privateKey: keys.privateKey,
    };
}

/** A server or client certificate from its spec, signed by `ca`. */
export async function issueLeaf(spec: CertificateSpec, ca: Authority, overrides: Validity = {}): Promise<Issued> {
    if (spec.kind === "ca") throw new Error(`${spec.id} is a CA certificate spec`);
    const keys = await generateKeys();
    const certificate = await x509.X509CertificateGenerator.create({
        subject: subjectName(spec),
        issuer: ca.certificate.subjectName,
        publicKey: keys.publicKey,
        signingKey: ca.privateKey,
        ...validity(spec, overrides),
        signingAlgorithm: SIGNING_ALGORITHM,
        extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            ...usageExtensions(spec),
            await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
            await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
        ],
    });
    return { spec, cert: certificate.toString("pem"), key: await privateKeyPem(keys.privateKey) };
}

/** Writes `tls.crt`, `tls.key` and `ca.crt` into `dir`, as a mounted `kubernetes.io/tls` Secret. */
export function writeTlsSecret(dir: string, issued: Issued, ca: Issued): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "tls.crt"), issued.cert);
    fs.writeFileSync(path.join(dir, "tls.key"), issued.key, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, "ca.crt"), ca.cert);
    return dir;
}

// --- Prometheus remote-write: protobuf WriteRequest, snappy block format ---------------------

function varint(value: number | bigint): number[] {
    let n = BigInt(value);
    if (n < 0n) throw new Error("negative varints are not encoded here");
    const bytes: number[] = [];
    while (n >= 0x80n) {
        bytes.push(Number(n & 0x7fn) | 0x80);
        n >>= 7n;
    }
    bytes.push(Number(n));
    return bytes;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;

const tag = (field: number, wireType: number): number[] => varint((field << 3) | wireType);

function lengthDelimited(field: number, payload: Uint8Array): Buffer {
    return Buffer.concat([Buffer.from([...tag(field, WIRE_LENGTH_DELIMITED), ...varint(payload.length)]), payload]);
}

function stringField(field: number, value: string): Buffer {
    return lengthDelimited(field, Buffer.from(value, "utf8"));
}

function doubleField(field: number, value: number): Buffer {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(value);
    return Buffer.concat([Buffer.from(tag(field, WIRE_FIXED64)), bytes]);
}

function int64Field(field: number, value: number): Buffer {
    return Buffer.from([...tag(field, WIRE_VARINT), ...varint(value)]);
}

export interface Sample {
    value: number;
    /** Milliseconds since the epoch. */
    timestampMs: number;
}

export interface TimeSeries {
    /** Labels, `__name__` included. */
    labels: Record<string, string>;
    samples: Sample[];
}

/**
 * A `prometheus.WriteRequest` (remote-write 1.0): `timeseries = 1`, each a `TimeSeries` of
 * `labels = 1` (`Label`: `name = 1`, `value = 2`) and `samples = 2` (`Sample`: `double value = 1`,
 * `int64 timestamp = 2`). Labels go sorted by name, as the protocol requires.
 */
export function encodeWriteRequest(series: readonly TimeSeries[]): Buffer {
    return Buffer.concat(
        series.map((s) => {
            const labels = Object.entries(s.labels)
                .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
                .map(([name, value]) =>
                    lengthDelimited(1, Buffer.concat([stringField(1, name), stringField(2, value)])),
                );
            const samples = s.samples.map((sample) =>
                lengthDelimited(2, Buffer.concat([doubleField(1, sample.value), int64Field(2, sample.timestampMs)])),
            );
            return lengthDelimited(1, Buffer.concat([...labels, ...samples]));
        }),
    );
}

/** Longest literal one snappy element can carry with a two-byte length. */
const SNAPPY_MAX_LITERAL = 0x10000;

/**
 * Snappy block format (not the framed stream format), literals only: the uncompressed length
 * as a varint, then literal elements. A valid block that any decoder reads; it just does not
 * compress.
 */
export function snappyBlock(data: Uint8Array): Buffer {
    const parts: Buffer[] = [Buffer.from(varint(data.length))];
    for (let offset = 0; offset < data.length; offset += SNAPPY_MAX_LITERAL) {
        const chunk = data.subarray(offset, offset + SNAPPY_MAX_LITERAL);
        const n = chunk.length - 1;
        // Tag byte: element type 0b00 (literal) in the low bits; lengths up to 60 fit the upper
        // six bits, longer ones follow in one (60) or two (61) little-endian bytes.
        const header = n < 60 ? [n << 2] : n < 0x100 ? [60 << 2, n] : [61 << 2, n & 0xff, n >> 8];
        parts.push(Buffer.from(header), Buffer.from(chunk));
    }
    return Buffer.concat(parts);
}
