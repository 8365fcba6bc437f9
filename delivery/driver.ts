import {
    LocalWorkspace,
    PulumiCommand,
    StackNotFoundError,
    type EngineEvent,
    type Stack,
} from "@pulumi/pulumi/automation";
import { version as sdkVersion } from "@pulumi/pulumi/version";

import { ChangeCollector, type ChangeSet } from "./changes";

/**
 * What the pipeline asks of a stack. The Automation API implementation below drives the Pulumi
 * CLI; tests stand in for it.
 */

export interface StackDriver {
    /** `pulumi preview --diff`: what an `up` would change. */
    preview(stack: string): Promise<ChangeSet>;
    /** `pulumi up`: what it changed. */
    up(stack: string): Promise<ChangeSet>;
    /** `pulumi refresh --preview-only`: how the clusters differ from the recorded state. */
    previewRefresh(stack: string): Promise<ChangeSet>;
}

/** A stack operation that failed; `changes` holds what the engine reported before it stopped. */
export class StackOperationError extends Error {
    constructor(
        message: string,
        readonly changes?: ChangeSet,
    ) {
        super(message);
        this.name = "StackOperationError";
    }
}

/** Why an operation failed: the engine's error diagnostics, else the last lines the CLI wrote to stderr. */
export function failureReason(err: unknown, changes?: ChangeSet): string {
    if (changes !== undefined && changes.errors.length > 0) return changes.errors.join("\n");
    // The Automation API's CommandError keeps the CLI's result; its message repeats the command line.
    const stderr = (err as { commandResult?: { stderr?: unknown } }).commandResult?.stderr;
    const text =
        typeof stderr === "string" && stderr.trim() !== "" ? stderr : err instanceof Error ? err.message : String(err);
    const lines = text
        .split("\n")
        .map((line) => line.trimEnd())
        // The command line carries an event-log address that changes every run; the code is what counts.
        .map((line) => line.replace(/^Command failed with exit code (\d+): .*$/, "pulumi exited with code $1"))
        .filter((line) => line.trim() !== "");
    return lines.slice(-6).join("\n") || "the Pulumi CLI failed without saying why";
}

/** Whether dotted version `a` is at least `b` (pre-release suffixes ignored). */
export function atLeast(a: string, b: string): boolean {
    const parts = (v: string) => v.replace(/^v/, "").split(/[-+]/)[0]!.split(".").map(Number);
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
        const d = (x[i] ?? 0) - (y[i] ?? 0);
        if (Number.isNaN(d)) return false;
        if (d !== 0) return d > 0;
    }
    return true;
}

export interface AutomationOptions {
    /** The project directory (where Pulumi.yaml is). */
    workDir: string;
    /** Prefix for stack names, `<organization>` or `<organization>/<project>`; none: the backend's default. */
    organization?: string;
    /** Receives the CLI's output, line by line, prefixed with the stack name. */
    log: (line: string) => void;
}

/**
 * The driver on the Automation API and the Pulumi CLI found on PATH, which must be at least as
 * recent as the SDK the program pins (certificate rotation relies on the engine honouring
 * `replacementTrigger`).
 */
export async function automationDriver(options: AutomationOptions): Promise<StackDriver> {
    const pulumiCommand = await PulumiCommand.get();
    const cli = pulumiCommand.version?.version ?? "unknown";
    if (!atLeast(cli, sdkVersion)) {
        throw new Error(
            `found Pulumi CLI ${cli}, expected ${sdkVersion} or later (the @pulumi/pulumi SDK the program pins)`,
        );
    }
    const stacks = new Map<string, Stack>();
    const qualified = (stack: string) => (options.organization ? `${options.organization}/${stack}` : stack);

    const select = async (stack: string): Promise<Stack> => {
        const known = stacks.get(stack);
        if (known) return known;
        try {
            const selected = await LocalWorkspace.selectStack(
                { stackName: qualified(stack), workDir: options.workDir },
                { pulumiCommand },
            );
            stacks.set(stack, selected);
            return selected;
        } catch (err) {
            if (err instanceof StackNotFoundError) {
                throw new StackOperationError(
                    `stack '${qualified(stack)}' does not exist in the backend; create it once with ` +
                        `\`pulumi stack init ${qualified(stack)} --secrets-provider <provider>\` (docs/delivery.md)`,
                );
            }
            throw new StackOperationError(failureReason(err));
        }
    };

    const output = (stack: string) => (text: string) => {
        for (const line of text.split("\n")) if (line.trim() !== "") options.log(`[${stack}] ${line}`);
    };

    const run = async (
        stack: string,
        operation: (selected: Stack, onEvent: (event: EngineEvent) => void) => Promise<unknown>,
    ): Promise<ChangeSet> => {
        const selected = await select(stack);
        const collector = new ChangeCollector();
        try {
            await operation(selected, collector.onEvent);
        } catch (err) {
            const changes = collector.result();
            throw new StackOperationError(failureReason(err, changes), changes);
        }
        return collector.result();
    };

    return {
        preview: (stack) => run(stack, (s, onEvent) => s.preview({ diff: true, onEvent, onOutput: output(stack) })),
        up: (stack) => run(stack, (s, onEvent) => s.up({ onEvent, onOutput: output(stack) })),
        previewRefresh: (stack) => run(stack, (s, onEvent) => s.previewRefresh({ onEvent, onOutput: output(stack) })),
    };
}
