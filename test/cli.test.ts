import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { projectDir } from "./helpers";

/**
 * The commands' habits, as a user meets them through `npm run <command> -- …`: `--help` prints
 * the usage on stdout and exits 0; a bad option is one line on stderr and exit 64; a command that
 * rewrites committed files says so in its usage.
 */

/** Every command of package.json a user runs, and whether it rewrites committed files. */
const COMMANDS: Record<string, { rewritesCommitted: boolean }> = {
    render: { rewritesCommitted: false },
    charts: { rewritesCommitted: false },
    schema: { rewritesCommitted: true },
    "alerts:docs": { rewritesCommitted: true },
    remediation: { rewritesCommitted: false },
    bench: { rewritesCommitted: true },
    "bench:manifests": { rewritesCommitted: true },
    reliability: { rewritesCommitted: true },
    pipeline: { rewritesCommitted: false },
    fleet: { rewritesCommitted: false },
    "report:sample": { rewritesCommitted: true },
};

/** Scripts that are tools or test entries rather than commands of this project, and why. */
const NOT_COMMANDS: Record<string, string> = {
    typecheck: "tsc",
    lint: "eslint",
    format: "prettier",
    "format:check": "prettier",
    test: "the test gate",
    "test:unit": "node's test runner",
    "test:deploy": "node's test runner",
};

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

function npmRun(script: string, args: string[]): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn("npm", ["run", "-s", script, "--", ...args], { cwd: projectDir });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

describe("commands", () => {
    const scripts = Object.keys(
        (JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { scripts: object }).scripts,
    );

    it("are every script of package.json that is not a tool", () => {
        assert.deepEqual(scripts.filter((name) => !(name in NOT_COMMANDS)).sort(), Object.keys(COMMANDS).sort());
    });

    for (const [command, { rewritesCommitted }] of Object.entries(COMMANDS)) {
        it(`${command}: --help prints the usage and exits 0; an unknown option is one line and exit 64`, async () => {
            const [help, bad] = await Promise.all([npmRun(command, ["--help"]), npmRun(command, ["--no-such-option"])]);
            assert.equal(help.code, 0, help.stderr);
            assert.match(help.stdout, new RegExp(`^usage: npm run ${command}\\b`));
            assert.equal(help.stderr, "");
            if (rewritesCommitted) assert.match(help.stdout, /committed/, "says it rewrites committed files");
            assert.equal(bad.code, 64, bad.stdout + bad.stderr);
            const output = (bad.stdout + bad.stderr).trimEnd();
            assert.equal(output.split("\n").length, 1, output);
            assert.match(output, /--no-such-option/);
            assert.match(output, new RegExp(`see npm run ${command} -- --help$`));
        });
    }
});
