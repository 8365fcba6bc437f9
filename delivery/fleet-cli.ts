/**
 * `npm run fleet -- <add-sub|check> [options]`; `--help` lists them.
 *
 * add-sub writes the stack file of a new sub cluster from the example with every value that must
 * change marked, lists the cluster in main's `subClusters`, and prints the remaining steps. check
 * reads the fleet as the pipeline does and prints its rollout order.
 *
 * Exit codes: 0 done; 1 check found values still marked for change; 64 bad usage, or stack files
 * the pipeline would refuse.
 */
import * as path from "node:path";

import { parseCommandLine, UsageError } from "../render/command-line";
import { readStackConfig } from "../render/stack-file";
import { addSub, CHANGE_MARK, FleetSetupError, unchangedMarks } from "./add-sub";
import { FleetError, readFleet } from "./fleet";

export const USAGE = `usage: npm run fleet -- <command> [options]

commands:
  add-sub <cluster>   write Pulumi.<cluster>.yaml from the example sub stack (Pulumi.sub.yaml), every
                      value to change marked "# ${CHANGE_MARK}", list the cluster in main's
                      observability:subClusters, and print the remaining steps
  check               read every stack file as the pipeline does: rollout order, each stack's
                      cluster and kubeconfig context, values still marked for change

options:
  --stack <name>          add-sub: the stack name (default: the cluster name)
  --from <file>           add-sub: the stack file to start from (default Pulumi.sub.yaml)
  --organization <org>    add-sub: the organization in the reference to main: your Pulumi Cloud
                          organization, or "organization" on a self-managed backend
  --dir <path>            the project directory (default: the current directory)
  --help                  this text

exit codes: 0 done, 1 values still marked for change (check), 64 bad usage or stack files`;

function main(argv: string[], out: (line: string) => void): number {
    const { values, positionals } = parseCommandLine(argv, {
        stack: { type: "string" },
        from: { type: "string" },
        organization: { type: "string" },
        dir: { type: "string" },
        help: { type: "boolean", default: false },
    });
    if (values.help) {
        out(USAGE);
        return 0;
    }
    const projectDir = path.resolve(values.dir ?? ".");
    const [command, ...rest] = positionals;
    if (command === "add-sub") {
        const [cluster, ...extra] = rest;
        if (cluster === undefined) throw new UsageError("add-sub: expected the new cluster's name");
        if (extra.length > 0) throw new UsageError(`unexpected argument(s): ${extra.join(" ")}`);
        const result = addSub({
            projectDir,
            cluster,
            ...(values.stack !== undefined ? { stack: values.stack } : {}),
            ...(values.from !== undefined ? { template: path.resolve(values.from) } : {}),
            ...(values.organization !== undefined ? { organization: values.organization } : {}),
        });
        out(`wrote ${path.basename(result.file)} (stack ${result.stack}, cluster ${cluster})`);
        out(
            result.listed
                ? `listed ${cluster} in observability:subClusters of ${path.basename(result.mainFile)}`
                : `${path.basename(result.mainFile)} lists ${cluster} already`,
        );
        out("next:");
        result.steps.forEach((step, i) => out(`  ${i + 1}. ${step}`));
        return 0;
    }
    if (command === "check") {
        if (rest.length > 0) throw new UsageError(`unexpected argument(s): ${rest.join(" ")}`);
        const fleet = readFleet(projectDir);
        let marked = 0;
        for (const stack of fleet) {
            const file = readStackConfig(projectDir, stack.name);
            const context = file.values["observability:kubernetes"];
            const named = context === undefined ? undefined : (JSON.parse(context) as { context?: string }).context;
            const lines = unchangedMarks(file.file);
            marked += lines.length;
            out(
                `${stack.phase.padEnd(6)} ${stack.name} → cluster ${stack.cluster}, ` +
                    `context ${named ?? "(the current context)"}` +
                    (lines.length > 0 ? `; still marked ${CHANGE_MARK} on line(s) ${lines.join(", ")}` : ""),
            );
        }
        out(`rollout order: ${fleet.map((s) => s.name).join(" → ")}`);
        return marked > 0 ? 1 : 0;
    }
    throw new UsageError(
        `command: expected add-sub or check, found ${command === undefined ? "nothing" : `"${command}"`}`,
    );
}

if (require.main === module) {
    try {
        process.exitCode = main(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`));
    } catch (err) {
        if (err instanceof UsageError) {
            process.stderr.write(`fleet: ${err.message}; see npm run fleet -- --help\n`);
            process.exitCode = 64;
        } else if (err instanceof FleetSetupError) {
            process.stderr.write(`fleet: ${err.message}\n`);
            process.exitCode = 64;
        } else if (err instanceof FleetError) {
            process.stderr.write(`fleet: ${err.message}\n`);
            process.exitCode = 64;
        } else {
            throw err;
        }
    }
}
