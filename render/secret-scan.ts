import {
    holdsPrivateKey,
    isCredentialKey,
    isLiteralCredential,
    isPrivateKeyLabel,
    pemLabels,
} from "../policy/secret-material";
import type { ResourceRecord } from "./records";
import { ResourceRef, Secret, Unknown } from "./values";

/**
 * The secret scan: walks the whole desired state of a stack (every resource's inputs and the
 * stack outputs) and reports key material or secret values where they do not belong.
 *
 * - A Kubernetes Secret's `data`/`stringData` must be marked secret.
 * - Secret-marked values may live only there, in the tls provider's own inputs (the PKI), in
 *   provider configuration, and in stack outputs: never in a ConfigMap, Helm values or a
 *   workload spec.
 * - A PEM block may appear in clear only as a certificate or request among the tls provider's
 *   inputs; a private key never appears in clear.
 * - A sensitive value (a private key, or a Secret's data other than a certificate) must not
 *   appear in clear anywhere else.
 * - A property named like a credential (password, token, private key...) must be secret, unless
 *   it only names a mounted file holding the credential.
 */

const SECRET_TYPE = "kubernetes:core/v1:Secret";
const SECRET_DATA = new Set(["data", "stringData"]);
/** Shorter secret values are too likely to collide with ordinary words to search for. */
const MIN_SECRET_LENGTH = 12;

export interface ScanResult {
    problems: string[];
    /** How many PEM blocks the scan saw, in clear or secret: proof it looked at key material. */
    pemBlocks: number;
    /** How many secret-marked values it saw. */
    secretValues: number;
}

interface Visit {
    /** `type::name` of the resource, or `stack output`. */
    owner: string;
    /** Path of the value inside the owner. */
    path: string;
    value: string;
    secret: boolean;
    /** Whether the value is text: a flag or a number is never a credential. */
    text: boolean;
    /** Whether this place may hold a secret-marked value. */
    mayHoldSecret: boolean;
    /** Whether a certificate or request PEM may appear here in clear. */
    mayHoldCertificate: boolean;
    /** Whether this place must be secret (Secret data). */
    mustBeSecret: boolean;
}

type Emit = (path: string, v: string, secret: boolean, text: boolean) => void;

function walk(value: unknown, path: string, secret: boolean, emit: Emit) {
    if (value instanceof Secret) return walk(value.value, path, true, emit);
    if (value instanceof Unknown || value instanceof ResourceRef || value === null || value === undefined) return;
    if (Array.isArray(value)) {
        value.forEach((v, i) => walk(v, `${path}[${i}]`, secret, emit));
        return;
    }
    if (typeof value === "object") {
        for (const [k, v] of Object.entries(value)) walk(v, path === "" ? k : `${path}.${k}`, secret, emit);
        return;
    }
    emit(path, String(value), secret, typeof value === "string");
}

function visits(records: readonly ResourceRecord[], outputs: Record<string, unknown>): Visit[] {
    const all: Visit[] = [];
    for (const record of records) {
        const owner = `${record.type}::${record.name}`;
        const isSecretObject = record.type === SECRET_TYPE;
        const isPki = record.type.startsWith("tls:");
        const isProvider = record.type.startsWith("pulumi:providers:");
        walk(record.inputs, "", false, (path, value, secret, text) => {
            const inSecretData = isSecretObject && SECRET_DATA.has(path.split(/[.[]/)[0] ?? "");
            all.push({
                owner,
                path,
                value,
                secret,
                text,
                mayHoldSecret: inSecretData || isPki || isProvider,
                mayHoldCertificate: isPki,
                mustBeSecret: inSecretData,
            });
        });
    }
    walk(outputs, "", false, (path, value, secret, text) => {
        all.push({
            owner: "stack output",
            path,
            value,
            secret,
            text,
            mayHoldSecret: true,
            mayHoldCertificate: false,
            mustBeSecret: false,
        });
    });
    return all;
}

/** Scans decoded resource records and stack outputs; see the module comment for the rules. */
export function scanForLeaks(records: readonly ResourceRecord[], outputs: Record<string, unknown>): ScanResult {
    const all = visits(records, outputs);
    const problems: string[] = [];
    const at = (v: Visit) => `${v.owner} ${v.path}`;
    let pemBlocks = 0;

    // Certificates are public even inside a Secret; the bundle output is secret as a whole but
    // carries public facts too. Sensitive are keys, and a Secret's data that is not a certificate.
    const sensitive = new Set(
        all
            .filter(
                (v) =>
                    v.secret &&
                    v.value.length >= MIN_SECRET_LENGTH &&
                    (holdsPrivateKey(v.value) || (v.mustBeSecret && !v.path.endsWith(".crt"))),
            )
            .map((v) => v.value),
    );

    for (const v of all) {
        const blocks = pemLabels(v.value);
        pemBlocks += blocks.length;
        if (v.mustBeSecret && !v.secret) {
            problems.push(`${at(v)}: Secret data that is not marked secret`);
        }
        if (v.secret && !v.mayHoldSecret) {
            problems.push(`${at(v)}: a secret value outside a Secret resource`);
        }
        if (!v.secret) {
            for (const label of blocks) {
                if (isPrivateKeyLabel(label)) {
                    problems.push(`${at(v)}: a private key (${label}) in clear`);
                } else if (!v.mayHoldCertificate && !v.mustBeSecret) {
                    problems.push(`${at(v)}: a PEM block (${label}) outside a Secret resource`);
                }
            }
            const lastKey =
                v.path
                    .split(".")
                    .pop()
                    ?.replace(/\[\d+\]$/, "") ?? "";
            if (isCredentialKey(lastKey) && v.text && isLiteralCredential(v.value)) {
                problems.push(`${at(v)}: a credential-named value that is not marked secret`);
            }
            for (const secret of sensitive) {
                if (v.value.includes(secret)) {
                    problems.push(`${at(v)}: holds in clear a sensitive value that is secret elsewhere`);
                    break;
                }
            }
        }
    }
    return { problems, pemBlocks, secretValues: all.filter((v) => v.secret).length };
}
