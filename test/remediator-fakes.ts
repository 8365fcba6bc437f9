import type { LiveWorkload } from "../remediator/decide";
import type { AuditLine } from "../remediator/engine";
import type { EventSpec, KubeApi } from "../remediator/kube";
import type { Settings } from "../remediator/settings";
import type { Evidence, GitHosting, GitopsOutcome, WorkloadRef } from "../remediator/types";

/**
 * In-memory stand-ins for the remediator's collaborators, recording every call: the property
 * and fuzz tests run thousands of polls against them.
 */

export interface FakeWorkload extends WorkloadRef {
    labels: Record<string, string>;
    annotations: Record<string, string>;
    replicas: number;
    resourceVersion: number;
}

export type KubeCall =
    | { op: "get"; ref: WorkloadRef }
    | { op: "annotate"; ref: WorkloadRef; annotations: Record<string, string | null>; resourceVersion?: string }
    | { op: "scale"; ref: WorkloadRef; replicas: number; at: number }
    | { op: "event"; event: EventSpec };

const key = (ref: WorkloadRef) => `${ref.namespace}/${ref.kind}/${ref.name}`;

export class FakeKube implements KubeApi {
    readonly workloads = new Map<string, FakeWorkload>();
    readonly calls: KubeCall[] = [];
    /** Makes the next scale call fail. */
    failNextScale = false;

    constructor(
        workloads: FakeWorkload[] = [],
        private readonly clock: () => number = Date.now,
    ) {
        for (const w of workloads) this.workloads.set(key(w), structuredClone(w));
    }

    async getWorkload(ref: WorkloadRef): Promise<LiveWorkload | undefined> {
        this.calls.push({ op: "get", ref });
        const w = this.workloads.get(key(ref));
        if (w === undefined) return undefined;
        return {
            uid: `uid-${key(ref)}`,
            resourceVersion: String(w.resourceVersion),
            labels: { ...w.labels },
            annotations: { ...w.annotations },
            replicas: w.replicas,
        };
    }

    async annotate(ref: WorkloadRef, annotations: Record<string, string | null>, resourceVersion?: string) {
        this.calls.push({ op: "annotate", ref, annotations, ...(resourceVersion ? { resourceVersion } : {}) });
        const w = this.workloads.get(key(ref));
        if (w === undefined) throw new Error("404");
        if (resourceVersion !== undefined && resourceVersion !== String(w.resourceVersion)) throw new Error("409");
        for (const [k, v] of Object.entries(annotations)) {
            if (v === null) delete w.annotations[k];
            else w.annotations[k] = v;
        }
        w.resourceVersion += 1;
    }

    async scale(ref: WorkloadRef, replicas: number) {
        this.calls.push({ op: "scale", ref, replicas, at: this.clock() });
        if (this.failNextScale) {
            this.failNextScale = false;
            throw new Error("scaling failed: 500");
        }
        const w = this.workloads.get(key(ref));
        if (w === undefined) throw new Error("404");
        w.replicas = replicas;
        w.resourceVersion += 1;
    }

    async createEvent(event: EventSpec) {
        this.calls.push({ op: "event", event });
    }

    writes(): Exclude<KubeCall, { op: "get" | "event" }>[] {
        return this.calls.filter(
            (c): c is Exclude<KubeCall, { op: "get" | "event" }> => c.op === "annotate" || c.op === "scale",
        );
    }
}

export class FakeGit implements GitHosting {
    readonly proposals: { ref: WorkloadRef; evidence: Evidence; at: number }[] = [];
    private readonly open = new Set<string>();

    constructor(private readonly clock: () => number = Date.now) {}

    async proposeScaleToZero(ref: WorkloadRef, evidence: Evidence): Promise<GitopsOutcome> {
        const branch = `remediation/${key(ref)}`;
        if (this.open.has(branch)) return { kind: "already-open", url: `https://git.test/${branch}`, branch };
        this.open.add(branch);
        this.proposals.push({ ref, evidence, at: this.clock() });
        return { kind: "opened", url: `https://git.test/${branch}`, branch };
    }
}

export const RULES: Settings["rules"] = [
    { alert: "NonCriticalWorkloadCPUOverBudget", budget: "cpu", threshold: 2, query: "cpu > 2" },
    { alert: "NonCriticalWorkloadMemoryNearLimit", budget: "memory", threshold: 0.9, query: "memory > 0.9" },
    { alert: "NonCriticalWorkloadRestartStorm", budget: "restarts", threshold: 5, query: "restarts >= 5" },
];

export function testSettings(overrides: Partial<Settings> = {}): Settings {
    return {
        cluster: "edge-a",
        mode: "scale",
        killSwitch: false,
        prometheusUrl: "http://127.0.0.1:9090",
        pollIntervalSeconds: 30,
        optInLabel: { key: "observability/criticality", value: "non-critical" },
        namespaces: [],
        protectedNamespaces: ["kube-node-lease", "kube-public", "kube-system", "observability", "observability-agents"],
        maxActionsPerHour: 3,
        cooldownSeconds: 3600,
        fluxExemption: true,
        rules: RULES,
        port: 0,
        ...overrides,
    };
}

/** One alert as Prometheus' API lists it. */
export function firing(
    ref: WorkloadRef,
    alertname: string,
    value: string,
    activeAt = "2026-01-05T06:00:00Z",
): Record<string, unknown> {
    return {
        labels: {
            alertname,
            namespace: ref.namespace,
            workload: ref.name,
            workload_type: ref.kind.toLowerCase(),
            remediation: "true",
            severity: "warning",
        },
        annotations: { summary: `${ref.name} over budget` },
        state: "firing",
        activeAt,
        value,
    };
}

export function alertsBody(alerts: unknown[]): Record<string, unknown> {
    return { status: "success", data: { alerts } };
}

export function collect(): { lines: AuditLine[]; audit: (line: AuditLine) => void } {
    const lines: AuditLine[] = [];
    return { lines, audit: (line) => lines.push(line) };
}
