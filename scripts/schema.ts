/**
 * `npm run schema`: writes schema/stack.schema.json and docs/configuration.md from the zod
 * schema of the stack config.
 * A test fails when the checked-in file is stale.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { configReferenceMarkdown, REFERENCE_FILE, SCHEMA_FILE, stackFileJsonSchemaText } from "../config/json-schema";

for (const [file, content] of [
    [SCHEMA_FILE, stackFileJsonSchemaText()],
    [REFERENCE_FILE, configReferenceMarkdown()],
] as const) {
    const target = path.resolve(__dirname, "..", file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
    process.stdout.write(`wrote ${file}\n`);
}
