import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { StackConfig } from "../config";
import { INGEST, inClusterEndpoint, type IngestEndpoint } from "./endpoints";
import { exposeIngest } from "./exposure";
import { commonLabels } from "./labels";
import {
    GATEWAY_RELEASE,
    gatewayValues,
    INSTRUMENTATION_NAME,
    instrumentationSpec,
    OTLP_PORTS,
    TEMPO_RELEASE,
    tempoDistributedValues,
    tempoReceiverSelector,
    tempoValues,
} from "./traces-values";
import { chartArgs, charts } from "./versions";
import { checkRoleArgs } from "./role-args";

export interface TracesArgs {
    /** The validated stack configuration. */
    config: StackConfig;
    /** This cluster's identity Secret (core namespace) and its revision. */
    identity: { secretName: string; revision: string };
    /** Main only: Tempo's server certificate Secret and its revision. */
    tempoTls?: { secretName: string; revision: string };
    /** Sub only: main's trace endpoint. */
    endpoint?: IngestEndpoint;
}

/**
 * Traces of a cluster: the OTLP gateway applications and Traefik send to, shipping to main with
 * the cluster's certificate through a persistent queue. On main, also Tempo, whose receivers
 * verify client certificates, its metrics-generator writing to the metrics store, and the
 * exposure of its OTLP endpoint to sub clusters.
 */
export class Traces extends pulumi.ComponentResource {
    /** The gateway chart. */
    public readonly gateway: k8s.helm.v4.Chart;
    /** The Tempo chart, on main. */
    public readonly tempo: k8s.helm.v4.Chart | undefined;

    constructor(name: string, args: TracesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:Traces", name, {}, opts);
        const { config } = args;
        checkRoleArgs(this, config.role, { main: { tempoTls: args.tempoTls }, sub: { endpoint: args.endpoint } });

        let tempoEndpoint: IngestEndpoint;
        if (config.role === "main" && args.tempoTls !== undefined) {
            const input = { config, serverTls: args.tempoTls, identity: args.identity };
            const distributed = config.profile === "large";
            this.tempo = new k8s.helm.v4.Chart(
                `${name}-tempo`,
                distributed
                    ? chartArgs(
                          charts.tempoDistributed,
                          TEMPO_RELEASE,
                          config.namespace,
                          tempoDistributedValues(input),
                          config.charts.directory,
                      )
                    : chartArgs(
                          charts.tempo,
                          TEMPO_RELEASE,
                          config.namespace,
                          tempoValues(input),
                          config.charts.directory,
                      ),
                { parent: this },
            );
            if (distributed) {
                // The distributors' Service is `tempo-distributor`; the ingest name every
                // certificate and route uses is `tempo`, whatever the mode.
                new k8s.core.v1.Service(
                    `${name}-tempo-ingest`,
                    {
                        metadata: {
                            name: INGEST.traces.service,
                            namespace: config.namespace,
                            labels: commonLabels(config.cluster.name),
                        },
                        spec: {
                            selector: tempoReceiverSelector(config.profile),
                            ports: [
                                { name: "otlp-grpc", port: OTLP_PORTS.grpc, targetPort: OTLP_PORTS.grpc },
                                { name: "otlp-http", port: OTLP_PORTS.http, targetPort: OTLP_PORTS.http },
                            ],
                        },
                    },
                    { parent: this },
                );
            }
            exposeIngest(
                `${name}-traces-ingest`,
                { config, signal: "traces", podSelector: tempoReceiverSelector(config.profile) },
                { parent: this },
            );
            // Main's own gateway ships in-cluster, through the same receiver and certificate checks.
            tempoEndpoint = inClusterEndpoint("traces", config.namespace);
        } else {
            tempoEndpoint = args.endpoint as IngestEndpoint;
        }

        this.gateway = new k8s.helm.v4.Chart(
            `${name}-gateway`,
            chartArgs(
                charts.opentelemetryCollector,
                GATEWAY_RELEASE,
                config.namespace,
                gatewayValues({ config, tempo: tempoEndpoint, identity: args.identity }),
                config.charts.directory,
            ),
            { parent: this, ...(this.tempo !== undefined ? { dependsOn: [this.tempo] } : {}) },
        );

        if (config.traces.instrumentation.enabled) {
            new k8s.apiextensions.CustomResource(
                `${name}-instrumentation`,
                {
                    apiVersion: "opentelemetry.io/v1alpha1",
                    kind: "Instrumentation",
                    metadata: {
                        name: INSTRUMENTATION_NAME,
                        namespace: config.namespace,
                        labels: commonLabels(config.cluster.name),
                    },
                    spec: instrumentationSpec(config),
                },
                { parent: this, dependsOn: [this.gateway] },
            );
        }

        this.registerOutputs({});
    }
}
