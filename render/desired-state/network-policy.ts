/**
 * An evaluator of Kubernetes NetworkPolicy ingress semantics (networking.k8s.io/v1): from a
 * cluster's desired state, whether a source may open a connection to a port of a pod, and which
 * policies decide it.
 */

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

/** A pod as the evaluator sees it. */
export interface PodView {
    namespace: string;
    /** The pod's labels. */
    labels: Record<string, string>;
    /** Its container ports, for named-port matching. */
    ports: { name?: string; containerPort: number; protocol?: "TCP" | "UDP" | "SCTP" }[];
    /** Pods on the host network are not selected by pod selectors as sources or destinations in the common CNIs. */
    hostNetwork?: boolean;
    /** Optional, for human-readable reasons. */
    name?: string;
}

export interface NamespaceView {
    name: string;
    labels: Record<string, string>;
}

/** Where a connection comes from. */
export type Source =
    | { kind: "pod"; pod: PodView }
    // The node itself or a host-network pod: not a pod to selectors; matches ipBlock only given its ip.
    | { kind: "node"; ip?: string }
    // Outside the cluster (a LoadBalancer's traffic, another cluster).
    | { kind: "external"; ip?: string };

export interface NetworkPolicyLike {
    metadata: { name: string; namespace: string };
    spec: Record<string, unknown>;
}

export interface IngressDecision {
    allowed: boolean;
    /** "no policy selects the pod" or the names of the policies whose rules allow it, or of those that isolate it when refused. */
    reasons: string[];
}

export type Protocol = "TCP" | "UDP" | "SCTP";

/** The label the API server sets on every namespace, whatever else the desired state says. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export const NOT_ISOLATED = "no policy selects the pod";
export const HOST_NETWORK_TARGET = "host network: not subject to NetworkPolicy";

/**
 * Whether a label selector matches a set of labels: every matchLabels pair and every
 * matchExpressions requirement must hold. An empty selector matches everything; so does an absent
 * one, because an omitted spec.podSelector deserializes to the empty selector (peers check for
 * absence themselves before calling this).
 */
export function labelSelectorMatches(
    selector: LabelSelector | undefined | null,
    labels: Record<string, string>,
): boolean {
    if (selector == null) return true;
    for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
        if (!hasLabel(labels, key) || labels[key] !== value) return false;
    }
    for (const expression of selector.matchExpressions ?? []) {
        const present = hasLabel(labels, expression.key);
        const values = expression.values ?? [];
        switch (expression.operator) {
            case "In":
                if (!present || !values.includes(labels[expression.key] ?? "")) return false;
                break;
            case "NotIn":
                if (present && values.includes(labels[expression.key] ?? "")) return false;
                break;
            case "Exists":
                if (!present) return false;
                break;
            case "DoesNotExist":
                if (present) return false;
                break;
            default:
                throw new Error(`label selector: unknown operator ${JSON.stringify(expression.operator)}`);
        }
    }
    return true;
}

function hasLabel(labels: Record<string, string>, key: string): boolean {
    return Object.prototype.hasOwnProperty.call(labels, key);
}

/**
 * Whether ingress to a pod is allowed: a pod no ingress policy of its namespace selects accepts
 * everything; an isolated one accepts what at least one rule of one selecting policy allows.
 */
export function ingressAllowed(input: {
    policies: readonly NetworkPolicyLike[];
    namespaces: readonly NamespaceView[];
    target: PodView;
    port: number;
    protocol?: Protocol;
    source: Source;
}): IngressDecision {
    const { target, port } = input;
    const protocol = input.protocol ?? "TCP";
    // The common CNIs (Calico, Cilium, kube-router...) enforce policies on pod network interfaces,
    // which host-network pods do not have.
    if (target.hostNetwork) return { allowed: true, reasons: [HOST_NETWORK_TARGET] };

    const isolating = input.policies.filter(
        (p) =>
            p.metadata.namespace === target.namespace &&
            policyTypes(p.spec).includes("Ingress") &&
            labelSelectorMatches(selectorOf(p.spec["podSelector"], "spec.podSelector"), target.labels),
    );
    if (isolating.length === 0) return { allowed: true, reasons: [NOT_ISOLATED] };

    const source = normalizeSource(input.source);
    const namespaceLabels = (name: string) => namespaceLabelsOf(input.namespaces, name);
    const allowing = isolating.filter((p) =>
        asArray(p.spec["ingress"], "spec.ingress").some((rule) => {
            const r = asRecord(rule, "spec.ingress[]");
            return (
                fromMatches(r["from"], source, p.metadata.namespace, namespaceLabels) &&
                portsMatch(r["ports"], target, port, protocol)
            );
        }),
    );
    if (allowing.length > 0) return { allowed: true, reasons: allowing.map((p) => p.metadata.name) };
    return { allowed: false, reasons: isolating.map((p) => p.metadata.name) };
}

/**
 * spec.policyTypes with the API's defaulting: an absent or empty list means Ingress, plus Egress
 * when spec.egress is set.
 */
function policyTypes(spec: Record<string, unknown>): string[] {
    const declared = asArray(spec["policyTypes"], "spec.policyTypes").map((t) => String(t));
    if (declared.length > 0) return declared;
    return spec["egress"] === undefined ? ["Ingress"] : ["Ingress", "Egress"];
}

type NormalizedSource = { kind: "pod"; pod: PodView } | { kind: "node" | "external"; ip?: string };

/**
 * Host-network pods share the node's network namespace, so the common CNIs cannot tell them from
 * the node and no pod selector matches them. This is CNI-dependent; it is the conservative
 * reading, and their ip is unknown here, so they match no ipBlock either.
 */
function normalizeSource(source: Source): NormalizedSource {
    if (source.kind === "pod" && source.pod.hostNetwork) return { kind: "node" };
    return source;
}

function namespaceLabelsOf(namespaces: readonly NamespaceView[], name: string): Record<string, string> {
    const known = namespaces.find((n) => n.name === name);
    return { ...(known?.labels ?? {}), [NAMESPACE_NAME_LABEL]: name };
}

function fromMatches(
    from: unknown,
    source: NormalizedSource,
    policyNamespace: string,
    namespaceLabels: (name: string) => Record<string, string>,
): boolean {
    const peers = asArray(from, "spec.ingress[].from");
    if (peers.length === 0) return true;
    return peers.some((peer) =>
        peerMatches(asRecord(peer, "spec.ingress[].from[]"), source, policyNamespace, namespaceLabels),
    );
}

function peerMatches(
    peer: Record<string, unknown>,
    source: NormalizedSource,
    policyNamespace: string,
    namespaceLabels: (name: string) => Record<string, string>,
): boolean {
    const podSelector = selectorOf(peer["podSelector"], "from[].podSelector");
    const namespaceSelector = selectorOf(peer["namespaceSelector"], "from[].namespaceSelector");
    const ipBlock = peer["ipBlock"];
    if (ipBlock !== undefined && ipBlock !== null) {
        // The API rejects a peer mixing ipBlock with selectors; refuse rather than guess.
        if (podSelector !== undefined || namespaceSelector !== undefined) return false;
        return ipBlockMatches(asRecord(ipBlock, "from[].ipBlock"), source);
    }
    // A peer with no field at all is rejected by the API too.
    if (podSelector === undefined && namespaceSelector === undefined) return false;
    if (source.kind !== "pod") return false;
    const pod = source.pod;
    const namespaceOk =
        namespaceSelector === undefined
            ? pod.namespace === policyNamespace
            : labelSelectorMatches(namespaceSelector, namespaceLabels(pod.namespace));
    return namespaceOk && labelSelectorMatches(podSelector, pod.labels);
}

function ipBlockMatches(block: Record<string, unknown>, source: NormalizedSource): boolean {
    if (source.kind === "pod" || source.ip === undefined) return false;
    const cidr = block["cidr"];
    if (typeof cidr !== "string") throw new Error(`ipBlock: cidr must be a string, got ${JSON.stringify(cidr)}`);
    const ip = source.ip;
    if (!cidrContains(cidr, ip)) return false;
    return !asArray(block["except"], "ipBlock.except").some((e) => {
        if (typeof e !== "string") throw new Error(`ipBlock: except entries must be strings, got ${JSON.stringify(e)}`);
        return cidrContains(e, ip);
    });
}

function portsMatch(ports: unknown, target: PodView, port: number, protocol: Protocol): boolean {
    const entries = asArray(ports, "spec.ingress[].ports");
    if (entries.length === 0) return true;
    return entries.some((entry) => portEntryMatches(asRecord(entry, "spec.ingress[].ports[]"), target, port, protocol));
}

function portEntryMatches(entry: Record<string, unknown>, target: PodView, port: number, protocol: Protocol): boolean {
    if ((entry["protocol"] ?? "TCP") !== protocol) return false;
    const rulePort = entry["port"];
    const endPort = entry["endPort"];
    if (rulePort === undefined || rulePort === null) {
        // The API rejects endPort without port.
        return endPort === undefined || endPort === null;
    }
    if (typeof rulePort === "number") {
        if (endPort === undefined || endPort === null) return port === rulePort;
        if (typeof endPort !== "number")
            throw new Error(`ports[].endPort must be a number, got ${JSON.stringify(endPort)}`);
        return port >= rulePort && port <= endPort;
    }
    if (typeof rulePort === "string") {
        // The API rejects endPort with a named port.
        if (endPort !== undefined && endPort !== null) return false;
        return target.ports.some(
            (p) => p.name === rulePort && p.containerPort === port && (p.protocol ?? "TCP") === protocol,
        );
    }
    throw new Error(`ports[].port must be a number or a name, got ${JSON.stringify(rulePort)}`);
}

function selectorOf(value: unknown, where: string): LabelSelector | undefined {
    if (value === undefined || value === null) return undefined;
    return asRecord(value, where) as LabelSelector;
}

function asArray(value: unknown, where: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new Error(`${where} must be a list, got ${JSON.stringify(value)}`);
    return value;
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new Error(`${where} must be an object, got ${JSON.stringify(value)}`);
    }
    return value as Record<string, unknown>;
}

/** An IP address as its family and its value as an unsigned integer of 32 or 128 bits. */
export interface ParsedIp {
    family: 4 | 6;
    value: bigint;
}

/** Parses a dotted-quad IPv4 or a textual IPv6 address (with "::" and a trailing dotted quad); throws otherwise. */
export function parseIp(text: string): ParsedIp {
    const v4 = parseIpv4(text);
    if (v4 !== undefined) return { family: 4, value: v4 };
    const v6 = parseIpv6(text);
    if (v6 !== undefined) return { family: 6, value: v6 };
    throw new Error(`not an IP address: ${JSON.stringify(text)}`);
}

function parseIpv4(text: string): bigint | undefined {
    const parts = text.split(".");
    if (parts.length !== 4) return undefined;
    let value = 0n;
    for (const part of parts) {
        // Leading zeros are rejected, as Kubernetes validation does, since some parsers read them as octal.
        if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
        const octet = Number(part);
        if (octet > 255) return undefined;
        value = (value << 8n) | BigInt(octet);
    }
    return value;
}

function parseIpv6(text: string): bigint | undefined {
    const halves = text.split("::");
    if (halves.length > 2) return undefined;
    const groupsOf = (part: string): number[] | undefined => {
        if (part === "") return [];
        const out: number[] = [];
        const pieces = part.split(":");
        for (const [i, piece] of pieces.entries()) {
            if (i === pieces.length - 1 && piece.includes(".")) {
                const v4 = parseIpv4(piece);
                if (v4 === undefined) return undefined;
                out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
            } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
                out.push(parseInt(piece, 16));
            } else {
                return undefined;
            }
        }
        return out;
    };
    const head = groupsOf(halves[0] ?? "");
    const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
    if (head === undefined || tail === undefined) return undefined;
    // An embedded dotted quad is only allowed at the very end.
    if (halves.length === 2 && (halves[0] ?? "").includes(".")) return undefined;
    let groups: number[];
    if (halves.length === 2) {
        const missing = 8 - head.length - tail.length;
        if (missing < 1) return undefined;
        groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
    } else {
        if (head.length !== 8) return undefined;
        groups = head;
    }
    return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses "address/prefix"; host bits under the prefix are ignored. */
export function parseCidr(text: string): ParsedIp & { prefix: number } {
    const slash = text.indexOf("/");
    if (slash < 0) throw new Error(`not a CIDR: ${JSON.stringify(text)}`);
    const address = parseIp(text.slice(0, slash));
    const prefixText = text.slice(slash + 1);
    const width = address.family === 4 ? 32 : 128;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > width) {
        throw new Error(`not a CIDR: ${JSON.stringify(text)}`);
    }
    return { ...address, prefix: Number(prefixText) };
}

/**
 * Whether an address lies in a CIDR block. Families never mix: an IPv4-mapped IPv6 address is not
 * in an IPv4 block.
 */
export function cidrContains(cidr: string, ip: string): boolean {
    const block = parseCidr(cidr);
    const address = parseIp(ip);
    if (block.family !== address.family) return false;
    const shift = BigInt((block.family === 4 ? 32 : 128) - block.prefix);
    return block.value >> shift === address.value >> shift;
}
