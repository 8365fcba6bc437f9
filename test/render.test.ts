import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { renderClock } from "../render/render";
import { fixture, projectDir, readDocuments, renderCli, tempDir, type CliResult } from "./helpers";

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

/** `npm run render -- <args>` as package.json runs it, with variables on top of this process's. */
function renderProcess(args: string[], env: Record<string, string>): CliResult {
    const result = spawnSync(
        process.execPath,
        ["--require", "ts-node/register/transpile-only", path.join(projectDir, "render", "cli.ts"), ...args],
        { cwd: projectDir, encoding: "utf8", env: { ...process.env, ...env } },
    );
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
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

describe("render without --now", () => {
    const first = path.join(tempDir("render-clock-1"), "main");
    const second = path.join(tempDir("render-clock-2"), "main");
    // As a user runs it twice on one commit: no --now, no SOURCE_DATE_EPOCH.
    const env = { SOURCE_DATE_EPOCH: "" };
    let stdout = "";

    it("decides certificates at the last commit's time, so two renders of one commit are byte-identical", () => {
        const one = renderProcess(["--stack", "main", "--out", first, "--timing"], env);
        assert.equal(one.status, 0, one.stderr);
        stdout = one.stdout;
        const commit = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: projectDir, encoding: "utf8" });
        const instant = new Date(Number(commit.stdout.trim()) * 1000).toISOString();
        assert.match(one.stdout, new RegExp(`; certificates decided at ${instant} \\(last commit\\)\n`));
        const two = renderProcess(["--stack", "main", "--out", second], env);
        assert.equal(two.status, 0, two.stderr);
        assert.deepEqual(readTree(second), readTree(first));
    });

    it("writes each dashboard once: as its JSON file, named in the ConfigMap", () => {
        const tree = readTree(first);
        const dashboards = Object.keys(tree).filter((name) => name.startsWith("dashboards/"));
        assert.ok(dashboards.length > 0);
        const resources = tree["resources.yaml"] ?? "";
        for (const name of dashboards) {
            const uid = (JSON.parse(tree[name] ?? "{}") as { uid?: string }).uid;
            assert.ok(uid, name);
            assert.equal(resources.split(`[file ${name}]`).length - 1, 1, `${name} is named once in resources.yaml`);
            // Its JSON, as a ConfigMap value would hold it, is nowhere in resources.yaml.
            assert.ok(!resources.includes(`"uid": "${uid}"`), `the dashboard ${uid} is not in resources.yaml as well`);
        }
    });

    it("loads the program as the CLI does: no type check (noCheck), transpiled by swc (ts-node.swc)", () => {
        const timing = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as {
            typeChecked?: boolean;
            transpiler?: string;
        };
        assert.equal(timing.typeChecked, false);
        assert.equal(timing.transpiler, "swc");
    });
});

describe("the render's clock", () => {
    const base = { projectDir, env: {} };

    it("takes --now first, then SOURCE_DATE_EPOCH, then the last commit's time", () => {
        const epoch = { SOURCE_DATE_EPOCH: "1767592800" };
        assert.deepEqual(renderClock({ ...base, now: "2026-01-05T06:00:00Z", env: epoch }), {
            ms: Date.parse("2026-01-05T06:00:00Z"),
            source: "--now",
        });
        assert.deepEqual(renderClock({ ...base, env: epoch }), { ms: 1767592800000, source: "SOURCE_DATE_EPOCH" });
        const commit = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: projectDir, encoding: "utf8" });
        assert.deepEqual(renderClock(base), { ms: Number(commit.stdout.trim()) * 1000, source: "last commit" });
    });

    it("falls back to the wall clock outside a Git checkout only", () => {
        const before = Date.now();
        const clock = renderClock({ projectDir: tempDir("render-no-git"), env: {} });
        assert.equal(clock.source, "wall clock");
        assert.ok(clock.ms >= before && clock.ms <= Date.now());
    });

    it("refuses an instant or an epoch it cannot read, as bad usage", () => {
        const bad = renderProcess(["--stack", "main", "--out", tempDir("render-bad-epoch")], {
            SOURCE_DATE_EPOCH: "yesterday",
        });
        assert.equal(bad.status, 64);
        assert.equal(
            bad.stderr,
            "render: SOURCE_DATE_EPOCH: expected whole seconds since 1970-01-01, found 'yesterday'\n",
        );
        assert.throws(() => renderClock({ ...base, now: "5 January" }), /--now: expected an RFC 3339 instant/);
    });
});

describe("render usage", () => {
    it("prints its usage and exits 0 with --help", () => {
        const result = renderCli(["--help"]);
        assert.equal(result.status, 0);
        assert.match(result.stdout, /^usage: npm run render -- --stack <name> \[options\]\n/);
        assert.match(result.stdout, /--now <instant>/);
        assert.equal(result.stderr, "");
    });

    it("exits 64 with one line on an unknown option", () => {
        const result = renderCli(["--stack", "main", "--colour"]);
        assert.equal(result.status, 64);
        assert.equal(result.stderr, "render: Unknown option '--colour'; see npm run render -- --help\n");
    });
});

describe("render failures", () => {
    it("names the missing stack file and the stacks that exist, exits 64 and writes nothing", () => {
        const out = path.join(tempDir("render-missing"), "rendered", "nope");
        const result = renderCli(["--stack", "nope", "--out", out]);
        assert.equal(result.status, 64);
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

    it("requires --stack, in one line", () => {
        const result = renderCli([]);
        assert.equal(result.status, 64);
        assert.equal(result.stderr, "render: --stack is required; see npm run render -- --help\n");
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
