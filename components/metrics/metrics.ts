import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { MainConfig, StackConfig, StackSecrets } from "../../config";
import { alertingInputs, clusterRules } from "../alerting/alerting";
import type { CertificateFacts } from "../alerting/rules";
import { commonLabels } from "../core/labels";
import { agentsNamespaceName } from "../core/namespaces";
import { checkRoleArgs } from "../core/role-args";
import { chartArgs, charts } from "../core/versions";
import type { IngestEndpoints } from "../network/endpoints";
import { exposeIngest } from "../network/exposure";
import { remoteWriteSpec } from "./remote-write";
import { ThanosRuler } from "./thanos-ruler";
import {
    kpsValues,
    KPS_RELEASE,
    OBJSTORE_CLAIM,
    OBJSTORE_KEY,
    OBJSTORE_SECRET,
    objstoreConfig,
    thanosValues,
    THANOS_RELEASE,
} from "./values";

export interface MetricsArgs {
    /** The validated stack configuration. */
    config: StackConfig;
    /**
     * Main only: the stack's secrets (object storage, alert receivers), the remote-write
     * listener's certificate, and the fleet's certificates for their expiry rules.
     */
    main?: {
        secrets: StackSecrets;
        receiveTls: { secretName: string; revision: string };
        /** Revision of the fleet CA: Thanos reads client CAs only at start, so a new CA rolls it. */
        caRevision: string;
        certificates: pulumi.Input<readonly CertificateFacts[]>;
    };
    /** Sub only: main's endpoints and the Secret of this cluster's identity. */
    sub?: { endpoints: IngestEndpoints; identitySecret: string };
}

/**
 * Metrics of a cluster: kube-prometheus-stack on both roles. On main, also Thanos (Receive
 * behind client-certificate verification, Query, Store Gateway, Compactor, Ruler) with the
 * object storage it uploads to, and the exposure of the remote-write endpoint. On a sub,
 * Prometheus remote-writes to main and sends its alerts to main's Alertmanager over mTLS.
 */
export class Metrics extends pulumi.ComponentResource {
    /** The kube-prometheus-stack chart. */
    public readonly prometheusStack: k8s.helm.v4.Chart;
    /** The Thanos chart, on main. */
    public readonly thanos: k8s.helm.v4.Chart | undefined;

    constructor(name: string, args: MetricsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:Metrics", name, {}, opts);
        const { config } = args;
        checkRoleArgs(this, config.role, { main: { main: args.main }, sub: { sub: args.sub } });
        const namespace = config.namespace;
        const ship =
            args.sub === undefined
                ? undefined
                : {
                      remoteWrite: remoteWriteSpec(args.sub.endpoints.metrics, args.sub.identitySecret),
                      alerts: args.sub.endpoints.alerts,
                      identitySecret: args.sub.identitySecret,
                  };

        // What the charts read at start: object storage configuration, Alertmanager configuration, fleet rules.
        let prerequisites: pulumi.Resource[] = [];
        if (config.role === "main" && args.main !== undefined) {
            prerequisites = [
                ...this.objectStorage(name, config, args.main.secrets),
                ...alertingInputs(name, config, args.main.secrets, { parent: this }),
            ];
        }

        this.prometheusStack = new k8s.helm.v4.Chart(
            `${name}-kps`,
            chartArgs(
                charts.kubePrometheusStack,
                KPS_RELEASE,
                namespace,
                kpsValues({
                    config,
                    agentsNamespace: agentsNamespaceName(namespace),
                    ...(ship ? { ship } : {}),
                    ...(args.main ? { caRevision: args.main.caRevision } : {}),
                }),
                config.charts.directory,
            ),
            { parent: this, dependsOn: prerequisites },
        );
        // PrometheusRule is one of the chart's CRDs.
        clusterRules(name, config, args.main?.certificates, { parent: this, dependsOn: [this.prometheusStack] });

        if (config.role === "main" && args.main !== undefined) {
            this.thanos = new k8s.helm.v4.Chart(
                `${name}-thanos`,
                chartArgs(
                    charts.thanos,
                    THANOS_RELEASE,
                    namespace,
                    thanosValues({ config, receiveTls: args.main.receiveTls, caRevision: args.main.caRevision }),
                    config.charts.directory,
                ),
                // Its ServiceMonitors need the CRDs kube-prometheus-stack installs (P25).
                { parent: this, dependsOn: [...prerequisites, this.prometheusStack] },
            );
            // The chart's Ruler cannot dial Query with a client certificate: the stack runs its own.
            new ThanosRuler(
                `${name}-thanos-rule`,
                { config, caRevision: args.main.caRevision },
                { parent: this, dependsOn: [...prerequisites, this.prometheusStack] },
            );
            exposeIngest(
                `${name}-metrics-ingest`,
                {
                    config,
                    signal: "metrics",
                    podSelector: {
                        "app.kubernetes.io/name": "thanos",
                        "app.kubernetes.io/instance": THANOS_RELEASE,
                        "app.kubernetes.io/component": "receive-router",
                    },
                },
                { parent: this },
            );
        }

        this.registerOutputs({});
    }

    /** The Thanos object storage configuration, and the shared volume a filesystem store needs. */
    private objectStorage(name: string, config: MainConfig, secrets: StackSecrets): pulumi.Resource[] {
        const metadata = (n: string) => ({
            name: n,
            namespace: config.namespace,
            labels: commonLabels(config.cluster.name),
        });
        const storage = config.storage;
        const content =
            storage.kind === "s3"
                ? pulumi
                      .all([secrets.s3AccessKeyId, secrets.s3SecretAccessKey])
                      .apply(([accessKeyId, secretAccessKey]) => {
                          if (accessKeyId === undefined || secretAccessKey === undefined) {
                              throw new Error("storage.kind is s3 but the S3 credentials are not set");
                          }
                          return objstoreConfig(storage, { accessKeyId, secretAccessKey });
                      })
                : pulumi.output(objstoreConfig(storage));
        const secret = new k8s.core.v1.Secret(
            `${name}-objstore`,
            {
                metadata: metadata(OBJSTORE_SECRET),
                type: "Opaque",
                stringData: pulumi.secret({ [OBJSTORE_KEY]: content }),
            },
            { parent: this },
        );
        if (storage.kind !== "filesystem") return [secret];
        // Every Thanos brick reads and writes the same blocks: shared by all its pods, which a
        // ReadWriteOnce volume allows on one node (metrics/values.ts co-locates them).
        const claim = new k8s.core.v1.PersistentVolumeClaim(
            `${name}-objstore-volume`,
            {
                metadata: metadata(OBJSTORE_CLAIM),
                spec: {
                    accessModes: [storage.accessMode],
                    resources: { requests: { storage: storage.size } },
                    ...(storage.storageClass !== undefined ? { storageClassName: storage.storageClass } : {}),
                },
            },
            { parent: this },
        );
        return [secret, claim];
    }
}
