import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { parse } from "yaml";

import { unescapedTemplateActions } from "../../components/core/helm-tpl";
import { vectorConfig, VECTOR_RELEASE } from "../../components/logs/values";
import { applyOrderFindings } from "../../render/desired-state/apply-order";
import {
    addressProblems,
    budgetProblems,
    hookProblems,
    imageProblems,
    podSecurityFindings,
    referenceProblems,
} from "../../render/desired-state/checks";
import { scanDesiredState } from "../../render/desired-state/manifest-files";
import { objectId } from "../../render/desired-state/manifests";
import { reachabilityProblems, scrapeProblems } from "../../render/desired-state/reachability";
import { SCHEMA_PACKAGES, schemaProblems } from "../../render/desired-state/schema";
import type { DesiredState } from "../../render/desired-state/state";
import { projectDir } from "../helpers";
import { stateOf, variants, type Variant } from "./context";

/**
 * The whole desired state of every stack the deploy tests cover (the program's objects and
 * every object its charts make, templated by real Helm as Chart v4 does), checked as a cluster
 * would take it: schemas, Pod Security, references, addresses, apply order, hooks, network
 * reachability, images and the resource budget.
 */

const none = (problems: readonly string[], what: string) =>
    assert.deepEqual(problems, [], `${what}:\n${problems.map((p) => `  ${p}`).join("\n")}`);

for (const variant of variants()) {
    describe(`${variant.stack} on Kubernetes ${variant.kubeVersion ?? "1.34.0"} (${variant.covers})`, () => {
        let state: DesiredState;
        before(async () => {
            state = await stateOf(variant);
        });

        it("templates every chart the program declares, each into objects", () => {
            const declared = state.render.records.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart");
            assert.ok(declared.length >= 3);
            assert.equal(state.charts.length, declared.length);
            for (const chart of state.charts) {
                assert.ok(chart.objects.length > 0, `${chart.record.name} made nothing`);
            }
        });

        it(`validates every object against the Kubernetes ${Object.keys(SCHEMA_PACKAGES).join(" and ")} schemas, custom resources against their CRDs`, async () => {
            assert.ok(state.objects.length > 50);
            none(await schemaProblems(state.objects), "schema");
        });

        it("passes Pod Security admission at each namespace's enforced level, and lists the restricted warnings", (t) => {
            const findings = podSecurityFindings(state);
            none(findings.problems, "Pod Security (enforced)");
            for (const warning of findings.warnings) t.diagnostic(`restricted: ${warning}`);
        });

        it("finds every Secret, ConfigMap, ServiceAccount and PVC a pod or operator resource references", () => {
            none(referenceProblems(state), "references");
        });

        it("resolves every in-cluster address in values and configurations to a Service and port that exist", () => {
            none(addressProblems(state), "addresses");
        });

        it("orders every custom resource after its CRD, across charts and the program", () => {
            none(applyOrderFindings(state).problems, "apply order");
        });

        it("needs no Helm hook: Chart v4 never applies them", () => {
            none(hookProblems(state), "hooks");
        });

        it("allows every intended flow and nothing else to reach a store, ingest or unlisted port", () => {
            none(reachabilityProblems(state), "reachability");
        });

        it("lets Prometheus reach every target its ServiceMonitors and PodMonitors select", () => {
            none(scrapeProblems(state), "scrapes");
        });

        it("pins every image by a full version tag or a digest", () => {
            none(imageProblems(state), "images");
        });

        it("requests exactly the budget the docs publish, every container with requests and limits", () => {
            none(budgetProblems(state), "budget");
        });

        it("holds no secret material in a chart-made object", () => {
            none(scanDesiredState(state.render.records, state.charts, state.render.engine.stackOutputs()), "secrets");
        });

        it("hands Vector its configuration intact through the chart's tpl, its own templates included", () => {
            const chart = state.charts.find((c) => c.release === VECTOR_RELEASE);
            assert.ok(chart);
            const map = chart.objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === VECTOR_RELEASE);
            assert.ok(map, "no Vector ConfigMap");
            const files = (map.data ?? {}) as Record<string, string>;
            const file = Object.values(files)[0];
            assert.ok(file !== undefined);
            const rendered = parse(file) as Record<string, unknown>;
            const values = chart.values.customConfig;
            assert.deepEqual(unescapedTemplateActions(values), []);
            const labels = (rendered.sinks as { main: { labels: Record<string, string> } }).main.labels;
            assert.equal(labels.job, "{{ job }}");
            assert.equal(labels.cluster, state.config.cluster.name);
            // Every field as the program wrote it, the label templates included.
            const lokiEndpoint = (rendered.sinks as { main: { endpoint: string; tls: { server_name: string } } }).main;
            const expected = vectorConfig({
                config: state.config,
                lokiEndpoint: { url: lokiEndpoint.endpoint, serverName: lokiEndpoint.tls.server_name },
                identity: { secretName: "unused", revision: "unused" },
            });
            assert.deepEqual(rendered, JSON.parse(JSON.stringify(expected)));
        });
    });
}

describe("prerequisites: what the cluster must serve before a stack deploys", () => {
    const readme = fs.readFileSync(path.join(projectDir, "README.md"), "utf8");

    it("needs nothing beyond Kubernetes for the example stacks, and only what README lists for the others", async () => {
        const example = variants().filter((v) => v.stackFile === undefined);
        for (const variant of example) {
            assert.deepEqual(applyOrderFindings(await stateOf(variant)).prerequisites, [], variant.stack);
        }
        const needed = new Set<string>();
        for (const variant of variants()) {
            for (const kind of applyOrderFindings(await stateOf(variant)).prerequisites) needed.add(kind);
        }
        assert.ok(needed.size > 0, "the fixtures cover the options that need something installed");
        for (const kind of needed) {
            const [group, , name] = kind.split("/");
            assert.ok(readme.includes(`\`${name}\``) && readme.includes(group ?? ""), `README lists no ${kind}`);
        }
    });

    it("claims only ReadWriteOnce volumes in the example main, and stops Thanos' pods sharing one from spreading", async () => {
        const state = await stateOf(variants()[0] as Variant);
        const claims = state.objects.filter((e) => e.object.kind === "PersistentVolumeClaim");
        const templates = state.objects.flatMap((e) =>
            e.object.kind === "StatefulSet"
                ? ((e.object.spec as { volumeClaimTemplates?: { spec: { accessModes: string[] } }[] })
                      .volumeClaimTemplates ?? [])
                : [],
        );
        const modes = [
            ...claims.map((c) => (c.object.spec as { accessModes: string[] }).accessModes),
            ...templates.map((t) => t.spec.accessModes),
        ].flat();
        assert.ok(modes.length > 3);
        assert.deepEqual(new Set(modes), new Set(["ReadWriteOnce"]));
        const bucketUsers = state.workloads.filter((w) =>
            ((w.template.spec.volumes ?? []) as { persistentVolumeClaim?: { claimName: string } }[]).some(
                (v) => v.persistentVolumeClaim?.claimName === "thanos-objstore",
            ),
        );
        assert.deepEqual(bucketUsers.map((w) => w.id).sort(), [
            "Pod/observability/prometheus-kps-prometheus",
            "StatefulSet/observability/thanos-compact",
            "StatefulSet/observability/thanos-receive-ingestor",
            "StatefulSet/observability/thanos-rule",
            "StatefulSet/observability/thanos-store-gateway",
        ]);
        for (const w of bucketUsers) {
            const affinity = w.template.spec.affinity as {
                podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string }[] };
            };
            const terms = affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
            assert.deepEqual(
                terms.map((term) => term.topologyKey),
                ["kubernetes.io/hostname"],
                w.id,
            );
        }
        const services = state.objects.filter((e) => e.object.kind === "Service").map((e) => e.object);
        assert.ok(
            services.every((s) => (s.spec as { type?: string }).type !== "LoadBalancer"),
            "no LoadBalancer",
        );
        assert.ok(
            services.some((s) => (s.spec as { type?: string }).type === "NodePort"),
            objectId(services[0]!),
        );
    });
});
