import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { rootCertificates } from "node:tls";

import { Gitlab } from "@gitbeaker/rest";
import { Octokit } from "@octokit/rest";
import { createTransport } from "nodemailer";

import {
    CREDENTIAL_FILES,
    type ChannelKind,
    type CredentialReader,
    type DeliveryOutcome,
    type DeliverySettings,
    type EmailSettings,
    type GitReportSettings,
    type WebhookSettings,
} from "./delivery-types";
import type { RenderedReport } from "./types";

/**
 * Delivery of the rendered report to every configured channel: e-mail, chat and generic
 * webhooks, a commit to a Git repository. Channels run side by side, each with its own deadline;
 * one failing never keeps the others from delivering. What is reported and logged about a
 * channel never holds a credential: a webhook is named by its host only (Slack, Teams and
 * Mattermost URLs carry their token in the path), and the SMTP password and the Git token are
 * masked should a server ever echo them.
 */

/** How long one channel may take, connection to last answer, unless the caller says otherwise. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 30_000;

/** Mattermost refuses posts over 16383 characters; beyond this the message carries the summary only. */
const MATTERMOST_MAX_CHARS = 16_000;
/** Slack's limits on a header block's text and a section block's text. */
const SLACK_HEADER_MAX_CHARS = 150;
const SLACK_SECTION_MAX_CHARS = 3_000;
/** How much of an error answer's body a failure detail quotes. */
const ANSWER_EXCERPT_CHARS = 200;

export interface DeliverOptions {
    /** Deadline of each channel; {@link DEFAULT_DELIVERY_TIMEOUT_MS} unless set. */
    timeoutMs?: number;
    /** Receives one object per channel outcome, to be written as one JSON line. Nothing is logged without it. */
    log?: (line: object) => void;
}

/** A failure whose message is ready to show; `status` is the HTTP status it came with, if any. */
class DeliveryError extends Error {
    constructor(
        message: string,
        readonly status?: number,
    ) {
        super(message);
        this.name = "DeliveryError";
    }
}

/** What a channel works with while it runs. */
interface Attempt {
    /** Aborted when the channel's deadline passes. */
    signal: AbortSignal;
    timeoutMs: number;
    /** Credential values read so far: masked in everything the channel reports. */
    secrets: string[];
    /** What the channel is doing now, for the message of a missed deadline. */
    step: string;
}

interface Channel {
    name: string;
    kind: ChannelKind;
    /** Delivers; resolves to the success detail. */
    run(attempt: Attempt): Promise<string>;
}

/**
 * Delivers `rendered` to every channel `settings` configures, all at once, and returns one
 * outcome per channel: e-mail first, then the webhooks in their order, then Git. Never rejects.
 */
export async function deliverReport(
    rendered: RenderedReport,
    settings: DeliverySettings,
    readCredential: CredentialReader,
    options: DeliverOptions = {},
): Promise<DeliveryOutcome[]> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    const channels: Channel[] = [];
    const { email, git } = settings;
    if (email) {
        channels.push({ name: "email", kind: "email", run: (a) => sendEmail(rendered, email, readCredential, a) });
    }
    for (const webhook of settings.webhooks) {
        channels.push({
            name: `webhook:${webhook.name}`,
            kind: "webhook",
            run: (a) => postWebhook(rendered, webhook, readCredential, a),
        });
    }
    if (git) channels.push({ name: "git", kind: "git", run: (a) => commitReport(rendered, git, readCredential, a) });
    return Promise.all(channels.map((channel) => attempt(channel, timeoutMs, options.log)));
}

/** Runs one channel against its deadline; every failure becomes a failed outcome. */
async function attempt(channel: Channel, timeoutMs: number, log: DeliverOptions["log"]): Promise<DeliveryOutcome> {
    const controller = new AbortController();
    const context: Attempt = { signal: controller.signal, timeoutMs, secrets: [], step: "starting" };
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
            const error = new DeliveryError(`no answer within ${timeoutMs / 1000} s (${context.step})`);
            controller.abort(error);
            reject(error);
        }, timeoutMs);
    });
    let ok = false;
    let detail: string;
    try {
        detail = await Promise.race([channel.run(context), deadline]);
        ok = true;
    } catch (err) {
        detail = describeError(err);
    } finally {
        clearTimeout(timer);
    }
    const outcome: DeliveryOutcome = {
        channel: channel.name,
        kind: channel.kind,
        ok,
        detail: redact(detail, context.secrets).replace(/\s+/g, " ").trim(),
        durationMs: Date.now() - started,
    };
    try {
        const [level, msg] = ok ? ["info", "delivered"] : ["error", "delivery failed"];
        log?.({ time: new Date().toISOString(), level, msg, ...outcome });
    } catch {
        // A logger that fails must not turn a delivery into a failure, or stop the others.
    }
    return outcome;
}

/** An error's message, with its cause when that says more (fetch's own "fetch failed" does not). */
function describeError(err: unknown): string {
    if (!(err instanceof Error)) return String(err);
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    const parts = [err.message, cause].filter((part): part is string => !!part && part !== "fetch failed");
    return [...new Set(parts)].join(": ") || err.name;
}

/** `text` with every credential value masked, longest first so none leaves a fragment. */
function redact(text: string, secrets: readonly string[]): string {
    const values = [...new Set(secrets)].filter((s) => s !== "").sort((a, b) => b.length - a.length);
    return values.reduce((out, secret) => out.split(secret).join("[redacted]"), text);
}

/** Reads a credential and remembers its value for masking. */
function credential(read: CredentialReader, file: string, a: Attempt): string {
    a.step = `reading the credential ${file}`;
    let value: string;
    try {
        value = read(file);
    } catch (err) {
        const message = describeError(err);
        throw new DeliveryError(message.includes(file) ? message : `credential ${file}: ${message}`);
    }
    a.secrets.push(value, value.trim());
    if (value.trim() === "") throw new DeliveryError(`credential ${file} is empty`);
    return value;
}

/** `2026-W47` from `reports/2026-W47.md`. */
const reportLabel = (rendered: RenderedReport): string => {
    const base = path.posix.basename(rendered.path);
    return base.slice(0, base.length - path.posix.extname(base).length) || "report";
};

// --- e-mail ---------------------------------------------------------------------------------

async function sendEmail(
    rendered: RenderedReport,
    email: EmailSettings,
    read: CredentialReader,
    a: Attempt,
): Promise<string> {
    let auth: { user: string; pass: string } | undefined;
    if (email.username !== undefined) {
        // A file written by hand often ends with a newline that is no part of the password.
        const pass = credential(read, CREDENTIAL_FILES.smtpPassword, a).replace(/\r?\n$/, "");
        auth = { user: email.username, pass };
        // AUTH PLAIN and LOGIN carry the password base64-encoded: mask those forms too.
        a.secrets.push(
            pass,
            Buffer.from(pass).toString("base64"),
            Buffer.from(`\0${email.username}\0${pass}`).toString("base64"),
        );
    }
    let ca: string[] | undefined;
    if (email.caFile !== undefined) {
        a.step = `reading ${email.caFile}`;
        ca = [...rootCertificates, fs.readFileSync(email.caFile, "utf8")];
    }
    const server = `${email.host}:${email.port}`;
    const transport = createTransport({
        host: email.host,
        port: email.port,
        // `tls`: TLS from the first byte; `starttls`: the upgrade is required, so the message
        // is never sent in plain text, even to a server that stops offering STARTTLS.
        secure: email.security === "tls",
        requireTLS: email.security === "starttls",
        ...(auth ? { auth } : {}),
        tls: { minVersion: "TLSv1.2", ...(ca ? { ca } : {}) },
        connectionTimeout: a.timeoutMs,
        greetingTimeout: a.timeoutMs,
        socketTimeout: a.timeoutMs,
    });
    a.step = `sending to ${server}`;
    try {
        const info = await transport.sendMail({
            from: email.from,
            to: email.to,
            subject: rendered.subject,
            text: rendered.markdown,
            html: rendered.html,
            attachments: [
                {
                    filename: `report-${reportLabel(rendered)}.json`,
                    content: rendered.json,
                    contentType: "application/json",
                },
            ],
            // The report is data: nothing in it may make the mailer read a file or a URL.
            disableFileAccess: true,
            disableUrlAccess: true,
            signal: a.signal,
        });
        const refused = info.rejected.length > 0 ? `; refused by the server: ${info.rejected.join(", ")}` : "";
        return `sent to ${info.accepted.join(", ")} via ${server}${refused}`;
    } catch (err) {
        throw new DeliveryError(`${server}: ${describeError(err)}`);
    } finally {
        transport.close();
    }
}

// --- webhooks -------------------------------------------------------------------------------

/** Slack's mrkdwn treats these three as markup. */
const slackEscape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const truncate = (text: string, max: number): string => {
    const chars = [...text];
    return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
};

/** The JSON body each kind of webhook takes. */
export function webhookPayload(kind: WebhookSettings["kind"], rendered: RenderedReport): string {
    switch (kind) {
        case "slack":
            return JSON.stringify({
                text: `*${slackEscape(rendered.subject)}*\n${slackEscape(rendered.summary)}`,
                blocks: [
                    {
                        type: "header",
                        text: { type: "plain_text", text: truncate(rendered.subject, SLACK_HEADER_MAX_CHARS) },
                    },
                    {
                        type: "section",
                        text: {
                            type: "mrkdwn",
                            text: truncate(slackEscape(rendered.summary), SLACK_SECTION_MAX_CHARS),
                        },
                    },
                ],
            });
        case "mattermost": {
            const whole = [...rendered.markdown].length <= MATTERMOST_MAX_CHARS;
            const text = whole
                ? rendered.markdown
                : `#### ${rendered.subject}\n\n${rendered.summary}\n\n_The full report is too long for a chat message._`;
            return JSON.stringify({ text });
        }
        case "teams": {
            const lines = rendered.summary.split("\n").filter((line) => line.trim() !== "");
            return JSON.stringify({
                type: "message",
                attachments: [
                    {
                        contentType: "application/vnd.microsoft.card.adaptive",
                        contentUrl: null,
                        content: {
                            $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
                            type: "AdaptiveCard",
                            version: "1.4",
                            body: [
                                {
                                    type: "TextBlock",
                                    text: rendered.subject,
                                    size: "Large",
                                    weight: "Bolder",
                                    wrap: true,
                                },
                                ...lines.map((line) => ({
                                    type: "TextBlock",
                                    text: line,
                                    wrap: true,
                                    spacing: "Small",
                                })),
                            ],
                            msteams: { width: "Full" },
                        },
                    },
                ],
            });
        }
        case "generic":
            return rendered.json;
        default:
            throw new DeliveryError(`unknown webhook kind "${String(kind)}"`);
    }
}

/** Parts of a webhook URL that may be its secret: masked wherever they show up. */
function urlSecrets(url: URL, raw: string): string[] {
    const parts = [raw, raw.trim(), url.href, url.pathname + url.search, url.search, url.username, url.password];
    if (url.pathname !== "/") parts.push(url.pathname);
    // A token alone (Slack's last path segment, Teams' `sig`) is long; short parts are words.
    for (const segment of url.pathname.split("/")) if (segment.length >= 12) parts.push(segment);
    for (const value of url.searchParams.values()) if (value.length >= 12) parts.push(value);
    return parts;
}

async function postWebhook(
    rendered: RenderedReport,
    webhook: WebhookSettings,
    read: CredentialReader,
    a: Attempt,
): Promise<string> {
    const raw = credential(read, CREDENTIAL_FILES.webhook(webhook.name), a);
    let url: URL;
    try {
        url = new URL(raw.trim());
    } catch {
        throw new DeliveryError(`credential ${CREDENTIAL_FILES.webhook(webhook.name)} is not a URL`);
    }
    a.secrets.push(...urlSecrets(url, raw));
    if (url.protocol !== "https:" && url.protocol !== "http:") {
        throw new DeliveryError(`credential ${CREDENTIAL_FILES.webhook(webhook.name)} is not an http(s) URL`);
    }
    let ca: string[] | undefined;
    if (webhook.caFile !== undefined) {
        a.step = `reading ${webhook.caFile}`;
        ca = [...rootCertificates, fs.readFileSync(webhook.caFile, "utf8")];
    }
    const body = webhookPayload(webhook.kind, rendered);
    a.step = `posting to ${url.host}`;
    const answer = await post(url, body, ca, a);
    if (answer.status < 200 || answer.status > 299) {
        const excerpt = truncate(answer.text.replace(/\s+/g, " ").trim(), ANSWER_EXCERPT_CHARS);
        throw new DeliveryError(
            `${url.host} answered HTTP ${answer.status}${excerpt ? `: ${excerpt}` : ""}`,
            answer.status,
        );
    }
    return `${url.host} answered HTTP ${answer.status}`;
}

/** POSTs a JSON body; resolves with the status and the start of the answer, whatever the status. */
function post(url: URL, body: string, ca: string[] | undefined, a: Attempt): Promise<{ status: number; text: string }> {
    const secure = url.protocol === "https:";
    const options: https.RequestOptions = {
        method: "POST",
        headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "user-agent": "observability-reporter",
        },
        signal: a.signal,
        timeout: a.timeoutMs,
        ...(secure && ca ? { ca } : {}),
    };
    return new Promise((resolve, reject) => {
        const req = (secure ? https : http).request(url, options, (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on("data", (chunk: Buffer) => {
                // Only the start of an answer is ever shown.
                if (size < 4096) chunks.push(chunk);
                size += chunk.length;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.on("timeout", () =>
            req.destroy(new DeliveryError(`${url.host}: no answer within ${a.timeoutMs / 1000} s`)),
        );
        req.on("error", (err) =>
            reject(err instanceof DeliveryError ? err : new DeliveryError(`${url.host}: ${describeError(err)}`)),
        );
        req.end(body);
    });
}

// --- Git ------------------------------------------------------------------------------------

/** The HTTP status and message of a hosting library's failure. */
function apiFailure(err: unknown): { status?: number; text: string } {
    const e = err as {
        name?: string;
        message?: string;
        status?: unknown;
        response?: unknown;
        cause?: { name?: string; response?: { status?: unknown } };
    };
    if (e?.name === "GitbeakerTimeoutError" || e?.name === "TimeoutError") return { text: "no answer in time" };
    // gitbeaker: the fetch Response is in cause.response.
    if (typeof e?.cause?.response?.status === "number") {
        return { status: e.cause.response.status, text: e.message ?? "" };
    }
    // octokit: status and response on the error; without a response it never reached the server.
    if (typeof e?.status === "number" && e.response !== undefined) return { status: e.status, text: e.message ?? "" };
    return { text: describeError(err) };
}

/** Runs one API call; a failure names the provider, the step and the answer. */
async function apiStep<T>(provider: string, step: string, a: Attempt, call: () => Promise<T>): Promise<T> {
    a.step = step;
    try {
        return await call();
    } catch (err) {
        const { status, text } = apiFailure(err);
        // GitLab's messages often start with the status already ("404 File Not Found").
        const answer =
            status === undefined || text.startsWith(String(status)) ? text : `${status}${text ? ` ${text}` : ""}`;
        throw new DeliveryError(`${provider}: ${step} failed: ${answer}`, status);
    }
}

const statusOf = (err: unknown): number | undefined => (err instanceof DeliveryError ? err.status : undefined);

const commitMessage = (rendered: RenderedReport): string => `report: weekly health report ${reportLabel(rendered)}`;

async function commitReport(
    rendered: RenderedReport,
    git: GitReportSettings,
    read: CredentialReader,
    a: Attempt,
): Promise<string> {
    const token = credential(read, CREDENTIAL_FILES.gitToken, a).trim();
    const apiUrl = git.apiUrl.replace(/\/+$/, "");
    switch (git.provider) {
        case "gitlab":
            return commitToGitlab(rendered, git, apiUrl, token, a);
        case "github":
            return commitToGithub(rendered, git, apiUrl, token, a);
        default:
            throw new DeliveryError(`unknown Git provider "${String(git.provider)}": expected gitlab or github`);
    }
}

async function commitToGitlab(
    rendered: RenderedReport,
    git: GitReportSettings,
    apiUrl: string,
    token: string,
    a: Attempt,
): Promise<string> {
    const api = new Gitlab({ host: apiUrl, token, queryTimeout: a.timeoutMs });
    const { repository: project, branch } = git;
    const file = rendered.path;
    const where = `${file} on ${branch} in ${project}`;
    const webUrl = `${apiUrl}/${project}/-/blob/${branch}/${file}`;

    let existing: { content: string; encoding: string; last_commit_id: string } | undefined;
    try {
        existing = await apiStep("GitLab", `reading ${where}`, a, () =>
            api.RepositoryFiles.show(project, file, branch),
        );
    } catch (err) {
        if (statusOf(err) !== 404) throw err;
    }
    if (existing === undefined) {
        await apiStep("GitLab", `creating ${where}`, a, () =>
            api.RepositoryFiles.create(project, file, branch, rendered.markdown, commitMessage(rendered)),
        );
        return `created ${webUrl}`;
    }
    const current = Buffer.from(existing.content, existing.encoding === "base64" ? "base64" : "utf8").toString("utf8");
    // GitLab refuses an empty commit; the report is already there as it is.
    if (current === rendered.markdown) return `unchanged ${webUrl}`;
    const lastCommitId = existing.last_commit_id;
    await apiStep("GitLab", `updating ${where}`, a, () =>
        api.RepositoryFiles.edit(project, file, branch, rendered.markdown, commitMessage(rendered), { lastCommitId }),
    );
    return `updated ${webUrl}`;
}

async function commitToGithub(
    rendered: RenderedReport,
    git: GitReportSettings,
    apiUrl: string,
    token: string,
    a: Attempt,
): Promise<string> {
    const [owner, repo, ...extra] = git.repository.split("/");
    if (!owner || !repo || extra.length > 0) {
        throw new DeliveryError(`GitHub repository "${git.repository}": expected owner/repo`);
    }
    const quiet = (): void => undefined;
    const api = new Octokit({
        auth: token,
        baseUrl: apiUrl,
        // Failures are reported by the outcome; the library need not print them.
        log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
        request: {
            // Every request ends with the channel's deadline (octokit has no timeout of its own).
            fetch: (url: string | URL, init?: RequestInit) =>
                fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, a.signal]) : a.signal }),
        },
    });
    const { branch } = git;
    const file = rendered.path;
    const where = `${file} on ${branch} in ${git.repository}`;

    let sha: string | undefined;
    try {
        const { data } = await apiStep("GitHub", `reading ${where}`, a, () =>
            api.repos.getContent({ owner, repo, path: file, ref: branch }),
        );
        if (Array.isArray(data) || data.type !== "file") {
            throw new DeliveryError(`GitHub: ${where} is ${Array.isArray(data) ? "a directory" : `a ${data.type}`}`);
        }
        sha = data.sha;
        // Files over 1 MB come without their content: updated without the comparison.
        if ("content" in data && data.encoding === "base64") {
            const current = Buffer.from(data.content, "base64").toString("utf8");
            if (current === rendered.markdown) return `unchanged ${data.html_url ?? where}`;
        }
    } catch (err) {
        if (statusOf(err) !== 404) throw err;
    }
    const { data } = await apiStep("GitHub", `${sha ? "updating" : "creating"} ${where}`, a, () =>
        api.repos.createOrUpdateFileContents({
            owner,
            repo,
            path: file,
            branch,
            message: commitMessage(rendered),
            content: Buffer.from(rendered.markdown, "utf8").toString("base64"),
            ...(sha ? { sha } : {}),
        }),
    );
    const commit = data.commit.sha ? ` (commit ${data.commit.sha})` : "";
    return `${sha ? "updated" : "created"} ${data.content?.html_url ?? where}${commit}`;
}
