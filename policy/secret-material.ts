/**
 * What counts as secret material in desired state: PEM blocks, private keys, and credentials under
 * a credential-like name. Shared by the offline secret scan (render/secret-scan.ts) and the
 * policy pack, so both judge a value the same way. No imports: the policy pack loads it at
 * `pulumi preview` without the rest of the repository's tooling.
 */

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/** A property name that says it holds a credential (matched on the last key of a path). */
const CREDENTIAL_KEY =
    /(password|passwd|token|secretAccessKey|secret_key|privateKey|privateKeyPem|privateKeyPemPkcs8|private_key|clientKey|apiKey|api_key)$/i;

/**
 * Grafana's reference to a mounted file (`$__file{/path}`): the credential stays in the file,
 * which comes from a Secret, and the value is only its path.
 */
const FILE_REFERENCE = /^\$__file\{[^}]+\}$/;

/** The labels of the PEM blocks a text holds (`CERTIFICATE`, `PRIVATE KEY`...), in order. */
export function pemLabels(text: string): string[] {
    return [...text.matchAll(PEM_BEGIN)].map((m) => m[1] ?? "");
}

/** Whether a PEM label names a private key (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`...). */
export function isPrivateKeyLabel(label: string): boolean {
    return label.includes("PRIVATE KEY");
}

/** Whether a text holds a PEM private key. */
export function holdsPrivateKey(text: string): boolean {
    return pemLabels(text).some(isPrivateKeyLabel);
}

/**
 * Whether a property name says it holds a credential. Names of a Secret or of a file holding the
 * credential (`existingSecret`, `passwordFile`, `key_file`) do not end like one.
 */
export function isCredentialKey(key: string): boolean {
    return CREDENTIAL_KEY.test(key);
}

/** Whether a value only points at a mounted file that holds the credential. */
export function isFileReference(value: string): boolean {
    return FILE_REFERENCE.test(value);
}

/**
 * Whether a value under a credential-named key is the credential itself: non-empty text that is
 * not a file reference. Flags and numbers are never credentials.
 */
export function isLiteralCredential(value: unknown): boolean {
    return typeof value === "string" && value !== "" && !isFileReference(value);
}
