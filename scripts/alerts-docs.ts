/**
 * `npm run alerts:docs`: rewrites docs/alerts.md and one runbook per alert in docs/runbooks/ from
 * the rule definitions in alerts/. They are committed: review and commit the diff. A test fails
 * when the committed files are stale.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { alertDocs } from "../alerts/docs";
import { helpOnly } from "./lib/cli";

const USAGE = `usage: npm run alerts:docs [-- --help]

Rewrites docs/alerts.md and docs/runbooks/ from the rule definitions in alerts/. They are
committed: review and commit the diff.`;

function main(): number {
    const early = helpOnly("alerts:docs", USAGE);
    if (early !== undefined) return early;
    const root = path.resolve(__dirname, "..");
    const files = alertDocs();
    const runbooks = path.join(root, "docs", "runbooks");
    fs.mkdirSync(runbooks, { recursive: true });
    for (const file of fs.readdirSync(runbooks)) {
        if (!files.has(`docs/runbooks/${file}`)) fs.rmSync(path.join(runbooks, file));
    }
    for (const [file, content] of files) {
        fs.writeFileSync(path.join(root, file), content);
    }
    process.stdout.write(
        `rewrote docs/alerts.md and ${files.size - 1} runbooks (committed files: review and commit the diff)\n`,
    );
    return 0;
}

process.exitCode = main();
