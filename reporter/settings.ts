import { SMTP_SECURITY, WEBHOOK_KINDS, type DeliverySettings } from "./delivery-types";
import type { Signal } from "./types";

/**
 * The reporter's settings: one JSON document the main stack writes into a ConfigMap from its
 * validated config. Credentials are files of their own, mounted from a Secret. Checked by hand,
 * like the remediator's, to keep the bundle small.
 */

export interface ClusterSettings {
    name: string;
    role: "main" | "sub";
    /** Whether the cluster ships logs (its gaps and error producers are read from Loki). */
    logs: boolean;
}

export interface ReporterSettings {
    /** Every cluster of the fleet: main first. One that sent nothing still gets its section. */
    clusters: ClusterSettings[];
    /** Base URL of the Prometheus API over the fleet's metrics (Thanos Query, through the query gateway). */
    prometheusUrl: string;
    /** Base URL of Loki's API (the log gateway); absent when no cluster ships logs. */
    lokiUrl?: string;
    /** Base URL of Alertmanager's API (the alert ingest). */
    alertmanagerUrl: string;
    /** The reporter's client certificate, key and the fleet CA; absent only against plain-HTTP test servers. */
    tls?: { certFile: string; keyFile: string; caFile: string };
    /** IANA time zone the report shows dates in. */
    timeZone: string;
    /** Queries in flight at most. */
    concurrency: number;
    /** Deadline of each query. */
    queryTimeoutSeconds: number;
    /** Metric with each fleet certificate's expiry time (seconds), labelled `certificate`, `common_name`. */
    certificateMetric: string;
    /** Alerts whose firing means a store's retention is not applied, by store. */
    retentionAlerts: Record<Signal, string[]>;
    /** Where the report's links go. */
    links: LinkSettings;
    /** Where the remediator's audit lines are in each cluster's logs; absent: actions are only counted. */
    remediator?: { namespace: string; service: string };
    delivery: DeliverySettings;
    /** Directory of the credential files. */
    credentialsDir: string;
}

export interface LinkSettings {
    /** Grafana's URL as a reader opens it; every link but the runbooks' starts here. */
    grafanaUrl: string;
    /** What a reader must do first for that URL to open (a port-forward); empty when nothing. */
    grafanaNote: string;
    /** The dashboard a cluster's link opens, with its `cluster` variable set. */
    clusterDashboard: string;
    /** Datasource uids of Explore's metrics and logs links. */
    metricsDatasource: string;
    logsDatasource: string;
    /** Name of Alertmanager's datasource, which Grafana's alerting pages are asked for. */
    alertmanagerDatasource: string;
    /** Base of the stack's runbooks (`<base>/<Alert>.md`): absolute, or relative when no reader can open it. */
    runbookBaseUrl: string;
    /** The stack's own alerts, which have a runbook there. */
    runbookAlerts: string[];
}

type Check = (value: unknown, path: string, problems: string[]) => void;

const describe = (v: unknown) => JSON.stringify(v) ?? String(v);
const text: Check = (v, p, out) => {
    if (typeof v !== "string" || v === "") out.push(`${p}: expected a non-empty string, found ${describe(v)}`);
};
const url: Check = (v, p, out) => {
    if (typeof v !== "string" || !/^https?:\/\/[^\s/]+/.test(v))
        out.push(`${p}: expected an http(s) URL, found ${describe(v)}`);
};
const int =
    (min: number, max: number): Check =>
    (v, p, out) => {
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
            out.push(`${p}: expected a whole number from ${min} to ${max}, found ${describe(v)}`);
        }
    };
const oneOf =
    (values: readonly string[]): Check =>
    (v, p, out) => {
        if (typeof v !== "string" || !values.includes(v))
            out.push(`${p}: expected one of ${values.join(", ")}, found ${describe(v)}`);
    };
const list =
    (item: Check): Check =>
    (v, p, out) => {
        if (!Array.isArray(v)) out.push(`${p}: expected a list, found ${describe(v)}`);
        else v.forEach((x, i) => item(x, `${p}[${i}]`, out));
    };
const object =
    (fields: Record<string, Check>, optional: readonly string[] = []): Check =>
    (v, p, out) => {
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            out.push(`${p}: expected an object, found ${describe(v)}`);
            return;
        }
        const record = v as Record<string, unknown>;
        for (const [key, check] of Object.entries(fields)) {
            if (record[key] === undefined && optional.includes(key)) continue;
            check(record[key], p === "" ? key : `${p}.${key}`, out);
        }
    };
const timeZone: Check = (v, p, out) => {
    text(v, p, out);
    if (typeof v !== "string") return;
    try {
        new Intl.DateTimeFormat("en", { timeZone: v });
    } catch {
        out.push(`${p}: expected an IANA time zone such as Europe/Paris, found ${describe(v)}`);
    }
};
const string: Check = (v, p, out) => {
    if (typeof v !== "string") out.push(`${p}: expected a string, found ${describe(v)}`);
};
const bool: Check = (v, p, out) => {
    if (typeof v !== "boolean") out.push(`${p}: expected true or false, found ${describe(v)}`);
};

const SIGNALS = ["metrics", "logs", "traces"] as const;

const settingsCheck = object(
    {
        clusters: list(object({ name: text, role: oneOf(["main", "sub"]), logs: bool })),
        prometheusUrl: url,
        lokiUrl: url,
        alertmanagerUrl: url,
        tls: object({ certFile: text, keyFile: text, caFile: text }),
        timeZone,
        concurrency: int(1, 64),
        queryTimeoutSeconds: int(1, 3600),
        certificateMetric: text,
        retentionAlerts: object(Object.fromEntries(SIGNALS.map((s) => [s, list(text)]))),
        links: object({
            grafanaUrl: url,
            grafanaNote: string,
            clusterDashboard: text,
            metricsDatasource: text,
            logsDatasource: text,
            alertmanagerDatasource: text,
            runbookBaseUrl: text,
            runbookAlerts: list(text),
        }),
        remediator: object({ namespace: text, service: text }),
        delivery: object(
            {
                email: object(
                    {
                        host: text,
                        port: int(1, 65535),
                        security: oneOf(SMTP_SECURITY),
                        from: text,
                        to: list(text),
                        username: text,
                        caFile: text,
                    },
                    ["username", "caFile"],
                ),
                webhooks: list(object({ name: text, kind: oneOf(WEBHOOK_KINDS), caFile: text }, ["caFile"])),
                git: object({
                    provider: oneOf(["gitlab", "github"]),
                    apiUrl: url,
                    repository: text,
                    branch: text,
                    directory: text,
                }),
            },
            ["email", "git"],
        ),
        credentialsDir: text,
    },
    ["lokiUrl", "tls", "remediator"],
);

/** The settings document, checked; throws one error listing every problem with its path. */
export function parseSettings(raw: string, source: string): ReporterSettings {
    let value: unknown;
    try {
        value = JSON.parse(raw);
    } catch (error) {
        throw new Error(`${source}: not JSON (${(error as Error).message})`);
    }
    const problems: string[] = [];
    settingsCheck(value, "", problems);
    if (problems.length > 0) throw new Error(`${source}: invalid settings:\n  ${problems.join("\n  ")}`);
    const settings = value as ReporterSettings;
    if (settings.clusters.length === 0)
        throw new Error(`${source}: invalid settings:\n  clusters: expected at least one cluster, found none`);
    return settings;
}
