import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { parser as promqlParser } from "@prometheus-io/lezer-promql";

import { STACK_METRICS } from "../components/grafana/dashboards";
import {
    ADMIN_PASSWORD_KEY,
    DATASOURCE_UIDS,
    datasourceProvisioning,
    datasources,
    escapeProvisioning,
    GRAFANA_CLIENT_DIR,
    GRAFANA_CLIENT_SECRET,
    grafanaValues,
    SPAN_TO_LOG_LABELS,
    SPAN_TO_METRIC_LABELS,
    TRACE_ID_PATTERN,
} from "../components/grafana/values";
import { LOKI_LABELS } from "../components/logs/values";
import { certificateSpecs } from "../components/pki/profiles";
import { GENERATOR_DIMENSIONS } from "../components/traces/values";
import type { ResourceRecord } from "../render/mock-engine";
import { renderStack, type RenderResult } from "../render/render";
import { fixture, projectDir, TEST_S3_STORAGE, testMain } from "./helpers";

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- deep reads of values

// --- models of what happens to a provisioned value on its way into Grafana ------------------------

/** Go's `os.Expand` over an environment: `${name}`, `$name`, `$` + special character (os/env.go). */
function goExpand(s: string, env: (name: string) => string): string {
    const special = (c: string | undefined) => c !== undefined && "*#$@!?-0123456789".includes(c);
    const alnum = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);
    let out = "";
    let i = 0;
    while (i < s.length) {
        const c = s[i] as string;
        if (c !== "$" || i + 1 >= s.length) {
            out += c;
            i++;
            continue;
        }
        const rest = s.slice(i + 1);
        let name = "";
        let width = 0;
        if (rest[0] === "{") {
            if (rest.length > 2 && special(rest[1]) && rest[2] === "}") [name, width] = [rest[1] as string, 3];
            else {
                const close = rest.indexOf("}");
                if (close === 1)
                    width = 2; // `${}`: bad syntax, eaten
                else if (close < 0)
                    width = 1; // `${` without `}`: bad syntax, `${` eaten
                else [name, width] = [rest.slice(1, close), close + 1];
            }
        } else if (special(rest[0])) [name, width] = [rest[0] as string, 1];
        else {
            while (alnum(rest[width])) width++;
            name = rest.slice(0, width);
        }
        if (name === "" && width > 0) {
            // invalid syntax: eaten
        } else if (name === "") out += "$";
        else out += env(name);
        i += 1 + width;
    }
    return out;
}

/**
 * Grafana's provisioning of one string value: split on `$$`, expand `$__file{…}` and
 * `$__env{…}`, then the process environment (empty here), joined back with `$`.
 */
function grafanaInterpolate(value: string): string {
    return value
        .split("$$")
        .map((part) =>
            goExpand(part.replace(/\$__file\{([^}]*)\}/g, "<file:$1>").replace(/\$__env\{[^}]*\}/g, ""), () => ""),
        )
        .join("$");
}

/** Helm's `tpl` on a string with no actions but the escaped `{{`; refuses any other action. */
function helmTpl(value: string): string {
    const unescaped = value.replaceAll('{{ "{{" }}', "\u0000");
    assert.ok(!unescaped.includes("{{"), `tpl would run an action in ${JSON.stringify(value)}`);
    return unescaped.replaceAll("\u0000", "{{");
}

function mapStrings(value: unknown, f: (s: string) => string): unknown {
    if (typeof value === "string") return f(value);
    if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
    }
    return value;
}

/** Every `datasourceUid` anywhere in a value, with its path. */
function links(value: unknown, path = ""): [string, string][] {
    if (Array.isArray(value)) return value.flatMap((v, i) => links(v, `${path}[${i}]`));
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) =>
            k === "datasourceUid" ? [[path, String(v)] as [string, string]] : links(v, path ? `${path}.${k}` : k),
        );
    }
    return [];
}

// --- tests ---------------------------------------------------------------------------------------

const config = testMain({ subClusters: [{ name: "edge-a" }, { name: "edge-b" }] });
const provisioned = datasourceProvisioning(config).datasources as Values[];
const raw = datasources(config);

describe("grafana: datasources", () => {
    it("provisions Thanos, Loki, Tempo and Alertmanager under fixed, distinct UIDs", () => {
        assert.deepEqual(
            provisioned.map((d) => [d.type, d.uid]),
            [
                ["prometheus", "thanos"],
                ["loki", "loki"],
                ["tempo", "tempo"],
                ["alertmanager", "alertmanager"],
            ],
        );
        assert.equal(provisioned.filter((d) => d.isDefault === true).length, 1);
    });

    it("sends Grafana's client certificate and verifies each server with the fleet CA (P21)", () => {
        for (const ds of provisioned) {
            assert.equal(ds.jsonData.tlsAuth, true, ds.name);
            assert.equal(ds.jsonData.tlsAuthWithCACert, true, ds.name);
            assert.equal(ds.jsonData.tlsSkipVerify, false, ds.name);
            assert.deepEqual(
                [ds.secureJsonData.tlsCACert, ds.secureJsonData.tlsClientCert, ds.secureJsonData.tlsClientKey],
                ["ca.crt", "tls.crt", "tls.key"].map((f) => `$__file{${GRAFANA_CLIENT_DIR}/${f}}`),
                ds.name,
            );
        }
    });

    it("dials each brick at a name its client-verifying server certificate carries", () => {
        const specs = certificateSpecs(config);
        const expected: Record<string, string> = {
            thanos: "query-gateway",
            loki: "logs-ingest",
            tempo: "query-gateway",
            alertmanager: "alertmanager",
        };
        for (const ds of provisioned) {
            const url = new URL(ds.url as string);
            assert.equal(url.protocol, "https:", ds.name);
            const server = specs.find((s) => s.kind === "server" && s.dnsNames.includes(url.hostname));
            assert.ok(server, `${ds.name}: no server certificate names ${url.hostname}`);
            assert.equal(server.profile, expected[ds.uid as string], ds.name);
        }
        assert.deepEqual(
            provisioned.map((d) => new URL(d.url as string).port),
            ["10902", "8443", "3200", "9443"],
        );
    });

    it("reads logs of every cluster of the fleet through the gateway's tenant header", () => {
        const loki = provisioned.find((d) => d.uid === "loki");
        assert.equal(loki?.jsonData.httpHeaderName1, "X-Scope-OrgID");
        assert.equal(loki?.secureJsonData.httpHeaderValue1, "hub|edge-a|edge-b");
    });

    it("reads traces of every cluster's Tempo tenant at once, the header passed on by the query gateway", () => {
        const tempo = provisioned.find((d) => d.type === "tempo");
        assert.equal(tempo?.jsonData.httpHeaderName1, "X-Scope-OrgID");
        assert.equal(tempo?.secureJsonData.httpHeaderValue1, "hub|edge-a|edge-b");
    });
});

describe("grafana: correlations", () => {
    it("links each signal to the others by UIDs that exist", () => {
        const uids = new Set(provisioned.map((d) => d.uid as string));
        const found = provisioned.flatMap((d) => links(d.jsonData).map(([p, uid]) => [`${d.uid}.${p}`, uid]));
        assert.deepEqual(Object.fromEntries(found), {
            "thanos.exemplarTraceIdDestinations[0]": DATASOURCE_UIDS.traces,
            "loki.derivedFields[0]": DATASOURCE_UIDS.traces,
            "tempo.tracesToLogsV2": DATASOURCE_UIDS.logs,
            "tempo.tracesToMetrics": DATASOURCE_UIDS.metrics,
            "tempo.serviceMap": DATASOURCE_UIDS.metrics,
            "tempo.lokiSearch": DATASOURCE_UIDS.logs,
        });
        for (const [where, uid] of found) assert.ok(uids.has(uid as string), `${where} -> ${uid}`);
        assert.equal(provisioned.find((d) => d.uid === "tempo")?.jsonData.nodeGraph.enabled, true);
    });

    it("keeps every template variable through Helm's tpl and Grafana's provisioning (P9, P22)", () => {
        for (const [i, ds] of provisioned.entries()) {
            const seen = mapStrings(mapStrings(ds.jsonData, helmTpl), grafanaInterpolate);
            assert.deepEqual(seen, raw[i]?.jsonData, `${ds.name}: jsonData changed on its way in`);
        }
        const tempo = raw.find((d) => d.uid === "tempo")?.jsonData as Values;
        assert.equal(tempo.tracesToLogsV2.query, '{${__tags}} |= "${__trace.traceId}"');
        assert.match(tempo.tracesToMetrics.queries[0].query, /\{\$__tags\}/);
        assert.equal((raw.find((d) => d.uid === "loki")?.jsonData as Values).derivedFields[0].url, "${__value.raw}");
    });

    it("would lose the variables without the escaping (control)", () => {
        assert.equal(grafanaInterpolate("${__value.raw}"), "");
        assert.equal(grafanaInterpolate("rate(x{$__tags}[5m])"), "rate(x{}[5m])");
        assert.equal(grafanaInterpolate(escapeProvisioning("${__value.raw}")), "${__value.raw}");
        assert.throws(() => helmTpl('{{ .Values.x }} | line_format "{{.msg}}"'));
        assert.equal(helmTpl(escapeProvisioning('line_format "{{.msg}}"')), 'line_format "{{.msg}}"');
    });

    it("expands the certificate files and nothing else in the secure fields", () => {
        for (const ds of provisioned) {
            const seen = mapStrings(mapStrings(ds.secureJsonData, helmTpl), grafanaInterpolate) as Values;
            assert.equal(seen.tlsClientKey, `<file:${GRAFANA_CLIENT_DIR}/tls.key>`);
        }
        const loki = provisioned.find((d) => d.uid === "loki");
        assert.equal(grafanaInterpolate(loki?.secureJsonData.httpHeaderValue1), "hub|edge-a|edge-b");
    });

    it("finds trace ids in the log lines applications and Traefik write, and not span ids", () => {
        const id = "4bf92f3577b34da6a3ce929d0e0e4736";
        const pattern = new RegExp(TRACE_ID_PATTERN);
        for (const line of [
            `level=info trace_id=${id} msg="served"`,
            `{"level":"info","trace_id":"${id}","msg":"served"}`,
            `ts=1 traceID=${id}`,
            `{"TraceId": "${id}"}`,
        ]) {
            assert.equal(pattern.exec(line)?.[1], id, line);
        }
        assert.equal(pattern.exec(`span_id=00f067aa0ba902b7 msg=x`), null);
    });

    it("maps span attributes to labels the stores have", () => {
        for (const { value } of SPAN_TO_LOG_LABELS) assert.ok((LOKI_LABELS as readonly string[]).includes(value));
        // Span metrics carry `service` by default and the generator's extra dimensions.
        const spanMetricLabels = new Set(["service", "span_name", "span_kind", "status_code", ...GENERATOR_DIMENSIONS]);
        for (const { value } of SPAN_TO_METRIC_LABELS) assert.ok(spanMetricLabels.has(value), value);
    });

    it("queries span metrics the stack produces, in PromQL that parses", () => {
        const tempo = raw.find((d) => d.uid === "tempo")?.jsonData as Values;
        for (const { query } of tempo.tracesToMetrics.queries as { query: string }[]) {
            const text = query.replace("$__tags", 'service="x"');
            const cursor = promqlParser.parse(text).cursor();
            do {
                assert.ok(!cursor.type.isError, `${query} does not parse`);
                if (cursor.name === "Identifier") assert.ok(STACK_METRICS.has(text.slice(cursor.from, cursor.to)));
            } while (cursor.next());
        }
    });
});

describe("grafana: chart values", () => {
    const values = grafanaValues({ config, clientRevision: "rev-1" }) as Values;

    it("takes the admin from the generated Secret, and lets nobody in anonymously", () => {
        assert.deepEqual(values.admin, {
            existingSecret: "grafana-admin",
            userKey: "admin-user",
            passwordKey: ADMIN_PASSWORD_KEY,
        });
        const ini = values["grafana.ini"];
        assert.equal(ini["auth.anonymous"].enabled, false);
        assert.equal(ini.users.allow_sign_up, false);
        assert.equal(ini["auth.generic_oauth"], undefined);
        assert.equal(ini.analytics.reporting_enabled, false);
    });

    it("provisions the datasources through a Secret, never a ConfigMap", () => {
        assert.deepEqual(Object.keys(values.datasources), ["datasources.yaml"]);
        assert.deepEqual(Object.keys(values.datasources["datasources.yaml"]), ["secret"]);
        assert.deepEqual(values.extraSecretMounts, [
            {
                name: "client-tls",
                secretName: GRAFANA_CLIENT_SECRET,
                mountPath: GRAFANA_CLIENT_DIR,
                readOnly: true,
                defaultMode: 0o440,
            },
        ]);
    });

    it("runs unprivileged on a read-only root, with no root init container and no test pod", () => {
        const ctx = values.containerSecurityContext;
        assert.equal(ctx.readOnlyRootFilesystem, true);
        assert.equal(ctx.allowPrivilegeEscalation, false);
        assert.deepEqual(ctx.capabilities, { drop: ["ALL"] });
        assert.equal(values.securityContext, undefined, "the chart's runAsNonRoot 472 stays");
        assert.equal(values.initChownData.enabled, false);
        assert.equal(values.testFramework.enabled, false);
        assert.equal(values.sidecar.securityContext.readOnlyRootFilesystem, true);
        assert.equal(values.rbac.namespaced, true);
        assert.deepEqual(values.resources, {
            requests: { cpu: "100m", memory: "256Mi" },
            limits: { cpu: "500m", memory: "512Mi" },
        });
    });

    it("keeps its database on a volume sized by profile, or as configured", () => {
        const size = (extra: Record<string, unknown>) =>
            (grafanaValues({ config: testMain(extra), clientRevision: "" }) as Values).persistence.size;
        assert.equal(size({}), "5Gi");
        assert.equal(size({ profile: "medium" }), "10Gi");
        assert.equal(size({ profile: "large", storage: TEST_S3_STORAGE }), "20Gi");
        assert.equal(size({ grafana: { storageSize: "7Gi" } }), "7Gi");
        assert.equal(values.persistence.enabled, true);
    });

    it("rolls Grafana on a new client certificate or new datasources, which it reads at start", () => {
        const other = grafanaValues({
            config: testMain({ subClusters: [{ name: "edge-a" }] }),
            clientRevision: "rev-2",
        }) as Values;
        assert.equal(values.podAnnotations["observability/certificate-revision"], "rev-1");
        assert.equal(other.podAnnotations["observability/certificate-revision"], "rev-2");
        assert.notEqual(
            values.podAnnotations["observability/config-revision"],
            other.podAnnotations["observability/config-revision"],
        );
    });
});

describe("grafana: as declared on main stacks", () => {
    let main: RenderResult;
    let large: RenderResult;
    const find = (result: RenderResult, name: string): ResourceRecord => {
        const record = result.records.find((r) => r.name === name);
        assert.ok(record, `no ${name}`);
        return record;
    };

    before(async () => {
        main = await renderStack({ projectDir, stack: "main" });
        large = await renderStack({ projectDir, stack: "main-large", stackFile: fixture("Pulumi.main-large.yaml") });
    });

    it("generates the admin password into a Secret, as a secret, renewed by a new generation", () => {
        const password = find(main, "main-grafana-admin-password");
        assert.equal(password.type, "random:index/randomPassword:RandomPassword");
        assert.deepEqual(password.inputs.keepers, { generation: "0" });
        const secret = find(main, "main-grafana-admin");
        assert.equal((secret.inputs as Values).metadata.name, "grafana-admin");
        const rendered = main.files.get("resources.yaml") ?? "";
        assert.match(rendered, /admin-password: "\[secret\]"/);
        assert.doesNotMatch(rendered, /mock-password-of/);
    });

    it("declares no ConfigMap carrying datasources or keys", () => {
        for (const record of main.records.filter((r) => r.type === "kubernetes:core/v1:ConfigMap")) {
            assert.doesNotMatch(JSON.stringify(record.inputs), /tlsClientKey|secureJsonData/, record.name);
        }
    });

    it("signs in through OIDC when configured, its client secret only in a Secret", () => {
        const values = (find(large, "core-grafana-chart").inputs as Values).values;
        const oauth = values["grafana.ini"]["auth.generic_oauth"];
        assert.equal(oauth.enabled, true);
        assert.equal(oauth.client_id, "grafana");
        assert.equal(oauth.client_secret, undefined);
        assert.equal(oauth.role_attribute_strict, true);
        assert.equal(values["grafana.ini"].server.root_url, "https://grafana.example.org");
        assert.deepEqual(values.envValueFrom.GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET, {
            secretKeyRef: { name: "grafana-oidc", key: "client-secret" },
        });
        assert.equal(values.persistence.size, "30Gi");
        const rendered = large.files.get("resources.yaml") ?? "";
        const oidcSecret = rendered.split("---\n").find((doc) => doc.includes("name: core-grafana-oidc\n"));
        assert.ok(oidcSecret);
        assert.match(oidcSecret, /client-secret: "\[secret\]"/);
    });
});
