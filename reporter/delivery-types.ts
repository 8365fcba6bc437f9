/**
 * Where the weekly report goes. Settings come from the stack config through the reporter's
 * settings document; credentials (SMTP password, webhook URLs, Git token) are files mounted from
 * a Secret, one per credential, never in the settings.
 */

export const WEBHOOK_KINDS = ["slack", "mattermost", "teams", "generic"] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

export const SMTP_SECURITY = ["tls", "starttls"] as const;
export type SmtpSecurity = (typeof SMTP_SECURITY)[number];

export interface EmailSettings {
    host: string;
    port: number;
    /** `tls`: TLS from the first byte (port 465); `starttls`: upgrade required (port 587). Never plain text. */
    security: SmtpSecurity;
    from: string;
    to: string[];
    /** SMTP user; its password is the credential `smtp-password`. Absent: no authentication. */
    username?: string;
    /** PEM file of extra CAs to trust for the SMTP server (a private relay); the system CAs otherwise. */
    caFile?: string;
}

export interface WebhookSettings {
    /** Names the channel in logs and metrics; its URL is the credential `webhook-<name>`. */
    name: string;
    kind: WebhookKind;
    /** PEM file of extra CAs to trust for the webhook's server (a self-hosted Mattermost); the system CAs otherwise. */
    caFile?: string;
}

export interface GitReportSettings {
    provider: "gitlab" | "github";
    /** API base: `https://gitlab.example.com` (GitLab) or `https://api.github.com` (GitHub). */
    apiUrl: string;
    /** `group/project` on GitLab, `owner/repo` on GitHub. */
    repository: string;
    /** Branch the report is committed to. */
    branch: string;
    /** Directory of the reports in the repository (`reports`): `<directory>/<year>-W<week>.md`. */
    directory: string;
}

export interface DeliverySettings {
    email?: EmailSettings;
    webhooks: WebhookSettings[];
    git?: GitReportSettings;
}

/** Credential file names under the reporter's secret directory. */
export const CREDENTIAL_FILES = {
    smtpPassword: "smtp-password",
    gitToken: "git-token",
    webhook: (name: string) => `webhook-${name}`,
} as const;

/** Reads one credential by file name; throws with the file's name when it is missing. */
export type CredentialReader = (file: string) => string;

export type ChannelKind = "email" | "webhook" | "git";

export interface DeliveryOutcome {
    /** `email`, `webhook:<name>`, `git`. */
    channel: string;
    kind: ChannelKind;
    ok: boolean;
    /** On success: where it went (recipients, URL host, commit URL). On failure: the error, without credentials. */
    detail: string;
    /** Milliseconds spent. */
    durationMs: number;
}
