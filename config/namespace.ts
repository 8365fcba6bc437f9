/** The Pulumi config namespace every key of this program lives in (`observability:<key>`). */
export const NAMESPACE = "observability";
