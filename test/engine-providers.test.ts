import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

import { fakePem, MockEngine, Secret } from "../render/mock-engine";

const wait = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));

const NOW = Date.parse("2026-02-01T00:00:00Z");

/** The mock engine as a deployment sees it: provider-computed outputs and other stacks' outputs. */
describe("mock engine: providers and stack references", () => {
    const engine = new MockEngine({
        project: "engine-test",
        stack: "dev",
        preview: false,
        now: NOW,
        stacks: {
            "acme/observability/main": { plain: "visible", bundles: new Secret({ key: "hidden" }) },
        },
    });
    let key: tls.PrivateKey;
    let cert: tls.LocallySignedCert;
    let reference: pulumi.StackReference;

    before(async () => {
        await engine.install();
        key = new tls.PrivateKey("leaf-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
        cert = new tls.LocallySignedCert(
            "leaf",
            {
                certRequestPem: "request",
                caPrivateKeyPem: key.privateKeyPem,
                caCertPem: "ca",
                validityPeriodHours: 48,
                allowedUses: ["client_auth"],
            },
            { replacementTrigger: "epoch 7" },
        );
        reference = new pulumi.StackReference("main", { name: "acme/observability/main" });
        await wait(cert.certPem);
    });

    it("answers a private key with a made-up PEM, marked secret as the SDK declares", async () => {
        assert.equal(await wait(key.privateKeyPemPkcs8), fakePem("PRIVATE KEY", "leaf-key"));
        assert.equal(await pulumi.isSecret(key.privateKeyPemPkcs8), true);
        assert.equal(await pulumi.isSecret(key.publicKeyPem), false);
    });

    it("dates a certificate from the engine's instant and its validity", async () => {
        assert.equal(await wait(cert.validityStartTime), "2026-02-01T00:00:00.000Z");
        assert.equal(await wait(cert.validityEndTime), "2026-02-03T00:00:00.000Z");
        assert.equal(await wait(cert.certPem), fakePem("CERTIFICATE", "leaf"));
    });

    it("records the replacement trigger a resource was registered with", () => {
        const record = engine.records.find((r) => r.name === "leaf");
        assert.equal(record?.options.replacementTrigger, "epoch 7");
    });

    it("gives a stack reference the other stack's outputs, secret ones as secrets", async () => {
        assert.deepEqual(await reference.getOutputDetails("plain"), { value: "visible" });
        assert.deepEqual(await reference.getOutputDetails("bundles"), { secretValue: { key: "hidden" } });
        assert.deepEqual(await reference.getOutputDetails("absent"), { value: undefined });
        const record = engine.records.find((r) => r.type === "pulumi:pulumi:StackReference");
        assert.deepEqual(record?.inputs, { name: "acme/observability/main" });
    });
});
