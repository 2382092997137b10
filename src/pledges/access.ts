/**
 * Who may act for a company (issue #12): accounts belong to people and are bound to pledges.
 * Confirming an e-mail proves the address, not the authority, so a session is granted for one
 * pledge — the company's current one, signed with this e-mail — and every /me read and action
 * is checked against that pledge again: an address from an earlier pledge (withdrawn, rejected,
 * expired or superseded) has no access to a later one, and until a pledge is approved its
 * signer sees and cancels only that pledge.
 */
import { Types } from 'mongoose';
import { Account, Role } from '../../models/account';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import { forbidden, unauthorized } from '../errors';

/**
 * The company's current pledge: the one confirmed last. An unconfirmed pledge is nobody's yet
 * (anyone can type a code), and at most one confirmed pledge per code is open at a time.
 */
export async function currentPledgeOf(
  companyId: Types.ObjectId | string,
): Promise<PledgeDoc | null> {
  return Pledge.findOne({
    company: new Types.ObjectId(String(companyId)),
    confirmedAt: { $exists: true },
  })
    .sort({ confirmedAt: -1, _id: -1 })
    .lean<PledgeDoc>();
}

/** The pledge this contact may act on for this company now (its current one, signed by them), or null. */
export async function grantFor(
  email: string,
  companyId: Types.ObjectId | string,
): Promise<PledgeDoc | null> {
  const current = await currentPledgeOf(companyId);
  return current && current.signatory.email === email ? current : null;
}

export interface PledgeSession {
  sub: string;
  company?: string;
  pledge?: string;
}

const notCurrent = () =>
  forbidden(
    'This sign-in was granted for a pledge that is not the company’s current one: only the signatory of the current pledge may act for the company.',
    { code: 'pledge-not-current' },
  );

/**
 * The pledge a company session may read and act on; 401 when the account is gone or disabled
 * (or the token predates pledge-bound sessions), 403 when the grant no longer holds.
 */
export async function authorisedPledge(session: PledgeSession): Promise<PledgeDoc> {
  if (!session.company || !session.pledge)
    throw unauthorized('This session is no longer valid; sign in again.', {
      code: 'invalid-token',
    });
  const account = await Account.findOne({
    _id: new Types.ObjectId(session.sub),
    role: Role.Company,
    disabled: { $ne: true },
  }).lean();
  if (!account) throw unauthorized('This account cannot sign in.', { code: 'account-disabled' });
  if (String(account.company) !== session.company) throw notCurrent();
  const granted = await grantFor(account.email, session.company);
  if (!granted || String(granted._id) !== session.pledge) throw notCurrent();
  return granted;
}
