import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";

import type { CertificateSpec } from "../../components/pki/profiles";
import { HOST } from "./processes";
import { issueCa, issueLeaf } from "./x509";

/**
 * A Kubernetes API server stand-in on 127.0.0.1, over HTTPS with a bearer token, for the calls
 * the remediator makes: read a Deployment or StatefulSet, merge-patch its metadata (with the
 * resourceVersion precondition), merge-patch its `scale` subresource, create an
 * `events.k8s.io/v1` Event. Answers as the real API does (objects, `Status` errors, 409 on a
 * stale resourceVersion, 415 on a wrong patch type, 403 outside the namespaces it grants) and
 * records every request.
 */

export interface StandInWorkload {
    namespace: string;
    kind: "Deployment" | "StatefulSet";
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    replicas: number;
}

export interface RecordedRequest {
    method: string;
    path: string;
    contentType: string | undefined;
    authorization: string | undefined;
    body: unknown;
    status: number;
    at: number;
}

interface Stored {
    kind: StandInWorkload["kind"];
    metadata: {
        name: string;
        namespace: string;
        uid: string;
        resourceVersion: string;
        labels: Record<string, string>;
        annotations: Record<string, string>;
    };
    spec: { replicas: number };
}

export interface KubeStandIn {
    url: string;
    port: number;
    /** Directory laid out as a pod's service account mount: `ca.crt`, `token`. */
    serviceAccountDir: string;
    token: string;
    requests: RecordedRequest[];
    workload(namespace: string, kind: StandInWorkload["kind"], name: string): Stored | undefined;
    /** Events created, as posted. */
    events(): Record<string, unknown>[];
    close(): Promise<void>;
}

const RESOURCE_KIND: Record<string, StandInWorkload["kind"]> = {
    deployments: "Deployment",
    statefulsets: "StatefulSet",
};
const WORKLOAD_PATH =
    /^\/apis\/apps\/v1\/namespaces\/([a-z0-9-]+)\/(deployments|statefulsets)\/([a-z0-9.-]+)(\/scale)?$/;
const EVENTS_PATH = /^\/apis\/events\.k8s\.io\/v1\/namespaces\/([a-z0-9-]+)\/events$/;
const MERGE_PATCH = "application/merge-patch+json";
const EVENT_REQUIRED = [
    "eventTime",
    "reportingController",
    "reportingInstance",
    "action",
    "reason",
    "type",
    "regarding",
];

const authoritySpec = (id: string, kind: "ca" | "server", dnsNames: string[]): CertificateSpec => ({
    id,
    profile: "query-gateway",
    kind,
    subject: { organization: "kube-stand-in", organizationalUnit: "test", commonName: id },
    dnsNames,
    keyUsages: kind === "ca" ? ["cert_signing", "digital_signature"] : ["digital_signature"],
    extendedKeyUsages: kind === "ca" ? [] : ["server_auth"],
    validityHours: 24,
    renewBeforeHours: 1,
});

function status(code: number, reason: string, message: string) {
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

/**
 * Starts the stand-in with the given workloads. `allowedNamespaces`, when given, plays RBAC:
 * any request elsewhere gets 403 Forbidden.
 */
export async function startKubeApi(
    dir: string,
    workloads: StandInWorkload[],
    options: { allowedNamespaces?: string[] } = {},
): Promise<KubeStandIn> {
    const ca = await issueCa(authoritySpec("kube-ca", "ca", []));
    const serving = await issueLeaf(authoritySpec("kube-apiserver", "server", [HOST]), ca);
    const serviceAccountDir = path.join(dir, "serviceaccount");
    fs.mkdirSync(serviceAccountDir, { recursive: true });
    const token = `token-${randomUUID()}`;
    fs.writeFileSync(path.join(serviceAccountDir, "ca.crt"), ca.cert);
    fs.writeFileSync(path.join(serviceAccountDir, "token"), token);

    let version = 100;
    const store = new Map<string, Stored>();
    const keyOf = (ns: string, kind: string, name: string) => `${ns}/${kind}/${name}`;
    for (const w of workloads) {
        store.set(keyOf(w.namespace, w.kind, w.name), {
            kind: w.kind,
            metadata: {
                name: w.name,
                namespace: w.namespace,
                uid: randomUUID(),
                resourceVersion: String(++version),
                labels: { ...w.labels },
                annotations: { ...w.annotations },
            },
            spec: { replicas: w.replicas },
        });
    }
    const requests: RecordedRequest[] = [];
    const events: Record<string, unknown>[] = [];

    const handle = (
        method: string,
        url: string,
        contentType: string | undefined,
        auth: string | undefined,
        body: unknown,
    ) => {
        if (auth !== `Bearer ${token}`) return { code: 401, body: status(401, "Unauthorized", "Unauthorized") };
        const workload = WORKLOAD_PATH.exec(url);
        const event = EVENTS_PATH.exec(url);
        const namespace = workload?.[1] ?? event?.[1];
        if (namespace !== undefined && options.allowedNamespaces && !options.allowedNamespaces.includes(namespace)) {
            return { code: 403, body: status(403, "Forbidden", `forbidden in namespace "${namespace}"`) };
        }
        if (workload !== null) {
            const [, ns, resource, name, scale] = workload as unknown as [string, string, string, string, string?];
            const kind = RESOURCE_KIND[resource] as StandInWorkload["kind"];
            const stored = store.get(keyOf(ns, kind, name));
            if (stored === undefined) {
                return { code: 404, body: status(404, "NotFound", `${resource}.apps "${name}" not found`) };
            }
            if (method === "GET" && scale === undefined) return { code: 200, body: manifest(stored) };
            if (method !== "PATCH") return { code: 405, body: status(405, "MethodNotAllowed", method) };
            if (contentType !== MERGE_PATCH) {
                return {
                    code: 415,
                    body: status(
                        415,
                        "UnsupportedMediaType",
                        `the body of the request was in an unknown format - accepted media types include: ${MERGE_PATCH}`,
                    ),
                };
            }
            const patch = body as {
                metadata?: { annotations?: Record<string, string | null>; resourceVersion?: string };
                spec?: { replicas?: number };
            };
            if (scale !== undefined) {
                const replicas = patch.spec?.replicas;
                if (typeof replicas !== "number" || replicas < 0) {
                    return { code: 422, body: status(422, "Invalid", "spec.replicas: Invalid value") };
                }
                stored.spec.replicas = replicas;
                stored.metadata.resourceVersion = String(++version);
                return {
                    code: 200,
                    body: {
                        kind: "Scale",
                        apiVersion: "autoscaling/v1",
                        metadata: { name, namespace: ns, resourceVersion: stored.metadata.resourceVersion },
                        spec: { replicas },
                        status: { replicas },
                    },
                };
            }
            const precondition = patch.metadata?.resourceVersion;
            if (precondition !== undefined && precondition !== stored.metadata.resourceVersion) {
                return {
                    code: 409,
                    body: status(
                        409,
                        "Conflict",
                        `Operation cannot be fulfilled on ${resource}.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
                    ),
                };
            }
            for (const [k, v] of Object.entries(patch.metadata?.annotations ?? {})) {
                if (v === null) delete stored.metadata.annotations[k];
                else stored.metadata.annotations[k] = v;
            }
            if (typeof patch.spec?.replicas === "number") stored.spec.replicas = patch.spec.replicas;
            stored.metadata.resourceVersion = String(++version);
            return { code: 200, body: manifest(stored) };
        }
        if (event !== null && method === "POST") {
            const posted = body as Record<string, unknown>;
            const missing = EVENT_REQUIRED.filter((k) => posted?.[k] === undefined || posted[k] === "");
            if (posted?.apiVersion !== "events.k8s.io/v1" || posted.kind !== "Event" || missing.length > 0) {
                return { code: 422, body: status(422, "Invalid", `Event is invalid: missing ${missing.join(", ")}`) };
            }
            events.push(posted);
            const meta = (posted.metadata ?? {}) as { generateName?: string };
            return {
                code: 201,
                body: {
                    ...posted,
                    metadata: { ...meta, name: `${meta.generateName ?? ""}${randomUUID().slice(0, 8)}` },
                },
            };
        }
        return { code: 404, body: status(404, "NotFound", "the server could not find the requested resource") };
    };

    const server = https.createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let body: unknown = undefined;
            try {
                body = text === "" ? undefined : JSON.parse(text);
            } catch {
                body = text;
            }
            const contentType = req.headers["content-type"];
            const result = handle(req.method ?? "", req.url ?? "", contentType, req.headers.authorization, body);
            requests.push({
                method: req.method ?? "",
                path: req.url ?? "",
                contentType,
                authorization: req.headers.authorization,
                body,
                status: result.code,
                at: Date.now(),
            });
            res.writeHead(result.code, { "content-type": "application/json" }).end(JSON.stringify(result.body));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const port = (server.address() as { port: number }).port;
    return {
        url: `https://${HOST}:${port}`,
        port,
        serviceAccountDir,
        token,
        requests,
        workload: (ns, kind, name) => store.get(keyOf(ns, kind, name)),
        events: () => events,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

function manifest(stored: Stored) {
    return {
        apiVersion: "apps/v1",
        kind: stored.kind,
        metadata: structuredClone(stored.metadata),
        spec: { ...stored.spec, selector: { matchLabels: { app: stored.metadata.name } } },
        status: { replicas: stored.spec.replicas },
    };
}
