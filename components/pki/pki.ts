import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

import type { MainConfig } from "../../config";
import { ingestEndpoints } from "../network/endpoints";
import type { FleetBundle } from "./fleet-bundle";
import { allowedUses, certificateSpecs, tlsSecretName, type CertificateSpec } from "./profiles";
import { certificateRevision, now, renewalWindowOpens, replacementTrigger } from "./rotation";
import { clusterIdentitySecrets, tlsSecret } from "./tls-secret";

export interface PkiArgs {
    /** The validated configuration of the main stack. */
    config: MainConfig;
    /** Namespace of main's own workloads: server and service certificates land there. */
    namespace: pulumi.Input<string>;
    /** Namespace of main's node collectors: they get main's cluster certificate too. */
    agentsNamespace: pulumi.Input<string>;
}

/** A certificate's public facts, exported as a plain stack output for alerts and the report. */
export interface CertificateStatus {
    profile: string;
    commonName: string;
    dnsNames: string[];
    /** RFC 3339 instant the certificate expires at. */
    notAfter: string;
    /** RFC 3339 instant from which the first `pulumi up` replaces it. */
    renewFrom: string;
    revision: string;
}

interface Issued {
    spec: CertificateSpec;
    key: tls.PrivateKey;
    certPem: pulumi.Output<string>;
    notAfter: pulumi.Output<string>;
    revision: string;
}

const ECDSA_P256 = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;

/**
 * The fleet PKI, on the main stack: one root CA and every leaf certificate of the profiles.
 * Main's certificates land in `kubernetes.io/tls` Secrets; each sub cluster's certificate
 * leaves only as a secret stack output, its bundle. The CA key stays in this stack's state.
 */
export class Pki extends pulumi.ComponentResource {
    /** PEM of the fleet CA certificate. */
    public readonly caCert: pulumi.Output<string>;
    /** One bundle per sub cluster, by name; a secret. */
    public readonly bundles: pulumi.Output<Record<string, FleetBundle>>;
    /** Public facts of every certificate, by certificate id. */
    public readonly certificates: pulumi.Output<Record<string, CertificateStatus>>;
    /** Revision of every certificate, by id: known at preview, for pod annotations. */
    public readonly revisions: Record<string, string>;

    constructor(name: string, args: PkiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("obs:index:Pki", name, {}, opts);
        const { config } = args;
        const specs = certificateSpecs(config);
        const caSpec = specs.find((s) => s.kind === "ca");
        if (caSpec === undefined) {
            throw new pulumi.ResourceError("certificate profiles define no CA", this);
        }
        const instant = now();
        const generation = config.pki.generation;

        const caTrigger = replacementTrigger(caSpec, caSpec, instant, generation);
        const caKey = new tls.PrivateKey(`${name}-ca-key`, ECDSA_P256, {
            parent: this,
            replacementTrigger: caTrigger,
        });
        const ca = new tls.SelfSignedCert(
            `${name}-ca`,
            {
                privateKeyPem: caKey.privateKeyPem,
                subject: caSpec.subject,
                isCaCertificate: true,
                validityPeriodHours: caSpec.validityHours,
                allowedUses: allowedUses(caSpec),
            },
            { parent: this, replacementTrigger: caTrigger },
        );
        this.caCert = ca.certPem;
        const caRevision = certificateRevision(caSpec, caTrigger);

        const issued: Issued[] = [
            { spec: caSpec, key: caKey, certPem: ca.certPem, notAfter: ca.validityEndTime, revision: caRevision },
        ];
        for (const spec of specs) {
            if (spec.kind === "ca") continue;
            const trigger = replacementTrigger(spec, caSpec, instant, generation);
            const childOpts = { parent: this, replacementTrigger: trigger };
            const key = new tls.PrivateKey(`${name}-${spec.id}-key`, ECDSA_P256, childOpts);
            const request = new tls.CertRequest(
                `${name}-${spec.id}-csr`,
                { privateKeyPem: key.privateKeyPem, subject: spec.subject, dnsNames: spec.dnsNames },
                childOpts,
            );
            const cert = new tls.LocallySignedCert(
                `${name}-${spec.id}`,
                {
                    certRequestPem: request.certRequestPem,
                    caPrivateKeyPem: caKey.privateKeyPem,
                    caCertPem: ca.certPem,
                    validityPeriodHours: spec.validityHours,
                    allowedUses: allowedUses(spec),
                },
                childOpts,
            );
            // A new CA re-signs every leaf, so the leaf's revision follows the CA's.
            const revision = certificateRevision(spec, `${trigger}; ca ${caRevision}`);
            issued.push({ spec, key, certPem: cert.certPem, notAfter: cert.validityEndTime, revision });
        }

        this.revisions = Object.fromEntries(issued.map(({ spec, revision }) => [spec.id, revision]));

        // Certificates of main's own bricks land in main's namespaces; sub clusters' only in bundles.
        for (const { spec, key, certPem, revision } of issued) {
            if (spec.kind === "ca" || (spec.cluster !== undefined && spec.cluster !== config.cluster.name)) continue;
            const secretName = tlsSecretName(spec);
            const material = { cert: certPem, key: key.privateKeyPemPkcs8, ca: ca.certPem, revision };
            const common = { name: secretName, clusterName: config.cluster.name, material };
            if (spec.cluster === undefined) {
                tlsSecret(`${name}-${spec.id}-secret`, { ...common, namespace: args.namespace }, { parent: this });
            } else {
                clusterIdentitySecrets(
                    `${name}-${spec.id}-secret`,
                    { ...common, namespace: args.namespace, agentsNamespace: args.agentsNamespace },
                    { parent: this },
                );
            }
        }

        const endpoints = ingestEndpoints(config.exposure);
        const bundleEntries = issued
            .filter(({ spec }) => spec.cluster !== undefined && spec.cluster !== config.cluster.name)
            .map(({ spec, key, certPem, notAfter, revision }) =>
                pulumi
                    .all([ca.certPem, certPem, key.privateKeyPemPkcs8, notAfter])
                    .apply(([caCert, clientCert, clientKey, end]): [string, FleetBundle] => {
                        const cluster = spec.cluster as string;
                        return [
                            cluster,
                            { cluster, caCert, clientCert, clientKey, revision, notAfter: end, endpoints },
                        ];
                    }),
            );
        this.bundles = pulumi.secret(pulumi.all(bundleEntries).apply((entries) => Object.fromEntries(entries)));

        const statuses = issued.map(({ spec, notAfter, revision }) =>
            notAfter.apply((end): [string, CertificateStatus] => [
                spec.id,
                {
                    profile: spec.profile,
                    commonName: spec.subject.commonName,
                    dnsNames: spec.dnsNames,
                    notAfter: end,
                    renewFrom: new Date(
                        renewalWindowOpens(Date.parse(end) - spec.validityHours * 3_600_000, spec),
                    ).toISOString(),
                    revision,
                },
            ]),
        );
        // Names and expiry dates are public facts: a plain output that alerts and the report can read.
        this.certificates = pulumi.all(statuses).apply((entries) => Object.fromEntries(entries));

        this.registerOutputs({
            caCert: this.caCert,
            bundles: this.bundles,
            certificates: this.certificates,
        });
    }
}
