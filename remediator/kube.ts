import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";

import { parse } from "yaml";

import type { LiveWorkload } from "./decide";
import type { WorkloadRef } from "./types";

/**
 * The few Kubernetes API calls the remediator and its restore command make, over plain HTTPS:
 * a client library would be most of the bundle for four requests. Credentials come from the
 * pod's service account, or from a kubeconfig (client certificate or token) for restore.
 */

/** An Event as `events.k8s.io/v1` takes it, minus what the client fills in. */
export interface EventSpec {
    regarding: WorkloadRef & { uid: string };
    type: "Normal" | "Warning";
    reason: string;
    action: string;
    note: string;
}

export interface KubeApi {
    /** The workload, or undefined when it does not exist. */
    getWorkload(ref: WorkloadRef): Promise<LiveWorkload | undefined>;
    /**
     * Sets (string) or removes (null) annotations. With a resourceVersion, fails with a conflict
     * when the object changed since it was read.
     */
    annotate(ref: WorkloadRef, annotations: Record<string, string | null>, resourceVersion?: string): Promise<void>;
    /** Sets the replica count through the scale subresource. */
    scale(ref: WorkloadRef, replicas: number): Promise<void>;
    createEvent(event: EventSpec): Promise<void>;
}

export class KubeError extends Error {
    constructor(
        message: string,
        readonly status?: number,
    ) {
        super(message);
    }
}

export interface Connection {
    /** `https://host:port` (or `http://` for a local proxy). */
    server: string;
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    /** A bearer token, or a file re-read at each request (projected tokens rotate). */
    token?: string;
    tokenFile?: string;
    /** Who writes: the `reportingInstance` of Events. */
    instance: string;
}

const TIMEOUT_MS = 10_000;
const MAX_BODY = 4 * 1024 * 1024;
const RESOURCES: Record<WorkloadRef["kind"], string> = { Deployment: "deployments", StatefulSet: "statefulsets" };

function workloadPath(ref: WorkloadRef): string {
    return `/apis/apps/v1/namespaces/${encodeURIComponent(ref.namespace)}/${RESOURCES[ref.kind]}/${encodeURIComponent(ref.name)}`;
}

export class HttpKube implements KubeApi {
    constructor(
        private readonly connection: Connection,
        private readonly controller: string,
        private readonly clock: () => number = Date.now,
    ) {}

    async getWorkload(ref: WorkloadRef): Promise<LiveWorkload | undefined> {
        const { status, body } = await this.request("GET", workloadPath(ref));
        if (status === 404) return undefined;
        expectOk(status, body, `reading ${ref.kind} ${ref.namespace}/${ref.name}`);
        const object = body as {
            metadata?: { uid?: string; resourceVersion?: string; labels?: unknown; annotations?: unknown };
            spec?: { replicas?: unknown };
        };
        const replicas = object.spec?.replicas;
        return {
            uid: String(object.metadata?.uid ?? ""),
            resourceVersion: String(object.metadata?.resourceVersion ?? ""),
            labels: stringMap(object.metadata?.labels),
            annotations: stringMap(object.metadata?.annotations),
            // The API server defaults an unset count to 1.
            replicas: typeof replicas === "number" ? replicas : 1,
        };
    }

    async annotate(ref: WorkloadRef, annotations: Record<string, string | null>, resourceVersion?: string) {
        const metadata = resourceVersion === undefined ? { annotations } : { annotations, resourceVersion };
        const { status, body } = await this.request("PATCH", workloadPath(ref), { metadata }, MERGE_PATCH);
        expectOk(status, body, `annotating ${ref.kind} ${ref.namespace}/${ref.name}`);
    }

    async scale(ref: WorkloadRef, replicas: number) {
        const { status, body } = await this.request(
            "PATCH",
            `${workloadPath(ref)}/scale`,
            { spec: { replicas } },
            MERGE_PATCH,
        );
        expectOk(status, body, `scaling ${ref.kind} ${ref.namespace}/${ref.name} to ${replicas}`);
    }

    async createEvent(event: EventSpec) {
        const { regarding } = event;
        const now = new Date(this.clock()).toISOString().replace(/Z$/, "000Z");
        const manifest = {
            apiVersion: "events.k8s.io/v1",
            kind: "Event",
            metadata: { generateName: `${regarding.name}.`, namespace: regarding.namespace },
            eventTime: now,
            reportingController: this.controller,
            reportingInstance: this.connection.instance,
            action: event.action,
            reason: event.reason,
            type: event.type,
            note: event.note.slice(0, 1024),
            regarding: {
                apiVersion: "apps/v1",
                kind: regarding.kind,
                namespace: regarding.namespace,
                name: regarding.name,
                uid: regarding.uid,
            },
        };
        const { status, body } = await this.request(
            "POST",
            `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(regarding.namespace)}/events`,
            manifest,
            "application/json",
        );
        expectOk(status, body, `creating an Event on ${regarding.kind} ${regarding.namespace}/${regarding.name}`);
    }

    private request(
        method: string,
        path: string,
        payload?: unknown,
        contentType?: string,
    ): Promise<{ status: number; body: unknown }> {
        const url = new URL(path, this.connection.server);
        const token =
            this.connection.tokenFile !== undefined
                ? fs.readFileSync(this.connection.tokenFile, "utf8").trim()
                : this.connection.token;
        const data = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
        const headers: Record<string, string> = { accept: "application/json" };
        if (token !== undefined) headers.authorization = `Bearer ${token}`;
        if (data !== undefined) {
            headers["content-type"] = contentType ?? "application/json";
            headers["content-length"] = String(data.length);
        }
        const transport = url.protocol === "https:" ? https : http;
        return new Promise((resolve, reject) => {
            const req = transport.request(
                url,
                {
                    method,
                    headers,
                    timeout: TIMEOUT_MS,
                    ...(url.protocol === "https:"
                        ? { ca: this.connection.ca, cert: this.connection.cert, key: this.connection.key }
                        : {}),
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    let size = 0;
                    res.on("data", (chunk: Buffer) => {
                        size += chunk.length;
                        if (size > MAX_BODY) {
                            req.destroy(
                                new KubeError(`${method} ${url.pathname}: answer larger than ${MAX_BODY} bytes`),
                            );
                            return;
                        }
                        chunks.push(chunk);
                    });
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        let body: unknown = text;
                        try {
                            body = text === "" ? undefined : JSON.parse(text);
                        } catch {
                            // Not JSON: kept as text for the error message.
                        }
                        resolve({ status: res.statusCode ?? 0, body });
                    });
                    res.on("error", reject);
                },
            );
            req.on("timeout", () =>
                req.destroy(new KubeError(`${method} ${url.pathname}: no answer in ${TIMEOUT_MS} ms`)),
            );
            req.on("error", (error) =>
                reject(
                    error instanceof KubeError ? error : new KubeError(`${method} ${url.pathname}: ${error.message}`),
                ),
            );
            req.end(data);
        });
    }
}

const MERGE_PATCH = "application/merge-patch+json";

function expectOk(status: number, body: unknown, what: string) {
    if (status >= 200 && status < 300) return;
    const message =
        typeof body === "object" && body !== null && typeof (body as { message?: unknown }).message === "string"
            ? (body as { message: string }).message
            : typeof body === "string"
              ? body.slice(0, 200)
              : "";
    throw new KubeError(`${what} failed: ${status}${message ? ` ${message}` : ""}`, status);
}

function stringMap(value: unknown): Record<string, string> {
    if (typeof value !== "object" || value === null) return {};
    return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).filter(
            (entry): entry is [string, string] => typeof entry[1] === "string",
        ),
    );
}

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The pod's own service account, as every in-cluster client finds it. */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env): Connection {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    if (host === undefined) throw new KubeError("not running in a pod: KUBERNETES_SERVICE_HOST is not set");
    // Overridable to run the same bundle outside a pod, against another API server.
    const dir = env.REMEDIATOR_SERVICE_ACCOUNT_DIR ?? SERVICE_ACCOUNT;
    return {
        server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
        ca: fs.readFileSync(`${dir}/ca.crt`),
        tokenFile: `${dir}/token`,
        instance: env.POD_NAME ?? env.HOSTNAME ?? "remediator",
    };
}

/**
 * A kubeconfig's current (or named) context: the cluster's server and CA, the user's client
 * certificate (what `talosctl kubeconfig` writes) or token. Exec plugins and auth providers are
 * refused with a clear message: use a kubeconfig with certificate or token credentials.
 */
export function kubeconfigConnection(file: string, context?: string): Connection {
    let config: Record<string, unknown>;
    try {
        config = parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (error) {
        throw new KubeError(`kubeconfig ${file}: ${(error as Error).message}`);
    }
    const named = (list: unknown, name: unknown, what: string): Record<string, unknown> => {
        const entry = Array.isArray(list)
            ? (list as Record<string, unknown>[]).find((item) => item?.name === name)
            : undefined;
        if (entry === undefined || typeof entry[what] !== "object" || entry[what] === null) {
            throw new KubeError(`kubeconfig ${file}: no ${what} named ${JSON.stringify(name)}`);
        }
        return entry[what] as Record<string, unknown>;
    };
    const contextName = context ?? config["current-context"];
    const ctx = named(config.contexts, contextName, "context");
    const cluster = named(config.clusters, ctx.cluster, "cluster");
    const user = named(config.users, ctx.user, "user");
    if (user.exec !== undefined || user["auth-provider"] !== undefined) {
        throw new KubeError(
            `kubeconfig ${file}: user ${JSON.stringify(ctx.user)} authenticates with an exec plugin or auth provider; ` +
                "restore needs client-certificate or token credentials",
        );
    }
    const material = (dataKey: string, fileKey: string, from: Record<string, unknown>): Buffer | undefined => {
        if (typeof from[dataKey] === "string") return Buffer.from(from[dataKey] as string, "base64");
        if (typeof from[fileKey] === "string") return fs.readFileSync(from[fileKey] as string);
        return undefined;
    };
    if (typeof cluster.server !== "string") throw new KubeError(`kubeconfig ${file}: cluster has no server`);
    return {
        server: cluster.server,
        ca: material("certificate-authority-data", "certificate-authority", cluster),
        cert: material("client-certificate-data", "client-certificate", user),
        key: material("client-key-data", "client-key", user),
        ...(typeof user.token === "string" ? { token: user.token } : {}),
        ...(typeof user.tokenFile === "string" ? { tokenFile: user.tokenFile } : {}),
        instance: "restore",
    };
}
