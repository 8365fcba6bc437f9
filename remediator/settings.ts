import { BUDGET_ANNOTATIONS, type BudgetKind } from "./keys";
import { NAMESPACE_NAME, type GitopsSettings } from "./types";

/**
 * The remediator's settings: one JSON document the stack writes into a ConfigMap from its
 * validated config, read once at start. The token of `gitops` mode is not in it: it is a file of
 * its own, mounted from a Secret. Checked by hand rather than with a schema library, which
 * would be half of the bundle.
 */

/** Modes of the remediator, least intrusive first; the stack config takes the same. */
export const MODES = ["off", "dry-run", "scale", "gitops"] as const;
export type Mode = (typeof MODES)[number];

export interface BudgetRuleSettings {
    alert: string;
    budget: BudgetKind;
    /** The cluster-wide budget the rule fires above. */
    threshold: number;
    /** The rule's PromQL, quoted as evidence. */
    query: string;
}

export interface Settings {
    cluster: string;
    mode: Mode;
    killSwitch: boolean;
    /** Base URL of the cluster's own Prometheus. */
    prometheusUrl: string;
    pollIntervalSeconds: number;
    optInLabel: { key: string; value: string };
    /** Empty: any namespace that is not protected. */
    namespaces: string[];
    protectedNamespaces: string[];
    maxActionsPerHour: number;
    cooldownSeconds: number;
    fluxExemption: boolean;
    /** The only alerts acted on. */
    rules: BudgetRuleSettings[];
    gitops?: GitopsSettings;
    /** Where the rate limiter keeps its window across container restarts. */
    stateFile?: string;
    /** Port of /metrics, /healthz and /readyz. */
    port: number;
}

const BUDGETS = Object.keys(BUDGET_ANNOTATIONS) as BudgetKind[];

type Check = (value: unknown, path: string, problems: string[]) => void;

const text: Check = (v, p, out) => {
    if (typeof v !== "string" || v === "") out.push(`${p}: expected a non-empty string, found ${JSON.stringify(v)}`);
};
const bool: Check = (v, p, out) => {
    if (typeof v !== "boolean") out.push(`${p}: expected true or false, found ${JSON.stringify(v)}`);
};
const int =
    (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
    (v, p, out) => {
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
            out.push(`${p}: expected a whole number from ${min} to ${max}, found ${JSON.stringify(v)}`);
        }
    };
const positive: Check = (v, p, out) => {
    if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
        out.push(`${p}: expected a positive number, found ${JSON.stringify(v)}`);
    }
};
const oneOf =
    (allowed: readonly string[]): Check =>
    (v, p, out) => {
        if (typeof v !== "string" || !allowed.includes(v)) {
            out.push(`${p}: expected one of ${allowed.join(", ")}, found ${JSON.stringify(v)}`);
        }
    };
const url: Check = (v, p, out) => {
    if (typeof v !== "string" || !URL.canParse(v) || !/^https?:$/.test(new URL(v).protocol)) {
        out.push(`${p}: expected an http(s) URL, found ${JSON.stringify(v)}`);
    }
};
const namespaces: Check = (v, p, out) => {
    if (!Array.isArray(v)) {
        out.push(`${p}: expected a list of namespaces, found ${JSON.stringify(v)}`);
        return;
    }
    v.forEach((item, i) => {
        if (typeof item !== "string" || !NAMESPACE_NAME.test(item)) {
            out.push(`${p}[${i}]: expected a namespace name, found ${JSON.stringify(item)}`);
        }
    });
};
const object =
    (shape: Record<string, Check>, optional: readonly string[] = []): Check =>
    (v, p, out) => {
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            out.push(`${p || "settings"}: expected an object, found ${JSON.stringify(v)}`);
            return;
        }
        const record = v as Record<string, unknown>;
        for (const key of Object.keys(record)) {
            if (!Object.hasOwn(shape, key)) out.push(`${p ? `${p}.` : ""}${key}: not a known setting`);
        }
        for (const [key, check] of Object.entries(shape)) {
            const at = p ? `${p}.${key}` : key;
            if (!Object.hasOwn(record, key) || record[key] === undefined) {
                if (!optional.includes(key)) out.push(`${at}: missing`);
            } else {
                check(record[key], at, out);
            }
        }
    };
const list =
    (item: Check): Check =>
    (v, p, out) => {
        if (!Array.isArray(v)) out.push(`${p}: expected a list, found ${JSON.stringify(v)}`);
        else v.forEach((entry, i) => item(entry, `${p}[${i}]`, out));
    };

const SETTINGS = object(
    {
        cluster: text,
        mode: oneOf(MODES),
        killSwitch: bool,
        prometheusUrl: url,
        pollIntervalSeconds: int(1, 3600),
        optInLabel: object({ key: text, value: text }),
        namespaces,
        protectedNamespaces: namespaces,
        maxActionsPerHour: int(1),
        cooldownSeconds: int(0),
        fluxExemption: bool,
        rules: list(object({ alert: text, budget: oneOf(BUDGETS), threshold: positive, query: text })),
        gitops: object({
            provider: oneOf(["gitlab", "github"]),
            apiUrl: url,
            repository: text,
            targetBranch: text,
            pathTemplate: text,
            fieldPath: text,
        }),
        stateFile: text,
        port: int(0, 65535),
    },
    ["gitops", "stateFile"],
);

/** Parses the settings document; the error names each wrong field. */
export function parseSettings(source: string): Settings {
    let raw: unknown;
    try {
        raw = JSON.parse(source);
    } catch (error) {
        throw new Error(`remediator settings: not JSON (${(error as Error).message})`);
    }
    const problems: string[] = [];
    SETTINGS(raw, "", problems);
    const settings = raw as Settings;
    if (problems.length === 0 && settings.mode === "gitops" && settings.gitops === undefined) {
        problems.push("gitops: missing (mode is gitops)");
    }
    if (problems.length > 0) {
        throw new Error(`remediator settings are invalid:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    }
    return settings;
}
