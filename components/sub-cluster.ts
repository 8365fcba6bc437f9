import * as pulumi from "@pulumi/pulumi";

import type { SubConfig } from "../config";
import { Namespaces } from "./namespaces";

export interface SubClusterArgs {
    /** The validated stack configuration of a `sub` stack. */
    config: SubConfig;
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

    constructor(name: string, args: SubClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:SubCluster", name, {}, opts);
        const { config } = args;

        const namespaces = new Namespaces(
            `${name}-namespaces`,
            { namespace: config.namespace, clusterName: config.cluster.name },
            { parent: this },
        );
        this.namespace = namespaces.core;
        this.agentsNamespace = namespaces.agents;

        this.registerOutputs({
            namespace: this.namespace,
            agentsNamespace: this.agentsNamespace,
        });
    }
}
