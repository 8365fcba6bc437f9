import { brickFlows, type BrickFlows, type PortAccess } from "../../components/network/flows";
import {
    ingressAllowed,
    labelSelectorMatches,
    type NetworkPolicyLike,
    type PodView,
    type Source,
} from "./network-policy";
import type { DesiredState, Workload } from "./state";

/**
 * Reachability under the stack's NetworkPolicies, computed from the pods the desired state will
 * run (their labels and container ports) and the flow table: every intended flow is allowed,
 * every selector selects pods that listen on the ports it names, and no store or ingest port,
 * nor any port the table leaves out, is reachable by anyone the table does not name.
 */

export interface PodGroup {
    workload: Workload;
    view: PodView;
}

/** One pod per workload: replicas share labels and ports. */
export function podGroups(state: DesiredState): PodGroup[] {
    return state.workloads.map((workload) => ({
        workload,
        view: {
            name: workload.id,
            namespace: workload.namespace,
            labels: workload.template.metadata.labels,
            hostNetwork: workload.template.spec.hostNetwork === true,
            ports: workload.template.spec.containers.flatMap((c) =>
                (c.ports ?? []).map((p) => ({
                    ...(p.name !== undefined ? { name: p.name } : {}),
                    containerPort: p.containerPort,
                    protocol: p.protocol ?? "TCP",
                })),
            ),
        },
    }));
}

function policiesOf(state: DesiredState): NetworkPolicyLike[] {
    return state.objects
        .filter((e) => e.object.kind === "NetworkPolicy")
        .map((e) => e.object as unknown as NetworkPolicyLike);
}

/** Pods of the core namespace a brick's selector picks. */
export function brickPods(brick: BrickFlows, pods: readonly PodGroup[], namespace: string): PodGroup[] {
    return pods.filter((p) => p.view.namespace === namespace && labelSelectorMatches(brick.selector, p.view.labels));
}

/** A pod of a namespace the stack does not own, like an application's. */
const FOREIGN_POD: Source = {
    kind: "pod",
    pod: { namespace: "applications", labels: { "app.kubernetes.io/name": "some-app" }, ports: [] },
};
const OUTSIDE: Source = { kind: "external", ip: "203.0.113.10" };

function describe(source: Source): string {
    if (source.kind === "pod") return source.pod.name ?? `a pod of namespace ${source.pod.namespace}`;
    return source.kind === "external" ? "outside the cluster" : "a node";
}

export function reachabilityProblems(state: DesiredState): string[] {
    const problems: string[] = [];
    const flows = brickFlows(state.config);
    const pods = podGroups(state);
    const policies = policiesOf(state);
    const namespaces = state.namespaces;
    const core = state.config.namespace;
    const allowed = (target: PodGroup, port: number, protocol: PortAccess["protocol"], source: Source) =>
        ingressAllowed({ policies, namespaces, target: target.view, port, protocol, source }).allowed;

    const members = new Map<string, PodGroup[]>();
    for (const brick of flows) {
        const selected = brickPods(brick, pods, core);
        members.set(brick.id, selected);
        if (selected.length === 0) {
            problems.push(`brick ${brick.id}: its selector selects no pod of the desired state`);
        }
    }
    // Which brick each pod is, to tell intended sources from the rest.
    const brickOf = (pod: PodGroup) => flows.filter((b) => members.get(b.id)?.includes(pod)).map((b) => b.id);

    for (const brick of flows) {
        const targets = members.get(brick.id) ?? [];
        for (const access of brick.ports) {
            const listening = targets.filter((t) =>
                t.view.ports.some((p) => p.containerPort === access.port && (p.protocol ?? "TCP") === access.protocol),
            );
            if (targets.length > 0 && listening.length === 0) {
                problems.push(
                    `brick ${brick.id}: no pod of it listens on ${access.protocol} ${access.port} (${access.what})`,
                );
            }
            const anywhere = access.from.some((p) => "anywhere" in p);
            const clientBricks = new Set(access.from.flatMap((p) => ("brick" in p ? [p.brick] : [])));
            for (const target of listening) {
                // Every intended client gets through.
                for (const peer of access.from) {
                    const sources: Source[] =
                        "anywhere" in peer
                            ? [FOREIGN_POD, OUTSIDE]
                            : (members.get(peer.brick) ?? []).map((p) => ({ kind: "pod", pod: p.view }) as Source);
                    for (const source of sources) {
                        if (!allowed(target, access.port, access.protocol, source)) {
                            problems.push(
                                `${brick.id} ${access.protocol} ${access.port} (${access.what}): the intended client ` +
                                    `${describe(source)} is refused by the policies`,
                            );
                        }
                    }
                }
                if (anywhere) continue;
                // Nobody else: every other pod of the state, other namespaces' pods, the outside.
                const others: Source[] = [
                    ...pods
                        .filter((p) => p !== target && !p.view.hostNetwork)
                        .filter((p) => !brickOf(p).some((id) => clientBricks.has(id)))
                        // A mesh's own pods reach each other on every port, by design.
                        .filter((p) => brick.internal === undefined || !targets.includes(p))
                        .map((p) => ({ kind: "pod", pod: p.view }) as Source),
                    FOREIGN_POD,
                    OUTSIDE,
                ];
                for (const source of others) {
                    if (allowed(target, access.port, access.protocol, source)) {
                        problems.push(
                            `${brick.id} ${access.protocol} ${access.port} (${access.what}, ${access.kind}): ` +
                                `${describe(source)} can connect, which the flow table does not allow`,
                        );
                    }
                }
            }
        }
        // Ports of the brick's pods the table does not name are closed to everyone outside the brick.
        const named = new Set(brick.ports.map((a) => `${a.protocol}/${a.port}`));
        for (const target of targets) {
            for (const port of target.view.ports) {
                const protocol = (port.protocol ?? "TCP") as PortAccess["protocol"];
                if (named.has(`${protocol}/${port.containerPort}`)) continue;
                for (const source of [
                    FOREIGN_POD,
                    OUTSIDE,
                    ...pods
                        .filter((p) => !p.view.hostNetwork && !targets.includes(p))
                        .map((p) => ({ kind: "pod", pod: p.view }) as Source),
                ]) {
                    if (allowed(target, port.containerPort, protocol, source)) {
                        problems.push(
                            `${brick.id}: port ${protocol} ${port.containerPort} (${port.name ?? "unnamed"}), which the flow ` +
                                `table does not name, is reachable from ${describe(source)}`,
                        );
                        break;
                    }
                }
            }
        }
    }
    // Pods of the stack's namespaces that no brick covers are closed entirely.
    for (const pod of pods.filter((p) => !p.view.hostNetwork && namespaces.some((n) => n.name === p.view.namespace))) {
        if (brickOf(pod).length > 0) continue;
        for (const port of pod.view.ports) {
            if (allowed(pod, port.containerPort, (port.protocol ?? "TCP") as PortAccess["protocol"], FOREIGN_POD)) {
                problems.push(
                    `${pod.view.name}: belongs to no brick of the flow table, yet port ${port.containerPort} is open`,
                );
            }
        }
    }
    return problems;
}

/**
 * Prometheus reaches every target its ServiceMonitors and PodMonitors select among the stack's
 * pods: the port each endpoint names, on the pods behind it.
 */
export function scrapeProblems(state: DesiredState): string[] {
    const problems: string[] = [];
    const pods = podGroups(state);
    const policies = policiesOf(state);
    const prometheus = pods.filter((p) => p.view.labels["app.kubernetes.io/name"] === "prometheus");
    if (prometheus.length === 0) return ["no Prometheus pod in the desired state"];
    const services = state.objects.filter((e) => e.object.kind === "Service").map((e) => e.object);
    const stackNamespaces = new Set(state.namespaces.map((n) => n.name));
    for (const entry of state.objects) {
        const o = entry.object;
        if (o.kind !== "ServiceMonitor" && o.kind !== "PodMonitor") continue;
        const spec = o.spec as {
            selector?: { matchLabels?: Record<string, string> };
            namespaceSelector?: { any?: boolean; matchNames?: string[] };
            endpoints?: { port?: string; targetPort?: string | number }[];
            podMetricsEndpoints?: { port?: string; portNumber?: number }[];
        };
        const namespacesOf = spec.namespaceSelector?.any
            ? [...stackNamespaces]
            : (spec.namespaceSelector?.matchNames ?? [o.metadata.namespace ?? ""]);
        const inScope = namespacesOf.filter((n) => stackNamespaces.has(n));
        for (const namespace of inScope) {
            const targets: { pod: PodGroup; port: number; protocol: "TCP" }[] = [];
            if (o.kind === "PodMonitor") {
                for (const pod of pods.filter(
                    (p) => p.view.namespace === namespace && labelSelectorMatches(spec.selector, p.view.labels),
                )) {
                    for (const endpoint of spec.podMetricsEndpoints ?? []) {
                        const port =
                            pod.view.ports.find((p) => p.name === endpoint.port)?.containerPort ?? endpoint.portNumber;
                        if (port === undefined) {
                            problems.push(
                                `${entry.source}: ${o.kind}/${o.metadata.name} names port ${endpoint.port}, which ${pod.view.name} lacks`,
                            );
                        } else targets.push({ pod, port, protocol: "TCP" });
                    }
                }
            } else {
                const selected = services.filter(
                    (s) =>
                        s.metadata.namespace === namespace &&
                        labelSelectorMatches(spec.selector, s.metadata.labels ?? {}),
                );
                for (const service of selected) {
                    const serviceSpec = service.spec as {
                        selector?: Record<string, string>;
                        ports?: { name?: string; port: number; targetPort?: string | number }[];
                    };
                    if (serviceSpec.selector === undefined) continue;
                    const backing = pods.filter(
                        (p) =>
                            p.view.namespace === namespace &&
                            labelSelectorMatches({ matchLabels: serviceSpec.selector }, p.view.labels),
                    );
                    for (const endpoint of spec.endpoints ?? []) {
                        const servicePort = serviceSpec.ports?.find((p) => p.name === endpoint.port);
                        const target = endpoint.targetPort ?? servicePort?.targetPort ?? servicePort?.port;
                        if (target === undefined) continue;
                        for (const pod of backing) {
                            const port =
                                typeof target === "number"
                                    ? target
                                    : pod.view.ports.find((p) => p.name === target)?.containerPort;
                            if (port === undefined) {
                                problems.push(
                                    `${entry.source}: ServiceMonitor/${o.metadata.name} → Service ${service.metadata.name} port ` +
                                        `${String(target)} is not a port of ${pod.view.name}`,
                                );
                            } else targets.push({ pod, port, protocol: "TCP" });
                        }
                    }
                }
            }
            for (const { pod, port, protocol } of targets) {
                if (pod.view.hostNetwork) continue;
                for (const scraper of prometheus) {
                    const decision = ingressAllowed({
                        policies,
                        namespaces: state.namespaces,
                        target: pod.view,
                        port,
                        protocol,
                        source: { kind: "pod", pod: scraper.view },
                    });
                    if (!decision.allowed) {
                        problems.push(
                            `${o.kind}/${o.metadata.name}: Prometheus cannot scrape ${pod.view.name} on ${port}: refused by the policies`,
                        );
                    }
                }
            }
        }
    }
    return problems;
}
