/** Where a brick mounts its certificate Secret (`tls.crt`, `tls.key`, `ca.crt`). */
export const TLS_MOUNT_DIR = "/etc/observability/tls";
