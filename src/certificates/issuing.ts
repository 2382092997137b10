/**
 * Issuing certificates for active pledges, in the background right after activation.
 *
 * Crash-safe without transactions: the pledge carries `needsCertificate` from the moment it
 * becomes active and the serial it will get (`pendingSerial`) before anything is rendered; the
 * PDF bytes are stored before the certificate record, and the record before the pledge points
 * to it. Any step can be repeated, so a crash only delays a certificate. A pledge marked for
 * reissue (`reissueBy`, see status.ts) has its current certificate superseded on the way.
 */
import type { Types } from 'mongoose';
import { makeSerial, type Association, type CertificateData } from '../../certificates';
import {
  Certificate,
  CertificatePdf,
  CertificateStatus,
  type CertificateDoc,
} from '../../models/certificate';
import { Counter } from '../../models/counter';
import { Initiative } from '../../models/initiative';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { recordEvent } from '../audit/events';
import { isDuplicateKey } from '../db/errors';
import { industryByCode } from '../domain/industries';
import { provinceByCode } from '../domain/provinces';
import { chinaDate } from '../time/china';
import type { LookupCache } from './cache';
import { CLAIM_MS } from './claims';
import type { KeyRing } from './keys';
import { RenderPool } from './render-pool';
import { supersedeCertificate } from './status';
import { logCertificateStatus } from '../transparency/intents';
import type { TransparencyLog } from '../transparency/log';
import { credentialStatus, statusIndexFor } from '../transparency/status';

const SERIAL_COUNTER = 'certificate-serial';
/** Certificates in progress at once: each waits for a log checkpoint most of its time. */
const ISSUING_LANES = 16;

/** What issuing needs of the transparency log (src/transparency/log.ts). */
export type CertificateLog = Pick<TransparencyLog, 'certificateProof' | 'loggedIssueTime' | 'vkey'>;

export class CertificateIssuer {
  /** Set by the registry; without it certificates are issued without a log proof. */
  log: CertificateLog | null = null;
  /** Rendering and signing happen in worker threads, off the event loop that serves requests. */
  private readonly renderer: RenderPool;

  constructor(
    private readonly keys: KeyRing,
    private readonly publicUrl: string,
    private readonly cache: LookupCache,
    association?: Association,
  ) {
    this.renderer = new RenderPool(keys, publicUrl, association);
  }

  /**
   * Issues certificates for every active pledge still waiting for one (at most `limit`, several
   * at once); returns how many. The first failure is thrown once the others have finished.
   */
  async issuePending(limit = 100): Promise<number> {
    let issued = 0;
    let claimed = 0;
    let exhausted = false;
    let failure: { error: unknown } | null = null;
    const lanes: Promise<void>[] = [];
    // Lanes open one at a time, each after the previous one claimed a pledge, so that a single
    // pending pledge costs two claims rather than one per possible lane. Each lane's failure is
    // caught where the lane starts (a lane added while the others are awaited must not reject
    // unobserved), and the first one is thrown once all have finished.
    const open = (): void => {
      lanes.push(
        lane().catch((error: unknown) => {
          failure ??= { error };
        }),
      );
    };
    const lane = async (): Promise<void> => {
      while (!exhausted && claimed < limit) {
        claimed++;
        const now = new Date();
        const pledge = await Pledge.findOneAndUpdate(
          {
            needsCertificate: true,
            status: PledgeStatus.Active,
            $or: [
              { certificateClaimUntil: { $exists: false } },
              { certificateClaimUntil: { $lt: now } },
            ],
          },
          { $set: { certificateClaimUntil: new Date(now.getTime() + CLAIM_MS) } },
          { returnDocument: 'after', sort: { activatedAt: 1 } },
        ).lean<PledgeDoc>();
        if (!pledge) {
          exhausted = true;
          return;
        }
        if (lanes.length < Math.min(ISSUING_LANES, limit)) open();
        await this.issueFor(pledge);
        issued++;
      }
    };
    open();
    // Lanes are added while earlier ones run: wait until no new one was opened.
    for (let waited = 0; waited < lanes.length;) {
      const upTo = lanes.length;
      await Promise.all(lanes.slice(waited, upTo));
      waited = upTo;
    }
    if (failure) throw (failure as { error: unknown }).error;
    return issued;
  }

  /** Stops the rendering workers. */
  close(): Promise<void> {
    return this.renderer.close();
  }

  /** Issues the pledge's current certificate (idempotent). */
  async issueFor(pledge: PledgeDoc): Promise<CertificateDoc> {
    // A certificate record exists only after a serial was reserved on the pledge (pendingSerial,
    // then certificateSerial once finished), so a pledge with neither has none to look for.
    const existing =
      pledge.pendingSerial || pledge.certificateSerial || pledge.reissueBy
        ? await Certificate.findOne({ currentFor: pledge._id }).lean<CertificateDoc>()
        : null;
    // After a correction the current certificate is to be superseded, unless it is already the new one.
    if (existing && (!pledge.reissueBy || existing.serial === pledge.pendingSerial))
      return finish(pledge._id, existing);
    const reserved = await allocateSerial(pledge, new Date());
    const serial = reserved.serial;
    // Only a serial reserved by an earlier, interrupted attempt can already be in the log.
    const issuedAt =
      (reserved.fresh ? null : await this.log?.loggedIssueTime(serial)) ?? reserved.issuedAt;
    const log = this.log;
    let current = reserved.pledge;
    if (existing) {
      await supersedeCertificate(this.cache, existing, serial, pledge.reissueBy!);
      current = (await Pledge.findById(pledge._id).lean<PledgeDoc>())!;
    }
    const data = await certificateData(current, serial, issuedAt);
    const { pdf, jws } = await this.renderer.issue({
      data,
      credentialStatus: credentialStatus(this.publicUrl, await statusIndexFor(serial)),
      logVerifierKey: log?.vkey,
      logProof: log
        ? (jws) => log.certificateProof({ serial, uscc: current.uscc, jws, issuedAt })
        : undefined,
    });
    await CertificatePdf.updateOne(
      { _id: serial },
      { $setOnInsert: { pdf: Buffer.from(pdf) } },
      { upsert: true },
    );
    let cert: CertificateDoc;
    let created = false;
    try {
      cert = (
        await Certificate.create({
          serial,
          pledge: pledge._id,
          currentFor: pledge._id,
          data,
          codes: { province: current.province, industry: current.industry },
          status: CertificateStatus.Valid,
          keyId: this.keys.signingKey.kid,
          jws,
          issuedAt,
          history: [{ status: CertificateStatus.Valid, at: issuedAt, actor: 'system' }],
          logPending: true,
        })
      ).toObject() as CertificateDoc;
      created = true;
    } catch (e) {
      if (!isDuplicateKey(e, { currentFor: 1 }) && !isDuplicateKey(e, { serial: 1 })) throw e;
      // Issued concurrently by another instance: use that one.
      cert = (await Certificate.findOne({
        $or: [{ currentFor: pledge._id }, { serial }],
      }).lean<CertificateDoc>())!;
    }
    // The log proof above already appended this certificate's issue entry; another instance's
    // record, or running without a log, is logged from what is stored.
    if (!created || !log) await logCertificateStatus(cert._id);
    await recordEvent({
      actor: 'system',
      action: 'certificate.issued',
      subject: { type: 'certificate', id: cert.serial },
      after: { pledge: String(pledge._id), status: cert.status },
    });
    return finish(pledge._id, cert);
  }

  /** Issues the new certificate of a pledge marked for reissue (superseding the current one). */
  async reissue(pledgeId: Types.ObjectId): Promise<CertificateDoc> {
    return this.issueFor((await Pledge.findById(pledgeId).lean<PledgeDoc>())!);
  }
}

/**
 * The pledge's serial and issue time, reserved together before rendering: a retry after a crash,
 * or a second issuer racing the first, renders the same credential (the serial's year is the
 * year of issue in China). Records from before the issue time was kept fall back to `now`.
 * `fresh` says this call reserved the serial; `pledge` is the pledge as it now stands.
 */
async function allocateSerial(
  pledge: PledgeDoc,
  now: Date,
): Promise<{ serial: string; issuedAt: Date; fresh: boolean; pledge: PledgeDoc }> {
  const reserved = (p: PledgeDoc, fresh: boolean) => ({
    serial: p.pendingSerial!,
    issuedAt: p.pendingIssuedAt ?? now,
    fresh,
    pledge: p,
  });
  if (pledge.pendingSerial) return reserved(pledge, false);
  const c = await Counter.collection.findOneAndUpdate(
    { _id: SERIAL_COUNTER } as never,
    { $inc: { seq: 1 } },
    { upsert: true, returnDocument: 'after' },
  );
  const serial = makeSerial(
    Number(chinaDate(now).slice(0, 4)),
    (c as unknown as { seq: number }).seq,
  );
  const r = await Pledge.findOneAndUpdate(
    { _id: pledge._id, pendingSerial: { $exists: false } },
    { $set: { pendingSerial: serial, pendingIssuedAt: now } },
    { returnDocument: 'after' },
  ).lean<PledgeDoc>();
  // Another issuer reserved first: take its serial.
  return r
    ? reserved(r, true)
    : reserved((await Pledge.findById(pledge._id).lean<PledgeDoc>())!, false);
}

/** Published initiative versions never change, so their titles are read once per process. */
const initiativeTitles = new Map<number, { zh?: string; en?: string }>();

async function initiativeTitle(version: number): Promise<{ zh?: string; en?: string } | undefined> {
  const known = initiativeTitles.get(version);
  if (known) return known;
  const i = await Initiative.findOne({ version, status: 'published' }, { title: 1 }).lean();
  if (i?.title) initiativeTitles.set(version, i.title);
  return i?.title ?? undefined;
}

async function certificateData(
  p: PledgeDoc,
  serial: string,
  issuedAt: Date,
): Promise<CertificateData> {
  const title = await initiativeTitle(p.initiative.version);
  const province = provinceByCode(p.province);
  const industry = industryByCode(p.industry);
  return {
    serial,
    company: {
      name: p.companyName,
      ...(p.companyNameEn ? { nameEn: p.companyNameEn } : {}),
      uscc: p.uscc,
      province: { zh: province?.zh ?? p.province, en: province?.en ?? p.province },
      industry: { zh: industry?.zh ?? p.industry, en: industry?.en ?? p.industry },
    },
    signatory: { name: p.signatory.name, title: { zh: p.signatory.title } },
    initiative: {
      title: {
        zh: title?.zh ?? '企业质量诚信倡议书',
        en: title?.en ?? 'Enterprise Quality Integrity Initiative',
      },
      version: String(p.initiative.version),
      sha256: p.initiative.sha256,
    },
    activatedAt: new Date(p.activatedAt!).toISOString(),
    issuedAt: issuedAt.toISOString(),
    foundingNumber: p.foundingNumber ?? null,
  };
}

async function finish(pledgeId: Types.ObjectId, cert: CertificateDoc): Promise<CertificateDoc> {
  await Pledge.updateOne(
    { _id: pledgeId },
    {
      $set: { certificateSerial: cert.serial },
      $unset: {
        pendingSerial: 1,
        pendingIssuedAt: 1,
        needsCertificate: 1,
        certificateClaimUntil: 1,
        reissueBy: 1,
      },
    },
  );
  return cert;
}
