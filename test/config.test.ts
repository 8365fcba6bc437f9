import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as pulumi from "@pulumi/pulumi";

import { ConfigError, durationHours, loadConfig, validateConfig } from "../config";
import { configProblems, rawConfig, TEST_S3_STORAGE, VALID_MAIN, VALID_SUB } from "./helpers";

/** The remediation section a stack that does not mention it gets. */
const REMEDIATION_DEFAULTS = {
    mode: "dry-run",
    killSwitch: false,
    optInLabel: { key: "observability/criticality", value: "non-critical" },
    namespaces: [],
    protectedNamespaces: [],
    budget: { cpuRequestFactor: 2, memoryLimitRatio: 0.9, restarts: 5, forMinutes: 10 },
    maxActionsPerHour: 3,
    cooldownMinutes: 60,
    pollIntervalSeconds: 30,
    fluxExemption: true,
};

describe("stack config: valid input", () => {
    it("fills every default of a main stack from the schema", () => {
        const result = validateConfig(rawConfig(VALID_MAIN));
        assert.ok("config" in result);
        assert.deepEqual(result.config, {
            role: "main",
            cluster: { name: "main" },
            kubernetes: {},
            charts: {},
            namespace: "observability",
            profile: "small",
            talos: { controlPlaneNodes: [], kubeProxy: true },
            metrics: {},
            logs: { bufferSize: "1Gi", talosServiceLogs: "files" },
            traces: {
                queueSize: "5Gi",
                traefik: { sampleRate: 0.1 },
                instrumentation: { enabled: false, sampleRatio: 1 },
            },
            exposure: {
                domain: "obs.example.com",
                kind: "traefik-passthrough",
                nodePorts: { metrics: 30291, logs: 30443, traces: 30317, alerts: 30943 },
            },
            grafana: { adminPasswordGeneration: 0 },
            alerting: {
                receivers: [],
                routes: [],
                runbookBaseUrl: "docs/runbooks",
                serviceErrorRatio: 0.05,
                serviceLatencySeconds: 2,
            },
            storage: { kind: "filesystem", size: "50Gi", accessMode: "ReadWriteOnce" },
            retention: {
                metrics: { raw: "30d", fiveMinutes: "180d", oneHour: "1y", local: "2d" },
                logs: "30d",
                traces: "14d",
            },
            pki: {
                lifetimes: {
                    ca: { validity: "10y", renewBefore: "1y" },
                    "thanos-receive": { validity: "90d", renewBefore: "30d" },
                    "logs-ingest": { validity: "90d", renewBefore: "30d" },
                    tempo: { validity: "90d", renewBefore: "30d" },
                    alertmanager: { validity: "90d", renewBefore: "30d" },
                    "query-gateway": { validity: "90d", renewBefore: "30d" },
                    cluster: { validity: "90d", renewBefore: "30d" },
                    grafana: { validity: "90d", renewBefore: "30d" },
                    reporter: { validity: "90d", renewBefore: "30d" },
                    "tempo-receiver": { validity: "90d", renewBefore: "30d" },
                    "thanos-store": { validity: "90d", renewBefore: "30d" },
                    "thanos-query": { validity: "90d", renewBefore: "30d" },
                    "thanos-router": { validity: "90d", renewBefore: "30d" },
                    "thanos-ruler": { validity: "90d", renewBefore: "30d" },
                    "traces-ingest": { validity: "90d", renewBefore: "30d" },
                },
                generation: 0,
            },
            subClusters: [{ name: "sub-eu-1" }],
            delivery: {},
            remediation: REMEDIATION_DEFAULTS,
            report: {
                enabled: true,
                schedule: "0 7 * * 1",
                timeZone: "Europe/Paris",
                concurrency: 4,
                queryTimeoutSeconds: 60,
                webhooks: [],
            },
        });
    });

    it("fills every default of a sub stack from the schema", () => {
        const result = validateConfig(rawConfig(VALID_SUB));
        assert.ok("config" in result);
        assert.deepEqual(result.config, {
            role: "sub",
            cluster: { name: "sub-eu-1" },
            kubernetes: {},
            charts: {},
            namespace: "observability",
            profile: "small",
            talos: { controlPlaneNodes: [], kubeProxy: true },
            metrics: {},
            logs: { bufferSize: "1Gi", talosServiceLogs: "files" },
            traces: {
                queueSize: "5Gi",
                traefik: { sampleRate: 0.1 },
                instrumentation: { enabled: false, sampleRatio: 1 },
            },
            mainStack: "acme/observability/main",
            retention: { metrics: { local: "2d" } },
            alerting: { runbookBaseUrl: "docs/runbooks" },
            remediation: REMEDIATION_DEFAULTS,
        });
    });

    it("ignores keys of other namespaces", () => {
        const result = validateConfig(rawConfig({ ...VALID_SUB, "kubernetes:context": "other" }));
        assert.ok("config" in result);
    });

    it("reads the S3 credentials as Pulumi secrets", async () => {
        const { secrets } = loadConfig(
            rawConfig(
                { ...VALID_MAIN, storage: TEST_S3_STORAGE, s3AccessKeyId: "AKIA1", s3SecretAccessKey: "s3cr3t" },
                ["s3AccessKeyId", "s3SecretAccessKey"],
            ),
        );
        assert.deepEqual(Object.keys(secrets).sort(), ["s3AccessKeyId", "s3SecretAccessKey"]);
        assert.ok(secrets.s3AccessKeyId !== undefined && secrets.s3SecretAccessKey !== undefined);
        assert.equal(await pulumi.isSecret(secrets.s3AccessKeyId), true);
        assert.equal(await pulumi.isSecret(secrets.s3SecretAccessKey), true);
        assert.equal(await new Promise((resolve) => secrets.s3SecretAccessKey?.apply(resolve)), "s3cr3t");
    });

    it("converts durations to hours", () => {
        assert.equal(durationHours("36h"), 36);
        assert.equal(durationHours("2d"), 48);
        assert.equal(durationHours("2w"), 336);
        assert.equal(durationHours("1y"), 8760);
        assert.throws(() => durationHours("2 days"), /not a duration/);
    });
});

describe("stack config: one line per problem, naming the key", () => {
    it("rejects a missing role, naming both roles", () => {
        assert.deepEqual(configProblems({ cluster: { name: "x" } }), [
            'observability:role: expected one of "main", "sub", found nothing (the key is not set); example: main',
        ]);
    });

    it("rejects an unknown role", () => {
        assert.deepEqual(configProblems({ ...VALID_SUB, role: "edge" }), [
            'observability:role: expected one of "main", "sub", found "edge"; example: main',
        ]);
    });

    it("rejects an invalid DNS label with what it expected and an example", () => {
        assert.deepEqual(configProblems({ ...VALID_SUB, cluster: { name: "Sub_1" } }), [
            "observability:cluster.name: expected a DNS-1123 label (lowercase letters, digits and '-', " +
                'at most 63 characters), found "Sub_1"; example: main',
        ]);
    });

    it("rejects a value outside an enum", () => {
        assert.deepEqual(configProblems({ ...VALID_SUB, profile: "huge" }), [
            'observability:profile: expected one of "small", "medium", "large", found "huge"; example: small',
        ]);
    });

    it("rejects a renewal window as long as the certificate's validity", () => {
        assert.deepEqual(
            configProblems({ ...VALID_MAIN, pki: { lifetimes: { tempo: { validity: "30d", renewBefore: "30d" } } } }),
            [
                "observability:pki.lifetimes.tempo.renewBefore: expected a duration above zero and shorter " +
                    'than validity (30d), found "30d"; example: 30d',
            ],
        );
    });

    it("rejects a leaf certificate that would outlive the CA", () => {
        assert.deepEqual(
            configProblems({
                ...VALID_MAIN,
                pki: { lifetimes: { ca: { validity: "1y", renewBefore: "30d" }, grafana: { validity: "2y" } } },
            }),
            [
                "observability:pki.lifetimes.grafana.validity: expected a duration no longer than the CA's " +
                    'validity (lifetimes.ca.validity: 1y), found "2y"; example: 90d',
            ],
        );
    });

    it("rejects a lifetime for a profile that does not exist, suggesting the closest", () => {
        const [problem] = configProblems({ ...VALID_MAIN, pki: { lifetimes: { tempos: { validity: "30d" } } } });
        assert.match(problem ?? "", /^observability:pki\.lifetimes\.tempos: /);
        assert.match(problem ?? "", /found unknown key "tempos"; did you mean tempo\?$/);
    });

    it("rejects a negative certificate generation", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, pki: { generation: -1 } }), [
            "observability:pki.generation: expected a whole number, 0 or more (too small: expected number " +
                "to be >=0), found -1; example: 1",
        ]);
    });

    it("rejects a value of the wrong type", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, subClusters: { name: "sub-eu-1" } }), [
            'observability:subClusters: expected an array, found {"name":"sub-eu-1"}; example: [{"name":"sub-eu-1"}]',
        ]);
    });

    it("rejects a missing required section with an assembled example", () => {
        const withoutExposure: Record<string, unknown> = { ...VALID_MAIN };
        delete withoutExposure.exposure;
        assert.deepEqual(configProblems(withoutExposure), [
            "observability:exposure: expected an object with keys domain, kind (optional: nodePorts), found nothing " +
                '(the key is not set); example: {"domain":"obs.example.com","kind":"nodeport"}',
        ]);
    });

    it("rejects an unknown key and suggests the closest known one", () => {
        assert.deepEqual(configProblems({ ...VALID_SUB, retension: {} }), [
            "observability:retension: expected one of the known keys here (role, cluster, kubernetes, charts, namespace, " +
                'profile, talos, metrics, logs, traces, remediation, mainStack, retention, alerting), found unknown key "retension"; did you mean retention?',
        ]);
    });

    it("rejects a key that belongs to the other role", () => {
        assert.deepEqual(configProblems({ ...VALID_SUB, subClusters: [] }), [
            "observability:subClusters: expected one of the known keys here (role, cluster, kubernetes, charts, namespace, " +
                'profile, talos, metrics, logs, traces, remediation, mainStack, retention, alerting), found unknown key "subClusters"',
        ]);
    });

    it("rejects a protected namespace among the namespaces remediation may act in", () => {
        assert.deepEqual(
            configProblems({ ...VALID_SUB, remediation: { namespaces: ["batch", "kube-system", "observability"] } }),
            [
                "observability:remediation.namespaces[1]: expected a namespace that is not protected (kube-node-lease, " +
                    'kube-public, kube-system, observability, observability-agents), found "kube-system"; example: batch',
                "observability:remediation.namespaces[2]: expected a namespace that is not protected (kube-node-lease, " +
                    'kube-public, kube-system, observability, observability-agents), found "observability"; example: batch',
            ],
        );
    });

    it("requires the GitOps repository with remediation mode gitops, then its token as a secret", () => {
        const found = configProblems({ ...VALID_SUB, remediation: { mode: "gitops" } });
        assert.equal(found.length, 1);
        assert.match(
            found[0] ?? "",
            /^observability:remediation\.gitops: expected the GitOps repository \(provider, apiUrl, repository, pathTemplate\) with mode gitops/,
        );
        const gitops = {
            provider: "gitlab",
            apiUrl: "https://gitlab.example.com",
            repository: "platform/gitops",
            pathTemplate: "{namespace}/{name}.yaml",
        };
        const token = configProblems({ ...VALID_SUB, remediation: { mode: "gitops", gitops } });
        assert.equal(token.length, 1);
        assert.match(token[0] ?? "", /^observability:remediationGitToken: expected a Pulumi secret .*found nothing/);
        const accepted = validateConfig(
            rawConfig({ ...VALID_SUB, remediation: { mode: "gitops", gitops }, remediationGitToken: "glpat-1" }, [
                "remediationGitToken",
            ]),
        );
        assert.ok("config" in accepted);
    });

    it("rejects an image override that is not pinned by digest", () => {
        const found = configProblems({ ...VALID_SUB, remediation: { image: "node:22" } });
        assert.equal(found.length, 1);
        assert.match(found[0] ?? "", /^observability:remediation\.image: expected an image reference pinned by digest/);
    });

    it("rejects an unknown storage kind at storage.kind", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, storage: { kind: "gcs" } }), [
            'observability:storage.kind: expected one of "filesystem", "s3", found "gcs"; example: filesystem',
        ]);
    });

    it("names nested S3 keys in full", () => {
        const storage = { ...TEST_S3_STORAGE, endpoint: "ftp://s3", buckets: { metrics: "A", logs: "acme-logs" } };
        assert.deepEqual(configProblems({ ...VALID_MAIN, storage }), [
            "observability:storage.buckets.metrics: expected a bucket name (3-63 lowercase letters, digits, '.' or '-'), " +
                'found "A"; example: acme-observability-metrics',
            "observability:storage.buckets.traces: expected a bucket name (3-63 lowercase letters, digits, '.' or '-'), " +
                "found nothing (the key is not set); example: acme-observability-traces",
            'observability:storage.endpoint: expected an http(s) URL, found "ftp://s3"; example: https://s3.eu-west-1.amazonaws.com',
        ]);
    });

    it("rejects a malformed duration", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, retention: { logs: "30 days" } }), [
            "observability:retention.logs: expected a duration in whole hours, days, weeks or years (h, d, w, y), " +
                'above zero and up to 100y, found "30 days"; example: 30d',
        ]);
    });

    it("rejects downsampled retention shorter than the data it comes from", () => {
        assert.deepEqual(
            configProblems({ ...VALID_MAIN, retention: { metrics: { raw: "90d", fiveMinutes: "30d" } } }),
            [
                "observability:retention.metrics.fiveMinutes: expected a duration at least as long as metrics.raw (90d), " +
                    'since downsampled data must outlive the data it is computed from, found "30d"; example: 180d',
            ],
        );
    });

    it("treats 0d as keep-forever, so a coarser resolution must keep forever too", () => {
        const result = validateConfig(
            rawConfig({ ...VALID_MAIN, retention: { metrics: { raw: "30d", fiveMinutes: "0d" } } }),
        );
        assert.ok("problems" in result);
        assert.deepEqual(result.problems, [
            "observability:retention.metrics.oneHour: expected a duration at least as long as metrics.fiveMinutes " +
                '(0d), since downsampled data must outlive the data it is computed from, found "1y"; example: 1y',
        ]);
    });

    it("rejects two sub clusters with the same name", () => {
        assert.deepEqual(
            configProblems({ ...VALID_MAIN, subClusters: [{ name: "a" }, { name: "b" }, { name: "a" }] }),
            [
                "observability:subClusters[2].name: expected a name not used by another sub cluster " +
                    '(subClusters[0] has it), found "a"; example: sub-eu-1',
            ],
        );
    });

    it("rejects a sub cluster named like main", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, subClusters: [{ name: "main" }] }), [
            "observability:subClusters[0].name: expected a name different from the main cluster's own " +
                '(cluster.name), found "main"; example: sub-eu-1',
        ]);
    });

    it("rejects a canary that is not one of the sub clusters", () => {
        assert.deepEqual(
            configProblems({ ...VALID_MAIN, subClusters: [{ name: "a" }, { name: "b" }], delivery: { canary: "c" } }),
            [
                'observability:delivery.canary: expected one of the sub clusters in subClusters (a, b), found "c"; example: sub-eu-1',
            ],
        );
        const accepted = validateConfig(
            rawConfig({ ...VALID_MAIN, subClusters: [{ name: "a" }], delivery: { canary: "a" } }),
        );
        assert.ok("config" in accepted && accepted.config.role === "main" && accepted.config.delivery.canary === "a");
    });

    it("rejects a namespace too long for its agents namespace", () => {
        assert.deepEqual(configProblems({ ...VALID_SUB, namespace: "n".repeat(57) }), [
            "observability:namespace: expected a DNS-1123 label (lowercase letters, digits and '-', at most 56 " +
                "characters) (too big: expected string to have <=56 characters), found " +
                `"${"n".repeat(57)}"; example: observability`,
        ]);
    });

    it("rejects a malformed stack reference", () => {
        assert.deepEqual(configProblems({ ...VALID_SUB, mainStack: "main" }), [
            'observability:mainStack: expected a stack reference <organization>/<project>/<stack>, found "main"; ' +
                "example: acme/observability/main",
        ]);
    });

    it("reports every problem of one stack at once, sorted by key", () => {
        const found = configProblems({
            ...VALID_MAIN,
            cluster: { name: "" },
            profile: "xl",
            exposure: { domain: "obs.example.com", kind: "ingress" },
        });
        assert.deepEqual(
            found.map((line) => line.split(":").slice(0, 2).join(":")),
            ["observability:cluster.name", "observability:exposure.kind", "observability:profile"],
        );
    });

    it("rejects malformed JSON text of an object key", () => {
        const config = rawConfig(VALID_SUB);
        const result = validateConfig({
            ...config,
            values: { ...config.values, "observability:retention": "{metrics: " },
        });
        assert.ok("problems" in result);
        assert.deepEqual(result.problems, ['observability:retention: expected valid YAML or JSON, found "{metrics: "']);
    });
});

describe("stack config: secrets", () => {
    it("requires the S3 credentials when storage is S3, with the command that sets them", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, storage: TEST_S3_STORAGE }), [
            "observability:s3AccessKeyId: expected a Pulumi secret (Access key id for the S3 buckets " +
                "(storage.kind: s3).), found nothing (the key is not set); example: pulumi config set --secret " +
                "observability:s3AccessKeyId 'AKIAIOSFODNN7EXAMPLE'",
            "observability:s3SecretAccessKey: expected a Pulumi secret (Secret access key for the S3 buckets " +
                "(storage.kind: s3).), found nothing (the key is not set); example: pulumi config set --secret " +
                "observability:s3SecretAccessKey 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
        ]);
    });

    it("rejects a credential stored in plain text", () => {
        const found = configProblems(
            { ...VALID_MAIN, storage: TEST_S3_STORAGE, s3AccessKeyId: "AKIA1", s3SecretAccessKey: "plain" },
            ["s3AccessKeyId"],
        );
        assert.deepEqual(found, [
            "observability:s3SecretAccessKey: expected a Pulumi secret, found a plain-text value; example: " +
                "pulumi config rm observability:s3SecretAccessKey && pulumi config set --secret " +
                "observability:s3SecretAccessKey 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
        ]);
    });

    it("reads no secret the config does not need", () => {
        assert.deepEqual(loadConfig(rawConfig(VALID_MAIN)).secrets, {});
    });

    it("never quotes the value of a secret set in a plain configuration key", () => {
        const found = configProblems({ ...VALID_SUB, cluster: { name: "Top_S3cret" }, profile: "huge" }, ["cluster"]);
        assert.deepEqual(found, [
            "observability:cluster: expected a plain value (secrets belong only in observability:s3AccessKeyId, " +
                "observability:s3SecretAccessKey, observability:grafanaOidcClientSecret, observability:alertReceiverCredentials, observability:remediationGitToken, observability:reportCredentials), found a secret; set it again without --secret",
            'observability:profile: expected one of "small", "medium", "large", found "huge"; example: small',
        ]);
        assert.doesNotMatch(found.join("\n"), /Top_S3cret/);
    });

    it("refuses a secret inside a plain configuration key", () => {
        assert.deepEqual(configProblems(VALID_SUB, ["cluster"]), [
            "observability:cluster: expected a plain value (secrets belong only in observability:s3AccessKeyId, " +
                "observability:s3SecretAccessKey, observability:grafanaOidcClientSecret, observability:alertReceiverCredentials, observability:remediationGitToken, observability:reportCredentials), found a secret; set it again without --secret",
        ]);
    });

    it("throws a RunError listing the problems, so the CLI shows no stack trace", () => {
        assert.throws(
            () => loadConfig(rawConfig({ ...VALID_SUB, profile: "huge" })),
            (err: unknown) =>
                err instanceof ConfigError &&
                err.message ===
                    "invalid stack configuration (1 problem):\n" +
                        '  observability:profile: expected one of "small", "medium", "large", found "huge"; example: small',
        );
    });
});

describe("stack config: grafana", () => {
    const oidc = {
        clientId: "grafana",
        authUrl: "https://id.example.com/auth",
        tokenUrl: "https://id.example.com/token",
        apiUrl: "https://id.example.com/userinfo",
    };

    it("fills the admin password generation and leaves SSO off by default", () => {
        const result = validateConfig(rawConfig(VALID_MAIN));
        assert.ok("config" in result && result.config.role === "main");
        assert.deepEqual(result.config.grafana, { adminPasswordGeneration: 0 });
    });

    it("asks for the root URL when OIDC is set, since the redirect is built from it", () => {
        assert.deepEqual(configProblems({ ...VALID_MAIN, grafana: { oidc } }, []), [
            "observability:grafana.rootUrl: expected the URL users open Grafana at, which the OIDC redirect " +
                "needs (oidc is set), found nothing (the key is not set); example: https://grafana.example.com",
        ]);
    });

    it("asks for the OIDC client secret as a Pulumi secret when OIDC is set", () => {
        const grafana = { rootUrl: "https://grafana.example.com", oidc };
        assert.deepEqual(configProblems({ ...VALID_MAIN, grafana }, []), [
            "observability:grafanaOidcClientSecret: expected a Pulumi secret (Client secret of Grafana's OAuth2 " +
                "client (grafana.oidc).), found nothing (the key is not set); example: pulumi config set --secret " +
                "observability:grafanaOidcClientSecret 's3cr3t-from-the-identity-provider'",
        ]);
    });

    it("refuses a plain-HTTP identity provider endpoint, naming the field", () => {
        const found = configProblems(
            {
                ...VALID_MAIN,
                grafana: { rootUrl: "https://grafana.example.com", oidc: { ...oidc, tokenUrl: "http://id/token" } },
                grafanaOidcClientSecret: "s3cr3t",
            },
            ["grafanaOidcClientSecret"],
        );
        assert.equal(found.length, 1);
        assert.match(
            found[0] ?? "",
            /^observability:grafana\.oidc\.tokenUrl: expected an https URL, found "http:\/\/id\/token"/,
        );
    });

    it("reads the OIDC client secret as a Pulumi secret", async () => {
        const { secrets } = loadConfig(
            rawConfig(
                {
                    ...VALID_MAIN,
                    grafana: { rootUrl: "https://grafana.example.com", oidc },
                    grafanaOidcClientSecret: "s3cr3t",
                },
                ["grafanaOidcClientSecret"],
            ),
        );
        assert.ok(secrets.grafanaOidcClientSecret !== undefined);
        assert.equal(await pulumi.isSecret(secrets.grafanaOidcClientSecret), true);
    });
});

describe("stack config: alerting", () => {
    const pager = { name: "pager", kind: "pagerduty" };
    const chat = { name: "chat", kind: "slack" };
    // Receivers send runbook links: the base is the repository's web URL (a relative one is refused).
    const runbookBaseUrl = "https://git.example.com/platform/observability/-/blob/main/docs/runbooks";
    const withAlerting = (alerting: Record<string, unknown>, credentials?: unknown) => ({
        ...VALID_MAIN,
        alerting: { runbookBaseUrl, ...alerting },
        ...(credentials !== undefined
            ? { alertReceiverCredentials: typeof credentials === "string" ? credentials : JSON.stringify(credentials) }
            : {}),
    });

    it("accepts receivers and routes, and reads their credentials as a Pulumi secret", async () => {
        const { config, secrets } = loadConfig(
            rawConfig(
                withAlerting(
                    {
                        receivers: [pager, chat],
                        routes: [{ receiver: "pager", severities: ["critical"] }],
                        defaultReceiver: "chat",
                    },
                    { pager: "KEY", chat: "https://hooks.slack.com/services/X" },
                ),
                ["alertReceiverCredentials"],
            ),
        );
        assert.equal(config.role === "main" && config.alerting.receivers.length, 2);
        assert.ok(secrets.alertReceiverCredentials !== undefined);
        assert.equal(await pulumi.isSecret(secrets.alertReceiverCredentials), true);
    });

    it("names a route, default or heartbeat receiver that is not defined", () => {
        assert.deepEqual(
            configProblems(
                withAlerting({
                    receivers: [],
                    routes: [{ receiver: "pagr" }],
                    defaultReceiver: "chat",
                    heartbeatReceiver: "hb",
                }),
            ),
            [
                'observability:alerting.defaultReceiver: expected one of the receivers\' names (none defined), found "chat"; example: chat',
                'observability:alerting.heartbeatReceiver: expected one of the receivers\' names (none defined), found "hb"; example: heartbeat',
                'observability:alerting.routes[0].receiver: expected one of the receivers\' names (none defined), found "pagr"; example: oncall',
            ],
        );
    });

    it("rejects two receivers with one name, and the reserved name", () => {
        const found = configProblems(
            withAlerting({ receivers: [pager, { ...chat, name: "pager" }, { ...chat, name: "none" }] }),
        );
        assert.ok(
            found.some((p) =>
                p.startsWith(
                    "observability:alerting.receivers[1].name: expected a name not used by another receiver (receivers[0] has it)",
                ),
            ),
            found.join("\n"),
        );
        assert.ok(
            found.some((p) =>
                p.startsWith("observability:alerting.receivers[2].name: expected a name other than 'none'"),
            ),
            found.join("\n"),
        );
    });

    it("rejects an unknown receiver kind and an e-mail receiver without addresses, naming the field", () => {
        const found = configProblems(
            withAlerting({
                receivers: [
                    { name: "x", kind: "opsgenie" },
                    { name: "m", kind: "email", to: [], from: "am@example.com", smarthost: "smtp:587" },
                ],
            }),
        );
        assert.ok(
            found.some((p) => p.startsWith("observability:alerting.receivers[0].kind:")),
            found.join("\n"),
        );
        assert.ok(
            found.some((p) => p.startsWith("observability:alerting.receivers[1].to:")),
            found.join("\n"),
        );
    });

    it("asks for the credentials of receivers that take one, with the command that sets them", () => {
        const [problem, ...rest] = configProblems(withAlerting({ receivers: [pager] }));
        assert.deepEqual(rest, []);
        assert.match(
            problem ?? "",
            /^observability:alertReceiverCredentials: expected a Pulumi secret .*found nothing .*pulumi config set --secret observability:alertReceiverCredentials/,
        );
        // A webhook without a bearer token and an e-mail receiver without a user take none.
        assert.ok(
            "config" in
                validateConfig(
                    rawConfig(
                        withAlerting({
                            receivers: [
                                { name: "hook", kind: "webhook", url: "https://hooks.example.com/x" },
                                {
                                    name: "mail",
                                    kind: "email",
                                    to: ["sre@example.com"],
                                    from: "am@example.com",
                                    smarthost: "relay:25",
                                },
                            ],
                        }),
                    ),
                ),
        );
    });

    it("checks the credentials object without quoting any credential", () => {
        const secretValue = "TOP-SECRET-VALUE";
        const cases: [unknown, string][] = [
            [
                "not json " + secretValue,
                'expected a JSON object {"<receiver>": "<credential>"}, found text that is not JSON',
            ],
            [[secretValue], 'expected a JSON object {"<receiver>": "<credential>"}, found an array'],
            [{}, "expected a non-empty string for receiver 'pager', found nothing"],
            [{ pager: "" }, "expected a non-empty string for receiver 'pager', found an empty string"],
            [
                { pager: "K", stray: secretValue },
                "expected only receivers that take a credential (pager), found 'stray'",
            ],
        ];
        for (const [credentials, message] of cases) {
            const found = configProblems(withAlerting({ receivers: [pager] }, credentials), [
                "alertReceiverCredentials",
            ]);
            assert.deepEqual(found, [`observability:alertReceiverCredentials: ${message}`]);
            assert.ok(!found.join("").includes(secretValue));
        }
    });

    it("refuses the credentials in plain text", () => {
        const found = configProblems(withAlerting({ receivers: [pager] }, { pager: "PLAIN-PAGER-KEY" }));
        assert.equal(found.length, 1);
        assert.match(
            found[0] ?? "",
            /^observability:alertReceiverCredentials: expected a Pulumi secret, found a plain-text value/,
        );
        assert.ok(!(found[0] ?? "").includes("PLAIN-PAGER-KEY"));
    });
});
