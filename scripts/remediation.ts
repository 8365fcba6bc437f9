import * as os from "node:os";
import * as path from "node:path";

import { CONTROLLER } from "../remediator/keys";
import { HttpKube, kubeconfigConnection } from "../remediator/kube";
import { parseWorkloadRef, restore } from "../remediator/restore";

/**
 * `npm run remediation -- restore <namespace>/<kind>/<name> [--kubeconfig <file>] [--context <name>]`
 *
 * Scales a workload the remediator scaled to 0 back to the replica count it recorded, with the
 * kubeconfig's credentials (KUBECONFIG, or ~/.kube/config, when --kubeconfig is not given).
 */

const USAGE =
    "usage: npm run remediation -- restore <namespace>/<kind>/<name> [--kubeconfig <file>] [--context <name>]";

async function main(argv: string[]): Promise<number> {
    const [command, target, ...rest] = argv;
    if (command !== "restore" || target === undefined) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
    const options = new Map<string, string>();
    for (let i = 0; i < rest.length; i += 2) {
        const flag = rest[i];
        const value = rest[i + 1];
        if ((flag !== "--kubeconfig" && flag !== "--context") || value === undefined) {
            process.stderr.write(`unexpected argument ${JSON.stringify(flag)}\n${USAGE}\n`);
            return 2;
        }
        options.set(flag, value);
    }
    const file =
        options.get("--kubeconfig") ??
        process.env.KUBECONFIG?.split(path.delimiter)[0] ??
        path.join(os.homedir(), ".kube", "config");
    const ref = parseWorkloadRef(target);
    const kube = new HttpKube(kubeconfigConnection(file, options.get("--context")), CONTROLLER);
    const result = await restore(kube, ref);
    process.stdout.write(`restored ${ref.kind} ${ref.namespace}/${ref.name} to ${result.replicas} replicas\n`);
    return 0;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
        process.stderr.write(`restore failed: ${error.message}\n`);
        process.exit(1);
    },
);
