import Ajv, { type ValidateFunction } from "ajv";

import { groupOf, isBuiltinGroup, objectId, type KObject } from "./manifests";
import type { StateObject } from "./state";

/**
 * Schema validation of the desired state: built-in objects against the Kubernetes OpenAPI
 * schemas of each supported version (the `kubernetes-models` packages, one per Kubernetes
 * release), custom resources against the CRD the stack installs. A CRD's structural schema
 * prunes fields it does not declare without a word (P3): those are reported too.
 */

/** The Kubernetes versions the objects are checked against, and the package holding each one's schemas. */
export const SCHEMA_PACKAGES = {
    "1.33": "kubernetes-models-1.33",
    "1.34": "kubernetes-models-1.34",
} as const;
export type SchemaVersion = keyof typeof SCHEMA_PACKAGES;

interface Model {
    new (data: unknown): { validate(): void };
}

const modules = new Map<string, Promise<Record<string, unknown> | undefined>>();

/** The models of one API group version in a package (`apps/v1`), or undefined when the version lacks it. */
async function modelsOf(pkg: string, apiVersion: string): Promise<Record<string, unknown> | undefined> {
    const key = `${pkg}/${apiVersion}`;
    let found = modules.get(key);
    if (found === undefined) {
        found = import(`${pkg}/${apiVersion}`).then(
            (m: Record<string, unknown>) => m,
            () => undefined,
        );
        modules.set(key, found);
    }
    return found;
}

/**
 * Built-in alpha and beta API versions: the packages keep the schemas of removed ones, and the
 * betas still in Kubernetes since 1.24 are off unless the API server enables them, so a stack
 * must use GA versions only.
 */
const PRERELEASE = /\/v\d+(alpha|beta)\d+$/;

/** Problems of a built-in object against one Kubernetes version's schema. */
export async function builtinProblems(o: KObject, version: SchemaVersion): Promise<string[]> {
    if (PRERELEASE.test(o.apiVersion)) {
        return [
            `${objectId(o)}: ${o.apiVersion} is a pre-release API, removed or off by default in Kubernetes ${version}`,
        ];
    }
    const models = await modelsOf(SCHEMA_PACKAGES[version], o.apiVersion);
    const model = models?.[o.kind] as Model | undefined;
    if (model === undefined) return [`${objectId(o)}: Kubernetes ${version} serves no ${o.apiVersion} ${o.kind}`];
    try {
        new model(o).validate();
        return [];
    } catch (err) {
        return [`${objectId(o)}: invalid for Kubernetes ${version}: ${(err as Error).message}`];
    }
}

type Schema = {
    type?: string;
    properties?: Record<string, Schema>;
    additionalProperties?: boolean | Schema;
    items?: Schema;
    "x-kubernetes-preserve-unknown-fields"?: boolean;
    "x-kubernetes-int-or-string"?: boolean;
    [key: string]: unknown;
};

/** Paths of fields a structural schema does not declare, which the API server prunes. */
export function prunedFields(value: unknown, schema: Schema | undefined, path: string): string[] {
    if (schema === undefined || value === null || value === undefined) return [];
    if (schema["x-kubernetes-preserve-unknown-fields"] === true) return [];
    if (Array.isArray(value)) return value.flatMap((v, i) => prunedFields(v, schema.items, `${path}[${i}]`));
    if (typeof value !== "object") return [];
    const found: string[] = [];
    for (const [key, child] of Object.entries(value)) {
        const declared = schema.properties?.[key];
        if (declared !== undefined) {
            found.push(...prunedFields(child, declared, `${path}.${key}`));
        } else if (typeof schema.additionalProperties === "object") {
            found.push(...prunedFields(child, schema.additionalProperties, `${path}.${key}`));
        } else if (schema.additionalProperties !== true) {
            found.push(`${path}.${key}`);
        }
    }
    return found;
}

/**
 * CRD patterns are Go (RE2) expressions: case-insensitive groups `(?i)...` become the `i` flag;
 * a pattern JavaScript cannot compile otherwise is not checked, never wrongly refused.
 */
function re2(pattern: string, flags: string): RegExp {
    try {
        return new RegExp(pattern, flags);
    } catch {
        const insensitive = pattern.includes("(?i)");
        try {
            return new RegExp(pattern.replaceAll("(?i)", ""), insensitive ? `${flags}i` : flags);
        } catch {
            return /[^]*/;
        }
    }
}
re2.code = "re2";

function ajv(): Ajv {
    const instance = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: re2 } });
    for (const keyword of [
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
        "x-kubernetes-validations",
    ]) {
        instance.addKeyword(keyword);
    }
    return instance;
}

/** Validators of every served version of every CRD in the desired state, by `apiVersion/Kind`. */
export function crdValidators(
    objects: readonly StateObject[],
): Map<string, { validate: ValidateFunction; schema: Schema }> {
    const compiler = ajv();
    const validators = new Map<string, { validate: ValidateFunction; schema: Schema }>();
    for (const { object } of objects) {
        if (object.kind !== "CustomResourceDefinition") continue;
        const spec = object.spec as {
            group: string;
            names: { kind: string };
            versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: Schema } }[];
        };
        for (const version of spec.versions.filter((v) => v.served && v.schema?.openAPIV3Schema !== undefined)) {
            const schema = version.schema?.openAPIV3Schema as Schema;
            validators.set(`${spec.group}/${version.name}/${spec.names.kind}`, {
                validate: compiler.compile(schema),
                schema,
            });
        }
    }
    return validators;
}

/** Schema problems of the whole desired state, for each supported Kubernetes version. */
export async function schemaProblems(
    objects: readonly StateObject[],
    versions: readonly SchemaVersion[] = Object.keys(SCHEMA_PACKAGES) as SchemaVersion[],
): Promise<string[]> {
    const problems: string[] = [];
    const crds = crdValidators(objects);
    for (const { object, source } of objects) {
        const where = `${source}: `;
        if (isBuiltinGroup(groupOf(object.apiVersion))) {
            for (const version of versions) {
                problems.push(...(await builtinProblems(object, version)).map((p) => where + p));
            }
            continue;
        }
        const crd = crds.get(`${object.apiVersion}/${object.kind}`);
        if (crd === undefined) continue; // a prerequisite's CRD: checked by the order findings
        const body = Object.fromEntries(
            Object.entries(object).filter(([key]) => !["apiVersion", "kind", "metadata"].includes(key)),
        );
        if (!crd.validate({ ...body, apiVersion: object.apiVersion, kind: object.kind })) {
            const errors = (crd.validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`);
            problems.push(`${where}${objectId(object)}: invalid for its CRD: ${errors.join("; ")}`);
        }
        for (const field of prunedFields(body, crd.schema, "")) {
            problems.push(
                `${where}${objectId(object)}: field ${field.slice(1)} is not in the CRD's schema and would be pruned`,
            );
        }
    }
    return problems;
}
