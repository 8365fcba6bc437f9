/**
 * `npm run alerts:docs`: writes docs/alerts.md and one runbook per alert in docs/runbooks/ from
 * the rule definitions in alerts/. A test fails when the checked-in files are stale.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { alertDocs } from "../alerts/docs";

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
process.stdout.write(`wrote docs/alerts.md and ${files.size - 1} runbooks\n`);
