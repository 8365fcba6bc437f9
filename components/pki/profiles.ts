import { durationHours, type CertificateProfileName, type MainConfig } from "../../config";
import {
    externalName,
    INGEST,
    inClusterNames,
    QUERY_GATEWAY,
    THANOS_STORE_NAME,
    type IngestSignal,
} from "../network/endpoints";
import { TEMPO_RELEASE } from "../traces/values";

/**
 * Certificate profiles: what each certificate of the fleet PKI says about its holder, as plain
 * data. The Pki component issues certificates from these with @pulumi/tls; the TLS tests issue
 * certificates from the very same specs with another library and run real servers on them.
 */

/** Key usages and extended key usages, spelt as the tls provider's `allowedUses`. */
export type KeyUsage = "digital_signature" | "cert_signing" | "crl_signing";
export type ExtendedKeyUsage = "server_auth" | "client_auth";

export type ProfileKind = "ca" | "server" | "client";

interface ProfileBase {
    kind: ProfileKind;
    description: string;
    keyUsages: readonly KeyUsage[];
    extendedKeyUsages: readonly ExtendedKeyUsage[];
}

export interface CaProfile extends ProfileBase {
    kind: "ca";
    commonName: string;
}

export interface ServerProfile extends ProfileBase {
    kind: "server";
    /** Services on main whose in-cluster names go into the SANs; the first is the CN. */
    services: readonly string[];
    /** The ingest signal whose external name goes into the SANs, if sub clusters dial it. */
    ingest?: IngestSignal;
}

export interface ClientProfile extends ProfileBase {
    kind: "client";
    /**
     * `cluster`: one certificate per cluster, CN = the cluster's name, which becomes the
     * tenant or `cluster` label on main. `service`: one certificate for a brick of main itself.
     */
    identity: "cluster" | "service";
}

export type CertificateProfile = CaProfile | ServerProfile | ClientProfile;

/** Organization (O) of every certificate the fleet PKI issues. */
export const ORGANIZATION = "observability";

// ECDSA keys sign handshakes; they never encrypt keys, so key_encipherment does not apply.
const SERVER_USES = { keyUsages: ["digital_signature"], extendedKeyUsages: ["server_auth"] } as const;
const CLIENT_USES = { keyUsages: ["digital_signature"], extendedKeyUsages: ["client_auth"] } as const;

export const PROFILES = {
    ca: {
        kind: "ca",
        description: "Root of trust of the fleet; its key never leaves the main stack.",
        commonName: "observability fleet CA",
        keyUsages: ["cert_signing", "crl_signing", "digital_signature"],
        extendedKeyUsages: [],
    },
    "thanos-receive": {
        kind: "server",
        description: "Thanos Receive router: remote-write from every cluster.",
        services: [INGEST.metrics.service],
        ingest: "metrics",
        ...SERVER_USES,
    },
    "logs-ingest": {
        kind: "server",
        description: "Log ingest listener in front of Loki: pushes from every cluster, queries from Grafana.",
        services: [INGEST.logs.service],
        ingest: "logs",
        ...SERVER_USES,
    },
    tempo: {
        kind: "server",
        description:
            "Trace ingest in front of Tempo's OTLP receiver: traces from every cluster, the tenant taken from the certificate.",
        services: [INGEST.traces.service],
        ingest: "traces",
        ...SERVER_USES,
    },
    "tempo-receiver": {
        kind: "server",
        description:
            "Tempo's OTLP gRPC receiver, which only the trace ingest dials (the monolith, or the distributors).",
        services: [TEMPO_RELEASE, `${TEMPO_RELEASE}-distributor`],
        ...SERVER_USES,
    },
    alertmanager: {
        kind: "server",
        description: "Alertmanager's client-verifying listener: alerts from every cluster, Grafana.",
        services: [INGEST.alerts.service],
        ingest: "alerts",
        ...SERVER_USES,
    },
    "query-gateway": {
        kind: "server",
        description:
            "Query gateway before Thanos Query and Tempo: PromQL and traces for Grafana and the weekly report.",
        services: [QUERY_GATEWAY],
        ...SERVER_USES,
    },
    "thanos-store": {
        kind: "server",
        description:
            "Every Thanos StoreAPI (the Prometheus sidecar, Store Gateway, Ruler, Receive ingestors) under one name, " +
            "which Query and the Receive router verify.",
        services: [THANOS_STORE_NAME],
        ...SERVER_USES,
    },
    cluster: {
        kind: "client",
        description: "A cluster's identity (main included): Prometheus, log agents and trace gateways ship with it.",
        identity: "cluster",
        ...CLIENT_USES,
    },
    grafana: {
        kind: "client",
        description: "Grafana's datasources towards Thanos Query, Loki, Tempo and Alertmanager.",
        identity: "service",
        ...CLIENT_USES,
    },
    reporter: {
        kind: "client",
        description: "The weekly reporter's queries to Thanos Query, Loki and Alertmanager.",
        identity: "service",
        ...CLIENT_USES,
    },
    "thanos-query": {
        kind: "client",
        description: "Thanos Query towards every StoreAPI.",
        identity: "service",
        ...CLIENT_USES,
    },
    "thanos-router": {
        kind: "client",
        description: "The Thanos Receive router forwarding writes to the ingestors.",
        identity: "service",
        ...CLIENT_USES,
    },
    "traces-ingest": {
        kind: "client",
        description: "The trace ingest towards Tempo's receiver, forwarding spans with the tenant it set.",
        identity: "service",
        ...CLIENT_USES,
    },
    "thanos-ruler": {
        kind: "client",
        description: "The Thanos Ruler's PromQL reads through the query gateway.",
        identity: "service",
        ...CLIENT_USES,
    },
} as const satisfies Record<CertificateProfileName, CertificateProfile>;

// Lifetimes live in the config schema, keyed by the same names: each side must list every profile.
export type ProfileName = keyof typeof PROFILES & CertificateProfileName;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export interface Subject {
    commonName: string;
    organization: string;
    organizationalUnit: string;
}

/** One certificate to issue: a profile applied to a holder. */
export interface CertificateSpec {
    /** Unique, stable: names the Pulumi resources (`ca`, `thanos-receive`, `cluster-sub-eu-1`). */
    id: string;
    profile: ProfileName;
    kind: ProfileKind;
    subject: Subject;
    dnsNames: string[];
    keyUsages: KeyUsage[];
    extendedKeyUsages: ExtendedKeyUsage[];
    validityHours: number;
    renewBeforeHours: number;
    /** For `cluster` certificates: the cluster it identifies. */
    cluster?: string;
}

/** The certificate profile's `allowedUses`, as the tls provider takes them. */
export function allowedUses(spec: Pick<CertificateSpec, "keyUsages" | "extendedKeyUsages">): string[] {
    return [...spec.keyUsages, ...spec.extendedKeyUsages];
}

/**
 * The CN of a service identity. Cluster names are DNS labels and have no dot, so a dotted CN
 * can never pass for a cluster (and become its tenant) on a server that maps CN to tenant.
 */
export function serviceCommonName(profile: string): string {
    return `${profile}.${ORGANIZATION}`;
}

/** Every certificate the main stack issues, CA first; pure, so tests read it as data. */
export function certificateSpecs(config: MainConfig): CertificateSpec[] {
    const lifetimes = config.pki.lifetimes;
    const base = (profile: ProfileName) => {
        const p: CertificateProfile = PROFILES[profile];
        const lifetime = lifetimes[profile];
        return {
            profile,
            kind: p.kind,
            keyUsages: [...p.keyUsages],
            extendedKeyUsages: [...p.extendedKeyUsages],
            validityHours: durationHours(lifetime.validity),
            renewBeforeHours: durationHours(lifetime.renewBefore),
        };
    };
    const subject = (commonName: string, organizationalUnit: string): Subject => ({
        commonName,
        organization: ORGANIZATION,
        organizationalUnit,
    });

    const specs: CertificateSpec[] = [];
    for (const profile of PROFILE_NAMES) {
        const p: CertificateProfile = PROFILES[profile];
        switch (p.kind) {
            case "ca":
                specs.push({ id: profile, ...base(profile), subject: subject(p.commonName, "ca"), dnsNames: [] });
                break;
            case "server": {
                const dnsNames = p.services.flatMap((s) => inClusterNames(s, config.namespace));
                if (p.ingest !== undefined) dnsNames.push(externalName(p.ingest, config.exposure.domain));
                const commonName = p.services[0] as string;
                specs.push({ id: profile, ...base(profile), subject: subject(commonName, "server"), dnsNames });
                break;
            }
            case "client":
                if (p.identity === "cluster") {
                    for (const cluster of [config.cluster.name, ...config.subClusters.map((s) => s.name)]) {
                        specs.push({
                            id: `${profile}-${cluster}`,
                            ...base(profile),
                            subject: subject(cluster, "cluster"),
                            dnsNames: [],
                            cluster,
                        });
                    }
                } else {
                    specs.push({
                        id: profile,
                        ...base(profile),
                        subject: subject(serviceCommonName(profile), "service"),
                        dnsNames: [],
                    });
                }
                break;
        }
    }
    return specs;
}

/** Name of the `kubernetes.io/tls` Secret that holds a certificate in its cluster. */
export function tlsSecretName(spec: Pick<CertificateSpec, "profile" | "kind">): string {
    return spec.kind === "client" ? `${spec.profile}-client-tls` : `${spec.profile}-tls`;
}

/** The Secret holding a cluster's own client identity, on main and on every sub cluster alike. */
export const CLUSTER_IDENTITY_SECRET = tlsSecretName({ profile: "cluster", kind: "client" });
