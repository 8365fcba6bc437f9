import { HELM_CHART_V4, type ResourceRecord } from "../mock-engine";
import { groupOf, isBuiltinGroup, objectId, type KObject } from "./manifests";
import type { DesiredState, StateObject } from "./state";

/**
 * Apply order as the engine will see it: a resource is created after everything its explicit
 * dependencies name, after its parent's dependencies (a child waits for its parent, which waits
 * for its own), and transitively so; depending on a Chart v4 waits for every object it makes.
 * Within one chart, Chart v4 creates CRDs before the custom resources of the same chart.
 */

/** Every URN a resource waits for before it is created. */
export function waitsFor(records: readonly ResourceRecord[]): (urn: string) => ReadonlySet<string> {
    const byUrn = new Map(records.map((r) => [r.urn, r]));
    const memo = new Map<string, Set<string>>();
    const visit = (urn: string, path: Set<string>): Set<string> => {
        const known = memo.get(urn);
        if (known !== undefined) return known;
        if (path.has(urn)) return new Set();
        path.add(urn);
        const record = byUrn.get(urn);
        const found = new Set<string>();
        if (record !== undefined) {
            const direct = [...record.options.dependsOn];
            if (record.parent !== undefined) {
                // The parent's own dependencies, through its registration.
                for (const d of visit(record.parent, path)) found.add(d);
            }
            for (const dep of direct) {
                found.add(dep);
                for (const d of visit(dep, path)) found.add(d);
            }
        }
        path.delete(urn);
        memo.set(urn, found);
        return found;
    };
    return (urn) => visit(urn, new Set());
}

/** Who installs each custom resource kind (`group/Kind`) of the stack: the chart or program resource. */
export function crdInstallers(state: DesiredState): Map<string, StateObject> {
    const installers = new Map<string, StateObject>();
    for (const entry of state.objects) {
        if (entry.object.kind !== "CustomResourceDefinition") continue;
        const spec = entry.object.spec as { group: string; names: { kind: string } };
        installers.set(`${spec.group}/${spec.names.kind}`, entry);
    }
    return installers;
}

export function isCustomResource(o: KObject): boolean {
    return !isBuiltinGroup(groupOf(o.apiVersion));
}

export interface OrderFindings {
    problems: string[];
    /** Custom resources whose CRD the stack does not install: what the cluster must already serve. */
    prerequisites: string[];
}

/** Every custom resource ordered after its CRD; every chart templated after the CRDs it gates objects on. */
export function applyOrderFindings(state: DesiredState): OrderFindings {
    const before = waitsFor(state.render.records);
    const installers = crdInstallers(state);
    const problems: string[] = [];
    const prerequisites = new Set<string>();
    for (const entry of state.objects) {
        const o = entry.object;
        if (!isCustomResource(o)) continue;
        const kind = `${groupOf(o.apiVersion)}/${o.kind}`;
        const installer = installers.get(kind);
        if (installer === undefined) {
            prerequisites.add(`${o.apiVersion}/${o.kind}`);
            continue;
        }
        if (installer.urn === entry.urn) continue;
        if (!before(entry.urn).has(installer.urn)) {
            problems.push(
                `${entry.source}: ${objectId(o)} may be created before its CRD (${kind}, from ${installer.source}): ` +
                    `nothing orders ${entry.source} after ${installer.source}`,
            );
        }
    }
    // Objects a chart renders only when a CRD is served are missing on a first `up` unless the
    // chart is templated after the CRD's installer is done.
    for (const chart of state.charts) {
        const firstUp = new Set(chart.firstUp.map(objectId));
        for (const o of chart.objects.filter((x) => !firstUp.has(objectId(x)))) {
            const installer = installers.get(`${groupOf(o.apiVersion)}/${o.kind}`);
            const ordered = installer !== undefined && before(chart.record.urn).has(installer.urn);
            if (!ordered) {
                problems.push(
                    `${chart.record.name}: ${objectId(o)} is rendered only when its API is served, and on a first ` +
                        "`pulumi up` the chart is templated before that: the object would be missing",
                );
            }
        }
    }
    return { problems, prerequisites: [...prerequisites].sort() };
}

/** The Chart v4 records of the program. */
export function chartRecords(records: readonly ResourceRecord[]): ResourceRecord[] {
    return records.filter((r) => r.type === HELM_CHART_V4);
}
