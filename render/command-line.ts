import { parseArgs, type ParseArgsConfig } from "node:util";

/** Bad usage of a command: its message is one clean line, and the command exits 64. */
export class UsageError extends Error {}

/**
 * Node's `parseArgs` in strict mode with positionals allowed; a bad argument becomes a
 * {@link UsageError} with the first sentence of Node's message (the rest goes on about
 * positionals, which every command here takes).
 */
export function parseCommandLine<O extends NonNullable<ParseArgsConfig["options"]>>(
    argv: readonly string[],
    options: O,
) {
    try {
        return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
    } catch (err) {
        throw new UsageError((err as Error).message.split(". To specify")[0] ?? "");
    }
}

/**
 * For a command whose only option is `--help`: prints `usage` and gives 0 for `--help`, gives 64
 * after one line naming the bad argument, or undefined when the command should run.
 */
export function helpOnly(command: string, usage: string, argv = process.argv.slice(2)): number | undefined {
    try {
        if (!parseArgs({ args: argv, options: { help: { type: "boolean" } }, strict: true }).values.help)
            return undefined;
    } catch (err) {
        process.stderr.write(`${command}: ${(err as Error).message}; see npm run ${command} -- --help\n`);
        return 64;
    }
    process.stdout.write(`${usage}\n`);
    return 0;
}
