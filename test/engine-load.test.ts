import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import * as ts from "typescript";

import { languageHostEnv, nodeRuntimeOptions } from "../render/load";
import { projectDir, tempDir } from "./helpers";

/**
 * How the program is loaded: by the SDK's own `run`, with the environment the CLI's language host
 * derives from Pulumi.yaml, so the SDK decides on type checking as it does under `pulumi up`.
 */

/** A one-file program whose TypeScript compiles but does not type-check. */
function writeProgram(options: { noCheck: boolean; swc?: boolean; runtime?: string }): string {
    const dir = tempDir("program");
    fs.writeFileSync(
        path.join(dir, "Pulumi.yaml"),
        options.runtime ??
            "name: typecheck\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n    tsconfig: tsconfig.deploy.json\n",
    );
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "typecheck", main: "index.ts" }));
    const compilerOptions = { strict: true, target: "es2022", module: "nodenext", moduleResolution: "nodenext" };
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions }));
    fs.writeFileSync(
        path.join(dir, "tsconfig.deploy.json"),
        JSON.stringify({
            extends: "./tsconfig.json",
            compilerOptions: options.noCheck ? { noCheck: true } : {},
            ...(options.swc === true ? { "ts-node": { swc: true } } : {}),
        }),
    );
    fs.writeFileSync(
        path.join(dir, "index.ts"),
        'const answer: number = "forty-two" as unknown as string;\nexport = async () => ({ answer });\n',
    );
    return dir;
}

/**
 * Loads a program in a process of its own, as the CLI gives each run one (the SDK keeps state
 * across a failed run): what the load reported and the stack's outputs, or the error.
 */
function load(dir: string, env: Record<string, string> = {}): { load?: unknown; outputs?: unknown; error?: string } {
    const script = `
        const { MockEngine } = require(${JSON.stringify(path.join(projectDir, "render", "mock-engine.ts"))});
        const { loadProgram } = require(${JSON.stringify(path.join(projectDir, "render", "load.ts"))});
        (async () => {
            const engine = new MockEngine({ project: "typecheck", stack: "dev", preview: false });
            await engine.install();
            const cwd = process.cwd();
            const load = await loadProgram(engine, ${JSON.stringify(dir)});
            if (process.cwd() !== cwd) throw new Error("the working directory was not restored");
            if (process.env.PULUMI_NODEJS_TSCONFIG_PATH !== undefined) throw new Error("the host's variables stayed");
            process.stdout.write(JSON.stringify({ load, outputs: engine.stackOutputs() }));
            process.exit(0);
        })().catch((err) => {
            process.stdout.write(JSON.stringify({ error: String(err && err.message) }));
            process.exit(3);
        });`;
    const child = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", "-e", script], {
        cwd: projectDir,
        encoding: "utf8",
        env: { ...process.env, ...env },
    });
    return JSON.parse(child.stdout || JSON.stringify({ error: child.stderr })) as ReturnType<typeof load>;
}

describe("loading the program as the CLI does", () => {
    it("follows the tsconfig Pulumi.yaml names: noCheck there, and the SDK transpiles without type checking", () => {
        const result = load(writeProgram({ noCheck: true }));
        assert.deepEqual(result, {
            load: { typescript: true, typeChecked: false, transpiler: "typescript" },
            outputs: { answer: "forty-two" },
        });
    });

    it("without noCheck the SDK type-checks, and the program's type error stops the load", () => {
        const result = load(writeProgram({ noCheck: false }));
        assert.match(result.error ?? "", /TS2322: Type 'string' is not assignable to type 'number'/);
    });

    it("PULUMI_NODEJS_TRANSPILE_ONLY=false makes ts-node check, yet noCheck keeps TypeScript from reporting", () => {
        // What the SDK does with the variable: ts-node's checking service instead of transpiling. The
        // tsconfig's noCheck still silences the checker, so type checking at deploy time means a
        // tsconfig without it (Pulumi.yaml's runtime option), not this variable.
        const result = load(writeProgram({ noCheck: true }), { PULUMI_NODEJS_TRANSPILE_ONLY: "false" });
        assert.deepEqual(result, {
            load: { typescript: true, typeChecked: true, transpiler: "typescript" },
            outputs: { answer: "forty-two" },
        });
    });

    it("transpiles with swc when the tsconfig's ts-node section asks, and refuses a type check then", () => {
        const dir = writeProgram({ noCheck: true, swc: true });
        assert.deepEqual(load(dir), {
            load: { typescript: true, typeChecked: false, transpiler: "swc" },
            outputs: { answer: "forty-two" },
        });
        const checked = load(dir, { PULUMI_NODEJS_TRANSPILE_ONLY: "false" });
        assert.match(checked.error ?? "", /Cannot enable 'swc' option with 'transpileOnly: false'/);
    });

    it("reads the runtime options as the language host does", () => {
        assert.deepEqual(nodeRuntimeOptions(projectDir), { typescript: true, tsconfig: "tsconfig.pulumi.json" });
        assert.deepEqual(languageHostEnv({ typescript: true, tsconfig: "tsconfig.pulumi.json" }), {
            PULUMI_NODEJS_TYPESCRIPT: "true",
            PULUMI_NODEJS_TSCONFIG_PATH: "tsconfig.pulumi.json",
        });
        const plain = tempDir("runtime-plain");
        fs.writeFileSync(path.join(plain, "Pulumi.yaml"), "name: p\nruntime: nodejs\n");
        assert.deepEqual(nodeRuntimeOptions(plain), { typescript: true });
        assert.deepEqual(languageHostEnv({ typescript: false }), {
            PULUMI_NODEJS_TYPESCRIPT: undefined,
            PULUMI_NODEJS_TSCONFIG_PATH: undefined,
        });
        const python = tempDir("runtime-python");
        fs.writeFileSync(path.join(python, "Pulumi.yaml"), "name: p\nruntime: python\n");
        assert.throws(() => nodeRuntimeOptions(python), /expected runtime nodejs, found "python"/);
    });
});

describe("the project's tsconfig for the Pulumi runtime", () => {
    // The SDK reads the named file's own compilerOptions, without following `extends`, and puts
    // its defaults (target ES2020) under them: whatever must match the type check is repeated.
    const literal = (file: string) =>
        ts.parseConfigFileTextToJson(file, fs.readFileSync(path.join(projectDir, file), "utf8")).config as {
            extends?: string;
            compilerOptions: Record<string, unknown>;
        };

    it("extends tsconfig.json, sets noCheck, and repeats the emit options the SDK would otherwise default", () => {
        const runtime = literal("tsconfig.pulumi.json");
        const checked = literal("tsconfig.json");
        assert.equal(runtime.extends, "./tsconfig.json");
        assert.equal(runtime.compilerOptions.noCheck, true);
        for (const option of ["target", "module", "moduleResolution"]) {
            assert.equal(runtime.compilerOptions[option], checked.compilerOptions[option], option);
        }
        assert.equal(checked.compilerOptions.noCheck, undefined, "tsc --noEmit (npm run typecheck) still type-checks");
        assert.deepEqual((runtime as { "ts-node"?: unknown })["ts-node"], { swc: true });
    });
});
