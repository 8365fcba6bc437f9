import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { parse, stringify } from "yaml";

import { lookupBundle, type FleetBundle } from "../components/pki/fleet-bundle";
import { withFleetRunbookBase } from "../components/roles/main-stack";
import type { SubConfig } from "../config";
import { fakePem, reveal, type ResourceRecord } from "../render/mock-engine";
import { renderStack, type RenderResult } from "../render/render";
import { Secret } from "../render/values";
import { fixture, projectDir, renderCli, tempDir, testSub } from "./helpers";

/**
 * The contract between main and its sub stacks: main exports one secret bundle per sub cluster
 * it lists; a sub stack reads its own through a StackReference, or stops with a clear message.
 */

const secretData = (record: ResourceRecord | undefined): Record<string, string> => {
    assert.ok(record, "no such Secret");
    const data = record.inputs.stringData;
    assert.ok(data instanceof Secret, `${record.name}: stringData must be secret`);
    return data.value as Record<string, string>;
};

describe("cross-stack: what main exports", () => {
    let main: RenderResult;
    let outputs: Record<string, unknown>;

    before(async () => {
        main = await renderStack({ projectDir, stack: "main-s3", stackFile: fixture("Pulumi.main-s3.yaml") });
        outputs = main.engine.stackOutputs();
    });

    it("exports the bundles as one secret output, with one bundle per listed sub cluster and no other", () => {
        const bundles = outputs.subClusterBundles;
        assert.ok(bundles instanceof Secret, "subClusterBundles must be a secret output");
        assert.deepEqual(Object.keys(bundles.value as object).sort(), ["edge-a", "edge-b"]);
    });

    it("gives each sub cluster the fleet CA, its own certificate and key, and main's endpoints", () => {
        const bundles = reveal(outputs.subClusterBundles) as Record<string, FleetBundle>;
        const edgeA = bundles["edge-a"];
        assert.ok(edgeA);
        assert.equal(edgeA.cluster, "edge-a");
        assert.equal(edgeA.caCert, fakePem("CERTIFICATE", "hub-pki-ca"));
        assert.equal(edgeA.clientCert, fakePem("CERTIFICATE", "hub-pki-cluster-edge-a"));
        assert.equal(edgeA.clientKey, fakePem("PRIVATE KEY", "hub-pki-cluster-edge-a-key"));
        assert.notEqual(bundles["edge-b"]?.clientKey, edgeA.clientKey);
        // This stack exposes main through LoadBalancer Services: each brick keeps its own port.
        assert.deepEqual(edgeA.endpoints.metrics, {
            serverName: "metrics.obs.example.net",
            port: 19291,
            url: "https://metrics.obs.example.net:19291/api/v1/receive",
        });
        assert.deepEqual(edgeA.endpoints.traces, {
            serverName: "traces.obs.example.net",
            port: 4317,
            url: "traces.obs.example.net:4317",
        });
        assert.ok(lookupBundle(bundles, "edge-a", "acme/observability/main").ok);
    });

    it("keeps the CA private key in the PKI: in no Secret, no output, no other resource", () => {
        const caKeys = [fakePem("EC PRIVATE KEY", "hub-pki-ca-key"), fakePem("PRIVATE KEY", "hub-pki-ca-key")];
        const outside = main.records.filter((r) => !r.type.startsWith("tls:"));
        const everywhereElse = JSON.stringify(reveal(outside.map((r) => r.inputs))) + JSON.stringify(reveal(outputs));
        for (const key of caKeys) assert.ok(!everywhereElse.includes(key.trim().split("\n")[1] ?? key));
        // Within the PKI it only signs, as a secret input.
        const signers = main.records.filter((r) => r.type === "tls:index/locallySignedCert:LocallySignedCert");
        // Seven server certificates, three clusters (hub, edge-a, edge-b), six service identities.
        assert.equal(signers.length, 16);
        for (const signer of signers) assert.ok(signer.inputs.caPrivateKeyPem instanceof Secret, signer.name);
    });

    it("lands a sub cluster's certificate in no Secret of main", () => {
        const secrets = main.records.filter((r) => r.type === "kubernetes:core/v1:Secret");
        const names = secrets.map((r) => r.name).sort();
        assert.ok(!names.some((n) => n.includes("edge")), names.join(", "));
    });

    it("exports every certificate's expiry and revision as a plain output, for alerts and the report", () => {
        const certificates = outputs.certificates as Record<string, { notAfter: string; revision: string }>;
        assert.ok(!(outputs.certificates instanceof Secret));
        assert.equal(Object.keys(certificates).length, 1 + 16, "the CA and every leaf");
        const bundles = reveal(outputs.subClusterBundles) as Record<string, FleetBundle>;
        assert.equal(certificates["cluster-edge-a"]?.revision, bundles["edge-a"]?.revision);
        assert.equal(certificates["cluster-edge-a"]?.notAfter, bundles["edge-a"]?.notAfter);
        for (const [id, status] of Object.entries(certificates)) {
            assert.ok(!Number.isNaN(Date.parse(status.notAfter)), `${id}: ${status.notAfter}`);
        }
    });
});

describe("cross-stack: what a sub stack does with its bundle", () => {
    let sub: RenderResult;

    before(async () => {
        sub = await renderStack({ projectDir, stack: "sub" });
    });

    it("reads the main stack named in its config", () => {
        const reference = sub.records.find((r) => r.type === "pulumi:pulumi:StackReference");
        assert.deepEqual(reference?.inputs, { name: "acme/observability/main" });
    });

    it("puts its own certificate, key and the CA into its identity Secret in both namespaces", () => {
        for (const name of ["sub-eu-1-identity-core", "sub-eu-1-identity-agents"]) {
            const record = sub.records.find((r) => r.name === name);
            assert.equal(record?.inputs.type, "kubernetes.io/tls");
            assert.deepEqual(secretData(record), {
                "ca.crt": fakePem("CERTIFICATE", "main-pki-ca"),
                "tls.crt": fakePem("CERTIFICATE", "main-pki-cluster-sub-eu-1"),
                "tls.key": fakePem("PRIVATE KEY", "main-pki-cluster-sub-eu-1-key"),
            });
        }
    });

    it("exports the endpoints it ships to in clear, as they are not secret", () => {
        const endpoints = sub.engine.stackOutputs().endpoints as Record<string, { url: string }>;
        // The example main exposes each endpoint on a node port.
        assert.equal(endpoints.logs?.url, "https://logs.obs.example.com:30443/loki/api/v1/push");
    });
});

describe("cross-stack: a sub stack main does not serve", () => {
    const dir = tempDir("cross-stack");

    function subStackFile(clusterName: string, mainStack = "acme/observability/main"): string {
        const doc = parse(fs.readFileSync(path.join(projectDir, "Pulumi.sub.yaml"), "utf8")) as {
            config: Record<string, unknown>;
        };
        doc.config["observability:cluster"] = { name: clusterName };
        doc.config["observability:mainStack"] = mainStack;
        const file = path.join(dir, `Pulumi.${clusterName}.yaml`);
        fs.writeFileSync(file, stringify(doc));
        return file;
    }

    it("stops with one message naming the key, the clusters main lists and the fix", () => {
        const out = path.join(dir, "out-missing");
        const result = renderCli(["--stack", "sub-zz", "--stack-file", subStackFile("sub-zz"), "--out", out]);
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "render: invalid stack configuration (1 problem):\n" +
                "  observability:mainStack: expected the main stack acme/observability/main to list this " +
                "cluster ('sub-zz') in observability:subClusters, found sub-eu-1; add '- name: sub-zz' there " +
                "and run `pulumi up` on the main stack first\n",
        );
        assert.equal(fs.existsSync(out), false, "nothing may be written for a failed stack");
    });

    it("reads whichever main stack its config names, and checks the list there", () => {
        const file = subStackFile("sub-yy", "acme/observability/elsewhere");
        const main = path.join(dir, "Pulumi.elsewhere.yaml");
        fs.copyFileSync(path.join(projectDir, "Pulumi.main.yaml"), main);
        const result = renderCli(["--stack", "sub-yy", "--stack-file", file, "--main-stack-file", main, "--out", dir]);
        assert.equal(result.status, 1);
        assert.match(result.stderr, /to list this cluster \('sub-yy'\) in observability:subClusters, found sub-eu-1/);
    });
});

describe("cross-stack: checking a bundle", () => {
    const good: FleetBundle = {
        cluster: "edge-a",
        caCert: fakePem("CERTIFICATE", "ca"),
        clientCert: fakePem("CERTIFICATE", "edge-a"),
        clientKey: fakePem("PRIVATE KEY", "edge-a"),
        revision: "0123456789abcdef",
        notAfter: "2026-04-05T06:00:00.000Z",
        endpoints: {
            metrics: { serverName: "metrics.x.test", port: 443, url: "https://metrics.x.test:443/api/v1/receive" },
            logs: { serverName: "logs.x.test", port: 443, url: "https://logs.x.test:443/loki/api/v1/push" },
            traces: { serverName: "traces.x.test", port: 443, url: "traces.x.test:443" },
            alerts: { serverName: "alerts.x.test", port: 443, url: "https://alerts.x.test:443/api/v2/alerts" },
        },
    };

    it("accepts a complete bundle for the cluster asking", () => {
        assert.deepEqual(lookupBundle({ "edge-a": good }, "edge-a", "o/p/main"), { ok: true, bundle: good });
    });

    it("tells a sub stack to deploy main first when main exports no bundles", () => {
        assert.deepEqual(lookupBundle(undefined, "edge-a", "o/p/main"), {
            ok: false,
            problem:
                "expected the main stack o/p/main to export 'subClusterBundles', found no such output; " +
                "run `pulumi up` on the main stack first",
        });
    });

    it("says so when main lists no sub cluster at all", () => {
        const lookup = lookupBundle({}, "edge-a", "o/p/main");
        assert.ok(!lookup.ok);
        assert.match(lookup.problem, /found no sub clusters; add '- name: edge-a' there/);
    });

    it("names the bad fields of a damaged bundle without quoting the key", () => {
        const damaged = {
            ...good,
            clientKey: "not a key at all but secret",
            endpoints: { ...good.endpoints, logs: {} },
        };
        const lookup = lookupBundle({ "edge-a": damaged }, "edge-a", "o/p/main");
        assert.ok(!lookup.ok);
        assert.equal(
            lookup.problem,
            "expected a complete certificate bundle for 'edge-a' from o/p/main, found bad fields: " +
                "clientKey, endpoints.logs.serverName, endpoints.logs.port, endpoints.logs.url",
        );
        assert.doesNotMatch(lookup.problem, /not a key at all/);
    });

    it("refuses a bundle filed under another cluster's name", () => {
        const lookup = lookupBundle({ "edge-b": good }, "edge-b", "o/p/main");
        assert.deepEqual(lookup, {
            ok: false,
            problem: "expected the bundle under 'edge-b' to identify 'edge-b', found 'edge-a'",
        });
    });
});

describe("cross-stack: runbook links of sub clusters' alerts", () => {
    const base = "https://git.acme.test/platform/observability/-/blob/main/docs/runbooks";
    const runbookUrls = (result: RenderResult): string[] =>
        result.records
            .filter((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
            .flatMap(
                (r) =>
                    (reveal(r.inputs) as { spec: { groups: { rules: { annotations?: Record<string, string> }[] }[] } })
                        .spec.groups,
            )
            .flatMap((g) => g.rules)
            .map((rule) => rule.annotations?.runbook_url)
            .filter((url): url is string => url !== undefined);

    it("takes main's base when the sub sets none, since its alerts reach main's receivers", async () => {
        const dir = tempDir("runbook-base");
        const mainFile = path.join(dir, "Pulumi.main.yaml");
        const example = parse(fs.readFileSync(path.join(projectDir, "Pulumi.main.yaml"), "utf8")) as {
            config: Record<string, unknown>;
        };
        example.config["observability:alerting"] = { runbookBaseUrl: base };
        fs.writeFileSync(mainFile, stringify(example));
        const sub = await renderStack({ projectDir, stack: "sub", mainStackFile: mainFile });
        const urls = runbookUrls(sub);
        assert.ok(urls.length > 10, `${urls.length} runbook links`);
        for (const url of urls) assert.ok(url.startsWith(`${base}/`), url);
        // Control: against the example main, whose base is the relative default, they stay relative.
        const plain = runbookUrls(await renderStack({ projectDir, stack: "sub" }));
        assert.ok(
            plain.every((url) => url.startsWith("docs/runbooks/")),
            plain[0],
        );
    });

    const sub = (extra: Record<string, unknown> = {}): SubConfig => {
        const config = testSub(extra);
        assert.ok(config.role === "sub");
        return config;
    };

    it("keeps a sub's own base over main's", () => {
        const own = withFleetRunbookBase(sub({ alerting: { runbookBaseUrl: "https://wiki.acme.test/rb" } }), base);
        assert.equal(own.alerting.runbookBaseUrl, "https://wiki.acme.test/rb");
        assert.equal(withFleetRunbookBase(sub(), base).alerting.runbookBaseUrl, base);
        assert.equal(withFleetRunbookBase(sub(), undefined).alerting.runbookBaseUrl, "docs/runbooks");
    });
});
