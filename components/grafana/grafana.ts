import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import type { MainConfig, StackSecrets } from "../../config";
import { commonLabels, DASHBOARD_LABEL, FOLDER_ANNOTATION } from "../core/labels";
import { chartArgs, charts } from "../core/versions";
import { stackDashboards } from "./dashboards";
import {
    ADMIN_PASSWORD_KEY,
    ADMIN_USER_KEY,
    GRAFANA_ADMIN_SECRET,
    GRAFANA_OIDC_SECRET,
    GRAFANA_RELEASE,
    grafanaValues,
    OIDC_SECRET_KEY,
} from "./values";

export interface GrafanaArgs {
    config: MainConfig;
    secrets: StackSecrets;
    /** Revision of Grafana's client certificate. */
    clientRevision: string;
}

/**
 * Grafana on main: generated admin credentials, datasources provisioned from a Secret, the
 * stack's dashboards as ConfigMaps the sidecar loads (next to the kube-prometheus-stack's).
 */
export class Grafana extends pulumi.ComponentResource {
    /** The dashboards' JSON by file name, for the offline render and reviewers' diffs. */
    public readonly dashboards: Record<string, string>;

    constructor(name: string, args: GrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:Grafana", name, {}, opts);
        const { config, secrets } = args;
        const { oidc, adminPasswordGeneration } = config.grafana;
        const oidcSecret = secrets.grafanaOidcClientSecret;
        if (oidc !== undefined && oidcSecret === undefined) {
            throw new pulumi.ResourceError(
                "grafana.oidc is set but the secret grafanaOidcClientSecret was not given",
                this,
            );
        }
        const labels = commonLabels(config.cluster.name);
        const metadata = (secretName: string) => ({ name: secretName, namespace: config.namespace, labels });

        // A new generation draws a new password; Grafana applies it only through the reset command (P10).
        const password = new random.RandomPassword(
            `${name}-admin-password`,
            { length: 32, special: false, keepers: { generation: String(adminPasswordGeneration) } },
            { parent: this },
        );
        const admin = new k8s.core.v1.Secret(
            `${name}-admin`,
            {
                metadata: metadata(GRAFANA_ADMIN_SECRET),
                type: "Opaque",
                stringData: { [ADMIN_USER_KEY]: "admin", [ADMIN_PASSWORD_KEY]: pulumi.secret(password.result) },
            },
            { parent: this },
        );
        const dependsOn: pulumi.Resource[] = [admin];
        if (oidc !== undefined && oidcSecret !== undefined) {
            dependsOn.push(
                new k8s.core.v1.Secret(
                    `${name}-oidc`,
                    {
                        metadata: metadata(GRAFANA_OIDC_SECRET),
                        type: "Opaque",
                        stringData: { [OIDC_SECRET_KEY]: oidcSecret },
                    },
                    { parent: this },
                ),
            );
        }

        this.dashboards = {};
        for (const dashboard of stackDashboards(config)) {
            const json = `${JSON.stringify(dashboard.json, null, 2)}\n`;
            this.dashboards[dashboard.file] = json;
            new k8s.core.v1.ConfigMap(
                `${name}-dashboard-${dashboard.file.replace(/\.json$/, "")}`,
                {
                    metadata: {
                        name: `dashboard-${dashboard.file.replace(/\.json$/, "")}`,
                        namespace: config.namespace,
                        labels: { ...labels, [DASHBOARD_LABEL.key]: DASHBOARD_LABEL.value },
                        annotations: { [FOLDER_ANNOTATION]: dashboard.folder },
                    },
                    data: { [dashboard.file]: json },
                },
                { parent: this },
            );
        }

        new k8s.helm.v4.Chart(
            `${name}-chart`,
            chartArgs(
                charts.grafana,
                GRAFANA_RELEASE,
                config.namespace,
                grafanaValues({ config, clientRevision: args.clientRevision }),
                config.charts.directory,
            ),
            { parent: this, dependsOn },
        );
        this.registerOutputs({});
    }
}
