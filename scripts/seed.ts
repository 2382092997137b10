/**
 * `npm run seed`: publishes the initiative and ~120 fictional, activated signatories so every
 * page has content. Idempotent: companies already present are skipped.
 */
import { Types } from 'mongoose';
import { Company } from '../models/company';
import { Pledge, PledgeStatus } from '../models/pledge';
import { loadConfig } from '../src/config';
import { ensureInitialInitiative, currentInitiative } from '../src/initiative/service';
import { createLogger } from '../src/logger';
import { activatePledge, ensureSequenceCounter } from '../src/pledges/activation';
import { provinceFromUscc } from '../src/domain/provinces';
import { seedCompanies } from './seed-data';
import { withToolDatabase } from './tool-db';

export async function seed(count = 120): Promise<{ created: number; skipped: number }> {
  await ensureInitialInitiative();
  await ensureSequenceCounter();
  const initiative = await currentInitiative();
  let created = 0;
  let skipped = 0;
  for (const c of seedCompanies(count)) {
    if (await Company.exists({ uscc: c.uscc })) {
      skipped++;
      continue;
    }
    const province = provinceFromUscc(c.uscc)!.code;
    const company = await Company.create({
      uscc: c.uscc,
      name: c.name,
      nameEn: c.nameEn,
      province,
      industry: c.industry,
    });
    const now = new Date();
    const pledge = await Pledge.create({
      _id: new Types.ObjectId(),
      company: company._id,
      uscc: c.uscc,
      openUscc: c.uscc,
      companyName: c.name,
      companyNameEn: c.nameEn,
      province,
      industry: c.industry,
      initiative: { version: initiative.version, sha256: initiative.sha256 },
      signatory: c.signatory,
      status: PledgeStatus.PendingReview,
      confirmedAt: now,
      history: [{ from: null, to: PledgeStatus.PendingReview, at: now, actor: 'system:seed' }],
    });
    await activatePledge(pledge._id, 'system:seed');
    created++;
  }
  return { created, skipped };
}

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger({ level: 'warn' });
  withToolDatabase(config, logger, () => seed()).then(
    ({ created, skipped }) => {
      process.stdout.write(
        `seeded ${created} fictional signatories (${skipped} already present)\n`,
      );
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`seed failed: ${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
