import { z } from "zod";

import { checkedHours, duration, field } from "../fields";

/** The PKI: certificate lifetimes per profile and the generation that rotates them all. */

/** Certificate profiles of the fleet PKI, with the lifetime each gets unless the stack overrides it. */
export const CERTIFICATE_PROFILE_LIFETIMES = {
    ca: { validity: "10y", renewBefore: "1y" },
    "thanos-receive": { validity: "90d", renewBefore: "30d" },
    "logs-ingest": { validity: "90d", renewBefore: "30d" },
    tempo: { validity: "90d", renewBefore: "30d" },
    "tempo-receiver": { validity: "90d", renewBefore: "30d" },
    alertmanager: { validity: "90d", renewBefore: "30d" },
    "query-gateway": { validity: "90d", renewBefore: "30d" },
    "thanos-store": { validity: "90d", renewBefore: "30d" },
    cluster: { validity: "90d", renewBefore: "30d" },
    grafana: { validity: "90d", renewBefore: "30d" },
    reporter: { validity: "90d", renewBefore: "30d" },
    "thanos-query": { validity: "90d", renewBefore: "30d" },
    "thanos-router": { validity: "90d", renewBefore: "30d" },
    "thanos-ruler": { validity: "90d", renewBefore: "30d" },
    "traces-ingest": { validity: "90d", renewBefore: "30d" },
} as const satisfies Record<string, { validity: string; renewBefore: string }>;

export type CertificateProfileName = keyof typeof CERTIFICATE_PROFILE_LIFETIMES;

function lifetimeSchema(profile: CertificateProfileName) {
    const defaults = CERTIFICATE_PROFILE_LIFETIMES[profile];
    return z
        .strictObject({
            validity: duration({
                description: `How long a \`${profile}\` certificate is valid.`,
                examples: [defaults.validity],
            }).default(defaults.validity),
            renewBefore: duration({
                description:
                    `How long before expiry a \`${profile}\` certificate is replaced: the first ` +
                    "`pulumi up` inside this window issues a new one.",
                examples: [defaults.renewBefore],
            }).default(defaults.renewBefore),
        })
        .superRefine((lifetime, ctx) => {
            const validity = checkedHours(lifetime.validity);
            const renewBefore = checkedHours(lifetime.renewBefore);
            if (validity === undefined || renewBefore === undefined) return;
            if (renewBefore >= validity) {
                ctx.addIssue({
                    code: "custom",
                    path: ["renewBefore"],
                    input: lifetime.renewBefore,
                    message: `a duration above zero and shorter than validity (${lifetime.validity})`,
                });
            }
        })
        .default({ ...defaults })
        .meta({ description: `Lifetime of \`${profile}\` certificates.` });
}

const lifetimeShape = Object.fromEntries(
    (Object.keys(CERTIFICATE_PROFILE_LIFETIMES) as CertificateProfileName[]).map((p) => [p, lifetimeSchema(p)]),
) as { [P in CertificateProfileName]: ReturnType<typeof lifetimeSchema> };

const pkiDefaults = {
    lifetimes: Object.fromEntries(
        Object.entries(CERTIFICATE_PROFILE_LIFETIMES).map(([p, l]) => [p, { ...l }]),
    ) as Record<CertificateProfileName, { validity: string; renewBefore: string }>,
    generation: 0,
};

export const pkiSchema = z
    .strictObject({
        lifetimes: z
            .strictObject(lifetimeShape)
            .default(pkiDefaults.lifetimes)
            .meta({ description: "Validity and renewal window per certificate profile." }),
        generation: field(z.int().min(0).default(0), {
            description:
                "Raise to re-issue every leaf certificate at the next `pulumi up` (after a key " +
                "leak, say). The CA is kept.",
            expected: "a whole number, 0 or more",
            examples: [1],
        }),
    })
    .superRefine((pki, ctx) => {
        const ca = checkedHours(pki.lifetimes.ca.validity);
        if (ca === undefined) return;
        for (const [profile, lifetime] of Object.entries(pki.lifetimes)) {
            const validity = checkedHours(lifetime.validity);
            if (profile !== "ca" && validity !== undefined && validity > ca) {
                ctx.addIssue({
                    code: "custom",
                    path: ["lifetimes", profile, "validity"],
                    input: lifetime.validity,
                    message: `a duration no longer than the CA's validity (lifetimes.ca.validity: ${pki.lifetimes.ca.validity})`,
                });
            }
        }
    })
    .default(pkiDefaults)
    .meta({
        description:
            "The fleet PKI on main: one root CA, server certificates for every brick that accepts " +
            "connections, client certificates for every brick that connects.",
    });
