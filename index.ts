import * as k8s from "@pulumi/kubernetes";

import { MainCluster, SubCluster } from "./components";
import { loadConfig } from "./config";

// Config is validated before anything is declared: a bad value stops the program here.
const { config, secrets } = loadConfig();

const provider = new k8s.Provider("kubernetes", {
    ...(config.kubernetes.context !== undefined ? { context: config.kubernetes.context } : {}),
});

const cluster =
    config.role === "main"
        ? new MainCluster(config.cluster.name, { config, secrets }, { providers: { kubernetes: provider } })
        : new SubCluster(config.cluster.name, { config }, { providers: { kubernetes: provider } });

export const role = config.role;
export const clusterName = config.cluster.name;
export const namespace = cluster.namespace;
export const agentsNamespace = cluster.agentsNamespace;
export const subClusters = config.role === "main" ? config.subClusters.map((s) => s.name) : undefined;
