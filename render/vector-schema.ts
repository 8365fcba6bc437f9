import { z } from "zod";

import { MIN_DISK_BUFFER_BYTES } from "../components/logs/values";

/**
 * The structure Vector expects of the components this project uses, as far as we use them:
 * component types, their required fields, and no unknown field (a typo such as `cert_file`
 * for the loki sink's `crt_file` would otherwise be a startup failure on every node). Field
 * names and constraints follow Vector's component reference for the pinned chart's version.
 */

const tls = z.strictObject({
    ca_file: z.string().startsWith("/"),
    crt_file: z.string().startsWith("/"),
    key_file: z.string().startsWith("/"),
    verify_certificate: z.boolean().optional(),
    verify_hostname: z.boolean().optional(),
    server_name: z.string().min(1).optional(),
});

const buffer = z.discriminatedUnion("type", [
    z.strictObject({
        type: z.literal("disk"),
        max_size: z.int().min(MIN_DISK_BUFFER_BYTES),
        when_full: z.enum(["block", "drop_newest"]),
    }),
    z.strictObject({
        type: z.literal("memory"),
        max_events: z.int().min(1),
        when_full: z.enum(["block", "drop_newest"]),
    }),
]);

const source = z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("kubernetes_logs") }),
    z.strictObject({
        type: z.literal("socket"),
        mode: z.enum(["tcp", "udp"]),
        address: z.string().regex(/^[0-9.]+:[0-9]+$/),
        decoding: z.strictObject({ codec: z.enum(["bytes", "json"]) }).optional(),
    }),
    z.strictObject({
        type: z.literal("file"),
        include: z.array(z.string().startsWith("/")).min(1),
        exclude: z.array(z.string().startsWith("/")).optional(),
        read_from: z.enum(["beginning", "end"]).optional(),
    }),
    // Vector's own metrics (`scrape_interval_secs`, `namespace` optional; defaults 15 and `vector`).
    z.strictObject({
        type: z.literal("internal_metrics"),
        scrape_interval_secs: z.number().positive().optional(),
        namespace: z.string().min(1).optional(),
    }),
]);

const transform = z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("remap"), inputs: z.array(z.string()).min(1), source: z.string().min(1) }),
]);

const sink = z.discriminatedUnion("type", [
    z.strictObject({
        type: z.literal("loki"),
        inputs: z.array(z.string()).min(1),
        endpoint: z.url({ protocol: /^https$/ }),
        encoding: z.strictObject({ codec: z.enum(["json", "text", "logfmt"]) }),
        labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string().min(1)),
        remove_label_fields: z.boolean().optional(),
        out_of_order_action: z.enum(["accept", "drop", "rewrite_timestamp"]).optional(),
        tenant_id: z.string().optional(),
        tls,
        buffer,
    }),
    // Serves metric events for scraping (`address` is where it listens).
    z.strictObject({
        type: z.literal("prometheus_exporter"),
        inputs: z.array(z.string()).min(1),
        address: z.string().regex(/^[0-9.]+:[0-9]+$/),
    }),
]);

export const vectorConfigSchema = z
    .strictObject({
        data_dir: z.string().startsWith("/"),
        sources: z.record(z.string(), source),
        transforms: z.record(z.string(), transform),
        sinks: z.record(z.string(), sink),
    })
    .superRefine((config, ctx) => {
        const producers = new Set([...Object.keys(config.sources), ...Object.keys(config.transforms)]);
        const consumed = new Set<string>();
        for (const [kind, components] of [
            ["transforms", config.transforms],
            ["sinks", config.sinks],
        ] as const) {
            for (const [id, component] of Object.entries(components)) {
                for (const input of component.inputs) {
                    consumed.add(input);
                    if (!producers.has(input)) {
                        ctx.addIssue({
                            code: "custom",
                            path: [kind, id, "inputs"],
                            message: `input '${input}' is no source or transform`,
                        });
                    }
                }
            }
        }
        for (const id of producers) {
            if (!consumed.has(id)) {
                ctx.addIssue({
                    code: "custom",
                    path: [id],
                    message: `'${id}' feeds nothing: its events would be lost`,
                });
            }
        }
    });

/** Problems of a Vector configuration, one line each; empty when it has the expected structure. */
export function vectorConfigProblems(config: unknown): string[] {
    const result = vectorConfigSchema.safeParse(config);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}
