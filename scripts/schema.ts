/**
 * `npm run schema`: writes schema/stack.schema.json from the zod schema of the stack config.
 * A test fails when the checked-in file is stale.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { SCHEMA_FILE, stackFileJsonSchemaText } from "../config/json-schema";

const target = path.resolve(__dirname, "..", SCHEMA_FILE);
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, stackFileJsonSchemaText());
process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
