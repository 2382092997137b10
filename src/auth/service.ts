/** Signing in: companies by a single-use e-mailed link, admins by password. Both end in a session JWT. */
import { Types } from 'mongoose';
import { Account, Role } from '../../models/account';
import { Token } from '../../models/token';
import { recordEvent } from '../audit/events';
import type { Config } from '../config';
import { badRequest, forbidden, gone, unauthorized } from '../errors';
import type { MailQueue } from '../mail/outbox';
import { loginLinkMail } from '../mail/templates';
import { grantFor } from '../pledges/access';
import { clearAttempts, countAttempt } from './backoff';
import { signSession } from './jwt';
import { verifyPassword } from './passwords';
import { hashToken, newToken } from './tokens';

export const LOGIN_LINK_TTL_MINUTES = 15;

/**
 * Mails one link per company this e-mail may act for now (it signed the company's current
 * pledge). Always "accepted": it must not reveal who has signed.
 */
export async function requestLoginLink(email: string, deps: { config: Pick<Config, 'publicUrl'>; mail: MailQueue }): Promise<void> {
  const accounts = await Account.find({ email, role: Role.Company, disabled: { $ne: true } }).lean();
  for (const account of accounts) {
    const granted = account.company ? await grantFor(email, account.company) : null;
    if (!granted) continue;
    const { token, hash } = newToken();
    const tokenId = new Types.ObjectId();
    const link = `${deps.config.publicUrl}/login/verify?token=${encodeURIComponent(token)}`;
    const mailId = await deps.mail.enqueue(loginLinkMail({ to: email, companyName: granted.companyName, uscc: granted.uscc, link, expiresMinutes: LOGIN_LINK_TTL_MINUTES }), { collection: 'tokens', id: tokenId });
    await Token.create({ _id: tokenId, hash, purpose: 'login', account: account._id, expiresAt: new Date(Date.now() + LOGIN_LINK_TTL_MINUTES * 60_000) });
    await deps.mail.release(mailId);
  }
}

export async function redeemLoginLink(token: string, secret: string): Promise<string> {
  const hash = hashToken(token);
  const now = new Date();
  const t = await Token.findOneAndUpdate({ hash, purpose: 'login', usedAt: null, expiresAt: { $gt: now } }, { $set: { usedAt: now } }, { returnDocument: 'after' }).lean();
  if (!t) {
    const seen = await Token.findOne({ hash }).lean();
    if (!seen) throw badRequest('This sign-in link is not valid.', { code: 'invalid-token' });
    if (seen.usedAt) throw badRequest('This sign-in link has already been used.', { code: 'token-used' });
    throw gone('This sign-in link has expired; request a new one.', { code: 'token-expired' });
  }
  const account = await Account.findOneAndUpdate({ _id: t.account, disabled: { $ne: true } }, { $set: { lastLoginAt: now } }, { returnDocument: 'after' }).lean();
  if (!account || account.role !== Role.Company || !account.company) throw unauthorized('This account cannot sign in.');
  // The link was mailed while this e-mail signed the current pledge; that must still hold.
  const pledge = await grantFor(account.email, account.company);
  if (!pledge) throw forbidden('This e-mail address is not the signatory of the company’s current pledge.', { code: 'pledge-not-current' });
  return signSession({ sub: String(account._id), role: 'company', company: String(account.company), pledge: String(pledge._id) }, secret);
}

/**
 * Password sign-in. Throws 401 (one message for a wrong e-mail or password) or 429 while this
 * e-mail must wait after repeated failures (src/auth/backoff.ts).
 */
export async function adminLogin(email: string, password: string, secret: string): Promise<string> {
  await countAttempt(email);
  const account = await Account.findOne({ email, role: Role.Admin }).lean();
  const ok = await verifyPassword(password, account?.passwordHash);
  if (!account || !ok || account.disabled) throw unauthorized('Wrong e-mail or password.', { code: 'bad-credentials' });
  await clearAttempts(email);
  await Account.updateOne({ _id: account._id }, { $set: { lastLoginAt: new Date() } });
  await recordEvent({ actor: `admin:${String(account._id)}`, action: 'admin.login', subject: { type: 'account', id: account.email } });
  return signSession({ sub: String(account._id), role: 'admin' }, secret);
}
