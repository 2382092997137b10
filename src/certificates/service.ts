/**
 * Certificates for active pledges: issue (in the background, right after activation), look up,
 * download, revoke, mark withdrawn, supersede on correction, and verify an uploaded PDF.
 *
 * Issuing is crash-safe without transactions: the pledge carries `needsCertificate` from the
 * moment it becomes active and the serial it will get (`pendingSerial`) before anything is
 * rendered; the PDF bytes are stored before the certificate record, and the record before the
 * pledge points to it. Any step can be repeated, so a crash only delays a certificate.
 */
import { Types } from 'mongoose';
import { buildCredential, issueCertificate, makeSerial, parseSerial, type CertificateData, type VerificationCheck } from '../../certificates';
import { Certificate, CertificatePdf, CertificateStatus, type CertificateDoc } from '../../models/certificate';
import { Counter } from '../../models/counter';
import { Initiative } from '../../models/initiative';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { recordEvent } from '../audit/events';
import { INDUSTRIES, industryByCode } from '../domain/industries';
import { provinceByCode } from '../domain/provinces';
import { badRequest, conflict, notFound } from '../errors';
import { TtlCache } from '../ttl-cache';
import { clearPublicCaches } from '../pledges/queries';
import type { KeyRing } from './keys';
import { VerifyPool } from './verify-pool';

const SERIAL_COUNTER = 'certificate-serial';
const CLAIM_MS = 60_000;

export interface CertificateView {
  serial: string;
  status: CertificateStatus;
  statusReason: string | null;
  supersededBy: string | null;
  company: { name: string; nameEn: string | null; uscc: string; province: string; industry: string };
  issuedAt: Date;
  activatedAt: string;
  foundingNumber: number | null;
  initiative: { version: string; sha256: string };
  history: CertificateDoc['history'];
}

export interface Verdict {
  valid: boolean;
  status: CertificateStatus | null;
  serial: string | null;
  checks: VerificationCheck[];
  certificate: CertificateView | null;
}

function chinaYear(d: Date): number {
  return new Date(d.getTime() + 8 * 3600_000).getUTCFullYear();
}

/**
 * Every QR scan is a lookup, so lookups are cached for a moment. A status change made on this
 * instance clears its entry at once; other instances show it within LOOKUP_CACHE_MS.
 */
export const LOOKUP_CACHE_MS = 1000;

export class CertificateService {
  private readonly lookups = new TtlCache<CertificateView>(LOOKUP_CACHE_MS);

  constructor(
    private readonly keys: KeyRing,
    private readonly publicUrl: string,
    /** Where uploaded PDFs are checked: worker threads, off the event loop. */
    private readonly verifier: VerifyPool = new VerifyPool(),
  ) {}

  /** A place for one upload to verify (take it before reading the body); a 503 when all are taken. */
  admitUpload(): () => void {
    return this.verifier.admit();
  }

  /** Stops the verification workers. */
  close(): Promise<void> {
    return this.verifier.close();
  }

  private forget(serial: string): void {
    this.lookups.delete(serial);
  }

  /** Issues certificates for every active pledge still waiting for one; returns how many. */
  async issuePending(limit = 100): Promise<number> {
    let issued = 0;
    for (let i = 0; i < limit; i++) {
      const now = new Date();
      const pledge = await Pledge.findOneAndUpdate(
        { needsCertificate: true, status: PledgeStatus.Active, $or: [{ certificateClaimUntil: { $exists: false } }, { certificateClaimUntil: { $lt: now } }] },
        { $set: { certificateClaimUntil: new Date(now.getTime() + CLAIM_MS) } },
        { returnDocument: 'after', sort: { activatedAt: 1 } },
      ).lean<PledgeDoc>();
      if (!pledge) break;
      await this.issueFor(pledge);
      issued++;
    }
    return issued;
  }

  private async allocateSerial(pledge: PledgeDoc, issuedAt: Date): Promise<string> {
    if (pledge.pendingSerial) return pledge.pendingSerial;
    const c = await Counter.collection.findOneAndUpdate({ _id: SERIAL_COUNTER } as never, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
    const serial = makeSerial(chinaYear(issuedAt), (c as unknown as { seq: number }).seq);
    // Record the serial before rendering, so a retry after a crash issues the same one.
    const r = await Pledge.findOneAndUpdate({ _id: pledge._id, pendingSerial: { $exists: false } }, { $set: { pendingSerial: serial } }, { returnDocument: 'after' }).lean<PledgeDoc>();
    return r?.pendingSerial ?? (await Pledge.findById(pledge._id).lean<PledgeDoc>())!.pendingSerial!;
  }

  private async certificateData(p: PledgeDoc, serial: string, issuedAt: Date): Promise<CertificateData> {
    const initiative = await Initiative.findOne({ version: p.initiative.version }).lean();
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
        title: { zh: initiative?.title?.zh ?? '企业质量诚信倡议书', en: initiative?.title?.en ?? 'Enterprise Quality Integrity Initiative' },
        version: String(p.initiative.version),
        sha256: p.initiative.sha256,
      },
      activatedAt: new Date(p.activatedAt!).toISOString(),
      issuedAt: issuedAt.toISOString(),
      foundingNumber: p.foundingNumber ?? null,
    };
  }

  /** Issues the pledge's current certificate (idempotent). */
  async issueFor(pledge: PledgeDoc): Promise<CertificateDoc> {
    const existing = await Certificate.findOne({ currentFor: pledge._id }).lean<CertificateDoc>();
    // After a correction the current certificate is to be superseded, unless it is already the new one.
    if (existing && (!pledge.reissueBy || existing.serial === pledge.pendingSerial)) return this.finish(pledge._id, existing);
    const issuedAt = new Date();
    const serial = await this.allocateSerial(pledge, issuedAt);
    if (existing) await this.markSuperseded(existing, serial, pledge.reissueBy!);
    const fresh = (await Pledge.findById(pledge._id).lean<PledgeDoc>())!;
    const data = await this.certificateData(fresh, serial, issuedAt);
    const { pdf, jws } = await issueCertificate(data, { signingKey: this.keys.signingKey, p12Signer: this.keys.pdfSigner, publicUrl: this.publicUrl });
    await CertificatePdf.updateOne({ _id: serial }, { $setOnInsert: { pdf: Buffer.from(pdf) } }, { upsert: true });
    let cert: CertificateDoc;
    try {
      cert = (
        await Certificate.create({
          serial,
          pledge: pledge._id,
          currentFor: pledge._id,
          data,
          status: CertificateStatus.Valid,
          keyId: this.keys.signingKey.kid,
          jws,
          issuedAt,
          history: [{ status: CertificateStatus.Valid, at: issuedAt, actor: 'system' }],
        })
      ).toObject() as CertificateDoc;
    } catch (e) {
      if ((e as { code?: number }).code !== 11000) throw e;
      // Issued concurrently by another instance: use that one.
      cert = (await Certificate.findOne({ $or: [{ currentFor: pledge._id }, { serial }] }).lean<CertificateDoc>())!;
    }
    await recordEvent({ actor: 'system', action: 'certificate.issued', subject: { type: 'certificate', id: cert.serial }, after: { pledge: String(pledge._id), status: cert.status } });
    return this.finish(pledge._id, cert);
  }

  private async finish(pledgeId: Types.ObjectId, cert: CertificateDoc): Promise<CertificateDoc> {
    await Pledge.updateOne({ _id: pledgeId }, { $set: { certificateSerial: cert.serial }, $unset: { pendingSerial: 1, needsCertificate: 1, certificateClaimUntil: 1, reissueBy: 1 } });
    return cert;
  }

  /** Looks a serial up; a mistyped serial (bad check character) is a 400 that says so. */
  async lookup(input: string): Promise<CertificateView> {
    return this.lookups.get(input, async () => view(await this.find(input)));
  }

  private async find(input: string): Promise<CertificateDoc> {
    const parsed = parseSerial(input);
    if (!parsed.ok) {
      throw parsed.error === 'checksum'
        ? badRequest('The check character (the last one) does not match: the serial was probably mistyped. Please check it against the certificate.', { code: 'serial-mistyped', errors: [{ path: 'serial', message: 'Check character mismatch: probably mistyped.' }] })
        : badRequest('This is not a certificate serial; serials look like EQI-2026-000123-F.', { code: 'serial-format', errors: [{ path: 'serial', message: 'Expected a serial like EQI-2026-000123-F.' }] });
    }
    const cert = await Certificate.findOne({ serial: parsed.serial }).lean<CertificateDoc>();
    if (!cert) throw notFound(`No certificate with serial ${parsed.serial} was issued by this registry.`, { code: 'certificate-not-found' });
    return cert;
  }

  async pdf(serial: string): Promise<{ serial: string; pdf: Buffer }> {
    const cert = await this.find(serial);
    const stored = await CertificatePdf.findById(cert.serial).lean();
    if (!stored) throw notFound('The PDF of this certificate is not available yet.');
    // A lean read gives the driver's BSON Binary; its `buffer` holds the bytes.
    const raw = stored.pdf as unknown;
    const bytes = raw instanceof Uint8Array ? raw : (raw as { buffer: Uint8Array }).buffer;
    return { serial: cert.serial, pdf: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  }

  async pdfForCompany(companyId: string): Promise<{ serial: string; pdf: Buffer }> {
    const pledge = await Pledge.findOne({ company: new Types.ObjectId(companyId), certificateSerial: { $exists: true } }).sort({ activatedAt: -1 }).lean<PledgeDoc>();
    if (!pledge?.certificateSerial) throw notFound('Your company has no certificate yet (it is issued when the pledge becomes active).');
    return this.pdf(pledge.certificateSerial);
  }

  /** The association revokes a certificate; the pledge becomes revoked (a founder keeps its number). */
  async revoke(serial: string, reason: string, adminId: string): Promise<CertificateView> {
    const cert = await this.find(serial);
    const actor = `admin:${adminId}`;
    const now = new Date();
    const updated = await Certificate.findOneAndUpdate(
      { _id: cert._id, status: CertificateStatus.Valid },
      { $set: { status: CertificateStatus.Revoked, statusReason: reason }, $unset: { currentFor: 1 }, $push: { history: { status: CertificateStatus.Revoked, at: now, actor, reason } } },
      { returnDocument: 'after' },
    ).lean<CertificateDoc>();
    if (!updated) throw conflict(`This certificate is ${cert.status}, not valid; only a valid certificate can be revoked.`, { code: 'certificate-not-valid' });
    this.forget(cert.serial);
    clearPublicCaches();
    const pledge = await Pledge.findOneAndUpdate(
      { _id: cert.pledge, status: PledgeStatus.Active },
      { $set: { status: PledgeStatus.Revoked, closedReason: reason }, $unset: { openUscc: 1 }, $push: { history: { from: PledgeStatus.Active, to: PledgeStatus.Revoked, at: now, actor, reason } } },
    );
    await recordEvent({ actor, action: 'certificate.revoked', subject: { type: 'certificate', id: cert.serial }, before: { status: cert.status }, after: { status: CertificateStatus.Revoked, reason, pledgeRevoked: pledge !== null } });
    return view(updated);
  }

  /** The company withdrew its pledge: its current certificate shows as withdrawn. */
  async markWithdrawn(pledgeId: Types.ObjectId, reason: string, actor: string): Promise<void> {
    const now = new Date();
    const cert = await Certificate.findOneAndUpdate(
      { currentFor: pledgeId, status: CertificateStatus.Valid },
      { $set: { status: CertificateStatus.Withdrawn, statusReason: reason }, $unset: { currentFor: 1 }, $push: { history: { status: CertificateStatus.Withdrawn, at: now, actor, reason } } },
    ).lean<CertificateDoc>();
    if (cert) this.forget(cert.serial);
    if (cert) await recordEvent({ actor, action: 'certificate.withdrawn', subject: { type: 'certificate', id: cert.serial }, before: { status: CertificateStatus.Valid }, after: { status: CertificateStatus.Withdrawn } });
  }

  /**
   * Applies a correction of company data to an active pledge and marks its certificate for
   * reissue, in one guarded update (returns the pledge as it was). From then on the correction
   * cannot end half-done: `reissue` supersedes and reissues at once, and should it not get to
   * (a crash), the background issuer finds the mark and finishes the job. Refused while a
   * certificate is being issued, whose data is being read at that moment.
   */
  async correctAndMarkForReissue(pledgeId: Types.ObjectId, set: Record<string, unknown>, actor: string): Promise<PledgeDoc> {
    const now = new Date();
    const before = await Pledge.findOneAndUpdate(
      { _id: pledgeId, status: PledgeStatus.Active, needsCertificate: { $ne: true }, $or: [{ certificateClaimUntil: { $exists: false } }, { certificateClaimUntil: { $lt: now } }] },
      { $set: { ...set, needsCertificate: true, reissueBy: actor, certificateClaimUntil: new Date(now.getTime() + CLAIM_MS) } },
      { returnDocument: 'before' },
    ).lean<PledgeDoc>();
    if (before) return before;
    const current = await Pledge.findById(pledgeId).select('status').lean<PledgeDoc>();
    if (!current) throw notFound('No pledge with this id.');
    if (current.status !== PledgeStatus.Active) throw conflict('Only an active pledge can be corrected.', { code: 'pledge-not-active' });
    throw conflict('The certificate is still being issued; try again in a moment.', { code: 'certificate-pending' });
  }

  /** Issues the new certificate of a pledge marked for reissue (superseding the current one). */
  async reissue(pledgeId: Types.ObjectId): Promise<CertificateDoc> {
    return this.issueFor((await Pledge.findById(pledgeId).lean<PledgeDoc>())!);
  }

  private async markSuperseded(old: CertificateDoc, newSerial: string, actor: string): Promise<void> {
    const now = new Date();
    const updated = await Certificate.findOneAndUpdate(
      { _id: old._id, currentFor: old.pledge, status: CertificateStatus.Valid },
      { $set: { status: CertificateStatus.Superseded, supersededBy: newSerial, statusReason: 'company data corrected' }, $unset: { currentFor: 1 }, $push: { history: { status: CertificateStatus.Superseded, at: now, actor, reason: `superseded by ${newSerial}` } } },
    ).lean<CertificateDoc>();
    this.forget(old.serial);
    clearPublicCaches();
    if (updated) await recordEvent({ actor, action: 'certificate.superseded', subject: { type: 'certificate', id: old.serial }, after: { status: CertificateStatus.Superseded, supersededBy: newSerial } });
  }

  /**
   * Checks an uploaded PDF: the offline checks (in a worker; a 422 VerificationRefused for a
   * file over a cap, a 503 when no worker could do it), then the registry's (serial known, data
   * matches, status).
   */
  async verifyUpload(bytes: Uint8Array): Promise<Verdict> {
    const offline = await this.verifier.verify(bytes, await this.keys.jwks());
    const checks = [...offline.checks];
    const serial = offline.credential?.serialNumber ?? null;
    let cert: CertificateDoc | null = null;
    if (serial) cert = await Certificate.findOne({ serial }).lean<CertificateDoc>();
    checks.push(cert ? { name: 'serial-known', ok: true } : { name: 'serial-known', ok: false, reason: serial ? `no certificate ${serial} in the registry` : 'no verified credential to read a serial from' });
    if (cert && offline.credential) {
      const expected = buildCredential(cert.data, { publicUrl: this.publicUrl, renderDigest: offline.credential.renderDigest });
      const same = JSON.stringify(expected.credentialSubject) === JSON.stringify(offline.credential.credentialSubject) && expected.validFrom === offline.credential.validFrom;
      checks.push(same ? { name: 'registry-match', ok: true } : { name: 'registry-match', ok: false, reason: 'the certified data differs from the registry record' });
    } else checks.push({ name: 'registry-match', ok: false, reason: 'nothing to compare' });
    checks.push(cert?.status === CertificateStatus.Valid ? { name: 'status', ok: true } : { name: 'status', ok: false, reason: cert ? `the certificate is ${cert.status}${cert.statusReason ? `: ${cert.statusReason}` : ''}` : 'unknown certificate' });
    return { valid: checks.every((c) => c.ok), status: cert?.status ?? null, serial, checks, certificate: cert ? view(cert) : null };
  }
}

function view(c: CertificateDoc): CertificateView {
  return {
    serial: c.serial,
    status: c.status,
    statusReason: c.statusReason ?? null,
    supersededBy: c.supersededBy ?? null,
    company: { name: c.data.company.name, nameEn: c.data.company.nameEn ?? null, uscc: c.data.company.uscc, province: c.data.company.province.zh, industry: c.data.company.industry.zh },
    issuedAt: c.issuedAt,
    activatedAt: String(c.data.activatedAt),
    foundingNumber: c.data.foundingNumber ?? null,
    initiative: { version: c.data.initiative.version, sha256: c.data.initiative.sha256 },
    history: c.history,
  };
}

/**
 * The verify page's lookup: a verdict for any input. A serial that does not parse (or whose check
 * character is wrong) is a plain "not found" on the page; the API says "mistyped" in detail.
 */
export function verdictLookup(certs: CertificateService): (serial: string) => Promise<import('../site/verdict').Verdict> {
  return async (serial) => {
    let v: CertificateView;
    try {
      v = await certs.lookup(serial);
    } catch (e) {
      if ((e as { status?: number }).status === 400 || (e as { status?: number }).status === 404) return { kind: 'not_found', serial };
      throw e;
    }
    const ended = v.status === CertificateStatus.Valid ? undefined : v.history.at(-1)?.at;
    return {
      kind: v.status,
      serial: v.serial,
      details: {
        companyName: v.company.name,
        companyNameEn: v.company.nameEn,
        uscc: v.company.uscc,
        province: v.company.uscc.slice(2, 4),
        industry: INDUSTRIES.find((i) => i.zh === v.company.industry)?.code,
        issuedAt: new Date(v.issuedAt),
        foundingNumber: v.foundingNumber,
        initiativeVersion: Number(v.initiative.version),
        endedAt: ended ? new Date(ended) : undefined,
        reason: v.statusReason ?? undefined,
        supersededBy: v.supersededBy ?? undefined,
      },
    };
  };
}
