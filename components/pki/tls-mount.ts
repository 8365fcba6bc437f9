/** Where a brick mounts its certificate Secret (`tls.crt`, `tls.key`, `ca.crt`). */
export const TLS_MOUNT_DIR = "/etc/observability/tls";

/**
 * A client's certificate files in a mounted `kubernetes.io/tls` Secret, under the keys Prometheus,
 * Thanos, Tempo and the OpenTelemetry Collector share: the CA it verifies servers with, and its
 * own certificate and key.
 */
export function clientTlsFiles(dir: string = TLS_MOUNT_DIR) {
    return { ca_file: `${dir}/ca.crt`, cert_file: `${dir}/tls.crt`, key_file: `${dir}/tls.key` };
}
