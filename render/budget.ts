import { budget, type Profile } from "../components/core/resources";

const PROFILES: Profile[] = ["small", "medium", "large"];
const TARGETS = {
    sub: { cluster: { millicores: 1000, mebibytes: 1536 }, perNode: { millicores: 150, mebibytes: 256 } },
    main: { millicores: 3000, mebibytes: 6144 },
};

const cpu = (m: number) => `${(m / 1000).toFixed(2)} vCPU`;
const mem = (mi: number) => `${(mi / 1024).toFixed(2)} GiB`;
const memPerNode = (mi: number) => `${mi.toFixed(0)} MiB`;

/**
 * The resource section of docs/benchmarks.md: requests summed per role and profile from the
 * profile table (components/core/resources.ts), against the small profile's targets.
 */
export function budgetSection(): string {
    const rows: string[] = [];
    for (const role of ["sub", "main"] as const) {
        for (const profile of PROFILES) {
            const b = budget(role, profile);
            rows.push(
                `| ${role} | ${profile} | ${cpu(b.cluster.millicores)} | ${mem(b.cluster.mebibytes)} | ` +
                    `${b.perNode.millicores}m | ${memPerNode(b.perNode.mebibytes)} |`,
            );
        }
    }
    const sub = budget("sub", "small");
    const main = budget("main", "small");
    const subMet =
        sub.cluster.millicores <= TARGETS.sub.cluster.millicores &&
        sub.cluster.mebibytes <= TARGETS.sub.cluster.mebibytes &&
        sub.perNode.millicores <= TARGETS.sub.perNode.millicores &&
        sub.perNode.mebibytes <= TARGETS.sub.perNode.mebibytes;
    const mainCpu = main.cluster.millicores + main.perNode.millicores;
    const mainMem = main.cluster.mebibytes + main.perNode.mebibytes;
    const mainMet = mainCpu <= TARGETS.main.millicores && mainMem <= TARGETS.main.mebibytes;
    return [
        "<!-- resource-budget:start -->",
        "| role | profile | requests per cluster: CPU | memory | per node: CPU | memory |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        ...rows,
        "",
        `- sub, small: ${cpu(sub.cluster.millicores)} and ${mem(sub.cluster.mebibytes)} plus ` +
            `${sub.perNode.millicores}m and ${memPerNode(sub.perNode.mebibytes)} per node ` +
            `(target at most 1 vCPU and 1.5 GiB plus 150m and 256 MiB per node): ${subMet ? "met" : "**missed**"}`,
        `- main, small, one node: ${cpu(mainCpu)} and ${mem(mainMem)} (target at most 3 vCPU and 6 GiB): ` +
            (mainMet ? "met" : "**missed**"),
        "<!-- resource-budget:end -->",
    ].join("\n");
}

const MARKERS = /<!-- resource-budget:start -->[\s\S]*<!-- resource-budget:end -->/;

/** The document with its resource section replaced; throws when the markers are missing. */
export function withBudgetSection(doc: string): string {
    if (!MARKERS.test(doc)) throw new Error("docs/benchmarks.md has no resource-budget markers");
    return doc.replace(MARKERS, budgetSection());
}
