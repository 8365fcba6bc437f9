import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { fixture, projectDir, readDocuments, renderCli, tempDir } from "./helpers";

/** The offline render as a user runs it: `npm run render -- --stack <name>`. */

/** Every file under `dir`, by its path relative to `dir`. */
function readTree(dir: string): Record<string, string> {
    return Object.fromEntries(
        (fs.readdirSync(dir, { recursive: true }) as string[])
            .sort()
            .filter((name) => fs.statSync(path.join(dir, name)).isFile())
            .map((name) => [name, fs.readFileSync(path.join(dir, name), "utf8")]),
    );
}

/** Renders are reproducible only at a fixed instant: certificate rotation depends on the date. */
const NOW = "2026-01-05T06:00:00Z";

for (const stack of ["main", "sub"]) {
    describe(`render of the example '${stack}' stack`, () => {
        const out = path.join(tempDir(`render-${stack}`), stack);
        const again = path.join(tempDir(`render-${stack}-again`), stack);

        it("succeeds and reports what it wrote", () => {
            const result = renderCli(["--stack", stack, "--out", out, "--now", NOW]);
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stdout, new RegExp(`^rendered \\d+ resources of stack '${stack}' to `, "m"));
        });

        it("matches the golden snapshot", () => {
            const golden = path.join(projectDir, "test", "golden", stack);
            const update = `npm run render -- --stack ${stack} --now ${NOW} --out test/golden/${stack}`;
            assert.ok(fs.existsSync(golden), `no golden snapshot yet; create it with: ${update}`);
            assert.deepEqual(
                readTree(out),
                readTree(golden),
                `the rendered state of '${stack}' drifted from test/golden/${stack}; review the diff, then update ` +
                    `the snapshot with: ${update}`,
            );
        });

        it("gives byte-identical output on a second run", () => {
            const result = renderCli(["--stack", stack, "--out", again, "--now", NOW]);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(readTree(again), readTree(out));
        });

        it("writes one YAML document per resource with type, name and inputs", () => {
            const documents = readDocuments(path.join(out, "resources.yaml"));
            const count = /: (\d+) resources\./.exec(fs.readFileSync(path.join(out, "resources.yaml"), "utf8"));
            assert.equal(documents.length, Number(count?.[1]));
            for (const doc of documents) {
                assert.deepEqual(
                    Object.keys(doc).filter((k) => ["type", "name", "inputs"].includes(k)),
                    ["type", "name", "inputs"],
                );
            }
            assert.equal(documents[0]?.type, "pulumi:pulumi:Stack");
        });
    });
}

describe("render failures", () => {
    it("names the missing stack file and the stacks that exist, and writes nothing", () => {
        const out = path.join(tempDir("render-missing"), "rendered", "nope");
        const result = renderCli(["--stack", "nope", "--out", out]);
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "render: no stack file Pulumi.nope.yaml for stack 'nope'; stacks with a file here: main, sub\n",
        );
        assert.equal(fs.existsSync(path.dirname(out)), false);
    });

    it("lists every config problem without a stack trace, and writes nothing", () => {
        const out = path.join(tempDir("render-invalid"), "rendered", "invalid");
        const result = renderCli(["--stack", "invalid", "--stack-file", fixture("Pulumi.invalid.yaml"), "--out", out]);
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "render: invalid stack configuration (2 problems):\n" +
                "  observability:cluster.name: expected a DNS-1123 label (lowercase letters, digits and '-', at most " +
                '63 characters), found "Main"; example: main\n' +
                '  observability:exposure.kind: expected one of "nodeport", "traefik-passthrough", "loadbalancer", ' +
                'found "ingress"; example: nodeport\n',
        );
        assert.equal(fs.existsSync(path.dirname(out)), false);
    });

    it("keeps a previous render intact when a new one fails", () => {
        const out = path.join(tempDir("render-keep"), "main");
        assert.equal(renderCli(["--stack", "main", "--out", out]).status, 0);
        const before = readTree(out);
        const result = renderCli(["--stack", "invalid", "--stack-file", fixture("Pulumi.invalid.yaml"), "--out", out]);
        assert.equal(result.status, 1);
        assert.deepEqual(readTree(out), before);
    });

    it("requires --stack", () => {
        const result = renderCli([]);
        assert.equal(result.status, 1);
        assert.match(result.stderr, /^render: --stack is required\nusage: npm run render -- --stack <name>/);
    });

    it("refuses a stack file without a config section", () => {
        const dir = tempDir("render-empty");
        const file = path.join(dir, "Pulumi.empty.yaml");
        fs.writeFileSync(file, "secretsprovider: passphrase\n");
        const result = renderCli(["--stack", "empty", "--stack-file", file, "--out", path.join(dir, "out")]);
        assert.equal(result.status, 1);
        assert.match(result.stderr, /no 'config:' section; see Pulumi.main.yaml for a complete example/);
        assert.equal(fs.existsSync(path.join(dir, "out")), false);
    });
});
