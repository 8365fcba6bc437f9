import * as pulumi from "@pulumi/pulumi";

import type { ResourceOptionsRecord, ResourceRecord } from "./records";
import { scanForLeaks } from "./secret-scan";
import { ResourceRef, Secret, Unknown } from "./values";

/**
 * A stand-in for the Pulumi engine, in-process: records every resource the program registers,
 * answers as a provider would (inputs echoed back as state), and refuses any provider function
 * (invoke) it was not told about. No CLI, no provider plugin, no cluster.
 */

/** The type token of Helm Chart v4: a remote component the provider renders at deploy time. */
export const HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart";
/** The type token of the root stack resource. */
export const STACK_TYPE = "pulumi:pulumi:Stack";
/** The type token of a reference to another stack's outputs. */
export const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";

export { ResourceRef, Secret, Unknown } from "./values";
export type { ResourceOptionsRecord, ResourceRecord } from "./records";

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
    getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
}

interface ReadRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProvider(): string;
    getProperties(): { toJavaScript(): Record<string, unknown> } | undefined;
}

interface OutputsRequest {
    getUrn(): string;
    getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}

type Callback = (err: unknown, response: unknown) => void;

interface PatchableMonitor {
    registerResource(req: RegisterRequest, callback: Callback): Promise<void>;
    readResource(req: ReadRequest, callback: Callback): Promise<void>;
    registerResourceOutputs(req: OutputsRequest, callback: Callback): void;
}

export interface MockEngineOptions {
    project: string;
    stack: string;
    /** Run as `pulumi preview` does: outputs the provider computes are unknown. */
    preview: boolean;
    /** The instant providers act at (certificate validity), in ms since the epoch. */
    now?: number;
    /**
     * Outputs of other stacks a StackReference may read, by fully qualified stack name, decoded
     * (secret outputs as {@link Secret}).
     */
    stacks?: Readonly<Record<string, Record<string, unknown>>>;
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
        const read = monitor.readResource.bind(monitor);
        monitor.readResource = (req, callback) => {
            this.recordRead(req);
            return read(req, callback);
        };
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
        if (args.type === STACK_REFERENCE_TYPE) {
            return { id: args.id ?? args.name, state: this.stackReferenceState(String(args.inputs.name)) };
        }
        const computed = this.options.preview ? {} : providerOutputs(args, this.options.now ?? Date.now());
        // The engine marks a resource's additionalSecretOutputs secret; so does this stand-in.
        const record = [...this.records].reverse().find((r) => r.type === args.type && r.name === args.name);
        const secretOutputs = new Set(record?.options.additionalSecretOutputs ?? []);
        const state: Record<string, unknown> = { ...args.inputs, ...computed };
        for (const key of Object.keys(state)) {
            if (secretOutputs.has(key)) state[key] = pulumi.secret(state[key]);
        }
        return { id, state };
    }

    /** What the engine answers for a StackReference: the stack's outputs and which are secret. */
    private stackReferenceState(name: string): Record<string, unknown> {
        const outputs = this.options.stacks?.[name];
        if (outputs === undefined) {
            const known = Object.keys(this.options.stacks ?? {});
            throw new Error(
                `unknown stack ${name}: the mock engine was given ${known.length === 0 ? "no stacks" : known.join(", ")}`,
            );
        }
        const plain: Record<string, unknown> = {};
        const secretOutputNames: string[] = [];
        for (const [key, value] of Object.entries(outputs)) {
            if (value instanceof Secret) secretOutputNames.push(key);
            plain[key] = reveal(value);
        }
        return { name, outputs: plain, secretOutputNames };
    }

    private recordRead(req: ReadRequest): void {
        this.push(req, {
            custom: true,
            remote: false,
            inputs: req.getProperties()?.toJavaScript(),
            options: { ...NO_OPTIONS },
        });
    }

    /** Appends a record for a registration or a read, identified as the mock monitor names it. */
    private push(
        req: Pick<ReadRequest, "getType" | "getName" | "getParent" | "getProvider">,
        rest: Pick<ResourceRecord, "custom" | "remote" | "options"> & { inputs: Record<string, unknown> | undefined },
    ): void {
        const type = req.getType();
        const name = req.getName();
        const parent = req.getParent() || undefined;
        this.records.push({
            urn: mockUrn(this.options, parent, type, name),
            type,
            name,
            parent,
            custom: rest.custom,
            remote: rest.remote,
            provider: req.getProvider() || undefined,
            inputs: decode(rest.inputs ?? {}) as Record<string, unknown>,
            options: rest.options,
        });
    }

    private record(req: RegisterRequest): void {
        this.push(req, {
            custom: req.getCustom(),
            remote: req.getRemote(),
            inputs: req.getObject()?.toJavaScript(),
            options: {
                dependsOn: [...req.getDependenciesList()].sort(),
                protect: req.getProtect() === true,
                retainOnDelete: req.getRetainondelete() === true,
                deleteBeforeReplace: req.getDeletebeforereplace(),
                ignoreChanges: req.getIgnorechangesList(),
                replaceOnChanges: req.getReplaceonchangesList(),
                additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                aliases: req.getAliasesList().length,
                replacementTrigger: decode(req.getReplacementTrigger()?.toJavaScript()),
            },
        });
    }

    /** Problems the engine found with what was registered: empty when all is well. */
    problems(): string[] {
        const problems = this.invokes.map((token) => `the program called provider function ${token}`);
        problems.push(...scanForLeaks(this.records, this.stackOutputs()).problems);
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

/** The options of a resource registered with none. */
export const NO_OPTIONS: Readonly<ResourceOptionsRecord> = {
    dependsOn: [],
    protect: false,
    retainOnDelete: false,
    deleteBeforeReplace: false,
    ignoreChanges: [],
    replaceOnChanges: [],
    additionalSecretOutputs: [],
    aliases: 0,
    replacementTrigger: undefined,
};

/** A decoded value with its secret markers removed, as a program reading it would see it. */
export function reveal(value: unknown): unknown {
    if (value instanceof Secret) return reveal(value.value);
    if (Array.isArray(value)) return value.map(reveal);
    if (value !== null && typeof value === "object" && !(value instanceof Unknown) && !(value instanceof ResourceRef)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
    }
    return value;
}

/** A PEM block of made-up content, unique to a resource: real in shape, useless as a key. */
export function fakePem(label: string, resourceName: string): string {
    const body = Buffer.from(`mock ${label.toLowerCase()} of ${resourceName}`).toString("base64");
    return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/**
 * Outputs a provider computes when it creates a resource, for the providers whose outputs the
 * program passes on (the tls and random providers). Other resources only echo their inputs.
 */
function providerOutputs(args: pulumi.runtime.MockResourceArgs, now: number): Record<string, unknown> {
    const validity = (hours: unknown) => ({
        validityStartTime: new Date(now).toISOString(),
        validityEndTime: new Date(now + Number(hours) * 3_600_000).toISOString(),
        readyForRenewal: false,
    });
    switch (args.type) {
        case "tls:index/privateKey:PrivateKey":
            return {
                privateKeyPem: fakePem("EC PRIVATE KEY", args.name),
                privateKeyPemPkcs8: fakePem("PRIVATE KEY", args.name),
                privateKeyOpenssh: fakePem("OPENSSH PRIVATE KEY", args.name),
                publicKeyPem: fakePem("PUBLIC KEY", args.name),
            };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: fakePem("CERTIFICATE REQUEST", args.name) };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: fakePem("CERTIFICATE", args.name), ...validity(args.inputs.validityPeriodHours) };
        case "random:index/randomPassword:RandomPassword":
            // Made-up and unique to the resource; the real provider marks it secret, as the program does.
            return { result: `mock-password-of-${args.name}`, bcryptHash: `mock-bcrypt-of-${args.name}` };
        default:
            return {};
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
