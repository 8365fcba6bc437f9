import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
    cidrContains,
    HOST_NETWORK_TARGET,
    ingressAllowed,
    labelSelectorMatches,
    NOT_ISOLATED,
    parseCidr,
    parseIp,
    type LabelSelector,
    type NamespaceView,
    type NetworkPolicyLike,
    type PodView,
    type Source,
} from "../render/desired-state/network-policy";

const TARGET_NS = "app";

function pod(namespace: string, labels: Record<string, string>, extra: Partial<PodView> = {}): PodView {
    return { namespace, labels, ports: [], ...extra };
}

function policy(name: string, spec: Record<string, unknown>, namespace = TARGET_NS): NetworkPolicyLike {
    return { metadata: { name, namespace }, spec };
}

const fromPod = (p: PodView): Source => ({ kind: "pod", pod: p });
const NODE: Source = { kind: "node" };
const EXTERNAL: Source = { kind: "external", ip: "203.0.113.7" };

const NAMESPACES: NamespaceView[] = [
    { name: TARGET_NS, labels: { tier: "backend" } },
    { name: "team-a", labels: { team: "a" } },
    { name: "team-b", labels: { team: "b" } },
];

const TARGET = pod(
    TARGET_NS,
    { app: "server" },
    {
        name: "server-0",
        ports: [
            { name: "http", containerPort: 8080 },
            { name: "dns", containerPort: 53, protocol: "UDP" },
        ],
    },
);

function decide(
    policies: NetworkPolicyLike[],
    source: Source,
    port = 8080,
    options: { protocol?: "TCP" | "UDP" | "SCTP"; target?: PodView; namespaces?: NamespaceView[] } = {},
) {
    return ingressAllowed({
        policies,
        namespaces: options.namespaces ?? NAMESPACES,
        target: options.target ?? TARGET,
        port,
        protocol: options.protocol,
        source,
    });
}

const allowedFrom = (policies: NetworkPolicyLike[], source: Source, port = 8080) =>
    decide(policies, source, port).allowed;

const SELECT_SERVER = { matchLabels: { app: "server" } };
const DEFAULT_DENY = policy("default-deny", { podSelector: {}, policyTypes: ["Ingress"] });

describe("labelSelectorMatches", () => {
    const labels = { app: "server", tier: "backend" };
    const cases: { title: string; selector: LabelSelector | null | undefined; expected: boolean }[] = [
        { title: "an absent selector matches", selector: undefined, expected: true },
        { title: "a null selector matches", selector: null, expected: true },
        { title: "an empty selector matches", selector: {}, expected: true },
        {
            title: "matchLabels with equal values matches",
            selector: { matchLabels: { app: "server" } },
            expected: true,
        },
        {
            title: "matchLabels with another value does not match",
            selector: { matchLabels: { app: "web" } },
            expected: false,
        },
        {
            title: "matchLabels on a missing key does not match",
            selector: { matchLabels: { zone: "a" } },
            expected: false,
        },
        {
            title: "In matches a present key whose value is listed",
            selector: { matchExpressions: [{ key: "app", operator: "In", values: ["web", "server"] }] },
            expected: true,
        },
        {
            title: "In does not match a present key whose value is not listed",
            selector: { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] },
            expected: false,
        },
        {
            title: "In does not match a missing key",
            selector: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
            expected: false,
        },
        {
            title: "NotIn matches a missing key",
            selector: { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] },
            expected: true,
        },
        {
            title: "NotIn matches a present key whose value is not listed",
            selector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] },
            expected: true,
        },
        {
            title: "NotIn does not match a present key whose value is listed",
            selector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["server"] }] },
            expected: false,
        },
        {
            title: "Exists matches a present key",
            selector: { matchExpressions: [{ key: "tier", operator: "Exists" }] },
            expected: true,
        },
        {
            title: "Exists does not match a missing key",
            selector: { matchExpressions: [{ key: "zone", operator: "Exists" }] },
            expected: false,
        },
        {
            title: "DoesNotExist matches a missing key",
            selector: { matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] },
            expected: true,
        },
        {
            title: "DoesNotExist does not match a present key",
            selector: { matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] },
            expected: false,
        },
        {
            title: "matchLabels and matchExpressions must both hold",
            selector: {
                matchLabels: { app: "server" },
                matchExpressions: [{ key: "tier", operator: "In", values: ["frontend"] }],
            },
            expected: false,
        },
        {
            title: "every expression must hold",
            selector: {
                matchExpressions: [
                    { key: "app", operator: "Exists" },
                    { key: "tier", operator: "DoesNotExist" },
                ],
            },
            expected: false,
        },
    ];
    for (const c of cases) {
        it(`says ${c.title}.`, () => {
            assert.equal(labelSelectorMatches(c.selector, labels), c.expected);
        });
    }

    it("throws on an unknown operator rather than guessing.", () => {
        const selector = { matchExpressions: [{ key: "app", operator: "Equals" }] } as unknown as LabelSelector;
        assert.throws(() => labelSelectorMatches(selector, labels), /unknown operator "Equals"/);
    });

    it("does not see a label in an object's prototype.", () => {
        assert.equal(labelSelectorMatches({ matchExpressions: [{ key: "toString", operator: "Exists" }] }, {}), false);
    });
});

describe("CIDR containment", () => {
    const cases: [cidr: string, ip: string, expected: boolean][] = [
        ["10.0.0.0/8", "10.255.255.255", true],
        ["10.0.0.0/8", "11.0.0.0", false],
        ["10.0.0.0/8", "9.255.255.255", false],
        ["192.168.1.0/24", "192.168.1.200", true],
        ["192.168.1.0/24", "192.168.2.1", false],
        ["192.168.1.77/24", "192.168.1.3", true],
        ["172.16.0.0/12", "172.31.255.1", true],
        ["172.16.0.0/12", "172.32.0.1", false],
        ["198.51.100.7/32", "198.51.100.7", true],
        ["198.51.100.7/32", "198.51.100.8", false],
        ["0.0.0.0/0", "255.255.255.255", true],
        ["2001:db8::/32", "2001:db8:ffff::1", true],
        ["2001:db8::/32", "2001:db9::1", false],
        ["2001:db8:abcd:12::/64", "2001:db8:abcd:12:ffff:ffff:ffff:ffff", true],
        ["2001:db8:abcd:12::/64", "2001:db8:abcd:13::", false],
        ["2001:db8::/127", "2001:db8::1", true],
        ["2001:db8::/127", "2001:db8::2", false],
        ["::1/128", "0:0:0:0:0:0:0:1", true],
        ["::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true],
        ["FE80::/10", "fe80::1", true],
        ["fe80::/10", "fec0::1", false],
        ["::ffff:0:0/96", "::ffff:10.1.2.3", true],
        ["10.0.0.0/8", "::ffff:10.1.2.3", false],
        ["::/0", "10.0.0.1", false],
        ["0.0.0.0/0", "::1", false],
    ];
    for (const [cidr, ip, expected] of cases) {
        it(`says ${ip} is ${expected ? "" : "not "}in ${cidr}.`, () => {
            assert.equal(cidrContains(cidr, ip), expected);
        });
    }

    it("reads IPv6 addresses with and without compression to the same value.", () => {
        assert.equal(parseIp("2001:db8::1").value, parseIp("2001:0db8:0000:0000:0000:0000:0000:0001").value);
        assert.equal(parseIp("::").value, 0n);
        assert.equal(parseIp("1::").value, 1n << 112n);
        assert.equal(parseIp("::ffff:1.2.3.4").value, (0xffffn << 32n) | 0x01020304n);
        assert.deepEqual(parseIp("10.0.0.1"), { family: 4, value: 0x0a000001n });
    });

    for (const bad of [
        "1.2.3",
        "1.2.3.4.5",
        "256.0.0.1",
        "01.2.3.4",
        "1.2.3.-4",
        "1::2::3",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7::8",
        ":1:2:3:4:5:6:7",
        "::1%eth0",
        "12345::1",
        "1.2.3.4::",
        "g::1",
        "",
    ]) {
        it(`rejects ${JSON.stringify(bad)} as an address.`, () => {
            assert.throws(() => parseIp(bad), /not an IP address/);
        });
    }

    for (const bad of ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/-1", "::/129", "::/", "10.0.0.0/8/8"]) {
        it(`rejects ${JSON.stringify(bad)} as a CIDR.`, () => {
            assert.throws(() => parseCidr(bad), /not a CIDR|not an IP address/);
        });
    }
});

describe("ingressAllowed", () => {
    describe("isolation", () => {
        it("lets everything reach a pod no policy of its namespace selects.", () => {
            const policies = [
                policy("other-pods", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"] }),
                policy("other-namespace", { podSelector: {}, policyTypes: ["Ingress"] }, "team-a"),
            ];
            for (const source of [fromPod(pod("team-b", { app: "x" })), NODE, EXTERNAL]) {
                assert.deepEqual(decide(policies, source, 1234), { allowed: true, reasons: [NOT_ISOLATED] });
            }
        });

        it("refuses every source under a default-deny policy and names it.", () => {
            for (const source of [fromPod(pod(TARGET_NS, { app: "client" })), NODE, EXTERNAL]) {
                assert.deepEqual(decide([DEFAULT_DENY], source), { allowed: false, reasons: ["default-deny"] });
            }
        });

        it("treats a policy with neither policyTypes nor ingress as a default deny.", () => {
            const deny = policy("implicit-deny", { podSelector: {} });
            assert.deepEqual(decide([deny], EXTERNAL), { allowed: false, reasons: ["implicit-deny"] });
        });

        it("treats an empty ingress list as isolating without allowing anything.", () => {
            const deny = policy("empty-ingress", { podSelector: SELECT_SERVER, ingress: [] });
            assert.equal(allowedFrom([deny], fromPod(pod(TARGET_NS, { app: "server" }))), false);
        });

        it("does not isolate ingress with an Egress-only policy.", () => {
            const egressOnly = policy("egress-only", { podSelector: {}, policyTypes: ["Egress"], egress: [] });
            assert.deepEqual(decide([egressOnly], EXTERNAL), { allowed: true, reasons: [NOT_ISOLATED] });
        });

        it("ignores the ingress rules of an Egress-only policy.", () => {
            const egressOnly = policy("egress-only", { podSelector: {}, policyTypes: ["Egress"], ingress: [] });
            assert.equal(allowedFrom([egressOnly, DEFAULT_DENY], EXTERNAL), false);
            assert.equal(allowedFrom([egressOnly], EXTERNAL), true);
        });

        it("still isolates ingress when policyTypes is absent and only egress is written.", () => {
            const egressWritten = policy("egress-written", { podSelector: {}, egress: [{}] });
            assert.deepEqual(decide([egressWritten], EXTERNAL), { allowed: false, reasons: ["egress-written"] });
        });

        it("isolates with a policy whose podSelector uses matchExpressions.", () => {
            const deny = policy("expr-deny", {
                podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["server", "web"] }] },
                policyTypes: ["Ingress"],
            });
            assert.equal(allowedFrom([deny], EXTERNAL), false);
            const notIn = policy("expr-not-in", {
                podSelector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["server"] }] },
                policyTypes: ["Ingress"],
            });
            assert.equal(allowedFrom([notIn], EXTERNAL), true);
        });

        it("lets everything reach a host-network pod even under a default deny.", () => {
            const target = { ...TARGET, hostNetwork: true };
            assert.deepEqual(decide([DEFAULT_DENY], EXTERNAL, 8080, { target }), {
                allowed: true,
                reasons: [HOST_NETWORK_TARGET],
            });
        });
    });

    describe("peers", () => {
        it("allows pods of the policy's namespace by label, and only those.", () => {
            const allow = policy("from-client", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ podSelector: { matchLabels: { role: "client" } } }] }],
            });
            const cases: [PodView, boolean][] = [
                [pod(TARGET_NS, { role: "client" }), true],
                [pod(TARGET_NS, { role: "other" }), false],
                [pod("team-a", { role: "client" }), false],
            ];
            for (const [source, expected] of cases) {
                assert.equal(allowedFrom([allow], fromPod(source)), expected, JSON.stringify(source));
            }
            assert.deepEqual(decide([allow], fromPod(pod(TARGET_NS, { role: "client" }))).reasons, ["from-client"]);
        });

        it("allows every pod of the namespaces whose labels match.", () => {
            const allow = policy("from-team-a", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "a" } } }] }],
            });
            assert.equal(allowedFrom([allow], fromPod(pod("team-a", { anything: "x" }))), true);
            assert.equal(allowedFrom([allow], fromPod(pod("team-b", { anything: "x" }))), false);
            assert.equal(allowedFrom([allow], fromPod(pod(TARGET_NS, {}))), false);
        });

        it("allows pods of every namespace, listed or not, with an empty namespaceSelector.", () => {
            const allow = policy("from-cluster", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ namespaceSelector: {} }] }],
            });
            assert.equal(allowedFrom([allow], fromPod(pod("unlisted", {}))), true);
            assert.equal(allowedFrom([allow], NODE), false);
            assert.equal(allowedFrom([allow], EXTERNAL), false);
        });

        it("always gives a namespace its kubernetes.io/metadata.name label.", () => {
            const allow = policy("from-monitoring", {
                podSelector: SELECT_SERVER,
                ingress: [
                    { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }] },
                ],
            });
            assert.equal(allowedFrom([allow], fromPod(pod("monitoring", {}))), true);
            assert.equal(allowedFrom([allow], fromPod(pod("logging", {}))), false);
            const spoofed = [{ name: "logging", labels: { "kubernetes.io/metadata.name": "monitoring" } }];
            assert.equal(decide([allow], fromPod(pod("logging", {})), 8080, { namespaces: spoofed }).allowed, false);
        });

        describe("podSelector and namespaceSelector in one peer versus two peers", () => {
            const both = { matchLabels: { role: "client" } };
            const teamA = { matchLabels: { team: "a" } };
            const and = policy("and", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ podSelector: both, namespaceSelector: teamA }] }],
            });
            const or = policy("or", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ podSelector: both }, { namespaceSelector: teamA }] }],
            });
            const cases: { title: string; source: PodView; and: boolean; or: boolean }[] = [
                { title: "a client in team a", source: pod("team-a", { role: "client" }), and: true, or: true },
                { title: "a non-client in team a", source: pod("team-a", { role: "db" }), and: false, or: true },
                {
                    title: "a client in the policy's namespace",
                    source: pod(TARGET_NS, { role: "client" }),
                    and: false,
                    or: true,
                },
                { title: "a client in team b", source: pod("team-b", { role: "client" }), and: false, or: false },
            ];
            for (const c of cases) {
                it(`decides ${c.title}: one peer ${c.and ? "allows" : "refuses"}, two peers ${c.or ? "allow" : "refuse"}.`, () => {
                    assert.equal(allowedFrom([and], fromPod(c.source)), c.and);
                    assert.equal(allowedFrom([or], fromPod(c.source)), c.or);
                });
            }
        });

        it("never matches a node with a pod or namespace selector.", () => {
            const allow = policy("from-all-pods", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ podSelector: {} }, { namespaceSelector: {}, podSelector: {} }] }],
            });
            assert.equal(allowedFrom([allow], fromPod(pod(TARGET_NS, {}))), true);
            assert.equal(allowedFrom([allow], NODE), false);
            assert.equal(allowedFrom([allow], { kind: "node", ip: "10.0.0.5" }), false);
        });

        it("treats a host-network pod as the node, not as a pod.", () => {
            const allow = policy("from-client", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ podSelector: { matchLabels: { role: "client" } } }] }],
            });
            const client = pod(TARGET_NS, { role: "client" });
            assert.equal(allowedFrom([allow], fromPod(client)), true);
            assert.equal(allowedFrom([allow], fromPod({ ...client, hostNetwork: true })), false);
            const everyone = policy("everyone", { podSelector: SELECT_SERVER, ingress: [{}] });
            assert.equal(allowedFrom([everyone], fromPod({ ...client, hostNetwork: true })), true);
        });

        it("matches every source, external ones included, with an empty or absent from.", () => {
            for (const rule of [{ ports: [{ port: 8080 }] }, { from: [], ports: [{ port: 8080 }] }]) {
                const allow = policy("any-source", { podSelector: SELECT_SERVER, ingress: [rule] });
                const sources: Source[] = [fromPod(pod("team-b", {})), NODE, EXTERNAL, { kind: "external" }];
                for (const source of sources) {
                    assert.equal(allowedFrom([allow], source, 8080), true, JSON.stringify([rule, source]));
                    assert.equal(allowedFrom([allow], source, 8081), false, JSON.stringify([rule, source]));
                }
            }
        });

        it("does not match an external source with selectors.", () => {
            const allow = policy("from-pods", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ namespaceSelector: {} }] }],
            });
            assert.equal(allowedFrom([allow], EXTERNAL), false);
        });

        it("allows everything with an empty rule.", () => {
            const allow = policy("allow-all", { podSelector: {}, ingress: [{}] });
            for (const source of [fromPod(pod("team-b", {})), NODE, EXTERNAL]) {
                assert.deepEqual(decide([allow], source, 9999, { protocol: "SCTP" }), {
                    allowed: true,
                    reasons: ["allow-all"],
                });
            }
        });

        it("refuses with a peer that has no field, or mixes ipBlock with a selector.", () => {
            const empty = policy("empty-peer", { podSelector: SELECT_SERVER, ingress: [{ from: [{}] }] });
            assert.equal(allowedFrom([empty], fromPod(pod(TARGET_NS, {}))), false);
            assert.equal(allowedFrom([empty], EXTERNAL), false);
            const mixed = policy("mixed", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" }, namespaceSelector: {} }] }],
            });
            assert.equal(allowedFrom([mixed], EXTERNAL), false);
            assert.equal(allowedFrom([mixed], fromPod(pod(TARGET_NS, {}))), false);
        });
    });

    describe("ipBlock", () => {
        const v4 = policy("v4", {
            podSelector: SELECT_SERVER,
            ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "10.2.3.4/32"] } }] }],
        });
        const v6 = policy("v6", {
            podSelector: SELECT_SERVER,
            ingress: [{ from: [{ ipBlock: { cidr: "2001:db8::/32", except: ["2001:db8:1::/48"] } }] }],
        });
        const cases: { source: Source; v4: boolean; v6: boolean }[] = [
            { source: { kind: "external", ip: "10.9.8.7" }, v4: true, v6: false },
            { source: { kind: "external", ip: "10.1.2.3" }, v4: false, v6: false },
            { source: { kind: "external", ip: "10.2.3.4" }, v4: false, v6: false },
            { source: { kind: "external", ip: "10.2.3.5" }, v4: true, v6: false },
            { source: { kind: "external", ip: "192.168.0.1" }, v4: false, v6: false },
            { source: { kind: "external", ip: "2001:db8:2::1" }, v4: false, v6: true },
            { source: { kind: "external", ip: "2001:db8:1::5" }, v4: false, v6: false },
            { source: { kind: "external", ip: "2001:db9::1" }, v4: false, v6: false },
            { source: { kind: "external" }, v4: false, v6: false },
            { source: { kind: "node" }, v4: false, v6: false },
            { source: { kind: "node", ip: "10.9.8.7" }, v4: true, v6: false },
            { source: fromPod(pod(TARGET_NS, {})), v4: false, v6: false },
        ];
        for (const c of cases) {
            it(`decides ${JSON.stringify(c.source)}: IPv4 block ${c.v4 ? "allows" : "refuses"}, IPv6 block ${c.v6 ? "allows" : "refuses"}.`, () => {
                assert.equal(allowedFrom([v4], c.source), c.v4);
                assert.equal(allowedFrom([v6], c.source), c.v6);
            });
        }

        it("throws on a malformed cidr rather than refusing silently.", () => {
            const bad = policy("bad", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/40" } }] }],
            });
            assert.throws(() => allowedFrom([bad], EXTERNAL), /not a CIDR/);
        });
    });

    describe("ports", () => {
        const fromAll = (ports: unknown[] | undefined) =>
            policy("ports", {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ namespaceSelector: {} }], ...(ports && { ports }) }],
            });
        const client = fromPod(pod("team-a", {}));
        const cases: {
            title: string;
            ports: unknown[] | undefined;
            port: number;
            protocol?: "TCP" | "UDP" | "SCTP";
            expected: boolean;
        }[] = [
            { title: "absent ports match any port", ports: undefined, port: 31337, expected: true },
            { title: "empty ports match any port", ports: [], port: 31337, expected: true },
            { title: "empty ports match any protocol", ports: [], port: 53, protocol: "UDP", expected: true },
            { title: "a number port matches itself", ports: [{ port: 8080 }], port: 8080, expected: true },
            { title: "a number port does not match another", ports: [{ port: 8080 }], port: 9090, expected: false },
            { title: "any listed port matches", ports: [{ port: 80 }, { port: 9090 }], port: 9090, expected: true },
            { title: "a named port matches its container port", ports: [{ port: "http" }], port: 8080, expected: true },
            {
                title: "a named port does not match another number",
                ports: [{ port: "http" }],
                port: 8081,
                expected: false,
            },
            {
                title: "an unknown named port matches nothing",
                ports: [{ port: "metrics" }],
                port: 8080,
                expected: false,
            },
            {
                title: "a named UDP port matches a UDP connection",
                ports: [{ port: "dns", protocol: "UDP" }],
                port: 53,
                protocol: "UDP",
                expected: true,
            },
            {
                title: "a named port defaults to TCP, which the UDP container port is not",
                ports: [{ port: "dns" }],
                port: 53,
                expected: false,
            },
            { title: "endPort includes its start", ports: [{ port: 8000, endPort: 8100 }], port: 8000, expected: true },
            {
                title: "endPort includes its middle",
                ports: [{ port: 8000, endPort: 8100 }],
                port: 8080,
                expected: true,
            },
            { title: "endPort includes its end", ports: [{ port: 8000, endPort: 8100 }], port: 8100, expected: true },
            { title: "endPort excludes below", ports: [{ port: 8000, endPort: 8100 }], port: 7999, expected: false },
            { title: "endPort excludes above", ports: [{ port: 8000, endPort: 8100 }], port: 8101, expected: false },
            {
                title: "endPort with a named port matches nothing",
                ports: [{ port: "http", endPort: 9000 }],
                port: 8080,
                expected: false,
            },
            {
                title: "a UDP port does not match a TCP connection",
                ports: [{ port: 53, protocol: "UDP" }],
                port: 53,
                expected: false,
            },
            {
                title: "a UDP port matches a UDP connection",
                ports: [{ port: 53, protocol: "UDP" }],
                port: 53,
                protocol: "UDP",
                expected: true,
            },
            {
                title: "a port without protocol is TCP and does not match UDP",
                ports: [{ port: 53 }],
                port: 53,
                protocol: "UDP",
                expected: false,
            },
            {
                title: "an SCTP port does not match a TCP connection",
                ports: [{ port: 8080, protocol: "SCTP" }],
                port: 8080,
                expected: false,
            },
            {
                title: "an entry without port matches every port of its protocol",
                ports: [{ protocol: "UDP" }],
                port: 5353,
                protocol: "UDP",
                expected: true,
            },
            {
                title: "an entry without port does not match another protocol",
                ports: [{ protocol: "UDP" }],
                port: 5353,
                expected: false,
            },
        ];
        for (const c of cases) {
            it(`says ${c.title}.`, () => {
                assert.equal(decide([fromAll(c.ports)], client, c.port, { protocol: c.protocol }).allowed, c.expected);
            });
        }

        it("requires from and ports of the same rule to match together.", () => {
            const split = policy("split", {
                podSelector: SELECT_SERVER,
                ingress: [
                    { from: [{ namespaceSelector: { matchLabels: { team: "a" } } }], ports: [{ port: 80 }] },
                    { from: [{ namespaceSelector: { matchLabels: { team: "b" } } }], ports: [{ port: 443 }] },
                ],
            });
            assert.equal(allowedFrom([split], fromPod(pod("team-a", {})), 80), true);
            assert.equal(allowedFrom([split], fromPod(pod("team-a", {})), 443), false);
            assert.equal(allowedFrom([split], fromPod(pod("team-b", {})), 443), true);
            assert.equal(allowedFrom([split], fromPod(pod("team-b", {})), 80), false);
        });
    });

    describe("several policies", () => {
        const fromRole = (name: string, role: string) =>
            policy(name, {
                podSelector: SELECT_SERVER,
                ingress: [{ from: [{ podSelector: { matchLabels: { role } } }] }],
            });
        const policies = [
            fromRole("from-a", "a"),
            fromRole("from-b", "b"),
            policy("for-web", { podSelector: { matchLabels: { app: "web" } }, ingress: [{}] }),
            policy("elsewhere", { podSelector: {}, ingress: [{}] }, "team-a"),
        ];

        it("allows the union of the selecting policies' rules and names the one that allows.", () => {
            assert.deepEqual(decide(policies, fromPod(pod(TARGET_NS, { role: "a" }))), {
                allowed: true,
                reasons: ["from-a"],
            });
            assert.deepEqual(decide(policies, fromPod(pod(TARGET_NS, { role: "b" }))), {
                allowed: true,
                reasons: ["from-b"],
            });
        });

        it("refuses what no selecting policy allows and names the isolating policies only.", () => {
            assert.deepEqual(decide(policies, fromPod(pod(TARGET_NS, { role: "c" }))), {
                allowed: false,
                reasons: ["from-a", "from-b"],
            });
        });

        it("is not narrowed by a default deny next to an allowing policy.", () => {
            assert.deepEqual(decide([DEFAULT_DENY, ...policies], fromPod(pod(TARGET_NS, { role: "a" }))), {
                allowed: true,
                reasons: ["from-a"],
            });
        });

        it("names every policy that allows.", () => {
            const both = [...policies, fromRole("from-a-too", "a")];
            assert.deepEqual(decide(both, fromPod(pod(TARGET_NS, { role: "a" }))).reasons, ["from-a", "from-a-too"]);
        });
    });
});
