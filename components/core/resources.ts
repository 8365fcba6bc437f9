import type { StackConfig } from "../../config";

/**
 * Requests and limits of every brick, per resource profile. One table, so that the budget of a
 * role is a sum anyone can check (`npm run bench` writes it to docs/benchmarks.md).
 */

export type Profile = StackConfig["profile"];

export interface Resources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

export type Brick =
    | "prometheus"
    | "thanosSidecar"
    | "configReloader"
    | "prometheusOperator"
    | "kubeStateMetrics"
    | "nodeExporter"
    | "alertmanager"
    | "thanosQuery"
    | "thanosReceiveRouter"
    | "thanosReceiveIngestor"
    | "thanosStoreGateway"
    | "thanosCompactor"
    | "thanosRuler"
    | "loki"
    | "lokiGateway"
    | "alertIngest"
    | "queryGateway"
    | "traceIngest"
    | "grafana"
    | "grafanaSidecar"
    | "vectorAgent"
    | "tempo"
    | "traceGateway"
    | "remediator"
    | "reporter";

/** Bricks that run once per node rather than once per cluster. */
export const PER_NODE: ReadonlySet<Brick> = new Set(["nodeExporter", "vectorAgent"]);

/** Which bricks each role runs. */
export const ROLE_BRICKS: Record<StackConfig["role"], readonly Brick[]> = {
    main: [
        "prometheus",
        "thanosSidecar",
        "configReloader",
        "prometheusOperator",
        "kubeStateMetrics",
        "nodeExporter",
        "alertmanager",
        "thanosQuery",
        "thanosReceiveRouter",
        "thanosReceiveIngestor",
        "thanosStoreGateway",
        "thanosCompactor",
        "thanosRuler",
        "loki",
        "lokiGateway",
        "alertIngest",
        "queryGateway",
        "traceIngest",
        "grafana",
        "grafanaSidecar",
        "vectorAgent",
        "tempo",
        "traceGateway",
        "remediator",
        // A weekly Job: counted as if it always ran, so the node fits it whenever it starts.
        "reporter",
    ],
    sub: [
        "prometheus",
        "configReloader",
        "prometheusOperator",
        "kubeStateMetrics",
        "nodeExporter",
        "vectorAgent",
        "traceGateway",
        "remediator",
    ],
};

const r = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string): Resources => ({
    requests: { cpu, memory },
    limits: { cpu: cpuLimit, memory: memoryLimit },
});

export const RESOURCES: Record<Profile, Record<Brick, Resources>> = {
    small: {
        prometheus: r("300m", "768Mi", "1", "1536Mi"),
        thanosSidecar: r("50m", "128Mi", "200m", "256Mi"),
        configReloader: r("10m", "32Mi", "100m", "64Mi"),
        prometheusOperator: r("50m", "64Mi", "200m", "128Mi"),
        kubeStateMetrics: r("50m", "128Mi", "200m", "256Mi"),
        nodeExporter: r("50m", "64Mi", "200m", "128Mi"),
        alertmanager: r("50m", "64Mi", "200m", "128Mi"),
        thanosQuery: r("100m", "256Mi", "500m", "512Mi"),
        thanosReceiveRouter: r("100m", "128Mi", "500m", "256Mi"),
        thanosReceiveIngestor: r("200m", "768Mi", "1", "1536Mi"),
        thanosStoreGateway: r("100m", "256Mi", "500m", "512Mi"),
        thanosCompactor: r("100m", "512Mi", "1", "1Gi"),
        thanosRuler: r("50m", "128Mi", "200m", "256Mi"),
        loki: r("250m", "768Mi", "1", "1536Mi"),
        lokiGateway: r("50m", "64Mi", "200m", "128Mi"),
        alertIngest: r("20m", "32Mi", "100m", "64Mi"),
        queryGateway: r("20m", "32Mi", "100m", "64Mi"),
        traceIngest: r("20m", "32Mi", "200m", "64Mi"),
        grafana: r("100m", "256Mi", "500m", "512Mi"),
        grafanaSidecar: r("10m", "64Mi", "100m", "128Mi"),
        vectorAgent: r("50m", "128Mi", "500m", "256Mi"),
        tempo: r("200m", "512Mi", "1", "1536Mi"),
        traceGateway: r("100m", "256Mi", "500m", "512Mi"),
        remediator: r("20m", "64Mi", "200m", "128Mi"),
        reporter: r("50m", "128Mi", "500m", "256Mi"),
    },
    medium: {
        prometheus: r("1", "3Gi", "2", "6Gi"),
        thanosSidecar: r("100m", "256Mi", "500m", "512Mi"),
        configReloader: r("10m", "48Mi", "100m", "96Mi"),
        prometheusOperator: r("100m", "128Mi", "500m", "256Mi"),
        kubeStateMetrics: r("100m", "256Mi", "500m", "512Mi"),
        nodeExporter: r("100m", "64Mi", "250m", "128Mi"),
        alertmanager: r("100m", "128Mi", "500m", "256Mi"),
        thanosQuery: r("500m", "1Gi", "2", "2Gi"),
        thanosReceiveRouter: r("250m", "256Mi", "1", "512Mi"),
        thanosReceiveIngestor: r("1", "4Gi", "2", "8Gi"),
        thanosStoreGateway: r("250m", "1Gi", "1", "2Gi"),
        thanosCompactor: r("500m", "2Gi", "2", "4Gi"),
        thanosRuler: r("100m", "256Mi", "500m", "512Mi"),
        loki: r("1", "4Gi", "2", "8Gi"),
        lokiGateway: r("100m", "128Mi", "500m", "256Mi"),
        alertIngest: r("50m", "64Mi", "200m", "128Mi"),
        queryGateway: r("50m", "64Mi", "300m", "128Mi"),
        traceIngest: r("50m", "64Mi", "500m", "128Mi"),
        grafana: r("200m", "512Mi", "1", "1Gi"),
        grafanaSidecar: r("20m", "96Mi", "200m", "192Mi"),
        vectorAgent: r("100m", "256Mi", "1", "512Mi"),
        tempo: r("500m", "2Gi", "2", "4Gi"),
        traceGateway: r("250m", "512Mi", "1", "1Gi"),
        remediator: r("50m", "96Mi", "300m", "192Mi"),
        reporter: r("100m", "192Mi", "1", "384Mi"),
    },
    large: {
        prometheus: r("2", "8Gi", "4", "16Gi"),
        thanosSidecar: r("200m", "512Mi", "1", "1Gi"),
        configReloader: r("20m", "64Mi", "200m", "128Mi"),
        prometheusOperator: r("200m", "256Mi", "1", "512Mi"),
        kubeStateMetrics: r("200m", "512Mi", "1", "1Gi"),
        nodeExporter: r("100m", "128Mi", "500m", "256Mi"),
        alertmanager: r("200m", "256Mi", "1", "512Mi"),
        thanosQuery: r("1", "2Gi", "4", "4Gi"),
        thanosReceiveRouter: r("500m", "512Mi", "2", "1Gi"),
        thanosReceiveIngestor: r("2", "8Gi", "4", "16Gi"),
        thanosStoreGateway: r("500m", "2Gi", "2", "4Gi"),
        thanosCompactor: r("1", "4Gi", "4", "8Gi"),
        thanosRuler: r("200m", "512Mi", "1", "1Gi"),
        // Per component of Loki's distributed mode (distributor, ingester, querier...).
        loki: r("500m", "2Gi", "2", "4Gi"),
        lokiGateway: r("200m", "256Mi", "1", "512Mi"),
        alertIngest: r("100m", "64Mi", "500m", "128Mi"),
        queryGateway: r("100m", "64Mi", "1", "256Mi"),
        traceIngest: r("100m", "64Mi", "1", "256Mi"),
        grafana: r("500m", "1Gi", "2", "2Gi"),
        grafanaSidecar: r("50m", "128Mi", "300m", "256Mi"),
        vectorAgent: r("200m", "512Mi", "1", "1Gi"),
        // Per component of tempo-distributed (distributor, ingester, querier...).
        tempo: r("500m", "1Gi", "2", "3Gi"),
        traceGateway: r("500m", "1Gi", "2", "2Gi"),
        remediator: r("100m", "128Mi", "500m", "256Mi"),
        reporter: r("200m", "256Mi", "1", "512Mi"),
    },
};

/** Replicas of each component of Loki's distributed mode (large profile). */
export const LOKI_DISTRIBUTED = {
    distributor: 2,
    ingester: 3,
    querier: 2,
    queryFrontend: 2,
    queryScheduler: 2,
    indexGateway: 2,
    compactor: 1,
} as const;

/** Replicas of each component of tempo-distributed (large profile); ingesters replicate 3 ways. */
export const TEMPO_DISTRIBUTED = {
    distributor: 2,
    ingester: 3,
    querier: 2,
    queryFrontend: 1,
    compactor: 1,
    metricsGenerator: 1,
} as const;

const sum = (counts: Readonly<Record<string, number>>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * Replicas of the bricks that scale with the profile (Loki, Tempo: pods of their mode, all
 * components counted).
 */
export const REPLICAS: Record<
    Profile,
    {
        prometheus: number;
        alertmanager: number;
        receiveIngestor: number;
        loki: number;
        tempo: number;
        traceGateway: number;
        /** Each client-verifying nginx front (alert ingest, query gateway, trace ingest). */
        front: number;
    }
> = {
    small: { prometheus: 1, alertmanager: 2, receiveIngestor: 1, loki: 1, tempo: 1, traceGateway: 1, front: 1 },
    medium: { prometheus: 2, alertmanager: 2, receiveIngestor: 1, loki: 1, tempo: 1, traceGateway: 2, front: 2 },
    large: {
        prometheus: 2,
        alertmanager: 3,
        receiveIngestor: 3,
        loki: sum(LOKI_DISTRIBUTED),
        tempo: sum(TEMPO_DISTRIBUTED),
        traceGateway: 3,
        front: 2,
    },
};

/** Prometheus volume size per profile, unless `metrics.storageSize` says otherwise. */
export const PROMETHEUS_STORAGE: Record<Profile, string> = { small: "20Gi", medium: "50Gi", large: "100Gi" };

/** Millicores of a CPU quantity. */
export function millicores(quantity: string): number {
    return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
}

const BINARY: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };

/** MiB of a memory or storage quantity in binary units. */
export function mebibytes(quantity: string): number {
    const match = /^([0-9.]+)(Ki|Mi|Gi|Ti)$/.exec(quantity);
    if (match === null) throw new Error(`not a binary quantity: ${quantity}`);
    return Number(match[1]) * (BINARY[match[2] as string] as number);
}

export interface Budget {
    /** Requests summed over the bricks that run once per cluster, replicas counted. */
    cluster: { millicores: number; mebibytes: number };
    /** Requests of the bricks that run on every node. */
    perNode: { millicores: number; mebibytes: number };
}

/**
 * Summed requests of a role at a profile; on main, without the reporter when the weekly report
 * is off.
 */
export function budget(role: StackConfig["role"], profile: Profile, options: { report?: boolean } = {}): Budget {
    const sum = { cluster: { millicores: 0, mebibytes: 0 }, perNode: { millicores: 0, mebibytes: 0 } };
    const replicas = REPLICAS[profile];
    const count: Partial<Record<Brick, number>> = {
        prometheus: replicas.prometheus,
        thanosSidecar: replicas.prometheus,
        // One beside every Prometheus and, on main, every Alertmanager.
        configReloader: replicas.prometheus + (role === "main" ? replicas.alertmanager : 0),
        alertmanager: replicas.alertmanager,
        thanosReceiveIngestor: replicas.receiveIngestor,
        loki: replicas.loki,
        tempo: replicas.tempo,
        traceGateway: replicas.traceGateway,
        alertIngest: replicas.front,
        queryGateway: replicas.front,
        traceIngest: replicas.front,
    };
    for (const brick of ROLE_BRICKS[role]) {
        if (brick === "reporter" && options.report === false) continue;
        const { requests } = RESOURCES[profile][brick];
        const target = PER_NODE.has(brick) ? sum.perNode : sum.cluster;
        const n = count[brick] ?? 1;
        target.millicores += millicores(requests.cpu) * n;
        target.mebibytes += mebibytes(requests.memory) * n;
    }
    return sum;
}
