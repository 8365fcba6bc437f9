import * as fs from "node:fs";
import * as http from "node:http";

import { PayloadError } from "./alerts";
import { Remediator, type AuditLine } from "./engine";
import { gitHosting } from "./gitops";
import { CONTROLLER, SETTINGS_FILE, TOKEN_FILE } from "./keys";
import { HttpKube, inClusterConnection, type Connection } from "./kube";
import { remediatorRegistry } from "./metrics";
import { parseSettings, type Settings } from "./settings";

/**
 * The remediator's process: settings from a file, the pod's service account, a poll loop, and
 * an HTTP server for /metrics, /healthz and /readyz.
 */

/** Largest alerts answer read: far above what a cluster fires, small enough to bound memory. */
const MAX_ALERTS_BYTES = 16 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

/** GETs the alerts of a Prometheus; a non-JSON or oversized answer is a payload error. */
export async function fetchPrometheusAlerts(baseUrl: string): Promise<unknown> {
    const url = new URL("api/v1/alerts", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
    const response = await fetch(url, {
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        headers: { accept: "application/json" },
    });
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > MAX_ALERTS_BYTES) {
        await response.body?.cancel();
        throw new PayloadError(`answer of ${declared} bytes, more than ${MAX_ALERTS_BYTES}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body !== null) {
        for await (const chunk of response.body) {
            size += chunk.length;
            if (size > MAX_ALERTS_BYTES) throw new PayloadError(`answer larger than ${MAX_ALERTS_BYTES} bytes`);
            chunks.push(chunk);
        }
    }
    const text = Buffer.concat(chunks).toString("utf8");
    if (!response.ok) {
        throw new Error(`${url.pathname}: HTTP ${response.status}`);
    }
    try {
        return JSON.parse(text);
    } catch {
        throw new PayloadError(`answer is not JSON (${size} bytes)`);
    }
}

export interface Running {
    remediator: Remediator;
    server: http.Server;
    port: number;
    stop(): Promise<void>;
}

export interface StartOptions {
    settings: Settings;
    connection: Connection;
    gitToken?: string;
    audit?: (line: AuditLine) => void;
}

/** Starts the poll loop and the HTTP server; resolves once the server listens. */
export async function startRemediator(options: StartOptions): Promise<Running> {
    const { settings } = options;
    const metrics = remediatorRegistry();
    const audit = options.audit ?? ((line: AuditLine) => process.stdout.write(`${JSON.stringify(line)}\n`));
    let git;
    if (settings.mode === "gitops") {
        if (settings.gitops === undefined || options.gitToken === undefined) {
            throw new Error("mode gitops needs the gitops settings and a token");
        }
        git = gitHosting(settings.gitops, options.gitToken, settings.cluster);
    }
    const remediator = new Remediator({
        settings,
        kube: new HttpKube(options.connection, CONTROLLER),
        git,
        fetchAlerts: () => fetchPrometheusAlerts(settings.prometheusUrl),
        audit,
        metrics,
    });

    const intervalMs = settings.pollIntervalSeconds * 1000;
    let lastTick = Date.now();
    let polled = false;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let current: Promise<unknown> = Promise.resolve();
    const loop = () => {
        if (stopped) return;
        lastTick = Date.now();
        current = remediator
            .poll()
            .catch((error: Error) =>
                audit({
                    time: new Date().toISOString(),
                    cluster: settings.cluster,
                    mode: settings.mode,
                    outcome: "failed",
                    reason: "error",
                    detail: `poll failed: ${error.message}`,
                }),
            )
            .finally(() => {
                polled = true;
                if (!stopped) timer = setTimeout(loop, intervalMs);
            });
    };

    const server = http.createServer((req, res) => {
        const path = (req.url ?? "/").split("?")[0];
        if (req.method !== "GET") {
            res.writeHead(405).end();
        } else if (path === "/metrics") {
            res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.render());
        } else if (path === "/healthz") {
            // Alive while the loop keeps ticking; a poll stuck past its timeouts is not.
            const alive = Date.now() - lastTick < Math.max(3 * intervalMs, 60_000);
            res.writeHead(alive ? 200 : 503).end(alive ? "ok\n" : "poll loop stalled\n");
        } else if (path === "/readyz") {
            res.writeHead(polled ? 200 : 503).end(polled ? "ok\n" : "first poll not done\n");
        } else {
            res.writeHead(404).end();
        }
    });
    await new Promise<void>((resolve) => server.listen(settings.port, resolve));
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : settings.port;
    loop();
    return {
        remediator,
        server,
        port,
        async stop() {
            stopped = true;
            if (timer !== undefined) clearTimeout(timer);
            await current;
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            // Scrapers keep connections open; they must not hold the shutdown.
            server.closeAllConnections();
            await closed;
        },
    };
}

/** The process entry: files from the environment (defaults as mounted by the stack). */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
    const settings = parseSettings(fs.readFileSync(env.REMEDIATOR_SETTINGS ?? SETTINGS_FILE, "utf8"));
    const tokenFile = env.REMEDIATOR_GIT_TOKEN_FILE ?? TOKEN_FILE;
    const gitToken = settings.mode === "gitops" ? fs.readFileSync(tokenFile, "utf8").trim() : undefined;
    const running = await startRemediator({ settings, connection: inClusterConnection(env), gitToken });
    process.stdout.write(
        `${JSON.stringify({ time: new Date().toISOString(), cluster: settings.cluster, mode: settings.mode, started: true, port: running.port })}\n`,
    );
    const shutdown = () => {
        void running.stop().then(() => process.exit(0));
    };
    process.on("SIGTERM", shutdown);
    process.on("SIGINT", shutdown);
}
