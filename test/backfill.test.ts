import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import * as fc from "fast-check";
import { stringify } from "yaml";

import { certificateSpecs, type CertificateSpec } from "../components/pki/profiles";
import {
    backfillRules,
    createBlocks,
    formatTimestamp,
    listBlocks,
    OpenMetricsWriter,
    queryInstant,
    queryRange,
    querySamples,
    restartPrometheus,
    startPrometheusOnData,
    stopPrometheus,
    type BlockMeta,
    type Labels,
    type MatrixSeries,
    type PrometheusOnData,
    type QueryTarget,
} from "./harness/backfill";
import { webConfigYaml } from "./harness/web-config";
import { issueCa, issueLeaf, writeTlsSecret } from "./harness/x509";
import { exampleMainConfig, tempDir } from "./helpers";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** The history ends here, in the past; one sample a minute for fourteen days up to it. */
const END_MS = Date.parse("2026-11-23T00:00:00Z");
const POINTS = (14 * DAY_MS) / MINUTE_MS;
const at = (i: number): number => END_MS - (POINTS - 1 - i) * MINUTE_MS;
const indexAt = (ms: number): number => POINTS - 1 - (END_MS - ms) / MINUTE_MS;

/** Counter increments per minute, by instance; the counter starts at 1000. */
const RATES = { a: 1, b: 2 } as const;
const counterAt = (instance: keyof typeof RATES, i: number): number => 1000 + RATES[instance] * i;
/** Gauge `a` runs 0…59 over and over, `b` stays at 2.5, `c` (an awkward label) at 7. */
const gaugeA = (i: number): number => i % 60;
const AWKWARD = 'say "hi" \\ then\nbreak';

/** Three days before the end, on a sample. */
const PAST_MS = END_MS - 3 * DAY_MS;

const values = (series: MatrixSeries | undefined): number[] => (series?.samples ?? []).map((s) => s.value);
const times = (series: MatrixSeries | undefined): number[] => (series?.samples ?? []).map((s) => s.time.getTime());
const gaps = (ms: number[]): number[] => ms.slice(1).map((t, i) => t - (ms[i] ?? 0));

function assertClose(actual: number | undefined, expected: number, what: string): void {
    assert.ok(actual !== undefined && Math.abs(actual - expected) <= 1e-9 * Math.abs(expected), `${what}: ${actual}`);
}

async function valueOf(target: QueryTarget, expr: string, time: number): Promise<number | undefined> {
    const vector = await queryInstant(target, expr, new Date(time));
    assert.ok(vector.length <= 1, `${expr} gave ${vector.length} series`);
    return vector[0]?.value;
}

describe("OpenMetricsWriter", () => {
    const work = tempDir("backfill-writer");

    it("writes families with their type first, counters with _total, labels sorted and escaped, then # EOF", () => {
        const file = path.join(work, "small.om");
        const writer = OpenMetricsWriter.open(file);
        writer.family("jobs_done_total", "counter", 'Jobs "done"\nper queue');
        writer.sample({ queue: "b", cluster: "sub-eu-1" }, 3, 1795392000);
        writer.sample({ queue: "b", cluster: "sub-eu-1" }, 5, 1795392060.25);
        writer.family("queue_depth", "gauge");
        writer.sample({ path: 'C:\\tmp "x"\nnext', empty: "" }, NaN, 1795392000);
        writer.series({}).sample(Infinity, 1795392000);
        const summary = writer.close();

        assert.equal(
            fs.readFileSync(file, "utf8"),
            [
                "# TYPE jobs_done counter",
                '# HELP jobs_done Jobs \\"done\\"\\nper queue',
                'jobs_done_total{cluster="sub-eu-1",queue="b"} 3 1795392000',
                'jobs_done_total{cluster="sub-eu-1",queue="b"} 5 1795392060.250',
                "# TYPE queue_depth gauge",
                'queue_depth{path="C:\\\\tmp \\"x\\"\\nnext"} NaN 1795392000',
                "queue_depth +Inf 1795392000",
                "# EOF",
                "",
            ].join("\n"),
        );
        assert.deepEqual(summary, {
            file,
            families: 2,
            series: 3,
            samples: 4,
            bytes: fs.statSync(file).size,
            first: new Date(1795392000_000),
            last: new Date(1795392060_250),
        });
    });

    it("refuses what promtool would drop silently or the format forbids, and stays usable", () => {
        const writer = OpenMetricsWriter.open(path.join(work, "refused.om"));
        assert.throws(() => writer.sample({}, 1, 1), /needs a family first/);
        writer.family("requests", "counter");
        const old = writer.series({ code: "200" });
        old.sample(1, 1000);
        assert.throws(() => old.sample(2, 1000), /is not after the series' previous one.*drop it silently/);
        assert.throws(() => old.sample(2, 999), /is not after/);
        assert.throws(() => old.sample(-1, 1001), /neither NaN nor negative/);
        assert.throws(() => old.sample(NaN, 1001), /neither NaN nor negative/);
        assert.throws(() => old.sample(1, -1), /not a time since the epoch/);
        assert.throws(() => writer.sample({ "bad-name": "x" }, 1, 1), /'bad-name' is not a valid label name/);
        assert.throws(() => writer.sample({ __name__: "x" }, 1, 1), /comes from the family/);
        assert.throws(() => writer.family("9lives", "gauge"), /not a valid metric name/);
        writer.family("latency", "gauge");
        assert.throws(() => old.sample(3, 2000), /family 'requests' is finished/);
        assert.throws(() => writer.family("requests", "gauge"), /'requests' was already written/);
        assert.throws(() => writer.family("requests_total", "gauge"), /'requests_total' was already written/);
        writer.sample({}, 0.5, 1000);
        assert.equal(writer.close().samples, 2);
        assert.throws(() => writer.sample({}, 1, 2000), /already closed/);
    });

    it("writes every millisecond timestamp so that promtool reads back exactly that millisecond", () => {
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
                const text = formatTimestamp(ms);
                assert.match(text, /^\d+(\.\d{3,4})?$/);
                // promtool parses a float64 and truncates seconds × 1000, as this does.
                assert.equal(Math.trunc(Number(text) * 1000), ms);
            }),
            { numRuns: 20_000 },
        );
        // The plain decimal would read back as …336.
        assert.equal(Math.trunc(Number("1095222004.337") * 1000), 1095222004336);
        assert.equal(formatTimestamp(1095222004337), "1095222004.3375");
    });

    it("gets a millisecond timestamp through promtool into a block exactly", async () => {
        const file = path.join(work, "millis.om");
        const writer = OpenMetricsWriter.open(file);
        writer.family("millis", "gauge");
        writer.sample({}, 1, 1095222004.337);
        writer.sample({}, 2, 1095222005.001);
        writer.close();
        const blocks = await createBlocks(file, path.join(work, "millis-data"));
        assert.equal(blocks.length, 1);
        assert.equal(blocks[0]?.minTime.getTime(), 1095222004337);
        assert.equal(blocks[0]?.maxTime.getTime(), 1095222005001 + 1);
        assert.equal(blocks[0]?.numSamples, 2);
    });
});

describe("backfilled history in a real Prometheus", () => {
    const work = tempDir("backfill");
    const dataDir = path.join(work, "data");
    let prometheus: PrometheusOnData | undefined;
    let blocks: BlockMeta[];

    const running = (): PrometheusOnData => {
        assert.ok(prometheus, "Prometheus is not running");
        return prometheus;
    };

    before(async () => {
        const file = path.join(work, "history.om");
        const writer = OpenMetricsWriter.open(file);
        writer.family("backfill_requests", "counter", "Requests served.");
        for (const instance of ["a", "b"] as const) {
            const series = writer.series({ job: "api", instance });
            for (let i = 0; i < POINTS; i++) series.sample(counterAt(instance, i), at(i) / 1000);
        }
        writer.family("backfill_queue_depth", "gauge", "Jobs waiting.");
        const gauges: { labels: Labels; value: (i: number) => number }[] = [
            { labels: { instance: "a" }, value: gaugeA },
            { labels: { instance: "b" }, value: () => 2.5 },
            { labels: { instance: "c", note: AWKWARD }, value: () => 7 },
        ];
        for (const { labels, value } of gauges) {
            const series = writer.series(labels);
            for (let i = 0; i < POINTS; i++) series.sample(value(i), at(i) / 1000);
        }
        const summary = writer.close();
        assert.equal(summary.samples, 5 * POINTS);

        blocks = await createBlocks(file, dataDir);
        prometheus = await startPrometheusOnData(dataDir);
    });

    after(async () => {
        if (prometheus !== undefined) await stopPrometheus(prometheus);
    });

    it("cuts the two weeks into epoch-aligned blocks of at most 54 h, holding every sample once", () => {
        const span = 54 * HOUR_MS;
        assert.equal(blocks.length, 7);
        assert.deepEqual(
            listBlocks(dataDir).map((b) => b.ulid),
            blocks.map((b) => b.ulid),
        );
        assert.equal(blocks[0]?.minTime.getTime(), at(0));
        assert.equal(blocks.at(-1)?.maxTime.getTime(), END_MS + 1);
        assert.equal(
            blocks.reduce((sum, b) => sum + b.numSamples, 0),
            5 * POINTS,
        );
        for (const [i, b] of blocks.entries()) {
            const window = Math.floor(b.minTime.getTime() / span);
            assert.equal(Math.floor((b.maxTime.getTime() - 1) / span), window, `block ${i} crosses a 54 h boundary`);
            if (i > 0) assert.ok(b.minTime.getTime() >= (blocks[i - 1]?.maxTime.getTime() ?? 0), "blocks overlap");
        }
    });

    it("serves the stored samples exactly, at past times", async () => {
        const { target } = running();
        const i = indexAt(PAST_MS);
        for (const instance of ["a", "b"] as const) {
            const expr = `backfill_requests_total{instance="${instance}"}`;
            assert.equal(await valueOf(target, expr, PAST_MS), counterAt(instance, i));
        }
        const [gauge] = await querySamples(
            target,
            'backfill_queue_depth{instance="a"}',
            new Date(PAST_MS - 10 * MINUTE_MS),
            new Date(PAST_MS),
        );
        assert.deepEqual(
            times(gauge),
            Array.from({ length: 11 }, (_, k) => at(i - 10 + k)),
        );
        assert.deepEqual(
            values(gauge),
            Array.from({ length: 11 }, (_, k) => gaugeA(i - 10 + k)),
        );
        // Between samples, the latest one within the 5 m lookback; after the end, nothing.
        assert.equal(await valueOf(target, 'backfill_queue_depth{instance="a"}', PAST_MS + 59_000), gaugeA(i));
        assert.equal(await valueOf(target, 'backfill_queue_depth{instance="a"}', END_MS + 6 * MINUTE_MS), undefined);
    });

    it("keeps a label value with quotes, a backslash and a newline intact", async () => {
        const vector = await queryInstant(running().target, 'backfill_queue_depth{instance="c"}', new Date(PAST_MS));
        assert.deepEqual(
            vector.map((s) => [s.metric, s.value]),
            [[{ __name__: "backfill_queue_depth", instance: "c", note: AWKWARD }, 7]],
        );
    });

    it("answers the functions a weekly report uses with the values the history implies", async () => {
        const { target } = running();
        // On a sample, [t-1h, t] holds 61 samples: no extrapolation, exact.
        for (const instance of ["a", "b"] as const) {
            const expr = `increase(backfill_requests_total{instance="${instance}"}[1h])`;
            assert.equal(await valueOf(target, expr, PAST_MS), 60 * RATES[instance]);
        }
        assert.equal(await valueOf(target, "sum(increase(backfill_requests_total[1h]))", PAST_MS), 180);
        const [hourly] = await queryRange(target, 'increase(backfill_requests_total{instance="a"}[1h])', {
            start: new Date(PAST_MS - 2 * HOUR_MS),
            end: new Date(PAST_MS),
            stepSeconds: 3600,
        });
        assert.deepEqual(times(hourly), [PAST_MS - 2 * HOUR_MS, PAST_MS - HOUR_MS, PAST_MS]);
        assert.deepEqual(values(hourly), [60, 60, 60]);
        // Half a minute off the grid, a 7 d window holds exactly 168 cycles of 0…59.
        const week = 'backfill_queue_depth{instance="a"}[7d]';
        const off = PAST_MS + 30_000;
        assert.equal(await valueOf(target, `count_over_time(${week})`, off), 7 * 24 * 60);
        assert.equal(await valueOf(target, `max_over_time(${week})`, off), 59);
        assert.equal(await valueOf(target, `min_over_time(${week})`, off), 0);
        assertClose(await valueOf(target, `avg_over_time(${week})`, off), 29.5, "avg_over_time");
        assert.equal(
            await valueOf(target, `increase(backfill_requests_total{instance="b"}[7d])`, PAST_MS),
            2 * 7 * 24 * 60,
        );
    });

    it("backfills recording rules on the group's own interval, and Prometheus serves them after a restart", async () => {
        const rulesFile = path.join(work, "rules.yml");
        fs.writeFileSync(
            rulesFile,
            stringify({
                groups: [
                    {
                        name: "backfill-hourly",
                        interval: "1h",
                        rules: [
                            {
                                record: "job:backfill_requests:increase1h",
                                expr: "sum by (job) (increase(backfill_requests_total[1h]))",
                            },
                        ],
                    },
                    {
                        name: "backfill-default-interval",
                        rules: [
                            { record: "backfill_queue_depth:max", expr: 'max(backfill_queue_depth{instance="b"})' },
                        ],
                    },
                ],
            }),
        );
        const start = new Date(END_MS - 8 * DAY_MS);
        const end = new Date(END_MS);
        const added = await backfillRules(rulesFile, { url: running().url, start, end, evalInterval: "30m" }, dataDir);
        assert.ok(added.length > 0, "no rule blocks");
        assert.ok(
            added.every((b) => b.maxTime.getTime() - b.minTime.getTime() <= 54 * HOUR_MS),
            "a rule block spans over 54 h",
        );
        prometheus = await restartPrometheus(running(), { lookbackDelta: "10m" });
        const { target } = running();

        const [hourly, ...moreHourly] = await querySamples(target, "job:backfill_requests:increase1h", start, end);
        assert.equal(moreHourly.length, 0);
        assert.deepEqual(hourly?.metric, { __name__: "job:backfill_requests:increase1h", job: "api" });
        const hours = times(hourly);
        const first = hours[0] ?? NaN;
        const offset = first - start.getTime();
        assert.ok(offset >= 0 && offset < HOUR_MS, `first evaluation ${offset} ms after start`);
        assert.equal(hours.length, offset === 0 ? 8 * 24 + 1 : 8 * 24);
        assert.deepEqual(new Set(gaps(hours)), new Set([HOUR_MS]));
        for (const v of values(hourly)) assertClose(v, 180, "recorded hourly increase");
        // Exactly what Prometheus computes for the rule's expression at those instants.
        for (const k of [0, 100, hours.length - 1]) {
            const live = await valueOf(target, "sum by (job) (increase(backfill_requests_total[1h]))", hours[k] ?? 0);
            assert.equal(values(hourly)[k], live, `evaluation ${k}`);
        }
        assert.equal(
            await valueOf(
                target,
                "count_over_time(job:backfill_requests:increase1h[7d])",
                first + 7 * DAY_MS + HOUR_MS / 2,
            ),
            168,
        );

        const [halfHourly] = await querySamples(target, "backfill_queue_depth:max", start, end);
        assert.deepEqual(new Set(gaps(times(halfHourly))), new Set([HOUR_MS / 2]));
        assert.deepEqual(new Set(values(halfHourly)), new Set([2.5]));

        // The restart took the 10 m lookback: 6 minutes after the last sample still answers.
        assert.equal(await valueOf(target, 'backfill_queue_depth{instance="b"}', END_MS + 6 * MINUTE_MS), 2.5);
    });

    it("evaluates a rule file at the same instants whatever folder holds it", async () => {
        // promtool offsets a group's evaluations by a hash of its name and file name: the file
        // goes by its base name, so a random temporary folder does not move the hourly windows.
        const rules = stringify({
            groups: [{ name: "backfill-where", interval: "1h", rules: [{ record: "where:up", expr: "vector(1)" }] }],
        });
        const firstEvaluations: number[] = [];
        for (const folder of ["a", "somewhere/else/entirely"]) {
            const dir = path.join(work, "where", folder);
            fs.mkdirSync(path.join(dir, "data"), { recursive: true });
            fs.writeFileSync(path.join(dir, "rules.yml"), rules);
            const blocks = await backfillRules(
                path.join(dir, "rules.yml"),
                { url: running().url, start: new Date(END_MS - DAY_MS), end: new Date(END_MS) },
                path.join(dir, "data"),
            );
            const first = Math.min(...blocks.map((b) => b.minTime.getTime()));
            assert.ok(Number.isFinite(first), "no rule block");
            firstEvaluations.push(first);
        }
        assert.equal(firstEvaluations[0], firstEvaluations[1]);
    });

    it("serves the history behind TLS requiring client certificates: with one a query answers, without one it fails", async () => {
        const specs = certificateSpecs(exampleMainConfig("sub-eu-1"));
        const spec = (predicate: (s: CertificateSpec) => boolean): CertificateSpec => {
            const found = specs.find(predicate);
            assert.ok(found);
            return found;
        };
        const ca = await issueCa(spec((s) => s.kind === "ca"));
        const serverCert = await issueLeaf(
            spec((s) => s.profile === "query-gateway"),
            ca,
        );
        const reporter = await issueLeaf(
            spec((s) => s.profile === "reporter"),
            ca,
        );
        const webConfigFile = path.join(work, "web-config.yml");
        fs.writeFileSync(webConfigFile, webConfigYaml(writeTlsSecret(path.join(work, "tls"), serverCert, ca)));
        const servername = "query-gateway.observability.svc";
        const expr = 'backfill_requests_total{instance="b"}';
        const expected = counterAt("b", indexAt(PAST_MS));

        // No client identity for the harness: readiness comes from the log and the open port.
        prometheus = await restartPrometheus(running(), { webConfigFile, tls: { ca, servername } });
        const { url } = running();
        const { port } = running().target;
        assert.match(url, /^https:\/\/127\.0\.0\.1:/);
        const withCert: QueryTarget = { port, tls: { ca, servername, identity: reporter } };
        assert.equal(await valueOf(withCert, expr, PAST_MS), expected);
        await assert.rejects(valueOf(running().target, expr, PAST_MS), (error: Error) => {
            const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
            return (
                code === "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" || code === "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE"
            );
        });
        await assert.rejects(valueOf({ port }, expr, PAST_MS), /HTTP 400/);

        // With a client identity, readiness is probed on /-/ready over mutual TLS.
        prometheus = await restartPrometheus(running(), { tls: { ca, servername, identity: reporter } });
        assert.equal(await valueOf(running().target, expr, PAST_MS), expected);
    });
});
