import { closest } from "./text";
import { IANA_TIME_ZONES } from "./time-zones";

/**
 * The formats of the stack's values, with their real ranges: what Kubernetes, the stores and the
 * value builders accept, so that a value that passes here never makes a builder fail.
 */

/** A DNS-1123 label: 1 to 63 lowercase letters, digits and '-', starting and ending with neither '-'. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A fully qualified DNS name in lowercase: at least two labels, each a DNS-1123 label, 253 characters at most. */
export const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

/** A fully qualified stack reference, `<organization>/<project>/<stack>`. */
export const STACK_REF = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

// ---------------------------------------------------------------------------------------------
// Durations

/** A Prometheus-style duration in whole units, as every store of the stack accepts it. */
export const DURATION = /^([0-9]+)(h|d|w|y)$/;
const HOURS_PER_UNIT: Record<string, number> = { h: 1, d: 24, w: 24 * 7, y: 24 * 365 };

/** The longest duration any key takes: a retention or a certificate lifetime beyond it means a typo. */
export const MAX_DURATION = "100y";
export const MAX_DURATION_HOURS = 100 * 24 * 365;

/** Hours of a duration accepted by {@link DURATION}; undefined for anything else. */
export function durationHoursOf(value: unknown): number | undefined {
    if (typeof value !== "string") return undefined;
    const match = DURATION.exec(value);
    if (match === null) return undefined;
    const [, amount, unit] = match;
    return Number(amount) * (HOURS_PER_UNIT[unit as string] as number);
}

/**
 * Converts a duration accepted by {@link DURATION} to hours. For values the schema has checked:
 * anything else throws, without quoting the value (it may come from a secret-marked key).
 */
export function durationHours(duration: string): number {
    const hours = durationHoursOf(duration);
    if (hours === undefined) {
        throw new Error("not a duration: expected whole hours, days, weeks or years such as 30d");
    }
    return hours;
}

// ---------------------------------------------------------------------------------------------
// Storage quantities

/** A storage size in whole binary units, the one form every value builder reads. */
export const QUANTITY = /^([0-9]+)(Ki|Mi|Gi|Ti)$/;
const BYTES_PER_UNIT: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** The largest size any key takes: 1024Ti, still an exact number of bytes. */
export const MAX_QUANTITY = "1024Ti";
export const MAX_QUANTITY_BYTES = 1024 ** 5;

/** Bytes of a size accepted by {@link QUANTITY}; undefined for anything else. */
export function quantityBytesOf(value: unknown): number | undefined {
    if (typeof value !== "string") return undefined;
    const match = QUANTITY.exec(value);
    if (match === null) return undefined;
    const [, amount, unit] = match;
    return Number(amount) * (BYTES_PER_UNIT[unit as string] as number);
}

// ---------------------------------------------------------------------------------------------
// Cron schedules, as a Kubernetes CronJob reads them

/** The descriptors a CronJob schedule may be instead of five fields. */
export const CRON_DESCRIPTORS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/** The shape of a schedule, for editors; {@link cronProblem} checks every field's range. */
export const CRON = /^(@[a-z]+|\S+( +\S+){4})$/;

interface CronField {
    name: string;
    min: number;
    max: number;
    names?: readonly string[];
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const CRON_FIELDS: readonly CronField[] = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31 },
    { name: "month", min: 1, max: 12, names: MONTHS },
    { name: "day of week", min: 0, max: 6, names: WEEKDAYS },
];

/** The value of one cron field's number or name, or a problem. */
function cronValue(field: CronField, text: string): number | string {
    if (/^[0-9]{1,9}$/.test(text)) {
        const value = Number(text);
        return value >= field.min && value <= field.max
            ? value
            : `${field.name} ${value} is not in ${field.min}-${field.max}`;
    }
    const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
    if (index >= 0) return index + field.min;
    return `${field.name} ${JSON.stringify(text)} is not a number${field.names !== undefined ? " or a name" : ""}`;
}

/** The problem with one comma-separated part of a cron field, if any. */
function cronPartProblem(field: CronField, part: string): string | undefined {
    const [range = "", step, ...extra] = part.split("/");
    if (extra.length > 0) return `${field.name} ${JSON.stringify(part)} has more than one step`;
    if (step !== undefined && !(/^[0-9]{1,9}$/.test(step) && Number(step) > 0)) {
        return `${field.name} step ${step} is not a positive number`;
    }
    if (range === "*" || range === "?") return undefined;
    const [start = "", end, ...more] = range.split("-");
    if (more.length > 0) return `${field.name} ${JSON.stringify(range)} is not a range`;
    const first = cronValue(field, start);
    if (typeof first === "string") return first;
    if (end === undefined) return undefined;
    const last = cronValue(field, end);
    if (typeof last === "string") return last;
    if (first > last) return `${field.name} range ${range} runs backwards`;
    return undefined;
}

/**
 * What is wrong with a CronJob schedule (five fields: minute 0-59, hour 0-23, day of month 1-31,
 * month 1-12 or JAN-DEC, day of week 0-6 or SUN-SAT; lists, ranges, steps, `*` and `?`; or a
 * descriptor such as `@weekly`), in a few words; undefined when it is valid.
 */
export function cronProblem(schedule: string): string | undefined {
    if (schedule.startsWith("@")) {
        return CRON_DESCRIPTORS.includes(schedule) ? undefined : `${JSON.stringify(schedule)} is not a descriptor`;
    }
    const fields = schedule.trim().split(/ +/);
    if (fields.length !== CRON_FIELDS.length) return `${fields.length} fields instead of 5`;
    for (const [index, field] of CRON_FIELDS.entries()) {
        for (const part of (fields[index] as string).split(",")) {
            const problem = cronPartProblem(field, part);
            if (problem !== undefined) return problem;
        }
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------
// Time zones

const timeZones = new Set(IANA_TIME_ZONES);

/** Whether a name is a time zone of the IANA database, spelt as it is there, that this runtime knows. */
export function isTimeZone(name: string): boolean {
    if (!timeZones.has(name)) return false;
    try {
        new Intl.DateTimeFormat("en", { timeZone: name });
        return true;
    } catch {
        return false;
    }
}

/** The time zone a name that is not one was likely meant to be. */
export function suggestTimeZone(name: string): string | undefined {
    const sameLetters = IANA_TIME_ZONES.find((zone) => zone.toLowerCase() === name.toLowerCase());
    return sameLetters ?? closest(name, IANA_TIME_ZONES);
}
