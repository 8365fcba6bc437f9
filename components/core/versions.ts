import * as path from "node:path";

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
    /**
     * sha256 of the chart archive the repository serves (its index's `digest`, what a Chart.lock
     * holds). Every chart the program installs has one; `npm run charts` and an air-gapped
     * chart directory (`observability:charts.directory`) refuse an archive that differs.
     */
    digest?: `sha256:${string}`;
}

export const charts = {
    // renovate: datasource=helm brick=metrics
    kubePrometheusStack: {
        chart: "kube-prometheus-stack",
        version: "88.5.3",
        repo: "https://prometheus-community.github.io/helm-charts",
        digest: "sha256:3bff576f57c88f9fcac3286cc6e0d22ddaf7d7e1829c14a09257359f02ca64c9",
    },
    // renovate: datasource=helm brick=metrics
    thanos: {
        chart: "thanos",
        version: "1.24.1",
        repo: "https://stevehipwell.github.io/helm-charts/",
        digest: "sha256:e57da1987f827b09eae4f03eba982b83ea3b00dc3e180cec8abb25ad857232d2",
    },
    // renovate: datasource=helm brick=logs
    loki: {
        chart: "loki",
        version: "18.11.0",
        repo: "https://grafana-community.github.io/helm-charts",
        digest: "sha256:d4d99424d197e1460878093c9fced02346669ab0698a0dca7c575ab76fff7aeb",
    },
    // renovate: datasource=helm brick=traces
    tempo: {
        chart: "tempo",
        version: "2.2.4",
        repo: "https://grafana-community.github.io/helm-charts",
        digest: "sha256:5f3f4b29c4487b9c27715c18bc6c7b0889712b14075d97705f9b151a51725f68",
    },
    // renovate: datasource=helm brick=traces
    tempoDistributed: {
        chart: "tempo-distributed",
        version: "2.26.2",
        repo: "https://grafana-community.github.io/helm-charts",
        digest: "sha256:4adb4a0a8078fc179435b9e21e4ad90ccb7e471d4571767d1284d11afaa02ea3",
    },
    // renovate: datasource=helm brick=grafana
    grafana: {
        chart: "grafana",
        version: "12.11.1",
        repo: "https://grafana-community.github.io/helm-charts",
        digest: "sha256:5dddbb4efe49f502a50264592637f4d2b99db50a0a800abde2f8cba3f8da0a74",
    },
    // renovate: datasource=helm brick=logs
    vector: {
        chart: "vector",
        version: "0.56.0",
        repo: "https://helm.vector.dev",
        digest: "sha256:028de5292c59b731cd735bd436f7a1d5499b766d65bc17921d3f7d930698e3da",
    },
    // renovate: datasource=helm brick=traces
    opentelemetryCollector: {
        chart: "opentelemetry-collector",
        version: "0.170.0",
        repo: "https://open-telemetry.github.io/opentelemetry-helm-charts",
        digest: "sha256:ed140b332233075c7fd15eaebba571fdf100926f08c0a5a274c7b32895315137",
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
    nginxUnprivileged: "docker.io/nginxinc/nginx-unprivileged:1.31.6-alpine",
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
    /**
     * The Thanos Ruler the program runs itself (its flags need TLS files the chart's Ruler cannot
     * take): the image and version of the thanos chart's other components.
     */
    // renovate: datasource=docker brick=metrics
    thanos: "quay.io/thanos/thanos:v0.42.4",
    // renovate: datasource=docker brick=traces
    otelCollector: {
        repository: "docker.io/otel/opentelemetry-collector-k8s",
        tag: "0.158.0",
        command: "otelcol-k8s",
    },
} as const;

/** The tag of an image reference `<repository>:<tag>[@<digest>]`. */
export function imageTag(reference: string): string {
    const tag = /:([^:@/]+)(?:@sha256:[a-f0-9]{64})?$/.exec(reference)?.[1];
    if (tag === undefined) throw new Error(`${reference} has no tag`);
    return tag;
}

/** The charts the program installs: those pinned with a digest. */
export function installedCharts(): ChartPin[] {
    return Object.values(charts as Record<string, ChartPin>).filter((pin) => pin.digest !== undefined);
}

/** The file name of a chart's archive, as `helm pull` writes it. */
export function chartArchiveName(pin: ChartPin): string {
    return `${pin.chart}-${pin.version}.tgz`;
}

/**
 * The inputs of a Helm Chart v4 for a pinned chart, its release name fixed: from the chart's
 * repository, or from `<directory>/<chart>-<version>.tgz` when the stack installs from a chart
 * directory (checked against the pinned digest before anything is declared, index.ts).
 */
export function chartArgs(
    pin: ChartPin,
    release: string,
    namespace: string,
    values: Record<string, unknown>,
    directory?: string,
) {
    const source =
        directory === undefined
            ? { chart: pin.chart, version: pin.version, repositoryOpts: { repo: pin.repo } }
            : { chart: path.join(directory, chartArchiveName(pin)) };
    return { name: release, ...source, namespace, values };
}
