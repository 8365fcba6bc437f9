import type {
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

import { annotationKeys } from "../components/core/labels";
import {
    INGEST,
    INGEST_SIGNALS,
    loadBalancerServiceName,
    nodePortServiceName,
    type IngestService,
    type IngestSignal,
} from "../components/network/endpoints";
import { isCredentialKey, isLiteralCredential, isPrivateKeyLabel, pemLabels } from "./secret-material";

/**
 * The rules of the policy pack, one factory per policy. Each takes the enforcement level and the
 * scope it judges: what the program declares itself, or what a Helm chart renders at deploy time
 * (children of a `kubernetes:helm.sh/v4:Chart`, which only a real `pulumi preview` sees). The
 * rules match on type tokens and read plain property values: no provider SDK is loaded.
 */

/** The type token of Helm Chart v4: a component the provider renders into Kubernetes objects. */
export const HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart";

/**
 * Pod template annotation that lets a pod run as root; its value says why. The Vector log agent
 * needs it: it reads root-owned log files on the node.
 */
export const RUNS_AS_ROOT_ANNOTATION = annotationKeys.runsAsRoot;

/**
 * Which resources a policy judges: those the program declares (`program`), or those a Helm chart
 * renders (`chart`), whose defaults we do not control.
 */
export type Scope = "program" | "chart";

export type RuleFactory = (enforcementLevel: EnforcementLevel, scope: Scope) => Policy;
type Policy = ResourceValidationPolicy | StackValidationPolicy;

type Props = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Scope

/** The type chain of a URN: the types of its ancestors, then its own (`a$b$type`). */
export function typeChain(urn: string): string[] {
    return (urn.split("::")[2] ?? "").split("$");
}

/** Whether a resource is an object a Helm chart rendered: a Chart v4 is among its ancestors. */
export function isChartRendered(urn: string): boolean {
    return typeChain(urn).slice(0, -1).includes(HELM_CHART_V4);
}

function inScope(scope: Scope, urn: string): boolean {
    return isChartRendered(urn) === (scope === "chart");
}

/** The policy name for a scope: chart-rendered twins carry a suffix. */
function scopedName(name: string, scope: Scope): string {
    return scope === "chart" ? `${name}-chart-rendered` : name;
}

function scopedDescription(description: string, scope: Scope): string {
    return scope === "chart"
        ? `${description} Applies to objects Helm charts render (their defaults are not ours).`
        : `${description} Applies to resources the program declares.`;
}

// ---------------------------------------------------------------------------------------------
// Reading plain property values

function asObject(value: unknown): Props | undefined {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Props) : undefined;
}

function asArray(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

function asString(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

/** `kubernetes:apps/v1:Deployment` → `{ group: "apps", kind: "Deployment" }`. */
function kubernetesKind(type: string): { group: string; kind: string } | undefined {
    const match = /^kubernetes:([^/]+)\/[^:]+:(.+)$/.exec(type);
    return match ? { group: match[1] as string, kind: match[2] as string } : undefined;
}

/** `namespace/name` of a Kubernetes object; the Pulumi name stands in for an auto-named one. */
function objectName(props: Props, resourceName: string): string {
    const metadata = asObject(props.metadata) ?? {};
    const name = asString(metadata.name) ?? resourceName;
    return `${asString(metadata.namespace) ?? "default"}/${name}`;
}

// ---------------------------------------------------------------------------------------------
// Workloads

/** Where each workload kind keeps its pod template. */
const POD_TEMPLATE: Record<string, (props: Props) => unknown> = {
    Pod: (props) => props,
    Deployment: (props) => asObject(props.spec)?.template,
    StatefulSet: (props) => asObject(props.spec)?.template,
    DaemonSet: (props) => asObject(props.spec)?.template,
    ReplicaSet: (props) => asObject(props.spec)?.template,
    Job: (props) => asObject(props.spec)?.template,
    CronJob: (props) => asObject(asObject(asObject(props.spec)?.jobTemplate)?.spec)?.template,
};
const WORKLOAD_GROUPS = new Set(["core", "apps", "batch", "extensions"]);

export interface WorkloadContainer {
    /** `Deployment monitoring/remediator container "remediator"`: what a violation names. */
    where: string;
    container: Props;
    /** The pod template's spec (pod-level security context). */
    podSpec: Props;
    /** The pod template's annotations. */
    annotations: Props;
}

/** The containers and init containers of a workload, or none for any other resource. */
export function workloadContainers(type: string, props: Props, resourceName: string): WorkloadContainer[] {
    const kind = kubernetesKind(type);
    const templateOf = kind && WORKLOAD_GROUPS.has(kind.group) ? POD_TEMPLATE[kind.kind] : undefined;
    if (kind === undefined || templateOf === undefined) return [];
    const template = asObject(templateOf(props)) ?? {};
    const podSpec = asObject(template.spec) ?? {};
    const annotations = asObject(asObject(template.metadata)?.annotations) ?? {};
    const owner = `${kind.kind} ${objectName(props, resourceName)}`;
    const list = (field: string, label: string) =>
        asArray(podSpec[field])
            .map(asObject)
            .filter((c): c is Props => c !== undefined)
            .map((container) => ({
                where: `${owner} ${label} "${asString(container.name) ?? "?"}"`,
                container,
                podSpec,
                annotations,
            }));
    return [...list("initContainers", "init container"), ...list("containers", "container")];
}

/** Whether a container runs as a user other than root, from its own or the pod's security context. */
function runsAsNonRoot(container: Props, podSpec: Props): boolean {
    const own = asObject(container.securityContext) ?? {};
    const pod = asObject(podSpec.securityContext) ?? {};
    const user = typeof own.runAsUser === "number" ? own.runAsUser : pod.runAsUser;
    if (typeof user === "number") return user > 0;
    const nonRoot = typeof own.runAsNonRoot === "boolean" ? own.runAsNonRoot : pod.runAsNonRoot;
    return nonRoot === true;
}

function rootAllowed(annotations: Props): boolean {
    const reason = annotations[RUNS_AS_ROOT_ANNOTATION];
    return typeof reason === "string" && reason.trim() !== "";
}

/** What a container lacks for the workload-security policy, as messages. */
export function containerProblems(workload: WorkloadContainer): string[] {
    const { where, container, podSpec, annotations } = workload;
    const problems: string[] = [];
    const security = asObject(container.securityContext) ?? {};
    if (!runsAsNonRoot(container, podSpec) && !rootAllowed(annotations)) {
        problems.push(
            `${where}: may run as root: set securityContext.runAsNonRoot: true or runAsUser > 0 ` +
                `(container or pod), or give the pod template the annotation ${RUNS_AS_ROOT_ANNOTATION}: <reason>`,
        );
    }
    const drop = asArray(asObject(security.capabilities)?.drop);
    if (!drop.includes("ALL")) {
        problems.push(`${where}: securityContext.capabilities.drop does not include ALL`);
    }
    if (security.allowPrivilegeEscalation !== false) {
        problems.push(`${where}: securityContext.allowPrivilegeEscalation is not false`);
    }
    const resources = asObject(container.resources) ?? {};
    for (const bound of ["limits", "requests"]) {
        const values = asObject(resources[bound]) ?? {};
        for (const resource of ["cpu", "memory"]) {
            if (values[resource] === undefined || values[resource] === null || values[resource] === "") {
                problems.push(`${where}: resources.${bound}.${resource} is missing`);
            }
        }
    }
    return problems;
}

/**
 * Every container and init container of a workload runs as non-root (unless the pod template says
 * why it must not), drops all capabilities, cannot escalate privileges, and states its CPU and
 * memory limits and requests.
 */
export const workloadSecurity: RuleFactory = (enforcementLevel, scope) => ({
    name: scopedName("workload-security", scope),
    description: scopedDescription(
        "Containers run as non-root, drop ALL capabilities, disallow privilege escalation, and set CPU and " +
            `memory limits and requests. A pod template annotated ${RUNS_AS_ROOT_ANNOTATION}: <reason> may run as root.`,
        scope,
    ),
    enforcementLevel,
    validateResource: (args, report) => {
        if (!inScope(scope, args.urn)) return;
        for (const workload of workloadContainers(args.type, args.props, args.name)) {
            for (const problem of containerProblems(workload)) report(problem);
        }
    },
});

// ---------------------------------------------------------------------------------------------
// Secret material

const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

/** A text value of a ConfigMap or of chart values, where it sits, and the key that names it. */
export interface TextValue {
    /** `ConfigMap monitoring/rules data.fleet.yaml`, `Chart monitoring/grafana values.admin.password`. */
    where: string;
    key: string;
    value: unknown;
}

function leaves(value: unknown, path: string, key: string, visit: (path: string, key: string, v: unknown) => void) {
    if (Array.isArray(value)) {
        value.forEach((item, i) => leaves(item, `${path}[${i}]`, key, visit));
    } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) leaves(v, `${path}.${k}`, k, visit);
    } else {
        visit(path, key, value);
    }
}

function chartName(props: Props, resourceName: string): string {
    return `${asString(props.namespace) ?? "default"}/${asString(props.name) ?? resourceName}`;
}

/**
 * The values a ConfigMap (`data`, and `binaryData` decoded) or a Helm chart (`values`) holds,
 * which must carry no secret material; none for any other resource.
 */
export function textValues(type: string, props: Props, resourceName: string): TextValue[] {
    const values: TextValue[] = [];
    if (type === CONFIG_MAP) {
        const owner = `ConfigMap ${objectName(props, resourceName)}`;
        for (const [key, value] of Object.entries(asObject(props.data) ?? {})) {
            values.push({ where: `${owner} data.${key}`, key, value });
        }
        for (const [key, value] of Object.entries(asObject(props.binaryData) ?? {})) {
            const text = typeof value === "string" ? Buffer.from(value, "base64").toString("latin1") : value;
            values.push({ where: `${owner} binaryData.${key}`, key, value: text });
        }
    } else if (type === HELM_CHART_V4) {
        const owner = `Chart ${chartName(props, resourceName)}`;
        leaves(asObject(props.values) ?? {}, "values", "", (path, key, value) =>
            values.push({ where: `${owner} ${path}`, key, value }),
        );
    }
    return values;
}

/** What secret material a value holds, as messages. ConfigMaps hold no PEM block at all. */
export function secretMaterialProblems(type: string, { where, key, value }: TextValue): string[] {
    const problems: string[] = [];
    if (typeof value === "string") {
        for (const label of pemLabels(value)) {
            if (isPrivateKeyLabel(label)) {
                problems.push(`${where}: holds a private key (${label}); keys belong in a Secret`);
            } else if (type === CONFIG_MAP) {
                problems.push(`${where}: holds a PEM block (${label}); PEM material belongs in a Secret`);
            }
        }
    }
    if (isCredentialKey(key) && isLiteralCredential(value)) {
        problems.push(
            `${where}: a credential-named key with a literal value; reference a Secret or a mounted file instead`,
        );
    }
    return problems;
}

/**
 * ConfigMaps and Helm chart values carry no private key, ConfigMaps no PEM block at all, and
 * neither a literal value under a credential-like name (a Secret's name or a file reference is fine).
 */
export const noSecretMaterial: RuleFactory = (enforcementLevel, scope) => ({
    name: scopedName("no-secret-material-in-config", scope),
    description: scopedDescription(
        "ConfigMaps and Helm chart values hold no private key, ConfigMaps no PEM block, and no credential-named " +
            "key holds a literal value (reference a Secret or a mounted file instead).",
        scope,
    ),
    enforcementLevel,
    validateResource: (args, report) => {
        if (!inScope(scope, args.urn)) return;
        for (const value of textValues(args.type, args.props, args.name)) {
            for (const problem of secretMaterialProblems(args.type, value)) report(problem);
        }
    },
});

// ---------------------------------------------------------------------------------------------
// Images

export interface ImageUse {
    /** The container or the place in chart values that names the image. */
    where: string;
    image: string;
}

export interface ImageReference {
    tag: string | undefined;
    digest: string | undefined;
}

const DIGEST = /^sha(256|384|512):[a-f0-9]{64,128}$/;
/** A tag that names a version: at least major.minor, with an optional suffix (`1.31-alpine`, `v3.5.0`). */
const VERSION_TAG = /^v?\d+\.\d+(?:[.+_-][\w.+-]*)?$/;

/** Splits `registry:port/path:tag@digest` into its tag and digest. */
export function parseImage(image: string): ImageReference {
    const at = image.indexOf("@");
    const digest = at >= 0 ? image.slice(at + 1) : undefined;
    const named = at >= 0 ? image.slice(0, at) : image;
    const colon = named.lastIndexOf(":");
    const tag = colon > named.lastIndexOf("/") ? named.slice(colon + 1) : undefined;
    return { tag: tag === "" ? undefined : tag, digest: digest === "" ? undefined : digest };
}

/**
 * An `image` object of chart values as one reference: `registry/repository:tag@digest`. Without a
 * repository it only overrides a registry or a pull policy; without a tag or digest the chart
 * keeps its own (pinned by the chart version): both give no reference to judge.
 */
function valuesImage(image: Props): string | undefined {
    const repository = asString(image.repository);
    const tag = typeof image.tag === "number" ? String(image.tag) : asString(image.tag);
    const rawDigest = asString(image.digest) ?? asString(image.sha);
    const digest = rawDigest && /^[a-f0-9]{64}$/.test(rawDigest) ? `sha256:${rawDigest}` : rawDigest;
    if (!repository || (!tag && !digest)) return undefined;
    const registry = asString(image.registry);
    return `${registry ? `${registry}/` : ""}${repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
}

function imagesInValues(value: unknown, path: string, found: ImageUse[], owner: string): void {
    if (Array.isArray(value)) {
        value.forEach((item, i) => imagesInValues(item, `${path}[${i}]`, found, owner));
        return;
    }
    const object = asObject(value);
    if (object === undefined) return;
    for (const [key, child] of Object.entries(object)) {
        const at = `${path}.${key}`;
        if (key === "image" && typeof child === "string" && child !== "") {
            found.push({ where: `${owner} ${at}`, image: child });
        } else if (key === "image" && asObject(child)) {
            const image = valuesImage(child as Props);
            if (image !== undefined) found.push({ where: `${owner} ${at}`, image });
        } else {
            imagesInValues(child, at, found, owner);
        }
    }
}

/** The images a workload's containers or a Helm chart's values name; none for other resources. */
export function imageUses(type: string, props: Props, resourceName: string): ImageUse[] {
    if (type === HELM_CHART_V4) {
        const found: ImageUse[] = [];
        imagesInValues(props.values, "values", found, `Chart ${chartName(props, resourceName)}`);
        return found;
    }
    return workloadContainers(type, props, resourceName).flatMap(({ where, container }) => {
        const image = asString(container.image);
        return image ? [{ where, image }] : [];
    });
}

/** Whether an image runs whatever `latest` is: no tag, or the tag `latest`, and no digest. */
export function isLatest(image: string): boolean {
    const { tag, digest } = parseImage(image);
    return digest === undefined && (tag === undefined || tag === "latest");
}

/** Whether an image is pinned: a digest, or (unless digests are required) a version tag. */
export function isPinned(image: string, requireDigest: boolean): boolean {
    const { tag, digest } = parseImage(image);
    if (digest !== undefined) return DIGEST.test(digest);
    return !requireDigest && tag !== undefined && VERSION_TAG.test(tag);
}

/** No image runs `latest`, said or implied. */
export const noLatestImages: RuleFactory = (enforcementLevel, scope) => ({
    name: scopedName("no-latest-images", scope),
    description: scopedDescription(
        "No container image runs the latest tag, named or implied by a missing tag (a digest pins it).",
        scope,
    ),
    enforcementLevel,
    validateResource: (args, report) => {
        if (!inScope(scope, args.urn)) return;
        for (const { where, image } of imageUses(args.type, args.props, args.name)) {
            if (!isLatest(image)) continue;
            const { tag } = parseImage(image);
            report(
                tag === undefined
                    ? `${where}: image "${image}" has no tag, so it runs whatever latest is`
                    : `${where}: image "${image}" uses the latest tag`,
            );
        }
    },
});

export interface ImagePinningConfig {
    /** Accept only digests, not version tags. */
    requireDigest?: boolean;
}

/** Every image is pinned by a digest or a version tag; with `requireDigest`, by a digest only. */
export const imagesPinned: RuleFactory = (enforcementLevel, scope) => ({
    name: scopedName("images-pinned", scope),
    description: scopedDescription(
        "Container images are pinned by a digest or a version tag (at least major.minor); with requireDigest, " +
            "by a digest only.",
        scope,
    ),
    enforcementLevel,
    configSchema: {
        properties: {
            requireDigest: {
                type: "boolean",
                default: false,
                description: "Accept only images pinned by digest, not by a version tag.",
            },
        },
    },
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (!inScope(scope, args.urn)) return;
        const requireDigest = args.getConfig<ImagePinningConfig>().requireDigest === true;
        for (const { where, image } of imageUses(args.type, args.props, args.name)) {
            if (isPinned(image, requireDigest)) continue;
            report(
                requireDigest
                    ? `${where}: image "${image}" is not pinned by a digest (requireDigest is set)`
                    : `${where}: image "${image}" is not pinned: give a digest or a version tag (at least major.minor)`,
            );
        }
    },
});

// ---------------------------------------------------------------------------------------------
// LoadBalancer Services

const SERVICE = "kubernetes:core/v1:Service";

/**
 * The Services the program may expose outside the cluster, by type: one LoadBalancer or one
 * NodePort per ingest signal, with its port only.
 */
const EXPOSED_TYPES: Readonly<Record<string, (signal: IngestSignal) => string>> = {
    LoadBalancer: loadBalancerServiceName,
    NodePort: nodePortServiceName,
};
const exposedServices = (type: string) =>
    new Map<string, IngestService & { signal: IngestSignal }>(
        INGEST_SIGNALS.map((signal) => [EXPOSED_TYPES[type]?.(signal) ?? "", { signal, ...INGEST[signal] }]),
    );

function portText(port: Props): string {
    const target = port.targetPort ?? port.port;
    return `${String(port.port)}->${String(target)}`;
}

/** What is wrong with a Service of type LoadBalancer or NodePort, as messages; none for anything else. */
export function loadBalancerProblems(type: string, props: Props, resourceName: string): string[] {
    const serviceType = asString(asObject(props.spec)?.type) ?? "";
    if (type !== SERVICE || EXPOSED_TYPES[serviceType] === undefined) return [];
    const where = `Service ${objectName(props, resourceName)}`;
    const name = asString(asObject(props.metadata)?.name) ?? "";
    const allowed = exposedServices(serviceType);
    const ingest = allowed.get(name);
    if (ingest === undefined) {
        return [
            `${where}: type ${serviceType} is reserved for the ingest endpoints (${[...allowed.keys()].join(", ")})`,
        ];
    }
    const ports = asArray(asObject(props.spec)?.ports)
        .map(asObject)
        .filter((p): p is Props => p !== undefined);
    const only = ports[0];
    const exact =
        ports.length === 1 &&
        only !== undefined &&
        only.port === ingest.port &&
        (only.targetPort ?? only.port) === ingest.targetPort;
    if (exact) return [];
    return [
        `${where}: a ${serviceType} for ${ingest.signal} ingest must expose only port ${ingest.port} ` +
            `(target ${ingest.targetPort}), not ${ports.map(portText).join(", ") || "no port"}`,
    ];
}

/** Services of type LoadBalancer exist only for the ingest endpoints, each with its one port. */
export const loadBalancersOnlyForIngest: RuleFactory = (enforcementLevel, scope) => ({
    name: scopedName("load-balancers-only-for-ingest", scope),
    description: scopedDescription(
        "A Service of type LoadBalancer or NodePort is one of the ingest endpoints (<signal>-ingest-lb, " +
            "<signal>-ingest-np) and exposes exactly that signal's ingest port.",
        scope,
    ),
    enforcementLevel,
    validateResource: (args, report) => {
        if (!inScope(scope, args.urn)) return;
        for (const problem of loadBalancerProblems(args.type, args.props, args.name)) report(problem);
    },
});

// ---------------------------------------------------------------------------------------------
// NetworkPolicies

const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

/** The namespaces a stack creates with no NetworkPolicy in them, by URN and name. */
export function namespacesWithoutNetworkPolicy(
    resources: readonly Pick<PolicyResource, "type" | "urn" | "name" | "props">[],
    scope: Scope,
): { urn: string; name: string }[] {
    const covered = new Set(
        resources
            .filter((r) => r.type === NETWORK_POLICY)
            .map((r) => asString(asObject(r.props.metadata)?.namespace))
            .filter((ns): ns is string => ns !== undefined),
    );
    return resources
        .filter((r) => r.type === NAMESPACE && inScope(scope, r.urn))
        .map((r) => ({ urn: r.urn, name: asString(asObject(r.props.metadata)?.name) ?? r.name }))
        .filter((ns) => !covered.has(ns.name));
}

/** Every namespace the stack creates holds at least one NetworkPolicy. */
export const networkPoliciesInNamespaces: RuleFactory = (enforcementLevel, scope) => ({
    name: scopedName("network-policies-in-namespaces", scope),
    description: scopedDescription("Every Namespace the stack creates has at least one NetworkPolicy in it.", scope),
    enforcementLevel,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        for (const ns of namespacesWithoutNetworkPolicy(args.resources, scope)) {
            report(`Namespace ${ns.name} has no NetworkPolicy`, ns.urn);
        }
    },
});

/** Every rule of the pack, in the order they are documented. */
export const RULES: readonly RuleFactory[] = [
    workloadSecurity,
    noSecretMaterial,
    noLatestImages,
    imagesPinned,
    loadBalancersOnlyForIngest,
    networkPoliciesInNamespaces,
];
