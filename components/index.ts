export { charts, type ChartPin } from "./versions";
export { annotationKeys, commonLabels, labelKeys } from "./labels";
export { ingestEndpoints, INGEST, INGEST_SIGNALS, type IngestEndpoints } from "./endpoints";
export {
    BUNDLES_OUTPUT,
    CERTIFICATES_OUTPUT,
    lookupBundle,
    RUNBOOK_BASE_OUTPUT,
    type FleetBundle,
} from "./fleet-bundle";
export { MainCluster, type MainClusterArgs } from "./main-cluster";
export { readFleetBundle, withFleetRunbookBase } from "./main-stack";
export { Namespaces, type NamespacesArgs, namespaceSpecs, agentsNamespaceName } from "./namespaces";
export {
    NetworkPolicies,
    type NetworkPoliciesArgs,
    networkPolicySpecs,
    DEFAULT_DENY,
    allowPolicyName,
    type NamespacePolicy,
} from "./network-policies";
export { Pki, type PkiArgs, type CertificateStatus } from "./pki";
export { certificateSpecs, PROFILES, type CertificateSpec } from "./pki-profiles";
export { SubCluster, type SubClusterArgs } from "./sub-cluster";
