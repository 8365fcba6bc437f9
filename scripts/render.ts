/**
 * `npm run render -- --stack <name> [--out <dir>] [--preview] [--stack-file <file>]`
 *
 * Evaluates the program with `Pulumi.<name>.yaml` under the mock engine (no cluster, no Pulumi
 * CLI) and writes the complete desired state to `rendered/<name>/`: one YAML document per
 * resource, Helm values in full, secrets shown as [secret].
 */
import * as path from "node:path";
import { parseArgs } from "node:util";

import * as pulumi from "@pulumi/pulumi";

import { countSecrets, renderStack, writeRender } from "./lib/render";
import { StackFileError } from "./lib/stack-file";

const usage = "usage: npm run render -- --stack <name> [--out <dir>] [--preview] [--stack-file <file>] [--timing]";

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

    let result;
    try {
        result = await renderStack({
            projectDir,
            stack,
            preview: args.preview,
            ...(args["stack-file"] !== undefined ? { stackFile: path.resolve(args["stack-file"]) } : {}),
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
