import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for the GitLab (v4) and GitHub REST APIs on 127.0.0.1, enough for a client that
 * looks for an open merge (pull) request, reads a file, makes a branch, commits one change and
 * opens a merge (pull) request, and for one that creates or updates a single file on a branch
 * (GitLab's repository files API, GitHub's contents API). It keeps one repository in memory
 * (branches with their files, commits, merge requests), records every request it is sent, and
 * answers in the shapes the real APIs use (the fields clients read, not every field the real APIs
 * return). Validation failures carry the real APIs' statuses; their message texts are close to,
 * not always identical with, the real ones.
 *
 * GitLab is served under `/api/v4` (give `url` as the client's host); GitHub at the root, or under
 * `/api/v3` as GitHub Enterprise does (give `url` as the client's API base).
 */

export type GitProvider = "gitlab" | "github";

export interface GitHostingOptions {
    provider: GitProvider;
    /** The only token accepted: `PRIVATE-TOKEN` or `Authorization: Bearer` (GitLab), `Authorization: token|bearer` (GitHub). */
    token: string;
    /** `group/project` (GitLab, also reachable as project id {@link GITLAB_PROJECT_ID}) or `owner/repo` (GitHub). */
    repository: string;
    /** The default branch's files, by path. */
    files: Record<string, string>;
    /** `main` unless set. */
    defaultBranch?: string;
}

/** The numeric id the GitLab stand-in's project answers to, besides its URL-encoded path. */
const GITLAB_PROJECT_ID = 4242;

export interface RecordedRequest {
    method: string;
    /** Path and query string exactly as sent, percent-encoding included. */
    path: string;
    /** The path's segments, each percent-decoded (`["api", "v4", "projects", "group/project", …]`). */
    segments: string[];
    /** The query string's parameters, decoded. */
    query: Record<string, string>;
    /** The body: parsed JSON, the raw text if it is not JSON, undefined if empty. */
    body: unknown;
    /** The request headers, names in lowercase (`private-token`, `authorization`, `content-type`, …). */
    headers: http.IncomingHttpHeaders;
    /** The status the stand-in answered with. */
    status?: number;
}

export interface StoredFile {
    content: string;
    /** The git blob id of the content. */
    blobSha: string;
    /** The commit that last changed the file. */
    lastCommitId: string;
}

export interface StoredBranch {
    name: string;
    /** The commit the branch points at. */
    head: string;
    files: Map<string, StoredFile>;
}

export interface StoredCommit {
    sha: string;
    parent?: string;
    branch: string;
    message: string;
    /** Paths changed by the commit. */
    paths: string[];
}

/** A merge request (GitLab) or pull request (GitHub). */
export interface ChangeRequest {
    /** `iid` (GitLab) or `number` (GitHub). */
    number: number;
    id: number;
    title: string;
    description: string;
    sourceBranch: string;
    targetBranch: string;
    state: "opened" | "closed" | "merged";
    labels: string[];
    removeSourceBranch: boolean;
    /** The head commit of the source branch when it was opened. */
    sha: string;
    webUrl: string;
}

/** A comment on a pull request (GitHub) or a note on a merge request (GitLab). */
export interface StoredComment {
    id: number;
    /** The pull (merge) request it belongs to. */
    changeRequest: number;
    body: string;
    /** GitLab's system notes ("added 1 commit"), which no client writes. */
    system: boolean;
    /** Edits made since it was posted. */
    edits: number;
}

export interface RepositoryState {
    defaultBranch: string;
    branches: Map<string, StoredBranch>;
    commits: StoredCommit[];
    changeRequests: ChangeRequest[];
    comments: StoredComment[];
}

export interface GitHostingStandIn {
    /** GitLab: the host to give the client (`http://127.0.0.1:<port>`); GitHub: the API base (same). */
    url: string;
    provider: GitProvider;
    requests: RecordedRequest[];
    state: RepositoryState;
    /** A file's content on a branch, or undefined. */
    fileAt(branch: string, path: string): string | undefined;
    /** The change requests still open. */
    openChangeRequests(): ChangeRequest[];
    /** Closes a merge (pull) request without merging it, as a reviewer would; its branch stays. */
    closeChangeRequest(number: number): void;
    /** Merges a merge (pull) request: the target branch takes the source's files. */
    mergeChangeRequest(number: number): void;
    /** Opens a merge (pull) request from a new branch off the default branch, as a contributor would; returns its number. */
    openChangeRequest(sourceBranch: string, title: string): number;
    /** Adds a comment (note) as someone else would; returns its id. */
    addComment(changeRequest: number, body: string, options?: { system?: boolean }): number;
    /** The comments (notes) on a merge (pull) request, oldest first. */
    comments(changeRequest: number): StoredComment[];
    /** The next request whose method matches and whose path (as sent, or decoded) starts with `pathPrefix` fails with `status`. */
    failNext(method: string, pathPrefix: string, status: number, message?: string): void;
    /** The next matching request is never answered (until close): for testing client timeouts. */
    stallNext(method: string, pathPrefix: string): void;
    /** Forgets the recorded requests. */
    resetRequests(): void;
    close(): Promise<void>;
}

/** An HTTP answer: status and JSON body (none for 204). */
interface Answer {
    status: number;
    body?: unknown;
    headers?: Record<string, string>;
}

const answer = (status: number, body?: unknown): Answer => ({ status, body });

/** One page of a list, as both APIs page it (`page`, `per_page`; 1-based). */
function page<T>(items: readonly T[], query: Record<string, string>, maxPerPage: number) {
    const perPage = Math.min(Math.max(Number(query.per_page ?? 20) || 20, 1), maxPerPage);
    const current = Math.max(Number(query.page ?? 1) || 1, 1);
    const pages = Math.max(1, Math.ceil(items.length / perPage));
    return {
        items: items.slice((current - 1) * perPage, current * perPage),
        perPage,
        current,
        pages,
        next: current < pages ? current + 1 : undefined,
    };
}

const sha1 = (data: string | Buffer): string => createHash("sha1").update(data).digest("hex");

/** The git blob id of `content`, as `git hash-object` computes it. */
const blobSha = (content: string): string => {
    const bytes = Buffer.from(content, "utf8");
    return sha1(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]));
};

interface Trap {
    method: string;
    pathPrefix: string;
    status?: number;
    message?: string;
}

/** The in-memory repository both API flavours act on. */
class Repository {
    readonly state: RepositoryState;
    /** Each commit's tree: the files as they were after it. */
    private readonly trees = new Map<string, Map<string, StoredFile>>();
    private commitCounter = 0;
    private idCounter = 0;

    constructor(defaultBranch: string, files: Record<string, string>) {
        this.state = { defaultBranch, branches: new Map(), commits: [], changeRequests: [], comments: [] };
        const root = this.newCommit(undefined, defaultBranch, "Initial commit", Object.keys(files));
        const stored = new Map<string, StoredFile>();
        for (const [path, content] of Object.entries(files)) {
            stored.set(path, { content, blobSha: blobSha(content), lastCommitId: root.sha });
        }
        this.trees.set(root.sha, new Map(stored));
        this.state.branches.set(defaultBranch, { name: defaultBranch, head: root.sha, files: stored });
    }

    nextId(): number {
        return ++this.idCounter;
    }

    newCommit(parent: string | undefined, branch: string, message: string, paths: string[]): StoredCommit {
        this.commitCounter++;
        const commit = {
            sha: sha1(`commit ${this.commitCounter}\n${parent ?? ""}\n${message}`),
            parent,
            branch,
            message,
            paths,
        };
        this.state.commits.push(commit);
        return commit;
    }

    commit(sha: string): StoredCommit | undefined {
        return this.state.commits.find((c) => c.sha === sha);
    }

    branch(name: string): StoredBranch | undefined {
        return this.state.branches.get(name);
    }

    /** A branch name or commit sha, as the commit it designates. */
    resolve(ref: string): string | undefined {
        return this.branch(ref)?.head ?? (this.trees.has(ref) ? ref : undefined);
    }

    createBranch(name: string, commit: string): StoredBranch {
        const branch = { name, head: commit, files: new Map(this.trees.get(commit)) };
        this.state.branches.set(name, branch);
        return branch;
    }

    /** Applies whole-file changes (content, or null to delete) on a branch as one commit. */
    applyChanges(branch: StoredBranch, message: string, changes: Map<string, string | null>): StoredCommit {
        const commit = this.newCommit(branch.head, branch.name, message, [...changes.keys()]);
        for (const [path, content] of changes) {
            if (content === null) branch.files.delete(path);
            else branch.files.set(path, { content, blobSha: blobSha(content), lastCommitId: commit.sha });
        }
        branch.head = commit.sha;
        this.trees.set(commit.sha, new Map(branch.files));
        return commit;
    }

    changeRequest(number: number): ChangeRequest {
        const found = this.state.changeRequests.find((cr) => cr.number === number);
        if (!found) throw new Error(`no merge (pull) request ${number}`);
        return found;
    }

    addComment(changeRequest: number, body: string, system = false): StoredComment {
        this.changeRequest(changeRequest);
        const comment = { id: 9000 + this.nextId(), changeRequest, body, system, edits: 0 };
        this.state.comments.push(comment);
        return comment;
    }

    merge(cr: ChangeRequest): void {
        const source = this.branch(cr.sourceBranch);
        const target = this.branch(cr.targetBranch);
        if (!source || !target) throw new Error(`merge request ${cr.number}: a branch is missing`);
        const changes = new Map<string, string | null>();
        for (const [path, file] of source.files) {
            if (target.files.get(path)?.content !== file.content) changes.set(path, file.content);
        }
        for (const path of target.files.keys()) if (!source.files.has(path)) changes.set(path, null);
        this.applyChanges(target, `Merge branch '${cr.sourceBranch}' into '${cr.targetBranch}'`, changes);
        cr.state = "merged";
        if (cr.removeSourceBranch) this.state.branches.delete(cr.sourceBranch);
    }
}

const now = (): string => new Date().toISOString();

/** GitLab v4: the calls a merge request proposer and a file committer make, and a few neighbours. */
class GitlabApi {
    /** The stand-in's URL, known once it listens. */
    base = "";

    constructor(
        private readonly repo: Repository,
        private readonly project: string,
    ) {}

    private get state(): RepositoryState {
        return this.repo.state;
    }

    private webUrl(rest: string): string {
        return `${this.base}/${this.project}/-/${rest}`;
    }

    private commitJson(sha: string): Record<string, unknown> {
        const commit = this.repo.commit(sha);
        const title = commit?.message.split("\n")[0] ?? "";
        return {
            id: sha,
            short_id: sha.slice(0, 8),
            created_at: now(),
            parent_ids: commit?.parent ? [commit.parent] : [],
            title,
            message: commit?.message ?? "",
            author_name: "Remediator",
            author_email: "remediator@example.invalid",
            authored_date: now(),
            committer_name: "Remediator",
            committer_email: "remediator@example.invalid",
            committed_date: now(),
            trailers: {},
            web_url: this.webUrl(`commit/${sha}`),
        };
    }

    private branchJson(branch: StoredBranch): Record<string, unknown> {
        const isDefault = branch.name === this.state.defaultBranch;
        return {
            name: branch.name,
            merged: false,
            protected: isDefault,
            default: isDefault,
            developers_can_push: false,
            developers_can_merge: false,
            can_push: true,
            web_url: this.webUrl(`tree/${branch.name}`),
            commit: this.commitJson(branch.head),
        };
    }

    private mergeRequestJson(cr: ChangeRequest): Record<string, unknown> {
        return {
            id: cr.id,
            iid: cr.number,
            project_id: GITLAB_PROJECT_ID,
            title: cr.title,
            description: cr.description,
            state: cr.state,
            created_at: now(),
            updated_at: now(),
            merged_at: null,
            closed_at: null,
            target_branch: cr.targetBranch,
            source_branch: cr.sourceBranch,
            source_project_id: GITLAB_PROJECT_ID,
            target_project_id: GITLAB_PROJECT_ID,
            author: { id: 1, username: "remediator", name: "Remediator", state: "active" },
            assignees: [],
            reviewers: [],
            labels: cr.labels,
            draft: false,
            work_in_progress: false,
            milestone: null,
            merge_when_pipeline_succeeds: false,
            merge_status: "can_be_merged",
            detailed_merge_status: "mergeable",
            sha: cr.sha,
            merge_commit_sha: null,
            squash: false,
            force_remove_source_branch: cr.removeSourceBranch,
            references: { short: `!${cr.number}`, relative: `!${cr.number}`, full: `${this.project}!${cr.number}` },
            web_url: cr.webUrl,
            has_conflicts: false,
            user_notes_count: 0,
        };
    }

    handle(method: string, segments: string[], query: Record<string, string>, body: Record<string, unknown>): Answer {
        // segments: api v4 projects :id …
        if (segments[0] !== "api" || segments[1] !== "v4" || segments[2] !== "projects" || segments[3] === undefined) {
            return answer(404, { error: "404 Not Found" });
        }
        if (segments[3] !== this.project && segments[3] !== String(GITLAB_PROJECT_ID)) {
            return answer(404, { message: "404 Project Not Found" });
        }
        const rest = segments.slice(4);
        const route = `${method} ${rest.join("/")}`;

        if (method === "GET" && rest.join("/") === "merge_requests") return this.listMergeRequests(query);
        if (rest[0] === "merge_requests" && rest.length === 1 && method === "POST")
            return this.createMergeRequest(body);
        if (rest[0] === "merge_requests" && rest[2] === "notes" && (rest.length === 3 || rest.length === 4)) {
            const cr = this.state.changeRequests.find((c) => String(c.number) === rest[1]);
            if (!cr) return answer(404, { message: "404 Not found" });
            return this.notes(method, cr, rest[3], query, body);
        }
        if (rest[0] === "merge_requests" && rest.length === 2) {
            const cr = this.state.changeRequests.find((c) => String(c.number) === rest[1]);
            if (!cr) return answer(404, { message: "404 Not found" });
            if (method === "GET") return answer(200, this.mergeRequestJson(cr));
            if (method === "PUT") return this.editMergeRequest(cr, body);
        }
        if (rest[0] === "repository" && rest[1] === "files" && rest[2] !== undefined) {
            if (method === "GET" && rest.length === 3) return this.showFile(rest[2], query, false);
            if (method === "GET" && rest.length === 4 && rest[3] === "raw") return this.showFile(rest[2], query, true);
            if (method === "POST" && rest.length === 3) return this.writeFile(rest[2], body, "create");
            if (method === "PUT" && rest.length === 3) return this.writeFile(rest[2], body, "update");
        }
        if (rest[0] === "repository" && rest[1] === "branches") {
            if (rest.length === 2 && method === "POST") return this.createBranch(body, query);
            if (rest.length === 2 && method === "GET") {
                return answer(
                    200,
                    [...this.state.branches.values()].map((b) => this.branchJson(b)),
                );
            }
            if (rest.length === 3) {
                const branch = this.repo.branch(rest[2]!);
                if (!branch) return answer(404, { message: "404 Branch Not Found" });
                if (method === "GET") return answer(200, this.branchJson(branch));
                if (method === "DELETE") {
                    if (branch.name === this.state.defaultBranch) {
                        return answer(400, { message: "The default branch of a project cannot be deleted." });
                    }
                    this.state.branches.delete(branch.name);
                    return answer(204);
                }
            }
        }
        if (method === "POST" && rest.join("/") === "repository/commits") return this.createCommit(body);
        return answer(404, { error: `404 Not Found (the stand-in does not serve ${route})` });
    }

    private noteJson(note: StoredComment): Record<string, unknown> {
        return {
            id: note.id,
            type: null,
            body: note.body,
            author: { id: 1, username: note.system ? "gitlab" : "ci-bot", name: "CI", state: "active" },
            created_at: now(),
            updated_at: now(),
            system: note.system,
            noteable_id: note.changeRequest,
            noteable_type: "MergeRequest",
            noteable_iid: note.changeRequest,
            resolvable: false,
            confidential: false,
            internal: false,
        };
    }

    /** Notes on a merge request: list (paged), create, edit. */
    private notes(
        method: string,
        cr: ChangeRequest,
        noteId: string | undefined,
        query: Record<string, string>,
        body: Record<string, unknown>,
    ): Answer {
        const onRequest = this.state.comments.filter((c) => c.changeRequest === cr.number);
        if (noteId === undefined && method === "GET") {
            const p = page(onRequest, query, 100);
            const headers: Record<string, string> = {
                "x-page": String(p.current),
                "x-per-page": String(p.perPage),
                "x-total": String(onRequest.length),
                "x-total-pages": String(p.pages),
                "x-next-page": p.next === undefined ? "" : String(p.next),
            };
            if (p.next !== undefined) {
                headers.link = `<${this.base}/api/v4/projects/${GITLAB_PROJECT_ID}/merge_requests/${cr.number}/notes?page=${p.next}&per_page=${p.perPage}>; rel="next"`;
            }
            return { status: 200, body: p.items.map((n) => this.noteJson(n)), headers };
        }
        if (noteId === undefined && method === "POST") {
            if (typeof body.body !== "string" || body.body === "") return answer(400, { error: "body is missing" });
            return answer(201, this.noteJson(this.repo.addComment(cr.number, body.body)));
        }
        const note = onRequest.find((c) => String(c.id) === noteId);
        if (!note) return answer(404, { message: "404 Note Not Found" });
        if (method === "PUT") {
            if (typeof body.body !== "string" || body.body === "") return answer(400, { error: "body is missing" });
            if (note.system) return answer(403, { message: "403 Forbidden" });
            note.body = body.body;
            note.edits += 1;
            return answer(200, this.noteJson(note));
        }
        return answer(405, { message: "405 Method Not Allowed" });
    }

    private listMergeRequests(query: Record<string, string>): Answer {
        const state = query.state ?? "all";
        const list = this.state.changeRequests.filter(
            (cr) =>
                (state === "all" || cr.state === state) &&
                (query.source_branch === undefined || cr.sourceBranch === query.source_branch) &&
                (query.target_branch === undefined || cr.targetBranch === query.target_branch),
        );
        return answer(
            200,
            list
                .slice()
                .reverse()
                .map((cr) => this.mergeRequestJson(cr)),
        );
    }

    private showFile(path: string, query: Record<string, string>, raw: boolean): Answer {
        if (!query.ref) return answer(400, { error: "ref is missing, ref is empty" });
        const branch = this.repo.branch(query.ref);
        const file = branch?.files.get(path);
        if (!branch || !file) return answer(404, { message: "404 File Not Found" });
        if (raw) return answer(200, file.content);
        return answer(200, {
            file_name: path.split("/").pop(),
            file_path: path,
            size: Buffer.byteLength(file.content),
            encoding: "base64",
            content_sha256: createHash("sha256").update(file.content).digest("hex"),
            ref: query.ref,
            blob_id: file.blobSha,
            commit_id: branch.head,
            last_commit_id: file.lastCommitId,
            execute_filemode: false,
            content: Buffer.from(file.content, "utf8").toString("base64"),
        });
    }

    /**
     * Creates (POST) or updates (PUT) one file on a branch as one commit, as
     * `/projects/:id/repository/files/:file_path` does: `branch`, `content` and `commit_message`
     * required, `encoding` `text` (default) or `base64`, `last_commit_id` checked when given,
     * `start_branch` to make the branch first. Answers `{file_path, branch}`.
     */
    private writeFile(path: string, body: Record<string, unknown>, action: "create" | "update"): Answer {
        const missing = ["branch", "content", "commit_message"].filter((key) => body[key] === undefined);
        if (missing.length > 0) return answer(400, { error: missing.map((key) => `${key} is missing`).join(", ") });
        if (path.split("/").some((part) => part === ".." || part === "") || path.startsWith("/")) {
            return answer(400, { error: "file_path should be a valid file path" });
        }
        const encoding = body.encoding ?? "text";
        if (encoding !== "text" && encoding !== "base64") {
            return answer(400, { error: "encoding does not have a valid value" });
        }
        const name = String(body.branch);
        let branch = this.repo.branch(name);
        if (!branch && body.start_branch !== undefined) {
            const start = this.repo.branch(String(body.start_branch));
            if (!start) return answer(400, { message: `Invalid start branch: ${String(body.start_branch)}` });
            branch = this.repo.createBranch(name, start.head);
        }
        if (!branch) return answer(400, { message: "You can only create or edit files when you are on a branch" });
        const content =
            encoding === "base64" ? Buffer.from(String(body.content), "base64").toString("utf8") : String(body.content);
        const existing = branch.files.get(path);
        if (action === "create" && existing) return answer(400, { message: "A file with this name already exists" });
        if (action === "update") {
            if (!existing) return answer(400, { message: "A file with this name doesn't exist" });
            if (body.last_commit_id !== undefined && body.last_commit_id !== existing.lastCommitId) {
                return answer(400, { message: `The file has changed since you started editing it: ${path}` });
            }
            // GitLab refuses an update that would make an empty commit.
            if (existing.content === content) return answer(400, { message: "The file content is unchanged" });
        }
        this.repo.applyChanges(branch, String(body.commit_message), new Map([[path, content]]));
        return answer(action === "create" ? 201 : 200, { file_path: path, branch: branch.name });
    }

    private createBranch(body: Record<string, unknown>, query: Record<string, string>): Answer {
        const name = body.branch ?? query.branch;
        const ref = body.ref ?? query.ref;
        const missing = [name ? "" : "branch is missing", ref ? "" : "ref is missing"].filter(Boolean);
        if (missing.length > 0) return answer(400, { error: missing.join(", ") });
        if (typeof name !== "string" || !/^[A-Za-z0-9._\-/]+$/.test(name) || /\.\.|\/\/|^\/|\/$/.test(name)) {
            return answer(400, { message: "Branch name is invalid" });
        }
        if (this.repo.branch(name)) return answer(400, { message: "Branch already exists" });
        const from = this.repo.resolve(String(ref));
        if (!from) return answer(400, { message: `Invalid reference name: ${String(ref)}` });
        return answer(201, this.branchJson(this.repo.createBranch(name, from)));
    }

    private createCommit(body: Record<string, unknown>): Answer {
        const missing = ["branch", "commit_message", "actions"].filter((key) => body[key] === undefined);
        if (missing.length > 0) return answer(400, { error: missing.map((key) => `${key} is missing`).join(", ") });
        const name = String(body.branch);
        const startName = body.start_branch === undefined ? undefined : String(body.start_branch);
        let branch = this.repo.branch(name);
        if (startName !== undefined && (!branch || body.force === true)) {
            const start = this.repo.branch(startName);
            if (!start) return answer(400, { message: `Invalid start branch: ${startName}` });
            branch = this.repo.createBranch(name, start.head);
        }
        if (!branch) return answer(400, { message: "You can only create or edit files when you are on a branch" });
        if (!Array.isArray(body.actions) || body.actions.length === 0) {
            return answer(400, { error: "actions is empty" });
        }
        const changes = new Map<string, string | null>();
        for (const raw of body.actions as Record<string, unknown>[]) {
            const path = String(raw.file_path ?? "");
            const existing = branch.files.get(path);
            const content =
                raw.encoding === "base64"
                    ? Buffer.from(String(raw.content ?? ""), "base64").toString("utf8")
                    : String(raw.content ?? "");
            if (raw.last_commit_id !== undefined && existing && raw.last_commit_id !== existing.lastCommitId) {
                return answer(400, { message: `The file has changed since you started editing it: ${path}` });
            }
            switch (raw.action) {
                case "create":
                    if (existing) return answer(400, { message: "A file with this name already exists" });
                    changes.set(path, content);
                    break;
                case "update":
                    if (!existing) return answer(400, { message: "A file with this name doesn't exist" });
                    changes.set(path, content);
                    break;
                case "delete":
                    if (!existing) return answer(400, { message: "A file with this name doesn't exist" });
                    changes.set(path, null);
                    break;
                default:
                    return answer(400, { error: `actions[action] does not have a valid value: ${String(raw.action)}` });
            }
        }
        const commit = this.repo.applyChanges(branch, String(body.commit_message), changes);
        return answer(201, this.commitJson(commit.sha));
    }

    private createMergeRequest(body: Record<string, unknown>): Answer {
        const missing = ["source_branch", "target_branch", "title"].filter((key) => !body[key]);
        if (missing.length > 0) return answer(400, { error: missing.map((key) => `${key} is missing`).join(", ") });
        const sourceBranch = String(body.source_branch);
        const targetBranch = String(body.target_branch);
        const source = this.repo.branch(sourceBranch);
        if (!source) return answer(422, { message: [`Source branch "${sourceBranch}" does not exist`] });
        if (!this.repo.branch(targetBranch)) {
            return answer(422, { message: [`Target branch "${targetBranch}" does not exist`] });
        }
        const duplicate = this.state.changeRequests.find(
            (cr) => cr.state === "opened" && cr.sourceBranch === sourceBranch && cr.targetBranch === targetBranch,
        );
        if (duplicate) {
            return answer(409, {
                message: [`Another open merge request already exists for this source branch: !${duplicate.number}`],
            });
        }
        const labels = Array.isArray(body.labels)
            ? body.labels.map(String)
            : typeof body.labels === "string"
              ? body.labels.split(",").filter(Boolean)
              : [];
        const number = this.state.changeRequests.length + 1;
        const cr: ChangeRequest = {
            number,
            id: this.repo.nextId() + 1000,
            title: String(body.title),
            description: typeof body.description === "string" ? body.description : "",
            sourceBranch,
            targetBranch,
            state: "opened",
            labels,
            removeSourceBranch: body.remove_source_branch === true,
            sha: source.head,
            webUrl: this.webUrl(`merge_requests/${number}`),
        };
        this.state.changeRequests.push(cr);
        return answer(201, this.mergeRequestJson(cr));
    }

    private editMergeRequest(cr: ChangeRequest, body: Record<string, unknown>): Answer {
        if (body.state_event === "close") cr.state = "closed";
        else if (body.state_event === "reopen" && cr.state === "closed") cr.state = "opened";
        if (typeof body.title === "string") cr.title = body.title;
        if (typeof body.description === "string") cr.description = body.description;
        return answer(200, this.mergeRequestJson(cr));
    }
}

/** GitHub REST: the calls a pull request proposer and a file committer make, and a few neighbours. */
class GithubApi {
    /** The stand-in's URL, known once it listens. */
    base = "";
    private readonly owner: string;
    private readonly name: string;

    constructor(
        private readonly repo: Repository,
        repository: string,
    ) {
        const [owner, name] = repository.split("/");
        if (!owner || !name) throw new Error(`GitHub repository "${repository}": expected owner/repo`);
        this.owner = owner;
        this.name = name;
    }

    private get state(): RepositoryState {
        return this.repo.state;
    }

    private get apiRepo(): string {
        return `${this.base}/repos/${this.owner}/${this.name}`;
    }

    private notFound(doc: string): Answer {
        return answer(404, {
            message: "Not Found",
            documentation_url: `https://docs.github.com/rest/${doc}`,
            status: "404",
        });
    }

    private invalid(doc: string, message: string, errors?: unknown[]): Answer {
        return answer(422, {
            message,
            ...(errors ? { errors } : {}),
            documentation_url: `https://docs.github.com/rest/${doc}`,
            status: "422",
        });
    }

    private refJson(branch: StoredBranch): Record<string, unknown> {
        return {
            ref: `refs/heads/${branch.name}`,
            node_id: `REF_${sha1(branch.name).slice(0, 12)}`,
            url: `${this.apiRepo}/git/refs/heads/${branch.name}`,
            object: { sha: branch.head, type: "commit", url: `${this.apiRepo}/git/commits/${branch.head}` },
        };
    }

    private contentJson(path: string, file: StoredFile, ref: string): Record<string, unknown> {
        const html = `${this.base}/${this.owner}/${this.name}/blob/${ref}/${path}`;
        const git = `${this.apiRepo}/git/blobs/${file.blobSha}`;
        const self = `${this.apiRepo}/contents/${path}?ref=${encodeURIComponent(ref)}`;
        return {
            type: "file",
            name: path.split("/").pop(),
            path,
            sha: file.blobSha,
            size: Buffer.byteLength(file.content),
            url: self,
            html_url: html,
            git_url: git,
            download_url: `${this.base}/raw/${this.owner}/${this.name}/${ref}/${path}`,
            _links: { self, git, html },
        };
    }

    private pullJson(cr: ChangeRequest): Record<string, unknown> {
        const branchSha = (name: string) => this.repo.branch(name)?.head ?? cr.sha;
        const repoJson = {
            id: 1,
            name: this.name,
            full_name: `${this.owner}/${this.name}`,
            owner: { login: this.owner },
        };
        return {
            url: `${this.apiRepo}/pulls/${cr.number}`,
            id: cr.id,
            node_id: `PR_${cr.id}`,
            html_url: cr.webUrl,
            number: cr.number,
            state: cr.state === "opened" ? "open" : "closed",
            locked: false,
            title: cr.title,
            body: cr.description,
            user: { login: "remediator", id: 1, type: "User" },
            labels: cr.labels.map((name, i) => ({ id: i + 1, name })),
            created_at: now(),
            updated_at: now(),
            closed_at: cr.state === "opened" ? null : now(),
            merged_at: cr.state === "merged" ? now() : null,
            merge_commit_sha: null,
            draft: false,
            head: {
                label: `${this.owner}:${cr.sourceBranch}`,
                ref: cr.sourceBranch,
                sha: branchSha(cr.sourceBranch),
                repo: repoJson,
            },
            base: {
                label: `${this.owner}:${cr.targetBranch}`,
                ref: cr.targetBranch,
                sha: branchSha(cr.targetBranch),
                repo: repoJson,
            },
        };
    }

    handle(method: string, segments: string[], query: Record<string, string>, body: Record<string, unknown>): Answer {
        const path = segments[0] === "api" && segments[1] === "v3" ? segments.slice(2) : segments;
        if (path[0] !== "repos" || path[1] === undefined || path[2] === undefined) return this.notFound("");
        if (path[1] !== this.owner || path[2] !== this.name) return this.notFound("repos/repos#get-a-repository");
        const rest = path.slice(3);
        const route = rest.join("/");

        if (rest[0] === "pulls") {
            if (rest.length === 1 && method === "GET") return this.listPulls(query);
            if (rest.length === 1 && method === "POST") return this.createPull(body);
            const cr = this.state.changeRequests.find((c) => String(c.number) === rest[1]);
            if (rest.length === 2 && !cr) return this.notFound("pulls/pulls#get-a-pull-request");
            if (rest.length === 2 && cr && method === "GET") return answer(200, this.pullJson(cr));
            if (rest.length === 2 && cr && method === "PATCH") return this.updatePull(cr, body);
        }
        if (rest[0] === "issues" && rest[1] === "comments" && rest.length === 3) {
            const comment = this.state.comments.find((c) => String(c.id) === rest[2]);
            if (!comment) return this.notFound("issues/comments#update-an-issue-comment");
            if (method !== "PATCH") return this.notFound("issues/comments");
            if (typeof body.body !== "string") return answer(422, { message: "Invalid request: body is missing" });
            comment.body = body.body;
            comment.edits += 1;
            return answer(200, this.commentJson(comment));
        }
        if (rest[0] === "issues" && rest[2] === "comments" && rest.length === 3) {
            const cr = this.state.changeRequests.find((c) => String(c.number) === rest[1]);
            if (!cr) return this.notFound("issues/comments#list-issue-comments");
            if (method === "GET") {
                const all = this.state.comments.filter((c) => c.changeRequest === cr.number);
                const p = page(all, query, 100);
                const headers: Record<string, string> = {};
                if (p.next !== undefined) {
                    headers.link = `<${this.apiRepo}/issues/${cr.number}/comments?per_page=${p.perPage}&page=${p.next}>; rel="next", <${this.apiRepo}/issues/${cr.number}/comments?per_page=${p.perPage}&page=${p.pages}>; rel="last"`;
                }
                return { status: 200, body: p.items.map((c) => this.commentJson(c)), headers };
            }
            if (method === "POST") {
                if (typeof body.body !== "string") return answer(422, { message: "Invalid request: body is missing" });
                return answer(201, this.commentJson(this.repo.addComment(cr.number, body.body)));
            }
        }
        if (rest[0] === "contents" && rest.length >= 2) {
            // Octokit sends the path as one encoded segment; other clients send its slashes as is.
            const filePath = rest.slice(1).join("/");
            if (method === "GET") return this.getContent(filePath, query);
            if (method === "PUT") return this.putContent(filePath, body);
        }
        if (method === "GET" && rest[0] === "git" && rest[1] === "ref" && rest.length >= 3) {
            return this.getRef(rest.slice(2).join("/"));
        }
        if (method === "POST" && route === "git/refs") return this.createRef(body);
        return answer(404, {
            message: `Not Found (the stand-in does not serve ${method} ${route})`,
            documentation_url: "https://docs.github.com/rest",
            status: "404",
        });
    }

    private commentJson(comment: StoredComment): Record<string, unknown> {
        return {
            id: comment.id,
            node_id: `IC_${comment.id}`,
            url: `${this.apiRepo}/issues/comments/${comment.id}`,
            html_url: `https://github.example/${this.owner}/${this.name}/pull/${comment.changeRequest}#issuecomment-${comment.id}`,
            body: comment.body,
            user: { login: "github-actions[bot]", id: 41898282, type: "Bot" },
            created_at: now(),
            updated_at: now(),
            issue_url: `${this.apiRepo}/issues/${comment.changeRequest}`,
            author_association: "NONE",
        };
    }

    private listPulls(query: Record<string, string>): Answer {
        const state = query.state ?? "open";
        const head = query.head;
        const list = this.state.changeRequests.filter((cr) => {
            const crState = cr.state === "opened" ? "open" : "closed";
            if (state !== "all" && crState !== state) return false;
            if (head !== undefined) {
                const [owner, branch] = head.includes(":") ? head.split(/:(.*)/s) : [this.owner, head];
                if (owner !== this.owner || branch !== cr.sourceBranch) return false;
            }
            return query.base === undefined || query.base === cr.targetBranch;
        });
        return answer(
            200,
            list
                .slice()
                .reverse()
                .map((cr) => this.pullJson(cr)),
        );
    }

    private getContent(path: string, query: Record<string, string>): Answer {
        const ref = query.ref ?? this.state.defaultBranch;
        const file = this.repo.branch(ref)?.files.get(path);
        if (!file) return this.notFound("repos/contents#get-repository-content");
        const base64 = Buffer.from(file.content, "utf8").toString("base64");
        return answer(200, {
            ...this.contentJson(path, file, ref),
            encoding: "base64",
            // GitHub wraps the base64 text at 60 characters.
            content: (base64.match(/.{1,60}/g) ?? [""]).join("\n") + "\n",
        });
    }

    private putContent(path: string, body: Record<string, unknown>): Answer {
        const doc = "repos/contents#create-or-update-file-contents";
        if (typeof body.message !== "string" || typeof body.content !== "string") {
            return this.invalid(doc, 'Invalid request.\n\n"message" and "content" are required.');
        }
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body.content.replace(/\s+/g, ""))) {
            return this.invalid(doc, "content is not valid Base64");
        }
        const branchName = typeof body.branch === "string" ? body.branch : this.state.defaultBranch;
        const branch = this.repo.branch(branchName);
        if (!branch) return answer(404, { message: `Branch ${branchName} not found`, status: "404" });
        const existing = branch.files.get(path);
        if (existing && body.sha === undefined) return this.invalid(doc, 'Invalid request.\n\n"sha" wasn\'t supplied.');
        if (existing && body.sha !== existing.blobSha) {
            return answer(409, { message: `${path} does not match ${String(body.sha)}`, status: "409" });
        }
        const content = Buffer.from(body.content, "base64").toString("utf8");
        const commit = this.repo.applyChanges(branch, body.message, new Map([[path, content]]));
        return answer(existing ? 200 : 201, {
            content: this.contentJson(path, branch.files.get(path)!, branchName),
            commit: {
                sha: commit.sha,
                node_id: `C_${commit.sha.slice(0, 12)}`,
                url: `${this.apiRepo}/git/commits/${commit.sha}`,
                html_url: `${this.base}/${this.owner}/${this.name}/commit/${commit.sha}`,
                author: { name: "Remediator", email: "remediator@example.invalid", date: now() },
                committer: { name: "Remediator", email: "remediator@example.invalid", date: now() },
                message: commit.message,
                tree: {
                    sha: sha1(`tree ${commit.sha}`),
                    url: `${this.apiRepo}/git/trees/${sha1(`tree ${commit.sha}`)}`,
                },
                parents: commit.parent
                    ? [{ sha: commit.parent, url: `${this.apiRepo}/git/commits/${commit.parent}` }]
                    : [],
                verification: { verified: false, reason: "unsigned", signature: null, payload: null },
            },
        });
    }

    private getRef(ref: string): Answer {
        const branch = ref.startsWith("heads/") ? this.repo.branch(ref.slice("heads/".length)) : undefined;
        if (!branch) return this.notFound("git/refs#get-a-reference");
        return answer(200, this.refJson(branch));
    }

    private createRef(body: Record<string, unknown>): Answer {
        const doc = "git/refs#create-a-reference";
        const ref = body.ref;
        if (typeof ref !== "string" || typeof body.sha !== "string") {
            return this.invalid(doc, 'Invalid request.\n\n"ref" and "sha" are required.');
        }
        if (!ref.startsWith("refs/") || ref.split("/").length < 3) {
            return this.invalid(doc, "Reference name must start with 'refs/' and have at least two slashes.");
        }
        if (!ref.startsWith("refs/heads/")) return this.invalid(doc, "The stand-in only makes branches (refs/heads/…)");
        const name = ref.slice("refs/heads/".length);
        if (this.repo.branch(name)) return this.invalid(doc, "Reference already exists");
        if (!this.repo.commit(body.sha)) return this.invalid(doc, "Object does not exist");
        return answer(201, this.refJson(this.repo.createBranch(name, body.sha)));
    }

    private createPull(body: Record<string, unknown>): Answer {
        const doc = "pulls/pulls#create-a-pull-request";
        const field = (name: string) => ({ resource: "PullRequest", field: name, code: "missing_field" });
        const missing = ["title", "head", "base"].filter((key) => typeof body[key] !== "string" || !body[key]);
        if (missing.length > 0) return this.invalid(doc, "Validation Failed", missing.map(field));
        const headName = String(body.head).replace(new RegExp(`^${this.owner}:`), "");
        const baseName = String(body.base);
        const head = this.repo.branch(headName);
        const base = this.repo.branch(baseName);
        if (!head)
            return this.invalid(doc, "Validation Failed", [
                { resource: "PullRequest", field: "head", code: "invalid" },
            ]);
        if (!base)
            return this.invalid(doc, "Validation Failed", [
                { resource: "PullRequest", field: "base", code: "invalid" },
            ]);
        const custom = (message: string) => [{ resource: "PullRequest", code: "custom", message }];
        if (
            this.state.changeRequests.some(
                (cr) => cr.state === "opened" && cr.sourceBranch === headName && cr.targetBranch === baseName,
            )
        ) {
            return this.invalid(
                doc,
                "Validation Failed",
                custom(`A pull request already exists for ${this.owner}:${headName}.`),
            );
        }
        if (head.head === base.head) {
            return this.invalid(doc, "Validation Failed", custom(`No commits between ${baseName} and ${headName}`));
        }
        const number = this.state.changeRequests.length + 1;
        const cr: ChangeRequest = {
            number,
            id: this.repo.nextId() + 1000,
            title: String(body.title),
            description: typeof body.body === "string" ? body.body : "",
            sourceBranch: headName,
            targetBranch: baseName,
            state: "opened",
            labels: [],
            removeSourceBranch: false,
            sha: head.head,
            webUrl: `${this.base}/${this.owner}/${this.name}/pull/${number}`,
        };
        this.state.changeRequests.push(cr);
        return answer(201, this.pullJson(cr));
    }

    private updatePull(cr: ChangeRequest, body: Record<string, unknown>): Answer {
        if (body.state === "closed" && cr.state === "opened") cr.state = "closed";
        else if (body.state === "open" && cr.state === "closed") cr.state = "opened";
        if (typeof body.title === "string") cr.title = body.title;
        if (typeof body.body === "string") cr.description = body.body;
        return answer(200, this.pullJson(cr));
    }
}

/** Whether the request carries the token in the header the provider reads it from. */
function authorised(provider: GitProvider, token: string, headers: http.IncomingHttpHeaders): boolean {
    const authorization = headers.authorization ?? "";
    if (provider === "gitlab") {
        return headers["private-token"] === token || authorization === `Bearer ${token}`;
    }
    const match = /^(token|bearer)\s+(.+)$/i.exec(authorization);
    return match?.[2] === token;
}

const decode = (segment: string): string => {
    try {
        return decodeURIComponent(segment);
    } catch {
        return segment;
    }
};

function parseBody(text: string): unknown {
    if (text === "") return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/** Starts the stand-in on 127.0.0.1 at a free port. */
export async function startGitHosting(options: GitHostingOptions): Promise<GitHostingStandIn> {
    const defaultBranch = options.defaultBranch ?? "main";
    const repo = new Repository(defaultBranch, options.files);
    const requests: RecordedRequest[] = [];
    const traps: Trap[] = [];
    const stalled = new Set<http.ServerResponse>();
    const api =
        options.provider === "gitlab"
            ? new GitlabApi(repo, options.repository)
            : new GithubApi(repo, options.repository);

    const takeTrap = (method: string, rawPath: string): Trap | undefined => {
        const decoded = decode(rawPath);
        const index = traps.findIndex(
            (t) => t.method === method && (rawPath.startsWith(t.pathPrefix) || decoded.startsWith(t.pathPrefix)),
        );
        return index < 0 ? undefined : traps.splice(index, 1)[0];
    };

    const send = (res: http.ServerResponse, record: RecordedRequest, reply: Answer): void => {
        record.status = reply.status;
        const headers: http.OutgoingHttpHeaders = { ...reply.headers };
        if (options.provider === "github") headers["x-github-request-id"] = `STAND-IN:${requests.length}`;
        if (reply.status === 204 || reply.body === undefined) {
            res.writeHead(reply.status, headers).end();
            return;
        }
        const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
        headers["content-type"] =
            typeof reply.body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8";
        if (Array.isArray(reply.body) && options.provider === "gitlab" && reply.headers === undefined) {
            Object.assign(headers, {
                "x-page": "1",
                "x-per-page": "20",
                "x-total": String(reply.body.length),
                "x-total-pages": "1",
            });
        }
        res.writeHead(reply.status, headers).end(text);
    };

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            const rawPath = req.url ?? "/";
            const method = (req.method ?? "GET").toUpperCase();
            const [pathname = "/", search = ""] = rawPath.split(/\?(.*)/s);
            const segments = pathname
                .split("/")
                .filter((s) => s !== "")
                .map(decode);
            const query = Object.fromEntries(new URLSearchParams(search));
            const body = parseBody(Buffer.concat(chunks).toString("utf8"));
            const record: RecordedRequest = { method, path: rawPath, segments, query, body, headers: req.headers };
            requests.push(record);

            const trap = takeTrap(method, rawPath);
            if (trap && trap.status === undefined) {
                stalled.add(res);
                return;
            }
            if (trap) {
                const message = trap.message ?? `${trap.status} injected failure`;
                send(res, record, answer(trap.status!, { message }));
                return;
            }
            if (!authorised(options.provider, options.token, req.headers)) {
                const unauthorised =
                    options.provider === "gitlab"
                        ? { message: "401 Unauthorized" }
                        : {
                              message: "Bad credentials",
                              documentation_url: "https://docs.github.com/rest",
                              status: "401",
                          };
                send(res, record, answer(401, unauthorised));
                return;
            }
            const json = body !== null && typeof body === "object" && !Array.isArray(body) ? body : {};
            try {
                send(res, record, api.handle(method, segments, query, json as Record<string, unknown>));
            } catch (err) {
                send(res, record, answer(500, { message: `stand-in failure: ${(err as Error).message}` }));
            }
        });
    });

    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    api.base = url;

    return {
        url,
        provider: options.provider,
        requests,
        state: repo.state,
        fileAt: (branch, path) => repo.branch(branch)?.files.get(path)?.content,
        openChangeRequests: () => repo.state.changeRequests.filter((cr) => cr.state === "opened"),
        closeChangeRequest: (number) => {
            repo.changeRequest(number).state = "closed";
        },
        mergeChangeRequest: (number) => repo.merge(repo.changeRequest(number)),
        openChangeRequest: (sourceBranch, title) => {
            const base = repo.branch(defaultBranch)!;
            repo.createBranch(sourceBranch, base.head);
            const number = repo.state.changeRequests.length + 1;
            repo.state.changeRequests.push({
                number,
                id: 7000 + number,
                title,
                description: "",
                sourceBranch,
                targetBranch: defaultBranch,
                state: "opened",
                labels: [],
                removeSourceBranch: false,
                sha: base.head,
                webUrl: `${url}/changes/${number}`,
            });
            return number;
        },
        addComment: (changeRequest, body, commentOptions) =>
            repo.addComment(changeRequest, body, commentOptions?.system ?? false).id,
        comments: (changeRequest) => repo.state.comments.filter((c) => c.changeRequest === changeRequest),
        failNext: (method, pathPrefix, status, message) => {
            traps.push({ method: method.toUpperCase(), pathPrefix, status, message });
        },
        stallNext: (method, pathPrefix) => {
            traps.push({ method: method.toUpperCase(), pathPrefix });
        },
        resetRequests: () => {
            requests.length = 0;
        },
        close: async () => {
            for (const res of stalled) res.destroy();
            stalled.clear();
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
