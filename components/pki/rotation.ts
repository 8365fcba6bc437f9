import { createHash } from "node:crypto";

import type { CertificateSpec } from "./profiles";

/**
 * When certificates are replaced. The tls provider's own early renewal only acts when a refresh
 * notices it, which `pulumi up` does not do by default, so certificates can expire although
 * `up` ran inside their window. Instead each certificate carries a `replacementTrigger`: its
 * rotation epoch. The engine replaces the certificate when the epoch an `up` computes differs
 * from the one recorded when it was issued.
 *
 * Epochs are `validity - renewBefore` long. A certificate issued at time t in epoch k has its
 * renewal window open at t + validity - renewBefore, which lies in epoch k + 1 or later: the
 * first `up` inside the window always sees a new epoch and replaces it. An `up` in the same
 * epoch never does. A certificate issued late in an epoch may be replaced at the next epoch
 * boundary, before its window opens: early, never late. Replacements happen at `up`s after a
 * boundary, so from the second generation on issuance and boundaries line up.
 */

const HOUR_MS = 3_600_000;

let clock: () => number = () => Date.now();

/** The instant rotation decisions are taken at, in milliseconds since the epoch. */
export function now(): number {
    return clock();
}

/**
 * Fixes the instant rotation decisions are taken at; the offline render uses it to be
 * reproducible. Returns the function that restores the previous clock.
 */
export function useClock(instant: () => number): () => void {
    const previous = clock;
    clock = instant;
    return () => {
        clock = previous;
    };
}

export type Lifetime = Pick<CertificateSpec, "validityHours" | "renewBeforeHours">;

/** Length of a rotation epoch, in hours. */
export function rotationPeriodHours(lifetime: Lifetime): number {
    return lifetime.validityHours - lifetime.renewBeforeHours;
}

/** The rotation epoch an instant falls in. */
export function rotationEpoch(instantMs: number, lifetime: Lifetime): number {
    return Math.floor(instantMs / HOUR_MS / rotationPeriodHours(lifetime));
}

/** When the renewal window of a certificate issued at `issuedMs` opens. */
export function renewalWindowOpens(issuedMs: number, lifetime: Lifetime): number {
    return issuedMs + rotationPeriodHours(lifetime) * HOUR_MS;
}

/**
 * The `replacementTrigger` of a certificate: a change replaces it. Leaves carry their CA's
 * trigger too, since a new CA must re-sign them; `generation` re-issues leaves on demand.
 */
export function replacementTrigger(
    spec: CertificateSpec,
    ca: CertificateSpec,
    instantMs: number,
    generation: number,
): string {
    const own = `epoch ${rotationEpoch(instantMs, spec)}`;
    if (spec.kind === "ca") return own;
    return `${own}; ca epoch ${rotationEpoch(instantMs, ca)}; generation ${generation}`;
}

/**
 * A digest of everything that decides a certificate's content: it changes exactly when the
 * program issues a new certificate. Known at preview (unlike the PEM), it rolls the pods of
 * bricks that read certificate files only at start, through a pod annotation.
 */
export function certificateRevision(spec: CertificateSpec, trigger: string): string {
    const material = JSON.stringify({
        subject: spec.subject,
        dnsNames: spec.dnsNames,
        keyUsages: spec.keyUsages,
        extendedKeyUsages: spec.extendedKeyUsages,
        validityHours: spec.validityHours,
        trigger,
    });
    return createHash("sha256").update(material).digest("hex").slice(0, 16);
}
