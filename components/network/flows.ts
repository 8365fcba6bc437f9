import type { StackConfig } from "../../config";
import { REPORT_CRONJOB } from "../../reporter/keys";
import { GRAFANA_CONTAINER_PORT, GRAFANA_RELEASE } from "../grafana/values";
import { LOKI_RELEASE } from "../logs/values";
import { KPS_RELEASE, OPERATOR_HTTP_PORT, THANOS_RELEASE } from "../metrics/values";
import { REMEDIATOR_METRICS_PORT, REMEDIATOR_NAME } from "../programs/remediator";
import { GATEWAY_RELEASE, OTLP_PORTS, TEMPO_HTTP_PORT, TEMPO_RELEASE } from "../traces/values";
import { INGEST, QUERY_GATEWAY } from "./endpoints";

/**
 * Who may reach which port of which pod, as data: the intended flows inside a cluster. The
 * NetworkPolicies are generated from it (components/network/policies.ts), docs/security.md
 * lists it, and the deploy tests check it against the pods the charts really make: every
 * selector selects pods, every port is one they listen on, every intended flow is allowed and
 * nothing else reaches a store or an ingest port.
 */

export type BrickId =
    | "prometheus"
    | "alertmanager"
    | "prometheus-operator"
    | "kube-state-metrics"
    | "thanos-query"
    | "thanos-receive-router"
    | "thanos-receive-ingestor"
    | "thanos-store-gateway"
    | "thanos-compact"
    | "thanos-rule"
    | "loki"
    | "loki-gateway"
    | "tempo"
    | "otel-gateway"
    | "grafana"
    | "alert-ingest"
    | "query-gateway"
    | "trace-ingest"
    | "remediator"
    | "reporter";

export interface LabelSelector {
    matchLabels: Record<string, string>;
    matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

/** A source of traffic: the pods of a brick of the same cluster, or anything, with the reason. */
export type Peer = { brick: BrickId } | { anywhere: string };

/** What a port serves, for the reachability rules: stores and ingest listeners are guarded. */
export type PortKind = "ingest" | "store" | "metrics" | "ui" | "cluster";

export interface PortAccess {
    port: number;
    protocol: "TCP" | "UDP";
    /** What listens there. */
    what: string;
    kind: PortKind;
    /** Who may connect; empty: nobody (the port is closed). */
    from: Peer[];
}

export interface BrickFlows {
    id: BrickId;
    /** The brick's pods, in the core namespace. */
    selector: LabelSelector;
    ports: PortAccess[];
    /** Set when the brick's pods talk to each other on every port (a component mesh): why. */
    internal?: string;
}

const PROMETHEUS: Peer = { brick: "prometheus" };
const CLIENT_CERTIFICATES = "client certificates verified here: sub clusters through the exposure, main's own senders";

const tcp = (port: number, what: string, kind: PortKind, from: Peer[]): PortAccess => ({
    port,
    protocol: "TCP",
    what,
    kind,
    from,
});

/** Prometheus' own ports: the query API, and the Thanos sidecar's StoreAPI on main. */
export const PROMETHEUS_PORTS = { web: 9090, reloader: 8080, sidecarGrpc: 10901, sidecarHttp: 10902 } as const;
export const ALERTMANAGER_PORTS = { web: 9093, mesh: 9094, reloader: 8080 } as const;
export const KUBE_STATE_METRICS_PORTS = { http: 8080, telemetry: 8081 } as const;
export const THANOS_PORTS = { grpc: 10901, http: 10902 } as const;
export const LOKI_HTTP_PORT = 3100;
export const GATEWAY_METRICS_PORT = 8888;

function thanos(component: string): LabelSelector {
    return {
        matchLabels: {
            "app.kubernetes.io/name": "thanos",
            "app.kubernetes.io/instance": THANOS_RELEASE,
            "app.kubernetes.io/component": component,
        },
    };
}

/** The flows of both roles: Prometheus, its operator and exporters, the trace gateway, the remediator. */
function commonFlows(): BrickFlows[] {
    return [
        {
            id: "prometheus-operator",
            selector: {
                matchLabels: {
                    "app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator",
                    "app.kubernetes.io/instance": KPS_RELEASE,
                },
            },
            ports: [tcp(OPERATOR_HTTP_PORT, "operator metrics", "metrics", [PROMETHEUS])],
        },
        {
            id: "kube-state-metrics",
            selector: {
                matchLabels: {
                    "app.kubernetes.io/name": "kube-state-metrics",
                    "app.kubernetes.io/instance": KPS_RELEASE,
                },
            },
            ports: [
                tcp(KUBE_STATE_METRICS_PORTS.http, "object metrics", "metrics", [PROMETHEUS]),
                tcp(KUBE_STATE_METRICS_PORTS.telemetry, "own metrics", "metrics", [PROMETHEUS]),
            ],
        },
        {
            id: "otel-gateway",
            selector: {
                matchLabels: {
                    "app.kubernetes.io/name": "opentelemetry-collector",
                    "app.kubernetes.io/instance": GATEWAY_RELEASE,
                },
            },
            ports: [
                tcp(OTLP_PORTS.grpc, "OTLP gRPC", "ingest", [
                    { anywhere: "applications and Traefik in any namespace" },
                ]),
                tcp(OTLP_PORTS.http, "OTLP HTTP", "ingest", [{ anywhere: "applications in any namespace" }]),
                tcp(GATEWAY_METRICS_PORT, "collector metrics", "metrics", [PROMETHEUS]),
            ],
        },
        {
            id: "remediator",
            selector: { matchLabels: { "app.kubernetes.io/name": REMEDIATOR_NAME } },
            ports: [tcp(REMEDIATOR_METRICS_PORT, "remediator metrics", "metrics", [PROMETHEUS])],
        },
    ];
}

/** The pods of Prometheus (operator-made, labelled by the operator). */
function prometheusFlows(main: boolean): BrickFlows {
    return {
        id: "prometheus",
        selector: {
            matchLabels: {
                "app.kubernetes.io/name": "prometheus",
                "operator.prometheus.io/name": `${KPS_RELEASE}-prometheus`,
            },
        },
        ports: [
            tcp(PROMETHEUS_PORTS.web, "query and alerts API", "store", [PROMETHEUS, { brick: "remediator" }]),
            tcp(PROMETHEUS_PORTS.reloader, "config reloader metrics", "metrics", [PROMETHEUS]),
            ...(main
                ? [
                      tcp(PROMETHEUS_PORTS.sidecarGrpc, "Thanos sidecar StoreAPI (mTLS)", "store", [
                          { brick: "thanos-query" },
                      ]),
                      tcp(PROMETHEUS_PORTS.sidecarHttp, "Thanos sidecar metrics", "metrics", [PROMETHEUS]),
                  ]
                : []),
        ],
    };
}

function mainFlows(): BrickFlows[] {
    const storeApi = (what: string, from: Peer[]) => tcp(THANOS_PORTS.grpc, what, "store", from);
    const thanosMetrics = tcp(THANOS_PORTS.http, "metrics", "metrics", [PROMETHEUS]);
    return [
        {
            id: "alertmanager",
            selector: {
                matchLabels: { "app.kubernetes.io/name": "alertmanager", alertmanager: `${KPS_RELEASE}-alertmanager` },
            },
            ports: [
                // Alerts arrive through the alert ingest only, main's own included; Prometheus scrapes.
                tcp(ALERTMANAGER_PORTS.web, "alerts API and metrics", "store", [{ brick: "alert-ingest" }, PROMETHEUS]),
                tcp(ALERTMANAGER_PORTS.mesh, "cluster gossip", "cluster", [{ brick: "alertmanager" }]),
                {
                    ...tcp(ALERTMANAGER_PORTS.mesh, "cluster gossip", "cluster", [{ brick: "alertmanager" }]),
                    protocol: "UDP",
                },
                tcp(ALERTMANAGER_PORTS.reloader, "config reloader metrics", "metrics", [PROMETHEUS]),
            ],
        },
        {
            id: "thanos-query",
            selector: thanos("query"),
            ports: [
                tcp(THANOS_PORTS.http, "PromQL API and metrics", "store", [{ brick: "query-gateway" }, PROMETHEUS]),
                storeApi("StoreAPI (mTLS)", []),
            ],
        },
        {
            id: "thanos-receive-router",
            selector: thanos("receive-router"),
            ports: [
                tcp(INGEST.metrics.targetPort, "remote-write (mTLS)", "ingest", [{ anywhere: CLIENT_CERTIFICATES }]),
                thanosMetrics,
                storeApi("StoreAPI and writes (mTLS)", []),
            ],
        },
        {
            id: "thanos-receive-ingestor",
            selector: thanos("receive-ingestor"),
            ports: [
                storeApi("StoreAPI and forwarded writes (mTLS)", [
                    { brick: "thanos-query" },
                    { brick: "thanos-receive-router" },
                ]),
                thanosMetrics,
                // Writes come from the router over gRPC: nothing may reach its own remote-write listener.
                tcp(INGEST.metrics.targetPort, "remote-write (mTLS, unused)", "ingest", []),
            ],
        },
        {
            id: "thanos-store-gateway",
            selector: thanos("store-gateway"),
            ports: [storeApi("StoreAPI (mTLS)", [{ brick: "thanos-query" }]), thanosMetrics],
        },
        { id: "thanos-compact", selector: thanos("compact"), ports: [thanosMetrics] },
        {
            id: "thanos-rule",
            selector: thanos("rule"),
            ports: [storeApi("StoreAPI (mTLS)", [{ brick: "thanos-query" }]), thanosMetrics],
        },
        {
            id: "loki",
            selector: {
                matchLabels: { "app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": LOKI_RELEASE },
                matchExpressions: [{ key: "app.kubernetes.io/component", operator: "NotIn", values: ["gateway"] }],
            },
            ports: [tcp(LOKI_HTTP_PORT, "push, query and metrics", "store", [{ brick: "loki-gateway" }, PROMETHEUS])],
            internal: "Loki's components replicate, query and gossip among themselves",
        },
        {
            id: "loki-gateway",
            selector: {
                matchLabels: {
                    "app.kubernetes.io/name": "loki",
                    "app.kubernetes.io/instance": LOKI_RELEASE,
                    "app.kubernetes.io/component": "gateway",
                },
            },
            ports: [
                tcp(INGEST.logs.targetPort, "log push and reads (mTLS)", "ingest", [{ anywhere: CLIENT_CERTIFICATES }]),
            ],
        },
        {
            id: "tempo",
            selector: {
                matchLabels: { "app.kubernetes.io/name": "tempo", "app.kubernetes.io/instance": TEMPO_RELEASE },
            },
            ports: [
                tcp(OTLP_PORTS.grpc, "OTLP gRPC (mTLS, tenant set by the ingest)", "ingest", [
                    { brick: "trace-ingest" },
                ]),
                tcp(TEMPO_HTTP_PORT, "trace API and metrics", "store", [{ brick: "query-gateway" }, PROMETHEUS]),
            ],
            internal: "Tempo's components push, query and gossip among themselves",
        },
        {
            id: "grafana",
            selector: {
                matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": GRAFANA_RELEASE },
            },
            ports: [
                tcp(GRAFANA_CONTAINER_PORT, "UI and metrics", "ui", [
                    { anywhere: "users, through the ingress controller put before it; Grafana's login" },
                ]),
            ],
        },
        {
            id: "alert-ingest",
            selector: { matchLabels: { "app.kubernetes.io/name": INGEST.alerts.service } },
            ports: [tcp(INGEST.alerts.targetPort, "alerts (mTLS)", "ingest", [{ anywhere: CLIENT_CERTIFICATES }])],
        },
        {
            id: "query-gateway",
            selector: { matchLabels: { "app.kubernetes.io/name": QUERY_GATEWAY } },
            ports: [
                tcp(THANOS_PORTS.http, "PromQL reads (mTLS)", "store", [
                    { brick: "grafana" },
                    { brick: "reporter" },
                    { brick: "thanos-rule" },
                ]),
                tcp(TEMPO_HTTP_PORT, "trace reads (mTLS)", "store", [{ brick: "grafana" }, { brick: "reporter" }]),
            ],
        },
        {
            id: "trace-ingest",
            selector: { matchLabels: { "app.kubernetes.io/name": INGEST.traces.service } },
            ports: [tcp(INGEST.traces.targetPort, "OTLP gRPC (mTLS)", "ingest", [{ anywhere: CLIENT_CERTIFICATES }])],
        },
        {
            id: "reporter",
            selector: { matchLabels: { "app.kubernetes.io/name": REPORT_CRONJOB } },
            // A Job that only dials out.
            ports: [],
        },
    ];
}

/** Every brick's flows for a stack's configuration. */
export function brickFlows(config: StackConfig): BrickFlows[] {
    const main = config.role === "main";
    const all = [prometheusFlows(main), ...commonFlows(), ...(main ? mainFlows() : [])];
    if (!main || config.report.enabled) return all;
    // Without the weekly report there is no reporter to let in.
    const absent = (peer: Peer) => "brick" in peer && peer.brick === "reporter";
    return all
        .filter((b) => b.id !== "reporter")
        .map((b) => ({ ...b, ports: b.ports.map((p) => ({ ...p, from: p.from.filter((peer) => !absent(peer)) })) }));
}

/** The label selector of a peer brick, or undefined for `anywhere`. */
export function peerSelector(peer: Peer, flows: readonly BrickFlows[]): LabelSelector | undefined {
    if ("anywhere" in peer) return undefined;
    const brick = flows.find((b) => b.id === peer.brick);
    if (brick === undefined) throw new Error(`flow from ${peer.brick}, which this stack does not run`);
    return brick.selector;
}
