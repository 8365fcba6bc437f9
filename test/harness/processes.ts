import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

/**
 * Real servers on the loopback interface for the TLS and reliability proofs: where their
 * binaries are, a free port to listen on, starting them, waiting until they answer, stopping
 * them. Every server started here is killed when the process exits, however it exits.
 */

/** The only address the harness listens on or dials. */
export const HOST = "127.0.0.1";
export const READY_TIMEOUT_MS = 15_000;
/** How long a server has to exit after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** How much of a server's stderr is kept. */
const LOG_LIMIT = 256 * 1024;

// --- binaries -------------------------------------------------------------------------------

export const BINARIES = {
    prometheus: { names: ["prometheus"], debianPackage: "prometheus" },
    promtool: { names: ["promtool"], debianPackage: "prometheus" },
    amtool: { names: ["amtool"], debianPackage: "prometheus-alertmanager" },
    alertmanager: { names: ["prometheus-alertmanager", "alertmanager"], debianPackage: "prometheus-alertmanager" },
} as const;
export type BinaryName = keyof typeof BINARIES;

/** The first executable file called `name` in the directories of `searchPath`. */
export function onPath(name: string, searchPath: string): string | undefined {
    for (const dir of searchPath.split(path.delimiter)) {
        if (dir === "") continue;
        const candidate = path.join(dir, name);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) return candidate;
        } catch {
            // not here
        }
    }
    return undefined;
}

/**
 * The path of each binary, or an error that says what needs them (`purpose`) and names the
 * Debian package of each missing one.
 */
export function locateBinaries<B extends BinaryName>(
    binaries: readonly B[],
    purpose: string,
    searchPath: string = process.env.PATH ?? "",
): Record<B, string> {
    const found: Partial<Record<B, string>> = {};
    const missing: string[] = [];
    for (const binary of binaries) {
        const { names, debianPackage } = BINARIES[binary];
        const location = names.map((n) => onPath(n, searchPath)).find((p) => p !== undefined);
        if (location === undefined) {
            missing.push(`${names.join(" or ")} is not on PATH: install the Debian package \`${debianPackage}\``);
        } else {
            found[binary] = location;
        }
    }
    if (missing.length > 0) throw new Error(`${purpose};\n${missing.join("\n")}`);
    return found as Record<B, string>;
}

/** The first line of `<binary> --version`, e.g. `prometheus, version 2.42.0+ds (...)`. */
export function binaryVersion(binary: string): string {
    const result = spawnSync(binary, ["--version"], { encoding: "utf8" });
    const line = `${result.stdout}${result.stderr}`.split("\n").find((l) => l.trim() !== "");
    if (result.status !== 0 || line === undefined) throw new Error(`${binary} --version failed`);
    return line.trim();
}

// --- servers --------------------------------------------------------------------------------

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.once("error", reject);
        probe.listen(0, HOST, () => {
            const { port } = probe.address() as net.AddressInfo;
            probe.close(() => resolve(port));
        });
    });
}

export interface Server {
    name: string;
    port: number;
    child: ChildProcess;
    /** The tail of the server's stderr, for failure messages. */
    log: () => string;
    exit: Promise<number | null>;
}

const live = new Set<ChildProcess>();

/** SIGKILLs every server still running; synchronous, so safe in an `exit` handler. */
export function killAll(): void {
    for (const child of live) child.kill("SIGKILL");
    live.clear();
}

process.once("exit", killAll);

export function startServer(name: string, binary: string, args: string[], port: number): Server {
    const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    live.add(child);
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => {
        log = (log + chunk.toString("utf8")).slice(-LOG_LIMIT);
    });
    const exit = new Promise<number | null>((resolve) =>
        child.once("exit", (code) => {
            live.delete(child);
            resolve(code);
        }),
    );
    return { name, port, child, log: () => log, exit };
}

/** Whether the server's process has ended. */
export const exited = (server: Server): boolean => server.child.exitCode !== null || server.child.signalCode !== null;

/** What a readiness probe saw: `ready`, or why not, for the failure message. */
export type Probe = { ready: true } | { ready: false; why: string };

/** Polls `probe` until it reports ready, the server exits, or `timeoutMs` runs out. */
export async function waitReady(
    server: Server,
    probe: () => Promise<Probe>,
    timeoutMs: number = READY_TIMEOUT_MS,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "nothing yet";
    while (Date.now() < deadline && !exited(server)) {
        const outcome = await probe();
        if (outcome.ready) return;
        last = outcome.why;
        await new Promise((r) => setTimeout(r, 50));
    }
    const why = exited(server) ? "exited" : `was not ready within ${timeoutMs} ms`;
    throw new Error(`${server.name} ${why}; last probe: ${last}\n--- stderr ---\n${server.log()}`);
}

/** SIGTERM, then SIGKILL if the server is still there after a grace period; resolves with its exit code. */
export async function stopServer(server: Server): Promise<number | null> {
    if (exited(server)) return server.exit;
    server.child.kill("SIGTERM");
    const timer = setTimeout(() => server.child.kill("SIGKILL"), STOP_GRACE_MS);
    const code = await server.exit;
    clearTimeout(timer);
    return code;
}
