import * as fs from "node:fs";
import * as path from "node:path";

import { stringify } from "yaml";

import { plainRequest, probeOk } from "./https";
import { freePort, HOST, startServer, waitReady, type Server } from "./processes";

/**
 * A real Alertmanager on 127.0.0.1 with the given configuration, its data in `dir`, gossip off;
 * resolves once it reports ready.
 */
export async function startAlertmanager(binary: string, dir: string, config: unknown): Promise<Server> {
    const port = await freePort();
    const file = path.join(dir, "alertmanager.yml");
    fs.writeFileSync(file, stringify(config, { lineWidth: 0 }));
    const server = startServer(
        "alertmanager",
        binary,
        [
            `--config.file=${file}`,
            `--storage.path=${path.join(dir, "am-data")}`,
            `--web.listen-address=${HOST}:${port}`,
            "--cluster.listen-address=",
        ],
        port,
    );
    await waitReady(server, () => probeOk(plainRequest(port, { path: "/-/ready" })));
    return server;
}
