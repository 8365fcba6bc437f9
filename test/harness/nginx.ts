import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** nginx on 127.0.0.1 for the proofs of the program's nginx configurations. */

export const NGINX_PACKAGE = "nginx";
/** Where Debian puts nginx, outside an ordinary user's PATH. */
const SBIN_DIRS = ["/usr/sbin", "/usr/local/sbin"];

/** The nginx binary, or an error naming the Debian package that provides it. */
export function locateNginx(
    searchPath: string = process.env.PATH ?? "",
    sbinDirs: readonly string[] = SBIN_DIRS,
): string {
    for (const dir of [...searchPath.split(path.delimiter), ...sbinDirs]) {
        if (dir === "") continue;
        const candidate = path.join(dir, "nginx");
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) return candidate;
        } catch {
            // not here
        }
    }
    throw new Error(
        "the nginx proofs run a real nginx;\n" +
            `nginx is neither on PATH nor in ${sbinDirs.join(" or ")}: install the Debian package \`${NGINX_PACKAGE}\``,
    );
}

/** `nginx version: nginx/1.x.y`, as `nginx -v` prints it. */
export function nginxVersion(binary: string): string {
    const result = spawnSync(binary, ["-v"], { encoding: "utf8" });
    const line = `${result.stdout}${result.stderr}`.split("\n").find((l) => l.trim() !== "");
    if (result.status !== 0 || line === undefined) throw new Error(`${binary} -v failed`);
    return line.trim();
}

/** Command-line arguments running an nginx from `dir`, in the foreground. */
export const nginxArgs = (dir: string): string[] => [
    "-e",
    path.join(dir, "error.log"),
    "-p",
    dir,
    "-c",
    path.join(dir, "nginx.conf"),
    "-g",
    `daemon off; pid ${path.join(dir, "nginx.pid")};`,
];
