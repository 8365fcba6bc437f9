import { REMEDIATION_LABEL } from "./keys";
import { NAMESPACE_NAME, WORKLOAD_KINDS, type WorkloadKind, type WorkloadRef } from "./types";

/**
 * Reading Prometheus' `/api/v1/alerts` answer. It comes from the network, so nothing in it is
 * trusted: every field is checked, anything odd is refused with a reason, and no string from it
 * reaches a log line unbounded.
 */

/** A firing budget alert on a workload the remediator may consider. */
export interface Candidate {
    ref: WorkloadRef;
    alertname: string;
    /** As Prometheus wrote it, and as a number. */
    value: string;
    numericValue: number;
    activeAt: string;
    summary: string;
}

/** The whole answer is unusable. */
export class PayloadError extends Error {}

/** More alerts than any real cluster fires at once: refuse rather than spend memory on them. */
const MAX_ALERTS = 20_000;

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const KIND_BY_TYPE: Record<string, WorkloadKind> = Object.fromEntries(
    WORKLOAD_KINDS.map((kind) => [kind.toLowerCase(), kind]),
);

/** A value from the payload, quoted and cut short, for a refusal reason. */
export function quote(value: unknown): string {
    let text: string;
    try {
        text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
    } catch {
        text = Object.prototype.toString.call(value);
    }
    const short = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    return JSON.stringify(short);
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function own(record: Record<string, unknown>, key: string): unknown {
    return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/**
 * Splits the answer into candidates and refusals. Alerts without `remediation="true"`, and
 * pending ones, are not the remediator's business and are left out silently; a budget alert that
 * is malformed is refused with the reason. Throws {@link PayloadError} when the answer itself is
 * not a successful alerts list.
 */
export function readAlerts(
    body: unknown,
    knownAlerts: ReadonlySet<string>,
): { candidates: Candidate[]; refused: string[] } {
    if (!isRecord(body)) throw new PayloadError(`expected a JSON object, found ${quote(body)}`);
    if (own(body, "status") !== "success") {
        throw new PayloadError(`expected status "success", found ${quote(own(body, "status"))}`);
    }
    const data = own(body, "data");
    const alerts = isRecord(data) ? own(data, "alerts") : undefined;
    if (!Array.isArray(alerts)) throw new PayloadError(`expected data.alerts to be a list, found ${quote(alerts)}`);
    if (alerts.length > MAX_ALERTS) {
        throw new PayloadError(`expected at most ${MAX_ALERTS} alerts, found ${alerts.length}`);
    }
    const candidates: Candidate[] = [];
    const refused: string[] = [];
    alerts.forEach((alert, index) => {
        const result = readAlert(alert, knownAlerts);
        if (result === undefined) return;
        if (typeof result === "string") refused.push(`alert ${index}: ${result}`);
        else candidates.push(result);
    });
    return { candidates, refused };
}

function readAlert(alert: unknown, knownAlerts: ReadonlySet<string>): Candidate | string | undefined {
    if (!isRecord(alert)) return `expected an object, found ${quote(alert)}`;
    const labels = own(alert, "labels");
    if (!isRecord(labels)) return `expected labels to be an object, found ${quote(labels)}`;
    if (own(labels, REMEDIATION_LABEL) !== "true") return undefined;
    const state = own(alert, "state");
    if (state === "pending" || state === "inactive") return undefined;
    if (state !== "firing") return `expected state firing or pending, found ${quote(state)}`;

    const alertname = own(labels, "alertname");
    if (typeof alertname !== "string" || !knownAlerts.has(alertname)) {
        return `expected alertname to be one of the budget alerts (${[...knownAlerts].join(", ")}), found ${quote(alertname)}`;
    }
    const namespace = own(labels, "namespace");
    if (typeof namespace !== "string" || namespace.length > 63 || !NAMESPACE_NAME.test(namespace)) {
        return `${alertname}: expected label namespace to be a namespace name, found ${quote(namespace)}`;
    }
    const type = own(labels, "workload_type");
    const kind = typeof type === "string" && Object.hasOwn(KIND_BY_TYPE, type) ? KIND_BY_TYPE[type] : undefined;
    if (kind === undefined) {
        return `${alertname}: expected label workload_type to be one of ${Object.keys(KIND_BY_TYPE).join(", ")}, found ${quote(type)}`;
    }
    const name = own(labels, "workload");
    if (typeof name !== "string" || name.length > 253 || !NAME.test(name)) {
        return `${alertname}: expected label workload to be an object name, found ${quote(name)}`;
    }
    const value = own(alert, "value");
    const numericValue = typeof value === "string" ? Number(value) : NaN;
    if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(numericValue)) {
        return `${alertname}: expected value to be a finite number as text, found ${quote(value)}`;
    }
    const activeAt = own(alert, "activeAt");
    if (typeof activeAt !== "string" || !RFC3339.test(activeAt) || Number.isNaN(Date.parse(activeAt))) {
        return `${alertname}: expected activeAt to be an RFC 3339 time, found ${quote(activeAt)}`;
    }
    const annotations = own(alert, "annotations");
    const summary = isRecord(annotations) ? own(annotations, "summary") : undefined;
    return {
        ref: { namespace, kind, name },
        alertname,
        value,
        numericValue,
        activeAt,
        summary: typeof summary === "string" ? summary.slice(0, 500) : "",
    };
}
