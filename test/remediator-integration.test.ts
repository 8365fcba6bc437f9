import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { parse, stringify } from "yaml";

import { ksmLabelName, OPT_OUT_ANNOTATION, ORIGINAL_REPLICAS_ANNOTATION } from "../remediator/keys";
import { startGitHosting, type GitHostingStandIn } from "./harness/git-hosting";
import { plainRequest } from "./harness/https";
import { startKubeApi, type KubeStandIn, type StandInWorkload } from "./harness/kube-api";
import { locateBinaries } from "./harness/processes";
import {
    startLab,
    startRemediatorProcess,
    type Lab,
    type LabWorkload,
    type RemediatorProcess,
} from "./harness/remediation-lab";
import { stackConfig, tempDir } from "./helpers";

/**
 * The whole loop on 127.0.0.1: a real Prometheus scrapes a target whose workloads exceed their
 * CPU budget and fires the stack's own rule; the deploy-time bundle of the remediator polls it
 * and calls a Kubernetes API stand-in (scale mode) or a GitLab stand-in (gitops mode) that
 * record every request. Then the restore command puts the replicas back.
 */

const CPU_ALERT = "NonCriticalWorkloadCPUOverBudget";
const LABEL = "observability/criticality";
const GIT_TOKEN = "glpat-integration-0123456789";
const REPO = "platform/gitops";
const MANIFEST_PATH = "clusters/edge-a/batch/crunch.yaml";
const MANIFEST = `# batch job runner
apiVersion: apps/v1
kind: Deployment
metadata:
  name: crunch
  namespace: batch
spec:
  replicas: 3 # tuned for the nightly run
  selector:
    matchLabels:
      app: crunch
`;

/**
 * What Prometheus sees: all over budget except `steady`. rate() over 5m divides by the whole
 * window until it is full, so usage is far over budget for the rule to fire within a minute.
 */
const LAB_WORKLOADS: LabWorkload[] = [
    { namespace: "batch", name: "crunch", label: "non-critical", request: 0.5, usage: 20 },
    { namespace: "batch", name: "steady", label: "non-critical", request: 1, usage: 0.5 },
    { namespace: "batch", name: "critical-api", label: "critical", request: 0.5, usage: 20 },
    // Labelled, so the rule fires; the remediator must still refuse each of these.
    { namespace: "kube-system", name: "coredns", label: "non-critical", request: 0.1, usage: 4 },
    { namespace: "batch", name: "relabelled", label: "non-critical", request: 0.5, usage: 20 },
    { namespace: "batch", name: "opted-out", label: "non-critical", request: 0.5, usage: 20 },
];

/** What the API server holds: `relabelled` lost its label, `opted-out` gained the annotation since. */
const API_WORKLOADS: StandInWorkload[] = [
    { namespace: "batch", kind: "Deployment", name: "crunch", labels: { [LABEL]: "non-critical" }, replicas: 3 },
    { namespace: "batch", kind: "Deployment", name: "steady", labels: { [LABEL]: "non-critical" }, replicas: 2 },
    { namespace: "batch", kind: "Deployment", name: "critical-api", labels: { [LABEL]: "critical" }, replicas: 2 },
    { namespace: "kube-system", kind: "Deployment", name: "coredns", labels: { [LABEL]: "non-critical" }, replicas: 2 },
    { namespace: "batch", kind: "Deployment", name: "relabelled", labels: {}, replicas: 2 },
    {
        namespace: "batch",
        kind: "Deployment",
        name: "opted-out",
        labels: { [LABEL]: "non-critical" },
        annotations: { [OPT_OUT_ANNOTATION]: "true" },
        replicas: 2,
    },
];

function clusterConfig(remediation: Record<string, unknown>) {
    return stackConfig(
        {
            role: "sub",
            cluster: { name: "edge-a" },
            mainStack: "acme/observability/main",
            remediation: {
                budget: { forMinutes: 1 },
                pollIntervalSeconds: 5,
                maxActionsPerHour: 10,
                ...remediation,
            },
        },
        remediation.mode === "gitops" ? { remediationGitToken: GIT_TOKEN } : {},
    );
}

/** Runs the restore command as a user would; asynchronously, since the stand-in lives in this process. */
function restoreCommand(
    target: string,
    kubeconfig: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn(
        process.execPath,
        ["--require", "ts-node/register", "scripts/remediation.ts", "restore", target, "--kubeconfig", kubeconfig],
        { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    return new Promise((resolve) => child.once("close", (status) => resolve({ status, stdout, stderr })));
}

describe("remediator: end to end on a real Prometheus", { timeout: 240_000 }, () => {
    const work = tempDir("remediation-e2e");
    let lab: Lab;
    let kubeScale: KubeStandIn;
    let kubeGitops: KubeStandIn;
    let gitlab: GitHostingStandIn;
    let scaler: RemediatorProcess;
    let proposer: RemediatorProcess;

    before(async () => {
        const { prometheus } = locateBinaries(["prometheus"], "the remediation loop runs against a real Prometheus");
        const scaleConfig = clusterConfig({ mode: "scale" });
        lab = await startLab(prometheus, work, scaleConfig, LAB_WORKLOADS, ksmLabelName("label", LABEL));
        kubeScale = await startKubeApi(path.join(work, "kube-scale"), API_WORKLOADS);
        kubeGitops = await startKubeApi(path.join(work, "kube-gitops"), API_WORKLOADS);
        gitlab = await startGitHosting({
            provider: "gitlab",
            token: GIT_TOKEN,
            repository: REPO,
            files: { [MANIFEST_PATH]: MANIFEST },
        });
        scaler = await startRemediatorProcess(path.join(work, "scaler"), {
            config: scaleConfig,
            prometheusUrl: lab.prometheusUrl,
            kube: kubeScale,
        });
        proposer = await startRemediatorProcess(path.join(work, "proposer"), {
            config: clusterConfig({
                mode: "gitops",
                gitops: {
                    provider: "gitlab",
                    apiUrl: "https://gitlab.example.com",
                    repository: REPO,
                    pathTemplate: "clusters/{cluster}/{namespace}/{name}.yaml",
                },
            }),
            prometheusUrl: lab.prometheusUrl,
            kube: kubeGitops,
            gitToken: GIT_TOKEN,
            gitApiUrl: gitlab.url,
        });
        // The rule's `for` is a minute; the polls every 5 seconds.
        await scaler.waitFor((l) => l.name === "crunch" && l.outcome === "acted", 150_000);
        await proposer.waitFor((l) => l.name === "crunch" && l.outcome === "acted", 30_000);
        // Let every other firing alert be polled too.
        await scaler.waitFor((l) => l.name === "opted-out", 30_000);
        await scaler.waitFor((l) => l.name === "relabelled", 30_000);
        await scaler.waitFor((l) => l.namespace === "kube-system", 30_000);
    });

    after(async () => {
        await Promise.all([scaler?.stop(), proposer?.stop()]);
        await Promise.all([lab?.stop(), kubeScale?.close(), kubeGitops?.close(), gitlab?.close()]);
    });

    it("scales the over-budget workload through the scale subresource, its replica count annotated first", () => {
        const writes = kubeScale.requests.filter((r) => r.method === "PATCH");
        const crunch = "/apis/apps/v1/namespaces/batch/deployments/crunch";
        assert.deepEqual(
            writes.map((r) => [r.method, r.path, r.contentType, r.status]),
            [
                ["PATCH", crunch, "application/merge-patch+json", 200],
                ["PATCH", `${crunch}/scale`, "application/merge-patch+json", 200],
            ],
        );
        // One Event for the action, one for each refusal of a workload it may touch.
        const events = kubeScale.requests.filter((r) => r.method === "POST");
        assert.deepEqual(
            events.map((r) => [r.path, r.contentType, r.status]),
            Array(3).fill(["/apis/events.k8s.io/v1/namespaces/batch/events", "application/json", 201]),
        );
        const [annotate, scale] = writes;
        const meta = (annotate?.body as { metadata: { annotations: Record<string, string>; resourceVersion: string } })
            .metadata;
        assert.equal(meta.annotations[ORIGINAL_REPLICAS_ANNOTATION], "3");
        assert.equal(meta.annotations["kustomize.toolkit.fluxcd.io/reconcile"], "disabled");
        assert.match(meta.resourceVersion, /^\d+$/);
        assert.deepEqual(scale?.body, { spec: { replicas: 0 } });
        assert.equal(kubeScale.workload("batch", "Deployment", "crunch")?.spec.replicas, 0);
        for (const r of kubeScale.requests) assert.equal(r.authorization, `Bearer ${kubeScale.token}`);
    });

    it("posts an events.k8s.io/v1 Event on the workload it scaled", () => {
        const event = kubeScale.events().find((e) => e.reason === "RemediationActed");
        assert.ok(event, "no RemediationActed event");
        assert.equal(event.type, "Warning");
        assert.equal(event.action, "ScaleToZero");
        assert.equal(event.reportingController, "observability.remediator");
        assert.equal(event.reportingInstance, "remediator-test");
        assert.deepEqual(
            { ...(event.regarding as Record<string, unknown>), uid: undefined },
            { apiVersion: "apps/v1", kind: "Deployment", namespace: "batch", name: "crunch", uid: undefined },
        );
        assert.match(
            String(event.note),
            /scaled from 3 to 0 \(NonCriticalWorkloadCPUOverBudget: [0-9.e+]+ over budget 2\)/,
        );
        assert.match(String(event.eventTime), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    });

    it("refuses the protected, relabelled and opted-out workloads, each with its reason, touching none", () => {
        const reasons = Object.fromEntries(
            scaler.audit.filter((l) => l.outcome === "refused").map((l) => [`${l.namespace}/${l.name}`, l.reason]),
        );
        assert.deepEqual(reasons, {
            "kube-system/coredns": "protected-namespace",
            "batch/relabelled": "not-opted-in",
            "batch/opted-out": "opted-out",
        });
        assert.deepEqual(
            kubeScale.requests.filter((r) => r.path.includes("kube-system")),
            [],
            "a request into a protected namespace",
        );
        for (const name of ["relabelled", "opted-out", "steady", "critical-api"]) {
            assert.equal(kubeScale.workload("batch", "Deployment", name)?.spec.replicas, 2, name);
        }
        assert.ok(
            !scaler.audit.some((l) => l.name === "steady" || l.name === "critical-api"),
            "a rule fired for a workload within budget or not opted in",
        );
    });

    it("opens one merge request on GitLab with the evidence, and changes nothing in the cluster", () => {
        assert.deepEqual(
            kubeGitops.requests.filter((r) => r.method === "PATCH"),
            [],
        );
        const creations = gitlab.requests.filter((r) => r.method === "POST" && r.path.endsWith("/merge_requests"));
        assert.equal(creations.length, 1);
        const body = creations[0]?.body as Record<string, string>;
        assert.equal(body.source_branch, "remediation/edge-a/batch/deployment-crunch");
        assert.equal(body.target_branch, "main");
        assert.match(body.title ?? "", /crunch/);
        assert.match(body.description ?? "", new RegExp(CPU_ALERT));
        assert.match(body.description ?? "", /container_cpu_usage_seconds_total/);
        assert.equal(creations[0]?.headers["private-token"], GIT_TOKEN);
        const committed = gitlab.fileAt("remediation/edge-a/batch/deployment-crunch", MANIFEST_PATH);
        assert.equal((parse(committed ?? "") as { spec: { replicas: number } }).spec.replicas, 0);
        assert.match(committed ?? "", /# tuned for the nightly run/);
    });

    it("opens no second merge request while the first is open, however many polls pass", async () => {
        const before = gitlab.requests.filter((r) => r.method === "POST").length;
        await new Promise((r) => setTimeout(r, 11_000));
        assert.equal(gitlab.requests.filter((r) => r.method === "POST").length, before);
        assert.equal(gitlab.openChangeRequests().length, 1);
    });

    it("serves its metrics and probes", async () => {
        const metrics = await plainRequest(scaler.port, { path: "/metrics" });
        assert.equal(metrics.status, 200);
        assert.match(metrics.body ?? "", /^observability_remediation_actions_total\{mode="scale"\} 1$/m);
        assert.match(
            metrics.body ?? "",
            /^observability_remediation_decisions_total\{outcome="refused",reason="protected-namespace"\} 1$/m,
        );
        assert.equal((await plainRequest(scaler.port, { path: "/readyz" })).status, 200);
        assert.equal((await plainRequest(scaler.port, { path: "/healthz" })).status, 200);
    });

    it("restores the replica count with one command, from the annotation", async () => {
        const kubeconfig = path.join(work, "kubeconfig");
        fs.writeFileSync(
            kubeconfig,
            stringify({
                apiVersion: "v1",
                kind: "Config",
                "current-context": "lab",
                clusters: [
                    {
                        name: "lab",
                        cluster: {
                            server: kubeScale.url,
                            "certificate-authority": path.join(kubeScale.serviceAccountDir, "ca.crt"),
                        },
                    },
                ],
                users: [{ name: "admin", user: { token: kubeScale.token } }],
                contexts: [{ name: "lab", context: { cluster: "lab", user: "admin" } }],
            }),
        );
        const run = await restoreCommand("batch/deployment/crunch", kubeconfig);
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout, "restored Deployment batch/crunch to 3 replicas\n");
        const crunch = kubeScale.workload("batch", "Deployment", "crunch");
        assert.equal(crunch?.spec.replicas, 3);
        assert.equal(crunch?.metadata.annotations[ORIGINAL_REPLICAS_ANNOTATION], undefined);
        assert.equal(crunch?.metadata.annotations["kustomize.toolkit.fluxcd.io/reconcile"], undefined);
        assert.match(crunch?.metadata.annotations["observability/restored-at"] ?? "", /^\d{4}-/);
        const last = kubeScale.requests.filter((r) => r.method !== "GET").slice(-3);
        assert.deepEqual(
            last.map((r) => [r.method, r.path]),
            [
                ["PATCH", "/apis/apps/v1/namespaces/batch/deployments/crunch/scale"],
                ["PATCH", "/apis/apps/v1/namespaces/batch/deployments/crunch"],
                ["POST", "/apis/events.k8s.io/v1/namespaces/batch/events"],
            ],
        );
        assert.deepEqual(last[0]?.body, { spec: { replicas: 3 } });
    });

    it("refuses to restore a workload it did not scale, naming the missing annotation", async () => {
        const kubeconfig = path.join(work, "kubeconfig");
        const run = await restoreCommand("batch/deployment/steady", kubeconfig);
        assert.equal(run.status, 1);
        assert.equal(
            run.stderr,
            "restore failed: Deployment batch/steady has no observability/original-replicas annotation: the remediator did not scale it\n",
        );
    });
});
