import * as https from "node:https";
import type { AddressInfo } from "node:net";

import { HOST } from "./processes";

/**
 * A stand-in for Loki's index volume API on 127.0.0.1, behind TLS that requires a client
 * certificate from the given CA, as the log gateway does. Each tenant (a cluster) has error-log
 * bytes by namespace and the hours in which it sent anything; the stand-in answers `volume` and
 * `volume_range` in Loki's shapes from them and records every request.
 */

export interface TenantLogs {
    /** Bytes of error lines by namespace over the week. */
    errorBytes: Record<string, number>;
    /** Start times (seconds) of the hours with data; other hours of a range are gaps. */
    hoursWithData: number[];
}

export interface LokiRequest {
    path: string;
    tenant: string | undefined;
    params: Record<string, string>;
}

export interface LokiStandIn {
    url: string;
    requests: LokiRequest[];
    close(): Promise<void>;
}

export async function startLoki(
    tls: { cert: string; key: string; ca: string },
    tenants: Record<string, TenantLogs>,
): Promise<LokiStandIn> {
    const requests: LokiRequest[] = [];
    const server = https.createServer(
        { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
        (req, res) => {
            const url = new URL(req.url ?? "/", "https://loki");
            const params = Object.fromEntries(url.searchParams);
            const tenant = req.headers["x-scope-orgid"];
            const tenantName = typeof tenant === "string" ? tenant : undefined;
            requests.push({ path: url.pathname, tenant: tenantName, params });
            const data = tenantName === undefined ? undefined : tenants[tenantName];
            const reply = (status: number, body: unknown) => {
                res.writeHead(status, { "content-type": "application/json" });
                res.end(JSON.stringify(body));
            };
            if (data === undefined) return reply(401, { error: "no org id" });
            const end = Number(params.end);
            if (url.pathname === "/loki/api/v1/index/volume") {
                const result = Object.entries(data.errorBytes)
                    .filter(() => /level="error"/.test(params.query ?? ""))
                    .sort(([, a], [, b]) => b - a)
                    .slice(0, Number(params.limit ?? "100"))
                    .map(([namespace, bytes]) => ({ metric: { namespace }, value: [end, String(bytes)] }));
                return reply(200, { status: "success", data: { resultType: "vector", result } });
            }
            if (url.pathname === "/loki/api/v1/index/volume_range") {
                const start = Number(params.start);
                const step = Number(params.step);
                const values = data.hoursWithData
                    .filter((t) => t >= start && t < end)
                    .sort((a, b) => a - b)
                    .map((t) => [t + step, "1024"]);
                return reply(200, {
                    status: "success",
                    data: { resultType: "matrix", result: [{ metric: {}, values }] },
                });
            }
            return reply(404, { error: `no route ${url.pathname}` });
        },
    );
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `https://${HOST}:${port}`,
        requests,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
