/**
 * What a reviewer should look at twice (issue #12 item 4): the same normalised company name,
 * e-mail, phone or e-mail domain as another open or active pledge, other pledges competing for
 * the same code, a code whose region contradicts the stated address, a free-mail address, and a
 * code that was revoked before. Warnings inform the decision; they never block it.
 */
import { Types } from 'mongoose';
import { Company } from '../../models/company';
import { OPEN_STATUSES, Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { emailDomain, isFreeMail } from '../domain/email';
import { PROVINCES, provinceByCode } from '../domain/provinces';

export type WarningCode =
  | 'same-name'
  | 'same-email'
  | 'same-phone'
  | 'same-email-domain'
  | 'competing-pledges'
  | 'region-mismatch'
  | 'free-mail'
  | 'revoked-before';

export interface RelatedPledge {
  id: string;
  uscc: string;
  companyName: string;
  status: string;
}

export interface ReviewWarning {
  code: WarningCode;
  /** English; the console words it from its catalog by `code`. */
  message: string;
  /** The other pledges it is about (none for region and free-mail warnings). */
  pledges: RelatedPledge[];
  /** Values the console fills into its wording (province names, the domain). */
  params?: Record<string, string>;
}

/** The keys duplicates are matched by, stored on the pledge when it is signed. */
export interface ReviewKeys {
  name: string;
  phone?: string;
  domain?: string;
}

/** A company name as people write it differently: full-width forms, case, spaces and punctuation. */
export function normaliseName(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}\s]/gu, '');
}

/** A phone number by its digits, without the +86 / 0086 country prefix. */
export function normalisePhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.startsWith('0086')) return digits.slice(4);
  if (digits.startsWith('86') && digits.length > 11) return digits.slice(2);
  return digits;
}

export function reviewKeys(p: {
  companyName: string;
  signatory: { email: string; phone?: string };
}): ReviewKeys {
  const phone = p.signatory.phone ? normalisePhone(p.signatory.phone) : '';
  // A free-mail domain is shared by millions: matching it would flag everyone.
  const domain = isFreeMail(p.signatory.email) ? '' : emailDomain(p.signatory.email);
  return {
    name: normaliseName(p.companyName),
    ...(phone ? { phone } : {}),
    ...(domain ? { domain } : {}),
  };
}

/**
 * The province the address names, when it names exactly one (Chinese or English name);
 * undefined when it names none or several.
 */
export function provinceInAddress(address: string): string | undefined {
  const lower = address.toLowerCase();
  const named = PROVINCES.filter(
    (p) => address.includes(p.zh) || new RegExp(`\\b${p.en.toLowerCase()}\\b`).test(lower),
  );
  // 山西/陕西 and the like never contain one another; one named province is a clear statement.
  return named.length === 1 ? named[0].code : undefined;
}

const related = (p: PledgeDoc): RelatedPledge => ({
  id: String(p._id),
  uscc: p.uscc,
  companyName: p.companyName,
  status: p.status,
});

export async function reviewWarnings(pledge: PledgeDoc): Promise<ReviewWarning[]> {
  const keys = pledge.reviewKeys ?? reviewKeys(pledge);
  // Open: in force or under way; an unconfirmed pledge whose link has run out no longer counts.
  const others = {
    _id: { $ne: pledge._id },
    $or: [
      { status: { $in: OPEN_STATUSES.filter((s) => s !== PledgeStatus.PendingConfirmation) } },
      { status: PledgeStatus.PendingConfirmation, confirmExpiresAt: { $gt: new Date() } },
    ],
  };
  const find = (filter: Record<string, unknown>) =>
    Pledge.find({ ...others, ...filter })
      .sort({ createdAt: 1 })
      .limit(20)
      .lean<PledgeDoc[]>();
  const [byName, byEmail, byPhone, byDomain, sameCode, revoked, company] = await Promise.all([
    find({ 'reviewKeys.name': keys.name, uscc: { $ne: pledge.uscc } }),
    find({ 'signatory.email': pledge.signatory.email, uscc: { $ne: pledge.uscc } }),
    keys.phone
      ? find({ 'reviewKeys.phone': keys.phone, uscc: { $ne: pledge.uscc } })
      : Promise.resolve([]),
    keys.domain
      ? find({ 'reviewKeys.domain': keys.domain, uscc: { $ne: pledge.uscc } })
      : Promise.resolve([]),
    find({ uscc: pledge.uscc }),
    Pledge.find({ uscc: pledge.uscc, _id: { $ne: pledge._id }, status: PledgeStatus.Revoked })
      .limit(20)
      .lean<PledgeDoc[]>(),
    pledge.companyAddress
      ? Promise.resolve(null)
      : Company.findById(new Types.ObjectId(String(pledge.company)))
          .select('address')
          .lean<{ address?: string }>(),
  ]);
  const out: ReviewWarning[] = [];
  const add = (
    code: WarningCode,
    message: string,
    list: PledgeDoc[] = [],
    params?: Record<string, string>,
  ) => out.push({ code, message, pledges: list.map(related), ...(params ? { params } : {}) });
  if (byName.length)
    add(
      'same-name',
      'Another open or active pledge under another code has the same company name.',
      byName,
    );
  if (byEmail.length)
    add(
      'same-email',
      'The signatory’s e-mail address signs another open or active pledge under another code.',
      byEmail,
    );
  if (byPhone.length)
    add(
      'same-phone',
      'The signatory’s phone number signs another open or active pledge under another code.',
      byPhone,
    );
  if (byDomain.length)
    add(
      'same-email-domain',
      `Another open or active pledge under another code was signed from the same e-mail domain (${keys.domain}).`,
      byDomain,
      { domain: keys.domain! },
    );
  if (sameCode.length)
    add(
      'competing-pledges',
      'Other pledges for the same code are open (signed by someone else, perhaps not yet confirmed).',
      sameCode,
    );
  const address = pledge.companyAddress ?? company?.address;
  const stated = address ? provinceInAddress(address) : undefined;
  if (stated && stated !== pledge.province) {
    const code = provinceByCode(pledge.province)?.en ?? pledge.province;
    const said = provinceByCode(stated)!.en;
    add(
      'region-mismatch',
      `The code is registered in ${code} (characters 3–4) but the stated address is in ${said}.`,
      [],
      { code: pledge.province, address: stated },
    );
  }
  // The form has no company-size field, so a free-mail address is flagged for every company.
  if (isFreeMail(pledge.signatory.email))
    add(
      'free-mail',
      `The signatory uses a public free-mail address (${emailDomain(pledge.signatory.email)}), which says nothing about the company.`,
      [],
      { domain: emailDomain(pledge.signatory.email) },
    );
  if (revoked.length)
    add('revoked-before', 'A pledge under this code was revoked before.', revoked);
  return out;
}
