/**
 * How long one instance may hold a pledge's certificate work (issuing, or a correction being
 * applied) before another may take it over: long enough to render and sign one certificate.
 */
export const CLAIM_MS = 60_000;
