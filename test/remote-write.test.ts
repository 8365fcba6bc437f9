import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { QUEUE_CONFIG, remoteWriteSpec, type RemoteWriteSpec } from "../components/metrics/remote-write";
import { ingestEndpoints } from "../components/network/endpoints";
import { CLUSTER_IDENTITY_SECRET } from "../components/pki/profiles";
import { runLinkLoss, SENDER_JOB, type LinkLossResult } from "./harness/link-loss";
import { locateBinaries } from "./harness/processes";
import { prometheusRemoteWrite, QUEUE_CONFIG_KEYS, type SecretFiles } from "./harness/remote-write";
import { exampleMainConfig, tempDir } from "./helpers";

/**
 * The remote-write entry the program gives sub clusters, as Prometheus runs it: converted the way
 * prometheus-operator converts it, then proved with real servers on 127.0.0.1 to lose no sample
 * when the link to main drops for a minute.
 */

const SUB_CLUSTER = "sub-eu-1";
const CUT_SECONDS = 60;
const CATCH_UP_TIMEOUT_MS = 90_000;

const config = exampleMainConfig(SUB_CLUSTER);
const endpoint = ingestEndpoints(config.exposure).metrics;
const FILES: SecretFiles = {
    "ca.crt": "/mnt/identity/ca.crt",
    "tls.crt": "/mnt/identity/tls.crt",
    "tls.key": "/mnt/identity/tls.key",
};

/** The queue as Prometheus reads it, key for key. */
const PROMETHEUS_QUEUE_CONFIG = {
    capacity: 10000,
    min_shards: 1,
    max_shards: 50,
    max_samples_per_send: 2000,
    batch_send_deadline: "5s",
    min_backoff: "100ms",
    max_backoff: "10s",
    retry_on_http_429: true,
};

describe("remote_write entry converted from the program's RemoteWriteSpec", () => {
    const spec = remoteWriteSpec(endpoint, CLUSTER_IDENTITY_SECRET);

    it("gives Prometheus the URL, server name, identity files and queue of the program's entry in snake_case", () => {
        assert.deepEqual(prometheusRemoteWrite(spec, FILES), {
            url: "https://metrics.obs.example.com:443/api/v1/receive",
            name: "main",
            tls_config: {
                ca_file: "/mnt/identity/ca.crt",
                cert_file: "/mnt/identity/tls.crt",
                key_file: "/mnt/identity/tls.key",
                server_name: "metrics.obs.example.com",
                min_version: "TLS13",
            },
            queue_config: PROMETHEUS_QUEUE_CONFIG,
            send_exemplars: true,
        });
    });

    it("translates every key of the program's queueConfig, each into a distinct queue_config key", () => {
        const converted = prometheusRemoteWrite(spec, FILES).queue_config;
        assert.deepEqual(Object.keys(QUEUE_CONFIG_KEYS).sort(), Object.keys(QUEUE_CONFIG).sort());
        assert.equal(Object.keys(converted).length, Object.keys(QUEUE_CONFIG).length);
        for (const [key, value] of Object.entries(QUEUE_CONFIG)) {
            assert.equal(converted[QUEUE_CONFIG_KEYS[key as keyof typeof QUEUE_CONFIG]], value, key);
        }
    });

    it("refuses a queueConfig key it has no translation for rather than dropping it", () => {
        const extended = { ...spec, queueConfig: { ...spec.queueConfig, sampleAgeLimit: "5m" } };
        assert.throws(
            () => prometheusRemoteWrite(extended as RemoteWriteSpec, FILES),
            /remoteWrite\.queueConfig: no Prometheus translation for 'sampleAgeLimit'/,
        );
    });

    it("refuses unknown keys of the entry and of its tlsConfig as well", () => {
        const extraTop = { ...spec, writeRelabelConfigs: [] };
        assert.throws(
            () => prometheusRemoteWrite(extraTop as RemoteWriteSpec, FILES),
            /remoteWrite: no Prometheus translation for 'writeRelabelConfigs'/,
        );
        const extraTls = { ...spec, tlsConfig: { ...spec.tlsConfig, insecureSkipVerify: true } };
        assert.throws(
            () => prometheusRemoteWrite(extraTls as RemoteWriteSpec, FILES),
            /remoteWrite\.tlsConfig: no Prometheus translation for 'insecureSkipVerify'/,
        );
    });

    it("refuses a Secret key that has no file, and selectors spread over several Secrets", () => {
        const withoutKey = Object.fromEntries(Object.entries(FILES).filter(([key]) => key !== "tls.key"));
        assert.throws(
            () => prometheusRemoteWrite(spec, withoutKey as SecretFiles),
            /no file for key 'tls\.key' of Secret cluster-client-tls/,
        );
        const split = {
            ...spec,
            tlsConfig: { ...spec.tlsConfig, keySecret: { name: "other-tls", key: "tls.key" } },
        };
        assert.throws(() => prometheusRemoteWrite(split, FILES), /expected one mounted Secret/);
    });
});

it("finds prometheus installed, as the link-loss proof runs it for real", () => {
    assert.doesNotThrow(() => locateBinaries(["prometheus"], "the link-loss proof"));
});

it("names the Debian package to install when prometheus is missing", () => {
    assert.throws(
        () => locateBinaries(["prometheus"], "the link-loss proof", ""),
        /the link-loss proof;\nprometheus is not on PATH: install the Debian package `prometheus`/,
    );
});

describe(`remote-write from ${SUB_CLUSTER} across a ${CUT_SECONDS}-second link loss, real Prometheus at both ends`, () => {
    let result: LinkLossResult;

    before(async () => {
        result = await runLinkLoss({
            config,
            subCluster: SUB_CLUSTER,
            cutSeconds: CUT_SECONDS,
            workDir: tempDir("remote-write"),
            catchUpTimeoutMs: CATCH_UP_TIMEOUT_MS,
        });
    });

    const diagnostics = (): string => `--- sender's remote storage metrics ---\n${result.senderRemoteStorageMetrics}`;

    it("sends with the program's entry, dialling 127.0.0.1 and verifying the name sub clusters dial", () => {
        const { url, tls_config, queue_config } = result.remoteWrite;
        assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/api\/v1\/write$/);
        assert.equal(tls_config.server_name, "metrics.obs.example.com");
        assert.equal(tls_config.min_version, "TLS13");
        assert.match(tls_config.cert_file, new RegExp(`/${CLUSTER_IDENTITY_SECRET}/tls\\.crt$`));
        assert.deepEqual(queue_config, PROMETHEUS_QUEUE_CONFIG);
    });

    it(`lands the sender's samples at the receiver over mTLS, labelled cluster="${SUB_CLUSTER}", before the cut`, () => {
        assert.equal(result.labelsAtReceiver.__name__, "up");
        assert.equal(result.labelsAtReceiver.job, SENDER_JOB);
        assert.equal(result.labelsAtReceiver.cluster, SUB_CLUSTER);
    });

    it("keeps the receiver down for the whole cut while the sender scrapes every second and retries", () => {
        assert.equal(result.receiverExitCode, 0, "the receiver should stop cleanly on SIGTERM");
        assert.ok(result.cut.seconds >= CUT_SECONDS, `cut of ${result.cut.seconds} s`);
        const scrapes = result.cut.seconds / result.scrapeIntervalSeconds;
        assert.ok(
            Math.abs(result.samplesInCut - scrapes) <= 2,
            `${result.samplesInCut} samples in a cut of ${result.cut.seconds} s, expected about ${scrapes.toFixed(0)}`,
        );
        assert.ok(result.samplesRetried > 0, `the sender never had to retry\n${diagnostics()}`);
    });

    it("delivers every sample the sender scraped from 10 s before the cut to 10 s after it", () => {
        const windowScrapes = (result.window.endMs - result.window.startMs) / 1000 / result.scrapeIntervalSeconds;
        assert.ok(
            Math.abs(result.samplesExpected - windowScrapes) <= 2,
            `${result.samplesExpected} samples in the window, expected about ${windowScrapes.toFixed(0)}`,
        );
        assert.equal(
            result.samplesLost,
            0,
            `${result.samplesLost} of ${result.samplesExpected} samples missing at the receiver, first at ` +
                `${result.lostTimestamps.map((t) => new Date(t).toISOString()).join(", ")}\n${diagnostics()}`,
        );
        assert.equal(result.samplesReceived, result.samplesExpected);
    });

    it(`catches up within ${CATCH_UP_TIMEOUT_MS / 1000} s of the receiver's return`, () => {
        assert.ok(
            result.catchUpMs !== undefined && result.catchUpMs <= CATCH_UP_TIMEOUT_MS,
            `the receiver did not hold the backlog within ${CATCH_UP_TIMEOUT_MS} ms\n${diagnostics()}`,
        );
    });
});
