/**
 * Use cases of a pledge's life: sign, confirm by e-mail, review (approve/reject), withdraw.
 * Every transition is one conditional update on the pledge (so concurrent requests cannot
 * both win); on the signing path (sign, confirm, activate) that same write carries the audit
 * event and the mail (src/audit/carried.ts, moveCarriedMail), elsewhere the event follows it.
 */
import { Types } from 'mongoose';
import { Account, Role } from '../../models/account';
import { Company } from '../../models/company';
import { Pledge, PledgeStatus, OPEN_STATUSES, type PledgeDoc } from '../../models/pledge';
import { recordEvent, type EventInput } from '../audit/events';
import { carriedEvent } from '../audit/carried';
import { newToken, hashToken } from '../auth/tokens';
import type { Config } from '../config';
import { provinceFromUscc } from '../domain/provinces';
import { badRequest, conflict, gone, isAppError, notFound, validationFailed } from '../errors';
import type { MailQueue } from '../mail/outbox';
import {
  approvalMail,
  confirmPledgeMail,
  pledgeCancelledMail,
  pledgeDecisionMail,
} from '../mail/templates';
import { emailDomain, isFreeMail } from '../domain/email';
import { spendDaily, spendDailyBudgets } from '../rate-limit';
import { reviewKeys } from './warnings';
import { currentInitiative } from '../initiative/service';
import { activateClaimed, activatePledge, confirmedEvent } from './activation';
import { evidenceOf } from './evidence';
import type { EvidenceSummary } from '../../models/pledge';
import { clearPublicCaches } from './queries';
import type { SignPledgeInput } from './schemas';
import { isDuplicateKey } from '../db/errors';
import { defined, rawCollection } from '../db/raw';
import { throwFailed, writeTogether, type TogetherUpdate } from '../db/together';
import { AppError } from '../errors';
import {
  checkEvidence,
  evidenceProblemAnswer,
  replaceEvidence,
  type EvidenceField,
} from './evidence';

export const CONFIRM_TTL_HOURS = 48;

export interface PledgeDeps {
  config: Pick<Config, 'publicUrl' | 'reviewMode' | 'rateLimit'>;
  mail: MailQueue;
  /** Told when a pledge became active (its certificate is issued in the background). */
  onActivated?: () => void;
  /** Told when a pledge was withdrawn (its certificate then shows as withdrawn). */
  onWithdrawn?: (pledgeId: Types.ObjectId, reason: string, actor: string) => Promise<void>;
}

export interface PledgeSummary {
  id: string;
  status: PledgeStatus;
}

export async function signPledge(input: SignPledgeInput, deps: PledgeDeps): Promise<PledgeSummary> {
  const initiative = await currentInitiative();
  if (
    input.initiative.version !== initiative.version ||
    input.initiative.sha256 !== initiative.sha256
  ) {
    const field =
      input.initiative.version !== initiative.version ? 'initiative.version' : 'initiative.sha256';
    throw validationFailed(
      [
        {
          path: field,
          message: `The initiative has changed: the current version is ${initiative.version} (sha256 ${initiative.sha256}). Read it again and sign that version.`,
        },
      ],
      'You signed an outdated version of the initiative.',
    );
  }
  const { company, signatory } = input;
  // The budgets are spent first (a spent budget answers 429 even for a taken code).
  await spendSigningBudget(company.uscc, signatory.email, deps.config.rateLimit);
  const province = provinceFromUscc(company.uscc)!;
  const now = new Date();
  // The company record takes the signed details only when a pledge is confirmed (confirmPledge).
  // As mongoose sends it (timestamps, versionKey), on the driver's collection (hot path).
  const upsert = await Company.collection.findOneAndUpdate(
    { uscc: company.uscc },
    {
      $set: { updatedAt: now },
      $setOnInsert: {
        ...defined({
          uscc: company.uscc,
          name: company.name,
          nameEn: company.nameEn,
          province: province.code,
          industry: company.industry,
          address: company.address,
          website: company.website,
        }),
        createdAt: now,
        __v: 0,
      },
    },
    { upsert: true, returnDocument: 'after', projection: { _id: 1 }, includeResultMetadata: true },
  );
  // Only a confirmed pledge holds the code; an unconfirmed one (anyone can type a code) never
  // blocks. A company created just now has no pledge at all (company records are never deleted,
  // and every pledge's was written before it), so only a known company's code is looked up; the
  // unique openUscc index refuses a second holder at confirmation in any case.
  const known = upsert.lastErrorObject?.upserted === undefined;
  if (
    known &&
    (await Pledge.collection.findOne({ openUscc: company.uscc }, { projection: { _id: 1 } }))
  )
    throw codeTaken();
  const companyDoc = upsert.value;

  const pledgeId = new Types.ObjectId();
  const { token, hash } = newToken();
  const link = `${deps.config.publicUrl}/confirm?token=${encodeURIComponent(token)}`;
  // The document as mongoose's create would store it (schema order, no undefined fields,
  // timestamps and versionKey), inserted on the driver's collection: the input is validated by
  // its schema already, and building a mongoose document per pledge cost more than the insert.
  const doc = {
    _id: pledgeId,
    company: companyDoc!._id,
    uscc: company.uscc,
    ...defined({
      companyName: company.name,
      companyNameEn: company.nameEn,
      companyAddress: company.address,
      companyWebsite: company.website,
    }),
    reviewKeys: reviewKeys({ companyName: company.name, signatory }),
    province: province.code,
    industry: company.industry,
    initiative: { version: initiative.version, sha256: initiative.sha256 },
    signatory: defined({
      name: signatory.name,
      title: signatory.title,
      email: signatory.email,
      phone: signatory.phone,
    }),
    status: PledgeStatus.PendingConfirmation,
    history: [{ from: null, to: PledgeStatus.PendingConfirmation, at: now, actor: 'public' }],
    confirmTokenHash: hash,
    confirmExpiresAt: new Date(now.getTime() + CONFIRM_TTL_HOURS * 3600_000),
    // Uploads keep this list, so neither they nor confirming read GridFS for it.
    evidence: [],
    pendingEvents: [
      carriedEvent({
        actor: 'public',
        action: 'pledge.signed',
        after: {
          status: PledgeStatus.PendingConfirmation,
          uscc: company.uscc,
          initiativeVersion: initiative.version,
        },
        at: now,
      }),
    ],
    // One write: the pledge, its confirmation mail and its audit event exist together or not at all.
    mail: [
      deps.mail.carry(
        confirmPledgeMail({
          to: signatory.email,
          companyName: company.name,
          signatoryName: signatory.name,
          link,
          expiresHours: CONFIRM_TTL_HOURS,
        }),
      ),
    ],
    createdAt: now,
    updatedAt: now,
    __v: 0,
  };
  await Pledge.collection.insertOne(doc);
  deps.mail.carried();
  return { id: String(pledgeId), status: PledgeStatus.PendingConfirmation };
}

const codeTaken = () =>
  conflict('This company (USCC) already has a pledge that is under review or active.', {
    code: 'pledge-exists',
    errors: [
      {
        path: 'company.uscc',
        message: 'Already signed: a confirmed pledge for this code is under review or active.',
      },
    ],
  });

/**
 * Daily signing budgets: per code (from any address), and per e-mail domain — per address for
 * free-mail domains, which many companies share. 429 with Retry-After when spent.
 */
async function spendSigningBudget(
  uscc: string,
  email: string,
  limits: Config['rateLimit'],
): Promise<void> {
  // One round trip for both, spent in this order (a spent code budget leaves the domain's alone).
  await spendDailyBudgets([
    {
      bucket: 'sign-code',
      key: uscc,
      perDay: limits.signingPerCodePerDay,
      message: 'This company code has been signed for too often today; please try again tomorrow.',
    },
    {
      bucket: 'sign-domain',
      key: isFreeMail(email) ? email : emailDomain(email),
      perDay: limits.signingPerDomainPerDay,
      message:
        'Too many pledges were signed from this e-mail domain today; please try again tomorrow.',
    },
  ]);
}

/** Marks this unconfirmed pledge expired (its link ran out). */
async function expireConfirmation(id: Types.ObjectId): Promise<void> {
  const now = new Date();
  await Pledge.updateOne(
    { _id: id, status: PledgeStatus.PendingConfirmation },
    {
      $set: { status: PledgeStatus.Expired, closedReason: 'confirmation link expired' },
      $unset: { confirmTokenHash: 1 },
      $push: {
        history: {
          from: PledgeStatus.PendingConfirmation,
          to: PledgeStatus.Expired,
          at: now,
          actor: 'system',
        },
      },
    },
  );
}

/** Confirmation links mailed again per address and day, at most (beyond it, silently none). */
export const RESEND_PER_ADDRESS_PER_DAY = 3;

/**
 * Mails a fresh confirmation link for each pledge of this address still awaiting confirmation
 * (the previous link stops working; the 48 hours start again). The caller always answers
 * "accepted", whether or not anything was sent, so it tells nobody who has signed.
 */
export async function resendConfirmation(
  email: string,
  deps: Pick<PledgeDeps, 'config' | 'mail'>,
): Promise<void> {
  const pending = await Pledge.find({
    'signatory.email': email,
    status: PledgeStatus.PendingConfirmation,
  })
    .sort({ createdAt: -1 })
    .limit(5)
    .lean<PledgeDoc[]>();
  if (pending.length === 0) return;
  try {
    await spendDaily(
      'resend-confirmation',
      email,
      RESEND_PER_ADDRESS_PER_DAY,
      'Too many confirmation links for this address today.',
    );
  } catch (e) {
    if (isAppError(e) && e.status === 429) return; // no sign of it outside: the answer stays 202
    throw e;
  }
  let carried = false;
  for (const p of pending) {
    const { token, hash } = newToken();
    const link = `${deps.config.publicUrl}/confirm?token=${encodeURIComponent(token)}`;
    // The new link and its mail in one write: a pledge no longer pending gets neither.
    const r = await Pledge.updateOne(
      { _id: p._id, status: PledgeStatus.PendingConfirmation },
      {
        $set: {
          confirmTokenHash: hash,
          confirmExpiresAt: new Date(Date.now() + CONFIRM_TTL_HOURS * 3600_000),
        },
        $push: {
          mail: deps.mail.carry(
            confirmPledgeMail({
              to: email,
              companyName: p.companyName,
              signatoryName: p.signatory.name,
              link,
              expiresHours: CONFIRM_TTL_HOURS,
            }),
          ),
        },
      },
    );
    if (r.modifiedCount === 1) carried = true;
  }
  if (carried) deps.mail.carried();
}

/**
 * The signer's evidence for a pledge awaiting confirmation (the authorisation letter, optionally
 * the business licence), proven with the e-mailed confirmation token: whoever can confirm the
 * pledge may give its evidence, nobody else. Every file is checked before any is stored.
 */
export async function submitEvidence(
  id: string,
  token: string,
  files: Partial<Record<EvidenceField, Buffer>>,
): Promise<{
  id: string;
  files: Array<{ id: string; kind: string; contentType: string; length: number; sha256: string }>;
}> {
  const pledge = Types.ObjectId.isValid(id)
    ? ((await Pledge.collection.findOne({
        _id: new Types.ObjectId(id),
        confirmTokenHash: hashToken(token),
      })) as PledgeDoc | null)
    : null;
  if (!pledge)
    throw badRequest('This confirmation token is not valid for this pledge.', {
      code: 'invalid-token',
      errors: [
        { path: 'token', message: 'Send the token from the confirmation e-mail of this pledge.' },
      ],
    });
  if (
    pledge.status !== PledgeStatus.PendingConfirmation ||
    !pledge.confirmExpiresAt ||
    pledge.confirmExpiresAt <= new Date()
  )
    throw conflict('Evidence is given while the pledge awaits confirmation.', {
      code: 'not-pending-confirmation',
    });
  const checked = checkEvidence(files);
  if (!checked.ok) {
    const a = evidenceProblemAnswer(checked.problem);
    throw new AppError({
      status: a.status,
      code: `evidence-${checked.problem}`,
      detail: a.message,
      errors: [{ path: checked.field, message: a.message }],
    });
  }
  // Audited at confirmation (pledge.confirmed names the files it was confirmed with).
  const stored = await replaceEvidence(pledge._id, checked.files, pledge.evidence);
  return {
    id: String(pledge._id),
    files: stored.map((f) => ({
      id: String(f.id),
      kind: f.kind,
      contentType: f.contentType,
      length: f.length,
      sha256: f.sha256,
    })),
  };
}

const letterMissing = () =>
  conflict(
    'Upload the authorisation letter (授权书) before confirming: POST /api/v1/pledges/{id}/evidence with the token, or the sign form.',
    {
      code: 'evidence-missing',
      errors: [{ path: 'letter', message: 'The authorisation letter is required.' }],
    },
  );

/**
 * Confirms the e-mail of a pledge. The first pledge of a code to be confirmed holds the code
 * (`openUscc`, unique); a later one is refused with 409 and stays unconfirmed.
 */
export async function confirmPledge(token: string, deps: PledgeDeps): Promise<PledgeSummary> {
  const hash = hashToken(token);
  const now = new Date();
  // Auto review claims the activation in the confirming write itself (one write, two steps of
  // history); a crash before it is numbered is finished by recoverActivations like any claim.
  const auto = deps.config.reviewMode === 'auto';
  const steps = [
    {
      from: PledgeStatus.PendingConfirmation,
      to: PledgeStatus.PendingReview,
      at: now,
      actor: 'company:email',
    },
    ...(auto
      ? [
          {
            from: PledgeStatus.PendingReview,
            to: PledgeStatus.Activating,
            at: now,
            actor: AUTO_REVIEWER,
          },
        ]
      : []),
  ];
  const status = auto ? PledgeStatus.Activating : PledgeStatus.PendingReview;
  let pledge: PledgeDoc | null;
  try {
    // The usual case in one round trip: the token, its age and the letter are the write's
    // conditions, and the pledge's own list of its files gives the event's.
    pledge = await confirmWrite(
      { confirmTokenHash: hash, confirmExpiresAt: { $gt: now }, 'evidence.kind': LETTER },
      status,
      steps,
      now,
    );
    if (!pledge) {
      // Find out why (or confirm a pledge from before its file list was kept, from GridFS's).
      const seen = await Pledge.findOne({ confirmTokenHash: hash }).lean<PledgeDoc>();
      if (!seen)
        throw badRequest('This confirmation link is not valid.', { code: 'invalid-token' });
      if (seen.status !== PledgeStatus.PendingConfirmation)
        throw badRequest('This confirmation link has already been used.', { code: 'token-used' });
      if (!seen.confirmExpiresAt || seen.confirmExpiresAt <= now) {
        await expireConfirmation(seen._id);
        throw gone('This confirmation link has expired. Please sign again.', {
          code: 'token-expired',
        });
      }
      // The reviewer must have something to check: no letter, no confirmation (it stays open).
      const files = await evidenceOf(seen);
      if (!files.some((f) => f.kind === LETTER)) throw letterMissing();
      pledge = await confirmWrite(
        { _id: seen._id, confirmTokenHash: hash },
        status,
        steps,
        now,
        files,
      );
    }
  } catch (e) {
    if (!isDuplicateKey(e, { openUscc: 1 })) throw e;
    throw conflict(
      'Another pledge for this company code was confirmed first and is under review or active. If it was not made by your company, contact the association.',
      { code: 'pledge-exists' },
    );
  }
  if (!pledge)
    throw badRequest('This confirmation link has already been used.', { code: 'token-used' });
  // The company's details follow its confirmed signature (the unique held code makes this safe),
  // and the signatory gets an account: writes independent of each other and of the numbering,
  // so they travel in one round trip, with the numbering's own write under auto review.
  const alongside: TogetherUpdate[] = [
    {
      model: Company,
      filter: { _id: pledge.company },
      update: {
        $set: {
          ...defined({
            name: pledge.companyName,
            nameEn: pledge.companyNameEn,
            industry: pledge.industry,
            address: pledge.companyAddress,
            website: pledge.companyWebsite,
          }),
          updatedAt: new Date(),
        },
      },
    },
    companyAccountUpsert(pledge.signatory.email, pledge.company),
  ];
  if (auto) {
    const active = await activateClaimed(pledge, AUTO_REVIEWER, alongside);
    deps.onActivated?.();
    return { id: String(active._id), status: active.status as PledgeStatus };
  }
  throwFailed(alongside, await writeTogether(alongside));
  return { id: String(pledge._id), status: PledgeStatus.PendingReview };
}

const LETTER = 'authorisation-letter';

/**
 * The confirming write of a pledge still awaiting confirmation (and `filter`): it takes the
 * code (`openUscc`, unique), records the steps and carries `pledge.confirmed`, naming the
 * evidence files (`files`, or the pledge's own list of them). An update pipeline on the driver's
 * collection, so the code and the file list come from the document itself; `updatedAt` (which
 * recovery's claim age reads) is set here as mongoose would.
 */
async function confirmWrite(
  filter: Record<string, unknown>,
  status: PledgeStatus,
  steps: object[],
  now: Date,
  files?: readonly EvidenceSummary[],
): Promise<PledgeDoc | null> {
  const event = carriedEvent(confirmedEvent({ _id: new Types.ObjectId() }, files ?? [], now));
  const evidence = files
    ? { $literal: (event.after as { evidence: unknown }).evidence }
    : {
        $map: {
          input: '$evidence',
          in: { kind: '$$this.kind', contentType: '$$this.contentType', sha256: '$$this.sha256' },
        },
      };
  const pledges = rawCollection<PledgeDoc>(Pledge);
  return pledges.findOneAndUpdate(
    { ...filter, status: PledgeStatus.PendingConfirmation },
    [
      {
        $set: {
          status: { $literal: status },
          confirmedAt: { $literal: now },
          updatedAt: { $literal: now },
          openUscc: '$uscc',
          history: { $concatArrays: ['$history', { $literal: steps }] },
          pendingEvents: {
            $concatArrays: [
              { $ifNull: ['$pendingEvents', []] },
              [
                {
                  _id: { $literal: event._id },
                  at: { $literal: event.at },
                  actor: { $literal: event.actor },
                  action: { $literal: event.action },
                  before: { $literal: event.before },
                  after: { status: PledgeStatus.PendingReview, evidence },
                },
              ],
            ],
          },
        },
      },
    ],
    { returnDocument: 'after' },
  ) as Promise<PledgeDoc | null>;
}

/** Who activates a pledge in REVIEW_MODE=auto (the claim transition names it). */
const AUTO_REVIEWER = 'system:auto-review';

/** The audit event of one transition of `pledge` from `before` (`after`: its new state). */
function transitionEvent(
  actor: string,
  action: string,
  pledge: Pick<PledgeDoc, '_id'>,
  before: PledgeStatus,
  after: Record<string, unknown>,
): EventInput {
  return {
    actor,
    action,
    subject: { type: 'pledge', id: String(pledge._id) },
    before: { status: before },
    after,
  };
}

/** The audit action of ending a pledge as each closed status. */
const ACTION_OF: Partial<Record<PledgeStatus, string>> = {
  [PledgeStatus.Rejected]: 'pledge.rejected',
  [PledgeStatus.Cancelled]: 'pledge.cancelled',
  [PledgeStatus.Withdrawn]: 'pledge.withdrawn',
};

/**
 * The signatory's company account, created if missing, as mongoose would send it (timestamps,
 * versionKey, defaults); the unique {email, company} index makes a concurrent creation an
 * E11000, which counts as done.
 */
function companyAccountUpsert(email: string, company: Types.ObjectId): TogetherUpdate {
  const now = new Date();
  return {
    model: Account,
    filter: { email, company },
    update: {
      $set: { updatedAt: now },
      $setOnInsert: { email, company, role: Role.Company, __v: 0, createdAt: now, disabled: false },
    },
    upsert: true,
    tolerate: [11000],
  };
}

export async function approvePledge(
  id: string,
  adminId: string,
  deps: PledgeDeps,
): Promise<PledgeDoc> {
  const pledge = await activatePledge(new Types.ObjectId(id), `admin:${adminId}`);
  deps.onActivated?.();
  await deps.mail.enqueue(
    approvalMail({
      to: pledge.signatory.email,
      companyName: pledge.companyName,
      uscc: pledge.uscc,
      foundingNumber: pledge.foundingNumber ?? null,
      sequence: pledge.sequence ?? null,
      serial: pledge.certificateSerial ?? null,
      publicUrl: deps.config.publicUrl,
    }),
  );
  return pledge;
}

export async function rejectPledge(
  id: string,
  reason: string,
  adminId: string,
  deps: PledgeDeps,
): Promise<PledgeDoc> {
  const pledge = await closePledge(
    { _id: new Types.ObjectId(id), status: PledgeStatus.PendingReview },
    PledgeStatus.Rejected,
    reason,
    `admin:${adminId}`,
    { openUscc: 1 },
  );
  if (!pledge) {
    if (!(await Pledge.exists({ _id: id }))) throw notFound('No pledge with this id.');
    throw conflict('This pledge is not awaiting review (it may have been decided already).', {
      code: 'pledge-not-pending-review',
    });
  }
  await deps.mail.enqueue(
    pledgeDecisionMail({
      to: pledge.signatory.email,
      companyName: pledge.companyName,
      approved: false,
      reason,
      link: `${deps.config.publicUrl}/sign`,
    }),
  );
  return pledge;
}

/** The association ends a pledge awaiting confirmation or review, with a reason (audited, mailed). */
export async function cancelPledge(
  id: string,
  reason: string,
  adminId: string,
  deps: PledgeDeps,
): Promise<PledgeDoc> {
  const current = await Pledge.findById(id).lean<PledgeDoc>();
  if (!current) throw notFound('No pledge with this id.');
  const cancellable: PledgeStatus[] = [
    PledgeStatus.PendingConfirmation,
    PledgeStatus.PendingReview,
  ];
  if (!cancellable.includes(current.status))
    throw conflict('Only a pledge awaiting confirmation or review can be cancelled.', {
      code: 'pledge-not-pending',
    });
  const pledge = await closePledge(current, PledgeStatus.Cancelled, reason, `admin:${adminId}`);
  if (!pledge)
    throw conflict('The pledge changed meanwhile; please reload.', { code: 'pledge-changed' });
  await deps.mail.enqueue(
    pledgeCancelledMail({
      to: pledge.signatory.email,
      companyName: pledge.companyName,
      uscc: pledge.uscc,
      reason,
      link: `${deps.config.publicUrl}/sign`,
    }),
  );
  return pledge;
}

/**
 * The signatory withdraws the pledge its session was granted for (pending: cancels it; active:
 * ends it); a founder keeps its number and shows as withdrawn.
 */
export async function withdrawPledge(
  pledgeId: string,
  reason: string,
  accountId: string,
  deps: Pick<PledgeDeps, 'onWithdrawn'> = {},
): Promise<PledgeDoc> {
  const actor = `company:${accountId}`;
  const current = await Pledge.findOne({
    _id: new Types.ObjectId(pledgeId),
    status: { $in: OPEN_STATUSES.filter((s) => s !== PledgeStatus.Activating) },
  }).lean<PledgeDoc>();
  if (!current) throw notFound('Your company has no pending or active pledge to withdraw.');
  const pledge = await closePledge(current, PledgeStatus.Withdrawn, reason, actor, undefined, () =>
    clearPublicCaches(),
  );
  if (!pledge)
    throw conflict('The pledge changed while you were withdrawing it; please reload.', {
      code: 'pledge-changed',
    });
  await deps.onWithdrawn?.(pledge._id, reason, actor);
  return pledge;
}

/**
 * Ends the pledge `from` matches (its id and its status now) as `to`, with a reason: one
 * conditional write (so concurrent requests cannot both win) that frees the code and the
 * confirmation link, then its audit event. Null when the pledge is no longer in that status.
 * `changed` runs between the two (e.g. clearing caches the public pages read).
 */
async function closePledge(
  from: { _id: Types.ObjectId; status: PledgeStatus },
  to: PledgeStatus,
  reason: string,
  actor: string,
  unset: Record<string, 1> = { openUscc: 1, confirmTokenHash: 1 },
  changed?: () => void,
): Promise<PledgeDoc | null> {
  const pledge = await Pledge.findOneAndUpdate(
    { _id: from._id, status: from.status },
    {
      $set: { status: to, closedReason: reason },
      $unset: unset,
      $push: { history: { from: from.status, to, at: new Date(), actor, reason } },
    },
    { returnDocument: 'after' },
  ).lean<PledgeDoc>();
  if (!pledge) return null;
  changed?.();
  await recordEvent(
    transitionEvent(actor, ACTION_OF[to]!, pledge, from.status, { status: to, reason }),
  );
  return pledge;
}
