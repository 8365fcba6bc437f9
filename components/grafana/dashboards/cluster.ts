import {
    CLUSTER,
    DASHBOARD_UIDS,
    dashboardLink,
    graph,
    instantTable,
    promql,
    row,
    singleStat,
    stackDashboard,
} from "./common";
import { NODES_NOT_READY } from "./fleet";
import { CONTROL_PLANE_JOBS } from "./talos";

/** Pod phases that are not a pod doing its work (Succeeded is a finished Job's pod). */
const NOT_RUNNING_PHASES = "Pending|Failed|Unknown";

/** Replicas a workload wants, and those ready, by kind (kube-state-metrics). */
const WORKLOADS = [
    {
        title: "Deployments short of ready replicas",
        key: "deployment",
        desired: "kube_deployment_spec_replicas",
        ready: "kube_deployment_status_replicas_ready",
    },
    {
        title: "StatefulSets short of ready replicas",
        key: "statefulset",
        desired: "kube_statefulset_replicas",
        ready: "kube_statefulset_status_replicas_ready",
    },
    {
        title: "DaemonSets short of ready pods",
        key: "daemonset",
        desired: "kube_daemonset_status_desired_number_scheduled",
        ready: "kube_daemonset_status_number_ready",
    },
] as const;

/** Replicas missing per workload of a kind: desired minus ready, where positive. */
function shortfall(kind: (typeof WORKLOADS)[number]): string {
    const by = `cluster, namespace, ${kind.key}`;
    return `sum by (${by}) (${kind.desired}{${CLUSTER}}) - sum by (${by}) (${kind.ready}{${CLUSTER}}) > 0`;
}

/** Fill of each mounted PersistentVolumeClaim, from the kubelet's volume statistics. */
const VOLUME_FILL =
    "max by (cluster, namespace, persistentvolumeclaim) " +
    `(kubelet_volume_stats_used_bytes{${CLUSTER}} / kubelet_volume_stats_capacity_bytes{${CLUSTER}})`;

/** A volume this full pages nobody yet, but is shown in red. */
const VOLUME_FULL = 0.85;

const controlPlaneUp = `up{${CLUSTER}, job=~"${CONTROL_PLANE_JOBS}"}`;

/**
 * One cluster, for the on-call who was paged about it: its nodes, workloads short of replicas,
 * pods that do not run or restart, volumes filling up, and the control plane's targets.
 */
export function clusterDashboard() {
    return stackDashboard(
        DASHBOARD_UIDS.cluster,
        "Cluster drill-down",
        "One cluster: nodes, workloads short of replicas, pods not running or restarting, volumes, control plane.",
    )
        .link(dashboardLink("Fleet overview", DASHBOARD_UIDS.fleet, "Every cluster of the fleet"))
        .link(dashboardLink("Traces", DASHBOARD_UIDS.traces, "Service graph, RED per service, traces"))
        .link(dashboardLink("Talos", DASHBOARD_UIDS.talos, "Control plane, etcd and Talos node services"))
        .withRow(row("Nodes"))
        .withPanel(
            singleStat("Nodes", "none", promql(`count(kube_node_info{${CLUSTER}}) or vector(0)`).instant(), 1, true),
        )
        .withPanel(singleStat("Nodes not ready", "none", promql(NODES_NOT_READY).instant(), 1))
        .withPanel(
            instantTable(
                "Not-ready nodes",
                "none",
                [
                    promql(
                        `max by (cluster, node) (kube_node_status_condition{${CLUSTER}, condition="Ready", status="true"}) == 0`,
                    ),
                ],
                12,
            ),
        )
        .withPanel(
            graph("CPU busy per node", "percentunit", [
                promql(
                    "1 - avg by (cluster, instance) " +
                        `(rate(node_cpu_seconds_total{${CLUSTER}, mode="idle"}[$__rate_interval]))`,
                    "{{cluster}} {{instance}}",
                ),
            ]),
        )
        .withPanel(
            graph("Memory used per node", "percentunit", [
                promql(
                    `1 - max by (cluster, instance) (node_memory_MemAvailable_bytes{${CLUSTER}}` +
                        ` / node_memory_MemTotal_bytes{${CLUSTER}})`,
                    "{{cluster}} {{instance}}",
                ),
            ]),
        )
        .withRow(row("Workloads"))
        .withPanel(
            singleStat(
                "Workloads short of replicas",
                "none",
                promql(WORKLOADS.map((kind) => `(count(${shortfall(kind)}) or vector(0))`).join(" + ")).instant(),
                1,
            ),
        )
        .withPanel(
            singleStat(
                "Pods not running",
                "none",
                promql(`sum(kube_pod_status_phase{${CLUSTER}, phase=~"${NOT_RUNNING_PHASES}"}) or vector(0)`).instant(),
                1,
            ),
        )
        .withPanel(
            singleStat(
                "Pods pending",
                "none",
                promql(`sum(kube_pod_status_phase{${CLUSTER}, phase="Pending"}) or vector(0)`).instant(),
                1,
            ),
        )
        .withPanel(
            singleStat(
                "Containers crash-looping",
                "none",
                promql(
                    `sum(kube_pod_container_status_waiting_reason{${CLUSTER}, reason="CrashLoopBackOff"}) or vector(0)`,
                ).instant(),
                1,
            ),
        )
        .withPanel(instantTable(WORKLOADS[0].title, "none", [promql(shortfall(WORKLOADS[0]))], 8))
        .withPanel(instantTable(WORKLOADS[1].title, "none", [promql(shortfall(WORKLOADS[1]))], 8))
        .withPanel(instantTable(WORKLOADS[2].title, "none", [promql(shortfall(WORKLOADS[2]))], 8))
        .withRow(row("Pods"))
        .withPanel(
            instantTable(
                "Pods not running, by phase",
                "none",
                [
                    promql(
                        "sum by (cluster, namespace, pod, phase) " +
                            `(kube_pod_status_phase{${CLUSTER}, phase=~"${NOT_RUNNING_PHASES}"}) > 0`,
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            instantTable(
                "Containers waiting, by reason",
                "none",
                [
                    promql(
                        "sum by (cluster, namespace, pod, container, reason) " +
                            `(kube_pod_container_status_waiting_reason{${CLUSTER}}) > 0`,
                    ),
                ],
                8,
            ),
        )
        .withPanel(
            instantTable(
                "Restarts in the last hour",
                "none",
                [
                    promql(
                        "sum by (cluster, namespace, pod) " +
                            `(increase(kube_pod_container_status_restarts_total{${CLUSTER}}[1h])) > 0`,
                    ),
                ],
                8,
            ),
        )
        .withRow(row("Volumes"))
        .withPanel(
            singleStat(
                `Volumes over ${VOLUME_FULL * 100} % full`,
                "none",
                promql(`count(${VOLUME_FILL} > ${VOLUME_FULL}) or vector(0)`).instant(),
                1,
            ),
        )
        .withPanel(
            singleStat(
                "Claims pending",
                "none",
                promql(
                    `sum(kube_persistentvolumeclaim_status_phase{${CLUSTER}, phase="Pending"}) or vector(0)`,
                ).instant(),
                1,
            ),
        )
        .withPanel(instantTable("Volumes by fill", "percentunit", [promql(`sort_desc(${VOLUME_FILL})`)], 12))
        .withRow(row("Control plane"))
        .withPanel(
            singleStat(
                "Control-plane targets down",
                "none",
                promql(`count(${controlPlaneUp} == 0) or vector(0)`).instant(),
                1,
            ),
        )
        .withPanel(
            singleStat(
                "etcd members without a leader",
                "none",
                promql(`count(etcd_server_has_leader{${CLUSTER}} == 0) or vector(0)`).instant(),
                1,
            ),
        )
        .withPanel(
            instantTable(
                "Control-plane targets up, by component",
                "percentunit",
                [promql(`sum by (cluster, job) (${controlPlaneUp}) / count by (cluster, job) (${controlPlaneUp})`)],
                12,
            ),
        )
        .build();
}
