/** What the mock engine records of each resource the program registers, as the offline render writes it. */

export interface ResourceRecord {
    urn: string;
    type: string;
    name: string;
    /** URN of the parent resource, or undefined for the stack itself. */
    parent: string | undefined;
    custom: boolean;
    /** Whether this is a remote (multi-language) component the provider constructs. */
    remote: boolean;
    /** Provider reference (`<urn>::<id>`) for custom resources and remote components. */
    provider: string | undefined;
    inputs: Record<string, unknown>;
    options: ResourceOptionsRecord;
}

export interface ResourceOptionsRecord {
    dependsOn: string[];
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    replaceOnChanges: string[];
    additionalSecretOutputs: string[];
    aliases: number;
    /** The `replacementTrigger` option: a change from the recorded value replaces the resource. */
    replacementTrigger: unknown;
}
