import { escapeMarkdown, NA } from "./format";
import { isAbsoluteUrl } from "./links";
import type { Block, Cell, Column, Outline, Part } from "./outline";
import type { Link } from "./types";

/**
 * The report as GitHub-flavoured Markdown: headings, aligned pipe tables that read as well in
 * a terminal as on a forge, and each day's figures as a row. Links are reference-style,
 * `[Explore][4]`, each URL defined once under the section that first uses it, so a table stays
 * as narrow as its figures. Text from the report is escaped, so a label cannot become markup or
 * break a table.
 */

/** A URL as a link reference definition's destination: the characters that would end it encoded. */
const destination = (url: string): string =>
    url.replace(/[\s()<>|\\`[\]]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);

/** The document's link references: one number per URL, its definition written after the section that first used it. */
class References {
    private readonly numbers = new Map<string, number>();
    private pending: [number, string][] = [];

    /** `[label][n]`; a URL a reader could not open stays out, its label as text. */
    link(link: Link): string {
        if (!isAbsoluteUrl(link.url)) return escapeMarkdown(link.label);
        let n = this.numbers.get(link.url);
        if (n === undefined) {
            n = this.numbers.size + 1;
            this.numbers.set(link.url, n);
            this.pending.push([n, link.url]);
        }
        return `[${escapeMarkdown(link.label)}][${n}]`;
    }

    /** The definitions not written yet. */
    flush(): string[] {
        const lines = this.pending.map(([n, url]) => `[${n}]: ${destination(url)}`);
        this.pending = [];
        return lines;
    }
}

/** Width in terminal columns, counting each code point as one. */
const width = (text: string): number => [...text].length;

function pad(text: string, size: number, right: boolean): string {
    const fill = " ".repeat(Math.max(0, size - width(text)));
    return right ? fill + text : text + fill;
}

/** A pipe table with every column padded to its widest cell; `header` and `rows` are Markdown already. */
function table(columns: Column[], header: string[], rows: string[][]): string[] {
    const widths = columns.map((_, i) => Math.max(3, ...[header, ...rows].map((r) => width(r[i] ?? ""))));
    const line = (cells: string[]) =>
        `| ${columns.map((c, i) => pad(cells[i] ?? "", widths[i] ?? 3, c.numeric === true)).join(" | ")} |`;
    const rule = `| ${columns
        .map((c, i) => {
            const w = widths[i] ?? 3;
            return c.numeric === true ? `${"-".repeat(w - 1)}:` : "-".repeat(w);
        })
        .join(" | ")} |`;
    return [line(header), rule, ...rows.map(line)];
}

export function renderMarkdown(doc: Outline): string {
    const refs = new References();
    const cellText = (cell: Cell): string => {
        if (typeof cell === "string") return escapeMarkdown(cell);
        const shown = cell.change === undefined || cell.change === "" ? cell.text : `${cell.text} (${cell.change})`;
        const text = shown === "" ? "" : cell.strong === true ? `**${escapeMarkdown(shown)}**` : escapeMarkdown(shown);
        const links = (cell.links ?? []).map((l) => refs.link(l)).join(" ");
        return [text, links].filter((t) => t !== "").join(" ");
    };
    const block = (b: Block, part: Part): string[] => {
        switch (b.kind) {
            case "facts":
                return table(
                    [{ title: "" }, { title: "" }],
                    ["Measure", "This week"],
                    b.rows.map(([label, cell]) => [escapeMarkdown(label), cellText(cell)]),
                );
            case "table": {
                const lead = escapeMarkdown(b.lead);
                if (b.rows.length === 0) return [`${lead}: ${escapeMarkdown(b.empty)}.`];
                const rendered = table(
                    b.columns,
                    b.columns.map((c) => escapeMarkdown(c.title)),
                    b.rows.map((r) => r.map(cellText)),
                );
                return b.lead === part.title ? rendered : [`${lead}:`, "", ...rendered];
            }
            case "note":
                return [cellText({ text: b.text, links: b.links ?? [] })];
            case "list":
                if (b.items.length === 0) return [`${escapeMarkdown(b.lead)}: ${escapeMarkdown(b.empty)}.`];
                return [
                    ...(b.lead === part.title ? [] : [`${escapeMarkdown(b.lead)}:`, ""]),
                    ...b.items.map((item) => `- ${cellText(item)}`),
                ];
            case "daily": {
                const columns: Column[] = [{ title: "" }, ...b.values.map(() => ({ title: "", numeric: true }))];
                const values = b.values.map((v) => (v === null ? NA : escapeMarkdown(b.format(v))));
                return table(columns, ["Day", ...b.labels.map(escapeMarkdown)], [[escapeMarkdown(b.title), ...values]]);
            }
            case "scores":
                // The clusters table beside it holds the same figures.
                return [];
        }
    };
    const definitions = (out: string[]) => {
        const lines = refs.flush();
        if (lines.length > 0) out.push("", ...lines);
    };

    const out: string[] = [`# ${escapeMarkdown(doc.title)}`];
    for (const paragraph of doc.intro) out.push("", cellText(paragraph));
    definitions(out);
    for (const section of doc.sections) {
        out.push("", `## ${escapeMarkdown(section.title)}`);
        for (const part of section.parts) {
            if (part.title !== null) out.push("", `### ${escapeMarkdown(part.title)}`);
            for (const b of part.blocks) {
                const lines = block(b, part);
                if (lines.length > 0) out.push("", ...lines);
            }
        }
        definitions(out);
    }
    return out.join("\n") + "\n";
}
