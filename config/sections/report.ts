import { z } from "zod";

import { CREDENTIAL_FILES, SMTP_SECURITY, WEBHOOK_KINDS } from "../../reporter/delivery-types";
import { dnsLabel, field, isLabel, NO_CREDENTIAL, url } from "../fields";
import { CRON, cronProblem, DNS_LABEL, DNS_NAME, isTimeZone, suggestTimeZone } from "../formats";
import { gitApiUrl, gitopsSchema } from "./remediation";

/** The weekly health report: schedule, time zone, delivery by mail, webhooks and Git. */

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

export const reportSchema = z
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

export const deliverySchema = z
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
