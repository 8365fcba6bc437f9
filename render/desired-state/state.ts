import { namespaceSpecs } from "../../components/core/namespaces";
import { validateConfig, type StackConfig } from "../../config";
import { reveal, type ResourceRecord } from "../mock-engine";
import { renderStack, type RenderOptions, type RenderResult } from "../render";
import { readStackConfig } from "../stack-file";
import { templateCharts, typeTokenGvk, type ChartRender, type KObject, type TemplateOptions } from "./manifests";
import { podTemplateOf, type PodTemplateLike } from "./pod-security";

/**
 * A stack's complete desired state, as the deploy tests check it: the program's own Kubernetes
 * objects, every object its charts make, and the pods that will run, including those the
 * Prometheus operator creates from the Prometheus and Alertmanager resources.
 */

export interface StateObject {
    object: KObject;
    /** `program` or the Chart v4 resource that makes it. */
    source: string;
    /** The URN whose ordering the object follows: its own, or its chart's. */
    urn: string;
}

export interface PodContainer {
    name: string;
    image?: string;
    ports?: { name?: string; containerPort: number; protocol?: "TCP" | "UDP" | "SCTP" }[];
    resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
    [key: string]: unknown;
}

export interface Workload {
    /** `Deployment/observability/thanos-query`, or `Pod/<ns>/<statefulset>` for operator-made pods. */
    id: string;
    namespace: string;
    /** Pods per cluster; for a DaemonSet, pods per node. */
    replicas: number;
    perNode: boolean;
    template: PodTemplateLike & {
        metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
        spec: { containers: PodContainer[]; initContainers?: PodContainer[]; [key: string]: unknown };
    };
    /** Who makes the pods: the object's source, or the operator. */
    madeBy: string;
}

export interface DesiredState {
    stack: string;
    config: StackConfig;
    render: RenderResult;
    charts: ChartRender[];
    objects: StateObject[];
    workloads: Workload[];
    /** The namespaces the stack creates, with their labels. */
    namespaces: { name: string; labels: Record<string, string> }[];
}

/** The Kubernetes object a program record declares, secrets revealed, or undefined for other resources. */
export function programObject(record: ResourceRecord): KObject | undefined {
    const gvk = typeTokenGvk(record.type);
    if (gvk === undefined || !record.custom) return undefined;
    const inputs = reveal(record.inputs) as Record<string, unknown>;
    const metadata = (inputs.metadata ?? {}) as KObject["metadata"];
    return { ...inputs, apiVersion: gvk.apiVersion, kind: gvk.kind, metadata } as KObject;
}

/** The Prometheus operator's image flags and reloader resources, from its templated Deployment. */
interface OperatorDefaults {
    reloaderImage?: string;
    thanosImage?: string;
    reloaderResources: NonNullable<PodContainer["resources"]>;
}

function operatorDefaults(objects: readonly KObject[]): OperatorDefaults {
    const operator = objects.find(
        (o) =>
            o.kind === "Deployment" &&
            (
                o.spec as { template?: { spec?: { containers?: { args?: string[] }[] } } }
            ).template?.spec?.containers?.some((c) =>
                c.args?.some((a) => a.startsWith("--prometheus-config-reloader")),
            ),
    );
    const args = ((operator?.spec as { template: { spec: { containers: { args?: string[] }[] } } } | undefined)
        ?.template.spec.containers[0]?.args ?? []) as string[];
    const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
    const quantity = (name: string) => {
        const value = flag(name);
        return value === undefined || value === "0" ? undefined : value;
    };
    const pick = (entries: [string, string | undefined][]) =>
        Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined));
    return {
        ...(flag("prometheus-config-reloader") !== undefined
            ? { reloaderImage: flag("prometheus-config-reloader") }
            : {}),
        ...(flag("thanos-default-base-image") !== undefined ? { thanosImage: flag("thanos-default-base-image") } : {}),
        reloaderResources: {
            requests: pick([
                ["cpu", quantity("config-reloader-cpu-request")],
                ["memory", quantity("config-reloader-memory-request")],
            ]),
            limits: pick([
                ["cpu", quantity("config-reloader-cpu-limit")],
                ["memory", quantity("config-reloader-memory-limit")],
            ]),
        },
    };
}

/** Container securityContext the operator gives every container of its pods. */
const OPERATOR_CONTAINER_SECURITY = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
};

interface OperatedSpec {
    replicas?: number;
    image?: string;
    podMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    resources?: PodContainer["resources"];
    securityContext?: Record<string, unknown>;
    serviceAccountName?: string;
    volumes?: unknown[];
    affinity?: unknown;
    thanos?: { image?: string; resources?: PodContainer["resources"] };
    portName?: string;
}

/**
 * The pods the operator makes from a Prometheus or Alertmanager resource: labels, containers,
 * ports and defaults as prometheus-operator v0.93 sets them (docs/decisions.md).
 */
export function operatedWorkload(object: KObject, defaults: OperatorDefaults, source: string): Workload | undefined {
    if (object.apiVersion !== "monitoring.coreos.com/v1") return undefined;
    const spec = (object.spec ?? {}) as OperatedSpec;
    const name = object.metadata.name;
    const namespace = object.metadata.namespace ?? "default";
    const reloader = (port: number, portName: string): PodContainer => ({
        name: "config-reloader",
        ...(defaults.reloaderImage !== undefined ? { image: defaults.reloaderImage } : {}),
        ports: [{ name: portName, containerPort: port, protocol: "TCP" }],
        resources: defaults.reloaderResources,
        securityContext: OPERATOR_CONTAINER_SECURITY,
    });
    const main = (container: string, ports: NonNullable<PodContainer["ports"]>): PodContainer => ({
        name: container,
        ...(spec.image !== undefined ? { image: spec.image } : {}),
        ports,
        ...(spec.resources !== undefined ? { resources: spec.resources } : {}),
        securityContext: OPERATOR_CONTAINER_SECURITY,
    });
    const common = {
        namespace,
        replicas: spec.replicas ?? 1,
        perNode: false,
        madeBy: `prometheus-operator (from ${source})`,
    };
    const podSpec = (containers: PodContainer[]) => ({
        containers,
        initContainers: [{ ...reloader(8081, "reloader-init"), name: "init-config-reloader" }],
        ...(spec.securityContext !== undefined ? { securityContext: spec.securityContext } : {}),
        ...(spec.serviceAccountName !== undefined ? { serviceAccountName: spec.serviceAccountName } : {}),
        ...(spec.volumes !== undefined ? { volumes: spec.volumes } : {}),
        ...(spec.affinity !== undefined ? { affinity: spec.affinity } : {}),
    });
    const portName = spec.portName ?? "web";
    if (object.kind === "Prometheus") {
        const containers = [
            main("prometheus", [{ name: portName, containerPort: 9090, protocol: "TCP" }]),
            reloader(8080, "reloader-web"),
        ];
        if (spec.thanos !== undefined) {
            containers.push({
                name: "thanos-sidecar",
                ...((spec.thanos.image ?? defaults.thanosImage)
                    ? { image: spec.thanos.image ?? defaults.thanosImage }
                    : {}),
                ports: [
                    { name: "http", containerPort: 10902, protocol: "TCP" },
                    { name: "grpc", containerPort: 10901, protocol: "TCP" },
                ],
                ...(spec.thanos.resources !== undefined ? { resources: spec.thanos.resources } : {}),
                securityContext: OPERATOR_CONTAINER_SECURITY,
            });
        }
        return {
            ...common,
            id: `Pod/${namespace}/prometheus-${name}`,
            template: {
                metadata: {
                    labels: {
                        ...spec.podMetadata?.labels,
                        "app.kubernetes.io/instance": name,
                        "app.kubernetes.io/managed-by": "prometheus-operator",
                        "app.kubernetes.io/name": "prometheus",
                        "operator.prometheus.io/name": name,
                        "operator.prometheus.io/shard": "0",
                        prometheus: name,
                    },
                    ...(spec.podMetadata?.annotations !== undefined
                        ? { annotations: spec.podMetadata.annotations }
                        : {}),
                },
                spec: podSpec(containers),
            },
        };
    }
    if (object.kind === "Alertmanager") {
        return {
            ...common,
            id: `Pod/${namespace}/alertmanager-${name}`,
            template: {
                metadata: {
                    labels: {
                        ...spec.podMetadata?.labels,
                        alertmanager: name,
                        "app.kubernetes.io/instance": name,
                        "app.kubernetes.io/managed-by": "prometheus-operator",
                        "app.kubernetes.io/name": "alertmanager",
                    },
                },
                spec: podSpec([
                    main("alertmanager", [
                        { name: portName, containerPort: 9093, protocol: "TCP" },
                        { name: "mesh-tcp", containerPort: 9094, protocol: "TCP" },
                        { name: "mesh-udp", containerPort: 9094, protocol: "UDP" },
                    ]),
                    reloader(8080, "reloader-web"),
                ]),
            },
        };
    }
    return undefined;
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"]);

/** The pods of a workload object of the desired state. */
export function workloadOf(state: StateObject): Workload | undefined {
    const o = state.object;
    if (!WORKLOAD_KINDS.has(o.kind)) return undefined;
    const template = podTemplateOf(o) as Workload["template"] | undefined;
    if (template === undefined) return undefined;
    const spec = (o.spec ?? {}) as { replicas?: number; parallelism?: number };
    return {
        id: `${o.kind}/${o.metadata.namespace ?? "default"}/${o.metadata.name}`,
        namespace: o.metadata.namespace ?? "default",
        replicas:
            o.kind === "DaemonSet" ? 1 : o.kind === "Deployment" || o.kind === "StatefulSet" ? (spec.replicas ?? 1) : 1,
        perNode: o.kind === "DaemonSet",
        template: {
            ...template,
            metadata: {
                ...template.metadata,
                labels: template.metadata?.labels ?? {},
            } as Workload["template"]["metadata"],
        },
        madeBy: state.source,
    };
}

/** The desired state of an already rendered stack. */
export function desiredState(
    stack: string,
    config: StackConfig,
    render: RenderResult,
    options: TemplateOptions,
): DesiredState {
    const charts = templateCharts(render.records, options);
    const objects: StateObject[] = [];
    for (const record of render.records) {
        const object = programObject(record);
        if (object !== undefined) objects.push({ object, source: "program", urn: record.urn });
    }
    for (const chart of charts) {
        for (const object of chart.objects) objects.push({ object, source: chart.record.name, urn: chart.record.urn });
    }
    const defaults = operatorDefaults(charts.flatMap((c) => c.objects));
    const workloads: Workload[] = [];
    for (const state of objects) {
        const workload = workloadOf(state) ?? operatedWorkload(state.object, defaults, state.source);
        if (workload !== undefined) workloads.push(workload);
    }
    return {
        stack,
        config,
        render,
        charts,
        objects,
        workloads,
        namespaces: namespaceSpecs(config.namespace, config.cluster.name).map((n) => ({
            name: n.name,
            labels: { ...n.labels, "kubernetes.io/metadata.name": n.name },
        })),
    };
}

/** A stack's validated configuration, from its stack file. */
export function stackFileConfig(projectDir: string, stack: string, stackFile?: string): StackConfig {
    const file = readStackConfig(projectDir, stack, stackFile);
    const result = validateConfig({ values: file.values, isSecret: (key) => file.secretKeys.includes(key) });
    if (!("config" in result)) throw new Error(`${file.file}:\n${result.problems.join("\n")}`);
    return result.config;
}

/** Renders a stack under the mock engine and templates its charts. */
export async function loadDesiredState(options: RenderOptions & { template: TemplateOptions }): Promise<DesiredState> {
    const config = stackFileConfig(options.projectDir, options.stack, options.stackFile);
    const render = await renderStack(options);
    return desiredState(options.stack, config, render, options.template);
}
