import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { projectDir, tempDir } from "./helpers";

/**
 * Every shell command shown in a fenced block of README.md and docs/*.md, run as a new user
 * would paste it: in a copy of this working tree (its own Git repository, node_modules shared),
 * one fresh copy per block, the block's commands in order. A non-zero exit fails. Commands that
 * need what this machine does not have are left out by the rules below, each with its reason,
 * and every rule must still match a command.
 */

const EXCLUDED: { pattern: RegExp; reason: string }[] = [
    { pattern: /^pulumi\b/, reason: "needs the Pulumi CLI, a state backend and a cluster" },
    { pattern: /^talosctl\b/, reason: "patches the nodes of a Talos cluster" },
    { pattern: /^kubectl\b/, reason: "acts on a cluster" },
    { pattern: /^helm upgrade\b/, reason: "upgrades a release in a cluster" },
    { pattern: /^npm run pipeline\b/, reason: "drives the stacks through the Pulumi CLI and a state backend" },
    { pattern: /^npm run remediation -- restore\b/, reason: "scales a workload of a cluster" },
    { pattern: /^npm ci\b/, reason: "reinstalls node_modules from the registry; CI runs it first (.ci/run)" },
    { pattern: /^npm test\b/, reason: "the test suite that runs this test; CI runs it (.ci/run)" },
    {
        pattern: /^npm run charts\b|--manifests\b|^npm run test:deploy\b/,
        reason: "pulls the pinned charts from their Helm repositories; CI runs it (.ci/run-deploy)",
    },
    { pattern: /\brenovate\b/, reason: "downloads Renovate from the registry" },
];

interface Command {
    file: string;
    line: number;
    text: string;
}

/** The commands of a shell block: comments dropped, continuations joined, `a && b` kept whole. */
function commandsOf(body: string, file: string, firstLine: number): Command[] {
    const commands: Command[] = [];
    const lines = body.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const start = i;
        let text = lines[i] ?? "";
        while (text.endsWith("\\") && i + 1 < lines.length) text = `${text.slice(0, -1)} ${(lines[++i] ?? "").trim()}`;
        // A comment: a # at the start or after blanks, outside quotes.
        let quote: string | undefined;
        let cut = text.length;
        for (let c = 0; c < text.length; c++) {
            const ch = text[c] as string;
            if (quote !== undefined) {
                if (ch === quote) quote = undefined;
            } else if (ch === "'" || ch === '"') {
                quote = ch;
            } else if (ch === "#" && (c === 0 || /\s/.test(text[c - 1] as string))) {
                cut = c;
                break;
            }
        }
        const command = text.slice(0, cut).trim();
        if (command !== "") commands.push({ file, line: firstLine + start, text: command });
    }
    return commands;
}

/** Shell blocks: ```bash, ```sh, ```shell, and unlabelled ones whose lines are commands. */
function shellBlocks(): { file: string; commands: Command[] }[] {
    const files = [
        "README.md",
        ...fs
            .readdirSync(path.join(projectDir, "docs"))
            .filter((f) => f.endsWith(".md"))
            .map((f) => `docs/${f}`),
    ];
    const blocks: { file: string; commands: Command[] }[] = [];
    for (const file of files.sort()) {
        const text = fs.readFileSync(path.join(projectDir, file), "utf8");
        // Fences may be indented, inside a list item.
        const fence = /^([ \t]*)```(\w*)\n([\s\S]*?)^[ \t]*```/gm;
        for (let match = fence.exec(text); match !== null; match = fence.exec(text)) {
            const [, indent = "", lang = "", indented = ""] = match;
            const body = indented
                .split("\n")
                .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
                .join("\n");
            const shell = ["bash", "sh", "shell"].includes(lang);
            if (!shell && !(lang === "" && /^(npm|npx|pulumi|talosctl|kubectl|helm) /m.test(body))) continue;
            const firstLine = text.slice(0, match.index).split("\n").length + 1;
            blocks.push({ file, commands: commandsOf(body, file, firstLine) });
        }
    }
    return blocks;
}

/** What of a command runs here: the part after a leading excluded `a && `, or nothing. */
function runnable(command: string): { run?: string; reason?: string } {
    const parts = command.split(/\s*&&\s*/);
    const kept = parts.filter((part) => !EXCLUDED.some((rule) => rule.pattern.test(part)));
    if (kept.length === 0) return { reason: EXCLUDED.find((rule) => rule.pattern.test(parts[0] ?? ""))?.reason ?? "" };
    if (/<[a-z][^>]*>/i.test(kept.join(" && "))) return { reason: "a <placeholder> to fill in" };
    return { run: kept.join(" && ") };
}

/** This working tree as a new user's clone: tracked and new files, committed once, node_modules shared. */
function cloneOfWorkingTree(): string {
    const dir = tempDir("docs-commands");
    const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
        cwd: projectDir,
        encoding: "utf8",
    });
    assert.equal(listed.status, 0, `git ls-files (Debian's git): ${listed.stderr}`);
    for (const file of listed.stdout.split("\0").filter((f) => f !== "")) {
        const from = path.join(projectDir, file);
        if (!fs.existsSync(from)) continue;
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.copyFileSync(from, path.join(dir, file));
    }
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
    const env = {
        ...process.env,
        GIT_AUTHOR_NAME: "docs",
        GIT_AUTHOR_EMAIL: "docs@example.org",
        GIT_COMMITTER_NAME: "docs",
        GIT_COMMITTER_EMAIL: "docs@example.org",
        GIT_AUTHOR_DATE: "2026-01-05T06:00:00Z",
        GIT_COMMITTER_DATE: "2026-01-05T06:00:00Z",
    };
    for (const args of [
        ["init", "-q"],
        ["add", "-A"],
        ["commit", "-q", "-m", "clone"],
    ]) {
        const git = spawnSync("git", args, { cwd: dir, env, encoding: "utf8" });
        assert.equal(git.status, 0, `git ${args.join(" ")}: ${git.stderr}`);
    }
    return dir;
}

describe("commands shown in README.md and docs/", () => {
    const blocks = shellBlocks();
    const all = blocks.flatMap((block) => block.commands);

    it("are found: the set-up commands of the README among them", () => {
        const texts = all.map((c) => c.text);
        assert.ok(
            texts.some((t) => t.startsWith("npm ci && npm run render -- --stack main")),
            texts.join("\n"),
        );
        assert.ok(texts.includes("npm test"));
    });

    it("are each run or left out for a reason, and every rule still leaves one out", () => {
        for (const rule of EXCLUDED) {
            assert.ok(
                all.some((c) => c.text.split(/\s*&&\s*/).some((part) => rule.pattern.test(part))),
                `no command is left out by ${rule.pattern} any more: drop the rule`,
            );
        }
    });

    for (const block of blocks) {
        const runs = block.commands.map((command) => ({ command, ...runnable(command.text) }));
        if (!runs.some((r) => r.run !== undefined)) continue;
        const title = `${block.file}:${block.commands[0]?.line}: ${runs.map((r) => r.run ?? `(left out: ${r.reason})`).join("; ")}`;
        it(title, { timeout: 180_000 }, () => {
            const dir = cloneOfWorkingTree();
            for (const { command, run } of runs) {
                if (run === undefined) continue;
                const result = spawnSync("bash", ["-c", run], { cwd: dir, encoding: "utf8", timeout: 150_000 });
                assert.equal(
                    result.status,
                    0,
                    `${command.file}:${command.line}: \`${run}\` exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`,
                );
            }
        });
    }
});
