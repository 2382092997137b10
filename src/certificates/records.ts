/**
 * Reading stored certificates: by serial (a mistyped or malformed serial is a 400 that says
 * which, an unknown one a 404) and their issued PDF bytes (a download is never re-rendered).
 */
import { Types } from 'mongoose';
import { parseSerial } from '../../certificates';
import { Certificate, CertificatePdf, type CertificateDoc } from '../../models/certificate';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import { rawCollection } from '../db/raw';
import { badRequest, notFound } from '../errors';
import { outsideRequest } from '../request-context';

/** The registry's form of a serial as typed, or the 400 that says what is wrong with it. */
function checkedSerial(input: string): string {
  const parsed = parseSerial(input);
  if (parsed.ok) return parsed.serial;
  throw parsed.error === 'checksum'
    ? badRequest(
        'The check character (the last one) does not match: the serial was probably mistyped. Please check it against the certificate.',
        {
          code: 'serial-mistyped',
          errors: [{ path: 'serial', message: 'Check character mismatch: probably mistyped.' }],
        },
      )
    : badRequest('This is not a certificate serial; serials look like EQI-2026-000123-F.', {
        code: 'serial-format',
        errors: [{ path: 'serial', message: 'Expected a serial like EQI-2026-000123-F.' }],
      });
}

function unknownSerial(serial: string): Error {
  return notFound(`No certificate with serial ${serial} was issued by this registry.`, {
    code: 'certificate-not-found',
  });
}

// The driver's collection: the documents a lean mongoose read gives, without the query building
// and casting, on the lookups every QR scan makes.
const certificates = () => rawCollection<CertificateDoc>(Certificate);

export async function findCertificate(input: string): Promise<CertificateDoc> {
  const serial = checkedSerial(input);
  const cert = await certificates().findOne({ serial });
  if (!cert) throw unknownSerial(serial);
  return cert;
}

/** At most this many serials in one query. */
const BATCH_MAX = 500;

/**
 * findCertificate for the lookup cache's misses: the serials asked for in one turn of the event
 * loop are read in one query (`serial: {$in}`). Cache entries expire together (they were loaded
 * together), so under load a second's misses are dozens of round trips otherwise. Every read
 * still goes to the store; a mistyped serial is refused before it, as by findCertificate.
 */
export class BatchedCertificateReads {
  private waiting = new Map<string, Array<(r: CertificateDoc | Error) => void>>();

  read(input: string): Promise<CertificateDoc> {
    let serial: string;
    try {
      serial = checkedSerial(input);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return new Promise((resolve, reject) => {
      // The shared query is no one request's work (the request context, src/request-context.ts).
      if (this.waiting.size === 0) outsideRequest(() => setImmediate(() => void this.flush()));
      let callbacks = this.waiting.get(serial);
      if (!callbacks) this.waiting.set(serial, (callbacks = []));
      callbacks.push((r) => (r instanceof Error ? reject(r) : resolve(r)));
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = new Map();
    const serials = [...batch.keys()];
    for (let i = 0; i < serials.length; i += BATCH_MAX) {
      const part = serials.slice(i, i + BATCH_MAX);
      let found: Map<string, CertificateDoc> | Error;
      try {
        const docs = await certificates()
          .find({ serial: { $in: part } })
          .toArray();
        found = new Map(docs.map((d) => [d.serial, d]));
      } catch (e) {
        found = e instanceof Error ? e : new Error(String(e));
      }
      for (const serial of part) {
        const result =
          found instanceof Error ? found : (found.get(serial) ?? unknownSerial(serial));
        for (const settle of batch.get(serial)!) settle(result);
      }
    }
  }
}

export async function certificatePdf(serial: string): Promise<{ serial: string; pdf: Buffer }> {
  const cert = await findCertificate(serial);
  const stored = await CertificatePdf.findById(cert.serial).lean();
  if (!stored) throw notFound('The PDF of this certificate is not available yet.');
  // A lean read gives the driver's BSON Binary; its `buffer` holds the bytes.
  const raw = stored.pdf as unknown;
  const bytes = raw instanceof Uint8Array ? raw : (raw as { buffer: Uint8Array }).buffer;
  return {
    serial: cert.serial,
    pdf: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
}

/** The certificate of this pledge (its current one; kept after the pledge ends, marked by status). */
export async function pledgeCertificatePdf(
  pledge: Pick<PledgeDoc, 'certificateSerial'>,
): Promise<{ serial: string; pdf: Buffer }> {
  if (!pledge.certificateSerial)
    throw notFound(
      'Your company has no certificate yet (it is issued when the pledge becomes active).',
    );
  return certificatePdf(pledge.certificateSerial);
}

/** The certificate of the company's latest activated pledge. */
export async function companyCertificatePdf(
  companyId: string,
): Promise<{ serial: string; pdf: Buffer }> {
  const pledge = await Pledge.findOne({
    company: new Types.ObjectId(companyId),
    certificateSerial: { $exists: true },
  })
    .sort({ activatedAt: -1 })
    .lean<PledgeDoc>();
  if (!pledge?.certificateSerial)
    throw notFound(
      'Your company has no certificate yet (it is issued when the pledge becomes active).',
    );
  return certificatePdf(pledge.certificateSerial);
}
