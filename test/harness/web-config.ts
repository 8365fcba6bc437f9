import { stringify } from "yaml";

import { TLS_MOUNT_DIR } from "../../components/pki/tls-mount";

/**
 * Web configuration files of the Prometheus exporter toolkit (`--web.config.file`) for the real
 * Prometheus and Alertmanager servers of the tests: TLS with client verification, from the
 * certificate files of a `kubernetes.io/tls` Secret laid out as a directory.
 */

export interface WebConfig {
    tls_server_config: {
        cert_file: string;
        key_file: string;
        client_ca_file: string;
        client_auth_type: "RequireAndVerifyClientCert";
        min_version: "TLS13";
    };
}

/**
 * A web config that requires a client certificate signed by the fleet CA. TLS 1.3 only: every
 * client of the fleet (Go, OpenSSL-based Vector, nginx) speaks it, and Thanos Receive already
 * defaults to it.
 */
export function webConfig(mountDir: string = TLS_MOUNT_DIR): WebConfig {
    return {
        tls_server_config: {
            cert_file: `${mountDir}/tls.crt`,
            key_file: `${mountDir}/tls.key`,
            client_ca_file: `${mountDir}/ca.crt`,
            client_auth_type: "RequireAndVerifyClientCert",
            min_version: "TLS13",
        },
    };
}

/** The web config as the file a brick reads. */
export function webConfigYaml(mountDir: string = TLS_MOUNT_DIR): string {
    return stringify(webConfig(mountDir));
}
