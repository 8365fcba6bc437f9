/**
 * `npm run render -- --stack <name> [options]`; `--help` lists them.
 *
 * Evaluates the program with `Pulumi.<name>.yaml` under the mock engine (no cluster, no Pulumi
 * CLI), loaded by the SDK's `run` as the CLI loads it, and writes the complete desired state to
 * `rendered/<name>/`: one YAML document per resource, Helm values in full, secrets shown as
 * [secret], each dashboard as its own JSON file. A sub stack is rendered against the main stack
 * it references, evaluated first from its own stack file. Certificate rotation is decided at
 * `--now`, else `SOURCE_DATE_EPOCH`, else the last commit's time, so two renders of one commit
 * are byte-identical. `--manifests` also templates every chart with real Helm as Chart v4 does
 * and writes what each one makes to `manifests/` (charts from `npm run charts`).
 *
 * Exit codes: 0 rendered; 1 the stack cannot be rendered (invalid configuration, a failing
 * program, secret material out of place); 64 bad usage or setup (unknown option, no such stack
 * file, a bad instant, no Helm or charts for --manifests).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

import * as pulumi from "@pulumi/pulumi";

import { ClockError, countSecrets, renderClock, renderStack, writeRender } from "./render";
import { readStackConfig, StackFileError } from "./stack-file";

/** The Kubernetes version charts are templated for unless `--kube-version` says otherwise. */
export const DEFAULT_KUBE_VERSION = "1.34.0";

export const USAGE = `usage: npm run render -- --stack <name> [options]

Renders the stack's desired state offline to rendered/<name>/ (no cluster, no Pulumi CLI).

options:
  --stack <name>             the stack: Pulumi.<name>.yaml (required)
  --out <dir>                where to write (default rendered/<name>)
  --stack-file <file>        a stack file other than Pulumi.<name>.yaml
  --main-stack-file <file>   for a sub stack: the main stack file it is rendered against
  --preview                  evaluate as pulumi preview does (provider-computed values unknown)
  --now <instant>            decide certificate rotation at this RFC 3339 instant (default:
                             SOURCE_DATE_EPOCH when set, else the last commit's time)
  --manifests                also template every chart with Helm into manifests/
  --kube-version <x.y.z>     with --manifests: the Kubernetes version (default ${DEFAULT_KUBE_VERSION})
  --chart-dir <dir>          with --manifests: the chart folder (default .cache/charts)
  --timing                   print the program's time and the load mode as JSON
  --help                     this text

exit codes: 0 rendered, 1 the stack cannot be rendered, 64 bad usage or setup`;

class SetupError extends Error {}

/** A setup or usage problem: one line on stderr, exit 64. */
function setup(message: string): never {
    throw new SetupError(message);
}

async function main(argv: string[]): Promise<number> {
    let args;
    try {
        args = parseArgs({
            args: argv,
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
                help: { type: "boolean", default: false },
            },
            strict: true,
        }).values;
    } catch (err) {
        setup(`${(err as Error).message}; see npm run render -- --help`);
    }
    if (args.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const stack = args.stack;
    if (stack === undefined || stack === "") setup("--stack is required; see npm run render -- --help");
    const kubeVersion = args["kube-version"] ?? DEFAULT_KUBE_VERSION;
    if (!/^\d+\.\d+\.\d+$/.test(kubeVersion)) {
        setup(`--kube-version: expected a version like 1.34.0, found '${kubeVersion}'`);
    }
    if ((args["kube-version"] !== undefined || args["chart-dir"] !== undefined) && !args.manifests) {
        setup("--kube-version and --chart-dir go with --manifests");
    }
    if (args.manifests && args.preview) setup("--manifests needs the values a deployment sees: drop --preview");
    const projectDir = path.resolve(__dirname, "..");
    const outDir = args.out ?? path.join("rendered", stack);
    const stackFile = args["stack-file"] !== undefined ? path.resolve(args["stack-file"]) : undefined;
    const mainStackFile = args["main-stack-file"] !== undefined ? path.resolve(args["main-stack-file"]) : undefined;
    for (const file of [stackFile ?? path.join(projectDir, `Pulumi.${stack}.yaml`), mainStackFile]) {
        if (file !== undefined && !fs.existsSync(file)) {
            try {
                readStackConfig(projectDir, stack, file);
            } catch (err) {
                setup((err as Error).message);
            }
        }
    }
    let clock;
    try {
        clock = renderClock({ ...(args.now !== undefined ? { now: args.now } : {}), env: process.env, projectDir });
    } catch (err) {
        if (err instanceof ClockError) setup(err.message);
        throw err;
    }
    if (clock.source === "wall clock") {
        process.stderr.write(
            "render: warning: no --now, no SOURCE_DATE_EPOCH and no Git commit: certificate times come from the " +
                "wall clock, so two renders differ\n",
        );
    }

    let result;
    try {
        result = await renderStack({
            projectDir,
            stack,
            preview: args.preview,
            now: clock.ms,
            ...(stackFile !== undefined ? { stackFile } : {}),
            ...(mainStackFile !== undefined ? { mainStackFile } : {}),
        });
    } catch (err) {
        // Config errors are RunErrors: the CLI prints them without a stack trace, and so do we.
        if (err instanceof StackFileError || pulumi.RunError.isInstance(err)) {
            process.stderr.write(`render: ${(err as Error).message}\n`);
            return 1;
        }
        throw err;
    }
    let helmMs = 0;
    let chartObjects = 0;
    if (args.manifests) {
        const started = Date.now();
        const made = manifests(projectDir, result, kubeVersion, args["chart-dir"]);
        if (made === undefined) return 1;
        chartObjects = made;
        helmMs = Date.now() - started;
    }
    writeRender(result.files, outDir);
    const secrets = result.records.reduce((n, r) => n + countSecrets(r.inputs), 0);
    process.stdout.write(
        `rendered ${result.records.length} resources of stack '${stack}'${args.preview ? " (preview)" : ""} ` +
            `to ${outDir} (${secrets} secret values redacted)` +
            (args.manifests ? `, and ${chartObjects} objects made by its charts` : "") +
            `; certificates decided at ${new Date(clock.ms).toISOString()} (${clock.source})\n`,
    );
    if (args.timing) {
        process.stdout.write(
            `${JSON.stringify({
                programMs: result.programMs,
                helmMs,
                resources: result.records.length,
                chartObjects,
                typeChecked: result.load.typeChecked,
                transpiler: result.load.transpiler,
            })}\n`,
        );
    }
    return 0;
}

/**
 * Templates the stack's charts into `manifests/` of the render; the number of objects they
 * make, or undefined (after saying why) when their output holds secret material. Its modules are
 * loaded only here: a plain render does not pay for them.
 */
function manifests(
    projectDir: string,
    result: Awaited<ReturnType<typeof renderStack>>,
    kubeVersion: string,
    chartDir: string | undefined,
): number | undefined {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded only with --manifests */
    const { ChartCacheError, chartCacheDir, locateCharts } = require("./chart-cache") as typeof import("./chart-cache");
    const { manifestFiles, scanDesiredState } =
        require("./desired-state/manifest-files") as typeof import("./desired-state/manifest-files");
    const { templateCharts } = require("./desired-state/manifests") as typeof import("./desired-state/manifests");
    const { HelmError, locateHelm } = require("./helm") as typeof import("./helm");
    /* eslint-enable @typescript-eslint/no-require-imports */
    let helm;
    let charts;
    try {
        helm = locateHelm(projectDir);
        charts = locateCharts(chartCacheDir(projectDir, chartDir));
    } catch (err) {
        if (err instanceof HelmError || err instanceof ChartCacheError) setup(err.message.split("\n").join("; "));
        throw err;
    }
    let renders;
    try {
        renders = templateCharts(result.records, { helm, charts, kubeVersion });
    } catch (err) {
        if (err instanceof HelmError || err instanceof ChartCacheError) {
            process.stderr.write(`render: ${err.message}\n`);
            return undefined;
        }
        throw err;
    }
    const leaks = scanDesiredState(result.records, renders, result.engine.stackOutputs());
    if (leaks.length > 0) {
        process.stderr.write(
            `render: secret material in the chart-made objects:\n${leaks.map((l) => `  ${l}`).join("\n")}\n`,
        );
        return undefined;
    }
    for (const [name, content] of manifestFiles(renders, kubeVersion)) result.files.set(name, content);
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
    return renders.reduce((n, r) => n + r.objects.length, 0);
}

// A failed render exits at once: the SDK's handlers would otherwise report the program's error a
// second time as the process winds down. Writes to stdout and stderr are synchronous here.
if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            if (code !== 0) process.exit(code);
        },
        (err: unknown) => {
            if (err instanceof SetupError) {
                process.stderr.write(`render: ${err.message}\n`);
                process.exit(64);
            }
            process.stderr.write(
                `render: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
            );
            process.exit(1);
        },
    );
}
