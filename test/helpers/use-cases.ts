/**
 * Drives the pledge use cases directly (no HTTP), for tests of activation recovery and the audit
 * chain. Mail is captured in memory, so confirmation links can be read without an SMTP server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Types } from 'mongoose';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { Company } from '../../models/company';
import { testConfig } from './app';
import type { Config } from '../../src/config';
import type { MailMessage, MailQueue } from '../../src/mail/outbox';
import { currentInitiative } from '../../src/initiative/service';
import { storeEvidence } from '../../src/pledges/evidence';
import { confirmPledge, signPledge, type PledgeDeps } from '../../src/pledges/lifecycle';
import { letterPdf } from './pledges';
import { fixtureCompany } from '../fixtures/companies';
import type { SignPledgeInput } from '../../src/pledges/schemas';

export interface CapturedMail {
  queue: MailQueue;
  sent: MailMessage[];
}

export function captureMail(): CapturedMail {
  const sent: MailMessage[] = [];
  return {
    sent,
    queue: {
      async enqueue(msg) {
        sent.push(msg);
        return new Types.ObjectId();
      },
      async cancel() {},
      async release() {},
      carry(msg) {
        sent.push(msg);
        return { _id: new Types.ObjectId(), ...msg };
      },
      carried() {},
    },
  };
}

export function directDeps(
  reviewMode: 'manual' | 'auto' = 'manual',
): PledgeDeps & { config: Config; mail: MailQueue; sent: MailMessage[] } {
  const { queue, sent } = captureMail();
  // A private DATA_DIR: a registry built from this config writes dev keys there.
  const config = testConfig({
    REVIEW_MODE: reviewMode,
    PUBLIC_URL: 'https://registry.test',
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-direct-')),
  });
  return { config, mail: queue, sent };
}

let n = 0;
export async function signInput(i = ++n, tag = 9): Promise<SignPledgeInput> {
  const c = fixtureCompany(i, tag);
  const init = await currentInitiative();
  return {
    company: { uscc: c.uscc, name: c.name, nameEn: c.nameEn, industry: c.industry },
    signatory: { name: '赵敏', title: '质量总监', email: c.email },
    initiative: { version: init.version, sha256: init.sha256 },
    agree: true,
  };
}

/** Signs and confirms through the use cases; returns the pledge id (pending_review in manual mode). */
export async function signedAndConfirmed(deps: ReturnType<typeof directDeps>): Promise<string> {
  const input = await signInput();
  const { id } = await signPledge(input, deps);
  const mail = deps.sent.filter((m) => m.to === input.signatory.email).pop()!;
  const token = decodeURIComponent(/confirm\?token=([A-Za-z0-9_%-]+)/.exec(mail.text)![1]);
  // Confirming needs the authorisation letter first.
  await storeEvidence(
    new Types.ObjectId(id),
    'authorisation-letter',
    'application/pdf',
    await letterPdf(),
  );
  await confirmPledge(token, deps);
  return id;
}

/**
 * Writes a pledge directly in a given state (as a crash would leave it), bypassing the use
 * cases; `updatedAt` can be set in the past.
 */
export async function insertPledge(
  status: PledgeStatus,
  opts: { updatedAt?: Date; extra?: Partial<PledgeDoc> } = {},
): Promise<Types.ObjectId> {
  const input = await signInput();
  const company = await Company.create({
    uscc: input.company.uscc,
    name: input.company.name,
    province: input.company.uscc.slice(2, 4),
    industry: input.company.industry,
  });
  const at = opts.updatedAt ?? new Date();
  const history: Array<{ from: PledgeStatus | null; to: PledgeStatus; at: Date; actor: string }> = [
    { from: null, to: PledgeStatus.PendingConfirmation, at, actor: 'public' },
    {
      from: PledgeStatus.PendingConfirmation,
      to: PledgeStatus.PendingReview,
      at,
      actor: 'company:email',
    },
  ];
  if (status === PledgeStatus.Activating || status === PledgeStatus.Active)
    history.push({
      from: PledgeStatus.PendingReview,
      to: PledgeStatus.Activating,
      at,
      actor: 'admin:000000000000000000000000',
    });
  const _id = new Types.ObjectId();
  await Pledge.collection.insertOne({
    _id,
    company: company._id,
    uscc: input.company.uscc,
    openUscc: input.company.uscc,
    companyName: input.company.name,
    province: input.company.uscc.slice(2, 4),
    industry: input.company.industry,
    initiative: input.initiative,
    signatory: input.signatory,
    status,
    history,
    createdAt: at,
    updatedAt: at,
    ...opts.extra,
  } as never);
  return _id;
}
