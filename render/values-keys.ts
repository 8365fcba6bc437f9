import { ResourceRef, Secret, Unknown } from "./values";

/**
 * Checks the keys of Helm values against a chart's default values. Helm ignores a key the chart
 * does not read, so a misspelt or misplaced key deploys without error and without effect; this
 * checker is what notices. Pure: the caller loads the defaults.
 *
 * A key is valid when
 * - it exists in the defaults (list items are compared with the first item of a non-empty default
 *   list), or
 * - an ancestor exists in the defaults with a default of `{}`, `[]`, `null` or a scalar and
 *   matches a `freeForm` pattern: the chart passes that subtree on as it is (to a custom
 *   resource, a config file, a pod spec), so anything below it is accepted, or
 * - it is absent from the defaults but matches an `allow` pattern (keys commented out in
 *   `values.yaml`, fields of an object the chart copies into a resource), or lies on the way to
 *   one: the objects between the defaults and an allow-listed key are valid too.
 *
 * Setting a known key to `null` (Helm's way to drop a default entry) is valid. Secrets, unknowns
 * and resource references are leaves: their content is not looked at.
 *
 * Patterns are dotted paths. A segment is a key, `*` (any one key), `{a,b}` (one of these keys)
 * or, last, `**` (everything below, one or more segments). `[]` after a segment is any item of
 * that list, and `["a.b"]` a key holding dots. An `allow` pattern with a `*` before its end
 * applies only where the defaults have every key up to the one right after the last such `*`:
 * `*.resources.limits.*` applies under each component whose defaults have `resources`, and makes
 * neither a misspelt component nor a new `resources` key valid.
 */

export type PathSegment = string | number;

export interface ValuesKeysOptions {
    /** Existing keys with an empty, null or scalar default whose whole subtree is free-form. */
    freeForm?: readonly string[];
    /** Paths that are valid although absent from the defaults. */
    allow?: readonly string[];
    /**
     * Subcharts by the key their values live under: the keys there are checked against the
     * union of the parent's own entry and the subchart's defaults.
     */
    subcharts?: Readonly<Record<string, unknown>>;
}

type Matcher = { kind: "keys"; names: ReadonlySet<string> } | { kind: "anyKey" } | { kind: "item" } | { kind: "rest" };

/** A compiled path pattern; see the module comment for the syntax. */
export class PathPattern {
    readonly matchers: readonly Matcher[];
    /** How many leading segments of a path must be in the defaults for the pattern to apply. */
    readonly anchor: number;

    constructor(readonly source: string) {
        this.matchers = parsePattern(source);
        let lastInnerWildcard = -1;
        this.matchers.forEach((m, i) => {
            if (m.kind === "anyKey" && i < this.matchers.length - 1) lastInnerWildcard = i;
        });
        this.anchor = lastInnerWildcard < 0 ? 0 : lastInnerWildcard + 2;
    }

    /** True when the pattern matches the whole path. */
    matches(path: readonly PathSegment[]): boolean {
        const last = this.matchers[this.matchers.length - 1];
        const fixed = last?.kind === "rest" ? this.matchers.length - 1 : this.matchers.length;
        if (last?.kind === "rest" ? path.length <= fixed : path.length !== fixed) return false;
        return this.prefixMatches(path, fixed);
    }

    /**
     * When the path lies strictly on the way to a path the pattern matches: the matcher of the
     * next segment, which tells whether the path must hold an object or a list. Else undefined.
     */
    next(path: readonly PathSegment[]): Matcher | undefined {
        if (path.length >= this.matchers.length || !this.prefixMatches(path, path.length)) return undefined;
        return this.matchers[path.length];
    }

    private prefixMatches(path: readonly PathSegment[], count: number): boolean {
        for (let i = 0; i < count; i++) {
            const matcher = this.matchers[i];
            const segment = path[i];
            if (matcher === undefined || segment === undefined || !segmentMatches(matcher, segment)) return false;
        }
        return true;
    }
}

function segmentMatches(matcher: Matcher, segment: PathSegment): boolean {
    switch (matcher.kind) {
        case "keys":
            return typeof segment === "string" && matcher.names.has(segment);
        case "anyKey":
            return typeof segment === "string";
        case "item":
            return typeof segment === "number";
        case "rest":
            return true;
    }
}

const BARE_KEY = /^[^.[\]"{}*,\s]+$/;

function parsePattern(source: string): Matcher[] {
    const fail = (why: string): never => {
        throw new Error(`values path pattern "${source}": ${why}`);
    };
    const matchers: Matcher[] = [];
    let i = 0;
    let atSegmentStart = true;
    while (i < source.length) {
        if (source[i] === "[") {
            if (atSegmentStart && i > 0) fail(`"." before "[" at ${i}`);
            if (source.startsWith("[]", i)) {
                matchers.push({ kind: "item" });
                i += 2;
            } else if (source[i + 1] === '"') {
                let end = i + 2;
                while (end < source.length && source[end] !== '"') end += source[end] === "\\" ? 2 : 1;
                if (source[end + 1] !== "]") fail(`unterminated quoted key at ${i}`);
                matchers.push({ kind: "keys", names: new Set([JSON.parse(source.slice(i + 1, end + 1)) as string]) });
                i = end + 2;
            } else {
                fail(`expected [] or ["key"] at ${i}`);
            }
            atSegmentStart = false;
        } else if (source[i] === ".") {
            if (atSegmentStart) fail(`empty segment at ${i}`);
            atSegmentStart = true;
            i++;
        } else {
            if (!atSegmentStart) fail(`expected "." or "[" at ${i}`);
            let end = i;
            while (end < source.length && source[end] !== "." && source[end] !== "[") end++;
            const text = source.slice(i, end);
            if (text === "**") matchers.push({ kind: "rest" });
            else if (text === "*") matchers.push({ kind: "anyKey" });
            else if (/^\{[^.[\]"{}*\s]+\}$/.test(text)) {
                const names = text.slice(1, -1).split(",");
                if (names.some((n) => n === "")) fail(`empty name in ${text}`);
                matchers.push({ kind: "keys", names: new Set(names) });
            } else if (BARE_KEY.test(text)) matchers.push({ kind: "keys", names: new Set([text]) });
            else fail(`bad segment "${text}"`);
            atSegmentStart = false;
            i = end;
        }
    }
    if (atSegmentStart) fail("empty pattern or trailing dot");
    if (matchers.slice(0, -1).some((m) => m.kind === "rest")) fail('"**" is only allowed at the end');
    return matchers;
}

/** A path as it is reported: `a.b[0]["key.with.dots"]`. */
export function formatPath(path: readonly PathSegment[]): string {
    let out = "";
    for (const segment of path) {
        if (typeof segment === "number") out += `[${segment}]`;
        else if (BARE_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
        else out += `[${JSON.stringify(segment)}]`;
    }
    return out === "" ? "(values)" : out;
}

function isOpaque(value: unknown): boolean {
    return value instanceof Secret || value instanceof Unknown || value instanceof ResourceRef;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value) && !isOpaque(value);
}

/** What a value is, for messages: `object`, `list`, `string`, `number`, `boolean`, `secret`, … */
function kindOf(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "list";
    if (value instanceof Secret) return "secret";
    if (value instanceof Unknown) return "unknown value";
    if (value instanceof ResourceRef) return "resource reference";
    return typeof value;
}

function structure(value: unknown): "object" | "list" | "scalar" {
    if (Array.isArray(value)) return "list";
    return isPlainObject(value) ? "object" : "scalar";
}

const withArticle = (kind: string): string => (/^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`);

/** A default `{}`, `[]`, `null` or scalar: one a free-form declaration may open. */
function isOpen(value: unknown): boolean {
    if (Array.isArray(value)) return value.length === 0;
    if (isPlainObject(value)) return Object.keys(value).length === 0;
    return true;
}

/**
 * The defaults a subchart's values are checked against: the union of the parent's entry and the
 * subchart's own defaults. Where both have a scalar, or disagree on the kind, the parent's wins,
 * as it does in Helm; a `null` says nothing about the kind and gives way. Lists keep one item,
 * the union of both first items, as the shape items are checked against.
 */
export function mergeDefaults(parent: unknown, subchart: unknown): unknown {
    if (parent === null || parent === undefined) return subchart;
    if (subchart === null || subchart === undefined) return parent;
    if (isPlainObject(parent) && isPlainObject(subchart)) {
        const merged: Record<string, unknown> = { ...subchart };
        for (const [key, value] of Object.entries(parent)) {
            merged[key] = Object.hasOwn(subchart, key) ? mergeDefaults(value, subchart[key]) : value;
        }
        return merged;
    }
    if (Array.isArray(parent) && Array.isArray(subchart)) {
        if (parent.length === 0 || subchart.length === 0) return parent.length === 0 ? subchart : parent;
        return [mergeDefaults(parent[0], subchart[0])];
    }
    return parent;
}

const ABSENT: unique symbol = Symbol("absent from the defaults");

interface Walk {
    freeForm: readonly PathPattern[];
    allow: readonly PathPattern[];
    problems: string[];
}

/**
 * The values keys the chart does not know, as dotted paths, and type mismatches against the
 * defaults, as `<path>: expected an object, found a string`. Empty when all is well.
 */
export function unknownValuesKeys(values: unknown, defaults: unknown, options: ValuesKeysOptions = {}): string[] {
    let merged = defaults;
    if (options.subcharts !== undefined && isPlainObject(defaults)) {
        const withSubcharts: Record<string, unknown> = { ...defaults };
        for (const [key, subchartDefaults] of Object.entries(options.subcharts)) {
            withSubcharts[key] = mergeDefaults(defaults[key], subchartDefaults);
        }
        merged = withSubcharts;
    }
    if (!isPlainObject(values)) return [`(values): expected an object, found ${withArticle(kindOf(values))}`];
    const walk: Walk = {
        freeForm: (options.freeForm ?? []).map((p) => new PathPattern(p)),
        allow: (options.allow ?? []).map((p) => new PathPattern(p)),
        problems: [],
    };
    visit(walk, values, merged, [], 0);
    return walk.problems;
}

/**
 * Checks what is inside a value already accepted at `path`. `def` is its default, or ABSENT;
 * `present` is how many leading segments of the path are in the defaults.
 */
function visit(walk: Walk, value: unknown, def: unknown, path: PathSegment[], present: number): void {
    if (value === null || typeof value !== "object" || isOpaque(value)) return;
    if (def !== ABSENT && isOpen(def) && walk.freeForm.some((p) => p.matches(path))) return;
    if (Array.isArray(value)) {
        const itemDefault = Array.isArray(def) && def.length > 0 ? def[0] : ABSENT;
        value.forEach((item, index) => {
            const itemPath = [...path, index];
            if (itemDefault === ABSENT) {
                visit(walk, item, ABSENT, itemPath, present);
            } else if (!mismatched(walk, item, itemDefault, itemPath)) {
                visit(walk, item, itemDefault, itemPath, itemPath.length);
            }
        });
        return;
    }
    const defaults = isPlainObject(def) ? def : undefined;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        const childPath = [...path, key];
        if (defaults !== undefined && Object.hasOwn(defaults, key)) {
            const childDefault = defaults[key];
            if (!mismatched(walk, child, childDefault, childPath)) {
                visit(walk, child, childDefault, childPath, childPath.length);
            }
            continue;
        }
        const applicable = walk.allow.filter((p) => p.anchor <= present);
        if (applicable.some((p) => p.matches(childPath))) {
            visit(walk, child, ABSENT, childPath, present);
            continue;
        }
        const next = applicable.map((p) => p.next(childPath)).filter((m) => m !== undefined);
        if (next.length === 0) {
            walk.problems.push(formatPath(childPath));
            continue;
        }
        // On the way to an allow-listed key: must hold what the next segment needs.
        const fits = (m: Matcher): boolean =>
            m.kind === "rest"
                ? structure(child) !== "scalar"
                : structure(child) === (m.kind === "item" ? "list" : "object");
        if (child !== null && !isOpaque(child) && !next.some(fits)) {
            const expected = next.some((m) => m.kind !== "item") ? "object" : "list";
            walk.problems.push(
                `${formatPath(childPath)}: expected ${withArticle(expected)}, found ${withArticle(kindOf(child))}`,
            );
            continue;
        }
        visit(walk, child, ABSENT, childPath, present);
    }
}

/**
 * Reports an object or list where the default is a scalar, or the other way round, or a list for
 * an object. Not reported: `null` on either side, secrets and unknowns, scalars of different
 * types, and a scalar default replaced at a free-form key.
 */
function mismatched(walk: Walk, value: unknown, def: unknown, path: PathSegment[]): boolean {
    if (value === null || def === null || isOpaque(value)) return false;
    const want = structure(def);
    const got = structure(value);
    if (want === got) return false;
    if (want === "scalar" && walk.freeForm.some((p) => p.matches(path))) return false;
    walk.problems.push(
        `${formatPath(path)}: expected ${withArticle(kindOf(def))}, found ${withArticle(kindOf(value))}`,
    );
    return true;
}
