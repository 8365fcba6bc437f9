/**
 * The stack configuration, as plain data. Every key lives in the `observability:` namespace of a
 * `Pulumi.<stack>.yaml` file. Defaults live here, next to the shape they belong to, so that the
 * JSON Schema written by `npm run schema` and the program agree on them.
 *
 * Secrets never go through this schema: they are separate keys, read with
 * `config.requireSecret`, listed in {@link SECRET_KEYS}. Each section
 * of the file has its own module under config/sections/, built from the field helpers of
 * config/fields.ts.
 */

import { z } from "zod";

import { field, isLabel } from "./fields";
import { DNS_LABEL, STACK_REF } from "./formats";
import { alertingSchema, receiverNeedsCredential, subAlertingSchema } from "./sections/alerting";
import {
    chartsSchema,
    clusterSchema,
    kubernetesSchema,
    namespaceSchema,
    profileSchema,
    subClusterEntry,
    talosSchema,
} from "./sections/cluster";
import { exposureSchema } from "./sections/exposure";
import { grafanaSchema } from "./sections/grafana";
import { pkiSchema } from "./sections/pki";
import { refineRemediation, remediationSchema } from "./sections/remediation";
import { deliverySchema, reportCredentialNames, reportSchema } from "./sections/report";
import { logsSchema, metricsSchema, tracesSchema } from "./sections/signals";
import { mainRetentionSchema, storageSchema, subRetentionSchema } from "./sections/storage";

export { MAX_NAMESPACE_LENGTH } from "./fields";
export { DURATION, durationHours, MAX_DURATION, MAX_QUANTITY, QUANTITY } from "./formats";
export type { FieldMeta } from "./fields";
export { storageSchema } from "./sections/storage";
export { CERTIFICATE_PROFILE_LIFETIMES } from "./sections/pki";
export type { CertificateProfileName } from "./sections/pki";
export { NULL_RECEIVER, receiverNeedsCredential, RUNBOOK_PATH, SEVERITIES } from "./sections/alerting";
export type { AlertingConfig, ReceiverConfig } from "./sections/alerting";
export { protectedNamespaces } from "./sections/remediation";
export type { RemediationConfig } from "./sections/remediation";
export { reportCredentialNames } from "./sections/report";
export type { ReportConfig } from "./sections/report";

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
