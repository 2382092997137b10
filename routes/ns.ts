/** The registry's JSON-LD context (certificates/context.ts), for anyone's JSON-LD processor. */
import express, { type Router } from 'express';
import { EQI_CONTEXT_MEDIA_TYPE, EQI_CONTEXT_PATH, eqiContext } from '../certificates';

export function nsRouter(publicUrl: string): Router {
  const router = express.Router();
  const body = JSON.stringify(eqiContext(publicUrl), null, 2);
  router.get(EQI_CONTEXT_PATH, (_req, res) => {
    res.set('Content-Type', `${EQI_CONTEXT_MEDIA_TYPE}; charset=utf-8`);
    // Document loaders of other verifiers fetch it from their own pages.
    res.set('Access-Control-Allow-Origin', '*');
    res.set('Cache-Control', 'public, max-age=86400');
    res.send(body);
  });
  return router;
}
