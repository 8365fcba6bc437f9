import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as fc from "fast-check";

import { ingestEndpoints } from "../components/network/endpoints";
import {
    allowedUses,
    certificateSpecs,
    CLUSTER_IDENTITY_SECRET,
    PROFILES,
    serviceCommonName,
    tlsSecretName,
    type CertificateSpec,
} from "../components/pki/profiles";
import type { MainConfig } from "../config";
import { mainConfig as validMain } from "./helpers";

function mainConfig(overrides: Record<string, unknown> = {}): MainConfig {
    return validMain({
        cluster: { name: "hub" },
        namespace: "monitoring",
        exposure: { domain: "obs.acme.test", kind: "traefik-passthrough" },
        storage: { kind: "filesystem" },
        subClusters: [{ name: "edge-a" }, { name: "edge-b" }],
        ...overrides,
    });
}

const byId = (specs: CertificateSpec[], id: string): CertificateSpec => {
    const spec = specs.find((s) => s.id === id);
    assert.ok(spec, `no certificate ${id}`);
    return spec;
};

describe("certificate profiles", () => {
    const specs = certificateSpecs(mainConfig());

    it("issues one CA, seven server certificates, one client certificate per cluster and six service ones", () => {
        assert.deepEqual(
            specs.map((s) => s.id),
            [
                "ca",
                "thanos-receive",
                "logs-ingest",
                "tempo",
                "tempo-receiver",
                "alertmanager",
                "query-gateway",
                "thanos-store",
                "cluster-hub",
                "cluster-edge-a",
                "cluster-edge-b",
                "grafana",
                "reporter",
                "thanos-query",
                "thanos-router",
                "traces-ingest",
                "thanos-ruler",
            ],
        );
    });

    it("gives every Thanos StoreAPI one in-cluster name, which Query and the router verify", () => {
        const store = byId(specs, "thanos-store");
        assert.equal(store.kind, "server");
        assert.deepEqual(store.dnsNames, [
            "thanos-store",
            "thanos-store.monitoring",
            "thanos-store.monitoring.svc",
            "thanos-store.monitoring.svc.cluster.local",
        ]);
        assert.deepEqual(allowedUses(store), ["digital_signature", "server_auth"]);
    });

    it("names Tempo's receiver by both Services that may serve it, in-cluster only", () => {
        const names = byId(specs, "tempo-receiver").dnsNames;
        for (const name of ["tempo.monitoring.svc", "tempo-distributor.monitoring.svc"]) {
            assert.ok(names.includes(name), name);
        }
        assert.ok(!names.some((n) => n.endsWith(".obs.acme.test")), names.join(", "));
    });

    it("gives the Thanos bricks and the trace ingest service identities for client authentication only", () => {
        for (const id of ["thanos-query", "thanos-router", "thanos-ruler", "traces-ingest"]) {
            const spec = byId(specs, id);
            assert.deepEqual(spec.subject, {
                commonName: `${id}.observability`,
                organization: "observability",
                organizationalUnit: "service",
            });
            assert.deepEqual(allowedUses(spec), ["digital_signature", "client_auth"]);
            assert.equal(tlsSecretName(spec), `${id}-client-tls`);
        }
    });

    it("makes the CA a certificate-signing root of ten years, renewed one year ahead", () => {
        assert.deepEqual(byId(specs, "ca"), {
            id: "ca",
            profile: "ca",
            kind: "ca",
            subject: { commonName: "observability fleet CA", organization: "observability", organizationalUnit: "ca" },
            dnsNames: [],
            keyUsages: ["cert_signing", "crl_signing", "digital_signature"],
            extendedKeyUsages: [],
            validityHours: 87600,
            renewBeforeHours: 8760,
        });
    });

    it("names in a server certificate every in-cluster name of its Service and the external name sub clusters dial", () => {
        assert.deepEqual(byId(specs, "thanos-receive"), {
            id: "thanos-receive",
            profile: "thanos-receive",
            kind: "server",
            subject: {
                commonName: "thanos-receive-router",
                organization: "observability",
                organizationalUnit: "server",
            },
            dnsNames: [
                "thanos-receive-router",
                "thanos-receive-router.monitoring",
                "thanos-receive-router.monitoring.svc",
                "thanos-receive-router.monitoring.svc.cluster.local",
                "metrics.obs.acme.test",
            ],
            keyUsages: ["digital_signature"],
            extendedKeyUsages: ["server_auth"],
            validityHours: 2160,
            renewBeforeHours: 720,
        });
    });

    it("puts in each ingest server certificate exactly the name its endpoint gives sub clusters", () => {
        const endpoints = ingestEndpoints(mainConfig().exposure);
        const served = { metrics: "thanos-receive", logs: "logs-ingest", traces: "tempo", alerts: "alertmanager" };
        for (const [signal, id] of Object.entries(served)) {
            const endpoint = endpoints[signal as keyof typeof endpoints];
            assert.ok(byId(specs, id).dnsNames.includes(endpoint.serverName), `${id} lacks ${endpoint.serverName}`);
        }
    });

    it("keeps the query gateway, which only in-cluster clients use, off the external names", () => {
        const names = byId(specs, "query-gateway").dnsNames;
        assert.equal(names.length, 4);
        assert.ok(!names.some((n) => n.endsWith(".obs.acme.test")), names.join(", "));
    });

    it("identifies each cluster by its name as CN, client authentication only", () => {
        const edge = byId(specs, "cluster-edge-a");
        assert.deepEqual(edge.subject, {
            commonName: "edge-a",
            organization: "observability",
            organizationalUnit: "cluster",
        });
        assert.deepEqual(allowedUses(edge), ["digital_signature", "client_auth"]);
        assert.deepEqual(edge.dnsNames, []);
        assert.equal(edge.cluster, "edge-a");
    });

    it("gives service identities a dotted CN that no cluster name can equal", () => {
        assert.equal(byId(specs, "grafana").subject.commonName, "grafana.observability");
        assert.equal(serviceCommonName("reporter"), "reporter.observability");
        const clusterNames = specs.filter((s) => s.cluster !== undefined).map((s) => s.subject.commonName);
        for (const name of clusterNames) assert.doesNotMatch(name, /\./);
    });

    it("never gives a certificate both server and client authentication", () => {
        for (const spec of specs) {
            assert.ok(spec.extendedKeyUsages.length <= 1, spec.id);
            assert.ok(!spec.keyUsages.includes("cert_signing") || spec.kind === "ca", spec.id);
        }
    });

    it("lists a Secret name per profile, the same cluster identity Secret on every cluster", () => {
        assert.equal(tlsSecretName(byId(specs, "tempo")), "tempo-tls");
        assert.equal(tlsSecretName(byId(specs, "grafana")), "grafana-client-tls");
        assert.equal(CLUSTER_IDENTITY_SECRET, "cluster-client-tls");
    });

    it("applies lifetime overrides from the stack configuration", () => {
        const custom = certificateSpecs(
            mainConfig({ pki: { lifetimes: { cluster: { validity: "30d", renewBefore: "10d" } } } }),
        );
        assert.equal(byId(custom, "cluster-edge-b").validityHours, 720);
        assert.equal(byId(custom, "cluster-edge-b").renewBeforeHours, 240);
        assert.equal(byId(custom, "tempo").validityHours, 2160);
    });

    it("has a profile for every certificate kind it issues, and every profile is used", () => {
        const used = new Set(specs.map((s) => s.profile));
        assert.deepEqual([...used].sort(), Object.keys(PROFILES).sort());
    });

    it("gives every sub cluster a distinct certificate id and CN, for any fleet", () => {
        const names = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/), {
            minLength: 0,
            maxLength: 30,
        });
        fc.assert(
            fc.property(names, (subs) => {
                const fleet = subs.filter((n) => n !== "hub").map((name) => ({ name }));
                const issued = certificateSpecs(mainConfig({ subClusters: fleet }));
                const ids = issued.map((s) => s.id);
                const clusterCns = issued.filter((s) => s.cluster !== undefined).map((s) => s.subject.commonName);
                return (
                    new Set(ids).size === ids.length &&
                    clusterCns.length === fleet.length + 1 &&
                    new Set(clusterCns).size === clusterCns.length
                );
            }),
        );
    });
});
