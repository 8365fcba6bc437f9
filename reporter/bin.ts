import { main } from "./main";

// The bundle's entry point: the CronJob's pod runs `node /etc/reporter/reporter.js`.
main().then(
    // Kept-alive query connections would hold the process open; stdout to a pipe is synchronous.
    (code) => process.exit(code),
    (error: Error) => {
        process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), fatal: error.message })}\n`);
        process.exit(2);
    },
);
