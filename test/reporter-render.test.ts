import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

import { actionCounts } from "../reporter/collect";
import {
    bytes,
    changeText,
    compare,
    dayLabels,
    duration,
    escapeHtml,
    escapeMarkdown,
    fixed,
    UNITS,
} from "../reporter/format";
import { renderReport } from "../reporter/render";
import type { RemediationAction, Report } from "../reporter/types";
import { chromiumArgs, dumpDom, locateChromium, pngInfo, screenshot } from "./harness/chromium";

/**
 * The weekly report's renderers on a hand-written three-cluster report: the figures each
 * section shows and how, unknown values as n/a, escaping of hostile labels in both formats,
 * well-formed standalone HTML, and the HTML as headless Chromium displays it.
 */

const SAMPLE = path.join(__dirname, "fixtures", "report-sample.json");
const sample = (): Report => JSON.parse(fs.readFileSync(SAMPLE, "utf8")) as Report;

function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reporter-render-"));
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A Markdown table row starting with these cells, in this order, whatever the padding. */
function row(...cells: string[]): RegExp {
    return new RegExp(`^\\|\\s*${cells.map(escapeRegExp).join("\\s*\\|\\s*")}\\s*\\|`, "m");
}

/** The Markdown between a heading and the next heading of the same level. */
function sectionOf(markdown: string, heading: string): string {
    const start = markdown.indexOf(`\n${heading}\n`);
    assert.notEqual(start, -1, `no heading ${heading}`);
    const level = heading.split(" ")[0] as string;
    const next = markdown.indexOf(`\n${level} `, start + heading.length + 1);
    return markdown.slice(start, next === -1 ? undefined : next);
}

const VOID = new Set(["meta", "br", "hr", "img", "col", "wbr"]);
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<>]*")*)\s*(\/?)>/g;

/**
 * Checks that `html` is one `<html>` element of properly nested tags: every element closed in
 * order (void elements excepted, `/>` only inside SVG), every attribute quoted, and no `<` or
 * `>` outside a tag, so no text can be read as markup. Returns the element names in order.
 */
function checkWellFormed(html: string): string[] {
    const body = html.replace(/^<!DOCTYPE html>\n/, "");
    assert.ok(body.startsWith("<html"), "the document starts with <html>");
    const stack: string[] = [];
    const opened: string[] = [];
    for (const match of body.matchAll(TAG)) {
        const [, closing, name = "", , selfClosing] = match;
        if (closing === "/") {
            const top = stack.pop();
            assert.equal(top, name, `</${name}> closes <${top}> at ${match.index}`);
        } else {
            opened.push(name);
            if (selfClosing === "/") assert.ok(stack.includes("svg"), `<${name}/> outside SVG at ${match.index}`);
            else if (!VOID.has(name)) stack.push(name);
        }
    }
    assert.deepEqual(stack, [], "every element is closed");
    const outside = body.replace(TAG, "");
    assert.doesNotMatch(outside, /[<>]/, "no < or > outside a tag");
    return opened;
}

/** The sample with markup, quotes, pipes and line breaks in every kind of label. */
function hostile(): Report {
    const report = sample();
    const alpha = report.clusters[0];
    assert.ok(alpha);
    const name = `al<script>alert("x")</script>pha`;
    alpha.cluster = name;
    report.fleet.worst = { cluster: name, score: 62 };
    report.title = `Weekly <b>health</b> report & "friends"`;
    alpha.score.reasons[0] = {
        term: "node-downtime",
        points: 20,
        section: "availability",
        urgency: "now",
        text: `<a href="javascript:alert(1)">click</a>\nand`,
        links: [
            { label: "javascript", url: "javascript:alert(1)" },
            { label: `run](x) "<b>" |`, url: "https://grafana.example.com/d/x?a=(b)|c d<e>" },
        ],
    };
    const firing = alpha.alerts.firingNow[0];
    assert.ok(firing);
    firing.alertname = "<svg onload=alert(1)>";
    firing.summary = "</td></tr></table><script>alert('pwned')</script> & more";
    firing.labels = { namespace: `ns"><img src=x onerror=alert(1)>`, pod: "p'o&d" };
    firing.runbook = { label: "runbook", url: `https://x.example.com/"><script>alert(1)</script>` };
    report.fleet.firing = [{ ...firing, cluster: name }, ...report.fleet.firing.slice(1)];
    const restart = alpha.workloads.topRestarts[0];
    assert.ok(restart);
    restart.pod = "pod|with|pipes*and*stars_";
    report.warnings.push("<!-- hidden --><style>body{display:none}</style>");
    return report;
}

const MARKUP_INJECTED = [/<script/i, /<img/i, /<b>/i, /<a (?!href="https:)/i, /<style/i, /<!--/, /<svg onload/i];

describe("report formatting", () => {
    it("formats durations, bytes and grouped numbers exactly", () => {
        const cases: [string, string][] = [
            [duration(0), "0 min"],
            [duration(45), "45 min"],
            [duration(60), "1 h"],
            [duration(185), "3 h 5 min"],
            [duration(2255), "37 h 35 min"],
            [bytes(512), "512 B"],
            [bytes(1536), "1.5 KiB"],
            [bytes(62491774157), "58.2 GiB"],
            [fixed(1234567.891, 1), "1,234,567.9"],
            [fixed(-0.001, 1), "0.0"],
        ];
        for (const [actual, expected] of cases) assert.equal(actual, expected);
    });

    it("states a change as value, arrow, difference and last week's value", () => {
        const cases: [Parameters<typeof compare>, string][] = [
            [[{ current: 3, previous: 1 }, UNITS.count, "lower"], "3 (▲ 2 vs 1)"],
            [[{ current: 1, previous: 3 }, UNITS.count, "lower"], "1 (▼ 2 vs 3)"],
            [[{ current: 4, previous: 4 }, UNITS.count, "lower"], "4 (unchanged)"],
            [[{ current: null, previous: 5 }, UNITS.count, "lower"], "n/a (vs 5)"],
            [[{ current: 3, previous: null }, UNITS.count, "lower"], "3 (vs n/a)"],
            [[{ current: null, previous: null }, UNITS.count, "lower"], "n/a"],
            [[{ current: 0.9969, previous: 1 }, UNITS.availability, "higher"], "99.69% (▼ 0.31 pp vs 100.00%)"],
            [[{ current: 78.7, previous: 83.7 }, UNITS.score, "higher"], "79 (▼ 5 vs 84)"],
            [[{ current: 0.99951, previous: 0.99949 }, UNITS.availability, "higher"], "99.95% (unchanged)"],
        ];
        for (const [args, expected] of cases) assert.equal(changeText(compare(...args)), expected);
        assert.equal(compare({ current: 3, previous: 1 }, UNITS.count, "lower").tone, "bad");
        assert.equal(compare({ current: 3, previous: 1 }, UNITS.score, "higher").tone, "good");
    });

    it("labels the days of the window in its time zone, across a daylight-saving change", () => {
        // Europe/Berlin leaves summer time on Sunday 2026-10-25.
        const window = { start: "2026-10-19T04:00:00Z", end: "2026-10-26T05:00:00Z" };
        assert.deepEqual(dayLabels(window, 7, "Europe/Berlin"), [
            "Mon 19",
            "Tue 20",
            "Wed 21",
            "Thu 22",
            "Fri 23",
            "Sat 24",
            "Sun 25",
        ]);
        assert.throws(() => dayLabels(window, 7, "Mars/Olympus"), /unknown time zone "Mars\/Olympus"/);
    });

    it("escapes markup in both formats", () => {
        assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
        assert.equal(escapeHtml("▲ 2 · Zürich 🚀"), "&#9650; 2 &#183; Z&#252;rich &#128640;");
        assert.equal(
            escapeMarkdown("a|b <c> *d* [e](f) _g_ snake_case\nnext"),
            String.raw`a\|b \<c\> \*d\* \[e\](f) \_g\_ snake_case next`,
        );
    });
});

describe("renderReport", () => {
    const report = sample();
    const rendered = renderReport(report);
    const md = rendered.markdown;

    it("gives the same bytes for the same report, whatever the order of its clusters", () => {
        const again = renderReport(sample());
        assert.deepEqual(again, rendered);
        const shuffled = sample();
        shuffled.clusters.reverse();
        const fromShuffled = renderReport(shuffled);
        assert.equal(fromShuffled.markdown, rendered.markdown);
        assert.equal(fromShuffled.html, rendered.html);
    });

    it("names the Markdown file after the ISO week, in the given directory", () => {
        assert.equal(rendered.path, "reports/2026-W47.md");
        assert.equal(renderReport(report, "weekly/").path, "weekly/2026-W47.md");
        assert.equal(renderReport({ ...report, week: { year: 2027, week: 5 } }).path, "reports/2027-W05.md");
    });

    it("puts the fleet's score and its lowest cluster in the subject, and at most six lines in the summary", () => {
        assert.equal(rendered.subject, "Weekly health report 2026-W47: 4 clusters, lowest score 62 (alpha)");
        // What fires now and what to act on come first; the most urgent reason is the one firing now.
        assert.equal(
            rendered.summary,
            [
                "Weekly health report 2026-W47: 4 clusters",
                "Firing now: 1 critical, 3 warning (KubeNodeNotReady on alpha, KubePodCrashLooping on alpha, KubePodCrashLooping on beta, 1 more)",
                "To act on: alpha, volume payments/data-ledger-0 is 91 % used, full in 4.5 days (2 more)",
                "Fleet score 79 (▼ 5 vs 84), lowest alpha 62",
                "Most urgent: alpha, 1 critical alert still firing: KubeNodeNotReady (5 points)",
                "Warnings: 2, some figures are n/a",
            ].join("\n"),
        );
        const hostileSummary = renderReport(hostile()).summary.split("\n");
        assert.ok(hostileSummary.length <= 6, "line breaks inside report text do not add lines");
    });

    it("shows the fleet first, then the clusters lowest score first; a healthy cluster gets one line, no section", () => {
        const headings = md.split("\n").filter((l) => l.startsWith("## "));
        assert.deepEqual(headings, [
            "## Fleet",
            "## alpha (sub): score 62",
            "## beta (sub): score 81",
            "## mgmt (main): score 93",
        ]);
        const gamma = md.split("\n").filter((l) => l.includes("gamma") && !l.startsWith("["));
        assert.equal(gamma.length, 1, JSON.stringify(gamma));
        assert.match(
            gamma[0] ?? "",
            /^- gamma \(sub\): score 100 \(unchanged\); every node Ready, .* \[dashboard\]\[\d+\]$/,
        );
        assert.ok(md.startsWith("# Weekly health report 2026-W47\n"));
        assert.match(md, /Mon 2026-11-16 06:00 to Mon 2026-11-23 06:00 \(Europe\/Berlin\)/);
    });

    it("opens the fleet with what fires now, critical first, then what to act on this week, then the week", () => {
        const fleet = sectionOf(md, "## Fleet");
        const order = ["### Firing now", "### To act on this week", "### The week", "### Warnings"].map((h) =>
            fleet.indexOf(`\n${h}\n`),
        );
        assert.ok(
            order.every((i, n) => i > 0 && (n === 0 || i > (order[n - 1] ?? 0))),
            JSON.stringify(order),
        );
        const now = sectionOf(fleet, "### Firing now");
        assert.match(now, /^Firing now: 1 critical, 3 warning\. \[alerts\]\[\d+\] \[silences\]\[\d+\]$/m);
        const alerts = now.split("\n").filter((l) => /^\| (alpha|beta) /.test(l));
        assert.deepEqual(
            alerts.map((l) =>
                l
                    .split("|")
                    .slice(1, 4)
                    .map((c) => c.trim()),
            ),
            [
                ["alpha", "KubeNodeNotReady", "critical"],
                ["alpha", "KubePodCrashLooping", "warning"],
                ["beta", "KubePodCrashLooping", "warning"],
                ["alpha", "NonCriticalWorkloadCPUOverBudget", "warning"],
            ],
        );
        // Each with its runbook, or why there is none, and its silence form.
        assert.match(alerts[0] ?? "", /\| no runbook link: it has no runbook \[silence\]\[\d+\] +\|$/);
        assert.match(alerts[3] ?? "", /\| \[runbook\]\[\d+\] \[silence\]\[\d+\] +\|$/);
        const act = sectionOf(fleet, "### To act on this week")
            .split("\n")
            .filter((l) => l.startsWith("- "));
        assert.deepEqual(
            act.map((l) => l.replace(/ \[[^\]]+\]\[\d+\]$/, "")),
            [
                "- alpha: volume payments/data-ledger-0 is 91 % used, full in 4.5 days",
                "- certificate cluster-beta (beta) expires in 9 days, on 2026-12-02: its renewal is due, run the rotation (pulumi up on main, then on the sub it belongs to)",
                "- certificate thanos-receive (thanos-receive.observability) expires in 26 days, on 2026-12-19: its renewal is due, run the rotation (pulumi up on main, then on the sub it belongs to)",
            ],
        );
        const week = sectionOf(fleet, "### The week");
        assert.match(week, row("Clusters", "4"));
        assert.match(week, row("Mean score", "**79 (▼ 5 vs 84)**"));
        assert.match(week, row("Lowest score", "62 (alpha)"));
        assert.match(week, row("Alert-minutes firing", "54 h 15 min (▲ 17 h 50 min vs 36 h 25 min)"));
        assert.match(week, row("Container restarts", "212 (▲ 99 vs 113)"));
        assert.match(
            week,
            row("alpha", "sub", "62 (▼ 12 vs 74)", "1 critical alert still firing: KubeNodeNotReady (5 points)"),
        );
        assert.match(week, row("beta", "sub", "81 (▲ 2 vs 79)", "48210 remote-write samples failed (8 points)"));
        // The same link once in a cell.
        assert.match(week, /^\| beta .*\| \[dashboard\]\[\d+\] +\|$/m);
        assert.doesNotMatch(week, /^\| gamma /m, "a healthy cluster is a line, not a row");
        assert.match(week, row("logs", "1 h 35 min", "violated"));
        assert.match(week, row("metrics", "0 min", "compliant"));
        assert.match(fleet, /^- beta: CPU usage of 2026-11-19 could not be read/m);
    });

    it("says in one line when every store kept its retention", () => {
        const compliant = sample();
        compliant.fleet.retention = compliant.fleet.retention.map((r) => ({ ...r, violationMinutes: 0 }));
        const fleet = sectionOf(renderReport(compliant).markdown, "## Fleet");
        assert.match(fleet, /^Retention: every store compliant \(metrics, logs, traces\)\.$/m);
        assert.doesNotMatch(fleet, /Retention compliance/);
    });

    it("links with reference definitions: every URL once, absolute, after the section that first uses it", () => {
        const defs = [...md.matchAll(/^\[(\d+)\]: (\S+)$/gm)].map((m) => [Number(m[1]), m[2] ?? ""] as const);
        assert.ok(defs.length > 30, String(defs.length));
        assert.deepEqual(
            defs.map(([n]) => n),
            defs.map((_, i) => i + 1),
            "numbered in order of first use",
        );
        assert.equal(new Set(defs.map(([, url]) => url)).size, defs.length, "each URL defined once");
        for (const [, url] of defs) assert.match(url, /^https:\/\/(grafana|git|runbooks\.prometheus-operator)\./);
        const used = new Set([...md.matchAll(/\]\[(\d+)\]/g)].map((m) => Number(m[1])));
        assert.deepEqual(
            [...used].sort((a, b) => a - b),
            defs.map(([n]) => n),
            "every definition used",
        );
        assert.equal(defs[0]?.[1], "https://grafana.example.com/");
    });

    it("shows each cluster's points with last week's by term, most urgent first, and a total that adds up", () => {
        const alpha = sectionOf(md, "## alpha (sub): score 62");
        assert.match(alpha, row("Score", "**62 (▼ 12 vs 74)**"));
        const points = sectionOf(alpha, "### Score");
        const rows = points
            .split("\n")
            .filter((l) => /^\|\s+(\*\*)?\d+/.test(l))
            .map((l) =>
                l
                    .split("|")
                    .slice(1, 5)
                    .map((c) => c.trim()),
            );
        assert.deepEqual(rows, [
            ["5", "0", "alerts", "**1 critical alert still firing: KubeNodeNotReady**"],
            ["3", "0", "capacity", "full within 7 days: payments/data-ledger-0 91.00 % used, full in 4.5 days"],
            ["20", "16", "availability", "node talos-alpha-w2 was not Ready for 185 minutes"],
            ["10", "0", "workloads", "pod payments/checkout-7d9fb6c5d-x2x7q was in CrashLoopBackOff for 9 hours"],
            ["0", "10", "workloads", "last week: 31 container restarts"],
            ["**38**", "**26**", "", "**total: 100 − 38 = 62; last week 100 − 26 = 74**"],
        ]);
        const beta = sectionOf(sectionOf(md, "## beta (sub): score 81"), "### Score");
        assert.match(
            beta,
            /^Last week's score leaves out volumes-full-soon: the volumes could not be read; volumes-filling: the volumes could not be read\.$/m,
        );
    });

    it("shows availability once per component, when each node was down, and the data gaps with their hours", () => {
        const alpha = sectionOf(sectionOf(md, "## alpha (sub): score 62"), "### Availability");
        assert.match(alpha, row("Nodes Ready", "99.69% (▼ 0.31 pp vs 100.00%)"));
        assert.match(alpha, row("API server", "99.95% (▼ 0.04 pp vs 99.99%)"));
        assert.doesNotMatch(alpha, /kube-apiserver/, "the API server is one row");
        assert.match(alpha, row("etcd", "99.98% (▼ 0.02 pp vs 100.00%)"));
        assert.match(alpha, row("kube-scheduler", "100.00% (unchanged)"));
        assert.match(
            alpha,
            /^\| talos-alpha-w2 \| +3 h 5 min \| Thu 2026-11-19 09:40 to 12:45 \| \[Explore\]\[\d+\] \|$/m,
        );
        assert.match(
            alpha,
            /^Data arrival: no hour without data \(metrics, logs\); traces n\/a \(no span metrics for this cluster: it sends no traces\)\.$/m,
        );
        const beta = sectionOf(sectionOf(md, "## beta (sub): score 81"), "### Availability");
        assert.match(beta, /^Nodes not Ready: none\.$/m);
        assert.match(beta, row("metrics", "3 h", "Fri 2026-11-20 02:00 to 05:00"));
        assert.match(beta, row("logs", "n/a (the cluster ships no logs)"));
    });

    it("shows alerts: by severity, noisiest, minutes firing, firing now in local time, per day", () => {
        const alerts = sectionOf(sectionOf(md, "## alpha (sub): score 62"), "### Alerts");
        assert.match(alerts, row("Alert-minutes firing", "37 h 35 min (▲ 23 h 35 min vs 14 h)"));
        assert.match(alerts, row("critical", "2 (▲ 2 vs 0)"));
        assert.match(alerts, row("info", "4 (unchanged)"));
        assert.match(
            alerts,
            row("KubePodCrashLooping", "warning", "9", "9 h", "Wed 2026-11-18 11:00 to Sat 2026-11-21 20:00"),
        );
        assert.match(alerts, /^\| NonCriticalWorkloadCPUOverBudget .*\| \[Explore\]\[\d+\] \[runbook\]\[\d+\] +\|$/m);
        // 02:10 UTC is 03:10 in Berlin in November; critical before warning.
        assert.match(alerts, row("KubeNodeNotReady", "critical", "Mon 2026-11-23 03:10", "node=talos-alpha-w2"));
        assert.ok(alerts.indexOf("Mon 2026-11-23 03:10") < alerts.indexOf("Sun 2026-11-22 20:42"));
        assert.match(alerts, /container=checkout, namespace=payments, pod=checkout-7d9fb6c5d-x2x7q/);
        assert.match(alerts, row("Day", "Mon 16", "Tue 17", "Wed 18", "Thu 19", "Fri 20", "Sat 21", "Sun 22"));
        assert.match(alerts, row("Alert-minutes firing per day", "35 min", "0 min", "6 h 50 min", "20 h 15 min"));
        const mgmt = sectionOf(sectionOf(md, "## mgmt (main): score 93"), "### Alerts");
        assert.match(mgmt, /^Firing now: nothing\.$/m);
    });

    it("shows workloads: restarts, OOM kills, crash loops, pending, top users, budgets and remediation", () => {
        const wl = sectionOf(sectionOf(md, "## alpha (sub): score 62"), "### Workloads");
        assert.match(wl, row("Container restarts", "147 (▲ 116 vs 31)"));
        assert.match(wl, row("OOM kills", "3 (▲ 3 vs 0)"));
        assert.match(wl, row("Remediation actions", "merge-request 1, refused 1, scaled 1"));
        // Each action names its workload, its usage and its budget.
        assert.match(
            wl,
            row(
                "Wed 2026-11-18 15:02",
                "batch/deployment/report-builder",
                "scaled to 0",
                "NonCriticalWorkloadCPUOverBudget",
                "3.4",
                "3",
            ),
        );
        assert.match(
            wl,
            row(
                "Fri 2026-11-20 10:30",
                "sandbox/deployment/demo-shop",
                "merge request opened",
                "NonCriticalWorkloadMemoryNearLimit",
                "0.97",
                "0.9",
            ),
        );
        assert.match(wl, /\| \[merge request\]\[\d+\] \[logs\]\[\d+\] \|$/m);
        const mgmt = sectionOf(sectionOf(md, "## mgmt (main): score 93"), "### Workloads");
        assert.match(
            mgmt,
            /^Remediation: dry-run 2; the workloads are not named: the remediator's audit lines could not be read from Loki \(see the warnings\)\.$/m,
        );
        assert.match(mgmt, /^None this week: Crash loops, pending, non-critical workloads near or over budget\.$/m);
        assert.match(wl, row("Merge requests opened", "1"));
        assert.match(wl, row("payments/checkout-7d9fb6c5d-x2x7q", "96"));
        assert.match(wl, row("payments/checkout-7d9fb6c5d-x2x7q", "9 h", "Thu 2026-11-19 07:00 to 16:00"));
        assert.match(wl, row("batch/report-builder-28915260-w8k2d", "45 min", "Fri 2026-11-20 10:10 to 10:55"));
        assert.match(wl, row("payments/checkout", "2.35 cores"));
        assert.match(wl, row("payments/ledger", "6.2 GiB"));
        assert.match(wl, row("batch/report-builder", "NonCriticalWorkloadCPUOverBudget", "1 h 15 min", "30 min"));
        assert.match(wl, row("sandbox/demo-shop", "NonCriticalWorkloadMemoryNearLimit", "20 min", "0 min"));
        assert.match(wl, row("Container restarts per day", "4", "6", "38", "52", "27", "12", "8"));
    });

    it("shows capacity: CPU and memory against allocatable, disks and claims with forecasts, etcd", () => {
        const cap = sectionOf(sectionOf(md, "## alpha (sub): score 62"), "### Capacity");
        assert.match(cap, row("CPU", "11.4 cores (▲ 1.60 cores vs 9.80 cores)", "24.0 cores (unchanged)", "48%"));
        assert.match(cap, row("Memory", "58.2 GiB (▲ 6.2 GiB vs 52.0 GiB)", "96.0 GiB (unchanged)", "61%"));
        assert.match(cap, row("etcd database", "142.0 MiB (▲ 17.0 MiB vs 125.0 MiB)"));
        assert.match(cap, row("talos-alpha-w2 /var", "87%", "11.5 days"));
        assert.match(cap, /^\| talos-alpha-w2 \/var .*\| \[Explore\]\[\d+\] \|$/m);
        assert.match(cap, row("payments/data-ledger-0", "91%", "4.5 days"));
        assert.match(cap, row("CPU used of allocatable per day", "41%", "43%", "47%", "52%"));
        const beta = sectionOf(sectionOf(md, "## beta (sub): score 81"), "### Capacity");
        assert.match(beta, row("shop/data-search-0", "83%", "not filling"));
        assert.match(beta, /^Disks: none over 80% or filling within 30 days\.$/m);
    });

    it("shows the stack's losses, error-log producers and services, or one line where not collected", () => {
        const beta = sectionOf(md, "## beta (sub): score 81");
        assert.match(beta, row("Samples failed to send to main", "48,210 (▲ 48,210 vs 0)"));
        assert.match(beta, row("cart", "840 ms", "3.40%", "22.5/s"));
        assert.doesNotMatch(beta, /### Error logs/);
        assert.match(beta, /^Error logs: not collected \(the cluster ships no logs\)\.$/m);
        const alpha = sectionOf(md, "## alpha (sub): score 62");
        assert.match(alpha, row("payments", "1.8 GiB"));
        assert.doesNotMatch(alpha, /### Services/);
        assert.match(alpha, /^Services: not collected \(no span metrics for this cluster\)\.$/m);
        const mgmt = sectionOf(md, "## mgmt (main): score 93");
        // Main writes to its own store: n/a, and why, beside the figure.
        assert.match(
            mgmt,
            row("Samples dropped", "n/a (main writes to its own store: it sends nothing over remote write)"),
        );
        assert.match(
            mgmt,
            row(
                "Samples failed to send to main",
                "n/a (main writes to its own store: it sends nothing over remote write)",
            ),
        );
        assert.match(mgmt, row("thanos-query", "2.80 s", "1.30%", "3.10/s"));
        for (const section of ["Score", "Availability", "Alerts", "Workloads", "Capacity", "Observability stack"]) {
            for (const cluster of ["alpha (sub): score 62", "beta (sub): score 81", "mgmt (main): score 93"]) {
                assert.match(sectionOf(md, `## ${cluster}`), new RegExp(`^### ${section}$`, "m"));
            }
        }
    });

    it("shows an unknown value as n/a, never as 0", () => {
        const beta = sectionOf(md, "## beta (sub): score 81");
        assert.match(beta, row("Log events dropped", "n/a (no data from this cluster this week)"));
        assert.match(beta, row("CPU used of allocatable per day", "33%", "34%", "32%", "n/a", "35%"));
        assert.match(beta, row("logs", "n/a (the cluster ships no logs)"));
        // No n/a without its reason, anywhere but in the legend and a day's figure.
        const bare = md.split("\n").filter(
            (l) =>
                /(^|[|\s])n\/a(?! \()/.test(l) &&
                !l.startsWith("Generated") &&
                !l.includes("per day") &&
                // The warnings list says why in its own words.
                !l.startsWith("- beta: CPU usage"),
        );
        assert.deepEqual(bare, []);
        const unknown = sample();
        unknown.fleet.score = { current: 79, previous: null };
        unknown.fleet.restarts = { current: null, previous: 113 };
        const fleet = sectionOf(renderReport(unknown).markdown, "## Fleet");
        assert.match(fleet, row("Mean score", "**79 (vs n/a: a cluster's score is unknown last week)**"));
        assert.match(fleet, row("Container restarts", "n/a (a cluster's figure is unknown)"));
        const html = rendered.html;
        assert.match(html, /<title>CPU used of allocatable per day: Mon 16 33%, Tue 17 34%, Wed 18 32%, Thu 19 n\/a,/);
    });

    it("returns the report as JSON that parses back to the same report", () => {
        assert.ok(rendered.json.endsWith("}\n"));
        assert.deepEqual(JSON.parse(rendered.json), report);
    });
});

describe("HTML report", () => {
    const rendered = renderReport(sample());
    const html = rendered.html;

    it("is a well-formed document whose SVG charts are each an image with a title", () => {
        const elements = checkWellFormed(html);
        const svgs = [...html.matchAll(/<svg([^>]*)>(<title>[^<]+<\/title>)?/g)];
        assert.equal(svgs.length, elements.filter((e) => e === "svg").length);
        // Fleet scores, three gauges, three daily charts per cluster, and a meter per share.
        assert.equal(svgs.length, 1 + 3 + 3 * 3 + 13);
        for (const [tag, attributes = "", title] of svgs) {
            assert.match(attributes, /role="img"/, tag);
            assert.ok(title !== undefined, `${tag} starts with a <title>`);
        }
        assert.equal((html.match(/<svg/g) ?? []).length, (html.match(/<\/svg>/g) ?? []).length);
    });

    it("stands alone: no script, stylesheet, remote resource or web font; at most 720 px wide", () => {
        assert.ok(html.startsWith('<!DOCTYPE html>\n<html lang="en">'));
        assert.match(html, /<meta charset="utf-8">/);
        assert.doesNotMatch(html, /[\u0080-\u{10ffff}]/u, "ASCII only: other characters are character references");
        // A falling score is bad news, in red.
        assert.match(
            html,
            /<span style="white-space:nowrap">62<\/span> <span style="white-space:nowrap;color:#b91c1c;font-size:12px">\(&#9660; 12 vs 74\)<\/span>/,
        );
        for (const pattern of [
            /<script/i,
            /<style/i,
            /<link/i,
            /<img/i,
            /\bsrc=/i,
            /url\(/i,
            /@import/i,
            /@font-face/i,
        ]) {
            assert.doesNotMatch(html, pattern);
        }
        // Links only to Grafana, the runbooks and merge requests, absolute https.
        const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1] ?? "");
        assert.ok(hrefs.length > 30, String(hrefs.length));
        for (const href of hrefs) assert.match(href, /^https:\/\/(grafana|git|runbooks\.prometheus-operator)\./);
        assert.match(
            html,
            /<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="720" style="width:100%;max-width:720px;/,
        );
        assert.match(html, /<td id="cluster-alpha" /);
    });

    it("escapes every label, so hostile text stays text", () => {
        const evil = renderReport(hostile());
        checkWellFormed(evil.html);
        for (const pattern of MARKUP_INJECTED) assert.doesNotMatch(evil.html, pattern);
        assert.match(evil.html, /al&#60;script&#62;alert\(&#34;x&#34;\)&#60;\/script&#62;pha/);
        assert.match(evil.html, /namespace=ns&#34;&#62;&#60;img src=x onerror=alert\(1\)&#62;, pod=p&#39;o&#38;d/);
        // A link that is not http(s) stays text; a URL's quotes cannot end its attribute.
        assert.doesNotMatch(evil.html, /href="javascript/i);
        assert.match(
            evil.html,
            /href="https:\/\/x\.example\.com\/&#34;&#62;&#60;script&#62;alert\(1\)&#60;\/script&#62;"/,
        );
        assert.equal((evil.html.match(/<svg/g) ?? []).length, (html.match(/<svg/g) ?? []).length);
    });

    it("escapes every label in Markdown, so a table keeps its columns", () => {
        const md = renderReport(hostile()).markdown;
        assert.doesNotMatch(md, /(?<!\\)[<>]/, "every < and > is escaped");
        assert.match(md, /^## al\\<script\\>alert\("x"\)\\<\/script\\>pha \(sub\): score 62$/m);
        const line = md.split("\n").find((l) => l.includes("pod\\|with"));
        assert.ok(line);
        assert.equal(line.split(/(?<!\\)\|/).length, 5, "three cells: pod, restarts and its link");
        assert.match(line, /payments\/pod\\\|with\\\|pipes\\\*and\\\*stars\\_ /);
        assert.match(md, /^- \\<!-- hidden --\\>\\<style\\>body\{display:none\}\\<\/style\\>$/m);
        // A link's label is escaped, its URL encoded, so neither can end the link or the cell.
        assert.match(md, /\[run\\\]\(x\) "\\<b\\>" \\\|\]\[\d+\]/);
        assert.match(md, /^\[\d+\]: https:\/\/grafana\.example\.com\/d\/x\?a=%28b%29%7Cc%20d%3Ce%3E$/m);
        assert.doesNotMatch(md, /\]\([^)]*javascript/);
        const firing = md.split("\n").filter((l) => l.includes("onerror"));
        assert.deepEqual(
            firing.map((l) => l.split(/(?<!\\)\|/).length),
            [9, 8],
            "the fleet's seven cells (cluster, alert, severity, since, where, summary, look), the cluster's six",
        );
    });
});

describe("HTML report in headless Chromium", () => {
    const dir = tempDir();
    const htmlFile = path.join(dir, "2026-W47.html");
    const html = renderReport(sample()).html;
    fs.writeFileSync(htmlFile, html);
    const view = { width: 800, height: 2400 };

    it("renders to a non-blank screenshot of the window's size", async () => {
        const pngFile = path.join(dir, "2026-W47.png");
        const info = await screenshot(htmlFile, pngFile, view);
        const png = fs.readFileSync(pngFile);
        assert.deepEqual(png.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        assert.deepEqual(pngInfo(png), info);
        assert.equal(info.width, view.width);
        assert.equal(info.height, view.height);
        // A blank page of this size compresses to a few KB; text, tables and bars do not.
        assert.ok(info.bytes > 60 * 1024, `screenshot of ${info.bytes} bytes`);
    });

    it("keeps the charts and every cluster's section once the browser has parsed it", async () => {
        const dom = await dumpDom(htmlFile, view);
        const svgs = dom.match(/<svg [^>]*role="img"[^>]*><title>[^<]+<\/title>/g) ?? [];
        assert.equal(svgs.length, (html.match(/<svg/g) ?? []).length);
        for (const id of ["fleet", "cluster-alpha", "cluster-beta", "cluster-mgmt"]) {
            assert.match(dom, new RegExp(`<td id="${id}"`));
        }
        assert.match(dom, /<rect [^>]*fill="#ea580c"/, "alert bars drawn");
        assert.ok(dom.indexOf('id="cluster-alpha"') < dom.indexOf('id="cluster-beta"'));
    });

    it("lays the report out 720 px wide, with nothing wider than the window", async () => {
        // A copy with a measuring script: the report itself carries none.
        const measured = path.join(dir, "measured.html");
        const probe =
            "<script>" +
            "const page = document.querySelector('table[width=\"720\"]');" +
            'document.documentElement.setAttribute("data-page-width", String(page.getBoundingClientRect().width));' +
            'document.documentElement.setAttribute("data-scroll-width", String(document.documentElement.scrollWidth));' +
            "</script>";
        fs.writeFileSync(measured, html.replace("</body>", `${probe}</body>`));
        const dom = await dumpDom(measured, view);
        assert.match(dom, /data-page-width="720"/);
        assert.match(dom, new RegExp(`data-scroll-width="${view.width}"`));
    });

    it("parses hostile labels as text, not as elements", async () => {
        const evilFile = path.join(dir, "hostile.html");
        fs.writeFileSync(evilFile, renderReport(hostile()).html);
        const dom = await dumpDom(evilFile, view);
        for (const pattern of MARKUP_INJECTED) assert.doesNotMatch(dom, pattern);
        assert.match(dom, /al&lt;script&gt;alert\("x"\)&lt;\/script&gt;pha/);
        assert.equal((dom.match(/<svg/g) ?? []).length, (html.match(/<svg/g) ?? []).length);
    });

    it("names the Debian package when Chromium is missing", () => {
        assert.throws(() => locateChromium("/nonexistent", []), /install the Debian package `chromium`/);
    });

    it("disables the sandbox only when running as root", () => {
        const url = "file:///report.html";
        assert.ok(!chromiumArgs("/p", view, ["--dump-dom"], url, false).includes("--no-sandbox"));
        const asRoot = chromiumArgs("/p", view, ["--dump-dom"], url, true);
        assert.ok(asRoot.includes("--no-sandbox"));
        assert.ok(asRoot.includes("--headless") && asRoot.includes("--window-size=800,2400"));
        assert.equal(asRoot.at(-1), url);
    });
});

describe("remediation action counts", () => {
    const action = (mode: string, outcome: string, at: string): RemediationAction => ({
        at,
        mode,
        outcome,
        namespace: "batch",
        kind: "Deployment",
        name: "report-builder",
        alertname: "NonCriticalWorkloadCPUOverBudget",
        value: "3.6",
        budget: 3,
        url: null,
    });

    it("takes the audit lines' count where the hourly roll-up missed a step between two windows", () => {
        const rollup = [{ labels: { cluster: "alpha", mode: "dry-run" }, value: 0.98 }];
        const details = [
            action("dry-run", "would-act", "2026-11-17T12:00:00Z"),
            action("dry-run", "would-act", "2026-11-21T18:30:00Z"),
            action("dry-run", "refused", "2026-11-21T19:30:00Z"),
        ];
        assert.deepEqual(actionCounts(rollup, details), { "dry-run": 2 });
    });

    it("keeps the roll-up's figure when the audit lines were not read or count fewer", () => {
        const rollup = [{ labels: { cluster: "alpha", mode: "scale" }, value: 3.02 }];
        assert.deepEqual(actionCounts(rollup, null), { scale: 3 });
        assert.deepEqual(actionCounts(rollup, [action("scale", "acted", "2026-11-17T12:00:00Z")]), { scale: 3 });
    });
});
