import * as fs from "node:fs";
import * as path from "node:path";

import * as grpc from "@grpc/grpc-js";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { EventsClient } from "@pulumi/pulumi/proto/events_grpc_pb";
import { EventRequest } from "@pulumi/pulumi/proto/events_pb";

/**
 * A stand-in for the Pulumi CLI, as the Automation API calls it: `version`, `stack select`,
 * `preview`, `up`, `refresh --preview-only`, `stack output` and `stack history`. Each stack
 * follows a script: whether it exists, and per operation the engine events to stream to the
 * Automation API's event server, the output to print and the exit code. Every call is appended
 * to a log, so tests see exactly what the pipeline asked of the CLI and in which order.
 */

/** An engine event as the CLI streams it, without its sequence number and timestamp. */
export type FakeEvent = Omit<EngineEvent, "sequence" | "timestamp">;

export interface FakeOperation {
    /** Engine events, without sequence numbers and timestamps (added in order). */
    events?: FakeEvent[];
    stdout?: string;
    stderr?: string;
    /** Defaults to 0. */
    exitCode?: number;
}

export interface FakeStack {
    /** Whether the backend has the stack. Defaults to true. */
    exists?: boolean;
    preview?: FakeOperation;
    up?: FakeOperation;
    refresh?: FakeOperation;
}

export interface FakeScenario {
    /** The version `pulumi version` prints. */
    version: string;
    /** By stack name as the pipeline selects it. */
    stacks: Record<string, FakeStack>;
}

export interface FakeCall {
    args: string[];
    cwd: string;
}

export interface FakePulumi {
    /** Directory to give `PulumiCommand.get({ root })`, or whose `bin` to put first on PATH. */
    root: string;
    /** The environment the CLI stand-in needs (scenario and call log locations). */
    env: Record<string, string>;
    /** Every call so far, in order. */
    calls(): FakeCall[];
}

const SCENARIO_VAR = "FAKE_PULUMI_SCENARIO";
const CALLS_VAR = "FAKE_PULUMI_CALLS";

/** Writes the scenario and a `bin/pulumi` executable under `dir`. */
export function installFakePulumi(dir: string, scenario: FakeScenario): FakePulumi {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    const scenarioFile = path.join(dir, "scenario.json");
    const callsFile = path.join(dir, "calls.jsonl");
    fs.writeFileSync(scenarioFile, JSON.stringify(scenario));
    fs.writeFileSync(callsFile, "");
    const register = require.resolve("ts-node/register/transpile-only");
    const tsconfig = path.resolve(__dirname, "..", "..", "tsconfig.json");
    const executable = path.join(bin, "pulumi");
    fs.writeFileSync(
        executable,
        // The CLI runs in the project directory of the stacks, which has no tsconfig of its own.
        `#!/bin/sh\nTS_NODE_PROJECT="${tsconfig}" exec "${process.execPath}" --require "${register}" "${__filename}" "$@"\n`,
        { mode: 0o755 },
    );
    return {
        root: dir,
        env: { [SCENARIO_VAR]: scenarioFile, [CALLS_VAR]: callsFile },
        calls: () =>
            fs
                .readFileSync(callsFile, "utf8")
                .split("\n")
                .filter((line) => line !== "")
                .map((line) => JSON.parse(line) as FakeCall),
    };
}

function option(args: readonly string[], name: string): string | undefined {
    const index = args.indexOf(name);
    return index >= 0 ? args[index + 1] : undefined;
}

/** Streams events to the Automation API's event server (`tcp://127.0.0.1:<port>`), as the CLI does. */
async function sendEvents(address: string, events: readonly FakeEvent[]): Promise<void> {
    const client = new EventsClient(address.replace(/^tcp:\/\//, ""), grpc.credentials.createInsecure());
    await new Promise<void>((resolve, reject) => {
        const call = client.streamEvents((err) => (err ? reject(err) : resolve()));
        events.forEach((event, index) => {
            const request = new EventRequest();
            request.setEvent(JSON.stringify({ sequence: index + 1, timestamp: 1_700_000_000 + index, ...event }));
            call.write(request);
        });
        call.end();
    });
    client.close();
}

async function perform(operation: FakeOperation | undefined, args: readonly string[]): Promise<number> {
    const eventLog = option(args, "--event-log");
    if (eventLog !== undefined) await sendEvents(eventLog, operation?.events ?? []);
    if (operation?.stdout) process.stdout.write(operation.stdout);
    if (operation?.stderr) process.stderr.write(operation.stderr);
    return operation?.exitCode ?? 0;
}

const HISTORY_ENTRY = {
    version: 1,
    kind: "update",
    startTime: "2026-11-23T06:00:00.000Z",
    endTime: "2026-11-23T06:01:00.000Z",
    message: "",
    environment: {},
    config: {},
    result: "succeeded",
    resourceChanges: {},
};

async function main(args: string[]): Promise<number> {
    const scenario = JSON.parse(fs.readFileSync(process.env[SCENARIO_VAR] as string, "utf8")) as FakeScenario;
    fs.appendFileSync(process.env[CALLS_VAR] as string, JSON.stringify({ args, cwd: process.cwd() }) + "\n");
    if (args[0] === "version") {
        process.stdout.write(`v${scenario.version}\n`);
        return 0;
    }
    const stackName = option(args, "--stack");
    const stack = stackName === undefined ? undefined : scenario.stacks[stackName];
    if (stackName === undefined || stack === undefined || stack.exists === false) {
        process.stderr.write(`error: no stack named '${stackName ?? ""}' found\n`);
        return 255;
    }
    const [first, second] = args;
    if (first === "stack" && second === "select") return 0;
    if (first === "stack" && second === "output") {
        process.stdout.write("{}\n");
        return 0;
    }
    if (first === "stack" && second === "history") {
        process.stdout.write(JSON.stringify([HISTORY_ENTRY]) + "\n");
        return 0;
    }
    if (first === "preview") return perform(stack.preview, args);
    if (first === "up") return perform(stack.up, args);
    if (first === "refresh" && args.includes("--preview-only")) return perform(stack.refresh, args);
    process.stderr.write(`error: the CLI stand-in does not know \`pulumi ${args.join(" ")}\`\n`);
    return 2;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err: unknown) => {
            process.stderr.write(`CLI stand-in failure: ${String(err)}\n`);
            process.exit(70);
        },
    );
}
