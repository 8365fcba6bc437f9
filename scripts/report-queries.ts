import * as fs from "node:fs";

import { jsonClient } from "../reporter/http";
import { DAILY_QUERIES, instantQueries, LOG_SELECTORS } from "../reporter/queries";
import { parseSettings } from "../reporter/settings";
import { AlertmanagerApi, LokiApi, PrometheusApi } from "../reporter/sources";
import { periodEnding } from "../reporter/week";

/**
 * Issues every query of a weekly report directly, one after the other, through one mTLS
 * connection, and prints the sum of their times: the baseline the report benchmark compares the
 * reporter with. `report-queries.ts <settings.json> <end RFC 3339>`.
 */
async function main(): Promise<void> {
    const [file, at] = process.argv.slice(2);
    if (file === undefined || at === undefined) throw new Error("usage: report-queries.ts <settings.json> <end>");
    const settings = parseSettings(fs.readFileSync(file, "utf8"), file);
    const client = jsonClient({ ...(settings.tls ? { tls: settings.tls } : {}), timeoutMs: 60_000, concurrency: 1 });
    const prometheus = new PrometheusApi(client, settings.prometheusUrl);
    const loki = new LokiApi(client, settings.lokiUrl ?? "");
    const alertmanager = new AlertmanagerApi(client, settings.alertmanagerUrl);
    const period = periodEnding(new Date(at));
    const weekStart = period.end - 7 * 86400;
    const calls: (() => Promise<unknown>)[] = [
        ...Object.values(instantQueries(settings.certificateMetric)).flatMap((q) => [
            () => prometheus.query(q.expr, period.end),
            ...(q.compare ? [() => prometheus.query(q.expr, period.previousEnd)] : []),
        ]),
        ...Object.values(DAILY_QUERIES).map(
            (expr) => () => prometheus.queryRange(expr, period.end - 6 * 86400, period.end, 86400),
        ),
        ...settings.clusters
            .filter((c) => c.logs && settings.lokiUrl !== undefined)
            .flatMap((c) => [
                () => loki.volume(c.name, LOG_SELECTORS.errors(c.name), weekStart, period.end, ["namespace"], 5),
                () => loki.volumeRange(c.name, LOG_SELECTORS.all(c.name), weekStart, period.end, 3600),
            ]),
        () => alertmanager.firing(),
    ];
    let total = 0;
    for (const call of calls) {
        const t0 = process.hrtime.bigint();
        await call();
        total += Number(process.hrtime.bigint() - t0) / 1e6;
    }
    process.stdout.write(`${JSON.stringify({ queries: calls.length, totalMs: total })}\n`);
    process.exit(0);
}

main().catch((error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
});
