/**
 * `npm run schema`: rewrites schema/stack.schema.json and docs/configuration.md from the zod
 * schema of the stack config. Both are committed: review and commit the diff. A test fails when
 * the committed files are stale.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { configReferenceMarkdown, REFERENCE_FILE, SCHEMA_FILE, stackFileJsonSchemaText } from "../config/json-schema";
import { helpOnly } from "../render/command-line";

const USAGE = `usage: npm run schema [-- --help]

Rewrites ${SCHEMA_FILE} and ${REFERENCE_FILE} from the zod schema of the stack config (config/).
Both files are committed: review and commit the diff.`;

function main(): number {
    const early = helpOnly("schema", USAGE);
    if (early !== undefined) return early;
    for (const [file, content] of [
        [SCHEMA_FILE, stackFileJsonSchemaText()],
        [REFERENCE_FILE, configReferenceMarkdown()],
    ] as const) {
        const target = path.resolve(__dirname, "..", file);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, content);
        process.stdout.write(`rewrote ${file}\n`);
    }
    process.stdout.write("both are committed files: review and commit the diff\n");
    return 0;
}

process.exitCode = main();
