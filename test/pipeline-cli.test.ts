import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { summaryMarker } from "../delivery/summary";
import { installFakePulumi, type FakePulumi, type FakeScenario } from "./harness/fake-pulumi";
import type { GitHostingStandIn } from "./harness/git-hosting";
import { projectDir, tempDir } from "./helpers";
import { engineError, refreshed, startHosts, step, writeFleet } from "./pipeline-fixtures";

/**
 * The pipeline as CI runs it (`npm run pipeline -- …`: a process, through the Automation API),
 * against a stand-in for the Pulumi CLI and for the Git hosts' APIs on 127.0.0.1.
 */

const TOKEN = "ghs_pipeline-token-0123456789";

interface Run {
    code: number | null;
    output: string;
    summary: string;
    calls: string[];
}

function pipelineRun(fake: FakePulumi, argv: string[], env: Record<string, string> = {}): Promise<Run> {
    const summaryFile = path.join(fake.root, `summary-${Date.now()}-${Math.random()}.md`);
    const before = fake.calls().length;
    return new Promise((resolve, reject) => {
        const child = spawn(
            process.execPath,
            [
                "--require",
                "ts-node/register/transpile-only",
                path.join(projectDir, "delivery", "cli.ts"),
                ...argv,
                "--summary",
                summaryFile,
            ],
            {
                cwd: projectDir,
                env: {
                    PATH: `${path.join(fake.root, "bin")}:${process.env.PATH ?? ""}`,
                    HOME: fake.root,
                    PULUMI_SKIP_UPDATE_CHECK: "true",
                    ...fake.env,
                    ...env,
                },
            },
        );
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.on("error", reject);
        child.on("close", (code) =>
            resolve({
                code,
                output,
                summary: fs.existsSync(summaryFile) ? fs.readFileSync(summaryFile, "utf8") : "",
                calls: fake
                    .calls()
                    .slice(before)
                    .map((c) =>
                        c.args.filter((a, i, all) => a !== "--event-log" && all[i - 1] !== "--event-log").join(" "),
                    ),
            }),
        );
    });
}

const SUMMARY_EVENT = {
    summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: {}, policyPacks: {} },
};

function scenario(stacks: FakeScenario["stacks"], version = "3.270.0"): FakeScenario {
    return { version, stacks };
}

describe("pipeline process: preview, up, drift and rotate through the Automation API", () => {
    let fleetDir: string;
    let github: GitHostingStandIn;
    let gitlab: GitHostingStandIn;

    before(async () => {
        fleetDir = writeFleet({ subs: ["sub-a", "sub-b", "sub-c"], canary: "sub-b" });
        ({ github, gitlab } = await startHosts(TOKEN));
    });
    after(async () => {
        await github.close();
        await gitlab.close();
    });

    const previews: FakeScenario["stacks"] = {
        main: {
            preview: {
                events: [
                    step("main", "same", "pulumi:pulumi:Stack", "observability-main"),
                    step("main", "update", "kubernetes:helm.sh/v4:Chart", "main-logs-loki", ["version", "values"]),
                    step("main", "same", "kubernetes:core/v1:Namespace", "main-namespaces-core"),
                    SUMMARY_EVENT,
                ],
            },
        },
        "sub-a": { preview: { events: [SUMMARY_EVENT] } },
        "sub-b": {
            preview: { events: [step("sub-b", "create", "kubernetes:core/v1:ConfigMap", "sub-b-dash"), SUMMARY_EVENT] },
        },
        "sub-c": { preview: { events: [SUMMARY_EVENT] } },
    };

    it("previews every stack in rollout order and posts one comment on the GitHub pull request, edited on the next run", async () => {
        const fake = installFakePulumi(tempDir("fake-pulumi"), scenario(previews));
        const pr = github.openChangeRequest("bump-loki", "Bump Loki");
        const eventFile = path.join(fake.root, "event.json");
        fs.writeFileSync(eventFile, JSON.stringify({ pull_request: { number: pr } }));
        const env = {
            GITHUB_ACTIONS: "true",
            GITHUB_REPOSITORY: "acme/fleet",
            GITHUB_EVENT_PATH: eventFile,
            GITHUB_API_URL: github.url,
            GITHUB_TOKEN: TOKEN,
        };
        const first = await pipelineRun(fake, ["preview", "--comment", "--dir", fleetDir], env);
        assert.equal(first.code, 0, first.output);
        assert.deepEqual(first.calls, [
            "version",
            "stack select --stack main --non-interactive",
            "preview --diff --exec-kind auto.local --stack main --non-interactive",
            "stack select --stack sub-b --non-interactive",
            "preview --diff --exec-kind auto.local --stack sub-b --non-interactive",
            "stack select --stack sub-a --non-interactive",
            "preview --diff --exec-kind auto.local --stack sub-a --non-interactive",
            "stack select --stack sub-c --non-interactive",
            "preview --diff --exec-kind auto.local --stack sub-c --non-interactive",
        ]);
        assert.match(
            first.summary,
            /\| ~ update \| `kubernetes:helm\.sh\/v4:Chart` \| main-logs-loki \| values, version \|/,
        );
        assert.match(first.summary, /\| `sub-b` \| sub-b \| canary \| 1 \| 0 \| 0 \| 0 \| changes \|/);
        assert.match(first.output, /comment created/);
        const second = await pipelineRun(fake, ["preview", "--comment", "--dir", fleetDir], env);
        assert.equal(second.code, 0, second.output);
        assert.match(second.output, /comment updated/);
        const comments = github.comments(pr);
        assert.equal(comments.length, 1);
        assert.equal(comments[0]!.body, second.summary);
        assert.ok(comments[0]!.body.startsWith(summaryMarker("preview")));
        assert.ok(!first.output.includes(TOKEN) && !second.output.includes(TOKEN), "the token is never printed");
    });

    it("comments on the GitLab merge request in a merge request pipeline", async () => {
        const fake = installFakePulumi(tempDir("fake-pulumi"), scenario(previews));
        const mr = gitlab.openChangeRequest("bump-loki", "Bump Loki");
        const env = {
            GITLAB_CI: "true",
            CI_API_V4_URL: `${gitlab.url}/api/v4`,
            CI_PROJECT_ID: "4242",
            CI_MERGE_REQUEST_IID: String(mr),
            GITLAB_TOKEN: TOKEN,
        };
        const run = await pipelineRun(fake, ["preview", "--comment", "--dir", fleetDir, "--stack", "main"], env);
        assert.equal(run.code, 0, run.output);
        const notes = gitlab.comments(mr);
        assert.equal(notes.length, 1);
        assert.equal(notes[0]!.body, run.summary);
        assert.match(run.summary, /## Pulumi preview: 1 stack\(s\)/);
    });

    it("up deploys main, then the canary, stops when the canary fails and says which stacks were left untouched", async () => {
        const fake = installFakePulumi(
            tempDir("fake-pulumi"),
            scenario({
                main: {
                    up: { events: [step("main", "update", "kubernetes:apps/v1:Deployment", "main-grafana", ["spec"])] },
                },
                "sub-b": {
                    up: {
                        events: [
                            engineError("kubernetes:apps/v1:Deployment (sub-b-traces): 0/2 replicas ready after 10m"),
                        ],
                        exitCode: 255,
                        stderr: "error: update failed\n",
                    },
                },
                "sub-a": {},
                "sub-c": {},
            }),
        );
        const run = await pipelineRun(fake, ["up", "--dir", fleetDir]);
        assert.equal(run.code, 1, run.output);
        assert.deepEqual(
            run.calls.filter((c) => c.startsWith("up")),
            [
                "up --yes --skip-preview --exec-kind auto.local --stack main --non-interactive",
                "up --yes --skip-preview --exec-kind auto.local --stack sub-b --non-interactive",
            ],
        );
        assert.match(
            run.output,
            /sub-b: failed: kubernetes:apps\/v1:Deployment \(sub-b-traces\): 0\/2 replicas ready after 10m/,
        );
        assert.match(run.output, /sub-a: untouched/);
        assert.match(run.summary, /\*\*Left untouched\*\* after the failure: `sub-a`, `sub-c`\./);
    });

    it("drift exits 2 and lists the drifted objects; 0 when every cluster matches its state", async () => {
        const drifting = installFakePulumi(
            tempDir("fake-pulumi"),
            scenario({
                main: {
                    refresh: {
                        events: [
                            refreshed(
                                "main",
                                "kubernetes:core/v1:ConfigMap",
                                "main-dash",
                                { data: { a: "1" } },
                                { data: { a: "1" } },
                            ),
                        ],
                    },
                },
                "sub-a": {},
                "sub-b": {},
                "sub-c": {
                    refresh: {
                        events: [
                            refreshed(
                                "sub-c",
                                "kubernetes:apps/v1:Deployment",
                                "sub-c-traces",
                                { spec: { replicas: 2 } },
                                { spec: { replicas: 5 } },
                            ),
                        ],
                    },
                },
            }),
        );
        const run = await pipelineRun(drifting, ["drift", "--dir", fleetDir]);
        assert.equal(run.code, 2, run.output);
        assert.equal(run.calls.filter((c) => c.startsWith("refresh --preview-only")).length, 4);
        assert.match(run.summary, /\*\*Drift\*\* in 1 of 4 stack\(s\)/);
        assert.match(run.summary, /\| ~ update \| `kubernetes:apps\/v1:Deployment` \| sub-c-traces \| spec \|/);

        const clean = installFakePulumi(
            tempDir("fake-pulumi"),
            scenario({ main: {}, "sub-a": {}, "sub-b": {}, "sub-c": {} }),
        );
        const quiet = await pipelineRun(clean, ["drift", "--dir", fleetDir]);
        assert.equal(quiet.code, 0, quiet.output);
        assert.match(quiet.summary, /No drift in 4 stack\(s\)\./);
    });

    it("rotate previews each stack and updates only where certificates are due", async () => {
        const due = [
            step("main", "replace", "tls:index/locallySignedCert:LocallySignedCert", "main-pki-sub-a-client", [
                "validityPeriodHours",
            ]),
            step("main", "update", "kubernetes:core/v1:Secret", "main-pki-sub-a-bundle", ["stringData"]),
        ];
        const fake = installFakePulumi(
            tempDir("fake-pulumi"),
            scenario({
                main: { preview: { events: due }, up: { events: due } },
                "sub-a": {},
                "sub-b": {},
                "sub-c": {},
            }),
        );
        const run = await pipelineRun(fake, ["rotate", "--dir", fleetDir]);
        assert.equal(run.code, 0, run.output);
        assert.deepEqual(
            run.calls
                .filter((c) => /^(preview|up) /.test(c))
                .map((c) => c.split(" --")[0] + " " + c.split("--stack ")[1]!.split(" ")[0]),
            ["preview main", "up main", "preview sub-b", "preview sub-a", "preview sub-c"],
        );
        assert.match(
            run.summary,
            /\| `main` \| main \| main \| 0 \| 1 \| 1 \| 0 \| 1 certificate resource\(s\) renewed \|/,
        );
    });

    it("says how to create a stack the backend does not have", async () => {
        const fake = installFakePulumi(tempDir("fake-pulumi"), scenario({ main: { exists: false } }));
        const run = await pipelineRun(fake, ["preview", "--dir", fleetDir, "--stack", "main"]);
        assert.equal(run.code, 1, run.output);
        assert.match(
            run.summary,
            /stack 'main' does not exist in the backend; create it once with `pulumi stack init main --secrets-provider <provider>`/,
        );
    });

    it("exits 64 on bad usage, a bad stack file, a CLI older than the SDK or no CLI, in one line, touching no stack", async () => {
        const fake = installFakePulumi(tempDir("fake-pulumi"), scenario({ main: {} }));
        const usage = await pipelineRun(fake, ["deploy", "--dir", fleetDir]);
        assert.equal(usage.code, 64);
        assert.equal(
            usage.output,
            'pipeline: command: expected one of preview, up, drift, rotate, found "deploy"; see npm run pipeline -- --help\n',
        );

        const broken = writeFleet({ subs: ["sub-a"], edits: { "sub-a": { profile: "huge" } } });
        const invalid = await pipelineRun(fake, ["up", "--dir", broken]);
        assert.equal(invalid.code, 64);
        assert.match(invalid.output, /Pulumi\.sub-a\.yaml: observability:profile: expected one of/);
        assert.deepEqual(invalid.calls, [], "no stack is touched");

        const old = installFakePulumi(tempDir("fake-pulumi"), scenario({ main: {} }, "3.100.0"));
        const outdated = await pipelineRun(old, ["preview", "--dir", fleetDir, "--stack", "main"]);
        assert.equal(outdated.code, 64);
        assert.match(
            outdated.output,
            /: found Pulumi CLI 3\.100\.0, expected 3\.270\.0 or later \(the @pulumi\/pulumi SDK the program pins\)\n$/,
        );
        assert.deepEqual(outdated.calls, ["version"], "the CLI is asked its version, nothing else");

        // No CLI on PATH at all: the fake's folder is left out.
        const missing = await pipelineRun(fake, ["preview", "--dir", fleetDir, "--stack", "main"], {
            PATH: path.dirname(process.execPath),
        });
        assert.equal(missing.code, 64);
        const lines = missing.output.trimEnd().split("\n");
        assert.match(
            lines[lines.length - 1]!,
            /^the pipeline needs the Pulumi CLI on PATH, at least as recent as the SDK in package\.json: .+$/,
        );
        assert.equal(missing.summary, "", "no summary: nothing ran");
    });

    it("prints its usage and exits 0 with --help", async () => {
        const fake = installFakePulumi(tempDir("fake-pulumi"), scenario({ main: {} }));
        const help = await pipelineRun(fake, ["--help"]);
        assert.equal(help.code, 0);
        assert.match(help.output, /^usage: npm run pipeline -- <command> \[options\]\n/);
        assert.deepEqual(help.calls, []);
    });

    it("refuses --comment outside a pull or merge request before touching any stack", async () => {
        const fake = installFakePulumi(tempDir("fake-pulumi"), scenario(previews));
        const run = await pipelineRun(fake, ["preview", "--comment", "--dir", fleetDir], {
            GITHUB_ACTIONS: "",
            GITLAB_CI: "",
        });
        assert.equal(run.code, 64);
        assert.match(
            run.output,
            /--comment: expected to run in GitHub Actions \(GITHUB_ACTIONS=true\) or GitLab CI \(GITLAB_CI=true\), found neither/,
        );
        assert.deepEqual(run.calls, []);
    });
});
