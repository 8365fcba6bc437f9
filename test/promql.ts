import { parser as promqlParser } from "@prometheus-io/lezer-promql";

export interface ParsedPromql {
    errors: number;
    metrics: string[];
    /** Label names matched in selectors, by metric. */
    matchers: Map<string, string[]>;
}

/** Errors, metric names and the label names matched per metric, by Prometheus' own grammar. */
export function parsePromql(text: string): ParsedPromql {
    const cursor = promqlParser.parse(text).cursor();
    const result: ParsedPromql = { errors: 0, metrics: [], matchers: new Map() };
    let metric = "";
    do {
        if (cursor.type.isError) result.errors++;
        if (cursor.name === "VectorSelector") metric = "";
        if (cursor.name === "Identifier") {
            metric = text.slice(cursor.from, cursor.to);
            result.metrics.push(metric);
            result.matchers.set(metric, result.matchers.get(metric) ?? []);
        }
        if (cursor.name === "LabelName" && metric !== "") {
            result.matchers.get(metric)?.push(text.slice(cursor.from, cursor.to));
        }
    } while (cursor.next());
    return result;
}
