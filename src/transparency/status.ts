/**
 * Certificate status the standard way, W3C Bitstring Status List v1.0: every certificate gets a
 * random position (statusListIndex) when it is issued, and two lists are published as
 * BitstringStatusListCredentials, each a VC-JOSE-COSE JWS (typ vc+jwt) signed with the registry key:
 * - /api/v1/status/revocation  statusPurpose "revocation": the bit is set when the association
 *   revoked the certificate (final);
 * - /api/v1/status/suspension  statusPurpose "suspension": the bit is set when the certificate was
 *   withdrawn (the company left) or superseded (reissued after a correction). The certificate is
 *   no longer current, though nothing was found against it.
 * Both lists use the certificate's one index. The bits follow the certificate records, so a
 * revocation flips its bit as it is stored.
 */
import { randomInt } from 'node:crypto';
import { Certificate, CertificateStatus } from '../../models/certificate';
import { StatusListEntry } from '../../models/status-list';
import { isDuplicateKey } from '../db/errors';
import { MIN_STATUS_LIST_LENGTH, StatusList } from '../tlog';

export type StatusPurpose = 'revocation' | 'suspension';
export const STATUS_PURPOSES: readonly StatusPurpose[] = ['revocation', 'suspension'];
export const STATUS_LIST_LENGTH = MIN_STATUS_LIST_LENGTH;

const STATUSES_OF: Record<StatusPurpose, CertificateStatus[]> = {
  revocation: [CertificateStatus.Revoked],
  suspension: [CertificateStatus.Withdrawn, CertificateStatus.Superseded],
};

export const statusListUrl = (publicUrl: string, purpose: StatusPurpose): string =>
  `${publicUrl}/api/v1/status/${purpose}`;

/** The serial's position in the lists: drawn at random once, then always the same. */
export async function statusIndexFor(serial: string): Promise<number> {
  // Drawing first: a new serial (the usual case) is one insert; a serial that has its index
  // already (a retry) fails on the unique serial and is read.
  for (let tries = 0; tries < 64; tries++) {
    const _id = randomInt(0, STATUS_LIST_LENGTH);
    try {
      await StatusListEntry.create({ _id, serial, createdAt: new Date() });
      return _id;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      // The index is taken, or the serial has one: look for the serial's before drawing again.
      const existing = await StatusListEntry.findOne({ serial }).lean();
      if (existing) return existing._id;
    }
  }
  throw new Error('no free status list index after 64 draws');
}

/** The `credentialStatus` entries a certificate's credential carries. */
export function credentialStatus(publicUrl: string, index: number): Array<Record<string, string>> {
  return STATUS_PURPOSES.map((purpose) => ({
    id: `${statusListUrl(publicUrl, purpose)}#${index}`,
    type: 'BitstringStatusListEntry',
    statusPurpose: purpose,
    statusListIndex: String(index),
    statusListCredential: statusListUrl(publicUrl, purpose),
  }));
}

export async function buildStatusList(purpose: StatusPurpose): Promise<StatusList> {
  const list = new StatusList(STATUS_LIST_LENGTH);
  const serials = (
    await Certificate.find({ status: { $in: STATUSES_OF[purpose] } }, { serial: 1 }).lean()
  ).map((c) => c.serial);
  for (let i = 0; i < serials.length; i += 1000) {
    for (const e of await StatusListEntry.find({
      serial: { $in: serials.slice(i, i + 1000) },
    }).lean())
      list.set(e._id, true);
  }
  return list;
}

/** The list as a signed BitstringStatusListCredential (compact JWS, typ vc+jwt). */
export async function statusListCredential(
  purpose: StatusPurpose,
  o: { publicUrl: string; sign: (payload: object) => string; now?: Date },
): Promise<string> {
  const url = statusListUrl(o.publicUrl, purpose);
  const list = await buildStatusList(purpose);
  const now = o.now ?? new Date();
  const payload = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: o.publicUrl,
    iss: o.publicUrl,
    validFrom: now.toISOString(),
    credentialSubject: {
      id: `${url}#list`,
      type: 'BitstringStatusList',
      statusPurpose: purpose,
      encodedList: list.encode(),
      ttl: 300_000,
    },
  };
  return o.sign(payload);
}
