export { charts, type ChartPin } from "./core/versions";
export { annotationKeys, commonLabels, labelKeys } from "./core/labels";
export { ingestEndpoints, INGEST, INGEST_SIGNALS, type IngestEndpoints } from "./network/endpoints";
export {
    BUNDLES_OUTPUT,
    CERTIFICATES_OUTPUT,
    lookupBundle,
    RUNBOOK_BASE_OUTPUT,
    type FleetBundle,
} from "./pki/fleet-bundle";
export { MainCluster, type MainClusterArgs } from "./roles/main-cluster";
export { readFleetBundle, withFleetRunbookBase } from "./roles/main-stack";
export { Namespaces, type NamespacesArgs, namespaceSpecs, agentsNamespaceName } from "./core/namespaces";
export {
    NetworkPolicies,
    type NetworkPoliciesArgs,
    networkPolicySpecs,
    DEFAULT_DENY,
    allowPolicyName,
    type NamespacePolicy,
} from "./network/policies";
export { Pki, type PkiArgs, type CertificateStatus } from "./pki/pki";
export { certificateSpecs, PROFILES, type CertificateSpec } from "./pki/profiles";
export { SubCluster, type SubClusterArgs } from "./roles/sub-cluster";
