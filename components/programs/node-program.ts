import * as path from "node:path";

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { mebibytes, type Resources } from "../core/resources";
import { programBundle, type BundledProgram } from "./bundle";

/**
 * What the stack's own Node.js programs (the remediator, the reporter) share: their code and
 * settings in one ConfigMap, read from a directory of the pod, and a container that runs the
 * bundle on the pinned distroless image as its `nonroot` user, on a read-only root with every
 * capability dropped and a heap sized from the memory limit.
 */

/** The user of the distroless image (`nonroot`). */
export const NONROOT_UID = 65532;

export const NONROOT_POD_SECURITY = {
    runAsNonRoot: true,
    runAsUser: NONROOT_UID,
    runAsGroup: NONROOT_UID,
    seccompProfile: { type: "RuntimeDefault" },
};

export interface ProgramCode {
    configMap: k8s.core.v1.ConfigMap;
    /** The bundle and the settings text, e.g. for a revision hash. */
    bundle: string;
    settings: string;
}

/**
 * The ConfigMap holding `<program>.js` and the settings document, which the program reads from
 * `settingsFile` (the ConfigMap is mounted on that file's directory).
 */
export function programCode(
    name: string,
    program: BundledProgram,
    settingsFile: string,
    settings: unknown,
    metadata: { name: string; namespace: string; labels: Record<string, string> },
    parent: pulumi.Resource,
): ProgramCode {
    const bundle = programBundle(program);
    const text = `${JSON.stringify(settings, null, 2)}\n`;
    const configMap = new k8s.core.v1.ConfigMap(
        `${name}-code`,
        { metadata, data: { [`${program}.js`]: bundle, [path.posix.basename(settingsFile)]: text } },
        { parent },
    );
    return { configMap, bundle, settings: text };
}

export interface ProgramContainer {
    program: BundledProgram;
    image: string;
    settingsFile: string;
    resources: Resources;
    env?: k8s.types.input.core.v1.EnvVar[];
    /** Mounts besides the code's. */
    volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
}

/** The container running a program's bundle with node (the image's entrypoint). */
export function programContainer(spec: ProgramContainer) {
    const codeDir = path.posix.dirname(spec.settingsFile);
    return {
        name: spec.program,
        image: spec.image,
        args: [`${codeDir}/${spec.program}.js`],
        env: [
            {
                name: "NODE_OPTIONS",
                value: `--max-old-space-size=${Math.floor(mebibytes(spec.resources.limits.memory) / 2)}`,
            },
            ...(spec.env ?? []),
        ],
        securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
        resources: spec.resources,
        volumeMounts: [{ name: "code", mountPath: codeDir, readOnly: true }, ...(spec.volumeMounts ?? [])],
    };
}

/** The pod volume of a program's code. */
export const programCodeVolume = (code: ProgramCode) => ({
    name: "code",
    configMap: { name: code.configMap.metadata.name },
});
