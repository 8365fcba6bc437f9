import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { parse, stringify } from "yaml";

import { alertmanagerConfigFile, inhibitionNames } from "../components/alerting/alerting";
import {
    alertmanagerConfig,
    RECEIVER_CREDENTIALS_DIR,
    ROUTING_TIMERS,
} from "../components/alerting/alertmanager-config";
import { NULL_RECEIVER, receiverNeedsCredential, type MainConfig } from "../config";
import { startAlertmanager } from "./harness/alertmanager";
import { plainRequest } from "./harness/https";
import { locateBinaries, stopServer, type Server } from "./harness/processes";
import { mainConfig, tempDir, testMain } from "./helpers";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Alertmanager configuration data

/**
 * main's Alertmanager configuration, as generated from config: checked by the real amtool,
 * its routing tree walked with `amtool config routes test`, and its inhibitions applied by a
 * real Alertmanager on 127.0.0.1.
 */

const CREDENTIALS = {
    pager: "R0UTING-KEY-0123",
    chat: "https://hooks.slack.com/services/T0/B0/SECRETPART",
    mm: "https://mattermost.example.com/hooks/SECRETHOOK",
    mail: "smtp-password-!@#",
    hook: "bearer-token-xyz",
    teams: "https://example.webhook.office.com/workflows/SECRETSIG",
};

const fleet = (alerting: { receivers: Record<string, unknown>[] } & Record<string, unknown>): MainConfig =>
    mainConfig(
        {
            cluster: { name: "hub" },
            exposure: { domain: "obs.acme.test", kind: "traefik-passthrough" },
            storage: { kind: "filesystem" },
            subClusters: [{ name: "edge-a" }],
            // Receivers send each alert's runbook link to mail and chat clients: an absolute base.
            alerting: {
                runbookBaseUrl: "https://git.acme.test/platform/observability/-/blob/main/docs/runbooks",
                ...alerting,
            },
        },
        {
            alertReceiverCredentials: JSON.stringify(
                Object.fromEntries(
                    Object.entries(CREDENTIALS).filter(([name]) => alerting.receivers.some((r) => r.name === name)),
                ),
            ),
        },
    );

/** Every receiver kind but Teams (which needs Alertmanager 0.28), routed by severity and cluster. */
const full = fleet({
    receivers: [
        { name: "pager", kind: "pagerduty" },
        { name: "chat", kind: "slack", channel: "#alerts" },
        { name: "mm", kind: "mattermost" },
        {
            name: "mail",
            kind: "email",
            to: ["sre@acme.test", "oncall@acme.test"],
            from: "am@acme.test",
            smarthost: "smtp.acme.test:587",
            username: "am",
        },
        { name: "mail-plain", kind: "email", to: ["team@acme.test"], from: "am@acme.test", smarthost: "relay:25" },
        { name: "hook", kind: "webhook", url: "https://hooks.acme.test/am", bearerToken: true },
        { name: "heartbeat", kind: "webhook", url: "https://hc.acme.test/ping/abc" },
    ],
    routes: [
        { receiver: "pager", severities: ["critical"] },
        { receiver: "mm", clusters: ["edge-a"], severities: ["warning"] },
        { receiver: "hook", alertnames: ["ServiceErrorRateHigh", "ServiceLatencyHigh"] },
    ],
    defaultReceiver: "chat",
    heartbeatReceiver: "heartbeat",
});

const withTeams = fleet({ receivers: [{ name: "teams", kind: "teams" }], defaultReceiver: "teams" });

/** Fields of `msteamsv2_configs` in Alertmanager 0.34 (notify/msteamsv2/config.go). */
const MSTEAMSV2_FIELDS = new Set(["send_resolved", "http_config", "webhook_url", "webhook_url_file", "title", "text"]);

function configOf(config: MainConfig): Values {
    return parse(alertmanagerConfigFile(config)) as Values;
}

/** The configuration without Teams receivers' entries, for tools older than Alertmanager 0.28. */
function withoutTeamsEntries(config: Values): Values {
    return {
        ...config,
        receivers: (config.receivers as Values[]).map(({ msteamsv2_configs: _teams, ...rest }) => rest), // eslint-disable-line @typescript-eslint/no-unused-vars -- dropped on purpose
    };
}

describe("alertmanager configuration: as data", () => {
    it("references a credential file for exactly the receivers that take one, and holds no credential", () => {
        const text = alertmanagerConfigFile(full);
        for (const receiver of full.alerting.receivers) {
            const file = `${RECEIVER_CREDENTIALS_DIR}/${receiver.name}`;
            const entry = JSON.stringify((configOf(full).receivers as Values[]).find((r) => r.name === receiver.name));
            assert.equal(entry.includes(JSON.stringify(file)), receiverNeedsCredential(receiver), receiver.name);
        }
        for (const secret of Object.values(CREDENTIALS)) assert.ok(!text.includes(secret));
    });

    it("groups per alert and cluster, repeats warnings daily and critical alerts every 4 hours", () => {
        const { route } = configOf(full);
        assert.deepEqual(route.group_by, ["alertname", "cluster"]);
        assert.equal(route.repeat_interval, ROUTING_TIMERS.repeatInterval);
        const critical = (route.routes as Values[]).filter((r) =>
            JSON.stringify(r).includes(`"repeat_interval":"${ROUTING_TIMERS.criticalRepeatInterval}"`),
        );
        assert.ok(critical.length >= full.alerting.routes.length);
    });

    it("delivers nothing, yet stays valid, when no receiver is configured", () => {
        const config = configOf(testMain());
        assert.equal(config.route.receiver, NULL_RECEIVER);
        assert.deepEqual(config.receivers, [{ name: NULL_RECEIVER }]);
    });

    it("writes Teams receivers with only fields Alertmanager 0.34 knows, the URL from a file", () => {
        const teams = (configOf(withTeams).receivers as Values[]).find((r) => r.name === "teams");
        assert.ok(teams !== undefined);
        for (const entry of teams.msteamsv2_configs as Values[]) {
            for (const key of Object.keys(entry)) assert.ok(MSTEAMSV2_FIELDS.has(key), key);
            assert.equal(entry.webhook_url_file, `${RECEIVER_CREDENTIALS_DIR}/teams`);
            assert.equal(entry.webhook_url, undefined);
        }
    });

    it("names the app and trace-derived alerts it inhibits from the rule definitions", () => {
        const names = inhibitionNames(full);
        assert.ok(names.app.includes("ContainerOOMKilled") && names.app.includes("ServiceErrorRateHigh"));
        assert.deepEqual(names.traceDerived, ["ServiceErrorRateHigh", "ServiceLatencyHigh", "ServiceTailLatencyHigh"]);
        const rules = alertmanagerConfig(full, names).inhibit_rules;
        assert.ok(rules.some((r) => r.target_matchers.some((m) => m.includes("ContainerOOMKilled"))));
    });
});

describe("alertmanager configuration: amtool", () => {
    const work = tempDir("amtool");
    let amtool: string;

    before(() => {
        amtool = locateBinaries(["amtool"], "the Alertmanager configuration is checked with amtool").amtool;
    });

    const write = (name: string, config: Values): string => {
        const file = path.join(work, `${name}.yml`);
        fs.writeFileSync(file, stringify(config, { lineWidth: 0 }));
        return file;
    };
    const amtoolRun = (args: string[]) => spawnSync(amtool, args, { encoding: "utf8" });

    it("passes check-config: no receivers, every receiver kind, and Teams apart from its own entries", () => {
        for (const [name, config] of [
            ["default", configOf(testMain())],
            ["full", configOf(full)],
            ["teams", withoutTeamsEntries(configOf(withTeams))],
        ] as const) {
            const result = amtoolRun(["check-config", write(name, config)]);
            assert.equal(result.status, 0, `${name}: ${result.stdout}${result.stderr}`);
            assert.match(result.stdout, /SUCCESS/);
        }
    });

    it("refuses a configuration routing to an undefined receiver (control)", () => {
        const config = configOf(full);
        const broken = { ...config, route: { ...config.route, receiver: "nobody" } };
        assert.notEqual(amtoolRun(["check-config", write("broken", broken)]).status, 0);
    });

    const ROUTES: [Record<string, string>, string][] = [
        [{ alertname: "KubePodCrashLooping", severity: "critical", cluster: "edge-a" }, "pager"],
        [{ alertname: "ClusterMetricsAbsent", severity: "critical", cluster: "edge-a", deadman: "true" }, "pager"],
        [{ alertname: "LogAgentSinkErrors", severity: "warning", cluster: "edge-a" }, "mm"],
        [{ alertname: "LogAgentSinkErrors", severity: "warning", cluster: "hub" }, "chat"],
        [{ alertname: "ServiceLatencyHigh", severity: "warning", cluster: "hub" }, "hook"],
        [{ alertname: "KubeNodePressure", severity: "info", cluster: "hub" }, NULL_RECEIVER],
        [{ alertname: "Watchdog", severity: "none", cluster: "hub" }, "heartbeat"],
        [{ alertname: "Watchdog", severity: "none", cluster: "edge-a" }, NULL_RECEIVER],
        [{ alertname: "InfoInhibitor", severity: "none", cluster: "edge-a" }, NULL_RECEIVER],
    ];

    it("routes sample alerts to the intended receivers (amtool config routes test)", () => {
        const file = write("routes", configOf(full));
        for (const [labels, receiver] of ROUTES) {
            const args = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
            const result = amtoolRun([
                "config",
                "routes",
                "test",
                `--config.file=${file}`,
                `--verify.receivers=${receiver}`,
                ...args,
            ]);
            assert.equal(result.status, 0, `${args.join(" ")} → ${receiver}: ${result.stdout}${result.stderr}`);
        }
    });

    it("reports a wrong receiver expectation (control)", () => {
        const file = write("routes-control", configOf(full));
        const result = amtoolRun([
            "config",
            "routes",
            "test",
            `--config.file=${file}`,
            "--verify.receivers=chat",
            "alertname=KubePodCrashLooping",
            "severity=critical",
            "cluster=edge-a",
        ]);
        assert.notEqual(result.status, 0);
    });
});

describe("alertmanager configuration: inhibitions in a real Alertmanager", () => {
    const work = tempDir("alertmanager-inhibit");
    let alertmanager: Server;

    before(async () => {
        const binaries = locateBinaries(["alertmanager"], "the inhibition proof runs a real Alertmanager");
        const config = configOf(full);
        // Nothing may leave the machine: every receiver delivers nowhere; routes and inhibitions stay.
        config.receivers = (config.receivers as Values[]).map((r) => ({ name: r.name }));
        alertmanager = await startAlertmanager(binaries.alertmanager, work, config);
    });

    after(async () => {
        if (alertmanager !== undefined) await stopServer(alertmanager);
    });

    const ALERTS = "/api/v2/alerts";
    const post = async (alerts: Record<string, string>[]) => {
        const body = JSON.stringify(alerts.map((labels) => ({ labels })));
        const outcome = await plainRequest(alertmanager.port, {
            method: "POST",
            path: ALERTS,
            body,
            headers: { "content-type": "application/json" },
        });
        assert.equal(outcome.status, 200, outcome.body);
    };
    /** Whether each alert (by alertname and cluster) is inhibited, polled until `settled` holds or 5 s pass. */
    const inhibited = async (settled: (state: Map<string, boolean>) => boolean): Promise<Map<string, boolean>> => {
        let state = new Map<string, boolean>();
        for (let attempt = 0; attempt < 50; attempt++) {
            const outcome = await plainRequest(alertmanager.port, { path: ALERTS });
            const alerts = JSON.parse(outcome.body ?? "[]") as Values[];
            state = new Map(
                alerts.map((a) => [
                    `${a.labels.alertname}/${a.labels.cluster}`,
                    (a.status.inhibitedBy as string[]).length > 0,
                ]),
            );
            if (settled(state)) return state;
            await new Promise((r) => setTimeout(r, 100));
        }
        return state;
    };

    it("hides a silent cluster's other alerts behind its metrics dead-man's switch, and keeps what explains it", async () => {
        await post([
            {
                alertname: "ClusterMetricsAbsent",
                cluster: "edge-a",
                severity: "critical",
                category: "deadman",
                deadman: "true",
            },
            {
                alertname: "ClusterLogsAbsent",
                cluster: "edge-a",
                severity: "critical",
                category: "deadman",
                deadman: "true",
            },
            { alertname: "KubePodCrashLooping", cluster: "edge-a", severity: "warning", namespace: "shop" },
            { alertname: "NodeConditionPressure", cluster: "edge-a", severity: "warning", category: "cluster" },
            { alertname: "PrometheusRemoteStorageFailures", cluster: "edge-a", severity: "critical" },
            { alertname: "LogAgentSinkErrors", cluster: "edge-a", severity: "warning", category: "stack" },
            { alertname: "KubePodCrashLooping", cluster: "hub", severity: "warning", namespace: "shop" },
        ]);
        const state = await inhibited((s) => s.size === 7 && s.get("KubePodCrashLooping/edge-a") === true);
        assert.deepEqual(Object.fromEntries(state), {
            "ClusterMetricsAbsent/edge-a": false,
            "ClusterLogsAbsent/edge-a": false,
            "KubePodCrashLooping/edge-a": true,
            "NodeConditionPressure/edge-a": true,
            "PrometheusRemoteStorageFailures/edge-a": false,
            "LogAgentSinkErrors/edge-a": false,
            "KubePodCrashLooping/hub": false,
        });
    });

    it("hides a cluster's application alerts while its API server is down, and trace-derived ones when traces stop", async () => {
        await post([
            { alertname: "KubeAPIDown", cluster: "hub", severity: "critical" },
            {
                alertname: "ContainerOOMKilled",
                cluster: "hub",
                severity: "warning",
                category: "app",
                namespace: "shop",
            },
            { alertname: "NodeConditionPressure", cluster: "hub", severity: "warning", category: "cluster" },
            {
                alertname: "ClusterTracesStopped",
                cluster: "edge-b",
                severity: "warning",
                category: "deadman",
                deadman: "true",
            },
            {
                alertname: "ServiceErrorRateHigh",
                cluster: "edge-b",
                severity: "warning",
                category: "app",
                service: "shop",
            },
            { alertname: "ServiceLatencyHigh", cluster: "hub", severity: "warning", category: "app", service: "shop" },
        ]);
        const state = await inhibited(
            (s) =>
                s.size === 13 &&
                s.get("ContainerOOMKilled/hub") === true &&
                s.get("ServiceErrorRateHigh/edge-b") === true,
        );
        assert.equal(state.get("ContainerOOMKilled/hub"), true);
        assert.equal(state.get("ServiceErrorRateHigh/edge-b"), true);
        assert.equal(state.get("ServiceLatencyHigh/hub"), true);
        assert.equal(state.get("ClusterTracesStopped/edge-b"), false);
        assert.equal(state.get("NodeConditionPressure/hub"), false);
        assert.equal(state.get("KubeAPIDown/hub"), false);
    });

    it("hides them as well while every API server instance of the cluster fails its scrapes", async () => {
        await post([
            { alertname: "APIServerAllInstancesDown", cluster: "edge-c", severity: "critical" },
            {
                alertname: "ContainerOOMKilled",
                cluster: "edge-c",
                severity: "warning",
                category: "app",
                namespace: "shop",
            },
        ]);
        const state = await inhibited((s) => s.get("ContainerOOMKilled/edge-c") === true);
        assert.equal(state.get("ContainerOOMKilled/edge-c"), true);
        assert.equal(state.get("APIServerAllInstancesDown/edge-c"), false);
    });
});
