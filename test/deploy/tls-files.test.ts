import * as assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { parse } from "yaml";

import type { KObject } from "../../render/desired-state/manifests";
import type { DesiredState, PodContainer, Workload } from "../../render/desired-state/state";
import { stateOf, variants } from "./context";

/**
 * Every certificate, key and CA file a TLS setting of main names, as the pinned charts template
 * the values (and the program its own objects): in a container's flags or in a configuration
 * file mounted into it. Each must lie in a directory mounted from a Secret of the desired state
 * holding that very key, and the hops inside main must each use their own profile's Secret.
 */

/** A TLS file: `tls.crt`, `tls.key` or `ca.crt` under a directory. */
const TLS_FILE = /(\/[\w./-]+\/(?:tls\.crt|tls\.key|ca\.crt))\b/g;

interface FileUse {
    workload: string;
    container: string;
    /** The flag or the configuration file that names it. */
    via: string;
    file: string;
}

interface Mount {
    name: string;
    mountPath: string;
    subPath?: string;
}

interface Volume {
    name: string;
    secret?: { secretName: string };
    configMap?: { name: string };
}

function volumesOf(workload: Workload): Volume[] {
    return (workload.template.spec.volumes ?? []) as Volume[];
}

const mountsOf = (container: PodContainer): Mount[] => (container.volumeMounts ?? []) as Mount[];

function objectNamed(state: DesiredState, kind: string, namespace: string, name: string): KObject | undefined {
    return state.objects.find(
        (e) => e.object.kind === kind && e.object.metadata.name === name && e.object.metadata.namespace === namespace,
    )?.object;
}

/** The keys a Secret holds, from `data` or `stringData`. */
const secretKeys = (secret: KObject): string[] => [
    ...Object.keys((secret.data ?? {}) as object),
    ...Object.keys((secret.stringData ?? {}) as object),
];

/**
 * The part of a configuration file a container reads: a file shared by the components of a
 * distributed brick (tempo-distributed's one `tempo.yaml`) is read by each component for its own
 * section (`distributor`, `metrics_generator`...), which its container is named after; any other
 * file whole.
 */
function ownSection(text: string, container: string): string {
    let parsed: unknown;
    try {
        parsed = parse(text);
    } catch {
        return text;
    }
    const section = container.replaceAll("-", "_");
    if (typeof parsed !== "object" || parsed === null || !(section in parsed)) return text;
    return JSON.stringify((parsed as Record<string, unknown>)[section]);
}

/** Every TLS file a container names: in its arguments, and in the ConfigMaps mounted into it. */
function fileUses(state: DesiredState, workload: Workload): FileUse[] {
    const uses: FileUse[] = [];
    for (const container of workload.template.spec.containers) {
        for (const arg of [...((container.args ?? []) as string[]), ...((container.command ?? []) as string[])]) {
            for (const m of arg.matchAll(TLS_FILE)) {
                uses.push({ workload: workload.id, container: container.name, via: arg, file: m[1] as string });
            }
        }
        for (const mount of mountsOf(container)) {
            const volume = volumesOf(workload).find((v) => v.name === mount.name);
            if (volume?.configMap === undefined) continue;
            const map = objectNamed(state, "ConfigMap", workload.namespace, volume.configMap.name);
            for (const [key, text] of Object.entries((map?.data ?? {}) as Record<string, string>)) {
                for (const m of ownSection(text, container.name).matchAll(TLS_FILE)) {
                    uses.push({
                        workload: workload.id,
                        container: container.name,
                        via: `ConfigMap ${volume.configMap.name} ${key}`,
                        file: m[1] as string,
                    });
                }
            }
        }
    }
    return uses;
}

/** The Secret a container reads a file from, or why it does not. */
function secretFor(state: DesiredState, workload: Workload, use: FileUse): { secret?: string; problem?: string } {
    const container = workload.template.spec.containers.find((c) => c.name === use.container) as PodContainer;
    const dir = path.dirname(use.file);
    const mount = mountsOf(container).find((m) => m.mountPath === dir && m.subPath === undefined);
    if (mount === undefined) return { problem: `nothing is mounted at ${dir}` };
    const volume = volumesOf(workload).find((v) => v.name === mount.name);
    if (volume?.secret === undefined) return { problem: `${dir} is volume ${mount.name}, not a Secret` };
    const secret = objectNamed(state, "Secret", workload.namespace, volume.secret.secretName);
    if (secret === undefined) return { problem: `Secret ${volume.secret.secretName} is not in the desired state` };
    if (!secretKeys(secret).includes(path.basename(use.file))) {
        return { problem: `Secret ${volume.secret.secretName} holds no ${path.basename(use.file)}` };
    }
    return { secret: volume.secret.secretName };
}

for (const variant of variants().filter((v) => v.stack.startsWith("main") && v.kubeVersion === undefined)) {
    describe(`${variant.stack}: every TLS file main's bricks name, from a Secret that holds it`, () => {
        let state: DesiredState;
        let uses: (FileUse & { secret?: string; problem?: string })[];
        const ns = () => state.config.namespace;

        before(async () => {
            state = await stateOf(variant);
            uses = state.workloads
                .filter((w) => w.namespace === state.config.namespace)
                .flatMap((w) => fileUses(state, w).map((u) => ({ ...u, ...secretFor(state, w, u) })));
        });

        it("mounts every file a flag or configuration names from a Secret holding that key", () => {
            assert.ok(uses.length > 40, `only ${uses.length} TLS files found`);
            const problems = uses
                .filter((u) => u.problem !== undefined)
                .map((u) => `${u.workload} ${u.container} (${u.via}): ${u.problem}`);
            assert.deepEqual(problems, []);
        });

        /** The Secrets a workload's flags starting with `flag` read. */
        const secretsOf = (workload: string, via: RegExp): string[] => [
            ...new Set(uses.filter((u) => u.workload === workload && via.test(u.via)).map((u) => u.secret ?? "")),
        ];

        it("serves every Thanos StoreAPI on the thanos-store certificate, client CA required", () => {
            const servers = [
                `Deployment/${ns()}/thanos-query`,
                `StatefulSet/${ns()}/thanos-store-gateway`,
                `StatefulSet/${ns()}/thanos-receive-ingestor`,
                `Deployment/${ns()}/thanos-receive-router`,
                `StatefulSet/${ns()}/thanos-rule`,
            ];
            for (const id of servers) {
                assert.deepEqual(secretsOf(id, /^--grpc-server-tls-(cert|key|client-ca)=/), ["thanos-store-tls"], id);
                const args = state.workloads.find((w) => w.id === id)?.template.spec.containers[0]?.args as string[];
                assert.ok(args.includes("--grpc-server-tls-min-version=1.3"), id);
            }
        });

        it("dials the stores from Query and the router on their own client certificates, by the stores' name", () => {
            const query = `Deployment/${ns()}/thanos-query`;
            const router = `Deployment/${ns()}/thanos-receive-router`;
            assert.deepEqual(secretsOf(query, /^--grpc-client-tls-/), ["thanos-query-client-tls"]);
            assert.deepEqual(secretsOf(router, /^--remote-write\.client-tls-/), ["thanos-router-client-tls"]);
            const argsOf = (id: string) =>
                state.workloads.find((w) => w.id === id)?.template.spec.containers[0]?.args as string[];
            assert.ok(argsOf(query).includes(`--grpc-client-server-name=thanos-store.${ns()}.svc`));
            assert.ok(argsOf(router).includes(`--remote-write.client-server-name=thanos-store.${ns()}.svc`));
            // Query discovers the stack's Ruler as the chart would have its own.
            assert.ok(
                argsOf(query).includes(`--endpoint=dnssrv+_grpc._tcp.thanos-rule-headless.${ns()}.svc.cluster.local`),
            );
        });

        it("reads PromQL and sends alerts from the Ruler over mTLS, each on its identity's Secret", () => {
            const ruler = `StatefulSet/${ns()}/thanos-rule`;
            assert.deepEqual(secretsOf(ruler, /query\.yaml$/), ["thanos-ruler-client-tls"]);
            assert.deepEqual(secretsOf(ruler, /alertmanagers\.yaml$/), ["cluster-client-tls"]);
        });

        it("gives the trace ingest the ingest certificate, and Tempo's receiver its own, dialled with the ingest's", () => {
            const ingest = `Deployment/${ns()}/traces-ingest`;
            assert.deepEqual(secretsOf(ingest, /nginx\.conf$/).sort(), ["tempo-tls", "traces-ingest-client-tls"]);
            const receivers = state.workloads.filter(
                (w) => w.id.includes("/tempo") && uses.some((u) => u.workload === w.id && /config|tempo/.test(u.via)),
            );
            assert.ok(receivers.length > 0, "no Tempo workload names a TLS file");
            const serverSecrets = new Set(
                uses
                    .filter((u) => receivers.some((r) => r.id === u.workload) && !u.file.includes("client-tls"))
                    .map((u) => u.secret),
            );
            assert.deepEqual([...serverSecrets], ["tempo-receiver-tls"]);
        });

        it("serves the Prometheus sidecar's StoreAPI from the thanos-store Secret and sends main's alerts through the ingest", () => {
            const prometheus = state.objects.find((e) => e.object.kind === "Prometheus")?.object;
            assert.ok(prometheus, "no Prometheus resource");
            const spec = prometheus.spec as {
                thanos: { grpcServerTlsConfig: Record<string, string>; volumeMounts: Mount[] };
                volumes: Volume[];
                secrets: string[];
                alerting?: unknown;
            };
            const tls = spec.thanos.grpcServerTlsConfig;
            for (const file of [tls.certFile, tls.keyFile, tls.caFile]) {
                const mount = spec.thanos.volumeMounts.find((m) => m.mountPath === path.dirname(file ?? ""));
                const volume = spec.volumes.find((v) => v.name === mount?.name);
                assert.equal(volume?.secret?.secretName, "thanos-store-tls", file);
            }
            assert.equal(spec.alerting, undefined, "no plain in-cluster Alertmanager endpoint");
            assert.deepEqual(spec.secrets, ["cluster-client-tls"]);
        });
    });
}
