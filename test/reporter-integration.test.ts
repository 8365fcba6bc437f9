import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { simpleParser } from "mailparser";

import { programBundle } from "../components/program-bundle";
import { CREDENTIAL_FILES } from "../reporter/delivery-types";
import type { ReporterSettings } from "../reporter/settings";
import type { ClusterReport, Report } from "../reporter/types";
import { startGitHosting, type GitHostingStandIn } from "../scripts/lib/harness/git-hosting";
import { labCertificates, startReportLab, type ReportLab } from "../scripts/lib/harness/report-lab";
import { startSmtp, type SmtpStandIn } from "../scripts/lib/harness/smtp";
import { startWebhookReceiver, type WebhookStandIn } from "../scripts/lib/harness/webhook";
import { issueLeaf } from "../scripts/lib/harness/x509";
import { KNOWN_WEEK } from "../scripts/lib/report-fleet";
import { tempDir } from "./helpers";

/**
 * The weekly report end to end on 127.0.0.1, with known answers: two weeks of a two-cluster
 * fleet written as OpenMetrics, backfilled into a real Prometheus, the stack's hourly roll-ups
 * backfilled over it by promtool, a real Alertmanager with one alert firing and a Loki stand-in,
 * all behind TLS that requires the reporter's client certificate. The reporter's deploy-time
 * bundle runs as a process and delivers to SMTP, webhook and GitLab stand-ins.
 */

const SMTP_PASSWORD = "smtp-s3cr3t-value";
const GIT_TOKEN = "glpat-report-0123456789";
const REPO = "platform/gitops";

const { end: END, fleet: FLEET, logs: LOGS, firing: FIRING } = KNOWN_WEEK;
const certificates = labCertificates(FLEET.clusters.map((c) => c.name));

interface Run {
    code: number | null;
    log: Record<string, unknown>[];
    report: Report;
    markdown: string;
}

/** Runs the bundle once as the CronJob's pod would, with its settings and credential files. */
async function runBundle(dir: string, settings: ReporterSettings, credentials: Record<string, string>): Promise<Run> {
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(settings.credentialsDir, { recursive: true });
    for (const [file, value] of Object.entries(credentials))
        fs.writeFileSync(path.join(settings.credentialsDir, file), value);
    const settingsFile = path.join(dir, "settings.json");
    fs.writeFileSync(settingsFile, JSON.stringify(settings));
    const bundle = path.join(dir, "reporter.js");
    fs.writeFileSync(bundle, programBundle("reporter"));
    const out = path.join(dir, "out");
    const child = spawn(
        process.execPath,
        [bundle, "--settings", settingsFile, "--at", new Date(END * 1000).toISOString(), "--out", out],
        {
            stdio: ["ignore", "pipe", "pipe"],
        },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const log = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(fs.existsSync(path.join(out, "2026-W47.json")), `no report written (exit ${code}): ${stderr}${stdout}`);
    return {
        code,
        log,
        report: JSON.parse(fs.readFileSync(path.join(out, "2026-W47.json"), "utf8")) as Report,
        markdown: fs.readFileSync(path.join(out, "2026-W47.md"), "utf8"),
    };
}

describe(
    "weekly report: a known week of a real Prometheus, Alertmanager and Loki over mTLS",
    { timeout: 600_000 },
    () => {
        const work = tempDir("report-integration");
        let lab: ReportLab;
        let smtp: SmtpStandIn;
        let hook: WebhookStandIn;
        let gitlab: GitHostingStandIn;
        let run: Run;
        let alpha: ClusterReport;
        let hub: ClusterReport;
        let settings: ReporterSettings;

        before(async () => {
            lab = await startReportLab(path.join(work, "lab"), FLEET, certificates, LOGS, FIRING);
            const mailCert = await issueLeaf({ ...certificates.server, dnsNames: ["127.0.0.1"] }, lab.ca);
            smtp = await startSmtp({
                mode: "starttls",
                identity: { cert: mailCert.cert, key: mailCert.key },
                auth: { username: "reporter", password: SMTP_PASSWORD },
            });
            hook = await startWebhookReceiver();
            gitlab = await startGitHosting({
                provider: "gitlab",
                token: GIT_TOKEN,
                repository: REPO,
                files: { "README.md": "ops\n" },
            });
            settings = {
                ...lab.settings,
                delivery: {
                    email: {
                        host: smtp.host,
                        port: smtp.port,
                        security: "starttls",
                        from: "observability@example.com",
                        to: ["sre@example.com"],
                        username: "reporter",
                        caFile: path.join(lab.clientDir, "ca.crt"),
                    },
                    webhooks: [{ name: "chat", kind: "mattermost" }],
                    git: {
                        provider: "gitlab",
                        apiUrl: gitlab.url,
                        repository: REPO,
                        branch: "main",
                        directory: "reports",
                    },
                },
            };
            run = await runBundle(path.join(work, "run"), settings, {
                [CREDENTIAL_FILES.smtpPassword]: SMTP_PASSWORD,
                [CREDENTIAL_FILES.gitToken]: GIT_TOKEN,
                [CREDENTIAL_FILES.webhook("chat")]: `${hook.origin}/hooks/abc123`,
            });
            const byName = new Map(run.report.clusters.map((c) => [c.cluster, c]));
            alpha = byName.get("alpha") as ClusterReport;
            hub = byName.get("hub") as ClusterReport;
        });

        after(async () => {
            await lab?.stop();
            await smtp?.close();
            await hook?.close();
            await gitlab?.close();
        });

        it("names the ISO week and covers the 7 days before the run", () => {
            assert.equal(run.code, 0, JSON.stringify(run.log.filter((l) => l.level !== "info")));
            assert.deepEqual(run.report.week, { year: 2026, week: 47 });
            assert.equal(run.report.window.start, "2026-11-16T06:00:00.000Z");
            assert.equal(run.report.window.end, "2026-11-23T06:00:00.000Z");
            assert.deepEqual(run.report.warnings, []);
            assert.ok(alpha && hub, "both clusters reported");
        });

        it("states the node that was down 2 hours, and the 3-hour metrics gap and 2-hour log gap", () => {
            assert.equal(alpha.availability.nodeDowntime.length, 1);
            assert.equal(alpha.availability.nodeDowntime[0]?.node, "alpha-w2");
            assert.ok(
                Math.abs((alpha.availability.nodeDowntime[0]?.minutes ?? 0) - 120) <= 1,
                JSON.stringify(alpha.availability),
            );
            const gaps = Object.fromEntries(alpha.availability.signals.map((s) => [s.signal, s.gapHours]));
            // Hour resolution: a 3-hour gap that does not start on a roll-up's hour empties 2 of them.
            assert.ok([2, 3].includes(gaps.metrics as number), JSON.stringify(gaps));
            assert.deepEqual({ ...gaps, metrics: 3 }, { metrics: 3, logs: 2, traces: 0 });
            assert.deepEqual(hub.availability.nodeDowntime, []);
            assert.equal(hub.availability.apiServer.current, 1);
        });

        it("counts the 3 restarts of shop/api-0 (1 the week before), the OOM kill, the crash loop and the Pending pod", () => {
            assert.deepEqual(alpha.workloads.topRestarts[0], { namespace: "shop", pod: "api-0", count: 3 });
            assert.deepEqual(alpha.workloads.restarts, { current: 4, previous: 1 }, JSON.stringify(alpha.workloads));
            assert.deepEqual(alpha.workloads.topOomKills, [{ namespace: "batch", pod: "cruncher-0", count: 1 }]);
            assert.deepEqual(alpha.workloads.oomKills, { current: 1, previous: 0 });
            // Hour resolution: a 2-hour crash loop touches 2 or 3 hourly roll-ups.
            assert.equal(alpha.workloads.crashLoops.length, 1);
            assert.ok(
                [120, 180].includes(alpha.workloads.crashLoops[0]?.minutes ?? 0),
                JSON.stringify(alpha.workloads.crashLoops),
            );
            assert.equal(alpha.workloads.pending[0]?.pod, "report-1");
            assert.ok(
                Math.abs((alpha.workloads.pending[0]?.minutes ?? 0) - 40) <= 6,
                JSON.stringify(alpha.workloads.pending),
            );
            assert.deepEqual(alpha.workloads.remediation, { actions: { "dry-run": 2 }, mergeRequests: 0 });
            assert.deepEqual(hub.workloads.restarts, { current: 0, previous: 0 });
        });

        it("ranks the top CPU and memory consumers by their known usage", () => {
            assert.deepEqual(
                alpha.workloads.topCpu.map((c) => [c.workload, Number(c.value.toFixed(3))]),
                [
                    ["app-007", 0.4],
                    ["app-006", 0.35],
                    ["app-005", 0.3],
                    ["app-004", 0.25],
                    ["app-003", 0.2],
                ],
            );
            assert.equal(alpha.workloads.topMemory[0]?.workload, "app-007");
            assert.equal(alpha.workloads.topMemory[0]?.value, 176 * 2 ** 20);
            assert.ok(Math.abs((alpha.capacity.cpuUsedCores.current ?? 0) - 1.8) < 0.01);
            assert.equal(alpha.capacity.cpuAllocatableCores.current, 12);
        });

        it("reports the alert that fired 45 minutes and the one still firing in Alertmanager", () => {
            assert.deepEqual(alpha.alerts.noisiest, [
                { alertname: "HighErrorRate", severity: "critical", firings: 1, firingMinutes: 45 },
            ]);
            assert.deepEqual(alpha.alerts.bySeverity.critical, { current: 1, previous: 0 });
            assert.deepEqual(alpha.alerts.firingMinutes, { current: 45, previous: 0 });
            assert.equal(alpha.alerts.firingNow.length, 1);
            assert.equal(alpha.alerts.firingNow[0]?.alertname, "NodeFilesystemAlmostFull");
            assert.deepEqual(hub.alerts.firingNow, []);
            assert.equal(run.report.fleet.firingNow.critical, 1);
        });

        it("forecasts the filling disk and lists the certificate expiring within 30 days", () => {
            const disk = alpha.capacity.disks.find((d) => d.name === "alpha-w1:/var");
            assert.ok(disk, JSON.stringify(alpha.capacity.disks));
            assert.ok(Math.abs(disk.used - 0.81) < 0.01, String(disk.used));
            // 19 % left at 3 % a day.
            assert.ok(disk.daysToFull !== null && Math.abs(disk.daysToFull - 6.33) < 0.2, String(disk.daysToFull));
            assert.equal(alpha.capacity.disks.length, 1, "the steady disks are not listed");
            assert.deepEqual(
                run.report.fleet.certificates.map((c) => [c.id, c.daysLeft]),
                [["cluster-alpha", 20]],
            );
        });

        it("reads span metrics and Loki's error volume per cluster", () => {
            const checkout = alpha.services?.[0];
            assert.equal(checkout?.service, "checkout");
            assert.ok(Math.abs((checkout?.p95Seconds ?? 0) - 0.75) < 0.01, String(checkout?.p95Seconds));
            assert.ok(Math.abs((checkout?.errorRatio ?? 0) - 0.05) < 0.001, String(checkout?.errorRatio));
            assert.deepEqual(alpha.errorLogs, [
                { namespace: "shop", bytes: 40960 },
                { namespace: "batch", bytes: 1024 },
            ]);
            assert.deepEqual(hub.errorLogs, []);
            // Each cluster is its own Loki tenant, read with its own X-Scope-OrgID.
            assert.deepEqual([...new Set(lab.loki.requests.map((r) => r.tenant))].sort(), ["alpha", "hub"]);
        });

        it("scores each cluster with the reasons that lowered it, worst first", () => {
            assert.deepEqual(
                run.report.clusters.map((c) => c.cluster),
                ["alpha", "hub"],
            );
            assert.deepEqual({ value: hub.score.value, reasons: hub.score.reasons }, { value: 100, reasons: [] });
            const reasons = alpha.score.reasons.map((r) => r.text);
            const metricsGap = alpha.availability.signals.find((s) => s.signal === "metrics")?.gapHours ?? 0;
            for (const expected of [
                /^node alpha-w2 was not ready for 1(19|20|21) minutes$/,
                new RegExp(`^data missing at main: metrics ${metricsGap} hours, logs 2 hours$`),
                /^1 critical alert fired$/,
                /^1 critical alert still firing: NodeFilesystemAlmostFull$/,
                /^4 container restarts \(most: shop\/api-0, 3\)$/,
                /^1 container killed out of memory$/,
                /^1 pod in CrashLoopBackOff \(shop\/api-0\)$/,
                /^1 pod stuck Pending$/,
                /^volumes filling: alpha-w1:\/var 8[01]\.\d\d % used, full in 6\.\d days$/,
            ]) {
                assert.ok(
                    reasons.some((r) => expected.test(r)),
                    `${expected} not in ${JSON.stringify(reasons)}`,
                );
            }
            assert.equal(reasons.length, 9, JSON.stringify(reasons));
            const lost = alpha.score.reasons.reduce((sum, r) => sum + r.points, 0);
            assert.equal(alpha.score.value, Math.round(100 - lost));
            // Node 120 min: 4; gaps: 2 a lost hour; alerts: 5 fired + 10 still firing; workloads:
            // 1 (restarts) + 2 (OOM) + 3 (crash loop) + 2 (Pending); the disk full within a week: 10.
            assert.equal(alpha.score.value, 100 - (4 + 2 * (metricsGap + 2) + 15 + 8 + 10));
            // The week before: one restart only.
            assert.equal(alpha.score.previous, 99);
            assert.equal(run.report.fleet.worst?.cluster, "alpha");
        });

        it("delivers by e-mail over STARTTLS, to the chat webhook and as reports/2026-W47.md in Git", async () => {
            assert.equal(smtp.messages.length, 1);
            const mail = await simpleParser(smtp.messages[0]?.raw as Buffer);
            assert.match(mail.subject ?? "", /2026-W47/);
            assert.match(String(mail.html), /alpha-w2/);
            assert.equal(mail.attachments[0]?.filename, "report-2026-W47.json");
            assert.equal(hook.requestsTo("/hooks/abc123").length, 1);
            const committed = gitlab.fileAt("main", "reports/2026-W47.md");
            assert.equal(committed, run.markdown);
            assert.match(run.markdown, /alpha-w2/);
            assert.match(run.markdown, /HighErrorRate/);
        });

        it("keeps delivering when one channel fails, then exits non-zero naming it", async () => {
            hook.answer("/hooks/abc123", 500, "boom");
            const before = smtp.messages.length;
            const failed = await runBundle(path.join(work, "run-failing"), settings, {
                [CREDENTIAL_FILES.smtpPassword]: SMTP_PASSWORD,
                [CREDENTIAL_FILES.gitToken]: GIT_TOKEN,
                [CREDENTIAL_FILES.webhook("chat")]: `${hook.origin}/hooks/abc123`,
            });
            assert.equal(failed.code, 1);
            assert.equal(smtp.messages.length, before + 1, "the e-mail still went");
            const last = failed.log.at(-1) as { failed?: string[]; delivered?: string[] };
            assert.deepEqual(last.failed, ["webhook:chat"]);
            assert.deepEqual([...(last.delivered ?? [])].sort(), ["email", "git"]);
            assert.ok(!JSON.stringify(failed.log).includes("abc123"), "the webhook URL's token is not logged");
            assert.ok(!JSON.stringify(failed.log).includes(SMTP_PASSWORD));
        });
    },
);
