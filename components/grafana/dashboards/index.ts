import type { MainConfig } from "../../../config";
import { FOLDERS } from "../../core/labels";
import { clusterDashboard } from "./cluster";
import type { DashboardJson } from "./common";
import { fleetDashboard } from "./fleet";
import { pipelineDashboard } from "./pipeline";
import { talosDashboard } from "./talos";
import { tracesDashboard } from "./traces";

export { METRIC_CATALOG, STACK_METRICS } from "./metric-catalog";

/** One dashboard of the stack, as Grafana provisions it. */
export interface StackDashboard {
    /** File name in the sidecar's folder, and ConfigMap key. */
    file: string;
    folder: string;
    json: DashboardJson;
}

/** The stack's own dashboards, built from typed code. */
export function stackDashboards(config: Pick<MainConfig, "namespace">): StackDashboard[] {
    return [
        { file: "fleet-overview.json", folder: FOLDERS.fleet, json: fleetDashboard() },
        { file: "pipeline-health.json", folder: FOLDERS.fleet, json: pipelineDashboard(config.namespace) },
        { file: "talos.json", folder: FOLDERS.fleet, json: talosDashboard() },
        { file: "cluster.json", folder: FOLDERS.fleet, json: clusterDashboard() },
        { file: "traces.json", folder: FOLDERS.fleet, json: tracesDashboard() },
    ];
}
