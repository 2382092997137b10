/**
 * Fictional companies for development and demos. Every name contains 示例 ("example") so it can
 * never be mistaken for a real company; USCCs are generated with a valid check character.
 */
import { INDUSTRY_CODES } from '../src/domain/industries';
import { PROVINCE_CODES } from '../src/domain/provinces';
import { makeUscc } from '../src/domain/uscc';

const PREFIXES: Array<[string, string]> = [
  ['启明', 'Qiming'],
  ['华辰', 'Huachen'],
  ['恒信', 'Hengxin'],
  ['瑞丰', 'Ruifeng'],
  ['金穗', 'Jinsui'],
  ['青禾', 'Qinghe'],
  ['远航', 'Yuanhang'],
  ['星河', 'Xinghe'],
  ['嘉禾', 'Jiahe'],
  ['同创', 'Tongchuang'],
  ['鼎盛', 'Dingsheng'],
  ['永泰', 'Yongtai'],
  ['喆信', 'Zhexin'],
  ['堃元', 'Kunyuan'],
  ['犇腾', 'Benteng'],
  ['垚石', 'Yaoshi'],
  ['昇华', 'Shenghua'],
  ['玥明', 'Yueming'],
  ['珺安', 'Jun’an'],
  ['立诚', 'Licheng'],
  ['德润', 'Derun'],
  ['兴业', 'Xingye'],
  ['安和', 'Anhe'],
  ['博远', 'Boyuan'],
];

const KINDS: Record<string, [string, string]> = {
  A: ['农业发展', 'Agriculture'],
  B: ['矿业', 'Mining'],
  C: ['精密制造', 'Precision Manufacturing'],
  D: ['能源', 'Energy'],
  E: ['建设工程', 'Construction'],
  F: ['商贸', 'Trading'],
  G: ['物流', 'Logistics'],
  H: ['餐饮管理', 'Catering'],
  I: ['软件科技', 'Software'],
  J: ['金融服务', 'Financial Services'],
  K: ['置业', 'Real Estate'],
  L: ['商务服务', 'Business Services'],
  M: ['检测技术', 'Testing Technology'],
  N: ['环境科技', 'Environmental Technology'],
  O: ['家政服务', 'Household Services'],
  P: ['教育科技', 'Education Technology'],
  Q: ['医疗器械', 'Medical Devices'],
  R: ['文化传媒', 'Culture and Media'],
  S: ['公共服务', 'Public Services'],
  T: ['国际交流', 'International Exchange'],
};

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴'];
const GIVEN = [
  '喆',
  '堃',
  '玥',
  '珺',
  '昇',
  '伟',
  '芳',
  '静',
  '磊',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
];
const TITLES = ['董事长', '总经理', '质量总监', '法定代表人'];

/** Deterministic pseudo-random numbers (mulberry32) so every seed run creates the same data. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedCompany {
  uscc: string;
  name: string;
  nameEn: string;
  industry: string;
  signatory: { name: string; title: string; email: string };
}

export function seedCompanies(count = 120): SeedCompany[] {
  const rand = rng(2009);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const out: SeedCompany[] = [];
  const used = new Set<string>();
  for (let i = 0; out.length < count; i++) {
    const province = PROVINCE_CODES[i % PROVINCE_CODES.length];
    const industry = i < 60 ? 'C' : pick(INDUSTRY_CODES);
    const [zh, en] = PREFIXES[i % PREFIXES.length];
    const [kindZh, kindEn] = KINDS[industry];
    const name = `${zh}示例${kindZh}有限公司`;
    const uscc = makeUscc({ provinceCode: province, random: rand });
    if (used.has(uscc) || used.has(`${name}:${province}`)) continue;
    used.add(uscc);
    used.add(`${name}:${province}`);
    out.push({
      uscc,
      name:
        i >= PREFIXES.length
          ? `${name.replace('有限公司', '')}（${String(i + 1).padStart(3, '0')}）有限公司`
          : name,
      nameEn: `${en} Example ${kindEn} Co., Ltd.${i >= PREFIXES.length ? ` (${i + 1})` : ''}`,
      industry,
      signatory: {
        name: pick(SURNAMES) + pick(GIVEN) + (rand() < 0.5 ? pick(GIVEN) : ''),
        title: pick(TITLES),
        email: `contact${i + 1}@example.com`,
      },
    });
  }
  return out;
}
