import Module from "node:module";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

/**
 * A stand-in for the Pulumi engine, in-process: records every resource the program registers,
 * answers as a provider would (inputs echoed back as state), and refuses any provider function
 * (invoke) it was not told about. No CLI, no provider plugin, no cluster.
 */

/** The type token of Helm Chart v4: a remote component the provider renders at deploy time. */
export const HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart";
/** The type token of the root stack resource. */
export const STACK_TYPE = "pulumi:pulumi:Stack";

/** A secret value as the engine sees it; the render prints it as `[secret]`. */
export class Secret {
    constructor(readonly value: unknown) {}
}

/** A value not known until deployment (only in preview). */
export class Unknown {
    static readonly instance = new Unknown();
    private constructor() {}
}

/** A reference to another resource, by URN. */
export class ResourceRef {
    constructor(readonly urn: string) {}
}

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
}

/** The serialized form the SDK sends to the engine. */
const SIG = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;
const RESOURCE_SIG = pulumi.runtime.specialResourceSig;
const OUTPUT_SIG = pulumi.runtime.specialOutputValueSig;
const ASSET_SIG = pulumi.runtime.specialAssetSig;
const ARCHIVE_SIG = pulumi.runtime.specialArchiveSig;

/** Turns the wire form of a property value into plain data with typed markers. */
export function decode(value: unknown): unknown {
    if (value === pulumi.runtime.unknownValue) return Unknown.instance;
    if (Array.isArray(value)) return value.map(decode);
    if (value === null || typeof value !== "object") return value;
    const object = value as Record<string, unknown>;
    switch (object[SIG]) {
        case SECRET_SIG:
            return new Secret(decode(object.value));
        case RESOURCE_SIG:
            return new ResourceRef(String(object.urn));
        case OUTPUT_SIG: {
            const inner = "value" in object ? decode(object.value) : Unknown.instance;
            return object.secret === true ? new Secret(inner) : inner;
        }
        case ASSET_SIG:
        case ARCHIVE_SIG:
            return { asset: object.path ?? object.uri ?? "[inline]" };
        default:
            return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, decode(v)]));
    }
}

/** True when a decoded value holds a value unknown at preview anywhere inside it. */
export function containsUnknown(value: unknown): boolean {
    if (value instanceof Unknown) return true;
    if (value instanceof Secret) return containsUnknown(value.value);
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
    return false;
}

/** Protobuf request objects, as far as the recorder reads them. */
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getRemote(): boolean;
    getProvider(): string;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getDependenciesList(): string[];
    getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined;
    getDeletebeforereplace(): boolean;
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getAdditionalsecretoutputsList(): string[];
    getAliasesList(): unknown[];
}

interface OutputsRequest {
    getUrn(): string;
    getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}

type Callback = (err: unknown, response: unknown) => void;

interface PatchableMonitor {
    registerResource(req: RegisterRequest, callback: Callback): Promise<void>;
    registerResourceOutputs(req: OutputsRequest, callback: Callback): void;
}

export interface MockEngineOptions {
    project: string;
    stack: string;
    /** Run as `pulumi preview` does: outputs the provider computes are unknown. */
    preview: boolean;
}

export class MockEngine {
    readonly records: ResourceRecord[] = [];
    /** Outputs registered by each resource, keyed by URN (the stack's are its exports). */
    readonly outputs = new Map<string, Record<string, unknown>>();
    /** Invokes the program attempted; any one of them fails the run. */
    readonly invokes: string[] = [];

    constructor(readonly options: MockEngineOptions) {}

    /** Installs the mocks. Must run before the program (or a component) is loaded. */
    async install(): Promise<void> {
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => this.newResource(args),
                call: (args) => {
                    this.invokes.push(args.token);
                    throw new Error(`unmocked invoke ${args.token}: the program must not call provider functions`);
                },
            },
            this.options.project,
            this.options.stack,
            this.options.preview,
        );
        const monitor = pulumi.runtime.getMonitor() as unknown as PatchableMonitor;
        const register = monitor.registerResource.bind(monitor);
        const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
        monitor.registerResource = (req, callback) => {
            this.record(req);
            return register(req, callback);
        };
        monitor.registerResourceOutputs = (req, callback) => {
            this.outputs.set(req.getUrn(), decode(req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>);
            registerOutputs(req, callback);
        };
    }

    private newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const id = this.options.preview ? undefined : `${args.name}-id`;
        if (args.type === HELM_CHART_V4) {
            // The provider renders the chart; under mocks the component has no children.
            return { id: undefined, state: { ...args.inputs, resources: [] } };
        }
        return { id, state: args.inputs };
    }

    private record(req: RegisterRequest): void {
        const type = req.getType();
        const name = req.getName();
        const parent = req.getParent() || undefined;
        this.records.push({
            urn: mockUrn(this.options, parent, type, name),
            type,
            name,
            parent,
            custom: req.getCustom(),
            remote: req.getRemote(),
            provider: req.getProvider() || undefined,
            inputs: decode(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
            options: {
                dependsOn: [...req.getDependenciesList()].sort(),
                protect: req.getProtect() === true,
                retainOnDelete: req.getRetainondelete() === true,
                deleteBeforeReplace: req.getDeletebeforereplace(),
                ignoreChanges: req.getIgnorechangesList(),
                replaceOnChanges: req.getReplaceonchangesList(),
                additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                aliases: req.getAliasesList().length,
            },
        });
    }

    /** Problems the engine found with what was registered: empty when all is well. */
    problems(): string[] {
        const problems = this.invokes.map((token) => `the program called provider function ${token}`);
        if (this.options.preview) {
            for (const record of this.records) {
                if (record.type === HELM_CHART_V4 && containsUnknown(record.inputs)) {
                    problems.push(
                        `chart ${record.name} has inputs unknown at preview: the provider would render ` +
                            "nothing for it and the preview would hide its objects",
                    );
                }
            }
        }
        return problems;
    }

    /** The stack's exported outputs. */
    stackOutputs(): Record<string, unknown> {
        const stack = this.records.find((r) => r.type === STACK_TYPE);
        return (stack === undefined ? undefined : this.outputs.get(stack.urn)) ?? {};
    }
}

/** The URN the mock monitor gives a resource (it qualifies the type with the parent's). */
function mockUrn(options: MockEngineOptions, parent: string | undefined, type: string, name: string): string {
    let qualified = type;
    if (parent !== undefined) {
        const parentType = (parent.split("::")[2] ?? "").split("$").pop();
        qualified = `${parentType}$${type}`;
    }
    return `urn:pulumi:${options.stack}::${options.project}::${qualified}::${name}`;
}

/**
 * Loads the SDK's `cmd/run/run` module. Its package index is the CLI bootstrap: it parses the
 * language host's argv and dials the engine over gRPC at load time. The mock engine replaces
 * exactly that part, so the index is stood in by the one constant `run` reads from it.
 */
function loadSdkRun(): { run: RunFunction } {
    const runPath = require.resolve("@pulumi/pulumi/cmd/run/run");
    const indexPath = require.resolve("@pulumi/pulumi/cmd/run");
    if (require.cache[indexPath] === undefined) {
        const stub = new Module(indexPath);
        stub.filename = indexPath;
        stub.loaded = true;
        stub.exports = { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 };
        require.cache[indexPath] = stub;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only after the stand-in is cached
    return require(runPath) as { run: RunFunction };
}

type RunFunction = (
    argv: { _: string[] },
    programStarted: () => void,
    reportLoggedError: (err: Error) => void,
    isErrorReported: (err: Error) => boolean,
) => Promise<Record<string, unknown> | undefined>;

/**
 * Runs a Pulumi program the way the CLI's Node.js language host does: the SDK's own `run`
 * resolves the entry point from package.json, loads it with the TypeScript compiler already
 * registered (ts-node, the project's tsconfig) and wraps it in the root stack.
 */
export async function runProgram(engine: MockEngine, programDir: string): Promise<void> {
    const { run } = loadSdkRun();
    // The caller's process already compiles TypeScript with ts-node and the project's tsconfig,
    // as the CLI's host would; asking `run` to register ts-node again would compile twice.
    delete process.env["PULUMI_NODEJS_TYPESCRIPT"];
    const reported = new Set<Error>();
    await run(
        { _: [path.resolve(programDir)] },
        () => undefined,
        (err) => reported.add(err),
        (err) => reported.has(err),
    );
    await pulumi.runtime.disconnect();
    const problems = engine.problems();
    if (problems.length > 0) {
        throw new Error(`the program ran, but:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    }
}
