import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { StackConfig } from "../../config";
import { commonLabels } from "../core/labels";
import { agentsNamespaceName } from "../core/namespaces";
import { checkRoleArgs } from "../core/role-args";
import { chartArgs, charts } from "../core/versions";
import { inClusterEndpoint, type IngestEndpoint } from "../network/endpoints";
import { exposeIngest } from "../network/exposure";
import { LOKI_RELEASE, lokiValues, VECTOR_METRICS_PORT_NAME, VECTOR_RELEASE, vectorValues } from "./values";

export interface LogsArgs {
    /** The validated stack configuration. */
    config: StackConfig;
    /** This cluster's identity Secret (in the agents namespace) and its revision. */
    identity: { secretName: string; revision: string };
    /** Main only: the gateway's server certificate Secret and its revision. */
    gatewayTls?: { secretName: string; revision: string };
    /** Sub only: main's log endpoint. */
    endpoint?: IngestEndpoint;
}

/**
 * Logs of a cluster: Vector agents on every node (pods, Talos services and kernel), shipping to
 * main with the cluster's certificate through a disk buffer. On main, also Loki behind its nginx
 * gateway, which verifies client certificates and takes the tenant from them, and the exposure
 * of that gateway to sub clusters.
 */
export class Logs extends pulumi.ComponentResource {
    /** The Vector agent chart. */
    public readonly agents: k8s.helm.v4.Chart;
    /** The Loki chart, on main. */
    public readonly loki: k8s.helm.v4.Chart | undefined;

    constructor(name: string, args: LogsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:Logs", name, {}, opts);
        const { config } = args;
        checkRoleArgs(this, config.role, { main: { gatewayTls: args.gatewayTls }, sub: { endpoint: args.endpoint } });

        let lokiEndpoint: { url: string; serverName: string };
        if (config.role === "main" && args.gatewayTls !== undefined) {
            this.loki = new k8s.helm.v4.Chart(
                `${name}-loki`,
                chartArgs(
                    charts.loki,
                    LOKI_RELEASE,
                    config.namespace,
                    lokiValues({ config, gatewayTls: args.gatewayTls }),
                    config.charts.directory,
                ),
                { parent: this },
            );
            exposeIngest(
                `${name}-logs-ingest`,
                {
                    config,
                    signal: "logs",
                    podSelector: {
                        "app.kubernetes.io/name": "loki",
                        "app.kubernetes.io/instance": LOKI_RELEASE,
                        "app.kubernetes.io/component": "gateway",
                    },
                },
                { parent: this },
            );
            // Main's own agents ship in-cluster, through the same gateway and certificate checks.
            const { serverName, port } = inClusterEndpoint("logs", config.namespace);
            lokiEndpoint = { url: `https://${serverName}:${port}`, serverName };
        } else {
            const endpoint = args.endpoint as IngestEndpoint;
            lokiEndpoint = { url: `https://${endpoint.serverName}:${endpoint.port}`, serverName: endpoint.serverName };
        }

        this.agents = new k8s.helm.v4.Chart(
            `${name}-vector`,
            chartArgs(
                charts.vector,
                VECTOR_RELEASE,
                agentsNamespaceName(config.namespace),
                vectorValues({ config, lokiEndpoint, identity: args.identity }),
                config.charts.directory,
            ),
            { parent: this, ...(this.loki !== undefined ? { dependsOn: [this.loki] } : {}) },
        );

        // Ours rather than the chart's, which renders its PodMonitor only when the CRD already exists.
        new k8s.apiextensions.CustomResource(
            `${name}-vector-metrics`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PodMonitor",
                metadata: {
                    name: VECTOR_RELEASE,
                    namespace: agentsNamespaceName(config.namespace),
                    labels: commonLabels(config.cluster.name),
                },
                spec: {
                    selector: {
                        matchLabels: {
                            "app.kubernetes.io/name": "vector",
                            "app.kubernetes.io/instance": VECTOR_RELEASE,
                        },
                    },
                    podMetricsEndpoints: [{ port: VECTOR_METRICS_PORT_NAME, path: "/metrics" }],
                },
            },
            { parent: this, dependsOn: [this.agents] },
        );

        this.registerOutputs({});
    }
}
