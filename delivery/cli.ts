import * as fs from "node:fs";
import * as path from "node:path";

import { parseCommandLine, UsageError } from "../render/command-line";
import { CommentError, commentTargetFromEnv, upsertComment } from "./comment";
import { automationDriver, type StackDriver } from "./driver";
import { FleetError, readFleet } from "./fleet";
import { COMMANDS, EXIT, runCommand, type Command } from "./run";
import { formatSummary, summaryMarker } from "./summary";

/**
 * The delivery pipeline on the Automation API: CI jobs call it, it drives every stack of the
 * repository in rollout order. Usage: `npm run pipeline -- <preview|up|drift|rotate> [options]`.
 */

const USAGE = `usage: npm run pipeline -- <command> [options]

commands:
  preview   preview every stack (main first), diff on; --comment posts or updates one
            comment on the pull (merge) request
  up        deploy main, then the canary sub (observability:delivery.canary), then the
            other subs; stops at the first failure
  drift     refresh every stack in preview mode; exit code 2 when a cluster drifted
  rotate    renew the certificates that are due, in rollout order

options:
  --stack <name>      only this stack (repeatable); the rollout order is kept
  --summary <file>    write the Markdown summary there (default pipeline-summary.md)
  --comment           preview: post or update the pull (merge) request comment
  --parallel <n>      up, rotate: sub stacks after the canary run n at a time (default 1)
  --organization <o>  qualify stack names as <o>/<stack> (default: the backend's default)
  --dir <path>        the project directory (default: the current directory)

exit codes: 0 done (no drift), 1 a stack failed, 2 drift found, 64 bad usage, stack files or no
usable Pulumi CLI (checked before any stack is touched)`;

export interface PipelineArgs {
    command: Command;
    stacks: string[];
    summary: string;
    comment: boolean;
    parallel: number;
    organization?: string;
    dir: string;
}

export { UsageError };

/** Parses the command line; throws {@link UsageError} naming the bad argument. */
export function parsePipelineArgs(argv: readonly string[]): PipelineArgs {
    const { values, positionals } = parseCommandLine(argv, {
        stack: { type: "string", multiple: true },
        summary: { type: "string" },
        comment: { type: "boolean" },
        parallel: { type: "string" },
        organization: { type: "string" },
        dir: { type: "string" },
        help: { type: "boolean" },
    });
    if (values.help) throw new UsageError("");
    const [command, ...extra] = positionals;
    if (command === undefined || !(COMMANDS as readonly string[]).includes(command)) {
        throw new UsageError(
            `command: expected one of ${COMMANDS.join(", ")}, found ${command === undefined ? "nothing" : `"${command}"`}`,
        );
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument(s): ${extra.join(" ")}`);
    if (values.comment && command !== "preview") {
        throw new UsageError(`--comment: only the preview command comments, found it with "${command}"`);
    }
    const parallel = values.parallel === undefined ? 1 : Number(values.parallel);
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 32) {
        throw new UsageError(`--parallel: expected a whole number from 1 to 32, found "${values.parallel}"`);
    }
    return {
        command: command as Command,
        stacks: values.stack ?? [],
        summary: values.summary ?? "pipeline-summary.md",
        comment: values.comment ?? false,
        parallel,
        ...(values.organization !== undefined ? { organization: values.organization } : {}),
        dir: path.resolve(values.dir ?? "."),
    };
}

export interface PipelineIo {
    env: Record<string, string | undefined>;
    log: (line: string) => void;
    /** The stack driver; by default the Automation API's. */
    driver?: (args: PipelineArgs) => Promise<StackDriver>;
}

/** Runs the pipeline; returns its exit code. Never throws for a failure it can explain. */
export async function pipeline(argv: readonly string[], io: PipelineIo): Promise<number> {
    let args: PipelineArgs;
    try {
        args = parsePipelineArgs(argv);
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        io.log(err.message === "" ? USAGE : `pipeline: ${err.message}; see npm run pipeline -- --help`);
        return err.message === "" ? EXIT.ok : EXIT.usage;
    }
    let fleet;
    let target;
    try {
        fleet = readFleet(args.dir, args.stacks);
        // Checked before any stack is touched: a preview that cannot comment is a broken job.
        target = args.comment ? commentTargetFromEnv(io.env) : undefined;
    } catch (err) {
        if (!(err instanceof FleetError) && !(err instanceof CommentError)) throw err;
        io.log(err.message);
        return EXIT.usage;
    }
    io.log(`${args.command}: ${fleet.map((s) => `${s.name} (${s.phase})`).join(" → ")}`);
    let driver: StackDriver;
    try {
        driver = await (io.driver ?? defaultDriver(io))(args);
    } catch (err) {
        // A setup problem, found before any stack is touched: one line, and the usage exit code.
        const reason = ((err as Error).message.split("\n").find((line) => line.trim() !== "") ?? "").trim();
        io.log(`the pipeline needs the Pulumi CLI on PATH, at least as recent as the SDK in package.json: ${reason}`);
        return EXIT.usage;
    }
    const result = await runCommand(args.command, fleet, driver, { parallel: args.parallel });
    const summary = formatSummary(result);
    fs.writeFileSync(args.summary, summary);
    io.log(`summary written to ${args.summary}`);
    for (const outcome of result.outcomes) {
        io.log(`${outcome.stack.name}: ${outcome.status}${outcome.error ? `: ${outcome.error.split("\n")[0]}` : ""}`);
    }
    if (target !== undefined) {
        try {
            const posted = await upsertComment(target, summaryMarker(args.command), summary);
            io.log(`comment ${posted.action} (id ${posted.id})`);
        } catch (err) {
            if (!(err instanceof CommentError)) throw err;
            io.log(err.message);
            return result.exitCode === EXIT.ok ? EXIT.failed : result.exitCode;
        }
    }
    return result.exitCode;
}

function defaultDriver(io: PipelineIo) {
    return (args: PipelineArgs) =>
        automationDriver({
            workDir: args.dir,
            log: io.log,
            ...(args.organization !== undefined ? { organization: args.organization } : {}),
        });
}

if (require.main === module) {
    pipeline(process.argv.slice(2), { env: process.env, log: (line) => console.log(line) }).then(
        (code) => {
            process.exitCode = code;
        },
        (err: unknown) => {
            console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
            process.exitCode = EXIT.failed;
        },
    );
}
