import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { RESOURCES } from "../components/core/resources";
import { images } from "../components/core/versions";
import { stackDashboards } from "../components/grafana/dashboards";
import { CONFIGMAP_LIMIT_BYTES, programBundle } from "../components/programs/bundle";
import { reporterSettings } from "../components/programs/reporter";
import { validateConfig, type RawConfig } from "../config";
import { reveal } from "../render/mock-engine";
import { renderStack, type RenderResult } from "../render/render";
import { REPORT_CRONJOB } from "../reporter/keys";
import { parseSettings } from "../reporter/settings";
import { mainConfig, projectDir } from "./helpers";

/**
 * The weekly report as main declares it: a CronJob on the configured schedule and time zone,
 * with the reporter's client certificate and no Kubernetes API rights at all, its settings from
 * config, its credentials from the encrypted secret only, and its bundle within a ConfigMap.
 */

type Manifest = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Kubernetes manifests

const fixture = (name: string) => path.join(projectDir, "test", "fixtures", name);

function byType(result: RenderResult, type: string): Manifest[] {
    return result.records.filter((r) => r.type === type).map((r) => reveal(r.inputs) as Manifest);
}

describe("report: the CronJob on main", () => {
    let main: RenderResult;
    let large: RenderResult;
    before(async () => {
        main = await renderStack({ projectDir, stack: "main" });
        large = await renderStack({ projectDir, stack: "main-large", stackFile: fixture("Pulumi.main-large.yaml") });
    });

    it("runs Monday 07:00 Europe/Paris by default, never twice at once, never retried", () => {
        const [cron] = byType(main, "kubernetes:batch/v1:CronJob");
        assert.equal(cron?.metadata.name, REPORT_CRONJOB);
        assert.equal(cron?.spec.schedule, "0 7 * * 1");
        assert.equal(cron?.spec.timeZone, "Europe/Paris");
        assert.equal(cron?.spec.concurrencyPolicy, "Forbid");
        assert.equal(cron?.spec.jobTemplate.spec.backoffLimit, 0);
        const [large1] = byType(large, "kubernetes:batch/v1:CronJob");
        assert.equal(large1?.spec.schedule, "30 6 * * 1");
        assert.equal(large1?.spec.timeZone, "America/New_York");
    });

    it("has no Kubernetes API rights: its own account, no token mounted, no role bound to it", () => {
        for (const result of [main, large]) {
            const [cron] = byType(result, "kubernetes:batch/v1:CronJob");
            const pod = cron?.spec.jobTemplate.spec.template.spec;
            assert.equal(pod.serviceAccountName, REPORT_CRONJOB);
            assert.equal(pod.automountServiceAccountToken, false);
            const account = byType(result, "kubernetes:core/v1:ServiceAccount").find(
                (a) => a.metadata.name === REPORT_CRONJOB,
            );
            assert.equal(account?.automountServiceAccountToken, false);
            const bindings = [
                ...byType(result, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"),
                ...byType(result, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"),
            ];
            const bound = bindings.filter((b) =>
                (b.subjects ?? []).some((s: Manifest) => s.kind === "ServiceAccount" && s.name === REPORT_CRONJOB),
            );
            assert.deepEqual(bound, []);
        }
    });

    it("mounts the reporter's client certificate, runs as non-root on a read-only root with the profile's resources", () => {
        const [cron] = byType(main, "kubernetes:batch/v1:CronJob");
        const pod = cron?.spec.jobTemplate.spec.template.spec;
        const [container] = pod.containers;
        assert.equal(container.image, images.node);
        assert.deepEqual(container.resources, RESOURCES.small.reporter);
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.deepEqual(container.securityContext.capabilities, { drop: ["ALL"] });
        assert.equal(pod.securityContext.runAsNonRoot, true);
        const tls = pod.volumes.find((v: Manifest) => v.name === "tls");
        assert.equal(tls.secret.secretName, "reporter-client-tls");
        const settings = JSON.parse(
            byType(main, "kubernetes:core/v1:ConfigMap").find((c) => c.metadata.name === REPORT_CRONJOB)?.data[
                "settings.json"
            ],
        );
        const mount = container.volumeMounts.find((m: Manifest) => m.name === "tls").mountPath;
        assert.equal(settings.tls.certFile, `${mount}/tls.crt`);
        assert.ok(!pod.volumes.some((v: Manifest) => v.name === "credentials"), "no channel, no credentials");
    });

    it("takes each channel's credential from the encrypted secret into a Secret, never into its settings", () => {
        const secret = byType(large, "kubernetes:core/v1:Secret").find(
            (s) => s.metadata.name === `${REPORT_CRONJOB}-credentials`,
        );
        assert.deepEqual(Object.keys(secret?.stringData ?? {}).sort(), [
            "git-token",
            "smtp-password",
            "webhook-archive",
            "webhook-sre-chat",
        ]);
        const code = byType(large, "kubernetes:core/v1:ConfigMap").find((c) => c.metadata.name === REPORT_CRONJOB);
        const settings = parseSettings(code?.data["settings.json"], "settings.json");
        assert.deepEqual(
            settings.delivery.webhooks.map((w) => w.name),
            ["sre-chat", "archive"],
        );
        assert.equal(settings.delivery.email?.username, "observability");
        assert.ok(!JSON.stringify(settings).includes("[secret]"));
    });

    it("bundles the reporter within three quarters of a ConfigMap", () => {
        const size = Buffer.byteLength(programBundle("reporter"));
        assert.ok(size < 0.75 * CONFIGMAP_LIMIT_BYTES, `${size} bytes`);
        assert.ok(size > 100_000, "the bundle carries its dependencies");
    });
});

describe("report: configuration", () => {
    const raw = (values: Record<string, unknown>, secrets: Record<string, string> = {}): RawConfig => {
        const base: Record<string, unknown> = {
            role: "main",
            cluster: { name: "hub" },
            exposure: { domain: "obs.example.org", kind: "traefik-passthrough" },
            storage: { kind: "filesystem" },
            ...values,
        };
        const all: Record<string, string> = {};
        for (const [k, v] of Object.entries(base))
            all[`observability:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
        for (const [k, v] of Object.entries(secrets)) all[`observability:${k}`] = v;
        return { values: all, isSecret: (key) => Object.keys(secrets).some((s) => key === `observability:${s}`) };
    };
    const problems = (values: Record<string, unknown>, secrets: Record<string, string> = {}) => {
        const result = validateConfig(raw(values, secrets));
        return "problems" in result ? result.problems : [];
    };

    it("refuses an unknown time zone and a schedule that is not cron, naming the key", () => {
        const found = problems({ report: { timeZone: "Mars/Olympus", schedule: "every monday" } });
        assert.ok(
            found.some((p) => p.startsWith("observability:report.timeZone:") && p.includes("Mars/Olympus")),
            found.join("\n"),
        );
        assert.ok(
            found.some((p) => p.startsWith("observability:report.schedule:") && p.includes("every monday")),
            found.join("\n"),
        );
    });

    it("needs reportCredentials with exactly the channels' credentials", () => {
        const report = {
            email: { host: "smtp.example.org", from: "a@example.org", to: ["b@example.org"], username: "u" },
            webhooks: [{ name: "chat", kind: "slack" }],
        };
        assert.ok(
            problems({ report }).some((p) => p.startsWith("observability:reportCredentials: expected a Pulumi secret")),
        );
        const wrong = problems(
            { report },
            { reportCredentials: JSON.stringify({ "smtp-password": "x", "webhook-other": "y" }) },
        );
        assert.deepEqual(wrong, [
            "observability:reportCredentials: expected a non-empty string for credential 'webhook-chat', found nothing",
            "observability:reportCredentials: expected only the credentials the channels take (smtp-password, webhook-chat), found 'webhook-other'",
        ]);
        assert.deepEqual(
            problems(
                { report },
                { reportCredentials: JSON.stringify({ "smtp-password": "x", "webhook-chat": "https://h/x" }) },
            ),
            [],
        );
    });

    it("writes settings the reporter accepts: the query gateway, the log gateway and the alert ingest over mTLS", () => {
        const config = mainConfig({
            cluster: { name: "hub" },
            exposure: { domain: "obs.example.org", kind: "traefik-passthrough" },
            storage: { kind: "filesystem" },
            subClusters: [{ name: "edge-a" }],
            namespace: "obs",
        });
        const settings = reporterSettings(config);
        assert.deepEqual(parseSettings(JSON.stringify(settings), "settings.json"), settings);
        assert.deepEqual(
            settings.clusters.map((c) => [c.name, c.role]),
            [
                ["hub", "main"],
                ["edge-a", "sub"],
            ],
        );
        assert.equal(settings.prometheusUrl, "https://query-gateway.obs.svc:10902");
        assert.equal(settings.lokiUrl, "https://loki-gateway.obs.svc:8443");
        assert.equal(settings.alertmanagerUrl, "https://alertmanager-ingest.obs.svc:9443");
        assert.deepEqual(settings.retentionAlerts, {
            metrics: ["ThanosCompactNotRunning"],
            logs: ["LokiRetentionNotApplied"],
            traces: ["TempoRetentionFailing"],
        });
        assert.deepEqual(settings.remediator, { namespace: "obs", service: "remediator" });
    });

    const fleet = (values: Record<string, unknown> = {}) =>
        mainConfig({
            cluster: { name: "hub" },
            exposure: { domain: "obs.example.org", kind: "traefik-passthrough" },
            storage: { kind: "filesystem" },
            namespace: "obs",
            ...values,
        });

    it("links Grafana at report.grafanaUrl, else grafana.rootUrl, else the port-forward it tells the reader to run", () => {
        const portForward = reporterSettings(fleet()).links;
        assert.equal(portForward.grafanaUrl, "http://localhost:3000");
        assert.equal(portForward.grafanaNote, "after kubectl -n obs port-forward svc/grafana 3000:80");
        const root = reporterSettings(fleet({ grafana: { rootUrl: "https://grafana.example.org" } })).links;
        assert.deepEqual([root.grafanaUrl, root.grafanaNote], ["https://grafana.example.org", ""]);
        const own = reporterSettings(
            fleet({
                grafana: { rootUrl: "https://grafana.example.org" },
                report: { grafanaUrl: "https://ops.example.org/grafana" },
            }),
        ).links;
        assert.deepEqual([own.grafanaUrl, own.grafanaNote], ["https://ops.example.org/grafana", ""]);
    });

    it("links a provisioned dashboard, Explore on the provisioned datasources, Alertmanager by its datasource's name", () => {
        const config = fleet();
        const links = reporterSettings(config).links;
        const uids = stackDashboards(config).map((d) => d.json.uid);
        assert.ok(uids.includes(links.clusterDashboard), `${links.clusterDashboard} in ${uids.join(", ")}`);
        assert.deepEqual(
            [links.metricsDatasource, links.logsDatasource, links.alertmanagerDatasource],
            ["thanos", "loki", "Alertmanager"],
        );
    });

    it("links runbooks under alerting.runbookBaseUrl, for the stack's own alerts, each with its page in docs/runbooks", () => {
        const base = "https://git.example.org/platform/observability/-/blob/main/docs/runbooks";
        const links = reporterSettings(fleet({ alerting: { runbookBaseUrl: base } })).links;
        assert.equal(links.runbookBaseUrl, base);
        const pages = new Set(
            fs.readdirSync(path.join(projectDir, "docs", "runbooks")).map((f) => f.replace(/\.md$/, "")),
        );
        assert.ok(links.runbookAlerts.length >= 30, String(links.runbookAlerts.length));
        for (const alert of links.runbookAlerts) assert.ok(pages.has(alert), `no docs/runbooks/${alert}.md`);
        assert.ok(links.runbookAlerts.includes("WeeklyReportNotDelivered"));
        assert.ok(!links.runbookAlerts.includes("KubePodCrashLooping"), "not the stack's: its runbook is its own");
    });

    it("refuses a relative runbook base once receivers deliver alerts, and a Grafana URL that is not one, naming the key", () => {
        const receivers = [{ name: "oncall", kind: "pagerduty" }];
        const credentials = { alertReceiverCredentials: JSON.stringify({ oncall: "routing-key" }) };
        assert.deepEqual(problems({ alerting: { receivers } }, credentials), [
            "observability:alerting.runbookBaseUrl: expected an absolute http(s) URL where docs/runbooks is browsable " +
                "(the repository's web URL), since receivers (oncall) send each alert's runbook_url to mail and chat " +
                'clients, which cannot open a relative path, found "docs/runbooks"; example: ' +
                "https://git.example.com/platform/observability/-/blob/main/docs/runbooks",
        ]);
        assert.deepEqual(
            problems(
                { alerting: { receivers, runbookBaseUrl: "https://git.example.org/p/o/-/blob/main/docs/runbooks" } },
                credentials,
            ),
            [],
        );
        // Without a receiver nobody is sent a runbook link: the repository path stays allowed.
        assert.deepEqual(problems({}), []);
        assert.deepEqual(problems({ report: { grafanaUrl: "grafana.example.org" } }), [
            'observability:report.grafanaUrl: expected an http(s) URL, found "grafana.example.org"; example: https://grafana.example.com',
        ]);
    });
});
