import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, before, describe, it } from "node:test";

import { simpleParser } from "mailparser";

import type { CertificateSpec } from "../components/pki/profiles";
import { deliverReport, webhookPayload } from "../reporter/deliver";
import {
    CREDENTIAL_FILES,
    type CredentialReader,
    type DeliveryOutcome,
    type DeliverySettings,
    type EmailSettings,
    type GitReportSettings,
    type WebhookSettings,
} from "../reporter/delivery-types";
import type { RenderedReport } from "../reporter/types";
import { startGitHosting, type GitHostingStandIn, type RecordedRequest } from "./harness/git-hosting";
import { HOST } from "./harness/processes";
import { startSilentServer, startSmtp, type SmtpStandIn, type SmtpStandInOptions } from "./harness/smtp";
import { startWebhookReceiver, type WebhookStandIn } from "./harness/webhook";
import { issueCa, issueLeaf, type Issued } from "./harness/x509";
import { tempDir } from "./helpers";

/**
 * Delivery of the weekly report: e-mail through a real SMTP server (smtp-server) over STARTTLS
 * and implicit TLS, the four webhook kinds through an HTTPS receiver, the report committed on
 * GitLab and GitHub through the hosting stand-in, each driven by the real client libraries, all
 * on 127.0.0.1. Then what one channel's failure or silence does to the others.
 */

const RENDERED: RenderedReport = {
    subject: "Weekly health report 2026-W47: 2 clusters, lowest score 72 (alpha)",
    summary: [
        "Fleet score 81 (▼ 4 on last week)",
        "Lowest: alpha at 72 <node talos-w2 not ready for 120 minutes> & 3 restarts",
        "Firing now: 1 critical, 2 warning",
    ].join("\n"),
    markdown: [
        "# Weekly health report 2026-W47",
        "",
        "| Cluster | Score | Change |",
        "| --- | --- | --- |",
        "| alpha | 72 | ▼ 9 |",
        "| beta | 90 | ▲ 1 |",
        "",
        "Café-grade capacity: 41 % CPU used.",
        "",
    ].join("\n"),
    html: '<!doctype html><html><body><h1>Weekly health report 2026-W47</h1><p class="score">alpha: 72 ▼ 9</p></body></html>',
    json: JSON.stringify({ schemaVersion: 1, title: "Weekly health report 2026-W47", fleet: { clusters: 2 } }),
    path: "reports/2026-W47.md",
};

const SMTP_USER = "reporter@acme.test";
const SMTP_PASSWORD = "Smtp-Pa55word-Value";
const GIT_TOKEN = "glpat-ReportT0kenValue42";
const SLACK_TOKEN = "xoxbSecretSlackT0ken1234";
const TEAMS_SIG = "TeamsSignatureSecretValue0123456789abcdef";
const MATTERMOST_KEY = "mm7hookkey0secret0value0xyz";
const GENERIC_TOKEN = "GenericIngestToken0000987";
const EVERY_SECRET = [SMTP_PASSWORD, GIT_TOKEN, SLACK_TOKEN, TEAMS_SIG, MATTERMOST_KEY, GENERIC_TOKEN];

/** Webhook paths, as the real services shape them, each carrying its secret. */
const HOOK_PATHS = {
    slack: `/services/T0ACME0001/B0REPORT01/${SLACK_TOKEN}`,
    mattermost: `/hooks/${MATTERMOST_KEY}`,
    teams: "/workflows/0f1e2d3c4b5a/triggers/manual/paths/invoke",
    generic: `/ingest/${GENERIC_TOKEN}`,
} as const;
const HOOK_QUERY: Partial<Record<keyof typeof HOOK_PATHS, string>> = {
    teams: `?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${TEAMS_SIG}`,
};

const spec = (id: string, kind: "ca" | "server", dnsNames: string[]): CertificateSpec => ({
    id,
    profile: "query-gateway",
    kind,
    subject: { organization: "delivery-test", organizationalUnit: "test", commonName: id },
    dnsNames,
    keyUsages: kind === "ca" ? ["cert_signing", "digital_signature"] : ["digital_signature"],
    extendedKeyUsages: kind === "ca" ? [] : ["server_auth"],
    validityHours: 24,
    renewBeforeHours: 1,
});

/** A credential reader over a fixed set of files; a missing one throws naming the file, as the real one does. */
const credentials =
    (values: Record<string, string>): CredentialReader =>
    (file) => {
        const value = values[file];
        if (value === undefined) throw new Error(`credential file ${file} is missing`);
        return value;
    };

let work: string;
let caFile: string;
let server: Issued;

/** Everything a test started, closed after it. */
const running: { close(): Promise<void> }[] = [];
const keep = <T extends { close(): Promise<void> }>(standIn: T): T => {
    running.push(standIn);
    return standIn;
};
afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close()));
});

before(async () => {
    work = tempDir("reporter-delivery");
    const ca = await issueCa(spec("delivery-ca", "ca", []));
    server = await issueLeaf(spec("delivery-server", "server", [HOST]), ca);
    caFile = path.join(work, "ca.crt");
    fs.writeFileSync(caFile, ca.cert);
});

const emailSettings = (smtp: SmtpStandIn, overrides: Partial<EmailSettings> = {}): EmailSettings => ({
    host: HOST,
    port: smtp.port,
    security: smtp.mode === "tls" ? "tls" : "starttls",
    from: "Fleet reports <reports@acme.test>",
    to: ["ops@acme.test", "lead@acme.test"],
    username: SMTP_USER,
    caFile,
    ...overrides,
});

const startMail = (options: Partial<SmtpStandInOptions> = {}) =>
    startSmtp({
        mode: "starttls",
        identity: server,
        auth: { username: SMTP_USER, password: SMTP_PASSWORD },
        ...options,
    }).then(keep);

const hookUrl = (hooks: WebhookStandIn, kind: keyof typeof HOOK_PATHS): string =>
    `${hooks.origin}${HOOK_PATHS[kind]}${HOOK_QUERY[kind] ?? ""}`;

/** The credentials of every channel of these tests. */
function allCredentials(hooks?: WebhookStandIn): CredentialReader {
    const values: Record<string, string> = {
        [CREDENTIAL_FILES.smtpPassword]: `${SMTP_PASSWORD}\n`,
        [CREDENTIAL_FILES.gitToken]: `${GIT_TOKEN}\n`,
    };
    if (hooks) {
        for (const kind of Object.keys(HOOK_PATHS) as (keyof typeof HOOK_PATHS)[]) {
            values[CREDENTIAL_FILES.webhook(kind)] = `${hookUrl(hooks, kind)}\n`;
        }
    }
    return credentials(values);
}

const only = (settings: Partial<DeliverySettings>): DeliverySettings => ({ webhooks: [], ...settings });

const REPOSITORY = "acme/fleet-reports";

/** A GitLab or GitHub stand-in whose default branch is the reports branch, closed after the test. */
const startHosting = async (provider: "gitlab" | "github", files: Record<string, string> = {}) =>
    keep(
        await startGitHosting({ provider, token: GIT_TOKEN, repository: REPOSITORY, defaultBranch: "reports", files }),
    );

const gitSettings = (stand: GitHostingStandIn): GitReportSettings => ({
    provider: stand.provider,
    apiUrl: stand.url,
    repository: REPOSITORY,
    branch: "reports",
    directory: "reports",
});

/** Delivers with a short deadline and collects the log lines. */
async function deliver(
    settings: DeliverySettings,
    readCredential: CredentialReader,
    rendered: RenderedReport = RENDERED,
    timeoutMs = 10_000,
): Promise<{ outcomes: DeliveryOutcome[]; lines: object[] }> {
    const lines: object[] = [];
    const outcomes = await deliverReport(rendered, settings, readCredential, {
        timeoutMs,
        log: (line) => lines.push(line),
    });
    return { outcomes, lines };
}

function assertNoSecret(text: string): void {
    for (const secret of EVERY_SECRET) assert.ok(!text.includes(secret), `a credential shows in: ${text}`);
}

/** The one outcome, which must have succeeded. */
function succeeded(outcomes: DeliveryOutcome[]): DeliveryOutcome {
    assert.equal(outcomes.length, 1);
    const outcome = outcomes[0]!;
    assert.equal(outcome.ok, true, outcome.detail);
    return outcome;
}

function failed(outcomes: DeliveryOutcome[]): DeliveryOutcome {
    assert.equal(outcomes.length, 1);
    const outcome = outcomes[0]!;
    assert.equal(outcome.ok, false, `expected a failure, got: ${outcome.detail}`);
    return outcome;
}

describe("e-mail", () => {
    it("arrives over STARTTLS with the subject, Markdown text, HTML and JSON attachment", async () => {
        const smtp = await startMail();
        const { outcomes, lines } = await deliver(only({ email: emailSettings(smtp) }), allCredentials());
        const outcome = succeeded(outcomes);
        assert.equal(outcome.channel, "email");
        assert.equal(outcome.kind, "email");
        assert.equal(outcome.detail, `sent to ops@acme.test, lead@acme.test via ${HOST}:${smtp.port}`);

        assert.equal(smtp.messages.length, 1);
        const mail = smtp.messages[0]!;
        assert.equal(mail.secure, true, "sent after the STARTTLS upgrade");
        assert.equal(mail.user, SMTP_USER);
        assert.equal(mail.from, "reports@acme.test");
        assert.deepEqual(mail.to, ["ops@acme.test", "lead@acme.test"]);
        assert.deepEqual(
            smtp.logins.map((l) => ({ ...l })),
            [{ method: "PLAIN", username: SMTP_USER, accepted: true, secure: true }],
        );

        const parsed = await simpleParser(mail.raw);
        assert.equal(parsed.subject, RENDERED.subject);
        assert.equal(parsed.text, RENDERED.markdown);
        assert.equal(parsed.html, RENDERED.html);
        assert.equal(parsed.attachments.length, 1);
        const attachment = parsed.attachments[0]!;
        assert.equal(attachment.filename, "report-2026-W47.json");
        assert.equal(attachment.contentType, "application/json");
        assert.deepEqual(JSON.parse(attachment.content.toString("utf8")), JSON.parse(RENDERED.json));

        // The text and HTML are alternatives of each other; the JSON sits beside them.
        const raw = mail.raw.toString("utf8");
        const mixed = /^Content-Type: multipart\/mixed;\s*boundary="([^"]+)"/im.exec(raw);
        const alternative = /^Content-Type: multipart\/alternative;\s*boundary="([^"]+)"/im.exec(raw);
        assert.ok(mixed && alternative, raw.slice(0, 2000));
        const inAlternative = raw.slice(alternative.index, raw.indexOf(`--${alternative[1]}--`));
        assert.match(inAlternative, /Content-Type: text\/plain[\s\S]*Content-Type: text\/html/);
        assert.doesNotMatch(inAlternative, /application\/json/);

        assert.equal(lines.length, 1);
        assert.match(String((lines[0] as { time?: unknown }).time), /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
        assert.deepEqual(
            lines.map((l) => ({ ...l, time: undefined, durationMs: undefined })),
            [{ time: undefined, level: "info", msg: "delivered", ...outcome, durationMs: undefined }],
        );
    });

    it("arrives over implicit TLS with authentication", async () => {
        const smtp = await startMail({ mode: "tls" });
        const outcome = succeeded((await deliver(only({ email: emailSettings(smtp) }), allCredentials())).outcomes);
        assert.match(outcome.detail, /^sent to ops@acme\.test, lead@acme\.test via /);
        assert.equal(smtp.messages.length, 1);
        assert.equal(smtp.messages[0]!.secure, true);
        assert.equal(smtp.messages[0]!.user, SMTP_USER);
        assert.equal((await simpleParser(smtp.messages[0]!.raw)).subject, RENDERED.subject);
    });

    it("sends without authentication when no user is set", async () => {
        const smtp = await startMail({ auth: undefined });
        // No password file: none is read.
        succeeded(
            (await deliver(only({ email: emailSettings(smtp, { username: undefined }) }), credentials({}))).outcomes,
        );
        assert.equal(smtp.messages.length, 1);
        assert.equal(smtp.messages[0]!.user, undefined);
        assert.deepEqual(smtp.logins, []);
    });

    it("is refused when the server offers no STARTTLS, before any credential or content is sent", async () => {
        // The relay would take the message, and the login, in plain text.
        for (const auth of [undefined, { username: SMTP_USER, password: SMTP_PASSWORD }]) {
            const smtp = await startMail({ mode: "plain", identity: undefined, auth });
            const email = emailSettings(smtp, { username: auth?.username });
            const outcome = failed((await deliver(only({ email }), allCredentials())).outcomes);
            assert.match(outcome.detail, /STARTTLS/);
            assert.equal(smtp.connections(), 1, "the client did connect");
            assert.deepEqual(smtp.logins, []);
            assert.deepEqual(smtp.messages, []);
            assertNoSecret(outcome.detail);
        }
    });

    it("is refused when the server's certificate is not from the configured CAs", async () => {
        for (const mode of ["starttls", "tls"] as const) {
            const smtp = await startMail({ mode });
            const outcome = failed(
                (await deliver(only({ email: emailSettings(smtp, { caFile: undefined }) }), allCredentials())).outcomes,
            );
            assert.match(outcome.detail, /certificate/i, mode);
            assert.deepEqual(smtp.messages, [], mode);
            assert.deepEqual(smtp.logins, [], mode);
        }
    });

    it("reports a refused login with the server's answer and without the password", async () => {
        const smtp = await startMail({ auth: { username: SMTP_USER, password: "another-password" } });
        const { outcomes, lines } = await deliver(only({ email: emailSettings(smtp) }), allCredentials());
        const outcome = failed(outcomes);
        assert.match(outcome.detail, /535/);
        assert.equal(smtp.logins.length, 1);
        assert.equal(smtp.logins[0]!.accepted, false);
        assert.deepEqual(smtp.messages, []);
        assertNoSecret(outcome.detail);
        assertNoSecret(JSON.stringify(lines));
    });
});

describe("webhooks", () => {
    const webhook = (kind: WebhookSettings["kind"], extra: Partial<WebhookSettings> = {}): WebhookSettings => ({
        name: kind,
        kind,
        caFile,
        ...extra,
    });
    const bodyAt = (hooks: WebhookStandIn, kind: keyof typeof HOOK_PATHS): Record<string, unknown> => {
        const received = hooks.requestsTo(HOOK_PATHS[kind]);
        assert.equal(received.length, 1, `${kind}: one request`);
        assert.equal(received[0]!.method, "POST");
        assert.equal(received[0]!.headers["content-type"], "application/json");
        return JSON.parse(received[0]!.body) as Record<string, unknown>;
    };

    it("posts each kind's payload over HTTPS, verified through caFile", async () => {
        const hooks = keep(await startWebhookReceiver({ identity: server }));
        hooks.answer(HOOK_PATHS.teams, 202, "");
        const settings = only({
            webhooks: (["slack", "mattermost", "teams", "generic"] as const).map((k) => webhook(k)),
        });
        const { outcomes, lines } = await deliver(settings, allCredentials(hooks));

        assert.deepEqual(
            outcomes.map((o) => [o.channel, o.kind, o.ok, o.detail]),
            [
                ["webhook:slack", "webhook", true, `${HOST}:${hooks.port} answered HTTP 200`],
                ["webhook:mattermost", "webhook", true, `${HOST}:${hooks.port} answered HTTP 200`],
                ["webhook:teams", "webhook", true, `${HOST}:${hooks.port} answered HTTP 202`],
                ["webhook:generic", "webhook", true, `${HOST}:${hooks.port} answered HTTP 200`],
            ],
        );
        assertNoSecret(JSON.stringify(lines));
        assert.equal(hooks.requests.length, 4);

        const slack = bodyAt(hooks, "slack");
        assert.equal(
            slack.text,
            "*Weekly health report 2026-W47: 2 clusters, lowest score 72 (alpha)*\n" +
                "Fleet score 81 (▼ 4 on last week)\n" +
                "Lowest: alpha at 72 &lt;node talos-w2 not ready for 120 minutes&gt; &amp; 3 restarts\n" +
                "Firing now: 1 critical, 2 warning",
        );
        assert.deepEqual(slack.blocks, [
            { type: "header", text: { type: "plain_text", text: RENDERED.subject } },
            {
                type: "section",
                text: {
                    type: "mrkdwn",
                    text: RENDERED.summary.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
                },
            },
        ]);

        assert.deepEqual(bodyAt(hooks, "mattermost"), { text: RENDERED.markdown });

        const teams = bodyAt(hooks, "teams");
        assert.equal(teams.type, "message");
        const attachments = teams.attachments as Record<string, unknown>[];
        assert.equal(attachments.length, 1);
        assert.equal(attachments[0]!.contentType, "application/vnd.microsoft.card.adaptive");
        const card = attachments[0]!.content as { type: string; version: string; body: Record<string, unknown>[] };
        assert.equal(card.type, "AdaptiveCard");
        assert.equal(card.version, "1.4");
        assert.ok(card.body.every((block) => block.type === "TextBlock" && block.wrap === true));
        assert.deepEqual(
            card.body.map((block) => block.text),
            [RENDERED.subject, ...RENDERED.summary.split("\n")],
        );
        assert.equal(card.body[0]!.weight, "Bolder");
        assert.equal(hooks.requestsTo(HOOK_PATHS.teams)[0]!.path, HOOK_PATHS.teams + HOOK_QUERY.teams);

        const generic = hooks.requestsTo(HOOK_PATHS.generic)[0]!;
        assert.equal(generic.body, RENDERED.json, "the report's JSON document, byte for byte");
    });

    it("gives Mattermost the summary when the Markdown is too long for one post", () => {
        const long = { ...RENDERED, markdown: `# Report\n\n${"| row | 1 |\n".repeat(2_000)}` };
        const text = (JSON.parse(webhookPayload("mattermost", long)) as { text: string }).text;
        assert.ok(text.length < 16_383, `${text.length} characters`);
        assert.ok(text.startsWith(`#### ${RENDERED.subject}\n\n${RENDERED.summary}`), text);
        assert.ok(!text.includes("| row | 1 |"));
    });

    it("keeps Slack's header within its limit", () => {
        const subject = `Weekly health report 2026-W47: ${"cluster ".repeat(40)}`;
        const blocks = (
            JSON.parse(webhookPayload("slack", { ...RENDERED, subject })) as { blocks: { text: { text: string } }[] }
        ).blocks;
        assert.equal([...blocks[0]!.text.text].length, 150);
        assert.ok(blocks[0]!.text.text.endsWith("…"));
    });

    it("refuses a server whose certificate is not from the configured CAs, without the URL's secret", async () => {
        const hooks = keep(await startWebhookReceiver({ identity: server }));
        const { outcomes } = await deliver(
            only({ webhooks: [webhook("slack", { caFile: undefined })] }),
            allCredentials(hooks),
        );
        const outcome = failed(outcomes);
        assert.match(outcome.detail, /certificate/i);
        assert.ok(outcome.detail.startsWith(`${HOST}:${hooks.port}: `), outcome.detail);
        assert.deepEqual(hooks.requests, [], "nothing reached the handler");
        assertNoSecret(outcome.detail);
    });

    it("reports a missing URL credential by its file name", async () => {
        const { outcomes } = await deliver(only({ webhooks: [webhook("generic")] }), credentials({}));
        assert.equal(failed(outcomes).detail, "credential file webhook-generic is missing");
    });

    it("refuses a URL credential that is not http(s), without quoting it", async () => {
        const secretish = `ftp://files.acme.test/${GENERIC_TOKEN}`;
        const { outcomes } = await deliver(
            only({ webhooks: [webhook("generic")] }),
            credentials({ [CREDENTIAL_FILES.webhook("generic")]: secretish }),
        );
        assert.equal(failed(outcomes).detail, "credential webhook-generic is not an http(s) URL");
    });
});

describe("Git", () => {
    const calls = (requests: RecordedRequest[]): string[] => requests.map((r) => `${r.method} ${r.path} ${r.status}`);
    const nextWeek = { ...RENDERED, markdown: RENDERED.markdown.replace("| alpha | 72 |", "| alpha | 75 |") };

    it("GitLab: creates the report file, updates it on a re-run, and leaves it when unchanged", async () => {
        const stand = await startHosting("gitlab", { "README.md": "# Fleet reports\n" });
        const settings = only({ git: gitSettings(stand) });
        const P = "/api/v4/projects/acme%2Ffleet-reports/repository/files/reports%2F2026-W47.md";
        const webUrl = `${stand.url}/acme/fleet-reports/-/blob/reports/reports/2026-W47.md`;

        const first = succeeded((await deliver(settings, allCredentials())).outcomes);
        assert.equal(first.channel, "git");
        assert.equal(first.detail, `created ${webUrl}`);
        assert.equal(stand.fileAt("reports", RENDERED.path), RENDERED.markdown);
        assert.deepEqual(calls(stand.requests), [`GET ${P}?ref=reports 404`, `POST ${P} 201`]);
        const created = stand.requests[1]!.body as Record<string, unknown>;
        assert.equal(created.branch, "reports");
        assert.equal(created.content, RENDERED.markdown);
        assert.equal(created.commit_message, "report: weekly health report 2026-W47");
        for (const request of stand.requests) assert.equal(request.headers["private-token"], GIT_TOKEN);
        const createdBy = stand.state.branches.get("reports")!.files.get(RENDERED.path)!.lastCommitId;

        stand.resetRequests();
        const second = succeeded((await deliver(settings, allCredentials(), nextWeek)).outcomes);
        assert.equal(second.detail, `updated ${webUrl}`);
        assert.equal(stand.fileAt("reports", RENDERED.path), nextWeek.markdown);
        assert.deepEqual(calls(stand.requests), [`GET ${P}?ref=reports 200`, `PUT ${P} 200`]);
        const updated = stand.requests[1]!.body as Record<string, unknown>;
        assert.equal(updated.last_commit_id, createdBy, "the update names the commit it read the file at");
        assert.equal(updated.content, nextWeek.markdown);
        assert.equal(updated.commit_message, "report: weekly health report 2026-W47");

        stand.resetRequests();
        const commits = stand.state.commits.length;
        const third = succeeded((await deliver(settings, allCredentials(), nextWeek)).outcomes);
        assert.equal(third.detail, `unchanged ${webUrl}`);
        assert.deepEqual(calls(stand.requests), [`GET ${P}?ref=reports 200`]);
        assert.equal(stand.state.commits.length, commits);
        assert.equal(stand.fileAt("reports", "README.md"), "# Fleet reports\n");
    });

    it("GitHub: creates the report file, updates it with its sha on a re-run, and leaves it when unchanged", async () => {
        const stand = await startHosting("github", { "README.md": "# Fleet reports\n" });
        const settings = only({ git: gitSettings(stand) });
        const C = "/repos/acme/fleet-reports/contents/reports%2F2026-W47.md";
        const htmlUrl = `${stand.url}/acme/fleet-reports/blob/reports/reports/2026-W47.md`;

        const first = succeeded((await deliver(settings, allCredentials())).outcomes);
        assert.deepEqual(calls(stand.requests), [`GET ${C}?ref=reports 404`, `PUT ${C} 201`]);
        const created = stand.requests[1]!.body as Record<string, unknown>;
        assert.equal(created.sha, undefined, "a new file needs no sha");
        assert.equal(created.branch, "reports");
        assert.equal(created.message, "report: weekly health report 2026-W47");
        assert.equal(Buffer.from(String(created.content), "base64").toString("utf8"), RENDERED.markdown);
        assert.equal(stand.fileAt("reports", RENDERED.path), RENDERED.markdown);
        const firstCommit = stand.state.commits.at(-1)!.sha;
        assert.equal(first.detail, `created ${htmlUrl} (commit ${firstCommit})`);
        for (const request of stand.requests) assert.equal(request.headers.authorization, `token ${GIT_TOKEN}`);
        const blob = stand.state.branches.get("reports")!.files.get(RENDERED.path)!.blobSha;

        stand.resetRequests();
        const second = succeeded((await deliver(settings, allCredentials(), nextWeek)).outcomes);
        assert.deepEqual(calls(stand.requests), [`GET ${C}?ref=reports 200`, `PUT ${C} 200`]);
        assert.equal(
            (stand.requests[1]!.body as Record<string, unknown>).sha,
            blob,
            "the update names the blob it read",
        );
        assert.equal(stand.fileAt("reports", RENDERED.path), nextWeek.markdown);
        assert.equal(second.detail, `updated ${htmlUrl} (commit ${stand.state.commits.at(-1)!.sha})`);

        stand.resetRequests();
        const third = succeeded((await deliver(settings, allCredentials(), nextWeek)).outcomes);
        assert.equal(third.detail, `unchanged ${htmlUrl}`);
        assert.deepEqual(calls(stand.requests), [`GET ${C}?ref=reports 200`]);
    });

    it("reports a rejected token with the status and without the token", async () => {
        for (const provider of ["gitlab", "github"] as const) {
            const stand = await startHosting(provider);
            const { outcomes, lines } = await deliver(
                only({ git: gitSettings(stand) }),
                credentials({ [CREDENTIAL_FILES.gitToken]: GIT_TOKEN.replace("42", "43") }),
            );
            const outcome = failed(outcomes);
            const name = provider === "gitlab" ? "GitLab" : "GitHub";
            assert.match(
                outcome.detail,
                new RegExp(`^${name}: reading reports/2026-W47\\.md on reports in acme/fleet-reports failed: 401`),
            );
            assert.ok(!outcome.detail.includes(GIT_TOKEN.replace("42", "43")), outcome.detail);
            assert.ok(!JSON.stringify(lines).includes(GIT_TOKEN.replace("42", "43")));
            assert.equal(stand.state.commits.length, 1, `${provider}: nothing committed`);
        }
    });

    it("reports a refused write with the API's answer", async () => {
        const stand = await startHosting("gitlab");
        stand.failNext("POST", "/api/v4/projects/acme%2Ffleet-reports/repository/files/", 403, "403 Forbidden");
        const outcome = failed((await deliver(only({ git: gitSettings(stand) }), allCredentials())).outcomes);
        assert.equal(
            outcome.detail,
            "GitLab: creating reports/2026-W47.md on reports in acme/fleet-reports failed: 403 Forbidden",
        );
        assert.equal(stand.fileAt("reports", RENDERED.path), undefined);
    });
});

describe("Git hosting stand-in: file writes", () => {
    const TOKEN = "stand-in-token";
    const call = async (stand: GitHostingStandIn, method: string, urlPath: string, body?: unknown) => {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (stand.provider === "gitlab") headers["private-token"] = TOKEN;
        else headers.authorization = `token ${TOKEN}`;
        const res = await fetch(`${stand.url}${urlPath}`, {
            method,
            headers,
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    it("GitLab: refuses creating an existing file, updating a missing one, a stale last_commit_id and an empty commit", async () => {
        const stand = keep(
            await startGitHosting({ provider: "gitlab", token: TOKEN, repository: "g/p", files: { "a.md": "A\n" } }),
        );
        const file = (name: string) => `/api/v4/projects/g%2Fp/repository/files/${encodeURIComponent(name)}`;
        const base = { branch: "main", commit_message: "m" };
        const lastCommit = stand.state.branches.get("main")!.files.get("a.md")!.lastCommitId;

        assert.equal((await call(stand, "POST", file("a.md"), { ...base, content: "B\n" })).status, 400);
        assert.equal((await call(stand, "PUT", file("b.md"), { ...base, content: "B\n" })).status, 400);
        assert.equal(
            (await call(stand, "PUT", file("a.md"), { ...base, content: "B\n", last_commit_id: "0".repeat(40) }))
                .status,
            400,
        );
        assert.equal((await call(stand, "PUT", file("a.md"), { ...base, content: "A\n" })).status, 400);
        assert.equal((await call(stand, "POST", file("c.md"), { branch: "main", content: "C" })).status, 400);
        assert.equal(stand.state.commits.length, 1, "nothing committed");

        const updated = await call(stand, "PUT", file("a.md"), {
            ...base,
            content: Buffer.from("B\n").toString("base64"),
            encoding: "base64",
            last_commit_id: lastCommit,
        });
        assert.deepEqual(updated, { status: 200, body: { file_path: "a.md", branch: "main" } });
        assert.equal(stand.fileAt("main", "a.md"), "B\n");
        const created = await call(stand, "POST", file("dir/c.md"), { ...base, content: "C\n" });
        assert.deepEqual(created, { status: 201, body: { file_path: "dir/c.md", branch: "main" } });
        assert.equal(stand.fileAt("main", "dir/c.md"), "C\n");
    });

    it("GitHub: requires the sha to update, refuses a wrong one with 409", async () => {
        const stand = keep(
            await startGitHosting({ provider: "github", token: TOKEN, repository: "o/r", files: { "a.md": "A\n" } }),
        );
        const content = Buffer.from("B\n").toString("base64");
        const put = (body: Record<string, unknown>) =>
            call(stand, "PUT", "/repos/o/r/contents/a.md", { message: "m", branch: "main", content, ...body });

        assert.equal((await put({})).status, 422);
        assert.equal((await put({ sha: "0".repeat(40) })).status, 409);
        assert.equal((await put({ sha: "x", content: "not base64!" })).status, 422);
        assert.equal(stand.fileAt("main", "a.md"), "A\n");

        const read = await call(stand, "GET", "/repos/o/r/contents/a.md?ref=main");
        assert.equal(read.status, 200);
        assert.equal((await put({ sha: read.body.sha })).status, 200);
        assert.equal(stand.fileAt("main", "a.md"), "B\n");
        assert.equal((await put({ sha: read.body.sha })).status, 409, "the old sha no longer matches");
    });
});

describe("channels together", () => {
    const hookSettings = (kind: WebhookSettings["kind"]): WebhookSettings => ({ name: kind, kind, caFile });

    it("a webhook answering 500 fails alone: e-mail, the other webhook and Git still deliver", async () => {
        const smtp = await startMail();
        const hooks = keep(await startWebhookReceiver({ identity: server }));
        hooks.answer(HOOK_PATHS.slack, 500, `internal_error for ${HOOK_PATHS.slack}`);
        const stand = await startHosting("gitlab");
        const settings: DeliverySettings = {
            email: emailSettings(smtp),
            webhooks: [hookSettings("slack"), hookSettings("mattermost")],
            git: gitSettings(stand),
        };
        const { outcomes, lines } = await deliver(settings, allCredentials(hooks));

        assert.deepEqual(
            outcomes.map((o) => [o.channel, o.ok]),
            [
                ["email", true],
                ["webhook:slack", false],
                ["webhook:mattermost", true],
                ["git", true],
            ],
        );
        const slack = outcomes[1]!;
        assert.match(slack.detail, new RegExp(`^${HOST}:${hooks.port} answered HTTP 500: internal_error for `));
        assert.ok(!slack.detail.includes(HOOK_PATHS.slack), slack.detail);
        assert.ok(slack.detail.includes("[redacted]"), "the echoed path is masked");

        assert.equal(smtp.messages.length, 1);
        assert.equal(hooks.requestsTo(HOOK_PATHS.slack).length, 1);
        assert.equal(hooks.requestsTo(HOOK_PATHS.mattermost).length, 1);
        assert.equal(stand.fileAt("reports", RENDERED.path), RENDERED.markdown);

        assert.deepEqual(
            // Logged as each channel finishes, in any order.
            lines
                .map((l) => [(l as DeliveryOutcome).channel, (l as { level?: unknown }).level])
                .sort(
                    (a, b) =>
                        outcomes.findIndex((o) => o.channel === a[0]) - outcomes.findIndex((o) => o.channel === b[0]),
                ),
            [
                ["email", "info"],
                ["webhook:slack", "error"],
                ["webhook:mattermost", "info"],
                ["git", "info"],
            ],
        );
        const logged = JSON.stringify(lines);
        assertNoSecret(logged);
        for (const kind of Object.keys(HOOK_PATHS) as (keyof typeof HOOK_PATHS)[]) {
            assert.ok(!logged.includes(HOOK_PATHS[kind]), `the ${kind} path shows in the log`);
        }
        for (const outcome of outcomes) assertNoSecret(outcome.detail);
    });

    it("channels that never answer fail at their deadline while the others deliver", async () => {
        const silentSmtp = keep(await startSilentServer());
        const hooks = keep(await startWebhookReceiver({ identity: server }));
        hooks.stall(HOOK_PATHS.generic);
        const stand = await startHosting("github");
        stand.stallNext("GET", "/repos/acme/fleet-reports/contents/");
        const settings: DeliverySettings = {
            email: {
                host: HOST,
                port: silentSmtp.port,
                security: "tls",
                from: "reports@acme.test",
                to: ["ops@acme.test"],
                username: SMTP_USER,
                caFile,
            },
            webhooks: [hookSettings("generic"), hookSettings("mattermost")],
            git: gitSettings(stand),
        };
        const timeoutMs = 1_000;
        const started = Date.now();
        const { outcomes } = await deliver(settings, allCredentials(hooks), RENDERED, timeoutMs);
        const elapsed = Date.now() - started;

        assert.deepEqual(
            outcomes.map((o) => [o.channel, o.ok]),
            [
                ["email", false],
                ["webhook:generic", false],
                ["webhook:mattermost", true],
                ["git", false],
            ],
        );
        for (const outcome of outcomes.filter((o) => !o.ok)) {
            assert.ok(
                outcome.durationMs >= timeoutMs - 20,
                `${outcome.channel} gave up early: ${outcome.durationMs} ms`,
            );
            assert.ok(outcome.durationMs < timeoutMs + 1_000, `${outcome.channel} overran: ${outcome.durationMs} ms`);
            assertNoSecret(outcome.detail);
        }
        assert.equal(outcomes[1]!.detail, `no answer within 1 s (posting to ${HOST}:${hooks.port})`);
        assert.equal(
            outcomes[3]!.detail,
            "no answer within 1 s (reading reports/2026-W47.md on reports in acme/fleet-reports)",
        );
        assert.ok(outcomes[2]!.durationMs < timeoutMs, "the answering webhook did not wait for the others");
        // One after the other, the three silent channels alone would take 3 s.
        assert.ok(elapsed < 2.5 * timeoutMs, `channels run side by side: ${elapsed} ms in all`);
        assert.equal(silentSmtp.connections(), 1);
        assert.equal(hooks.requestsTo(HOOK_PATHS.mattermost).length, 1);
    });

    it("delivers nothing and reports nothing when no channel is configured", async () => {
        assert.deepEqual((await deliver({ webhooks: [] }, credentials({}))).outcomes, []);
    });
});
