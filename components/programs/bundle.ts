import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { buildSync, version as esbuildVersion, type BuildOptions } from "esbuild";

/**
 * In-cluster programs (the remediator, the reporter), bundled at deploy time from this
 * repository's TypeScript into one CommonJS file each that runs on a plain Node.js image: no image
 * to build, and the code that runs is the code that was reviewed and tested.
 *
 * A build is kept on disk by the digest of every file it was made from (and of esbuild's version
 * and options), so a preview, an up or a render of unchanged sources reads the bundles instead of
 * building them again; any change to any of those files builds anew.
 */

/** Node.js version the bundle targets: the pinned image's major version or older. */
const BUNDLE_TARGET = "node20";

/** A ConfigMap holds at most 1 MiB of data (the API server refuses more). */
export const CONFIGMAP_LIMIT_BYTES = 1024 * 1024;

export const BUNDLED_PROGRAMS = ["remediator", "reporter"] as const;
export type BundledProgram = (typeof BUNDLED_PROGRAMS)[number];

/** The repository root: where the programs' sources are. */
const ROOT = path.resolve(__dirname, "..", "..");

/** Builds kept on disk; older ones are removed. */
const KEPT_BUILDS = 8;

const BUILD_OPTIONS: BuildOptions = {
    entryPoints: Object.fromEntries(BUNDLED_PROGRAMS.map((name) => [name, `${name}/bin.ts`])),
    absWorkingDir: ROOT,
    outdir: "bundles",
    bundle: true,
    platform: "node",
    format: "cjs",
    target: BUNDLE_TARGET,
    minify: true,
    // License comments of the bundled packages stay, gathered at the end of each file.
    legalComments: "eof",
    write: false,
    logLevel: "silent",
    metafile: true,
};

/** A build on disk: the files it was made from with their digests, and the bundles. */
interface StoredBuild {
    inputs: Record<string, string>;
    bundles: Record<string, string>;
}

/** Where builds are kept: `$OBSERVABILITY_BUNDLE_CACHE`, else `.cache/bundles`; "off" keeps none. */
export function bundleCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const configured = env.OBSERVABILITY_BUNDLE_CACHE;
    if (configured === "off") return undefined;
    return configured !== undefined && configured !== ""
        ? path.resolve(configured)
        : path.join(ROOT, ".cache", "bundles");
}

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

/** What every build shares: esbuild's version and the options, so either changing starts afresh. */
const OPTIONS_DIGEST = sha256(JSON.stringify({ esbuildVersion, BUILD_OPTIONS })).slice(0, 16);

/** The digest of a set of input files as they are now, or undefined when one is gone. */
function inputsDigest(files: readonly string[]): { digest: string; inputs: Record<string, string> } | undefined {
    const inputs: Record<string, string> = {};
    for (const file of [...files].sort()) {
        try {
            inputs[file] = sha256(fs.readFileSync(path.join(ROOT, file)));
        } catch {
            return undefined;
        }
    }
    return { digest: sha256(JSON.stringify(inputs)), inputs };
}

function readJson<T>(file: string): T | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as T;
    } catch {
        return undefined;
    }
}

/** Writes a file whole or not at all: readers in other processes never see half of it. */
function writeWhole(file: string, content: string): void {
    const partial = `${file}.${process.pid}.partial`;
    fs.writeFileSync(partial, content);
    fs.renameSync(partial, file);
}

/** The bundles of an earlier build made from exactly the files as they are now, if one is kept. */
function storedBuild(dir: string): Map<BundledProgram, string> | undefined {
    // The files the last build was made from: if none of them changed, neither did the bundles.
    const last = readJson<{ inputs: string[] }>(path.join(dir, `${OPTIONS_DIGEST}.last.json`));
    if (last === undefined || !Array.isArray(last.inputs)) return undefined;
    const now = inputsDigest(last.inputs);
    if (now === undefined) return undefined;
    const build = readJson<StoredBuild>(path.join(dir, `${OPTIONS_DIGEST}-${now.digest}.json`));
    if (build === undefined || JSON.stringify(build.inputs) !== JSON.stringify(now.inputs)) return undefined;
    const bundles = new Map<BundledProgram, string>();
    for (const name of BUNDLED_PROGRAMS) {
        const text = build.bundles[name];
        if (typeof text !== "string") return undefined;
        bundles.set(name, text);
    }
    return bundles;
}

function storeBuild(dir: string, inputFiles: string[], bundles: Map<BundledProgram, string>): void {
    const now = inputsDigest(inputFiles);
    if (now === undefined) return;
    fs.mkdirSync(dir, { recursive: true });
    const build: StoredBuild = { inputs: now.inputs, bundles: Object.fromEntries(bundles) };
    writeWhole(path.join(dir, `${OPTIONS_DIGEST}-${now.digest}.json`), JSON.stringify(build));
    writeWhole(path.join(dir, `${OPTIONS_DIGEST}.last.json`), JSON.stringify({ inputs: Object.keys(now.inputs) }));
    const builds = fs
        .readdirSync(dir)
        .filter((name) => /^[0-9a-f]{16}-[0-9a-f]{64}\.json$/.test(name))
        .map((name) => ({ name, mtime: fs.statSync(path.join(dir, name)).mtimeMs }))
        .sort((a, b) => b.mtime - a.mtime);
    for (const old of builds.slice(KEPT_BUILDS)) fs.rmSync(path.join(dir, old.name), { force: true });
}

/** Every program built in one esbuild run: they share most of their dependencies, parsed once. */
function build(): { bundles: Map<BundledProgram, string>; inputs: string[] } {
    const result = buildSync(BUILD_OPTIONS);
    const bundles = new Map(
        BUNDLED_PROGRAMS.map((name) => {
            const output = result.outputFiles?.find((f) => path.basename(f.path) === `${name}.js`);
            if (output === undefined) throw new Error(`esbuild produced no ${name} bundle`);
            return [name, output.text];
        }),
    );
    return { bundles, inputs: Object.keys(result.metafile?.inputs ?? {}) };
}

/**
 * Every program's bundle: a kept build of the same sources in `cacheDir` when there is one, else
 * built now (and kept there, when the folder is writable). esbuild's output is deterministic, so
 * a kept build is the build.
 */
export function loadBundles(cacheDir: string | undefined): {
    bundles: Map<BundledProgram, string>;
    source: "built" | "kept";
} {
    const kept = cacheDir === undefined ? undefined : storedBuild(cacheDir);
    if (kept !== undefined) return { bundles: kept, source: "kept" };
    const made = build();
    if (cacheDir !== undefined) {
        try {
            storeBuild(cacheDir, made.inputs, made.bundles);
        } catch {
            // A read-only checkout builds every time; nothing else changes.
        }
    }
    return { bundles: made.bundles, source: "built" };
}

let cached: Map<BundledProgram, string> | undefined;

/** A program's bundle, from `<program>/bin.ts`; obtained once a process ({@link loadBundles}). */
export function programBundle(program: BundledProgram): string {
    cached ??= loadBundles(bundleCacheDir()).bundles;
    const text = cached.get(program);
    if (text === undefined) throw new Error(`no bundle for ${program}`);
    return text;
}

/** The remediator's bundle. */
export const remediatorBundle = (): string => programBundle("remediator");
