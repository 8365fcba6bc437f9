import * as k8s from "@pulumi/kubernetes";

import {
    BUNDLES_OUTPUT,
    CERTIFICATES_OUTPUT,
    MainCluster,
    readFleetBundle,
    RUNBOOK_BASE_OUTPUT,
    SubCluster,
    withFleetRunbookBase,
} from "./components";
import { chartDirectoryProblems } from "./components/core/chart-source";
import { talosLoggingPatch } from "./components/logs/values";
import { talosMachineConfigPatch } from "./components/metrics/values";
import { gatewayEndpoints, instrumentationReference, traefikValues } from "./components/traces/values";
import {
    ConfigError,
    loadConfig,
    type MainConfig,
    type StackConfig,
    type StackSecrets,
    type SubConfig,
} from "./config";

/**
 * The outputs every stack has: who it is, where its workloads live, the Talos patches for its
 * nodes, and what applications and Traefik need to send traces (the gateway's OTLP endpoints,
 * the Traefik values fragment, the Instrumentation to reference when it is on).
 */
function clusterOutputs(config: StackConfig, cluster: MainCluster | SubCluster) {
    return {
        role: config.role,
        clusterName: config.cluster.name,
        namespace: cluster.namespace,
        agentsNamespace: cluster.agentsNamespace,
        talosMachineConfigPatch: talosMachineConfigPatch(config.talos),
        talosLoggingPatch: talosLoggingPatch(config.logs),
        otlpEndpoints: gatewayEndpoints(config.namespace),
        traefikValues: traefikValues(config),
        ...(config.traces.instrumentation.enabled
            ? { instrumentation: instrumentationReference(config.namespace) }
            : {}),
    };
}

/** The one Kubernetes provider of the stack; every component inherits it. */
function kubernetesProvider(config: StackConfig) {
    const provider = new k8s.Provider("kubernetes", {
        ...(config.kubernetes.context !== undefined ? { context: config.kubernetes.context } : {}),
    });
    return { providers: { kubernetes: provider } };
}

function deployMain(config: MainConfig, secrets: StackSecrets) {
    const cluster = new MainCluster(config.cluster.name, { config, secrets }, kubernetesProvider(config));
    return {
        ...clusterOutputs(config, cluster),
        subClusters: config.subClusters.map((s) => s.name),
        [BUNDLES_OUTPUT]: cluster.bundles,
        [CERTIFICATES_OUTPUT]: cluster.certificates,
        [RUNBOOK_BASE_OUTPUT]: config.alerting.runbookBaseUrl,
    };
}

async function deploySub(ownConfig: SubConfig, secrets: StackSecrets) {
    // The bundle is read and checked before anything is declared: a sub that main does not
    // list stops here.
    const { bundle, runbookBaseUrl } = await readFleetBundle(ownConfig);
    const config = withFleetRunbookBase(ownConfig, runbookBaseUrl);
    const cluster = new SubCluster(config.cluster.name, { config, bundle, secrets }, kubernetesProvider(config));
    return {
        ...clusterOutputs(config, cluster),
        endpoints: cluster.endpoints,
        clientCertificate: { notAfter: bundle.notAfter, revision: bundle.revision },
    };
}

/**
 * The program, as an async entry point (supported by the Pulumi Node.js runtime): what it
 * returns are the stack's outputs. Config is validated before anything is declared.
 */
export = async () => {
    const { config, secrets } = loadConfig();
    // An air-gapped chart directory is checked whole before any chart is declared.
    if (config.charts.directory !== undefined) {
        const problems = chartDirectoryProblems(config.charts.directory);
        if (problems.length > 0) throw new ConfigError(problems);
    }
    return config.role === "main" ? deployMain(config, secrets) : deploySub(config, secrets);
};
