import * as fs from "node:fs";

import { reportReads } from "../reporter/collect";
import { sourcesFor } from "../reporter/main";
import { parseSettings } from "../reporter/settings";
import { periodEnding } from "../reporter/week";

/**
 * Issues every request of a weekly report (the list `collect` makes) directly, one after the
 * other, through one mTLS connection, and prints the sum of their times: the baseline the report benchmark compares the
 * reporter with. `report-queries.ts <settings.json> <end RFC 3339>`.
 */
async function main(): Promise<void> {
    const [file, at] = process.argv.slice(2);
    if (file === undefined || at === undefined) throw new Error("usage: report-queries.ts <settings.json> <end>");
    const settings = parseSettings(fs.readFileSync(file, "utf8"), file);
    const reads = reportReads(sourcesFor({ ...settings, concurrency: 1 }), settings, periodEnding(new Date(at)));
    const calls: (() => Promise<unknown>)[] = [
        ...reads.current,
        ...reads.previous,
        ...reads.daily,
        ...reads.errorLogs,
        ...reads.logHours,
        ...reads.remediation,
        reads.alerts,
    ].map((r) => r.run);
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
