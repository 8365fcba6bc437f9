import { PolicyPack } from "@pulumi/policy";

import { RULES } from "./rules";

// Every rule twice: mandatory for what the program declares, advisory for what Helm charts
// render (chart defaults we do not control warn instead of blocking).
new PolicyPack("observability", {
    policies: RULES.flatMap((rule) => [rule("mandatory", "program"), rule("advisory", "chart")]),
});
