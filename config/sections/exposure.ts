import { z } from "zod";

import { field } from "../fields";
import { DNS_NAME } from "../formats";

/** How main exposes its ingest endpoints to the sub clusters. */

/** A port in the NodePort range a stock API server allocates from (30000-32767). */
function nodePort(fallback: number) {
    return field(z.number().int().min(30000).max(32767).default(fallback), {
        description: "A node port.",
        expected: "an integer from 30000 to 32767 (the API server's default NodePort range)",
        examples: [fallback],
    });
}

export const exposureSchema = z
    .strictObject({
        domain: field(z.string().regex(DNS_NAME), {
            description:
                "DNS suffix under which sub clusters reach main's ingest endpoints " +
                "(e.g. `metrics.<domain>`). Every server certificate carries these names.",
            expected: "a fully qualified DNS name in lowercase",
            examples: ["obs.example.com"],
        }),
        kind: field(z.enum(["nodeport", "traefik-passthrough", "loadbalancer"]), {
            description:
                "How main's ingest endpoints are exposed: one NodePort Service per endpoint " +
                "(needs nothing installed; the names under `domain` resolve to main's nodes), " +
                "Traefik TCP routers with TLS passthrough (needs Traefik and its CRDs; the brick " +
                "itself verifies client certificates), or one LoadBalancer Service per endpoint " +
                "(needs a load-balancer implementation such as MetalLB or Cilium's LB IPAM).",
            examples: ["nodeport"],
        }),
        nodePorts: field(
            z
                .strictObject({
                    metrics: nodePort(30291),
                    logs: nodePort(30443),
                    traces: nodePort(30317),
                    alerts: nodePort(30943),
                })
                .default({ metrics: 30291, logs: 30443, traces: 30317, alerts: 30943 }),
            {
                description:
                    "With `kind: nodeport`: the node port of each ingest endpoint, which sub clusters " +
                    "dial on main's nodes. Ignored by the other kinds.",
                examples: [{ metrics: 30291, logs: 30443, traces: 30317, alerts: 30943 }],
            },
        ),
    })
    .superRefine((exposure, ctx) => {
        const seen = new Map<number, string>();
        for (const [signal, port] of Object.entries(exposure.nodePorts)) {
            // A port out of range has its own problem.
            if (!Number.isInteger(port) || port < 30000 || port > 32767) continue;
            const other = seen.get(port);
            if (other !== undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["nodePorts", signal],
                    input: port,
                    message: `a node port not used by another endpoint (nodePorts.${other} has it)`,
                });
            }
            seen.set(port, signal);
        }
    })
    .meta({ description: "How sub clusters reach the main cluster." });
