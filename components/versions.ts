/**
 * Every pinned chart version, in one place, so that a version bump is a one-file change an
 * automated updater can make. Each entry names the repository it is fetched from.
 *
 * Every pin here (chart or image) has a `// renovate: datasource=<datasource> brick=<brick>`
 * comment right above its key: renovate.json finds the pins through these comments, and
 * test/renovate.test.ts fails for a pin without one. The brick groups the updates into one pull
 * request per brick (docs/updates.md).
 */
export interface ChartPin {
    chart: string;
    version: string;
    repo: string;
}

export const charts = {
    // renovate: datasource=helm brick=metrics
    kubePrometheusStack: {
        chart: "kube-prometheus-stack",
        version: "88.5.3",
        repo: "https://prometheus-community.github.io/helm-charts",
    },
    // renovate: datasource=helm brick=metrics
    thanos: {
        chart: "thanos",
        version: "1.24.1",
        repo: "https://stevehipwell.github.io/helm-charts/",
    },
    // renovate: datasource=helm brick=logs
    loki: {
        chart: "loki",
        version: "18.11.0",
        repo: "https://grafana-community.github.io/helm-charts",
    },
    // renovate: datasource=helm brick=traces
    tempo: {
        chart: "tempo",
        version: "2.2.4",
        repo: "https://grafana-community.github.io/helm-charts",
    },
    // renovate: datasource=helm brick=traces
    tempoDistributed: {
        chart: "tempo-distributed",
        version: "2.26.2",
        repo: "https://grafana-community.github.io/helm-charts",
    },
    // renovate: datasource=helm brick=grafana
    grafana: {
        chart: "grafana",
        version: "12.11.1",
        repo: "https://grafana-community.github.io/helm-charts",
    },
    // renovate: datasource=helm brick=logs
    vector: {
        chart: "vector",
        version: "0.56.0",
        repo: "https://helm.vector.dev",
    },
    // renovate: datasource=helm brick=traces
    opentelemetryCollector: {
        chart: "opentelemetry-collector",
        version: "0.170.0",
        repo: "https://open-telemetry.github.io/opentelemetry-helm-charts",
    },
    /** Not deployed: the Traefik values fragment the stacks output is written for this version. */
    // renovate: datasource=helm brick=traces
    traefik: {
        chart: "traefik",
        version: "41.3.0",
        repo: "https://traefik.github.io/charts",
    },
} as const satisfies Record<string, ChartPin>;

/** Images of the workloads the program defines itself (not through a chart), pinned. */
export const images = {
    /** nginx running as an unprivileged user, the image the Loki chart's gateway uses too. */
    // renovate: datasource=docker brick=gateways
    nginxUnprivileged: "docker.io/nginxinc/nginx-unprivileged:1.31-alpine",
    /**
     * The remediator's and the reporter's runtime: distroless Node.js 22, user `nonroot`, no
     * shell; its entrypoint is node. Pinned by digest because the tag moves.
     */
    // renovate: datasource=docker brick=programs
    node: "gcr.io/distroless/nodejs22-debian12:nonroot@sha256:13593b7570658e8477de39e2f4a1dd25db2f836d68a0ba771251572d23bb4f8e",
    /**
     * The trace gateway: the collector's Kubernetes distribution (OTLP receiver and exporter,
     * memory_limiter, k8s_attributes, resource, batch, file_storage), at the version the
     * opentelemetry-collector chart ships, with its binary's name.
     */
    // renovate: datasource=docker brick=traces
    otelCollector: {
        repository: "docker.io/otel/opentelemetry-collector-k8s",
        tag: "0.158.0",
        command: "otelcol-k8s",
    },
} as const;

/** The inputs of a Helm Chart v4 for a pinned chart, its release name fixed. */
export function chartArgs(pin: ChartPin, release: string, namespace: string, values: Record<string, unknown>) {
    return {
        name: release,
        chart: pin.chart,
        version: pin.version,
        repositoryOpts: { repo: pin.repo },
        namespace,
        values,
    };
}
