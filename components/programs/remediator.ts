import { createHash } from "node:crypto";
import * as path from "node:path";

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { protectedNamespaces, type StackConfig } from "../../config";
import { SETTINGS_FILE, TOKEN_FILE } from "../../remediator/keys";
import type { Settings } from "../../remediator/settings";
import { budgetRules } from "../alerting/rules";
import { annotationKeys, commonLabels } from "../core/labels";
import { RESOURCES } from "../core/resources";
import { images } from "../core/versions";
import { KPS_RELEASE } from "../metrics/values";
import { NONROOT_POD_SECURITY, programCode, programCodeVolume, programContainer } from "./node-program";

/**
 * The remediator of one cluster: its code bundled into a ConfigMap and run on the pinned Node.js
 * image, its settings from the stack config, RBAC no wider than its mode needs, and its metrics
 * scraped by the cluster's Prometheus. docs/remediation.md explains the modes and guardrails.
 */

export const REMEDIATOR_NAME = "remediator";
export const REMEDIATOR_METRICS_PORT = 8080;
/** Where the pod mounts its code and settings, its token, and its state. */
export const REMEDIATOR_DIR = path.posix.dirname(SETTINGS_FILE);
const TOKEN_DIR = path.posix.dirname(TOKEN_FILE);
const STATE_DIR = "/var/lib/remediator";
const TOKEN_KEY = path.posix.basename(TOKEN_FILE);

/** The remediator's settings document, from the stack config. */
export function remediatorSettings(config: StackConfig): Settings {
    const r = config.remediation;
    return {
        cluster: config.cluster.name,
        mode: r.mode,
        killSwitch: r.killSwitch,
        prometheusUrl: `http://${KPS_RELEASE}-prometheus.${config.namespace}.svc:9090`,
        pollIntervalSeconds: r.pollIntervalSeconds,
        optInLabel: { key: r.optInLabel.key, value: r.optInLabel.value },
        namespaces: [...r.namespaces],
        protectedNamespaces: protectedNamespaces(r, config.namespace),
        maxActionsPerHour: r.maxActionsPerHour,
        cooldownSeconds: r.cooldownMinutes * 60,
        fluxExemption: r.fluxExemption,
        rules: budgetRules(r),
        ...(r.mode === "gitops" && r.gitops !== undefined ? { gitops: { ...r.gitops } } : {}),
        stateFile: `${STATE_DIR}/state.json`,
        port: REMEDIATOR_METRICS_PORT,
    };
}

export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
}

/**
 * What the remediator may do, by mode: read the workloads it is told about and post Events in
 * every mode; annotate them and patch their scale only in `scale` mode. Never list, never delete.
 */
export function remediatorRules(mode: StackConfig["remediation"]["mode"]): PolicyRule[] {
    const scale = mode === "scale";
    return [
        { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: scale ? ["get", "patch"] : ["get"] },
        ...(scale
            ? [{ apiGroups: ["apps"], resources: ["deployments/scale", "statefulsets/scale"], verbs: ["patch"] }]
            : []),
        { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"] },
    ];
}

export interface RemediatorArgs {
    /** The validated stack configuration. */
    config: StackConfig;
    /** Token of `gitops` mode (the `remediationGitToken` secret). */
    gitToken?: pulumi.Output<string>;
}

export class Remediator extends pulumi.ComponentResource {
    constructor(name: string, args: RemediatorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:Remediator", name, {}, opts);
        const { config } = args;
        const gitops = config.remediation.mode === "gitops";
        if (gitops && args.gitToken === undefined) {
            throw new pulumi.ResourceError(
                "remediation.mode is gitops but the remediationGitToken secret was not given",
                this,
            );
        }
        const namespace = config.namespace;
        const labels = { ...commonLabels(config.cluster.name), "app.kubernetes.io/name": REMEDIATOR_NAME };
        const selector = { "app.kubernetes.io/name": REMEDIATOR_NAME };
        const metadata = { name: REMEDIATOR_NAME, namespace, labels };

        const code = programCode(name, "remediator", SETTINGS_FILE, remediatorSettings(config), metadata, this);
        const tokenSecret =
            gitops && args.gitToken !== undefined
                ? new k8s.core.v1.Secret(
                      `${name}-git-token`,
                      {
                          metadata: { name: `${REMEDIATOR_NAME}-git`, namespace, labels },
                          type: "Opaque",
                          stringData: { [TOKEN_KEY]: args.gitToken },
                      },
                      { parent: this },
                  )
                : undefined;

        const account = new k8s.core.v1.ServiceAccount(`${name}-account`, { metadata }, { parent: this });
        const rbac = this.grant(name, config, labels);

        const probe = (path: string) => ({
            httpGet: { path, port: "http-metrics" },
            periodSeconds: 10,
            timeoutSeconds: 3,
        });
        new k8s.apps.v1.Deployment(
            name,
            {
                metadata,
                spec: {
                    replicas: 1,
                    // Never two remediators at once, not even during a rollout: actions are counted per process.
                    strategy: { type: "Recreate" },
                    selector: { matchLabels: selector },
                    template: {
                        metadata: {
                            labels,
                            annotations: {
                                [annotationKeys.configRevision]: createHash("sha256")
                                    .update(code.bundle)
                                    .update(code.settings)
                                    .digest("hex")
                                    .slice(0, 16),
                            },
                        },
                        spec: {
                            serviceAccountName: REMEDIATOR_NAME,
                            securityContext: NONROOT_POD_SECURITY,
                            containers: [
                                {
                                    ...programContainer({
                                        program: "remediator",
                                        image: config.remediation.image ?? images.node,
                                        settingsFile: SETTINGS_FILE,
                                        resources: RESOURCES[config.profile].remediator,
                                        env: [
                                            {
                                                name: "POD_NAME",
                                                valueFrom: { fieldRef: { fieldPath: "metadata.name" } },
                                            },
                                        ],
                                        volumeMounts: [
                                            ...(tokenSecret
                                                ? [{ name: "git", mountPath: TOKEN_DIR, readOnly: true }]
                                                : []),
                                            { name: "state", mountPath: STATE_DIR },
                                        ],
                                    }),
                                    ports: [{ name: "http-metrics", containerPort: REMEDIATOR_METRICS_PORT }],
                                    livenessProbe: probe("/healthz"),
                                    readinessProbe: probe("/readyz"),
                                },
                            ],
                            volumes: [
                                programCodeVolume(code),
                                ...(tokenSecret
                                    ? [{ name: "git", secret: { secretName: tokenSecret.metadata.name } }]
                                    : []),
                                // Survives container restarts, so the hourly rate limit does too.
                                { name: "state", emptyDir: { sizeLimit: "1Mi" } },
                            ],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [account, ...rbac] },
        );

        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata,
                spec: {
                    selector,
                    ports: [{ name: "http-metrics", port: REMEDIATOR_METRICS_PORT, targetPort: "http-metrics" }],
                },
            },
            { parent: this },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-metrics`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata,
                spec: {
                    selector: { matchLabels: selector },
                    endpoints: [{ port: "http-metrics", path: "/metrics", interval: "30s" }],
                },
            },
            { parent: this },
        );
        this.registerOutputs({});
    }

    /**
     * The remediator's rights: a Role in each namespace of `remediation.namespaces`, or, when the
     * list is empty, one ClusterRole (the protected namespaces are then refused by its code).
     */
    private grant(name: string, config: StackConfig, labels: Record<string, string>): pulumi.Resource[] {
        const rules = remediatorRules(config.remediation.mode);
        const subject = { kind: "ServiceAccount", name: REMEDIATOR_NAME, namespace: config.namespace };
        const roleName = `${config.namespace}-${REMEDIATOR_NAME}`;
        if (config.remediation.namespaces.length === 0) {
            const role = new k8s.rbac.v1.ClusterRole(
                `${name}-role`,
                { metadata: { name: roleName, labels }, rules },
                { parent: this },
            );
            const binding = new k8s.rbac.v1.ClusterRoleBinding(
                `${name}-binding`,
                {
                    metadata: { name: roleName, labels },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleName },
                    subjects: [subject],
                },
                { parent: this, dependsOn: [role] },
            );
            return [role, binding];
        }
        return config.remediation.namespaces.flatMap((target) => {
            const metadata = { name: roleName, namespace: target, labels };
            const role = new k8s.rbac.v1.Role(`${name}-role-${target}`, { metadata, rules }, { parent: this });
            const binding = new k8s.rbac.v1.RoleBinding(
                `${name}-binding-${target}`,
                {
                    metadata,
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roleName },
                    subjects: [subject],
                },
                { parent: this, dependsOn: [role] },
            );
            return [role, binding];
        });
    }
}
