import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { certificateSpecs } from "../components/pki/profiles";
import { validateConfig, type MainConfig } from "../config";
import { renderStack } from "../render/render";
import { readStackConfig } from "../render/stack-file";
import { projectDir } from "./helpers";

/** Statements of the docs that the code decides, checked against the code. */

const read = (file: string) => fs.readFileSync(path.join(projectDir, file), "utf8");
const docs = () => [
    "README.md",
    ...fs
        .readdirSync(path.join(projectDir, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
];

function exampleMain(): MainConfig {
    const file = readStackConfig(projectDir, "main");
    const result = validateConfig({ values: file.values, isSecret: (key) => file.secretKeys.includes(key) });
    if (!("config" in result) || result.config.role !== "main") throw new Error("the example main stack is invalid");
    return result.config;
}

describe("docs against the code", () => {
    it("every pitfall code cited in the docs is defined in docs/pitfalls.md", () => {
        const defined = new Set([...read("docs/pitfalls.md").matchAll(/^\| (P\d+) /gm)].map((m) => m[1]));
        assert.ok(defined.size > 0);
        for (const file of docs().filter((f) => f !== "docs/pitfalls.md")) {
            for (const match of read(file).matchAll(/\bP(\d{1,2})\b/g)) {
                assert.ok(
                    defined.has(`P${match[1]}`),
                    `${file} cites P${match[1]}, which docs/pitfalls.md does not define`,
                );
            }
        }
    });

    it("docs/security.md gives the log ingest's certificate the CN and names the program gives it", () => {
        const spec = certificateSpecs(exampleMain()).find((s) => s.id === "logs-ingest");
        assert.ok(spec);
        const row = read("docs/security.md")
            .split("\n")
            .find((line) => line.startsWith("| `logs-ingest`"));
        assert.ok(row, "a row for the logs-ingest profile");
        const cells = row.split("|").map((cell) => cell.trim());
        assert.equal(cells[3], `\`${spec.subject.commonName}\``);
        assert.match(cells[4] ?? "", new RegExp(`in-cluster names of \`${spec.subject.commonName}\``));
    });

    it("docs/benchmarks.md counts the resources the example main stack with one sub declares", async () => {
        const result = await renderStack({ projectDir, stack: "main", now: Date.parse("2026-01-05T06:00:00Z") });
        const row = /^\| warm \| 1 \| (\d+) \|/m.exec(read("docs/benchmarks.md"));
        assert.ok(row, "a warm render row for one sub cluster");
        assert.equal(Number(row[1]), result.records.length, "run npm run bench -- --only render");
    });

    it("the README's Node.js version is the one of .nvmrc and package.json", () => {
        const major = read(".nvmrc").trim();
        const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
        assert.equal(engines, `>=${major}`);
        assert.match(read("README.md"), new RegExp(`Node\\.js ${major} \\(\`\\.nvmrc\``));
        assert.doesNotMatch(read("README.md"), /Node\.js 20 or later/);
    });
});
