import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Headless Chromium for the proofs that rendered HTML displays: a screenshot of a local file
 * and the DOM as the browser parsed it. Each run gets a fresh profile directory and no
 * network, so a page that reaches for a remote resource shows it.
 */

export const CHROMIUM_PACKAGE = "chromium";
/** Where Debian installs Chromium's launcher, tried after PATH. */
const DEFAULT_LOCATIONS = ["/usr/bin/chromium"];
const NAMES = ["chromium", "chromium-browser"];
export const CHROMIUM_TIMEOUT_MS = 30_000;
/** How much of Chromium's stderr is kept for failure messages. */
const LOG_LIMIT = 8 * 1024;

function executable(candidate: string): boolean {
    try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return fs.statSync(candidate).isFile();
    } catch {
        return false;
    }
}

/** The Chromium binary, or an error naming the Debian package that provides it. */
export function locateChromium(
    searchPath: string = process.env.PATH ?? "",
    locations: readonly string[] = DEFAULT_LOCATIONS,
): string {
    const dirs = searchPath.split(path.delimiter).filter((d) => d !== "");
    const candidates = [...dirs.flatMap((dir) => NAMES.map((name) => path.join(dir, name))), ...locations];
    const found = candidates.find(executable);
    if (found !== undefined) return found;
    throw new Error(
        "the HTML rendering proofs run a headless Chromium;\n" +
            `chromium is neither on PATH nor at ${locations.join(" or ")}: install the Debian package \`${CHROMIUM_PACKAGE}\``,
    );
}

export interface ViewOptions {
    width: number;
    height: number;
    timeoutMs?: number;
    /** Defaults to `locateChromium()`. */
    binary?: string;
}

/** The command-line flags of one headless run; `--no-sandbox` only where the sandbox cannot work (as root). */
export function chromiumArgs(
    profileDir: string,
    view: { width: number; height: number },
    action: string[],
    url: string,
    root: boolean = process.getuid?.() === 0,
): string[] {
    return [
        "--headless",
        ...(root ? ["--no-sandbox"] : []),
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--force-device-scale-factor=1",
        // Every host name fails to resolve: the page gets nothing it does not carry itself.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        `--user-data-dir=${profileDir}`,
        `--window-size=${view.width},${view.height}`,
        ...action,
        url,
    ];
}

interface RunResult {
    stdout: string;
    stderr: string;
}

/** Runs Chromium once with its own profile; rejects on a non-zero exit or after the timeout, killing it. */
async function run(htmlFile: string, options: ViewOptions, action: (dir: string) => string[]): Promise<RunResult> {
    if (!fs.statSync(htmlFile, { throwIfNoEntry: false })?.isFile()) throw new Error(`${htmlFile}: no such file`);
    const binary = options.binary ?? locateChromium();
    const timeoutMs = options.timeoutMs ?? CHROMIUM_TIMEOUT_MS;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chromium-"));
    const url = pathToFileURL(path.resolve(htmlFile)).href;
    try {
        // Its own process group, so a timeout ends the renderer and GPU processes with it.
        const child = spawn(binary, chromiumArgs(path.join(dir, "profile"), options, action(dir), url), {
            stdio: ["ignore", "pipe", "pipe"],
            detached: true,
        });
        const stdout: Buffer[] = [];
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => {
            stderr = (stderr + chunk.toString("utf8")).slice(-LOG_LIMIT);
        });
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            if (child.pid !== undefined) {
                try {
                    process.kill(-child.pid, "SIGKILL");
                } catch {
                    // already gone
                }
            }
        }, timeoutMs);
        const code = await new Promise<number | null>((resolve, reject) => {
            child.once("error", reject);
            child.once("close", resolve);
        }).finally(() => clearTimeout(timer));
        if (timedOut) throw new Error(`chromium did not finish within ${timeoutMs} ms on ${url}\n${stderr}`);
        if (code !== 0) throw new Error(`chromium exited with ${code} on ${url}\n--- stderr ---\n${stderr}`);
        return { stdout: Buffer.concat(stdout).toString("utf8"), stderr };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export interface PngInfo {
    width: number;
    height: number;
    bytes: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk; throws when `png` is not a PNG. */
export function pngInfo(png: Buffer): PngInfo {
    if (png.length < 24 || !png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString("latin1", 12, 16) !== "IHDR") {
        throw new Error("not a PNG image");
    }
    return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), bytes: png.length };
}

/** A `width` × `height` screenshot of the top of `htmlFile`, as PNG in `pngFile`. */
export async function screenshot(htmlFile: string, pngFile: string, options: ViewOptions): Promise<PngInfo> {
    const target = path.resolve(pngFile);
    fs.rmSync(target, { force: true });
    const { stderr } = await run(htmlFile, options, () => [`--screenshot=${target}`]);
    if (!fs.existsSync(target)) throw new Error(`chromium wrote no screenshot to ${target}\n${stderr}`);
    return pngInfo(fs.readFileSync(target));
}

/** The document as Chromium parsed it (after any rendering), serialised. */
export async function dumpDom(htmlFile: string, options: ViewOptions): Promise<string> {
    const { stdout } = await run(htmlFile, options, () => ["--dump-dom"]);
    return stdout;
}
