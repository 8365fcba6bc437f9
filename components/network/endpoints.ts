import type { MainConfig } from "../../config";

/**
 * The network contract between sub clusters and main: which services main exposes for ingest,
 * under which names, on which ports. Server certificates take their SANs from here, sub clusters
 * take their URLs from here (through the main stack's outputs), and the charts that serve these
 * endpoints set their service names to match.
 */

export const INGEST_SIGNALS = ["metrics", "logs", "traces", "alerts"] as const;
export type IngestSignal = (typeof INGEST_SIGNALS)[number];

export interface IngestService {
    /** First label of the external name: `<host>.<exposure.domain>`. */
    host: string;
    /** In-cluster Service on main that terminates TLS and verifies the client certificate. */
    service: string;
    /** The port that Service listens on; a LoadBalancer exposure keeps it. */
    port: number;
    /** The port the serving pods listen on, which a LoadBalancer Service of our own targets. */
    targetPort: number;
    /** `https` for HTTP APIs, `grpc` for OTLP over gRPC (TLS). */
    scheme: "https" | "grpc";
    /** Path of the write API, for HTTP endpoints. */
    path: string;
    /** What a sender pushes there. */
    description: string;
}

export const INGEST: Record<IngestSignal, IngestService> = {
    metrics: {
        host: "metrics",
        service: "thanos-receive-router",
        // Thanos Receive's remote-write port, distinct from its HTTP port so probes stay plain.
        port: 19291,
        targetPort: 19291,
        scheme: "https",
        path: "/api/v1/receive",
        description: "Prometheus remote-write to Thanos Receive",
    },
    logs: {
        host: "logs",
        // Loki's nginx gateway, verifying client certificates and setting the tenant from them.
        service: "loki-gateway",
        port: 8443,
        // The gateway's nginx listens on the chart's container port.
        targetPort: 8080,
        scheme: "https",
        path: "/loki/api/v1/push",
        description: "Loki push API behind the client-verifying gateway",
    },
    traces: {
        host: "traces",
        // nginx before Tempo's OTLP receiver, verifying client certificates and setting the
        // tenant from them (Tempo has no certificate-to-tenant mapping of its own).
        service: "traces-ingest",
        port: 4317,
        targetPort: 4317,
        scheme: "grpc",
        path: "",
        description: "OTLP over gRPC to Tempo, behind the client-verifying trace ingest",
    },
    alerts: {
        host: "alerts",
        service: "alertmanager-ingest",
        port: 9443,
        targetPort: 9443,
        scheme: "https",
        path: "/api/v2/alerts",
        description: "alerts from sub cluster Prometheus to main's Alertmanager",
    },
};

/**
 * The in-cluster Service on main before Thanos Query's and Tempo's HTTP APIs, verifying client
 * certificates: services of main read the fleet's metrics and traces there.
 */
export const QUERY_GATEWAY = "query-gateway";

/**
 * The one name every Thanos StoreAPI's certificate carries: Query reaches its stores by IP
 * (DNS discovery) and verifies that name instead (`--grpc-client-server-name`), the Receive router
 * likewise for the ingestors. Not a Service.
 */
export const THANOS_STORE_NAME = "thanos-store";

/** Port of the Traefik entrypoint that passes TLS through by SNI. */
export const PASSTHROUGH_PORT = 443;

/** The names a client inside the cluster may dial for a Service, shortest first. */
export function inClusterNames(service: string, namespace: string): string[] {
    return [
        service,
        `${service}.${namespace}`,
        `${service}.${namespace}.svc`,
        `${service}.${namespace}.svc.cluster.local`,
    ];
}

/**
 * The Service a `loadbalancer` or `nodeport` exposure creates for a signal; its own name, not
 * the brick's, which stays ClusterIP with all its ports.
 */
export function loadBalancerServiceName(signal: IngestSignal): string {
    return `${signal}-ingest-lb`;
}

/** The Service a `nodeport` exposure creates for a signal. */
export function nodePortServiceName(signal: IngestSignal): string {
    return `${signal}-ingest-np`;
}

/** The name sub clusters dial for a signal. */
export function externalName(signal: IngestSignal, domain: string): string {
    return `${INGEST[signal].host}.${domain}`;
}

export interface IngestEndpoint {
    /** Host name to dial; also the TLS server name to verify. */
    serverName: string;
    port: number;
    /** Full URL for HTTP APIs, `host:port` for gRPC. */
    url: string;
}

export type IngestEndpoints = Record<IngestSignal, IngestEndpoint>;

/** The URL of an ingest endpoint on a host and port: `host:port` for gRPC, the full URL for HTTP. */
function endpointUrl(signal: IngestSignal, serverName: string, port: number): string {
    const service = INGEST[signal];
    return service.scheme === "grpc" ? `${serverName}:${port}` : `https://${serverName}:${port}${service.path}`;
}

/**
 * Where a brick of main itself sends a signal: the ingest Service under its `<service>.<namespace>.svc`
 * name, which the server certificate carries, on the Service's own port.
 */
export function inClusterEndpoint(signal: IngestSignal, namespace: string): IngestEndpoint {
    const service = INGEST[signal];
    const serverName = inClusterNames(service.service, namespace)[2] as string;
    return { serverName, port: service.port, url: endpointUrl(signal, serverName, service.port) };
}

/** What the ingest endpoints depend on: the domain, the exposure kind, its node ports. */
export type ExposureInput = Pick<MainConfig["exposure"], "domain" | "kind"> &
    Partial<Pick<MainConfig["exposure"], "nodePorts">>;

/** The port sub clusters dial for a signal, by exposure kind. */
export function exposedPort(exposure: ExposureInput, signal: IngestSignal): number {
    switch (exposure.kind) {
        case "traefik-passthrough":
            return PASSTHROUGH_PORT;
        case "nodeport":
            if (exposure.nodePorts === undefined) throw new Error("exposure.kind nodeport without exposure.nodePorts");
            return exposure.nodePorts[signal];
        case "loadbalancer":
            return INGEST[signal].port;
    }
}

/**
 * Where sub clusters send each signal. Through Traefik every endpoint shares the passthrough
 * port and is told apart by SNI; LoadBalancer Services keep each brick's own port; NodePort
 * Services take the node ports of `exposure.nodePorts`.
 */
export function ingestEndpoints(exposure: ExposureInput): IngestEndpoints {
    const entries = INGEST_SIGNALS.map((signal): [IngestSignal, IngestEndpoint] => {
        const serverName = externalName(signal, exposure.domain);
        const port = exposedPort(exposure, signal);
        return [signal, { serverName, port, url: endpointUrl(signal, serverName, port) }];
    });
    return Object.fromEntries(entries) as IngestEndpoints;
}
