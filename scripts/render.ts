/**
 * `npm run render -- --stack <name> [--out <dir>] [--preview] [--stack-file <file>]
 *  [--manifests [--kube-version <x.y.z>] [--chart-dir <dir>]]`
 *
 * Evaluates the program with `Pulumi.<name>.yaml` under the mock engine (no cluster, no Pulumi
 * CLI) and writes the complete desired state to `rendered/<name>/`: one YAML document per
 * resource, Helm values in full, secrets shown as [secret]. A sub stack is rendered against the
 * main stack it references, evaluated first from its own stack file. `--now` fixes the instant
 * certificate rotation is decided at, for reproducible renders. `--manifests` also templates
 * every chart with real Helm as Chart v4 does and writes what each one makes to
 * `manifests/` (charts from `npm run charts`).
 */
import * as path from "node:path";
import { parseArgs } from "node:util";

import * as pulumi from "@pulumi/pulumi";

import { ChartCacheError, chartCacheDir, locateCharts } from "./lib/chart-cache";
import { manifestFiles, scanDesiredState } from "./lib/desired-state/manifest-files";
import { templateCharts } from "./lib/desired-state/manifests";
import { HelmError, locateHelm } from "./lib/helm";
import { countSecrets, renderStack, writeRender } from "./lib/render";
import { StackFileError } from "./lib/stack-file";

/** The Kubernetes version charts are templated for unless `--kube-version` says otherwise. */
export const DEFAULT_KUBE_VERSION = "1.34.0";

const usage =
    "usage: npm run render -- --stack <name> [--out <dir>] [--preview] [--stack-file <file>] " +
    "[--main-stack-file <file>] [--now <RFC 3339 instant>] [--timing] " +
    "[--manifests [--kube-version <x.y.z>] [--chart-dir <dir>]]";

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
                manifests: { type: "boolean", default: false },
                "kube-version": { type: "string" },
                "chart-dir": { type: "string" },
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
    const kubeVersion = args["kube-version"] ?? DEFAULT_KUBE_VERSION;
    if (!/^\d+\.\d+\.\d+$/.test(kubeVersion))
        fail(`--kube-version: expected a version like 1.34.0, found '${kubeVersion}'`);
    if ((args["kube-version"] !== undefined || args["chart-dir"] !== undefined) && !args.manifests) {
        fail(`--kube-version and --chart-dir go with --manifests\n${usage}`);
    }
    let helmMs = 0;
    let chartObjects = 0;
    if (args.manifests) {
        if (args.preview) fail("--manifests needs the values a deployment sees: drop --preview");
        const started = Date.now();
        try {
            const helm = locateHelm(projectDir);
            const charts = locateCharts(chartCacheDir(projectDir, args["chart-dir"]));
            const renders = templateCharts(result.records, { helm, charts, kubeVersion });
            const leaks = scanDesiredState(result.records, renders, result.engine.stackOutputs());
            if (leaks.length > 0)
                fail(`secret material in the chart-made objects:\n${leaks.map((l) => `  ${l}`).join("\n")}`);
            for (const [name, content] of manifestFiles(renders, kubeVersion)) result.files.set(name, content);
            chartObjects = renders.reduce((n, r) => n + r.objects.length, 0);
            for (const render of renders.filter((r) => r.hooks.length > 0)) {
                process.stderr.write(
                    `render: warning: ${render.record.name} renders ${render.hooks.length} Helm hook(s) that Chart v4 never applies\n`,
                );
            }
            for (const render of renders.filter((r) => !r.source.verified)) {
                process.stderr.write(
                    `render: warning: ${render.pin.chart} comes from an unpacked folder, not a verified archive\n`,
                );
            }
        } catch (err) {
            if (err instanceof HelmError || err instanceof ChartCacheError) fail(err.message);
            throw err;
        }
        helmMs = Date.now() - started;
    }
    writeRender(result.files, outDir);
    const secrets = result.records.reduce((n, r) => n + countSecrets(r.inputs), 0);
    process.stdout.write(
        `rendered ${result.records.length} resources of stack '${stack}'${args.preview ? " (preview)" : ""} ` +
            `to ${outDir} (${secrets} secret values redacted)` +
            (args.manifests ? `, and ${chartObjects} objects made by its charts` : "") +
            "\n",
    );
    if (args.timing) {
        process.stdout.write(
            `${JSON.stringify({ programMs: result.programMs, helmMs, resources: result.records.length, chartObjects })}\n`,
        );
    }
}

main().catch((err: unknown) => {
    process.stderr.write(
        `render: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
});
