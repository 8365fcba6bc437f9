import { HttpError, type JsonClient } from "./http";

/**
 * The three APIs the reporter reads: Prometheus' query API (Thanos Query speaks it), Loki's
 * index volume API, and Alertmanager's v2 alerts. Answers are checked for the fields used and
 * turned into plain samples; anything else is an error naming the query.
 */

export interface Sample {
    labels: Record<string, string>;
    value: number;
}

export interface Series {
    labels: Record<string, string>;
    /** [seconds since epoch, value] pairs, oldest first. */
    points: [number, number][];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function labelsOf(v: unknown): Record<string, string> {
    if (!isObject(v)) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function pointOf(v: unknown): [number, number] | undefined {
    if (!Array.isArray(v) || v.length !== 2) return undefined;
    const [t, value] = v as [unknown, unknown];
    const n = typeof value === "string" ? Number(value) : NaN;
    return typeof t === "number" && Number.isFinite(n) ? [t, n] : undefined;
}

/** The `data.result` array of a Prometheus-style answer, of the expected type. */
function resultOf(answer: unknown, type: "vector" | "matrix" | "streams", what: string): unknown[] {
    if (!isObject(answer) || answer.status !== "success" || !isObject(answer.data)) {
        throw new HttpError(`${what}: answer without status success and data`);
    }
    const { resultType, result } = answer.data;
    if (resultType !== type || !Array.isArray(result)) {
        throw new HttpError(`${what}: expected a ${type}, found ${String(resultType)}`);
    }
    return result;
}

function vectorOf(answer: unknown, what: string): Sample[] {
    return resultOf(answer, "vector", what).flatMap((entry) => {
        if (!isObject(entry)) return [];
        const point = pointOf(entry.value);
        return point ? [{ labels: labelsOf(entry.metric), value: point[1] }] : [];
    });
}

function matrixOf(answer: unknown, what: string): Series[] {
    return resultOf(answer, "matrix", what).flatMap((entry) => {
        if (!isObject(entry) || !Array.isArray(entry.values)) return [];
        const points = entry.values.map(pointOf).filter((p): p is [number, number] => p !== undefined);
        return [{ labels: labelsOf(entry.metric), points }];
    });
}

const base = (url: string) => url.replace(/\/+$/, "");

export class PrometheusApi {
    constructor(
        private readonly client: JsonClient,
        private readonly url: string,
    ) {}

    /** An instant query at `time` (seconds). */
    async query(expr: string, time: number): Promise<Sample[]> {
        const params = new URLSearchParams({ query: expr, time: String(time) });
        return vectorOf(await this.client.getJson(`${base(this.url)}/api/v1/query?${params}`), expr);
    }

    /** An instant query of a range selector at `time`: the samples as stored, with their own timestamps. */
    async querySamples(expr: string, time: number): Promise<Series[]> {
        const params = new URLSearchParams({ query: expr, time: String(time) });
        return matrixOf(await this.client.getJson(`${base(this.url)}/api/v1/query?${params}`), expr);
    }

    /** A range query from `start` to `end` every `step` seconds. */
    async queryRange(expr: string, start: number, end: number, step: number): Promise<Series[]> {
        const params = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) });
        return matrixOf(await this.client.getJson(`${base(this.url)}/api/v1/query_range?${params}`), expr);
    }
}

export class LokiApi {
    constructor(
        private readonly client: JsonClient,
        private readonly url: string,
    ) {}

    /**
     * Bytes of log lines matching a stream selector between two times, by the target labels,
     * largest first: read from Loki's index, without scanning the lines.
     */
    async volume(
        tenant: string,
        selector: string,
        start: number,
        end: number,
        by: string[],
        limit: number,
    ): Promise<Sample[]> {
        const params = new URLSearchParams({
            query: selector,
            start: String(start),
            end: String(end),
            targetLabels: by.join(","),
            aggregateBy: "labels",
            limit: String(limit),
        });
        const answer = await this.client.getJson(`${base(this.url)}/loki/api/v1/index/volume?${params}`, {
            "X-Scope-OrgID": tenant,
        });
        return vectorOf(answer, `volume ${selector}`);
    }

    /** The same, per `step` seconds: the hours in which a tenant sent nothing show as gaps. */
    async volumeRange(tenant: string, selector: string, start: number, end: number, step: number): Promise<Series[]> {
        const params = new URLSearchParams({
            query: selector,
            start: String(start),
            end: String(end),
            step: String(step),
            aggregateBy: "series",
        });
        const answer = await this.client.getJson(`${base(this.url)}/loki/api/v1/index/volume_range?${params}`, {
            "X-Scope-OrgID": tenant,
        });
        return matrixOf(answer, `volume_range ${selector}`);
    }

    /** Log lines matching a LogQL query between two times (seconds), newest first, at most `limit`. */
    async lines(tenant: string, query: string, start: number, end: number, limit: number): Promise<LogLine[]> {
        const params = new URLSearchParams({
            query,
            start: new Date(start * 1000).toISOString(),
            end: new Date(end * 1000).toISOString(),
            limit: String(limit),
            direction: "backward",
        });
        const answer = await this.client.getJson(`${base(this.url)}/loki/api/v1/query_range?${params}`, {
            "X-Scope-OrgID": tenant,
        });
        return streamsOf(answer, `query_range ${query}`).sort((a, b) => b.at - a.at);
    }
}

/** One log line and when it was written (milliseconds since the epoch). */
export interface LogLine {
    at: number;
    line: string;
}

function streamsOf(answer: unknown, what: string): LogLine[] {
    return resultOf(answer, "streams", what).flatMap((entry) => {
        if (!isObject(entry) || !Array.isArray(entry.values)) return [];
        return entry.values.flatMap((v: unknown) => {
            if (!Array.isArray(v) || typeof v[0] !== "string" || typeof v[1] !== "string") return [];
            const ns = Number(v[0]);
            return Number.isFinite(ns) ? [{ at: Math.floor(ns / 1e6), line: v[1] }] : [];
        });
    });
}

export interface AlertmanagerAlert {
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
}

export class AlertmanagerApi {
    constructor(
        private readonly client: JsonClient,
        private readonly url: string,
    ) {}

    /** Alerts firing now that nobody silenced or inhibited. */
    async firing(): Promise<AlertmanagerAlert[]> {
        const params = new URLSearchParams({
            active: "true",
            silenced: "false",
            inhibited: "false",
            unprocessed: "false",
        });
        const answer = await this.client.getJson(`${base(this.url)}/api/v2/alerts?${params}`);
        if (!Array.isArray(answer)) throw new HttpError("alertmanager alerts: expected a list");
        return answer.flatMap((a) =>
            isObject(a) && typeof a.startsAt === "string"
                ? [{ labels: labelsOf(a.labels), annotations: labelsOf(a.annotations), startsAt: a.startsAt }]
                : [],
        );
    }
}
