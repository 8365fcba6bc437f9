import { z } from "zod";

import { field, NO_CREDENTIAL, quantity, url } from "../fields";

/** Grafana: its URL, sign-in (OIDC) and admin password generation. */

const oidcSchema = z
    .strictObject({
        name: field(z.string().min(1).default("SSO"), {
            description: "Label of the login button.",
            examples: ["Keycloak"],
        }),
        clientId: field(z.string().min(1), {
            description:
                "OAuth2 client id registered at the identity provider. Its client secret is the " +
                "Pulumi secret `grafanaOidcClientSecret`.",
            expected: "a non-empty string",
            examples: ["grafana"],
        }),
        authUrl: url(
            {
                description: "The provider's authorization endpoint.",
                expected: "an https URL",
                examples: ["https://id.example.com/realms/ops/protocol/openid-connect/auth"],
            },
            { https: true, credentials: "the client secret goes in the secret observability:grafanaOidcClientSecret" },
        ),
        tokenUrl: url(
            {
                description: "The provider's token endpoint.",
                expected: "an https URL",
                examples: ["https://id.example.com/realms/ops/protocol/openid-connect/token"],
            },
            { https: true, credentials: "the client secret goes in the secret observability:grafanaOidcClientSecret" },
        ),
        apiUrl: url(
            {
                description: "The provider's userinfo endpoint.",
                expected: "an https URL",
                examples: ["https://id.example.com/realms/ops/protocol/openid-connect/userinfo"],
            },
            { https: true, credentials: "the client secret goes in the secret observability:grafanaOidcClientSecret" },
        ),
        scopes: field(z.string().min(1).default("openid profile email"), {
            description: "Scopes requested, space-separated.",
            examples: ["openid profile email groups"],
        }),
        roleAttributePath: field(z.string().min(1).optional(), {
            description:
                "JMESPath over the ID token or userinfo that yields `Admin`, `Editor` or `Viewer`. " +
                "Unset: every user signing in is a Viewer.",
            examples: ["contains(groups[*], 'sre') && 'Admin' || 'Viewer'"],
        }),
        allowSignUp: field(z.boolean().default(true), {
            description: "Create a Grafana user on a first successful sign-in.",
            examples: [false],
        }),
    })
    .meta({ description: "Single sign-on through a generic OAuth2 / OpenID Connect provider." });

export const grafanaSchema = z
    .strictObject({
        storageSize: quantity({
            description:
                "Size of Grafana's volume (its database: users, preferences, annotations, " +
                "dashboard versions). Unset: 5Gi (small), 10Gi (medium), 20Gi (large).",
            examples: ["10Gi"],
        }).optional(),
        storageClass: field(z.string().min(1).optional(), {
            description: "StorageClass of Grafana's volume. Unset: the cluster's default class.",
            expected: "a StorageClass name",
            examples: ["local-path"],
        }),
        rootUrl: url(
            {
                description:
                    "The URL users open Grafana at (behind your ingress). Links in alerts and the " +
                    "OIDC redirect are built from it; required with `oidc`.",
                expected: "an http(s) URL",
                examples: ["https://grafana.example.com"],
            },
            { credentials: NO_CREDENTIAL },
        ).optional(),
        adminPasswordGeneration: field(z.number().int().min(0).default(0), {
            description:
                "Bump to generate a new admin password into the `grafana-admin` Secret. Grafana " +
                "applies it only with the reset command in docs/grafana.md: the chart sets it on " +
                "first start only.",
            expected: "a whole number, 0 or more",
            examples: [1],
        }),
        oidc: oidcSchema.optional(),
    })
    .superRefine((grafana, ctx) => {
        if (grafana.oidc !== undefined && grafana.rootUrl === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["rootUrl"],
                input: grafana.rootUrl,
                message: "the URL users open Grafana at, which the OIDC redirect needs (oidc is set)",
            });
        }
    })
    .default({ adminPasswordGeneration: 0 })
    .meta({ description: "Grafana on main: the one pane over the whole fleet." });
