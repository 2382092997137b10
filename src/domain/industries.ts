/** Industry sections of GB/T 4754-2017 (国民经济行业分类), A–T. Source: docs/DOMAIN.md. */

// prettier-ignore
export const INDUSTRY_CODES = [
  'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J',
  'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'T',
] as const;

export type IndustryCode = (typeof INDUSTRY_CODES)[number];

export interface Industry {
  readonly code: IndustryCode;
  readonly zh: string;
  readonly en: string;
}

const NAMES: Record<IndustryCode, readonly [zh: string, en: string]> = {
  A: ['农、林、牧、渔业', 'Agriculture'],
  B: ['采矿业', 'Mining'],
  C: ['制造业', 'Manufacturing'],
  D: ['电力、热力、燃气及水生产和供应业', 'Utilities'],
  E: ['建筑业', 'Construction'],
  F: ['批发和零售业', 'Wholesale and retail'],
  G: ['交通运输、仓储和邮政业', 'Transport and logistics'],
  H: ['住宿和餐饮业', 'Hospitality'],
  I: ['信息传输、软件和信息技术服务业', 'IT and software'],
  J: ['金融业', 'Finance'],
  K: ['房地产业', 'Real estate'],
  L: ['租赁和商务服务业', 'Leasing and business services'],
  M: ['科学研究和技术服务业', 'Research and technical services'],
  N: ['水利、环境和公共设施管理业', 'Water, environment and public facilities'],
  O: ['居民服务、修理和其他服务业', 'Household and repair services'],
  P: ['教育', 'Education'],
  Q: ['卫生和社会工作', 'Health and social work'],
  R: ['文化、体育和娱乐业', 'Culture, sports and entertainment'],
  S: ['公共管理、社会保障和社会组织', 'Public administration'],
  T: ['国际组织', 'International organisations'],
};

/** All sections in code order. */
export const INDUSTRIES: readonly Industry[] = Object.freeze(
  INDUSTRY_CODES.map((code) => Object.freeze({ code, zh: NAMES[code][0], en: NAMES[code][1] })),
);

const BY_CODE: ReadonlyMap<string, Industry> = new Map(INDUSTRIES.map((i) => [i.code, i]));

export function isIndustryCode(code: string): code is IndustryCode {
  return BY_CODE.has(code);
}

export function industryByCode(code: string): Industry | undefined {
  return BY_CODE.get(code);
}
