import { main } from "./main";

// The bundle's entry point: the pod runs `node /opt/remediator/remediator.js`.
main().catch((error: Error) => {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), fatal: error.message })}\n`);
    process.exit(1);
});
