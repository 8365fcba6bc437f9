/**
 * Text helpers for problem messages: what a user wrote is shown escaped (no invisible or control
 * character reaches the terminal as itself), credentials a URL carries are masked, and a typo
 * gets the closest known name.
 */

/**
 * Characters that do not show as themselves: controls, format characters (zero-width spaces,
 * bidirectional overrides), private-use and lone surrogate code points, line and paragraph
 * separators, default-ignorable ones (variation selectors, fillers) and every space but U+0020.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]|(?! )\p{Zs}/gu;

/** `text` with every invisible character written as its `\uXXXX` escape. */
export function escapeInvisible(text: string): string {
    return text.replace(INVISIBLE, (found) => {
        let escaped = "";
        for (let i = 0; i < found.length; i++) escaped += `\\u${found.charCodeAt(i).toString(16).padStart(4, "0")}`;
        return escaped;
    });
}

/** Query parameters whose value is a credential. */
const CREDENTIAL_PARAMETERS =
    "access[_-]?token|token|api[_-]?key|apikey|key|password|passwd|pwd|secret|client[_-]?secret|sig|signature|auth|x-amz-signature|x-amz-credential|x-amz-security-token";
const CREDENTIAL_PARAMETER = new RegExp(`^(${CREDENTIAL_PARAMETERS})$`, "i");

/** Where a URL carries a credential: its user information, or a query parameter named like one. */
export function urlCredentialPlace(value: string): "user information" | "query" | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@/i.test(value) ? "user information" : undefined;
    }
    if (url.username !== "" || url.password !== "") return "user information";
    for (const name of url.searchParams.keys()) {
        if (CREDENTIAL_PARAMETER.test(name)) return "query";
    }
    return undefined;
}

const USER_INFORMATION = /([a-z][a-z0-9+.-]*:\/\/)[^/?#\s"@]*@/gi;
const QUERY_CREDENTIAL = new RegExp(`([?&;](?:${CREDENTIAL_PARAMETERS})=)[^&#\\s"]*`, "gi");

/** `text` with the credentials of every URL in it replaced by `***`. */
export function maskUrlCredentials(text: string): string {
    return text.replace(USER_INFORMATION, "$1***@").replace(QUERY_CREDENTIAL, "$1***");
}

/** The Levenshtein distance between two words, ignoring case. */
export function editDistance(a: string, b: string): number {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    const row = Array.from({ length: y.length + 1 }, (_, i) => i);
    for (let i = 1; i <= x.length; i++) {
        let previous = row[0] as number;
        row[0] = i;
        for (let j = 1; j <= y.length; j++) {
            const current = row[j] as number;
            row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (x[i - 1] === y[j - 1] ? 0 : 1));
            previous = current;
        }
    }
    return row[y.length] as number;
}

/** How far a typo may be from the word it was meant to be. */
export function typoDistance(word: string): number {
    return Math.max(2, Math.floor(word.length / 3));
}

/** Closest known word by edit distance, to suggest a fix for a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
    // A word far longer than any candidate is no typo of one (and is not worth comparing).
    if (word.length > 100) return undefined;
    let best: string | undefined;
    let bestDistance = typoDistance(word) + 1;
    for (const candidate of candidates) {
        const d = editDistance(word, candidate);
        if (d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    return best;
}

/**
 * Cuts JSON text to at most `max` characters, never inside an escape sequence or a surrogate
 * pair, marking the cut with `...`.
 */
export function cutJson(text: string, max: number): string {
    if (text.length <= max) return text;
    let end = 0;
    for (;;) {
        let next = end + 1;
        if (text[end] === "\\") next = end + (text[end + 1] === "u" ? 6 : 2);
        else if (/[\ud800-\udbff]/.test(text[end] ?? "") && /[\udc00-\udfff]/.test(text[end + 1] ?? "")) next = end + 2;
        if (next > max - 3) break;
        end = next;
    }
    return `${text.slice(0, end)}...`;
}
