import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { StackConfig } from "../../config";
import { commonLabels } from "../core/labels";
import { checkRoleArgs } from "../core/role-args";
import { chartArgs, charts } from "../core/versions";
import { inClusterEndpoint, type IngestEndpoint } from "../network/endpoints";
import {
    GATEWAY_RELEASE,
    gatewayValues,
    INSTRUMENTATION_NAME,
    instrumentationSpec,
    TEMPO_RELEASE,
    tempoDistributedValues,
    tempoValues,
} from "./values";

export interface TracesArgs {
    /** The validated stack configuration. */
    config: StackConfig;
    /** This cluster's identity Secret (core namespace) and its revision. */
    identity: { secretName: string; revision: string };
    /** Main only: the server certificate of Tempo's receiver and its revision. */
    tempoTls?: { secretName: string; revision: string };
    /** Sub only: main's trace endpoint. */
    endpoint?: IngestEndpoint;
}

/**
 * Traces of a cluster: the OTLP gateway applications and Traefik send to, shipping to main with
 * the cluster's certificate through a persistent queue. On main, also Tempo, one tenant per
 * cluster, with its metrics-generator writing to the metrics store; the trace ingest before it
 * is a front of main (components/network/mtls-front.ts).
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
            // Main's own gateway ships in-cluster, through the trace ingest like every cluster's
            // (components/network/mtls-front.ts), which sets its tenant and exposes the receiver.
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
