import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { annotationKeys, commonLabels } from "../core/labels";

/** What a `kubernetes.io/tls` Secret of the fleet holds. */
export interface TlsMaterial {
    /** PEM of the certificate (`tls.crt`). */
    cert: pulumi.Input<string>;
    /** PEM of its private key (`tls.key`). */
    key: pulumi.Input<string>;
    /** PEM of the fleet CA (`ca.crt`): the peers this holder trusts. */
    ca: pulumi.Input<string>;
    /** The certificate's revision; see `certificateRevision`. */
    revision: pulumi.Input<string>;
}

export interface TlsSecretArgs {
    /** Name of the Secret in the cluster; chart values reference it by this literal name. */
    name: string;
    namespace: pulumi.Input<string>;
    clusterName: string;
    material: TlsMaterial;
}

/**
 * A `kubernetes.io/tls` Secret: the only place certificates and keys land in a cluster. The
 * whole payload is a Pulumi secret, so it is encrypted in state and hidden in previews.
 */
export function tlsSecret(
    resourceName: string,
    args: TlsSecretArgs,
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
    const { material } = args;
    return new k8s.core.v1.Secret(
        resourceName,
        {
            metadata: {
                name: args.name,
                namespace: args.namespace,
                labels: commonLabels(args.clusterName),
                annotations: { [annotationKeys.certificateRevision]: material.revision },
            },
            type: "kubernetes.io/tls",
            stringData: pulumi.secret({
                "tls.crt": material.cert,
                "tls.key": material.key,
                "ca.crt": material.ca,
            }),
        },
        opts,
    );
}

export interface ClusterIdentityArgs {
    /** Name of the Secret in both namespaces. */
    name: string;
    /** Namespace of the stack's own workloads (metrics, trace gateway). */
    namespace: pulumi.Input<string>;
    /** Namespace of the node collectors (log agents). */
    agentsNamespace: pulumi.Input<string>;
    clusterName: string;
    material: TlsMaterial;
}

/**
 * A cluster's client identity, in each namespace whose workloads ship to main: Secrets are
 * namespaced, and the log agents live apart from the rest.
 */
export function clusterIdentitySecrets(
    resourceName: string,
    args: ClusterIdentityArgs,
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret[] {
    const placements: [string, pulumi.Input<string>][] = [
        ["core", args.namespace],
        ["agents", args.agentsNamespace],
    ];
    return placements.map(([role, namespace]) =>
        tlsSecret(
            `${resourceName}-${role}`,
            { name: args.name, namespace, clusterName: args.clusterName, material: args.material },
            opts,
        ),
    );
}
