import { z } from "zod";

import { field, quantity } from "../fields";

/** The per-signal settings every cluster has: metrics, logs and traces. */

export const metricsSchema = z
    .strictObject({
        storageSize: quantity({
            description:
                "Size of the Prometheus volume. Unset: 20Gi (small), 50Gi (medium), 100Gi (large). " +
                "Prometheus stops writing at 85% of it (`retentionSize`), whatever its time retention.",
            examples: ["30Gi"],
        }).optional(),
        storageClass: field(z.string().min(1).optional(), {
            description: "StorageClass of the Prometheus volume. Unset: the cluster's default class.",
            expected: "a StorageClass name",
            examples: ["local-path"],
        }),
    })
    .default({})
    .meta({ description: "This cluster's Prometheus." });

export const logsSchema = z
    .strictObject({
        bufferSize: quantity({
            description:
                "Disk buffer of the log agent on each node, holding what main has not acknowledged. " +
                "When full, the agent stops reading (files keep their place) rather than dropping lines.",
            examples: ["2Gi"],
        }).default("1Gi"),
        talosServiceLogs: field(z.enum(["files", "push"]).default("files"), {
            description:
                "Where the agent reads Talos service logs: `files` tails /var/log/<service>.log " +
                "(Talos 1.12 and later); `push` receives `machine.logging.destinations` on " +
                "127.0.0.1:6051 (any Talos version, includes early boot). One or the other, never " +
                "both, so no line is shipped twice. Kernel logs always come by push (KmsgLogConfig).",
            examples: ["files"],
        }),
    })
    .default({ bufferSize: "1Gi", talosServiceLogs: "files" })
    .meta({ description: "This cluster's log agents." });

export const tracesSchema = z
    .strictObject({
        queueSize: quantity({
            description:
                "Volume of each trace gateway replica holding its persistent sending queue: the " +
                "spans main has not acknowledged yet survive a link loss and a restart there. When " +
                "it is full the gateway refuses new spans (senders retry) rather than dropping queued ones.",
            examples: ["10Gi"],
        }).default("5Gi"),
        traefik: z
            .strictObject({
                sampleRate: field(z.number().min(0).max(1).default(0.1), {
                    description:
                        "Share of requests without incoming trace context that Traefik traces " +
                        "(requests with a context follow their parent's decision). Goes into the " +
                        "`traefikValues` output.",
                    expected: "a number from 0 to 1",
                    examples: [0.1],
                }),
            })
            .default({ sampleRate: 0.1 })
            .meta({ description: "The Traefik values fragment this stack outputs (it does not deploy Traefik)." }),
        instrumentation: z
            .strictObject({
                enabled: field(z.boolean().default(false), {
                    description:
                        "Create an OpenTelemetry Operator `Instrumentation` resource for zero-code " +
                        "Java, Python, Node.js and Go tracing, pointed at the gateway. Needs the " +
                        "operator (and its CRDs) installed in the cluster.",
                    examples: [true],
                }),
                sampleRatio: field(z.number().min(0).max(1).default(1), {
                    description: "Share of root traces the instrumented SDKs keep (parent-based ratio sampler).",
                    expected: "a number from 0 to 1",
                    examples: [0.25],
                }),
            })
            .default({ enabled: false, sampleRatio: 1 })
            .meta({ description: "Optional auto-instrumentation of applications." }),
    })
    .default({ queueSize: "5Gi", traefik: { sampleRate: 0.1 }, instrumentation: { enabled: false, sampleRatio: 1 } })
    .meta({ description: "This cluster's trace gateway." });
