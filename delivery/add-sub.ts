import * as fs from "node:fs";
import * as path from "node:path";

import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap } from "yaml";

import { DNS_LABEL } from "../config/formats";
import { NAMESPACE } from "../config/namespace";
import { availableStacks, readProjectName, readStackConfig, StackFileError } from "../render/stack-file";

/**
 * Growing a fleet by one sub cluster: the new stack file, written from the example sub stack
 * with every value that must change marked, and the sub listed in main's `subClusters`.
 * Stack files are edited as YAML documents, so their comments stay.
 */

/** The comment that marks a value the operator must change before deploying. */
export const CHANGE_MARK = "CHANGE:";

export class FleetSetupError extends Error {}

/** A DNS-1123 label: what `observability:cluster.name` accepts. */
const CLUSTER_NAME = DNS_LABEL;

const key = (name: string) => `${NAMESPACE}:${name}`;

/** How the example stack files are laid out (and Prettier keeps them). */
const YAML_STYLE = { indent: 4, lineWidth: 0, flowCollectionPadding: false } as const;

function stackRole(projectDir: string, stack: string): { role: unknown; cluster: unknown } {
    const file = readStackConfig(projectDir, stack);
    const json = (name: string): unknown => {
        const raw = file.values[key(name)];
        if (raw === undefined) return undefined;
        try {
            return JSON.parse(raw);
        } catch {
            return raw;
        }
    };
    return { role: json("role"), cluster: (json("cluster") as { name?: unknown } | undefined)?.name };
}

export interface AddSubOptions {
    projectDir: string;
    /** `observability:cluster.name` of the new sub. */
    cluster: string;
    /** The stack name; defaults to the cluster name. */
    stack?: string;
    /** The stack file written from; defaults to the example, Pulumi.sub.yaml. */
    template?: string;
    /**
     * The organization part of the StackReference to main: the Pulumi Cloud organization, or
     * `organization` on a self-managed backend. Unset: the template's, marked to change.
     */
    organization?: string;
}

export interface AddSubResult {
    stack: string;
    file: string;
    mainStack: string;
    mainFile: string;
    /** Whether main's `subClusters` had to be extended (false: it already listed the cluster). */
    listed: boolean;
    /** The remaining steps, in order. */
    steps: string[];
}

function configMap(doc: Document, file: string): YAMLMap {
    const config = doc.get("config", true);
    if (!isMap(config)) throw new FleetSetupError(`${file}: expected a 'config:' map`);
    return config;
}

/** Puts `# CHANGE: <why>` above a top-level key of `config:`. */
function mark(config: YAMLMap, name: string, why: string): void {
    const pair = config.items.find((item) => isScalar(item.key) && item.key.value === key(name));
    if (pair === undefined || !isScalar(pair.key)) return;
    const note = ` ${CHANGE_MARK} ${why}`;
    pair.key.commentBefore = pair.key.commentBefore ? `${pair.key.commentBefore}\n${note}` : note;
}

/**
 * Writes `Pulumi.<stack>.yaml` for a new sub cluster and lists it in main's stack file. Refuses
 * (FleetSetupError) a bad name, a stack file that exists, a cluster another stack file already
 * deploys, or a repository without exactly one main stack.
 */
export function addSub(options: AddSubOptions): AddSubResult {
    const { projectDir, cluster } = options;
    if (!CLUSTER_NAME.test(cluster)) {
        throw new FleetSetupError(
            `cluster name: expected a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters), found "${cluster}"`,
        );
    }
    const stack = options.stack ?? cluster;
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
        throw new FleetSetupError(`--stack: expected letters, digits, '-', '_' or '.', found "${stack}"`);
    }
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (fs.existsSync(file)) throw new FleetSetupError(`${path.basename(file)} exists already`);

    const mains: string[] = [];
    for (const name of availableStacks(projectDir)) {
        let found;
        try {
            found = stackRole(projectDir, name);
        } catch (err) {
            if (err instanceof StackFileError) throw new FleetSetupError(err.message.split("\n")[0] ?? err.message);
            throw err;
        }
        if (found.cluster === cluster) {
            throw new FleetSetupError(
                `cluster '${cluster}' is deployed by Pulumi.${name}.yaml already; one cluster is one stack`,
            );
        }
        if (found.role === "main") mains.push(name);
    }
    if (mains.length !== 1) {
        throw new FleetSetupError(
            `expected exactly one stack file with observability:role main, found ${mains.length}` +
                (mains.length > 0 ? ` (${mains.map((m) => `Pulumi.${m}.yaml`).join(", ")})` : ""),
        );
    }
    const mainStack = mains[0] as string;
    const mainFile = path.join(projectDir, `Pulumi.${mainStack}.yaml`);

    const template = options.template ?? path.join(projectDir, "Pulumi.sub.yaml");
    if (!fs.existsSync(template)) {
        throw new FleetSetupError(`no template ${path.basename(template)}: pass --from <a sub stack file>`);
    }
    const sub = parseDocument(fs.readFileSync(template, "utf8"));
    const subConfig = configMap(sub, template);
    if (sub.getIn(["config", key("role")]) !== "sub") {
        throw new FleetSetupError(`${path.basename(template)}: expected a sub stack (observability:role: sub)`);
    }
    const project = readProjectName(projectDir);
    const templateRef = String(sub.getIn(["config", key("mainStack")]) ?? "");
    const organization = options.organization ?? (templateRef.split("/")[0] || "organization");
    const reference = `${organization}/${project}/${mainStack}`;

    sub.commentBefore =
        ` yaml-language-server: $schema=./schema/stack.schema.json\n` +
        ` Sub cluster ${cluster}: collects its own metrics, logs and traces and ships them to main over mTLS.\n` +
        ` Written by \`npm run fleet -- add-sub ${cluster}\` from ${path.basename(template)}; edit every value\n` +
        ` marked ${CHANGE_MARK} before the first \`pulumi up\`.`;
    // The template's own header describes the template: the new file gets its own.
    if (isMap(sub.contents)) {
        sub.contents.commentBefore = null;
        const first = sub.contents.items[0]?.key;
        if (isScalar(first)) first.commentBefore = null;
    }
    sub.setIn(["config", key("cluster"), "name"], cluster);
    sub.setIn(["config", key("mainStack")], reference);
    // The template's hint of how to name a context goes: the new file names one.
    for (const item of subConfig.items) {
        if (isScalar(item.key) && item.key.commentBefore?.includes(`${key("kubernetes")}:`)) {
            item.key.commentBefore = null;
        }
    }
    if (!subConfig.has(key("kubernetes"))) {
        // Right after the cluster's name: which cluster, and how the program reaches it.
        const at = subConfig.items.findIndex((item) => isScalar(item.key) && item.key.value === key("cluster"));
        subConfig.items.splice(at + 1, 0, sub.createPair(key("kubernetes"), { context: `admin@${cluster}` }));
    }
    mark(
        subConfig,
        "kubernetes",
        "the kubeconfig context of this cluster (talosctl kubeconfig names it admin@<Talos cluster name>)",
    );
    mark(subConfig, "talos", "the IPs of this cluster's control-plane nodes");
    if (options.organization === undefined) {
        mark(
            subConfig,
            "mainStack",
            "<organization>/<project>/<main stack>: your Pulumi Cloud organization, or the literal " +
                "'organization' on a self-managed backend (file://, s3://, ...)",
        );
    }

    const main = parseDocument(fs.readFileSync(mainFile, "utf8"));
    configMap(main, mainFile);
    const subClusters = main.getIn(["config", key("subClusters")], true);
    let listed = false;
    if (subClusters === undefined) {
        main.setIn(["config", key("subClusters")], [{ name: cluster }]);
        listed = true;
    } else if (isSeq(subClusters)) {
        const names = subClusters.items.map((item) => (isMap(item) ? item.get("name") : undefined));
        if (!names.includes(cluster)) {
            subClusters.add(main.createNode({ name: cluster }));
            listed = true;
        }
    } else {
        throw new FleetSetupError(`${path.basename(mainFile)}: observability:subClusters: expected a list`);
    }

    // Both files or neither: the sub's file is written last, after main's was.
    const mainText = main.toString(YAML_STYLE);
    const subText = sub.toString(YAML_STYLE);
    if (listed) fs.writeFileSync(mainFile, mainText);
    fs.writeFileSync(file, subText);

    const rel = (f: string) => path.basename(f);
    const steps = [
        `Edit every value marked ${CHANGE_MARK} in ${rel(file)}, then check it offline: npm run render -- --stack ${stack}`,
        `Deploy main first, so it issues the new cluster's client certificate: pulumi up --stack ${mainStack} ` +
            "(or commit and let the pipeline deploy: it always runs main first)",
        `Create and deploy the sub stack: pulumi stack init ${stack}, then pulumi up --stack ${stack}`,
        `Talos: apply the control-plane patch (pulumi stack output talosMachineConfigPatch --stack ${stack}) to ` +
            `the control-plane nodes and the logging patch (talosLoggingPatch) to every node, with talosctl patch mc`,
        `Check the fleet: npm run fleet -- check`,
    ];
    const example = path.join(projectDir, "Pulumi.sub.yaml");
    if (options.template === undefined && fs.existsSync(example) && stack !== "sub") {
        steps.push(
            "Pulumi.sub.yaml, the example, is a stack too: make it your first real sub or delete it (and its " +
                "entry in main's subClusters) before the pipeline runs",
        );
    }
    return { stack, file, mainStack, mainFile, listed, steps };
}

/** Lines of a stack file still marked for change. */
export function unchangedMarks(file: string): number[] {
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, index) => (line.trimStart().startsWith(`# ${CHANGE_MARK}`) ? [index + 1] : []));
}
