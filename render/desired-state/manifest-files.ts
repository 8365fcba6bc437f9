import { stringify } from "yaml";

import { Secret, type ResourceRecord } from "../mock-engine";
import { scanForLeaks } from "../secret-scan";
import { SECRET_MARKER } from "../stack-file";
import { objectId, type ChartRender, type KObject } from "./manifests";

/**
 * The chart-made part of a stack's desired state as files for review (`render --manifests`),
 * and the secret scan over it.
 */

const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false, sortMapEntries: true } as const;
const SECRET_DATA = ["data", "stringData"] as const;

/** A Secret's values shown as [secret], its keys kept: what a reviewer may see. */
function redactSecret(o: KObject): KObject {
    if (o.kind !== "Secret") return o;
    const copy: KObject = { ...o };
    for (const field of SECRET_DATA) {
        const data = o[field];
        if (data !== null && typeof data === "object") {
            copy[field] = Object.fromEntries(Object.keys(data).map((k) => [k, SECRET_MARKER]));
        }
    }
    return copy;
}

function byId(a: KObject, b: KObject): number {
    return objectId(a).localeCompare(objectId(b));
}

/**
 * One file per chart, `manifests/<chart resource>.yaml`, its objects sorted by kind, namespace
 * and name; the CRDs it installs in `manifests/<chart resource>.crds.yaml`, which only change
 * with the chart's version.
 */
export function manifestFiles(renders: readonly ChartRender[], kubeVersion: string): [string, string][] {
    const files: [string, string][] = [];
    for (const render of renders) {
        const header = (what: string, count: number) =>
            `# ${what} of ${render.pin.chart} ${render.pin.version} (release ${render.release}, namespace ` +
            `${render.namespace}) as Helm Chart v4 \`${render.record.name}\` applies them on Kubernetes ` +
            `${kubeVersion}: ${count} objects.\n` +
            `# Chart ${render.source.verified ? `archive verified against ${render.pin.digest ?? ""}` : "from an unpacked folder, NOT verified against its digest"}. ` +
            "Secrets' values are shown as [secret].\n";
        const crds = render.objects.filter((o) => o.kind === "CustomResourceDefinition").sort(byId);
        const rest = render.objects.filter((o) => o.kind !== "CustomResourceDefinition").sort(byId);
        const documents = (objects: KObject[]) =>
            objects.map((o) => stringify(redactSecret(o), YAML_OPTIONS)).join("---\n");
        files.push([`manifests/${render.record.name}.yaml`, header("Objects", rest.length) + documents(rest)]);
        if (crds.length > 0) {
            files.push([`manifests/${render.record.name}.crds.yaml`, header("CRDs", crds.length) + documents(crds)]);
        }
    }
    return files.sort(([a], [b]) => a.localeCompare(b));
}

/** Chart-made objects as records the secret scan reads; Secrets' data secret, as the provider marks it. */
export function chartObjectRecords(renders: readonly ChartRender[]): ResourceRecord[] {
    return renders.flatMap((render) =>
        render.objects.map((o): ResourceRecord => {
            const inputs: Record<string, unknown> = { ...o };
            if (o.kind === "Secret") {
                for (const field of SECRET_DATA) {
                    if (o[field] !== undefined) inputs[field] = new Secret(o[field]);
                }
            }
            const version = o.apiVersion.includes("/") ? o.apiVersion : `core/${o.apiVersion}`;
            return {
                urn: `${render.record.urn}::${objectId(o)}`,
                type: `kubernetes:${version}:${o.kind}`,
                name: `${render.record.name}:${objectId(o)}`,
                parent: render.record.urn,
                custom: true,
                remote: false,
                provider: undefined,
                inputs,
                options: render.record.options,
            };
        }),
    );
}

/**
 * The secret scan over the whole desired state: the program's resources and every chart-made
 * object, so a chart that copies a secret into a ConfigMap, or a private key into one, is caught.
 */
export function scanDesiredState(
    records: readonly ResourceRecord[],
    renders: readonly ChartRender[],
    outputs: Record<string, unknown>,
): string[] {
    return scanForLeaks([...records, ...chartObjectRecords(renders)], outputs).problems;
}
