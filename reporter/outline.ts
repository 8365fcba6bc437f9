import type { Tone } from "./format";
import type { Daily, Link } from "./types";

/**
 * The outline of the weekly report: sections, figure tables and daily series that the Markdown
 * and HTML renderers lay out (reporter/render.ts builds it).
 */

/** A table cell: plain text, or a figure with its change against last week and where to look. */
export type Cell = string | Figure;

export interface Figure {
    text: string;
    /** `▲ 2 vs 1`, `unchanged`; shown after the text. */
    change?: string;
    /** Whether the change is good news, for colour. */
    tone?: Tone;
    /** A share (0-1) the HTML also draws as a small bar. */
    share?: number;
    strong?: boolean;
    /** Links shown after the text. */
    links?: Link[];
}

export interface Column {
    title: string;
    /** Right-aligned, on one line. */
    numeric?: boolean;
    /** On one line (dates). */
    nowrap?: boolean;
    /** Long text (labels, summaries) that may break anywhere rather than widen the table. */
    long?: boolean;
}

/** The days' series the HTML draws as bars and the Markdown shows as a row of figures. */
export type SeriesKind = "alerts" | "restarts" | "cpu";

export type Block =
    /** Label and figure pairs. */
    | { kind: "facts"; rows: [string, Cell][] }
    /** A table introduced by `lead`; without rows, one line: `<lead>: <empty>`. */
    | { kind: "table"; lead: string; columns: Column[]; rows: Cell[][]; empty: string }
    | { kind: "note"; text: string; links?: Link[] }
    | { kind: "list"; lead: string; items: Cell[]; empty: string }
    | {
          kind: "daily";
          series: SeriesKind;
          title: string;
          labels: string[];
          values: Daily;
          format: (value: number) => string;
          /** Top of the scale when fixed (1 for shares); the largest value otherwise. */
          scaleMax?: number;
      }
    | { kind: "scores"; title: string; rows: { cluster: string; value: number; previous: number | null }[] };

/** A subsection; without a title its blocks follow the previous one's. */
export interface Part {
    title: string | null;
    blocks: Block[];
}

export interface Section {
    /** Stable anchor: `fleet`, `cluster-alpha`. */
    id: string;
    title: string;
    /** The cluster's score, drawn beside the title in HTML. */
    score?: { value: number; previous: number | null };
    parts: Part[];
}

export interface Outline {
    title: string;
    intro: Cell[];
    sections: Section[];
}
