import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { stringify } from "yaml";

import { MAX_STACK_FILE_BYTES, readStackConfig, readStackWithMain, StackFileError } from "../render/stack-file";
import { projectDir, renderCli, tempDir } from "./helpers";

/**
 * Reading stack files as the render and the pipeline do: sizes are checked before parsing, a sub
 * stack's `observability:mainStack` is checked as a key before anything looks a file up with it,
 * and the main stack's problems name the main stack's file.
 */

const validMain = {
    "observability:role": "main",
    "observability:cluster": { name: "main" },
    "observability:exposure": { domain: "obs.example.com", kind: "nodeport" },
    "observability:storage": { kind: "filesystem" },
    "observability:subClusters": [{ name: "sub-eu-1" }],
};

const validSub = {
    "observability:role": "sub",
    "observability:cluster": { name: "sub-eu-1" },
    "observability:mainStack": "acme/observability/main",
};

/** A project directory of its own: Pulumi.yaml and the given stack files. */
function project(stacks: Record<string, Record<string, unknown> | string>): string {
    const dir = tempDir("stack-file");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: observability\nruntime: nodejs\n");
    for (const [name, config] of Object.entries(stacks)) {
        const text = typeof config === "string" ? config : stringify({ config });
        fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), text);
    }
    return dir;
}

function failure(run: () => unknown): StackFileError {
    try {
        run();
    } catch (err) {
        assert.ok(err instanceof StackFileError, String(err));
        return err;
    }
    assert.fail("expected a StackFileError");
}

describe("stack files: size", () => {
    it("refuses a file over the limit before parsing it, naming the file, its size and the limit", () => {
        // Twenty thousand keys: the YAML parser would take seconds on them.
        const lines = Array.from({ length: 20_000 }, (_, i) => `    observability:k${i}: value-${i}`);
        const dir = project({ big: `config:\n${lines.join("\n")}\n` });
        const file = path.join(dir, "Pulumi.big.yaml");
        const size = fs.statSync(file).size;
        assert.ok(size > MAX_STACK_FILE_BYTES);
        const started = Date.now();
        const err = failure(() => readStackConfig(dir, "big"));
        assert.ok(Date.now() - started < 500, "refused before parsing");
        assert.equal(
            err.message,
            `${file}: ${size} bytes, over the ${MAX_STACK_FILE_BYTES}-byte limit of a stack file; ` +
                "a stack file holds keys and encrypted values, a few kilobytes",
        );
    });

    it("refuses a directory given as a stack file instead of failing on it", () => {
        const dir = project({});
        fs.mkdirSync(path.join(dir, "Pulumi.odd.yaml"));
        assert.match(failure(() => readStackConfig(dir, "odd")).message, /Pulumi\.odd\.yaml: expected a file/);
    });

    it("reports a nesting too deep for the parser as invalid YAML, without the file's content", () => {
        const dir = project({
            deep: `config:\n    observability:s3SecretAccessKey: PLAIN-S3CRET\n    observability:x: ${"[".repeat(60_000)}\n`,
        });
        const err = failure(() => readStackConfig(dir, "deep"));
        assert.match(err.message, /Pulumi\.deep\.yaml: not valid YAML: /);
        assert.ok(!err.message.includes("PLAIN-S3CRET"));
        assert.ok(!err.message.includes("[["), err.message);
    });

    it("names where YAML is broken without quoting the broken line", () => {
        const dir = project({ broken: "config:\n    observability:s3SecretAccessKey: PLAIN-S3CRET: x\n" });
        const err = failure(() => readStackConfig(dir, "broken"));
        assert.match(err.message, /not valid YAML: .*line 2/);
        assert.ok(!err.message.includes("PLAIN-S3CRET"), err.message);
    });
});

describe("stack files: the main stack a sub names", () => {
    it("checks mainStack as a key before anything uses it, with every problem of the file", () => {
        const cases: [unknown, string][] = [
            ["", 'found ""'],
            [null, "found nothing (the key has no value)"],
            [{ secure: "v1:AAAAciphertext" }, "found a secret"],
            ["main", 'found "main"'],
        ];
        for (const [mainStack, found] of cases) {
            const dir = project({
                sub: { ...validSub, "observability:mainStack": mainStack, "observability:profile": "xl" },
            });
            const file = path.join(dir, "Pulumi.sub.yaml");
            const err = failure(() => readStackConfig(dir, "sub"));
            const lines = err.message.split("\n");
            assert.equal(lines[0], "invalid stack configuration (2 problems):", err.message);
            assert.ok(lines[1]?.startsWith(`  ${file}: observability:mainStack: expected `), err.message);
            assert.ok(lines[1]?.includes(found), err.message);
            assert.ok(lines[2]?.startsWith(`  ${file}: observability:profile: expected one of`), err.message);
            assert.ok(!err.message.includes("ciphertext"));
            assert.deepEqual(
                err.problems,
                lines.slice(1).map((l) => l.slice(2)),
            );
        }
    });

    it("names the key and the file when mainStack names a stack without a file", () => {
        const dir = project({
            main: validMain,
            sub: { ...validSub, "observability:mainStack": "acme/observability/nope" },
        });
        const err = failure(() => readStackWithMain(dir, "sub"));
        assert.equal(
            err.message,
            "invalid stack configuration (1 problem):\n" +
                `  ${path.join(dir, "Pulumi.sub.yaml")}: observability:mainStack: expected the stack reference of a ` +
                'stack with a file here (main, sub), found "acme/observability/nope"; example: acme/observability/main',
        );
    });

    it("names the main stack's file in its problems, and reports the sub's own problems with them", () => {
        const dir = project({
            main: { ...validMain, "observability:profile": "xl" },
            sub: { ...validSub, "observability:namespace": "Bad_NS" },
        });
        const err = failure(() => readStackWithMain(dir, "sub"));
        assert.deepEqual(
            err.problems.map((line) => line.split(": expected")[0]),
            [
                `${path.join(dir, "Pulumi.main.yaml")}: observability:profile`,
                `${path.join(dir, "Pulumi.sub.yaml")}: observability:namespace`,
            ],
        );
    });

    it("refuses a main stack file that is not a main stack, naming it", () => {
        const dir = project({
            other: validSub,
            sub: { ...validSub, "observability:mainStack": "acme/observability/other" },
        });
        const err = failure(() => readStackWithMain(dir, "sub"));
        assert.deepEqual(err.problems, [
            `${path.join(dir, "Pulumi.other.yaml")}: observability:role: expected "main" (the stack ` +
                `acme/observability/other that ${path.join(dir, "Pulumi.sub.yaml")} names in observability:mainStack), ` +
                'found "sub"',
        ]);
    });

    it("reads a sub stack and its main when both are valid, from an explicit main file too", () => {
        const dir = project({ main: validMain, sub: validSub });
        const read = readStackWithMain(dir, "sub");
        assert.equal(read.main?.reference, "acme/observability/main");
        assert.equal(read.main?.stack, "main");
        assert.equal(read.main?.file.file, path.join(dir, "Pulumi.main.yaml"));
        const elsewhere = path.join(tempDir("stack-file-main"), "Pulumi.prod.yaml");
        fs.writeFileSync(elsewhere, stringify({ config: validMain }));
        const explicit = readStackWithMain(dir, "sub", { mainStackFile: elsewhere });
        assert.equal(explicit.main?.file.file, elsewhere);
        assert.equal(readStackWithMain(dir, "main").main, undefined);
    });
});

describe("stack files: the render's view", () => {
    function subFile(mainStack: string): string {
        const dir = tempDir("stack-file-cli");
        const file = path.join(dir, "Pulumi.edge.yaml");
        fs.writeFileSync(
            file,
            `config:\n    observability:role: sub\n    observability:cluster:\n        name: edge\n` +
                `    observability:mainStack: ${mainStack}\n`,
        );
        return file;
    }

    for (const [label, value] of [
        ["empty", '""'],
        ["null", ""],
        ["secret", "\n        secure: v1:AAAAciphertext"],
    ] as const) {
        it(`names the key and the file for a ${label} mainStack, exits 1 and writes nothing`, () => {
            const file = subFile(value);
            const out = path.join(path.dirname(file), "out");
            const result = renderCli(["--stack", "edge", "--stack-file", file, "--out", out]);
            assert.equal(result.status, 1, result.stderr);
            assert.match(result.stderr, /^render: invalid stack configuration \(1 problem\):\n/);
            assert.ok(
                result.stderr.includes(`${path.basename(file)}: observability:mainStack: expected `),
                result.stderr,
            );
            assert.doesNotMatch(result.stderr, /no stack file|ciphertext|\n\s+at /);
            assert.equal(fs.existsSync(out), false);
        });
    }

    it("refuses an oversized stack file on the command line, exits 1 and writes nothing", () => {
        const dir = tempDir("stack-file-big");
        const file = path.join(dir, "Pulumi.big.yaml");
        fs.writeFileSync(file, `config:\n    observability:role: main\n${"#".repeat(MAX_STACK_FILE_BYTES)}\n`);
        const result = renderCli(["--stack", "big", "--stack-file", file, "--out", path.join(dir, "out")]);
        assert.equal(result.status, 1, result.stderr);
        assert.match(result.stderr, /Pulumi\.big\.yaml: \d+ bytes, over the 131072-byte limit of a stack file/);
        assert.equal(fs.existsSync(path.join(dir, "out")), false);
    });

    it("reads the example stacks of this repository", () => {
        assert.equal(readStackWithMain(projectDir, "sub").main?.stack, "main");
    });
});
