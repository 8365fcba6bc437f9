import * as pulumi from "@pulumi/pulumi";

import type { StackConfig } from "../../config";

/**
 * What is wrong with a component's role-specific arguments: each one of `main` must be given on
 * a main stack and only there, each one of `sub` on a sub stack and only there. Empty when all
 * is well.
 */
export function roleArgsProblems(
    role: StackConfig["role"],
    args: { main: Record<string, unknown>; sub: Record<string, unknown> },
): string[] {
    return (["main", "sub"] as const).flatMap((owner) =>
        Object.entries(args[owner])
            .filter(([, value]) => (role === owner) !== (value !== undefined))
            .map(([key]) =>
                role === owner
                    ? `args.${key} is required on a ${owner} stack`
                    : `args.${key} is only for a ${owner} stack, not a ${role} stack`,
            ),
    );
}

/** Throws a ResourceError naming every misplaced or missing role-specific argument. */
export function checkRoleArgs(
    resource: pulumi.Resource,
    role: StackConfig["role"],
    args: { main: Record<string, unknown>; sub: Record<string, unknown> },
): void {
    const problems = roleArgsProblems(role, args);
    if (problems.length > 0) throw new pulumi.ResourceError(problems.join("; "), resource);
}
