/** Proofs over the transparency log, for clients that do not compute them from tiles. */
import { z } from 'zod';
import { badRequest, notFound } from '../../src/errors';
import { decimalInt, type ApiBuilder } from '../../src/http/api';
import type { TransparencyLog } from '../../src/transparency/log';

const MAX = 999_999_999_999_999;
const Hash = z.string().meta({ description: 'A 32-byte SHA-256 node hash, standard base64' });
const InclusionQuery = z.strictObject({ index: decimalInt(0, MAX), size: decimalInt(1, MAX) });
const ConsistencyQuery = z.strictObject({ from: decimalInt(1, MAX), to: decimalInt(1, MAX) });
const ProofBundle = z.object({
  leafIndex: z.number().int(),
  entry: z.string().meta({ description: 'The entry bytes (RFC 8785 JSON), base64' }),
  inclusionProof: z.array(Hash),
  checkpoint: z
    .string()
    .meta({ description: 'The signed checkpoint (note text) the proof is against' }),
});
const b64 = (proof: Buffer[]) => proof.map((p) => p.toString('base64'));

export function logRoutes(api: ApiBuilder, log: TransparencyLog): void {
  api.route({
    method: 'get',
    path: '/log/inclusion',
    summary:
      'Inclusion proof (RFC 9162) of leaf `index` in the tree of `size` (at most the latest checkpoint)',
    tags: ['log'],
    query: InclusionQuery,
    responses: {
      200: {
        description: 'The audit path, bottom up',
        schema: z.object({
          leafIndex: z.number().int(),
          treeSize: z.number().int(),
          proof: z.array(Hash),
        }),
      },
      400: { description: 'index ≥ size, or size beyond the latest checkpoint' },
    },
    handler: async ({ query }, _req, res) => {
      const current = await log.size();
      if (query.index >= query.size)
        throw badRequest('The leaf index must be below the tree size.', {
          code: 'index-not-in-tree',
          errors: [{ path: 'index', message: `Must be below size (${query.size}).` }],
        });
      if (query.size > current)
        throw badRequest(`The latest checkpoint has tree size ${current}.`, {
          code: 'size-beyond-checkpoint',
          errors: [{ path: 'size', message: `At most ${current}.` }],
        });
      res.set('Cache-Control', 'public, max-age=300');
      return {
        leafIndex: query.index,
        treeSize: query.size,
        proof: b64(await log.reader.inclusion(query.index, query.size)),
      };
    },
  });

  api.route({
    method: 'get',
    path: '/log/consistency',
    summary: 'Consistency proof (RFC 9162) that the tree of `to` extends the tree of `from`',
    tags: ['log'],
    query: ConsistencyQuery,
    responses: {
      200: {
        description: 'The consistency proof (empty when from = to)',
        schema: z.object({ proof: z.array(Hash) }),
      },
      400: { description: 'from > to, or to beyond the latest checkpoint' },
    },
    handler: async ({ query }, _req, res) => {
      const current = await log.size();
      if (query.from > query.to)
        throw badRequest('`from` must not be above `to`.', {
          code: 'sizes-out-of-order',
          errors: [{ path: 'from', message: `At most to (${query.to}).` }],
        });
      if (query.to > current)
        throw badRequest(`The latest checkpoint has tree size ${current}.`, {
          code: 'size-beyond-checkpoint',
          errors: [{ path: 'to', message: `At most ${current}.` }],
        });
      res.set('Cache-Control', 'public, max-age=300');
      return { proof: b64(await log.reader.consistency(query.from, query.to)) };
    },
  });

  api.route({
    method: 'get',
    path: '/certificates/:serial/proof',
    summary:
      "A certificate's transparency-log proof (what its PDF carries as log-proof.json), against the latest checkpoint",
    tags: ['log'],
    params: z.strictObject({ serial: z.string().min(1).max(40) }),
    responses: {
      200: {
        description:
          'The certificate.issued entry, its inclusion proof and the signed checkpoint it is proved against',
        schema: ProofBundle,
      },
      404: { description: 'No such certificate in the log' },
    },
    handler: async ({ params }, _req, res) => {
      const bundle = await log.proofBundle(`certificate.issued:${params.serial}`);
      if (!bundle)
        throw notFound('No certificate with this serial is in the log.', { code: 'not-in-log' });
      res.set('Cache-Control', 'public, max-age=60');
      return bundle;
    },
  });

  const text = (description: string) => ({
    contentType: 'text/plain',
    schema: z.string().meta({ description }),
  });
  const binary = (description: string) => ({
    contentType: 'application/octet-stream',
    schema: z.string().meta({ format: 'binary', description }),
  });
  api.external({
    method: 'get',
    path: '/log/checkpoint',
    summary: 'The latest signed checkpoint (C2SP tlog-checkpoint, a signed note)',
    tags: ['log'],
    responses: {
      200: {
        description: 'Checkpoint',
        ...text('origin, tree size, base64 root hash, blank line, signature'),
      },
      404: { description: 'No checkpoint yet' },
    },
  });
  api.external({
    method: 'get',
    path: '/log/vkey',
    summary: "The log's verifier key (C2SP signed-note)",
    tags: ['log'],
    responses: { 200: { description: 'Verifier key', ...text('<name>+<key ID>+<base64 key>') } },
  });
  // N spans several path segments (tlog-tiles); OpenAPI has no such parameter, so it is described in words.
  const tileIndex = z.string().meta({
    description:
      'The tile index in 3-digit path segments, every one but the last prefixed x (1234067 → x001/x234/067); a partial tile adds .p/<W>, W = 1–255',
  });
  api.external({
    method: 'get',
    path: '/log/tile/{L}/{N}',
    summary:
      'A hash tile (C2SP tlog-tiles); N in x-prefixed 3-digit segments, partial tiles as .p/<W>',
    tags: ['log'],
    params: z.strictObject({
      L: z
        .string()
        .regex(/^[0-9]{1,2}$/)
        .meta({ description: 'The tile level, 0 for leaf hashes' }),
      N: tileIndex,
    }),
    responses: {
      200: { description: 'W×32 bytes of hashes', ...binary('tile') },
      404: { description: 'Not in the tree (yet)' },
    },
  });
  api.external({
    method: 'get',
    path: '/log/tile/entries/{N}',
    summary:
      'An entry bundle (C2SP tlog-tiles): each entry prefixed by its big-endian uint16 length',
    tags: ['log'],
    params: z.strictObject({ N: tileIndex }),
    responses: {
      200: { description: 'Entry bundle', ...binary('bundle') },
      404: { description: 'Not in the tree (yet)' },
    },
  });
}
