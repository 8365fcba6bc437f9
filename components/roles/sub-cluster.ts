import * as pulumi from "@pulumi/pulumi";

import type { StackSecrets, SubConfig } from "../../config";
import { Namespaces } from "../core/namespaces";
import { Logs } from "../logs/logs";
import { Metrics } from "../metrics/metrics";
import type { IngestEndpoints } from "../network/endpoints";
import { NetworkPolicies } from "../network/policies";
import type { FleetBundle } from "../pki/fleet-bundle";
import { CLUSTER_IDENTITY_SECRET } from "../pki/profiles";
import { clusterIdentitySecrets } from "../pki/tls-secret";
import { Remediator } from "../programs/remediator";
import { Traces } from "../traces/traces";

export interface SubClusterArgs {
    /** The validated stack configuration of a `sub` stack. */
    config: SubConfig;
    /** This cluster's certificate bundle, as the main stack exported it. */
    bundle: FleetBundle;
    /** Secrets read from the stack configuration. */
    secrets: StackSecrets;
}

/**
 * A sub cluster: collects its own metrics, logs and traces and ships them to main. Composes the
 * collector components; each one lands in the namespaces created here.
 */
export class SubCluster extends pulumi.ComponentResource {
    /** Namespace of the stack's own workloads. */
    public readonly namespace: pulumi.Output<string>;
    /** Privileged namespace of the node collectors. */
    public readonly agentsNamespace: pulumi.Output<string>;
    /** Where each signal goes on main. */
    public readonly endpoints: IngestEndpoints;
    /** Name of the `kubernetes.io/tls` Secret holding this cluster's identity, in both namespaces. */
    public readonly identitySecret: string;

    constructor(name: string, args: SubClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:SubCluster", name, {}, opts);
        const { config, bundle } = args;
        if (bundle.cluster !== config.cluster.name) {
            throw new pulumi.ResourceError(
                `bundle.cluster is '${bundle.cluster}' but this stack's cluster.name is '${config.cluster.name}'`,
                this,
            );
        }

        const namespaces = new Namespaces(
            `${name}-namespaces`,
            { namespace: config.namespace, clusterName: config.cluster.name },
            { parent: this },
        );
        this.namespace = namespaces.core;
        this.agentsNamespace = namespaces.agents;
        this.endpoints = bundle.endpoints;
        this.identitySecret = CLUSTER_IDENTITY_SECRET;

        new NetworkPolicies(`${name}-network-policies`, { config }, { parent: this, dependsOn: [namespaces] });

        const identity = clusterIdentitySecrets(
            `${name}-identity`,
            {
                name: CLUSTER_IDENTITY_SECRET,
                namespace: namespaces.core,
                agentsNamespace: namespaces.agents,
                clusterName: config.cluster.name,
                material: {
                    cert: bundle.clientCert,
                    key: bundle.clientKey,
                    ca: bundle.caCert,
                    revision: bundle.revision,
                },
            },
            { parent: this },
        );

        const metrics = new Metrics(
            `${name}-metrics`,
            { config, sub: { endpoints: bundle.endpoints, identitySecret: CLUSTER_IDENTITY_SECRET } },
            { parent: this, dependsOn: [namespaces, ...identity] },
        );

        // The log and trace charts render monitors whose CRDs kube-prometheus-stack installs (P25).
        new Logs(
            `${name}-logs`,
            {
                config,
                identity: { secretName: CLUSTER_IDENTITY_SECRET, revision: bundle.revision },
                endpoint: bundle.endpoints.logs,
            },
            { parent: this, dependsOn: [namespaces, ...identity, metrics.prometheusStack] },
        );

        new Traces(
            `${name}-traces`,
            {
                config,
                identity: { secretName: CLUSTER_IDENTITY_SECRET, revision: bundle.revision },
                endpoint: bundle.endpoints.traces,
            },
            { parent: this, dependsOn: [namespaces, ...identity, metrics.prometheusStack] },
        );

        new Remediator(
            `${name}-remediator`,
            { config, ...(args.secrets.remediationGitToken ? { gitToken: args.secrets.remediationGitToken } : {}) },
            // Its ServiceMonitor is one of the metrics chart's CRDs.
            { parent: this, dependsOn: [namespaces, metrics] },
        );

        this.registerOutputs({
            namespace: this.namespace,
            agentsNamespace: this.agentsNamespace,
            endpoints: this.endpoints,
        });
    }
}
