import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { parse } from "yaml";

/**
 * The CI files are thin wrappers around `npm run pipeline` (docs/delivery.md). These checks hold
 * them to the delivery model (which job runs which command, when, with which credentials) and to
 * the hygiene rules (least privilege, actions pinned by commit, state changes serialised). Each
 * check returns its problems, one line each, so the last suites can prove that a broken file is
 * caught: every check below has a case that makes it fail.
 */

const projectDir = path.resolve(__dirname, "..");
const WORKFLOW_DIR = path.join(projectDir, ".github", "workflows");
const GITLAB_FILE = path.join(projectDir, ".gitlab-ci.yml");
const PULUMI_VERSION_FILE = ".pulumi.version";

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === "object" && value !== null && !Array.isArray(value);
const obj = (value: unknown): Obj => (isObj(value) ? value : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const clone = <T>(value: T): T => structuredClone(value);

// ---------------------------------------------------------------------------------------------
// Shared facts

const PROTECTED_ENVIRONMENT = "production";
const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

/** The lowest Node.js major version package.json's `engines.node` allows (">=24" → 24). */
function engineMajor(packageJson: Obj): number {
    const range = obj(packageJson.engines).node;
    const match = typeof range === "string" ? /^(?:>=|\^|~)?\s*v?(\d+)/.exec(range.trim()) : null;
    if (!match) throw new Error(`package.json engines.node: expected a range like ">=24", found ${String(range)}`);
    return Number(match[1]);
}

/** A Node.js image pinned to one release: `node:<major>.<minor>.<patch>-<variant>`, optionally with a digest. */
function nodeImageProblems(where: string, image: unknown, major: number): string[] {
    const match = typeof image === "string" ? /^node:(\d+)\.\d+\.\d+-[a-z]+(@sha256:[0-9a-f]{64})?$/.exec(image) : null;
    if (!match)
        return [`${where}: expected an image pinned to a release (node:24.x.y-bookworm), found ${String(image)}`];
    if (Number(match[1]) !== major) {
        return [`${where}: expected Node.js ${major} (package.json engines), found ${String(image)}`];
    }
    return [];
}

/**
 * One Node.js line everywhere: `.nvmrc` (nvm, fnm and the Pulumi language host's fnm support
 * read it) names the major that package.json's engines start at, and that major is one the
 * @pulumi/pulumi SDK supports (its own engines).
 */
function nodeVersionProblems(nvmrcText: string, packageJson: Obj, sdkPackageJson: Obj): string[] {
    const problems: string[] = [];
    const major = engineMajor(packageJson);
    const nvmrc = nvmrcText.trim();
    if (nvmrc !== String(major)) {
        problems.push(`.nvmrc: expected ${major} (package.json engines), found "${nvmrc}"`);
    }
    const sdkFloor = engineMajor(sdkPackageJson);
    if (major < sdkFloor) {
        problems.push(
            `package.json engines: Node.js ${major} is below the @pulumi/pulumi SDK's own floor, ${sdkFloor}`,
        );
    }
    return problems;
}

function compareSemver(a: string, b: string): number {
    const pa = SEMVER.exec(a);
    const pb = SEMVER.exec(b);
    if (!pa || !pb) throw new Error(`expected X.Y.Z versions, found ${a} and ${b}`);
    for (let i = 1; i <= 3; i++) {
        const diff = Number(pa[i]) - Number(pb[i]);
        if (diff !== 0) return diff;
    }
    return 0;
}

/** `.pulumi.version` holds one X.Y.Z, not older than the @pulumi/pulumi SDK in package.json. */
function pulumiVersionProblems(versionFileText: string, packageJson: Obj): string[] {
    const version = versionFileText.trim();
    if (!SEMVER.test(version)) return [`${PULUMI_VERSION_FILE}: expected one version like 3.270.0, found "${version}"`];
    const sdkRange = obj(packageJson.dependencies)["@pulumi/pulumi"];
    const sdk = typeof sdkRange === "string" ? /(\d+\.\d+\.\d+)/.exec(sdkRange)?.[1] : undefined;
    if (sdk === undefined) return [`package.json: expected a version of @pulumi/pulumi, found ${String(sdkRange)}`];
    return compareSemver(version, sdk) < 0
        ? [`${PULUMI_VERSION_FILE}: the CLI (${version}) is older than the @pulumi/pulumi SDK (${sdk})`]
        : [];
}

const CRON_FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31 },
    {
        name: "month",
        min: 1,
        max: 12,
        names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    },
    { name: "day of week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/** A POSIX 5-field cron expression, as GitHub's `schedule` takes it: lists, ranges, steps, names. */
function cronProblems(expression: string): string[] {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 5) return [`cron "${expression}": expected 5 fields, found ${fields.length}`];
    const problems: string[] = [];
    fields.forEach((field, index) => {
        const spec = CRON_FIELDS[index]!;
        const value = (text: string): number | undefined => {
            const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
            if (named >= 0) return named + spec.min;
            return /^\d+$/.test(text) ? Number(text) : undefined;
        };
        for (const item of field.split(",")) {
            const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item);
            const bad = (why: string) => problems.push(`cron "${expression}": ${spec.name} "${item}": ${why}`);
            if (!match) {
                bad("expected *, a value, a range a-b, each optionally /step");
                continue;
            }
            if (match[2] !== undefined && Number(match[2]) < 1) bad("expected a step of at least 1");
            if (match[1] === "*") continue;
            const [from, to = from] = match[1]!.split("-").map(value);
            if (from === undefined || to === undefined) {
                bad(`expected numbers${spec.names ? " or names" : ""}`);
            } else if (from < spec.min || to > spec.max || from > to) {
                bad(`expected values from ${spec.min} to ${spec.max}, in order`);
            }
        }
    });
    return problems;
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

interface Workflow {
    file: string;
    text: string;
    doc: Obj;
}
type Workflows = Map<string, Workflow>;

function loadWorkflows(): Workflows {
    const workflows: Workflows = new Map();
    for (const file of fs.readdirSync(WORKFLOW_DIR).sort()) {
        if (!/\.ya?ml$/.test(file)) continue;
        const text = fs.readFileSync(path.join(WORKFLOW_DIR, file), "utf8");
        workflows.set(file, { file, text, doc: obj(parse(text)) });
    }
    return workflows;
}

/** The workflow that runs the tests: ci.yml or test.yml. */
const TEST_WORKFLOW_FILES = ["ci.yml", "test.yml"];

/** The jobs that run the pipeline: which file, which job, which command, which extra flags. */
const PIPELINE_JOBS = [
    { file: "preview.yml", job: "preview", command: "preview", flags: ["--comment"] },
    { file: "deploy.yml", job: "deploy", command: "up", flags: [] },
    { file: "rotate.yml", job: "rotate", command: "rotate", flags: [] },
    { file: "drift.yml", job: "drift", command: "drift", flags: [] },
] as const;
type PipelineJobName = (typeof PIPELINE_JOBS)[number]["job"];

const jobsOf = (wf: Workflow): [string, Obj][] => Object.entries(obj(wf.doc.jobs)).map(([n, j]) => [n, obj(j)]);
const stepsOf = (job: Obj): Obj[] => list(job.steps).map(obj);
const usesOf = (step: Obj): string => (typeof step.uses === "string" ? step.uses : "");
const scriptOf = (job: Obj): string =>
    stepsOf(job)
        .map((s) => (typeof s.run === "string" ? s.run : ""))
        .join("\n");

function job(workflows: Workflows, file: string, name: string): Obj {
    const found = obj(workflows.get(file)?.doc.jobs)[name];
    if (!isObj(found)) throw new Error(`${file}: expected a job named ${name}`);
    return found;
}

function testWorkflow(workflows: Workflows): Workflow {
    const found = TEST_WORKFLOW_FILES.map((f) => workflows.get(f)).find((w) => w !== undefined);
    if (!found) throw new Error(`expected a test workflow: ${TEST_WORKFLOW_FILES.join(" or ")}`);
    return found;
}

/** Every `npm run pipeline -- <command> ...` a script runs. */
function pipelineCalls(script: string): { command: string; args: string }[] {
    return [...script.matchAll(/npm run pipeline -- ([a-z-]+)([^\n]*)/g)].map((m) => ({
        command: m[1]!,
        args: m[2]!,
    }));
}

const PINNED_USES = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$/;

/** Top-level `permissions: {}`, and per job: explicit permissions, a timeout, pinned actions, a checkout without credentials. */
function hygieneProblems(wf: Workflow): string[] {
    const problems: string[] = [];
    const where = wf.file;
    const top = wf.doc.permissions;
    if (!isObj(top) || Object.keys(top).length > 0) {
        problems.push(`${where}: expected top-level permissions: {}, found ${JSON.stringify(top)}`);
    }
    const jobs = jobsOf(wf);
    if (jobs.length === 0) problems.push(`${where}: expected at least one job`);
    if (/\$\{\{\s*secrets\./.test(JSON.stringify(wf.doc.env ?? {}))) {
        problems.push(`${where}: expected no secret in the workflow's env (steps take the ones they need)`);
    }
    for (const [name, j] of jobs) {
        const at = `${where} job ${name}`;
        if (!isObj(j.permissions)) {
            problems.push(`${at}: expected explicit permissions (a map), found ${JSON.stringify(j.permissions)}`);
        }
        const timeout = j["timeout-minutes"];
        if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1 || timeout > 120) {
            problems.push(`${at}: expected timeout-minutes from 1 to 120, found ${JSON.stringify(timeout)}`);
        }
        if (/\$\{\{\s*secrets\./.test(JSON.stringify(j.env ?? {}))) {
            problems.push(`${at}: expected no secret in the job's env (steps take the ones they need)`);
        }
        const reusable = typeof j.uses === "string" ? [j.uses] : [];
        for (const uses of [
            ...reusable,
            ...stepsOf(j)
                .map(usesOf)
                .filter((u) => u !== ""),
        ]) {
            if (!PINNED_USES.test(uses)) problems.push(`${at}: expected uses pinned to a 40-hex commit, found ${uses}`);
        }
        for (const step of stepsOf(j)) {
            if (step.run !== undefined && typeof step.run !== "string") {
                problems.push(
                    `${at}: expected run to be a string (quote a line holding ": "), found ${JSON.stringify(step.run)}`,
                );
            }
            if (usesOf(step).startsWith("actions/checkout@") && obj(step.with)["persist-credentials"] !== false) {
                problems.push(`${at}: expected actions/checkout with persist-credentials: false`);
            }
        }
    }
    return problems;
}

/** Every `uses:` line: `owner/repo@<40 hex> # vX.Y.Z`. The parsed YAML has no comments, hence the text. */
function pinCommentProblems(file: string, text: string): string[] {
    const problems: string[] = [];
    text.split("\n").forEach((line, index) => {
        if (!/^\s*(-\s+)?uses:/.test(line)) return;
        if (!/uses:\s*[^\s@#]+@[0-9a-f]{40}\s+#\s*v\d+\.\d+\.\d+\s*$/.test(line)) {
            problems.push(
                `${file}:${index + 1}: expected uses: <action>@<40-hex commit> # vX.Y.Z, found "${line.trim()}"`,
            );
        }
    });
    const parsedUses = text.match(/uses:/g)?.length ?? 0;
    const lines = text.split("\n").filter((l) => /^\s*(-\s+)?uses:/.test(l)).length;
    if (parsedUses !== lines) problems.push(`${file}: expected every uses: on a line of its own`);
    return problems;
}

/** One action, one commit, one version comment, across every workflow. */
function pinConsistencyProblems(workflows: Workflows): string[] {
    const seen = new Map<string, string>();
    const problems: string[] = [];
    for (const wf of workflows.values()) {
        for (const m of wf.text.matchAll(/uses:\s*([^\s@#]+)@(\S+)(?:\s+#\s*(\S+))?/g)) {
            const pin = `${m[2]} # ${m[3] ?? "?"}`;
            const before = seen.get(m[1]!);
            if (before === undefined) seen.set(m[1]!, pin);
            else if (before !== pin) problems.push(`${wf.file}: ${m[1]} pinned as ${pin}, elsewhere as ${before}`);
        }
    }
    return problems;
}

/** contents: read everywhere; the only write grant is pull-requests on the preview job; no OIDC token. */
function grantProblems(workflows: Workflows): string[] {
    const problems: string[] = [];
    for (const wf of workflows.values()) {
        for (const [name, j] of jobsOf(wf)) {
            const grants = obj(j.permissions);
            const isPreview = wf.file === "preview.yml" && name === "preview";
            const at = `${wf.file} job ${name}`;
            if (grants.contents !== "read")
                problems.push(`${at}: expected contents: read, found ${String(grants.contents)}`);
            for (const [scope, level] of Object.entries(grants)) {
                if (level === "write" && !(isPreview && scope === "pull-requests")) {
                    problems.push(`${at}: expected no ${scope}: write (only the preview job writes, to pull requests)`);
                }
            }
            if (isPreview && grants["pull-requests"] !== "write") {
                problems.push(`${at}: expected pull-requests: write, to post its comment`);
            }
        }
    }
    return problems;
}

/** Each pipeline job runs its command, once, with its flags; no other job runs the pipeline. */
function pipelineCallProblems(workflows: Workflows): string[] {
    const problems: string[] = [];
    for (const wf of workflows.values()) {
        for (const [name, j] of jobsOf(wf)) {
            const expected = PIPELINE_JOBS.find((p) => p.file === wf.file && p.job === name);
            const calls = pipelineCalls(scriptOf(j));
            const at = `${wf.file} job ${name}`;
            if (expected === undefined) {
                if (calls.length > 0) problems.push(`${at}: expected no pipeline call, found ${calls[0]!.command}`);
                continue;
            }
            const call = calls[0];
            if (calls.length !== 1 || call === undefined || call.command !== expected.command) {
                problems.push(
                    `${at}: expected one npm run pipeline -- ${expected.command}, found ${calls.map((c) => c.command).join(", ") || "none"}`,
                );
                continue;
            }
            for (const flag of expected.flags) {
                if (!call.args.split(/\s+/).includes(flag))
                    problems.push(`${at}: expected ${flag} on the pipeline call`);
            }
            if (!call.args.includes('--summary "$GITHUB_STEP_SUMMARY"')) {
                problems.push(`${at}: expected the summary written to $GITHUB_STEP_SUMMARY`);
            }
        }
    }
    for (const p of PIPELINE_JOBS) {
        if (!isObj(obj(workflows.get(p.file)?.doc.jobs)[p.job])) problems.push(`${p.file}: expected a job ${p.job}`);
    }
    return problems;
}

const concurrencyOf = (j: Obj): { group: string; cancel: unknown } => {
    const c = j.concurrency;
    if (typeof c === "string") return { group: c, cancel: undefined };
    return {
        group: typeof obj(c).group === "string" ? (obj(c).group as string) : "",
        cancel: obj(c)["cancel-in-progress"],
    };
};

/** Deploy and rotate: one fixed group, never cancelled; preview: one group per PR, cancelled; drift: its own. */
function concurrencyProblems(workflows: Workflows): string[] {
    const problems: string[] = [];
    const c = (name: PipelineJobName) => {
        const p = PIPELINE_JOBS.find((x) => x.job === name)!;
        return concurrencyOf(obj(obj(workflows.get(p.file)?.doc.jobs)[p.job]));
    };
    const deploy = c("deploy");
    const rotate = c("rotate");
    if (deploy.group === "" || deploy.group !== rotate.group) {
        problems.push(
            `deploy and rotate: expected one concurrency group, found "${deploy.group}" and "${rotate.group}"`,
        );
    }
    if (deploy.group.includes("${{")) {
        problems.push(`deploy: expected a fixed concurrency group (every run queues in it), found "${deploy.group}"`);
    }
    for (const [name, value] of [
        ["deploy", deploy],
        ["rotate", rotate],
    ] as const) {
        if (value.cancel !== false)
            problems.push(`${name}: expected cancel-in-progress: false, found ${String(value.cancel)}`);
    }
    const preview = c("preview");
    if (!preview.group.includes("github.event.pull_request.number")) {
        problems.push(`preview: expected one concurrency group per pull request, found "${preview.group}"`);
    }
    if (preview.cancel !== true)
        problems.push(`preview: expected cancel-in-progress: true, found ${String(preview.cancel)}`);
    const drift = c("drift");
    if (drift.group === "" || drift.group === deploy.group || drift.group === preview.group) {
        problems.push(`drift: expected a concurrency group of its own, found "${drift.group}"`);
    }
    return problems;
}

const environmentOf = (j: Obj): string | undefined =>
    typeof j.environment === "string"
        ? j.environment
        : typeof obj(j.environment).name === "string"
          ? (obj(j.environment).name as string)
          : undefined;

/** Deploy and rotate in the protected environment; no other job in it. */
function environmentProblems(workflows: Workflows): string[] {
    const problems: string[] = [];
    for (const wf of workflows.values()) {
        for (const [name, j] of jobsOf(wf)) {
            const writes =
                (wf.file === "deploy.yml" && name === "deploy") || (wf.file === "rotate.yml" && name === "rotate");
            const env = environmentOf(j);
            if (writes && env !== PROTECTED_ENVIRONMENT) {
                problems.push(
                    `${wf.file} job ${name}: expected environment ${PROTECTED_ENVIRONMENT}, found ${String(env)}`,
                );
            }
            if (!writes && env === PROTECTED_ENVIRONMENT) {
                problems.push(`${wf.file} job ${name}: expected not to use the ${PROTECTED_ENVIRONMENT} environment`);
            }
        }
    }
    return problems;
}

const FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository";

/** When each workflow runs. */
function triggerProblems(workflows: Workflows): string[] {
    const problems: string[] = [];
    const on = (file: string): Obj => obj(workflows.get(file)?.doc.on);
    for (const wf of workflows.values()) {
        if ("pull_request_target" in obj(wf.doc.on)) {
            problems.push(`${wf.file}: expected no pull_request_target (it runs with secrets on untrusted code)`);
        }
    }
    const tests = testWorkflow(workflows);
    const testOn = obj(tests.doc.on);
    if (!("pull_request" in testOn)) problems.push(`${tests.file}: expected to run on pull_request`);
    if (!list(obj(testOn.push).branches).includes("main"))
        problems.push(`${tests.file}: expected to run on push to main`);
    const testJobs = jobsOf(tests);
    if (!testJobs.some(([, j]) => /^bash \.ci\/run$/m.test(scriptOf(j)))) {
        problems.push(`${tests.file}: expected a job that runs bash .ci/run`);
    }
    if (tests.text.includes("secrets.")) problems.push(`${tests.file}: expected no credentials in the tests`);

    const previewOn = on("preview.yml");
    if (!("pull_request" in previewOn)) problems.push("preview.yml: expected to run on pull_request");
    const previewIf = String(obj(obj(workflows.get("preview.yml")?.doc.jobs).preview).if ?? "");
    if (!previewIf.includes(FORK_GUARD)) problems.push(`preview.yml job preview: expected the condition ${FORK_GUARD}`);

    const deployOn = on("deploy.yml");
    const run = obj(deployOn.workflow_run);
    if (!list(run.workflows).includes(tests.doc.name)) {
        problems.push(`deploy.yml: expected workflow_run of the test workflow "${String(tests.doc.name)}"`);
    }
    if (!list(run.types).includes("completed") || !list(run.branches).includes("main")) {
        problems.push("deploy.yml: expected workflow_run types [completed] on branches [main]");
    }
    const deployIf = String(obj(obj(workflows.get("deploy.yml")?.doc.jobs).deploy).if ?? "");
    for (const condition of [
        "github.event.workflow_run.conclusion == 'success'",
        "github.event.workflow_run.event == 'push'",
    ]) {
        if (!deployIf.includes(condition)) problems.push(`deploy.yml job deploy: expected the condition ${condition}`);
    }
    const stackInput = obj(obj(obj(deployOn.workflow_dispatch).inputs).stack);
    if (stackInput.required !== false)
        problems.push("deploy.yml: expected workflow_dispatch with an optional stack input");

    for (const file of ["rotate.yml", "drift.yml"]) {
        const schedules = list(on(file).schedule).map((s) => obj(s).cron);
        if (schedules.length === 0) problems.push(`${file}: expected a schedule`);
        for (const cron of schedules) {
            problems.push(...(typeof cron === "string" ? cronProblems(cron) : [`${file}: expected a cron string`]));
        }
    }
    if (!("workflow_dispatch" in on("rotate.yml"))) problems.push("rotate.yml: expected workflow_dispatch");
    return problems;
}

/** Node.js from package.json's engines; the Pulumi CLI from .pulumi.version, installed before the pipeline runs. */
function toolVersionProblems(workflows: Workflows, major: number): string[] {
    const problems: string[] = [];
    for (const wf of workflows.values()) {
        for (const [name, j] of jobsOf(wf)) {
            const at = `${wf.file} job ${name}`;
            if (j.container !== undefined) {
                const image = typeof j.container === "string" ? j.container : obj(j.container).image;
                problems.push(...nodeImageProblems(at, image, major));
            }
            const steps = stepsOf(j);
            for (const step of steps.filter((s) => usesOf(s).startsWith("actions/setup-node@"))) {
                const version = obj(step.with)["node-version"];
                if (String(version) !== String(major)) {
                    problems.push(
                        `${at}: expected node-version ${major} (package.json engines), found ${String(version)}`,
                    );
                }
            }
            const callAt = steps.findIndex((s) => typeof s.run === "string" && pipelineCalls(s.run).length > 0);
            if (callAt < 0) continue;
            const installAt = steps.findIndex((s) => usesOf(s).startsWith("pulumi/actions@"));
            const install = obj(steps[installAt]?.with);
            if (installAt < 0 || installAt > callAt) {
                problems.push(`${at}: expected pulumi/actions to install the CLI before the pipeline runs`);
            } else if (install["pulumi-version-file"] !== PULUMI_VERSION_FILE || "pulumi-version" in install) {
                problems.push(`${at}: expected pulumi/actions with pulumi-version-file: ${PULUMI_VERSION_FILE} only`);
            } else if ("command" in install) {
                problems.push(`${at}: expected pulumi/actions in install-only mode (no command)`);
            }
            if (!steps.slice(0, callAt).some((s) => usesOf(s).startsWith("actions/setup-node@"))) {
                problems.push(`${at}: expected actions/setup-node before the pipeline runs`);
            }
        }
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// GitLab CI

const GITLAB_KEYWORDS = new Set([
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
]);
const GITLAB_STAGES = ["test", "preview", "deploy", "rotate", "drift"];

function loadGitlab(): Obj {
    return obj(parse(fs.readFileSync(GITLAB_FILE, "utf8")));
}

function deepMerge(base: unknown, over: unknown): unknown {
    if (!isObj(base) || !isObj(over)) return over;
    const merged: Obj = { ...base };
    for (const [key, value] of Object.entries(over)) merged[key] = deepMerge(base[key], value);
    return merged;
}

/** A job as GitLab runs it: its `extends` merged in, deep for maps, replacing anything else. */
function resolveJob(doc: Obj, name: string, depth = 0): Obj {
    if (depth > 10) throw new Error(`${name}: extends nests too deep`);
    const own = obj(doc[name]);
    const parents = typeof own.extends === "string" ? [own.extends] : list(own.extends).map(String);
    let merged: unknown = {};
    for (const parent of parents) merged = deepMerge(merged, resolveJob(doc, parent, depth + 1));
    const result = obj(deepMerge(merged, own));
    delete result.extends;
    return result;
}

const gitlabJobNames = (doc: Obj): string[] =>
    Object.keys(doc).filter((k) => !GITLAB_KEYWORDS.has(k) && !k.startsWith("."));

/** A GitLab script: a string, or a list of strings and nested lists of strings. */
const isScript = (value: unknown): boolean =>
    typeof value === "string" ||
    (Array.isArray(value) && value.every((v) => typeof v === "string" || (Array.isArray(v) && isScript(v))));

const scriptLines = (value: unknown): string[] =>
    Array.isArray(value) ? value.flatMap(scriptLines) : typeof value === "string" ? [value] : [];

type Vars = Record<string, string | undefined>;

/** Evaluates a `rules:if` expression: ==, !=, =~, !~, &&, ||, parentheses, bare variables, null. */
function evaluateIf(expression: string, vars: Vars): boolean {
    type Token = { kind: "var" | "str" | "re" | "null" | "op" | "(" | ")"; text: string };
    const tokens: Token[] = [];
    const re =
        /\s*(?:\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?|"([^"]*)"|'([^']*)'|(\/(?:\\.|[^/])*\/[a-z]*)|(null)\b|(==|!=|=~|!~|&&|\|\|)|(\()|(\)))/y;
    let at = 0;
    while (at < expression.length && expression.slice(at).trim() !== "") {
        re.lastIndex = at;
        const m = re.exec(expression);
        if (!m) throw new Error(`rules:if "${expression}": cannot read from "${expression.slice(at)}"`);
        at = re.lastIndex;
        if (m[1] !== undefined) tokens.push({ kind: "var", text: m[1] });
        else if (m[2] !== undefined || m[3] !== undefined) tokens.push({ kind: "str", text: m[2] ?? m[3]! });
        else if (m[4] !== undefined) tokens.push({ kind: "re", text: m[4] });
        else if (m[5] !== undefined) tokens.push({ kind: "null", text: "null" });
        else if (m[6] !== undefined) tokens.push({ kind: "op", text: m[6] });
        else if (m[7] !== undefined) tokens.push({ kind: "(", text: "(" });
        else tokens.push({ kind: ")", text: ")" });
    }
    let pos = 0;
    const peek = (): Token | undefined => tokens[pos];
    type Value = { kind: "value"; value: string | null } | { kind: "re"; re: RegExp };
    const operand = (): Value => {
        const t = tokens[pos++];
        if (t?.kind === "var") return { kind: "value", value: vars[t.text] ?? null };
        if (t?.kind === "str") return { kind: "value", value: t.text };
        if (t?.kind === "null") return { kind: "value", value: null };
        if (t?.kind === "re") {
            const last = t.text.lastIndexOf("/");
            return { kind: "re", re: new RegExp(t.text.slice(1, last), t.text.slice(last + 1)) };
        }
        throw new Error(`rules:if "${expression}": expected a value, found ${t?.text ?? "the end"}`);
    };
    const comparison = (): boolean => {
        if (peek()?.kind === "(") {
            pos++;
            const inner = or();
            if (tokens[pos++]?.kind !== ")") throw new Error(`rules:if "${expression}": expected )`);
            return inner;
        }
        const left = operand();
        const op = peek();
        if (op?.kind !== "op" || op.text === "&&" || op.text === "||") {
            return left.kind === "value" && left.value !== null && left.value !== "";
        }
        pos++;
        const right = operand();
        if (left.kind !== "value") throw new Error(`rules:if "${expression}": a pattern must be on the right`);
        if (op.text === "=~" || op.text === "!~") {
            if (right.kind !== "re") throw new Error(`rules:if "${expression}": expected a /pattern/ after ${op.text}`);
            const matches = left.value !== null && right.re.test(left.value);
            return op.text === "=~" ? matches : !matches;
        }
        const rightValue = right.kind === "value" ? right.value : null;
        return op.text === "==" ? left.value === rightValue : left.value !== rightValue;
    };
    const and = (): boolean => {
        let value = comparison();
        while (peek()?.text === "&&") {
            pos++;
            value = comparison() && value;
        }
        return value;
    };
    const or = (): boolean => {
        let value = and();
        while (peek()?.text === "||") {
            pos++;
            value = and() || value;
        }
        return value;
    };
    const result = or();
    if (pos !== tokens.length) throw new Error(`rules:if "${expression}": unexpected ${tokens[pos]!.text}`);
    return result;
}

/** Whether `rules` let a job (or the pipeline) in: the first matching rule decides; none matching keeps it out. */
function rulesAdmit(rules: unknown, vars: Vars): boolean {
    if (rules === undefined) return true;
    for (const rule of list(rules).map(obj)) {
        for (const unsupported of ["changes", "exists"]) {
            if (unsupported in rule) throw new Error(`rules with ${unsupported}: not evaluated by this test`);
        }
        if (rule.if === undefined || evaluateIf(String(rule.if), vars)) return rule.when !== "never";
    }
    return false;
}

/** The YAML's own variables (their default values), under the ones the pipeline's source sets. */
function pipelineVars(doc: Obj, source: Vars): Vars {
    const vars: Vars = {};
    for (const [key, value] of Object.entries(obj(doc.variables))) {
        vars[key] = isObj(value) ? String(value.value ?? "") : String(value);
    }
    return { CI_DEFAULT_BRANCH: "main", CI_PROJECT_ID: "1", ...vars, ...source };
}

/** The jobs a pipeline would hold, or null when `workflow: rules` create none. */
function jobsRun(doc: Obj, source: Vars): string[] | null {
    const vars = pipelineVars(doc, source);
    if (!rulesAdmit(obj(doc.workflow).rules, vars)) return null;
    return gitlabJobNames(doc)
        .filter((name) => rulesAdmit(resolveJob(doc, name).rules, vars))
        .sort();
}

const MR = {
    CI_PIPELINE_SOURCE: "merge_request_event",
    CI_COMMIT_REF_NAME: "feature",
    CI_MERGE_REQUEST_IID: "7",
    CI_MERGE_REQUEST_PROJECT_ID: "1",
    CI_MERGE_REQUEST_SOURCE_PROJECT_ID: "1",
};
const SCENARIOS: { name: string; source: Vars; jobs: string[] | null }[] = [
    { name: "a merge request", source: MR, jobs: ["preview", "test", "test-deploy"] },
    {
        name: "a merge request from a fork",
        source: { ...MR, CI_MERGE_REQUEST_SOURCE_PROJECT_ID: "2" },
        jobs: ["test", "test-deploy"],
    },
    {
        name: "a push to a branch with an open merge request (the MR pipeline runs instead)",
        source: {
            CI_PIPELINE_SOURCE: "push",
            CI_COMMIT_BRANCH: "feature",
            CI_COMMIT_REF_NAME: "feature",
            CI_OPEN_MERGE_REQUESTS: "acme/observability!7",
        },
        jobs: null,
    },
    {
        name: "a push to main",
        source: { CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: "main", CI_COMMIT_REF_NAME: "main" },
        jobs: ["deploy", "test", "test-deploy"],
    },
    {
        name: "a manual pipeline on main",
        source: { CI_PIPELINE_SOURCE: "web", CI_COMMIT_BRANCH: "main", CI_COMMIT_REF_NAME: "main" },
        jobs: ["deploy", "test", "test-deploy"],
    },
    ...(["rotate", "drift"] as const).map((task) => ({
        name: `the ${task} schedule`,
        source: { CI_PIPELINE_SOURCE: "schedule", CI_COMMIT_BRANCH: "main", PIPELINE_TASK: task },
        jobs: [task],
    })),
    {
        name: "a schedule without PIPELINE_TASK",
        source: { CI_PIPELINE_SOURCE: "schedule", CI_COMMIT_BRANCH: "main" },
        jobs: ["schedule-task"],
    },
];

/** Which jobs each kind of pipeline holds (workflow rules and job rules together). */
function gitlabScenarioProblems(doc: Obj): string[] {
    const problems: string[] = [];
    for (const scenario of SCENARIOS) {
        const got = jobsRun(doc, scenario.source);
        if (JSON.stringify(got) !== JSON.stringify(scenario.jobs)) {
            problems.push(`${scenario.name}: expected ${JSON.stringify(scenario.jobs)}, found ${JSON.stringify(got)}`);
        }
    }
    return problems;
}

/** Job rules alone, whatever the workflow rules let through: deploy only on the default branch, preview only in MRs, rotate and drift only on schedules. */
function gitlabJobRuleProblems(doc: Obj): string[] {
    const problems: string[] = [];
    const sources: Vars[] = [
        MR,
        { CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: "feature" },
        { CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: "main" },
        { CI_PIPELINE_SOURCE: "web", CI_COMMIT_BRANCH: "feature" },
        { CI_PIPELINE_SOURCE: "web", CI_COMMIT_BRANCH: "main" },
        { CI_PIPELINE_SOURCE: "web", CI_COMMIT_BRANCH: "main", PIPELINE_TASK: "rotate" },
        { CI_PIPELINE_SOURCE: "api", CI_COMMIT_BRANCH: "main" },
        { CI_PIPELINE_SOURCE: "trigger", CI_COMMIT_BRANCH: "main" },
        { CI_PIPELINE_SOURCE: "schedule", CI_COMMIT_BRANCH: "main", PIPELINE_TASK: "rotate" },
        { CI_PIPELINE_SOURCE: "schedule", CI_COMMIT_BRANCH: "feature", PIPELINE_TASK: "drift" },
        { CI_PIPELINE_SOURCE: "schedule", CI_COMMIT_BRANCH: "main", PIPELINE_TASK: "deploy" },
    ];
    const allowed: Record<string, (v: Vars) => boolean> = {
        deploy: (v) =>
            v.CI_COMMIT_BRANCH === "main" && (v.CI_PIPELINE_SOURCE === "push" || v.CI_PIPELINE_SOURCE === "web"),
        preview: (v) => v.CI_PIPELINE_SOURCE === "merge_request_event",
        rotate: (v) => v.CI_PIPELINE_SOURCE === "schedule" && v.PIPELINE_TASK === "rotate",
        drift: (v) => v.CI_PIPELINE_SOURCE === "schedule" && v.PIPELINE_TASK === "drift",
    };
    for (const [name, ok] of Object.entries(allowed)) {
        if (!(name in doc)) {
            problems.push(`.gitlab-ci.yml: expected a job ${name}`);
            continue;
        }
        for (const source of sources) {
            const runs = rulesAdmit(resolveJob(doc, name).rules, pipelineVars(doc, source));
            if (runs && !ok(source)) problems.push(`${name}: expected not to run in ${JSON.stringify(source)}`);
        }
    }
    return problems;
}

const gitlabEnvironment = (j: Obj): { name?: string; action?: string } => {
    if (typeof j.environment === "string") return { name: j.environment };
    const e = obj(j.environment);
    return {
        ...(typeof e.name === "string" ? { name: e.name } : {}),
        ...(typeof e.action === "string" ? { action: e.action } : {}),
    };
};

/** Stages, timeouts, the image, environments, resource groups, pipeline commands, the CLI's version. */
function gitlabStructureProblems(doc: Obj, major: number): string[] {
    const problems: string[] = [];
    const stages = list(doc.stages);
    for (const stage of GITLAB_STAGES) if (!stages.includes(stage)) problems.push(`stages: expected ${stage}`);
    const defaults = obj(doc.default);
    for (const name of gitlabJobNames(doc)) {
        const j = resolveJob(doc, name);
        for (const key of ["before_script", "script", "after_script"]) {
            if (j[key] !== undefined && !isScript(j[key])) {
                problems.push(
                    `${name}: expected ${key} to be strings (quote a line holding ": "), found ${JSON.stringify(j[key])}`,
                );
            }
        }
        const timeout = j.timeout ?? defaults.timeout;
        if (typeof timeout !== "string" || !/^\d+\s*(m|h|min|minutes?|hours?)$/.test(timeout)) {
            problems.push(`${name}: expected a timeout (e.g. 30m), found ${JSON.stringify(timeout)}`);
        }
        problems.push(...nodeImageProblems(`${name} image`, j.image ?? defaults.image, major));
        const script = scriptLines(j.script).join("\n");
        const calls = pipelineCalls(script);
        const expected = PIPELINE_JOBS.find((p) => p.job === name);
        if (expected === undefined) {
            if (calls.length > 0) problems.push(`${name}: expected no pipeline call`);
        } else if (calls.length !== 1 || calls[0]!.command !== expected.command) {
            problems.push(
                `${name}: expected one npm run pipeline -- ${expected.command}, found ${calls.length} call(s)`,
            );
        } else {
            for (const flag of expected.flags) {
                if (!calls[0]!.args.split(/\s+/).includes(flag)) problems.push(`${name}: expected ${flag}`);
            }
        }
        if (calls.length > 0) problems.push(...gitlabInstallProblems(name, j));
    }
    const test = resolveJob(doc, "test");
    if (!scriptLines(test.script).includes("bash .ci/run")) problems.push("test: expected to run bash .ci/run");

    const deploy = resolveJob(doc, "deploy");
    const rotate = resolveJob(doc, "rotate");
    const drift = resolveJob(doc, "drift");
    for (const [name, j] of [
        ["deploy", deploy],
        ["rotate", rotate],
    ] as const) {
        const env = gitlabEnvironment(j);
        if (env.name !== PROTECTED_ENVIRONMENT || (env.action !== undefined && env.action !== "start")) {
            problems.push(`${name}: expected to deploy to the ${PROTECTED_ENVIRONMENT} environment`);
        }
        if (j.interruptible !== false) problems.push(`${name}: expected interruptible: false`);
    }
    if (typeof deploy.resource_group !== "string" || deploy.resource_group !== rotate.resource_group) {
        problems.push(
            `deploy and rotate: expected one resource_group, found ${String(deploy.resource_group)} and ${String(rotate.resource_group)}`,
        );
    }
    if (typeof drift.resource_group !== "string" || drift.resource_group === deploy.resource_group) {
        problems.push(`drift: expected a resource_group of its own, found ${String(drift.resource_group)}`);
    }
    if (!list(deploy.needs).includes("test")) problems.push("deploy: expected needs: [test]");
    for (const name of gitlabJobNames(doc).filter((n) => n !== "deploy" && n !== "rotate")) {
        const env = gitlabEnvironment(resolveJob(doc, name));
        if (env.name === PROTECTED_ENVIRONMENT && (env.action === undefined || env.action === "start")) {
            problems.push(`${name}: expected not to deploy to ${PROTECTED_ENVIRONMENT}`);
        }
    }
    return problems;
}

/** A job that runs the pipeline installs the CLI with the official script, at the version read from .pulumi.version. */
function gitlabInstallProblems(name: string, j: Obj): string[] {
    const lines = [...scriptLines(j.before_script), ...scriptLines(j.script)];
    const read = lines.findIndex((l) => /^PULUMI_VERSION="\$\(.*<\s*\.pulumi\.version\s*\)"$/.test(l.trim()));
    const install = lines.findIndex((l) =>
        /^curl -fsSL https:\/\/get\.pulumi\.com \| sh -s -- --version "\$PULUMI_VERSION"( |$)/.test(l.trim()),
    );
    const call = lines.findIndex((l) => pipelineCalls(l).length > 0);
    if (read < 0 || install < read || call < install) {
        return [
            `${name}: expected the CLI installed from ${PULUMI_VERSION_FILE} with get.pulumi.com before the pipeline runs`,
        ];
    }
    if (lines.some((l) => /--version\s+["']?\d/.test(l))) return [`${name}: expected no hard-coded CLI version`];
    return [];
}

// ---------------------------------------------------------------------------------------------
// The repository's files

const packageJson = obj(JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")));
const major = engineMajor(packageJson);
const workflows = loadWorkflows();
const gitlab = loadGitlab();

describe("GitHub Actions workflows", () => {
    it("has the test, preview, deploy, rotate and drift workflows, each parsing to a map", () => {
        testWorkflow(workflows);
        for (const file of ["preview.yml", "deploy.yml", "rotate.yml", "drift.yml"]) {
            assert.ok(workflows.has(file), `expected .github/workflows/${file}`);
        }
        for (const wf of workflows.values()) assert.ok(Object.keys(wf.doc).length > 0, `${wf.file}: empty`);
    });

    it("grants nothing at the top, and gives each job explicit permissions, a timeout and pinned actions", () => {
        assert.deepEqual([...workflows.values()].flatMap(hygieneProblems), []);
    });

    it("pins every action to a commit with its version in a comment, the same pin everywhere", () => {
        const problems = [...workflows.values()].flatMap((wf) => pinCommentProblems(wf.file, wf.text));
        assert.deepEqual([...problems, ...pinConsistencyProblems(workflows)], []);
    });

    it("grants contents: read, and pull-requests: write to the preview job only", () => {
        assert.deepEqual(grantProblems(workflows), []);
    });

    it("runs npm run pipeline -- <command> in the preview, deploy, rotate and drift jobs only", () => {
        assert.deepEqual(pipelineCallProblems(workflows), []);
    });

    it("serialises deploy and rotate in one concurrency group, previews per pull request, drift apart", () => {
        assert.deepEqual(concurrencyProblems(workflows), []);
    });

    it("deploys and rotates in the protected environment only", () => {
        assert.deepEqual(environmentProblems(workflows), []);
    });

    it("runs on the right events: tests on PRs and main, deploy after green tests, valid schedules, no fork previews", () => {
        assert.deepEqual(triggerProblems(workflows), []);
    });

    it("takes Node.js from package.json's engines and the Pulumi CLI from .pulumi.version", () => {
        assert.deepEqual(toolVersionProblems(workflows, major), []);
    });
});

describe("Node.js version", () => {
    it("is one major in .nvmrc and package.json's engines, one the SDK supports", () => {
        const sdk = obj(
            JSON.parse(
                fs.readFileSync(path.join(projectDir, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8"),
            ),
        );
        assert.deepEqual(
            nodeVersionProblems(fs.readFileSync(path.join(projectDir, ".nvmrc"), "utf8"), packageJson, sdk),
            [],
        );
    });
});

describe(".gitlab-ci.yml", () => {
    it("parses, with the test, preview, deploy, rotate and drift jobs", () => {
        for (const name of ["test", ...GITLAB_STAGES.slice(1)])
            assert.ok(isObj(gitlab[name]), `expected a job ${name}`);
    });

    it("holds the right jobs in each kind of pipeline, and no branch pipeline beside a merge request's", () => {
        assert.deepEqual(gitlabScenarioProblems(gitlab), []);
    });

    it("deploys only from the default branch, previews only in merge requests, rotates and checks drift only on schedules", () => {
        assert.deepEqual(gitlabJobRuleProblems(gitlab), []);
    });

    it("has the stages, timeouts, a pinned image, the protected environment and one resource group for state changes", () => {
        assert.deepEqual(gitlabStructureProblems(gitlab, major), []);
    });
});

describe("Pulumi CLI version", () => {
    it("is one version in .pulumi.version, not older than the @pulumi/pulumi SDK", () => {
        const text = fs.readFileSync(path.join(projectDir, PULUMI_VERSION_FILE), "utf8");
        assert.deepEqual(pulumiVersionProblems(text, packageJson), []);
    });
});

// ---------------------------------------------------------------------------------------------
// Each check fails on a broken file

/** A copy of the workflows with one job changed. */
function withJob(file: string, name: string, change: (j: Obj) => void): Workflows {
    const copy: Workflows = new Map([...workflows].map(([f, wf]) => [f, { ...wf, doc: clone(wf.doc) }]));
    change(job(copy, file, name));
    return copy;
}

/** A copy of the GitLab file with one job (or key) changed. */
function withGitlab(change: (doc: Obj) => void): Obj {
    const copy = clone(gitlab);
    change(copy);
    return copy;
}

const assertCaught = (problems: string[], pattern: RegExp) =>
    assert.ok(
        problems.some((p) => pattern.test(p)),
        `expected a problem matching ${pattern}, found ${JSON.stringify(problems)}`,
    );

describe("the GitHub checks catch", () => {
    const deploy = workflows.get("deploy.yml")!;

    it("top-level permissions that grant anything, or are missing", () => {
        assertCaught(hygieneProblems({ ...deploy, doc: { ...deploy.doc, permissions: "read-all" } }), /top-level/);
        const { permissions: _dropped, ...rest } = deploy.doc;
        void _dropped;
        assertCaught(hygieneProblems({ ...deploy, doc: rest }), /top-level/);
    });

    it("a job without permissions, without a timeout, or with a secret in its env", () => {
        const broken = withJob("deploy.yml", "deploy", (j) => {
            delete j.permissions;
            delete j["timeout-minutes"];
            j.env = { PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" };
        });
        const problems = hygieneProblems(broken.get("deploy.yml")!);
        assertCaught(problems, /explicit permissions/);
        assertCaught(problems, /timeout-minutes/);
        assertCaught(problems, /no secret in the job's env/);
    });

    it("a run step that YAML read as a map", () => {
        const broken = withJob("drift.yml", "drift", (j) => {
            list(j.steps).push({ name: "x", run: { 'echo "a': 'b"' } });
        });
        assertCaught(hygieneProblems(broken.get("drift.yml")!), /expected run to be a string/);
    });

    it("an action pinned to a tag, and a checkout that keeps its credentials", () => {
        const broken = withJob("deploy.yml", "deploy", (j) => {
            const steps = stepsOf(j);
            steps[0]!.with = { ...obj(steps[0]!.with), "persist-credentials": true };
            steps[1]!.uses = "actions/setup-node@v7";
        });
        const problems = hygieneProblems(broken.get("deploy.yml")!);
        assertCaught(problems, /persist-credentials: false/);
        assertCaught(problems, /pinned to a 40-hex commit, found actions\/setup-node@v7/);
    });

    it("a pin without its version comment, with a short commit, or pinned differently elsewhere", () => {
        const sha = /actions\/checkout@([0-9a-f]{40})/.exec(deploy.text)![1]!;
        assertCaught(
            pinCommentProblems("x", deploy.text.replace(/(checkout@[0-9a-f]{40}) # v[\d.]+/, "$1")),
            /# vX.Y.Z/,
        );
        assertCaught(pinCommentProblems("x", deploy.text.replace(sha, sha.slice(0, 12))), /40-hex/);
        const other = new Map(workflows);
        other.set("deploy.yml", { ...deploy, text: deploy.text.replace(sha, "0".repeat(40)) });
        assertCaught(pinConsistencyProblems(other), /actions\/checkout pinned as/);
    });

    it("a write grant outside the preview job, and a preview job that cannot comment", () => {
        const writes = withJob("deploy.yml", "deploy", (j) => {
            j.permissions = { contents: "write", "pull-requests": "write" };
        });
        assertCaught(grantProblems(writes), /deploy: expected contents: read/);
        assertCaught(grantProblems(writes), /deploy: expected no pull-requests: write/);
        const tokenless = withJob("drift.yml", "drift", (j) => {
            j.permissions = { contents: "read", "id-token": "write" };
        });
        assertCaught(grantProblems(tokenless), /no id-token: write/);
        const mute = withJob("preview.yml", "preview", (j) => {
            j.permissions = { contents: "read" };
        });
        assertCaught(grantProblems(mute), /pull-requests: write, to post/);
    });

    it("a job running the wrong command, a preview without --comment, a test job calling the pipeline", () => {
        const swap = (file: string, name: string, from: RegExp, to: string) =>
            withJob(file, name, (j) => {
                for (const step of stepsOf(j)) if (typeof step.run === "string") step.run = step.run.replace(from, to);
            });
        assertCaught(
            pipelineCallProblems(swap("deploy.yml", "deploy", /pipeline -- up/, "pipeline -- preview")),
            /-- up/,
        );
        assertCaught(pipelineCallProblems(swap("rotate.yml", "rotate", /-- rotate/, "-- up")), /-- rotate/);
        assertCaught(pipelineCallProblems(swap("drift.yml", "drift", /-- drift/, "-- preview")), /-- drift/);
        assertCaught(pipelineCallProblems(swap("preview.yml", "preview", / --comment/, "")), /--comment/);
        assertCaught(
            pipelineCallProblems(swap("preview.yml", "preview", /"\$GITHUB_STEP_SUMMARY"/, "summary.md")),
            /GITHUB_STEP_SUMMARY/,
        );
        const ciFile = testWorkflow(workflows).file;
        const ciJob = jobsOf(testWorkflow(workflows))[0]![0];
        assertCaught(
            pipelineCallProblems(swap(ciFile, ciJob, /bash \.ci\/run/, "npm run pipeline -- up")),
            /no pipeline call/,
        );
    });

    it("deploy and rotate in different groups, a cancellable deploy, previews sharing one group", () => {
        const apart = withJob("rotate.yml", "rotate", (j) => {
            j.concurrency = { group: "rotate", "cancel-in-progress": false };
        });
        assertCaught(concurrencyProblems(apart), /one concurrency group/);
        const cancellable = withJob("deploy.yml", "deploy", (j) => {
            j.concurrency = { ...obj(j.concurrency), "cancel-in-progress": true };
        });
        assertCaught(concurrencyProblems(cancellable), /deploy: expected cancel-in-progress: false/);
        const perRef = withJob("deploy.yml", "deploy", (j) => {
            j.concurrency = { group: "state-${{ github.ref }}", "cancel-in-progress": false };
        });
        assertCaught(concurrencyProblems(perRef), /fixed concurrency group/);
        const shared = withJob("preview.yml", "preview", (j) => {
            j.concurrency = { group: "preview", "cancel-in-progress": false };
        });
        assertCaught(concurrencyProblems(shared), /one concurrency group per pull request/);
        assertCaught(concurrencyProblems(shared), /preview: expected cancel-in-progress: true/);
        const joined = withJob("drift.yml", "drift", (j) => {
            j.concurrency = obj(job(workflows, "deploy.yml", "deploy").concurrency);
        });
        assertCaught(concurrencyProblems(joined), /drift: expected a concurrency group of its own/);
    });

    it("a deploy outside the protected environment, and a preview inside it", () => {
        assertCaught(
            environmentProblems(withJob("deploy.yml", "deploy", (j) => delete j.environment)),
            /deploy: expected environment production/,
        );
        assertCaught(
            environmentProblems(withJob("rotate.yml", "rotate", (j) => (j.environment = { name: "staging" }))),
            /rotate: expected environment production/,
        );
        assertCaught(
            environmentProblems(withJob("preview.yml", "preview", (j) => (j.environment = "production"))),
            /preview: expected not to use/,
        );
    });

    it("fork previews, a deploy that ignores the test result, pull_request_target, a broken schedule", () => {
        assertCaught(triggerProblems(withJob("preview.yml", "preview", (j) => delete j.if)), /head\.repo\.full_name/);
        assertCaught(
            triggerProblems(withJob("deploy.yml", "deploy", (j) => (j.if = "github.event_name == 'workflow_run'"))),
            /conclusion == 'success'/,
        );
        const target = new Map(workflows);
        const preview = workflows.get("preview.yml")!;
        target.set("preview.yml", { ...preview, doc: { ...preview.doc, on: { pull_request_target: {} } } });
        assertCaught(triggerProblems(target), /pull_request_target/);
        const drift = workflows.get("drift.yml")!;
        const badCron = new Map(workflows);
        badCron.set("drift.yml", { ...drift, doc: { ...drift.doc, on: { schedule: [{ cron: "0 25 * * *" }] } } });
        assertCaught(triggerProblems(badCron), /hour "25"/);
    });

    it("a Node.js version other than the engines', and a CLI not taken from .pulumi.version", () => {
        const node = withJob("drift.yml", "drift", (j) => {
            const setup = stepsOf(j).find((s) => usesOf(s).startsWith("actions/setup-node@"))!;
            setup.with = { "node-version": 22 };
        });
        assertCaught(
            toolVersionProblems(node, major),
            new RegExp(`node-version ${major} \\(package.json engines\\), found 22`),
        );
        const pinnedCli = withJob("rotate.yml", "rotate", (j) => {
            const install = stepsOf(j).find((s) => usesOf(s).startsWith("pulumi/actions@"))!;
            install.with = { "pulumi-version": "3.100.0" };
        });
        assertCaught(toolVersionProblems(pinnedCli, major), /pulumi-version-file/);
        const commanded = withJob("rotate.yml", "rotate", (j) => {
            const install = stepsOf(j).find((s) => usesOf(s).startsWith("pulumi/actions@"))!;
            install.with = { ...obj(install.with), command: "up" };
        });
        assertCaught(toolVersionProblems(commanded, major), /install-only/);
        const noCli = withJob("deploy.yml", "deploy", (j) => {
            j.steps = stepsOf(j).filter((s) => !usesOf(s).startsWith("pulumi/actions@"));
        });
        assertCaught(toolVersionProblems(noCli, major), /install the CLI before/);
        const floating = withJob(testWorkflow(workflows).file, "test", (j) => (j.container = { image: "node:20" }));
        assertCaught(toolVersionProblems(floating, major), /pinned to a release/);
    });

    it("cron expressions with the wrong number of fields, values out of range or a zero step", () => {
        assert.deepEqual(cronProblems("17 6 * * 2"), []);
        assert.deepEqual(cronProblems("*/15 0-5,22 1 jan-mar MON-FRI"), []);
        assertCaught(cronProblems("0 3 * *"), /expected 5 fields/);
        assertCaught(cronProblems("60 3 * * *"), /minute "60"/);
        assertCaught(cronProblems("0 3 0 * *"), /day of month "0"/);
        assertCaught(cronProblems("0 3 * * 8"), /day of week "8"/);
        assertCaught(cronProblems("*/0 3 * * *"), /step/);
        assertCaught(cronProblems("0 5-3 * * *"), /in order/);
    });
});

describe("the GitLab checks catch", () => {
    it("a deploy on any branch, a preview outside merge requests, rotate and drift outside schedules", () => {
        const loose = withGitlab((doc) => {
            obj(doc.deploy).rules = [{ if: "$CI_COMMIT_BRANCH" }];
            obj(doc.preview).rules = [{ when: "on_success" }];
            obj(doc.rotate).rules = [{ if: '$PIPELINE_TASK == "rotate"' }];
            obj(doc.drift).rules = [{ if: '$CI_PIPELINE_SOURCE == "schedule" || $PIPELINE_TASK == "drift"' }];
        });
        const problems = gitlabJobRuleProblems(loose);
        assertCaught(problems, /deploy: expected not to run in .*feature/);
        assertCaught(problems, /preview: expected not to run/);
        assertCaught(problems, /rotate: expected not to run/);
        assertCaught(problems, /drift: expected not to run/);
    });

    it("workflow rules that let a branch pipeline run beside the merge request's", () => {
        const duplicate = withGitlab((doc) => {
            doc.workflow = { rules: [{ when: "always" }] };
        });
        assertCaught(gitlabScenarioProblems(duplicate), /open merge request.*: expected null/);
    });

    it("a preview that runs for merge requests from forks", () => {
        const forks = withGitlab((doc) => {
            obj(doc.preview).rules = [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }];
        });
        assertCaught(gitlabScenarioProblems(forks), /from a fork: expected \["test","test-deploy"\]/);
    });

    it("a deploy without the environment or the shared resource group, drift in the deploy's group", () => {
        const broken = withGitlab((doc) => {
            delete obj(doc.deploy).environment;
            obj(doc.rotate).resource_group = "rotate";
            obj(doc.drift).resource_group = obj(doc.deploy).resource_group;
            obj(doc.deploy).interruptible = true;
        });
        const problems = gitlabStructureProblems(broken, major);
        assertCaught(problems, /deploy: expected to deploy to the production environment/);
        assertCaught(problems, /deploy and rotate: expected one resource_group/);
        assertCaught(problems, /drift: expected a resource_group of its own/);
        assertCaught(problems, /deploy: expected interruptible: false/);
    });

    it("a script line that YAML read as a map", () => {
        const broken = withGitlab((doc) => {
            obj(doc["schedule-task"]).script = [{ 'echo "PIPELINE_TASK': 'expected rotate" >&2' }, "exit 64"];
        });
        assertCaught(gitlabStructureProblems(broken, major), /schedule-task: expected script to be strings/);
    });

    it("a missing stage or timeout, a floating image, a wrong command, a hard-coded CLI version", () => {
        const broken = withGitlab((doc) => {
            doc.stages = ["test", "deploy"];
            obj(doc.default).image = "node:latest";
            delete obj(doc.drift).timeout;
            obj(doc.rotate).script = ["npm run pipeline -- up --summary pipeline-summary.md"];
            obj(doc.preview).script = ["npm run pipeline -- preview --summary pipeline-summary.md"];
            const template = obj(doc[".pulumi"]);
            template.before_script = scriptLines(template.before_script).map((l) =>
                l.replace('--version "$PULUMI_VERSION"', "--version 3.270.0"),
            );
        });
        const problems = gitlabStructureProblems(broken, major);
        assertCaught(problems, /stages: expected preview/);
        assertCaught(problems, /node:latest/);
        assertCaught(problems, /drift: expected a timeout/);
        assertCaught(problems, /rotate: expected one npm run pipeline -- rotate/);
        assertCaught(problems, /preview: expected --comment/);
        assertCaught(problems, /deploy: expected the CLI installed from \.pulumi\.version/);
    });

    it("the rules evaluator: comparisons, patterns, null, precedence and parentheses", () => {
        const vars = { A: "x", B: "x", E: "" };
        assert.equal(evaluateIf("$A == $B", vars), true);
        assert.equal(evaluateIf('$A != "x"', vars), false);
        assert.equal(evaluateIf("$A =~ /^x$/ && $MISSING == null", vars), true);
        assert.equal(evaluateIf("$MISSING !~ /x/", vars), true);
        assert.equal(evaluateIf("$E", vars), false);
        assert.equal(evaluateIf('$E == "" || $A == "y" && $B == "y"', vars), true);
        assert.equal(evaluateIf('($E == "" || $A == "y") && $B == "y"', vars), false);
        assert.throws(() => evaluateIf("$A === $B", vars), /cannot read|expected a value/);
    });
});

describe("the version check catches", () => {
    it("a CLI older than the SDK, and a version file that is not one version", () => {
        const pkg = { dependencies: { "@pulumi/pulumi": "3.270.0" } };
        assert.deepEqual(pulumiVersionProblems("3.270.0\n", pkg), []);
        assert.deepEqual(pulumiVersionProblems("3.271.0", { dependencies: { "@pulumi/pulumi": "^3.270.0" } }), []);
        assertCaught(pulumiVersionProblems("3.269.9", pkg), /older than the @pulumi\/pulumi SDK/);
        assertCaught(pulumiVersionProblems("2.999.999", pkg), /older/);
        assertCaught(pulumiVersionProblems("v3.270.0", pkg), /expected one version/);
        assertCaught(pulumiVersionProblems("latest", pkg), /expected one version/);
    });

    it("an .nvmrc other than the engines' major, and engines below the SDK's floor", () => {
        const sdk = { engines: { node: ">=22" } };
        assert.deepEqual(nodeVersionProblems("24\n", { engines: { node: ">=24" } }, sdk), []);
        assertCaught(nodeVersionProblems("22", { engines: { node: ">=24" } }, sdk), /\.nvmrc: expected 24/);
        assertCaught(
            nodeVersionProblems("20", { engines: { node: ">=20" } }, sdk),
            /below the @pulumi\/pulumi SDK's own floor, 22/,
        );
    });

    it("an engines range it cannot read, and an image of another Node.js major", () => {
        assert.equal(engineMajor({ engines: { node: ">=20" } }), 20);
        assert.equal(engineMajor({ engines: { node: "^22.1.0" } }), 22);
        assert.throws(() => engineMajor({}), /engines\.node/);
        assertCaught(nodeImageProblems("x", "node:22.1.0-bookworm", 20), /Node\.js 20/);
        assert.deepEqual(nodeImageProblems("x", `node:20.20.2-bookworm@sha256:${"a".repeat(64)}`, 20), []);
    });
});
