import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { simpleParser } from "mailparser";

import { programBundle } from "../components/programs/bundle";
import { CREDENTIAL_FILES } from "../reporter/delivery-types";
import { summary } from "../reporter/render";
import type { ReporterSettings } from "../reporter/settings";
import type { ClusterReport, Link, Report } from "../reporter/types";
import { startGitHosting, type GitHostingStandIn } from "./harness/git-hosting";
import type { TenantLogs } from "./harness/loki";
import { KNOWN_WEEK, type FleetSpec } from "./harness/report-fleet";
import {
    knownWeekAudit,
    labCertificates,
    LAB_GRAFANA_URL,
    LAB_RUNBOOK_BASE_URL,
    startReportLab,
    type AuditLine,
    type FiringAlert,
    type ReportLab,
    type SeriesAmendment,
} from "./harness/report-lab";
import { startSmtp, type SmtpStandIn } from "./harness/smtp";
import { startWebhookReceiver, type WebhookStandIn } from "./harness/webhook";
import { issueLeaf } from "./harness/x509";
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
    html: string;
}

const MINUTE = 60_000;
const ms = (iso: string) => Date.parse(iso);

/** An Explore link's pane: its datasource, its one query and its range in milliseconds. */
function explorePane(link: Link | null | undefined): { datasource: string; expr: string; from: number; to: number } {
    assert.ok(link, "a link");
    const prefix = `${LAB_GRAFANA_URL}/explore?orgId=1&left=`;
    assert.ok(link.url.startsWith(prefix), link.url);
    const left = JSON.parse(decodeURIComponent(link.url.slice(prefix.length))) as {
        datasource: string;
        queries: { expr: string; datasource: { uid: string } }[];
        range: { from: string; to: string };
    };
    assert.equal(left.queries.length, 1);
    assert.equal(left.queries[0]?.datasource.uid, left.datasource);
    return {
        datasource: left.datasource,
        expr: left.queries[0]?.expr ?? "",
        from: Number(left.range.from),
        to: Number(left.range.to),
    };
}

/** A span within a minute of the incident's known start and end (the roll-ups' samples fall 10 s into a minute). */
function assertSpan(span: { from: string; to: string } | null, from: string, to: string): void {
    assert.ok(span, "a span");
    assert.ok(ms(span.from) <= ms(from) && ms(span.from) >= ms(from) - MINUTE, `${span.from} vs ${from}`);
    assert.ok(ms(span.to) >= ms(to) && ms(span.to) <= ms(to) + MINUTE, `${span.to} vs ${to}`);
}

/**
 * A span containing an incident shorter than an hour, which may fall within one roll-up hour:
 * then only that hour is known.
 */
function assertSpanAround(span: { from: string; to: string } | null, from: string, to: string): void {
    assert.ok(span, "a span");
    assert.ok(ms(span.from) <= ms(from) && ms(span.to) >= ms(to), `${JSON.stringify(span)} vs ${from} to ${to}`);
    assert.ok(ms(span.to) - ms(span.from) <= 61 * MINUTE, JSON.stringify(span));
}

/** An Explore link over a span, 30 minutes either side. */
function assertExploreOver(link: Link | null | undefined, span: { from: string; to: string } | null, expr: string) {
    const pane = explorePane(link);
    assert.ok(span);
    assert.deepEqual(pane, {
        datasource: "thanos",
        expr,
        from: ms(span.from) - 30 * MINUTE,
        to: ms(span.to) + 30 * MINUTE,
    });
}

/** The URLs of a Markdown document's link reference definitions. */
const definitions = (markdown: string) => [...markdown.matchAll(/^\[\d+\]: (\S+)$/gm)].map((m) => m[1] ?? "");

/** Runs the bundle once as the CronJob's pod would, with its settings and credential files. */
async function runBundle(
    dir: string,
    settings: ReporterSettings,
    credentials: Record<string, string>,
    end = END,
    week = "2026-W47",
): Promise<Run> {
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
        [bundle, "--settings", settingsFile, "--at", new Date(end * 1000).toISOString(), "--out", out],
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
    assert.ok(fs.existsSync(path.join(out, `${week}.json`)), `no report written (exit ${code}): ${stderr}${stdout}`);
    return {
        code,
        log,
        report: JSON.parse(fs.readFileSync(path.join(out, `${week}.json`), "utf8")) as Report,
        markdown: fs.readFileSync(path.join(out, `${week}.md`), "utf8"),
        html: fs.readFileSync(path.join(out, `${week}.html`), "utf8"),
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
            lab = await startReportLab(path.join(work, "lab"), FLEET, certificates, LOGS, FIRING, {
                audit: knownWeekAudit(),
            });
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

        it("places each incident in time and links Explore over it: the node, the metrics gap, the log gap", () => {
            const node = alpha.availability.nodeDowntime[0];
            assert.ok(node);
            assertSpan(node.span, "2026-11-18T10:00:00Z", "2026-11-18T12:00:00Z");
            assertExploreOver(
                node.link,
                node.span,
                'kube_node_status_condition{cluster="alpha", node="alpha-w2", condition="Ready", status="true"}',
            );
            const metrics = alpha.availability.signals.find((s) => s.signal === "metrics");
            // The partial hours either side of the missing ones place the gap to the minute.
            assertSpan(metrics?.span ?? null, "2026-11-21T02:00:00Z", "2026-11-21T05:00:00Z");
            assertExploreOver(metrics?.link, metrics?.span ?? null, 'sum(count_over_time(up{cluster="alpha"}[5m]))');
            const logs = alpha.availability.signals.find((s) => s.signal === "logs");
            // Loki's hours: the two hours from 01:00 without any line.
            assert.deepEqual(logs?.span, { from: "2026-11-22T01:00:00.000Z", to: "2026-11-22T03:00:00.000Z" });
            const pane = explorePane(logs?.link);
            assert.deepEqual(pane, {
                datasource: "loki",
                expr: 'sum(count_over_time({cluster="alpha"}[5m]))',
                from: ms("2026-11-22T00:30:00Z"),
                to: ms("2026-11-22T03:30:00Z"),
            });
            const pending = alpha.workloads.pending[0];
            assertSpanAround(pending?.span ?? null, "2026-11-19T14:00:00Z", "2026-11-19T14:40:00Z");
            const alert = alpha.alerts.noisiest[0];
            assertSpanAround(alert?.span ?? null, "2026-11-20T13:00:00Z", "2026-11-20T13:45:00Z");
            assertExploreOver(
                alert?.links[0],
                alert?.span ?? null,
                'ALERTS{cluster="alpha", alertname="HighErrorRate", alertstate="firing"}',
            );
            // A crash loop is known to the hour only: the hours it touched contain it.
            const loop = alpha.workloads.crashLoops[0];
            assert.ok(loop?.span);
            assert.ok(ms(loop.span.from) <= ms("2026-11-18T14:00:00Z"), loop.span.from);
            assert.ok(ms(loop.span.to) >= ms("2026-11-18T16:00:00Z"), loop.span.to);
            assert.ok(ms(loop.span.to) - ms(loop.span.from) <= 4 * 60 * MINUTE, JSON.stringify(loop.span));
        });

        it("counts the 3 restarts of shop/api-0 (1 the week before), the OOM kill, the crash loop and the Pending pod", () => {
            const top = alpha.workloads.topRestarts[0];
            assert.deepEqual([top?.namespace, top?.pod, top?.count], ["shop", "api-0", 3]);
            assert.deepEqual(alpha.workloads.restarts, { current: 4, previous: 1 }, JSON.stringify(alpha.workloads));
            assert.deepEqual(
                alpha.workloads.topOomKills.map((p) => [p.namespace, p.pod, p.count]),
                [["batch", "cruncher-0", 1]],
            );
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
            const remediation = alpha.workloads.remediation;
            assert.deepEqual([remediation.actions, remediation.mergeRequests], [{ "dry-run": 2 }, 0]);
            // Each action named from the remediator's audit lines: workload, budget, usage.
            assert.deepEqual(
                remediation.details?.map((a) => [a.at, a.outcome, `${a.namespace}/${a.name}`, a.value, a.budget]),
                [
                    ["2026-11-17T12:00:00.000Z", "would-act", "batch/report-builder", "3.6", 3],
                    ["2026-11-21T18:30:00.000Z", "would-act", "batch/report-builder", "3.6", 3],
                ],
            );
            assert.match(
                run.markdown,
                /^\| Tue 2026-11-17 13:00 +\| batch\/deployment\/report-builder +\| dry-run: would have scaled to 0 +\| NonCriticalWorkloadCPUOverBudget +\| +3\.6 \| +3 \|/m,
            );
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
            assert.deepEqual(
                alpha.alerts.noisiest.map((a) => [a.alertname, a.severity, a.firings, a.firingMinutes]),
                [["HighErrorRate", "critical", 1, 45]],
            );
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
                /^1 pod stuck Pending \(batch\/report-1\)$/,
                /^full within 7 days: alpha-w1:\/var 8[01]\.\d\d % used, full in 6\.\d days$/,
            ]) {
                assert.ok(
                    reasons.some((r) => expected.test(r)),
                    `${expected} not in ${JSON.stringify(reasons)}`,
                );
            }
            assert.equal(reasons.length, 9, JSON.stringify(reasons));
            // Whole points that add up to the score.
            const lost = alpha.score.reasons.reduce((sum, r) => sum + r.points, 0);
            assert.equal(alpha.score.value, 100 - lost);
            // Node 120 min: 8 (1 a started 15 minutes); gaps: 2 a lost hour; alerts: 2 fired + 10 still
            // firing; workloads: 1 (restarts) + 2 (OOM) + 3 (crash loop) + 2 (Pending); the disk full
            // within a week: 10.
            assert.equal(alpha.score.value, 100 - (8 + 2 * (metricsGap + 2) + 12 + 8 + 10));
            // Firing now first, then what to act on this week, then the past, largest first.
            assert.deepEqual(
                alpha.score.reasons.slice(0, 2).map((r) => r.term),
                ["critical-firing", "volumes-full-soon"],
            );
            // The week before, by the same terms: one restart only.
            assert.equal(alpha.score.previous, 99);
            assert.deepEqual(
                alpha.score.previousReasons.map((r) => [r.term, r.points]),
                [["restarts", 1]],
            );
            assert.deepEqual(alpha.score.previousLacks, []);
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

// ---------------------------------------------------------------------------------------------
// A held-out week: figures the report was not written against, each with its known answer.

const at = (iso: string) => Date.parse(iso) / 1000;
/** Monday 9 March 2026, 07:00 in Paris: the report of ISO week 2026-W10. */
const HELD_END = at("2026-03-09T06:00:00Z");
const WEEK_SECONDS = 7 * 86400;

/** ALERTS samples of one firing, every 30 s as a Prometheus evaluates, 10 s into the interval. */
function firing(alertname: string, severity: string, start: string, minutes: number) {
    const samples: [number, number][] = [];
    for (let t = at(start) + 10; t < at(start) + minutes * 60; t += 30) samples.push([t, 1]);
    return {
        labels: { cluster: "core", alertname, alertstate: "firing", severity, category: "app" },
        samples,
    };
}

/**
 * Three clusters: main `hub` and sub `edge` healthy; sub `core` with, this week, node core-w1 not
 * Ready 3 hours (Wed 10:00 to 13:00), core-w2:/var filling from 70 % to 91 % (full in 3 days), four
 * critical alerts that fired and resolved and one warning, one dry-run remediation of batch/etl,
 * and at report time a critical ControlPlaneComponentDown firing (with a relative runbook_url, as a
 * sub with the default base sends it) beside two warnings; last week, node core-w2 not Ready
 * 1 hour, 2 hours without metrics and 3 without logs, a crash loop, a Pending pod, an OOM kill,
 * and the critical ClusterTracesStopped firing up to the week's last hour.
 */
const HELD: {
    fleet: FleetSpec;
    logs: Record<string, TenantLogs>;
    firing: FiringAlert[];
    amendments: SeriesAmendment[];
    audit: Record<string, AuditLine[]>;
} = {
    fleet: {
        clusters: [
            { name: "hub", role: "main" },
            { name: "core", role: "sub" },
            { name: "edge", role: "sub" },
        ],
        end: HELD_END,
        step: 60,
        workloads: 8,
        incidents: {
            cluster: "core",
            nodeDown: { node: "core-w1", start: at("2026-03-04T10:00:00Z"), minutes: 180 },
            restarts: { namespace: "shop", pod: "web-0", at: [], previousAt: [] },
            oomKill: { namespace: "batch", pod: "etl-0", at: at("2026-02-24T09:30:00Z") },
            alert: {
                alertname: "ServiceErrorRateHigh",
                severity: "critical",
                start: at("2026-03-02T08:00:00Z"),
                minutes: 20,
            },
            disk: { node: "core-w2", mountpoint: "/var", from: 0.7, to: 0.91 },
            metricsGap: { start: at("2026-02-28T02:00:00Z"), hours: 2 },
            crashLoop: { namespace: "shop", pod: "web-0", start: at("2026-02-26T10:00:00Z"), minutes: 60 },
            pending: { namespace: "batch", pod: "etl-1", hourStart: at("2026-02-27T14:00:00Z"), minutes: 30 },
            remediationAt: [at("2026-03-03T12:00:00Z")],
        },
    },
    logs: Object.fromEntries(
        ["hub", "core", "edge"].map((cluster) => {
            const hours = Array.from({ length: 2 * 168 }, (_, i) => HELD_END - 2 * WEEK_SECONDS + i * 3600);
            const lost =
                cluster === "core"
                    ? ["2026-02-25T03:00:00Z", "2026-02-25T04:00:00Z", "2026-02-25T05:00:00Z"].map(at)
                    : [];
            return [cluster, { errorBytes: {}, hoursWithData: hours.filter((h) => !lost.includes(h)) }];
        }),
    ),
    firing: [
        {
            labels: {
                alertname: "ControlPlaneComponentDown",
                severity: "critical",
                cluster: "core",
                component: "kube-scheduler",
            },
            annotations: {
                summary: "kube-scheduler of core is down",
                runbook_url: "docs/runbooks/ControlPlaneComponentDown.md",
            },
        },
        {
            labels: { alertname: "LogAgentBufferNearlyFull", severity: "warning", cluster: "core", node: "core-w2" },
            annotations: {
                summary: "the log agent's buffer on core-w2 is 85 % full",
                runbook_url: "https://runbooks.example.org/LogAgentBufferNearlyFull",
            },
        },
        {
            labels: {
                alertname: "KubeJobFailed",
                severity: "warning",
                cluster: "core",
                namespace: "batch",
                job_name: "etl-28",
            },
            annotations: { summary: "Job batch/etl-28 failed" },
        },
    ],
    amendments: [
        {
            family: "kube_node_status_condition",
            match: { cluster: "core", node: "core-w2" },
            value: (v, t) => (t >= at("2026-02-24T09:00:00Z") && t < at("2026-02-24T10:00:00Z") ? 0 : v),
        },
        {
            family: "ALERTS",
            add: [
                firing("ServiceLatencyHigh", "critical", "2026-03-03T14:00:00Z", 10),
                firing("TraceGatewayExportFailing", "critical", "2026-03-05T09:00:00Z", 15),
                firing("LokiPushErrors", "critical", "2026-03-06T16:00:00Z", 25),
                firing("CPUThrottlingHigh", "warning", "2026-03-07T12:00:00Z", 30),
                firing("ClusterTracesStopped", "critical", "2026-03-01T20:00:00Z", 9 * 60),
            ],
        },
    ],
    audit: {
        core: [
            {
                time: "2026-03-03T12:00:00.000Z",
                cluster: "core",
                mode: "dry-run",
                outcome: "would-act",
                reason: "dry-run",
                detail: "NonCriticalWorkloadCPUOverBudget: 4.2 over budget 3",
                alert: "NonCriticalWorkloadCPUOverBudget",
                namespace: "batch",
                kind: "Deployment",
                name: "etl",
                value: "4.2",
                budget: 3,
            },
            {
                time: "2026-03-04T08:00:00.000Z",
                cluster: "core",
                mode: "dry-run",
                outcome: "refused",
                reason: "protected-namespace",
                detail: "namespace payments is protected",
                alert: "NonCriticalWorkloadCPUOverBudget",
                namespace: "payments",
                kind: "Deployment",
                name: "ledger",
                value: "5",
            },
        ],
    },
};

describe(
    "weekly report: a held-out week with known answers, what fires now first, every finding linked",
    { timeout: 600_000 },
    () => {
        const work = tempDir("report-held-out");
        let lab: ReportLab;
        let run: Run;
        let core: ClusterReport;
        let hub: ClusterReport;
        let edge: ClusterReport;

        before(async () => {
            const names = HELD.fleet.clusters.map((c) => c.name);
            lab = await startReportLab(
                path.join(work, "lab"),
                HELD.fleet,
                labCertificates(names),
                HELD.logs,
                HELD.firing,
                {
                    amendments: HELD.amendments,
                    audit: HELD.audit,
                },
            );
            run = await runBundle(path.join(work, "run"), lab.settings, {}, HELD_END, "2026-W10");
            const byName = new Map(run.report.clusters.map((c) => [c.cluster, c]));
            core = byName.get("core") as ClusterReport;
            hub = byName.get("hub") as ClusterReport;
            edge = byName.get("edge") as ClusterReport;
        });

        after(async () => {
            await lab?.stop();
        });

        it("reads the week without a warning", () => {
            assert.deepEqual(run.report.warnings, []);
            assert.deepEqual(run.report.window, { start: "2026-03-02T06:00:00.000Z", end: "2026-03-09T06:00:00.000Z" });
            assert.ok(core && hub && edge);
        });

        it("states every figure of core's week", () => {
            assert.deepEqual(
                core.availability.nodeDowntime.map((n) => [n.node, n.minutes]),
                [["core-w1", 180]],
            );
            assertSpan(core.availability.nodeDowntime[0]?.span ?? null, "2026-03-04T10:00:00Z", "2026-03-04T13:00:00Z");
            const disk = core.capacity.disks.find((d) => d.name === "core-w2:/var");
            assert.ok(disk, JSON.stringify(core.capacity.disks));
            assert.ok(Math.abs(disk.used - 0.91) < 0.005, String(disk.used));
            // 9 % left at 3 % a day.
            assert.ok(disk.daysToFull !== null && Math.abs(disk.daysToFull - 3) < 0.1, String(disk.daysToFull));
            assert.deepEqual(
                core.alerts.noisiest.map((a) => [a.alertname, a.severity, a.firings, a.firingMinutes]),
                [
                    ["CPUThrottlingHigh", "warning", 1, 30],
                    ["LokiPushErrors", "critical", 1, 25],
                    ["ServiceErrorRateHigh", "critical", 1, 20],
                    ["TraceGatewayExportFailing", "critical", 1, 15],
                    ["ServiceLatencyHigh", "critical", 1, 10],
                ],
            );
            assert.deepEqual(core.alerts.bySeverity.critical, { current: 4, previous: 1 });
            assert.deepEqual(core.alerts.bySeverity.warning, { current: 1, previous: 0 });
            assert.deepEqual(core.alerts.firingMinutes, { current: 100, previous: 540 });
            assert.deepEqual(core.workloads.restarts, { current: 0, previous: 1 });
            assert.deepEqual(core.workloads.oomKills, { current: 0, previous: 1 });
            assert.deepEqual([core.workloads.crashLoops, core.workloads.pending], [[], []]);
            assert.deepEqual(core.alerts.firingNow.map((a) => [a.alertname, a.severity]).sort(), [
                ["ControlPlaneComponentDown", "critical"],
                ["KubeJobFailed", "warning"],
                ["LogAgentBufferNearlyFull", "warning"],
            ]);
            // The audit line of a refusal is no action.
            assert.deepEqual(
                core.workloads.remediation.details?.map((a) => [
                    a.at,
                    a.mode,
                    a.outcome,
                    a.namespace,
                    a.kind,
                    a.name,
                    a.alertname,
                    a.value,
                    a.budget,
                ]),
                [
                    [
                        "2026-03-03T12:00:00.000Z",
                        "dry-run",
                        "would-act",
                        "batch",
                        "Deployment",
                        "etl",
                        "NonCriticalWorkloadCPUOverBudget",
                        "4.2",
                        3,
                    ],
                ],
            );
            assert.equal(lab.lokiFront.queries.filter((q) => q.tenant === "core").length, 1);
        });

        it("orders core's reasons by urgency: firing now, to act on this week, then the past, largest first", () => {
            assert.deepEqual(
                core.score.reasons.map((r) => [r.term, r.urgency, r.points]),
                [
                    ["critical-firing", "now", 10],
                    ["volumes-full-soon", "action", 10],
                    ["node-downtime", "past", 12],
                    ["critical-fired", "past", 8],
                    ["warning-fired", "past", 1],
                ],
            );
            // A 3-hour node outage outweighs four short past alerts.
            assert.equal(core.score.value, 100 - 41);
        });

        it("adds up: each cluster's points are 100 minus its score, in the JSON and in the Markdown table", () => {
            for (const c of run.report.clusters) {
                assert.equal(c.score.value, 100 - c.score.reasons.reduce((sum, r) => sum + r.points, 0), c.cluster);
                assert.ok(
                    c.score.reasons.every((r) => Number.isInteger(r.points)),
                    c.cluster,
                );
            }
            const section = run.markdown.slice(run.markdown.indexOf("## core (sub): score 59"));
            const table = section.slice(section.indexOf("Points off:"), section.indexOf("### Availability"));
            // This week's points and last week's for the same term, then the terms only last week had.
            const points = [...table.matchAll(/^\|\s+(\d+) \|\s+(\d+) \|/gm)].map((m) => [Number(m[1]), Number(m[2])]);
            assert.deepEqual(points.slice(0, 5), [
                [10, 10],
                [10, 0],
                [12, 4],
                [8, 2],
                [1, 0],
            ]);
            assert.deepEqual(
                points.slice(5).map(([now]) => now),
                [0, 0, 0, 0, 0],
            );
            assert.match(table, /\*\*total: 100 − 41 = 59; last week 100 − \d+ = \d+\*\*/);
        });

        it("scores last week by the same terms, from last week's own figures", () => {
            const metricsGap = core.previousWeek.gapHours.metrics ?? -1;
            // Hour resolution: a 2-hour gap that does not start on a roll-up's hour empties 1 of them.
            assert.ok([1, 2].includes(metricsGap), String(metricsGap));
            assert.equal(core.previousWeek.gapHours.logs, 3);
            const expected: Record<string, number> = {
                "critical-firing": 10, // ClusterTracesStopped firing in the week's last hour
                "data-arrival": 2 * (metricsGap + 3),
                "node-downtime": 4, // core-w2, 60 minutes
                "crash-loops": 3,
                "critical-fired": 2,
                "oom-kills": 2,
                pending: 2,
                restarts: 1,
            };
            assert.deepEqual(Object.fromEntries(core.score.previousReasons.map((r) => [r.term, r.points])), expected);
            assert.deepEqual(core.score.previousLacks, []);
            const lost = Object.values(expected).reduce((a, b) => a + b, 0);
            assert.equal(core.score.previous, 100 - lost);
            assert.match(
                run.markdown,
                new RegExp(`\\*\\*total: 100 − 41 = 59; last week 100 − ${lost} = ${100 - lost}\\*\\*`),
            );
            assert.deepEqual([hub.score.previous, edge.score.previous], [100, 100]);
        });

        it("opens the fleet summary with what fires now, critical first, then what to act on, then the week", () => {
            const md = run.markdown;
            const fleet = md.slice(md.indexOf("## Fleet"), md.indexOf("\n## ", md.indexOf("## Fleet") + 1));
            const order = ["### Firing now", "### To act on this week", "### The week", "### Warnings"].map((h) =>
                fleet.indexOf(h),
            );
            assert.ok(
                order.every((i, n) => i > 0 && (n === 0 || i > (order[n - 1] ?? 0))),
                JSON.stringify(order),
            );
            assert.match(fleet, /^Firing now: 1 critical, 2 warning\. \[alerts\]\[\d+\] \[silences\]\[\d+\]$/m);
            const rows = fleet
                .slice(fleet.indexOf("### Firing now"), fleet.indexOf("### To act on this week"))
                .split("\n")
                .filter((l) => /^\| core /.test(l))
                .map((l) => l.split("|")[2]?.trim());
            assert.deepEqual(rows, ["ControlPlaneComponentDown", "KubeJobFailed", "LogAgentBufferNearlyFull"]);
            const actions = fleet
                .slice(fleet.indexOf("### To act on this week"), fleet.indexOf("### The week"))
                .split("\n")
                .filter((l) => l.startsWith("- "));
            assert.equal(actions.length, 2);
            assert.match(
                actions[0] ?? "",
                /^- core: volume core-w2:\/var is 91 % used, full in 3\.0 days \[Explore\]\[\d+\]$/,
            );
            assert.match(
                actions[1] ?? "",
                /^- certificate cluster-alpha \(cluster-alpha\) expires in 20 days, on 2026-03-29: /,
            );
            assert.match(
                fleet,
                /^\| core +\| sub +\| +59 \(▼ \d+ vs \d+\) \| 1 critical alert still firing: ControlPlaneComponentDown \(10 points\) +\|/m,
            );
            assert.deepEqual(
                run.report.fleet.actions.map((a) => a.cluster),
                ["core", null],
            );
            const summary = renderedSummary(run);
            assert.match(
                summary[1] ?? "",
                /^Firing now: 1 critical, 2 warning \(ControlPlaneComponentDown on core, (KubeJobFailed|LogAgentBufferNearlyFull) on core, (KubeJobFailed|LogAgentBufferNearlyFull) on core\)$/,
            );
            assert.match(
                summary[2] ?? "",
                /^To act on: core, volume core-w2:\/var is 91 % used, full in 3\.0 days \(1 more\)$/,
            );
        });

        it("gives each healthy cluster one line, and no section", () => {
            assert.deepEqual([hub.healthy, edge.healthy, core.healthy], [true, true, false]);
            assert.deepEqual(run.report.fleet.healthy.sort(), ["edge", "hub"]);
            const headings = run.markdown.split("\n").filter((l) => l.startsWith("## "));
            assert.deepEqual(headings, ["## Fleet", "## core (sub): score 59"]);
            for (const [name, role] of [
                ["hub", "main"],
                ["edge", "sub"],
            ]) {
                const lines = run.markdown.split("\n").filter((l) => l.includes(`${name} (${role})`));
                assert.equal(lines.length, 1, `${name}: ${JSON.stringify(lines)}`);
                assert.match(
                    lines[0] ?? "",
                    new RegExp(`^- ${name} \\(${role}\\): score 100 \\(unchanged\\); .* \\[dashboard\\]\\[\\d+\\]$`),
                );
            }
            // Main's remote write is n/a by design, and says so.
            assert.equal(
                hub.notes["stack.remoteWriteFailed"],
                "main writes to its own store: it sends nothing over remote write",
            );
        });

        it("shows the API server once: its scrape, not the mirror pod's readiness again", () => {
            const availability = run.markdown.slice(
                run.markdown.indexOf("### Availability"),
                run.markdown.indexOf("### Alerts"),
            );
            assert.match(availability, /^\| API server +\| 100\.00% \(unchanged\) +\|$/m);
            assert.doesNotMatch(availability, /kube-apiserver/);
            assert.deepEqual(
                core.availability.controlPlane.map((c) => c.component),
                ["etcd", "kube-controller-manager", "kube-scheduler"],
            );
        });

        it("links every finding: Explore over each incident's hours, runbooks, Alertmanager in Grafana", () => {
            const node = core.availability.nodeDowntime[0];
            assertExploreOver(
                node?.link,
                node?.span ?? null,
                'kube_node_status_condition{cluster="core", node="core-w1", condition="Ready", status="true"}',
            );
            assert.deepEqual(
                core.score.reasons.find((r) => r.term === "node-downtime")?.links.map((l) => l.url),
                [node?.link?.url],
            );
            const byName = new Map(core.alerts.noisiest.map((a) => [a.alertname, a]));
            for (const [name, start, end] of [
                ["ServiceErrorRateHigh", "2026-03-02T08:00:00Z", "2026-03-02T08:20:00Z"],
                ["ServiceLatencyHigh", "2026-03-03T14:00:00Z", "2026-03-03T14:10:00Z"],
                ["LokiPushErrors", "2026-03-06T16:00:00Z", "2026-03-06T16:25:00Z"],
            ] as const) {
                const alert = byName.get(name);
                assertSpanAround(alert?.span ?? null, start, end);
                assertExploreOver(
                    alert?.links[0],
                    alert?.span ?? null,
                    `ALERTS{cluster="core", alertname="${name}", alertstate="firing"}`,
                );
                // The stack's own alerts link their runbook, absolute.
                assert.equal(alert?.links[1]?.url, `${LAB_RUNBOOK_BASE_URL}/${name}.md`);
            }
            assert.equal(byName.get("CPUThrottlingHigh")?.links.length, 1, "not the stack's: no runbook of ours");
            const disk = core.capacity.disks[0];
            const window = { from: run.report.window.start, to: run.report.window.end };
            const fs = 'cluster="core", instance="core-w2", mountpoint="/var"';
            assertExploreOver(
                disk?.link,
                window,
                `1 - node_filesystem_avail_bytes{${fs}} / node_filesystem_size_bytes{${fs}}`,
            );

            const now = new Map(core.alerts.firingNow.map((a) => [a.alertname, a]));
            // A relative runbook_url (a sub on the default base) is linked under main's absolute base.
            assert.equal(
                now.get("ControlPlaneComponentDown")?.runbook?.url,
                `${LAB_RUNBOOK_BASE_URL}/ControlPlaneComponentDown.md`,
            );
            assert.equal(
                now.get("LogAgentBufferNearlyFull")?.runbook?.url,
                "https://runbooks.example.org/LogAgentBufferNearlyFull",
            );
            assert.equal(now.get("KubeJobFailed")?.runbook, null);
            assert.equal(now.get("KubeJobFailed")?.runbookMissing, "it has no runbook");
            assert.equal(
                now.get("ControlPlaneComponentDown")?.silence?.url,
                `${LAB_GRAFANA_URL}/alerting/silence/new?alertmanager=Alertmanager&matcher=alertname%3DControlPlaneComponentDown` +
                    "&matcher=cluster%3Dcore&matcher=component%3Dkube-scheduler&matcher=severity%3Dcritical",
            );
            assert.deepEqual(
                core.score.reasons.find((r) => r.term === "critical-firing")?.links.map((l) => l.url),
                [
                    now.get("ControlPlaneComponentDown")?.runbook?.url,
                    now.get("ControlPlaneComponentDown")?.silence?.url,
                ],
            );
            assert.deepEqual(
                run.report.links.alerts?.url,
                `${LAB_GRAFANA_URL}/alerting/groups?alertmanager=Alertmanager`,
            );
            assert.deepEqual(
                run.report.links.silences?.url,
                `${LAB_GRAFANA_URL}/alerting/silences?alertmanager=Alertmanager`,
            );
            const uid = lab.settings.links.clusterDashboard;
            assert.equal(
                core.dashboard?.url,
                `${LAB_GRAFANA_URL}/d/${uid}?var-cluster=core&from=${ms(window.from)}&to=${ms(window.to)}`,
            );
            // Every link of both documents opens on its own: absolute http(s), nothing relative.
            const urls = definitions(run.markdown);
            assert.ok(urls.length > 20, String(urls.length));
            for (const url of urls)
                assert.match(url, /^https:\/\/(grafana\.obs\.example\.org|git\.example\.org|runbooks\.example\.org)\//);
            const hrefs = [...run.html.matchAll(/href="([^"]*)"/g)].map((m) => m[1] ?? "");
            assert.ok(hrefs.length >= urls.length, `${hrefs.length} links in HTML`);
            for (const href of hrefs) assert.match(href, /^https:\/\//);
            assert.doesNotMatch(run.markdown, /docs\/runbooks\/ControlPlaneComponentDown\.md\)/);
        });
    },
);

/** The chat summary's lines, as the reporter renders them from the report. */
function renderedSummary(r: Run): string[] {
    return summary(r.report).split("\n");
}
