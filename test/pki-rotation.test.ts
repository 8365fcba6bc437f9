import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import * as fc from "fast-check";

import type { CertificateSpec } from "../components/pki/profiles";
import {
    certificateRevision,
    renewalWindowOpens,
    replacementTrigger,
    rotationEpoch,
    rotationPeriodHours,
} from "../components/pki/rotation";
import type { ResourceRecord } from "../render/mock-engine";
import { renderStack } from "../render/render";
import { projectDir } from "./helpers";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const leaf: CertificateSpec = {
    id: "tempo",
    profile: "tempo",
    kind: "server",
    subject: { commonName: "tempo", organization: "observability", organizationalUnit: "server" },
    dnsNames: ["tempo"],
    keyUsages: ["digital_signature"],
    extendedKeyUsages: ["server_auth"],
    validityHours: 90 * 24,
    renewBeforeHours: 30 * 24,
};
const ca: CertificateSpec = {
    ...leaf,
    id: "ca",
    profile: "ca",
    kind: "ca",
    dnsNames: [],
    validityHours: 10 * 8760,
    renewBeforeHours: 8760,
};

/** Instants between 2000 and 2100, in whole minutes. */
const instant = fc.integer({ min: 946_684_800_000 / 60_000, max: 4_102_444_800_000 / 60_000 }).map((m) => m * 60_000);

describe("rotation: the rules", () => {
    it("makes an epoch as long as validity minus the renewal window", () => {
        assert.equal(rotationPeriodHours(leaf), 60 * 24);
        assert.equal(rotationPeriodHours(ca), 9 * 8760);
    });

    it("replaces a certificate at the first up inside its renewal window, whenever it was issued", () => {
        fc.assert(
            fc.property(instant, fc.integer({ min: 0, max: 30 * 24 * 60 }), (issued, minutesIntoWindow) => {
                const up = renewalWindowOpens(issued, leaf) + minutesIntoWindow * 60_000;
                return replacementTrigger(leaf, ca, up, 0) !== replacementTrigger(leaf, ca, issued, 0);
            }),
        );
    });

    it("keeps a certificate at every up before its window within the epoch it was issued in", () => {
        fc.assert(
            fc.property(instant, fc.double({ min: 0, max: 1, noNaN: true }), (issued, fraction) => {
                const epochEnd = (rotationEpoch(issued, leaf) + 1) * rotationPeriodHours(leaf) * HOUR;
                const up = issued + Math.floor((epochEnd - 1 - issued) * fraction);
                return up < renewalWindowOpens(issued, leaf) && rotationEpoch(up, leaf) === rotationEpoch(issued, leaf);
            }),
        );
    });

    it("keeps a certificate issued at an epoch's start until exactly its window opens", () => {
        const issued = 400 * rotationPeriodHours(leaf) * HOUR;
        const opens = renewalWindowOpens(issued, leaf);
        assert.equal(opens - issued, 60 * DAY);
        assert.equal(replacementTrigger(leaf, ca, opens - 1, 0), replacementTrigger(leaf, ca, issued, 0));
        assert.notEqual(replacementTrigger(leaf, ca, opens, 0), replacementTrigger(leaf, ca, issued, 0));
    });

    it("re-issues every leaf when the generation is raised, but keeps the CA", () => {
        const t = Date.parse("2026-03-01T00:00:00Z");
        assert.notEqual(replacementTrigger(leaf, ca, t, 1), replacementTrigger(leaf, ca, t, 0));
        assert.equal(replacementTrigger(ca, ca, t, 1), replacementTrigger(ca, ca, t, 0));
    });

    it("re-issues every leaf when the CA rotates", () => {
        const caEpochEnd = (rotationEpoch(Date.parse("2026-03-01T00:00:00Z"), ca) + 1) * rotationPeriodHours(ca) * HOUR;
        const before = caEpochEnd - HOUR;
        const after = caEpochEnd + HOUR;
        // Pick instants in the same leaf epoch so only the CA's change can make the difference.
        assert.equal(rotationEpoch(before, leaf), rotationEpoch(after, leaf));
        assert.notEqual(replacementTrigger(leaf, ca, after, 0), replacementTrigger(leaf, ca, before, 0));
    });

    it("changes a certificate's revision exactly when its trigger or content changes", () => {
        const trigger = "epoch 1; ca epoch 1; generation 0";
        assert.equal(certificateRevision(leaf, trigger), certificateRevision({ ...leaf }, trigger));
        assert.notEqual(
            certificateRevision(leaf, trigger),
            certificateRevision(leaf, "epoch 2; ca epoch 1; generation 0"),
        );
        assert.notEqual(certificateRevision(leaf, trigger), certificateRevision({ ...leaf, dnsNames: ["x"] }, trigger));
        assert.match(certificateRevision(leaf, trigger), /^[0-9a-f]{16}$/);
    });
});

/** The main stack evaluated at an instant: each certificate's trigger and its Secret's revision. */
async function stateAt(
    instantMs: number,
): Promise<{ triggers: Map<string, unknown>; revisions: Map<string, unknown> }> {
    const result = await renderStack({ projectDir, stack: "main", now: instantMs });
    const triggers = new Map<string, unknown>();
    const revisions = new Map<string, unknown>();
    for (const r of result.records) {
        if (r.type.startsWith("tls:")) triggers.set(r.name, r.options.replacementTrigger);
        if (r.type === "kubernetes:core/v1:Secret" && r.inputs.type === "kubernetes.io/tls") {
            revisions.set(r.name, annotation(r));
        }
    }
    return { triggers, revisions };
}

function annotation(record: ResourceRecord): unknown {
    const metadata = record.inputs.metadata as { annotations?: Record<string, unknown> };
    return metadata.annotations?.["observability/certificate-revision"];
}

describe("rotation: the main stack over time", () => {
    // Issued one hour into a leaf epoch: its window opens 60 days later.
    const period = rotationPeriodHours(leaf) * HOUR;
    const issued = Math.ceil(Date.parse("2026-06-01T00:00:00Z") / period) * period + HOUR;
    let atIssue: Awaited<ReturnType<typeof stateAt>>;
    let outside: Awaited<ReturnType<typeof stateAt>>;
    let inside: Awaited<ReturnType<typeof stateAt>>;

    before(async () => {
        atIssue = await stateAt(issued);
        outside = await stateAt(issued + 45 * DAY);
        inside = await stateAt(renewalWindowOpens(issued, leaf) + DAY);
    });

    it("puts a replacement trigger on the CA and every leaf, its key and its request", () => {
        // CA key and certificate, then key, request and certificate of each of the fifteen leaves:
        // seven servers, main's and one sub cluster's identities, six service identities.
        assert.equal(atIssue.triggers.size, 2 + 3 * 15);
        for (const [name, trigger] of atIssue.triggers) assert.equal(typeof trigger, "string", name);
    });

    it("replaces nothing at an up outside the renewal window", () => {
        assert.deepEqual(outside.triggers, atIssue.triggers);
        assert.deepEqual(outside.revisions, atIssue.revisions);
    });

    it("replaces every leaf, key and request at the first up inside the window, and keeps the CA", () => {
        for (const [name, trigger] of inside.triggers) {
            const isCa = name === "main-pki-ca" || name === "main-pki-ca-key";
            if (isCa) assert.equal(trigger, atIssue.triggers.get(name), name);
            else assert.notEqual(trigger, atIssue.triggers.get(name), name);
        }
    });

    it("changes the revision annotation of every certificate Secret with it, so pods that cache files roll", () => {
        // Seven servers and six service identities, main's identity in both namespaces.
        assert.equal(inside.revisions.size, 15);
        for (const [name, revision] of inside.revisions) {
            assert.equal(typeof revision, "string", name);
            assert.notEqual(revision, atIssue.revisions.get(name), name);
        }
    });
});
