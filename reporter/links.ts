import type { LinkSettings } from "./settings";
import type { Link, Span } from "./types";

/**
 * Where the report sends its reader: Grafana's dashboards and Explore over the hours of an
 * incident, Grafana's pages for Alertmanager's alerts and silences, and each alert's runbook.
 * Every URL is absolute and percent-encodes everything but letters, digits and `-_.~` in its
 * query, so it reads the same in Markdown, HTML, a mail client or a chat message.
 */

/** A URL query component, with `!'()*` encoded too (a Markdown link ends at an unbalanced parenthesis). */
export function component(value: string): string {
    return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Whether a URL is one a reader can open: absolute, http or https. */
export const isAbsoluteUrl = (url: string): boolean => /^https?:\/\/[^\s/]+/i.test(url);

/** Explore shows this much before and after the incident, so that its edges are visible. */
export const EXPLORE_MARGIN_MS = 30 * 60_000;

const trimSlash = (url: string) => url.replace(/\/+$/, "");
const query = (params: [string, string][]) => params.map(([k, v]) => `${component(k)}=${component(v)}`).join("&");

/** The explore pane's datasource type of each signal the report links to. */
const DATASOURCE_TYPES = { metrics: "prometheus", logs: "loki" } as const;

export class Links {
    private readonly grafanaUrl: string;

    constructor(private readonly settings: LinkSettings) {
        this.grafanaUrl = trimSlash(settings.grafanaUrl);
    }

    /** Grafana's home. */
    grafana(): Link {
        return { label: "Grafana", url: `${this.grafanaUrl}/` };
    }

    /** The cluster's dashboard over `span`, its `cluster` variable set. */
    dashboard(cluster: string, span: Span): Link {
        const params: [string, string][] = [
            ["var-cluster", cluster],
            ["from", String(Date.parse(span.from))],
            ["to", String(Date.parse(span.to))],
        ];
        return {
            label: "dashboard",
            url: `${this.grafanaUrl}/d/${component(this.settings.clusterDashboard)}?${query(params)}`,
        };
    }

    /**
     * Explore with one query over `span`, with {@link EXPLORE_MARGIN_MS} either side unless
     * `exact`: Grafana's `left` pane state, a JSON object with the datasource's uid, the query and
     * the range in milliseconds.
     */
    explore(signal: "metrics" | "logs", expr: string, span: Span, exact = false): Link {
        const margin = exact ? 0 : EXPLORE_MARGIN_MS;
        const uid = signal === "metrics" ? this.settings.metricsDatasource : this.settings.logsDatasource;
        const left = {
            datasource: uid,
            queries: [{ refId: "A", datasource: { type: DATASOURCE_TYPES[signal], uid }, expr }],
            range: { from: String(Date.parse(span.from) - margin), to: String(Date.parse(span.to) + margin) },
        };
        return {
            label: signal === "metrics" ? "Explore" : "logs",
            url: `${this.grafanaUrl}/explore?${query([
                ["orgId", "1"],
                ["left", JSON.stringify(left)],
            ])}`,
        };
    }

    /** Alertmanager's alerts, in Grafana's alerting pages. */
    alerts(): Link {
        return {
            label: "alerts",
            url: `${this.grafanaUrl}/alerting/groups?${query([["alertmanager", this.settings.alertmanagerDatasource]])}`,
        };
    }

    /** Alertmanager's silences, in Grafana. */
    silences(): Link {
        return {
            label: "silences",
            url: `${this.grafanaUrl}/alerting/silences?${query([["alertmanager", this.settings.alertmanagerDatasource]])}`,
        };
    }

    /** Grafana's form for a new silence of Alertmanager's, one matcher per label. */
    silence(labels: Record<string, string>): Link {
        const matchers = Object.entries(labels)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([k, v]): [string, string] => ["matcher", `${k}=${v}`]);
        return {
            label: "silence",
            url: `${this.grafanaUrl}/alerting/silence/new?${query([
                ["alertmanager", this.settings.alertmanagerDatasource],
                ...matchers,
            ])}`,
        };
    }

    /**
     * An alert's runbook: its own `runbook_url` when a reader can open it, else the stack's
     * runbook of that name under an absolute base; otherwise no link and why.
     */
    runbook(alertname: string, annotation: string): { link: Link | null; missing: string } {
        if (isAbsoluteUrl(annotation)) return { link: { label: "runbook", url: annotation }, missing: "" };
        const base = trimSlash(this.settings.runbookBaseUrl);
        if (this.settings.runbookAlerts.includes(alertname)) {
            if (isAbsoluteUrl(base)) return { link: { label: "runbook", url: `${base}/${alertname}.md` }, missing: "" };
            return {
                link: null,
                missing: `runbook ${base}/${alertname}.md in the observability repository (observability:alerting.runbookBaseUrl is not a URL)`,
            };
        }
        if (annotation !== "") return { link: null, missing: `its runbook_url is not a URL: ${annotation}` };
        return { link: null, missing: "it has no runbook" };
    }
}
