import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { MainConfig, StackSecrets } from "../../config";
import { commonLabels } from "../core/labels";
import { Namespaces } from "../core/namespaces";
import { Grafana } from "../grafana/grafana";
import { Logs } from "../logs/logs";
import { OBJECT_STORAGE_SECRET } from "../logs/values";
import { Metrics } from "../metrics/metrics";
import { alertIngestSpec, MtlsFront, queryGatewaySpec, traceIngestSpec } from "../network/mtls-front";
import { NetworkPolicies } from "../network/policies";
import type { FleetBundle } from "../pki/fleet-bundle";
import { Pki, type CertificateStatus } from "../pki/pki";
import { CLUSTER_IDENTITY_SECRET, tlsSecretName } from "../pki/profiles";
import { Remediator } from "../programs/remediator";
import { Reporter } from "../programs/reporter";
import { Traces } from "../traces/traces";

export interface MainClusterArgs {
    /** The validated stack configuration of a `main` stack. */
    config: MainConfig;
    /** Secrets read from the stack configuration. */
    secrets: StackSecrets;
}

/**
 * The main cluster: stores and shows the signals of the whole fleet. Composes the signal
 * components; each one lands in the namespaces created here.
 */
export class MainCluster extends pulumi.ComponentResource {
    /** Namespace of the stack's own workloads. */
    public readonly namespace: pulumi.Output<string>;
    /** Privileged namespace of the node collectors. */
    public readonly agentsNamespace: pulumi.Output<string>;
    /** Name of the Secret holding the object-storage credentials, when storage is S3. */
    public readonly objectStorageSecret: pulumi.Output<string> | undefined;
    /** One certificate bundle per sub cluster, by name; a secret. */
    public readonly bundles: pulumi.Output<Record<string, FleetBundle>>;
    /** Public facts (names, expiry, revision) of every certificate of the fleet PKI. */
    public readonly certificates: pulumi.Output<Record<string, CertificateStatus>>;

    constructor(name: string, args: MainClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:MainCluster", name, {}, opts);
        const { config, secrets } = args;
        const { s3AccessKeyId, s3SecretAccessKey } = secrets;
        if (config.storage.kind === "s3" && (s3AccessKeyId === undefined || s3SecretAccessKey === undefined)) {
            throw new pulumi.ResourceError(
                "storage.kind is s3 but secrets.s3AccessKeyId and secrets.s3SecretAccessKey were not both given",
                this,
            );
        }

        const namespaces = new Namespaces(
            `${name}-namespaces`,
            { namespace: config.namespace, clusterName: config.cluster.name },
            { parent: this },
        );
        this.namespace = namespaces.core;
        this.agentsNamespace = namespaces.agents;

        new NetworkPolicies(`${name}-network-policies`, { config }, { parent: this, dependsOn: [namespaces] });

        const pki = new Pki(
            `${name}-pki`,
            { config, namespace: namespaces.core, agentsNamespace: namespaces.agents },
            { parent: this },
        );
        this.bundles = pki.bundles;
        this.certificates = pki.certificates;

        const metrics = new Metrics(
            `${name}-metrics`,
            {
                config,
                main: {
                    secrets,
                    receiveTls: {
                        secretName: tlsSecretName({ profile: "thanos-receive", kind: "server" }),
                        revision: pki.revisions["thanos-receive"] ?? "",
                    },
                    caRevision: pki.revisions["ca"] ?? "",
                    certificates: pki.certificates.apply((all) =>
                        Object.entries(all).map(([id, status]) => ({ id, ...status })),
                    ),
                },
            },
            { parent: this, dependsOn: [namespaces, pki] },
        );

        new MtlsFront(
            `${name}-alert-ingest`,
            {
                config,
                spec: alertIngestSpec(config.namespace),
                tls: {
                    secretName: tlsSecretName({ profile: "alertmanager", kind: "server" }),
                    revision: pki.revisions["alertmanager"] ?? "",
                },
            },
            // Declared as an AlertIngest before the fronts shared one component.
            { parent: this, dependsOn: [namespaces, pki], aliases: [{ type: "obs:index:AlertIngest" }] },
        );

        new MtlsFront(
            `${name}-query-gateway`,
            {
                config,
                spec: queryGatewaySpec(config),
                tls: {
                    secretName: tlsSecretName({ profile: "query-gateway", kind: "server" }),
                    revision: pki.revisions["query-gateway"] ?? "",
                },
            },
            { parent: this, dependsOn: [namespaces, pki] },
        );

        // Every brick below renders ServiceMonitors or PodMonitors: kube-prometheus-stack installs
        // their CRDs, and Chart v4 orders objects only within one chart (P25).
        new Logs(
            `${name}-logs`,
            {
                config,
                identity: {
                    secretName: CLUSTER_IDENTITY_SECRET,
                    revision: pki.revisions[`cluster-${config.cluster.name}`] ?? "",
                },
                gatewayTls: {
                    secretName: tlsSecretName({ profile: "logs-ingest", kind: "server" }),
                    revision: pki.revisions["logs-ingest"] ?? "",
                },
            },
            { parent: this, dependsOn: [namespaces, pki, metrics.prometheusStack] },
        );

        new Traces(
            `${name}-traces`,
            {
                config,
                identity: {
                    secretName: CLUSTER_IDENTITY_SECRET,
                    revision: pki.revisions[`cluster-${config.cluster.name}`] ?? "",
                },
                tempoTls: {
                    secretName: tlsSecretName({ profile: "tempo-receiver", kind: "server" }),
                    revision: pki.revisions["tempo-receiver"] ?? "",
                },
            },
            { parent: this, dependsOn: [namespaces, pki, metrics.prometheusStack] },
        );

        new MtlsFront(
            `${name}-trace-ingest`,
            {
                config,
                spec: traceIngestSpec(config),
                tls: {
                    secretName: tlsSecretName({ profile: "tempo", kind: "server" }),
                    revision: pki.revisions["tempo"] ?? "",
                },
                upstreamTls: {
                    secretName: tlsSecretName({ profile: "traces-ingest", kind: "client" }),
                    revision: pki.revisions["traces-ingest"] ?? "",
                },
            },
            { parent: this, dependsOn: [namespaces, pki] },
        );

        new Grafana(
            `${name}-grafana`,
            { config, secrets, clientRevision: pki.revisions["grafana"] ?? "" },
            { parent: this, dependsOn: [namespaces, pki, metrics.prometheusStack] },
        );

        new Remediator(
            `${name}-remediator`,
            { config, ...(secrets.remediationGitToken ? { gitToken: secrets.remediationGitToken } : {}) },
            // Its ServiceMonitor is one of the metrics chart's CRDs.
            { parent: this, dependsOn: [namespaces, metrics] },
        );

        if (config.report.enabled) {
            new Reporter(
                `${name}-reporter`,
                { config, ...(secrets.reportCredentials ? { credentials: secrets.reportCredentials } : {}) },
                { parent: this, dependsOn: [namespaces, pki] },
            );
        }

        if (config.storage.kind === "s3" && s3AccessKeyId !== undefined && s3SecretAccessKey !== undefined) {
            // Credentials reach the stores only through this Secret, referenced by name.
            const credentials = new k8s.core.v1.Secret(
                `${name}-object-storage`,
                {
                    metadata: {
                        name: OBJECT_STORAGE_SECRET,
                        namespace: namespaces.core,
                        labels: commonLabels(config.cluster.name),
                    },
                    type: "Opaque",
                    stringData: {
                        AWS_ACCESS_KEY_ID: s3AccessKeyId,
                        AWS_SECRET_ACCESS_KEY: s3SecretAccessKey,
                    },
                },
                { parent: this },
            );
            this.objectStorageSecret = credentials.metadata.name;
        }

        this.registerOutputs({
            namespace: this.namespace,
            agentsNamespace: this.agentsNamespace,
            objectStorageSecret: this.objectStorageSecret,
            bundles: this.bundles,
            certificates: this.certificates,
        });
    }
}
