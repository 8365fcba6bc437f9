import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { roleArgsProblems } from "../components/core/role-args";

describe("roleArgsProblems", () => {
    const tls = { secretName: "tempo-tls", revision: "r" };
    const endpoint = { serverName: "traces.obs.example.com", port: 443, url: "traces.obs.example.com:443" };

    it("accepts main-only arguments on main and sub-only arguments on a sub", () => {
        assert.deepEqual(roleArgsProblems("main", { main: { tempoTls: tls }, sub: { endpoint: undefined } }), []);
        assert.deepEqual(roleArgsProblems("sub", { main: { tempoTls: undefined }, sub: { endpoint } }), []);
    });

    it("names a missing argument and one given to the wrong role", () => {
        assert.deepEqual(roleArgsProblems("main", { main: { tempoTls: undefined }, sub: { endpoint } }), [
            "args.tempoTls is required on a main stack",
            "args.endpoint is only for a sub stack, not a main stack",
        ]);
        assert.deepEqual(roleArgsProblems("sub", { main: { tempoTls: tls }, sub: { endpoint: undefined } }), [
            "args.tempoTls is only for a main stack, not a sub stack",
            "args.endpoint is required on a sub stack",
        ]);
    });
});
