import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { durationHours, validateConfig } from "../config";
import { configProblems, rawConfig, TEST_S3_STORAGE, VALID_MAIN, VALID_SUB } from "./helpers";

/**
 * Bad input as a new user writes it: every value is checked for its format before any other
 * check reads it, every problem of a stack is reported at once, and each line names the key,
 * what was expected, what was found (escaped, never a secret) and an example.
 */

function accepted(values: Record<string, unknown>, secretKeys: string[] = []): void {
    const result = validateConfig(rawConfig(values, secretKeys));
    assert.ok("config" in result, "problems" in result ? result.problems.join("\n") : "");
}

const DURATION_EXPECTED = "a duration in whole hours, days, weeks or years (h, d, w, y)";

describe("bad input: durations", () => {
    it("reports a malformed duration that a cross-field check reads, instead of crashing", () => {
        for (const bad of ["30days", "1.5y", "ten years", "", "-1d", "1 d"]) {
            assert.deepEqual(configProblems({ ...VALID_MAIN, retention: { metrics: { raw: bad } } }), [
                `observability:retention.metrics.raw: expected ${DURATION_EXPECTED}, 0d (kept forever) up to 100y, ` +
                    `found ${JSON.stringify(bad)}; example: 30d`,
            ]);
        }
        assert.deepEqual(configProblems({ ...VALID_MAIN, pki: { lifetimes: { ca: { validity: "ten years" } } } }), [
            `observability:pki.lifetimes.ca.validity: expected ${DURATION_EXPECTED}, above zero and up to 100y, ` +
                'found "ten years"; example: 10y',
        ]);
        assert.deepEqual(configProblems({ ...VALID_MAIN, pki: { lifetimes: { tempo: { renewBefore: "30days" } } } }), [
            `observability:pki.lifetimes.tempo.renewBefore: expected ${DURATION_EXPECTED}, above zero and up to 100y, ` +
                'found "30days"; example: 30d',
        ]);
    });

    it("never quotes a secret-marked key's value, even when a check of another key would read it", () => {
        const secretValue = "S3CRET-1.5y";
        const found = configProblems({ ...VALID_MAIN, retention: { metrics: { raw: secretValue } }, profile: "huge" }, [
            "retention",
        ]);
        assert.equal(found.length, 2, found.join("\n"));
        assert.match(found[0] ?? "", /^observability:profile: /);
        assert.match(found[1] ?? "", /^observability:retention: expected a plain value .*found a secret/);
        assert.ok(!found.join("\n").includes(secretValue));
    });

    it("keeps other keys' checks from revealing a secret-marked key by comparison", () => {
        const found = configProblems(
            { ...VALID_MAIN, subClusters: [{ name: "hidden-name" }], delivery: { canary: "x" } },
            ["subClusters"],
        );
        assert.ok(!found.join("\n").includes("hidden-name"), found.join("\n"));
        assert.ok(found.some((line) => line.startsWith("observability:subClusters: expected a plain value")));
    });

    it("refuses durations out of range: zero where it means nothing, and beyond 100 years", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, retention: { logs: "0d" } }), [
            `observability:retention.logs: expected ${DURATION_EXPECTED}, above zero and up to 100y, found "0d"; ` +
                "example: 30d",
        ]);
        assert.deepEqual(configProblems({ ...VALID_SUB, retention: { metrics: { local: "101y" } } }), [
            `observability:retention.metrics.local: expected ${DURATION_EXPECTED}, above zero and up to 100y, ` +
                'found "101y"; example: 2d',
        ]);
        assert.deepEqual(configProblems({ ...VALID_MAIN, retention: { metrics: { raw: "99999999999999999999d" } } }), [
            `observability:retention.metrics.raw: expected ${DURATION_EXPECTED}, 0d (kept forever) up to 100y, ` +
                'found "99999999999999999999d"; example: 30d',
        ]);
        accepted({ ...VALID_MAIN, retention: { metrics: { raw: "0d", fiveMinutes: "0d", oneHour: "0d" } } });
        accepted({ ...VALID_MAIN, retention: { logs: "100y" } });
    });

    it("does not quote a malformed duration in the error a value builder would raise", () => {
        assert.throws(
            () => durationHours("S3CRET"),
            (err: unknown) => err instanceof Error && !err.message.includes("S3CRET"),
        );
    });
});

describe("bad input: sizes", () => {
    const SIZE = "a whole number of Ki, Mi, Gi or Ti, above zero and up to 1024Ti";

    it("refuses a zero buffer or queue size that a value builder cannot use", () => {
        for (const bad of ["0", "0Gi", "00Mi"]) {
            assert.deepEqual(configProblems({ ...VALID_SUB, logs: { bufferSize: bad } }), [
                `observability:logs.bufferSize: expected ${SIZE}, found ${JSON.stringify(bad)}; example: 2Gi`,
            ]);
        }
        assert.deepEqual(configProblems({ ...VALID_SUB, traces: { queueSize: "0Mi" } }), [
            `observability:traces.queueSize: expected ${SIZE}, found "0Mi"; example: 10Gi`,
        ]);
    });

    it("refuses the sizes the values cannot carry: decimal units, fractions, bare bytes, beyond 1024Ti", () => {
        for (const bad of ["100G", "1.5Gi", "1073741824", "2048Ti", "5Pi"]) {
            const found = configProblems({ ...VALID_SUB, metrics: { storageSize: bad } });
            assert.deepEqual(found, [
                `observability:metrics.storageSize: expected ${SIZE}, found ${JSON.stringify(bad)}; example: 30Gi`,
            ]);
        }
        accepted({ ...VALID_SUB, metrics: { storageSize: "1024Ti" }, logs: { bufferSize: "512Mi" } });
    });
});

describe("bad input: schedules, names, time zones", () => {
    it("refuses cron fields out of range, naming the field", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, report: { schedule: "61 25 32 13 8" } }), [
            "observability:report.schedule: expected five cron fields (minute 0-59, hour 0-23, day of month 1-31, " +
                "month 1-12 or JAN-DEC, day of week 0-6 or SUN-SAT) or @yearly, @monthly, @weekly, @daily, @hourly, " +
                'found "61 25 32 13 8" (minute 61 is not in 0-59); example: 30 6 * * 1',
        ]);
        const detail = (schedule: string) => {
            const [line] = configProblems({ ...VALID_MAIN, report: { schedule } });
            return /\(([^()]*)\); example/.exec(line ?? "")?.[1];
        };
        assert.equal(detail("0 24 * * 1"), "hour 24 is not in 0-23");
        assert.equal(detail("0 7 0 * *"), "day of month 0 is not in 1-31");
        assert.equal(detail("0 7 * 13 *"), "month 13 is not in 1-12");
        assert.equal(detail("0 7 * * 8"), "day of week 8 is not in 0-6");
        assert.equal(detail("0 7 * * 5-2"), "day of week range 5-2 runs backwards");
        assert.equal(detail("*/0 7 * * *"), "minute step 0 is not a positive number");
        assert.equal(detail("0 7 * * MON-FRX"), 'day of week "FRX" is not a number or a name');
        for (const schedule of ["30 6 * * 1", "*/15 0-23/2 1,15 JAN-DEC/3 MON-FRI", "0 7 ? * sun", "@weekly"]) {
            accepted({ ...VALID_MAIN, report: { schedule } });
        }
    });

    it("refuses a DNS label over 63 characters inside a DNS name", () => {
        const domain = `${"a".repeat(64)}.example.com`;
        const [line, ...rest] = configProblems({ ...VALID_MAIN, exposure: { domain, kind: "nodeport" } });
        assert.deepEqual(rest, []);
        assert.match(line ?? "", /^observability:exposure\.domain: expected a fully qualified DNS name/);
        accepted({ ...VALID_MAIN, exposure: { domain: `${"a".repeat(63)}.example.com`, kind: "nodeport" } });
    });

    it("refuses a DNS label over 63 characters in a list of cluster names, naming the entry", () => {
        const routes = [{ receiver: "x", clusters: ["a".repeat(64)] }];
        const found = configProblems({ ...VALID_MAIN, alerting: { routes } });
        assert.ok(
            found.some((line) =>
                line.startsWith("observability:alerting.routes[0].clusters[0]: expected a cluster name"),
            ),
            found.join("\n"),
        );
    });

    it("says what a time zone is, with a suggestion, instead of 'Invalid input'", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, report: { timeZone: "Mars/Base" } }), [
            'observability:report.timeZone: expected an IANA time zone name, found "Mars/Base"; example: America/New_York',
        ]);
        assert.deepEqual(configProblems({ ...VALID_MAIN, report: { timeZone: "europe/paris" } }), [
            'observability:report.timeZone: expected an IANA time zone name, found "europe/paris"; ' +
                "example: America/New_York; did you mean Europe/Paris?",
        ]);
        for (const bad of ["+01:00", "Europe/Pariss", "", "Local"]) {
            assert.match(
                configProblems({ ...VALID_MAIN, report: { timeZone: bad } })[0] ?? "",
                /^observability:report\.timeZone: /,
            );
        }
        for (const timeZone of ["UTC", "Etc/UTC", "Asia/Kolkata", "America/Argentina/Buenos_Aires", "US/Eastern"]) {
            accepted({ ...VALID_MAIN, report: { timeZone } });
        }
    });

    it("words a namespace pattern problem with an example instead of a raw pattern", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, remediation: { namespaces: ["Bad_NS"] } }), [
            "observability:remediation.namespaces[0]: expected a namespace name (a DNS-1123 label: lowercase letters, " +
                "digits and '-', at most 63 characters), found \"Bad_NS\"; example: batch",
        ]);
        assert.deepEqual(configProblems({ ...VALID_MAIN, remediation: { protectedNamespaces: ["x".repeat(64)] } }), [
            "observability:remediation.protectedNamespaces[0]: expected a namespace name (a DNS-1123 label: " +
                "lowercase letters, digits and '-', at most 63 characters) (too big: expected string to have <=63 " +
                `characters), found "${"x".repeat(64)}"; example: payments`,
        ]);
    });

    it("words every list entry with what it expects and an example", () => {
        const found = configProblems({
            ...VALID_MAIN,
            talos: { controlPlaneNodes: ["300.1.1.1"] },
            alerting: { routes: [{ receiver: "x", alertnames: ["1x"] }] },
        });
        assert.ok(
            found.includes(
                'observability:talos.controlPlaneNodes[0]: expected an IPv4 or IPv6 address, found "300.1.1.1"; ' +
                    "example: 10.0.0.10",
            ),
            found.join("\n"),
        );
        assert.ok(
            found.includes(
                "observability:alerting.routes[0].alertnames[0]: expected an alert name (letters, digits and '_', " +
                    'not starting with a digit), found "1x"; example: ClusterMetricsAbsent',
            ),
            found.join("\n"),
        );
    });

    it("names the discriminator of a missing section made of alternatives", () => {
        const withoutStorage: Record<string, unknown> = { ...VALID_MAIN };
        delete withoutStorage.storage;
        assert.deepEqual(configProblems(withoutStorage), [
            'observability:storage: expected an object whose kind is "filesystem" or "s3", with that kind\'s keys, ' +
                'found nothing (the key is not set); example: {"kind":"filesystem"}',
        ]);
    });
});

describe("bad input: credentials in URLs", () => {
    it("refuses credentials in a URL, names the key to use instead and never quotes them", () => {
        const cases: [Record<string, unknown>, string, string][] = [
            [
                { storage: { ...TEST_S3_STORAGE, endpoint: "https://AKIA1:wJalr-S3CRET@s3.example.com" } },
                "observability:storage.endpoint",
                "observability:s3AccessKeyId and observability:s3SecretAccessKey",
            ],
            [
                { grafana: { rootUrl: "https://admin:hunter2-S3CRET@grafana.example.com" } },
                "observability:grafana.rootUrl",
                "no credential belongs in it",
            ],
            [
                {
                    remediation: {
                        mode: "scale",
                        gitops: {
                            provider: "gitlab",
                            apiUrl: "https://oauth2:glpat-S3CRET@gitlab.example.com",
                            repository: "platform/gitops",
                            pathTemplate: "{name}.yaml",
                        },
                    },
                },
                "observability:remediation.gitops.apiUrl",
                "observability:remediationGitToken",
            ],
            [
                {
                    alerting: {
                        runbookBaseUrl: "https://git.example.com/runbooks",
                        receivers: [{ name: "hook", kind: "webhook", url: "https://h.example.com/x?token=S3CRET" }],
                    },
                },
                "observability:alerting.receivers[0].url",
                "observability:alertReceiverCredentials",
            ],
            [
                { alerting: { runbookBaseUrl: "https://me:S3CRET@git.example.com/docs/runbooks" } },
                "observability:alerting.runbookBaseUrl",
                "no credential belongs in it",
            ],
        ];
        for (const [extra, key, instead] of cases) {
            const s3 = "storage" in extra ? { s3AccessKeyId: "a", s3SecretAccessKey: "b" } : {};
            const found = configProblems({ ...VALID_MAIN, ...extra, ...s3 }, Object.keys(s3));
            const line = found.find((l) => l.startsWith(`${key}: `));
            assert.ok(line !== undefined, `${key}\n${found.join("\n")}`);
            assert.ok(line.includes(instead), line);
            assert.ok(!found.join("\n").includes("S3CRET"), found.join("\n"));
        }
        accepted({ ...VALID_MAIN, grafana: { rootUrl: "https://grafana.example.com/?orgId=1" } });
    });
});

describe("bad input: escaping", () => {
    it("escapes invisible and control characters in what it found", () => {
        const [line] = configProblems({ ...VALID_SUB, cluster: { name: "ma\u200bin\u202e\u0007" } });
        assert.ok(line !== undefined);
        assert.ok(line.includes('found "ma\\u200bin\\u202e\\u0007"'), line);
        for (const raw of ["\u200b", "\u202e", "\u0007"]) assert.ok(!line.includes(raw), line);
    });

    it("escapes invisible characters in an unknown key's name", () => {
        const found = configProblems({ ...VALID_SUB, "observability:prof\u200bile": "small" });
        assert.equal(found.length, 1);
        assert.ok((found[0] ?? "").startsWith("observability:prof\\u200bile: "), found[0]);
        assert.doesNotMatch(found[0] ?? "", /\u200b/u);
    });
});

describe("bad input: one problem does not hide another", () => {
    it("reports missing secrets and plain-text credentials alongside schema problems", () => {
        const found = configProblems({
            ...VALID_MAIN,
            profile: "huge",
            storage: TEST_S3_STORAGE,
            s3AccessKeyId: "AKIA-PLAIN",
        });
        assert.deepEqual(
            found.map((line) => line.split(": expected")[0]),
            ["observability:profile", "observability:s3AccessKeyId", "observability:s3SecretAccessKey"],
        );
        assert.match(found[1] ?? "", /found a plain-text value/);
        assert.match(found[2] ?? "", /found nothing/);
        assert.ok(!found.join("\n").includes("AKIA-PLAIN"));
    });

    it("refuses a credential written in plain text even when nothing needs it", () => {
        const found = configProblems({ ...VALID_MAIN, s3SecretAccessKey: "PLAIN-S3CRET" });
        assert.equal(found.length, 1);
        assert.match(
            found[0] ?? "",
            /^observability:s3SecretAccessKey: expected a Pulumi secret, found a plain-text value/,
        );
        assert.ok(!(found[0] ?? "").includes("PLAIN-S3CRET"));
    });

    it("suggests the secret key a misspelled secret was meant for, without quoting it", () => {
        const found = configProblems({ ...VALID_MAIN, s3AccesKeyId: "S3CRET" }, ["s3AccesKeyId"]);
        assert.equal(found.length, 1);
        assert.match(found[0] ?? "", /^observability:s3AccesKeyId: .*found unknown key "s3AccesKeyId"/);
        assert.match(found[0] ?? "", /did you mean s3AccessKeyId\?$/);
        assert.ok(!(found[0] ?? "").includes("S3CRET"));
        const plain = configProblems({ ...VALID_MAIN, grafanaOidcClientSecert: "x" });
        assert.match(plain[0] ?? "", /did you mean grafanaOidcClientSecret\?$/);
    });

    it("reports a key whose namespace is a near miss of observability instead of ignoring it", () => {
        for (const namespace of ["observabilty", "Observability", "obervability", "observability2"]) {
            const found = configProblems({ ...VALID_SUB, [`${namespace}:profile`]: "large" });
            assert.deepEqual(found, [
                `${namespace}:profile: expected a key of the observability namespace (no program reads ` +
                    `${namespace}:), found the namespace "${namespace}"; did you mean observability:profile?`,
            ]);
        }
        accepted({ ...VALID_SUB, "kubernetes:context": "x", "pulumi:tags": "{}", "observe:x": "1" });
    });
});
