import { z } from "zod";

import {
    DNS_LABEL,
    DURATION,
    durationHoursOf,
    MAX_DURATION,
    MAX_DURATION_HOURS,
    MAX_QUANTITY,
    MAX_QUANTITY_BYTES,
    QUANTITY,
    quantityBytesOf,
} from "./formats";
import { urlCredentialPlace } from "./text";

/** The builders every section of the stack configuration uses: a leaf with its metadata, names, durations, sizes and URLs. */

/** Metadata each leaf carries: used by error messages and copied into the JSON Schema. */
export interface FieldMeta {
    description: string;
    /** What a valid value looks like, in words ("a DNS-1123 label"). */
    expected?: string;
    examples: readonly unknown[];
}

export function field<T extends z.ZodType>(schema: T, meta: FieldMeta): T {
    return schema.meta({
        description: meta.description,
        examples: [...meta.examples],
        ...(meta.expected !== undefined ? { expected: meta.expected } : {}),
    });
}

export const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Longest namespace we accept, so that `<namespace>-agents` still fits in 63 characters. */
export const MAX_NAMESPACE_LENGTH = 56;

/**
 * Whether a value passed the DNS-label checks of its key. Checks across keys read only such
 * values: one that failed has its own problem, and is neither compared nor quoted.
 */
export function isLabel(value: unknown, maxLength = 63): value is string {
    return typeof value === "string" && value.length <= maxLength && DNS_LABEL.test(value);
}

export function dnsLabel(meta: Omit<FieldMeta, "expected">, maxLength = 63) {
    return field(z.string().max(maxLength).regex(DNS_LABEL), {
        ...meta,
        expected: `a DNS-1123 label (lowercase letters, digits and '-', at most ${maxLength} characters)`,
    });
}

/** A namespace of the cluster, in a list of them. */
export function namespaceName(example: string) {
    return field(z.string().max(63).regex(DNS_LABEL), {
        description: "A namespace of the cluster.",
        expected: "a namespace name (a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters)",
        examples: [example],
    });
}

/**
 * Hours of a duration that passed its own checks (format and range, zero only where it keeps
 * forever), for the checks that compare durations; undefined otherwise, since a duration with a
 * problem of its own has nothing to compare.
 */
export function checkedHours(value: string, zero: "forever" | "refused" = "refused"): number | undefined {
    const hours = durationHoursOf(value);
    if (hours === undefined || hours > MAX_DURATION_HOURS || (zero === "refused" && hours === 0)) return undefined;
    return hours;
}

/**
 * A duration up to {@link MAX_DURATION}. `zero: "forever"` accepts `0d`, which the store reads as
 * keeping forever; elsewhere zero means nothing and is refused.
 */
export function duration(meta: Omit<FieldMeta, "expected">, zero: "forever" | "refused" = "refused") {
    const expected =
        "a duration in whole hours, days, weeks or years (h, d, w, y), " +
        (zero === "forever" ? `0d (kept forever) up to ${MAX_DURATION}` : `above zero and up to ${MAX_DURATION}`);
    // A malformed value is the format check's problem alone.
    const inRange = (value: string): boolean =>
        durationHoursOf(value) === undefined || checkedHours(value, zero) !== undefined;
    return field(z.string().regex(DURATION).refine(inRange, { message: expected }), { ...meta, expected });
}

/** A storage size: whole binary units, above zero, up to {@link MAX_QUANTITY}. */
export function quantity(meta: Omit<FieldMeta, "expected">) {
    const expected = `a whole number of Ki, Mi, Gi or Ti, above zero and up to ${MAX_QUANTITY}`;
    const inRange = (value: string): boolean => {
        const bytes = quantityBytesOf(value);
        return bytes === undefined || (bytes > 0 && bytes <= MAX_QUANTITY_BYTES);
    };
    return field(z.string().regex(QUANTITY).refine(inRange, { message: expected }), { ...meta, expected });
}

/**
 * An http(s) URL that carries no credential: `credentials` says where the credential goes
 * instead, so the message can point there (and the URL, written in clear into the desired
 * state, holds none).
 */
export function url(meta: FieldMeta & { expected: string }, options: { https?: boolean; credentials: string }) {
    const expected = `${meta.expected} without credentials (${options.credentials})`;
    return field(
        z
            .url({ protocol: options.https === true ? /^https$/ : /^https?$/ })
            .refine((value) => urlCredentialPlace(value) === undefined, { message: expected }),
        meta,
    );
}

export const NO_CREDENTIAL = "no credential belongs in it";

/** Whether a port, as text, is one from 1 to 65535. */
export function isPort(text: string): boolean {
    return /^[0-9]{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}
