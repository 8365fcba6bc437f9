import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { runReport, sourcesFor } from "../reporter/main";
import { screenshot } from "./lib/harness/chromium";
import { labCertificates, startReportLab } from "./lib/harness/report-lab";
import { KNOWN_WEEK } from "./lib/report-fleet";

/**
 * The docs' sample report: the integration test's known week (real Prometheus, Alertmanager,
 * Loki stand-in, all over mTLS), reported on, written as docs/report-sample.md and shown as a
 * headless Chromium screenshot of its HTML, docs/report-sample.png.
 */
async function main(): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "report-sample-"));
    const lab = await startReportLab(
        path.join(dir, "lab"),
        KNOWN_WEEK.fleet,
        labCertificates(KNOWN_WEEK.fleet.clusters.map((c) => c.name)),
        KNOWN_WEEK.logs,
        KNOWN_WEEK.firing,
    );
    try {
        const out = path.join(dir, "out");
        await runReport(lab.settings, sourcesFor(lab.settings), {
            at: new Date(KNOWN_WEEK.end * 1000),
            log: () => undefined,
            readCredential: () => "",
            outDir: out,
        });
        const docs = path.join(__dirname, "..", "docs");
        fs.copyFileSync(path.join(out, "2026-W47.md"), path.join(docs, "report-sample.md"));
        const info = await screenshot(path.join(out, "2026-W47.html"), path.join(docs, "report-sample.png"), {
            width: 800,
            height: 2000,
        });
        process.stdout.write(`docs/report-sample.md, docs/report-sample.png (${info.width}x${info.height})\n`);
    } finally {
        await lab.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
});
