/**
 * Checks on an OpenTelemetry Collector configuration as the collector would resolve it at start:
 * component types its distribution has, pipelines that reference defined components, extensions
 * that are started, files and directories that exist in the container (mounted volumes), and
 * the durability this project relies on (persistent queue, retries without deadline, mTLS).
 * Component names and keys follow the collector version the pinned chart ships (0.158.0).
 */

/** Component types of the Kubernetes distribution that this project may use, by kind. */
export const DISTRIBUTION_TYPES = {
    receivers: ["otlp"],
    processors: ["memory_limiter", "k8s_attributes", "resource", "batch"],
    exporters: ["otlp_grpc", "otlp_http"],
    extensions: ["health_check", "file_storage"],
} as const;

type Kind = keyof typeof DISTRIBUTION_TYPES;
const PIPELINE_KINDS = ["receivers", "processors", "exporters"] as const;

/** A directory of the container: a mounted volume, read-only or not. */
export interface Mount {
    mountPath: string;
    readOnly?: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const typeOf = (id: string): string => id.split("/")[0] as string;

/** Whether `file` lies in a mounted directory (writable ones only, when asked). */
export function underMount(file: string, mounts: readonly Mount[], writable = false): boolean {
    return mounts.some(
        (m) => (file === m.mountPath || file.startsWith(`${m.mountPath}/`)) && !(writable && m.readOnly === true),
    );
}

/** Every `*_file` value under a `tls` or `tls_config` block, with its dotted path. */
export function tlsFiles(value: unknown, path: string[] = [], inTls = false): { path: string; file: string }[] {
    if (!isObj(value)) return [];
    return Object.entries(value).flatMap(([key, child]) => {
        const here = [...path, key];
        if (inTls && key.endsWith("_file") && typeof child === "string") return [{ path: here.join("."), file: child }];
        if (Array.isArray(child)) return child.flatMap((item, i) => tlsFiles(item, [...here, String(i)], false));
        return tlsFiles(child, here, inTls || key === "tls" || key === "tls_config");
    });
}

/**
 * Problems of a collector configuration, one line each, naming the component or key; empty
 * when the configuration holds together.
 */
export function collectorConfigProblems(config: unknown, mounts: readonly Mount[]): string[] {
    if (!isObj(config)) return ["the configuration is not a map"];
    const problems: string[] = [];
    const section = (kind: Kind): Obj => (isObj(config[kind]) ? config[kind] : {});
    const service = isObj(config.service) ? config.service : {};
    const pipelines = isObj(service.pipelines) ? service.pipelines : {};
    const started = Array.isArray(service.extensions) ? (service.extensions as unknown[]).map(String) : [];

    for (const kind of Object.keys(DISTRIBUTION_TYPES) as Kind[]) {
        for (const id of Object.keys(section(kind))) {
            if (!(DISTRIBUTION_TYPES[kind] as readonly string[]).includes(typeOf(id))) {
                problems.push(
                    `${kind}.${id}: type '${typeOf(id)}' is not one of ${DISTRIBUTION_TYPES[kind].join(", ")}`,
                );
            }
        }
    }

    if (Object.keys(pipelines).length === 0) problems.push("service.pipelines: no pipeline");
    const used = new Set<string>();
    for (const [name, pipeline] of Object.entries(pipelines)) {
        if (!isObj(pipeline)) {
            problems.push(`service.pipelines.${name}: not a map`);
            continue;
        }
        for (const kind of PIPELINE_KINDS) {
            const ids = Array.isArray(pipeline[kind]) ? (pipeline[kind] as unknown[]).map(String) : [];
            if (kind !== "processors" && ids.length === 0) problems.push(`service.pipelines.${name}.${kind}: empty`);
            for (const id of ids) {
                used.add(`${kind}.${id}`);
                if (!Object.hasOwn(section(kind), id)) {
                    problems.push(`service.pipelines.${name}.${kind}: '${id}' is not defined under ${kind}`);
                }
            }
        }
        const processors = Array.isArray(pipeline.processors) ? (pipeline.processors as unknown[]).map(String) : [];
        if (processors.length > 0 && typeOf(processors[0] as string) !== "memory_limiter") {
            problems.push(`service.pipelines.${name}.processors: memory_limiter must come first`);
        }
        if (processors.length > 0 && typeOf(processors[processors.length - 1] as string) !== "batch") {
            problems.push(`service.pipelines.${name}.processors: batch must come last`);
        }
    }
    for (const kind of PIPELINE_KINDS) {
        for (const id of Object.keys(section(kind))) {
            if (!used.has(`${kind}.${id}`)) problems.push(`${kind}.${id}: defined but in no pipeline`);
        }
    }

    for (const id of started) {
        if (!Object.hasOwn(section("extensions"), id)) problems.push(`service.extensions: '${id}' is not defined`);
    }
    for (const [id, extension] of Object.entries(section("extensions"))) {
        if (!started.includes(id)) problems.push(`extensions.${id}: defined but not in service.extensions`);
        if (typeOf(id) === "file_storage" && isObj(extension)) {
            for (const key of ["directory", "compaction.directory"]) {
                const dir =
                    key === "directory" ? extension.directory : (extension.compaction as Obj | undefined)?.directory;
                if (typeof dir === "string" && !underMount(dir, mounts, true)) {
                    problems.push(`extensions.${id}.${key}: ${dir} is on no writable volume`);
                }
            }
        }
    }

    for (const [id, exporter] of Object.entries(section("exporters"))) {
        if (!isObj(exporter)) continue;
        const queue = isObj(exporter.sending_queue) ? exporter.sending_queue : undefined;
        const storage = queue?.storage;
        if (queue === undefined || queue.enabled === false || typeof storage !== "string") {
            problems.push(`exporters.${id}.sending_queue: not persistent (no storage extension)`);
        } else if (typeOf(storage) !== "file_storage" || !started.includes(storage)) {
            problems.push(
                `exporters.${id}.sending_queue.storage: '${storage}' is not a started file_storage extension`,
            );
        }
        const retry = isObj(exporter.retry_on_failure) ? exporter.retry_on_failure : undefined;
        if (retry === undefined || retry.enabled === false || retry.max_elapsed_time !== 0) {
            problems.push(`exporters.${id}.retry_on_failure: gives up (max_elapsed_time must be 0)`);
        }
        const tls = isObj(exporter.tls) ? exporter.tls : undefined;
        if (tls === undefined || tls.insecure === true || tls.insecure_skip_verify === true) {
            problems.push(`exporters.${id}.tls: not verified TLS`);
        } else {
            for (const key of ["ca_file", "cert_file", "key_file"]) {
                if (typeof tls[key] !== "string") problems.push(`exporters.${id}.tls.${key}: missing (mTLS needs it)`);
            }
        }
    }

    for (const { path, file } of tlsFiles(config)) {
        if (!underMount(file, mounts)) problems.push(`${path}: ${file} is on no mounted volume`);
    }
    return problems;
}
