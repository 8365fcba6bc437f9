/**
 * `npm run render -- --stack <name> [--out <dir>] [--preview] [--stack-file <file>]`
 *
 * Evaluates the program with `Pulumi.<name>.yaml` under the mock engine (no cluster, no Pulumi
 * CLI) and writes the complete desired state to `rendered/<name>/`: one YAML document per
 * resource, Helm values in full, secrets shown as [secret]. A sub stack is rendered against the
 * main stack it references, evaluated first from its own stack file. `--now` fixes the instant
 * certificate rotation is decided at, for reproducible renders.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";

import * as pulumi from "@pulumi/pulumi";

import { countSecrets, renderStack, writeRender } from "./lib/render";
import { StackFileError } from "./lib/stack-file";

const usage =
    "usage: npm run render -- --stack <name> [--out <dir>] [--preview] [--stack-file <file>] " +
    "[--main-stack-file <file>] [--now <RFC 3339 instant>] [--timing]";

function fail(message: string): never {
    process.stderr.write(`render: ${message}\n`);
    process.exit(1);
}

async function main(): Promise<void> {
    let args;
    try {
        args = parseArgs({
            options: {
                stack: { type: "string" },
                out: { type: "string" },
                preview: { type: "boolean", default: false },
                "stack-file": { type: "string" },
                "main-stack-file": { type: "string" },
                now: { type: "string" },
                timing: { type: "boolean", default: false },
            },
            strict: true,
        }).values;
    } catch (err) {
        fail(`${(err as Error).message}\n${usage}`);
    }
    const stack = args.stack;
    if (stack === undefined || stack === "") fail(`--stack is required\n${usage}`);
    const projectDir = path.resolve(__dirname, "..");
    const outDir = args.out ?? path.join("rendered", stack);
    let now: number | undefined;
    if (args.now !== undefined) {
        now = Date.parse(args.now);
        if (Number.isNaN(now))
            fail(`--now: expected an RFC 3339 instant like 2026-01-05T06:00:00Z, found '${args.now}'`);
    }

    let result;
    try {
        result = await renderStack({
            projectDir,
            stack,
            preview: args.preview,
            ...(args["stack-file"] !== undefined ? { stackFile: path.resolve(args["stack-file"]) } : {}),
            ...(args["main-stack-file"] !== undefined ? { mainStackFile: path.resolve(args["main-stack-file"]) } : {}),
            ...(now !== undefined ? { now } : {}),
        });
    } catch (err) {
        // Config errors are RunErrors: the CLI prints them without a stack trace, and so do we.
        if (err instanceof StackFileError || pulumi.RunError.isInstance(err)) fail((err as Error).message);
        throw err;
    }
    writeRender(result.files, outDir);
    const secrets = result.records.reduce((n, r) => n + countSecrets(r.inputs), 0);
    process.stdout.write(
        `rendered ${result.records.length} resources of stack '${stack}'${args.preview ? " (preview)" : ""} ` +
            `to ${outDir} (${secrets} secret values redacted)\n`,
    );
    if (args.timing) {
        process.stdout.write(`${JSON.stringify({ programMs: result.programMs, resources: result.records.length })}\n`);
    }
}

main().catch((err: unknown) => {
    process.stderr.write(
        `render: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
});
