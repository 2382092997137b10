/**
 * Reading stored certificates: by serial (a mistyped or malformed serial is a 400 that says
 * which, an unknown one a 404) and their issued PDF bytes (a download is never re-rendered).
 */
import { Types } from 'mongoose';
import { parseSerial } from '../../certificates';
import { Certificate, CertificatePdf, type CertificateDoc } from '../../models/certificate';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import { badRequest, notFound } from '../errors';

export async function findCertificate(input: string): Promise<CertificateDoc> {
  const parsed = parseSerial(input);
  if (!parsed.ok) {
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
  const cert = await Certificate.findOne({ serial: parsed.serial }).lean<CertificateDoc>();
  if (!cert)
    throw notFound(`No certificate with serial ${parsed.serial} was issued by this registry.`, {
      code: 'certificate-not-found',
    });
  return cert;
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
