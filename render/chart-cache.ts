import * as fs from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

import { archiveProblem } from "../components/core/chart-source";
import { chartArchiveName, installedCharts, type ChartPin } from "../components/core/versions";

/**
 * The folder of chart archives the offline tools template: `npm run charts` fills it from the
 * charts' repositories, checking each archive against its pinned digest; `render --manifests`
 * and `npm run test:deploy` read it. `--chart-dir`, then `$OBSERVABILITY_CHART_DIR`, then
 * `.cache/charts` of the project.
 *
 * An unpacked chart folder `<chart>-<version>/` is accepted in place of the archive, for trying
 * a chart change from its source before it is released; it cannot be checked against the digest
 * and is reported as not verified.
 */

export const CHART_DIR_ENV = "OBSERVABILITY_CHART_DIR";

export function chartCacheDir(projectDir: string, flag?: string, env: NodeJS.ProcessEnv = process.env): string {
    if (flag !== undefined && flag !== "") return path.resolve(flag);
    const fromEnv = env[CHART_DIR_ENV];
    if (fromEnv !== undefined && fromEnv !== "") return path.resolve(fromEnv);
    return path.join(projectDir, ".cache", "charts");
}

export interface CachedChart {
    pin: ChartPin;
    /** The archive, or the unpacked folder. */
    path: string;
    /** Whether the archive matched the pinned digest; false for an unpacked folder. */
    verified: boolean;
}

export class ChartCacheError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(problems.join("\n"));
        this.name = "ChartCacheError";
    }
}

/** `<chart>-<version>/` holding that chart at that version, if present. */
function unpackedFolder(pin: ChartPin, dir: string): string | undefined {
    const folder = path.join(dir, `${pin.chart}-${pin.version}`);
    const manifest = path.join(folder, "Chart.yaml");
    if (!fs.existsSync(manifest)) return undefined;
    const chart = parse(fs.readFileSync(manifest, "utf8")) as { name?: unknown; version?: unknown };
    if (chart.name !== pin.chart || String(chart.version) !== pin.version) {
        throw new ChartCacheError([
            `${folder}: Chart.yaml says ${String(chart.name)} ${String(chart.version)}, expected ${pin.chart} ${pin.version}`,
        ]);
    }
    return folder;
}

/** One pinned chart in the folder: its verified archive, else its unpacked folder. */
export function locateChart(pin: ChartPin, dir: string): CachedChart {
    const archive = path.join(dir, chartArchiveName(pin));
    if (fs.existsSync(archive)) {
        const problem = archiveProblem(pin, dir);
        if (problem !== undefined) {
            throw new ChartCacheError([`${problem}: refusing it; run \`npm run charts\` to fetch it again`]);
        }
        return { pin, path: archive, verified: true };
    }
    const folder = unpackedFolder(pin, dir);
    if (folder !== undefined) return { pin, path: folder, verified: false };
    throw new ChartCacheError([`${chartArchiveName(pin)} is not in ${dir}: run \`npm run charts\` first`]);
}

/** Every installed chart, by chart name; every missing or refused one reported at once. */
export function locateCharts(dir: string): Map<string, CachedChart> {
    const found = new Map<string, CachedChart>();
    const problems: string[] = [];
    for (const pin of installedCharts()) {
        try {
            found.set(pin.chart, locateChart(pin, dir));
        } catch (err) {
            if (!(err instanceof ChartCacheError)) throw err;
            problems.push(...err.problems);
        }
    }
    if (problems.length > 0) throw new ChartCacheError(problems);
    return found;
}
