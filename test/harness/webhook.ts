import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

import { HOST } from "./processes";

/**
 * A webhook receiver stand-in on 127.0.0.1, over HTTPS (with a given certificate) or plain
 * HTTP: it records every request and answers 200 `ok`, as Slack and Mattermost do, unless told
 * to answer a path otherwise or to never answer it.
 */

export interface WebhookStandInOptions {
    /** Server certificate and key, PEM: HTTPS; plain HTTP without. */
    identity?: { cert: string; key: string };
}

export interface ReceivedRequest {
    method: string;
    /** Path and query string as sent. */
    path: string;
    /** Header names in lowercase. */
    headers: http.IncomingHttpHeaders;
    body: string;
    /** The status it was answered with; undefined while it is held unanswered. */
    status?: number;
}

export interface WebhookStandIn {
    /** `https://127.0.0.1:<port>` or `http://127.0.0.1:<port>`. */
    origin: string;
    port: number;
    requests: ReceivedRequest[];
    /** The requests made to `path` (without query string). */
    requestsTo(path: string): ReceivedRequest[];
    /** Answers every request to `path` with `status` and `body` from now on. */
    answer(path: string, status: number, body?: string): void;
    /** Holds every request to `path` unanswered from now on (until close). */
    stall(path: string): void;
    close(): Promise<void>;
}

interface Rule {
    status?: number;
    body?: string;
}

/** Starts the stand-in at a free port of 127.0.0.1. */
export async function startWebhookReceiver(options: WebhookStandInOptions = {}): Promise<WebhookStandIn> {
    const requests: ReceivedRequest[] = [];
    const rules = new Map<string, Rule>();
    const held = new Set<http.ServerResponse>();
    const pathOf = (raw: string): string => raw.split("?")[0] ?? raw;

    const handler: http.RequestListener = (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            const record: ReceivedRequest = {
                method: req.method ?? "GET",
                path: req.url ?? "/",
                headers: req.headers,
                body: Buffer.concat(chunks).toString("utf8"),
            };
            requests.push(record);
            const rule = rules.get(pathOf(record.path)) ?? { status: 200, body: "ok" };
            if (rule.status === undefined) {
                held.add(res);
                return;
            }
            record.status = rule.status;
            res.writeHead(rule.status, { "content-type": "text/plain; charset=utf-8" }).end(rule.body ?? "");
        });
    };
    const server = options.identity
        ? https.createServer({ cert: options.identity.cert, key: options.identity.key }, handler)
        : http.createServer(handler);

    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, HOST, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;

    return {
        origin: `${options.identity ? "https" : "http"}://${HOST}:${port}`,
        port,
        requests,
        requestsTo: (path) => requests.filter((r) => pathOf(r.path) === path),
        answer: (path, status, body) => {
            rules.set(path, { status, body });
        },
        stall: (path) => {
            rules.set(path, {});
        },
        close: async () => {
            for (const res of held) res.destroy();
            held.clear();
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
