import * as pulumi from "@pulumi/pulumi";

import { ConfigError, type SubConfig } from "../config";
import { BUNDLES_OUTPUT, lookupBundle, type FleetBundle } from "./fleet-bundle";

/**
 * Reads this sub cluster's bundle from the main stack named in `observability:mainStack`.
 * Resolves before the sub declares anything, so a sub that main does not list fails with one
 * clear message and nothing half-applied.
 */
export async function readFleetBundle(config: SubConfig): Promise<FleetBundle> {
    const main = new pulumi.StackReference("main-stack", { name: config.mainStack });
    let exported: unknown;
    try {
        const details = await main.getOutputDetails(BUNDLES_OUTPUT);
        exported = details.secretValue ?? details.value;
    } catch (err) {
        throw new ConfigError([
            `observability:mainStack: expected a readable stack ${config.mainStack}, found an error: ${(err as Error).message}`,
        ]);
    }
    const lookup = lookupBundle(exported, config.cluster.name, config.mainStack);
    if (!lookup.ok) {
        throw new ConfigError([`observability:mainStack: ${lookup.problem}`]);
    }
    return lookup.bundle;
}
