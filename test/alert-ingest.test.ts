import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { stringify } from "yaml";

import { alertIngestNginxConf } from "../components/alert-ingest";
import { certificateSpecs, type CertificateSpec } from "../components/pki-profiles";
import { describeOutcome, plainRequest, probeOk, request, type Outcome } from "../scripts/lib/harness/https";
import { locateNginx } from "../scripts/lib/harness/nginx";
import {
    freePort,
    HOST,
    locateBinaries,
    startServer,
    stopServer,
    waitReady,
    type Server,
} from "../scripts/lib/harness/processes";
import { issueCa, issueLeaf, writeTlsSecret, type Authority, type Issued } from "../scripts/lib/harness/x509";
import type { ResourceRecord } from "../scripts/lib/mock-engine";
import { renderStack, type RenderResult } from "../scripts/lib/render";
import { exampleMainConfig, projectDir, tempDir } from "./helpers";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- deep reads of resource inputs

const SUB_CLUSTER = "sub-eu-1";
const ALERTS = "/api/v2/alerts";

describe("alert ingest: as declared on main", () => {
    let result: RenderResult;
    const byName = (name: string): ResourceRecord => {
        const record = result.records.find((r) => r.name === name && r.custom);
        assert.ok(record, `no ${name}`);
        return record;
    };

    before(async () => {
        result = await renderStack({ projectDir, stack: "main", preview: true });
    });

    it("runs nginx unprivileged, read-only, without capabilities, within the profile's resources", () => {
        const spec = (byName("main-alert-ingest").inputs as Values).spec.template.spec;
        assert.deepEqual(spec.securityContext, {
            runAsNonRoot: true,
            runAsUser: 101,
            runAsGroup: 101,
            seccompProfile: { type: "RuntimeDefault" },
        });
        const container = spec.containers[0];
        assert.deepEqual(container.securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        });
        assert.deepEqual(container.resources, {
            requests: { cpu: "20m", memory: "32Mi" },
            limits: { cpu: "100m", memory: "64Mi" },
        });
        assert.deepEqual(spec.volumes[1], { name: "tls", secret: { secretName: "alertmanager-tls" } });
        assert.deepEqual(container.readinessProbe, { httpGet: { path: "/healthz", port: "probe" } });
    });

    it("serves the alerts endpoint sub clusters dial, through a Traefik passthrough route", () => {
        const route = result.records.find(
            (r) =>
                r.type === "kubernetes:traefik.io/v1alpha1:IngressRouteTCP" && r.name === "main-alert-ingest-exposure",
        );
        assert.deepEqual((route?.inputs.spec as Values).routes, [
            { match: "HostSNI(`alerts.obs.example.com`)", services: [{ name: "alertmanager-ingest", port: 9443 }] },
        ]);
        assert.deepEqual((byName("main-alert-ingest-service").inputs.spec as Values).ports, [
            { name: "alerts", port: 9443, targetPort: 9443 },
        ]);
    });

    it("forwards to main's Alertmanager in-cluster, and rolls on a new certificate", () => {
        const conf = (byName("main-alert-ingest-config").inputs as Values).data["nginx.conf"] as string;
        assert.match(conf, /proxy_pass http:\/\/kps-alertmanager\.observability\.svc:9093;/);
        const annotations = (byName("main-alert-ingest").inputs as Values).spec.template.metadata.annotations;
        assert.match(annotations["observability/certificate-revision"], /^[0-9a-f]{16}$/);
        assert.match(annotations["observability/config-revision"], /^[0-9a-f]{16}$/);
    });
});

describe("alert ingest: a real nginx in front of a real Alertmanager", () => {
    const work = tempDir("alert-ingest");
    const config = exampleMainConfig(SUB_CLUSTER);
    const specs = certificateSpecs(config);
    const spec = (predicate: (s: CertificateSpec) => boolean): CertificateSpec => {
        const found = specs.find(predicate);
        assert.ok(found);
        return found;
    };
    const servername = "alerts.obs.example.com";
    let ca: Authority;
    let cluster: Issued;
    let grafana: Issued;
    let nginx: Server;
    let alertmanager: Server;

    const send = (identity: Issued | undefined, method: string, body?: string): Promise<Outcome> =>
        request({ port: nginx.port, servername, identity }, ca, {
            method,
            path: ALERTS,
            ...(body !== undefined ? { body, headers: { "content-type": "application/json" } } : {}),
        });

    const alertsAtAlertmanager = async (): Promise<Values[]> => {
        const outcome = await plainRequest(alertmanager.port, { path: ALERTS });
        assert.equal(outcome.status, 200, describeOutcome(outcome));
        return JSON.parse(outcome.body ?? "[]") as Values[];
    };

    before(async () => {
        const binaries = locateBinaries(["alertmanager"], "the alert ingest proof runs a real Alertmanager");
        const nginxBinary = locateNginx();
        ca = await issueCa(spec((s) => s.kind === "ca"));
        const server = await issueLeaf(
            spec((s) => s.profile === "alertmanager"),
            ca,
        );
        cluster = await issueLeaf(
            spec((s) => s.cluster === SUB_CLUSTER),
            ca,
        );
        grafana = await issueLeaf(
            spec((s) => s.profile === "grafana"),
            ca,
        );
        const tlsDir = writeTlsSecret(path.join(work, "tls"), server, ca);

        const amPort = await freePort();
        fs.writeFileSync(
            path.join(work, "alertmanager.yml"),
            stringify({ route: { receiver: "blackhole" }, receivers: [{ name: "blackhole" }] }),
        );
        alertmanager = startServer(
            "alertmanager",
            binaries.alertmanager,
            [
                `--config.file=${path.join(work, "alertmanager.yml")}`,
                `--storage.path=${path.join(work, "am-data")}`,
                `--web.listen-address=${HOST}:${amPort}`,
                "--cluster.listen-address=",
            ],
            amPort,
        );
        await waitReady(alertmanager, () => probeOk(plainRequest(amPort, { path: "/-/ready" })));

        const port = await freePort();
        const probePort = await freePort();
        const conf = alertIngestNginxConf({
            listen: `${HOST}:${port}`,
            probeListen: `${HOST}:${probePort}`,
            tlsDir,
            upstream: `${HOST}:${amPort}`,
            tempDir: work,
        });
        fs.writeFileSync(path.join(work, "nginx.conf"), conf);
        const args = ["-p", work, "-c", path.join(work, "nginx.conf"), "-e", path.join(work, "error.log")];
        const check = spawnSync(nginxBinary, ["-t", ...args], { encoding: "utf8" });
        assert.equal(check.status, 0, `nginx -t refused the generated configuration:\n${check.stderr}`);
        nginx = startServer("nginx", nginxBinary, [...args, "-g", "daemon off; master_process off;"], port);
        await waitReady(nginx, () => probeOk(plainRequest(probePort, { path: "/healthz" })));
    });

    after(async () => {
        await Promise.all([nginx, alertmanager].filter((s) => s !== undefined).map(stopServer));
    });

    it("delivers a sub cluster's alert to Alertmanager, with the cluster label it carries", async () => {
        const alert = [{ labels: { alertname: "IngestProbe", cluster: SUB_CLUSTER, severity: "info" } }];
        const outcome = await send(cluster, "POST", JSON.stringify(alert));
        assert.equal(outcome.status, 200, describeOutcome(outcome));
        const held = await alertsAtAlertmanager();
        assert.deepEqual(
            held.map((a) => [a.labels.alertname, a.labels.cluster]),
            [["IngestProbe", SUB_CLUSTER]],
        );
    });

    it("refuses a client without a certificate before Alertmanager", async () => {
        const before = (await alertsAtAlertmanager()).length;
        const alert = [{ labels: { alertname: "Anonymous", cluster: "forged" } }];
        const outcome = await send(undefined, "POST", JSON.stringify(alert));
        assert.equal(outcome.status, 400, describeOutcome(outcome));
        assert.equal((await alertsAtAlertmanager()).length, before);
    });

    it("refuses Grafana's certificate posting alerts, and lets it read them", async () => {
        const post = await send(grafana, "POST", JSON.stringify([{ labels: { alertname: "FromGrafana" } }]));
        assert.equal(post.status, 403, describeOutcome(post));
        const read = await send(grafana, "GET");
        assert.equal(read.status, 200, describeOutcome(read));
        assert.ok(!(await alertsAtAlertmanager()).some((a) => a.labels.alertname === "FromGrafana"));
    });

    it("refuses a cluster certificate reading or silencing", async () => {
        const read = await send(cluster, "GET");
        assert.equal(read.status, 403, describeOutcome(read));
        const silence = await request({ port: nginx.port, servername, identity: cluster }, ca, {
            method: "POST",
            path: "/api/v2/silences",
            body: "{}",
            headers: { "content-type": "application/json" },
        });
        assert.equal(silence.status, 403, describeOutcome(silence));
    });
});
