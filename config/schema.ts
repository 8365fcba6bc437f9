import { z } from "zod";

import { MODES } from "../remediator/settings";
import { CREDENTIAL_FILES, SMTP_SECURITY, WEBHOOK_KINDS } from "../reporter/delivery-types";
import {
    CRON,
    cronProblem,
    DNS_LABEL,
    DNS_NAME,
    DURATION,
    durationHoursOf,
    isTimeZone,
    MAX_DURATION,
    MAX_DURATION_HOURS,
    MAX_QUANTITY,
    MAX_QUANTITY_BYTES,
    QUANTITY,
    quantityBytesOf,
    STACK_REF,
    suggestTimeZone,
} from "./formats";
import { urlCredentialPlace } from "./text";

/**
 * The stack configuration, as plain data. Every key lives in the `observability:` namespace of a
 * `Pulumi.<stack>.yaml` file. Defaults live here, next to the shape they belong to, so that the
 * JSON Schema written by `npm run schema` and the program agree on them.
 *
 * Secrets never go through this schema: they are separate keys, read with
 * `config.requireSecret`, listed in {@link SECRET_KEYS}.
 */

/** Metadata each leaf carries: used by error messages and copied into the JSON Schema. */
export interface FieldMeta {
    description: string;
    /** What a valid value looks like, in words ("a DNS-1123 label"). */
    expected?: string;
    examples: readonly unknown[];
}

function field<T extends z.ZodType>(schema: T, meta: FieldMeta): T {
    return schema.meta({
        description: meta.description,
        examples: [...meta.examples],
        ...(meta.expected !== undefined ? { expected: meta.expected } : {}),
    });
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Longest namespace we accept, so that `<namespace>-agents` still fits in 63 characters. */
export const MAX_NAMESPACE_LENGTH = 56;

export { DURATION, durationHours, MAX_DURATION, MAX_QUANTITY, QUANTITY } from "./formats";

/**
 * Whether a value passed the DNS-label checks of its key. Checks across keys read only such
 * values: one that failed has its own problem, and is neither compared nor quoted.
 */
function isLabel(value: unknown, maxLength = 63): value is string {
    return typeof value === "string" && value.length <= maxLength && DNS_LABEL.test(value);
}

function dnsLabel(meta: Omit<FieldMeta, "expected">, maxLength = 63) {
    return field(z.string().max(maxLength).regex(DNS_LABEL), {
        ...meta,
        expected: `a DNS-1123 label (lowercase letters, digits and '-', at most ${maxLength} characters)`,
    });
}

/** A namespace of the cluster, in a list of them. */
function namespaceName(example: string) {
    return field(z.string().max(63).regex(DNS_LABEL), {
        description: "A namespace of the cluster.",
        expected: "a namespace name (a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters)",
        examples: [example],
    });
}

/**
 * Hours of a duration that passed its own checks (format and range, zero only where it keeps
 * forever), for the checks that compare durations; undefined otherwise, since a duration with a
 * problem of its own has nothing to compare.
 */
function checkedHours(value: string, zero: "forever" | "refused" = "refused"): number | undefined {
    const hours = durationHoursOf(value);
    if (hours === undefined || hours > MAX_DURATION_HOURS || (zero === "refused" && hours === 0)) return undefined;
    return hours;
}

/**
 * A duration up to {@link MAX_DURATION}. `zero: "forever"` accepts `0d`, which the store reads as
 * keeping forever; elsewhere zero means nothing and is refused.
 */
function duration(meta: Omit<FieldMeta, "expected">, zero: "forever" | "refused" = "refused") {
    const expected =
        "a duration in whole hours, days, weeks or years (h, d, w, y), " +
        (zero === "forever" ? `0d (kept forever) up to ${MAX_DURATION}` : `above zero and up to ${MAX_DURATION}`);
    // A malformed value is the format check's problem alone.
    const inRange = (value: string): boolean =>
        durationHoursOf(value) === undefined || checkedHours(value, zero) !== undefined;
    return field(z.string().regex(DURATION).refine(inRange, { message: expected }), { ...meta, expected });
}

/** A storage size: whole binary units, above zero, up to {@link MAX_QUANTITY}. */
function quantity(meta: Omit<FieldMeta, "expected">) {
    const expected = `a whole number of Ki, Mi, Gi or Ti, above zero and up to ${MAX_QUANTITY}`;
    const inRange = (value: string): boolean => {
        const bytes = quantityBytesOf(value);
        return bytes === undefined || (bytes > 0 && bytes <= MAX_QUANTITY_BYTES);
    };
    return field(z.string().regex(QUANTITY).refine(inRange, { message: expected }), { ...meta, expected });
}

/**
 * An http(s) URL that carries no credential: `credentials` says where the credential goes
 * instead, so the message can point there (and the URL, written in clear into the desired
 * state, holds none).
 */
function url(meta: FieldMeta & { expected: string }, options: { https?: boolean; credentials: string }) {
    const expected = `${meta.expected} without credentials (${options.credentials})`;
    return field(
        z
            .url({ protocol: options.https === true ? /^https$/ : /^https?$/ })
            .refine((value) => urlCredentialPlace(value) === undefined, { message: expected }),
        meta,
    );
}

const NO_CREDENTIAL = "no credential belongs in it";

const clusterSchema = z
    .strictObject({
        name: dnsLabel({
            description:
                "Name of this cluster. It becomes the `cluster` label on every metric, log line and " +
                "trace, and the identity (certificate CN) a sub cluster presents to main.",
            examples: ["main", "sub-eu-1"],
        }),
    })
    .meta({ description: "Identity of the cluster this stack deploys to." });

const kubernetesSchema = z
    .strictObject({
        context: field(z.string().min(1).optional(), {
            description:
                "kubeconfig context the Kubernetes provider uses. Unset: the current context of " +
                "the kubeconfig found in $KUBECONFIG or ~/.kube/config.",
            expected: "a kubeconfig context name",
            examples: ["admin@talos-main"],
        }),
    })
    .default({})
    .meta({ description: "How the program reaches the cluster." });

const chartsSchema = z
    .strictObject({
        directory: field(z.string().min(1).optional(), {
            description:
                "Install every chart from `<directory>/<chart>-<version>.tgz` instead of its " +
                "repository, for clusters without access to the chart repositories. Each archive " +
                "must match the sha256 pinned in components/versions.ts; `npm run charts -- --dir " +
                "<directory>` fills it on a machine that has access. Relative paths are relative to " +
                "the project directory. Unset: each chart comes from its repository.",
            expected: "a directory path",
            examples: ["/srv/observability-charts"],
        }),
    })
    .default({})
    .meta({ description: "Where the Helm charts are installed from." });

const namespaceSchema = dnsLabel(
    {
        description:
            "Namespace for the stack's own workloads. Node collectors that need host access go to " +
            "`<namespace>-agents`, labelled for the `privileged` Pod Security level.",
        examples: ["observability"],
    },
    MAX_NAMESPACE_LENGTH,
).default("observability");

const profileSchema = field(z.enum(["small", "medium", "large"]).default("small"), {
    description:
        "Resource profile: requests and limits of every brick. `large` also switches to the " +
        "horizontally scaled modes.",
    examples: ["small"],
});

/** A port in the NodePort range a stock API server allocates from (30000-32767). */
function nodePort(fallback: number) {
    return field(z.number().int().min(30000).max(32767).default(fallback), {
        description: "A node port.",
        expected: "an integer from 30000 to 32767 (the API server's default NodePort range)",
        examples: [fallback],
    });
}

const exposureSchema = z
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

const mainRetentionSchema = z
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

const subRetentionSchema = z
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

/** Certificate profiles of the fleet PKI, with the lifetime each gets unless the stack overrides it. */
export const CERTIFICATE_PROFILE_LIFETIMES = {
    ca: { validity: "10y", renewBefore: "1y" },
    "thanos-receive": { validity: "90d", renewBefore: "30d" },
    "logs-ingest": { validity: "90d", renewBefore: "30d" },
    tempo: { validity: "90d", renewBefore: "30d" },
    "tempo-receiver": { validity: "90d", renewBefore: "30d" },
    alertmanager: { validity: "90d", renewBefore: "30d" },
    "query-gateway": { validity: "90d", renewBefore: "30d" },
    "thanos-store": { validity: "90d", renewBefore: "30d" },
    cluster: { validity: "90d", renewBefore: "30d" },
    grafana: { validity: "90d", renewBefore: "30d" },
    reporter: { validity: "90d", renewBefore: "30d" },
    "thanos-query": { validity: "90d", renewBefore: "30d" },
    "thanos-router": { validity: "90d", renewBefore: "30d" },
    "thanos-ruler": { validity: "90d", renewBefore: "30d" },
    "traces-ingest": { validity: "90d", renewBefore: "30d" },
} as const satisfies Record<string, { validity: string; renewBefore: string }>;

export type CertificateProfileName = keyof typeof CERTIFICATE_PROFILE_LIFETIMES;

function lifetimeSchema(profile: CertificateProfileName) {
    const defaults = CERTIFICATE_PROFILE_LIFETIMES[profile];
    return z
        .strictObject({
            validity: duration({
                description: `How long a \`${profile}\` certificate is valid.`,
                examples: [defaults.validity],
            }).default(defaults.validity),
            renewBefore: duration({
                description:
                    `How long before expiry a \`${profile}\` certificate is replaced: the first ` +
                    "`pulumi up` inside this window issues a new one.",
                examples: [defaults.renewBefore],
            }).default(defaults.renewBefore),
        })
        .superRefine((lifetime, ctx) => {
            const validity = checkedHours(lifetime.validity);
            const renewBefore = checkedHours(lifetime.renewBefore);
            if (validity === undefined || renewBefore === undefined) return;
            if (renewBefore >= validity) {
                ctx.addIssue({
                    code: "custom",
                    path: ["renewBefore"],
                    input: lifetime.renewBefore,
                    message: `a duration above zero and shorter than validity (${lifetime.validity})`,
                });
            }
        })
        .default({ ...defaults })
        .meta({ description: `Lifetime of \`${profile}\` certificates.` });
}

const lifetimeShape = Object.fromEntries(
    (Object.keys(CERTIFICATE_PROFILE_LIFETIMES) as CertificateProfileName[]).map((p) => [p, lifetimeSchema(p)]),
) as { [P in CertificateProfileName]: ReturnType<typeof lifetimeSchema> };

const pkiDefaults = {
    lifetimes: Object.fromEntries(
        Object.entries(CERTIFICATE_PROFILE_LIFETIMES).map(([p, l]) => [p, { ...l }]),
    ) as Record<CertificateProfileName, { validity: string; renewBefore: string }>,
    generation: 0,
};

const pkiSchema = z
    .strictObject({
        lifetimes: z
            .strictObject(lifetimeShape)
            .default(pkiDefaults.lifetimes)
            .meta({ description: "Validity and renewal window per certificate profile." }),
        generation: field(z.int().min(0).default(0), {
            description:
                "Raise to re-issue every leaf certificate at the next `pulumi up` (after a key " +
                "leak, say). The CA is kept.",
            expected: "a whole number, 0 or more",
            examples: [1],
        }),
    })
    .superRefine((pki, ctx) => {
        const ca = checkedHours(pki.lifetimes.ca.validity);
        if (ca === undefined) return;
        for (const [profile, lifetime] of Object.entries(pki.lifetimes)) {
            const validity = checkedHours(lifetime.validity);
            if (profile !== "ca" && validity !== undefined && validity > ca) {
                ctx.addIssue({
                    code: "custom",
                    path: ["lifetimes", profile, "validity"],
                    input: lifetime.validity,
                    message: `a duration no longer than the CA's validity (lifetimes.ca.validity: ${pki.lifetimes.ca.validity})`,
                });
            }
        }
    })
    .default(pkiDefaults)
    .meta({
        description:
            "The fleet PKI on main: one root CA, server certificates for every brick that accepts " +
            "connections, client certificates for every brick that connects.",
    });

const subClusterEntry = z
    .strictObject({
        name: dnsLabel({
            description: "Name of the sub cluster, equal to `observability:cluster.name` in its own stack.",
            examples: ["sub-eu-1"],
        }),
    })
    .meta({ description: "A sub cluster allowed to ship to main." });

const talosSchema = z
    .strictObject({
        controlPlaneNodes: field(
            z
                .array(
                    field(z.union([z.ipv4(), z.ipv6()]), {
                        description: "IP address of a control-plane node.",
                        expected: "an IPv4 or IPv6 address",
                        examples: ["10.0.0.10"],
                    }),
                )
                .default([]),
            {
                description:
                    "IP addresses of the control-plane nodes. etcd is a Talos service, not a pod: " +
                    "Prometheus scrapes its metrics at <ip>:2381 (opened by the `talosMachineConfigPatch` " +
                    "output). Empty: etcd is not scraped and its alerts are off.",
                expected: "a list of IPv4 or IPv6 addresses",
                examples: [["10.0.0.10", "10.0.0.11", "10.0.0.12"]],
            },
        ),
        kubeProxy: field(z.boolean().default(true), {
            description:
                "Whether the cluster runs kube-proxy. Set false with Cilium's kube-proxy " +
                "replacement, so kube-proxy is neither scraped nor alerted on.",
            examples: [false],
        }),
    })
    .default({ controlPlaneNodes: [], kubeProxy: true })
    .meta({ description: "Facts about the Talos cluster that scraping depends on." });

const metricsSchema = z
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

const logsSchema = z
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

const tracesSchema = z
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

const oidcSchema = z
    .strictObject({
        name: field(z.string().min(1).default("SSO"), {
            description: "Label of the login button.",
            examples: ["Keycloak"],
        }),
        clientId: field(z.string().min(1), {
            description:
                "OAuth2 client id registered at the identity provider. Its client secret is the " +
                "Pulumi secret `grafanaOidcClientSecret`.",
            expected: "a non-empty string",
            examples: ["grafana"],
        }),
        authUrl: url(
            {
                description: "The provider's authorization endpoint.",
                expected: "an https URL",
                examples: ["https://id.example.com/realms/ops/protocol/openid-connect/auth"],
            },
            { https: true, credentials: "the client secret goes in the secret observability:grafanaOidcClientSecret" },
        ),
        tokenUrl: url(
            {
                description: "The provider's token endpoint.",
                expected: "an https URL",
                examples: ["https://id.example.com/realms/ops/protocol/openid-connect/token"],
            },
            { https: true, credentials: "the client secret goes in the secret observability:grafanaOidcClientSecret" },
        ),
        apiUrl: url(
            {
                description: "The provider's userinfo endpoint.",
                expected: "an https URL",
                examples: ["https://id.example.com/realms/ops/protocol/openid-connect/userinfo"],
            },
            { https: true, credentials: "the client secret goes in the secret observability:grafanaOidcClientSecret" },
        ),
        scopes: field(z.string().min(1).default("openid profile email"), {
            description: "Scopes requested, space-separated.",
            examples: ["openid profile email groups"],
        }),
        roleAttributePath: field(z.string().min(1).optional(), {
            description:
                "JMESPath over the ID token or userinfo that yields `Admin`, `Editor` or `Viewer`. " +
                "Unset: every user signing in is a Viewer.",
            examples: ["contains(groups[*], 'sre') && 'Admin' || 'Viewer'"],
        }),
        allowSignUp: field(z.boolean().default(true), {
            description: "Create a Grafana user on a first successful sign-in.",
            examples: [false],
        }),
    })
    .meta({ description: "Single sign-on through a generic OAuth2 / OpenID Connect provider." });

const grafanaSchema = z
    .strictObject({
        storageSize: quantity({
            description:
                "Size of Grafana's volume (its database: users, preferences, annotations, " +
                "dashboard versions). Unset: 5Gi (small), 10Gi (medium), 20Gi (large).",
            examples: ["10Gi"],
        }).optional(),
        storageClass: field(z.string().min(1).optional(), {
            description: "StorageClass of Grafana's volume. Unset: the cluster's default class.",
            expected: "a StorageClass name",
            examples: ["local-path"],
        }),
        rootUrl: url(
            {
                description:
                    "The URL users open Grafana at (behind your ingress). Links in alerts and the " +
                    "OIDC redirect are built from it; required with `oidc`.",
                expected: "an http(s) URL",
                examples: ["https://grafana.example.com"],
            },
            { credentials: NO_CREDENTIAL },
        ).optional(),
        adminPasswordGeneration: field(z.number().int().min(0).default(0), {
            description:
                "Bump to generate a new admin password into the `grafana-admin` Secret. Grafana " +
                "applies it only with the reset command in docs/grafana.md: the chart sets it on " +
                "first start only.",
            expected: "a whole number, 0 or more",
            examples: [1],
        }),
        oidc: oidcSchema.optional(),
    })
    .superRefine((grafana, ctx) => {
        if (grafana.oidc !== undefined && grafana.rootUrl === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["rootUrl"],
                input: grafana.rootUrl,
                message: "the URL users open Grafana at, which the OIDC redirect needs (oidc is set)",
            });
        }
    })
    .default({ adminPasswordGeneration: 0 })
    .meta({ description: "Grafana on main: the one pane over the whole fleet." });

/** Where the runbooks are in this repository: `alerting.runbookBaseUrl` when nothing better is known. */
export const RUNBOOK_PATH = "docs/runbooks";

/** An absolute http(s) URL, which a mail or chat client can open. */
const ABSOLUTE_URL = /^https?:\/\/[^\s/]+/;

/** Severities every alert of the stack carries, most urgent first. */
export const SEVERITIES = ["critical", "warning", "info"] as const;

/** Name of the receiver that delivers nothing: alerts stay visible in Alertmanager and Grafana. */
export const NULL_RECEIVER = "none";

const receiverName = field(
    z
        .string()
        .max(63)
        .regex(DNS_LABEL)
        .refine((name) => name !== NULL_RECEIVER, { message: `a name other than '${NULL_RECEIVER}' (reserved)` }),
    {
        description: "Name of the receiver; routes and `alertReceiverCredentials` refer to it.",
        expected: "a DNS-1123 label",
        examples: ["oncall"],
    },
);

const sendResolved = field(z.boolean().default(true), {
    description: "Whether the receiver is told when an alert resolves.",
    examples: [false],
});

const chatReceiver = (kind: "slack" | "mattermost") =>
    z
        .strictObject({
            name: receiverName,
            kind: z.literal(kind),
            channel: field(z.string().min(1).optional(), {
                description: "Channel to post to. Unset: the webhook's own channel.",
                expected: "a channel name",
                examples: ["#alerts"],
            }),
            sendResolved,
        })
        .meta({
            description: `A ${kind === "slack" ? "Slack" : "Mattermost"} incoming webhook; its URL is the receiver's credential.`,
        });

const receiverSchema = z.discriminatedUnion("kind", [
    z
        .strictObject({
            name: receiverName,
            kind: z.literal("email"),
            to: field(
                z
                    .array(
                        field(z.email(), {
                            description: "An address the alert mails go to.",
                            expected: "an e-mail address",
                            examples: ["sre@example.com"],
                        }),
                    )
                    .min(1),
                {
                    description: "Addresses the alert mails go to.",
                    expected: "a non-empty list of e-mail addresses",
                    examples: [["sre@example.com"]],
                },
            ),
            from: field(z.email(), {
                description: "Sender address of the alert mails.",
                expected: "an e-mail address",
                examples: ["alertmanager@example.com"],
            }),
            smarthost: field(
                z
                    .string()
                    .regex(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/)
                    .refine((hostPort) => isPort(hostPort.slice(hostPort.lastIndexOf(":") + 1)), {
                        message: "host:port, with a port from 1 to 65535",
                    }),
                {
                    description: "SMTP server, host and port. STARTTLS is required.",
                    expected: "host:port, with a port from 1 to 65535",
                    examples: ["smtp.example.com:587"],
                },
            ),
            username: field(z.string().min(1).optional(), {
                description: "SMTP user. Set: its password is the receiver's credential.",
                expected: "a user name",
                examples: ["alertmanager"],
            }),
            sendResolved,
        })
        .meta({ description: "E-mail through an SMTP server." }),
    chatReceiver("slack"),
    chatReceiver("mattermost"),
    z
        .strictObject({ name: receiverName, kind: z.literal("teams"), sendResolved })
        .meta({ description: "A Microsoft Teams Workflows webhook; its URL is the receiver's credential." }),
    z
        .strictObject({
            name: receiverName,
            kind: z.literal("webhook"),
            url: url(
                {
                    description:
                        "Where Alertmanager POSTs its JSON payload. Keep secrets out of it: a bearer " +
                        "token goes in the receiver's credential (`bearerToken: true`).",
                    expected: "an http(s) URL",
                    examples: ["https://hooks.example.com/alertmanager"],
                },
                {
                    credentials:
                        "a token goes in the secret observability:alertReceiverCredentials, sent with bearerToken: true",
                },
            ),
            bearerToken: field(z.boolean().default(false), {
                description: "Send the receiver's credential as an `Authorization: Bearer` token.",
                examples: [true],
            }),
            sendResolved,
        })
        .meta({ description: "Any HTTP endpoint that takes Alertmanager's webhook payload." }),
    z
        .strictObject({ name: receiverName, kind: z.literal("pagerduty"), sendResolved })
        .meta({ description: "PagerDuty Events API v2; the integration's routing key is the receiver's credential." }),
]);

export type ReceiverConfig = z.output<typeof receiverSchema>;

/** Whether a receiver needs a credential in `alertReceiverCredentials`. */
export function receiverNeedsCredential(receiver: ReceiverConfig): boolean {
    switch (receiver.kind) {
        case "email":
            return receiver.username !== undefined;
        case "webhook":
            return receiver.bearerToken;
        default:
            return true;
    }
}

const routeSchema = z
    .strictObject({
        receiver: field(z.string().min(1), {
            description: "The receiver alerts matching this route go to.",
            expected: "the name of a receiver in `alerting.receivers`",
            examples: ["oncall"],
        }),
        severities: field(z.array(z.enum(SEVERITIES)).min(1).optional(), {
            description: "Match alerts of these severities. Unset: any.",
            expected: "a list of critical, warning, info",
            examples: [["critical"]],
        }),
        clusters: field(
            z
                .array(
                    field(z.string().max(63).regex(DNS_LABEL), {
                        description: "A cluster name.",
                        expected:
                            "a cluster name (a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters)",
                        examples: ["edge-a"],
                    }),
                )
                .min(1)
                .optional(),
            {
                description: "Match alerts of these clusters. Unset: any.",
                expected: "a list of cluster names",
                examples: [["edge-a"]],
            },
        ),
        alertnames: field(
            z
                .array(
                    field(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), {
                        description: "An alert name.",
                        expected: "an alert name (letters, digits and '_', not starting with a digit)",
                        examples: ["ClusterMetricsAbsent"],
                    }),
                )
                .min(1)
                .optional(),
            {
                description: "Match these alerts only. Unset: any.",
                expected: "a list of alert names",
                examples: [["ClusterMetricsAbsent"]],
            },
        ),
    })
    .meta({ description: "Alerts matching every set field go to `receiver`; the first matching route wins." });

const alertingSchema = z
    .strictObject({
        receivers: z.array(receiverSchema).default([]).meta({
            description: "Where alerts are delivered. Credentials go in the `alertReceiverCredentials` secret.",
        }),
        routes: z
            .array(routeSchema)
            .default([])
            .meta({
                description:
                    "Routing by severity, cluster and alert name, tried in order before `defaultReceiver`. " +
                    "Info alerts that no route matches are not notified (the weekly report lists them).",
            }),
        defaultReceiver: field(z.string().min(1).optional(), {
            description:
                "Receiver of critical and warning alerts no route matches. Unset: they are only " +
                "visible in Alertmanager and Grafana.",
            expected: "the name of a receiver in `alerting.receivers`",
            examples: ["chat"],
        }),
        heartbeatReceiver: field(z.string().min(1).optional(), {
            description:
                "Receiver of main's always-firing Watchdog, every minute, for an external " +
                "dead-man's switch (a webhook to a heartbeat service). Unset: not sent.",
            expected: "the name of a receiver in `alerting.receivers`",
            examples: ["heartbeat"],
        }),
        runbookBaseUrl: field(
            z
                .string()
                .min(1)
                .refine((value) => urlCredentialPlace(value) === undefined, {
                    message: `an absolute http(s) URL without credentials (${NO_CREDENTIAL})`,
                })
                .default(RUNBOOK_PATH),
            {
                description:
                    "Base of every alert's `runbook_url` (`<base>/<AlertName>.md`) and of the weekly report's " +
                    "runbook links: where this repository's docs/runbooks is browsable, as an absolute URL " +
                    "(`https://<forge>/<group>/<project>/-/blob/main/docs/runbooks` on GitLab, " +
                    "`https://github.com/<owner>/<repo>/blob/main/docs/runbooks` on GitHub). The default, " +
                    "the relative path `docs/runbooks`, opens nowhere outside the repository: it is refused " +
                    "once `receivers` deliver alerts (set it to the repository's web URL), and the report then " +
                    "names each runbook without a link. A sub stack that leaves it unset takes main's, since its " +
                    "alerts reach main's receivers.",
                expected: "an absolute http(s) URL (a relative path only while no receiver is configured)",
                examples: ["https://git.example.com/platform/observability/-/blob/main/docs/runbooks"],
            },
        ),
        serviceErrorRatio: field(z.number().gt(0).lt(1).default(0.05), {
            description: "Share of failed server spans of a service above which ServiceErrorRateHigh fires.",
            expected: "a number between 0 and 1",
            examples: [0.02],
        }),
        serviceLatencySeconds: field(z.number().positive().default(2), {
            description:
                "95th percentile server-span latency of a service above which ServiceLatencyHigh fires; " +
                "ServiceTailLatencyHigh fires when the 99th percentile exceeds twice this.",
            expected: "a number of seconds",
            examples: [0.5],
        }),
    })
    .superRefine((alerting, ctx) => {
        const names = new Map<string, number>();
        const written = new Set(alerting.receivers.map((receiver) => receiver.name));
        alerting.receivers.forEach((receiver, index) => {
            if (!isLabel(receiver.name) || receiver.name === NULL_RECEIVER) return;
            const first = names.get(receiver.name);
            if (first !== undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["receivers", index, "name"],
                    input: receiver.name,
                    message: `a name not used by another receiver (receivers[${first}] has it)`,
                });
            } else {
                names.set(receiver.name, index);
            }
        });
        const known = `one of the receivers' names (${[...names.keys()].join(", ") || "none defined"})`;
        const refer = (path: (string | number)[], name: string | undefined) => {
            if (name !== undefined && !written.has(name)) {
                ctx.addIssue({ code: "custom", path, input: name, message: known });
            }
        };
        alerting.routes.forEach((route, index) => refer(["routes", index, "receiver"], route.receiver));
        refer(["defaultReceiver"], alerting.defaultReceiver);
        refer(["heartbeatReceiver"], alerting.heartbeatReceiver);
        if (alerting.receivers.length > 0 && !ABSOLUTE_URL.test(alerting.runbookBaseUrl)) {
            ctx.addIssue({
                code: "custom",
                path: ["runbookBaseUrl"],
                input: alerting.runbookBaseUrl,
                message:
                    "an absolute http(s) URL where docs/runbooks is browsable (the repository's web URL), since " +
                    `receivers (${alerting.receivers.map((r) => r.name).join(", ")}) send each alert's runbook_url ` +
                    "to mail and chat clients, which cannot open a relative path",
            });
        }
    })
    .default({
        receivers: [],
        routes: [],
        runbookBaseUrl: RUNBOOK_PATH,
        serviceErrorRatio: 0.05,
        serviceLatencySeconds: 2,
    })
    .meta({ description: "Alertmanager on main: receivers and routing of every cluster's alerts." });

export type AlertingConfig = z.output<typeof alertingSchema>;

const subAlertingSchema = z
    .strictObject({ runbookBaseUrl: alertingSchema.unwrap().shape.runbookBaseUrl })
    .default({ runbookBaseUrl: RUNBOOK_PATH })
    .meta({ description: "This cluster's alert rules (delivery is configured on main)." });

/** Namespaces no remediation ever touches, whatever the config says, besides the stack's own. */
const ALWAYS_PROTECTED_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

/** A Kubernetes label or annotation key: an optional DNS-subdomain prefix and a name. */
const QUALIFIED_KEY =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const PLACEHOLDERS = /^[^{}]*(\{(cluster|namespace|kind|name)\}[^{}]*)*$/;

/** Base URL of a Git host's API; `credentials` says where its token goes. */
function gitApiUrl(credentials: string) {
    return url(
        {
            description:
                "Base URL of the hosting API: the GitLab instance (`https://gitlab.example.com`) or " +
                "`https://api.github.com` (GitHub Enterprise: `https://<host>/api/v3`).",
            expected: "an http(s) URL",
            examples: ["https://gitlab.example.com"],
        },
        { credentials },
    );
}

const gitopsSchema = z
    .strictObject({
        provider: field(z.enum(["gitlab", "github"]), {
            description: "Where the GitOps repository is hosted.",
            examples: ["gitlab"],
        }),
        apiUrl: gitApiUrl("the token goes in the secret observability:remediationGitToken"),
        repository: field(z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/), {
            description: "The repository: `group/project` (GitLab, subgroups allowed) or `owner/repo` (GitHub).",
            expected: "a repository path <owner>/<name>",
            examples: ["platform/gitops"],
        }),
        targetBranch: field(
            z
                .string()
                .regex(/^[A-Za-z0-9._/-]+$/)
                .default("main"),
            {
                description: "Branch the merge requests target.",
                expected: "a branch name",
                examples: ["main"],
            },
        ),
        pathTemplate: field(z.string().min(1).regex(PLACEHOLDERS), {
            description:
                "Path of the file that declares a workload, with `{cluster}`, `{namespace}`, `{kind}` " +
                "(lowercase) and `{name}` placeholders. A file with several documents is searched for " +
                "the one of that kind and name.",
            expected: "a path using only the {cluster}, {namespace}, {kind} and {name} placeholders",
            examples: ["clusters/{cluster}/{namespace}/{name}.yaml"],
        }),
        fieldPath: field(
            z
                .string()
                .regex(PLACEHOLDERS)
                .regex(/^[^.]+(\.[^.]+)*$/)
                .default("spec.replicas"),
            {
                description:
                    "Dotted path of the replica count in that document: `spec.replicas` for a manifest, " +
                    "`replicaCount` for a Helm values file. Same placeholders.",
                expected: "a dotted path using only the {cluster}, {namespace}, {kind} and {name} placeholders",
                examples: ["spec.replicas"],
            },
        ),
    })
    .meta({
        description:
            "The GitOps repository `gitops` mode opens merge requests on; its token is the `remediationGitToken` secret.",
    });

const remediationBudgetSchema = z
    .strictObject({
        cpuRequestFactor: field(z.number().gt(1).default(2), {
            description:
                "A workload is over its CPU budget when it uses more than this many times the CPU it " +
                "requests. A workload can raise it with the `observability/budget-cpu-request-factor` annotation.",
            expected: "a number above 1",
            examples: [3],
        }),
        memoryLimitRatio: field(z.number().gt(0).lt(1).default(0.9), {
            description:
                "A workload is over its memory budget when a container's working set exceeds this share " +
                "of its limit. Raise per workload with `observability/budget-memory-limit-ratio`.",
            expected: "a number between 0 and 1",
            examples: [0.95],
        }),
        restarts: field(z.number().int().positive().default(5), {
            description:
                "Container restarts of one workload within 15 minutes that make a restart storm. Raise " +
                "per workload with `observability/budget-restarts`.",
            expected: "a positive whole number",
            examples: [10],
        }),
        forMinutes: field(z.number().int().positive().max(1440).default(10), {
            description: "How long a workload stays over budget before its alert fires and the remediator may act.",
            expected: "a whole number of minutes from 1 to 1440",
            examples: [15],
        }),
    })
    .default({ cpuRequestFactor: 2, memoryLimitRatio: 0.9, restarts: 5, forMinutes: 10 })
    .meta({ description: "The budget of an opted-in workload, cluster-wide defaults." });

const remediationSchema = z
    .strictObject({
        mode: field(z.enum(MODES).default("dry-run"), {
            description:
                "What the remediator does with an over-budget opted-in workload: `off` (records the " +
                "decision, mode off), `dry-run` (records what it would do), `scale` (scales it to 0, the " +
                "replica count kept in an annotation), `gitops` (opens one merge request setting its " +
                "replicas to 0 in the GitOps repository). Every decision is logged and counted; one on a " +
                "workload it read also becomes a Kubernetes Event.",
            examples: ["scale"],
        }),
        killSwitch: field(z.boolean().default(false), {
            description: "Refuse every action, whatever the mode: the emergency stop.",
            examples: [true],
        }),
        optInLabel: z
            .strictObject({
                key: field(z.string().max(253).regex(QUALIFIED_KEY).default("observability/criticality"), {
                    description: "Label key a workload opts in with; kube-state-metrics exports it for the rules.",
                    expected: "a Kubernetes label key",
                    examples: ["example.com/tier"],
                }),
                value: field(z.string().regex(LABEL_VALUE).min(1).default("non-critical"), {
                    description: "Value of that label that opts in.",
                    expected: "a Kubernetes label value",
                    examples: ["best-effort"],
                }),
            })
            .default({ key: "observability/criticality", value: "non-critical" })
            .meta({ description: "The label that marks a workload as non-critical, so remediable." }),
        namespaces: field(z.array(namespaceName("batch")).default([]), {
            description:
                "Namespaces the remediator may act in, each granted by its own Role. Empty: every " +
                "namespace that is not protected, granted by a ClusterRole.",
            expected: "a list of namespace names",
            examples: [["batch", "previews"]],
        }),
        protectedNamespaces: field(z.array(namespaceName("payments")).default([]), {
            description:
                "Namespaces never acted in, besides kube-system, kube-public, kube-node-lease and the " +
                "stack's own namespaces, which always are.",
            expected: "a list of namespace names",
            examples: [["payments"]],
        }),
        budget: remediationBudgetSchema,
        maxActionsPerHour: field(z.number().int().min(1).max(100).default(3), {
            description: "At most this many actions (scale or merge request) in any hour, cluster-wide.",
            expected: "a whole number from 1 to 100",
            examples: [5],
        }),
        cooldownMinutes: field(z.number().int().min(0).max(10080).default(60), {
            description: "After acting on a workload, or restoring it, leave it alone this long.",
            expected: "a whole number of minutes up to a week",
            examples: [240],
        }),
        pollIntervalSeconds: field(z.number().int().min(5).max(600).default(30), {
            description: "How often the remediator reads the cluster's firing alerts.",
            expected: "a whole number of seconds from 5 to 600",
            examples: [15],
        }),
        fluxExemption: field(z.boolean().default(true), {
            description:
                "In `scale` mode, also annotate the workload `kustomize.toolkit.fluxcd.io/reconcile: " +
                "disabled` so Flux does not scale it back up; restore removes it. (Argo CD needs " +
                "`ignoreDifferences`, see docs/remediation.md.)",
            examples: [false],
        }),
        gitops: gitopsSchema.optional(),
        image: field(
            z
                .string()
                .regex(/^[^\s@]+@sha256:[0-9a-f]{64}$/)
                .optional(),
            {
                description:
                    "Image to run the remediator on instead of the pinned Node.js image, by digest; it " +
                    "must run `node` as a non-root user.",
                expected: "an image reference pinned by digest (<repository>@sha256:<64 hex>)",
                examples: ["registry.example.com/base/node@sha256:" + "0".repeat(64)],
            },
        ),
    })
    .superRefine((remediation, ctx) => {
        if (remediation.mode === "gitops" && remediation.gitops === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["gitops"],
                input: undefined,
                message: "the GitOps repository (provider, apiUrl, repository, pathTemplate) with mode gitops",
            });
        }
    })
    .default({
        mode: "dry-run",
        killSwitch: false,
        optInLabel: { key: "observability/criticality", value: "non-critical" },
        namespaces: [],
        protectedNamespaces: [],
        budget: { cpuRequestFactor: 2, memoryLimitRatio: 0.9, restarts: 5, forMinutes: 10 },
        maxActionsPerHour: 3,
        cooldownMinutes: 60,
        pollIntervalSeconds: 30,
        fluxExemption: true,
    })
    .meta({
        description:
            "The reaction to opted-in (non-critical) workloads that exceed their budget: rules on " +
            "every cluster and a remediator polling them. See docs/remediation.md.",
    });

export type RemediationConfig = z.output<typeof remediationSchema>;

/** Every namespace the remediator must never act in, for a stack whose own namespace is given. */
export function protectedNamespaces(remediation: RemediationConfig, namespace: string): string[] {
    const own = [namespace, `${namespace}-agents`];
    return [...new Set([...ALWAYS_PROTECTED_NAMESPACES, ...own, ...remediation.protectedNamespaces])].sort();
}

/** A namespace the remediator is told to act in, that is also protected, is a contradiction. */
function refineRemediation(config: { namespace: string; remediation: RemediationConfig }, ctx: z.RefinementCtx) {
    if (!isLabel(config.namespace, MAX_NAMESPACE_LENGTH)) return;
    const remediation = {
        ...config.remediation,
        protectedNamespaces: config.remediation.protectedNamespaces.filter((name) => isLabel(name)),
    };
    const protectedSet = new Set(protectedNamespaces(remediation, config.namespace));
    config.remediation.namespaces.forEach((name, index) => {
        if (isLabel(name) && protectedSet.has(name)) {
            ctx.addIssue({
                code: "custom",
                path: ["remediation", "namespaces", index],
                input: name,
                message: `a namespace that is not protected (${[...protectedSet].join(", ")})`,
            });
        }
    });
}

/** Whether a port, as text, is one from 1 to 65535. */
function isPort(text: string): boolean {
    return /^[0-9]{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

const CRON_EXPECTED =
    "five cron fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-6 " +
    "or SUN-SAT) or @yearly, @monthly, @weekly, @daily, @hourly";

/** A CronJob schedule, every field in its range. */
const cronSchedule = z
    .string()
    .regex(CRON)
    .superRefine((schedule, ctx) => {
        // A schedule of the wrong shape has its own problem.
        if (!CRON.test(schedule)) return;
        const problem = cronProblem(schedule);
        if (problem !== undefined) {
            ctx.addIssue({ code: "custom", input: schedule, message: CRON_EXPECTED, params: { detail: problem } });
        }
    });

const TIME_ZONE_EXPECTED = "an IANA time zone name";

/** An IANA time zone name, spelt as in the database. */
const timeZoneName = z.string().superRefine((name, ctx) => {
    if (isTimeZone(name)) return;
    const suggestion = suggestTimeZone(name);
    ctx.addIssue({
        code: "custom",
        input: name,
        message: TIME_ZONE_EXPECTED,
        ...(suggestion !== undefined ? { params: { suggestion } } : {}),
    });
});

const reportGitSchema = z
    .strictObject({
        provider: gitopsSchema.shape.provider,
        apiUrl: gitApiUrl("the token goes in the secret observability:reportCredentials, as git-token"),
        repository: gitopsSchema.shape.repository,
        branch: field(
            z
                .string()
                .regex(/^[A-Za-z0-9._/-]+$/)
                .default("main"),
            {
                description: "Branch the reports are committed to.",
                expected: "a branch name",
                examples: ["main"],
            },
        ),
        directory: field(
            z
                .string()
                .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/)
                .default("reports"),
            {
                description: "Directory of the reports in the repository: `<directory>/<year>-W<week>.md`.",
                expected: "a relative path without leading or trailing slash",
                examples: ["reports/fleet"],
            },
        ),
    })
    .meta({
        description:
            "Commit each report's Markdown to a Git repository, for history. Its token is `git-token` in the `reportCredentials` secret.",
    });

const reportSchema = z
    .strictObject({
        enabled: field(z.boolean().default(true), {
            description: "Run the weekly report CronJob on main.",
            examples: [false],
        }),
        schedule: field(cronSchedule.default("0 7 * * 1"), {
            description: "When the report runs, as a CronJob schedule in `timeZone`; it covers the 7 days before.",
            expected: CRON_EXPECTED,
            examples: ["30 6 * * 1"],
        }),
        timeZone: field(timeZoneName.default("Europe/Paris"), {
            description: "IANA time zone of the schedule and of the dates in the report.",
            expected: TIME_ZONE_EXPECTED,
            examples: ["America/New_York"],
        }),
        concurrency: field(z.number().int().min(1).max(16).default(4), {
            description: "Queries the reporter runs at once against the fleet's stores.",
            expected: "a whole number from 1 to 16",
            examples: [2],
        }),
        queryTimeoutSeconds: field(z.number().int().min(5).max(600).default(60), {
            description:
                "Deadline of each query; a query past it leaves its figures out, with a warning in the report.",
            expected: "a whole number of seconds from 5 to 600",
            examples: [120],
        }),
        email: z
            .strictObject({
                host: field(z.string().regex(DNS_NAME), {
                    description: "SMTP relay host name.",
                    expected: "a DNS name",
                    examples: ["smtp.example.com"],
                }),
                port: field(z.number().int().min(1).max(65535).default(587), {
                    description: "SMTP port: 587 with `starttls`, 465 with `tls`.",
                    expected: "a port number",
                    examples: [465],
                }),
                security: field(z.enum(SMTP_SECURITY).default("starttls"), {
                    description:
                        "`starttls`: the relay must upgrade to TLS before anything is sent; `tls`: TLS from the first byte. Plain text is never used.",
                    examples: ["tls"],
                }),
                from: field(z.email(), {
                    description: "Sender address.",
                    expected: "an e-mail address",
                    examples: ["observability@example.com"],
                }),
                to: field(
                    z
                        .array(
                            field(z.email(), {
                                description: "A recipient.",
                                expected: "an e-mail address",
                                examples: ["sre@example.com"],
                            }),
                        )
                        .min(1),
                    {
                        description: "Recipients.",
                        expected: "a non-empty list of e-mail addresses",
                        examples: [["sre@example.com"]],
                    },
                ),
                username: field(z.string().min(1).optional(), {
                    description:
                        "SMTP user; its password is `smtp-password` in the `reportCredentials` secret. Absent: no authentication.",
                    expected: "a user name",
                    examples: ["observability"],
                }),
            })
            .optional()
            .meta({ description: "Send the report by e-mail (HTML with the Markdown as text, the JSON attached)." }),
        webhooks: field(
            z
                .array(
                    z.strictObject({
                        name: field(z.string().max(40).regex(DNS_LABEL), {
                            description:
                                "Name of the channel; its URL is `webhook-<name>` in the `reportCredentials` secret.",
                            expected: "a DNS label",
                            examples: ["sre-chat"],
                        }),
                        kind: field(z.enum(WEBHOOK_KINDS), {
                            description:
                                "Message format: `slack`, `mattermost`, `teams` (Workflows webhook, Adaptive Card) or `generic` (the report's JSON).",
                            examples: ["mattermost"],
                        }),
                    }),
                )
                .superRefine((hooks, ctx) => {
                    const seen = new Set<string>();
                    hooks.forEach((hook, index) => {
                        if (!isLabel(hook.name, 40)) return;
                        if (seen.has(hook.name)) {
                            ctx.addIssue({
                                code: "custom",
                                path: [index, "name"],
                                input: hook.name,
                                message: "a name not used by another webhook",
                            });
                        }
                        seen.add(hook.name);
                    });
                })
                .default([]),
            {
                description: "Chat webhooks that get the report's summary (or, `generic`, its JSON).",
                expected: "a list of {name, kind}",
                examples: [[{ name: "sre-chat", kind: "slack" }]],
            },
        ),
        git: reportGitSchema.optional(),
        grafanaUrl: url(
            {
                description:
                    "Where the report's links open Grafana (dashboards, Explore over each incident's hours, " +
                    "Alertmanager's alerts and silences). Unset: `grafana.rootUrl`; without it, " +
                    "`http://localhost:3000`, and the report tells its reader to run " +
                    "`kubectl -n <namespace> port-forward svc/grafana 3000:80` first, the stack itself " +
                    "exposing Grafana to no one.",
                expected: "an http(s) URL",
                examples: ["https://grafana.example.com"],
            },
            { credentials: NO_CREDENTIAL },
        ).optional(),
        image: field(
            z
                .string()
                .regex(/^[^\s@]+@sha256:[0-9a-f]{64}$/)
                .optional(),
            {
                description:
                    "Image to run the reporter on instead of the pinned Node.js image, by digest; it must run `node` as a non-root user.",
                expected: "an image reference pinned by digest (<repository>@sha256:<64 hex>)",
                examples: ["registry.example.com/base/node@sha256:" + "0".repeat(64)],
            },
        ),
    })
    .default({
        enabled: true,
        schedule: "0 7 * * 1",
        timeZone: "Europe/Paris",
        concurrency: 4,
        queryTimeoutSeconds: 60,
        webhooks: [],
    })
    .meta({
        description:
            "The weekly health report: a CronJob on main that reads the fleet's week, scores each cluster and delivers the report. See docs/report.md.",
    });

export type ReportConfig = z.output<typeof reportSchema>;

/** Credential names the report's channels need, as keys of the `reportCredentials` secret. */
export function reportCredentialNames(report: ReportConfig): string[] {
    return [
        ...(report.email?.username !== undefined ? [CREDENTIAL_FILES.smtpPassword] : []),
        ...(report.git !== undefined ? [CREDENTIAL_FILES.gitToken] : []),
        ...report.webhooks.map((hook) => CREDENTIAL_FILES.webhook(hook.name)),
    ];
}

const deliverySchema = z
    .strictObject({
        canary: dnsLabel({
            description:
                "Sub cluster (its `cluster.name`, one of `subClusters`) whose stack the pipeline's `up` " +
                "and `rotate` deploy right after main and before every other sub; a failure there stops " +
                "the rollout. Unset: the sub stacks follow main in name order, one at a time.",
            examples: ["sub-eu-1"],
        }).optional(),
    })
    .default({})
    .meta({
        description: "How the delivery pipeline (`npm run pipeline`) rolls the fleet out. See docs/delivery.md.",
    });

const common = {
    cluster: clusterSchema,
    kubernetes: kubernetesSchema,
    charts: chartsSchema,
    namespace: namespaceSchema,
    profile: profileSchema,
    talos: talosSchema,
    metrics: metricsSchema,
    logs: logsSchema,
    traces: tracesSchema,
    remediation: remediationSchema,
};

export const mainSchema = z
    .strictObject({
        role: z.literal("main").meta({ description: "This stack deploys the main cluster." }),
        ...common,
        exposure: exposureSchema,
        storage: storageSchema,
        retention: mainRetentionSchema,
        pki: pkiSchema,
        grafana: grafanaSchema,
        alerting: alertingSchema,
        report: reportSchema,
        delivery: deliverySchema,
        subClusters: z
            .array(subClusterEntry)
            .superRefine((subs, ctx) => {
                const seen = new Map<string, number>();
                subs.forEach((sub, index) => {
                    if (!isLabel(sub.name)) return;
                    const first = seen.get(sub.name);
                    if (first !== undefined) {
                        ctx.addIssue({
                            code: "custom",
                            path: [index, "name"],
                            input: sub.name,
                            message: `a name not used by another sub cluster (subClusters[${first}] has it)`,
                        });
                    } else {
                        seen.set(sub.name, index);
                    }
                });
            })
            .default([])
            .meta({
                description:
                    "Sub clusters allowed to ship to main. Each gets its own client certificate " +
                    "and is watched by a per-signal dead-man's switch.",
            }),
    })
    .superRefine((config, ctx) => {
        refineRemediation(config, ctx);
        if (config.profile === "large" && config.storage.kind === "filesystem") {
            ctx.addIssue({
                code: "custom",
                path: ["storage", "kind"],
                input: config.storage.kind,
                message: "s3 with profile large, whose horizontally scaled stores need object storage",
            });
        }
        const canary = config.delivery.canary;
        if (isLabel(canary) && !config.subClusters.some((sub) => sub.name === canary)) {
            const listed = config.subClusters.map((sub) => sub.name).filter((name) => isLabel(name));
            ctx.addIssue({
                code: "custom",
                path: ["delivery", "canary"],
                input: canary,
                message: `one of the sub clusters in subClusters (${listed.join(", ") || "none listed"})`,
            });
        }
        config.subClusters.forEach((sub, index) => {
            if (isLabel(sub.name) && sub.name === config.cluster.name) {
                ctx.addIssue({
                    code: "custom",
                    path: ["subClusters", index, "name"],
                    input: sub.name,
                    message: "a name different from the main cluster's own (cluster.name)",
                });
            }
        });
    });

export const subSchema = z
    .strictObject({
        role: z.literal("sub").meta({ description: "This stack deploys a sub cluster." }),
        ...common,
        mainStack: field(z.string().regex(STACK_REF), {
            description:
                "Fully qualified name of the main cluster's stack, read through a StackReference for " +
                "the certificate bundle and ingest endpoints.",
            expected: "a stack reference <organization>/<project>/<stack>",
            examples: ["acme/observability/main"],
        }),
        retention: subRetentionSchema,
        alerting: subAlertingSchema,
    })
    .superRefine(refineRemediation);

/** The whole `observability:` namespace, checked against the shape of its role. */
export const configSchema = z
    .discriminatedUnion("role", [mainSchema, subSchema])
    .meta({ title: "observability stack configuration" });

export type StackConfig = z.output<typeof configSchema>;
export type MainConfig = z.output<typeof mainSchema>;
export type SubConfig = z.output<typeof subSchema>;
export type StorageConfig = z.output<typeof storageSchema>;

/**
 * The value the offline render hands the program for an encrypted config value, which it cannot
 * decrypt: code that reads a secret's content accepts it in place of any well-formed value.
 */
export const OFFLINE_SECRET = "[secret]";

/** Keys read with `requireSecret`, never through the schema. */
export interface SecretKey {
    key: string;
    description: string;
    /** Roles whose stacks may set it. */
    roles: readonly StackConfig["role"][];
    /** Whether the validated config needs this secret. */
    requiredWhen: (config: StackConfig) => boolean;
    example: string;
    /**
     * Problems with the value itself, one line each after the key; never quotes the value.
     * Runs only when the key is set as a secret, and not on the offline render's placeholder.
     */
    check?: (value: string, config: StackConfig) => string[];
}

/**
 * Problems with a secret holding a JSON object of one credential per name: every needed name set
 * to a non-empty string, and no other. `what` names an entry in the messages ("receiver"),
 * `extras` the entries expected instead of an unknown one.
 */
function credentialObjectProblems(value: string, needed: readonly string[], what: string, extras: string): string[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(value);
    } catch {
        return [`expected a JSON object {"<${what}>": "<credential>"}, found text that is not JSON`];
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return [
            `expected a JSON object {"<${what}>": "<credential>"}, found ${Array.isArray(parsed) ? "an array" : typeof parsed}`,
        ];
    }
    const entries = parsed as Record<string, unknown>;
    const neededSet = new Set(needed);
    const problems: string[] = [];
    for (const name of neededSet) {
        const credential = entries[name];
        if (typeof credential !== "string" || credential === "") {
            problems.push(
                `expected a non-empty string for ${what} '${name}', found ${credential === undefined ? "nothing" : typeof credential === "string" ? "an empty string" : typeof credential}`,
            );
        }
    }
    for (const name of Object.keys(entries)) {
        if (!neededSet.has(name)) {
            // A name is quoted only when it reads as one: anything else may be a misplaced credential.
            const shown = DNS_LABEL.test(name) ? `'${name}'` : "an entry whose name is not one";
            problems.push(`expected only ${extras} (${[...neededSet].join(", ")}), found ${shown}`);
        }
    }
    return problems.sort();
}

/** Problems with `alertReceiverCredentials`: one credential per receiver that needs one. */
function checkReceiverCredentials(value: string, config: StackConfig): string[] {
    if (config.role !== "main") return [];
    const needed = config.alerting.receivers.filter(receiverNeedsCredential).map((r) => r.name);
    return credentialObjectProblems(value, needed, "receiver", "receivers that take a credential");
}

/** Problems with `reportCredentials`: one credential per report channel that needs one. */
function checkReportCredentials(value: string, config: StackConfig): string[] {
    if (config.role !== "main") return [];
    return credentialObjectProblems(
        value,
        reportCredentialNames(config.report),
        "credential",
        "the credentials the channels take",
    );
}

export const SECRET_KEYS = [
    {
        key: "s3AccessKeyId",
        roles: ["main"],
        description: "Access key id for the S3 buckets (storage.kind: s3).",
        requiredWhen: (c) => c.role === "main" && c.storage.kind === "s3",
        example: "AKIAIOSFODNN7EXAMPLE",
    },
    {
        key: "s3SecretAccessKey",
        roles: ["main"],
        description: "Secret access key for the S3 buckets (storage.kind: s3).",
        requiredWhen: (c) => c.role === "main" && c.storage.kind === "s3",
        example: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    },
    {
        key: "grafanaOidcClientSecret",
        roles: ["main"],
        description: "Client secret of Grafana's OAuth2 client (grafana.oidc).",
        requiredWhen: (c) => c.role === "main" && c.grafana.oidc !== undefined,
        example: "s3cr3t-from-the-identity-provider",
    },
    {
        key: "alertReceiverCredentials",
        roles: ["main"],
        description:
            "One credential per alert receiver that takes one, as a JSON object by receiver name: " +
            "webhook URL (slack, mattermost, teams), routing key (pagerduty), SMTP password " +
            "(email with username), bearer token (webhook with bearerToken).",
        requiredWhen: (c) => c.role === "main" && c.alerting.receivers.some(receiverNeedsCredential),
        example: '{"oncall":"R0UTINGKEY","chat":"https://hooks.slack.com/services/T0/B0/XXXX"}',
        check: checkReceiverCredentials,
    },
    {
        key: "remediationGitToken",
        roles: ["main", "sub"],
        description:
            "Token the remediator opens merge requests with (remediation.mode: gitops): a GitLab " +
            "project access token with the `api` scope, or a GitHub token allowed to write contents " +
            "and pull requests of the repository.",
        requiredWhen: (c) => c.remediation.mode === "gitops",
        example: "glpat-XXXXXXXXXXXXXXXXXXXX",
    },
    {
        key: "reportCredentials",
        roles: ["main"],
        description:
            "Credentials of the weekly report's channels, as a JSON object: `smtp-password` (email " +
            "with username), `git-token` (git: GitLab `api` scope or GitHub contents write), " +
            "`webhook-<name>` (each webhook's URL, which carries its token).",
        requiredWhen: (c) => c.role === "main" && c.report.enabled && reportCredentialNames(c.report).length > 0,
        example: '{"smtp-password":"s3cr3t","webhook-sre-chat":"https://hooks.slack.com/services/T0/B0/XXXX"}',
        check: checkReportCredentials,
    },
] as const satisfies readonly SecretKey[];

export type SecretKeyName = (typeof SECRET_KEYS)[number]["key"];
