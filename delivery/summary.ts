import { CHANGE_KINDS, hasChanges, type ChangeKind } from "./changes";
import type { Command, PipelineResult, StackOutcome } from "./run";

/**
 * The Markdown summary of a pipeline run: one table over the fleet, then each stack's changed
 * resources. It is the job summary and, for a preview, the pull (merge) request comment, whose
 * first line is a marker the comment upsert finds it by.
 */

/** Hidden first line of the summary; one comment per command carries it. */
export function summaryMarker(command: Command): string {
    return `<!-- observability-pipeline:${command} -->`;
}

/** GitHub refuses comments over 65,536 characters; GitLab notes allow more. Keep room for the tail. */
export const MAX_SUMMARY_CHARS = 60_000;
/** Rows listed per stack before the rest is counted only. */
export const MAX_ROWS_PER_STACK = 200;

const TITLES: Record<Command, string> = {
    preview: "Pulumi preview",
    up: "Pulumi rollout",
    drift: "Drift check",
    rotate: "Certificate rotation",
};

const SYMBOL: Record<ChangeKind, string> = { create: "+", update: "~", replace: "+-", delete: "-" };

/** Text safe inside a Markdown table cell (and inert as HTML). */
export function cell(text: string): string {
    return text
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/\|/g, "\\|")
        .replace(/\r?\n/g, "<br>");
}

function status(outcome: StackOutcome, command: Command): string {
    if (outcome.status === "untouched") return "not run (stopped before it)";
    if (outcome.status === "failed") return "**failed**";
    const changed = outcome.changes !== undefined && hasChanges(outcome.changes);
    switch (command) {
        case "preview":
            return changed ? "changes" : "no changes";
        case "drift":
            return changed ? "**drifted**" : "in sync";
        case "up":
            return changed ? "updated" : "unchanged";
        case "rotate":
            return outcome.note ?? (changed ? "updated" : "nothing due");
    }
}

function headline(result: PipelineResult): string {
    const { outcomes, command } = result;
    const failed = outcomes.filter((o) => o.status === "failed");
    const untouched = outcomes.filter((o) => o.status === "untouched");
    const lines: string[] = [];
    if (failed.length > 0) {
        lines.push(`**Failed:** ${failed.map((o) => `\`${o.stack.name}\``).join(", ")}.`);
    }
    if (untouched.length > 0) {
        lines.push(`**Left untouched** after the failure: ${untouched.map((o) => `\`${o.stack.name}\``).join(", ")}.`);
    }
    if (command === "drift") {
        const drifted = outcomes.filter((o) => o.changes !== undefined && hasChanges(o.changes));
        lines.push(
            drifted.length > 0
                ? `**Drift** in ${drifted.length} of ${outcomes.length} stack(s): the clusters differ from the recorded state. ` +
                      "Run `pulumi refresh` to accept what changed, or `pulumi up` to put the declared state back."
                : `No drift in ${outcomes.length} stack(s).`,
        );
    }
    if (lines.length === 0) lines.push(`All ${outcomes.length} stack(s) succeeded.`);
    return lines.join("\n");
}

function stackDetails(outcome: StackOutcome, command: Command): string[] {
    const lines: string[] = [];
    const changes = outcome.changes;
    const changed = changes !== undefined && hasChanges(changes);
    if (outcome.status !== "failed" && !changed) return lines;
    lines.push("", `### \`${outcome.stack.name}\``);
    if (outcome.error !== undefined) {
        lines.push("", "```text", outcome.error.replace(/```/g, "'''"), "```");
    }
    if (changes !== undefined && changed) {
        const verb = command === "drift" ? "drifted" : command === "preview" ? "to change" : "changed";
        lines.push(
            "",
            `<details open><summary>${changes.resources.length} resource(s) ${verb}</summary>`,
            "",
            "| | type | name | properties |",
            "|---|---|---|---|",
        );
        for (const r of changes.resources.slice(0, MAX_ROWS_PER_STACK)) {
            lines.push(
                `| ${SYMBOL[r.kind]} ${r.kind} | \`${cell(r.type)}\` | ${cell(r.name)} | ${cell(r.properties.join(", "))} |`,
            );
        }
        const rest = changes.resources.length - MAX_ROWS_PER_STACK;
        if (rest > 0) lines.push("", `… and ${rest} more (the job log has them all).`);
        lines.push("", "</details>");
    }
    return lines;
}

/** The summary of a run, at most {@link MAX_SUMMARY_CHARS} characters. */
export function formatSummary(result: PipelineResult): string {
    const { command, outcomes } = result;
    const head = [
        summaryMarker(command),
        `## ${TITLES[command]}: ${outcomes.length} stack(s)`,
        "",
        headline(result),
        "",
        "| stack | cluster | phase | create | update | replace | delete | result |",
        "|---|---|---|---:|---:|---:|---:|---|",
        ...outcomes.map((o) => {
            const known = o.status === "succeeded" && o.changes !== undefined;
            const counts = CHANGE_KINDS.map((kind) => (known ? String(o.changes!.counts[kind]) : "–"));
            return `| \`${cell(o.stack.name)}\` | ${cell(o.stack.cluster)} | ${o.stack.phase} | ${counts.join(" | ")} | ${status(o, command)} |`;
        }),
    ].join("\n");
    let body = head;
    for (const outcome of outcomes) {
        const lines = stackDetails(outcome, command);
        const details = lines.length > 0 ? `\n${lines.join("\n")}` : "";
        if (body.length + details.length + 200 > MAX_SUMMARY_CHARS) {
            body += `\n\n… details of the remaining stacks are in the job log (the summary is limited to ${MAX_SUMMARY_CHARS} characters).`;
            break;
        }
        body += details;
    }
    return `${body}\n`;
}
