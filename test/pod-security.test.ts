import { describe, it } from "node:test";
import * as assert from "node:assert/strict";

import {
    podSecurityViolations,
    podTemplateOf,
    type PodSecurityLevel,
    type PodSecurityViolation,
    type PodTemplateLike,
} from "../render/desired-state/pod-security";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form pod specs, as in YAML
type Json = Record<string, any>;

/** A container that meets every restricted control on its own. */
function restrictedContainer(name: string): Json {
    return {
        name,
        image: "registry.example/app:1.0.0",
        ports: [{ name: "http", containerPort: 8080 }],
        livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    };
}

/** A pod that meets the restricted level, edited by `edit` (which gets the spec and the metadata). */
function pod(edit?: (spec: Json, metadata: Json) => void): PodTemplateLike {
    const metadata: Json = { labels: { app: "web" }, annotations: {} };
    const spec: Json = {
        securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
        initContainers: [restrictedContainer("init")],
        containers: [restrictedContainer("app")],
        volumes: [
            { name: "config", configMap: { name: "web-config" } },
            { name: "tmp", emptyDir: {} },
        ],
    };
    edit?.(spec, metadata);
    return { metadata, spec };
}

function app(spec: Json): Json {
    return spec.containers[0];
}

function init(spec: Json): Json {
    return spec.initContainers[0];
}

function of(template: PodTemplateLike, level: PodSecurityLevel, check: string): PodSecurityViolation[] {
    return podSecurityViolations(template, level).filter((v) => v.check === check);
}

/** Asserts exactly one violation of `check`, at `field`, of the given level, and returns it. */
function assertOne(
    template: PodTemplateLike,
    check: string,
    field: string,
    level: "baseline" | "restricted",
): PodSecurityViolation {
    const found = of(template, "restricted", check);
    assert.deepEqual(
        found.map((v) => [v.level, v.check, v.field]),
        [[level, check, field]],
    );
    const [only] = found;
    assert.ok(only);
    assert.match(only.message, /\.$/);
    assert.ok(only.message.includes(level), `message names the level: ${only.message}`);
    if (level === "baseline") {
        assert.deepEqual(
            of(template, "baseline", check).map((v) => v.field),
            [field],
        );
    } else {
        assert.deepEqual(of(template, "baseline", check), []);
    }
    return only;
}

function assertNone(template: PodTemplateLike, check: string): void {
    assert.deepEqual(of(template, "restricted", check), []);
}

describe("podSecurityViolations", () => {
    it("finds nothing wrong with a fully restricted-compliant pod at any level.", () => {
        assert.deepEqual(podSecurityViolations(pod(), "restricted"), []);
        assert.deepEqual(podSecurityViolations(pod(), "baseline"), []);
    });

    it("reports nothing at the privileged level, whatever the pod does.", () => {
        const template = pod((spec) => {
            spec.hostNetwork = true;
            app(spec).securityContext = { privileged: true };
        });
        assert.deepEqual(podSecurityViolations(template, "privileged"), []);
        assert.notDeepEqual(podSecurityViolations(template, "baseline"), []);
    });

    it("passes a minimal pod at baseline and fails it at restricted on exactly the restricted-only controls.", () => {
        const minimal: PodTemplateLike = { spec: { containers: [{ name: "app", image: "nginx" }] } };
        assert.deepEqual(podSecurityViolations(minimal, "baseline"), []);
        assert.deepEqual(
            podSecurityViolations(minimal, "restricted").map((v) => [v.level, v.check, v.field]),
            [
                ["restricted", "privilegeEscalation", "spec.containers[app].securityContext.allowPrivilegeEscalation"],
                ["restricted", "runAsNonRoot", "spec.containers[app].securityContext.runAsNonRoot"],
                ["restricted", "restrictedSeccomp", "spec.containers[app].securityContext.seccompProfile.type"],
                ["restricted", "restrictedCapabilities", "spec.containers[app].securityContext.capabilities.drop"],
            ],
        );
    });

    it("lists violations in the standard's order of controls, containers before init containers.", () => {
        const template = pod((spec) => {
            spec.securityContext.sysctls = [{ name: "kernel.msgmax", value: "65536" }];
            init(spec).securityContext.privileged = true;
            app(spec).securityContext.privileged = true;
            spec.hostPID = true;
            spec.volumes.push({ name: "nfs", nfs: { server: "nas", path: "/" } });
            app(spec).securityContext.runAsUser = 0;
        });
        assert.deepEqual(
            podSecurityViolations(template, "restricted").map((v) => `${v.check} ${v.field}`),
            [
                "hostNamespaces spec.hostPID",
                "privileged spec.containers[app].securityContext.privileged",
                "privileged spec.initContainers[init].securityContext.privileged",
                "sysctls spec.securityContext.sysctls[0].name",
                "volumeTypes spec.volumes[nfs].nfs",
                "runAsUser spec.containers[app].securityContext.runAsUser",
            ],
        );
    });

    it("gives the same answer twice for the same pod.", () => {
        const template = pod((spec) => {
            spec.hostIPC = true;
            app(spec).securityContext.capabilities.add = ["SYS_ADMIN", "NET_RAW"];
        });
        assert.deepEqual(podSecurityViolations(template, "restricted"), podSecurityViolations(template, "restricted"));
    });
});

describe("baseline controls", () => {
    it("refuses HostProcess at the pod level and in a container, and allows false.", () => {
        assertOne(
            pod((spec) => (spec.securityContext.windowsOptions = { hostProcess: true })),
            "hostProcess",
            "spec.securityContext.windowsOptions.hostProcess",
            "baseline",
        );
        assertOne(
            pod((spec) => (app(spec).securityContext.windowsOptions = { hostProcess: true })),
            "hostProcess",
            "spec.containers[app].securityContext.windowsOptions.hostProcess",
            "baseline",
        );
        assertNone(
            pod((spec) => {
                spec.securityContext.windowsOptions = { hostProcess: false };
                app(spec).securityContext.windowsOptions = { hostProcess: false, runAsUserName: "app" };
            }),
            "hostProcess",
        );
    });

    it("refuses each host namespace and allows them set to false.", () => {
        for (const key of ["hostNetwork", "hostPID", "hostIPC"]) {
            assertOne(
                pod((spec) => (spec[key] = true)),
                "hostNamespaces",
                `spec.${key}`,
                "baseline",
            );
        }
        assertNone(
            pod((spec) => {
                spec.hostNetwork = false;
                spec.hostPID = false;
                spec.hostIPC = false;
            }),
            "hostNamespaces",
        );
    });

    it("refuses a privileged container, including an ephemeral one, and allows privileged false.", () => {
        assertOne(
            pod((spec) => (app(spec).securityContext.privileged = true)),
            "privileged",
            "spec.containers[app].securityContext.privileged",
            "baseline",
        );
        assertOne(
            pod((spec) => {
                spec.ephemeralContainers = [{ ...restrictedContainer("debug"), ports: undefined }];
                spec.ephemeralContainers[0].securityContext.privileged = true;
            }),
            "privileged",
            "spec.ephemeralContainers[debug].securityContext.privileged",
            "baseline",
        );
        assertNone(
            pod((spec) => (app(spec).securityContext.privileged = false)),
            "privileged",
        );
    });

    it("checks init containers as well as containers.", () => {
        const violations = podSecurityViolations(
            pod((spec) => (init(spec).securityContext.capabilities.add = ["NET_ADMIN"])),
            "baseline",
        );
        assert.deepEqual(
            violations.map((v) => [v.check, v.field]),
            [["capabilities", "spec.initContainers[init].securityContext.capabilities.add"]],
        );
    });

    it("refuses adding a capability outside the baseline list and allows adding one on it.", () => {
        const refused = assertOne(
            pod((spec) => (app(spec).securityContext.capabilities.add = ["SYS_ADMIN"])),
            "capabilities",
            "spec.containers[app].securityContext.capabilities.add",
            "baseline",
        );
        assert.match(refused.message, /SYS_ADMIN/);
        assertNone(
            pod((spec) => (app(spec).securityContext.capabilities.add = ["CHOWN", "NET_BIND_SERVICE", "SYS_CHROOT"])),
            "capabilities",
        );
    });

    it("refuses a hostPath volume and allows other volumes at baseline.", () => {
        assertOne(
            pod((spec) => spec.volumes.push({ name: "host", hostPath: { path: "/var/log" } })),
            "hostPathVolumes",
            "spec.volumes[host].hostPath",
            "baseline",
        );
        const nfs = pod((spec) => spec.volumes.push({ name: "data", nfs: { server: "nas", path: "/" } }));
        assert.deepEqual(of(nfs, "baseline", "hostPathVolumes"), []);
        assert.deepEqual(podSecurityViolations(nfs, "baseline"), []);
    });

    it("refuses any non-zero host port and allows hostPort 0.", () => {
        assertOne(
            pod((spec) => (app(spec).ports = [{ containerPort: 8080, hostPort: 8080 }])),
            "hostPorts",
            "spec.containers[app].ports[0].hostPort",
            "baseline",
        );
        assertOne(
            pod((spec) => (init(spec).ports = [{ containerPort: 53 }, { containerPort: 9000, hostPort: 9000 }])),
            "hostPorts",
            "spec.initContainers[init].ports[1].hostPort",
            "baseline",
        );
        assertNone(
            pod((spec) => (app(spec).ports = [{ containerPort: 8080, hostPort: 0 }])),
            "hostPorts",
        );
    });

    it("refuses a host in a probe or lifecycle hook and allows an empty host.", () => {
        assertOne(
            pod((spec) => (app(spec).livenessProbe.httpGet.host = "10.0.0.1")),
            "hostProbes",
            "spec.containers[app].livenessProbe.httpGet.host",
            "baseline",
        );
        assertOne(
            pod((spec) => (app(spec).readinessProbe = { tcpSocket: { host: "localhost", port: 8080 } })),
            "hostProbes",
            "spec.containers[app].readinessProbe.tcpSocket.host",
            "baseline",
        );
        assertOne(
            pod((spec) => (init(spec).lifecycle = { preStop: { httpGet: { host: "metadata", port: 80 } } })),
            "hostProbes",
            "spec.initContainers[init].lifecycle.preStop.httpGet.host",
            "baseline",
        );
        assertNone(
            pod((spec) => {
                app(spec).livenessProbe.httpGet.host = "";
                app(spec).lifecycle = { postStart: { httpGet: { path: "/started", port: 8080 } } };
            }),
            "hostProbes",
        );
    });

    it("refuses an AppArmor profile other than RuntimeDefault or Localhost and allows those.", () => {
        assertOne(
            pod((spec) => (spec.securityContext.appArmorProfile = { type: "Unconfined" })),
            "appArmor",
            "spec.securityContext.appArmorProfile.type",
            "baseline",
        );
        assertOne(
            pod((spec) => (app(spec).securityContext.appArmorProfile = { type: "Unconfined" })),
            "appArmor",
            "spec.containers[app].securityContext.appArmorProfile.type",
            "baseline",
        );
        assertNone(
            pod((spec) => {
                spec.securityContext.appArmorProfile = { type: "RuntimeDefault" };
                app(spec).securityContext.appArmorProfile = { type: "Localhost", localhostProfile: "k8s-app" };
            }),
            "appArmor",
        );
    });

    it("refuses the legacy AppArmor annotation set to unconfined and allows runtime/default and localhost/*.", () => {
        assertOne(
            pod(
                (_, metadata) =>
                    (metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"] = "unconfined"),
            ),
            "appArmor",
            'metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]',
            "baseline",
        );
        assertNone(
            pod((_, metadata) => {
                metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"] = "localhost/k8s-app";
                metadata.annotations["container.apparmor.security.beta.kubernetes.io/init"] = "runtime/default";
                metadata.annotations["example.com/apparmor"] = "unconfined";
            }),
            "appArmor",
        );
    });

    it("refuses an SELinux type outside the allowed set and allows the container types and a level.", () => {
        assertOne(
            pod((spec) => (app(spec).securityContext.seLinuxOptions = { type: "spc_t" })),
            "seLinux",
            "spec.containers[app].securityContext.seLinuxOptions.type",
            "baseline",
        );
        assertNone(
            pod((spec) => {
                spec.securityContext.seLinuxOptions = { type: "container_t", level: "s0:c123,c456" };
                app(spec).securityContext.seLinuxOptions = { type: "container_engine_t" };
                init(spec).securityContext.seLinuxOptions = { type: "", user: "", role: "" };
            }),
            "seLinux",
        );
    });

    it("refuses an SELinux user or role at the pod or container level.", () => {
        assertOne(
            pod((spec) => (spec.securityContext.seLinuxOptions = { user: "system_u" })),
            "seLinux",
            "spec.securityContext.seLinuxOptions.user",
            "baseline",
        );
        assertOne(
            pod((spec) => (init(spec).securityContext.seLinuxOptions = { type: "container_t", role: "sysadm_r" })),
            "seLinux",
            "spec.initContainers[init].securityContext.seLinuxOptions.role",
            "baseline",
        );
    });

    it("refuses an Unmasked /proc mount and allows Default.", () => {
        assertOne(
            pod((spec) => (app(spec).securityContext.procMount = "Unmasked")),
            "procMount",
            "spec.containers[app].securityContext.procMount",
            "baseline",
        );
        assertNone(
            pod((spec) => (app(spec).securityContext.procMount = "Default")),
            "procMount",
        );
    });

    it("refuses an Unconfined seccomp profile and allows Localhost or leaving it unset at baseline.", () => {
        assertOne(
            pod((spec) => (spec.securityContext.seccompProfile = { type: "Unconfined" })),
            "seccomp",
            "spec.securityContext.seccompProfile.type",
            "baseline",
        );
        assertOne(
            pod((spec) => (app(spec).securityContext.seccompProfile = { type: "Unconfined" })),
            "seccomp",
            "spec.containers[app].securityContext.seccompProfile.type",
            "baseline",
        );
        assertNone(
            pod(
                (spec) =>
                    (app(spec).securityContext.seccompProfile = { type: "Localhost", localhostProfile: "a.json" }),
            ),
            "seccomp",
        );
        const unset = pod((spec) => delete spec.securityContext.seccompProfile);
        assert.deepEqual(of(unset, "baseline", "seccomp"), []);
        assert.deepEqual(of(unset, "restricted", "seccomp"), []);
    });

    it("refuses a sysctl outside the safe set and allows the safe ones.", () => {
        assertOne(
            pod((spec) => (spec.securityContext.sysctls = [{ name: "net.core.somaxconn", value: "1024" }])),
            "sysctls",
            "spec.securityContext.sysctls[0].name",
            "baseline",
        );
        assertNone(
            pod(
                (spec) =>
                    (spec.securityContext.sysctls = [
                        { name: "net.ipv4.ip_unprivileged_port_start", value: "0" },
                        { name: "net.ipv4.tcp_keepalive_time", value: "600" },
                        { name: "net.ipv4.ip_local_reserved_ports", value: "30000-30100" },
                    ]),
            ),
            "sysctls",
        );
    });
});

describe("restricted controls", () => {
    it("refuses a volume type outside the allowed list and allows every listed type.", () => {
        assertOne(
            pod((spec) => spec.volumes.push({ name: "data", nfs: { server: "nas", path: "/" } })),
            "volumeTypes",
            "spec.volumes[data].nfs",
            "restricted",
        );
        assertNone(
            pod((spec) =>
                spec.volumes.push(
                    { name: "pvc", persistentVolumeClaim: { claimName: "data" } },
                    { name: "projected", projected: { sources: [] } },
                    { name: "eph", ephemeral: { volumeClaimTemplate: { spec: {} } } },
                    { name: "csi", csi: { driver: "secrets-store.csi.k8s.io" } },
                    { name: "down", downwardAPI: { items: [] } },
                    { name: "secret", secret: { secretName: "tls" } },
                    { name: "defaulted" },
                ),
            ),
            "volumeTypes",
        );
    });

    it("reports a hostPath volume once, as a baseline violation, at restricted.", () => {
        const template = pod((spec) => spec.volumes.push({ name: "host", hostPath: { path: "/" } }));
        assert.deepEqual(
            podSecurityViolations(template, "restricted").map((v) => [v.level, v.check, v.field]),
            [["baseline", "hostPathVolumes", "spec.volumes[host].hostPath"]],
        );
    });

    it("requires allowPrivilegeEscalation false in every container.", () => {
        assertOne(
            pod((spec) => delete app(spec).securityContext.allowPrivilegeEscalation),
            "privilegeEscalation",
            "spec.containers[app].securityContext.allowPrivilegeEscalation",
            "restricted",
        );
        assertOne(
            pod((spec) => (init(spec).securityContext.allowPrivilegeEscalation = true)),
            "privilegeEscalation",
            "spec.initContainers[init].securityContext.allowPrivilegeEscalation",
            "restricted",
        );
        assertNone(pod(), "privilegeEscalation");
    });

    it("waives privilege escalation, seccomp and capabilities for a Windows pod but not runAsNonRoot.", () => {
        const windows: PodTemplateLike = {
            spec: { os: { name: "windows" }, containers: [{ name: "app", image: "iis" }] },
        };
        assert.deepEqual(
            podSecurityViolations(windows, "restricted").map((v) => v.check),
            ["runAsNonRoot"],
        );
    });

    it("requires runAsNonRoot true, with the pod-level true covering containers that leave it unset.", () => {
        assertNone(pod(), "runAsNonRoot");
        assertOne(
            pod((spec) => {
                delete spec.securityContext.runAsNonRoot;
                init(spec).securityContext.runAsNonRoot = true;
            }),
            "runAsNonRoot",
            "spec.containers[app].securityContext.runAsNonRoot",
            "restricted",
        );
        const bothUnset = of(
            pod((spec) => delete spec.securityContext.runAsNonRoot),
            "restricted",
            "runAsNonRoot",
        );
        assert.deepEqual(
            bothUnset.map((v) => v.field),
            [
                "spec.containers[app].securityContext.runAsNonRoot",
                "spec.initContainers[init].securityContext.runAsNonRoot",
            ],
        );
    });

    it("refuses a container that sets runAsNonRoot false even when the pod sets it true.", () => {
        assertOne(
            pod((spec) => (app(spec).securityContext.runAsNonRoot = false)),
            "runAsNonRoot",
            "spec.containers[app].securityContext.runAsNonRoot",
            "restricted",
        );
    });

    it("accepts runAsNonRoot set true in every container with the pod-level field unset.", () => {
        assertNone(
            pod((spec) => {
                delete spec.securityContext.runAsNonRoot;
                app(spec).securityContext.runAsNonRoot = true;
                init(spec).securityContext.runAsNonRoot = true;
            }),
            "runAsNonRoot",
        );
    });

    it("refuses a pod-level runAsNonRoot false even when every container sets true.", () => {
        assertOne(
            pod((spec) => {
                spec.securityContext.runAsNonRoot = false;
                app(spec).securityContext.runAsNonRoot = true;
                init(spec).securityContext.runAsNonRoot = true;
            }),
            "runAsNonRoot",
            "spec.securityContext.runAsNonRoot",
            "restricted",
        );
    });

    it("refuses runAsUser 0 at the pod or container level and allows any other user.", () => {
        assertOne(
            pod((spec) => (spec.securityContext.runAsUser = 0)),
            "runAsUser",
            "spec.securityContext.runAsUser",
            "restricted",
        );
        assertOne(
            pod((spec) => (init(spec).securityContext.runAsUser = 0)),
            "runAsUser",
            "spec.initContainers[init].securityContext.runAsUser",
            "restricted",
        );
        assertNone(
            pod((spec) => {
                delete spec.securityContext.runAsUser;
                app(spec).securityContext.runAsUser = 1000;
            }),
            "runAsUser",
        );
    });

    it("accepts a pod-level seccomp profile for containers that leave theirs unset.", () => {
        assertNone(
            pod((spec) => (spec.securityContext.seccompProfile = { type: "Localhost", localhostProfile: "p.json" })),
            "restrictedSeccomp",
        );
    });

    it("accepts an unset pod-level seccomp profile when every container sets one.", () => {
        assertNone(
            pod((spec) => {
                delete spec.securityContext.seccompProfile;
                app(spec).securityContext.seccompProfile = { type: "RuntimeDefault" };
                init(spec).securityContext.seccompProfile = { type: "RuntimeDefault" };
            }),
            "restrictedSeccomp",
        );
    });

    it("refuses a container without a seccomp profile when the pod sets none.", () => {
        assertOne(
            pod((spec) => {
                delete spec.securityContext.seccompProfile;
                app(spec).securityContext.seccompProfile = { type: "RuntimeDefault" };
            }),
            "restrictedSeccomp",
            "spec.initContainers[init].securityContext.seccompProfile.type",
            "restricted",
        );
    });

    it("reports an Unconfined seccomp profile once, as a baseline violation, at restricted.", () => {
        const template = pod((spec) => (app(spec).securityContext.seccompProfile = { type: "Unconfined" }));
        assert.deepEqual(
            podSecurityViolations(template, "restricted").map((v) => [v.level, v.check, v.field]),
            [["baseline", "seccomp", "spec.containers[app].securityContext.seccompProfile.type"]],
        );
    });

    it("requires dropping ALL capabilities.", () => {
        assertOne(
            pod((spec) => (app(spec).securityContext.capabilities.drop = ["NET_RAW"])),
            "restrictedCapabilities",
            "spec.containers[app].securityContext.capabilities.drop",
            "restricted",
        );
        assertOne(
            pod((spec) => delete init(spec).securityContext.capabilities),
            "restrictedCapabilities",
            "spec.initContainers[init].securityContext.capabilities.drop",
            "restricted",
        );
        assertNone(
            pod((spec) => (app(spec).securityContext.capabilities.drop = ["NET_RAW", "ALL"])),
            "restrictedCapabilities",
        );
    });

    it("allows adding back only NET_BIND_SERVICE.", () => {
        assertOne(
            pod((spec) => (app(spec).securityContext.capabilities.add = ["CHOWN"])),
            "restrictedCapabilities",
            "spec.containers[app].securityContext.capabilities.add",
            "restricted",
        );
        assertNone(
            pod((spec) => (app(spec).securityContext.capabilities.add = ["NET_BIND_SERVICE"])),
            "restrictedCapabilities",
        );
    });

    it("reports a capability outside the baseline list only through the baseline check.", () => {
        const template = pod((spec) => (app(spec).securityContext.capabilities.add = ["SYS_ADMIN"]));
        assert.deepEqual(
            podSecurityViolations(template, "restricted").map((v) => [v.level, v.check]),
            [["baseline", "capabilities"]],
        );
    });
});

describe("podTemplateOf", () => {
    const template = pod();

    it("returns the template of a Deployment, which is then evaluated like a pod.", () => {
        const deployment = {
            kind: "Deployment",
            metadata: { name: "web" },
            spec: { replicas: 2, template: { metadata: template.metadata, spec: template.spec } },
        };
        const found = podTemplateOf(deployment);
        assert.deepEqual(found, { metadata: template.metadata, spec: template.spec });
        assert.ok(found);
        assert.deepEqual(podSecurityViolations(found, "restricted"), []);
    });

    it("returns the job template's pod template of a CronJob.", () => {
        const cronJob = {
            kind: "CronJob",
            spec: { schedule: "@hourly", jobTemplate: { spec: { template: { spec: { hostNetwork: true } } } } },
        };
        const found = podTemplateOf(cronJob);
        assert.ok(found);
        assert.deepEqual(found.spec, { hostNetwork: true });
        assert.deepEqual(
            podSecurityViolations(found, "baseline").map((v) => v.field),
            ["spec.hostNetwork"],
        );
    });

    it("returns a Pod's own metadata and spec.", () => {
        const found = podTemplateOf({ kind: "Pod", metadata: template.metadata, spec: template.spec });
        assert.deepEqual(found, { metadata: template.metadata, spec: template.spec });
    });

    it("returns undefined for a ConfigMap and for an object without a kind.", () => {
        assert.equal(podTemplateOf({ kind: "ConfigMap", metadata: { name: "c" } }), undefined);
        assert.equal(podTemplateOf({ spec: { template: {} } }), undefined);
    });
});
