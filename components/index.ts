export { charts, type ChartPin } from "./versions";
export { commonLabels, labelKeys } from "./labels";
export { MainCluster, type MainClusterArgs } from "./main-cluster";
export { Namespaces, type NamespacesArgs, namespaceSpecs, agentsNamespaceName } from "./namespaces";
export { SubCluster, type SubClusterArgs } from "./sub-cluster";
