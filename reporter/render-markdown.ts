import { escapeMarkdown, NA } from "./format";
import type { Block, Cell, Column, Outline, Part } from "./render";

/**
 * The report as GitHub-flavoured Markdown: headings, aligned pipe tables that read as well in
 * a terminal as on a forge, and each day's figures as a row. Text from the report is escaped,
 * so a label cannot become markup or break a table.
 */

const cellText = (cell: Cell): string => {
    if (typeof cell === "string") return escapeMarkdown(cell);
    const text = escapeMarkdown(
        cell.change === undefined || cell.change === "" ? cell.text : `${cell.text} (${cell.change})`,
    );
    return cell.strong === true ? `**${text}**` : text;
};

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

function block(b: Block, part: Part): string[] {
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
            return [escapeMarkdown(b.text)];
        case "list":
            if (b.items.length === 0) return [`${escapeMarkdown(b.lead)}: ${escapeMarkdown(b.empty)}.`];
            return b.items.map((item) => `- ${escapeMarkdown(item)}`);
        case "daily": {
            const columns: Column[] = [{ title: "" }, ...b.values.map(() => ({ title: "", numeric: true }))];
            const values = b.values.map((v) => (v === null ? NA : escapeMarkdown(b.format(v))));
            return table(columns, ["Day", ...b.labels.map(escapeMarkdown)], [[escapeMarkdown(b.title), ...values]]);
        }
        case "scores":
            // The clusters table beside it holds the same figures.
            return [];
    }
}

export function renderMarkdown(doc: Outline): string {
    const out: string[] = [`# ${escapeMarkdown(doc.title)}`];
    for (const paragraph of doc.intro) out.push("", escapeMarkdown(paragraph));
    for (const section of doc.sections) {
        out.push("", `## ${escapeMarkdown(section.title)}`);
        for (const part of section.parts) {
            if (part.title !== null) out.push("", `### ${escapeMarkdown(part.title)}`);
            for (const b of part.blocks) {
                const lines = block(b, part);
                if (lines.length > 0) out.push("", ...lines);
            }
        }
    }
    return out.join("\n") + "\n";
}
