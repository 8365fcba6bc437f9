import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { before, describe, it } from "node:test";

import { charts } from "../components/core/versions";
import { remoteWriteSpec } from "../components/metrics/remote-write";
import { HELM_CHART_V4, type ResourceRecord } from "../render/mock-engine";
import { renderStack } from "../render/render";
import { ResourceRef, Secret, Unknown } from "../render/values";
import {
    formatPath,
    mergeDefaults,
    PathPattern,
    unknownValuesKeys,
    type PathSegment,
    type ValuesKeysOptions,
} from "../render/values-keys";
import { fixture, projectDir } from "./helpers";

/**
 * Every Helm values key the program sets, checked against the pinned chart's default values
 * (test/fixtures/chart-values), so that a misspelt or misplaced key, which Helm ignores, fails.
 */

describe("unknownValuesKeys", () => {
    const defaults = {
        replicas: 1,
        image: { repository: "example/app", tag: "" },
        server: { tls: { enabled: false, minVersion: "" } },
        labels: {},
        config: "",
        nodeSelector: null,
        ports: [{ name: "http", port: 80 }],
        args: [],
        volumes: [],
    };

    it("returns nothing when every key exists in the defaults", () => {
        const values = { replicas: 2, image: { tag: "1.0" }, server: { tls: { enabled: true } }, ports: [] };
        assert.deepEqual(unknownValuesKeys(values, defaults), []);
    });

    it("reports a misspelt top-level key by its name", () => {
        assert.deepEqual(unknownValuesKeys({ replica: 2, replicas: 2 }, defaults), ["replica"]);
    });

    it("reports a misspelt nested key with its full dotted path, and only the misspelt one", () => {
        const values = { server: { tls: { enabled: true, minVerison: "TLS13" } }, image: { tag: "1.0" } };
        assert.deepEqual(unknownValuesKeys(values, defaults), ["server.tls.minVerison"]);
    });

    it("does not look inside a key it has reported", () => {
        assert.deepEqual(unknownValuesKeys({ sever: { tls: { enabled: true } } }, defaults), ["sever"]);
    });

    it("accepts anything under a free-form key whose default is empty, and nothing without the declaration", () => {
        const values = { labels: { team: "obs", nested: { deep: true } } };
        assert.deepEqual(unknownValuesKeys(values, defaults, { freeForm: ["labels"] }), []);
        assert.deepEqual(unknownValuesKeys(values, defaults), ["labels.team", "labels.nested"]);
    });

    it("lets a free-form scalar or null default take an object", () => {
        const values = { config: { server: { port: 8080 } }, nodeSelector: { zone: "a" } };
        assert.deepEqual(unknownValuesKeys(values, defaults, { freeForm: ["config", "nodeSelector"] }), []);
        assert.deepEqual(unknownValuesKeys(values, defaults), [
            "config: expected a string, found an object",
            "nodeSelector.zone",
        ]);
    });

    it("ignores a free-form declaration on a key whose default is not empty", () => {
        const values = { image: { repositry: "x" } };
        assert.deepEqual(unknownValuesKeys(values, defaults, { freeForm: ["image"] }), ["image.repositry"]);
    });

    it("does not let a free-form key change a list default into an object", () => {
        assert.deepEqual(unknownValuesKeys({ args: { a: 1 } }, defaults, { freeForm: ["args"] }), [
            "args: expected a list, found an object",
        ]);
    });

    it("accepts an allow-listed absent path and the objects on the way to it, but not its siblings", () => {
        const options = { allow: ["server.tls.certificate.secretName"] };
        const values = { server: { tls: { certificate: { secretName: "tls", secretNmae: "tls" } } } };
        assert.deepEqual(unknownValuesKeys(values, defaults, options), ["server.tls.certificate.secretNmae"]);
    });

    it("reports a scalar where an allow-listed path needs an object on the way", () => {
        const options = { allow: ["server.tls.certificate.secretName"] };
        assert.deepEqual(unknownValuesKeys({ server: { tls: { certificate: "tls" } } }, defaults, options), [
            "server.tls.certificate: expected an object, found a string",
        ]);
    });

    it("accepts everything below a trailing ** but not the key itself as a scalar", () => {
        const options = { allow: ["server.extra.**"] };
        assert.deepEqual(unknownValuesKeys({ server: { extra: { a: { b: [1, { c: 2 }] } } } }, defaults, options), []);
        assert.deepEqual(unknownValuesKeys({ server: { extra: "a" } }, defaults, options), [
            "server.extra: expected an object, found a string",
        ]);
    });

    it("checks list items against the first item of a non-empty default list", () => {
        const values = {
            ports: [
                { name: "grpc", port: 9090 },
                { name: "metrics", prot: 9100 },
            ],
        };
        assert.deepEqual(unknownValuesKeys(values, defaults), ["ports[1].prot"]);
    });

    it("reports a scalar item where the default list holds objects", () => {
        assert.deepEqual(unknownValuesKeys({ ports: ["80"] }, defaults), [
            "ports[0]: expected an object, found a string",
        ]);
    });

    it("accepts scalar items in an empty default list and reports keys of object items unless allow-listed", () => {
        assert.deepEqual(unknownValuesKeys({ args: ["--flag"] }, defaults), []);
        const values = { volumes: [{ name: "tls", secret: { secretName: "tls" } }] };
        assert.deepEqual(unknownValuesKeys(values, defaults), ["volumes[0].name", "volumes[0].secret"]);
        const options = { allow: ["volumes[].name", "volumes[].secret.**"] };
        assert.deepEqual(unknownValuesKeys(values, defaults, options), []);
    });

    it("accepts null for a known key and reports null for an unknown one", () => {
        const values = { image: null, server: { tls: null }, ports: null, imgae: null };
        assert.deepEqual(unknownValuesKeys(values, defaults), ["imgae"]);
    });

    it("reports an object default given a scalar, a scalar given an object, and a list given an object", () => {
        const values = { server: "tls", replicas: { count: 2 }, ports: { http: 80 } };
        assert.deepEqual(unknownValuesKeys(values, defaults), [
            "server: expected an object, found a string",
            "replicas: expected a number, found an object",
            "ports: expected a list, found an object",
        ]);
    });

    it("does not compare scalar types with each other", () => {
        assert.deepEqual(unknownValuesKeys({ replicas: "2", config: false, image: { tag: 1 } }, defaults), []);
    });

    it("treats secrets, unknowns and resource references as leaves", () => {
        const values = {
            server: new Secret({ tls: { anything: true } }),
            image: Unknown.instance,
            labels: new ResourceRef("urn:pulumi:stack::project::type::name"),
        };
        assert.deepEqual(unknownValuesKeys(values, defaults), []);
    });

    it("reports values that are not an object, a secret included", () => {
        assert.deepEqual(unknownValuesKeys(new Secret({ replicas: 1 }), defaults), [
            "(values): expected an object, found a secret",
        ]);
        assert.deepEqual(unknownValuesKeys([], defaults), ["(values): expected an object, found a list"]);
    });

    it("quotes keys holding dots in reported paths and matches them in patterns", () => {
        const values = { labels: { "app.kubernetes.io/name": "x" } };
        assert.deepEqual(unknownValuesKeys(values, defaults), ['labels["app.kubernetes.io/name"]']);
        assert.deepEqual(unknownValuesKeys(values, defaults, { allow: ['labels["app.kubernetes.io/name"]'] }), []);
    });

    it("checks subchart keys against the union of the parent's entry and the subchart's defaults", () => {
        const parent = { sub: { enabled: true, parentOnly: {} }, own: 1 };
        const subchart = { image: { tag: "" }, resources: {} };
        const options: ValuesKeysOptions = { subcharts: { sub: subchart } };
        const values = { sub: { enabled: false, parentOnly: {}, image: { tag: "2" }, imag: {} }, own: 2 };
        assert.deepEqual(unknownValuesKeys(values, parent, options), ["sub.imag"]);
        assert.deepEqual(unknownValuesKeys(values, parent), ["sub.image", "sub.imag"]);
    });

    it("merges subchart defaults with the parent's winning on scalars and kinds, and null giving way", () => {
        assert.deepEqual(
            mergeDefaults(
                { a: 1, b: { x: 1 }, c: null, d: [], e: [{ p: 1 }], f: "s" },
                { a: 2, b: { y: 2 }, c: { z: 3 }, d: [{ q: 1 }], e: [{ r: 2 }], f: { g: 1 }, h: true },
            ),
            { a: 1, b: { y: 2, x: 1 }, c: { z: 3 }, d: [{ q: 1 }], e: [{ r: 2, p: 1 }], f: "s", h: true },
        );
    });

    it("applies an allow pattern with an inner * only under keys the defaults have", () => {
        const base = { app: { resources: {} }, sidecar: { image: "" } };
        const options = { allow: ["*.resources.{requests,limits}.*"] };
        assert.deepEqual(unknownValuesKeys({ app: { resources: { requests: { cpu: "1" } } } }, base, options), []);
        assert.deepEqual(unknownValuesKeys({ app: { resources: { reqests: { cpu: "1" } } } }, base, options), [
            "app.resources.reqests",
        ]);
        // Neither a misspelt component nor a component without resources gets them.
        assert.deepEqual(unknownValuesKeys({ apq: { resources: { limits: { cpu: "1" } } } }, base, options), ["apq"]);
        assert.deepEqual(unknownValuesKeys({ sidecar: { resources: { limits: { cpu: "1" } } } }, base, options), [
            "sidecar.resources",
        ]);
    });
});

describe("PathPattern", () => {
    const matches = (pattern: string, path: PathSegment[]): boolean => new PathPattern(pattern).matches(path);

    it("matches * against exactly one key and not a list item", () => {
        assert.equal(matches("a.*", ["a", "b"]), true);
        assert.equal(matches("a.*", ["a", "b", "c"]), false);
        assert.equal(matches("a.*", ["a"]), false);
        assert.equal(matches("a.*", ["a", 0]), false);
    });

    it("matches a trailing ** against one or more segments of any kind", () => {
        assert.equal(matches("a.**", ["a", "b"]), true);
        assert.equal(matches("a.**", ["a", 0, "c", "d"]), true);
        assert.equal(matches("a.**", ["a"]), false);
        assert.equal(matches("a.**", ["b", "c"]), false);
    });

    it("matches {a,b} against either key, [] against any item and a quoted key literally", () => {
        assert.equal(matches("{x,y}.v[].n", ["y", "v", 3, "n"]), true);
        assert.equal(matches("{x,y}.v[].n", ["z", "v", 3, "n"]), false);
        assert.equal(matches("{x,y}.v[].n", ["x", "v", "3", "n"]), false);
        assert.equal(matches('a["b.c"].d', ["a", "b.c", "d"]), true);
        assert.equal(matches('a["b.c"].d', ["a", "b", "c", "d"]), false);
    });

    it("rejects malformed patterns", () => {
        for (const bad of ["", "a..b", "a.", "**.a", "a.**.b", "a.[]", "a*b", "a.{}", 'a["b']) {
            assert.throws(() => new PathPattern(bad), /values path pattern/, bad);
        }
    });

    it("formats paths with dots, item indices and quoted keys", () => {
        assert.equal(formatPath(["a", "b", 0, "c.d", "e"]), 'a.b[0]["c.d"].e');
        assert.equal(formatPath([]), "(values)");
    });
});

// ---------------------------------------------------------------------------------------------
// The rules per chart: which defaults files, and which keys are valid beyond them.

interface ChartVersionFiles {
    /** The chart's default values, in test/fixtures/chart-values. */
    defaults: string;
    /** Each subchart's default values, by the key its values live under in the parent. */
    subcharts?: Readonly<Record<string, string>>;
}

interface ChartRule {
    versions: Readonly<Record<string, ChartVersionFiles>>;
    /**
     * Top-level maps that values.yaml documents only as a comment (`# podAnnotations: {}`),
     * which its templates read: taken as empty maps in the defaults.
     */
    commented?: readonly string[];
    freeForm: readonly string[];
    allow: readonly string[];
}

/** core/v1 VolumeMount fields. */
const VOLUME_MOUNT_FIELDS = "{name,mountPath,readOnly,recursiveReadOnly,subPath,subPathExpr,mountPropagation}";
/** The volume sources (core/v1 Volume) the stack mounts: Secrets, ConfigMaps, claims, scratch space. */
const VOLUME_SOURCES = "{secret,configMap,projected,persistentVolumeClaim,emptyDir}";
/** prometheus-operator RelabelConfig fields (camelCase; the CRD drops other keys silently). */
const RELABEL_FIELDS = "{action,modulus,regex,replacement,separator,sourceLabels,targetLabel}";
/** core/v1 PodAffinityTerm fields below a required pod affinity: a label selector and the topology key. */
const podAffinityTerms = (prefix: string) => [
    `${prefix}.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[].labelSelector.matchLabels.*`,
    `${prefix}.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[].topologyKey`,
];
/** The scalar fields of core/v1 SecurityContext (of a container). */
const SECURITY_CONTEXT_SCALARS =
    "{allowPrivilegeEscalation,privileged,procMount,readOnlyRootFilesystem,runAsGroup,runAsNonRoot,runAsUser}";

/*
 * Considered and not needed, because the defaults have them: kube-prometheus-stack
 * `prometheus.prometheusSpec.secrets` and `kubeEtcd.endpoints` (lists of strings, which carry no
 * keys), the `*SelectorNilUsesHelmValues` keys; thanos `*.extraArgs` (strings) and
 * `objstoreConfig.{create,name,key,value}`.
 */
const CHART_RULES: Readonly<Record<string, ChartRule>> = {
    "kube-prometheus-stack": {
        versions: {
            "88.5.3": {
                defaults: "kube-prometheus-stack-88.5.3.json",
                subcharts: {
                    "kube-state-metrics": "kube-state-metrics-8.4.0.json",
                    "prometheus-node-exporter": "prometheus-node-exporter-4.56.1.json",
                    grafana: "grafana-12.11.1.json",
                },
            },
        },
        freeForm: [
            // `[]`: each item is copied into the Prometheus resource as a RemoteWriteSpec.
            "prometheus.prometheusSpec.remoteWrite",
            // `[]`: raw Prometheus scrape_config entries, written into a Secret the Prometheus resource reads.
            "prometheus.prometheusSpec.additionalScrapeConfigs",
            // `[]`: raw Prometheus alertmanager_config entries, written into a Secret the Prometheus resource reads.
            "prometheus.prometheusSpec.additionalAlertManagerConfigs",
        ],
        allow: [
            // `{}`: the sidecar, copied into the Prometheus resource's spec.thanos. The template renders
            // objectStorageConfig only as .existingSecret or .secret (P4): {name, key} at its root is dropped.
            "prometheus.prometheusSpec.thanos.objectStorageConfig.existingSecret.{name,key}",
            "prometheus.prometheusSpec.thanos.objectStorageConfig.secret.**",
            "prometheus.prometheusSpec.thanos.resources.{requests,limits}.*",
            `prometheus.prometheusSpec.thanos.volumeMounts[].${VOLUME_MOUNT_FIELDS}`,
            "prometheus.prometheusSpec.thanos.{image,version,logLevel,logFormat}",
            "prometheus.prometheusSpec.thanos.grpcServerTlsConfig.**",
            // `{}`: external label name to value, copied into the Prometheus resource.
            "prometheus.prometheusSpec.externalLabels.*",
            // `{}`: core/v1 ResourceRequirements of a component (operator, subcharts).
            "*.resources.{requests,limits}.*",
            // `{}`: core/v1 ResourceRequirements of a component one level down (prometheusSpec, alertmanagerSpec, …).
            "*.*.resources.{requests,limits}.*",
            // `{}`: the Prometheus resource's StorageSpec, one volume kind of it.
            "prometheus.prometheusSpec.storageSpec.{volumeClaimTemplate,emptyDir,ephemeral}.**",
            // `{}`: the Alertmanager resource's StorageSpec, one volume kind of it.
            "alertmanager.alertmanagerSpec.storage.{volumeClaimTemplate,emptyDir,ephemeral}.**",
            // `[]`: core/v1 Volume items of the Prometheus pod: the name…
            "prometheus.prometheusSpec.volumes[].name",
            // …and the volume source.
            `prometheus.prometheusSpec.volumes[].${VOLUME_SOURCES}.**`,
            // `[]`: core/v1 VolumeMount items of the prometheus container.
            `prometheus.prometheusSpec.volumeMounts[].${VOLUME_MOUNT_FIELDS}`,
            // `[]`: ScrapeClass items of the Prometheus resource: their scalar fields…
            "prometheus.prometheusSpec.scrapeClasses[].{name,default,fallbackScrapeProtocol}",
            // …their RelabelConfig lists…
            `prometheus.prometheusSpec.scrapeClasses[].{relabelings,metricRelabelings}[].${RELABEL_FIELDS}`,
            // …and their CRD sub-objects.
            "prometheus.prometheusSpec.scrapeClasses[].{tlsConfig,authorization,attachMetadata}.**",
            // Commented out in values.yaml; the template sets it on the Alertmanager resource.
            "alertmanager.alertmanagerSpec.configSecret",
            // `{}`: alert name to true; every default alert's template checks its own entry
            // (`.Values.defaultRules.disabled.<AlertName>`). Names checked in test/alerts.test.ts.
            "defaultRules.disabled.*",
            // `{}`: annotation name to value on the dashboard ConfigMaps (the Grafana folder).
            "grafana.sidecar.dashboards.annotations.*",
            // ServiceMonitor relabelings: RelabelConfig items (some defaults hold an item with fewer fields).
            `*.serviceMonitor.{metricRelabelings,relabelings}[].${RELABEL_FIELDS}`,
            // `{}`: the Prometheus pods' labels (the bucket volume's co-location label)…
            "prometheus.prometheusSpec.podMetadata.labels.*",
            // …and their annotations (the fleet CA's revision, which rolls the sidecar's client CA).
            "prometheus.prometheusSpec.podMetadata.annotations.*",
            // …and core/v1 Affinity: the required pod affinity that puts them on the bucket's node.
            ...podAffinityTerms("prometheus.prometheusSpec.affinity"),
        ],
    },
    thanos: {
        versions: {
            "1.24.1": { defaults: "thanos-1.24.1.json" },
        },
        freeForm: [],
        allow: [
            // `{}`: core/v1 ResourceRequirements of a component (query, storeGateway, compact, …).
            "*.resources.{requests,limits}.*",
            // `{}`: core/v1 ResourceRequirements of receive.router and receive.ingestor.
            "*.*.resources.{requests,limits}.*",
            // `[]`: core/v1 Volume items of a component's pod (TLS material: the chart has no TLS values): the name…
            "*.extraVolumes[].name",
            // …and the volume source.
            `*.extraVolumes[].${VOLUME_SOURCES}.**`,
            // The same for receive.router and receive.ingestor: the name…
            "*.*.extraVolumes[].name",
            // …and the volume source.
            `*.*.extraVolumes[].${VOLUME_SOURCES}.**`,
            // `[]`: core/v1 VolumeMount items of a component's container.
            `*.extraVolumeMounts[].${VOLUME_MOUNT_FIELDS}`,
            // The same for receive.router and receive.ingestor.
            `*.*.extraVolumeMounts[].${VOLUME_MOUNT_FIELDS}`,
            // `{}`: annotation name to value on a component's pods.
            "*.podAnnotations.*",
            // The same for receive.router and receive.ingestor.
            "*.*.podAnnotations.*",
            // `{}`: label name to value on a component's pods (the bucket volume's co-location label).
            "*.podLabels.*",
            // The same for receive.ingestor.
            "*.*.podLabels.*",
            // `{}`: core/v1 Affinity of a component's pods: the required pod affinity to the bucket's node.
            ...podAffinityTerms("*.affinity"),
            // The same for receive.ingestor.
            ...podAffinityTerms("*.*.affinity"),
        ],
    },
    loki: {
        versions: {
            "18.11.0": { defaults: "loki-18.11.0.json" },
        },
        freeForm: [],
        allow: [
            // `{}`: Loki's schema_config, copied into its config file: period_config items, as in testSchemaConfig…
            "loki.schemaConfig.configs[].{from,store,object_store,schema,row_shards}",
            // …and their index and chunk table settings.
            "loki.schemaConfig.configs[].{index,chunks}.{prefix,period}",
            // `{}`: Loki's compactor block (top-level `compactor` is the component): retention needs both here (P8).
            "loki.compactor.{retention_enabled,delete_request_store}",
            // Loki's limits_config, copied into its config file: the retention itself lives here (P8).
            "loki.limits_config.retention_period",
            // `{}`: Loki's querier block: Grafana and the report query several tenants (clusters) at once.
            "loki.querier.multi_tenant_queries_enabled",
            // Commented out in values.yaml; the templates read these two and no other (no `admin`).
            "loki.storage.bucketNames.{chunks,ruler}",
            // `[]`: core/v1 EnvFromSource items of every Loki pod: the Secret or ConfigMap…
            "global.extraEnvFrom[].{secretRef,configMapRef}.{name,optional}",
            // …and the variables' prefix.
            "global.extraEnvFrom[].prefix",
            // core/v1 TCPSocketAction: requests need a client certificate: `httpGet: null`, probe the port (P13, P14).
            "gateway.readinessProbe.tcpSocket.{port,host}",
            // `[]`: core/v1 Volume items of the gateway pod (its TLS material): the name…
            "gateway.extraVolumes[].name",
            // …and the volume source.
            `gateway.extraVolumes[].${VOLUME_SOURCES}.**`,
            // `[]`: core/v1 VolumeMount items of the nginx container.
            `gateway.extraVolumeMounts[].${VOLUME_MOUNT_FIELDS}`,
            // `{}`: annotation name to value on the gateway's pods.
            "gateway.podAnnotations.*",
            // `{}`: core/v1 ResourceRequirements of a component (singleBinary, gateway, the distributed ones).
            "*.resources.{requests,limits}.*",
        ],
    },
    vector: {
        versions: {
            "0.56.0": { defaults: "vector-0.56.0.json" },
        },
        freeForm: [
            // `{}`: Vector's own configuration, written as its config file; checked by vectorConfigProblems instead.
            "customConfig",
        ],
        allow: [
            // `{}`: core/v1 ResourceRequirements of the vector container.
            "resources.{requests,limits}.*",
            // `{}`: core/v1 SecurityContext of the vector container: its scalar fields…
            `securityContext.${SECURITY_CONTEXT_SCALARS}`,
            // …its capabilities…
            "securityContext.capabilities.{add,drop}",
            // …and its seccomp profile.
            "securityContext.seccompProfile.{type,localhostProfile}",
            // `[]`: core/v1 Volume items of the pod (the cluster identity): the name…
            "extraVolumes[].name",
            // …and the volume source.
            `extraVolumes[].${VOLUME_SOURCES}.**`,
            // `[]`: core/v1 VolumeMount items of the vector container.
            `extraVolumeMounts[].${VOLUME_MOUNT_FIELDS}`,
            // `{}`: annotation name to value on the pods.
            "podAnnotations.*",
        ],
    },
    tempo: {
        versions: {
            "2.2.4": { defaults: "tempo-2.2.4.json" },
        },
        freeForm: [],
        allow: [
            // `{}`: OTLP receiver server TLS (configtls), which only shapes the Service here: the
            // configuration file is ours (`config`). `client_ca_file` is what verifies clients (P6).
            "tempo.receivers.otlp.protocols.{grpc,http}.tls.{cert_file,key_file,client_ca_file,client_ca_file_reload,reload_interval,min_version}",
            // `{}`: core/v1 ResourceRequirements of the tempo container.
            "tempo.resources.{requests,limits}.*",
            // `{}` (its keys commented out): core/v1 SecurityContext of the tempo container: scalars…
            `tempo.securityContext.${SECURITY_CONTEXT_SCALARS}`,
            // …capabilities…
            "tempo.securityContext.capabilities.{add,drop}",
            // …and the seccomp profile.
            "tempo.securityContext.seccompProfile.{type,localhostProfile}",
            // `[]`: core/v1 EnvFromSource items (the object-storage credentials Secret).
            "tempo.extraEnvFrom[].{secretRef,configMapRef}.{name,optional}",
            // `[]`: core/v1 VolumeMount items of the tempo container (its certificates).
            `tempo.extraVolumeMounts[].${VOLUME_MOUNT_FIELDS}`,
            // `[]`: core/v1 Volume items of the pod: the name…
            "extraVolumes[].name",
            // …and the volume source.
            `extraVolumes[].${VOLUME_SOURCES}.**`,
            // Commented out in values.yaml; the StatefulSet's claim template reads it.
            "persistence.storageClassName",
            // `{}`: annotation name to value on the pod.
            "podAnnotations.*",
        ],
    },
    "tempo-distributed": {
        versions: {
            "2.26.2": { defaults: "tempo-distributed-2.26.2.json" },
        },
        freeForm: [],
        allow: [
            // `{}`: merged over the receiver's `{endpoint}`: server TLS, `client_ca_file` verifying clients (P6).
            "traces.otlp.{grpc,http}.receiverConfig.tls.{cert_file,key_file,client_ca_file,client_ca_file_reload,reload_interval,min_version}",
            // `{}`: Tempo's overrides block, copied whole: the processors every tenant runs.
            "overrides.defaults.metrics_generator.processors",
            // `[]`: Prometheus remote_write entries of the metrics-generator, copied into its configuration…
            "metricsGenerator.config.storage.remote_write[].{url,send_exemplars}",
            // …with their client TLS (prometheus/common tls_config).
            "metricsGenerator.config.storage.remote_write[].tls_config.{ca_file,cert_file,key_file,server_name,min_version}",
            // Tempo's service-graph option: `client_`/`server_` prefixes on the dimensions' labels.
            "metricsGenerator.config.processor.service_graphs.enable_client_server_prefix",
            // Copied as-is when the backend is s3 (commented out in values.yaml): Tempo's S3 settings.
            "storage.trace.s3.{bucket,endpoint,region,forcepathstyle,insecure}",
            // `[]`: core/v1 EnvFromSource items of every Tempo pod (the object-storage credentials Secret).
            "global.extraEnvFrom[].{secretRef,configMapRef}.{name,optional}",
            // core/v1 SecurityContext of every component's container: the seccomp profile its default lacks.
            "tempo.securityContext.seccompProfile.{type,localhostProfile}",
            // `{}`: core/v1 ResourceRequirements of a component.
            "*.resources.{requests,limits}.*",
            // `[]`: core/v1 Volume items of a component's pod (its certificates): the name…
            "*.extraVolumes[].name",
            // …and the volume source.
            `*.extraVolumes[].${VOLUME_SOURCES}.**`,
            // `[]`: core/v1 VolumeMount items of a component's container.
            `*.extraVolumeMounts[].${VOLUME_MOUNT_FIELDS}`,
            // `{}`: annotation name to value on a component's pods.
            "*.podAnnotations.*",
        ],
    },
    "opentelemetry-collector": {
        versions: {
            "0.170.0": { defaults: "opentelemetry-collector-0.170.0.json" },
        },
        freeForm: [
            // `{}`: the collector's configuration file, used as it is; checked by collectorConfigProblems instead.
            "alternateConfig",
        ],
        allow: [
            // `[]`: rbac/v1 PolicyRule items of the ClusterRole (k8s_attributes reads pods and replica sets).
            "clusterRole.rules[].{apiGroups,resources,verbs,resourceNames}",
            // `{}`: core/v1 ResourceRequirements of the collector container.
            "resources.{requests,limits}.*",
            // `{}`: core/v1 PodSecurityContext: its scalar fields…
            "podSecurityContext.{fsGroup,fsGroupChangePolicy,runAsGroup,runAsNonRoot,runAsUser}",
            // …and its seccomp profile.
            "podSecurityContext.seccompProfile.{type,localhostProfile}",
            // `{}`: core/v1 SecurityContext of the collector container: scalars…
            `securityContext.${SECURITY_CONTEXT_SCALARS}`,
            // …and capabilities.
            "securityContext.capabilities.{add,drop}",
            // `[]`: core/v1 PersistentVolumeClaim items, copied into the StatefulSet (the queue volume).
            "statefulset.volumeClaimTemplates[].{metadata,spec}.**",
            // `[]`: core/v1 Volume items of the pod (the cluster identity): the name…
            "extraVolumes[].name",
            // …and the volume source.
            `extraVolumes[].${VOLUME_SOURCES}.**`,
            // `[]`: core/v1 VolumeMount items of the collector container.
            `extraVolumeMounts[].${VOLUME_MOUNT_FIELDS}`,
            // `{}`: annotation name to value on the pods.
            "podAnnotations.*",
        ],
    },
    grafana: {
        versions: {
            "12.11.1": { defaults: "grafana-12.11.1.json" },
        },
        // `# podAnnotations: {}` (values.yaml:233), read by the Deployment template.
        commented: ["podAnnotations"],
        freeForm: [
            // `{}`: annotation name to value on the pod.
            "podAnnotations",
            // `{}`: provisioning file name to content; a `secret` entry is written into a Secret (P22: via tpl).
            "datasources",
            // `{}`: environment variable name to core/v1 EnvVarSource (the OIDC client secret).
            "envValueFrom",
        ],
        allow: [
            // grafana.ini settings the defaults lack, written into the ini file (strings through tpl).
            '["grafana.ini"].analytics.{check_for_plugin_updates,reporting_enabled}',
            '["grafana.ini"]["auth.anonymous"].enabled',
            '["grafana.ini"].users.allow_sign_up',
            '["grafana.ini"].security.{disable_gravatar,cookie_secure,cookie_samesite,allow_embedding}',
            '["grafana.ini"].server.root_url',
            '["grafana.ini"]["auth.generic_oauth"].{enabled,name,client_id,scopes,auth_url,token_url,api_url}',
            '["grafana.ini"]["auth.generic_oauth"].{allow_sign_up,use_pkce,role_attribute_path,role_attribute_strict}',
            // Commented out in values.yaml; the claim template sets it.
            "persistence.storageClassName",
            // `[]`: Secret mounts, rendered as a Secret volume and a mount of it.
            "extraSecretMounts[].{name,secretName,mountPath,readOnly,defaultMode,subPath,optional}",
            // `[]`: scratch directories, rendered as an emptyDir volume and a mount of it.
            "extraEmptyDirMounts[].{name,mountPath}",
            // `{}`: core/v1 ResourceRequirements of Grafana and of its sidecars.
            "resources.{requests,limits}.*",
            "sidecar.resources.{requests,limits}.*",
            // `{}`: core/v1 SecurityContext of the Grafana container and of the sidecars: scalars…
            `containerSecurityContext.${SECURITY_CONTEXT_SCALARS}`,
            `sidecar.securityContext.${SECURITY_CONTEXT_SCALARS}`,
            // …capabilities…
            "containerSecurityContext.capabilities.{add,drop}",
            "sidecar.securityContext.capabilities.{add,drop}",
            // …and seccomp profile.
            "containerSecurityContext.seccompProfile.{type,localhostProfile}",
            "sidecar.securityContext.seccompProfile.{type,localhostProfile}",
        ],
    },
    traefik: {
        versions: {
            "41.3.0": { defaults: "traefik-41.3.0.json" },
        },
        freeForm: [],
        allow: [
            // `{}`: OpenTelemetry resource attribute name to value on Traefik's spans.
            "tracing.resourceAttributes.*",
        ],
    },
};

const valuesFile = (file: string): string => fixture(`chart-values/${file}`);

const loaded = new Map<string, unknown>();
function loadJson(file: string): unknown {
    if (!loaded.has(file)) loaded.set(file, JSON.parse(fs.readFileSync(valuesFile(file), "utf8")) as unknown);
    return loaded.get(file);
}

interface LoadedRule {
    defaults: unknown;
    options: ValuesKeysOptions;
}

/** The defaults and options for a chart version; throws, saying what to add, when there are none. */
function ruleFor(chart: string, version: string): LoadedRule {
    const missing = `add test/fixtures/chart-values/${chart}-${version}.json and its entry in CHART_RULES (test/values-keys.test.ts)`;
    const rule = CHART_RULES[chart];
    if (rule === undefined) throw new Error(`no values-key rule for chart ${chart}: ${missing}`);
    const files = rule.versions[version];
    if (files === undefined) throw new Error(`no defaults for ${chart} ${version}: ${missing}`);
    if (!fs.existsSync(valuesFile(files.defaults))) throw new Error(`no file ${files.defaults}: ${missing}`);
    const subcharts = Object.fromEntries(
        Object.entries(files.subcharts ?? {}).map(([key, file]) => [key, loadJson(file)]),
    );
    const commented = Object.fromEntries((rule.commented ?? []).map((key) => [key, {}]));
    return {
        defaults: { ...commented, ...(loadJson(files.defaults) as Record<string, unknown>) },
        options: { freeForm: rule.freeForm, allow: rule.allow, subcharts },
    };
}

/** Every path of a defaults tree: keys of objects and indices of list items. */
function defaultPaths(value: unknown, path: PathSegment[] = []): { path: PathSegment[]; value: unknown }[] {
    const out = path.length > 0 ? [{ path, value }] : [];
    if (Array.isArray(value)) value.forEach((item, i) => out.push(...defaultPaths(item, [...path, i])));
    else if (value !== null && typeof value === "object") {
        for (const [key, child] of Object.entries(value)) out.push(...defaultPaths(child, [...path, key]));
    }
    return out;
}

/** The defaults of a chart version with its subcharts merged in, as the checker sees them. */
function mergedDefaults(chart: string, version: string): unknown {
    const { defaults, options } = ruleFor(chart, version);
    const merged = { ...(defaults as Record<string, unknown>) };
    for (const [key, sub] of Object.entries(options.subcharts ?? {})) merged[key] = mergeDefaults(merged[key], sub);
    return merged;
}

/** The chart's JSON schema of its values, where it ships one (`<chart>-<version>.schema.json`). */
function schemaFor(chart: string, version: string): unknown {
    const file = `${chart}-${version}.schema.json`;
    return fs.existsSync(valuesFile(file)) ? loadJson(file) : undefined;
}

const isSchemaObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);

/** The schema a local `$ref` (`#/a/b`) points to; undefined when it is not local or not found. */
function resolveRef(root: unknown, ref: string): unknown {
    if (!ref.startsWith("#")) return undefined;
    const tokens = ref.slice(1).split("/").slice(1);
    let node = root;
    for (const token of tokens.map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"))) {
        node = isSchemaObject(node) && Object.hasOwn(node, token) ? node[token] : undefined;
    }
    return node;
}

/**
 * Whether a JSON schema lets values reach every path a pattern matches: each key is one of the
 * `properties`, matches `patternProperties` or is let through by `additionalProperties`; a `*`
 * needs one of them to admit the rest; `**` and an absent or `true` schema admit everything below.
 * Follows local `$ref`s, `allOf` (all must admit) and `anyOf`/`oneOf` (one must).
 */
function schemaAdmits(root: unknown, node: unknown, matchers: PathPattern["matchers"]): boolean {
    if (typeof node === "boolean") return node;
    if (!isSchemaObject(node)) return true;
    const admits = (child: unknown, rest: PathPattern["matchers"]): boolean => schemaAdmits(root, child, rest);
    if (typeof node.$ref === "string") return admits(resolveRef(root, node.$ref), matchers);
    if (Array.isArray(node.allOf) && !node.allOf.every((s) => admits(s, matchers))) return false;
    for (const choice of [node.anyOf, node.oneOf]) {
        if (Array.isArray(choice) && !choice.some((s) => admits(s, matchers))) return false;
    }
    const [head, ...rest] = matchers;
    if (head === undefined || head.kind === "rest") return true;
    if (head.kind === "item") return admits(Array.isArray(node.items) ? true : node.items, rest);
    const properties = isSchemaObject(node.properties) ? node.properties : {};
    const patterns = isSchemaObject(node.patternProperties) ? Object.entries(node.patternProperties) : [];
    const additional = node.additionalProperties;
    if (head.kind === "anyKey") {
        return [additional, ...Object.values(properties), ...patterns.map(([, s]) => s)].some((s) => admits(s, rest));
    }
    return [...head.names].every((name) => {
        if (Object.hasOwn(properties, name)) return admits(properties[name], rest);
        const matching = patterns.filter(([regex]) => new RegExp(regex, "u").test(name));
        return matching.length > 0 ? matching.every(([, s]) => admits(s, rest)) : admits(additional, rest);
    });
}

const ruleVersions = (): [string, string, ChartRule][] =>
    Object.entries(CHART_RULES).flatMap(([chart, rule]) =>
        Object.keys(rule.versions).map((version): [string, string, ChartRule] => [chart, version, rule]),
    );

describe("schemaAdmits", () => {
    const schema = {
        type: "object",
        additionalProperties: false,
        properties: {
            open: { type: "object", additionalProperties: true },
            strict: { $ref: "#/$defs/strict" },
            labels: { type: "object", additionalProperties: { type: "string" } },
            list: { type: "array", items: { $ref: "#/$defs/strict" } },
            both: { allOf: [{ type: "object" }, { $ref: "#/$defs/strict" }] },
            env: {
                type: "object",
                additionalProperties: false,
                patternProperties: { "^[A-Z_]+$": { type: "string" } },
            },
        },
        $defs: { strict: { type: "object", additionalProperties: false, properties: { name: { type: "string" } } } },
    };
    const admits = (source: string): boolean => schemaAdmits(schema, schema, new PathPattern(source).matchers);

    it("admits declared properties and anything below an open block", () => {
        for (const source of ["open.a.b", "open.**", "strict.name", "labels.team", "list[].name", "both.name"]) {
            assert.equal(admits(source), true, source);
        }
    });

    it("refuses keys a block with additionalProperties false does not declare, through $ref, items and allOf", () => {
        for (const source of ["opne", "strict.nmae", "list[].nmae", "both.nmae", "{open,opne}.a"]) {
            assert.equal(admits(source), false, source);
        }
    });

    it("admits keys matching patternProperties and * where some property or pattern admits the rest", () => {
        assert.equal(admits("env.LOG_LEVEL"), true);
        assert.equal(admits("env.log_level"), false);
        assert.equal(admits("*.name"), true);
        assert.equal(admits("*.nmae"), true, "open.nmae");
        assert.equal(admits("{strict,list}.nmae"), false);
    });
});

describe("values-key rules per chart", () => {
    it("keeps a defaults file for every chart version pinned in components/core/versions.ts", () => {
        for (const pin of Object.values(charts)) {
            const file = `${pin.chart}-${pin.version}.json`;
            assert.ok(fs.existsSync(valuesFile(file)), `add test/fixtures/chart-values/${file}`);
        }
    });

    it("has a rule for the pinned version of every chart it has rules for", () => {
        const pinned = new Map<string, string>(Object.values(charts).map((pin) => [pin.chart, pin.version]));
        for (const [chart, rule] of Object.entries(CHART_RULES)) {
            const version = pinned.get(chart);
            assert.ok(version !== undefined && rule.versions[version] !== undefined, `${chart} ${version}`);
        }
    });

    it("loads every defaults file of every rule as an object", () => {
        for (const [chart, version] of ruleVersions()) {
            const { defaults, options } = ruleFor(chart, version);
            for (const value of [defaults, ...Object.values(options.subcharts ?? {})]) {
                assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), chart);
            }
        }
    });

    it("declares free-form only keys the defaults have, each with an empty, null or scalar default", () => {
        for (const [chart, version, rule] of ruleVersions()) {
            const paths = defaultPaths(mergedDefaults(chart, version));
            for (const source of rule.freeForm) {
                const pattern = new PathPattern(source);
                const hits = paths.filter((p) => pattern.matches(p.path));
                assert.ok(hits.length > 0, `${chart}: free-form ${source} is not in the defaults`);
                for (const hit of hits) {
                    const open =
                        hit.value === null ||
                        typeof hit.value !== "object" ||
                        Object.keys(hit.value as Record<string, unknown>).length === 0;
                    assert.ok(open, `${chart}: free-form ${formatPath(hit.path)} has a non-empty default`);
                }
            }
        }
    });

    it("allow-lists and declares free-form only paths the chart's JSON schema admits, where it ships one", () => {
        for (const [chart, version, rule] of ruleVersions()) {
            const schema = schemaFor(chart, version);
            if (schema === undefined) continue;
            for (const source of [...rule.freeForm, ...rule.allow]) {
                const pattern = new PathPattern(source);
                assert.ok(schemaAdmits(schema, schema, pattern.matchers), `${chart}: the schema refuses ${source}`);
            }
        }
    });

    it("declares as commented out only top-level keys the defaults really lack", () => {
        for (const [chart, version, rule] of ruleVersions()) {
            const files = rule.versions[version];
            assert.ok(files);
            const defaults = loadJson(files.defaults) as Record<string, unknown>;
            for (const key of rule.commented ?? []) {
                assert.equal(Object.hasOwn(defaults, key), false, `${chart}: ${key} is in the defaults; drop it`);
            }
        }
    });

    it("allow-lists only paths that continue from a key in the defaults, and plain paths the defaults lack", () => {
        for (const [chart, version, rule] of ruleVersions()) {
            const paths = defaultPaths(mergedDefaults(chart, version));
            for (const source of rule.allow) {
                const pattern = new PathPattern(source);
                const anchored = paths.some(
                    (p) => p.path.length >= pattern.anchor && pattern.next(p.path) !== undefined,
                );
                assert.ok(anchored, `${chart}: ${source} does not continue from any key in the defaults`);
                if (!/[*{[]/.test(source)) {
                    const present = paths.find((p) => pattern.matches(p.path));
                    assert.equal(present, undefined, `${chart}: ${source} is in the defaults; drop it`);
                }
            }
        }
    });
});

describe("values-key rules: kube-prometheus-stack", () => {
    const check = (values: unknown): string[] => {
        const { defaults, options } = ruleFor("kube-prometheus-stack", charts.kubePrometheusStack.version);
        return unknownValuesKeys(values, defaults, options);
    };

    it("reports a misspelt key in otherwise valid values", () => {
        assert.deepEqual(check({ prometheus: { prometheusSpec: { retention: "2d", retentionSzie: "8GB" } } }), [
            "prometheus.prometheusSpec.retentionSzie",
        ]);
    });

    it("accepts sub cluster values that rely on the allow-lists: remote write, resources, storage, relabelings", () => {
        const endpoint = { serverName: "metrics.obs.example.com", port: 443, url: "https://metrics.obs.example.com/" };
        const values = {
            fullnameOverride: "kps",
            crds: { enabled: true },
            alertmanager: { enabled: false },
            grafana: { enabled: false, forceDeployDashboards: true },
            kubeControllerManager: { enabled: false },
            kubeEtcd: { endpoints: ["10.0.0.2"], service: { port: 2381, targetPort: 2381 } },
            kubelet: {
                serviceMonitor: {
                    relabelings: [
                        { sourceLabels: ["node"], regex: "(.*)", targetLabel: "instance", action: "replace" },
                    ],
                },
            },
            "kube-state-metrics": {
                resources: { requests: { cpu: "10m", memory: "64Mi" } },
                prometheus: { monitor: { http: { honorLabels: true } } },
            },
            "prometheus-node-exporter": {
                namespaceOverride: "observability-agents",
                resources: { limits: { memory: "64Mi" } },
                hostRootFsMount: { enabled: false },
            },
            prometheus: {
                prometheusSpec: {
                    retention: "2d",
                    retentionSize: "8GB",
                    externalLabels: { cluster: "sub-eu-1" },
                    remoteWrite: [remoteWriteSpec(endpoint, "sub-eu-1-identity")],
                    resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "1Gi" } },
                    storageSpec: {
                        volumeClaimTemplate: {
                            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } },
                        },
                    },
                    serviceMonitorSelectorNilUsesHelmValues: false,
                    podMonitorSelectorNilUsesHelmValues: false,
                    secrets: ["sub-eu-1-identity"],
                },
            },
        };
        assert.deepEqual(check(values), []);
    });

    it("accepts main values that rely on the allow-lists: Thanos sidecar, Alertmanager Secret, volumes, scrape configs", () => {
        const values = {
            alertmanager: {
                alertmanagerSpec: {
                    useExistingSecret: true,
                    configSecret: "alertmanager-config",
                    replicas: 2,
                    storage: { volumeClaimTemplate: { spec: { resources: { requests: { storage: "1Gi" } } } } },
                },
            },
            prometheus: {
                thanosService: { enabled: true },
                prometheusSpec: {
                    thanos: {
                        objectStorageConfig: { existingSecret: { name: "thanos-objstore", key: "objstore.yml" } },
                        grpcServerTlsConfig: { certFile: "/tls/tls.crt", keyFile: "/tls/tls.key" },
                        volumeMounts: [{ name: "sidecar-tls", mountPath: "/tls", readOnly: true }],
                    },
                    volumes: [{ name: "sidecar-tls", secret: { secretName: "thanos-sidecar-tls" } }],
                    volumeMounts: [{ name: "sidecar-tls", mountPath: "/tls", readOnly: true }],
                    additionalScrapeConfigs: [{ job_name: "extra", static_configs: [{ targets: ["a:9100"] }] }],
                },
            },
        };
        assert.deepEqual(check(values), []);
    });

    it("reports misplaced and snake_case keys the chart would drop", () => {
        const values = {
            kubeStateMetrics: { serviceMonitor: { relabelings: [] } },
            kubelet: { serviceMonitor: { metricRelabelings: [{ source_labels: ["__name__"], action: "drop" }] } },
            prometheus: {
                prometheusSpec: {
                    tlsConfig: {},
                    volumeMounts: [{ name: "tls", mountpath: "/tls" }],
                    resources: { request: { cpu: "1" } },
                    externalLabels: { cluster: { name: "x" } },
                },
            },
            alertmanager: { alertmanagerSpec: { configSecret: { name: "x" } } },
        };
        // The sidecar's object storage in the CRD's shape, which the chart's template drops (P4).
        values.prometheus.prometheusSpec = {
            ...values.prometheus.prometheusSpec,
            thanos: { objectStorageConfig: { name: "thanos-objstore", key: "objstore.yml" } },
        } as typeof values.prometheus.prometheusSpec;
        assert.deepEqual(check(values), [
            "kubeStateMetrics.serviceMonitor",
            "kubelet.serviceMonitor.metricRelabelings[0].source_labels",
            "prometheus.prometheusSpec.tlsConfig",
            "prometheus.prometheusSpec.volumeMounts[0].mountpath",
            "prometheus.prometheusSpec.resources.request",
            "prometheus.prometheusSpec.externalLabels.cluster.name",
            "prometheus.prometheusSpec.thanos.objectStorageConfig.name",
            "prometheus.prometheusSpec.thanos.objectStorageConfig.key",
            "alertmanager.alertmanagerSpec.configSecret.name",
        ]);
    });
});

describe("values-key rules: thanos", () => {
    const check = (values: unknown): string[] => {
        const { defaults, options } = ruleFor("thanos", charts.thanos.version);
        return unknownValuesKeys(values, defaults, options);
    };

    it("accepts values that rely on the allow-lists: TLS volumes and mounts, resources", () => {
        const tlsVolume = { name: "tls", secret: { secretName: "thanos-receive-tls" } };
        const tlsMount = { name: "tls", mountPath: "/tls", readOnly: true };
        const values = {
            objstoreConfig: { create: false, name: "thanos-objstore", key: "objstore.yml" },
            additionalEndpoints: ["dnssrv+_grpc._tcp.kps-thanos-discovery.observability.svc.cluster.local"],
            additionalReplicaLabels: ["prometheus_replica"],
            compact: {
                enabled: true,
                extraArgs: ["--retention.resolution-raw=30d"],
                persistence: { enabled: true, size: "10Gi" },
                resources: { requests: { cpu: "50m" } },
            },
            storeGateway: { resources: { limits: { memory: "1Gi" } } },
            receive: {
                enabled: true,
                router: {
                    extraArgs: ["--remote-write.server-tls-cert=/tls/tls.crt"],
                    extraVolumes: [tlsVolume],
                    extraVolumeMounts: [tlsMount],
                    service: { type: "LoadBalancer" },
                    resources: { requests: { memory: "256Mi" } },
                },
                ingestor: { persistence: { enabled: true }, extraVolumes: [tlsVolume], extraVolumeMounts: [tlsMount] },
            },
        };
        assert.deepEqual(check(values), []);
    });

    it("reports a misspelt key, a wrong volume field and an object where the chart wants a string", () => {
        const values = {
            objstoreConfig: { value: { type: "S3" } },
            query: { extraVolumeMounts: [{ name: "tls", mountPath: "/tls", readonly: true }] },
            storeGateway: { extraVolumes: [{ name: "tls", secrets: { secretName: "x" } }] },
            recieve: { enabled: true },
        };
        assert.deepEqual(check(values), [
            "objstoreConfig.value: expected a string, found an object",
            "query.extraVolumeMounts[0].readonly",
            "storeGateway.extraVolumes[0].secrets",
            "recieve",
        ]);
    });
});

describe("values-key rules: loki", () => {
    const rule = () => ruleFor("loki", charts.loki.version);
    const check = (values: unknown): string[] => {
        const { defaults, options } = rule();
        return unknownValuesKeys(values, defaults, options);
    };
    const tlsVolume = { name: "gateway-tls", secret: { secretName: "logs-ingest-tls" } };
    const tlsMount = { name: "gateway-tls", mountPath: "/tls", readOnly: true };

    it("accepts main values that rely on the allow-lists: schema, retention, object storage, gateway TLS and probe", () => {
        const values = {
            fullnameOverride: "loki",
            deploymentMode: "Monolithic",
            loki: {
                auth_enabled: true,
                commonConfig: { replication_factor: 1 },
                schemaConfig: {
                    configs: [
                        {
                            from: "2024-04-01",
                            store: "tsdb",
                            object_store: "s3",
                            schema: "v13",
                            index: { prefix: "loki_index_", period: "24h" },
                        },
                    ],
                },
                storage: {
                    type: "s3",
                    bucketNames: { chunks: "hub-logs", ruler: "hub-logs" },
                    s3: { endpoint: "minio.storage.svc:9000", region: "us-east-1", s3ForcePathStyle: true },
                },
                compactor: { retention_enabled: true, delete_request_store: "s3" },
                limits_config: { retention_period: "744h" },
                querier: { multi_tenant_queries_enabled: true },
            },
            global: { extraEnvFrom: [{ secretRef: { name: "object-storage-credentials" } }] },
            singleBinary: {
                replicas: 1,
                resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
                persistence: { enabled: true, size: "10Gi", storageClass: null },
            },
            gateway: {
                enabled: true,
                resources: { requests: { cpu: "10m" } },
                service: { port: 8443 },
                nginxConfig: { ssl: true, httpSnippet: "map …", serverSnippet: "ssl …", locationSnippet: "if …" },
                extraVolumes: [tlsVolume],
                extraVolumeMounts: [tlsMount],
                readinessProbe: { httpGet: null, tcpSocket: { port: "http" } },
                metrics: { enabled: false },
                podAnnotations: { "observability/certificate-revision": "rev-gw" },
            },
            minio: { enabled: false },
            lokiCanary: { enabled: false },
            test: { enabled: false },
            chunksCache: { enabled: false },
            resultsCache: { enabled: false },
        };
        assert.deepEqual(check(values), []);
    });

    it("accepts the distributed components of the large profile with their replicas and resources", () => {
        const resources = { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "4Gi" } };
        const components = ["distributor", "ingester", "querier", "queryFrontend", "queryScheduler", "indexGateway"];
        const values: Record<string, unknown> = {
            deploymentMode: "Distributed",
            singleBinary: { replicas: 0 },
            read: { replicas: 0 },
            write: { replicas: 0 },
            backend: { replicas: 0 },
            compactor: { replicas: 1, resources },
        };
        for (const component of components) values[component] = { replicas: 2, resources };
        assert.deepEqual(check(values), []);
    });

    it("reports retention set on the top-level compactor, which is the component, not Loki's config (P8)", () => {
        const { defaults } = rule();
        const component = (defaults as { compactor: Record<string, unknown> }).compactor;
        assert.ok(Object.hasOwn(component, "replicas") && Object.hasOwn(component, "persistence"));
        const values = {
            compactor: { retention_enabled: true, delete_request_store: "s3" },
            limits_config: { retention_period: "744h" },
        };
        assert.deepEqual(check(values), [
            "compactor.retention_enabled",
            "compactor.delete_request_store",
            "limits_config",
        ]);
    });

    it("reports a misspelt retention key that the chart's JSON schema, open there, lets through", () => {
        const path = "loki.limits_config.retention_perid";
        const schema = schemaFor("loki", charts.loki.version);
        assert.equal(schemaAdmits(schema, schema, new PathPattern(path).matchers), true);
        assert.deepEqual(check({ loki: { limits_config: { retention_perid: "744h" } } }), [path]);
    });

    it("reports misspelt gateway keys: the probe, the volumes, the annotations and nginx", () => {
        const values = {
            gateway: {
                readinessProbe: { httpGet: null, tcpSocket: { prot: "http" } },
                extraVolumeMount: [tlsMount],
                extraVolumes: [{ name: "gateway-tls", secrets: { secretName: "logs-ingest-tls" } }],
                podAnnotation: { "observability/certificate-revision": "rev-gw" },
                nginxConfig: { serverSnipet: "ssl_verify_client on;" },
            },
        };
        assert.deepEqual(check(values), [
            "gateway.readinessProbe.tcpSocket.prot",
            "gateway.extraVolumeMount",
            "gateway.extraVolumes[0].secrets",
            "gateway.podAnnotation",
            "gateway.nginxConfig.serverSnipet",
        ]);
    });

    it("reports Loki config keys beyond the allow-list: a misspelt compactor key, a bucket the chart does not read", () => {
        const values = {
            loki: { compactor: { retention_enable: true }, storage: { bucketNames: { admin: "hub-logs" } } },
        };
        assert.deepEqual(check(values), ["loki.compactor.retention_enable", "loki.storage.bucketNames.admin"]);
    });
});

describe("values-key rules: vector", () => {
    const check = (values: unknown): string[] => {
        const { defaults, options } = ruleFor("vector", charts.vector.version);
        return unknownValuesKeys(values, defaults, options);
    };

    it("accepts agent values that rely on the allow-lists: configuration, security context, identity volume", () => {
        const values = {
            fullnameOverride: "vector",
            role: "Agent",
            customConfig: {
                data_dir: "/vector-data-dir",
                sources: { pods: { type: "kubernetes_logs" } },
                sinks: { main: { type: "loki", inputs: ["pods"], tls: { ca_file: "/tls/ca.crt" } } },
            },
            podHostNetwork: true,
            dnsPolicy: "ClusterFirstWithHostNet",
            resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
            securityContext: {
                runAsUser: 0,
                runAsNonRoot: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
            },
            extraVolumes: [{ name: "cluster-identity", secret: { secretName: "cluster-client-tls" } }],
            extraVolumeMounts: [{ name: "cluster-identity", mountPath: "/tls", readOnly: true }],
            podAnnotations: { "observability/certificate-revision": "rev-id" },
        };
        assert.deepEqual(check(values), []);
    });

    it("reports a misspelt top-level key and misspelt container fields", () => {
        const values = {
            podHostNetwrok: true,
            securityContext: { runAsNonroot: false, capabilities: { dorp: ["ALL"] } },
            resources: { limit: { memory: "256Mi" } },
            extraVolumeMounts: [{ name: "cluster-identity", mountpath: "/tls" }],
        };
        assert.deepEqual(check(values), [
            "podHostNetwrok",
            "securityContext.runAsNonroot",
            "securityContext.capabilities.dorp",
            "resources.limit",
            "extraVolumeMounts[0].mountpath",
        ]);
    });
});

// ---------------------------------------------------------------------------------------------
// The program: every chart of every example stack.

const MAIN_CHARTS = [
    "kube-prometheus-stack",
    "thanos",
    "loki",
    "vector",
    "tempo",
    "opentelemetry-collector",
    "grafana",
];
const STACKS: { stack: string; stackFile?: string; expected: string[] }[] = [
    { stack: "main", expected: MAIN_CHARTS },
    { stack: "sub", expected: ["kube-prometheus-stack", "vector", "opentelemetry-collector"] },
    { stack: "main-s3", stackFile: fixture("Pulumi.main-s3.yaml"), expected: MAIN_CHARTS },
    {
        stack: "main-large",
        stackFile: fixture("Pulumi.main-large.yaml"),
        expected: MAIN_CHARTS.map((c) => (c === "tempo" ? "tempo-distributed" : c)),
    },
];

/** The chart's name, whether given bare, as `repo/name` or as an OCI reference. */
const chartName = (chart: unknown): string => String(chart).split("/").pop() ?? "";

/** `a`, `a and b`, `a, b and c`. */
const listing = (items: readonly string[]): string =>
    items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1] ?? ""}`;

for (const { stack, stackFile, expected } of STACKS) {
    describe(`program: Helm values of the ${stack} stack`, () => {
        let helmCharts: ResourceRecord[];

        before(async () => {
            const result = await renderStack({ projectDir, stack, ...(stackFile === undefined ? {} : { stackFile }) });
            helmCharts = result.records.filter((r) => r.type === HELM_CHART_V4);
        });

        it("sets only values keys the pinned version of each chart knows", () => {
            const failures: string[] = [];
            for (const record of helmCharts) {
                const chart = chartName(record.inputs.chart);
                const version = String(record.inputs.version);
                const { defaults, options } = ruleFor(chart, version);
                const problems = unknownValuesKeys(record.inputs.values ?? {}, defaults, options);
                if (problems.length > 0) {
                    failures.push(`${record.name} (${chart} ${version}):`, ...problems.map((p) => `  ${p}`));
                }
            }
            assert.deepEqual(failures, [], `values the charts do not know:\n${failures.join("\n")}`);
        });

        it(`declares the ${listing(expected)} chart${expected.length > 1 ? "s" : ""} and no other`, () => {
            const declared = [...new Set(helmCharts.map((r) => chartName(r.inputs.chart)))].sort();
            assert.deepEqual(declared, [...expected].sort(), `the charts of the ${stack} stack`);
        });
    });
}
