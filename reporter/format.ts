import type { Compared, Window } from "./types";
import { DAY_MS } from "./week";

/**
 * How the report's figures read, in one place for the Markdown and HTML renderers: numbers,
 * bytes, durations, shares, changes against last week, dates in the report's time zone, and
 * escaping for both output formats. Everything here is a pure function of its input, so the
 * same report always renders to the same bytes.
 */

/** What an unknown value (`null`) shows as: never 0. */
export const NA = "n/a";

// --- numbers --------------------------------------------------------------------------------

function groupThousands(digits: string): string {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** `n` with `decimals` digits after the point and thousands grouped: `12,345.6`. */
export function fixed(n: number, decimals: number): string {
    if (!Number.isFinite(n)) return NA;
    const text = n.toFixed(decimals);
    const negative = text.startsWith("-") && Number(text) !== 0;
    const [whole = "0", fraction] = text.replace(/^-/, "").split(".");
    const grouped = groupThousands(whole) + (fraction === undefined ? "" : `.${fraction}`);
    return negative ? `-${grouped}` : grouped;
}

/** `n` rounded to `decimals` digits, without binary noise (0.1 + 0.2 is 0.3). */
export function roundTo(n: number, decimals: number): number {
    const factor = 10 ** decimals;
    return Math.round(n * factor + Number.EPSILON * Math.sign(n)) / factor;
}

export const integer = (n: number): string => fixed(Math.round(n), 0);

const BYTE_UNITS = ["KiB", "MiB", "GiB", "TiB", "PiB"];

/** Binary multiples with one decimal: `512 B`, `1.5 KiB`, `58.2 GiB`. */
export function bytes(n: number): string {
    if (!Number.isFinite(n)) return NA;
    if (Math.abs(n) < 1024) return `${integer(n)} B`;
    let value = n;
    let unit = "B";
    for (const next of BYTE_UNITS) {
        if (Math.abs(value) < 1024) break;
        value /= 1024;
        unit = next;
    }
    return `${fixed(value, 1)} ${unit}`;
}

/** Whole minutes as `45 min`, `3 h`, `3 h 5 min`, `37 h 35 min`: exact, so sums can be checked. */
export function duration(minutes: number): string {
    if (!Number.isFinite(minutes)) return NA;
    const total = Math.round(Math.abs(minutes));
    const sign = minutes < 0 && total > 0 ? "-" : "";
    if (total < 60) return `${sign}${total} min`;
    const hours = Math.floor(total / 60);
    const rest = total % 60;
    return `${sign}${integer(hours)} h${rest === 0 ? "" : ` ${rest} min`}`;
}

/** Hours, to one decimal where not whole: `3 h`, `1.5 h`. */
export function hours(n: number): string {
    return `${Number.isInteger(n) ? integer(n) : fixed(n, 1)} h`;
}

/** A share (0-1) as a percentage: `98.16%`. */
export const percent = (ratio: number, decimals: number): string => `${fixed(ratio * 100, decimals)}%`;

const coreDecimals = (n: number): number => (Math.abs(n) < 10 ? 2 : 1);

/** CPU cores to three significant digits from 1: `0.35 cores`, `2.40 cores`, `11.4 cores`. */
export function cores(n: number): string {
    return `${fixed(n, coreDecimals(n))} cores`;
}

/** A latency in seconds: `412 ms`, `2.80 s`. */
export function seconds(n: number): string {
    return Math.abs(n) < 1 ? `${integer(n * 1000)} ms` : `${fixed(n, 2)} s`;
}

/** A rate per second: `0.25/s`, `14.2/s`. */
export function perSecond(n: number): string {
    return `${fixed(n, Math.abs(n) < 10 ? 2 : 1)}/s`;
}

export const days = (n: number): string => (n === 1 ? "1 day" : `${fixed(n, Number.isInteger(n) ? 0 : 1)} days`);

/** `1 pod`, `3 pods`. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${integer(n)} ${n === 1 ? one : many}`;

// --- units and changes ----------------------------------------------------------------------

/** How one kind of figure shows, and how a change of it shows. */
export interface Unit {
    /** The value as shown: `3 h 5 min`, `98.16%`. */
    format(value: number): string;
    /** The value at the precision shown, in the unit changes are stated in (percentage points for shares). */
    shown(value: number): number;
    /** A change of `shown` values, without its sign: `2`, `1.80 pp`. */
    formatChange(change: number): string;
}

export const UNITS = {
    count: { format: integer, shown: Math.round, formatChange: integer },
    score: { format: integer, shown: Math.round, formatChange: integer },
    minutes: { format: duration, shown: Math.round, formatChange: duration },
    bytes: { format: bytes, shown: (v: number) => v, formatChange: bytes },
    cores: {
        format: cores,
        shown: (v: number) => roundTo(v, coreDecimals(v)),
        formatChange: cores,
    },
    /** Availability: two decimals, since 99.95% and 99.5% differ by hours a week. */
    availability: {
        format: (v: number) => percent(v, 2),
        shown: (v: number) => roundTo(v * 100, 2),
        formatChange: (c: number) => `${fixed(c, 2)} pp`,
    },
} satisfies Record<string, Unit>;

/** Whether a change is good news: more is better (scores), less is better (restarts), or neither. */
export type Better = "higher" | "lower" | "neither";

export type Tone = "good" | "bad" | "neutral";

/** A compared figure as shown: `3 (▲ 2 vs 1)` is value `3` and change `▲ 2 vs 1`. */
export interface Change {
    value: string;
    /** `▲ 2 vs 1`, `▼ 1.80 pp vs 99.96%`, `unchanged`, `vs n/a`; empty when neither week is known. */
    change: string;
    tone: Tone;
}

const UP = "▲";
const DOWN = "▼";

/** This week's value and how it moved since last week, in `unit`. */
export function compare(compared: Compared, unit: Unit, better: Better): Change {
    const { current, previous } = compared;
    if (current === null) {
        return { value: NA, change: previous === null ? "" : `vs ${unit.format(previous)}`, tone: "neutral" };
    }
    const value = unit.format(current);
    if (previous === null) return { value, change: `vs ${NA}`, tone: "neutral" };
    const change = roundTo(unit.shown(current) - unit.shown(previous), 6);
    if (change === 0 || value === unit.format(previous)) return { value, change: "unchanged", tone: "neutral" };
    const arrow = change > 0 ? UP : DOWN;
    const tone: Tone = better === "neither" ? "neutral" : change > 0 === (better === "higher") ? "good" : "bad";
    return { value, change: `${arrow} ${unit.formatChange(Math.abs(change))} vs ${unit.format(previous)}`, tone };
}

/** `3 (▲ 2 vs 1)`: the one-string form of a change. */
export const changeText = (c: Change): string => (c.change === "" ? c.value : `${c.value} (${c.change})`);

// --- scores and severities ------------------------------------------------------------------

export type Band = "good" | "fair" | "poor";

/** 90 and above is good, 75 and above fair, below that poor. */
export const scoreBand = (score: number): Band => (score >= 90 ? "good" : score >= 75 ? "fair" : "poor");

/** Code-unit order: the same on every machine, unlike locale-aware comparison. */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const SEVERITY_ORDER = ["critical", "warning", "info", "none"];

/** Most severe first (critical, warning, info, none), then any other severity by name. */
export function bySeverity(a: string, b: string): number {
    const rank = (s: string) => {
        const i = SEVERITY_ORDER.indexOf(s);
        return i === -1 ? SEVERITY_ORDER.length : i;
    };
    return rank(a) - rank(b) || byText(a, b);
}

// --- dates ----------------------------------------------------------------------------------

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(timeZone: string): Intl.DateTimeFormat {
    let format = dateFormats.get(timeZone);
    if (format === undefined) {
        try {
            format = new Intl.DateTimeFormat("en-GB", {
                timeZone,
                weekday: "short",
                year: "numeric",
                month: "2-digit",
                day: "2-digit",
                hour: "2-digit",
                minute: "2-digit",
                hourCycle: "h23",
            });
        } catch {
            throw new RangeError(`unknown time zone "${timeZone}": expected an IANA name such as "Europe/Berlin"`);
        }
        dateFormats.set(timeZone, format);
    }
    return format;
}

interface LocalTime {
    weekday: string;
    date: string;
    day: string;
    time: string;
}

function localTime(instant: string, timeZone: string): LocalTime | undefined {
    const ms = Date.parse(instant);
    if (Number.isNaN(ms)) return undefined;
    const parts: Record<string, string> = {};
    for (const part of dateFormat(timeZone).formatToParts(ms)) parts[part.type] = part.value;
    const { weekday = "", year = "", month = "", day = "", hour = "", minute = "" } = parts;
    return { weekday, date: `${year}-${month}-${day}`, day, time: `${hour}:${minute}` };
}

/** `Mon 2026-11-16 06:00` in `timeZone`; an unreadable instant shows as given. */
export function dateTime(instant: string, timeZone: string): string {
    const t = localTime(instant, timeZone);
    return t === undefined ? instant : `${t.weekday} ${t.date} ${t.time}`;
}

/** `2026-11-16` in `timeZone`. */
export function date(instant: string, timeZone: string): string {
    return localTime(instant, timeZone)?.date ?? instant;
}

/**
 * Labels of the days of a daily series over `window`: `Mon 16`. Day `i` is the 24 hours from
 * `start + i days`, named by its middle so that a daylight-saving change cannot shift it.
 */
export function dayLabels(window: Window, count: number, timeZone: string): string[] {
    const start = Date.parse(window.start);
    return Array.from({ length: count }, (_, i) => {
        if (Number.isNaN(start)) return `day ${i + 1}`;
        const t = localTime(new Date(start + i * DAY_MS + DAY_MS / 2).toISOString(), timeZone);
        return t === undefined ? `day ${i + 1}` : `${t.weekday} ${t.day}`;
    });
}

// --- escaping -------------------------------------------------------------------------------

/** Text on one line: line breaks and tabs become spaces, runs of spaces one space. */
export const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim();

/**
 * Text from the report as literal Markdown: characters that would start markup, an HTML tag,
 * an entity or a table cell boundary are backslash-escaped; underscores only where they could
 * emphasise, so that `snake_case` stays readable.
 */
export function escapeMarkdown(text: string): string {
    return oneLine(text)
        .replace(/[\\`*[\]<>|&~]/g, (c) => `\\${c}`)
        .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, "\\_");
}

/**
 * Text as HTML character data or a quoted attribute value. Characters beyond ASCII become
 * character references too, so the document reads the same whatever charset a mail path
 * assumes.
 */
export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']|[\u0080-\u{10ffff}]/gu, (c) => `&#${c.codePointAt(0)};`);
}

/**
 * Markup that is already HTML. Strings given to `el` are text and always escaped; only `el`
 * and `raw` make markup, so report text cannot become a tag.
 */
export class Markup {
    constructor(readonly html: string) {}
}

export type Child = Markup | string | number | null | undefined | false | readonly Child[];
export type Attributes = Record<string, string | number | null | undefined | false>;

const NAME = /^[a-zA-Z][a-zA-Z0-9:-]*$/;
/** HTML elements without an end tag. */
const VOID = new Set(["meta", "br", "hr", "img", "col", "wbr"]);
/** SVG shapes written as `<rect/>` when empty. */
const SVG_EMPTY = new Set(["rect", "line", "circle", "path", "polyline"]);

/** A trusted fragment: only for markup the renderers write themselves, never for report text. */
export const raw = (html: string): Markup => new Markup(html);

function childHtml(child: Child): string {
    if (child === null || child === undefined || child === false) return "";
    if (child instanceof Markup) return child.html;
    if (typeof child === "number") return escapeHtml(String(child));
    if (typeof child === "string") return escapeHtml(child);
    return child.map(childHtml).join("");
}

function attributesHtml(attributes: Attributes): string {
    let html = "";
    for (const [name, value] of Object.entries(attributes)) {
        if (!NAME.test(name)) throw new Error(`invalid attribute name ${JSON.stringify(name)}`);
        if (value === null || value === undefined || value === false) continue;
        html += ` ${name}="${escapeHtml(String(value))}"`;
    }
    return html;
}

/**
 * An element, its text children escaped. HTML void elements (`meta`) have no end tag; empty
 * SVG shapes close with `/>`, every other element with its end tag.
 */
export function el(tag: string, attributes: Attributes, ...children: Child[]): Markup {
    if (!NAME.test(tag)) throw new Error(`invalid element name ${JSON.stringify(tag)}`);
    const open = `<${tag}${attributesHtml(attributes)}`;
    if (VOID.has(tag)) return new Markup(`${open}>`);
    const content = childHtml(children);
    return new Markup(content === "" && SVG_EMPTY.has(tag) ? `${open}/>` : `${open}>${content}</${tag}>`);
}

/** Children as one fragment. */
export const fragment = (...children: Child[]): Markup => new Markup(childHtml(children));

/** A coordinate or length for SVG: at most two decimals, no trailing zeros. */
export const coordinate = (n: number): string => String(roundTo(n, 2));
