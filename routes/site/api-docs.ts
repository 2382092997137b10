/**
 * The human-readable API reference at /api/docs: Redoc's standalone bundle renders
 * /api/v1/openapi.json in the browser. Everything is served from here (no CDN), and the page
 * runs under the site's CSP: two script files of our own, no inline script. Redoc's styles are
 * <style> elements it builds at run time, so this page's CSP also allows styles carrying a fresh
 * per-response nonce, which Redoc puts on them (see REDOC_PATCHES). Search is off because Redoc builds its search
 * worker from a blob: URL, which the CSP refuses.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { siteCsp } from '../../src/site/http';

/** Where the bundle is: copied beside the built code by `npm run build`, or in node_modules. */
function redocBundlePath(): string | undefined {
  const built = path.resolve(__dirname, '../../vendor/redoc.standalone.js');
  if (fs.existsSync(built)) return built;
  try {
    return require.resolve('redoc/bundles/redoc.standalone.js');
  } catch {
    return undefined;
  }
}

/**
 * Two edits make the bundle keep to the CSP; each must apply exactly once, so a Redoc upgrade
 * that changes them fails here (and in the tests) instead of quietly breaking the page.
 * - Its first <style> elements are made while the bundle loads, before `Redoc.init` sets the
 *   nonce: the nonce is read from the page at load time instead.
 * - Its sidebar footer loads a logo from cdn.redoc.ly: an empty data: image instead (the
 *   component hides an image that does not load).
 */
export const REDOC_PATCHES: ReadonlyArray<{ find: string; replace: string }> = [
  {
    find: 'r.nc=void 0;',
    replace:
      'r.nc=(document.getElementById("redoc")||document.body).getAttribute("data-style-nonce")||void 0;',
  },
  { find: '"https://cdn.redoc.ly/redoc/logo-mini.svg"', replace: '"data:,"' },
];

export function patchRedoc(source: string): string {
  let out = source;
  for (const { find, replace } of REDOC_PATCHES) {
    const at = out.indexOf(find);
    if (at < 0 || out.indexOf(find, at + find.length) >= 0)
      throw new Error(
        `redoc bundle: expected "${find}" exactly once; check REDOC_PATCHES after upgrading redoc`,
      );
    out = out.slice(0, at) + replace + out.slice(at + find.length);
  }
  return out;
}

const page = (nonce: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · 接口文档 — EQI Registry</title>
<link rel="icon" href="data:,">
</head>
<body>
<noscript><p>The API reference needs JavaScript. The contract itself: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p></noscript>
<div id="redoc" data-spec-url="/api/v1/openapi.json" data-style-nonce="${nonce}"></div>
<script src="/api/docs/redoc.standalone.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;

const INIT = `'use strict';
(function () {
  var el = document.getElementById('redoc');
  var options = { nonce: el.getAttribute('data-style-nonce'), disableSearch: true, expandResponses: '200,201', pathInMiddlePanel: true };
  window.Redoc.init(el.getAttribute('data-spec-url'), options, el);
})();
`;

export function apiDocsRouter(options: { production: boolean }): Router {
  const router = express.Router();
  const file = redocBundlePath();
  const bundle =
    file === undefined ? undefined : Buffer.from(patchRedoc(fs.readFileSync(file, 'utf8')));
  const bundleTag =
    bundle && `"${createHash('sha256').update(bundle).digest('base64url').slice(0, 16)}"`;
  const noCache = { 'Cache-Control': 'no-cache' };
  router.get(
    '/api/docs',
    (_req, res, next) => {
      if (!bundle) return next('router');
      res.locals.styleNonce = randomBytes(16).toString('base64');
      next();
    },
    siteCsp({ ...options, styleNonce: true }),
    (_req, res) => {
      // The nonce is new on every response, so the page is never reused.
      res
        .set('Cache-Control', 'no-store')
        .type('html')
        .send(page(String(res.locals.styleNonce)));
    },
  );
  router.use('/api/docs', siteCsp(options));
  router.get('/api/docs/init.js', (_req, res) => {
    res.set(noCache).type('application/javascript').send(INIT);
  });
  router.get('/api/docs/redoc.standalone.js', (req, res, next) => {
    if (!bundle) return next();
    res.set({
      'Content-Type': 'application/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=3600',
      ETag: bundleTag,
    });
    if (req.fresh) return void res.status(304).end();
    res.send(bundle);
  });
  return router;
}
