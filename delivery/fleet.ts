import * as path from "node:path";

import { validateConfig, type MainConfig, type StackConfig, type SubConfig } from "../config";
import { availableStacks, readStackConfig, StackFileError } from "../render/stack-file";

/**
 * The fleet a repository describes: its stack files, each checked the way the program checks
 * it, put in rollout order (main, then the canary sub, then the other subs by name). Any
 * problem in any stack stops the pipeline before it touches a single stack.
 */

export class FleetError extends Error {
    constructor(readonly problems: string[]) {
        super(
            `the repository's stacks cannot be rolled out (${problems.length} problem(s)):\n  ${problems.join("\n  ")}`,
        );
        this.name = "FleetError";
    }
}

export interface FleetStack {
    /** The stack's name: `Pulumi.<name>.yaml`. */
    name: string;
    role: StackConfig["role"];
    /** `observability:cluster.name`. */
    cluster: string;
    /** Where it stands in the rollout. */
    phase: "main" | "canary" | "sub";
}

/** The last segment of a stack reference (`org/project/stack` or `stack`). */
function stackNameOf(reference: string): string {
    return reference.split("/").pop() ?? reference;
}

/**
 * One cluster, one stack: two stack files naming the same `observability:cluster.name` would
 * deploy one cluster twice from two states (the example Pulumi.sub.yaml kept beside a copy of it,
 * typically). One line per cluster, naming every file.
 */
export function duplicateClusters(stacks: readonly { name: string; config: StackConfig }[]): string[] {
    const byCluster = new Map<string, string[]>();
    for (const stack of stacks) {
        const files = byCluster.get(stack.config.cluster.name) ?? [];
        files.push(`Pulumi.${stack.name}.yaml`);
        byCluster.set(stack.config.cluster.name, files);
    }
    return [...byCluster]
        .filter(([, files]) => files.length > 1)
        .map(
            ([cluster, files]) =>
                `observability:cluster.name: expected one stack file per cluster, found ${files.length} for ` +
                `'${cluster}': ${files.sort().join(", ")}; keep one (a copied example stays a stack until it is deleted)`,
        );
}

/**
 * Reads and orders the repository's stacks. `only` restricts the result to the named stacks
 * (their order stays the rollout's); naming a stack without a file is an error.
 */
export function readFleet(projectDir: string, only: readonly string[] = []): FleetStack[] {
    const problems: string[] = [];
    const mains: { name: string; config: MainConfig }[] = [];
    const subs: { name: string; config: SubConfig }[] = [];
    for (const name of availableStacks(projectDir)) {
        try {
            const file = readStackConfig(projectDir, name);
            const result = validateConfig({ values: file.values, isSecret: (key) => file.secretKeys.includes(key) });
            if ("problems" in result) {
                problems.push(...result.problems.map((line) => `${path.basename(file.file)}: ${line}`));
            } else {
                const config: StackConfig = result.config;
                if (config.role === "main") mains.push({ name, config });
                else subs.push({ name, config });
            }
        } catch (err) {
            if (!(err instanceof StackFileError)) throw err;
            problems.push(err.message);
        }
    }
    if (problems.length > 0) throw new FleetError(problems);

    if (mains.length !== 1) {
        throw new FleetError([
            `expected exactly one stack with observability:role main, found ${mains.length}` +
                (mains.length > 0 ? ` (${mains.map((m) => m.name).join(", ")})` : "") +
                "; one repository describes one fleet",
        ]);
    }
    const duplicates = duplicateClusters([...mains, ...subs]);
    if (duplicates.length > 0) throw new FleetError(duplicates);
    const main = mains[0]!;
    const listed = new Set(main.config.subClusters.map((sub) => sub.name));
    for (const sub of subs) {
        const referenced = stackNameOf(sub.config.mainStack);
        if (referenced !== main.name) {
            problems.push(
                `Pulumi.${sub.name}.yaml: observability:mainStack: expected a reference to this repository's ` +
                    `main stack '${main.name}', found "${sub.config.mainStack}"`,
            );
        }
        if (!listed.has(sub.config.cluster.name)) {
            problems.push(
                `Pulumi.${main.name}.yaml: observability:subClusters: expected an entry for cluster ` +
                    `'${sub.config.cluster.name}' (stack ${sub.name}), found none; main must list a sub before it is deployed`,
            );
        }
    }
    const canaryCluster = main.config.delivery.canary;
    const canary = subs.find((sub) => sub.config.cluster.name === canaryCluster);
    if (canaryCluster !== undefined && canary === undefined) {
        problems.push(
            `Pulumi.${main.name}.yaml: observability:delivery.canary: expected the cluster of a sub stack in this ` +
                `repository, found "${canaryCluster}" (sub stacks: ${subs.map((s) => `${s.name} → ${s.config.cluster.name}`).join(", ") || "none"})`,
        );
    }
    if (problems.length > 0) throw new FleetError(problems);

    const ordered: FleetStack[] = [
        { name: main.name, role: "main", cluster: main.config.cluster.name, phase: "main" },
        ...(canary
            ? [
                  {
                      name: canary.name,
                      role: "sub" as const,
                      cluster: canary.config.cluster.name,
                      phase: "canary" as const,
                  },
              ]
            : []),
        ...subs
            .filter((sub) => sub !== canary)
            .map((sub) => ({
                name: sub.name,
                role: "sub" as const,
                cluster: sub.config.cluster.name,
                phase: "sub" as const,
            })),
    ];
    const unknown = only.filter((name) => !ordered.some((stack) => stack.name === name));
    if (unknown.length > 0) {
        throw new FleetError([
            `--stack: expected one of ${ordered.map((s) => s.name).join(", ")}, found ${unknown.map((u) => `"${u}"`).join(", ")}`,
        ]);
    }
    return only.length === 0 ? ordered : ordered.filter((stack) => only.includes(stack.name));
}
