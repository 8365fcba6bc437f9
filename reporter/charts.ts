import { coordinate as c, el, integer, NA, scoreBand, type Band, type Child, type Markup } from "./format";
import type { Daily } from "./types";

/**
 * Small inline SVG charts for the HTML report: bars per day, a bar per cluster score, a meter
 * for a share. Each is an image with a title that states its figures, so a reader without
 * SVG (or with a screen reader) loses nothing; the tables beside them hold the same numbers.
 */

const SVG_NS = "http://www.w3.org/2000/svg";
const FONT = "Helvetica, Arial, sans-serif";
const INK = "#374151";
const MUTED = "#9ca3af";
const TRACK = "#e5e7eb";
const BLOCK = "display:block;max-width:100%";

export const BAND_COLORS: Record<Band, string> = { good: "#16a34a", fair: "#d97706", poor: "#dc2626" };

function svg(width: number, height: number, title: string, style: string, ...content: Child[]): Markup {
    return el(
        "svg",
        {
            xmlns: SVG_NS,
            width,
            height,
            viewBox: `0 0 ${width} ${height}`,
            role: "img",
            style,
        },
        el("title", {}, title),
        ...content,
    );
}

const text = (x: number, y: number, size: number, anchor: "start" | "middle" | "end", fill: string, value: string) =>
    el("text", { x: c(x), y: c(y), "font-size": size, "font-family": FONT, "text-anchor": anchor, fill }, value);

export interface DailyChart {
    title: string;
    labels: string[];
    values: Daily;
    format: (value: number) => string;
    color: string;
    /** Fixed top of the scale (1 for shares); the largest value otherwise. */
    scaleMax?: number;
    width?: number;
    height?: number;
}

/** One bar per day; a day without data is a dashed outline marked n/a, never a zero bar. */
export function dailyBars(chart: DailyChart): Markup {
    const { width = 340, height = 112, values, labels } = chart;
    const top = 18;
    const bottom = 18;
    const plot = height - top - bottom;
    const baseline = top + plot;
    const known = values.filter((v): v is number => v !== null);
    const largest = Math.max(0, ...known);
    const scale = Math.max(chart.scaleMax ?? 0, largest);
    const slot = (width - 8) / Math.max(1, values.length);
    const barWidth = slot * 0.62;
    const dayText = (i: number) => labels[i] ?? `day ${i + 1}`;
    const valueText = (v: number | null) => (v === null ? NA : chart.format(v));

    const bars = values.map((v, i) => {
        const x = 4 + i * slot + (slot - barWidth) / 2;
        const tip = el("title", {}, `${dayText(i)}: ${valueText(v)}`);
        if (v === null) {
            return el(
                "g",
                {},
                tip,
                el("rect", {
                    x: c(x),
                    y: c(top),
                    width: c(barWidth),
                    height: c(plot),
                    fill: "none",
                    stroke: MUTED,
                    "stroke-dasharray": "3 3",
                }),
                text(x + barWidth / 2, top + plot / 2 + 3, 9, "middle", MUTED, NA),
            );
        }
        const h = scale > 0 ? Math.max(v > 0 ? 1 : 0, (v / scale) * plot) : 0;
        return el("rect", { x: c(x), y: c(baseline - h), width: c(barWidth), height: c(h), fill: chart.color }, tip);
    });
    const dayLabels = values.map((_, i) => text(4 + i * slot + slot / 2, height - 5, 10, "middle", INK, dayText(i)));
    let peak = "no data";
    if (known.length > 0) {
        const at = values.indexOf(largest);
        peak = `peak ${valueText(largest)} (${dayText(at)})`;
    }
    const summary = values.map((v, i) => `${dayText(i)} ${valueText(v)}`).join(", ");
    return svg(
        width,
        height,
        `${chart.title}: ${summary}`,
        BLOCK,
        text(4, 12, 10, "start", INK, peak),
        el("line", { x1: 4, y1: c(baseline), x2: c(width - 4), y2: c(baseline), stroke: MUTED, "stroke-width": 1 }),
        ...bars,
        ...dayLabels,
    );
}

export interface ScoreRow {
    cluster: string;
    value: number;
    previous: number | null;
}

const clip = (name: string, max: number) =>
    [...name].length > max ? `${[...name].slice(0, max - 1).join("")}…` : name;

/** A bar per cluster on a 0-100 scale, coloured by band, with last week's score as a mark. */
export function scoreBars(title: string, rows: ScoreRow[], width = 680): Markup {
    const rowHeight = 24;
    const labelWidth = 130;
    const valueWidth = 90;
    const track = width - labelWidth - valueWidth;
    const height = rows.length * rowHeight + 22;
    const at = (score: number) => labelWidth + (Math.min(100, Math.max(0, score)) / 100) * track;
    const content = rows.map((row, i) => {
        const y = 4 + i * rowHeight;
        const mark =
            row.previous === null
                ? null
                : el("rect", { x: c(at(row.previous) - 1), y: c(y), width: 2, height: 18, fill: INK });
        const last = row.previous === null ? "" : `, last week ${integer(row.previous)}`;
        return el(
            "g",
            {},
            el("title", {}, `${row.cluster}: ${integer(row.value)}${last}`),
            text(0, y + 13, 12, "start", INK, clip(row.cluster, 18)),
            el("rect", { x: labelWidth, y: c(y + 3), width: c(track), height: 12, fill: TRACK }),
            el("rect", {
                x: labelWidth,
                y: c(y + 3),
                width: c(at(row.value) - labelWidth),
                height: 12,
                fill: BAND_COLORS[scoreBand(row.value)],
            }),
            mark,
            text(
                width - valueWidth + 8,
                y + 13,
                12,
                "start",
                INK,
                `${integer(row.value)}${row.previous === null ? "" : ` (${integer(row.previous)})`}`,
            ),
        );
    });
    const axisY = rows.length * rowHeight + 16;
    const ticks = [0, 25, 50, 75, 100].map((t) => text(at(t), axisY, 9, "middle", MUTED, String(t)));
    const summary = rows.map((r) => `${r.cluster} ${integer(r.value)}`).join(", ");
    return svg(width, height, `${title}: ${summary}`, BLOCK, ...content, ...ticks);
}

/** A cluster's score as a short bar beside its heading. */
export function scoreGauge(value: number, previous: number | null, width = 160): Markup {
    const x = (score: number) => (Math.min(100, Math.max(0, score)) / 100) * width;
    const last = previous === null ? "" : `, last week ${integer(previous)}`;
    return svg(
        width,
        14,
        `Score ${integer(value)} of 100${last}`,
        BLOCK,
        el("rect", { x: 0, y: 2, width, height: 10, fill: TRACK }),
        el("rect", { x: 0, y: 2, width: c(x(value)), height: 10, fill: BAND_COLORS[scoreBand(value)] }),
        previous === null
            ? null
            : el("rect", { x: c(Math.max(0, x(previous) - 1)), y: 0, width: 2, height: 14, fill: INK }),
    );
}

/** A share (0-1) as a small bar: amber from 80 %, red from 90 %. */
export function meter(share: number, title: string, width = 56): Markup {
    const clamped = Math.min(1, Math.max(0, share));
    const color = clamped >= 0.9 ? BAND_COLORS.poor : clamped >= 0.8 ? BAND_COLORS.fair : BAND_COLORS.good;
    return svg(
        width,
        10,
        title,
        "display:inline-block;vertical-align:middle;margin-left:6px",
        el("rect", { x: 0, y: 1, width, height: 8, fill: TRACK }),
        el("rect", { x: 0, y: 1, width: c(clamped * width), height: 8, fill: color }),
    );
}
