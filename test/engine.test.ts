import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { decode, HELM_CHART_V4, MockEngine, ResourceRef, Secret, Unknown } from "../render/mock-engine";
import { renderFiles } from "../render/render";

const wait = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));

/** The mock engine itself, in preview: what it records and what it refuses. */
describe("mock engine", () => {
    const engine = new MockEngine({ project: "engine-test", stack: "dev", preview: true });
    let known: k8s.helm.v4.Chart;
    let invokeRejected = false;

    before(async () => {
        await engine.install();
        const provider = new k8s.Provider("k8s", {});
        const group = new pulumi.ComponentResource("test:index:Group", "group");
        const namespace = new k8s.core.v1.Namespace("ns", { metadata: { name: "demo" } }, { provider, parent: group });
        new k8s.core.v1.Secret(
            "creds",
            { metadata: { name: "creds", namespace: "demo" }, stringData: { token: pulumi.secret("t0k3n") } },
            { provider, dependsOn: [namespace] },
        );
        known = new k8s.helm.v4.Chart(
            "known",
            {
                chart: "loki",
                version: "18.11.0",
                namespace: "demo",
                repositoryOpts: { repo: "https://grafana-community.github.io/helm-charts" },
                values: { loki: { auth_enabled: true }, gateway: { extraVolumes: [] } },
            },
            { provider },
        );
        // The namespace id is assigned by the provider: unknown during a preview.
        new k8s.helm.v4.Chart(
            "unknown",
            { chart: "tempo", version: "2.2.4", namespace: "demo", values: { owner: namespace.id } },
            { provider },
        );
        invokeRejected = await pulumi.runtime.invoke("kubernetes:helm:template", { jsonOpts: {} }).then(
            () => false,
            () => true,
        );
        await wait(known.urn);
        await pulumi.runtime.disconnect();
    });

    it("records a v4 Chart as a remote component with its inputs", () => {
        const chart = engine.records.find((r) => r.name === "known");
        assert.ok(chart);
        assert.equal(chart.type, HELM_CHART_V4);
        assert.equal(chart.custom, false);
        assert.equal(chart.remote, true);
        assert.deepEqual(chart.inputs, {
            chart: "loki",
            version: "18.11.0",
            namespace: "demo",
            repositoryOpts: { repo: "https://grafana-community.github.io/helm-charts" },
            values: { loki: { auth_enabled: true }, gateway: { extraVolumes: [] } },
        });
    });

    it("gives a chart no rendered children", async () => {
        assert.deepEqual(await wait(known.resources), []);
    });

    it("records unknown preview values as Unknown", () => {
        const chart = engine.records.find((r) => r.name === "unknown");
        assert.ok((chart?.inputs.values as { owner: unknown }).owner instanceof Unknown);
    });

    it("refuses a chart whose inputs are unknown at preview, and any provider function call", () => {
        assert.equal(invokeRejected, true);
        assert.deepEqual(engine.problems(), [
            "the program called provider function kubernetes:helm:template",
            "chart unknown has inputs unknown at preview: the provider would render nothing for it and the " +
                "preview would hide its objects",
        ]);
    });

    it("keeps secrets as Secret values and dependencies by URN", () => {
        const secret = engine.records.find((r) => r.name === "creds");
        assert.ok(secret?.inputs.stringData instanceof Secret);
        assert.deepEqual(secret.inputs.stringData.value, { token: "t0k3n" });
        assert.deepEqual(secret.options.dependsOn, [
            "urn:pulumi:dev::engine-test::test:index:Group$kubernetes:core/v1:Namespace::ns",
        ]);
    });

    it("records parents and providers", () => {
        const ns = engine.records.find((r) => r.name === "ns");
        assert.equal(ns?.parent, "urn:pulumi:dev::engine-test::test:index:Group::group");
        assert.equal(ns?.urn, "urn:pulumi:dev::engine-test::test:index:Group$kubernetes:core/v1:Namespace::ns");
        assert.match(ns?.provider ?? "", /^urn:pulumi:dev::engine-test::pulumi:providers:kubernetes::k8s::/);
    });

    it("renders secrets as [secret] and never their value", () => {
        const resources = renderFiles(engine, "dev", true).get("resources.yaml") ?? "";
        assert.match(resources, /token: "\[secret\]"/);
        assert.doesNotMatch(resources, /t0k3n/);
        assert.match(resources, /owner: "\[unknown\]"/);
        assert.match(resources, /dependsOn:\n {4}- kubernetes:core\/v1:Namespace::ns/);
        assert.match(
            resources,
            /name: ns\nparent: test:index:Group::group\nprovider: pulumi:providers:kubernetes::k8s\n/,
        );
    });

    it("decodes the wire forms of secrets, unknowns and resource references", () => {
        const sig = pulumi.runtime.specialSigKey;
        const decoded = decode({
            a: { [sig]: pulumi.runtime.specialSecretSig, value: { b: 1 } },
            c: pulumi.runtime.unknownValue,
            d: { [sig]: pulumi.runtime.specialResourceSig, urn: "urn:pulumi:s::p::t::n" },
            e: [1, "x", null],
        }) as Record<string, unknown>;
        assert.ok(decoded.a instanceof Secret);
        assert.deepEqual(decoded.a.value, { b: 1 });
        assert.equal(decoded.c, Unknown.instance);
        assert.ok(decoded.d instanceof ResourceRef);
        assert.equal(decoded.d.urn, "urn:pulumi:s::p::t::n");
        assert.deepEqual(decoded.e, [1, "x", null]);
    });
});
