/** The association's administrator accounts: list, create, disable (console, API and CLI alike). */
import { Types } from 'mongoose';
import { Account, Role } from '../../models/account';
import { recordEvent } from '../audit/events';
import { hashPassword } from '../auth/passwords';
import { conflict, notFound } from '../errors';
import { isDuplicateKey } from '../db/errors';

export interface AdminAccountView {
  id: string;
  email: string;
  disabled: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
}

function adminView(a: {
  _id: unknown;
  email: string;
  disabled?: boolean | null;
  lastLoginAt?: Date | null;
  createdAt: Date;
}): AdminAccountView {
  return {
    id: String(a._id),
    email: a.email,
    disabled: a.disabled === true,
    lastLoginAt: a.lastLoginAt ?? null,
    createdAt: a.createdAt,
  };
}

export async function listAdmins(): Promise<AdminAccountView[]> {
  const rows = await Account.find({ role: Role.Admin }).sort({ email: 1 }).lean();
  return rows.map(adminView);
}

/**
 * Creates an administrator. From the console an existing e-mail is a conflict; the CLI (the
 * way in when no admin exists yet) may `reset` one instead: new password, enabled again.
 */
export async function createAdmin(
  email: string,
  password: string,
  actor: string,
  opts: { reset?: boolean } = {},
): Promise<AdminAccountView> {
  const passwordHash = await hashPassword(password);
  let created = true;
  if (opts.reset) {
    const r = await Account.updateOne(
      { email, role: Role.Admin },
      { $set: { passwordHash, disabled: false }, $setOnInsert: { email, role: Role.Admin } },
      { upsert: true },
    );
    created = r.upsertedCount > 0;
  } else {
    try {
      // The unique index on (email, company) makes two admins with one e-mail impossible, even racing.
      await Account.create({ email, role: Role.Admin, passwordHash });
    } catch (e) {
      if (isDuplicateKey(e, { email: 1, company: 1 }))
        throw conflict('An administrator with this e-mail already exists.', {
          code: 'admin-exists',
        });
      throw e;
    }
  }
  await recordEvent({
    actor,
    action: created ? 'admin.created' : 'admin.reset',
    subject: { type: 'account', id: email },
  });
  const a = (await Account.findOne({ email, role: Role.Admin }).lean())!;
  return adminView(a);
}

/** Disables an administrator (by id or e-mail). Nobody disables themselves: there must be someone left to undo it. */
export async function disableAdmin(
  who: { id: string } | { email: string },
  actor: string,
): Promise<void> {
  const filter =
    'id' in who
      ? { _id: new Types.ObjectId(who.id), role: Role.Admin }
      : { email: who.email, role: Role.Admin };
  const account = await Account.findOne(filter).lean();
  if (!account)
    throw notFound(
      'id' in who
        ? 'No administrator with this id.'
        : `No administrator with the e-mail ${who.email}.`,
    );
  if (actor === `admin:${String(account._id)}`)
    throw conflict('You cannot disable your own account.', { code: 'cannot-disable-self' });
  const r = await Account.updateOne(
    { _id: account._id, disabled: { $ne: true } },
    { $set: { disabled: true } },
  );
  if (!r.modifiedCount)
    throw conflict('This administrator is already disabled.', { code: 'admin-disabled' });
  await recordEvent({
    actor,
    action: 'admin.disabled',
    subject: { type: 'account', id: account.email },
  });
}

/** True when the session's admin account still exists and is enabled (checked on every admin request). */
export async function isActiveAdmin(id: string): Promise<boolean> {
  return (
    (await Account.exists({
      _id: new Types.ObjectId(id),
      role: Role.Admin,
      disabled: { $ne: true },
    })) !== null
  );
}

/** E-mails of the admins among audit actors (`admin:<id>`), keyed by id, to show people names not ids. */
export async function adminEmails(actors: readonly string[]): Promise<Map<string, string>> {
  const ids = [
    ...new Set(actors.filter((a) => /^admin:[0-9a-f]{24}$/.test(a)).map((a) => a.slice(6))),
  ];
  if (ids.length === 0) return new Map();
  const rows = await Account.find({
    _id: { $in: ids.map((id) => new Types.ObjectId(id)) },
    role: Role.Admin,
  })
    .select('email')
    .lean();
  return new Map(rows.map((a) => [String(a._id), a.email]));
}
