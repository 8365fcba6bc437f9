/**
 * Values a chart runs through Helm's `tpl` are Go templates: a `{{` in them is parsed by Helm
 * (vector's `customConfig`, P23). Configurations that use the same braces for their own
 * templates (Vector's `{{ field }}` label templates) reach their program intact only with every
 * `{{` written as a Go template that prints `{{`.
 */

/** The Go template action that prints `{{`. */
export const ESCAPED_OPEN = '{{ "{{" }}';

/** A string with every `{{` escaped for `tpl`, which renders it back to the original. */
export function escapeForTpl(text: string): string {
    return text.replaceAll("{{", ESCAPED_OPEN);
}

/** A value (strings, keys, arrays, objects) with every string escaped for `tpl`. */
export function escapeValuesForTpl<T>(value: T): T {
    if (typeof value === "string") return escapeForTpl(value) as T;
    if (Array.isArray(value)) return value.map((v) => escapeValuesForTpl(v)) as T;
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [escapeForTpl(k), escapeValuesForTpl(v)])) as T;
    }
    return value;
}

/**
 * The places in a value where `tpl` would parse a Go template action: every `{{` that is not the
 * escape itself. Empty when the value reaches `tpl` as literal text.
 */
export function unescapedTemplateActions(value: unknown, path = ""): string[] {
    if (typeof value === "string") {
        return value.replaceAll(ESCAPED_OPEN, "").includes("{{") ? [path] : [];
    }
    if (Array.isArray(value)) return value.flatMap((v, i) => unescapedTemplateActions(v, `${path}[${i}]`));
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => [
            ...unescapedTemplateActions(k, `${path}{key ${k}}`),
            ...unescapedTemplateActions(v, path === "" ? k : `${path}.${k}`),
        ]);
    }
    return [];
}
