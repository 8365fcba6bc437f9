import * as path from "node:path";

import { buildSync } from "esbuild";

/**
 * The remediator's code, bundled at deploy time from this repository's TypeScript into one
 * CommonJS file that runs on a plain Node.js image: no image to build, and the code that runs is
 * the code that was reviewed and tested.
 */

/** Node.js version the bundle targets: the pinned image's major version or older. */
const BUNDLE_TARGET = "node20";

/** A ConfigMap holds at most 1 MiB of data (the API server refuses more). */
export const CONFIGMAP_LIMIT_BYTES = 1024 * 1024;

let cached: string | undefined;

/** The bundle's text; built once per process (esbuild's output is deterministic). */
export function remediatorBundle(): string {
    if (cached === undefined) {
        const result = buildSync({
            entryPoints: [path.join(__dirname, "..", "remediator", "bin.ts")],
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
        if (output === undefined) throw new Error("esbuild produced no remediator bundle");
        cached = output.text;
    }
    return cached;
}
