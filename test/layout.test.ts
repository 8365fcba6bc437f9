import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { projectDir } from "./helpers";

/**
 * The layers README's "Layout" names, read from the code's own imports: the in-cluster programs
 * at the bottom, then config, components, the program and its policy pack, the render, and the
 * commands on top. Tests stand outside the layers.
 */
const LAYERS: [RegExp, number][] = [
    [/^(remediator|reporter)\//, 0],
    [/^config\//, 1],
    [/^components\//, 2],
    [/^(index\.ts$|policy\/)/, 3],
    [/^render\//, 4],
    [/^(delivery|scripts)\//, 5],
];

function layerOf(file: string): number | undefined {
    return LAYERS.find(([pattern]) => pattern.test(file))?.[1];
}

/** Every relative import (type-only ones too) of each tracked TypeScript file outside test/. */
function importGraph(): Map<string, string[]> {
    const files = execFileSync("git", ["ls-files", "*.ts"], { cwd: projectDir, encoding: "utf8" })
        .split("\n")
        .filter((f) => f !== "" && !f.startsWith("test/") && fs.existsSync(path.join(projectDir, f)));
    const known = new Set(files);
    const graph = new Map<string, string[]>();
    const spec = /\b(?:from|import|require)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g;
    for (const file of files) {
        const text = fs.readFileSync(path.join(projectDir, file), "utf8");
        const targets: string[] = [];
        for (const [, relative] of text.matchAll(spec)) {
            const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), relative as string));
            const target = [`${base}.ts`, `${base}/index.ts`].find((f) => known.has(f));
            if (target !== undefined) targets.push(target);
        }
        graph.set(file, targets);
    }
    return graph;
}

/** The import circles of a graph, each as the files around it. */
function circles(graph: Map<string, string[]>): string[][] {
    const found: string[][] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (file: string): void => {
        state.set(file, "open");
        stack.push(file);
        for (const next of graph.get(file) ?? []) {
            if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
            else if (state.get(next) === undefined) visit(next);
        }
        stack.pop();
        state.set(file, "done");
    };
    for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);
    return found;
}

describe("layout: the layers README names, and no import circle", () => {
    const graph = importGraph();

    it("places every source file in a layer", () => {
        assert.deepEqual(
            [...graph.keys()].filter((f) => layerOf(f) === undefined && !f.endsWith(".config.ts")),
            [],
        );
    });

    it("imports only from the same layer or a lower one", () => {
        const upward: string[] = [];
        for (const [file, targets] of graph) {
            for (const target of targets) {
                if ((layerOf(target) ?? 0) > (layerOf(file) ?? 0)) upward.push(`${file} -> ${target}`);
            }
        }
        assert.deepEqual(upward, []);
    });

    it("has no import circle", () => {
        assert.deepEqual(circles(graph), []);
    });

    it("finds a circle and an upward import where there is one (the checks themselves)", () => {
        const bad = new Map([
            ["reporter/a.ts", ["reporter/b.ts", "components/x.ts"]],
            ["reporter/b.ts", ["reporter/a.ts"]],
            ["components/x.ts", []],
        ]);
        assert.deepEqual(circles(bad), [["reporter/a.ts", "reporter/b.ts", "reporter/a.ts"]]);
        assert.ok((layerOf("components/x.ts") ?? 0) > (layerOf("reporter/a.ts") ?? 0));
    });
});
