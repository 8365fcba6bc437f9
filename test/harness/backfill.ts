import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { stringify } from "yaml";

import { describeOutcome, plainRequest, probeOk, request, type Outcome } from "./https";
import {
    freePort,
    HOST,
    locateBinaries,
    startServer,
    stopServer,
    waitReady,
    type Probe,
    type Server,
} from "./processes";
import type { Issued } from "./x509";

/**
 * Synthetic history in a real Prometheus on 127.0.0.1, for the weekly report's integration test
 * and its benchmark: series written as OpenMetrics text, turned into TSDB blocks by
 * `promtool tsdb create-blocks-from openmetrics`, served by a Prometheus that scrapes nothing,
 * recording rules backfilled over that history by `promtool tsdb create-blocks-from rules`, and
 * PromQL queries against it, in plain HTTP or over mutual TLS.
 *
 * What promtool (2.42) does with an OpenMetrics file, read from its source and checked on the
 * installed binary:
 *
 * - Only sample lines matter: `# TYPE`, `# HELP` and `# UNIT` are parsed but dropped, so neither
 *   the order of families, nor a family appearing twice, nor a counter's samples lacking the
 *   `_total` suffix is refused. The OpenMetrics specification does forbid all three (a family's
 *   metadata precedes its samples, families are not interleaved, a counter `foo` has samples
 *   `foo_total`), so the writer below keeps to it and the file stays valid for other readers.
 * - Every sample needs a timestamp, in seconds since the epoch (a decimal fraction for
 *   milliseconds): promtool multiplies by 1000 and truncates. Milliseconds written where seconds
 *   are expected are accepted and land some 56,000 years in the future.
 * - The file must end with `# EOF` and a single newline; a missing `# EOF` or anything after it,
 *   even an empty line, fails the whole import.
 * - Within a series, timestamps must rise. A sample older than one already taken for its series,
 *   or a second sample at the same timestamp, is silently dropped (exit code 0), so the writer
 *   refuses both instead. Series may otherwise interleave freely.
 * - Label values are double-quoted with `\\`, `\"` and `\n` escaped; label names match
 *   `[a-zA-Z_][a-zA-Z0-9_]*`, metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`. Values are Go floats,
 *   with `NaN`, `+Inf` and `-Inf` for the special ones.
 * - The file is memory-mapped and parsed once per block: the output is cut into blocks of a
 *   fixed range aligned on the epoch, and each block costs one full pass over the input. The
 *   range is 2 h unless the hidden `--max-block-duration` flag asks for more, in which case it is
 *   the largest of 2 h × 3^k (2 h, 6 h, 18 h, 54 h, 162 h, 486 h, …) not above the request.
 *   Fourteen days in 2 h blocks is 169 passes; in 54 h blocks, 7.
 *
 * Recording rules (`create-blocks-from rules`): each rule is evaluated by range queries against
 * `--url`, one per block, with the group's own `interval:` as the step (`--eval-interval` only
 * serves groups without one), at the timestamps the group would have been evaluated at: a fixed,
 * group-specific offset (a hash of the group's name and file, as named on the command line) past
 * every multiple of the interval, so an hourly group gives exactly one sample per hour, not on the
 * hour; the file is named by its base name so that the offset does not change from run to run. `--end` is
 * inclusive. The promtool client speaks plain HTTP without client certificates, so the source
 * Prometheus must listen without TLS. Rules of one group do not see each other's backfilled
 * output.
 *
 * Prometheus (2.42) and the blocks:
 *
 * - Overlapping blocks are always accepted since 2.39: `--storage.tsdb.allow-overlapping-blocks`
 *   is a deprecated no-op, and overlaps are merged by the next compaction.
 * - A running server picks up block directories added to its data directory on its next block
 *   reload, which runs once a minute; restarting it makes them visible at once, which is what
 *   the tests do.
 * - Time retention is measured from the newest block's end, not from the wall clock: a block is
 *   deleted once it ends more than the retention before the newest block ends. History backfilled
 *   weeks into the past is therefore safe under the default 15 d as long as it spans less than
 *   that and nothing newer is written; a server that also evaluates rules at the wall clock
 *   eventually writes a block "now", so the server here keeps 10 years.
 */

// --- OpenMetrics writer ---------------------------------------------------------------------

export type MetricType = "gauge" | "counter";
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const COUNTER_SUFFIX = "_total";
/** What the writer buffers before writing it out. */
const DEFAULT_CHUNK_BYTES = 1 << 20;

/** A label value as OpenMetrics quotes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
    return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** A sample value as Go's float parser reads it back to the same number. */
export function formatValue(value: number): string {
    if (Number.isNaN(value)) return "NaN";
    if (value === Infinity) return "+Inf";
    if (value === -Infinity) return "-Inf";
    return String(value);
}

/**
 * A timestamp in seconds such that promtool, which multiplies by 1000 and truncates, gets back
 * exactly `ms`. Whole seconds are written as integers; otherwise the decimal milliseconds, with
 * half a millisecond appended where the plain decimal would truncate to the millisecond below.
 */
export function formatTimestamp(ms: number): string {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new Error(`timestamp ${ms} ms is not a non-negative integer`);
    const seconds = Math.floor(ms / 1000);
    const millis = ms % 1000;
    if (millis === 0) return String(seconds);
    const decimal = `${seconds}.${String(millis).padStart(3, "0")}`;
    for (const candidate of [decimal, `${decimal}5`]) {
        if (Math.trunc(Number(candidate) * 1000) === ms) return candidate;
    }
    throw new Error(`timestamp ${ms} ms has no seconds representation that reads back exactly`);
}

interface Family {
    /** The name on the `# TYPE` line: a counter's without `_total`. */
    name: string;
    /** The name on its sample lines: a counter's with `_total`. */
    sampleName: string;
    type: MetricType;
}

/** Appends samples of one series; valid while its family is the one being written. */
export interface SeriesWriter {
    /** Adds a sample; timestamps must rise strictly within the series. */
    sample(value: number, timestampSeconds: number): void;
}

export interface WriteSummary {
    file: string;
    families: number;
    series: number;
    samples: number;
    bytes: number;
    /** Earliest and latest sample, `undefined` for a file without samples. */
    first: Date | undefined;
    last: Date | undefined;
}

interface SeriesState {
    family: Family;
    /** The sample line up to the value: `name{labels} `. */
    prefix: string;
    lastMs: number;
    handle: SeriesWriter;
}

/**
 * Writes an OpenMetrics file for `promtool tsdb create-blocks-from openmetrics`, a family at a
 * time: `family(name, type, help?)`, then its samples through `sample(labels, value, seconds)`
 * (or a `series(labels)` handle, which skips rendering the labels on every sample), and
 * `close()` for the terminating `# EOF`. Output is buffered in chunks and each full chunk is
 * written synchronously before the next sample is taken, so memory stays at one chunk plus the
 * rendered labels and last timestamp of each series, however many millions of samples go through, and the producer
 * can never outrun the disk. A refused call (bad name, family reopened, sample out of order)
 * throws before writing anything, and leaves the writer usable.
 */
export class OpenMetricsWriter {
    private readonly fd: number;
    private pending = "";
    private bytes = 0;
    private samples = 0;
    private families = 0;
    private firstMs = Infinity;
    private lastMs = -Infinity;
    private current: Family | undefined;
    private readonly familyNames = new Set<string>();
    private readonly seriesByPrefix = new Map<string, SeriesState>();
    private closed = false;

    private constructor(
        readonly file: string,
        private readonly chunkBytes: number,
    ) {
        this.fd = fs.openSync(file, "w");
    }

    /** Creates (or truncates) `file`; `chunkBytes` is how much is buffered between writes. */
    static open(file: string, options: { chunkBytes?: number } = {}): OpenMetricsWriter {
        return new OpenMetricsWriter(file, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    }

    /**
     * Starts a family; the previous one is finished and cannot be reopened. A counter may be
     * named with or without `_total`: its `# TYPE` line carries the name without, its samples
     * the name with, so queries always use `<name>_total`.
     */
    family(name: string, type: MetricType, help?: string): void {
        this.assertOpen();
        if (!METRIC_NAME.test(name)) throw new Error(`'${name}' is not a valid metric name`);
        if (type !== "gauge" && type !== "counter") throw new Error(`metric type '${String(type)}' is not written`);
        const familyName =
            type === "counter" && name.endsWith(COUNTER_SUFFIX) ? name.slice(0, -COUNTER_SUFFIX.length) : name;
        if (familyName === "") throw new Error(`'${name}' leaves no family name once '_total' is removed`);
        const sampleName = type === "counter" ? `${familyName}${COUNTER_SUFFIX}` : familyName;
        for (const taken of [familyName, sampleName]) {
            if (this.familyNames.has(taken)) {
                throw new Error(`family '${taken}' was already written: OpenMetrics families are contiguous`);
            }
        }
        this.familyNames.add(familyName).add(sampleName);
        this.families++;
        this.current = { name: familyName, sampleName, type };
        let header = `# TYPE ${familyName} ${type}\n`;
        // HELP text escapes the same three characters as a label value.
        if (help !== undefined) header += `# HELP ${familyName} ${escapeLabelValue(help)}\n`;
        this.append(header);
    }

    /** A handle on one series of the current family, to add many samples cheaply. */
    series(labels: Labels): SeriesWriter {
        this.assertOpen();
        const family = this.current;
        if (family === undefined) throw new Error("a sample needs a family first: call family()");
        const prefix = `${family.sampleName}${renderLabels(labels)} `;
        const known = this.seriesByPrefix.get(prefix);
        if (known !== undefined) return known.handle;
        const state: SeriesState = {
            family,
            prefix,
            lastMs: -Infinity,
            handle: { sample: (value, timestampSeconds) => this.write(state, value, timestampSeconds) },
        };
        this.seriesByPrefix.set(prefix, state);
        return state.handle;
    }

    /** Adds a sample of the series `labels` to the current family. */
    sample(labels: Labels, value: number, timestampSeconds: number): void {
        this.series(labels).sample(value, timestampSeconds);
    }

    /** Writes what is buffered and `# EOF`, and closes the file. */
    close(): WriteSummary {
        this.assertOpen();
        this.append("# EOF\n");
        this.flush();
        fs.closeSync(this.fd);
        this.closed = true;
        const some = this.samples > 0;
        return {
            file: this.file,
            families: this.families,
            series: this.seriesByPrefix.size,
            samples: this.samples,
            bytes: this.bytes,
            first: some ? new Date(this.firstMs) : undefined,
            last: some ? new Date(this.lastMs) : undefined,
        };
    }

    /** Closes the file without finishing it, after a failure. */
    discard(): void {
        if (this.closed) return;
        fs.closeSync(this.fd);
        this.closed = true;
    }

    private write(state: SeriesState, value: number, timestampSeconds: number): void {
        this.assertOpen();
        if (state.family !== this.current) {
            throw new Error(
                `${state.prefix.trim()}: family '${state.family.name}' is finished: OpenMetrics families are contiguous`,
            );
        }
        if (state.family.type === "counter" && (Number.isNaN(value) || value < 0)) {
            throw new Error(`${state.prefix.trim()}: a counter's value may be neither NaN nor negative, got ${value}`);
        }
        if (!Number.isFinite(timestampSeconds) || timestampSeconds < 0) {
            throw new Error(`${state.prefix.trim()}: timestamp ${timestampSeconds} s is not a time since the epoch`);
        }
        const ms = Math.round(timestampSeconds * 1000);
        if (ms <= state.lastMs) {
            throw new Error(
                `${state.prefix.trim()}: sample at ${new Date(ms).toISOString()} is not after the series' ` +
                    `previous one at ${new Date(state.lastMs).toISOString()}; promtool would drop it silently`,
            );
        }
        const line = `${state.prefix}${formatValue(value)} ${formatTimestamp(ms)}\n`;
        state.lastMs = ms;
        this.samples++;
        if (ms < this.firstMs) this.firstMs = ms;
        if (ms > this.lastMs) this.lastMs = ms;
        this.append(line);
    }

    private append(text: string): void {
        this.pending += text;
        if (this.pending.length >= this.chunkBytes) this.flush();
    }

    private flush(): void {
        if (this.pending === "") return;
        const chunk = Buffer.from(this.pending, "utf8");
        this.pending = "";
        let offset = 0;
        while (offset < chunk.length) offset += fs.writeSync(this.fd, chunk, offset);
        this.bytes += chunk.length;
    }

    private assertOpen(): void {
        if (this.closed) throw new Error(`${this.file} is already closed`);
    }
}

/**
 * `{a="1",b="2"}` with names sorted, so one series always renders the same; empty values are
 * left out, as Prometheus treats an empty label as an absent one.
 */
function renderLabels(labels: Labels): string {
    const names = Object.keys(labels).sort();
    const parts: string[] = [];
    for (const name of names) {
        const value = labels[name] ?? "";
        if (!LABEL_NAME.test(name)) throw new Error(`'${name}' is not a valid label name`);
        if (name === "__name__") throw new Error("the metric name comes from the family, not from a __name__ label");
        if (value !== "") parts.push(`${name}="${escapeLabelValue(value)}"`);
    }
    return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

// --- promtool -------------------------------------------------------------------------------

/** Output kept of a tool run, for failure messages. */
const TOOL_OUTPUT_LIMIT = 64 * 1024;

/** Tool runs under way, killed if this process exits before they end. */
const toolRuns = new Set<ChildProcess>();
process.once("exit", () => {
    for (const child of toolRuns) child.kill("SIGKILL");
});

/** Runs `binary` to completion; rejects with its output when it exits non-zero. */
function runTool(binary: string, args: readonly string[], cwd?: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], ...(cwd !== undefined ? { cwd } : {}) });
        toolRuns.add(child);
        let output = "";
        const keep = (chunk: Buffer): void => {
            output = (output + chunk.toString("utf8")).slice(-TOOL_OUTPUT_LIMIT);
        };
        child.stdout.on("data", keep);
        child.stderr.on("data", keep);
        child.once("error", (error) => {
            toolRuns.delete(child);
            reject(error);
        });
        child.once("close", (code, signal) => {
            toolRuns.delete(child);
            if (code === 0) return resolve();
            const how = code === null ? `was killed by ${signal ?? "a signal"}` : `exited with ${code}`;
            reject(new Error(`${path.basename(binary)} ${args.join(" ")} ${how}:\n${output}`));
        });
    });
}

/** A TSDB block as its `meta.json` describes it. */
export interface BlockMeta {
    ulid: string;
    dir: string;
    /** First sample, inclusive. */
    minTime: Date;
    /** One millisecond past the last sample. */
    maxTime: Date;
    numSamples: number;
    numSeries: number;
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

interface MetaJson {
    ulid: string;
    minTime: number;
    maxTime: number;
    stats?: { numSamples?: number; numSeries?: number };
}

/** The blocks in a data directory, oldest first. */
export function listBlocks(dataDir: string): BlockMeta[] {
    if (!fs.existsSync(dataDir)) return [];
    const blocks: BlockMeta[] = [];
    for (const entry of fs.readdirSync(dataDir, { withFileTypes: true })) {
        if (!entry.isDirectory() || !ULID.test(entry.name)) continue;
        const dir = path.join(dataDir, entry.name);
        const metaFile = path.join(dir, "meta.json");
        if (!fs.existsSync(metaFile)) continue;
        const meta = JSON.parse(fs.readFileSync(metaFile, "utf8")) as MetaJson;
        blocks.push({
            ulid: meta.ulid,
            dir,
            minTime: new Date(meta.minTime),
            maxTime: new Date(meta.maxTime),
            numSamples: meta.stats?.numSamples ?? 0,
            numSeries: meta.stats?.numSeries ?? 0,
        });
    }
    return blocks.sort((a, b) => a.minTime.getTime() - b.minTime.getTime() || a.ulid.localeCompare(b.ulid));
}

/** A fresh directory under the system's temporary directory. */
function stagingDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/**
 * Moves every block of `from` into `dataDir`. A rename where both are on one file system;
 * otherwise a copy under a `.tmp-for-creation` name, which Prometheus neither loads nor keeps
 * across a restart, renamed once complete, so a running server never sees half a block.
 */
function moveBlocks(from: string, dataDir: string): BlockMeta[] {
    fs.mkdirSync(dataDir, { recursive: true });
    const moved: BlockMeta[] = [];
    for (const block of listBlocks(from)) {
        const target = path.join(dataDir, block.ulid);
        try {
            fs.renameSync(block.dir, target);
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
            const partial = `${target}.tmp-for-creation`;
            fs.cpSync(block.dir, partial, { recursive: true });
            fs.renameSync(partial, target);
        }
        moved.push({ ...block, dir: target });
    }
    return moved;
}

export interface BlockOptions {
    /**
     * Upper bound on a block's time range, in hours; promtool takes the largest of
     * 2 h × 3^k not above it (54 → 54 h blocks, 100 → 54 h, 162 → 162 h), anything under
     * 2 meaning 2. Each block costs promtool a pass over its whole input. Defaults to 54:
     * fourteen days make 7 or 8 blocks, which a running server later compacts into larger
     * ones at its own pace.
     */
    blockDurationHours?: number;
}

export const DEFAULT_BLOCK_DURATION_HOURS = 54;

function blockDurationFlag(options: BlockOptions): string {
    const hours = options.blockDurationHours ?? DEFAULT_BLOCK_DURATION_HOURS;
    if (!Number.isInteger(hours) || hours < 2) {
        throw new Error(`blockDurationHours must be a whole number of hours, at least 2; got ${hours}`);
    }
    return `--max-block-duration=${hours}h`;
}

/**
 * Turns an OpenMetrics file into TSDB blocks with `promtool tsdb create-blocks-from openmetrics`
 * and moves them into `dataDir`. Blocks are built in a temporary directory first, so a failed
 * import leaves `dataDir` untouched, and land whole, so `dataDir` may belong to a running
 * server: it loads them at its next block reload, or when restarted. Returns the blocks added.
 */
export async function createBlocks(
    openMetricsFile: string,
    dataDir: string,
    options: BlockOptions = {},
): Promise<BlockMeta[]> {
    const { promtool } = locateBinaries(["promtool"], "backfilling history runs promtool");
    const staging = stagingDir("openmetrics-blocks");
    try {
        await runTool(promtool, [
            "tsdb",
            "create-blocks-from",
            "--quiet",
            blockDurationFlag(options),
            "openmetrics",
            openMetricsFile,
            staging,
        ]);
        return moveBlocks(staging, dataDir);
    } finally {
        fs.rmSync(staging, { recursive: true, force: true });
    }
}

export interface RuleBackfill extends BlockOptions {
    /** Plain-HTTP base URL of a Prometheus that holds the data the rules read. */
    url: string;
    /** The first evaluation is the group's first slot at or after `start`. */
    start: Date;
    /** Last possible evaluation, inclusive. */
    end: Date;
    /**
     * Step for groups without an `interval:` of their own, a Prometheus duration. Defaults to
     * promtool's 60s.
     */
    evalInterval?: string;
}

/**
 * Backfills every recording rule of `rulesFile` over `[start, end]` with
 * `promtool tsdb create-blocks-from rules`, querying the Prometheus at `url`, and moves the
 * resulting blocks into `dataDir`. A server on `dataDir` loads them at its next block reload
 * (within a minute) or, deterministically, when restarted: `restartPrometheus`. Alerting rules
 * in the file are ignored. Returns the blocks added.
 */
export async function backfillRules(rulesFile: string, backfill: RuleBackfill, dataDir: string): Promise<BlockMeta[]> {
    const { promtool } = locateBinaries(["promtool"], "backfilling recording rules runs promtool");
    const url = new URL(backfill.url);
    if (url.protocol !== "http:") {
        throw new Error(`promtool queries ${backfill.url} without TLS client settings: give it a plain http:// URL`);
    }
    if (backfill.start.getTime() >= backfill.end.getTime()) {
        throw new Error(`rule backfill start ${backfill.start.toISOString()} is not before end`);
    }
    const staging = stagingDir("rule-blocks");
    try {
        await runTool(
            promtool,
            [
                "tsdb",
                "create-blocks-from",
                "--quiet",
                blockDurationFlag(backfill),
                "rules",
                `--url=${backfill.url}`,
                `--start=${backfill.start.toISOString()}`,
                `--end=${backfill.end.toISOString()}`,
                `--output-dir=${staging}`,
                ...(backfill.evalInterval !== undefined ? [`--eval-interval=${backfill.evalInterval}`] : []),
                // By its base name from its own folder: the evaluation offset hashes the file name as
                // given, and a temporary folder's random path would move the hourly windows between runs.
                path.basename(rulesFile),
            ],
            path.dirname(rulesFile),
        );
        return moveBlocks(staging, dataDir);
    } finally {
        fs.rmSync(staging, { recursive: true, force: true });
    }
}

// --- Prometheus on a data directory ---------------------------------------------------------

/** How a client reaches a server over TLS: the CA it trusts, the name it dials, who it is. */
export interface TlsClient {
    ca: Issued;
    /** Server name sent (SNI) and checked against the server certificate. */
    servername: string;
    /** Client certificate; none when undefined. */
    identity?: Issued;
}

/** Where queries go: a port on 127.0.0.1, in plain HTTP or over TLS. */
export interface QueryTarget {
    port: number;
    tls?: TlsClient;
}

export interface PrometheusOptions {
    /**
     * Web configuration file (`--web.config.file`): TLS, typically with client certificates
     * required. Defaults to none, plain HTTP.
     */
    webConfigFile?: string;
    /**
     * How the harness dials a server behind `webConfigFile`, for the readiness probe and as the
     * returned query target. Without a client identity the server is judged ready by its log
     * line and an open port instead. Defaults to none.
     */
    tls?: TlsClient;
    /** Rule files loaded and evaluated at the wall clock. Defaults to none. */
    ruleFiles?: string[];
    /** Rule evaluation interval. Defaults to "1m". */
    evaluationInterval?: string;
    /** `--query.lookback-delta`. Defaults to Prometheus' 5m. */
    lookbackDelta?: string;
    /** `--storage.tsdb.retention.time`. Defaults to "10y" (see the module comment). */
    retention?: string;
    /** Port to listen on. Defaults to a free one. */
    port?: number;
}

export interface PrometheusOnData {
    server: Server;
    dataDir: string;
    options: PrometheusOptions;
    /** The query target: plain HTTP, or TLS as `options.tls` dials. */
    target: QueryTarget;
    /** Base URL: `http://127.0.0.1:<port>` or `https://…`. */
    url: string;
    /** Directory of the generated configuration, removed by `stopPrometheus`. */
    configDir: string;
}

const DEFAULT_RETENTION = "10y";
/** What Prometheus logs once it serves queries. */
const READY_LOG_LINE = "Server is ready to receive web requests.";

function portOpen(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: HOST, port });
        socket.once("connect", () => {
            socket.destroy();
            resolve(true);
        });
        socket.once("error", () => resolve(false));
    });
}

/**
 * Readiness, as each way of serving allows: `/-/ready` in plain HTTP or with a client
 * certificate; behind TLS without one, the log line Prometheus writes once ready and the port
 * accepting connections.
 */
function readiness(server: Server, options: PrometheusOptions): () => Promise<Probe> {
    if (options.webConfigFile === undefined) {
        return () => probeOk(plainRequest(server.port, { path: "/-/ready" }));
    }
    const tls = options.tls;
    if (tls?.identity !== undefined) {
        return () =>
            probeOk(
                request({ port: server.port, servername: tls.servername, identity: tls.identity }, tls.ca, {
                    path: "/-/ready",
                }),
            );
    }
    return async () => {
        if (!server.log().includes(READY_LOG_LINE)) return { ready: false, why: "not logged ready yet" };
        return (await portOpen(server.port)) ? { ready: true } : { ready: false, why: "port not open" };
    };
}

/**
 * A Prometheus on 127.0.0.1 serving what `dataDir` holds: no scrape jobs, rule files if given,
 * retention long enough for backfilled history, waited on until ready.
 */
export async function startPrometheusOnData(
    dataDir: string,
    options: PrometheusOptions = {},
): Promise<PrometheusOnData> {
    const { prometheus } = locateBinaries(["prometheus"], "backfilled history is served by a real Prometheus");
    if (options.tls !== undefined && options.webConfigFile === undefined) {
        throw new Error("tls client settings given without a webConfigFile that serves TLS");
    }
    fs.mkdirSync(dataDir, { recursive: true });
    const configDir = stagingDir("prometheus-on-data");
    const configFile = path.join(configDir, "prometheus.yml");
    fs.writeFileSync(
        configFile,
        stringify({
            global: { evaluation_interval: options.evaluationInterval ?? "1m" },
            ...(options.ruleFiles !== undefined && options.ruleFiles.length > 0
                ? { rule_files: options.ruleFiles.map((f) => path.resolve(f)) }
                : {}),
        }),
    );
    const port = options.port ?? (await freePort());
    const args = [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        `--storage.tsdb.retention.time=${options.retention ?? DEFAULT_RETENTION}`,
        `--web.listen-address=${HOST}:${port}`,
        ...(options.webConfigFile !== undefined ? [`--web.config.file=${options.webConfigFile}`] : []),
        ...(options.lookbackDelta !== undefined ? [`--query.lookback-delta=${options.lookbackDelta}`] : []),
    ];
    const server = startServer("prometheus", prometheus, args, port);
    try {
        await waitReady(server, readiness(server, options));
    } catch (error) {
        await stopServer(server);
        fs.rmSync(configDir, { recursive: true, force: true });
        throw error;
    }
    const secure = options.webConfigFile !== undefined;
    return {
        server,
        dataDir,
        options,
        target: { port, ...(options.tls !== undefined ? { tls: options.tls } : {}) },
        url: `${secure ? "https" : "http"}://${HOST}:${port}`,
        configDir,
    };
}

/** Stops the server and removes its generated configuration; resolves with its exit code. */
export async function stopPrometheus(prometheus: PrometheusOnData): Promise<number | null> {
    const code = await stopServer(prometheus.server);
    fs.rmSync(prometheus.configDir, { recursive: true, force: true });
    return code;
}

/**
 * Stops the server and starts it again on the same data directory, port and options, e.g. so
 * it loads blocks just moved in; `changes` override options for the new run.
 */
export async function restartPrometheus(
    prometheus: PrometheusOnData,
    changes: PrometheusOptions = {},
): Promise<PrometheusOnData> {
    await stopPrometheus(prometheus);
    return startPrometheusOnData(prometheus.dataDir, {
        ...prometheus.options,
        port: prometheus.server.port,
        ...changes,
    });
}

// --- queries --------------------------------------------------------------------------------

/** One series of an instant vector. */
export interface VectorSample {
    metric: Record<string, string>;
    /** Evaluation time. */
    time: Date;
    value: number;
}

/** One series of a range result, or of a range selector evaluated at an instant. */
export interface MatrixSeries {
    metric: Record<string, string>;
    samples: { time: Date; value: number }[];
}

type RawPoint = [number, string];
interface ApiResponse {
    status: "success" | "error";
    error?: string;
    errorType?: string;
    data?:
        | { resultType: "vector"; result: { metric: Record<string, string>; value: RawPoint }[] }
        | { resultType: "matrix"; result: { metric: Record<string, string>; values: RawPoint[] }[] }
        | { resultType: "scalar" | "string"; result: RawPoint };
}

/** A sample value from the API's string form, `+Inf`, `-Inf` and `NaN` included. */
function parseValue(text: string): number {
    if (text === "+Inf") return Infinity;
    if (text === "-Inf") return -Infinity;
    return Number(text);
}

/** The API takes times as decimal seconds; milliseconds are the TSDB's resolution. */
const apiTime = (time: Date): string => (time.getTime() / 1000).toFixed(3);

async function callApi(target: QueryTarget, endpoint: string, params: Record<string, string>): Promise<ApiResponse> {
    const options = {
        method: "POST",
        path: `/api/v1/${endpoint}`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(params).toString(),
    };
    const tls = target.tls;
    const outcome: Outcome =
        tls === undefined
            ? await plainRequest(target.port, options)
            : await request({ port: target.port, servername: tls.servername, identity: tls.identity }, tls.ca, options);
    if (outcome.status === undefined || outcome.body === undefined) {
        throw new Error(`${endpoint} ${params.query ?? ""}: ${describeOutcome(outcome)}`, { cause: outcome.error });
    }
    let parsed: ApiResponse;
    try {
        parsed = JSON.parse(outcome.body) as ApiResponse;
    } catch {
        throw new Error(`${endpoint} ${params.query ?? ""}: ${describeOutcome(outcome)}`);
    }
    if (outcome.status !== 200 || parsed.status !== "success" || parsed.data === undefined) {
        throw new Error(`${endpoint} ${params.query ?? ""}: ${parsed.errorType ?? ""} ${parsed.error ?? ""}`.trim());
    }
    return parsed;
}

const toMatrix = (result: { metric: Record<string, string>; values: RawPoint[] }[]): MatrixSeries[] =>
    result.map((s) => ({
        metric: s.metric,
        samples: s.values.map(([t, v]) => ({ time: new Date(Math.round(t * 1000)), value: parseValue(v) })),
    }));

/**
 * Evaluates `expr` at `time`: an instant vector, or a scalar as one sample without labels.
 * Rejects, with how the request failed, on a transport, HTTP or PromQL error, and on an
 * expression whose result is a range vector (see `querySamples`).
 */
export async function queryInstant(target: QueryTarget, expr: string, time: Date): Promise<VectorSample[]> {
    const { data } = await callApi(target, "query", { query: expr, time: apiTime(time) });
    switch (data?.resultType) {
        case "vector":
            return data.result.map((s) => ({
                metric: s.metric,
                time: new Date(Math.round(s.value[0] * 1000)),
                value: parseValue(s.value[1]),
            }));
        case "scalar":
            return [
                { metric: {}, time: new Date(Math.round(data.result[0] * 1000)), value: parseValue(data.result[1]) },
            ];
        default:
            throw new Error(`query ${expr}: a ${data?.resultType ?? "missing"} result is not an instant vector`);
    }
}

/**
 * The raw samples of the series `selector` (a plain vector selector) picks, in `[start, end]`,
 * as stored: the selector with a range, evaluated at `end` (Prometheus 2 includes both ends).
 */
export async function querySamples(
    target: QueryTarget,
    selector: string,
    start: Date,
    end: Date,
): Promise<MatrixSeries[]> {
    const rangeMs = end.getTime() - start.getTime();
    if (rangeMs <= 0) throw new Error("querySamples: start is not before end");
    const expr = `${selector}[${rangeMs}ms]`;
    const { data } = await callApi(target, "query", { query: expr, time: apiTime(end) });
    if (data?.resultType !== "matrix") throw new Error(`query ${expr}: not a range vector`);
    return toMatrix(data.result);
}

/** Evaluates `expr` at every `stepSeconds` from `start` to `end`. */
export async function queryRange(
    target: QueryTarget,
    expr: string,
    range: { start: Date; end: Date; stepSeconds: number },
): Promise<MatrixSeries[]> {
    const { data } = await callApi(target, "query_range", {
        query: expr,
        start: apiTime(range.start),
        end: apiTime(range.end),
        step: String(range.stepSeconds),
    });
    if (data?.resultType !== "matrix") throw new Error(`query_range ${expr}: not a matrix`);
    return toMatrix(data.result);
}
