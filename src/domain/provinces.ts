/**
 * Province-level divisions (GB/T 2260): the first two digits of the administrative division
 * code, which is characters 3–8 of a USCC. Source: docs/DOMAIN.md.
 */

// Grouped by region so the list reads like the standard.
// prettier-ignore
export const PROVINCE_CODES = [
  '11', '12', '13', '14', '15',
  '21', '22', '23',
  '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46',
  '50', '51', '52', '53', '54',
  '61', '62', '63', '64', '65',
  '71', '81', '82',
] as const;

export type ProvinceCode = (typeof PROVINCE_CODES)[number];

export interface Province {
  readonly code: ProvinceCode;
  readonly zh: string;
  readonly en: string;
}

const NAMES: Record<ProvinceCode, readonly [zh: string, en: string]> = {
  '11': ['北京', 'Beijing'],
  '12': ['天津', 'Tianjin'],
  '13': ['河北', 'Hebei'],
  '14': ['山西', 'Shanxi'],
  '15': ['内蒙古', 'Inner Mongolia'],
  '21': ['辽宁', 'Liaoning'],
  '22': ['吉林', 'Jilin'],
  '23': ['黑龙江', 'Heilongjiang'],
  '31': ['上海', 'Shanghai'],
  '32': ['江苏', 'Jiangsu'],
  '33': ['浙江', 'Zhejiang'],
  '34': ['安徽', 'Anhui'],
  '35': ['福建', 'Fujian'],
  '36': ['江西', 'Jiangxi'],
  '37': ['山东', 'Shandong'],
  '41': ['河南', 'Henan'],
  '42': ['湖北', 'Hubei'],
  '43': ['湖南', 'Hunan'],
  '44': ['广东', 'Guangdong'],
  '45': ['广西', 'Guangxi'],
  '46': ['海南', 'Hainan'],
  '50': ['重庆', 'Chongqing'],
  '51': ['四川', 'Sichuan'],
  '52': ['贵州', 'Guizhou'],
  '53': ['云南', 'Yunnan'],
  '54': ['西藏', 'Tibet'],
  '61': ['陕西', 'Shaanxi'],
  '62': ['甘肃', 'Gansu'],
  '63': ['青海', 'Qinghai'],
  '64': ['宁夏', 'Ningxia'],
  '65': ['新疆', 'Xinjiang'],
  '71': ['台湾', 'Taiwan'],
  '81': ['香港', 'Hong Kong'],
  '82': ['澳门', 'Macao'],
};

/** All provinces in code order. */
export const PROVINCES: readonly Province[] = Object.freeze(
  PROVINCE_CODES.map((code) => Object.freeze({ code, zh: NAMES[code][0], en: NAMES[code][1] })),
);

const BY_CODE: ReadonlyMap<string, Province> = new Map(PROVINCES.map((p) => [p.code, p]));

export function isProvinceCode(code: string): code is ProvinceCode {
  return BY_CODE.has(code);
}

export function provinceByCode(code: string): Province | undefined {
  return BY_CODE.get(code);
}

/**
 * The province a USCC was registered in (characters 3–4), or undefined when those digits are
 * not a known province. Does not check the USCC itself: call validateUscc first.
 */
export function provinceFromUscc(uscc: string): Province | undefined {
  return BY_CODE.get(uscc.trim().slice(2, 4));
}
