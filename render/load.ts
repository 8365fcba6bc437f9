import * as fs from "node:fs";
import Module from "node:module";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

import type { MockEngine } from "./mock-engine";

/**
 * Loads the program as `pulumi preview` and `pulumi up` do. The CLI's Node.js language host
 * reads the runtime options of Pulumi.yaml, starts `node <sdk>/cmd/run --pwd <project> .` with
 * `PULUMI_NODEJS_TYPESCRIPT` (option `typescript`, on by default) and
 * `PULUMI_NODEJS_TSCONFIG_PATH` (option `tsconfig`) in its environment, and the SDK's `run`
 * registers ts-node itself: type checking or not as `PULUMI_NODEJS_TRANSPILE_ONLY` says, else
 * as the tsconfig's `noCheck` says. Here the same `run` does the same with the same environment;
 * only the engine is the in-process mock instead of the CLI's gRPC one.
 */

/** The runtime options of Pulumi.yaml the Node.js language host reads. */
export interface NodeRuntimeOptions {
    /** `typescript`: compile TypeScript with ts-node (default true). */
    typescript: boolean;
    /** `tsconfig`: the tsconfig file ts-node uses, relative to the project (default tsconfig.json). */
    tsconfig?: string;
}

/** Reads Pulumi.yaml's `runtime` as the language host does; throws on a shape it would refuse. */
export function nodeRuntimeOptions(programDir: string): NodeRuntimeOptions {
    const file = path.join(programDir, "Pulumi.yaml");
    const project = parse(fs.readFileSync(file, "utf8")) as { runtime?: unknown } | null;
    const runtime = project?.runtime;
    const name = typeof runtime === "string" ? runtime : (runtime as { name?: unknown } | undefined)?.name;
    if (name !== "nodejs") throw new Error(`${file}: expected runtime nodejs, found ${JSON.stringify(name)}`);
    const options =
        (typeof runtime === "object" && runtime !== null ? (runtime as { options?: unknown }).options : {}) ?? {};
    const { typescript = true, tsconfig } = options as { typescript?: unknown; tsconfig?: unknown };
    if (typeof typescript !== "boolean") throw new Error(`${file}: runtime.options.typescript must be a boolean`);
    if (tsconfig !== undefined && typeof tsconfig !== "string") {
        throw new Error(`${file}: runtime.options.tsconfig must be a string`);
    }
    return { typescript, ...(tsconfig !== undefined ? { tsconfig } : {}) };
}

/** The variables the language host adds to the program's environment for these options. */
export function languageHostEnv(options: NodeRuntimeOptions): Record<string, string | undefined> {
    return {
        PULUMI_NODEJS_TYPESCRIPT: options.typescript ? "true" : undefined,
        PULUMI_NODEJS_TSCONFIG_PATH: options.tsconfig,
    };
}

/** What a ts-node service exposes of itself (ts-node 10). */
interface TsNodeService {
    enabled(enabled?: boolean): boolean;
    options: { transpileOnly?: boolean; swc?: boolean };
}

/** Where ts-node keeps the service that compiles the process's TypeScript. */
const TS_NODE_INSTANCE = Symbol.for("ts-node.register.instance");

function registeredTsNode(): TsNodeService | undefined {
    return (process as unknown as Record<symbol, TsNodeService | undefined>)[TS_NODE_INSTANCE];
}

function setRegisteredTsNode(service: TsNodeService | undefined): void {
    (process as unknown as Record<symbol, TsNodeService | undefined>)[TS_NODE_INSTANCE] = service;
}

type RunFunction = (
    argv: { _: string[]; pwd?: string },
    programStarted: () => void,
    reportLoggedError: (err: Error) => void,
    isErrorReported: (err: Error) => boolean,
) => Promise<Record<string, unknown> | undefined>;

/**
 * The SDK's `cmd/run/run` module. Its package index is the CLI bootstrap: it parses the language
 * host's argv and dials the engine over gRPC when loaded. The mock engine replaces exactly that
 * part, so the index is stood in by the one constant `run` reads from it.
 */
function sdkRun(): RunFunction {
    const runPath = require.resolve("@pulumi/pulumi/cmd/run/run");
    const indexPath = require.resolve("@pulumi/pulumi/cmd/run");
    if (require.cache[indexPath] === undefined) {
        const stub = new Module(indexPath);
        stub.filename = indexPath;
        stub.loaded = true;
        stub.exports = { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 };
        require.cache[indexPath] = stub;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only after the stand-in is cached
    return (require(runPath) as { run: RunFunction }).run;
}

/** How the program was compiled. */
export interface ProgramLoad {
    /** Whether the SDK compiled TypeScript (Pulumi.yaml `typescript`). */
    typescript: boolean;
    /** Whether the SDK type-checked the program's modules as it compiled them. */
    typeChecked: boolean;
    /** What turned the TypeScript into JavaScript: swc (the tsconfig's `ts-node.swc`) or TypeScript itself. */
    transpiler: "swc" | "typescript";
}

/**
 * Runs the program in `programDir` through the SDK's `run`, as the CLI's language host starts
 * it, against the installed mock engine; throws when the engine found problems.
 *
 * The calling process may compile its own TypeScript with ts-node (a script, a test): that
 * registration is paused while `run` loads the program, so the program's modules are compiled
 * by the registration the SDK makes, with the options the CLI would give it, and by nothing
 * else. Modules the caller had already loaded stay shared.
 */
export async function loadProgram(engine: MockEngine, programDir: string): Promise<ProgramLoad> {
    const run = sdkRun();
    const options = nodeRuntimeOptions(programDir);
    // ts-node takes its defaults from TS_NODE_* variables once, when it is first loaded: a caller
    // started with TS_NODE_TRANSPILE_ONLY=true makes every later registration transpile-only,
    // the SDK's included. The npm scripts register with ts-node/register/transpile-only instead.
    const hostEnv = languageHostEnv(options);
    const saved = Object.fromEntries(Object.keys(hostEnv).map((key) => [key, process.env[key]]));
    const setEnv = (values: Record<string, string | undefined>) => {
        for (const [key, value] of Object.entries(values)) {
            if (value === undefined) delete process.env[key];
            else process.env[key] = value;
        }
    };
    const caller = registeredTsNode();
    const cwd = process.cwd();
    const reported = new Set<Error>();
    let sdkService: TsNodeService | undefined;
    setEnv(hostEnv);
    caller?.enabled(false);
    try {
        await run(
            { _: ["."], pwd: path.resolve(programDir) },
            () => undefined,
            (err) => reported.add(err),
            (err) => reported.has(err),
        );
    } finally {
        const registered = registeredTsNode();
        if (registered !== caller) {
            // The SDK's registration served this program; later modules of the caller are the caller's.
            sdkService = registered;
            registered?.enabled(false);
            setRegisteredTsNode(caller);
        }
        caller?.enabled(true);
        process.chdir(cwd);
        setEnv(saved);
    }
    await pulumi.runtime.disconnect();
    const problems = engine.problems();
    if (problems.length > 0) {
        throw new Error(`the program ran, but:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    }
    return {
        typescript: options.typescript,
        typeChecked: sdkService !== undefined && sdkService.options.transpileOnly !== true,
        transpiler: sdkService?.options.swc === true ? "swc" : "typescript",
    };
}
