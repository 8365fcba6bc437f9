import { createHash } from "node:crypto";

import { stringify } from "yaml";

import type { MainConfig } from "../../config";
import { annotationKeys, DASHBOARD_LABEL, FOLDER_ANNOTATION } from "../core/labels";
import { RESOURCES } from "../core/resources";
import { inClusterEndpoint } from "../network/endpoints";
import { alertIngestSpec, frontUrl, queryGatewaySpec } from "../network/mtls-front";
import { tlsSecretName } from "../pki/profiles";
import { TEMPO_TENANT_HEADER } from "../traces/values";

/**
 * Grafana on main: chart values, and the datasources it reads the fleet through. Pure
 * functions of the configuration. Every datasource dials a client-verifying front with
 * Grafana's own client certificate (OU=service), which lets it read and nothing else.
 */

export const GRAFANA_RELEASE = "grafana";
/** The Secret holding the generated admin credentials, which the chart reads by name. */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
export const ADMIN_USER_KEY = "admin-user";
export const ADMIN_PASSWORD_KEY = "admin-password";
/** The Secret holding the OIDC client secret, when SSO is configured. */
export const GRAFANA_OIDC_SECRET = "grafana-oidc";
export const OIDC_SECRET_KEY = "client-secret";
/** Grafana's client certificate Secret, mounted as files the datasources name. */
export const GRAFANA_CLIENT_SECRET = tlsSecretName({ profile: "grafana", kind: "client" });
export const GRAFANA_CLIENT_DIR = "/etc/observability/grafana-client";

/** Fixed datasource UIDs: dashboards and correlations refer to them. */
export const DATASOURCE_UIDS = {
    metrics: "thanos",
    logs: "loki",
    traces: "tempo",
    alerts: "alertmanager",
} as const;

/**
 * The port Grafana's container listens on, which the Service's port 80 targets and users' ingress
 * reaches: the grafana chart's `service.targetPort` default, left as it is.
 */
export const GRAFANA_CONTAINER_PORT = 3000;

/** Grafana volume size per profile, unless `grafana.storageSize` says otherwise. */
export const GRAFANA_STORAGE = { small: "5Gi", medium: "10Gi", large: "20Gi" } as const;

/**
 * The label Tempo's metrics-generator gives the trace id of an exemplar, which the metrics
 * datasource turns into a link to the trace.
 */
export const EXEMPLAR_TRACE_ID_LABEL = "traceID";

/**
 * A trace id in a log line, as application loggers, Traefik's access log and OTLP log
 * bridges write it: `trace_id=…`, `"trace_id":"…"`, `traceID=…`, `"TraceId": "…"`. It runs
 * in the browser, so it uses no inline flags.
 */
export const TRACE_ID_PATTERN = '[Tt]race_?[Ii][Dd]"?[=:] ?"?([0-9a-fA-F]{16,32})';

/** Span attributes that become Loki labels when a trace links to its logs (attribute → label). */
export const SPAN_TO_LOG_LABELS = [
    { key: "cluster", value: "cluster" },
    { key: "k8s.namespace.name", value: "namespace" },
] as const;

/** Span attributes that become span-metrics labels when a trace links to its metrics. */
export const SPAN_TO_METRIC_LABELS = [
    { key: "cluster", value: "cluster" },
    { key: "service.name", value: "service" },
] as const;

/** Grafana's file expander: the value is read from the mounted file when provisioning runs. */
const fileRef = (name: "ca.crt" | "tls.crt" | "tls.key") => `$__file{${GRAFANA_CLIENT_DIR}/${name}}`;

/**
 * A string as provisioning must carry it so that Grafana and Helm give back `raw`:
 * provisioning expands `$NAME`, `${NAME}` and `$__file{…}` and keeps `$$` as one `$` (P9);
 * the chart passes datasources through `tpl`, which runs `{{ … }}` (P22).
 */
export function escapeProvisioning(raw: string): string {
    return escapeTpl(raw.replaceAll("$", "$$$$"));
}

/** A string as a chart value that goes through `tpl` must carry it to come out as `raw`. */
export function escapeTpl(raw: string): string {
    return raw.replaceAll("{{", '{{ "{{" }}');
}

/** Every string of a value escaped with {@link escapeProvisioning}. */
export function escapeDeep<T>(value: T, escape: (raw: string) => string = escapeProvisioning): T {
    if (typeof value === "string") return escape(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => escapeDeep(v, escape)) as T;
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDeep(v, escape)])) as T;
    }
    return value;
}

export interface Datasource {
    name: string;
    uid: string;
    type: "prometheus" | "loki" | "tempo" | "alertmanager";
    access: "proxy";
    url: string;
    isDefault: boolean;
    editable: false;
    jsonData: Record<string, unknown>;
    secureJsonData: Record<string, string>;
}

/** Client TLS on every datasource: send Grafana's certificate, verify the server with the fleet CA (P21). */
const TLS_JSON = { tlsAuth: true, tlsAuthWithCACert: true, tlsSkipVerify: false } as const;

/**
 * The tenants Grafana reads logs and traces of: every cluster of the fleet, in the multi-tenant
 * syntax Loki and Tempo share.
 */
export function fleetTenants(config: MainConfig): string {
    return [config.cluster.name, ...config.subClusters.map((s) => s.name)].join("|");
}

/**
 * The datasources as Grafana should understand them, before escaping: links between signals
 * hold Grafana's own template variables (`${__value.raw}`, `${__tags}`), to survive as written.
 */
export function datasources(config: MainConfig): Datasource[] {
    const ns = config.namespace;
    const gateway = queryGatewaySpec(config);
    const logsUrl = new URL(inClusterEndpoint("logs", ns).url).origin;
    const base = { access: "proxy", isDefault: false, editable: false } as const;
    const window = { spanStartTimeShift: "-5m", spanEndTimeShift: "5m" };
    return [
        {
            ...base,
            name: "Thanos",
            uid: DATASOURCE_UIDS.metrics,
            type: "prometheus",
            url: frontUrl(gateway, "metrics", ns),
            isDefault: true,
            jsonData: {
                ...TLS_JSON,
                httpMethod: "POST",
                prometheusType: "Thanos",
                timeInterval: "30s",
                exemplarTraceIdDestinations: [
                    { name: EXEMPLAR_TRACE_ID_LABEL, datasourceUid: DATASOURCE_UIDS.traces, urlDisplayLabel: "Trace" },
                ],
            },
            secureJsonData: {},
        },
        {
            ...base,
            name: "Loki",
            uid: DATASOURCE_UIDS.logs,
            type: "loki",
            url: logsUrl,
            jsonData: {
                ...TLS_JSON,
                maxLines: 1000,
                timeout: 300,
                // The gateway sets the tenant of a service identity from this header.
                httpHeaderName1: "X-Scope-OrgID",
                derivedFields: [
                    {
                        name: "TraceID",
                        matcherRegex: TRACE_ID_PATTERN,
                        datasourceUid: DATASOURCE_UIDS.traces,
                        url: "${__value.raw}",
                        urlDisplayLabel: "View trace",
                    },
                ],
            },
            secureJsonData: { httpHeaderValue1: fleetTenants(config) },
        },
        {
            ...base,
            name: "Tempo",
            uid: DATASOURCE_UIDS.traces,
            type: "tempo",
            url: frontUrl(gateway, "traces", ns),
            jsonData: {
                ...TLS_JSON,
                tracesToLogsV2: {
                    datasourceUid: DATASOURCE_UIDS.logs,
                    ...window,
                    tags: SPAN_TO_LOG_LABELS,
                    filterByTraceID: true,
                    filterBySpanID: false,
                    customQuery: true,
                    query: '{${__tags}} |= "${__trace.traceId}"',
                },
                tracesToMetrics: {
                    datasourceUid: DATASOURCE_UIDS.metrics,
                    ...window,
                    tags: SPAN_TO_METRIC_LABELS,
                    queries: [
                        {
                            name: "Request rate",
                            query: "sum by (span_name) (rate(traces_spanmetrics_calls_total{$__tags}[5m]))",
                        },
                        {
                            name: "Error rate",
                            query:
                                "sum by (span_name) " +
                                '(rate(traces_spanmetrics_calls_total{$__tags, status_code="STATUS_CODE_ERROR"}[5m]))',
                        },
                        {
                            name: "p95 latency",
                            query:
                                "histogram_quantile(0.95, sum by (le) " +
                                "(rate(traces_spanmetrics_latency_bucket{$__tags}[5m])))",
                        },
                    ],
                },
                serviceMap: { datasourceUid: DATASOURCE_UIDS.metrics },
                nodeGraph: { enabled: true },
                lokiSearch: { datasourceUid: DATASOURCE_UIDS.logs },
                search: { hide: false },
                // Streaming speaks gRPC to Tempo; the query gateway forwards HTTP/1.1 reads only.
                streamingEnabled: { search: false, metrics: false },
                traceQuery: { timeShiftEnabled: true, ...window },
                // One tenant per cluster: the query gateway passes the header on to Tempo.
                httpHeaderName1: TEMPO_TENANT_HEADER,
            },
            secureJsonData: { httpHeaderValue1: fleetTenants(config) },
        },
        {
            ...base,
            name: "Alertmanager",
            uid: DATASOURCE_UIDS.alerts,
            type: "alertmanager",
            url: frontUrl(alertIngestSpec(ns), "alerts", ns),
            jsonData: { ...TLS_JSON, implementation: "prometheus", handleGrafanaManagedAlerts: false },
            secureJsonData: {},
        },
    ];
}

/**
 * The provisioning file: every datasource escaped, then given the client certificate files,
 * the one place where Grafana must expand (`$__file{…}`).
 */
export function datasourceProvisioning(config: MainConfig): Record<string, unknown> {
    return {
        apiVersion: 1,
        // Datasources of an earlier provisioning are removed by name when they are no longer listed.
        prune: true,
        datasources: datasources(config).map((ds) => ({
            ...escapeDeep(ds),
            secureJsonData: {
                ...escapeDeep(ds.secureJsonData),
                tlsCACert: fileRef("ca.crt"),
                tlsClientCert: fileRef("tls.crt"),
                tlsClientKey: fileRef("tls.key"),
            },
        })),
    };
}

/** `grafana.ini` settings: no anonymous access, no calls home, SSO when configured. */
export function grafanaIni(config: MainConfig): Record<string, unknown> {
    const { rootUrl, oidc } = config.grafana;
    const ini: Record<string, unknown> = {
        analytics: { check_for_updates: false, check_for_plugin_updates: false, reporting_enabled: false },
        "auth.anonymous": { enabled: false },
        users: { allow_sign_up: false },
        security: {
            disable_gravatar: true,
            cookie_secure: rootUrl?.startsWith("https:") ?? false,
            // Secured cookies are not sent to another site; dashboards are not framed elsewhere.
            cookie_samesite: "strict",
            allow_embedding: false,
        },
        // The search index lives on the volume: the root filesystem is read-only.
        unified_storage: { index_path: "/var/lib/grafana/search" },
        log: { mode: "console" },
    };
    if (rootUrl !== undefined) ini.server = { root_url: rootUrl };
    if (oidc !== undefined) {
        ini["auth.generic_oauth"] = {
            enabled: true,
            name: oidc.name,
            client_id: oidc.clientId,
            // client_secret arrives as GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET from its Secret.
            scopes: oidc.scopes,
            auth_url: oidc.authUrl,
            token_url: oidc.tokenUrl,
            api_url: oidc.apiUrl,
            allow_sign_up: oidc.allowSignUp,
            use_pkce: true,
            ...(oidc.roleAttributePath !== undefined
                ? { role_attribute_path: oidc.roleAttributePath, role_attribute_strict: true }
                : {}),
        };
        // Cookies must follow the provider's redirect back to Grafana.
        (ini.security as Record<string, unknown>).cookie_samesite = "lax";
    }
    // The chart passes each string setting through `tpl`; Grafana itself expands no `$$` here.
    return escapeDeep(ini, escapeTpl);
}

export interface GrafanaInput {
    config: MainConfig;
    /** Revision of Grafana's client certificate: a new one rolls Grafana, which reads it at start. */
    clientRevision: string;
}

/** grafana (grafana-community chart) values for main. */
export function grafanaValues(input: GrafanaInput): Record<string, unknown> {
    const { config, clientRevision } = input;
    const res = RESOURCES[config.profile];
    const provisioning = datasourceProvisioning(config);
    const restricted = {
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
    const { storageSize, storageClass, oidc } = config.grafana;
    return {
        // No fullnameOverride (not a key of this chart): release `grafana` names every object `grafana`.
        replicas: 1,
        admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: ADMIN_USER_KEY, passwordKey: ADMIN_PASSWORD_KEY },
        // A test pod and a root init container are not part of a running stack.
        testFramework: { enabled: false },
        initChownData: { enabled: false },
        persistence: {
            enabled: true,
            type: "pvc",
            size: storageSize ?? GRAFANA_STORAGE[config.profile],
            ...(storageClass !== undefined ? { storageClassName: storageClass } : {}),
        },
        resources: res.grafana,
        containerSecurityContext: restricted,
        // Grafana writes its logs directory and temporary files besides the volume.
        extraEmptyDirMounts: [
            { name: "tmp", mountPath: "/tmp" },
            { name: "logs", mountPath: "/var/log/grafana" },
        ],
        extraSecretMounts: [
            {
                name: "client-tls",
                secretName: GRAFANA_CLIENT_SECRET,
                mountPath: GRAFANA_CLIENT_DIR,
                readOnly: true,
                defaultMode: 0o440,
            },
        ],
        ...(oidc !== undefined
            ? {
                  envValueFrom: {
                      GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET: {
                          secretKeyRef: { name: GRAFANA_OIDC_SECRET, key: OIDC_SECRET_KEY },
                      },
                  },
              }
            : {}),
        podAnnotations: {
            // Grafana reads its certificate files and its datasources at start only.
            [annotationKeys.certificateRevision]: clientRevision,
            [annotationKeys.configRevision]: createHash("sha256")
                .update(stringify(provisioning))
                .digest("hex")
                .slice(0, 16),
        },
        "grafana.ini": grafanaIni(config),
        // A `secret` entry makes the chart write the file into a Secret, never a ConfigMap.
        datasources: { "datasources.yaml": { secret: provisioning } },
        // The sidecar lists ConfigMaps in this namespace only.
        rbac: { namespaced: true },
        sidecar: {
            resources: res.grafanaSidecar,
            securityContext: restricted,
            dashboards: {
                enabled: true,
                label: DASHBOARD_LABEL.key,
                labelValue: DASHBOARD_LABEL.value,
                folderAnnotation: FOLDER_ANNOTATION,
                provider: { foldersFromFilesStructure: true, allowUiUpdates: false, disableDelete: false },
            },
        },
        serviceMonitor: { enabled: true },
    };
}
