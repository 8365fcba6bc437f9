/**
 * `npm run charts [-- --dir <dir>] [--check]`
 *
 * Fills the chart folder (`--dir`, else $OBSERVABILITY_CHART_DIR, else .cache/charts) with every
 * chart the program installs, pulled with Helm from its repository at the pinned version, and
 * refuses an archive whose sha256 differs from the digest pinned in components/core/versions.ts:
 * it is never written into the folder. Archives already there and matching are kept. With
 * `--check`, nothing is fetched: the folder is only verified. The same folder serves an
 * air-gapped stack (`observability:charts.directory`), `render --manifests` and the deploy tests.
 *
 * Exit codes: 0 every chart present and verified, 1 a chart missing, refused or not fetched,
 * 64 bad usage or no Helm.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

import { archiveProblem, fileDigest } from "../components/core/chart-source";
import { chartArchiveName, installedCharts } from "../components/core/versions";
import { chartCacheDir } from "../render/chart-cache";
import { helmPull, HelmError, locateHelm } from "../render/helm";

const USAGE = `usage: npm run charts [-- --dir <dir>] [--check]

Pulls every pinned chart with Helm into the chart folder and checks each archive against its
pinned sha256.

options:
  --dir <dir>   the chart folder (default: $OBSERVABILITY_CHART_DIR, else .cache/charts)
  --check       fetch nothing: only verify the folder
  --help        this text

exit codes: 0 every chart present and verified, 1 a chart missing, refused or not fetched,
64 bad usage or no Helm`;

function main(): number {
    let args;
    try {
        args = parseArgs({
            options: {
                dir: { type: "string" },
                check: { type: "boolean", default: false },
                help: { type: "boolean", default: false },
            },
            strict: true,
        }).values;
    } catch (err) {
        process.stderr.write(`charts: ${(err as Error).message}; see npm run charts -- --help\n`);
        return 64;
    }
    if (args.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const projectDir = path.resolve(__dirname, "..");
    const dir = chartCacheDir(projectDir, args.dir);
    fs.mkdirSync(dir, { recursive: true });

    let failed = 0;
    let helm: ReturnType<typeof locateHelm> | undefined;
    for (const pin of installedCharts()) {
        const name = chartArchiveName(pin);
        if (archiveProblem(pin, dir) === undefined) {
            process.stdout.write(`ok       ${name} ${pin.digest}\n`);
            continue;
        }
        if (args.check) {
            process.stdout.write(`missing  ${name}: ${archiveProblem(pin, dir)}\n`);
            failed++;
            continue;
        }
        try {
            helm ??= locateHelm(projectDir);
        } catch (err) {
            if (!(err instanceof HelmError)) throw err;
            process.stderr.write(`charts: ${err.message.split("\n").join("; ")}\n`);
            return 64;
        }
        const staging = fs.mkdtempSync(path.join(dir, ".pull-"));
        try {
            const pulled = helmPull(helm, pin, staging);
            const found = fileDigest(pulled);
            if (found !== pin.digest) {
                process.stdout.write(
                    `REFUSED  ${name}: digest ${found}, pinned ${pin.digest ?? "none"}; after a version bump, ` +
                        "compare it with that version's digest in the repository's index.yaml and pin it in " +
                        "components/core/versions.ts\n",
                );
                failed++;
                continue;
            }
            fs.renameSync(pulled, path.join(dir, name));
            process.stdout.write(`fetched  ${name} ${found}\n`);
        } catch (err) {
            if (!(err instanceof HelmError)) throw err;
            process.stdout.write(`FAILED   ${name}: ${err.message}\n`);
            failed++;
        } finally {
            fs.rmSync(staging, { recursive: true, force: true });
        }
    }
    process.stdout.write(
        failed === 0
            ? `every chart is in ${dir}, matching its pinned digest\n`
            : `${failed} chart(s) missing or refused in ${dir}\n`,
    );
    return failed === 0 ? 0 : 1;
}

process.exitCode = main();
