import { z } from "zod";

import { NAMESPACE } from "./namespace";
import { closest, cutJson, escapeInvisible, maskUrlCredentials } from "./text";

export { closest } from "./text";

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

/** A key's name as written, invisible characters escaped and a very long name cut. */
export function keyName(name: string): string {
    if (name === "") return '""';
    const escaped = escapeInvisible(name);
    return escaped.length > 64 ? `${escaped.slice(0, 61)}...` : escaped;
}

/** `observability:storage.buckets.metrics`, `observability:subClusters[2].name`. */
export function configKey(path: readonly PropertyKey[]): string {
    let key = "";
    for (const segment of path) {
        if (typeof segment === "number") {
            key += `[${segment}]`;
        } else {
            const name = keyName(String(segment));
            key += key === "" ? name : `.${name}`;
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

/**
 * "an object with keys a, b" naming the keys that must be set, those with a default after; for
 * alternatives told apart by a key, that key and its values.
 */
function objectExpectation(schema: AnySchema): string {
    const d = def(schema);
    if (d.type === "union" && d.discriminator !== undefined) {
        const key = d.discriminator as string;
        const values = (d.options as AnySchema[]).flatMap((option) => {
            const literal = (def(option).shape as Record<string, AnySchema>)[key];
            return literal === undefined ? [] : (def(literal).values as unknown[]);
        });
        const listed = values.map((v) => JSON.stringify(v));
        const alternatives =
            listed.length > 1 ? `${listed.slice(0, -1).join(", ")} or ${listed[listed.length - 1]}` : listed.join("");
        return `an object whose ${key} is ${alternatives}, with that ${key}'s keys`;
    }
    const shape = (d.shape ?? {}) as Record<string, AnySchema>;
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

/**
 * Compact, single-line rendering of a value for "found ...": JSON, invisible characters escaped,
 * the credentials of a URL masked, cut after 80 characters.
 */
export function show(value: unknown): string {
    if (value === undefined) return "nothing (the key is not set)";
    if (typeof value === "symbol" || typeof value === "function" || typeof value === "bigint") return "a value";
    return cutJson(escapeInvisible(maskUrlCredentials(JSON.stringify(value))), 80);
}

function showExample(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function article(type: string): string {
    return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function line(
    path: readonly PropertyKey[],
    expected: string,
    found: string,
    example: unknown,
    suggestion?: string,
): string {
    const tail = example === undefined ? "" : `; example: ${showExample(example)}`;
    const hint = suggestion === undefined ? "" : `; did you mean ${suggestion}?`;
    // A check's own words may quote other keys' values: they are escaped too.
    return `${configKey(path)}: expected ${escapeInvisible(expected)}, found ${found}${tail}${hint}`;
}

/** What zod says when a refinement gives no message of its own. */
const DEFAULT_CUSTOM_MESSAGE = "Invalid input";

/**
 * Words for an issue of a leaf that has no `expected` of its own, from the issue alone: never a
 * raw pattern.
 */
function fallbackExpectation(issue: z.core.$ZodIssue): string {
    switch (issue.code) {
        case "too_small":
        case "too_big": {
            const bound = Number(issue.code === "too_small" ? issue.minimum : issue.maximum);
            const limit = issue.code === "too_small" ? "at least" : "at most";
            if (issue.origin === "string") {
                return bound === 1 && issue.code === "too_small"
                    ? "a non-empty string"
                    : `a string of ${limit} ${bound} characters`;
            }
            if (issue.origin === "array") return `a list of ${limit} ${bound} entries`;
            return `a number ${limit} ${bound}`;
        }
        case "invalid_format":
            return issue.format === "regex" ? "a value in the documented format" : `a valid ${issue.format}`;
        default:
            return issue.message === DEFAULT_CUSTOM_MESSAGE ? "a valid value" : issue.message;
    }
}

/** Free text from a check (a detail, a suggestion), escaped and kept short. */
function freeText(value: unknown): string | undefined {
    if (typeof value !== "string" || value === "") return undefined;
    const text = escapeInvisible(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export interface DescribeOptions {
    /** Names also suggested for an unknown key at the top level (the secret keys). */
    topLevelSuggestions?: readonly string[];
}

/**
 * One line per problem key, sorted by key, for a failed parse of `input` against `root`; when
 * one key has several problems, the first found (its format before its range) stands for all.
 */
export function describeIssues(
    root: AnySchema,
    issues: readonly z.core.$ZodIssue[],
    input: unknown,
    options: DescribeOptions = {},
): string[] {
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
                const candidates = issue.path.length === 0 ? [...known, ...(options.topLevelSuggestions ?? [])] : known;
                for (const key of issue.keys) {
                    const suggestion = closest(key, candidates);
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
                    lines.push(line(issue.path, located.meta.expected ?? fallbackExpectation(issue), found, example));
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
            case "custom": {
                const params = (issue.params ?? {}) as { detail?: unknown; suggestion?: unknown };
                const expected =
                    issue.message === DEFAULT_CUSTOM_MESSAGE
                        ? (located.meta.expected ?? fallbackExpectation(issue))
                        : issue.message;
                const detail = freeText(params.detail);
                lines.push(
                    line(
                        issue.path,
                        expected,
                        detail === undefined ? found : `${found} (${detail})`,
                        example,
                        freeText(params.suggestion),
                    ),
                );
                break;
            }
            case "invalid_format":
                lines.push(line(issue.path, located.meta.expected ?? fallbackExpectation(issue), found, example));
                break;
            default:
                lines.push(
                    line(
                        issue.path,
                        located.meta.expected === undefined
                            ? fallbackExpectation(issue)
                            : `${located.meta.expected} (${issue.message.toLowerCase()})`,
                        found,
                        example,
                    ),
                );
        }
    }
    return firstPerKey(lines).sort();
}

/** The key a problem line is about: what comes before `: expected`. */
export function lineKey(problem: string): string {
    const end = problem.indexOf(": expected ");
    return end < 0 ? problem : problem.slice(0, end);
}

/** The first line of each key, in order. */
export function firstPerKey(lines: readonly string[]): string[] {
    const seen = new Set<string>();
    return lines.filter((problem) => {
        const key = lineKey(problem);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}
