import * as fs from "node:fs";
import * as path from "node:path";

import { parseDocument } from "yaml";

import type { FakeEvent } from "./harness/fake-pulumi";
import { startGitHosting, type GitHostingStandIn } from "./harness/git-hosting";
import { projectDir, tempDir } from "./helpers";

/**
 * Repositories for the pipeline's tests: the project file and the example stacks, with as many
 * sub stacks as a test needs (`Pulumi.<name>.yaml`, cluster `<name>`), all listed in main.
 */

export interface FleetLayout {
    subs: string[];
    /** The cluster named in `observability:delivery.canary`. */
    canary?: string;
    /** Edits of a stack file's config after it is written: key (without namespace) to value, undefined removes. */
    edits?: Record<string, Record<string, unknown>>;
}

export function writeFleet(layout: FleetLayout, dir = tempDir("pipeline-fleet")): string {
    fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const write = (stack: string, template: string, config: Record<string, unknown>) => {
        const doc = parseDocument(fs.readFileSync(path.join(projectDir, template), "utf8"));
        for (const [key, value] of Object.entries({ ...config, ...layout.edits?.[stack] })) {
            if (value === undefined) doc.deleteIn(["config", `observability:${key}`]);
            else doc.setIn(["config", `observability:${key}`], value);
        }
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), doc.toString());
    };
    write("main", "Pulumi.main.yaml", {
        subClusters: layout.subs.map((name) => ({ name })),
        delivery: layout.canary === undefined ? {} : { canary: layout.canary },
    });
    for (const sub of layout.subs)
        write(sub, "Pulumi.sub.yaml", { cluster: { name: sub }, mainStack: "acme/observability/main" });
    return dir;
}

const urn = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::observability::${type}::${name}`;

/** A step as the engine reports it before acting (preview and up). */
export function step(stack: string, op: string, type: string, name: string, diffs?: string[]): FakeEvent {
    return {
        resourcePreEvent: {
            metadata: {
                op: op as never,
                urn: urn(stack, type, name),
                type,
                provider: "",
                ...(diffs ? { diffs } : {}),
            },
        },
    };
}

/** A refresh step's outputs event: the state before and as read back (none: gone). */
export function refreshed(
    stack: string,
    type: string,
    name: string,
    before: Record<string, unknown>,
    after: Record<string, unknown> | undefined,
): FakeEvent {
    const state = (outputs: Record<string, unknown>) => ({
        type,
        urn: urn(stack, type, name),
        id: name,
        parent: "",
        inputs: {},
        outputs,
        provider: "",
    });
    return {
        resOutputsEvent: {
            metadata: {
                op: "refresh",
                urn: urn(stack, type, name),
                type,
                provider: "",
                old: state(before),
                ...(after !== undefined ? { new: state(after) } : {}),
            },
        },
    };
}

/** An error diagnostic, as the engine reports a failed resource or program. */
export function engineError(message: string): FakeEvent {
    return { diagnosticEvent: { message, color: "never", severity: "error" } };
}

/** A GitHub and a GitLab stand-in for repository `acme/fleet`, accepting `token`. */
export async function startHosts(token: string): Promise<{ github: GitHostingStandIn; gitlab: GitHostingStandIn }> {
    const repository = { token, repository: "acme/fleet", files: { "README.md": "x" } };
    return {
        github: await startGitHosting({ provider: "github", ...repository }),
        gitlab: await startGitHosting({ provider: "gitlab", ...repository }),
    };
}
