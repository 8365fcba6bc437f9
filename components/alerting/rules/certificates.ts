import type { RuleGroup } from "./model";

/** What the rules need to know of one certificate of the fleet PKI. */
export interface CertificateFacts {
    id: string;
    profile: string;
    commonName: string;
    /** RFC 3339 instants. */
    notAfter: string;
    renewFrom: string;
}

export const CERTIFICATE_EXPIRY_METRIC = "observability_certificate_expiry_timestamp_seconds";
export const CERTIFICATE_RENEWAL_METRIC = "observability_certificate_renewal_timestamp_seconds";

/** Unix seconds of an RFC 3339 instant. */
function unixSeconds(instant: string, what: string): number {
    const ms = Date.parse(instant);
    if (Number.isNaN(ms)) throw new Error(`${what}: expected an RFC 3339 instant, found ${JSON.stringify(instant)}`);
    return Math.floor(ms / 1000);
}

/**
 * The fleet's certificates as series, and their alerts. The PKI lives in main's Pulumi state, not
 * in a process an exporter could read: each `pulumi up` writes every certificate's expiry and
 * renewal instants into recording rules of main's Prometheus. Sub clusters' certificates are
 * issued on main too, so they are all here.
 */
export function certificateRules(certificates: readonly CertificateFacts[]): RuleGroup {
    const series = [...certificates]
        .sort((a, b) => a.id.localeCompare(b.id))
        .flatMap((cert) => {
            const labels = { certificate: cert.id, profile: cert.profile, common_name: cert.commonName };
            return [
                {
                    record: CERTIFICATE_EXPIRY_METRIC,
                    expr: `vector(${unixSeconds(cert.notAfter, `certificate ${cert.id} notAfter`)})`,
                    labels,
                },
                {
                    record: CERTIFICATE_RENEWAL_METRIC,
                    expr: `vector(${unixSeconds(cert.renewFrom, `certificate ${cert.id} renewFrom`)})`,
                    labels,
                },
            ];
        });
    return {
        name: "observability.certificates",
        placement: "cluster",
        rules: [
            ...series,
            {
                alert: "ObservabilityCertificateRenewalOverdue",
                expr: `time() - ${CERTIFICATE_RENEWAL_METRIC} > 86400`,
                for: "0m",
                severity: "warning",
                category: "cluster",
                summary: "Certificate {{ $labels.certificate }} is past its renewal date",
                description:
                    "Its renewal window opened {{ $value | humanizeDuration }} ago and no `pulumi up` of main has " +
                    "renewed it: the scheduled rotation run is not happening.",
                runbook: {
                    symptom:
                        "A certificate of the fleet PKI entered its renewal window more than a day ago and is still the same.",
                    impact: "Nothing yet; it will expire if the rotation keeps not running (ObservabilityCertificateExpiring).",
                    diagnosis: [
                        `(time() - ${CERTIFICATE_RENEWAL_METRIC}) / 86400`,
                        `(${CERTIFICATE_EXPIRY_METRIC} - time()) / 86400`,
                    ],
                    fix: [
                        "Run the rotation: `pulumi up` on the main stack (it replaces certificates whose window is open), then on each sub stack whose certificate changed.",
                        "Check the scheduled pipeline that does this weekly: its last run and its log.",
                    ],
                },
            },
            {
                alert: "ObservabilityCertificateExpiring",
                expr: `${CERTIFICATE_EXPIRY_METRIC} - time() < 7 * 86400`,
                for: "0m",
                severity: "critical",
                category: "cluster",
                summary: "Certificate {{ $labels.certificate }} expires in {{ $value | humanizeDuration }}",
                description:
                    "{{ $labels.common_name }} ({{ $labels.profile }}) expires in {{ $value | humanizeDuration }}; " +
                    "when it does, the mTLS link it secures stops.",
                runbook: {
                    symptom: "A certificate of the fleet PKI expires within 7 days.",
                    impact:
                        "At expiry the link it secures refuses connections: a sub cluster stops shipping, or a brick " +
                        "on main stops answering its clients.",
                    diagnosis: [`(${CERTIFICATE_EXPIRY_METRIC} - time()) / 86400`],
                    fix: [
                        "`pulumi up` on main now: the certificate is inside its renewal window and gets replaced.",
                        "For a sub cluster's certificate, then `pulumi up` on that sub stack so it picks up its new bundle.",
                    ],
                },
            },
        ],
    };
}
