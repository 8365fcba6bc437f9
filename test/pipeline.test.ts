import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import type { EngineEvent } from "@pulumi/pulumi/automation";

import { ChangeCollector, type ChangeSet } from "../delivery/changes";
import { parsePipelineArgs, UsageError } from "../delivery/cli";
import { CommentError, commentTargetFromEnv, upsertComment, type CommentTarget } from "../delivery/comment";
import { atLeast, StackOperationError, type StackDriver } from "../delivery/driver";
import { FleetError, readFleet, type FleetStack } from "../delivery/fleet";
import { EXIT, runCommand } from "../delivery/run";
import { formatSummary, MAX_ROWS_PER_STACK, MAX_SUMMARY_CHARS, summaryMarker } from "../delivery/summary";
import type { GitHostingStandIn } from "./harness/git-hosting";
import { projectDir, tempDir } from "./helpers";
import { engineError, refreshed, startHosts, step, writeFleet } from "./pipeline-fixtures";

const changesOf = (events: Omit<EngineEvent, "sequence" | "timestamp">[]): ChangeSet => {
    const collector = new ChangeCollector();
    events.forEach((event, i) => collector.onEvent({ sequence: i, timestamp: i, ...event }));
    return collector.result();
};

const NONE: ChangeSet = changesOf([]);

function fleetOf(...names: [string, FleetStack["phase"]][]): FleetStack[] {
    return names.map(([name, phase]) => ({ name, phase, role: phase === "main" ? "main" : "sub", cluster: name }));
}

type Call = { op: string; stack: string; start: number; end: number };

/** A driver whose stacks answer from a table; records every call with its start and end. */
function scriptedDriver(
    answers: Partial<Record<string, Partial<Record<"preview" | "up" | "refresh", ChangeSet | Error>>>>,
    delayMs = 0,
) {
    const calls: Call[] = [];
    let clock = 0;
    const answer = (op: "preview" | "up" | "refresh") => async (stack: string) => {
        const call = { op, stack, start: clock++, end: -1 };
        calls.push(call);
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        call.end = clock++;
        const result = answers[stack]?.[op] ?? NONE;
        if (result instanceof Error) throw result;
        return result;
    };
    const driver: StackDriver = { preview: answer("preview"), up: answer("up"), previewRefresh: answer("refresh") };
    return { driver, calls };
}

const deployment = (stack: string, name = "api") =>
    changesOf([step(stack, "update", "kubernetes:apps/v1:Deployment", name, ["spec"])]);

describe("pipeline: the fleet from the repository's stack files", () => {
    it("orders the example repository: main, then its canary", () => {
        assert.deepEqual(readFleet(projectDir), [
            { name: "main", role: "main", cluster: "main", phase: "main" },
            { name: "sub", role: "sub", cluster: "sub-eu-1", phase: "canary" },
        ]);
    });

    it("puts main first, the canary second and the other subs in name order", () => {
        const dir = writeFleet({ subs: ["sub-c", "sub-a", "sub-b"], canary: "sub-b" });
        assert.deepEqual(
            readFleet(dir).map((s) => `${s.name}:${s.phase}`),
            ["main:main", "sub-b:canary", "sub-a:sub", "sub-c:sub"],
        );
    });

    it("without a canary, the subs follow main in name order", () => {
        const dir = writeFleet({ subs: ["sub-b", "sub-a"] });
        assert.deepEqual(
            readFleet(dir).map((s) => `${s.name}:${s.phase}`),
            ["main:main", "sub-a:sub", "sub-b:sub"],
        );
    });

    it("keeps the rollout order when --stack picks stacks", () => {
        const dir = writeFleet({ subs: ["sub-a", "sub-b"], canary: "sub-b" });
        assert.deepEqual(
            readFleet(dir, ["sub-a", "main"]).map((s) => s.name),
            ["main", "sub-a"],
        );
        assert.throws(() => readFleet(dir, ["sub-z"]), {
            message: /--stack: expected one of main, sub-b, sub-a, found "sub-z"/,
        });
    });

    it("refuses a sub that main does not list, naming both files", () => {
        const dir = writeFleet({ subs: ["sub-a"], edits: { main: { subClusters: [] } } });
        assert.throws(
            () => readFleet(dir),
            (err: unknown) =>
                err instanceof FleetError &&
                err.problems.some((p) =>
                    p.startsWith(
                        "Pulumi.main.yaml: observability:subClusters: expected an entry for cluster 'sub-a' (stack sub-a)",
                    ),
                ),
        );
    });

    it("refuses a sub that references another main stack", () => {
        const dir = writeFleet({ subs: ["sub-a"], edits: { "sub-a": { mainStack: "acme/observability/prod" } } });
        assert.throws(() => readFleet(dir), {
            message:
                /Pulumi.sub-a.yaml: observability:mainStack: expected a reference to this repository's main stack 'main', found "acme\/observability\/prod"/,
        });
    });

    it("refuses a canary whose cluster has no stack in the repository", () => {
        const dir = writeFleet({
            subs: ["sub-a"],
            edits: { main: { subClusters: [{ name: "sub-a" }, { name: "sub-x" }], delivery: { canary: "sub-x" } } },
        });
        assert.throws(() => readFleet(dir), {
            message:
                /observability:delivery.canary: expected the cluster of a sub stack in this repository, found "sub-x" \(sub stacks: sub-a → sub-a\)/,
        });
    });

    it("refuses a repository with two main stacks or none", () => {
        const two = writeFleet({ subs: [] });
        fs.copyFileSync(`${two}/Pulumi.main.yaml`, `${two}/Pulumi.prod.yaml`);
        assert.throws(() => readFleet(two), {
            message: /exactly one stack with observability:role main, found 2 \(main, prod\)/,
        });
        const none = writeFleet({ subs: ["sub-a"] });
        fs.rmSync(`${none}/Pulumi.main.yaml`);
        assert.throws(() => readFleet(none), { message: /exactly one stack with observability:role main, found 0/ });
    });

    it("refuses two stack files for one cluster, naming both", () => {
        // The example kept beside the copy made of it: two states for one cluster.
        const dir = writeFleet({ subs: ["sub-eu-1"] });
        fs.copyFileSync(path.join(dir, "Pulumi.sub-eu-1.yaml"), path.join(dir, "Pulumi.sub.yaml"));
        assert.throws(
            () => readFleet(dir),
            (err: unknown) =>
                err instanceof FleetError &&
                err.problems.length === 1 &&
                err.problems[0]!.startsWith(
                    "observability:cluster.name: expected one stack file per cluster, found 2 for 'sub-eu-1': " +
                        "Pulumi.sub-eu-1.yaml, Pulumi.sub.yaml",
                ),
        );
        fs.rmSync(path.join(dir, "Pulumi.sub.yaml"));
        assert.deepEqual(
            readFleet(dir).map((s) => s.name),
            ["main", "sub-eu-1"],
        );
    });

    it("reports every invalid stack file before touching any stack, by file and key", () => {
        const dir = writeFleet({
            subs: ["sub-a"],
            edits: { "sub-a": { profile: "huge" }, main: { delivery: { canary: "Nope" } } },
        });
        assert.throws(
            () => readFleet(dir),
            (err: unknown) => {
                assert.ok(err instanceof FleetError);
                assert.ok(
                    err.problems.some((p) => p.startsWith("Pulumi.sub-a.yaml: observability:profile: expected one of")),
                    err.message,
                );
                assert.ok(
                    err.problems.some((p) =>
                        p.startsWith("Pulumi.main.yaml: observability:delivery.canary: expected a DNS-1123 label"),
                    ),
                    err.message,
                );
                return true;
            },
        );
    });
});

describe("pipeline: engine events to changes", () => {
    it("folds a replacement's steps into one replace and counts each resource once", () => {
        const changes = changesOf([
            step("main", "same", "pulumi:pulumi:Stack", "observability-main"),
            step("main", "create-replacement", "tls:index/privateKey:PrivateKey", "ca-key", ["algorithm"]),
            step("main", "replace", "tls:index/privateKey:PrivateKey", "ca-key", ["algorithm"]),
            step("main", "delete-replaced", "tls:index/privateKey:PrivateKey", "ca-key"),
            step("main", "create", "kubernetes:core/v1:ConfigMap", "new"),
            step("main", "update", "kubernetes:apps/v1:Deployment", "api", ["metadata", "spec"]),
            step("main", "delete", "kubernetes:core/v1:Service", "old"),
            step("main", "same", "kubernetes:core/v1:Namespace", "core"),
            step("main", "read", "pulumi:pulumi:StackReference", "main"),
        ]);
        assert.deepEqual(changes.counts, { create: 1, update: 1, replace: 1, delete: 1 });
        assert.equal(changes.same, 2);
        assert.deepEqual(
            changes.resources.map((r) => `${r.kind} ${r.type} ${r.name} [${r.properties.join(",")}]`),
            [
                "create kubernetes:core/v1:ConfigMap new []",
                "update kubernetes:apps/v1:Deployment api [metadata,spec]",
                "replace tls:index/privateKey:PrivateKey ca-key [algorithm]",
                "delete kubernetes:core/v1:Service old []",
            ],
        );
    });

    it("reads drift from refresh steps: changed outputs are an update, a vanished object a delete", () => {
        const changes = changesOf([
            step("sub", "refresh", "kubernetes:apps/v1:Deployment", "api"),
            refreshed(
                "sub",
                "kubernetes:apps/v1:Deployment",
                "api",
                { spec: { replicas: 2 }, kind: "Deployment" },
                { spec: { replicas: 0 }, kind: "Deployment" },
            ),
            refreshed(
                "sub",
                "kubernetes:core/v1:ConfigMap",
                "same",
                { data: { a: "1", b: "2" } },
                { data: { b: "2", a: "1" } },
            ),
            refreshed("sub", "kubernetes:core/v1:Service", "gone", { spec: {} }, undefined),
        ]);
        assert.deepEqual(
            changes.resources.map((r) => `${r.kind} ${r.name} [${r.properties.join(",")}]`),
            ["update api [spec]", "delete gone []"],
        );
        assert.equal(changes.same, 1);
    });

    it("keeps the engine's error diagnostics and flags a step it does not know", () => {
        const changes = changesOf([
            engineError("  kubernetes:apps/v1:Deployment api: timed out  \n"),
            step("main", "teleport", "x:y:Z", "n"),
        ]);
        assert.deepEqual(changes.errors, [
            "kubernetes:apps/v1:Deployment api: timed out",
            "unexpected engine step 'teleport' on urn:pulumi:main::observability::x:y:Z::n",
        ]);
    });
});

describe("pipeline: commands over the fleet", () => {
    const fleet = fleetOf(["main", "main"], ["canary", "canary"], ["sub-a", "sub"], ["sub-b", "sub"], ["sub-c", "sub"]);

    it("up deploys main, then the canary, then the other subs, one after the other", async () => {
        const { driver, calls } = scriptedDriver({});
        const result = await runCommand("up", fleet, driver);
        assert.deepEqual(
            calls.map((c) => `${c.op} ${c.stack}`),
            ["up main", "up canary", "up sub-a", "up sub-b", "up sub-c"],
        );
        for (let i = 1; i < calls.length; i++) assert.ok(calls[i]!.start > calls[i - 1]!.end, "one at a time");
        assert.equal(result.exitCode, EXIT.ok);
    });

    it("up stops at a failing canary and leaves every other sub untouched", async () => {
        const { driver, calls } = scriptedDriver({
            canary: { up: new StackOperationError("Deployment api: 0/2 ready") },
        });
        const result = await runCommand("up", fleet, driver);
        assert.deepEqual(
            calls.map((c) => c.stack),
            ["main", "canary"],
        );
        assert.deepEqual(
            result.outcomes.map((o) => `${o.stack.name}:${o.status}`),
            ["main:succeeded", "canary:failed", "sub-a:untouched", "sub-b:untouched", "sub-c:untouched"],
        );
        assert.equal(result.outcomes[1]!.error, "Deployment api: 0/2 ready");
        assert.equal(result.exitCode, EXIT.failed);
    });

    it("up stops before the canary when main fails", async () => {
        const { driver, calls } = scriptedDriver({ main: { up: new Error("backend unreachable") } });
        const result = await runCommand("up", fleet, driver);
        assert.deepEqual(
            calls.map((c) => c.stack),
            ["main"],
        );
        assert.equal(result.outcomes.filter((o) => o.status === "untouched").length, 4);
    });

    it("up with --parallel 2 runs two subs at once after the canary and starts none after a failure", async () => {
        const subs = fleetOf(
            ["main", "main"],
            ["s1", "sub"],
            ["s2", "sub"],
            ["s3", "sub"],
            ["s4", "sub"],
            ["s5", "sub"],
        );
        const { driver, calls } = scriptedDriver({ s2: { up: new StackOperationError("failed") } }, 20);
        const result = await runCommand("up", subs, driver, { parallel: 2 });
        const s1 = calls.find((c) => c.stack === "s1")!;
        const s2 = calls.find((c) => c.stack === "s2")!;
        assert.ok(s2.start < s1.end && s1.start < s2.end, "s1 and s2 overlap");
        assert.ok(calls[0]!.stack === "main" && calls[0]!.end < s1.start, "main finishes first");
        // s3 starts when s1 finishes (before s2's failure is known, both took the same time) or not at all.
        const started = calls.map((c) => c.stack);
        assert.ok(!started.includes("s5"), `nothing new after the failure: ${started.join(",")}`);
        assert.equal(result.outcomes.find((o) => o.stack.name === "s5")!.status, "untouched");
        assert.equal(result.exitCode, EXIT.failed);
    });

    it("preview looks at every stack even after one fails", async () => {
        const { driver, calls } = scriptedDriver({ canary: { preview: new StackOperationError("invalid config") } });
        const result = await runCommand("preview", fleet, driver);
        assert.deepEqual(
            calls.map((c) => `${c.op} ${c.stack}`),
            fleet.map((s) => `preview ${s.name}`),
        );
        assert.equal(result.exitCode, EXIT.failed);
    });

    it("drift exits 2 when a cluster drifted, 0 when none did, 1 when a refresh failed", async () => {
        const drifted = changesOf([
            refreshed("sub-b", "kubernetes:apps/v1:Deployment", "api", { spec: 1 }, { spec: 2 }),
        ]);
        const withDrift = await runCommand("drift", fleet, scriptedDriver({ "sub-b": { refresh: drifted } }).driver);
        assert.equal(withDrift.exitCode, EXIT.drift);
        const clean = await runCommand("drift", fleet, scriptedDriver({}).driver);
        assert.equal(clean.exitCode, EXIT.ok);
        const broken = await runCommand(
            "drift",
            fleet,
            scriptedDriver({ "sub-b": { refresh: drifted }, "sub-c": { refresh: new Error("no cluster") } }).driver,
        );
        assert.equal(broken.exitCode, EXIT.failed);
        assert.equal(broken.outcomes.length, 5);
    });

    it("rotate updates only the stacks whose preview has something due, in rollout order", async () => {
        const renewal = changesOf([
            step("main", "replace", "tls:index/locallySignedCert:LocallySignedCert", "sub-a-client"),
            step("main", "update", "kubernetes:core/v1:Secret", "identity", ["stringData"]),
        ]);
        const { driver, calls } = scriptedDriver({
            main: { preview: renewal, up: renewal },
            "sub-a": { preview: deployment("sub-a"), up: deployment("sub-a") },
        });
        const result = await runCommand("rotate", fleet, driver);
        assert.deepEqual(
            calls.map((c) => `${c.op} ${c.stack}`),
            [
                "preview main",
                "up main",
                "preview canary",
                "preview sub-a",
                "up sub-a",
                "preview sub-b",
                "preview sub-c",
            ],
        );
        assert.deepEqual(
            result.outcomes.map((o) => o.note),
            [
                "1 certificate resource(s) renewed",
                "nothing due",
                "no certificate was due; 1 pending change(s) applied",
                "nothing due",
                "nothing due",
            ],
        );
        assert.equal(result.exitCode, EXIT.ok);
    });

    it("rotate stops at the first failure like up", async () => {
        const { driver, calls } = scriptedDriver({
            main: { preview: deployment("main"), up: new Error("apply failed") },
        });
        const result = await runCommand("rotate", fleet, driver);
        assert.deepEqual(
            calls.map((c) => `${c.op} ${c.stack}`),
            ["preview main", "up main"],
        );
        assert.equal(result.exitCode, EXIT.failed);
        assert.equal(result.outcomes[4]!.status, "untouched");
    });
});

describe("pipeline: the Markdown summary", () => {
    const fleet = fleetOf(["main", "main"], ["canary", "canary"], ["sub-a", "sub"]);

    it("starts with the command's marker, tabulates every stack and lists each changed resource", async () => {
        const { driver } = scriptedDriver({
            main: { preview: changesOf([step("main", "create", "kubernetes:core/v1:ConfigMap", "dash|board<x>")]) },
        });
        const summary = formatSummary(await runCommand("preview", fleet, driver));
        const lines = summary.split("\n");
        assert.equal(lines[0], summaryMarker("preview"));
        assert.equal(lines[1], "## Pulumi preview: 3 stack(s)");
        assert.ok(lines.includes("| `main` | main | main | 1 | 0 | 0 | 0 | changes |"), summary);
        assert.ok(lines.includes("| `canary` | canary | canary | 0 | 0 | 0 | 0 | no changes |"), summary);
        assert.ok(lines.includes("| + create | `kubernetes:core/v1:ConfigMap` | dash\\|board&lt;x&gt; |  |"), summary);
        assert.ok(!summary.includes("### `canary`"), "an unchanged stack has no details");
    });

    it("names the failed stack, its reason and the stacks left untouched", async () => {
        const { driver } = scriptedDriver({
            canary: { up: new StackOperationError("error: Deployment api: 0/2 ready") },
        });
        const summary = formatSummary(await runCommand("up", fleet, driver));
        assert.match(summary, /\*\*Failed:\*\* `canary`\./);
        assert.match(summary, /\*\*Left untouched\*\* after the failure: `sub-a`\./);
        assert.match(summary, /### `canary`\n\n```text\nerror: Deployment api: 0\/2 ready\n```/);
        assert.match(summary, /\| `sub-a` \| sub-a \| sub \| – \| – \| – \| – \| not run \(stopped before it\) \|/);
    });

    it("says what drifted and what to do about it", async () => {
        const drifted = changesOf([
            refreshed("sub-a", "kubernetes:apps/v1:Deployment", "api", { spec: 1 }, { spec: 2 }),
        ]);
        const summary = formatSummary(
            await runCommand("drift", fleet, scriptedDriver({ "sub-a": { refresh: drifted } }).driver),
        );
        assert.match(summary, /\*\*Drift\*\* in 1 of 3 stack\(s\)/);
        assert.match(summary, /\| ~ update \| `kubernetes:apps\/v1:Deployment` \| api \| spec \|/);
        assert.match(summary, /\| `sub-a` \| sub-a \| sub \| 0 \| 1 \| 0 \| 0 \| \*\*drifted\*\* \|/);
    });

    it("lists at most the row limit per stack and stays under the comment size limit", async () => {
        const many = changesOf(
            Array.from({ length: MAX_ROWS_PER_STACK + 7 }, (_, i) =>
                step(
                    "main",
                    "create",
                    "kubernetes:core/v1:ConfigMap",
                    `cm-${String(i).padStart(4, "0")}-${"x".repeat(200)}`,
                ),
            ),
        );
        const big = fleetOf(
            ...Array.from({ length: 12 }, (_, i): [string, FleetStack["phase"]] => [`s${i}`, i === 0 ? "main" : "sub"]),
        );
        const answers = Object.fromEntries(big.map((s) => [s.name, { preview: many }]));
        const summary = formatSummary(await runCommand("preview", big, scriptedDriver(answers).driver));
        assert.ok(summary.length <= MAX_SUMMARY_CHARS, `${summary.length} characters`);
        assert.match(summary, /… and 7 more \(the job log has them all\)\./);
        assert.match(summary, /details of the remaining stacks are in the job log/);
        // The table still names every stack.
        for (const s of big) assert.ok(summary.includes(`| \`${s.name}\` |`), s.name);
    });
});

describe("pipeline: command line", () => {
    it("reads the command and options", () => {
        assert.deepEqual(
            parsePipelineArgs([
                "up",
                "--stack",
                "main",
                "--stack",
                "sub",
                "--parallel",
                "3",
                "--summary",
                "s.md",
                "--dir",
                "/x",
            ]),
            {
                command: "up",
                stacks: ["main", "sub"],
                summary: "s.md",
                comment: false,
                parallel: 3,
                dir: "/x",
            },
        );
    });

    for (const [argv, message] of [
        [["deploy"], 'command: expected one of preview, up, drift, rotate, found "deploy"'],
        [[], "command: expected one of preview, up, drift, rotate, found nothing"],
        [["up", "--comment"], '--comment: only the preview command comments, found it with "up"'],
        [["up", "--parallel", "0"], '--parallel: expected a whole number from 1 to 32, found "0"'],
        [["up", "extra"], "unexpected argument(s): extra"],
    ] as const) {
        it(`refuses ${JSON.stringify(argv)}`, () => {
            assert.throws(
                () => parsePipelineArgs(argv),
                (err: unknown) => err instanceof UsageError && err.message === message,
            );
        });
    }

    it("compares CLI versions numerically", () => {
        assert.ok(atLeast("3.270.0", "3.270.0"));
        assert.ok(atLeast("v3.300.1", "3.270.0"));
        assert.ok(!atLeast("3.99.0", "3.270.0"));
        assert.ok(!atLeast("unknown", "3.270.0"));
    });
});

describe("pipeline: the pull (merge) request comment", () => {
    const TOKEN = "glpat-comment-token-0123456789";
    let github: GitHostingStandIn;
    let gitlab: GitHostingStandIn;
    let pr: number;
    let mr: number;

    before(async () => {
        ({ github, gitlab } = await startHosts(TOKEN));
        pr = github.openChangeRequest("feature", "Bump Loki");
        mr = gitlab.openChangeRequest("feature", "Bump Loki");
    });
    after(async () => {
        await github.close();
        await gitlab.close();
    });

    const targets = (): [string, CommentTarget, GitHostingStandIn, number][] => [
        [
            "GitHub",
            { host: "github", apiUrl: github.url, token: TOKEN, owner: "acme", repo: "fleet", number: pr },
            github,
            pr,
        ],
        ["GitLab", { host: "gitlab", apiUrl: gitlab.url, token: TOKEN, project: "4242", mergeRequest: mr }, gitlab, mr],
    ];

    it("posts one comment, then edits it on every later run (both hosts)", async () => {
        const marker = summaryMarker("preview");
        for (const [host, target, standIn, number] of targets()) {
            standIn.addComment(number, "LGTM");
            standIn.addComment(number, `quoting: ${marker}`);
            const first = await upsertComment(target, marker, `${marker}\nfirst`);
            const second = await upsertComment(target, marker, `${marker}\nsecond`);
            assert.equal(first.action, "created", host);
            assert.deepEqual(second, { action: "updated", id: first.id }, host);
            const ours = standIn.comments(number).filter((c) => c.body.startsWith(marker));
            assert.equal(ours.length, 1, host);
            assert.equal(ours[0]!.body, `${marker}\nsecond`, host);
            assert.equal(ours[0]!.edits, 1, host);
            assert.ok(
                standIn.comments(number).some((c) => c.body === "LGTM"),
                `${host}: others' comments stay`,
            );
        }
    });

    it("finds its comment beyond the first page of comments (both hosts)", async () => {
        const marker = summaryMarker("drift");
        for (const [host, target, standIn, number] of targets()) {
            const old = standIn.addComment(number, `${marker}\nold`);
            for (let i = 0; i < 130; i++) standIn.addComment(number, `chatter ${i}`);
            standIn.resetRequests();
            const result = await upsertComment(target, marker, `${marker}\nnew`);
            assert.deepEqual(result, { action: "updated", id: old }, host);
            const pages = standIn.requests.filter((r) => r.method === "GET" && /\/(comments|notes)(\?|$)/.test(r.path));
            assert.ok(pages.length >= 2, `${host} read ${pages.length} page(s)`);
        }
    });

    it("never edits a GitLab system note that carries the marker", async () => {
        const marker = summaryMarker("rotate");
        const system = gitlab.addComment(mr, `${marker}\nsystem`, { system: true });
        const result = await upsertComment(targets()[1]![1], marker, `${marker}\nours`);
        assert.equal(result.action, "created");
        assert.notEqual(result.id, system);
    });

    it("fails with the host's status and no token when the host refuses", async () => {
        for (const [host, target] of targets()) {
            const wrong = { ...target, token: "wrong-token-abcdef123456" };
            await assert.rejects(
                upsertComment(wrong, summaryMarker("up"), `${summaryMarker("up")}\nx`),
                (err: unknown) => {
                    assert.ok(err instanceof CommentError, host);
                    assert.match(err.message, /\(HTTP 401\)/, host);
                    assert.ok(!err.message.includes("wrong-token-abcdef123456") && !err.message.includes(TOKEN), host);
                    return true;
                },
            );
        }
    });

    it("takes the target from the CI environment and names a missing variable", () => {
        const dir = tempDir("pipeline-event");
        fs.writeFileSync(`${dir}/event.json`, JSON.stringify({ pull_request: { number: 17 } }));
        assert.deepEqual(
            commentTargetFromEnv({
                GITHUB_ACTIONS: "true",
                GITHUB_REPOSITORY: "acme/fleet",
                GITHUB_EVENT_PATH: `${dir}/event.json`,
                GITHUB_TOKEN: "t",
            }),
            { host: "github", apiUrl: "https://api.github.com", token: "t", owner: "acme", repo: "fleet", number: 17 },
        );
        assert.deepEqual(
            commentTargetFromEnv({
                GITLAB_CI: "true",
                CI_API_V4_URL: "https://gitlab.example/api/v4",
                CI_PROJECT_ID: "42",
                CI_MERGE_REQUEST_IID: "9",
                GITLAB_TOKEN: "t",
            }),
            { host: "gitlab", apiUrl: "https://gitlab.example", token: "t", project: "42", mergeRequest: 9 },
        );
        assert.throws(
            () =>
                commentTargetFromEnv({
                    GITLAB_CI: "true",
                    CI_API_V4_URL: "https://g/api/v4",
                    CI_PROJECT_ID: "1",
                    GITLAB_TOKEN: "t",
                }),
            {
                message:
                    "CI_MERGE_REQUEST_IID: expected a merge request pipeline (the variable is set only there), found nothing (the variable is not set)",
            },
        );
        fs.writeFileSync(`${dir}/push.json`, JSON.stringify({ ref: "refs/heads/main" }));
        assert.throws(
            () =>
                commentTargetFromEnv({
                    GITHUB_ACTIONS: "true",
                    GITHUB_REPOSITORY: "a/b",
                    GITHUB_EVENT_PATH: `${dir}/push.json`,
                    GITHUB_TOKEN: "t",
                }),
            { message: /GITHUB_EVENT_PATH: expected a pull_request event/ },
        );
        assert.throws(() => commentTargetFromEnv({}), { message: /--comment: expected to run in GitHub Actions/ });
    });
});
