/** The certificate status lists (W3C Bitstring Status List v1.0), see src/transparency/status.ts. */
import { z } from 'zod';
import type { ApiBuilder } from '../../src/http/api';
import { STATUS_PURPOSES, statusListCredential } from '../../src/transparency/status';

const PurposeParams = z.strictObject({
  purpose: z.enum(STATUS_PURPOSES as ['revocation', 'suspension']),
});

export function statusRoutes(
  api: ApiBuilder,
  o: { publicUrl: string; sign: (payload: object) => string },
): void {
  api.route({
    method: 'get',
    path: '/status/:purpose',
    summary:
      'A certificate status list as a BitstringStatusListCredential (VC-JOSE-COSE, typ vc+jwt): "revocation" (revoked by the association) or "suspension" (withdrawn or superseded)',
    tags: ['certificates'],
    params: PurposeParams,
    responses: {
      200: {
        description: 'Compact JWS signed with the registry key (see /.well-known/jwks.json)',
        contentType: 'application/vc+jwt',
        schema: z.string(),
      },
      404: { description: 'No such list' },
    },
    handler: async ({ params }, _req, res) => {
      res.set('Content-Type', 'application/vc+jwt');
      res.set('Cache-Control', 'public, max-age=60');
      res.send(await statusListCredential(params.purpose, o));
    },
  });
}
