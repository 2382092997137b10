/**
 * Certificates issued before records carried `codes` get them once, here: the issuer wrote the
 * province and industry names from these same tables by code (an unknown code was written as
 * itself), so each name maps back to exactly one code. From then on pages read the codes.
 */
import type mongoose from 'mongoose';
import { INDUSTRIES } from '../domain/industries';
import { PROVINCES, provinceFromUscc } from '../domain/provinces';
import type { Migration } from './runner';

interface OldRecord {
  _id: unknown;
  data?: { company?: { uscc?: string; province?: { zh?: string }; industry?: { zh?: string } } };
}

/** The codes behind a certified company's names (exported for its test). */
export function codesOf(
  company: NonNullable<NonNullable<OldRecord['data']>['company']>,
): { province: string; industry: string } | null {
  const provinceName = company.province?.zh;
  const industryName = company.industry?.zh;
  if (!provinceName || !industryName) return null;
  const province =
    PROVINCES.find((p) => p.zh === provinceName)?.code ??
    (company.uscc ? provinceFromUscc(company.uscc)?.code : undefined) ??
    provinceName;
  const industry = INDUSTRIES.find((i) => i.zh === industryName)?.code ?? industryName;
  return { province, industry };
}

export const certificateCodes: Migration = {
  id: '0001-certificate-codes',
  description: 'record the province and industry codes on certificates issued without them',
  async up(db: mongoose.mongo.Db) {
    const certificates = db.collection<OldRecord>('certificates');
    for await (const c of certificates.find(
      { codes: { $exists: false } },
      { projection: { data: 1 } },
    )) {
      const codes = c.data?.company ? codesOf(c.data.company) : null;
      if (codes)
        await certificates.updateOne({ _id: c._id, codes: { $exists: false } } as never, {
          $set: { codes },
        });
    }
  },
};
