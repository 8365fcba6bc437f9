import { z } from "zod";

import { NAMESPACE } from "./namespace";

/**
 * Turns zod issues into one line per problem:
 * `observability:<key>: expected <what>, found <what>; example: <value>`.
 * The expected wording and the example come from the metadata of the schema leaf the issue
 * points at, so the messages, the JSON Schema and the docs say the same thing.
 */

type AnySchema = z.core.$ZodType;

interface LeafMeta {
    expected?: string;
    examples?: unknown[];
}

/** `observability:storage.buckets.metrics`, `observability:subClusters[2].name`. */
export function configKey(path: readonly PropertyKey[]): string {
    let key = "";
    for (const segment of path) {
        if (typeof segment === "number") {
            key += `[${segment}]`;
        } else {
            key += key === "" ? String(segment) : `.${String(segment)}`;
        }
    }
    return `${NAMESPACE}:${key}`;
}

function def(schema: AnySchema): Record<string, unknown> & { type: string } {
    return schema._zod.def as unknown as Record<string, unknown> & { type: string };
}

function metaOf(schema: AnySchema): LeafMeta | undefined {
    return z.globalRegistry.get(schema) as LeafMeta | undefined;
}

/** Peels default/optional/nullable wrappers, keeping the first metadata found on the way. */
function unwrap(schema: AnySchema): { inner: AnySchema; meta: LeafMeta } {
    const meta: LeafMeta = {};
    let current = schema;
    for (;;) {
        const m = metaOf(current);
        if (m?.expected !== undefined && meta.expected === undefined) meta.expected = m.expected;
        if (m?.examples !== undefined && meta.examples === undefined) meta.examples = m.examples;
        const d = def(current);
        if (d.type === "default" || d.type === "optional" || d.type === "nullable") {
            current = d.innerType as AnySchema;
            continue;
        }
        return { inner: current, meta };
    }
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The part of the input an issue path points at. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
    let value = input;
    for (const segment of path) {
        if (!isRecord(value) && !Array.isArray(value)) return undefined;
        value = (value as Record<PropertyKey, unknown>)[segment];
    }
    return value;
}

/** Picks the option of a discriminated union that the input selects, if any. */
function selectOption(union: AnySchema, input: unknown): AnySchema | undefined {
    const d = def(union);
    const key = d.discriminator as string;
    if (!isRecord(input)) return undefined;
    return (d.options as AnySchema[]).find((option) => {
        const shape = def(option).shape as Record<string, AnySchema>;
        const literal = shape[key];
        return literal !== undefined && (def(literal).values as unknown[]).includes(input[key]);
    });
}

interface Located {
    schema: AnySchema | undefined;
    meta: LeafMeta;
}

/** Walks the schema along an issue's path, following the branch the input selects. */
export function schemaAt(root: AnySchema, path: readonly PropertyKey[], input: unknown): Located {
    let { inner, meta } = unwrap(root);
    let value = input;
    for (const segment of path) {
        let d = def(inner);
        if (d.type === "union" && d.discriminator !== undefined) {
            const option = selectOption(inner, value);
            if (option === undefined) return { schema: undefined, meta: {} };
            ({ inner } = unwrap(option));
            d = def(inner);
        }
        let next: AnySchema | undefined;
        if (d.type === "object" && typeof segment === "string") {
            next = (d.shape as Record<string, AnySchema>)[segment];
        } else if (d.type === "array" && typeof segment === "number") {
            next = d.element as AnySchema;
        }
        if (next === undefined) return { schema: undefined, meta: {} };
        ({ inner, meta } = unwrap(next));
        value = isRecord(value) || Array.isArray(value) ? (value as never)[segment] : undefined;
    }
    return { schema: inner, meta };
}

/** "an object with keys a, b" naming the keys that must be set; those with a default come after. */
function objectExpectation(schema: AnySchema): string {
    const shape = (def(schema).shape ?? {}) as Record<string, AnySchema>;
    const keys = Object.keys(shape);
    const required = keys.filter((k) => !["optional", "default"].includes(def(shape[k] as AnySchema).type));
    const optional = keys.filter((k) => !required.includes(k));
    if (required.length === 0) return "an object";
    return `an object with keys ${required.join(", ")}${optional.length > 0 ? ` (optional: ${optional.join(", ")})` : ""}`;
}

/** An example for a schema: its own, or one assembled from its required children. */
export function exampleOf(schema: AnySchema | undefined, meta: LeafMeta, depth = 0): unknown {
    if (meta.examples !== undefined && meta.examples.length > 0) return meta.examples[0];
    if (schema === undefined || depth > 4) return undefined;
    const d = def(schema);
    if (d.type === "literal") return (d.values as unknown[])[0];
    if (d.type === "enum") return Object.values(d.entries as Record<string, unknown>)[0];
    if (d.type === "union" && d.discriminator !== undefined) {
        const first = (d.options as AnySchema[])[0];
        return first === undefined ? undefined : exampleOf(first, metaOf(first) ?? {}, depth + 1);
    }
    if (d.type === "object") {
        const example: Record<string, unknown> = {};
        for (const [key, child] of Object.entries(d.shape as Record<string, AnySchema>)) {
            const childDef = def(child);
            if (childDef.type === "default" || childDef.type === "optional") continue;
            const { inner, meta: childMeta } = unwrap(child);
            example[key] = exampleOf(inner, childMeta, depth + 1);
        }
        return example;
    }
    if (d.type === "array") {
        const element = d.element as AnySchema;
        const { inner, meta: childMeta } = unwrap(element);
        return [exampleOf(inner, childMeta, depth + 1)];
    }
    return undefined;
}

/** Compact, single-line rendering of a value for "found ..." and "example: ...". */
export function show(value: unknown): string {
    if (value === undefined) return "nothing (the key is not set)";
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function showExample(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function article(type: string): string {
    return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** Closest known key by edit distance, to suggest a fix for a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
    const distance = (a: string, b: string): number => {
        const row = Array.from({ length: b.length + 1 }, (_, i) => i);
        for (let i = 1; i <= a.length; i++) {
            let previous = row[0] as number;
            row[0] = i;
            for (let j = 1; j <= b.length; j++) {
                const current = row[j] as number;
                row[j] = Math.min(
                    current + 1,
                    (row[j - 1] as number) + 1,
                    previous + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1),
                );
                previous = current;
            }
        }
        return row[b.length] as number;
    };
    let best: string | undefined;
    let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
    for (const candidate of candidates) {
        const d = distance(word, candidate);
        if (d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    return best;
}

function line(path: readonly PropertyKey[], expected: string, found: string, example: unknown): string {
    const tail = example === undefined ? "" : `; example: ${showExample(example)}`;
    return `${configKey(path)}: expected ${expected}, found ${found}${tail}`;
}

/** One line per problem, sorted by key, for a failed parse of `input` against `root`. */
export function describeIssues(root: AnySchema, issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
    const lines: string[] = [];
    for (const issue of issues) {
        const located = schemaAt(root, issue.path, input);
        const example = exampleOf(located.schema, located.meta);
        const found = show((issue as { input?: unknown }).input);
        switch (issue.code) {
            case "unrecognized_keys": {
                let holder = located.schema;
                if (holder !== undefined && def(holder).type === "union") {
                    const option = selectOption(holder, valueAt(input, issue.path));
                    holder = option === undefined ? undefined : unwrap(option).inner;
                }
                const known =
                    holder !== undefined && def(holder).type === "object"
                        ? Object.keys(def(holder).shape as Record<string, unknown>)
                        : [];
                for (const key of issue.keys) {
                    const suggestion = closest(key, known);
                    lines.push(
                        `${configKey([...issue.path, key])}: expected one of the known keys here ` +
                            `(${known.join(", ")}), found unknown key ${show(key)}` +
                            (suggestion === undefined ? "" : `; did you mean ${suggestion}?`),
                    );
                }
                break;
            }
            case "invalid_union": {
                const union = issue as { discriminator?: string; options?: unknown[]; input?: unknown };
                if (union.discriminator !== undefined && union.options !== undefined) {
                    // zod puts the discriminator at the end of the path and the object as input.
                    const value = isRecord(union.input) ? union.input[union.discriminator] : undefined;
                    lines.push(
                        line(
                            issue.path,
                            `one of ${union.options.map((v) => JSON.stringify(v)).join(", ")}`,
                            show(value),
                            union.options[0],
                        ),
                    );
                } else {
                    lines.push(line(issue.path, located.meta.expected ?? issue.message, found, example));
                }
                break;
            }
            case "invalid_value":
                lines.push(
                    line(
                        issue.path,
                        `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
                        found,
                        example ?? issue.values[0],
                    ),
                );
                break;
            case "invalid_type": {
                const expected =
                    located.meta.expected ??
                    (issue.expected === "object" && located.schema !== undefined
                        ? objectExpectation(located.schema)
                        : article(issue.expected));
                lines.push(line(issue.path, expected, found, example));
                break;
            }
            case "custom":
                lines.push(line(issue.path, issue.message, found, example));
                break;
            case "invalid_format":
                lines.push(line(issue.path, located.meta.expected ?? issue.message, found, example));
                break;
            default:
                lines.push(
                    line(
                        issue.path,
                        located.meta.expected === undefined
                            ? issue.message
                            : `${located.meta.expected} (${issue.message.toLowerCase()})`,
                        found,
                        example,
                    ),
                );
        }
    }
    return [...new Set(lines)].sort();
}
