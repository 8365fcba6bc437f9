import * as fs from "node:fs";
import * as path from "node:path";

import { collect, type Sources } from "./collect";
import { deliverReport } from "./deliver";
import type { CredentialReader, DeliveryOutcome } from "./delivery-types";
import { jsonClient } from "./http";
import { SETTINGS_FILE } from "./keys";
import { renderReport } from "./render";
import { buildReport } from "./report";
import { parseSettings, type ReporterSettings } from "./settings";
import { AlertmanagerApi, LokiApi, PrometheusApi } from "./sources";
import type { RenderedReport, Report } from "./types";
import { periodEnding } from "./week";

/**
 * One run of the reporter: collect the week, score it, render it, deliver it to every channel.
 * A channel that fails does not stop the others; the run then exits non-zero, so the Job fails
 * and the `WeeklyReportNotDelivered` alert fires.
 */

export type Log = (line: Record<string, unknown>) => void;

export interface RunResult {
    report: Report;
    rendered: RenderedReport;
    outcomes: DeliveryOutcome[];
    /** 0: delivered everywhere; 1: some channel failed, or no metric could be read. */
    exitCode: number;
    /** Queries issued and milliseconds spent collecting. */
    queries: number;
    collectMs: number;
}

export interface RunOptions {
    /** End of the week reported on. */
    at: Date;
    log: Log;
    readCredential: CredentialReader;
    /** Where to write report.md, report.html and report.json, besides delivering them. */
    outDir?: string;
}

export function sourcesFor(settings: ReporterSettings): Sources {
    const client = jsonClient({
        ...(settings.tls ? { tls: settings.tls } : {}),
        timeoutMs: settings.queryTimeoutSeconds * 1000,
        concurrency: settings.concurrency,
    });
    return {
        prometheus: new PrometheusApi(client, settings.prometheusUrl),
        ...(settings.lokiUrl ? { loki: new LokiApi(client, settings.lokiUrl) } : {}),
        alertmanager: new AlertmanagerApi(client, settings.alertmanagerUrl),
    };
}

export async function runReport(settings: ReporterSettings, sources: Sources, options: RunOptions): Promise<RunResult> {
    const period = periodEnding(options.at);
    const started = Date.now();
    const collection = await collect(sources, settings, period);
    const collectMs = Date.now() - started;
    for (const warning of collection.warnings) options.log({ level: "warn", msg: warning });
    const report = buildReport(collection, period, settings, new Date());
    const rendered = renderReport(report, settings.delivery.git?.directory);
    options.log({
        level: "info",
        msg: "report collected",
        week: report.title,
        clusters: report.clusters.map((c) => ({ cluster: c.cluster, score: c.score.value })),
        queries: collection.queries,
        warnings: collection.warnings.length,
        collectMs,
    });
    if (options.outDir !== undefined) {
        fs.mkdirSync(options.outDir, { recursive: true });
        const base = path.join(options.outDir, path.basename(rendered.path, ".md"));
        fs.writeFileSync(`${base}.md`, rendered.markdown);
        fs.writeFileSync(`${base}.html`, rendered.html);
        fs.writeFileSync(`${base}.json`, rendered.json);
    }
    const outcomes = await deliverReport(rendered, settings.delivery, options.readCredential, {
        log: (line) => options.log({ ...line }),
    });
    if (outcomes.length === 0) {
        options.log({ level: "warn", msg: "no delivery channel is configured; the report is only in this log" });
        process.stdout.write(rendered.markdown);
    }
    const metricsRead = collection.warnings.length < collection.queries;
    const failed = outcomes.filter((o) => !o.ok);
    const exitCode = failed.length > 0 || !metricsRead ? 1 : 0;
    options.log({
        level: exitCode === 0 ? "info" : "error",
        msg: exitCode === 0 ? "report delivered" : "report not delivered everywhere",
        delivered: outcomes.filter((o) => o.ok).map((o) => o.channel),
        failed: failed.map((o) => o.channel),
        totalMs: Date.now() - started,
    });
    return { report, rendered, outcomes, exitCode, queries: collection.queries, collectMs };
}

/** Credentials as files of one directory, read when a channel needs them. */
export function credentialFiles(dir: string): CredentialReader {
    return (file) => {
        const full = path.join(dir, file);
        try {
            return fs.readFileSync(full, "utf8").trim();
        } catch {
            throw new Error(`credential ${file} is missing (expected the file ${full})`);
        }
    };
}

const jsonLog: Log = (line) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);

/** `reporter.js [--settings file] [--at RFC3339] [--out dir]`. */
export async function main(argv = process.argv.slice(2)): Promise<number> {
    const flag = (name: string) => {
        const i = argv.indexOf(name);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const file = flag("--settings") ?? process.env.REPORTER_SETTINGS ?? SETTINGS_FILE;
    const settings = parseSettings(fs.readFileSync(file, "utf8"), file);
    const atText = flag("--at");
    const at = atText === undefined ? new Date() : new Date(atText);
    if (Number.isNaN(at.getTime())) throw new Error(`--at: expected an RFC 3339 time, found ${atText}`);
    const outDir = flag("--out");
    const result = await runReport(settings, sourcesFor(settings), {
        at,
        log: jsonLog,
        readCredential: credentialFiles(settings.credentialsDir),
        ...(outDir !== undefined ? { outDir } : {}),
    });
    return result.exitCode;
}
