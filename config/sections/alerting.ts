import { z } from "zod";

import { field, isLabel, isPort, NO_CREDENTIAL, url } from "../fields";
import { DNS_LABEL } from "../formats";
import { urlCredentialPlace } from "../text";

/** Alerting: receivers, routes, runbook links and the service thresholds. */

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

export const alertingSchema = z
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

export const subAlertingSchema = z
    .strictObject({ runbookBaseUrl: alertingSchema.unwrap().shape.runbookBaseUrl })
    .default({ runbookBaseUrl: RUNBOOK_PATH })
    .meta({ description: "This cluster's alert rules (delivery is configured on main)." });
