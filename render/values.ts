/** Decoded property values: what the engine sees in place of secrets, unknowns and references. */

/** A secret value as the engine sees it; the render prints it as `[secret]`. */
export class Secret {
    constructor(readonly value: unknown) {}
}

/** A value not known until deployment (only in preview). */
export class Unknown {
    static readonly instance = new Unknown();
    private constructor() {}
}

/** A reference to another resource, by URN. */
export class ResourceRef {
    constructor(readonly urn: string) {}
}
