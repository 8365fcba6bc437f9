import { z } from "zod";

import { BUCKET, checkedHours, duration, field, quantity, url } from "../fields";

/** Where main stores metrics, logs and traces, and for how long. */

const filesystemStorageSchema = z
    .strictObject({
        kind: z.literal("filesystem").meta({ description: "Store on PersistentVolumes." }),
        size: quantity({
            description: "Size of each store's PersistentVolume.",
            examples: ["100Gi"],
        }).default("50Gi"),
        storageClass: field(z.string().min(1).optional(), {
            description: "StorageClass of the volumes. Unset: the cluster's default class.",
            expected: "a StorageClass name",
            examples: ["local-path"],
        }),
        accessMode: field(z.enum(["ReadWriteOnce", "ReadWriteMany"]).default("ReadWriteOnce"), {
            description:
                "Access mode of the volume the Thanos bricks share as their bucket. " +
                "`ReadWriteOnce` works with any StorageClass: every pod that mounts it (Prometheus " +
                "with its sidecar, Receive, the Store Gateway, the Compactor, the Ruler) is " +
                "scheduled on the same node. `ReadWriteMany` (NFS, CephFS, Longhorn RWX...) lets " +
                "them spread over nodes.",
            examples: ["ReadWriteOnce"],
        }),
    })
    .meta({ description: "Filesystem object storage on PVCs: for small fleets and trials." });

const s3StorageSchema = z
    .strictObject({
        kind: z.literal("s3").meta({ description: "Store in an S3-compatible object store." }),
        endpoint: url(
            {
                description: "URL of the S3 API.",
                expected: "an http(s) URL",
                examples: ["https://s3.eu-west-1.amazonaws.com", "https://minio.storage.svc:9000"],
            },
            { credentials: "they go in the secrets observability:s3AccessKeyId and observability:s3SecretAccessKey" },
        ),
        region: field(z.string().min(1), {
            description: "Region of the buckets.",
            expected: "a region name",
            examples: ["eu-west-1"],
        }),
        forcePathStyle: field(z.boolean().default(false), {
            description: "Address buckets as `<endpoint>/<bucket>` (MinIO, Ceph) instead of virtual hosts.",
            examples: [true],
        }),
        buckets: z
            .strictObject({
                metrics: field(z.string().regex(BUCKET), {
                    description: "Bucket for Thanos blocks.",
                    expected: "a bucket name (3-63 lowercase letters, digits, '.' or '-')",
                    examples: ["acme-observability-metrics"],
                }),
                logs: field(z.string().regex(BUCKET), {
                    description: "Bucket for Loki chunks and index.",
                    expected: "a bucket name (3-63 lowercase letters, digits, '.' or '-')",
                    examples: ["acme-observability-logs"],
                }),
                traces: field(z.string().regex(BUCKET), {
                    description: "Bucket for Tempo blocks.",
                    expected: "a bucket name (3-63 lowercase letters, digits, '.' or '-')",
                    examples: ["acme-observability-traces"],
                }),
            })
            .meta({ description: "One bucket per signal." }),
    })
    .meta({
        description:
            "S3-compatible object storage. The credentials are the secret keys " +
            "`observability:s3AccessKeyId` and `observability:s3SecretAccessKey`.",
    });

export const storageSchema = z
    .discriminatedUnion("kind", [filesystemStorageSchema, s3StorageSchema])
    .meta({ description: "Long-term storage of metrics, logs and traces on main." });

const localMetricsRetention = duration({
    description:
        "How long each cluster's own Prometheus keeps samples on its volume. On sub clusters " +
        "this is how far back local dashboards and rules see while the link to main is down.",
    examples: ["2d"],
}).default("2d");

export const mainRetentionSchema = z
    .strictObject({
        metrics: z
            .strictObject({
                raw: duration(
                    {
                        description: "Thanos: keep raw-resolution samples this long (`0d` keeps forever).",
                        examples: ["30d"],
                    },
                    "forever",
                ).default("30d"),
                fiveMinutes: duration(
                    {
                        description: "Thanos: keep 5-minute downsampled blocks this long (`0d` keeps forever).",
                        examples: ["180d"],
                    },
                    "forever",
                ).default("180d"),
                oneHour: duration(
                    {
                        description: "Thanos: keep 1-hour downsampled blocks this long (`0d` keeps forever).",
                        examples: ["1y"],
                    },
                    "forever",
                ).default("1y"),
                local: localMetricsRetention,
            })
            .default({ raw: "30d", fiveMinutes: "180d", oneHour: "1y", local: "2d" })
            .meta({ description: "Metrics retention per resolution." }),
        logs: duration({
            description: "Loki: delete log lines older than this.",
            examples: ["30d"],
        }).default("30d"),
        traces: duration({
            description: "Tempo: delete trace blocks older than this.",
            examples: ["14d"],
        }).default("14d"),
    })
    .superRefine((retention, ctx) => {
        const { raw, fiveMinutes, oneHour } = retention.metrics;
        const order: [string, string, string, string][] = [
            ["fiveMinutes", fiveMinutes, "raw", raw],
            ["oneHour", oneHour, "fiveMinutes", fiveMinutes],
        ];
        for (const [key, value, shorterKey, shorterValue] of order) {
            const hours = checkedHours(value, "forever");
            const shorterHours = checkedHours(shorterValue, "forever");
            // A malformed duration has its own problem: there is nothing to compare.
            if (hours === undefined || shorterHours === undefined) continue;
            // 0 keeps forever in Thanos; a coarser resolution must outlive a finer one.
            const outlives = hours === 0 || (shorterHours !== 0 && hours >= shorterHours);
            if (!outlives) {
                ctx.addIssue({
                    code: "custom",
                    path: ["metrics", key],
                    input: value,
                    message:
                        `a duration at least as long as metrics.${shorterKey} (${shorterValue}), ` +
                        "since downsampled data must outlive the data it is computed from",
                });
            }
        }
    })
    .default({
        metrics: { raw: "30d", fiveMinutes: "180d", oneHour: "1y", local: "2d" },
        logs: "30d",
        traces: "14d",
    })
    .meta({
        description: "The retention contract: compiled into every store and checked afterwards by an alert.",
    });

export const subRetentionSchema = z
    .strictObject({
        metrics: z
            .strictObject({ local: localMetricsRetention })
            .default({ local: "2d" })
            .meta({ description: "Metrics kept on the sub cluster itself." }),
    })
    .default({ metrics: { local: "2d" } })
    .meta({
        description: "What the sub cluster keeps locally. Long-term retention is main's contract.",
    });
