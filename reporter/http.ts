import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";

/**
 * The reporter's HTTP client: every request over mutual TLS with the reporter's certificate, a
 * deadline per request, and at most `concurrency` requests in flight, so a week of fleet
 * queries cannot swamp the query path it shares with Grafana.
 */

export interface TlsFiles {
    certFile: string;
    keyFile: string;
    caFile: string;
}

export class HttpError extends Error {
    constructor(
        message: string,
        readonly status?: number,
    ) {
        super(message);
    }
}

/** Runs at most `limit` tasks at once, in the order they were asked for. */
export class Limiter {
    private active = 0;
    private readonly waiting: (() => void)[] = [];
    constructor(private readonly limit: number) {}

    async run<T>(task: () => Promise<T>): Promise<T> {
        if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
        this.active += 1;
        try {
            return await task();
        } finally {
            this.active -= 1;
            this.waiting.shift()?.();
        }
    }
}

export interface JsonClient {
    /** GETs a URL and parses its JSON body; throws HttpError on a non-2xx status, a timeout or bad JSON. */
    getJson(url: string, headers?: Record<string, string>): Promise<unknown>;
}

export interface ClientOptions {
    /** Client certificate and CA; absent only for plain-HTTP test servers. */
    tls?: TlsFiles;
    timeoutMs: number;
    concurrency: number;
}

/** Longest body read before giving up: a query answer larger than this is a mistake. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function jsonClient(options: ClientOptions): JsonClient {
    const agent = options.tls
        ? new https.Agent({
              cert: fs.readFileSync(options.tls.certFile),
              key: fs.readFileSync(options.tls.keyFile),
              ca: fs.readFileSync(options.tls.caFile),
              minVersion: "TLSv1.2",
              keepAlive: true,
              maxSockets: options.concurrency,
          })
        : new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
    const limiter = new Limiter(options.concurrency);
    const get = (url: string, headers: Record<string, string>) =>
        new Promise<unknown>((resolve, reject) => {
            const target = new URL(url);
            const client = target.protocol === "https:" ? https : http;
            const request = client.get(
                target,
                { agent, headers: { accept: "application/json", ...headers }, timeout: options.timeoutMs },
                (response) => {
                    const chunks: Buffer[] = [];
                    let size = 0;
                    response.on("data", (chunk: Buffer) => {
                        size += chunk.length;
                        if (size > MAX_BODY_BYTES)
                            request.destroy(new HttpError(`${target.pathname}: answer over ${MAX_BODY_BYTES} bytes`));
                        else chunks.push(chunk);
                    });
                    response.on("error", reject);
                    response.on("end", () => {
                        const body = Buffer.concat(chunks).toString("utf8");
                        const status = response.statusCode ?? 0;
                        if (status < 200 || status > 299) {
                            reject(
                                new HttpError(
                                    `${target.pathname}: HTTP ${status}: ${body.slice(0, 300).trim()}`,
                                    status,
                                ),
                            );
                            return;
                        }
                        try {
                            resolve(JSON.parse(body));
                        } catch {
                            reject(new HttpError(`${target.pathname}: answer is not JSON`, status));
                        }
                    });
                },
            );
            // The socket timeout covers idle time; the deadline covers the whole request.
            const deadline = setTimeout(
                () => request.destroy(new HttpError(`${target.pathname}: no answer within ${options.timeoutMs} ms`)),
                options.timeoutMs,
            );
            request.on("timeout", () =>
                request.destroy(new HttpError(`${target.pathname}: no answer within ${options.timeoutMs} ms`)),
            );
            request.on("error", (error) =>
                reject(error instanceof HttpError ? error : new HttpError(`${target.pathname}: ${error.message}`)),
            );
            request.on("close", () => clearTimeout(deadline));
        });
    return { getJson: (url, headers = {}) => limiter.run(() => get(url, headers)) };
}
