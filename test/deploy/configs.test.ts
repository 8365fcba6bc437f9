import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { stringify } from "yaml";

import { ALERTMANAGER_CONFIG_SECRET } from "../../components/alerting/alertmanager-config";
import { objectId } from "../../render/desired-state/manifests";
import type { DesiredState } from "../../render/desired-state/state";
import { locateBinaries } from "../harness/processes";
import { tempDir } from "../helpers";
import { stateOf, variants } from "./context";

/**
 * The configurations the desired state hands the real programs, taken from it and run through
 * those programs' own checkers: every rule file a PrometheusRule carries (the charts' defaults
 * with our values and the program's own) through promtool, main's Alertmanager configuration
 * through amtool.
 */

for (const variant of variants().filter((v) => v.kubeVersion === undefined)) {
    describe(`${variant.stack}: the configurations of its desired state, through the real tools`, () => {
        const work = tempDir(`configs-${variant.stack}`);
        let state: DesiredState;
        let tools: { promtool: string; amtool: string };
        before(async () => {
            tools = locateBinaries(
                ["promtool", "amtool"],
                "the deploy tests check rule files and Alertmanager's configuration",
            );
            state = await stateOf(variant);
        });

        it("passes promtool check rules for every PrometheusRule, chart-made and the program's", () => {
            const rules = state.objects.filter((e) => e.object.kind === "PrometheusRule");
            assert.ok(rules.length >= 2, "no PrometheusRule in the desired state");
            const files = rules.map((e) => {
                const file = path.join(work, `${objectId(e.object).replaceAll("/", "_")}.yaml`);
                fs.writeFileSync(file, stringify({ groups: (e.object.spec as { groups: unknown[] }).groups }));
                return file;
            });
            const result = spawnSync(tools.promtool, ["check", "rules", ...files], { encoding: "utf8" });
            assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
            const found = [...result.stdout.matchAll(/SUCCESS: (\d+) rules found/g)].reduce(
                (n, m) => n + Number(m[1]),
                0,
            );
            assert.ok(found > 50, `promtool found ${found} rules`);
        });

        if (variant.stack.startsWith("main")) {
            it("passes amtool check-config with main's Alertmanager configuration, as its Secret holds it", () => {
                const secret = state.objects.find(
                    (e) => e.object.kind === "Secret" && e.object.metadata.name === ALERTMANAGER_CONFIG_SECRET,
                );
                assert.ok(secret, "no Alertmanager configuration Secret");
                const data = (secret.object.stringData ?? {}) as Record<string, string>;
                const config = data["alertmanager.yaml"];
                assert.ok(config, `${ALERTMANAGER_CONFIG_SECRET} has no alertmanager.yaml`);
                const file = path.join(work, "alertmanager.yaml");
                fs.writeFileSync(file, config);
                const result = spawnSync(tools.amtool, ["check-config", file], { encoding: "utf8" });
                assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
                assert.match(result.stdout, /SUCCESS/);
            });
        }
    });
}
