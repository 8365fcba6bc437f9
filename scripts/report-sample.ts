import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { helpOnly } from "../render/command-line";
import { runReport, sourcesFor } from "../reporter/main";
import { dumpDom, screenshot, type PngInfo } from "../test/harness/chromium";
import { KNOWN_WEEK } from "../test/harness/report-fleet";
import { knownWeekAudit, labCertificates, startReportLab } from "../test/harness/report-lab";

/**
 * The docs' sample report: the integration test's known week (real Prometheus, Alertmanager,
 * Loki stand-in, all over mTLS), reported on, written as docs/report-sample.md and shown as a
 * headless Chromium screenshot of the whole page of its HTML, docs/report-sample.png.
 */

const WIDTH = 800;

const USAGE = `usage: npm run report:sample [-- --help]

Reports on the known week of the report's integration test (real Prometheus and Alertmanager on
127.0.0.1, over mTLS) and rewrites docs/report-sample.md and docs/report-sample.png (a headless
Chromium screenshot of the whole HTML page). Both files are committed: review and commit the diff.`;

/**
 * A screenshot of the whole page: the document's height measured first by Chromium itself (a
 * copy of the page with a measuring script; the report carries none), then a window that tall.
 */
export async function fullPageScreenshot(htmlFile: string, pngFile: string, width: number): Promise<PngInfo> {
    const measured = `${htmlFile}.measured.html`;
    const probe =
        "<script>document.documentElement.setAttribute('data-page-height', " +
        "String(Math.ceil(document.documentElement.scrollHeight)));</script>";
    fs.writeFileSync(measured, fs.readFileSync(htmlFile, "utf8").replace("</body>", `${probe}</body>`));
    const dom = await dumpDom(measured, { width, height: 1000 });
    fs.rmSync(measured);
    const height = Number(/data-page-height="(\d+)"/.exec(dom)?.[1]);
    if (!Number.isInteger(height) || height <= 0) throw new Error(`could not measure the height of ${htmlFile}`);
    return screenshot(htmlFile, pngFile, { width, height });
}

async function main(): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "report-sample-"));
    const lab = await startReportLab(
        path.join(dir, "lab"),
        KNOWN_WEEK.fleet,
        labCertificates(KNOWN_WEEK.fleet.clusters.map((c) => c.name)),
        KNOWN_WEEK.logs,
        KNOWN_WEEK.firing,
        { audit: knownWeekAudit() },
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
        const info = await fullPageScreenshot(
            path.join(out, "2026-W47.html"),
            path.join(docs, "report-sample.png"),
            WIDTH,
        );
        process.stdout.write(`rewrote docs/report-sample.md, docs/report-sample.png (${info.width}x${info.height})\n`);
        process.stdout.write("both are committed files: review and commit the diff\n");
    } finally {
        await lab.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    const code = helpOnly("report:sample", USAGE);
    if (code !== undefined) process.exit(code);
    main().catch((error: Error) => {
        process.stderr.write(`${error.stack ?? error.message}\n`);
        process.exit(1);
    });
}
