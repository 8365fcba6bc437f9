import { BAND_COLORS, dailyBars, meter, scoreBars, scoreGauge } from "./charts";
import { el, fragment, NA, raw, scoreBand, type Child, type Markup, type Tone } from "./format";
import { isAbsoluteUrl } from "./links";
import type { Block, Cell, Column, Outline, Part, Section, SeriesKind } from "./outline";
import type { Link } from "./types";

/**
 * The report as one standalone HTML document for mail clients: nested tables at most 720 px
 * wide, inline styles on every element, no stylesheet, script, web font or remote resource,
 * and small inline SVG charts whose figures are also in the tables. Text from the report only
 * enters through `el`, which escapes it.
 */

const FONT = "-apple-system,'Segoe UI',Helvetica,Arial,sans-serif";
const WIDTH = 720;

const TONE_COLORS: Record<Tone, string> = { good: "#15803d", bad: "#b91c1c", neutral: "#6b7280" };
const SERIES_COLORS: Record<SeriesKind, string> = { alerts: "#ea580c", restarts: "#7c3aed", cpu: "#2563eb" };

const STYLE = {
    h1: "margin:0 0 8px;font-size:22px;line-height:28px;color:#111827",
    h2: "margin:0;font-size:18px;line-height:24px;color:#111827",
    h3: "margin:16px 0 6px;font-size:15px;line-height:20px;color:#1f2937",
    intro: "margin:0 0 6px;font-size:13px;line-height:18px;color:#4b5563",
    lead: "margin:10px 0 4px;font-size:13px;line-height:18px;font-weight:bold;color:#374151",
    note: "margin:10px 0 4px;font-size:13px;line-height:18px;color:#4b5563;font-style:italic",
    table: "width:100%;border-collapse:collapse;font-size:13px;line-height:18px;margin:0 0 6px",
    th: "padding:4px 8px;background:#f3f4f6;border-bottom:1px solid #d1d5db;font-weight:bold;color:#374151",
    td: "padding:4px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top;color:#111827",
    label: "padding:4px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top;color:#4b5563;width:45%",
    list: "margin:4px 0 6px;padding-left:20px;font-size:13px;line-height:18px;color:#111827",
    chart: "margin:10px 0 2px;font-size:12px;line-height:16px;color:#4b5563",
};

const NL = raw("\n");

const LINK_STYLE = "color:#1d4ed8;text-decoration:underline";

/** Links after a text, a space apart; a URL a reader could not open shows as its label only. */
function links(list: readonly Link[] | undefined): Child {
    if (list === undefined || list.length === 0) return null;
    return list.map((link, i) => [
        i === 0 ? null : " ",
        isAbsoluteUrl(link.url) ? el("a", { href: link.url, style: LINK_STYLE }, link.label) : link.label,
    ]);
}

/** Children one per line, so the source stays diffable and mail lines stay short. */
const lines = (children: Child[]): Child[] => children.flatMap((c) => [c, NL]);

const presentation = { role: "presentation", cellpadding: 0, cellspacing: 0, border: 0 };

const align = (column: Column | undefined) =>
    column?.numeric === true
        ? "text-align:right"
        : column?.nowrap === true
          ? "text-align:left;white-space:nowrap"
          : column?.long === true
            ? "text-align:left;overflow-wrap:anywhere;word-break:break-word"
            : "text-align:left;overflow-wrap:break-word";

const NOWRAP = "white-space:nowrap";

/** A long CamelCase name (an alert's), which a narrow column may break between its words. */
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9]{15,}$/;
const breakable = (name: string): Child =>
    name.split(/(?<=[a-z0-9])(?=[A-Z])/).map((part, i) => [i === 0 ? null : el("wbr", {}), part]);

/**
 * A cell's content. A figure and its change each stay on one line but may go on two, so a
 * narrow screen gets `3` over `(▲ 2 vs 1)` instead of a page wider than the screen.
 */
function cell(value: Cell, column: Column | undefined): Child {
    if (typeof value === "string") {
        if (value === NA || value.startsWith(`${NA} (`))
            return el("span", { style: `color:${TONE_COLORS.neutral}` }, value);
        if (column?.numeric === true) return el("span", { style: NOWRAP }, value);
        return IDENTIFIER.test(value) ? breakable(value) : value;
    }
    const tone = value.tone ?? "neutral";
    const hasChange = value.change !== undefined && value.change !== "";
    const textStyle = [
        column === undefined || column.long === true ? "" : NOWRAP,
        value.strong === true ? "font-weight:bold" : "",
        !hasChange && tone !== "neutral" ? `color:${TONE_COLORS[tone]}` : "",
    ]
        .filter((s) => s !== "")
        .join(";");
    const hasLinks = value.links !== undefined && value.links.length > 0;
    return fragment(
        value.text === "" ? null : el("span", { style: textStyle }, value.text),
        hasChange
            ? [" ", el("span", { style: `${NOWRAP};color:${TONE_COLORS[tone]};font-size:12px` }, `(${value.change})`)]
            : null,
        value.share === undefined ? null : meter(value.share, `${value.text} used`),
        hasLinks ? [value.text === "" ? null : " ", links(value.links)] : null,
    );
}

function dataTable(columns: Column[], header: string[] | null, rows: Cell[][], label = false): Markup {
    const head =
        header === null
            ? null
            : el("tr", {}, ...header.map((h, i) => el("th", { style: `${STYLE.th};${align(columns[i])}` }, h)));
    const body = rows.map((row) =>
        el(
            "tr",
            {},
            ...row.map((value, i) =>
                el(
                    "td",
                    { style: `${label && i === 0 ? STYLE.label : STYLE.td};${align(columns[i])}` },
                    cell(value, columns[i]),
                ),
            ),
        ),
    );
    return el("table", { ...presentation, width: "100%", style: STYLE.table }, NL, ...lines([head, ...body]));
}

function block(b: Block, part: Part): Child {
    switch (b.kind) {
        case "facts":
            return dataTable([{ title: "" }, { title: "" }], null, b.rows, true);
        case "table":
            if (b.rows.length === 0)
                return el(
                    "p",
                    { style: STYLE.lead },
                    `${b.lead}: `,
                    el("span", { style: "font-weight:normal" }, `${b.empty}.`),
                );
            return fragment(
                b.lead === part.title ? null : [el("p", { style: STYLE.lead }, b.lead), NL],
                dataTable(
                    b.columns,
                    b.columns.map((c) => c.title),
                    b.rows,
                ),
            );
        case "note":
            return el("p", { style: STYLE.note }, b.text, b.links && b.links.length > 0 ? [" ", links(b.links)] : null);
        case "list":
            if (b.items.length === 0)
                return el(
                    "p",
                    { style: STYLE.lead },
                    `${b.lead}: `,
                    el("span", { style: "font-weight:normal" }, `${b.empty}.`),
                );
            return fragment(
                b.lead === part.title ? null : [el("p", { style: STYLE.lead }, b.lead), NL],
                el(
                    "ul",
                    { style: STYLE.list },
                    NL,
                    ...lines(b.items.map((item) => el("li", {}, cell(item, undefined)))),
                ),
            );
        case "daily":
            return fragment(
                el("p", { style: STYLE.chart }, b.title),
                NL,
                dailyBars({
                    title: b.title,
                    labels: b.labels,
                    values: b.values,
                    format: b.format,
                    color: SERIES_COLORS[b.series],
                    scaleMax: b.scaleMax,
                }),
            );
        case "scores":
            return fragment(el("p", { style: STYLE.chart }, b.title), NL, scoreBars(b.title, b.rows));
    }
}

function sectionRow(section: Section): Markup {
    const heading =
        section.score === undefined
            ? el("h2", { style: STYLE.h2 }, section.title)
            : el(
                  "table",
                  { ...presentation, width: "100%" },
                  el(
                      "tr",
                      {},
                      el(
                          "td",
                          { style: "vertical-align:middle" },
                          el(
                              "h2",
                              { style: `${STYLE.h2};color:${BAND_COLORS[scoreBand(section.score.value)]}` },
                              section.title,
                          ),
                      ),
                      el(
                          "td",
                          { width: 160, style: "vertical-align:middle;width:160px" },
                          scoreGauge(section.score.value, section.score.previous),
                      ),
                  ),
              );
    const parts = section.parts.flatMap((part) => [
        part.title === null ? null : el("h3", { style: STYLE.h3 }, part.title),
        ...part.blocks.map((b) => block(b, part)),
    ]);
    return el(
        "tr",
        {},
        el(
            "td",
            { id: section.id, style: "padding:18px 20px 14px;border-top:3px solid #e5e7eb" },
            NL,
            ...lines([heading, ...parts]),
        ),
    );
}

export function renderHtml(doc: Outline): string {
    const header = el(
        "tr",
        {},
        el(
            "td",
            { style: "padding:20px 20px 10px" },
            NL,
            ...lines([
                el("h1", { style: STYLE.h1 }, doc.title),
                ...doc.intro.map((p) => el("p", { style: STYLE.intro }, cell(p, undefined))),
            ]),
        ),
    );
    const page = el(
        "table",
        {
            ...presentation,
            width: WIDTH,
            style: `width:100%;max-width:${WIDTH}px;background:#ffffff;border:1px solid #e5e7eb;font-family:${FONT}`,
        },
        NL,
        ...lines([header, ...doc.sections.map(sectionRow)]),
    );
    const body = el(
        "body",
        { style: `margin:0;padding:0;background:#f3f4f6;font-family:${FONT};color:#111827` },
        NL,
        el(
            "table",
            { ...presentation, width: "100%", style: "background:#f3f4f6" },
            el("tr", {}, el("td", { align: "center", style: "padding:16px 8px" }, NL, page, NL)),
        ),
        NL,
    );
    const head = el(
        "head",
        {},
        NL,
        ...lines([
            el("meta", { charset: "utf-8" }),
            el("meta", { name: "viewport", content: "width=device-width, initial-scale=1" }),
            el("meta", { name: "color-scheme", content: "light only" }),
            el("title", {}, doc.title),
        ]),
    );
    return `<!DOCTYPE html>\n${el("html", { lang: "en" }, NL, head, NL, body, NL).html}\n`;
}
