/** Signing in: companies by a single-use e-mailed link, admins by password. Both end in a session JWT. */
import { Types } from 'mongoose';
import { Account, Role } from '../../models/account';
import { Token } from '../../models/token';
import { recordEvent } from '../audit/events';
import type { Config } from '../config';
import { badRequest, forbidden, gone, unauthorized, validationFailed } from '../errors';
import type { MailQueue } from '../mail/outbox';
import { loginLinkMail } from '../mail/templates';
import { grantFor } from '../pledges/access';
import { clearAttempts, countAttempt } from './backoff';
import { signSession } from './jwt';
import { verifyPassword } from './passwords';
import { hashToken, newToken } from './tokens';

export const LOGIN_LINK_TTL_MINUTES = 15;

/**
 * Mails one sign-in link for the companies this e-mail may act for now (it signed each one's
 * current pledge), naming them; with several, the contact chooses after opening it. Always
 * "accepted": it must not reveal who has signed.
 */
export async function requestLoginLink(
  email: string,
  deps: { config: Pick<Config, 'publicUrl'>; mail: MailQueue },
): Promise<void> {
  const accounts = await Account.find({ email, role: Role.Company, disabled: { $ne: true } })
    .sort({ _id: 1 })
    .lean();
  const granted: Array<{ account: Types.ObjectId; companyName: string; uscc: string }> = [];
  for (const account of accounts) {
    const pledge = account.company ? await grantFor(email, account.company) : null;
    if (pledge)
      granted.push({ account: account._id, companyName: pledge.companyName, uscc: pledge.uscc });
  }
  if (granted.length === 0) return;
  const { token, hash } = newToken();
  const tokenId = new Types.ObjectId();
  const link = `${deps.config.publicUrl}/login/verify?token=${encodeURIComponent(token)}`;
  const mailId = await deps.mail.enqueue(
    loginLinkMail({ to: email, companies: granted, link, expiresMinutes: LOGIN_LINK_TTL_MINUTES }),
    { collection: 'tokens', id: tokenId },
  );
  await Token.create({
    _id: tokenId,
    hash,
    purpose: 'login',
    account: granted[0].account,
    ...(granted.length > 1 ? { accounts: granted.map((g) => g.account) } : {}),
    expiresAt: new Date(Date.now() + LOGIN_LINK_TTL_MINUTES * 60_000),
  });
  await deps.mail.release(mailId);
}

/** What a sign-in link gives: a session, or (a contact of several companies) the choice first. */
export type LoginResult =
  { token: string } | { choose: Array<{ uscc: string; companyName: string }> };

/**
 * Redeems a sign-in link. A link for several companies answers with the choice (and stays
 * unused) until `company` names one of them; then it is spent like any other.
 */
export async function redeemLoginLink(
  token: string,
  secret: string,
  company?: string,
): Promise<LoginResult> {
  const hash = hashToken(token);
  const now = new Date();
  const live = { hash, purpose: 'login' as const, usedAt: null, expiresAt: { $gt: now } };
  const t = await Token.findOne(live).lean();
  if (!t) {
    const seen = await Token.findOne({ hash }).lean();
    if (!seen) throw badRequest('This sign-in link is not valid.', { code: 'invalid-token' });
    if (seen.usedAt)
      throw badRequest('This sign-in link has already been used.', { code: 'token-used' });
    throw gone('This sign-in link has expired; request a new one.', { code: 'token-expired' });
  }
  const candidates = t.accounts?.length ? t.accounts : [t.account];
  const options: Array<{
    account: Types.ObjectId;
    uscc: string;
    companyName: string;
    pledge: string;
    company: Types.ObjectId;
  }> = [];
  for (const id of candidates) {
    const account = await Account.findOne({
      _id: id,
      role: Role.Company,
      disabled: { $ne: true },
    }).lean();
    // The link was mailed while this e-mail signed the current pledge; that must still hold.
    const pledge = account?.company ? await grantFor(account.email, account.company) : null;
    if (account?.company && pledge)
      options.push({
        account: account._id,
        uscc: pledge.uscc,
        companyName: pledge.companyName,
        pledge: String(pledge._id),
        company: account.company,
      });
  }
  if (options.length === 0)
    throw forbidden('This e-mail address is not the signatory of the company’s current pledge.', {
      code: 'pledge-not-current',
    });
  let chosen = options[0];
  if (candidates.length > 1) {
    if (company === undefined)
      return { choose: options.map(({ uscc, companyName }) => ({ uscc, companyName })) };
    const match = options.find((o) => o.uscc === company);
    if (!match)
      throw validationFailed(
        [{ path: 'company', message: 'Choose one of the companies this link is for.' }],
        'This sign-in link is not for that company.',
      );
    chosen = match;
  }
  const spent = await Token.findOneAndUpdate(
    { _id: t._id, ...live },
    { $set: { usedAt: now } },
    { returnDocument: 'after' },
  ).lean();
  if (!spent) throw badRequest('This sign-in link has already been used.', { code: 'token-used' });
  await Account.updateOne({ _id: chosen.account }, { $set: { lastLoginAt: now } });
  return {
    token: signSession(
      {
        sub: String(chosen.account),
        role: 'company',
        company: String(chosen.company),
        pledge: chosen.pledge,
      },
      secret,
    ),
  };
}

/**
 * Password sign-in. Throws 401 (one message for a wrong e-mail or password) or 429 while this
 * e-mail must wait after repeated failures (src/auth/backoff.ts).
 */
export async function adminLogin(email: string, password: string, secret: string): Promise<string> {
  await countAttempt(email);
  const account = await Account.findOne({ email, role: Role.Admin }).lean();
  const ok = await verifyPassword(password, account?.passwordHash);
  if (!account || !ok || account.disabled)
    throw unauthorized('Wrong e-mail or password.', { code: 'bad-credentials' });
  await clearAttempts(email);
  await Account.updateOne({ _id: account._id }, { $set: { lastLoginAt: new Date() } });
  await recordEvent({
    actor: `admin:${String(account._id)}`,
    action: 'admin.login',
    subject: { type: 'account', id: account.email },
  });
  return signSession({ sub: String(account._id), role: 'admin' }, secret);
}
