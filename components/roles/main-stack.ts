import * as pulumi from "@pulumi/pulumi";

import { ConfigError, RUNBOOK_PATH, type SubConfig } from "../../config";
import { BUNDLES_OUTPUT, lookupBundle, RUNBOOK_BASE_OUTPUT, type FleetBundle } from "../pki/fleet-bundle";

/**
 * Reads this sub cluster's bundle from the main stack named in `observability:mainStack`.
 * Resolves before the sub declares anything, so a sub that main does not list fails with one
 * clear message and nothing half-applied.
 */
export async function readFleetBundle(
    config: SubConfig,
): Promise<{ bundle: FleetBundle; runbookBaseUrl: string | undefined }> {
    const main = new pulumi.StackReference("main-stack", { name: config.mainStack });
    let exported: unknown;
    let runbookBaseUrl: unknown;
    try {
        const details = await main.getOutputDetails(BUNDLES_OUTPUT);
        exported = details.secretValue ?? details.value;
        runbookBaseUrl = (await main.getOutputDetails(RUNBOOK_BASE_OUTPUT)).value;
    } catch (err) {
        throw new ConfigError([
            `observability:mainStack: expected a readable stack ${config.mainStack}, found an error: ${(err as Error).message}`,
        ]);
    }
    const lookup = lookupBundle(exported, config.cluster.name, config.mainStack);
    if (!lookup.ok) {
        throw new ConfigError([`observability:mainStack: ${lookup.problem}`]);
    }
    // A main stack deployed before it exported the base has none: the sub keeps its own.
    return { bundle: lookup.bundle, runbookBaseUrl: typeof runbookBaseUrl === "string" ? runbookBaseUrl : undefined };
}

/**
 * The sub's configuration with main's runbook base when the sub sets none of its own (the
 * default relative path): its alerts reach main's receivers, whose readers open main's links.
 */
export function withFleetRunbookBase(config: SubConfig, mainBase: string | undefined): SubConfig {
    if (mainBase === undefined || config.alerting.runbookBaseUrl !== RUNBOOK_PATH) return config;
    return { ...config, alerting: { ...config.alerting, runbookBaseUrl: mainBase } };
}
