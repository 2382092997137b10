/**
 * HTTP policy for the site's pages: the Content-Security-Policy, cookie options, and the caching
 * rules (public pages: validators + short max-age; personal pages and forms: no-store).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/**
 * The site's CSP, stricter than helmet's default: scripts and styles only from our own files
 * (no inline script, no inline style, no `style` attributes), no plugins, no framing. It replaces
 * the header helmet set globally, for the site's responses only.
 */
export function siteCsp(options: { production: boolean; styleNonce?: boolean }): RequestHandler {
  // A page whose script builds <style> elements (the API reference) may allow exactly those: the
  // route puts a fresh nonce in res.locals.styleNonce and hands it to that script.
  const styleNonce = (_req: unknown, res: unknown) =>
    `'nonce-${String((res as Response).locals.styleNonce)}'`;
  return helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      // pdf.js's worker (console evidence previews) is one of our own files too.
      workerSrc: ["'self'"],
      styleSrc: options.styleNonce ? ["'self'", styleNonce] : ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      // Only where the site is served over HTTPS; in development it would break http://localhost.
      upgradeInsecureRequests: options.production ? [] : null,
    },
  });
}

export function cookieOptions(secure: boolean, maxAgeMs?: number): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
  };
}

export type CachePolicy = 'public' | 'no-store';

/** Seconds a browser (or proxy) may reuse a public page before revalidating. */
export const PUBLIC_MAX_AGE = 60;

// When each ETag was first produced by this instance: a page's Last-Modified is the moment its
// current content was first seen, which never claims to be older than it is. Bounded: the oldest
// entries are dropped first.
const firstSeen = new Map<string, Date>();
const FIRST_SEEN_LIMIT = 5000;

function lastModifiedFor(etag: string): Date {
  let at = firstSeen.get(etag);
  if (!at) {
    at = new Date(Math.floor(Date.now() / 1000) * 1000); // HTTP dates have whole seconds
    firstSeen.set(etag, at);
    if (firstSeen.size > FIRST_SEEN_LIMIT)
      firstSeen.delete(firstSeen.keys().next().value as string);
  }
  return at;
}

/**
 * Template indentation is most of a long list page's bytes. A run of whitespace that contains a
 * line break becomes one line break: the same rendering (HTML collapses whitespace), except in
 * <pre> and <textarea>, so pages that have those are left as they are.
 */
export function compactHtml(html: string): string {
  if (/<(pre|textarea)\b/i.test(html)) return html;
  return html.replace(/[ \t]*\n\s*/g, '\n');
}

/** A rendered page ready to send: its bytes and strong ETag, computed once (gzip on first need). */
export interface PreparedPage {
  body: Buffer;
  etag: string;
  gzip?: Buffer;
}

export function preparePage(html: string): PreparedPage {
  const body = Buffer.from(compactHtml(html), 'utf8');
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/**
 * Sends a rendered page. Public pages get a strong ETag and Last-Modified (express answers 304
 * when the client's copy is fresh) and vary with the language inputs; forms carrying CSRF tokens
 * and signed-in pages must never be stored. A page served often is passed prepared, so its
 * bytes and hash are not computed again for every request.
 */
export function sendHtml(
  req: Request,
  res: Response,
  page: string | PreparedPage,
  policy: CachePolicy,
  status = 200,
): void {
  res.status(status).type('html');
  if (policy === 'no-store' || status !== 200) {
    res.set('Cache-Control', 'no-store');
    res.send(typeof page === 'string' ? page : page.body);
    return;
  }
  const prepared = typeof page === 'string' ? preparePage(page) : page;
  // A page kept for many requests is compressed once and sent gzipped to every client that
  // accepts it (a long list is a tenth of its size: what a phone on a slow network waits for).
  const gzipped = typeof page !== 'string' && req.acceptsEncodings('gzip') === 'gzip';
  if (gzipped) prepared.gzip ??= gzipSync(prepared.body);
  // Each representation has its own strong validator.
  const etag = gzipped ? `${prepared.etag.slice(0, -1)}-gz"` : prepared.etag;
  res.set({
    ETag: etag,
    'Last-Modified': lastModifiedFor(prepared.etag).toUTCString(),
    'Cache-Control': `public, max-age=${PUBLIC_MAX_AGE}`,
    Vary: 'Cookie, Accept-Language, Accept-Encoding',
  });
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  if (gzipped) res.set('Content-Encoding', 'gzip');
  res.send(gzipped ? prepared.gzip : prepared.body);
}
