/**
 * The certificate feature as the registry hands it to routes: one object per app over the jobs,
 * each in its own file —
 * - issuing.ts: issuing in the background after activation (and reissuing after a correction);
 * - status.ts: revoking, withdrawing, superseding, marking for reissue;
 * - verification.ts: checking an uploaded PDF (worker pool: verify-pool.ts, verify-worker.ts);
 * - records.ts: finding a certificate by serial, its PDF; views.ts and verdict.ts: what is shown;
 * - cache.ts: the short lookup cache, which status changes on this instance clear at once.
 */
import type { Types } from 'mongoose';
import type { CertificateDoc } from '../../models/certificate';
import type { PledgeDoc } from '../../models/pledge';
import { createLookupCache } from './cache';
import type { Association } from '../../certificates';
import { CertificateIssuer } from './issuing';
import type { KeyRing } from './keys';
import { BatchedCertificateReads, certificatePdf, companyCertificatePdf } from './records';
import { markForReissue, revokeCertificate, withdrawCertificate } from './status';
import type { RevocationReason } from '../transparency/intents';
import type { CertificateLog } from './issuing';
import { serialVerdicts, type VerifyLookup } from './verdict';
import { verifyUpload, type UploadVerdict } from './verification';
import { VerifyPool } from './verify-pool';
import { viewBytes, type CertificateView, type ViewBytes } from './views';

export type { CertificateView } from './views';
export type { UploadVerdict } from './verification';

export class CertificateService {
  private readonly cache = createLookupCache();
  private readonly reads = new BatchedCertificateReads();
  /**
   * Each cached record's view as the JSON the API answers with, and its ETag (building one
   * decodes the JWS, and every QR scan is a lookup): made once per record while it is cached.
   * A status change replaces the record in the cache, so its new view gets new bytes and tag.
   */
  private readonly views = new WeakMap<CertificateDoc, ViewBytes>();
  private readonly issuer: CertificateIssuer;

  constructor(
    private readonly keys: KeyRing,
    private readonly publicUrl: string,
    /** Where uploaded PDFs are checked: worker threads, off the event loop. */
    private readonly verifier: VerifyPool = new VerifyPool(),
    /** The issuing association on certificates (config ASSOCIATION_NAME_ZH/EN). */
    association?: Association,
  ) {
    this.issuer = new CertificateIssuer(keys, publicUrl, this.cache, association);
  }

  /** Binds issued certificates to the transparency log (each PDF carries its log proof). */
  useLog(log: CertificateLog): void {
    this.issuer.log = log;
  }

  issuePending(limit?: number): Promise<number> {
    return this.issuer.issuePending(limit);
  }

  issueFor(pledge: PledgeDoc): Promise<CertificateDoc> {
    return this.issuer.issueFor(pledge);
  }

  /** A certificate by serial (cached briefly); a mistyped serial is a 400 that says so. */
  private record(input: string): Promise<CertificateDoc> {
    return this.cache.get(input, () => this.reads.read(input));
  }

  /** The certificate's view (CertificateView) as JSON bytes, with their ETag. */
  async lookupJson(input: string): Promise<ViewBytes> {
    const record = await this.record(input);
    let view = this.views.get(record);
    if (!view) this.views.set(record, (view = viewBytes(record)));
    return view;
  }

  /** The verify page's verdicts for serials. */
  verdicts(): VerifyLookup {
    return serialVerdicts((serial) => this.record(serial));
  }

  pdf(serial: string): Promise<{ serial: string; pdf: Buffer }> {
    return certificatePdf(serial);
  }

  pdfForCompany(companyId: string): Promise<{ serial: string; pdf: Buffer }> {
    return companyCertificatePdf(companyId);
  }

  revoke(
    serial: string,
    reason: string,
    adminId: string,
    reasonCode?: RevocationReason,
  ): Promise<CertificateView> {
    return revokeCertificate(this.cache, serial, reason, adminId, reasonCode);
  }

  /** The pledge use cases' hook for a withdrawn pledge (wired once, in src/registry.ts). */
  markWithdrawn(pledgeId: Types.ObjectId, reason: string, actor: string): Promise<void> {
    return withdrawCertificate(this.cache, pledgeId, reason, actor);
  }

  correctAndMarkForReissue(
    pledgeId: Types.ObjectId,
    set: Record<string, unknown>,
    actor: string,
  ): Promise<PledgeDoc> {
    return markForReissue(pledgeId, set, actor);
  }

  reissue(pledgeId: Types.ObjectId): Promise<CertificateDoc> {
    return this.issuer.reissue(pledgeId);
  }

  /** A place for one upload to verify (take it before reading the body); a 503 when all are taken. */
  admitUpload(): () => void {
    return this.verifier.admit();
  }

  verifyUpload(bytes: Uint8Array): Promise<UploadVerdict> {
    return verifyUpload(this.verifier, this.keys, this.publicUrl, bytes, this.issuer.log?.vkey);
  }

  /** Stops the verification and rendering workers. */
  async close(): Promise<void> {
    await Promise.all([this.verifier.close(), this.issuer.close()]);
  }
}
