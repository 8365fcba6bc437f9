import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { chartArchiveName, installedCharts, type ChartPin } from "./versions";

/**
 * Chart archives checked against their pinned digests: the air-gapped chart directory a stack
 * may install from, and the cache `npm run charts` fills. A chart whose archive differs from
 * the pin is never templated or installed.
 */

/** `sha256:<hex>` of a file. */
export function fileDigest(file: string): `sha256:${string}` {
    return `sha256:${createHash("sha256").update(fs.readFileSync(file)).digest("hex")}`;
}

/** What is wrong with a chart's archive in `directory`, or undefined when it matches its pin. */
export function archiveProblem(pin: ChartPin, directory: string): string | undefined {
    const file = path.join(directory, chartArchiveName(pin));
    if (!fs.existsSync(file)) return `${chartArchiveName(pin)} is missing from ${directory}`;
    const found = fileDigest(file);
    if (pin.digest !== undefined && found !== pin.digest) {
        return `${chartArchiveName(pin)} has digest ${found}, expected the pinned ${pin.digest}`;
    }
    return undefined;
}

/** A chart directory resolved against the project directory. */
export function resolveChartDirectory(directory: string, projectDir: string = process.cwd()): string {
    return path.resolve(projectDir, directory);
}

/**
 * Problems of a stack's chart directory (`observability:charts.directory`), one line each, keyed
 * like every config problem; empty when every installed chart's archive is there and matches.
 */
export function chartDirectoryProblems(directory: string, projectDir: string = process.cwd()): string[] {
    const key = "observability:charts.directory";
    const resolved = resolveChartDirectory(directory, projectDir);
    if (!fs.existsSync(resolved) || !fs.statSync(resolved).isDirectory()) {
        return [
            `${key}: expected a directory holding the pinned chart archives, found ${JSON.stringify(directory)}, ` +
                `which is not a directory; fill one with: npm run charts -- --dir ${JSON.stringify(directory)}`,
        ];
    }
    return installedCharts()
        .map((pin) => archiveProblem(pin, resolved))
        .filter((problem): problem is string => problem !== undefined)
        .map(
            (problem) =>
                `${key}: ${problem}; fetch it again with: npm run charts -- --dir ${JSON.stringify(directory)}`,
        );
}
