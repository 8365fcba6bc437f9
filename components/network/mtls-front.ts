import { createHash } from "node:crypto";

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { MainConfig } from "../../config";
import { annotationKeys, commonLabels } from "../core/labels";
import { RESOURCES, REPLICAS, type Brick } from "../core/resources";
import { images } from "../core/versions";
import { KPS_RELEASE, THANOS_RELEASE } from "../metrics/values";
import { TLS_MOUNT_DIR } from "../pki/tls-mount";
import {
    OTLP_PORTS,
    TEMPO_HTTP_PORT,
    TEMPO_TENANT_HEADER,
    tempoQueryService,
    tempoReceiverService,
} from "../traces/values";
import { INGEST, QUERY_GATEWAY, type IngestSignal } from "./endpoints";
import { exposeIngest } from "./exposure";
import { identityMapsSnippet, tempPathsSnippet, tlsServerSnippet } from "./nginx-mtls";

/**
 * Client-verifying fronts: nginx with TLS 1.3 and the fleet CA before a brick that cannot
 * require client certificates on its own port without failing its probes (P1), or that cannot
 * take the tenant from the certificate (Tempo).
 * Each listener forwards to one in-cluster upstream, and lets through only the requests the
 * client's identity may make: the certificate's OU (`cluster` or `service`), the method and
 * the path, matched as one string against the listener's allow list.
 */

/** Plain port for the kubelet's probes; it answers /healthz and nothing else. */
export const PROBE_PORT = 8080;
const CONFIG_DIR = "/etc/nginx";
/** Where a front mounts the client certificate it dials gRPC upstreams with. */
export const UPSTREAM_TLS_DIR = "/etc/observability/upstream-tls";

/** One TLS listener of a front. */
export interface FrontListener {
    /** Port name, and the suffix of the listener's allow variable. */
    name: string;
    /** The Service's port. */
    port: number;
    /** The port nginx listens on. */
    targetPort: number;
    /**
     * The upstream's in-cluster `host:port`: plain HTTP, or gRPC over mTLS with the front's
     * client certificate (the host is the name verified).
     */
    upstream: string;
    /**
     * What may pass: regular expressions over `"<OU> <METHOD> <path>"`, for example
     * `^service GET /api/v2/alerts$`. Anything else gets 403 before the upstream.
     */
    allow: readonly string[];
    /**
     * `grpc`: HTTP/2 on the listener, and the upstream dialled over mTLS with the front's client
     * certificate. Absent: HTTP/1.1 to a plain upstream.
     */
    protocol?: "grpc";
    /**
     * A header set to the client certificate's CN on every request, replacing whatever the
     * client sent: the tenant of a multi-tenant upstream.
     */
    tenantHeader?: string;
}

export interface FrontConfOptions {
    /** The listeners, with the address nginx binds each to (a port, or `address:port`). */
    listeners: readonly (Pick<FrontListener, "name" | "upstream" | "allow" | "protocol" | "tenantHeader"> & {
        listen: string;
        /** The name a gRPC upstream's certificate is verified against: the upstream's host unless set. */
        upstreamServerName?: string;
    })[];
    /** `listen` of the probe server. */
    probeListen: string;
    /** Where the `kubernetes.io/tls` Secret is mounted. */
    tlsDir: string;
    /** Where the client certificate for gRPC upstreams is mounted. */
    upstreamTlsDir?: string;
    /** A writable directory for nginx's pid and temporary files. */
    tempDir: string;
}

const NGINX_NAME = /^[a-z][a-z0-9_]*$/;

/** The whole nginx.conf of a front: paths only, no key material. */
export function frontNginxConf(o: FrontConfOptions): string {
    const indented = (snippet: string, depth: number) =>
        snippet.split("\n").map((line) => `${"    ".repeat(depth)}${line}`);
    const allowMaps = o.listeners.map((l) => {
        if (!NGINX_NAME.test(l.name)) throw new Error(`front listener name ${JSON.stringify(l.name)} is not [a-z0-9_]`);
        const rules = l.allow.map((rule) => {
            if (rule.includes('"')) throw new Error(`allow rule ${JSON.stringify(rule)} contains a double quote`);
            return `"~${rule}" 1;`;
        });
        return `    map "$observability_ou $request_method $uri" $observability_allowed_${l.name} { default 0; ${rules.join(" ")} }`;
    });
    const servers = o.listeners.flatMap((l) => {
        const grpc = l.protocol === "grpc";
        if (l.tenantHeader !== undefined && !/^[A-Za-z][A-Za-z0-9-]*$/.test(l.tenantHeader)) {
            throw new Error(
                `front listener ${l.name}: tenant header ${JSON.stringify(l.tenantHeader)} is not a header name`,
            );
        }
        if (grpc && o.upstreamTlsDir === undefined) {
            throw new Error(`front listener ${l.name}: a gRPC upstream needs the front's client certificate`);
        }
        const set = grpc ? "grpc_set_header" : "proxy_set_header";
        return [
            "    server {",
            // `listen … http2`, not `http2 on`: the one spelling nginx takes both before 1.25.1
            // and after (where it is deprecated, with a warning, and still works).
            `        listen ${l.listen} ssl${grpc ? " http2" : ""};`,
            ...indented(tlsServerSnippet(o.tlsDir), 2),
            "        location / {",
            `            if ($observability_allowed_${l.name} = 0) { return 403; }`,
            // Replaces the client's own header of that name; empty (no CN) sends none at all.
            ...(l.tenantHeader !== undefined ? [`            ${set} ${l.tenantHeader} $observability_cn;`] : []),
            ...(grpc
                ? indented(
                      grpcUpstreamSnippet(
                          l.upstream,
                          l.upstreamServerName ?? l.upstream.replace(/:\d+$/, ""),
                          o.upstreamTlsDir as string,
                      ),
                      3,
                  )
                : []),
            ...(grpc ? [] : [`            proxy_pass http://${l.upstream};`]),
            "        }",
            "    }",
        ];
    });
    return [
        "worker_processes 1;",
        "error_log stderr warn;",
        `pid ${o.tempDir}/nginx.pid;`,
        "events { worker_connections 1024; }",
        "http {",
        ...indented(tempPathsSnippet(o.tempDir), 1),
        "    access_log off;",
        // Also the largest OTLP message Tempo's gRPC receiver takes (4 MiB, its default).
        "    client_max_body_size 4m;",
        // Range queries over a week of a fleet take longer than nginx's 60 s default.
        "    proxy_read_timeout 300s;",
        ...indented(identityMapsSnippet(), 1),
        ...allowMaps,
        ...servers,
        "    server {",
        `        listen ${o.probeListen};`,
        '        location = /healthz { return 200 "ok\\n"; }',
        "        location / { return 404; }",
        "    }",
        "}",
        "",
    ].join("\n");
}

/** nginx `location` lines: gRPC to `upstream` over TLS 1.3, verified as `name`, with the front's certificate. */
function grpcUpstreamSnippet(upstream: string, name: string, dir: string): string {
    return [
        `grpc_pass grpcs://${upstream};`,
        `grpc_ssl_certificate ${dir}/tls.crt;`,
        `grpc_ssl_certificate_key ${dir}/tls.key;`,
        `grpc_ssl_trusted_certificate ${dir}/ca.crt;`,
        "grpc_ssl_verify on;",
        `grpc_ssl_name ${name};`,
        "grpc_ssl_server_name on;",
        "grpc_ssl_protocols TLSv1.3;",
    ].join("\n");
}

/** What a front is: its Service, listeners, resources and, for an ingest, its exposure. */
export interface FrontSpec {
    /** Service and Deployment name; the server certificate's CN. */
    service: string;
    /** Resource profile brick. */
    brick: Brick;
    listeners: readonly FrontListener[];
    /** The ingest signal sub clusters reach this front for; absent for in-cluster fronts. */
    expose?: IngestSignal;
}

/** The alert ingest: sub clusters post alerts; Grafana and the reporter read them. */
export function alertIngestSpec(namespace: string): FrontSpec {
    return {
        service: INGEST.alerts.service,
        brick: "alertIngest",
        expose: "alerts",
        listeners: [
            {
                name: "alerts",
                port: INGEST.alerts.port,
                targetPort: INGEST.alerts.targetPort,
                upstream: `${KPS_RELEASE}-alertmanager.${namespace}.svc:9093`,
                allow: [
                    "^cluster POST /api/v2/alerts$",
                    "^service GET /api/v2/(?:alerts|alerts/groups|silences|status|receivers)$",
                ],
            },
        ],
    };
}

/** The gRPC method an OTLP trace exporter calls. */
export const OTLP_TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/**
 * The trace ingest: clusters' OTLP over gRPC, to Tempo with the tenant set from the client
 * certificate's CN (Tempo has no certificate-to-tenant mapping of its own), over mTLS again.
 */
export function traceIngestSpec(config: MainConfig): FrontSpec {
    return {
        service: INGEST.traces.service,
        brick: "traceIngest",
        expose: "traces",
        listeners: [
            {
                name: "traces",
                port: INGEST.traces.port,
                targetPort: INGEST.traces.targetPort,
                upstream: `${tempoReceiverService(config)}.${config.namespace}.svc:${OTLP_PORTS.grpc}`,
                allow: [`^cluster POST ${OTLP_TRACE_EXPORT.replace(/\./g, "\\.")}$`],
                protocol: "grpc",
                tenantHeader: TEMPO_TENANT_HEADER,
            },
        ],
    };
}

/** Thanos Query's HTTP port, kept by the gateway's metrics listener. */
export const THANOS_QUERY_HTTP_PORT = 10902;

/** Prometheus HTTP API read paths a service may call on Thanos Query, under /api/v1/. */
export const PROMQL_READ_PATHS = [
    "query",
    "query_range",
    "query_exemplars",
    "series",
    "labels",
    "label/[^/]+/values",
    "metadata",
    "rules",
    "alerts",
    "status/buildinfo",
] as const;

/**
 * The query gateway: services (Grafana, the reporter) read PromQL from Thanos Query and
 * traces from Tempo; a cluster certificate reads nothing, so a sub cluster's identity never
 * sees the fleet's data.
 */
export function queryGatewaySpec(config: MainConfig): FrontSpec {
    const ns = config.namespace;
    return {
        service: QUERY_GATEWAY,
        brick: "queryGateway",
        listeners: [
            {
                name: "metrics",
                port: THANOS_QUERY_HTTP_PORT,
                targetPort: THANOS_QUERY_HTTP_PORT,
                upstream: `${THANOS_RELEASE}-query.${ns}.svc:${THANOS_QUERY_HTTP_PORT}`,
                allow: [`^service (?:GET|POST) /api/v1/(?:${PROMQL_READ_PATHS.join("|")})$`],
            },
            {
                name: "traces",
                port: TEMPO_HTTP_PORT,
                targetPort: TEMPO_HTTP_PORT,
                upstream: `${tempoQueryService(config)}.${ns}.svc:${TEMPO_HTTP_PORT}`,
                // Tempo's HTTP API reads under /api/; its writes (OTLP) are on other ports.
                allow: ["^service GET /api/"],
            },
        ],
    };
}

/** The URL a service dials for one listener of a front, under the name its certificate carries. */
export function frontUrl(spec: FrontSpec, listener: string, namespace: string): string {
    const found = spec.listeners.find((l) => l.name === listener);
    if (found === undefined) throw new Error(`front ${spec.service} has no listener ${listener}`);
    return `https://${spec.service}.${namespace}.svc:${found.port}`;
}

export interface MtlsFrontArgs {
    config: MainConfig;
    spec: FrontSpec;
    /** The front's server certificate Secret and its revision. */
    tls: { secretName: string; revision: string };
    /** The client certificate Secret gRPC upstreams are dialled with, and its revision. */
    upstreamTls?: { secretName: string; revision: string };
}

/** A front's Deployment, Service, configuration and, for an ingest, exposure on main. */
export class MtlsFront extends pulumi.ComponentResource {
    constructor(name: string, args: MtlsFrontArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:MtlsFront", name, {}, opts);
        const { config, spec, tls, upstreamTls } = args;
        const labels = { ...commonLabels(config.cluster.name), "app.kubernetes.io/name": spec.service };
        const selector = { "app.kubernetes.io/name": spec.service };
        const metadata = { name: spec.service, namespace: config.namespace, labels };
        const conf = frontNginxConf({
            listeners: spec.listeners.map((l) => ({ ...l, listen: String(l.targetPort) })),
            probeListen: String(PROBE_PORT),
            tlsDir: TLS_MOUNT_DIR,
            ...(upstreamTls !== undefined ? { upstreamTlsDir: UPSTREAM_TLS_DIR } : {}),
            tempDir: "/tmp",
        });
        const configMap = new k8s.core.v1.ConfigMap(
            `${name}-config`,
            { metadata, data: { "nginx.conf": conf } },
            { parent: this },
        );
        new k8s.apps.v1.Deployment(
            name,
            {
                metadata,
                spec: {
                    replicas: REPLICAS[config.profile].front,
                    selector: { matchLabels: selector },
                    template: {
                        metadata: {
                            labels,
                            // nginx reads its certificate and configuration at start.
                            annotations: {
                                [annotationKeys.certificateRevision]: [tls.revision, upstreamTls?.revision]
                                    .filter((r) => r !== undefined)
                                    .join("."),
                                [annotationKeys.configRevision]: createHash("sha256")
                                    .update(conf)
                                    .digest("hex")
                                    .slice(0, 16),
                            },
                        },
                        spec: {
                            automountServiceAccountToken: false,
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: 101,
                                runAsGroup: 101,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            containers: [
                                {
                                    name: "nginx",
                                    image: images.nginxUnprivileged,
                                    ports: [
                                        ...spec.listeners.map((l) => ({ name: l.name, containerPort: l.targetPort })),
                                        { name: "probe", containerPort: PROBE_PORT },
                                    ],
                                    securityContext: {
                                        allowPrivilegeEscalation: false,
                                        readOnlyRootFilesystem: true,
                                        capabilities: { drop: ["ALL"] },
                                    },
                                    resources: RESOURCES[config.profile][spec.brick],
                                    readinessProbe: { httpGet: { path: "/healthz", port: "probe" } },
                                    livenessProbe: { httpGet: { path: "/healthz", port: "probe" } },
                                    volumeMounts: [
                                        {
                                            name: "config",
                                            mountPath: `${CONFIG_DIR}/nginx.conf`,
                                            subPath: "nginx.conf",
                                        },
                                        { name: "tls", mountPath: TLS_MOUNT_DIR, readOnly: true },
                                        ...(upstreamTls !== undefined
                                            ? [{ name: "upstream-tls", mountPath: UPSTREAM_TLS_DIR, readOnly: true }]
                                            : []),
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "config", configMap: { name: configMap.metadata.name } },
                                { name: "tls", secret: { secretName: tls.secretName } },
                                ...(upstreamTls !== undefined
                                    ? [{ name: "upstream-tls", secret: { secretName: upstreamTls.secretName } }]
                                    : []),
                                { name: "tmp", emptyDir: {} },
                            ],
                        },
                    },
                },
            },
            { parent: this },
        );
        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata,
                spec: {
                    selector,
                    ports: spec.listeners.map((l) => ({ name: l.name, port: l.port, targetPort: l.targetPort })),
                },
            },
            { parent: this },
        );
        if (spec.expose !== undefined) {
            exposeIngest(`${name}-exposure`, { config, signal: spec.expose, podSelector: selector }, { parent: this });
        }
        this.registerOutputs({});
    }
}
