import { z } from "zod";

import { INGEST_SIGNALS, type IngestEndpoints } from "../network/endpoints";

/**
 * The contract between the main stack and its sub stacks: what main exports for each sub
 * cluster it lists, and how a sub stack checks what it reads. Main writes it, sub reads it
 * through a StackReference; both use these names and this shape.
 */

/** Main's secret output: one bundle per sub cluster, by cluster name. */
export const BUNDLES_OUTPUT = "subClusterBundles";
/** Main's plain output: every certificate's expiry and revision, by certificate id. */
export const CERTIFICATES_OUTPUT = "certificates";
/**
 * Main's plain output: the base of every alert's runbook link. Sub clusters' alerts reach main's
 * receivers too, so a sub that sets no base of its own takes main's.
 */
export const RUNBOOK_BASE_OUTPUT = "runbookBaseUrl";

/** What a sub cluster needs to ship to main. */
export interface FleetBundle {
    /** The cluster this bundle identifies (the client certificate's CN). */
    cluster: string;
    /** PEM of the fleet CA: the sub verifies main's servers with it. */
    caCert: string;
    /** PEM of the sub cluster's client certificate. */
    clientCert: string;
    /** PEM of its private key. */
    clientKey: string;
    /** Revision of the client certificate; a change rolls pods that read it only at start. */
    revision: string;
    /** RFC 3339 instant the client certificate expires at. */
    notAfter: string;
    /** Where each signal goes. */
    endpoints: IngestEndpoints;
}

const PEM = (label: string) =>
    z.string().regex(new RegExp(`^-----BEGIN ${label}-----\\n[\\s\\S]+\\n-----END ${label}-----\\n?$`));

const endpointSchema = z.strictObject({
    serverName: z.string().min(1),
    port: z.int().min(1).max(65535),
    url: z.string().min(1),
});

export const fleetBundleSchema = z.strictObject({
    cluster: z.string().min(1),
    caCert: PEM("CERTIFICATE"),
    clientCert: PEM("CERTIFICATE"),
    clientKey: PEM("PRIVATE KEY"),
    revision: z.string().min(1),
    notAfter: z.iso.datetime({ offset: true }),
    endpoints: z.strictObject(
        Object.fromEntries(INGEST_SIGNALS.map((s) => [s, endpointSchema])) as Record<
            (typeof INGEST_SIGNALS)[number],
            typeof endpointSchema
        >,
    ),
}) satisfies z.ZodType<FleetBundle>;

export type BundleLookup = { ok: true; bundle: FleetBundle } | { ok: false; problem: string };

/**
 * Finds and checks a sub cluster's bundle in what main exported. `exported` is the value of
 * main's bundles output, `undefined` when main has none. The problem, if any, names the config
 * key to fix and never quotes key material.
 */
export function lookupBundle(exported: unknown, cluster: string, mainStack: string): BundleLookup {
    if (exported === undefined || exported === null) {
        return {
            ok: false,
            problem:
                `expected the main stack ${mainStack} to export '${BUNDLES_OUTPUT}', found no such output; ` +
                "run `pulumi up` on the main stack first",
        };
    }
    if (typeof exported !== "object" || Array.isArray(exported)) {
        return { ok: false, problem: `expected '${BUNDLES_OUTPUT}' of ${mainStack} to be a map of cluster names` };
    }
    const bundles = exported as Record<string, unknown>;
    const listed = Object.keys(bundles).sort();
    const entry = bundles[cluster];
    if (entry === undefined) {
        return {
            ok: false,
            problem:
                `expected the main stack ${mainStack} to list this cluster ('${cluster}') in ` +
                `observability:subClusters, found ${listed.length === 0 ? "no sub clusters" : listed.join(", ")}; ` +
                `add '- name: ${cluster}' there and run \`pulumi up\` on the main stack first`,
        };
    }
    const parsed = fleetBundleSchema.safeParse(entry);
    if (!parsed.success) {
        const fields = [...new Set(parsed.error.issues.map((i) => i.path.join(".") || "(bundle)"))].join(", ");
        return {
            ok: false,
            problem: `expected a complete certificate bundle for '${cluster}' from ${mainStack}, found bad fields: ${fields}`,
        };
    }
    if (parsed.data.cluster !== cluster) {
        return {
            ok: false,
            problem: `expected the bundle under '${cluster}' to identify '${cluster}', found '${parsed.data.cluster}'`,
        };
    }
    return { ok: true, bundle: parsed.data };
}
