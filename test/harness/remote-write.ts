import type { RemoteWriteSpec, SecretKeySelector } from "../../components/metrics/remote-write";

/**
 * What prometheus-operator makes of the program's `RemoteWriteSpec`: the `remote_write` entry of
 * a Prometheus configuration file (snake_case), with the identity Secret's keys replaced by the
 * files it is mounted as. Every key of the spec must be known here: a key added to the spec
 * without a translation fails loudly instead of silently vanishing from the proof.
 */

/** Keys of a `kubernetes.io/tls` Secret, mounted as files. */
export type TlsSecretKey = "ca.crt" | "tls.crt" | "tls.key";
export type SecretFiles = Readonly<Record<TlsSecretKey, string>>;

export interface PrometheusRemoteWrite {
    url: string;
    name: string;
    tls_config: {
        ca_file: string;
        cert_file: string;
        key_file: string;
        server_name: string;
        min_version: string;
    };
    queue_config: Record<string, string | number | boolean>;
    send_exemplars: boolean;
}

type QueueConfig = RemoteWriteSpec["queueConfig"];

/** The `queue_config` name of each `queueConfig` key, as prometheus-operator writes it. */
export const QUEUE_CONFIG_KEYS: Readonly<Record<keyof QueueConfig, string>> = {
    capacity: "capacity",
    minShards: "min_shards",
    maxShards: "max_shards",
    maxSamplesPerSend: "max_samples_per_send",
    batchSendDeadline: "batch_send_deadline",
    minBackoff: "min_backoff",
    maxBackoff: "max_backoff",
    retryOnRateLimit: "retry_on_http_429",
};

const SPEC_KEYS = ["name", "url", "tlsConfig", "queueConfig", "sendExemplars"] as const;
const TLS_CONFIG_KEYS = ["ca", "cert", "keySecret", "serverName", "minVersion"] as const;

function onlyKnownKeys(object: object, known: readonly string[], where: string): void {
    const unknown = Object.keys(object).filter((k) => !known.includes(k));
    if (unknown.length > 0) {
        throw new Error(`${where}: no Prometheus translation for ${unknown.map((k) => `'${k}'`).join(", ")}`);
    }
}

/** Converts the program's remote-write entry into Prometheus's, reading certificates from `files`. */
export function prometheusRemoteWrite(spec: RemoteWriteSpec, files: SecretFiles): PrometheusRemoteWrite {
    onlyKnownKeys(spec, SPEC_KEYS, "remoteWrite");
    onlyKnownKeys(spec.tlsConfig, TLS_CONFIG_KEYS, "remoteWrite.tlsConfig");
    onlyKnownKeys(spec.queueConfig, Object.keys(QUEUE_CONFIG_KEYS), "remoteWrite.queueConfig");

    const { ca, cert, keySecret, serverName, minVersion } = spec.tlsConfig;
    const selectors: SecretKeySelector[] = [ca.secret, cert.secret, keySecret];
    const secrets = new Set(selectors.map((s) => s.name));
    if (secrets.size !== 1) {
        throw new Error(`remoteWrite.tlsConfig: expected one mounted Secret, got ${[...secrets].join(", ")}`);
    }
    const file = (selector: SecretKeySelector): string => {
        const found = (files as Readonly<Record<string, string>>)[selector.key];
        if (found === undefined) throw new Error(`no file for key '${selector.key}' of Secret ${selector.name}`);
        return found;
    };

    const queue_config = Object.fromEntries(
        (Object.entries(spec.queueConfig) as [keyof QueueConfig, QueueConfig[keyof QueueConfig]][]).map(
            ([key, value]) => [QUEUE_CONFIG_KEYS[key], value],
        ),
    );

    return {
        url: spec.url,
        name: spec.name,
        tls_config: {
            ca_file: file(ca.secret),
            cert_file: file(cert.secret),
            key_file: file(keySecret),
            server_name: serverName,
            min_version: minVersion,
        },
        queue_config,
        send_exemplars: spec.sendExemplars,
    };
}
