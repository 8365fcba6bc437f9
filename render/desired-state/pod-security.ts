/**
 * An evaluator of the Kubernetes Pod Security Standards: which controls of the "baseline" and
 * "restricted" levels a pod template breaks, as Pod Security Admission would judge it under policy
 * version "latest" (Kubernetes 1.34). It implements the published standard,
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/, over plain objects as they
 * appear in Kubernetes YAML, and depends on nothing.
 *
 * Each offending field is reported once, by the check of the lowest level it fails: at
 * "restricted", a value the baseline already rejects (a hostPath volume, an Unconfined seccomp
 * profile, an added SYS_ADMIN) is not reported again by the stricter check covering the same field.
 */

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

export interface PodSecurityViolation {
    /** The lowest level the check belongs to. */
    level: "baseline" | "restricted";
    /**
     * Short check id: "hostProcess", "hostNamespaces", "privileged", "capabilities",
     * "hostPathVolumes", "hostPorts", "hostProbes", "appArmor", "seLinux", "procMount", "seccomp",
     * "sysctls" (baseline); "volumeTypes", "privilegeEscalation", "runAsNonRoot", "runAsUser",
     * "restrictedSeccomp", "restrictedCapabilities" (restricted).
     */
    check: string;
    /**
     * Path of the offending field, e.g. "spec.containers[vector].securityContext.privileged":
     * containers and volumes by name in brackets, ports and sysctls by index.
     */
    field: string;
    /** One sentence: what is set and what the level allows. */
    message: string;
}

/**
 * Minimal structural types: accept plain objects as they appear in Kubernetes YAML (spec of a Pod,
 * or template of a workload).
 */
export interface PodTemplateLike {
    metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> };
    spec?: Record<string, unknown>;
}

/** Capabilities the baseline level lets a container add (the container runtimes' default set). */
export const BASELINE_ADDABLE_CAPABILITIES: readonly string[] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/** The only capability the restricted level lets a container add back after dropping ALL. */
export const RESTRICTED_ADDABLE_CAPABILITIES: readonly string[] = ["NET_BIND_SERVICE"];

/** The "safe" sysctls the baseline level allows at policy version latest. */
export const SAFE_SYSCTLS: readonly string[] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/** SELinux types the baseline level allows besides unset or "". */
export const ALLOWED_SELINUX_TYPES: readonly string[] = [
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/** Volume sources the restricted level allows. */
export const RESTRICTED_VOLUME_TYPES: readonly string[] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/** Profile types allowed for seccompProfile.type and appArmorProfile.type. */
const ALLOWED_PROFILE_TYPES: readonly string[] = ["RuntimeDefault", "Localhost"];

const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

/** The container lists a pod spec has, in the order the standard lists their fields. */
const CONTAINER_LISTS = [
    { key: "containers", noun: "Container" },
    { key: "initContainers", noun: "Init container" },
    { key: "ephemeralContainers", noun: "Ephemeral container" },
] as const;

const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;

/** Kinds whose pod template is spec.template. */
const TEMPLATE_KINDS = new Set([
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "ReplicationController",
]);

type Obj = Record<string, unknown>;

function asObject(value: unknown): Obj | undefined {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

function asList(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

/** "Undefined/nil" in the standard: the field is absent or null. */
function isUnset(value: unknown): boolean {
    return value === undefined || value === null;
}

function show(value: unknown): string {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** One container of the pod, with what is needed to name it in reports. */
interface ContainerEntry {
    /** e.g. "spec.containers[app]". */
    path: string;
    /** e.g. 'Container "app"'. */
    subject: string;
    container: Obj;
    securityContext: Obj | undefined;
}

interface PodContext {
    spec: Obj;
    podSecurityContext: Obj | undefined;
    containers: ContainerEntry[];
    annotations: Record<string, unknown>;
    /** The restricted level waives some Linux-only controls for Windows pods. */
    windows: boolean;
}

function containersOf(spec: Obj): ContainerEntry[] {
    const entries: ContainerEntry[] = [];
    for (const { key, noun } of CONTAINER_LISTS) {
        asList(spec[key]).forEach((item, index) => {
            const container = asObject(item);
            if (!container) return;
            const name = typeof container.name === "string" && container.name !== "" ? container.name : undefined;
            entries.push({
                path: `spec.${key}[${name ?? index}]`,
                subject: name !== undefined ? `${noun} "${name}"` : `${noun} #${index}`,
                container,
                securityContext: asObject(container.securityContext),
            });
        });
    }
    return entries;
}

type Check = (pod: PodContext) => PodSecurityViolation[];

function violation(
    level: PodSecurityViolation["level"],
    check: string,
    field: string,
    message: string,
): PodSecurityViolation {
    return { level, check, field, message };
}

/** Reports `value` at `field` unless it is unset or `allowed` accepts it. */
function checkSetting(
    out: PodSecurityViolation[],
    level: PodSecurityViolation["level"],
    check: string,
    field: string,
    subject: string,
    relative: string,
    value: unknown,
    allowed: (value: unknown) => boolean,
    allowedText: string,
): void {
    if (isUnset(value) || allowed(value)) return;
    out.push(
        violation(
            level,
            check,
            field,
            `${subject} sets ${relative} to ${show(value)}; ${level} allows ${allowedText}.`,
        ),
    );
}

/** A setting that may sit in the pod's securityContext and in each container's. */
function checkPodAndContainers(
    pod: PodContext,
    level: PodSecurityViolation["level"],
    check: string,
    relative: string,
    read: (securityContext: Obj | undefined) => unknown,
    allowed: (value: unknown) => boolean,
    allowedText: string,
): PodSecurityViolation[] {
    const out: PodSecurityViolation[] = [];
    const scField = `securityContext.${relative}`;
    const podValue = read(pod.podSecurityContext);
    checkSetting(out, level, check, `spec.${scField}`, "The pod", scField, podValue, allowed, allowedText);
    for (const entry of pod.containers) {
        const value = read(entry.securityContext);
        checkSetting(
            out,
            level,
            check,
            `${entry.path}.${scField}`,
            entry.subject,
            scField,
            value,
            allowed,
            allowedText,
        );
    }
    return out;
}

function nested(root: Obj | undefined, ...keys: string[]): unknown {
    let current: unknown = root;
    for (const key of keys) {
        current = asObject(current)?.[key];
    }
    return current;
}

// ---- Baseline ----

const hostProcess: Check = (pod) =>
    checkPodAndContainers(
        pod,
        "baseline",
        "hostProcess",
        "windowsOptions.hostProcess",
        (sc) => nested(sc, "windowsOptions", "hostProcess"),
        (value) => value === false,
        "only false or unset",
    );

const hostNamespaces: Check = (pod) => {
    const out: PodSecurityViolation[] = [];
    for (const key of ["hostNetwork", "hostPID", "hostIPC"]) {
        const value = pod.spec[key];
        const field = `spec.${key}`;
        checkSetting(
            out,
            "baseline",
            "hostNamespaces",
            field,
            "The pod",
            key,
            value,
            (v) => v === false,
            "only false or unset",
        );
    }
    return out;
};

const privileged: Check = (pod) => {
    const out: PodSecurityViolation[] = [];
    for (const entry of pod.containers) {
        const value = entry.securityContext?.privileged;
        const field = `${entry.path}.securityContext.privileged`;
        const relative = "securityContext.privileged";
        checkSetting(
            out,
            "baseline",
            "privileged",
            field,
            entry.subject,
            relative,
            value,
            (v) => v === false,
            "only false or unset",
        );
    }
    return out;
};

function addedCapabilities(entry: ContainerEntry): unknown[] {
    return asList(nested(entry.securityContext, "capabilities", "add"));
}

const capabilities: Check = (pod) => {
    const out: PodSecurityViolation[] = [];
    for (const entry of pod.containers) {
        const refused = addedCapabilities(entry).filter(
            (cap) => typeof cap !== "string" || !BASELINE_ADDABLE_CAPABILITIES.includes(cap),
        );
        if (refused.length === 0) continue;
        out.push(
            violation(
                "baseline",
                "capabilities",
                `${entry.path}.securityContext.capabilities.add`,
                `${entry.subject} adds capabilities ${refused.map(show).join(", ")}; ` +
                    `baseline allows adding only ${BASELINE_ADDABLE_CAPABILITIES.join(", ")}.`,
            ),
        );
    }
    return out;
};

interface VolumeEntry {
    path: string;
    subject: string;
    volume: Obj;
}

function volumesOf(spec: Obj): VolumeEntry[] {
    const entries: VolumeEntry[] = [];
    asList(spec.volumes).forEach((item, index) => {
        const volume = asObject(item);
        if (!volume) return;
        const name = typeof volume.name === "string" && volume.name !== "" ? volume.name : undefined;
        entries.push({
            path: `spec.volumes[${name ?? index}]`,
            subject: name !== undefined ? `Volume "${name}"` : `Volume #${index}`,
            volume,
        });
    });
    return entries;
}

const hostPathVolumes: Check = (pod) =>
    volumesOf(pod.spec)
        .filter((entry) => !isUnset(entry.volume.hostPath))
        .map((entry) =>
            violation(
                "baseline",
                "hostPathVolumes",
                `${entry.path}.hostPath`,
                `${entry.subject} is a hostPath volume; baseline forbids hostPath volumes.`,
            ),
        );

const hostPorts: Check = (pod) => {
    const out: PodSecurityViolation[] = [];
    for (const entry of pod.containers) {
        asList(entry.container.ports).forEach((item, index) => {
            const value = asObject(item)?.hostPort;
            // Pod Security Admission has no known-ports list, so every non-zero host port is refused.
            checkSetting(
                out,
                "baseline",
                "hostPorts",
                `${entry.path}.ports[${index}].hostPort`,
                entry.subject,
                `ports[${index}].hostPort`,
                value,
                (v) => v === 0,
                "only 0 or unset",
            );
        });
    }
    return out;
};

const hostProbes: Check = (pod) => {
    const out: PodSecurityViolation[] = [];
    for (const entry of pod.containers) {
        // The order of the standard's field list: probes' httpGet, probes' tcpSocket, then hooks.
        const handlers: string[][] = [
            ...PROBES.map((probe) => [probe, "httpGet"]),
            ...PROBES.map((probe) => [probe, "tcpSocket"]),
            ["lifecycle", "postStart", "tcpSocket"],
            ["lifecycle", "preStop", "tcpSocket"],
            ["lifecycle", "postStart", "httpGet"],
            ["lifecycle", "preStop", "httpGet"],
        ];
        for (const handler of handlers) {
            const relative = [...handler, "host"].join(".");
            const value = nested(entry.container, ...handler, "host");
            checkSetting(
                out,
                "baseline",
                "hostProbes",
                `${entry.path}.${relative}`,
                entry.subject,
                relative,
                value,
                (v) => v === "",
                'only "" or unset (the pod IP)',
            );
        }
    }
    return out;
};

const appArmor: Check = (pod) => {
    const out = checkPodAndContainers(
        pod,
        "baseline",
        "appArmor",
        "appArmorProfile.type",
        (sc) => nested(sc, "appArmorProfile", "type"),
        (value) => typeof value === "string" && ALLOWED_PROFILE_TYPES.includes(value),
        "only RuntimeDefault, Localhost or unset",
    );
    const keys = Object.keys(pod.annotations)
        .filter((key) => key.startsWith(APPARMOR_ANNOTATION_PREFIX))
        .sort();
    for (const key of keys) {
        const value = pod.annotations[key];
        checkSetting(
            out,
            "baseline",
            "appArmor",
            `metadata.annotations["${key}"]`,
            "The pod",
            `annotation ${key}`,
            value,
            (v) => typeof v === "string" && (v === "runtime/default" || v.startsWith("localhost/")),
            'only "runtime/default", "localhost/*" or unset',
        );
    }
    return out;
};

const seLinux: Check = (pod) => {
    const out: PodSecurityViolation[] = [];
    const scopes: { path: string; subject: string; securityContext: Obj | undefined }[] = [
        { path: "spec", subject: "The pod", securityContext: pod.podSecurityContext },
        ...pod.containers,
    ];
    for (const scope of scopes) {
        const options = asObject(scope.securityContext?.seLinuxOptions);
        const base = "securityContext.seLinuxOptions";
        checkSetting(
            out,
            "baseline",
            "seLinux",
            `${scope.path}.${base}.type`,
            scope.subject,
            `${base}.type`,
            options?.type,
            (v) => v === "" || (typeof v === "string" && ALLOWED_SELINUX_TYPES.includes(v)),
            `only ${ALLOWED_SELINUX_TYPES.join(", ")}, "" or unset`,
        );
        for (const key of ["user", "role"]) {
            checkSetting(
                out,
                "baseline",
                "seLinux",
                `${scope.path}.${base}.${key}`,
                scope.subject,
                `${base}.${key}`,
                options?.[key],
                (v) => v === "",
                'only "" or unset',
            );
        }
    }
    return out;
};

const procMount: Check = (pod) => {
    const out: PodSecurityViolation[] = [];
    for (const entry of pod.containers) {
        checkSetting(
            out,
            "baseline",
            "procMount",
            `${entry.path}.securityContext.procMount`,
            entry.subject,
            "securityContext.procMount",
            entry.securityContext?.procMount,
            (v) => v === "Default",
            "only Default or unset",
        );
    }
    return out;
};

function seccompType(securityContext: Obj | undefined): unknown {
    return nested(securityContext, "seccompProfile", "type");
}

function isAllowedProfile(value: unknown): boolean {
    return typeof value === "string" && ALLOWED_PROFILE_TYPES.includes(value);
}

const seccomp: Check = (pod) =>
    checkPodAndContainers(
        pod,
        "baseline",
        "seccomp",
        "seccompProfile.type",
        seccompType,
        isAllowedProfile,
        "only RuntimeDefault, Localhost or unset",
    );

const sysctls: Check = (pod) => {
    const out: PodSecurityViolation[] = [];
    asList(pod.podSecurityContext?.sysctls).forEach((item, index) => {
        const name = asObject(item)?.name;
        if (typeof name === "string" && SAFE_SYSCTLS.includes(name)) return;
        out.push(
            violation(
                "baseline",
                "sysctls",
                `spec.securityContext.sysctls[${index}].name`,
                `The pod sets sysctl ${show(name)}; baseline allows only ${SAFE_SYSCTLS.join(", ")}.`,
            ),
        );
    });
    return out;
};

// ---- Restricted ----

const volumeTypes: Check = (pod) => {
    const out: PodSecurityViolation[] = [];
    for (const entry of volumesOf(pod.spec)) {
        // A volume naming no source is defaulted to emptyDir by the API server before admission.
        for (const [key, value] of Object.entries(entry.volume)) {
            if (key === "name" || key === "hostPath" || isUnset(value)) continue;
            if (RESTRICTED_VOLUME_TYPES.includes(key)) continue;
            out.push(
                violation(
                    "restricted",
                    "volumeTypes",
                    `${entry.path}.${key}`,
                    `${entry.subject} is a ${key} volume; ` +
                        `restricted allows only ${RESTRICTED_VOLUME_TYPES.join(", ")}.`,
                ),
            );
        }
    }
    return out;
};

const privilegeEscalation: Check = (pod) => {
    if (pod.windows) return [];
    const out: PodSecurityViolation[] = [];
    for (const entry of pod.containers) {
        const value = entry.securityContext?.allowPrivilegeEscalation;
        if (value === false) continue;
        out.push(
            violation(
                "restricted",
                "privilegeEscalation",
                `${entry.path}.securityContext.allowPrivilegeEscalation`,
                isUnset(value)
                    ? `${entry.subject} leaves securityContext.allowPrivilegeEscalation unset; ` +
                          "restricted requires false."
                    : `${entry.subject} sets securityContext.allowPrivilegeEscalation to ${show(value)}; ` +
                          "restricted requires false.",
            ),
        );
    }
    return out;
};

const runAsNonRoot: Check = (pod) => {
    const out: PodSecurityViolation[] = [];
    const podValue = pod.podSecurityContext?.runAsNonRoot;
    if (!isUnset(podValue) && podValue !== true) {
        out.push(
            violation(
                "restricted",
                "runAsNonRoot",
                "spec.securityContext.runAsNonRoot",
                `The pod sets securityContext.runAsNonRoot to ${show(podValue)}; restricted requires true.`,
            ),
        );
    }
    for (const entry of pod.containers) {
        const value = entry.securityContext?.runAsNonRoot;
        const field = `${entry.path}.securityContext.runAsNonRoot`;
        if (isUnset(value)) {
            // Unset is allowed only when the pod-level field is true.
            if (podValue === true) continue;
            out.push(
                violation(
                    "restricted",
                    "runAsNonRoot",
                    field,
                    `${entry.subject} leaves securityContext.runAsNonRoot unset and the pod does not ` +
                        "set it to true; restricted requires true.",
                ),
            );
        } else if (value !== true) {
            out.push(
                violation(
                    "restricted",
                    "runAsNonRoot",
                    field,
                    `${entry.subject} sets securityContext.runAsNonRoot to ${show(value)}; restricted requires true.`,
                ),
            );
        }
    }
    return out;
};

const runAsUser: Check = (pod) =>
    checkPodAndContainers(
        pod,
        "restricted",
        "runAsUser",
        "runAsUser",
        (sc) => sc?.runAsUser,
        (value) => value !== 0,
        "any non-zero user or unset",
    );

const restrictedSeccomp: Check = (pod) => {
    if (pod.windows) return [];
    const out: PodSecurityViolation[] = [];
    // An explicit value outside RuntimeDefault/Localhost is the baseline seccomp check's to report;
    // here only the absence of a profile remains: a container may leave it unset when the pod sets
    // an allowed one, and the pod may leave it unset when every container sets one.
    const podValue = seccompType(pod.podSecurityContext);
    for (const entry of pod.containers) {
        if (!isUnset(seccompType(entry.securityContext)) || isAllowedProfile(podValue)) continue;
        out.push(
            violation(
                "restricted",
                "restrictedSeccomp",
                `${entry.path}.securityContext.seccompProfile.type`,
                `${entry.subject} leaves securityContext.seccompProfile.type unset and the pod sets ` +
                    "no allowed profile; restricted requires RuntimeDefault or Localhost.",
            ),
        );
    }
    return out;
};

const restrictedCapabilities: Check = (pod) => {
    if (pod.windows) return [];
    const out: PodSecurityViolation[] = [];
    for (const entry of pod.containers) {
        const drop = asList(nested(entry.securityContext, "capabilities", "drop"));
        if (!drop.includes("ALL")) {
            out.push(
                violation(
                    "restricted",
                    "restrictedCapabilities",
                    `${entry.path}.securityContext.capabilities.drop`,
                    `${entry.subject} does not drop ALL capabilities; ` +
                        'restricted requires capabilities.drop to include "ALL".',
                ),
            );
        }
        // Capabilities outside the baseline list are already reported by the baseline check.
        const refused = addedCapabilities(entry).filter(
            (cap) =>
                typeof cap === "string" &&
                BASELINE_ADDABLE_CAPABILITIES.includes(cap) &&
                !RESTRICTED_ADDABLE_CAPABILITIES.includes(cap),
        );
        if (refused.length > 0) {
            out.push(
                violation(
                    "restricted",
                    "restrictedCapabilities",
                    `${entry.path}.securityContext.capabilities.add`,
                    `${entry.subject} adds capabilities ${refused.map(show).join(", ")}; ` +
                        "restricted allows adding only NET_BIND_SERVICE.",
                ),
            );
        }
    }
    return out;
};

/** The controls in the order the standard lists them. */
const BASELINE_CHECKS: readonly Check[] = [
    hostProcess,
    hostNamespaces,
    privileged,
    capabilities,
    hostPathVolumes,
    hostPorts,
    hostProbes,
    appArmor,
    seLinux,
    procMount,
    seccomp,
    sysctls,
];

const RESTRICTED_CHECKS: readonly Check[] = [
    volumeTypes,
    privilegeEscalation,
    runAsNonRoot,
    runAsUser,
    restrictedSeccomp,
    restrictedCapabilities,
];

/**
 * Every violation of `level` by the pod template (restricted includes every baseline check), in
 * the order the standard lists its controls. "privileged" returns [].
 */
export function podSecurityViolations(template: PodTemplateLike, level: PodSecurityLevel): PodSecurityViolation[] {
    if (level === "privileged") return [];
    const spec = asObject(template.spec) ?? {};
    const pod: PodContext = {
        spec,
        podSecurityContext: asObject(spec.securityContext),
        containers: containersOf(spec),
        annotations: asObject(template.metadata?.annotations) ?? {},
        windows: nested(spec, "os", "name") === "windows",
    };
    const checks = level === "restricted" ? [...BASELINE_CHECKS, ...RESTRICTED_CHECKS] : BASELINE_CHECKS;
    return checks.flatMap((check) => check(pod));
}

function templateFrom(value: unknown): PodTemplateLike | undefined {
    const template = asObject(value);
    if (!template) return undefined;
    return {
        metadata: asObject(template.metadata) as PodTemplateLike["metadata"],
        spec: asObject(template.spec),
    };
}

/**
 * The pod template inside a workload object (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
 * Job, CronJob, ReplicationController), or undefined for other kinds and for a workload without one.
 */
export function podTemplateOf(object: {
    kind?: string;
    spec?: unknown;
    metadata?: unknown;
}): PodTemplateLike | undefined {
    const kind = object.kind;
    if (kind === "Pod") return templateFrom({ metadata: object.metadata, spec: object.spec });
    if (kind !== undefined && TEMPLATE_KINDS.has(kind)) return templateFrom(nested(asObject(object.spec), "template"));
    if (kind === "CronJob") return templateFrom(nested(asObject(object.spec), "jobTemplate", "spec", "template"));
    return undefined;
}
