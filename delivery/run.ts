import { hasChanges, type ChangeSet } from "./changes";
import { failureReason, StackOperationError, type StackDriver } from "./driver";
import type { FleetStack } from "./fleet";

/**
 * The pipeline's four commands over an ordered fleet. `preview` and `drift` look at every stack
 * whatever happens to one; `up` and `rotate` change stacks in rollout order and stop at the
 * first failure, leaving the rest untouched.
 */

export const COMMANDS = ["preview", "up", "drift", "rotate"] as const;
export type Command = (typeof COMMANDS)[number];

export const EXIT = {
    ok: 0,
    /** An operation on a stack failed. */
    failed: 1,
    /** `drift` found a stack whose clusters differ from its recorded state. */
    drift: 2,
    /** Bad arguments or a repository whose stacks cannot be rolled out. */
    usage: 64,
} as const;

export type StackStatus = "succeeded" | "failed" | "untouched";

export interface StackOutcome {
    stack: FleetStack;
    status: StackStatus;
    /** What changed (up, rotate), would change (preview) or drifted (drift). */
    changes?: ChangeSet;
    /** Why the stack failed. */
    error?: string;
    /** A remark for the summary (`nothing to rotate`). */
    note?: string;
}

export interface PipelineResult {
    command: Command;
    outcomes: StackOutcome[];
    exitCode: number;
}

export interface RunOptions {
    /** `up` and `rotate`: how many sub stacks after the canary run at once. Defaults to 1. */
    parallel?: number;
}

async function attempt(stack: FleetStack, operation: () => Promise<ChangeSet>): Promise<StackOutcome> {
    try {
        return { stack, status: "succeeded", changes: await operation() };
    } catch (err) {
        const changes = err instanceof StackOperationError ? err.changes : undefined;
        return {
            stack,
            status: "failed",
            error: err instanceof StackOperationError ? err.message : failureReason(err),
            ...(changes ? { changes } : {}),
        };
    }
}

/** Runs `step` on every stack, one after the other. */
async function everyStack(
    fleet: readonly FleetStack[],
    step: (stack: FleetStack) => Promise<StackOutcome>,
): Promise<StackOutcome[]> {
    const outcomes: StackOutcome[] = [];
    for (const stack of fleet) outcomes.push(await step(stack));
    return outcomes;
}

/**
 * Runs `step` in rollout order: main and the canary alone, then the other subs `parallel` at a
 * time. After a failure nothing new starts; stacks already running finish.
 */
async function rollout(
    fleet: readonly FleetStack[],
    parallel: number,
    step: (stack: FleetStack) => Promise<StackOutcome>,
): Promise<StackOutcome[]> {
    const outcomes = new Map<FleetStack, StackOutcome>();
    let failed = false;
    const serial = fleet.filter((stack) => stack.phase !== "sub");
    for (const stack of serial) {
        if (failed) break;
        const outcome = await step(stack);
        outcomes.set(stack, outcome);
        failed = outcome.status === "failed";
    }
    const queue = fleet.filter((stack) => stack.phase === "sub");
    const worker = async () => {
        for (let stack = queue.shift(); stack !== undefined && !failed; stack = queue.shift()) {
            const outcome = await step(stack);
            outcomes.set(stack, outcome);
            if (outcome.status === "failed") failed = true;
        }
    };
    if (!failed) await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
    return fleet.map((stack) => outcomes.get(stack) ?? { stack, status: "untouched" });
}

function exitCode(outcomes: readonly StackOutcome[], drift = false): number {
    if (outcomes.some((o) => o.status !== "succeeded")) return EXIT.failed;
    if (drift && outcomes.some((o) => o.changes !== undefined && hasChanges(o.changes))) return EXIT.drift;
    return EXIT.ok;
}

/** Runs one command over the fleet (already in rollout order). */
export async function runCommand(
    command: Command,
    fleet: readonly FleetStack[],
    driver: StackDriver,
    options: RunOptions = {},
): Promise<PipelineResult> {
    const parallel = options.parallel ?? 1;
    let outcomes: StackOutcome[];
    switch (command) {
        case "preview":
            outcomes = await everyStack(fleet, (stack) => attempt(stack, () => driver.preview(stack.name)));
            break;
        case "drift":
            outcomes = await everyStack(fleet, (stack) => attempt(stack, () => driver.previewRefresh(stack.name)));
            return { command, outcomes, exitCode: exitCode(outcomes, true) };
        case "up":
            outcomes = await rollout(fleet, parallel, (stack) => attempt(stack, () => driver.up(stack.name)));
            break;
        case "rotate":
            outcomes = await rollout(fleet, parallel, (stack) => rotate(stack, driver));
            break;
    }
    return { command, outcomes, exitCode: exitCode(outcomes) };
}

/** Types of the certificate resources the PKI issues (tls provider). */
export function isCertificateType(type: string): boolean {
    return type.startsWith("tls:");
}

/**
 * Renews what is due on one stack. Certificates are replaced by the first `up` inside their
 * window (their `replacementTrigger` is their rotation epoch), and that `up` also rolls the pods
 * that read them only at start, through annotations the engine does not see as dependents: so
 * rotation is a whole-stack `up`, run only when the preview shows something to do.
 */
async function rotate(stack: FleetStack, driver: StackDriver): Promise<StackOutcome> {
    const planned = await attempt(stack, () => driver.preview(stack.name));
    if (planned.status === "failed" || (planned.changes !== undefined && !hasChanges(planned.changes))) {
        return planned.status === "failed" ? planned : { ...planned, note: "nothing due" };
    }
    const applied = await attempt(stack, () => driver.up(stack.name));
    if (applied.status === "failed" || applied.changes === undefined) return applied;
    const certificates = applied.changes.resources.filter((r) => isCertificateType(r.type)).length;
    const note =
        certificates > 0
            ? `${certificates} certificate resource(s) renewed`
            : `no certificate was due; ${applied.changes.resources.length} pending change(s) applied`;
    return { ...applied, note };
}
