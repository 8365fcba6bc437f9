import { OFFLINE_SECRET } from "../../config";

/**
 * One file per name from a secret holding a JSON object of credentials (`alertReceiverCredentials`,
 * `reportCredentials`), which the config check has proven to hold each name; the offline
 * render's placeholder stands for every one of them.
 */
export function credentialFiles(json: string, names: readonly string[], secretKey: string): Record<string, string> {
    if (json === OFFLINE_SECRET) return Object.fromEntries(names.map((name) => [name, OFFLINE_SECRET]));
    const all = JSON.parse(json) as Record<string, unknown>;
    return Object.fromEntries(
        names.map((name) => {
            const credential = all[name];
            if (typeof credential !== "string" || credential === "") {
                throw new Error(`${secretKey}: expected a credential for '${name}', found none`);
            }
            return [name, credential];
        }),
    );
}
