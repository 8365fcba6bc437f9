import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { MainConfig } from "../../config";
import { commonLabels } from "../core/labels";
import { externalName, INGEST, loadBalancerServiceName, nodePortServiceName, type IngestSignal } from "./endpoints";

/** Traefik's TLS entrypoint, on which passthrough routes listen (port 443). */
export const TRAEFIK_ENTRYPOINT = "websecure";

export interface IngestExposureArgs {
    config: MainConfig;
    signal: IngestSignal;
    /** Labels of the pods serving the signal, for a LoadBalancer Service of their own. */
    podSelector: Record<string, string>;
}

/**
 * Exposes one ingest endpoint of main to the sub clusters, the way `exposure.kind` says:
 * a Traefik TCP route that passes TLS through by SNI to the brick's Service (the brick verifies
 * the client certificate itself), or a LoadBalancer or NodePort Service carrying only the ingest
 * port, so no plain HTTP port of the brick is ever exposed.
 */
export function exposeIngest(
    name: string,
    args: IngestExposureArgs,
    opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
    const { config, signal } = args;
    const service = INGEST[signal];
    const metadata = (name: string) => ({
        name,
        namespace: config.namespace,
        labels: commonLabels(config.cluster.name),
    });
    if (config.exposure.kind === "traefik-passthrough") {
        return new k8s.apiextensions.CustomResource(
            name,
            {
                apiVersion: "traefik.io/v1alpha1",
                kind: "IngressRouteTCP",
                metadata: metadata(`${signal}-ingest`),
                spec: {
                    entryPoints: [TRAEFIK_ENTRYPOINT],
                    routes: [
                        {
                            match: `HostSNI(\`${externalName(signal, config.exposure.domain)}\`)`,
                            services: [{ name: service.service, port: service.port }],
                        },
                    ],
                    tls: { passthrough: true },
                },
            },
            opts,
        );
    }
    const nodePort = config.exposure.kind === "nodeport";
    return new k8s.core.v1.Service(
        name,
        {
            metadata: metadata(nodePort ? nodePortServiceName(signal) : loadBalancerServiceName(signal)),
            spec: {
                type: nodePort ? "NodePort" : "LoadBalancer",
                selector: args.podSelector,
                ports: [
                    {
                        name: signal,
                        port: service.port,
                        targetPort: service.targetPort,
                        protocol: "TCP",
                        ...(nodePort ? { nodePort: config.exposure.nodePorts[signal] } : {}),
                    },
                ],
            },
        },
        opts,
    );
}
