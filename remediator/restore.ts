import {
    CONTROLLER,
    FLUX_RECONCILE_ANNOTATION,
    ORIGINAL_REPLICAS_ANNOTATION,
    REMEDIATED_BY_ANNOTATION,
    RESTORED_AT_ANNOTATION,
} from "./keys";
import type { KubeApi } from "./kube";
import { WORKLOAD_KINDS, type WorkloadRef } from "./types";

/**
 * Undoing a scale to 0: the replica count comes back from the annotation the remediator wrote
 * before scaling, the Flux exemption goes, and a `restored-at` annotation starts the cooldown so
 * the workload gets time to recover before it can be acted on again.
 */

/** Parses `<namespace>/<kind>/<name>`; kind in any case (`deployment`, `StatefulSet`). */
export function parseWorkloadRef(text: string): WorkloadRef {
    const parts = text.split("/");
    const kinds = WORKLOAD_KINDS.join(", ");
    if (parts.length !== 3 || parts.some((p) => p === "")) {
        throw new Error(`expected <namespace>/<kind>/<name> (kind one of ${kinds}), found ${JSON.stringify(text)}`);
    }
    const [namespace, kindText, name] = parts as [string, string, string];
    const kind = WORKLOAD_KINDS.find((k) => k.toLowerCase() === kindText.toLowerCase());
    if (kind === undefined) throw new Error(`expected a kind among ${kinds}, found ${JSON.stringify(kindText)}`);
    return { namespace, kind, name };
}

export interface RestoreResult {
    ref: WorkloadRef;
    replicas: number;
}

export async function restore(kube: KubeApi, ref: WorkloadRef, now: number = Date.now()): Promise<RestoreResult> {
    const where = `${ref.kind} ${ref.namespace}/${ref.name}`;
    const live = await kube.getWorkload(ref);
    if (live === undefined) throw new Error(`${where} does not exist`);
    const text = live.annotations[ORIGINAL_REPLICAS_ANNOTATION];
    if (text === undefined) {
        throw new Error(`${where} has no ${ORIGINAL_REPLICAS_ANNOTATION} annotation: the remediator did not scale it`);
    }
    const replicas = Number(text);
    if (!Number.isInteger(replicas) || replicas < 1) {
        throw new Error(
            `${where}: expected ${ORIGINAL_REPLICAS_ANNOTATION} to be a whole number above 0, found ${JSON.stringify(text)}`,
        );
    }
    // Scale first: should anything fail after, the annotation still says what to restore.
    await kube.scale(ref, replicas);
    await kube.annotate(ref, {
        [ORIGINAL_REPLICAS_ANNOTATION]: null,
        [REMEDIATED_BY_ANNOTATION]: null,
        [FLUX_RECONCILE_ANNOTATION]: null,
        [RESTORED_AT_ANNOTATION]: new Date(now).toISOString(),
    });
    await kube.createEvent({
        regarding: { ...ref, uid: live.uid },
        type: "Normal",
        reason: "RemediationRestored",
        action: "Restore",
        note: `restored to ${replicas} replicas by ${CONTROLLER} restore`,
    });
    return { ref, replicas };
}
