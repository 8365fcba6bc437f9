/**
 * GitOps mode: instead of scaling a workload itself, the remediator proposes the change in the
 * repository the cluster is reconciled from. One merge request (GitLab) or pull request (GitHub)
 * per workload sets its replica count to 0 and carries the evidence; while one is open for a
 * workload, no other is opened.
 */

import { Gitlab } from "@gitbeaker/rest";
import { Octokit } from "@octokit/rest";
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node } from "yaml";

import type { Evidence, GitHosting, GitopsOutcome, GitopsSettings, WorkloadRef } from "./types";

/** How long one API request may take before the proposal is refused. */
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** A proposal that cannot be made; its message says which repository, file, field or API step, and why. */
export class GitopsError extends Error {
    /** The HTTP status the hosting API answered with, when the failure came from it. */
    readonly status?: number;
    /** The API step that failed (`creating branch …`), when the failure came from the hosting API. */
    readonly step?: string;

    constructor(message: string, details: { status?: number; step?: string } = {}) {
        super(message);
        this.name = "GitopsError";
        this.status = details.status;
        this.step = details.step;
    }
}

const PLACEHOLDERS = ["cluster", "namespace", "kind", "name"] as const;

/** `template` with `{cluster}`, `{namespace}`, `{kind}` (lowercase) and `{name}` replaced. */
export function expandTemplate(template: string, ref: WorkloadRef, cluster: string): string {
    const values: Record<(typeof PLACEHOLDERS)[number], string> = {
        cluster,
        namespace: ref.namespace,
        kind: ref.kind.toLowerCase(),
        name: ref.name,
    };
    return template.replace(/\{([^{}]*)\}/g, (whole, key: string) => {
        if (!(PLACEHOLDERS as readonly string[]).includes(key)) {
            throw new GitopsError(
                `unknown placeholder ${whole} in "${template}": expected one of ${PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}`,
            );
        }
        return values[key as (typeof PLACEHOLDERS)[number]];
    });
}

/** One path component of a branch name, restricted to characters every git ref accepts. */
function refComponent(value: string): string {
    const cleaned = value
        .replace(/[^A-Za-z0-9._-]+/g, "-")
        .replace(/\.{2,}/g, ".")
        .replace(/^[.-]+/, "")
        .replace(/(\.lock)+$/i, "")
        .replace(/\.+$/, "");
    return cleaned === "" ? "_" : cleaned;
}

/** The branch a workload's proposal is made on: the same for every proposal of that workload. */
export function branchName(ref: WorkloadRef, cluster: string): string {
    return [
        "remediation",
        refComponent(cluster),
        refComponent(ref.namespace),
        refComponent(`${ref.kind.toLowerCase()}-${ref.name}`),
    ].join("/");
}

const describeWorkload = (ref: WorkloadRef): string => `${ref.kind} ${ref.namespace}/${ref.name}`;

/** How a YAML node's value reads in a message. */
function describeNode(node: unknown): string {
    if (node === undefined || node === null) return "nothing";
    if (isAlias(node)) return `the alias *${node.source}`;
    if (isMap(node)) return "a mapping";
    if (isSeq(node)) return "a sequence";
    if (isScalar(node)) {
        const value = node.value;
        if (value === null) return "null";
        return `${typeof value} ${JSON.stringify(value)}`;
    }
    return "an unexpected node";
}

/** Whether a document holds nothing (an empty stream, a trailing `---`). */
function isEmptyDocument(doc: Document): boolean {
    return doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null);
}

/** The document of `docs` that declares the workload. */
function pickDocument(docs: Document[], ref: WorkloadRef, file: string): Document {
    const candidates = docs.filter((doc) => !isEmptyDocument(doc));
    const declares = (doc: Document): boolean => {
        if (doc.get("kind") !== ref.kind || doc.getIn(["metadata", "name"]) !== ref.name) return false;
        return !doc.hasIn(["metadata", "namespace"]) || doc.getIn(["metadata", "namespace"]) === ref.namespace;
    };
    if (candidates.length === 1) {
        const only = candidates[0]!;
        // A lone document is used as is (a Helm values file names no workload), unless it plainly
        // declares a different object: scaling that one instead would be worse than refusing.
        const kind = only.get("kind");
        const name = only.getIn(["metadata", "name"]);
        if (typeof kind === "string" && typeof name === "string" && !declares(only)) {
            const namespace = only.getIn(["metadata", "namespace"]);
            const found = `${kind} ${typeof namespace === "string" ? `${namespace}/` : ""}${name}`;
            throw new GitopsError(`${file} declares ${found}, expected ${describeWorkload(ref)}`);
        }
        return only;
    }
    const matching = candidates.filter(declares);
    if (matching.length === 1) return matching[0]!;
    if (matching.length === 0) {
        throw new GitopsError(
            `no document with kind ${ref.kind} and metadata.name ${ref.name} (namespace ${ref.namespace}) ` +
                `among the ${candidates.length} documents of ${file}`,
        );
    }
    throw new GitopsError(
        `${matching.length} documents of ${file} declare ${describeWorkload(ref)}: expected exactly one`,
    );
}

/** The keys of a dotted field path; a numeric component indexes a sequence. */
function fieldKeys(fieldPath: string): string[] {
    const keys = fieldPath.split(".");
    if (fieldPath === "" || keys.some((key) => key === "")) {
        throw new GitopsError(`invalid field path "${fieldPath}": expected dot-separated keys like spec.replicas`);
    }
    return keys;
}

/** The node at `keys` in `doc`, or the first key that leads nowhere. */
function lookUp(doc: Document, keys: string[]): { node: Node | undefined; missing?: string } {
    let node: unknown = doc.contents;
    for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        let next: unknown;
        if (isMap(node)) next = node.get(key, true);
        else if (isSeq(node) && /^\d+$/.test(key)) next = node.get(Number(key), true);
        if (next === undefined) return { node: undefined, missing: keys.slice(0, i + 1).join(".") };
        node = next;
    }
    return { node: node as Node };
}

/**
 * The YAML `text` with the integer at `fieldPath` in the workload's document set to 0, and the
 * value it had. Only the characters of that value change: comments, quoting, indentation and
 * the other documents of the stream stay byte for byte as they were. (Re-serialising the parsed
 * documents would normalise spacing before comments, folding and quoting elsewhere, so the
 * documents parsed here only locate and check the value, and its source range is replaced.)
 * `file` names the file in messages.
 */
export function setReplicasToZero(
    text: string,
    ref: WorkloadRef,
    fieldPath: string,
    file = "the file",
): { text: string; previous: number } {
    const keys = fieldKeys(fieldPath);
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs) || docs.every(isEmptyDocument)) {
        throw new GitopsError(`${file} holds no YAML document, expected one declaring ${describeWorkload(ref)}`);
    }
    const broken = docs.find((doc) => doc.errors.length > 0);
    if (broken) throw new GitopsError(`${file} is not valid YAML: ${broken.errors[0]!.message.split("\n")[0]}`);

    const doc = pickDocument(docs, ref, file);
    const where = `${fieldPath} of ${describeWorkload(ref)} in ${file}`;
    const { node, missing } = lookUp(doc, keys);
    if (node === undefined) {
        const hint =
            missing === fieldPath
                ? " (without it the replica count is left to a HorizontalPodAutoscaler or defaults to 1)"
                : "";
        throw new GitopsError(`${where}: expected a non-negative integer, found nothing at ${missing}${hint}`);
    }
    const value = isScalar(node) ? node.value : undefined;
    if (!isScalar(node) || typeof value !== "number" || !Number.isInteger(value) || value < 0 || !node.range) {
        throw new GitopsError(`${where}: expected a non-negative integer, found ${describeNode(node)}`);
    }
    if (node.anchor) {
        throw new GitopsError(`${where}: the value carries the anchor &${node.anchor}, which other keys may share`);
    }
    if (value === 0) throw new GitopsError(`${fieldPath} of ${describeWorkload(ref)} is already 0 in ${file}`);

    const [start, end] = node.range;
    const edited = `${text.slice(0, start)}0${text.slice(end)}`;
    // The edit must leave a stream in which that same field reads 0.
    const check = parseAllDocuments(edited);
    const after = Array.isArray(check) ? check[docs.findIndex((d) => d === doc)] : undefined;
    if (!after || after.errors.length > 0 || after.getIn(keys) !== 0) {
        throw new GitopsError(`${where}: could not rewrite the value ${node.source ?? value} in place`);
    }
    return { text: edited, previous: value };
}

/** Markdown inline code holding `value`, whatever backticks it contains. */
function inlineCode(value: string): string {
    const longest = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
    const fence = "`".repeat(longest + 1);
    return longest > 0 || value.startsWith(" ") ? `${fence} ${value} ${fence}` : `${fence}${value}${fence}`;
}

/** A table cell: one line, pipes escaped. */
const cell = (value: string): string => value.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");

/**
 * The title and Markdown description of the proposal: the evidence the remediator acted on, the
 * change, and how to undo it. Deterministic: the same inputs give the same text.
 * `noun` is what the hosting calls the proposal.
 */
export function mergeRequestText(
    ref: WorkloadRef,
    evidence: Evidence,
    path: string,
    fieldPath: string,
    previous: number,
    noun: "merge request" | "pull request" = "merge request",
): { title: string; description: string } {
    const workload = describeWorkload(ref);
    const title = `Scale ${workload} to 0 on ${evidence.cluster} (${evidence.alertname})`;
    const query = evidence.query.trimEnd();
    const fence = "`".repeat(Math.max(3, ...(query.match(/`{3,}/g) ?? []).map((run) => run.length + 1)));
    const description = [
        `The remediator proposes scaling ${workload} on cluster ${inlineCode(evidence.cluster)} to 0 replicas: ` +
            `alert ${inlineCode(evidence.alertname)} fired for it, and it is not marked critical.`,
        "",
        "| Evidence | |",
        "| --- | --- |",
        `| Cluster | ${cell(inlineCode(evidence.cluster))} |`,
        `| Workload | ${cell(`${ref.kind} ${inlineCode(`${ref.namespace}/${ref.name}`)}`)} |`,
        `| Alert | ${cell(inlineCode(evidence.alertname))} |`,
        `| Summary | ${cell(evidence.summary)} |`,
        `| Value | ${cell(inlineCode(evidence.value))} |`,
        `| Budget | ${cell(inlineCode(evidence.budget))} |`,
        `| Value vs budget | ${cell(`${evidence.value} against a budget of ${evidence.budget}`)} |`,
        `| Alert active since | ${cell(evidence.activeAt)} |`,
        `| Decided at | ${cell(evidence.decidedAt)} |`,
        "",
        "Alert expression:",
        "",
        `${fence}promql`,
        query,
        fence,
        "",
        "## Change",
        "",
        `${inlineCode(path)}: ${inlineCode(fieldPath)} ${previous} → 0`,
        "",
        "## Undo",
        "",
        `- Before merging: close this ${noun}; nothing changes in the cluster.`,
        `- After merging: revert the merge commit, or set ${inlineCode(fieldPath)} in ${inlineCode(path)} back ` +
            `to ${previous}; the GitOps controller then scales ${workload} back up.`,
        "",
    ].join("\n");
    return { title, description };
}

/** The commit message of the change. */
function commitMessage(title: string, ref: WorkloadRef, evidence: Evidence): string {
    return [
        title,
        "",
        `Alert ${evidence.alertname} on ${evidence.cluster}: ${evidence.value} against a budget of ${evidence.budget}.`,
        `Workload: ${ref.namespace}/${ref.kind}/${ref.name}. Decided at ${evidence.decidedAt}.`,
        "",
    ].join("\n");
}

/** Where a proposal makes its change: the file, the field in it, and the branch. */
interface Plan {
    path: string;
    fieldPath: string;
    branch: string;
}

function plan(settings: GitopsSettings, ref: WorkloadRef, cluster: string): Plan {
    return {
        path: expandTemplate(settings.pathTemplate, ref, cluster),
        fieldPath: expandTemplate(settings.fieldPath, ref, cluster),
        branch: branchName(ref, cluster),
    };
}

/** A failure of a hosting library, as status, message and whether it timed out. */
function describeFailure(err: unknown, timeoutMs: number): { status?: number; text: string } {
    const e = err as {
        name?: string;
        message?: string;
        status?: unknown;
        response?: unknown;
        cause?: { name?: string; message?: string; response?: { status?: unknown } };
    };
    const timedOut = (name?: string) => name === "TimeoutError" || name === "GitbeakerTimeoutError";
    if (timedOut(e?.name) || timedOut(e?.cause?.name)) {
        return { text: `no answer within ${timeoutMs / 1000} s` };
    }
    // gitbeaker: the fetch Response is in cause.response.
    if (typeof e?.cause?.response?.status === "number") {
        return { status: e.cause.response.status, text: e.message ?? "" };
    }
    // octokit: status and response on the error; without a response it never reached the server.
    if (typeof e?.status === "number" && e.response !== undefined) {
        return { status: e.status, text: e.message ?? "" };
    }
    // Never reached the server: fetch's own "fetch failed" says less than its cause.
    const parts = [e?.message ?? String(err), e?.cause?.message].filter(
        (part): part is string => !!part && part !== "fetch failed",
    );
    return { text: [...new Set(parts)].join(": ") || "fetch failed" };
}

/** Runs one API step; a library failure becomes a GitopsError naming the step, status and answer. */
async function apiStep<T>(
    provider: "GitLab" | "GitHub",
    step: string,
    token: string,
    timeoutMs: number,
    call: () => Promise<T>,
): Promise<T> {
    try {
        return await call();
    } catch (err) {
        if (err instanceof GitopsError) throw err;
        const { status, text } = describeFailure(err, timeoutMs);
        // GitLab's messages often start with the status already ("404 File Not Found").
        const answer =
            status === undefined || text.startsWith(String(status)) ? text : `${status}${text ? ` ${text}` : ""}`;
        throw new GitopsError(redact(`${provider}: ${step} failed: ${answer}`, token), { status, step });
    }
}

/** `text` without the token, should an API ever echo it. */
const redact = (text: string, token: string): string => (token ? text.split(token).join("[redacted]") : text);

/** The HTTP status a failed API step was answered with, if any. */
const statusOf = (err: unknown): number | undefined => (err instanceof GitopsError ? err.status : undefined);

/** Re-throws an edit refusal with the repository it concerns. */
function inRepository(err: unknown, where: string): never {
    if (err instanceof GitopsError) throw new GitopsError(`${where}: ${err.message}`);
    throw err;
}

export interface HostingOptions {
    /** Per-request timeout; {@link DEFAULT_REQUEST_TIMEOUT_MS} unless set. */
    timeoutMs?: number;
}

class GitlabHosting implements GitHosting {
    private readonly api: InstanceType<typeof Gitlab<false>>;

    constructor(
        private readonly settings: GitopsSettings,
        private readonly token: string,
        private readonly cluster: string,
        private readonly timeoutMs: number,
    ) {
        this.api = new Gitlab({ host: settings.apiUrl.replace(/\/+$/, ""), token, queryTimeout: timeoutMs });
    }

    private step<T>(step: string, call: () => Promise<T>): Promise<T> {
        return apiStep("GitLab", step, this.token, this.timeoutMs, call);
    }

    async proposeScaleToZero(ref: WorkloadRef, evidence: Evidence): Promise<GitopsOutcome> {
        const { repository: project, targetBranch } = this.settings;
        const { path, fieldPath, branch } = plan(this.settings, ref, this.cluster);

        const open = await this.step(`listing open merge requests from ${branch} in ${project}`, () =>
            this.api.MergeRequests.all({ projectId: project, state: "opened", sourceBranch: branch }),
        );
        if (open.length > 0) return { kind: "already-open", url: open[0]!.web_url, branch };

        const file = await this.step(`reading ${path} at ${targetBranch} in ${project}`, () =>
            this.api.RepositoryFiles.show(project, path, targetBranch),
        );
        const original = Buffer.from(file.content, file.encoding === "base64" ? "base64" : "utf8").toString("utf8");
        let edit: { text: string; previous: number };
        try {
            edit = setReplicasToZero(original, ref, fieldPath, path);
        } catch (err) {
            inRepository(err, `GitLab ${project}@${targetBranch}`);
        }

        // The branch is made afresh from the target branch. If it is left over from an earlier,
        // closed merge request (no open one uses it: checked above), it is deleted and made again,
        // so that the new merge request carries this one change against the current target, and
        // the file's last commit matches the one read above.
        try {
            await this.step(`creating branch ${branch} from ${targetBranch} in ${project}`, () =>
                this.api.Branches.create(project, branch, targetBranch),
            );
        } catch (err) {
            if (statusOf(err) !== 400 || !/already exists/i.test((err as Error).message)) throw err;
            await this.step(`deleting the stale branch ${branch} in ${project}`, () =>
                this.api.Branches.remove(project, branch),
            );
            await this.step(`creating branch ${branch} from ${targetBranch} in ${project}`, () =>
                this.api.Branches.create(project, branch, targetBranch),
            );
        }

        const text = mergeRequestText(ref, evidence, path, fieldPath, edit.previous, "merge request");
        await this.step(`committing ${path} on ${branch} in ${project}`, () =>
            this.api.Commits.create(project, branch, commitMessage(text.title, ref, evidence), [
                { action: "update", filePath: path, content: edit.text, lastCommitId: file.last_commit_id },
            ]),
        );
        const created = await this.step(
            `creating the merge request from ${branch} to ${targetBranch} in ${project}`,
            () =>
                this.api.MergeRequests.create(project, branch, targetBranch, text.title, {
                    description: text.description,
                    removeSourceBranch: true,
                    labels: "remediation",
                }),
        );
        return { kind: "opened", url: created.web_url, branch };
    }
}

class GithubHosting implements GitHosting {
    private readonly api: Octokit;
    private readonly owner: string;
    private readonly repo: string;

    constructor(
        private readonly settings: GitopsSettings,
        private readonly token: string,
        private readonly cluster: string,
        private readonly timeoutMs: number,
    ) {
        const parts = settings.repository.split("/");
        if (parts.length !== 2 || !parts[0] || !parts[1]) {
            throw new GitopsError(`GitHub repository "${settings.repository}": expected owner/repo`);
        }
        [this.owner, this.repo] = parts as [string, string];
        const quiet = (): void => undefined;
        this.api = new Octokit({
            auth: token,
            baseUrl: settings.apiUrl.replace(/\/+$/, ""),
            // Failures are thrown and reported by the caller; the library need not print them.
            log: { debug: quiet, info: quiet, warn: console.warn, error: quiet },
            request: {
                // Each request gets its own deadline (octokit has no timeout option of its own).
                fetch: (url: string | URL, init?: RequestInit) => {
                    const deadline = AbortSignal.timeout(timeoutMs);
                    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
                    return fetch(url, { ...init, signal });
                },
            },
        });
    }

    private step<T>(step: string, call: () => Promise<T>): Promise<T> {
        return apiStep("GitHub", step, this.token, this.timeoutMs, call);
    }

    /** The file at `ref`: its text and blob sha. */
    private async readFile(path: string, ref: string): Promise<{ text: string; sha: string }> {
        const { owner, repo } = this;
        const repository = this.settings.repository;
        const { data } = await this.step(`reading ${path} at ${ref} in ${repository}`, () =>
            this.api.repos.getContent({ owner, repo, path, ref }),
        );
        if (Array.isArray(data) || data.type !== "file" || !("content" in data)) {
            const found = Array.isArray(data) ? "a directory" : `a ${data.type}`;
            throw new GitopsError(`GitHub ${repository}@${ref}: ${path} is ${found}, expected a YAML file`);
        }
        if (data.encoding !== "base64") {
            // GitHub leaves out the content of files over 1 MB (encoding "none").
            throw new GitopsError(
                `GitHub ${repository}@${ref}: ${path} came without its content (encoding "${data.encoding}"), expected base64`,
            );
        }
        return { text: Buffer.from(data.content, "base64").toString("utf8"), sha: data.sha };
    }

    async proposeScaleToZero(ref: WorkloadRef, evidence: Evidence): Promise<GitopsOutcome> {
        const { owner, repo } = this;
        const { repository, targetBranch } = this.settings;
        const { path, fieldPath, branch } = plan(this.settings, ref, this.cluster);

        const { data: open } = await this.step(`listing open pull requests from ${branch} in ${repository}`, () =>
            this.api.pulls.list({ owner, repo, state: "open", head: `${owner}:${branch}` }),
        );
        if (open.length > 0) return { kind: "already-open", url: open[0]!.html_url, branch };

        const file = await this.readFile(path, targetBranch);
        let edit: { text: string; previous: number };
        try {
            edit = setReplicasToZero(file.text, ref, fieldPath, path);
        } catch (err) {
            inRepository(err, `GitHub ${repository}@${targetBranch}`);
        }

        const { data: base } = await this.step(`reading branch ${targetBranch} of ${repository}`, () =>
            this.api.git.getRef({ owner, repo, ref: `heads/${targetBranch}` }),
        );
        let blobSha = file.sha;
        try {
            await this.step(`creating branch ${branch} from ${targetBranch} in ${repository}`, () =>
                this.api.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: base.object.sha }),
            );
        } catch (err) {
            // Left over from an earlier, closed pull request (no open one uses it: checked above):
            // the change is committed on top of it, against the file as it is on that branch.
            if (statusOf(err) !== 422 || !/already exists/i.test((err as Error).message)) throw err;
            blobSha = (await this.readFile(path, branch)).sha;
        }

        const text = mergeRequestText(ref, evidence, path, fieldPath, edit.previous, "pull request");
        await this.step(`committing ${path} on ${branch} in ${repository}`, () =>
            this.api.repos.createOrUpdateFileContents({
                owner,
                repo,
                path,
                branch,
                message: commitMessage(text.title, ref, evidence),
                content: Buffer.from(edit.text, "utf8").toString("base64"),
                sha: blobSha,
            }),
        );
        const { data: created } = await this.step(
            `creating the pull request from ${branch} to ${targetBranch} in ${repository}`,
            () =>
                this.api.pulls.create({
                    owner,
                    repo,
                    title: text.title,
                    head: branch,
                    base: targetBranch,
                    body: text.description,
                }),
        );
        return { kind: "opened", url: created.html_url, branch };
    }
}

/** The GitLab or GitHub proposer `settings.provider` names, acting with `token` for `cluster`. */
export function gitHosting(
    settings: GitopsSettings,
    token: string,
    cluster: string,
    options: HostingOptions = {},
): GitHosting {
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!token) throw new GitopsError(`no API token for ${settings.provider} repository ${settings.repository}`);
    switch (settings.provider) {
        case "gitlab":
            return new GitlabHosting(settings, token, cluster, timeoutMs);
        case "github":
            return new GithubHosting(settings, token, cluster, timeoutMs);
        default:
            throw new GitopsError(`unknown provider "${String(settings.provider)}": expected gitlab or github`);
    }
}
