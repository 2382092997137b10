/**
 * Synthetic signatories for export tests and the export benchmark: deterministic pledge
 * documents shaped exactly like the Pledge model stores them, inserted with the raw driver in
 * batches (fast enough for 100,000 rows in a test and 1,000,000 in the benchmark).
 */
import { createHash } from 'node:crypto';
import { ObjectId, type Collection, type Document } from 'mongodb';
import { makeSerial } from '../../certificates/serial';
import { INDUSTRY_CODES } from '../../src/domain/industries';
import { PROVINCE_CODES } from '../../src/domain/provinces';
import { makeUscc } from '../../src/domain/uscc';
import { reviewKeys } from '../../src/pledges/warnings';

const PLACES = [
  '喆信',
  '堃元',
  '犇腾',
  '垚石',
  '昇华',
  '玥明',
  '珺安',
  '青云',
  '白鹭',
  '松涛',
  '星河',
  '明湖',
];
const PLACES_EN = [
  'Zhexin',
  'Kunyuan',
  'Benteng',
  'Yaoshi',
  'Shenghua',
  'Yueming',
  'Jun’an',
  'Qingyun',
  'Bailu',
  'Songtao',
  'Xinghe',
  'Minghu',
];
const TRADES = ['精密制造', '新材料', '智能装备', '食品', '纺织', '电子', '建材', '物流'];
const TRADES_EN = [
  'Precision Manufacturing',
  'New Materials',
  'Smart Equipment',
  'Food',
  'Textiles',
  'Electronics',
  'Building Materials',
  'Logistics',
];
const NAMES = ['王喆', '李堃', '张玥', '刘珺', '陈昇', '杨洋'];
const TITLES = ['董事长', '总经理', '质量总监', '法定代表人'];
const SHA = createHash('sha256').update('initiative v1').digest('hex');
/** 2024-01-01T00:00:00+08:00 */
export const FIRST_ACTIVATION = Date.parse('2024-01-01T00:00:00+08:00');

export interface SyntheticOptions {
  /** Status of every row (default: every 20th withdrawn, every 50th revoked, else active). */
  status?: (i: number) => string;
  /** Milliseconds between activations (default one hour). */
  stepMs?: number;
  /** Added to the USCC serial so several batches in one database stay unique. */
  usccOffset?: number;
  /** Leave out the history (exports never read it): quicker to insert in bulk. */
  light?: boolean;
}

/** The i-th synthetic pledge (i ≥ 0): sequence i + 1, founding number for the first 100. */
export function syntheticPledge(i: number, opts: SyntheticOptions = {}): Document {
  const province = PROVINCE_CODES[i % PROVINCE_CODES.length];
  const industry = INDUSTRY_CODES[i % INDUSTRY_CODES.length];
  const seq = i + 1;
  const status = opts.status
    ? opts.status(i)
    : i % 50 === 49
      ? 'revoked'
      : i % 20 === 19
        ? 'withdrawn'
        : 'active';
  const activatedAt = new Date(FIRST_ACTIVATION + i * (opts.stepMs ?? 3_600_000));
  const p = i % PLACES.length;
  const t = Math.floor(i / PLACES.length) % TRADES.length;
  const doc: Document = {
    _id: new ObjectId(),
    company: new ObjectId(),
    uscc: makeUscc({ provinceCode: province, serial: (opts.usccOffset ?? 0) + i }),
    companyName: `${PLACES[p]}${TRADES[t]}示例有限公司${seq}号`,
    companyNameEn: `${PLACES_EN[p]} ${TRADES_EN[t]} Example Co., Ltd. No. ${seq}`,
    province,
    industry,
    initiative: { version: 1, sha256: SHA },
    signatory: {
      name: NAMES[i % NAMES.length],
      title: TITLES[i % TITLES.length],
      email: `signatory${seq}@example.com`,
      phone: `+86 10 ${String(60_000_000 + i).slice(0, 8)}`,
    },
    status,
    history: [
      { from: null, to: 'pending_confirmation', at: activatedAt, actor: 'system' },
      { from: 'pending_review', to: 'active', at: activatedAt, actor: 'admin:seed' },
    ],
    activatedAt,
    sequence: seq,
    certificateSerial: makeSerial(2024 + Math.floor(i / 999_999), (i % 999_999) + 1),
    createdAt: activatedAt,
    updatedAt: activatedAt,
  };
  // What signing writes beside the signatory (the review warnings' keys); without it the
  // review-keys migration backfills every synthetic pledge when an app starts on them.
  doc.reviewKeys = reviewKeys(doc as Parameters<typeof reviewKeys>[0]);
  if (opts.light) delete doc.history;
  if (seq <= 100) doc.foundingNumber = seq;
  if (status === 'active') doc.openUscc = doc.uscc;
  return doc;
}

/**
 * Inserts `count` synthetic pledges starting at index `start`, in batches of `batch`, with up to
 * `parallel` batches in flight (the next batch is built while the store takes the previous one).
 */
export async function insertSynthetic(
  coll: Collection,
  count: number,
  opts: SyntheticOptions & { start?: number; batch?: number; parallel?: number } = {},
): Promise<void> {
  const start = opts.start ?? 0;
  const batch = opts.batch ?? 5_000;
  const inFlight = new Set<Promise<unknown>>();
  for (let i = start; i < start + count; i += batch) {
    const docs: Document[] = [];
    for (let j = i; j < Math.min(start + count, i + batch); j++)
      docs.push(syntheticPledge(j, opts));
    const p = coll.insertMany(docs, { ordered: false }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= (opts.parallel ?? 1)) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
