import * as http from "node:http";
import * as https from "node:https";
import type { TLSSocket } from "node:tls";

import { HOST, type Probe } from "./processes";
import type { Issued } from "./x509";

/**
 * HTTP(S) requests to a server of the harness on 127.0.0.1: over mutual TLS with a chosen server
 * name and client identity, or in plain HTTP. Failures come back as outcomes, never as
 * rejections, so a test can assert on how a request failed.
 */

export const REQUEST_TIMEOUT_MS = 5_000;

export interface Dial {
    port: number;
    /** The server name the client sends (SNI) and verifies the server's certificate against. */
    servername: string;
    /** Client certificate and key; none when undefined. */
    identity: Issued | undefined;
}

export interface Outcome {
    status?: number;
    body?: string;
    error?: NodeJS.ErrnoException;
    /** Whether the client had verified the server's certificate chain when the error came. */
    serverVerified: boolean;
    /** The client's port, by which the server's log names the connection. */
    localPort?: number;
}

export interface RequestOptions {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
}

function send(req: http.ClientRequest, body: RequestOptions["body"], tls: boolean): Promise<Outcome> {
    return new Promise((resolve) => {
        let serverVerified = false;
        let localPort: number | undefined;
        let status: number | undefined;
        req.on("socket", (socket) => {
            if (tls) {
                socket.on("secureConnect", () => {
                    serverVerified = (socket as TLSSocket).authorized;
                    localPort = socket.localPort;
                });
            } else {
                socket.on("connect", () => (localPort = socket.localPort));
            }
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
        req.on("error", (error: NodeJS.ErrnoException) => resolve({ status, error, serverVerified, localPort }));
        req.on("response", (res) => {
            status = res.statusCode;
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () =>
                resolve({ status, body: Buffer.concat(chunks).toString("utf8"), serverVerified, localPort }),
            );
        });
        req.end(body);
    });
}

/** A request over TLS to `dial`, trusting only `ca`. */
export function request(dial: Dial, ca: Issued, options: RequestOptions): Promise<Outcome> {
    const req = https.request({
        host: HOST,
        port: dial.port,
        servername: dial.servername,
        ca: ca.cert,
        cert: dial.identity?.cert,
        key: dial.identity?.key,
        agent: false,
        method: options.method ?? "GET",
        path: options.path,
        headers: options.headers,
        timeout: REQUEST_TIMEOUT_MS,
    });
    return send(req, options.body, true);
}

/** A plain HTTP request to `port`. */
export function plainRequest(port: number, options: RequestOptions): Promise<Outcome> {
    const req = http.request({
        host: HOST,
        port,
        agent: false,
        method: options.method ?? "GET",
        path: options.path,
        headers: options.headers,
        timeout: REQUEST_TIMEOUT_MS,
    });
    return send(req, options.body, false);
}

export const describeOutcome = (o: Outcome): string =>
    o.error !== undefined ? `error ${o.error.code ?? ""} ${o.error.message}` : `HTTP ${o.status}: ${o.body ?? ""}`;

/** A readiness probe: ready on HTTP 200. */
export async function probeOk(outcome: Promise<Outcome>): Promise<Probe> {
    const o = await outcome;
    return o.status === 200 ? { ready: true } : { ready: false, why: describeOutcome(o) };
}
