import type { IngestEndpoint } from "../network/endpoints";

/**
 * How a cluster's Prometheus remote-writes to main: the `remoteWrite` entry of the Prometheus
 * custom resource (prometheus-operator `RemoteWriteSpec`, camelCase: kube-prometheus-stack copies
 * it verbatim, and the CRD silently prunes snake_case keys, P3).
 */

export interface SecretKeySelector {
    name: string;
    key: string;
}

export interface RemoteWriteSpec {
    name: string;
    url: string;
    tlsConfig: {
        ca: { secret: SecretKeySelector };
        cert: { secret: SecretKeySelector };
        keySecret: SecretKeySelector;
        serverName: string;
        minVersion: "TLS13";
    };
    queueConfig: {
        capacity: number;
        minShards: number;
        maxShards: number;
        maxSamplesPerSend: number;
        batchSendDeadline: string;
        minBackoff: string;
        maxBackoff: string;
        retryOnRateLimit: boolean;
    };
    sendExemplars: boolean;
}

/**
 * Queue settings for a link that may drop. Prometheus retries recoverable failures forever and
 * reads what it has not sent back from its WAL, which keeps about two hours; so the queue only
 * has to keep retrying often enough to catch up soon after the link returns (backoff capped at
 * 10 s) and to drain the backlog quickly (up to 50 parallel shards of 2000 samples).
 */
export const QUEUE_CONFIG: RemoteWriteSpec["queueConfig"] = {
    capacity: 10000,
    minShards: 1,
    maxShards: 50,
    maxSamplesPerSend: 2000,
    batchSendDeadline: "5s",
    minBackoff: "100ms",
    maxBackoff: "10s",
    retryOnRateLimit: true,
};

/**
 * The remote-write entry towards main's metrics endpoint, authenticated with the cluster's
 * identity Secret (`tls.crt`, `tls.key`, `ca.crt`) referenced by name: no PEM in values.
 */
export function remoteWriteSpec(endpoint: IngestEndpoint, identitySecret: string): RemoteWriteSpec {
    const key = (k: string): SecretKeySelector => ({ name: identitySecret, key: k });
    return {
        name: "main",
        url: endpoint.url,
        tlsConfig: {
            ca: { secret: key("ca.crt") },
            cert: { secret: key("tls.crt") },
            keySecret: key("tls.key"),
            serverName: endpoint.serverName,
            minVersion: "TLS13",
        },
        queueConfig: QUEUE_CONFIG,
        sendExemplars: true,
    };
}
