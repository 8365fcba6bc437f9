import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as net from "node:net";
import { inspect } from "node:util";
import { afterEach, describe, it } from "node:test";

import { parseAllDocuments } from "yaml";

import {
    branchName,
    expandTemplate,
    gitHosting,
    GitopsError,
    mergeRequestText,
    setReplicasToZero,
} from "../remediator/gitops";
import type { Evidence, GitopsSettings, WorkloadRef } from "../remediator/types";
import { startGitHosting, type GitHostingStandIn, type RecordedRequest } from "./harness/git-hosting";

/**
 * The GitOps proposer: the pure parts (templates, branch names, the YAML edit, the texts), then
 * whole proposals against the GitLab and GitHub stand-in on 127.0.0.1, driven through the real
 * client libraries.
 */

const CLUSTER = "edge-a";
const WEB: WorkloadRef = { namespace: "shop", kind: "Deployment", name: "web" };
const QUERY =
    'sum by (namespace, workload) (rate(container_cpu_usage_seconds_total{namespace="shop"}[5m])) / on (namespace, workload) group_left budget > 1';
const EVIDENCE: Evidence = {
    cluster: CLUSTER,
    alertname: "WorkloadOverBudget",
    value: "3.2",
    budget: "2",
    query: QUERY,
    activeAt: "2025-03-04T05:06:07Z",
    decidedAt: "2025-03-04T05:21:07Z",
    summary: "shop/web uses 3.2 CPU cores, over its budget of 2",
};
const FILE = "clusters/edge-a/shop/web.yaml";

/** A Flux-style manifest file: a Service, the Deployment, and a second Deployment. */
const MANIFEST = `# Shop web tier; reconciled by the GitOps controller.
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
    - port: 80   # http
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, tier: "frontend"}
  annotations:
    example.com/description: a fairly long plain annotation value that runs well past the eighty columns a serialiser would fold at
spec:
  replicas: 3 # tuned for the sale
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: "registry.example.com/shop/web:1.4.2"
        args: ['--listen=:8080',   "--verbose"]
        resources:
          limits: { cpu: "2" }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: shop
spec:
  replicas: 5
`;

/** The lines of `after` that differ from `before`'s, by index; the line counts must agree. */
function changedLines(before: string, after: string): { index: number; before: string; after: string }[] {
    const a = before.split("\n");
    const b = after.split("\n");
    assert.equal(b.length, a.length, "the edit must not add or remove lines");
    return a.flatMap((line, index) => (line === b[index] ? [] : [{ index, before: line, after: b[index]! }]));
}

/** Runs `fn`, which must throw a GitopsError; returns it. */
function gitopsErrorOf(fn: () => unknown): GitopsError {
    try {
        fn();
    } catch (err) {
        assert.ok(err instanceof GitopsError, `expected a GitopsError, got ${String(err)}`);
        return err;
    }
    assert.fail("expected a GitopsError, nothing was thrown");
}

async function rejectionOf(promise: Promise<unknown>): Promise<GitopsError> {
    try {
        await promise;
    } catch (err) {
        assert.ok(err instanceof GitopsError, `expected a GitopsError, got ${inspect(err)}`);
        return err;
    }
    assert.fail("expected a GitopsError, the proposal succeeded");
}

describe("expandTemplate", () => {
    const cases: { template: string; ref: WorkloadRef; expected: string }[] = [
        {
            template: "clusters/{cluster}/{namespace}/{kind}-{name}.yaml",
            ref: WEB,
            expected: "clusters/edge-a/shop/deployment-web.yaml",
        },
        {
            template: "apps/{namespace}/{name}/{kind}.yaml",
            ref: { namespace: "db", kind: "StatefulSet", name: "pg" },
            expected: "apps/db/pg/statefulset.yaml",
        },
        { template: "{name}.replicaCount", ref: WEB, expected: "web.replicaCount" },
        { template: "{name}/{name}-{cluster}", ref: WEB, expected: "web/web-edge-a" },
        { template: "spec.replicas", ref: WEB, expected: "spec.replicas" },
    ];
    for (const { template, ref, expected } of cases) {
        it(`${template} → ${expected}`, () => assert.equal(expandTemplate(template, ref, CLUSTER), expected));
    }

    for (const template of ["clusters/{team}/{name}.yaml", "{Name}.yaml", "{}/x.yaml"]) {
        it(`refuses the unknown placeholder in ${template}`, () => {
            const err = gitopsErrorOf(() => expandTemplate(template, WEB, CLUSTER));
            const placeholder = /\{[^}]*\}/.exec(template)![0];
            assert.ok(err.message.includes(`unknown placeholder ${placeholder}`), err.message);
            assert.match(err.message, /\{cluster\}, \{namespace\}, \{kind\}, \{name\}/);
        });
    }
});

describe("branchName", () => {
    const cases: { ref: WorkloadRef; cluster: string; expected: string }[] = [
        { ref: WEB, cluster: CLUSTER, expected: "remediation/edge-a/shop/deployment-web" },
        {
            ref: { namespace: "db", kind: "StatefulSet", name: "pg" },
            cluster: "hub",
            expected: "remediation/hub/db/statefulset-pg",
        },
        { ref: WEB, cluster: "Edge A..prod:1", expected: "remediation/Edge-A.prod-1/shop/deployment-web" },
        { ref: WEB, cluster: ".hidden.lock", expected: "remediation/hidden/shop/deployment-web" },
    ];
    for (const { ref, cluster, expected } of cases) {
        it(`${cluster} ${ref.namespace}/${ref.kind}/${ref.name} → ${expected}`, () => {
            assert.equal(branchName(ref, cluster), expected);
            assert.equal(branchName(ref, cluster), branchName({ ...ref }, cluster), "deterministic");
            const check = spawnSync("git", ["check-ref-format", `refs/heads/${expected}`]);
            if (!check.error) assert.equal(check.status, 0, `git rejects ${expected}`);
        });
    }

    it("differs between workloads, kinds and clusters", () => {
        const names = new Set([
            branchName(WEB, CLUSTER),
            branchName({ ...WEB, name: "worker" }, CLUSTER),
            branchName({ ...WEB, kind: "StatefulSet" }, CLUSTER),
            branchName({ ...WEB, namespace: "shop2" }, CLUSTER),
            branchName(WEB, "edge-b"),
        ]);
        assert.equal(names.size, 5);
    });
});

describe("setReplicasToZero", () => {
    it("changes only the workload's replicas line of a multi-document file with comments", () => {
        const { text, previous } = setReplicasToZero(MANIFEST, WEB, "spec.replicas", FILE);
        assert.equal(previous, 3);
        assert.deepEqual(changedLines(MANIFEST, text), [
            { index: 20, before: "  replicas: 3 # tuned for the sale", after: "  replicas: 0 # tuned for the sale" },
        ]);
        const docs = parseAllDocuments(text) as unknown as { toJS(): { spec?: { replicas?: number } } }[];
        assert.equal(docs[1]!.toJS().spec?.replicas, 0);
        assert.equal(docs[2]!.toJS().spec?.replicas, 5, "the other Deployment keeps its replicas");
    });

    it("picks the document by kind, name and namespace", () => {
        const text = [
            "kind: Deployment\nmetadata:\n  name: pg\n  namespace: other\nspec:\n  replicas: 4\n",
            "kind: Deployment\nmetadata:\n  name: pg\n  namespace: db\nspec:\n  replicas: 2\n",
            "kind: StatefulSet\nmetadata:\n  name: pg\n  namespace: db\nspec:\n  replicas: 3\n",
        ].join("---\n");
        const sts = setReplicasToZero(text, { namespace: "db", kind: "StatefulSet", name: "pg" }, "spec.replicas");
        assert.equal(sts.previous, 3);
        assert.deepEqual(
            changedLines(text, sts.text).map((c) => c.index),
            [19],
        );
        const deploy = setReplicasToZero(text, { namespace: "db", kind: "Deployment", name: "pg" }, "spec.replicas");
        assert.equal(deploy.previous, 2);
        assert.deepEqual(
            changedLines(text, deploy.text).map((c) => c.index),
            [12],
        );
    });

    it("takes a document without metadata.namespace as the workload's", () => {
        const text = "kind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n---\nkind: Service\n";
        assert.equal(setReplicasToZero(text, WEB, "spec.replicas").previous, 2);
    });

    it("edits a Helm values file's replicaCount, and nested paths", () => {
        const values = "# values for web\nimage:\n  tag: 1.4.2\nreplicaCount: 2  # HA\nworker:\n  replicaCount: 6\n";
        const top = setReplicasToZero(values, WEB, "replicaCount", "values.yaml");
        assert.equal(top.previous, 2);
        assert.deepEqual(changedLines(values, top.text), [
            { index: 3, before: "replicaCount: 2  # HA", after: "replicaCount: 0  # HA" },
        ]);
        const nested = setReplicasToZero(values, WEB, "worker.replicaCount", "values.yaml");
        assert.equal(nested.previous, 6);
        assert.deepEqual(
            changedLines(values, nested.text).map((c) => c.after),
            ["  replicaCount: 0"],
        );
    });

    it("keeps a tag, CRLF line ends and a trailing document marker", () => {
        const text = "kind: Deployment\r\nmetadata:\r\n  name: web\r\nspec:\r\n  replicas: !!int 12\r\n---\r\n";
        const { text: edited, previous } = setReplicasToZero(text, WEB, "spec.replicas");
        assert.equal(previous, 12);
        assert.equal(edited, text.replace("!!int 12", "!!int 0"));
    });

    const refusals: { name: string; text: string; ref?: WorkloadRef; field?: string; expected: RegExp[] }[] = [
        {
            name: "the field is absent",
            text: "kind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {}\n",
            expected: [
                /^spec\.replicas of Deployment shop\/web in clusters\/edge-a\/shop\/web\.yaml: /,
                /expected a non-negative integer, found nothing at spec\.replicas/,
                /HorizontalPodAutoscaler or defaults to 1/,
            ],
        },
        {
            name: "a parent of the field is absent",
            text: "kind: Deployment\nmetadata:\n  name: web\n",
            expected: [/found nothing at spec\b/, /clusters\/edge-a\/shop\/web\.yaml/],
        },
        {
            name: "the value is already 0",
            text: "kind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 0\n",
            expected: [/^spec\.replicas of Deployment shop\/web is already 0 in clusters\/edge-a\/shop\/web\.yaml$/],
        },
        {
            name: "the value is a string",
            text: 'kind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: "3"\n',
            expected: [/expected a non-negative integer, found string "3"/],
        },
        {
            name: "the value is a fraction",
            text: "kind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1.5\n",
            expected: [/expected a non-negative integer, found number 1\.5/],
        },
        {
            name: "the value is negative",
            text: "kind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: -1\n",
            expected: [/expected a non-negative integer, found number -1/],
        },
        {
            name: "the value is a mapping",
            text: "kind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas:\n    min: 1\n",
            expected: [/found a mapping/],
        },
        {
            name: "the value is an alias",
            text: "base: &n 3\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: *n\n",
            expected: [/found the alias \*n/],
        },
        {
            name: "no document declares the workload",
            text: "kind: Deployment\nmetadata:\n  name: api\n---\nkind: Service\nmetadata:\n  name: web\n",
            expected: [
                /no document with kind Deployment and metadata\.name web \(namespace shop\) among the 2 documents of clusters\/edge-a\/shop\/web\.yaml/,
            ],
        },
        {
            name: "the only document declares another workload",
            text: "kind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  replicas: 2\n",
            expected: [/declares Deployment shop\/api, expected Deployment shop\/web/],
        },
        {
            name: "two documents declare the workload",
            text: "kind: Deployment\nmetadata:\n  name: web\n---\nkind: Deployment\nmetadata:\n  name: web\n",
            expected: [/2 documents of clusters\/edge-a\/shop\/web\.yaml declare Deployment shop\/web/],
        },
        {
            name: "the file is not YAML",
            text: "kind: Deployment\nspec: [1, 2\n",
            expected: [/clusters\/edge-a\/shop\/web\.yaml is not valid YAML/],
        },
        {
            name: "the file is empty",
            text: "# nothing here\n",
            expected: [/holds no YAML document/],
        },
        {
            name: "the field path is malformed",
            text: "replicas: 2\n",
            field: "spec..replicas",
            expected: [/invalid field path "spec\.\.replicas"/],
        },
    ];
    for (const { name, text, ref, field, expected } of refusals) {
        it(`refuses when ${name}`, () => {
            const err = gitopsErrorOf(() => setReplicasToZero(text, ref ?? WEB, field ?? "spec.replicas", FILE));
            for (const pattern of expected) assert.match(err.message, pattern);
        });
    }
});

describe("mergeRequestText", () => {
    const { title, description } = mergeRequestText(WEB, EVIDENCE, FILE, "spec.replicas", 3);

    it("titles the proposal with workload, cluster and alert", () => {
        assert.equal(title, "Scale Deployment shop/web to 0 on edge-a (WorkloadOverBudget)");
    });

    it("carries the evidence", () => {
        assert.ok(description.includes("```promql\n" + QUERY + "\n```"), "the query in a fenced block");
        assert.ok(description.includes("| Value | `3.2` |"), description);
        assert.ok(description.includes("| Budget | `2` |"), description);
        assert.ok(description.includes("3.2 against a budget of 2"));
        assert.ok(description.includes("| Cluster | `edge-a` |"));
        assert.ok(description.includes("| Alert | `WorkloadOverBudget` |"));
        assert.ok(description.includes(`| Summary | ${EVIDENCE.summary} |`));
        assert.ok(description.includes("| Alert active since | 2025-03-04T05:06:07Z |"));
        assert.ok(description.includes("| Decided at | 2025-03-04T05:21:07Z |"));
        assert.ok(description.includes("`clusters/edge-a/shop/web.yaml`: `spec.replicas` 3 → 0"));
    });

    it("says how to undo", () => {
        assert.match(description, /close this merge request/);
        assert.match(description, /revert the merge commit/);
        assert.match(
            mergeRequestText(WEB, EVIDENCE, FILE, "spec.replicas", 3, "pull request").description,
            /close this pull request/,
        );
    });

    it("is deterministic", () => {
        assert.deepEqual(mergeRequestText(WEB, { ...EVIDENCE }, FILE, "spec.replicas", 3), { title, description });
    });

    it("keeps the table and the fence intact whatever the evidence holds", () => {
        const odd = mergeRequestText(
            WEB,
            { ...EVIDENCE, summary: "a | b\nc", query: "up ```x``` == 0" },
            FILE,
            "spec.replicas",
            3,
        ).description;
        assert.ok(odd.includes("| Summary | a \\| b c |"), odd);
        assert.ok(odd.includes("````promql\nup ```x``` == 0\n````"), odd);
    });
});

// --- whole proposals against the stand-in ---------------------------------------------------

const TOKEN = "glpat-Secr3tT0kenValue";
const BRANCH = "remediation/edge-a/shop/deployment-web";

const settingsFor = (stand: GitHostingStandIn, repository: string, overrides: Partial<GitopsSettings> = {}) => ({
    provider: stand.provider,
    apiUrl: stand.url,
    repository,
    targetBranch: "main",
    pathTemplate: "clusters/{cluster}/{namespace}/{name}.yaml",
    fieldPath: "spec.replicas",
    ...overrides,
});

const calls = (requests: RecordedRequest[]): string[] => requests.map((r) => `${r.method} ${r.path}`);
const writes = (requests: RecordedRequest[]): RecordedRequest[] => requests.filter((r) => r.method !== "GET");
const bodyOf = (request: RecordedRequest | undefined): Record<string, unknown> => {
    assert.ok(request, "request missing");
    return request.body as Record<string, unknown>;
};

/** The one changed line of the committed file against the original manifest. */
function assertScaledToZero(committed: string | undefined): void {
    assert.ok(committed !== undefined, "no committed file");
    assert.deepEqual(
        changedLines(MANIFEST, committed).map((c) => c.after),
        ["  replicas: 0 # tuned for the sale"],
    );
}

let stand: GitHostingStandIn | undefined;
afterEach(async () => {
    await stand?.close();
    stand = undefined;
});

describe("GitLab proposals", () => {
    const REPO = "acme/platform/gitops";
    const P = "/api/v4/projects/acme%2Fplatform%2Fgitops";
    const FILE_PATH = `${P}/repository/files/clusters%2Fedge-a%2Fshop%2Fweb.yaml`;
    const LIST = `${P}/merge_requests?state=opened&source_branch=remediation%2Fedge-a%2Fshop%2Fdeployment-web`;

    const start = async () => {
        stand = await startGitHosting({
            provider: "gitlab",
            token: TOKEN,
            repository: REPO,
            files: { [FILE]: MANIFEST },
        });
        return stand;
    };

    it("opens one merge request with the change and the evidence", async () => {
        const s = await start();
        const outcome = await gitHosting(settingsFor(s, REPO), TOKEN, CLUSTER).proposeScaleToZero(WEB, EVIDENCE);
        assert.deepEqual(outcome, { kind: "opened", url: `${s.url}/${REPO}/-/merge_requests/1`, branch: BRANCH });

        assert.deepEqual(calls(s.requests), [
            `GET ${LIST}`,
            `GET ${FILE_PATH}?ref=main`,
            `POST ${P}/repository/branches`,
            `POST ${P}/repository/commits`,
            `POST ${P}/merge_requests`,
        ]);
        assert.deepEqual(
            s.requests.map((r) => r.status),
            [200, 200, 201, 201, 201],
        );
        for (const request of s.requests) {
            assert.equal(request.headers["private-token"], TOKEN, `${request.method} ${request.path}`);
        }
        assert.deepEqual(bodyOf(s.requests[2]), { branch: BRANCH, ref: "main" });

        const commit = bodyOf(s.requests[3]);
        assert.equal(commit.branch, BRANCH);
        assert.match(
            String(commit.commit_message),
            /^Scale Deployment shop\/web to 0 on edge-a \(WorkloadOverBudget\)\n/,
        );
        const actions = commit.actions as Record<string, unknown>[];
        assert.equal(actions.length, 1);
        assert.equal(actions[0]!.action, "update");
        assert.equal(actions[0]!.file_path, FILE);
        assert.equal(actions[0]!.last_commit_id, s.state.branches.get("main")!.files.get(FILE)!.lastCommitId);
        assertScaledToZero(String(actions[0]!.content));

        const mr = bodyOf(s.requests[4]);
        assert.equal(mr.source_branch, BRANCH);
        assert.equal(mr.target_branch, "main");
        assert.equal(mr.title, "Scale Deployment shop/web to 0 on edge-a (WorkloadOverBudget)");
        assert.equal(mr.remove_source_branch, true);
        assert.equal(mr.labels, "remediation");
        assert.ok(String(mr.description).includes("WorkloadOverBudget"));
        assert.ok(String(mr.description).includes("```promql\n" + QUERY + "\n```"));

        assertScaledToZero(s.fileAt(BRANCH, FILE));
        assert.equal(s.fileAt("main", FILE), MANIFEST, "the target branch is untouched");
        assert.equal(s.openChangeRequests().length, 1);
    });

    it("reports the open merge request instead of a second one, then opens a new one once it is closed", async () => {
        const s = await start();
        const hosting = gitHosting(settingsFor(s, REPO), TOKEN, CLUSTER);
        const first = await hosting.proposeScaleToZero(WEB, EVIDENCE);
        s.resetRequests();

        const second = await hosting.proposeScaleToZero(WEB, EVIDENCE);
        assert.deepEqual(second, { kind: "already-open", url: first.url, branch: BRANCH });
        assert.deepEqual(calls(s.requests), [`GET ${LIST}`]);
        assert.equal(s.openChangeRequests().length, 1);

        s.closeChangeRequest(1);
        s.resetRequests();
        const third = await hosting.proposeScaleToZero(WEB, EVIDENCE);
        assert.deepEqual(third, { kind: "opened", url: `${s.url}/${REPO}/-/merge_requests/2`, branch: BRANCH });
        // The branch left by the closed merge request is deleted and made again from main.
        assert.deepEqual(
            s.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
            [
                `GET ${LIST} 200`,
                `GET ${FILE_PATH}?ref=main 200`,
                `POST ${P}/repository/branches 400`,
                `DELETE ${P}/repository/branches/remediation%2Fedge-a%2Fshop%2Fdeployment-web 204`,
                `POST ${P}/repository/branches 201`,
                `POST ${P}/repository/commits 201`,
                `POST ${P}/merge_requests 201`,
            ],
        );
        assertScaledToZero(s.fileAt(BRANCH, FILE));
        assert.deepEqual(
            s.openChangeRequests().map((cr) => cr.number),
            [2],
        );
    });

    it("refuses to propose again once the merge request is merged", async () => {
        const s = await start();
        const hosting = gitHosting(settingsFor(s, REPO), TOKEN, CLUSTER);
        await hosting.proposeScaleToZero(WEB, EVIDENCE);
        s.mergeChangeRequest(1);
        assertScaledToZero(s.fileAt("main", FILE));
        assert.equal(s.state.branches.has(BRANCH), false, "the source branch is removed on merge");
        s.resetRequests();
        const err = await rejectionOf(hosting.proposeScaleToZero(WEB, EVIDENCE));
        assert.match(err.message, /is already 0 in clusters\/edge-a\/shop\/web\.yaml$/);
        assert.deepEqual(calls(s.requests), [`GET ${LIST}`, `GET ${FILE_PATH}?ref=main`]);
    });

    it("refuses a missing file, naming it, without writing", async () => {
        const s = await start();
        const settings = settingsFor(s, REPO, { pathTemplate: "clusters/{cluster}/{namespace}/{name}-missing.yaml" });
        const err = await rejectionOf(gitHosting(settings, TOKEN, CLUSTER).proposeScaleToZero(WEB, EVIDENCE));
        assert.equal(
            err.message,
            "GitLab: reading clusters/edge-a/shop/web-missing.yaml at main in acme/platform/gitops failed: 404 File Not Found",
        );
        assert.equal(err.status, 404);
        assert.deepEqual(writes(s.requests), []);
    });

    it("refuses a file whose replicas are already 0, without writing", async () => {
        stand = await startGitHosting({
            provider: "gitlab",
            token: TOKEN,
            repository: REPO,
            files: { [FILE]: MANIFEST.replace("replicas: 3", "replicas: 0") },
        });
        const err = await rejectionOf(
            gitHosting(settingsFor(stand, REPO), TOKEN, CLUSTER).proposeScaleToZero(WEB, EVIDENCE),
        );
        assert.match(
            err.message,
            /^GitLab acme\/platform\/gitops@main: spec\.replicas of Deployment shop\/web is already 0 in clusters\/edge-a\/shop\/web\.yaml$/,
        );
        assert.deepEqual(writes(stand.requests), []);
    });

    it("reports a rejected token with its status and without the token", async () => {
        const s = await start();
        const wrong = "glpat-WrongT0kenValue";
        const err = await rejectionOf(
            gitHosting(settingsFor(s, REPO), wrong, CLUSTER).proposeScaleToZero(WEB, EVIDENCE),
        );
        assert.match(err.message, /^GitLab: listing open merge requests from .* failed: 401 Unauthorized$/);
        assert.equal(err.status, 401);
        for (const shown of [err.message, inspect(err, { depth: 10 }), err.stack ?? ""]) {
            assert.ok(!shown.includes(wrong) && !shown.includes(TOKEN), shown);
        }
        assert.equal(s.requests[0]!.headers["private-token"], wrong);
        assert.deepEqual(writes(s.requests), []);
    });

    it("names the failing step when creating the merge request fails", async () => {
        const s = await start();
        s.failNext("POST", `${P}/merge_requests`, 500, "500 Internal Server Error");
        const err = await rejectionOf(
            gitHosting(settingsFor(s, REPO), TOKEN, CLUSTER).proposeScaleToZero(WEB, EVIDENCE),
        );
        assert.equal(
            err.message,
            `GitLab: creating the merge request from ${BRANCH} to main in ${REPO} failed: 500 Internal Server Error`,
        );
        assert.equal(err.status, 500);
        assert.equal(err.step, `creating the merge request from ${BRANCH} to main in ${REPO}`);
        assert.equal(s.openChangeRequests().length, 0);
    });

    it("gives up on an API that does not answer", async () => {
        const s = await start();
        s.stallNext("GET", `${P}/repository/files/`);
        const hosting = gitHosting(settingsFor(s, REPO), TOKEN, CLUSTER, { timeoutMs: 300 });
        const err = await rejectionOf(hosting.proposeScaleToZero(WEB, EVIDENCE));
        assert.equal(err.message, `GitLab: reading ${FILE} at main in ${REPO} failed: no answer within 0.3 s`);
        assert.deepEqual(writes(s.requests), []);
    });
});

describe("GitHub proposals", () => {
    const REPO = "acme/gitops";
    const R = "/repos/acme/gitops";
    const CONTENTS = `${R}/contents/clusters%2Fedge-a%2Fshop%2Fweb.yaml`;
    const LIST = `${R}/pulls?state=open&head=acme%3Aremediation%2Fedge-a%2Fshop%2Fdeployment-web`;
    const GH_TOKEN = "ghp_Secr3tT0kenValue0000";

    const start = async () => {
        stand = await startGitHosting({
            provider: "github",
            token: GH_TOKEN,
            repository: REPO,
            files: { [FILE]: MANIFEST },
        });
        return stand;
    };

    it("opens one pull request with the change and the evidence", async () => {
        const s = await start();
        const outcome = await gitHosting(settingsFor(s, REPO), GH_TOKEN, CLUSTER).proposeScaleToZero(WEB, EVIDENCE);
        assert.deepEqual(outcome, { kind: "opened", url: `${s.url}/${REPO}/pull/1`, branch: BRANCH });

        assert.deepEqual(calls(s.requests), [
            `GET ${LIST}`,
            `GET ${CONTENTS}?ref=main`,
            `GET ${R}/git/ref/heads%2Fmain`,
            `POST ${R}/git/refs`,
            `PUT ${CONTENTS}`,
            `POST ${R}/pulls`,
        ]);
        assert.deepEqual(
            s.requests.map((r) => r.status),
            [200, 200, 200, 201, 200, 201],
        );
        for (const request of s.requests) {
            assert.match(String(request.headers.authorization), new RegExp(`^(token|bearer) ${GH_TOKEN}$`, "i"));
        }
        const mainBranch = s.state.branches.get("main")!;
        assert.deepEqual(bodyOf(s.requests[3]), { ref: `refs/heads/${BRANCH}`, sha: mainBranch.head });

        const put = bodyOf(s.requests[4]);
        assert.equal(put.branch, BRANCH);
        assert.equal(put.sha, mainBranch.files.get(FILE)!.blobSha);
        assert.match(String(put.message), /^Scale Deployment shop\/web to 0 on edge-a \(WorkloadOverBudget\)\n/);
        assertScaledToZero(Buffer.from(String(put.content), "base64").toString("utf8"));

        const pr = bodyOf(s.requests[5]);
        assert.equal(pr.head, BRANCH);
        assert.equal(pr.base, "main");
        assert.equal(pr.title, "Scale Deployment shop/web to 0 on edge-a (WorkloadOverBudget)");
        assert.ok(String(pr.body).includes("WorkloadOverBudget"));
        assert.ok(String(pr.body).includes("```promql\n" + QUERY + "\n```"));
        assert.match(String(pr.body), /close this pull request/);

        assertScaledToZero(s.fileAt(BRANCH, FILE));
        assert.equal(s.fileAt("main", FILE), MANIFEST, "the target branch is untouched");
    });

    it("reports the open pull request instead of a second one, then opens a new one once it is closed", async () => {
        const s = await start();
        const hosting = gitHosting(settingsFor(s, REPO), GH_TOKEN, CLUSTER);
        const first = await hosting.proposeScaleToZero(WEB, EVIDENCE);
        s.resetRequests();

        const second = await hosting.proposeScaleToZero(WEB, EVIDENCE);
        assert.deepEqual(second, { kind: "already-open", url: first.url, branch: BRANCH });
        assert.deepEqual(calls(s.requests), [`GET ${LIST}`]);

        s.closeChangeRequest(1);
        s.resetRequests();
        const branchSha = s.state.branches.get(BRANCH)!.files.get(FILE)!.blobSha;
        const third = await hosting.proposeScaleToZero(WEB, EVIDENCE);
        assert.deepEqual(third, { kind: "opened", url: `${s.url}/${REPO}/pull/2`, branch: BRANCH });
        // The branch left by the closed pull request is reused: the update names its file's blob.
        assert.deepEqual(
            s.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
            [
                `GET ${LIST} 200`,
                `GET ${CONTENTS}?ref=main 200`,
                `GET ${R}/git/ref/heads%2Fmain 200`,
                `POST ${R}/git/refs 422`,
                `GET ${CONTENTS}?ref=remediation%2Fedge-a%2Fshop%2Fdeployment-web 200`,
                `PUT ${CONTENTS} 200`,
                `POST ${R}/pulls 201`,
            ],
        );
        assert.equal(bodyOf(s.requests[5]).sha, branchSha);
        assertScaledToZero(s.fileAt(BRANCH, FILE));
        assert.deepEqual(
            s.openChangeRequests().map((cr) => cr.number),
            [2],
        );
    });

    it("refuses a missing file, naming it, without writing", async () => {
        const s = await start();
        const settings = settingsFor(s, REPO, { pathTemplate: "clusters/{cluster}/{namespace}/{name}-missing.yaml" });
        const err = await rejectionOf(gitHosting(settings, GH_TOKEN, CLUSTER).proposeScaleToZero(WEB, EVIDENCE));
        assert.match(
            err.message,
            /^GitHub: reading clusters\/edge-a\/shop\/web-missing\.yaml at main in acme\/gitops failed: 404 Not Found/,
        );
        assert.equal(err.status, 404);
        assert.deepEqual(writes(s.requests), []);
    });

    it("reports a rejected token with its status and without the token", async () => {
        const s = await start();
        const wrong = "ghp_WrongT0kenValue0000";
        const err = await rejectionOf(
            gitHosting(settingsFor(s, REPO), wrong, CLUSTER).proposeScaleToZero(WEB, EVIDENCE),
        );
        assert.match(err.message, /^GitHub: listing open pull requests from .* failed: 401 Bad credentials/);
        assert.equal(err.status, 401);
        for (const shown of [err.message, inspect(err, { depth: 10 }), err.stack ?? ""]) {
            assert.ok(!shown.includes(wrong) && !shown.includes(GH_TOKEN), shown);
        }
        assert.equal(s.requests[0]!.headers.authorization, `token ${wrong}`);
        assert.deepEqual(writes(s.requests), []);
    });

    it("names the failing step when creating the pull request fails", async () => {
        const s = await start();
        s.failNext("POST", `${R}/pulls`, 500, "Server Error");
        const err = await rejectionOf(
            gitHosting(settingsFor(s, REPO), GH_TOKEN, CLUSTER).proposeScaleToZero(WEB, EVIDENCE),
        );
        assert.equal(
            err.message,
            `GitHub: creating the pull request from ${BRANCH} to main in ${REPO} failed: 500 Server Error`,
        );
        assert.equal(err.status, 500);
        assert.equal(s.openChangeRequests().length, 0);
    });

    it("gives up on an API that does not answer", async () => {
        const s = await start();
        s.stallNext("GET", `${R}/contents/`);
        const hosting = gitHosting(settingsFor(s, REPO), GH_TOKEN, CLUSTER, { timeoutMs: 300 });
        const err = await rejectionOf(hosting.proposeScaleToZero(WEB, EVIDENCE));
        assert.equal(err.message, `GitHub: reading ${FILE} at main in ${REPO} failed: no answer within 0.3 s`);
        assert.deepEqual(writes(s.requests), []);
    });
});

/** A port on 127.0.0.1 nothing listens on. */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

describe("gitHosting", () => {
    const base: GitopsSettings = {
        provider: "github",
        apiUrl: "http://127.0.0.1:1",
        repository: "acme/gitops",
        targetBranch: "main",
        pathTemplate: "{name}.yaml",
        fieldPath: "spec.replicas",
    };

    it("refuses a GitHub repository that is not owner/repo", () => {
        const err = gitopsErrorOf(() => gitHosting({ ...base, repository: "acme" }, "t0ken", CLUSTER));
        assert.match(err.message, /GitHub repository "acme": expected owner\/repo/);
    });

    it("refuses an empty token", () => {
        const err = gitopsErrorOf(() => gitHosting(base, "", CLUSTER));
        assert.match(err.message, /no API token for github repository acme\/gitops/);
    });

    for (const [provider, label, noun] of [
        ["gitlab", "GitLab", "merge"],
        ["github", "GitHub", "pull"],
    ] as const) {
        it(`reports an unreachable ${label} API without a status`, async () => {
            const settings = { ...base, provider, apiUrl: `http://127.0.0.1:${await closedPort()}` };
            const err = await rejectionOf(gitHosting(settings, "t0ken", CLUSTER).proposeScaleToZero(WEB, EVIDENCE));
            assert.match(
                err.message,
                new RegExp(
                    `^${label}: listing open ${noun} requests from ${BRANCH} in acme/gitops failed: connect ECONNREFUSED`,
                ),
            );
            assert.equal(err.status, undefined);
        });
    }
});
