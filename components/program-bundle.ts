import * as path from "node:path";

import { buildSync } from "esbuild";

/**
 * In-cluster programs (the remediator, the reporter), bundled at deploy time from this
 * repository's TypeScript into one CommonJS file each that runs on a plain Node.js image: no image
 * to build, and the code that runs is the code that was reviewed and tested.
 */

/** Node.js version the bundle targets: the pinned image's major version or older. */
const BUNDLE_TARGET = "node20";

/** A ConfigMap holds at most 1 MiB of data (the API server refuses more). */
export const CONFIGMAP_LIMIT_BYTES = 1024 * 1024;

export const BUNDLED_PROGRAMS = ["remediator", "reporter"] as const;
export type BundledProgram = (typeof BUNDLED_PROGRAMS)[number];

let cached: Map<BundledProgram, string> | undefined;

/**
 * A program's bundle, from `<program>/bin.ts`. Every program is built on the first call, in one
 * esbuild run (they share most of their dependencies, parsed once), and kept for the process;
 * esbuild's output is deterministic.
 */
export function programBundle(program: BundledProgram): string {
    if (cached === undefined) {
        const result = buildSync({
            entryPoints: Object.fromEntries(
                BUNDLED_PROGRAMS.map((name) => [name, path.join(__dirname, "..", name, "bin.ts")]),
            ),
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
        });
        cached = new Map(
            BUNDLED_PROGRAMS.map((name) => {
                const output = result.outputFiles.find((f) => path.basename(f.path) === `${name}.js`);
                if (output === undefined) throw new Error(`esbuild produced no ${name} bundle`);
                return [name, output.text];
            }),
        );
    }
    const text = cached.get(program);
    if (text === undefined) throw new Error(`no bundle for ${program}`);
    return text;
}

/** The remediator's bundle. */
export const remediatorBundle = (): string => programBundle("remediator");
