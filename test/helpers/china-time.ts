/**
 * Beijing wall-clock time by Intl's time-zone data, the tests' oracle for China time: from 1992 on
 * Asia/Shanghai is UTC+8 all year, and Intl shares no code with src/time/china.ts.
 */

/** Beijing wall-clock fields (year, month, day, hour, minute, second, zero-padded) of an instant. */
export function intlBeijingFields(d: Date): Record<string, string> {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(d);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

/** The instant as Beijing ISO time to the second, with +08:00. */
export function intlBeijingIso(d: Date): string {
  const f = intlBeijingFields(d);
  return `${f.year}-${f.month}-${f.day}T${f.hour}:${f.minute}:${f.second}+08:00`;
}
