import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { CONTROLLER } from "../remediator/keys";
import { HttpKube, kubeconfigConnection } from "../remediator/kube";
import { parseWorkloadRef, restore } from "../remediator/restore";
import { parseCommandLine, UsageError } from "../render/command-line";

/**
 * `npm run remediation -- restore <namespace>/<kind>/<name> [--kubeconfig <file>] [--context <name>]`
 *
 * Scales a workload the remediator scaled to 0 back to the replica count it recorded, with the
 * kubeconfig's credentials (KUBECONFIG, or ~/.kube/config, when --kubeconfig is not given).
 *
 * Exit codes: 0 restored; 1 the restore failed (the cluster refused, nothing recorded to restore);
 * 64 bad usage or no kubeconfig.
 */

export const USAGE = `usage: npm run remediation -- restore <namespace>/<kind>/<name> [options]

Scales a workload the remediator scaled to 0 back to the replica count it recorded.

options:
  --kubeconfig <file>   the kubeconfig (default: the first file of KUBECONFIG, else ~/.kube/config)
  --context <name>      its context (default: the current context)
  --help                this text

exit codes: 0 restored, 1 the restore failed, 64 bad usage or no kubeconfig`;

/** A setup problem (no kubeconfig, bad target): exit 64 like bad usage. */
class SetupError extends UsageError {}

async function main(argv: string[]): Promise<number> {
    const { values, positionals } = parseCommandLine(argv, {
        kubeconfig: { type: "string" },
        context: { type: "string" },
        help: { type: "boolean", default: false },
    });
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const [command, target, ...extra] = positionals;
    if (command !== "restore") {
        throw new SetupError(`command: expected restore, found ${command === undefined ? "nothing" : `"${command}"`}`);
    }
    if (target === undefined) throw new SetupError("restore: expected <namespace>/<kind>/<name>");
    if (extra.length > 0) throw new SetupError(`unexpected argument(s): ${extra.join(" ")}`);
    let ref;
    try {
        ref = parseWorkloadRef(target);
    } catch (err) {
        throw new SetupError((err as Error).message);
    }
    const file =
        values.kubeconfig ??
        process.env.KUBECONFIG?.split(path.delimiter)[0] ??
        path.join(os.homedir(), ".kube", "config");
    if (!fs.existsSync(file)) throw new SetupError(`no kubeconfig at ${file}: pass --kubeconfig or set KUBECONFIG`);
    const kube = new HttpKube(kubeconfigConnection(file, values.context), CONTROLLER);
    const result = await restore(kube, ref);
    process.stdout.write(`restored ${ref.kind} ${ref.namespace}/${ref.name} to ${result.replicas} replicas\n`);
    return 0;
}

main(process.argv.slice(2)).then(
    (code) => {
        process.exitCode = code;
    },
    (error: Error) => {
        if (error instanceof UsageError) {
            process.stderr.write(`remediation: ${error.message}; see npm run remediation -- --help\n`);
            process.exitCode = 64;
            return;
        }
        process.stderr.write(`restore failed: ${error.message}\n`);
        process.exitCode = 1;
    },
);
