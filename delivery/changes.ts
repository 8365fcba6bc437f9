import type { EngineEvent, OpType } from "@pulumi/pulumi/automation";

/**
 * What an operation on one stack changes (or, for a preview, would change), read from the
 * engine's events: one entry per resource, the replacement steps of a resource folded into one
 * `replace`.
 */

export const CHANGE_KINDS = ["create", "update", "replace", "delete"] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface ResourceChange {
    kind: ChangeKind;
    /** The resource type token (`kubernetes:apps/v1:Deployment`). */
    type: string;
    /** The resource's logical name (last URN segment). */
    name: string;
    urn: string;
    /** Top-level properties that differ, when the engine reports them. */
    properties: string[];
}

export interface ChangeSet {
    counts: Record<ChangeKind, number>;
    /** Resources left as they are. */
    same: number;
    /** Sorted by kind, then type, then name. */
    resources: ResourceChange[];
    /** Error diagnostics the engine reported, in order. */
    errors: string[];
}

const KIND_OF: Partial<Record<OpType, ChangeKind>> = {
    create: "create",
    import: "create",
    update: "update",
    delete: "delete",
    discard: "delete",
    replace: "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
    "import-replacement": "replace",
    "discard-replaced": "replace",
};

/** Steps that never change anything. */
const NEUTRAL: ReadonlySet<string> = new Set(["same", "read", "refresh", "remove-pending-replace"]);

const STACK_TYPE = "pulumi:pulumi:Stack";

function nameOf(urn: string): string {
    return urn.split("::").pop() ?? urn;
}

function rank(kind: ChangeKind): number {
    return CHANGE_KINDS.indexOf(kind);
}

function emptyCounts(): Record<ChangeKind, number> {
    return { create: 0, update: 0, replace: 0, delete: 0 };
}

/** Whether two JSON-like values differ. */
function differs(a: unknown, b: unknown): boolean {
    return JSON.stringify(sortKeys(a)) !== JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(
            Object.keys(value)
                .sort()
                .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
        );
    }
    return value;
}

/**
 * A refresh step's change: the engine reports refreshes as `refresh` steps with the state before
 * (`old`) and as read from the cluster (`new`); no `new` means the object is gone.
 */
function refreshChange(
    old: Record<string, unknown> | undefined,
    now: Record<string, unknown> | undefined,
): { kind: ChangeKind; properties: string[] } | undefined {
    if (old === undefined) return undefined;
    if (now === undefined) return { kind: "delete", properties: [] };
    const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])].sort();
    const properties = keys.filter((key) => differs(old[key], now[key]));
    return properties.length > 0 ? { kind: "update", properties } : undefined;
}

/** Two steps on one resource: a replacement wins, a create and a delete make one. */
function merge(a: ChangeKind, b: ChangeKind): ChangeKind {
    if (a === "replace" || b === "replace") return "replace";
    if ((a === "create" && b === "delete") || (a === "delete" && b === "create")) return "replace";
    return b;
}

/** Folds a stream of engine events into the changes it describes. */
export class ChangeCollector {
    private readonly byUrn = new Map<string, ResourceChange>();
    private readonly seen = new Set<string>();
    private readonly errors: string[] = [];

    readonly onEvent = (event: EngineEvent): void => {
        const diagnostic = event.diagnosticEvent;
        if (diagnostic?.severity === "error") this.errors.push(diagnostic.message.trim());
        const step = event.resourcePreEvent?.metadata ?? event.resOutputsEvent?.metadata;
        if (step === undefined || step.type === STACK_TYPE) return;
        this.seen.add(step.urn);
        let kind = KIND_OF[step.op];
        let properties = step.diffs ?? [];
        if (step.op === "refresh" && event.resOutputsEvent !== undefined) {
            const change = refreshChange(step.old?.outputs, step.new?.outputs);
            kind = change?.kind;
            properties = change?.properties ?? [];
        }
        if (kind === undefined) {
            if (!NEUTRAL.has(step.op)) this.errors.push(`unexpected engine step '${step.op}' on ${step.urn}`);
            return;
        }
        const previous = this.byUrn.get(step.urn);
        this.byUrn.set(step.urn, {
            kind: previous === undefined ? kind : merge(previous.kind, kind),
            type: step.type,
            name: nameOf(step.urn),
            urn: step.urn,
            properties: [...new Set([...(previous?.properties ?? []), ...properties])].sort(),
        });
    };

    result(): ChangeSet {
        const resources = [...this.byUrn.values()].sort(
            (a, b) => rank(a.kind) - rank(b.kind) || a.type.localeCompare(b.type) || a.name.localeCompare(b.name),
        );
        const counts = emptyCounts();
        for (const resource of resources) counts[resource.kind] += 1;
        return { counts, same: this.seen.size - resources.length, resources, errors: [...this.errors] };
    }
}

/** Whether a change set changes anything. */
export function hasChanges(changes: ChangeSet): boolean {
    return changes.resources.length > 0;
}
