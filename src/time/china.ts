/**
 * China Standard Time (UTC+08:00) for what people read: export cells, roster dates, day filters.
 *
 * The offset is fixed: China has kept UTC+8 all year since 1991 (no daylight saving), and the
 * registry's dates are all later. Fixed arithmetic instead of Intl keeps these pure, fast for a
 * million export rows, and independent of the ICU data a Node build happens to carry.
 */

export const CHINA_OFFSET_MS = 8 * 3600_000;
/** The offset as ISO 8601 and MongoDB's `$dateToString` write it. */
export const CHINA_UTC_OFFSET = '+08:00';
const OFFSET = CHINA_UTC_OFFSET;
/** For Intl, which formats dates in the reader's language (src/i18n); the same fixed offset. */
export const CHINA_TIME_ZONE = 'Asia/Shanghai';
const DAY_MS = 86_400_000;

/** The wall-clock fields of `d` in China, as the ISO digits of a UTC string shifted by 8 hours. */
function shifted(d: Date): string {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw new RangeError('invalid date');
  return new Date(t + CHINA_OFFSET_MS).toISOString();
}

/**
 * ISO 8601 with the offset, to the second: `2026-12-02T04:08:26+08:00` for 2026-12-01T20:08:26Z.
 * Any parser reads it back to the same instant (milliseconds dropped); a person reads Beijing time.
 */
export function toChinaIso(d: Date): string {
  return shifted(d).slice(0, 19) + OFFSET;
}

/** The calendar day in China: `2026-12-02`. */
export function chinaDate(d: Date): string {
  return shifted(d).slice(0, 10);
}

/** Date and time in China without the offset, for printed pages that say "北京时间": `2026-12-02 04:08:26`. */
export function chinaDateTime(d: Date): string {
  return shifted(d).slice(0, 19).replace('T', ' ');
}

/** The instant a China calendar day (`YYYY-MM-DD`) begins; the next day's start ends it. */
export function chinaDayStart(day: string): Date {
  const t = Date.parse(`${day}T00:00:00${OFFSET}`);
  // The round trip refuses what Date.parse rolls over (2024-02-30 would be 1 March).
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !Number.isFinite(t) || chinaDate(new Date(t)) !== day)
    throw new RangeError(`not a calendar day: ${day}`);
  return new Date(t);
}

/** The instant a China calendar day ends: the next day's start (exclusive bound). */
export function chinaDayEnd(day: string): Date {
  return new Date(chinaDayStart(day).getTime() + DAY_MS);
}

/** The first day of a China calendar month (`YYYY-MM`) or the day itself (`YYYY-MM-DD`), as its start. */
export function chinaPeriodStart(key: string): Date {
  return chinaDayStart(/^\d{4}-\d{2}$/.test(key) ? `${key}-01` : key);
}

/**
 * `from`..`to` as whole China days, both included, as a query range on an instant field;
 * undefined when neither is given. Either bound alone leaves the other side open.
 */
export function chinaDayRange(from?: string, to?: string): { $gte?: Date; $lt?: Date } | undefined {
  if (!from && !to) return undefined;
  const range: { $gte?: Date; $lt?: Date } = {};
  if (from) range.$gte = chinaDayStart(from);
  if (to) range.$lt = chinaDayEnd(to);
  return range;
}

/** A MongoDB aggregation expression for the China calendar day (`YYYY-MM-DD`) of a date field. */
export function chinaDayExpression(field: `$${string}`): {
  $dateToString: { format: string; date: string; timezone: string };
} {
  return { $dateToString: { format: '%Y-%m-%d', date: field, timezone: CHINA_UTC_OFFSET } };
}
