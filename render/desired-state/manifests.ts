import { parseAllDocuments } from "yaml";

import { chartArchiveName, installedCharts, type ChartPin } from "../../components/core/versions";
import type { CachedChart } from "../chart-cache";
import { helmTemplate, type HelmBinary } from "../helm";
import { HELM_CHART_V4, ResourceRef, Secret, Unknown, type ResourceRecord } from "../mock-engine";

/**
 * What each Helm Chart v4 of a stack makes: the chart templated by real Helm exactly as the
 * provider templates it (release name, namespace, values, CRDs included, hooks left out, the
 * cluster's version and served API versions), and normalized as the provider normalizes it
 * (the release namespace on every namespaced object). See docs/decisions.md for the provider
 * facts this follows.
 */

export interface KObject {
    apiVersion: string;
    kind: string;
    metadata: {
        name: string;
        namespace?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        [key: string]: unknown;
    };
    [key: string]: unknown;
}

/** A Chart v4 resource of the program, the chart it installs located, its values plain. */
export interface ChartInput {
    record: ResourceRecord;
    pin: ChartPin;
    source: CachedChart;
    release: string;
    namespace: string;
    values: Record<string, unknown>;
}

export interface ChartRender extends ChartInput {
    /** What Chart v4 applies once the stack's CRDs are served (every later `pulumi up`). */
    objects: KObject[];
    /** What it applies when templated before any of the stack's CRDs is served. */
    firstUp: KObject[];
    /** Objects annotated `helm.sh/hook`: Chart v4 never applies them. */
    hooks: KObject[];
}

export const HOOK_ANNOTATION = "helm.sh/hook";

/** Built-in kinds without a namespace (Kubernetes 1.34); CRDs say their own scope. */
const CLUSTER_SCOPED = new Set([
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterTrustBundle",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "DeviceClass",
    "FlowSchema",
    "IngressClass",
    "IPAddress",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "ResourceSlice",
    "RuntimeClass",
    "ServiceCIDR",
    "StorageClass",
    "StorageVersionMigration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "VolumeAttributesClass",
]);

export function isChartRecord(record: ResourceRecord): boolean {
    return record.type === HELM_CHART_V4;
}

/** The pin a Chart v4 record installs: by chart name, or by the archive a chart directory holds. */
export function pinOf(record: ResourceRecord): ChartPin {
    const chart = String(record.inputs.chart ?? "");
    const pin = installedCharts().find((p) => p.chart === chart || chart.endsWith(`/${chartArchiveName(p)}`));
    if (pin === undefined) throw new Error(`chart ${record.name} installs ${chart}, which no pin in versions.ts names`);
    return pin;
}

/**
 * A chart's values as plain data. Chart values never hold a secret (the secret scan enforces
 * it) and must be known to be templated: either is an error here.
 */
export function plainValues(value: unknown, where: string): unknown {
    if (value instanceof Secret) throw new Error(`${where} holds a secret: chart values must not`);
    if (value instanceof Unknown) throw new Error(`${where} is unknown: render --manifests needs a non-preview render`);
    if (value instanceof ResourceRef) throw new Error(`${where} holds a resource reference`);
    if (Array.isArray(value)) return value.map((v, i) => plainValues(v, `${where}[${i}]`));
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainValues(v, `${where}.${k}`)]));
    }
    return value;
}

function isObject(value: unknown): value is KObject {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
    const o = value as Partial<KObject>;
    return typeof o.apiVersion === "string" && typeof o.kind === "string" && typeof o.metadata?.name === "string";
}

/** The objects of a `helm template` stream, hooks apart. Empty documents are dropped. */
export function splitManifest(stream: string, where: string): { objects: KObject[]; hooks: KObject[] } {
    const objects: KObject[] = [];
    const hooks: KObject[] = [];
    for (const doc of parseAllDocuments(stream)) {
        if (doc.errors.length > 0) throw new Error(`${where}: invalid YAML from helm: ${doc.errors[0]?.message}`);
        const value: unknown = doc.toJS({ maxAliasCount: -1 });
        if (value === null || value === undefined) continue;
        if (!isObject(value)) throw new Error(`${where}: helm rendered a document that is not an object`);
        (value.metadata.annotations?.[HOOK_ANNOTATION] !== undefined ? hooks : objects).push(value);
    }
    return { objects, hooks };
}

/** CRDs' scopes by `group/Kind`. */
export function crdScopes(objects: readonly KObject[]): Map<string, "Namespaced" | "Cluster"> {
    const scopes = new Map<string, "Namespaced" | "Cluster">();
    for (const o of objects) {
        if (o.kind !== "CustomResourceDefinition") continue;
        const spec = o.spec as { group: string; names: { kind: string }; scope: "Namespaced" | "Cluster" };
        scopes.set(`${spec.group}/${spec.names.kind}`, spec.scope);
    }
    return scopes;
}

export function groupOf(apiVersion: string): string {
    return apiVersion.includes("/") ? (apiVersion.split("/")[0] as string) : "";
}

/** Whether an object lives in a namespace: built-in scopes, else its CRD's, else namespaced. */
export function isNamespaced(object: KObject, scopes: ReadonlyMap<string, string>): boolean {
    const scope = scopes.get(`${groupOf(object.apiVersion)}/${object.kind}`);
    if (scope !== undefined) return scope === "Namespaced";
    return !CLUSTER_SCOPED.has(object.kind);
}

/** The release namespace on every namespaced object that has none, as the provider sets it. */
export function normalize(objects: KObject[], namespace: string, scopes: ReadonlyMap<string, string>): KObject[] {
    return objects.map((o) =>
        isNamespaced(o, scopes) && o.metadata.namespace === undefined
            ? { ...o, metadata: { ...o.metadata, namespace } }
            : o,
    );
}

/** `group/version` and `group/version/Kind` of every version a CRD serves. */
export function servedApiVersions(objects: readonly KObject[]): string[] {
    const versions: string[] = [];
    for (const o of objects) {
        if (o.kind !== "CustomResourceDefinition") continue;
        const spec = o.spec as {
            group: string;
            names: { kind: string };
            versions: { name: string; served: boolean }[];
        };
        for (const v of spec.versions.filter((v) => v.served)) {
            versions.push(`${spec.group}/${v.name}`, `${spec.group}/${v.name}/${spec.names.kind}`);
        }
    }
    return [...new Set(versions)].sort();
}

/** `kubernetes:monitoring.coreos.com/v1:PodMonitor` → `monitoring.coreos.com/v1` and the kind. */
export function typeTokenGvk(type: string): { apiVersion: string; kind: string } | undefined {
    const match = /^kubernetes:([^:]+):([A-Za-z0-9]+)$/.exec(type);
    if (match === null) return undefined;
    const [group, version] = (match[1] as string).split("/") as [string, string];
    if (group === "helm.sh" || group === "yaml" || group === "kustomize") return undefined;
    return { apiVersion: group === "core" ? version : `${group}/${version}`, kind: match[2] as string };
}

/**
 * API versions of custom resources the program declares whose CRD is not part of the stack
 * (Traefik's routes, the OpenTelemetry Operator's Instrumentation): prerequisites the cluster
 * must serve before the stack is deployed (README, "Prerequisites").
 */
export function prerequisiteApiVersions(records: readonly ResourceRecord[], stackCrds: readonly string[]): string[] {
    const served = new Set(stackCrds);
    const versions = new Set<string>();
    for (const record of records) {
        const gvk = typeTokenGvk(record.type);
        if (gvk === undefined || !gvk.apiVersion.includes(".")) continue;
        const full = `${gvk.apiVersion}/${gvk.kind}`;
        if (served.has(full) || !record.custom) continue;
        if (isBuiltinGroup(groupOf(gvk.apiVersion))) continue;
        versions.add(gvk.apiVersion).add(full);
    }
    return [...versions].sort();
}

/** Groups Kubernetes serves itself (the rest come from CRDs or aggregated APIs). */
export function isBuiltinGroup(group: string): boolean {
    return group === "" || !group.includes(".") || group.endsWith(".k8s.io");
}

export interface TemplateOptions {
    helm: HelmBinary;
    /** Located charts by chart name. */
    charts: ReadonlyMap<string, CachedChart>;
    /** The cluster's Kubernetes version, `1.34.0`. */
    kubeVersion: string;
}

function chartInput(record: ResourceRecord, charts: ReadonlyMap<string, CachedChart>): ChartInput {
    const pin = pinOf(record);
    const source = charts.get(pin.chart);
    if (source === undefined) throw new Error(`chart ${pin.chart} ${pin.version} was not located`);
    return {
        record,
        pin,
        source,
        release: String(record.inputs.name ?? record.name),
        namespace: String(record.inputs.namespace ?? "default"),
        values: plainValues(record.inputs.values ?? {}, `${record.name}.values`) as Record<string, unknown>,
    };
}

function template(input: ChartInput, options: TemplateOptions, apiVersions: readonly string[]) {
    const stream = helmTemplate(options.helm, {
        release: input.release,
        namespace: input.namespace,
        chart: input.source.path,
        values: input.values,
        kubeVersion: options.kubeVersion,
        apiVersions,
    });
    return splitManifest(stream, input.record.name);
}

/**
 * Templates every chart of a stack twice: as on a first `pulumi up`, before any CRD of the
 * stack is served, and as on every later one, with them served (the stack's own CRDs and the
 * prerequisites' its custom resources need).
 */
export function templateCharts(records: readonly ResourceRecord[], options: TemplateOptions): ChartRender[] {
    const inputs = records.filter(isChartRecord).map((r) => chartInput(r, options.charts));
    const first = inputs.map((input) => template(input, options, []));
    const stackCrds = servedApiVersions(first.flatMap((r) => r.objects));
    const steadyApis = [...stackCrds, ...prerequisiteApiVersions(records, stackCrds)].sort();
    const steady = inputs.map((input) => template(input, options, steadyApis));
    const scopes = crdScopes(steady.flatMap((r) => r.objects));
    return inputs.map((input, i) => ({
        ...input,
        objects: normalize((steady[i] as { objects: KObject[] }).objects, input.namespace, scopes),
        hooks: normalize((steady[i] as { hooks: KObject[] }).hooks, input.namespace, scopes),
        firstUp: normalize((first[i] as { objects: KObject[] }).objects, input.namespace, scopes),
    }));
}

/** `kind/namespace/name`, how the checks and the files name an object. */
export function objectId(o: KObject): string {
    return `${o.kind}/${o.metadata.namespace !== undefined ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
}
