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

export type BundledProgram = "remediator" | "reporter";

const cached = new Map<BundledProgram, string>();

/** A program's bundle, from `<program>/bin.ts`; built once per process (esbuild's output is deterministic). */
export function programBundle(program: BundledProgram): string {
    let text = cached.get(program);
    if (text === undefined) {
        const result = buildSync({
            entryPoints: [path.join(__dirname, "..", program, "bin.ts")],
            bundle: true,
            platform: "node",
            format: "cjs",
            target: BUNDLE_TARGET,
            minify: true,
            // License comments of the bundled packages stay, gathered at the end of the file.
            legalComments: "eof",
            write: false,
            logLevel: "silent",
        });
        const [output] = result.outputFiles;
        if (output === undefined) throw new Error(`esbuild produced no ${program} bundle`);
        text = output.text;
        cached.set(program, text);
    }
    return text;
}

/** The remediator's bundle. */
export const remediatorBundle = (): string => programBundle("remediator");
