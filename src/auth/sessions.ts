/**
 * Sessions beyond the signed token: signing out revokes the token's id at once (for API bearer
 * tokens and site cookies alike), and every authenticated request checks the revocation list by
 * its primary key. A revocation outlives the token by the clock skew we tolerate, then is swept.
 */
import { RevokedSession } from '../../models/revoked-session';
import { unauthorized } from '../errors';
import { verifySession, type Session } from './jwt';

const SWEEP_AFTER_EXPIRY_MS = 5 * 60_000;

/** Verifies the token and refuses a signed-out one (401 `session-ended`). */
export async function liveSession(token: string, secret: string): Promise<Session> {
  const session = verifySession(token, secret);
  if (await RevokedSession.exists({ _id: session.jti })) {
    throw unauthorized('This session has been signed out; sign in again.', {
      code: 'session-ended',
    });
  }
  return session;
}

/** Ends a session now. Idempotent: signing out twice, or from two tabs, is not an error. */
export async function endSession(session: Session): Promise<void> {
  await RevokedSession.updateOne(
    { _id: session.jti },
    {
      $setOnInsert: {
        account: session.sub,
        revokedAt: new Date(),
        expiresAt: new Date(session.exp * 1000 + SWEEP_AFTER_EXPIRY_MS),
      },
    },
    { upsert: true },
  );
}
