/**
 * The log as C2SP tlog-tiles serves it, under the site root: /log/checkpoint, /log/tile/<L>/<N>[.p/<W>],
 * /log/tile/entries/<N>[.p/<W>] and the verifier key at /log/vkey. Only what the latest
 * checkpoint covers is served. Full tiles and bundles never change (long cache, ETag); partial
 * ones and the checkpoint are cached briefly.
 */
import { createHash } from 'node:crypto';
import express, { type Response, type Router } from 'express';
import { badRequest, notFound } from '../src/errors';
import {
  encodeBundle,
  parseTilePath,
  TILE_WIDTH,
  TilePathError,
  type TileCoord,
} from '../src/tlog';
import type { TransparencyLog } from '../src/transparency/log';
import { readEntries, readTile, tileInTree } from '../src/transparency/store';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=1';

function sendBinary(req: express.Request, res: Response, data: Buffer, full: boolean): void {
  res.set('Content-Type', 'application/octet-stream');
  res.set('Cache-Control', full ? IMMUTABLE : SHORT);
  const etag = `"${createHash('sha256').update(data).digest('base64url')}"`;
  res.set('ETag', etag);
  if (req.headers['if-none-match'] === etag) {
    res.status(304).end();
    return;
  }
  res.send(data);
}

export function logRouter(log: TransparencyLog): Router {
  const router = express.Router();

  router.get('/log/checkpoint', async (_req, res) => {
    const c = await log.checkpoint();
    if (!c) throw notFound('The log has no checkpoint yet.', { code: 'no-checkpoint' });
    res.set('Content-Type', 'text/plain; charset=utf-8');
    res.set('Cache-Control', SHORT);
    res.send(c.note);
  });

  router.get('/log/vkey', (_req, res) => {
    res.set('Content-Type', 'text/plain; charset=utf-8');
    res.set('Cache-Control', 'public, max-age=300');
    res.send(`${log.vkey}\n`);
  });

  router.get('/log/tile/*path', async (req, res) => {
    const segments = (req.params as { path: string[] }).path;
    let t: TileCoord;
    try {
      t = parseTilePath(`tile/${segments.join('/')}`);
    } catch (e) {
      if (e instanceof TilePathError)
        throw badRequest('Not a tile path (see https://c2sp.org/tlog-tiles).', {
          code: 'not-a-tile-path',
        });
      throw e;
    }
    const size = await log.size();
    if (!tileInTree(size, t))
      throw notFound('The log does not have this tile (yet).', { code: 'no-such-tile' });
    const full = t.width === TILE_WIDTH;
    if (t.level === 'entries')
      sendBinary(req, res, encodeBundle(await readEntries(t.index, t.width)), full);
    else
      sendBinary(
        req,
        res,
        await readTile({ level: t.level, index: t.index, width: t.width }),
        full,
      );
  });

  return router;
}
