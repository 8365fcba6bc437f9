import * as fs from "node:fs";

import { Gitlab } from "@gitbeaker/rest";
import { Octokit } from "@octokit/rest";

/**
 * One comment per pull (merge) request: the first run posts it, later runs edit it, found by
 * the hidden marker its body starts with. The target and its token come from the CI
 * environment; a missing variable is named.
 */

export type CommentTarget =
    | { host: "github"; apiUrl: string; token: string; owner: string; repo: string; number: number }
    | { host: "gitlab"; apiUrl: string; token: string; project: string; mergeRequest: number };

export class CommentError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CommentError";
    }
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string, what: string): string {
    const value = env[name];
    if (value === undefined || value.trim() === "") {
        throw new CommentError(`${name}: expected ${what}, found nothing (the variable is not set)`);
    }
    return value.trim();
}

function positive(name: string, text: string): number {
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0) {
        throw new CommentError(`${name}: expected a pull or merge request number, found "${text}"`);
    }
    return value;
}

/**
 * Where to comment, from GitHub Actions' or GitLab CI's variables: GitHub when `GITHUB_ACTIONS`
 * is set, GitLab when `GITLAB_CI` is.
 */
export function commentTargetFromEnv(env: Env): CommentTarget {
    if (env.GITHUB_ACTIONS === "true") {
        const repository = required(env, "GITHUB_REPOSITORY", "owner/repo");
        const [owner, repo, ...extra] = repository.split("/");
        if (!owner || !repo || extra.length > 0) {
            throw new CommentError(`GITHUB_REPOSITORY: expected owner/repo, found "${repository}"`);
        }
        const eventPath = required(env, "GITHUB_EVENT_PATH", "the path of the event payload");
        let event: { pull_request?: { number?: unknown } };
        try {
            event = JSON.parse(fs.readFileSync(eventPath, "utf8")) as typeof event;
        } catch (err) {
            throw new CommentError(`GITHUB_EVENT_PATH: cannot read the event payload: ${(err as Error).message}`);
        }
        const number = event.pull_request?.number;
        if (typeof number !== "number") {
            throw new CommentError(
                "GITHUB_EVENT_PATH: expected a pull_request event (the payload has no pull_request.number); " +
                    "run `preview --comment` from a pull_request workflow",
            );
        }
        return {
            host: "github",
            apiUrl: env.GITHUB_API_URL?.trim() || "https://api.github.com",
            token: required(env, "GITHUB_TOKEN", "a token allowed to write pull request comments"),
            owner,
            repo,
            number,
        };
    }
    if (env.GITLAB_CI === "true") {
        const apiUrl = required(env, "CI_API_V4_URL", "the GitLab API URL");
        return {
            host: "gitlab",
            apiUrl: apiUrl.replace(/\/api\/v4\/?$/, ""),
            token: required(
                env,
                "GITLAB_TOKEN",
                "a project access token with the api scope (CI_JOB_TOKEN cannot write notes)",
            ),
            project: required(env, "CI_PROJECT_ID", "the project id"),
            mergeRequest: positive(
                "CI_MERGE_REQUEST_IID",
                required(env, "CI_MERGE_REQUEST_IID", "a merge request pipeline (the variable is set only there)"),
            ),
        };
    }
    throw new CommentError(
        "--comment: expected to run in GitHub Actions (GITHUB_ACTIONS=true) or GitLab CI (GITLAB_CI=true), found neither",
    );
}

export interface CommentResult {
    action: "created" | "updated";
    id: number;
}

interface ExistingComment {
    id: number;
    body: string;
}

/** The most recent comment whose body starts with the marker. */
function latest(comments: readonly ExistingComment[], marker: string): ExistingComment | undefined {
    return comments.filter((c) => c.body.startsWith(marker)).sort((a, b) => b.id - a.id)[0];
}

/** Posts `body` (which starts with `marker`), or edits the comment that already carries the marker. */
export async function upsertComment(target: CommentTarget, marker: string, body: string): Promise<CommentResult> {
    if (!body.startsWith(marker)) throw new Error("the comment body must start with its marker");
    const where =
        target.host === "github"
            ? `pull request #${target.number} of ${target.owner}/${target.repo}`
            : `merge request !${target.mergeRequest} of project ${target.project}`;
    try {
        return target.host === "github"
            ? await upsertGithub(target, marker, body)
            : await upsertGitlab(target, marker, body);
    } catch (err) {
        const status =
            (err as { status?: number; cause?: { response?: { status?: number } } }).status ??
            (err as { cause?: { response?: { status?: number } } }).cause?.response?.status;
        throw new CommentError(
            `commenting on ${where} failed${status !== undefined ? ` (HTTP ${status})` : ""}: ${(err as Error).message}`,
        );
    }
}

async function upsertGithub(
    target: Extract<CommentTarget, { host: "github" }>,
    marker: string,
    body: string,
): Promise<CommentResult> {
    const quiet = (): void => undefined;
    const api = new Octokit({
        auth: target.token,
        baseUrl: target.apiUrl,
        log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    const where = { owner: target.owner, repo: target.repo };
    const comments = await api.paginate(api.rest.issues.listComments, {
        ...where,
        issue_number: target.number,
        per_page: 100,
    });
    const existing = latest(
        comments.map((c) => ({ id: c.id, body: c.body ?? "" })),
        marker,
    );
    if (existing) {
        await api.rest.issues.updateComment({ ...where, comment_id: existing.id, body });
        return { action: "updated", id: existing.id };
    }
    const { data } = await api.rest.issues.createComment({ ...where, issue_number: target.number, body });
    return { action: "created", id: data.id };
}

async function upsertGitlab(
    target: Extract<CommentTarget, { host: "gitlab" }>,
    marker: string,
    body: string,
): Promise<CommentResult> {
    const api = new Gitlab({ host: target.apiUrl, token: target.token });
    const notes = await api.MergeRequestNotes.all(target.project, target.mergeRequest, { perPage: 100 });
    const existing = latest(
        notes.filter((n) => !n.system).map((n) => ({ id: n.id, body: n.body })),
        marker,
    );
    if (existing) {
        await api.MergeRequestNotes.edit(target.project, target.mergeRequest, existing.id, { body });
        return { action: "updated", id: existing.id };
    }
    const created = await api.MergeRequestNotes.create(target.project, target.mergeRequest, body);
    return { action: "created", id: created.id };
}
