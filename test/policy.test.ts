import { spawn, type ChildProcess } from "node:child_process";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import * as grpc from "@grpc/grpc-js";

import type {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import {
    AnalyzeRequest,
    AnalyzeResponse,
    AnalyzeStackRequest,
    AnalyzerInfo,
    AnalyzerResource,
    AnalyzerResourceOptions,
    ConfigureAnalyzerRequest,
    EnforcementLevel as ProtoLevel,
    PolicyConfig,
} from "@pulumi/pulumi/proto/analyzer_pb";

import { INGEST } from "../components/network/endpoints";
import {
    HELM_CHART_V4,
    imagesPinned,
    imageUses,
    isChartRendered,
    loadBalancerProblems,
    loadBalancersOnlyForIngest,
    networkPoliciesInNamespaces,
    noLatestImages,
    noSecretMaterial,
    RULES,
    RUNS_AS_ROOT_ANNOTATION,
    textValues,
    workloadContainers,
    workloadSecurity,
    type Scope,
} from "../policy/rules";
import { fakePem, HELM_CHART_V4 as MOCK_HELM_CHART_V4, type ResourceRecord } from "../render/mock-engine";
import { renderStack } from "../render/render";
import { ResourceRef, Secret, Unknown } from "../render/values";
import { fixture, projectDir } from "./helpers";

/**
 * The policy pack, without the Pulumi CLI: each policy's validateResource / validateStack is
 * called directly with the arguments the policy runtime would build, from the offline renders
 * of the example stacks and from crafted resources.
 */

type Policy = ResourceValidationPolicy | StackValidationPolicy;

/** A resource as a policy sees it: plain property values. */
interface Subject {
    type: string;
    name: string;
    urn: string;
    props: Record<string, unknown>;
    parent?: string;
}

/** The pack as index.ts registers it. */
const PACK: Policy[] = RULES.flatMap((rule) => [rule("mandatory", "program"), rule("advisory", "chart")]);

/**
 * A decoded property value as the policy runtime hands it over: secrets unwrapped, references as
 * their URN. Unknown values (preview) are absent: the runtime would stop a policy that reads one.
 */
function plain(value: unknown): unknown {
    if (value instanceof Secret) return plain(value.value);
    if (value instanceof Unknown) return undefined;
    if (value instanceof ResourceRef) return value.urn;
    if (Array.isArray(value)) return value.map(plain);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(
            Object.entries(value)
                .map(([k, v]) => [k, plain(v)] as const)
                .filter(([, v]) => v !== undefined),
        );
    }
    return value;
}

function subjectOf(record: ResourceRecord): Subject {
    return {
        type: record.type,
        name: record.name,
        urn: record.urn,
        props: plain(record.inputs) as Record<string, unknown>,
        ...(record.parent === undefined ? {} : { parent: record.parent }),
    };
}

const unused = (what: string) => () => {
    throw new Error(`the rules do not use ${what}`);
};

function resourceArgs(subject: Subject, config: object = {}): ResourceValidationArgs {
    return {
        type: subject.type,
        props: subject.props,
        urn: subject.urn,
        name: subject.name,
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
            ...(subject.parent === undefined ? {} : { parent: subject.parent }),
        },
        stackTags: new Map(),
        isType: unused("isType"),
        asType: unused("asType"),
        getConfig: <T extends object>() => config as T,
        notApplicable: unused("notApplicable"),
    };
}

function stackArgs(subjects: readonly Subject[], config: object = {}): StackValidationArgs {
    const resources: PolicyResource[] = subjects.map((s) => ({
        type: s.type,
        props: s.props,
        urn: s.urn,
        name: s.name,
        opts: resourceArgs(s).opts,
        dependencies: [],
        propertyDependencies: {},
        isType: unused("isType"),
        asType: unused("asType"),
    }));
    return {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable: unused("notApplicable"),
    };
}

/** The messages a resource policy reports for a resource. */
async function violations(policy: Policy, subject: Subject, config: object = {}): Promise<string[]> {
    if (!("validateResource" in policy) || policy.validateResource === undefined) return [];
    const messages: string[] = [];
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    for (const validate of validations) {
        await validate(resourceArgs(subject, config), (message) => messages.push(message));
    }
    return messages;
}

/** The messages (with the URN they name) a stack policy reports for a stack. */
async function stackViolations(policy: Policy, subjects: readonly Subject[]): Promise<string[]> {
    if (!("validateStack" in policy)) return [];
    const messages: string[] = [];
    await policy.validateStack(stackArgs(subjects), (message, urn) => messages.push(`${message} [${urn ?? ""}]`));
    return messages;
}

/** Every violation the whole pack reports for a stack, as `policy: message`. */
async function packViolations(subjects: readonly Subject[]): Promise<string[]> {
    const found: string[] = [];
    for (const policy of PACK) {
        for (const subject of subjects) {
            for (const message of await violations(policy, subject)) found.push(`${policy.name}: ${message}`);
        }
        for (const message of await stackViolations(policy, subjects)) found.push(`${policy.name}: ${message}`);
    }
    return found;
}

// ---------------------------------------------------------------------------------------------
// Crafted resources

const STACK = "urn:pulumi:test::observability";
/** A resource the program declares, under one of its components. */
const programUrn = (type: string, name: string) => `${STACK}::obs:index:Logs$${type}::${name}`;
/** An object a Helm chart renders: a child of the Chart component. */
const chartUrn = (type: string, name: string) => `${STACK}::obs:index:Logs$${HELM_CHART_V4}$${type}::${name}`;

function resource(type: string, name: string, props: Record<string, unknown>, urn = programUrn(type, name)): Subject {
    return { type, name, urn, props };
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const DAEMON_SET = "kubernetes:apps/v1:DaemonSet";
const CRON_JOB = "kubernetes:batch/v1:CronJob";
const POD = "kubernetes:core/v1:Pod";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const SERVICE = "kubernetes:core/v1:Service";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

const HARDENED = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true };
const RESOURCES = { limits: { cpu: "200m", memory: "128Mi" }, requests: { cpu: "50m", memory: "64Mi" } };
const IMAGE = "docker.io/nginxinc/nginx-unprivileged:1.31-alpine";

function container(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { name: "app", image: IMAGE, securityContext: HARDENED, resources: RESOURCES, ...overrides };
}

function deployment(
    containers: Record<string, unknown>[],
    pod: { annotations?: Record<string, string>; securityContext?: Record<string, unknown> } = {},
    type = DEPLOYMENT,
    urn?: string,
): Subject {
    return resource(
        type,
        "web",
        {
            metadata: { name: "web", namespace: "observability" },
            spec: {
                template: {
                    metadata: pod.annotations ? { annotations: pod.annotations } : {},
                    spec: { containers, ...(pod.securityContext ? { securityContext: pod.securityContext } : {}) },
                },
            },
        },
        urn,
    );
}

const chart = (values: Record<string, unknown>): Subject =>
    resource(HELM_CHART_V4, "grafana-chart", { chart: "grafana", name: "grafana", namespace: "observability", values });

const configMap = (data: Record<string, string>, binaryData?: Record<string, string>): Subject =>
    resource(CONFIG_MAP, "cm", {
        metadata: { name: "settings", namespace: "observability" },
        data,
        ...(binaryData ? { binaryData } : {}),
    });

const loadBalancer = (name: string, ports: Record<string, unknown>[]): Subject =>
    resource(SERVICE, name, {
        metadata: { name, namespace: "observability" },
        spec: { type: "LoadBalancer", selector: { app: "x" }, ports },
    });

const WEB = 'Deployment observability/web container "app"';

describe("policy pack: registration", () => {
    it("registers every rule twice: mandatory for the program, advisory for chart-rendered objects", () => {
        assert.equal(RULES.length, 6);
        assert.deepEqual(
            PACK.map((p) => `${p.name} ${p.enforcementLevel}`),
            [
                "workload-security mandatory",
                "workload-security-chart-rendered advisory",
                "no-secret-material-in-config mandatory",
                "no-secret-material-in-config-chart-rendered advisory",
                "no-latest-images mandatory",
                "no-latest-images-chart-rendered advisory",
                "images-pinned mandatory",
                "images-pinned-chart-rendered advisory",
                "load-balancers-only-for-ingest mandatory",
                "load-balancers-only-for-ingest-chart-rendered advisory",
                "network-policies-in-namespaces mandatory",
                "network-policies-in-namespaces-chart-rendered advisory",
            ],
        );
    });

    it("gives every policy a kebab-case name and a description, and takes the level from the factory", () => {
        for (const rule of RULES) {
            for (const scope of ["program", "chart"] as Scope[]) {
                const policy = rule("disabled", scope);
                assert.match(policy.name, /^[a-z]+(-[a-z]+)*$/);
                assert.ok(policy.description.length > 40, policy.name);
                assert.equal(policy.enforcementLevel, "disabled");
            }
        }
    });

    it("declares requireDigest as a boolean option of images-pinned, off by default", () => {
        const policy = imagesPinned("mandatory", "program");
        assert.deepEqual(policy.configSchema?.properties.requireDigest?.type, "boolean");
        assert.equal(policy.configSchema?.properties.requireDigest?.default, false);
    });

    it("knows Chart v4 by the same type token as the offline render", () => {
        assert.equal(HELM_CHART_V4, MOCK_HELM_CHART_V4);
    });
});

describe("policy pack: scope", () => {
    const rootDaemonSet = (urn: string) =>
        deployment(
            [container({ securityContext: { ...HARDENED, runAsNonRoot: false, runAsUser: 0 } })],
            {},
            DAEMON_SET,
            urn,
        );

    it("classifies a resource by the Chart v4 among its ancestors", () => {
        assert.equal(isChartRendered(chartUrn(DAEMON_SET, "logs-vector:observability-agents/vector")), true);
        assert.equal(isChartRendered(programUrn(DAEMON_SET, "vector")), false);
        // The Chart itself is ours: its values are what the program wrote.
        assert.equal(isChartRendered(programUrn(HELM_CHART_V4, "logs-vector")), false);
        assert.equal(isChartRendered(`${STACK}::pulumi:pulumi:Stack::observability-test`), false);
    });

    it("judges a chart-rendered object only under the advisory twin", async () => {
        const rendered = rootDaemonSet(chartUrn(DAEMON_SET, "logs-vector:observability/web"));
        const message =
            'DaemonSet observability/web container "app": may run as root: set securityContext.runAsNonRoot: true ' +
            "or runAsUser > 0 (container or pod), or give the pod template the annotation " +
            "observability/runs-as-root: <reason>";
        assert.deepEqual(await violations(workloadSecurity("mandatory", "program"), rendered), []);
        assert.deepEqual(await violations(workloadSecurity("advisory", "chart"), rendered), [message]);

        const declared = rootDaemonSet(programUrn(DAEMON_SET, "web"));
        assert.deepEqual(await violations(workloadSecurity("mandatory", "program"), declared), [message]);
        assert.deepEqual(await violations(workloadSecurity("advisory", "chart"), declared), []);
    });
});

describe("policy pack: the example stacks pass", () => {
    const stacks: { label: string; render: () => ReturnType<typeof renderStack> }[] = [
        { label: "main", render: () => renderStack({ projectDir, stack: "main", preview: false }) },
        { label: "main in preview", render: () => renderStack({ projectDir, stack: "main", preview: true }) },
        { label: "sub", render: () => renderStack({ projectDir, stack: "sub", preview: false }) },
        {
            // LoadBalancer exposure: the one render with ingest LoadBalancer Services.
            label: "main with S3 storage and LoadBalancers",
            render: () =>
                renderStack({
                    projectDir,
                    stack: "main-s3",
                    stackFile: fixture("Pulumi.main-s3.yaml"),
                    preview: false,
                }),
        },
    ];
    const rendered = new Map<string, Subject[]>();

    before(async () => {
        for (const { label, render } of stacks) rendered.set(label, (await render()).records.map(subjectOf));
    });

    const subjects = (label: string): Subject[] => {
        const found = rendered.get(label);
        assert.ok(found, `no render of ${label}`);
        return found;
    };

    for (const { label } of stacks) {
        it(`${label}: no resource violates a resource policy`, async () => {
            const found = await packViolations(subjects(label));
            assert.deepEqual(
                found.filter((v) => !v.startsWith("network-policies-in-namespaces")),
                [],
            );
        });

        it(`${label}: every namespace it creates has a NetworkPolicy`, async () => {
            const found = await packViolations(subjects(label));
            assert.deepEqual(
                found.filter((v) => v.startsWith("network-policies-in-namespaces")),
                [],
            );
        });

        it(`${label}: the rules looked at its workloads, images, config and namespaces`, () => {
            const all = subjects(label);
            const ofType = (type: string) => all.filter((s) => s.type === type);
            const charts = ofType(HELM_CHART_V4);
            const containers = all.flatMap((s) => workloadContainers(s.type, s.props, s.name));
            const workloadImages = all.flatMap((s) =>
                s.type === HELM_CHART_V4 ? [] : imageUses(s.type, s.props, s.name),
            );
            const chartImages = charts.flatMap((s) => imageUses(s.type, s.props, s.name));
            const configMapValues = ofType(CONFIG_MAP).flatMap((s) => textValues(s.type, s.props, s.name));
            const chartValues = charts.flatMap((s) => textValues(s.type, s.props, s.name));
            assert.ok(containers.length > 0, "no container checked");
            assert.equal(workloadImages.length, containers.length, "a container without an image");
            assert.ok(chartImages.length > 0, "no image found in chart values");
            assert.ok(configMapValues.length > 0, "no ConfigMap value checked");
            assert.ok(chartValues.length > 10 * charts.length, "chart values not walked");
            assert.ok(ofType(NAMESPACE).length > 0, "no namespace checked");
        });
    }

    it("main with LoadBalancers: checked the four ingest LoadBalancer Services", () => {
        const lbs = subjects("main with S3 storage and LoadBalancers").filter(
            (s) => s.type === SERVICE && (s.props.spec as { type?: string }).type === "LoadBalancer",
        );
        assert.deepEqual(lbs.map((s) => (s.props.metadata as { name: string }).name).sort(), [
            "alerts-ingest-lb",
            "logs-ingest-lb",
            "metrics-ingest-lb",
            "traces-ingest-lb",
        ]);
        for (const lb of lbs) assert.deepEqual(loadBalancerProblems(lb.type, lb.props, lb.name), []);
    });

    it("a real workload loses its limits: the rule sees it", async () => {
        const real = subjects("main").find((s) => s.type === DEPLOYMENT && s.name === "main-remediator");
        assert.ok(real);
        const broken = structuredClone(real);
        const spec = (broken.props.spec as { template: { spec: { containers: { resources: object }[] } } }).template
            .spec;
        for (const c of spec.containers) c.resources = { requests: { cpu: "50m", memory: "96Mi" } };
        assert.deepEqual(await violations(workloadSecurity("mandatory", "program"), broken), [
            'Deployment observability/remediator container "remediator": resources.limits.cpu is missing',
            'Deployment observability/remediator container "remediator": resources.limits.memory is missing',
        ]);
    });

    it("a real chart's image loses its tag: the rules see it", async () => {
        const real = subjects("sub").find((s) => s.type === HELM_CHART_V4 && imageUses(s.type, s.props, s.name).length);
        assert.ok(real, "no chart with an image in its values");
        const broken = structuredClone(real);
        const [use] = imageUses(broken.type, broken.props, broken.name);
        assert.ok(use);
        const image = use.image.replace(/:[^:/@]+$/, ":latest");
        (broken.props.values as { image: { tag: string } }).image.tag = "latest";
        assert.deepEqual(await violations(noLatestImages("mandatory", "program"), broken), [
            `${use.where}: image "${image}" uses the latest tag`,
        ]);
        assert.deepEqual(await violations(imagesPinned("mandatory", "program"), broken), [
            `${use.where}: image "${image}" is not pinned: give a digest or a version tag (at least major.minor)`,
        ]);
    });
});

describe("policy pack: workload-security", () => {
    const policy = workloadSecurity("mandatory", "program");

    it("accepts a hardened container", async () => {
        assert.deepEqual(await violations(policy, deployment([container()])), []);
    });

    it("rejects a container that may run as root", async () => {
        const root = container({
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        });
        assert.deepEqual(await violations(policy, deployment([root])), [
            `${WEB}: may run as root: set securityContext.runAsNonRoot: true or runAsUser > 0 (container or pod), ` +
                "or give the pod template the annotation observability/runs-as-root: <reason>",
        ]);
    });

    it("rejects runAsUser 0 even when the pod says runAsNonRoot", async () => {
        const root = container({ securityContext: { ...HARDENED, runAsNonRoot: undefined, runAsUser: 0 } });
        const found = await violations(policy, deployment([root], { securityContext: { runAsNonRoot: true } }));
        assert.equal(found.length, 1);
        assert.match(found[0] ?? "", /may run as root/);
    });

    it("accepts non-root set at pod level", async () => {
        const plain = container({
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        });
        assert.deepEqual(await violations(policy, deployment([plain], { securityContext: { runAsUser: 10001 } })), []);
        assert.deepEqual(
            await violations(policy, deployment([plain], { securityContext: { runAsNonRoot: true } })),
            [],
        );
    });

    it("accepts root when the pod template gives the reason, and only then", async () => {
        const root = container({ securityContext: { ...HARDENED, runAsNonRoot: false, runAsUser: 0 } });
        const annotated = deployment([root], {
            annotations: { [RUNS_AS_ROOT_ANNOTATION]: "reads root-owned node logs" },
        });
        assert.deepEqual(await violations(policy, annotated), []);
        const empty = deployment([root], { annotations: { [RUNS_AS_ROOT_ANNOTATION]: " " } });
        assert.equal((await violations(policy, empty)).length, 1);
    });

    it("rejects a container that does not drop ALL capabilities", async () => {
        const c = container({ securityContext: { ...HARDENED, capabilities: { drop: ["NET_RAW"] } } });
        assert.deepEqual(await violations(policy, deployment([c])), [
            `${WEB}: securityContext.capabilities.drop does not include ALL`,
        ]);
    });

    it("rejects a container that allows privilege escalation, or leaves it to the default", async () => {
        const allowed = container({ securityContext: { ...HARDENED, allowPrivilegeEscalation: true } });
        assert.deepEqual(await violations(policy, deployment([allowed])), [
            `${WEB}: securityContext.allowPrivilegeEscalation is not false`,
        ]);
        const unset = container({ securityContext: { ...HARDENED, allowPrivilegeEscalation: undefined } });
        assert.deepEqual(await violations(policy, deployment([unset])), [
            `${WEB}: securityContext.allowPrivilegeEscalation is not false`,
        ]);
    });

    it("rejects a container without limits or requests", async () => {
        const noLimits = container({ resources: { requests: { cpu: "50m", memory: "64Mi" } } });
        assert.deepEqual(await violations(policy, deployment([noLimits])), [
            `${WEB}: resources.limits.cpu is missing`,
            `${WEB}: resources.limits.memory is missing`,
        ]);
        const noMemoryRequest = container({ resources: { limits: RESOURCES.limits, requests: { cpu: "50m" } } });
        assert.deepEqual(await violations(policy, deployment([noMemoryRequest])), [
            `${WEB}: resources.requests.memory is missing`,
        ]);
    });

    it("checks init containers of a CronJob's pod template, naming kind, namespace and container", async () => {
        const cronJob = resource(CRON_JOB, "report", {
            metadata: { name: "weekly-report", namespace: "monitoring" },
            spec: {
                schedule: "0 6 * * 1",
                jobTemplate: {
                    spec: {
                        template: {
                            spec: {
                                initContainers: [{ name: "fetch", image: IMAGE }],
                                containers: [container({ name: "report" })],
                            },
                        },
                    },
                },
            },
        });
        const at = 'CronJob monitoring/weekly-report init container "fetch"';
        assert.deepEqual(await violations(policy, cronJob), [
            `${at}: may run as root: set securityContext.runAsNonRoot: true or runAsUser > 0 (container or pod), ` +
                "or give the pod template the annotation observability/runs-as-root: <reason>",
            `${at}: securityContext.capabilities.drop does not include ALL`,
            `${at}: securityContext.allowPrivilegeEscalation is not false`,
            `${at}: resources.limits.cpu is missing`,
            `${at}: resources.limits.memory is missing`,
            `${at}: resources.requests.cpu is missing`,
            `${at}: resources.requests.memory is missing`,
        ]);
    });

    it("reads a bare Pod's own spec, and names the default namespace when none is set", async () => {
        const pod = resource(POD, "debug", {
            metadata: { name: "debug" },
            spec: { containers: [container({ resources: {} })] },
        });
        assert.deepEqual(await violations(policy, pod), [
            'Pod default/debug container "app": resources.limits.cpu is missing',
            'Pod default/debug container "app": resources.limits.memory is missing',
            'Pod default/debug container "app": resources.requests.cpu is missing',
            'Pod default/debug container "app": resources.requests.memory is missing',
        ]);
    });

    it("ignores resources that are not workloads", async () => {
        assert.deepEqual(await violations(policy, configMap({ "a.conf": "x" })), []);
    });
});

describe("policy pack: no-secret-material-in-config", () => {
    const policy = noSecretMaterial("mandatory", "program");
    const KEY = fakePem("PRIVATE KEY", "leaky");
    const RSA_KEY = fakePem("RSA PRIVATE KEY", "leaky");
    const CERT = fakePem("CERTIFICATE", "leaky");

    it("rejects a private key in a ConfigMap", async () => {
        assert.deepEqual(await violations(policy, configMap({ "tls.key": KEY })), [
            "ConfigMap observability/settings data.tls.key: holds a private key (PRIVATE KEY); keys belong in a Secret",
        ]);
    });

    it("rejects any PEM block in a ConfigMap, and looks into binaryData", async () => {
        assert.deepEqual(
            await violations(
                policy,
                configMap({ "ca.crt": CERT }, { "key.der": Buffer.from(RSA_KEY).toString("base64") }),
            ),
            [
                "ConfigMap observability/settings data.ca.crt: holds a PEM block (CERTIFICATE); PEM material belongs in a Secret",
                "ConfigMap observability/settings binaryData.key.der: holds a private key (RSA PRIVATE KEY); keys belong in a Secret",
            ],
        );
    });

    it("rejects a credential-named ConfigMap key with a literal value", async () => {
        assert.deepEqual(await violations(policy, configMap({ password: "hunter2-hunter2", "app.conf": "x" })), [
            "ConfigMap observability/settings data.password: a credential-named key with a literal value; " +
                "reference a Secret or a mounted file instead",
        ]);
    });

    it("rejects a password literal and a private key in chart values", async () => {
        const values = { admin: { password: "hunter2-hunter2" }, sidecar: { tls: { key: KEY } } };
        assert.deepEqual(await violations(policy, chart(values)), [
            "Chart observability/grafana values.admin.password: a credential-named key with a literal value; " +
                "reference a Secret or a mounted file instead",
            "Chart observability/grafana values.sidecar.tls.key: holds a private key (PRIVATE KEY); keys belong in a Secret",
        ]);
    });

    it("accepts file references, Secret names, empty values, flags, and certificates in chart values", async () => {
        const values = {
            admin: { existingSecret: "grafana-admin", passwordKey: "admin-password", password: "" },
            datasources: [{ secureJsonData: { tlsClientKey: "$__file{/etc/observability/grafana-client/tls.key}" } }],
            tls: { key_file: "/etc/observability/tls/tls.key", passwordFile: "/etc/secret/password", token: true },
            caBundle: CERT,
        };
        assert.deepEqual(await violations(policy, chart(values)), []);
    });

    it("ignores other resources, Secrets included", async () => {
        const secret = resource("kubernetes:core/v1:Secret", "tls", { stringData: { "tls.key": KEY, password: "x" } });
        assert.deepEqual(await violations(policy, secret), []);
    });
});

describe("policy pack: no-latest-images and images-pinned", () => {
    const latest = noLatestImages("mandatory", "program");
    const pinned = imagesPinned("mandatory", "program");
    const DIGEST = `sha256:${"ab".repeat(32)}`;
    const withImage = (image: string) => deployment([container({ image })]);
    const NOT_PINNED = "is not pinned: give a digest or a version tag (at least major.minor)";

    it("rejects an image without a tag (implicit latest)", async () => {
        assert.deepEqual(await violations(latest, withImage("nginx")), [
            `${WEB}: image "nginx" has no tag, so it runs whatever latest is`,
        ]);
        assert.deepEqual(await violations(pinned, withImage("nginx")), [`${WEB}: image "nginx" ${NOT_PINNED}`]);
    });

    it("does not take a registry port for a tag", async () => {
        assert.deepEqual(await violations(latest, withImage("registry.local:5000/team/app")), [
            `${WEB}: image "registry.local:5000/team/app" has no tag, so it runs whatever latest is`,
        ]);
        assert.deepEqual(await violations(pinned, withImage("registry.local:5000/team/app:2.4.1")), []);
    });

    it("rejects the latest tag", async () => {
        assert.deepEqual(await violations(latest, withImage("nginx:latest")), [
            `${WEB}: image "nginx:latest" uses the latest tag`,
        ]);
        assert.deepEqual(await violations(pinned, withImage("nginx:latest")), [
            `${WEB}: image "nginx:latest" ${NOT_PINNED}`,
        ]);
    });

    it("rejects a tag that names no version", async () => {
        assert.deepEqual(await violations(latest, withImage("ghcr.io/acme/app:main")), []);
        assert.deepEqual(await violations(pinned, withImage("ghcr.io/acme/app:main")), [
            `${WEB}: image "ghcr.io/acme/app:main" ${NOT_PINNED}`,
        ]);
        assert.deepEqual(await violations(pinned, withImage("ghcr.io/acme/app:12")), [
            `${WEB}: image "ghcr.io/acme/app:12" ${NOT_PINNED}`,
        ]);
    });

    it("accepts version tags", async () => {
        for (const image of [IMAGE, "quay.io/thanos/thanos:v0.39.2", "otel/opentelemetry-collector-k8s:0.158.0"]) {
            assert.deepEqual(await violations(pinned, withImage(image)), [], image);
            assert.deepEqual(await violations(latest, withImage(image)), [], image);
        }
    });

    it("accepts a digest, with or without a tag, also when digests are required", async () => {
        for (const image of [`nginx@${DIGEST}`, `gcr.io/distroless/nodejs22-debian12:nonroot@${DIGEST}`]) {
            assert.deepEqual(await violations(latest, withImage(image)), [], image);
            assert.deepEqual(await violations(pinned, withImage(image), { requireDigest: true }), [], image);
        }
    });

    it("rejects a tag-only image when requireDigest is set", async () => {
        assert.deepEqual(await violations(pinned, withImage(IMAGE), { requireDigest: true }), [
            `${WEB}: image "${IMAGE}" is not pinned by a digest (requireDigest is set)`,
        ]);
    });

    it("rejects a malformed digest", async () => {
        assert.deepEqual(await violations(pinned, withImage("nginx@sha256:abc")), [
            `${WEB}: image "nginx@sha256:abc" ${NOT_PINNED}`,
        ]);
    });

    it("finds images in chart values: objects with a repository, and strings", async () => {
        const values = {
            image: { registry: "docker.io", repository: "grafana/grafana", tag: "latest" },
            sidecar: { image: { repository: "kiwigrid/k8s-sidecar", tag: "1.30.3", sha: "cd".repeat(32) } },
            initChownData: { image: { repository: "busybox" } },
            global: { image: { registry: "mirror.local" } },
            extraContainers: [{ name: "helper", image: "busybox" }],
        };
        assert.deepEqual(
            imageUses(HELM_CHART_V4, chart(values).props, "grafana-chart").map((u) => `${u.where} ${u.image}`),
            [
                "Chart observability/grafana values.image docker.io/grafana/grafana:latest",
                `Chart observability/grafana values.sidecar.image kiwigrid/k8s-sidecar:1.30.3@sha256:${"cd".repeat(32)}`,
                "Chart observability/grafana values.extraContainers[0].image busybox",
            ],
        );
        assert.deepEqual(await violations(latest, chart(values)), [
            'Chart observability/grafana values.image: image "docker.io/grafana/grafana:latest" uses the latest tag',
            'Chart observability/grafana values.extraContainers[0].image: image "busybox" has no tag, so it runs whatever latest is',
        ]);
    });
});

describe("policy pack: load-balancers-only-for-ingest", () => {
    const policy = loadBalancersOnlyForIngest("mandatory", "program");
    const logs = INGEST.logs;

    it("accepts an ingest LoadBalancer with exactly its signal's port", async () => {
        const lb = loadBalancer("logs-ingest-lb", [{ name: "logs", port: logs.port, targetPort: logs.targetPort }]);
        assert.deepEqual(await violations(policy, lb), []);
        const traces = loadBalancer("traces-ingest-lb", [{ port: INGEST.traces.port }]);
        assert.deepEqual(await violations(policy, traces), []);
    });

    it("rejects an unexpected LoadBalancer Service", async () => {
        const grafana = loadBalancer("grafana", [{ port: 80, targetPort: 3000 }]);
        assert.deepEqual(await violations(policy, grafana), [
            "Service observability/grafana: type LoadBalancer is reserved for the ingest endpoints " +
                "(metrics-ingest-lb, logs-ingest-lb, traces-ingest-lb, alerts-ingest-lb)",
        ]);
    });

    it("rejects an ingest LoadBalancer with other ports", async () => {
        const extra = loadBalancer("logs-ingest-lb", [
            { name: "logs", port: logs.port, targetPort: logs.targetPort },
            { name: "http", port: 3100 },
        ]);
        assert.deepEqual(await violations(policy, extra), [
            `Service observability/logs-ingest-lb: a LoadBalancer for logs ingest must expose only port ${logs.port} ` +
                `(target ${logs.targetPort}), not ${logs.port}->${logs.targetPort}, 3100->3100`,
        ]);
        const wrongTarget = loadBalancer("logs-ingest-lb", [{ port: logs.port }]);
        assert.deepEqual(await violations(policy, wrongTarget), [
            `Service observability/logs-ingest-lb: a LoadBalancer for logs ingest must expose only port ${logs.port} ` +
                `(target ${logs.targetPort}), not ${logs.port}->${logs.port}`,
        ]);
    });

    it("holds NodePort Services to the same rule: ingest endpoints only, each with its one port", async () => {
        const nodePort = (name: string, ports: Record<string, unknown>[]): Subject =>
            resource(SERVICE, name, {
                metadata: { name, namespace: "observability" },
                spec: { type: "NodePort", selector: { app: "x" }, ports },
            });
        const ok = nodePort("logs-ingest-np", [
            { name: "logs", port: logs.port, targetPort: logs.targetPort, nodePort: 30443 },
        ]);
        assert.deepEqual(await violations(policy, ok), []);
        assert.deepEqual(await violations(policy, nodePort("grafana", [{ port: 80, targetPort: 3000 }])), [
            "Service observability/grafana: type NodePort is reserved for the ingest endpoints " +
                "(metrics-ingest-np, logs-ingest-np, traces-ingest-np, alerts-ingest-np)",
        ]);
        assert.deepEqual(await violations(policy, nodePort("logs-ingest-np", [{ port: 3100 }])), [
            `Service observability/logs-ingest-np: a NodePort for logs ingest must expose only port ${logs.port} ` +
                `(target ${logs.targetPort}), not 3100->3100`,
        ]);
    });

    it("ignores Services of other types", async () => {
        const clusterIp = resource(SERVICE, "grafana", {
            metadata: { name: "grafana" },
            spec: { ports: [{ port: 80 }] },
        });
        assert.deepEqual(await violations(policy, clusterIp), []);
    });
});

describe("policy pack: network-policies-in-namespaces", () => {
    const namespace = (name: string, urn = programUrn(NAMESPACE, name)) =>
        resource(NAMESPACE, name, { metadata: { name } }, urn);
    const networkPolicy = (namespaceName: string) =>
        resource(NETWORK_POLICY, `deny-${namespaceName}`, {
            metadata: { name: "default-deny", namespace: namespaceName },
            spec: { podSelector: {}, policyTypes: ["Ingress"] },
        });

    it("rejects a namespace without a NetworkPolicy, naming it", async () => {
        const core = namespace("observability");
        const agents = namespace("observability-agents");
        const found = await stackViolations(networkPoliciesInNamespaces("mandatory", "program"), [
            core,
            agents,
            networkPolicy("observability"),
            networkPolicy("elsewhere"),
        ]);
        assert.deepEqual(found, [`Namespace observability-agents has no NetworkPolicy [${agents.urn}]`]);
    });

    it("accepts namespaces that each hold a NetworkPolicy", async () => {
        const found = await stackViolations(networkPoliciesInNamespaces("mandatory", "program"), [
            namespace("observability"),
            networkPolicy("observability"),
        ]);
        assert.deepEqual(found, []);
    });

    it("leaves chart-rendered namespaces to the advisory twin", async () => {
        const rendered = namespace("vendor", chartUrn(NAMESPACE, "chart:vendor"));
        assert.deepEqual(await stackViolations(networkPoliciesInNamespaces("mandatory", "program"), [rendered]), []);
        assert.deepEqual(await stackViolations(networkPoliciesInNamespaces("advisory", "chart"), [rendered]), [
            `Namespace vendor has no NetworkPolicy [${rendered.urn}]`,
        ]);
    });
});

/**
 * The pack as `pulumi preview --policy-pack policy` starts it: the CLI's Node.js analyzer launcher
 * resolves `@pulumi/pulumi/cmd/run-policy-pack` from the pack's directory (walking up to the
 * project's node_modules) and runs it there, which compiles index.ts with ts-node and serves the
 * Analyzer gRPC service. The test then plays the engine's part.
 */
describe("policy pack: started as the Pulumi CLI starts it", () => {
    const packDir = path.join(projectDir, "policy");
    let child: ChildProcess;
    let client: AnalyzerClient;

    // Compiling the pack with type checks, as the CLI's runner does, takes seconds.
    before(
        async () => {
            const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
            // The CLI's environment, not the test runner's: no ts-node shortcuts.
            const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TS_NODE_")));
            child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: packDir, env });
            let stderr = "";
            child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            const port = await new Promise<string>((resolve, reject) => {
                child.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
                child.once("exit", (code) => reject(new Error(`the pack exited (${code}): ${stderr}`)));
            });
            client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        },
        { timeout: 120_000 },
    );

    after(() => {
        client?.close();
        child?.kill();
    });

    const rpc = <Req, Res>(
        method: (req: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown,
        req: Req,
    ) => new Promise<Res>((resolve, reject) => method.call(client, req, (e, r) => (e ? reject(e) : resolve(r))));

    /** `MANDATORY` for 1: the generated module has the enum's values, not its reverse mapping. */
    const levelName = (level: number) => Object.entries(ProtoLevel).find(([, v]) => v === level)?.[0];

    const diagnostics = (response: AnalyzeResponse) =>
        response
            .getDiagnosticsList()
            .map(
                (d) =>
                    `${d.getPolicyname()} ${levelName(d.getEnforcementlevel())}: ${d.getMessage().split("\n").pop()}`,
            );

    const analyze = async (subject: Subject) => {
        const request = new AnalyzeRequest()
            .setType(subject.type)
            .setUrn(subject.urn)
            .setName(subject.name)
            .setProperties(Struct.fromJavaScript(subject.props as Parameters<typeof Struct.fromJavaScript>[0]))
            .setOptions(new AnalyzerResourceOptions());
        return diagnostics(await rpc<AnalyzeRequest, AnalyzeResponse>(client.analyze, request));
    };

    it("serves the pack with its twelve policies at their levels", async () => {
        const info = await rpc<Empty, AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
        assert.equal(info.getName(), "observability");
        assert.deepEqual(
            info.getPoliciesList().map((p) => `${p.getName()} ${levelName(p.getEnforcementlevel())}`),
            PACK.map((p) => `${p.name} ${String(p.enforcementLevel).toUpperCase()}`),
        );
    });

    it("reports a declared workload as mandatory and a chart-rendered one as advisory", async () => {
        const bad = deployment([container({ image: "nginx:latest" })]);
        assert.deepEqual(await analyze(bad), [
            `no-latest-images MANDATORY: ${WEB}: image "nginx:latest" uses the latest tag`,
            `images-pinned MANDATORY: ${WEB}: image "nginx:latest" is not pinned: give a digest or a version tag (at least major.minor)`,
        ]);
        const rendered = { ...bad, urn: chartUrn(DEPLOYMENT, "chart:observability/web") };
        assert.deepEqual(await analyze(rendered), [
            `no-latest-images-chart-rendered ADVISORY: ${WEB}: image "nginx:latest" uses the latest tag`,
            `images-pinned-chart-rendered ADVISORY: ${WEB}: image "nginx:latest" is not pinned: give a digest or a version tag (at least major.minor)`,
        ]);
    });

    it("runs the stack policy", async () => {
        const ns = resource(NAMESPACE, "core", { metadata: { name: "observability" } });
        const request = new AnalyzeStackRequest().setResourcesList([
            new AnalyzerResource()
                .setType(ns.type)
                .setUrn(ns.urn)
                .setName(ns.name)
                .setProperties(Struct.fromJavaScript({ metadata: { name: "observability" } }))
                .setOptions(new AnalyzerResourceOptions()),
        ]);
        const response = await rpc<AnalyzeStackRequest, AnalyzeResponse>(client.analyzeStack, request);
        assert.deepEqual(diagnostics(response), [
            "network-policies-in-namespaces MANDATORY: Namespace observability has no NetworkPolicy",
        ]);
        assert.equal(response.getDiagnosticsList()[0]?.getUrn(), ns.urn);
    });

    it("takes requireDigest from the pack's configuration", async () => {
        const request = new ConfigureAnalyzerRequest();
        request
            .getPolicyconfigMap()
            .set(
                "images-pinned",
                new PolicyConfig()
                    .setEnforcementlevel(ProtoLevel.MANDATORY)
                    .setProperties(Struct.fromJavaScript({ requireDigest: true })),
            );
        await rpc<ConfigureAnalyzerRequest, Empty>(client.configure, request);
        assert.deepEqual(await analyze(deployment([container()])), [
            `images-pinned MANDATORY: ${WEB}: image "${IMAGE}" is not pinned by a digest (requireDigest is set)`,
        ]);
    });
});
