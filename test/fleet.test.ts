import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { parse } from "yaml";

import { projectDir, tempDir } from "./helpers";

/** `npm run fleet` as a user runs it, on a copy of the example repository's stack files. */

function fleet(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(
        process.execPath,
        ["--require", "ts-node/register/transpile-only", path.join(projectDir, "delivery", "fleet-cli.ts"), ...args],
        { cwd: projectDir, encoding: "utf8" },
    );
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The project file and the example stacks, in a folder of their own. */
function exampleRepository(): string {
    const dir = tempDir("fleet");
    for (const file of ["Pulumi.yaml", "Pulumi.main.yaml", "Pulumi.sub.yaml"]) {
        fs.copyFileSync(path.join(projectDir, file), path.join(dir, file));
    }
    return dir;
}

const config = (file: string) => (parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;

describe("fleet add-sub", () => {
    const dir = exampleRepository();
    const mainBefore = fs.readFileSync(path.join(dir, "Pulumi.main.yaml"), "utf8");
    let added: ReturnType<typeof fleet>;

    it("writes the new stack file from the example, its cluster and reference to main set", () => {
        added = fleet(["add-sub", "sub-us-1", "--dir", dir]);
        assert.equal(added.status, 0, added.stderr);
        const values = config(path.join(dir, "Pulumi.sub-us-1.yaml"));
        assert.deepEqual(values["observability:cluster"], { name: "sub-us-1" });
        assert.equal(values["observability:role"], "sub");
        assert.equal(values["observability:mainStack"], "acme/observability/main");
        assert.deepEqual(values["observability:kubernetes"], { context: "admin@sub-us-1" });
    });

    it("marks every value that must change: context, control-plane nodes, the organization", () => {
        const text = fs.readFileSync(path.join(dir, "Pulumi.sub-us-1.yaml"), "utf8");
        const marked = text
            .split("\n")
            .map((line, i, all) => (line.trimStart().startsWith("# CHANGE:") ? all[i + 1]?.trim() : undefined))
            .filter((line) => line !== undefined);
        assert.deepEqual(marked, [
            "observability:kubernetes:",
            "observability:mainStack: acme/observability/main",
            "observability:talos:",
        ]);
    });

    it("lists the cluster in main's subClusters and changes nothing else of main's file", () => {
        const after = fs.readFileSync(path.join(dir, "Pulumi.main.yaml"), "utf8");
        assert.equal(
            after,
            mainBefore.replace("        - name: sub-eu-1\n", "        - name: sub-eu-1\n        - name: sub-us-1\n"),
        );
    });

    it("prints the remaining steps: main first, the sub stack, the Talos patches", () => {
        assert.match(added.stdout, /^wrote Pulumi\.sub-us-1\.yaml \(stack sub-us-1, cluster sub-us-1\)\n/);
        const steps = added.stdout.split("next:\n")[1] ?? "";
        const order = [
            "pulumi up --stack main",
            "pulumi stack init sub-us-1",
            "talosMachineConfigPatch",
            "fleet -- check",
        ];
        const at = order.map((text) => steps.indexOf(text));
        assert.ok(
            at.every((i) => i >= 0),
            steps,
        );
        assert.deepEqual(
            [...at].sort((a, b) => a - b),
            at,
            "in that order",
        );
        assert.match(steps, /Pulumi\.sub\.yaml, the example, is a stack too/);
    });

    it("gives files the render takes: the new sub against the new main", () => {
        const result = spawnSync(
            process.execPath,
            [
                "--require",
                "ts-node/register/transpile-only",
                path.join(projectDir, "render", "cli.ts"),
                ...["--stack", "sub-us-1", "--stack-file", path.join(dir, "Pulumi.sub-us-1.yaml")],
                ...["--main-stack-file", path.join(dir, "Pulumi.main.yaml"), "--out", path.join(dir, "out")],
                ...["--now", "2026-01-05T06:00:00Z"],
            ],
            { cwd: projectDir, encoding: "utf8" },
        );
        assert.equal(result.status, 0, result.stderr);
        const outputs = parse(fs.readFileSync(path.join(dir, "out", "outputs.yaml"), "utf8")) as {
            clusterName: string;
        };
        assert.equal(outputs.clusterName, "sub-us-1");
    });

    it("check exits 1 while values are still marked, naming the lines", () => {
        const check = fleet(["check", "--dir", dir]);
        assert.equal(check.status, 1, check.stderr);
        assert.match(
            check.stdout,
            /sub-us-1 → cluster sub-us-1, context admin@sub-us-1; still marked CHANGE: on line\(s\) \d+, \d+, \d+/,
        );
        assert.match(check.stdout, /rollout order: main → sub → sub-us-1\n$/);
    });

    it("refuses, with exit 64 and one line, a cluster that has a stack file, a bad name and a second copy", () => {
        const again = fleet(["add-sub", "sub-eu-1", "--dir", dir]);
        assert.equal(again.status, 64);
        assert.equal(
            again.stderr,
            "fleet: cluster 'sub-eu-1' is deployed by Pulumi.sub.yaml already; one cluster is one stack\n",
        );
        const bad = fleet(["add-sub", "Sub_1", "--dir", dir]);
        assert.equal(bad.status, 64);
        assert.match(bad.stderr, /^fleet: cluster name: expected a DNS-1123 label .*, found "Sub_1"\n$/);
        const exists = fleet(["add-sub", "sub-us-2", "--stack", "sub-us-1", "--dir", dir]);
        assert.equal(exists.status, 64);
        assert.equal(exists.stderr, "fleet: Pulumi.sub-us-1.yaml exists already\n");
    });
});

describe("fleet check", () => {
    it("passes on the example repository, naming each stack's cluster and context", () => {
        const check = fleet(["check"]);
        assert.equal(check.status, 0, check.stderr);
        assert.equal(
            check.stdout,
            "main   main → cluster main, context (the current context)\n" +
                "canary sub → cluster sub-eu-1, context (the current context)\n" +
                "rollout order: main → sub\n",
        );
    });

    it("refuses two stack files for one cluster with exit 64, naming both files", () => {
        const dir = exampleRepository();
        // The example copied for its cluster, and kept.
        fs.copyFileSync(path.join(dir, "Pulumi.sub.yaml"), path.join(dir, "Pulumi.sub-eu-1.yaml"));
        const check = fleet(["check", "--dir", dir]);
        assert.equal(check.status, 64);
        assert.match(check.stderr, /found 2 for 'sub-eu-1': Pulumi\.sub-eu-1\.yaml, Pulumi\.sub\.yaml/);
    });

    it("prints its usage with --help and exits 64 on an unknown command", () => {
        const help = fleet(["--help"]);
        assert.equal(help.status, 0);
        assert.match(help.stdout, /^usage: npm run fleet -- <command> \[options\]\n/);
        const unknown = fleet(["grow"]);
        assert.equal(unknown.status, 64);
        assert.equal(
            unknown.stderr,
            'fleet: command: expected add-sub or check, found "grow"; see npm run fleet -- --help\n',
        );
    });
});
