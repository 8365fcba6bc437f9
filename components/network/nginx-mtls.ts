import { TLS_MOUNT_DIR } from "../pki/tls-mount";

/**
 * nginx pieces shared by every client-verifying listener of main (the Loki gateway, the
 * Alertmanager ingest): TLS 1.3 with a fleet certificate, client certificates required, and the
 * client's identity read from its certificate.
 */

/**
 * nginx `http` block: `$observability_cn` and `$observability_ou` from the verified client
 * certificate. OU is `cluster` for a cluster's identity (CN = the cluster's name) and `service`
 * for a brick of main (Grafana, the reporter).
 */
export function identityMapsSnippet(): string {
    return [
        'map $ssl_client_s_dn $observability_cn { default ""; "~(?:^|,)CN=(?<cn>[^,]+)" $cn; }',
        'map $ssl_client_s_dn $observability_ou { default ""; "~(?:^|,)OU=(?<ou>[^,]+)" $ou; }',
    ].join("\n");
}

/** nginx `server` block: TLS 1.3 with the listener's certificate, client certificates required. */
export function tlsServerSnippet(tlsDir: string = TLS_MOUNT_DIR): string {
    return [
        `ssl_certificate ${tlsDir}/tls.crt;`,
        `ssl_certificate_key ${tlsDir}/tls.key;`,
        `ssl_client_certificate ${tlsDir}/ca.crt;`,
        "ssl_verify_client on;",
        "ssl_protocols TLSv1.3;",
    ].join("\n");
}

/**
 * nginx `http` block: every temporary directory in `tempDir`, so nginx runs unprivileged on a
 * read-only root filesystem with only that directory writable.
 */
export function tempPathsSnippet(tempDir: string): string {
    return ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        .map((kind) => `${kind}_temp_path ${tempDir}/${kind}_temp;`)
        .join("\n");
}
