import * as fs from "node:fs";
import * as path from "node:path";

import { parse, stringify } from "yaml";

import { ChartCacheError, chartCacheDir, locateCharts, type CachedChart } from "../../render/chart-cache";
import { loadDesiredState, type DesiredState } from "../../render/desired-state/state";
import { locateHelm, type HelmBinary } from "../../render/helm";
import { fixture, projectDir, tempDir } from "../helpers";

/**
 * What the deploy tests share: real Helm, the pinned charts (from `npm run charts`), and the
 * stacks they render, every example and fixture plus variants that cover every exposure kind,
 * storage access mode and remediation mode on both roles.
 */

/** The instant every render decides certificate rotation at, for stable results. */
export const NOW = Date.parse("2026-12-07T06:00:00Z");
/** The Kubernetes version charts are templated for, unless a test says otherwise. */
export const KUBE_VERSION = "1.34.0";

let tools: { helm: HelmBinary; charts: Map<string, CachedChart> } | undefined;

/**
 * Helm and the located charts. Without the charts the deploy tests fail, saying how to get
 * them: they are never skipped.
 */
export function deployTools(): { helm: HelmBinary; charts: Map<string, CachedChart> } {
    if (tools !== undefined) return tools;
    const dir = chartCacheDir(projectDir);
    let charts: Map<string, CachedChart>;
    try {
        charts = locateCharts(dir);
    } catch (err) {
        if (err instanceof ChartCacheError) {
            throw new Error(
                `the deploy tests template the pinned charts, which are not in ${dir}: run \`npm run charts\` ` +
                    `(or set OBSERVABILITY_CHART_DIR to a folder holding them)\n${err.message}`,
            );
        }
        throw err;
    }
    tools = { helm: locateHelm(projectDir), charts };
    return tools;
}

export interface Variant {
    stack: string;
    /** What it covers. */
    covers: string;
    stackFile?: string;
    mainStackFile?: string;
    kubeVersion?: string;
}

type StackFile = { config: Record<string, unknown> };

/** A stack file derived from an example: its config keys replaced or added. */
function derived(base: string, name: string, changes: Record<string, unknown>): string {
    const file = parse(fs.readFileSync(path.join(projectDir, base), "utf8")) as StackFile;
    for (const [key, value] of Object.entries(changes)) file.config[`observability:${key}`] = value;
    const target = path.join(variantsDir(), `Pulumi.${name}.yaml`);
    fs.writeFileSync(target, stringify(file));
    return target;
}

let dir: string | undefined;
function variantsDir(): string {
    dir ??= tempDir("deploy-variants");
    return dir;
}

/** Every stack the deploy tests check. */
export function variants(): Variant[] {
    const mainFile = path.join(projectDir, "Pulumi.main.yaml");
    const exampleMain = parse(fs.readFileSync(mainFile, "utf8")) as StackFile;
    const exposure = exampleMain.config["observability:exposure"] as Record<string, unknown>;
    const storage = exampleMain.config["observability:storage"] as Record<string, unknown>;
    return [
        { stack: "main", covers: "the example main: small, NodePort, filesystem ReadWriteOnce, dry-run" },
        { stack: "sub", covers: "the example sub: small, dry-run" },
        {
            stack: "main-large",
            stackFile: fixture("Pulumi.main-large.yaml"),
            covers: "large, Traefik passthrough, S3, gitops remediation, instrumentation, every receiver kind",
        },
        {
            stack: "main-s3",
            stackFile: fixture("Pulumi.main-s3.yaml"),
            covers: "medium, LoadBalancer, S3 with path-style, another namespace",
        },
        {
            stack: "main-traefik-rwx",
            stackFile: derived("Pulumi.main.yaml", "main-traefik-rwx", {
                exposure: { ...exposure, kind: "traefik-passthrough" },
                storage: { ...storage, accessMode: "ReadWriteMany" },
                remediation: { mode: "scale" },
            }),
            covers: "small, Traefik passthrough, filesystem ReadWriteMany, scale remediation",
        },
        {
            stack: "main-off",
            stackFile: derived("Pulumi.main.yaml", "main-off", {
                profile: "medium",
                remediation: { mode: "off" },
                report: { enabled: false },
            }),
            covers: "medium, filesystem ReadWriteOnce, remediation off, no weekly report",
        },
        {
            stack: "sub-large",
            stackFile: derived("Pulumi.sub.yaml", "sub-large", { profile: "large", remediation: { mode: "scale" } }),
            mainStackFile: mainFile,
            covers: "a large sub with scale remediation",
        },
        { stack: "main", kubeVersion: "1.33.0", covers: "the example main on Kubernetes 1.33" },
        { stack: "sub", kubeVersion: "1.33.0", covers: "the example sub on Kubernetes 1.33" },
    ];
}

const states = new Map<string, Promise<DesiredState>>();

/** A variant's desired state, rendered and templated once per test file. */
export function stateOf(variant: Variant): Promise<DesiredState> {
    const key = `${variant.stack}@${variant.kubeVersion ?? KUBE_VERSION}`;
    let state = states.get(key);
    if (state === undefined) {
        const { helm, charts } = deployTools();
        state = loadDesiredState({
            projectDir,
            stack: variant.stack,
            now: NOW,
            ...(variant.stackFile !== undefined ? { stackFile: variant.stackFile } : {}),
            ...(variant.mainStackFile !== undefined ? { mainStackFile: variant.mainStackFile } : {}),
            template: { helm, charts, kubeVersion: variant.kubeVersion ?? KUBE_VERSION },
        });
        states.set(key, state);
    }
    return state;
}
