import { budget, millicores, mebibytes } from "../../components/core/resources";
import { THANOS_STORE_NAME } from "../../components/network/endpoints";
import { HOOK_ANNOTATION, objectId, type KObject } from "./manifests";
import { podSecurityViolations, type PodSecurityLevel, type PodSecurityViolation } from "./pod-security";
import type { DesiredState, PodContainer, Workload } from "./state";

/**
 * The deploy checks that read the desired state as data: hooks, pinned images, Pod Security,
 * references between objects, in-cluster addresses, and requests against the budget.
 */

// --- hooks ---------------------------------------------------------------------------------

/** Every Helm hook a chart renders: Chart v4 never applies them, so none may be needed. */
export function hookProblems(state: DesiredState): string[] {
    return state.charts.flatMap((chart) =>
        chart.hooks.map(
            (o) =>
                `${chart.record.name}: ${objectId(o)} is a Helm hook (${o.metadata.annotations?.[HOOK_ANNOTATION] ?? ""}), ` +
                "which Chart v4 never applies: turn it off in the values or make what it makes another way",
        ),
    );
}

// --- images --------------------------------------------------------------------------------

/** A full version tag (`v0.42.4`, `3.14.0-distroless`, `1.31.2-alpine`) or a digest. */
const PINNED = /(@sha256:[a-f0-9]{64}$)|(:v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$)/;

function containers(w: Workload): PodContainer[] {
    return [...w.template.spec.containers, ...(w.template.spec.initContainers ?? [])];
}

export function imageProblems(state: DesiredState): string[] {
    const problems: string[] = [];
    for (const w of state.workloads) {
        for (const c of containers(w)) {
            if (c.image === undefined || c.image === "") {
                problems.push(`${w.id}: container ${c.name} has no image`);
            } else if (!PINNED.test(c.image)) {
                problems.push(
                    `${w.id}: container ${c.name} runs ${c.image}, which is neither a full version tag nor a digest`,
                );
            }
        }
    }
    return problems;
}

// --- Pod Security ----------------------------------------------------------------------------

export interface PodSecurityFindings {
    /** Violations of the level the namespace enforces: the API server would refuse the pods. */
    problems: string[];
    /** Violations of `restricted` in namespaces that only warn about it, listed for review. */
    warnings: string[];
}

function describeViolation(w: Workload, v: PodSecurityViolation): string {
    return `${w.id}: ${v.check} (${v.field}): ${v.message}`;
}

export function podSecurityFindings(state: DesiredState): PodSecurityFindings {
    const problems: string[] = [];
    const warnings: string[] = [];
    for (const w of state.workloads) {
        const namespace = state.namespaces.find((n) => n.name === w.namespace);
        if (namespace === undefined) {
            problems.push(`${w.id}: in namespace ${w.namespace}, which the stack does not create`);
            continue;
        }
        const enforce = (namespace.labels["pod-security.kubernetes.io/enforce"] ?? "privileged") as PodSecurityLevel;
        const warn = (namespace.labels["pod-security.kubernetes.io/warn"] ?? enforce) as PodSecurityLevel;
        problems.push(...podSecurityViolations(w.template, enforce).map((v) => describeViolation(w, v)));
        if (warn !== enforce) {
            warnings.push(
                ...podSecurityViolations(w.template, warn)
                    .filter((v) => v.level === "restricted")
                    .map((v) => describeViolation(w, v)),
            );
        }
    }
    return { problems, warnings };
}

// --- references ------------------------------------------------------------------------------

type Kind = "Secret" | "ConfigMap" | "ServiceAccount" | "PersistentVolumeClaim";

interface Reference {
    kind: Kind;
    name: string;
    namespace: string;
    optional: boolean;
    /** Where it was found. */
    at: string;
}

/**
 * Objects that exist only at run time, each with who makes it: operators and controllers create
 * them, so they are not in the desired state.
 */
export const RUNTIME_OBJECTS: readonly { kind: Kind; name: RegExp; creator: string }[] = [
    { kind: "ServiceAccount", name: /^default$/, creator: "the API server, in every namespace" },
    { kind: "Secret", name: /^(prometheus|alertmanager)-.+/, creator: "prometheus-operator, for the pods it runs" },
    { kind: "ConfigMap", name: /^prometheus-.+-rulefiles-\d+$/, creator: "prometheus-operator" },
    { kind: "ConfigMap", name: /^kube-root-ca\.crt$/, creator: "the API server, in every namespace" },
];

function podReferences(w: Workload): Reference[] {
    const refs: Reference[] = [];
    const spec = w.template.spec as {
        volumes?: {
            name: string;
            secret?: { secretName?: string; optional?: boolean };
            configMap?: { name?: string; optional?: boolean };
            persistentVolumeClaim?: { claimName?: string };
            projected?: {
                sources?: {
                    secret?: { name?: string; optional?: boolean };
                    configMap?: { name?: string; optional?: boolean };
                }[];
            };
        }[];
        serviceAccountName?: string;
        imagePullSecrets?: { name: string }[];
    };
    const add = (kind: Kind, name: string | undefined, optional: boolean | undefined, at: string) => {
        if (name !== undefined && name !== "")
            refs.push({ kind, name, namespace: w.namespace, optional: optional === true, at });
    };
    for (const v of spec.volumes ?? []) {
        add("Secret", v.secret?.secretName, v.secret?.optional, `volume ${v.name}`);
        add("ConfigMap", v.configMap?.name, v.configMap?.optional, `volume ${v.name}`);
        add("PersistentVolumeClaim", v.persistentVolumeClaim?.claimName, false, `volume ${v.name}`);
        for (const s of v.projected?.sources ?? []) {
            add("Secret", s.secret?.name, s.secret?.optional, `volume ${v.name}`);
            add("ConfigMap", s.configMap?.name, s.configMap?.optional, `volume ${v.name}`);
        }
    }
    add("ServiceAccount", spec.serviceAccountName ?? "default", false, "serviceAccountName");
    for (const s of spec.imagePullSecrets ?? []) add("Secret", s.name, false, "imagePullSecrets");
    for (const c of containers(w)) {
        const env = (c.env ?? []) as {
            name: string;
            valueFrom?: {
                secretKeyRef?: { name?: string; optional?: boolean };
                configMapKeyRef?: { name?: string; optional?: boolean };
            };
        }[];
        for (const e of env) {
            add(
                "Secret",
                e.valueFrom?.secretKeyRef?.name,
                e.valueFrom?.secretKeyRef?.optional,
                `${c.name} env ${e.name}`,
            );
            add(
                "ConfigMap",
                e.valueFrom?.configMapKeyRef?.name,
                e.valueFrom?.configMapKeyRef?.optional,
                `${c.name} env ${e.name}`,
            );
        }
        const envFrom = (c.envFrom ?? []) as {
            secretRef?: { name?: string; optional?: boolean };
            configMapRef?: { name?: string; optional?: boolean };
        }[];
        for (const e of envFrom) {
            add("Secret", e.secretRef?.name, e.secretRef?.optional, `${c.name} envFrom`);
            add("ConfigMap", e.configMapRef?.name, e.configMapRef?.optional, `${c.name} envFrom`);
        }
    }
    return refs;
}

/** Secrets and ConfigMaps the Prometheus and Alertmanager resources name for the operator to mount or read. */
function operatedReferences(o: KObject): Reference[] {
    if (o.apiVersion !== "monitoring.coreos.com/v1" || (o.kind !== "Prometheus" && o.kind !== "Alertmanager"))
        return [];
    const namespace = o.metadata.namespace ?? "default";
    const at = `${o.kind}/${o.metadata.name}`;
    const spec = o.spec as {
        secrets?: string[];
        configMaps?: string[];
        configSecret?: string;
        serviceAccountName?: string;
        additionalAlertManagerConfigs?: { name?: string };
        thanos?: { objectStorageConfig?: { name?: string } };
        remoteWrite?: {
            tlsConfig?: {
                ca?: { secret?: { name?: string } };
                cert?: { secret?: { name?: string } };
                keySecret?: { name?: string };
            };
        }[];
    };
    const refs: Reference[] = [];
    const add = (kind: Kind, name: string | undefined, field: string) => {
        if (name !== undefined && name !== "")
            refs.push({ kind, name, namespace, optional: false, at: `${at} ${field}` });
    };
    for (const s of spec.secrets ?? []) add("Secret", s, "secrets");
    for (const c of spec.configMaps ?? []) add("ConfigMap", c, "configMaps");
    add("Secret", spec.configSecret, "configSecret");
    add("ServiceAccount", spec.serviceAccountName, "serviceAccountName");
    add("Secret", spec.additionalAlertManagerConfigs?.name, "additionalAlertManagerConfigs");
    add("Secret", spec.thanos?.objectStorageConfig?.name, "thanos.objectStorageConfig");
    for (const [i, rw] of (spec.remoteWrite ?? []).entries()) {
        add("Secret", rw.tlsConfig?.ca?.secret?.name, `remoteWrite[${i}].tlsConfig.ca`);
        add("Secret", rw.tlsConfig?.cert?.secret?.name, `remoteWrite[${i}].tlsConfig.cert`);
        add("Secret", rw.tlsConfig?.keySecret?.name, `remoteWrite[${i}].tlsConfig.keySecret`);
    }
    return refs;
}

export function referenceProblems(state: DesiredState): string[] {
    const present = new Set(
        state.objects.map((e) => `${e.object.kind}/${e.object.metadata.namespace ?? ""}/${e.object.metadata.name}`),
    );
    // StatefulSets' claim templates make their PVCs; a volume named like a template is one of them.
    const claims = new Set<string>();
    for (const e of state.objects) {
        if (e.object.kind !== "StatefulSet") continue;
        for (const t of (e.object.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] })
            .volumeClaimTemplates ?? []) {
            claims.add(`${e.object.metadata.namespace ?? ""}/${t.metadata.name}`);
        }
    }
    const refs = [
        ...state.workloads.flatMap((w) => podReferences(w).map((r) => ({ r, owner: w.id }))),
        ...state.objects.flatMap((e) => operatedReferences(e.object).map((r) => ({ r, owner: e.source }))),
    ];
    const problems: string[] = [];
    for (const { r, owner } of refs) {
        if (r.optional || present.has(`${r.kind}/${r.namespace}/${r.name}`)) continue;
        if (RUNTIME_OBJECTS.some((x) => x.kind === r.kind && x.name.test(r.name))) continue;
        problems.push(`${owner}: ${r.at} needs ${r.kind} ${r.namespace}/${r.name}, which nothing creates`);
    }
    // A pod volume naming a claim template is not a reference to a standalone PVC.
    return problems.filter(
        (p) => ![...claims].some((c) => p.endsWith(`PersistentVolumeClaim ${c}, which nothing creates`)),
    );
}

// --- in-cluster addresses -------------------------------------------------------------------

/** Services the operator creates at run time, with their ports (number and name). */
export const OPERATED_SERVICES: Readonly<Record<string, { port: number; name: string }[]>> = {
    "prometheus-operated": [
        { port: 9090, name: "http-web" },
        { port: 10901, name: "grpc" },
    ],
    "alertmanager-operated": [
        { port: 9093, name: "http-web" },
        { port: 9094, name: "tcp-mesh" },
    ],
};

/**
 * Addresses a chart writes into a configuration for a component the values leave off, each
 * with why it is never dialled.
 */
export const UNDIALLED_ADDRESSES: readonly { service: RegExp; reason: string }[] = [
    {
        service: /^loki-bloom-(planner|gateway)-headless$/,
        reason: "Loki's config names its bloom components, which stay off (bloom_build and bloom_gateway disabled)",
    },
    {
        service: /^loki-ruler$/,
        reason:
            "the gateway sends rule paths to the ruler through a variable resolved per request; no ruler runs and " +
            "the gateway's allow-list refuses those paths before proxying",
    },
    {
        service: new RegExp(`^${THANOS_STORE_NAME}$`),
        reason:
            "a name to verify, not to dial: Query and the Receive router check every StoreAPI's certificate " +
            "against it (--grpc-client-server-name, --remote-write.client-server-name) and dial the stores " +
            "at the addresses they discover",
    },
];

/** `[_<port name>._tcp.]<service>.<namespace>.svc[.cluster.local][:<port>]` in any text. */
const ADDRESS =
    /(?:_([a-z0-9-]+)\._tcp\.)?(?:[a-z0-9-]+\.)*?([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?\.?(?::(\d+))?/g;

export interface Address {
    service: string;
    namespace: string;
    port?: number;
    portName?: string;
    text: string;
}

export function addressesIn(text: string): Address[] {
    const found: Address[] = [];
    for (const m of text.matchAll(ADDRESS)) {
        found.push({
            service: m[2] as string,
            namespace: m[4] as string,
            ...(m[5] !== undefined ? { port: Number(m[5]) } : {}),
            ...(m[1] !== undefined ? { portName: m[1] } : {}),
            text: m[0],
        });
    }
    return found;
}

function strings(value: unknown, out: string[] = []): string[] {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
    else if (value !== null && typeof value === "object") Object.values(value).forEach((v) => strings(v, out));
    return out;
}

/**
 * Every address of the stack's namespaces named in chart values, ConfigMaps, Secrets and
 * workload specs (datasources, remote write, exporters, Loki, Tempo and Thanos configs) names a
 * Service that exists, on a port (number, or SRV port name) it has.
 */
export function addressProblems(state: DesiredState): string[] {
    const stackNamespaces = new Set(state.namespaces.map((n) => n.name));
    const services = new Map<string, { port: number; name?: string }[]>();
    for (const e of state.objects) {
        if (e.object.kind !== "Service") continue;
        const ports = ((e.object.spec as { ports?: { port: number; name?: string }[] }).ports ?? []).map((p) => ({
            port: p.port,
            ...(p.name !== undefined ? { name: p.name } : {}),
        }));
        services.set(`${e.object.metadata.namespace ?? ""}/${e.object.metadata.name}`, ports);
    }
    const sources: { where: string; text: string }[] = [];
    for (const chart of state.charts) {
        for (const text of strings(chart.values)) sources.push({ where: `${chart.record.name} values`, text });
    }
    for (const e of state.objects) {
        if (
            !["ConfigMap", "Secret", "Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"].includes(e.object.kind)
        )
            continue;
        const where = `${e.source}: ${objectId(e.object)}`;
        for (const text of strings(e.object)) sources.push({ where, text });
        // A Secret's `data` is base64: its files are read decoded.
        if (e.object.kind === "Secret") {
            for (const encoded of strings(e.object.data ?? {})) {
                sources.push({ where, text: Buffer.from(encoded, "base64").toString("utf8") });
            }
        }
    }
    const problems = new Set<string>();
    for (const { where, text } of sources) {
        for (const address of addressesIn(text)) {
            if (!stackNamespaces.has(address.namespace)) continue;
            const key = `${address.namespace}/${address.service}`;
            const ports = services.get(key) ?? OPERATED_SERVICES[address.service];
            if (ports === undefined) {
                if (UNDIALLED_ADDRESSES.some((u) => u.service.test(address.service))) continue;
                problems.add(`${where}: ${address.text} names Service ${key}, which does not exist`);
                continue;
            }
            if (address.port !== undefined && !ports.some((p) => p.port === address.port)) {
                problems.add(`${where}: ${address.text}: Service ${key} has no port ${address.port}`);
            }
            if (address.portName !== undefined && !ports.some((p) => p.name === address.portName)) {
                problems.add(`${where}: ${address.text}: Service ${key} has no port named ${address.portName}`);
            }
        }
    }
    return [...problems];
}

// --- budget ----------------------------------------------------------------------------------

export interface Requests {
    /** Summed over the pods that run once per cluster, replicas counted. */
    cluster: { millicores: number; mebibytes: number };
    /** Summed over the pods that run on every node. */
    perNode: { millicores: number; mebibytes: number };
}

function cpuOf(q: string | number | undefined): number {
    return q === undefined ? 0 : millicores(String(q));
}

function memoryOf(q: string | number | undefined): number {
    if (q === undefined) return 0;
    const text = String(q);
    const decimal = /^(\d+)(M|G)$/.exec(text);
    if (decimal !== null) return (Number(decimal[1]) * (decimal[2] === "G" ? 1e9 : 1e6)) / 2 ** 20;
    return mebibytes(text);
}

/** Requests of every container the stack runs in its namespaces (init containers excluded). */
export function requestedResources(state: DesiredState): { requests: Requests; problems: string[] } {
    const requests: Requests = { cluster: { millicores: 0, mebibytes: 0 }, perNode: { millicores: 0, mebibytes: 0 } };
    const problems: string[] = [];
    const stackNamespaces = new Set(state.namespaces.map((n) => n.name));
    for (const w of state.workloads.filter((x) => stackNamespaces.has(x.namespace))) {
        const target = w.perNode ? requests.perNode : requests.cluster;
        for (const c of containers(w)) {
            const r = c.resources ?? {};
            for (const field of ["requests", "limits"] as const) {
                for (const resource of ["cpu", "memory"]) {
                    if (r[field]?.[resource] === undefined) {
                        problems.push(`${w.id}: container ${c.name} has no ${resource} ${field.slice(0, -1)}`);
                    }
                }
            }
        }
        for (const c of w.template.spec.containers) {
            target.millicores += cpuOf(c.resources?.requests?.cpu) * w.replicas;
            target.mebibytes += memoryOf(c.resources?.requests?.memory) * w.replicas;
        }
    }
    return { requests, problems };
}

/** The templated requests against the budget the docs publish (components/core/resources.ts). */
export function budgetProblems(state: DesiredState): string[] {
    const { requests, problems } = requestedResources(state);
    const config = state.config;
    const expected = budget(config.role, config.profile, { report: config.role === "main" && config.report.enabled });
    const round = (n: number) => Math.round(n * 1000) / 1000;
    for (const scope of ["cluster", "perNode"] as const) {
        const got = requests[scope];
        const want = expected[scope];
        if (round(got.millicores) !== round(want.millicores) || round(got.mebibytes) !== round(want.mebibytes)) {
            problems.push(
                `${scope === "cluster" ? "per cluster" : "per node"}: the templated pods request ` +
                    `${round(got.millicores)}m CPU and ${round(got.mebibytes)} MiB, the budget says ` +
                    `${want.millicores}m and ${want.mebibytes} MiB`,
            );
        }
    }
    return problems;
}
