import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { fakePem, NO_OPTIONS, type ResourceRecord } from "../render/mock-engine";
import { renderStack, type RenderResult } from "../render/render";
import { scanForLeaks } from "../render/secret-scan";
import { Secret } from "../render/values";
import { fixture, projectDir } from "./helpers";

function record(type: string, name: string, inputs: Record<string, unknown>): ResourceRecord {
    return {
        urn: `urn:pulumi:test::observability::${type}::${name}`,
        type,
        name,
        parent: undefined,
        custom: true,
        remote: false,
        provider: undefined,
        inputs,
        options: { ...NO_OPTIONS },
    };
}

const KEY = fakePem("PRIVATE KEY", "leaky");
const CERT = fakePem("CERTIFICATE", "leaky");
const PASSWORD = "correct-horse-battery-staple";
const tlsSecret = record("kubernetes:core/v1:Secret", "good", {
    type: "kubernetes.io/tls",
    stringData: new Secret({ "tls.crt": CERT, "tls.key": KEY, "ca.crt": CERT }),
});
const passwordSecret = record("kubernetes:core/v1:Secret", "admin", {
    stringData: new Secret({ "admin-password": PASSWORD }),
});

describe("secret scan: what it rejects", () => {
    const problemsOf = (records: ResourceRecord[], outputs: Record<string, unknown> = {}) =>
        scanForLeaks(records, outputs).problems;

    it("accepts certificates and keys inside a secret-marked Secret, and the PKI's own inputs", () => {
        const csr = record("tls:index/locallySignedCert:LocallySignedCert", "leaf", {
            caCertPem: CERT,
            caPrivateKeyPem: new Secret(KEY),
        });
        assert.deepEqual(problemsOf([tlsSecret, passwordSecret, csr], { bundle: new Secret({ key: KEY }) }), []);
    });

    it("rejects a certificate in a ConfigMap", () => {
        const configMap = record("kubernetes:core/v1:ConfigMap", "ds", { data: { "ca.crt": CERT } });
        assert.deepEqual(problemsOf([configMap]), [
            "kubernetes:core/v1:ConfigMap::ds data.ca.crt: a PEM block (CERTIFICATE) outside a Secret resource",
        ]);
    });

    it("rejects a secret value in Helm values, even marked secret", () => {
        const chart = record("kubernetes:helm.sh/v4:Chart", "grafana", {
            values: { adminPassword: new Secret(PASSWORD) },
        });
        assert.deepEqual(problemsOf([chart]), [
            "kubernetes:helm.sh/v4:Chart::grafana values.adminPassword: a secret value outside a Secret resource",
        ]);
    });

    it("rejects a Secret whose data is not marked secret", () => {
        const plain = record("kubernetes:core/v1:Secret", "plain", { stringData: { token: "abc" } });
        assert.deepEqual(problemsOf([plain]), [
            "kubernetes:core/v1:Secret::plain stringData.token: Secret data that is not marked secret",
            "kubernetes:core/v1:Secret::plain stringData.token: a credential-named value that is not marked secret",
        ]);
    });

    it("rejects a private key in clear, wherever it is", () => {
        const request = record("tls:index/certRequest:CertRequest", "csr", { privateKeyPem: KEY });
        const problems = problemsOf([request], { clientKey: KEY });
        assert.ok(
            problems.includes(
                "tls:index/certRequest:CertRequest::csr privateKeyPem: a private key (PRIVATE KEY) in clear",
            ),
        );
        assert.ok(problems.includes("stack output clientKey: a private key (PRIVATE KEY) in clear"));
    });

    it("rejects a Secret's value copied in clear into another object", () => {
        const deployment = record("kubernetes:apps/v1:Deployment", "app", {
            spec: { template: { spec: { containers: [{ args: [`--password-is=${PASSWORD}`] }] } } },
        });
        assert.deepEqual(problemsOf([passwordSecret, deployment]), [
            "kubernetes:apps/v1:Deployment::app spec.template.spec.containers[0].args[0]: holds in clear a " +
                "sensitive value that is secret elsewhere",
        ]);
    });

    it("lets a credential-named property name a mounted file, and only that", () => {
        const chart = (tlsClientKey: string) =>
            record("kubernetes:helm.sh/v4:Chart", "grafana", {
                values: { datasources: [{ secureJsonData: { tlsClientKey } }] },
            });
        assert.deepEqual(problemsOf([chart("$__file{/etc/observability/grafana-client/tls.key}")]), []);
        assert.deepEqual(problemsOf([chart("$__file{/tls.key} and more")]), [
            "kubernetes:helm.sh/v4:Chart::grafana values.datasources[0].secureJsonData.tlsClientKey: " +
                "a credential-named value that is not marked secret",
        ]);
    });

    it("rejects a credential-named property in clear", () => {
        const chart = record("kubernetes:helm.sh/v4:Chart", "loki", {
            values: { storage: { s3: { secretAccessKey: "wJalrXUtnFEMI" } } },
        });
        assert.deepEqual(problemsOf([chart]), [
            "kubernetes:helm.sh/v4:Chart::loki values.storage.s3.secretAccessKey: a credential-named value " +
                "that is not marked secret",
        ]);
    });

    it("does not mistake a flag named like a credential for a credential", () => {
        const deployment = record("kubernetes:apps/v1:Deployment", "app", {
            spec: { template: { spec: { automountServiceAccountToken: false } } },
        });
        assert.deepEqual(problemsOf([deployment]), []);
    });

    it("does not mistake a reference to a secret for a secret", () => {
        const chart = record("kubernetes:helm.sh/v4:Chart", "grafana", {
            values: { admin: { existingSecret: "grafana-admin", passwordKey: "admin-password" } },
        });
        assert.deepEqual(problemsOf([chart]), []);
    });
});

for (const [title, options] of [
    ["the example main stack", { stack: "main" }],
    ["a main stack with S3 storage", { stack: "main-s3", stackFile: fixture("Pulumi.main-s3.yaml") }],
    ["a main stack in the large profile", { stack: "main-large", stackFile: fixture("Pulumi.main-large.yaml") }],
    ["the example sub stack", { stack: "sub" }],
    ["the example sub stack in preview", { stack: "sub", preview: true }],
] as const) {
    describe(`secret scan of ${title}`, () => {
        let result: RenderResult;
        before(async () => {
            result = await renderStack({ projectDir, ...options });
        });

        it("finds no key material or secret value out of place", () => {
            assert.deepEqual(scanForLeaks(result.records, result.engine.stackOutputs()).problems, []);
        });

        it("did look at key material and secrets", () => {
            const scan = scanForLeaks(result.records, result.engine.stackOutputs());
            assert.ok(scan.pemBlocks > 0, "no PEM block seen: the scan would prove nothing");
            assert.ok(scan.secretValues > 0, "no secret value seen: the scan would prove nothing");
        });
    });
}
