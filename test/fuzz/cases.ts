/**
 * fast-check arbitraries for whole HTTP requests to one target: valid-shaped values drawn from
 * the route's schema, mixed field by field with broken ones, then put on the wire with a random
 * identity, cookies, headers, content type, content encoding and size. Some inputs must be
 * refused whatever else the request holds (invalid UTF-8 in a JSON body, a number written in
 * hex); those cases say so, and the suite checks they got a 4xx.
 */
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import fc from 'fast-check';
import { makeUscc } from '../../src/domain/uscc';
import type { Identity, JsonSchema, Target } from './targets';
import type { RawRequest } from './wire';

/** What the generators know about the running registry (so valid-shaped input gets deep). */
export interface FuzzContext {
  initiative: { version: number; sha256: string };
  tokens: { admin: string; company: string };
  /** Session-bound CSRF tokens for cookie sessions. */
  sessionCsrf: { admin: string; company: string };
  /** An anonymous CSRF pair as a form page hands it out. */
  anonymousCsrf: { cookie: string; token: string };
  /** Values that exist: path parameters that reach a real record. */
  known: Record<string, string[]>;
  /** A real certificate PDF (for uploads). */
  certificatePdf: Buffer;
}

export interface FuzzCase {
  target: Target;
  identity: Identity;
  request: RawRequest;
  /** Set when the request must be refused (4xx) whatever the route: why. */
  mustReject?: string;
}

/** Strings that have broken parsers and validators before. */
const NASTY = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '%',
  '%00',
  '%ff',
  '\u202e\u202dABC',
  '\u2066x\u2069',
  '\u200b\u200b',
  '\u3000',
  '\ud800',
  '\udfff\ud800',
  '𝕏𝕐',
  'ﷺ',
  'é',
  '\r\n\r\n',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '{"$gt":""}',
  '$where',
  '__proto__',
  'constructor',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '0x10',
  '0b11',
  '1_000',
  ' 7',
  '٣',
  '00000000000000000000000000000000001',
  '99999999999999999999999',
  'true',
  'null',
  'a'.repeat(1000),
  '中'.repeat(300),
];

const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 80 }) },
);

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      2 ** 53,
      -(2 ** 63),
      [],
      {},
      [[[]]],
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      { $gt: '' },
      { $ne: null },
      { __proto__: { admin: true } },
      { toString: 1 },
    ),
  },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2, maxKeys: 3 }) },
);

const EMAIL = fc.oneof(
  fc.nat({ max: 1e6 }).map((n) => `fuzz-${n}@example.cn`),
  fc.emailAddress(),
);

/** A value that satisfies the schema (as far as a JSON Schema says), with known values by name. */
function valid(schema: JsonSchema, ctx: FuzzContext, name = ''): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alt = schema.anyOf ?? schema.oneOf;
  if (alt) return fc.oneof(...alt.map((a) => valid(a, ctx, name)));
  if (ctx.known[name]?.length) return fc.constantFrom(...ctx.known[name]);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const props = schema.properties ?? {};
      const model = Object.fromEntries(
        Object.entries(props).map(([k, v]) => [k, valid(v, ctx, k)]),
      );
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
    }
    case 'array':
      return fc.array(valid(schema.items ?? {}, ctx), { maxLength: 4 });
    case 'boolean':
      return fc.boolean();
    case 'integer':
      if (name === 'version') return fc.constant(ctx.initiative.version);
      return fc.integer({
        min: Math.max(schema.minimum ?? -1000, -1e9),
        max: Math.min(schema.maximum ?? 1000, 1e9),
      });
    case 'number':
      return fc.double({ noNaN: true, min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6 });
    case 'string': {
      if (name === 'uscc')
        return fc
          .nat({ max: 99_999 })
          .map((n) => makeUscc({ provinceCode: '35', serial: 800_000 + n }));
      if (name === 'sha256') return fc.constant(ctx.initiative.sha256);
      if (name === 'email' || schema.format === 'email') return EMAIL;
      if (schema.format === 'uri') return fc.webUrl({ size: 'small' });
      if (schema.format === 'date')
        return fc
          .date({ min: new Date('2020-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
          .map((d) => d.toISOString().slice(0, 10));
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      const min = schema.minLength ?? 0;
      const max = Math.max(min, Math.min(schema.maxLength ?? 60, 80));
      return fc.oneof(
        fc.string({ unit: 'grapheme', minLength: min, maxLength: max }),
        fc
          .constantFrom(
            '青云精密制造有限公司',
            '质量诚信，从我做起。'.repeat(3),
            'Quality first, always.',
          )
          .filter((v) => v.length >= min && v.length <= max),
      );
    }
    default:
      return fc.anything({ maxDepth: 1 });
  }
}

/** Valid-shaped, but any field may be dropped, replaced by something nasty, or joined by extras. */
function shaped(schema: JsonSchema, ctx: FuzzContext, name = '', depth = 0): fc.Arbitrary<unknown> {
  const leafOrBroken = (a: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 5, arbitrary: a }, { weight: 1, arbitrary: nastyValue });
  if (schema.type === 'object' && schema.properties && depth < 4) {
    const props = Object.entries(schema.properties);
    const model = Object.fromEntries(props.map(([k, v]) => [k, shaped(v, ctx, k, depth + 1)]));
    const record = fc.record(model, { requiredKeys: [] as string[] });
    const full = fc.record(model, { requiredKeys: props.map(([k]) => k) });
    const withExtra = fc
      .tuple(full, fc.constantFrom('__proto__', 'constructor', '$where', 'extra', ''), nastyValue)
      .map(([o, k, v]) => {
        const copy = { ...(o as Record<string, unknown>) };
        Object.defineProperty(copy, k, {
          value: v,
          enumerable: true,
          configurable: true,
          writable: true,
        });
        return copy;
      });
    return fc.oneof(
      { weight: 6, arbitrary: full },
      { weight: 2, arbitrary: record },
      { weight: 1, arbitrary: withExtra },
      { weight: 1, arbitrary: nastyValue },
    );
  }
  return leafOrBroken(valid(schema, ctx, name));
}

/** encodeURIComponent that cannot throw (a lone surrogate goes out as its WTF-8 bytes). */
function pct(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return [...Buffer.from(v, 'utf8')].map((b) => '%' + b.toString(16).padStart(2, '0')).join('');
  }
}

const BROKEN_PCT = [
  '%',
  '%0',
  '%zz',
  '%ff',
  '%FF%FE',
  '%c3%28',
  '%e0%a4%a',
  '%ed%a0%80',
  '%c0%af',
  '%00',
  '%2F',
  '%2e%2e',
  '%25',
  '%%',
  '%u0041',
];
const brokenPct = fc.constantFrom(...BROKEN_PCT);
const HEX_INTS = ['0x10', '0X1F', '0x0', '0x64', '0b1', '0o7', '1e2', '+5', '5.0', '-1', '٣'];

/** A query or path value in its encoded, on-the-wire form; `hex` when it is an integer in hex. */
function wireValue(
  schema: JsonSchema,
  ctx: FuzzContext,
  name: string,
): fc.Arbitrary<{ text: string; hex?: boolean }> {
  const integer = schema.type === 'integer';
  return fc.oneof(
    { weight: 5, arbitrary: valid(schema, ctx, name).map((v) => ({ text: pct(String(v)) })) },
    { weight: 2, arbitrary: nastyString.map((v) => ({ text: pct(v) })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid(schema, ctx, name), brokenPct)
        .map(([v, b]) => ({ text: pct(String(v)) + b })),
    },
    { weight: 3, arbitrary: brokenPct.map((text) => ({ text })) },
    ...(integer
      ? [
          {
            weight: 3,
            arbitrary: fc
              .constantFrom(...HEX_INTS)
              .map((t) => ({ text: t, hex: t.startsWith('0x') || t.startsWith('0X') })),
          },
        ]
      : []),
  );
}

function fillPath(pattern: string, values: Record<string, string>): string {
  return pattern.replace(/:([A-Za-z_]+)/g, (_m, n: string) => values[n] ?? 'x');
}

interface Body {
  bytes: Buffer;
  type?: string;
  encoding?: string;
  mustReject?: string;
}

const SENTINEL = 'ZQXBADUTF8ZQX';
const BAD_UTF8 = [
  [0xff],
  [0xfe, 0xff],
  [0xc3, 0x28],
  [0x80],
  [0xc0, 0xaf],
  [0xe4, 0xb8],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
].map((b) => Buffer.from(b));

/** Puts invalid UTF-8 into one string of a JSON value (or a key when it has no string). */
function withBadUtf8(value: unknown, bad: Buffer, pick: number): Buffer {
  const leaves: Array<[Record<string, unknown>, string]> = [];
  const visit = (v: unknown) => {
    if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (typeof x === 'string') leaves.push([v as Record<string, unknown>, k]);
        else visit(x);
      }
  };
  const copy = JSON.parse(JSON.stringify(value ?? {})) as unknown;
  visit(copy);
  let text: string;
  if (leaves.length) {
    const [o, k] = leaves[pick % leaves.length];
    o[k] = `${o[k] as string}${SENTINEL}`;
    text = JSON.stringify(copy);
  } else text = JSON.stringify({ [SENTINEL]: 1 });
  const i = text.indexOf(SENTINEL);
  return Buffer.concat([
    Buffer.from(text.slice(0, i)),
    bad,
    Buffer.from(text.slice(i + SENTINEL.length)),
  ]);
}

const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.api+json',
];
const ODD_TYPES = [
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset=nope',
  'application/json; charset=',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'multipart/form-data; boundary=zz',
  'application/octet-stream',
  '',
  ';;;',
  '*/*',
  'application/json, text/html',
];

function urlencoded(
  value: unknown,
  extra: Array<[string, string]>,
  broken: string | undefined,
): Buffer {
  const pairs: string[] = [];
  const flat = (v: unknown, prefix: string) => {
    if (v && typeof v === 'object' && !Array.isArray(v))
      for (const [k, x] of Object.entries(v)) flat(x, prefix ? `${prefix}.${k}` : k);
    else if (Array.isArray(v)) for (const x of v) pairs.push(`${pct(prefix)}=${pct(String(x))}`);
    else pairs.push(`${pct(prefix)}=${pct(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))}`);
  };
  if (value && typeof value === 'object' && !Array.isArray(value))
    for (const [k, x] of Object.entries(value)) flat(x, k);
  else flat(value, 'value');
  for (const [k, v] of extra) pairs.push(`${k}=${v}`);
  if (broken) pairs.push(`x=${broken}`, broken);
  return Buffer.from(pairs.join('&'));
}

/** A multipart body with a file part, complete or cut off anywhere after the file part began. */
function multipartBody(ctx: FuzzContext): fc.Arbitrary<{ bytes: Buffer; type: string }> {
  return fc
    .record({
      csrf: fc.constantFrom<'good' | 'bad' | 'none' | 'after'>(
        'good',
        'good',
        'bad',
        'none',
        'after',
      ),
      file: fc.oneof(
        fc.constant(ctx.certificatePdf),
        fc.constant(Buffer.from('%PDF-1.4 abc')),
        fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
        fc
          .uint8Array({ maxLength: 500 })
          .map((a) => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(a)])),
        fc.constant(Buffer.alloc(0)),
      ),
      filename: fc.constantFrom('a.pdf', '', '../../x.pdf', '证书.pdf', 'a"b.pdf', '\u202ecod.pdf'),
      fieldName: fc.constantFrom('file', 'file', 'upload', ''),
      fileType: fc.constantFrom('application/pdf', 'text/plain', ''),
      cut: fc.option(fc.nat(), { nil: undefined, freq: 3 }),
      boundary: fc.constantFrom('b', '----eqi-fuzz', 'x'.repeat(70)),
      declared: fc.constantFrom('same', 'same', 'same', 'other', 'missing', 'quoted'),
      extraParts: fc.nat({ max: 3 }),
    })
    .map((m) => {
      const b = m.boundary;
      const parts: Buffer[] = [];
      const field = (name: string, value: string) =>
        parts.push(
          Buffer.from(
            `--${b}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
          ),
        );
      const token = m.csrf === 'bad' ? 'x'.repeat(43) : ctx.anonymousCsrf.token;
      if (m.csrf === 'good' || m.csrf === 'bad') field('_csrf', token);
      for (let i = 0; i < m.extraParts; i++) field(`extra${i}`, 'v'.repeat(i * 100));
      const fileHead = Buffer.from(
        `--${b}\r\nContent-Disposition: form-data; name="${m.fieldName}"; filename="${m.filename}"\r\n` +
          (m.fileType ? `Content-Type: ${m.fileType}\r\n` : '') +
          '\r\n',
      );
      // Cuts fall anywhere from just before the file's content to just before the closing boundary.
      const cutFrom = Buffer.concat(parts).length + fileHead.length - 4;
      parts.push(fileHead, m.file, Buffer.from('\r\n'));
      if (m.csrf === 'after') field('_csrf', ctx.anonymousCsrf.token);
      parts.push(Buffer.from(`--${b}--\r\n`));
      let bytes = Buffer.concat(parts);
      // The stream ends without the closing boundary.
      if (m.cut !== undefined)
        bytes = bytes.subarray(0, cutFrom + (m.cut % (bytes.length - cutFrom - 1)));
      const type =
        m.declared === 'same'
          ? `multipart/form-data; boundary=${b}`
          : m.declared === 'quoted'
            ? `multipart/form-data; boundary="${b}"`
            : m.declared === 'other'
              ? 'multipart/form-data; boundary=other'
              : 'multipart/form-data';
      return { bytes, type };
    });
}

/** The request body for a target: JSON for the API, a form for the site, multipart for uploads. */
function bodyFor(t: Target, ctx: FuzzContext, csrfField: string | undefined): fc.Arbitrary<Body> {
  const schema = t.body ?? { type: 'object', properties: {} };
  const value = shaped(schema, ctx);
  const raw = fc.oneof(
    fc.constant(Buffer.alloc(0)),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc
      .constantFrom(
        '{',
        '{"a":',
        '[',
        'null',
        '"x"',
        '1',
        '{"a":1,"a":2}',
        '{"__proto__":{"isAdmin":true}}',
        '{"pageSize":0x10}',
        '\ufeff{}',
        '{"a":"\\ud800"}',
        '{"a":1e999999}',
      )
      .map((s) => Buffer.from(s)),
    fc.constantFrom(1_000, 100_000).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
    fc
      .constantFrom(100 * 1024 - 10, 100 * 1024 + 1, 1024 * 1024)
      .map((n) => Buffer.from(JSON.stringify({ reason: 'x'.repeat(n) }))),
  );
  const encodingOf = fc.option(
    fc.constantFrom('gzip', 'deflate', 'br', 'gzip-garbage', 'identity', 'compress', 'gzip, gzip'),
    { freq: 5, nil: undefined },
  );
  const encode = (b: Body, enc: string | undefined): Body => {
    if (!enc) return b;
    if (enc === 'gzip') return { ...b, bytes: gzipSync(b.bytes), encoding: 'gzip' };
    if (enc === 'deflate') return { ...b, bytes: deflateSync(b.bytes), encoding: 'deflate' };
    if (enc === 'br') return { ...b, bytes: brotliCompressSync(b.bytes), encoding: 'br' };
    if (enc === 'gzip-garbage') return { ...b, encoding: 'gzip', mustReject: undefined };
    return { ...b, encoding: enc };
  };

  if (t.upload)
    return fc.oneof(
      { weight: 4, arbitrary: multipartBody(ctx).map((m) => ({ bytes: m.bytes, type: m.type })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(raw, fc.constantFrom(...ODD_TYPES, ...JSON_TYPES))
          .map(([bytes, type]) => ({ bytes, type })),
      },
    );

  if (t.form) {
    const extra = csrfField ? [['_csrf', pct(csrfField)] as [string, string]] : [];
    return fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .tuple(value, fc.option(brokenPct, { freq: 4, nil: undefined }), encodingOf)
          .map(([v, broken, enc]) =>
            encode(
              { bytes: urlencoded(v, extra, broken), type: 'application/x-www-form-urlencoded' },
              enc,
            ),
          ),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(value, fc.constantFrom(...JSON_TYPES))
          .map(([v, type]) => ({ bytes: Buffer.from(JSON.stringify(v) ?? ''), type })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(raw, fc.constantFrom(...ODD_TYPES))
          .map(([bytes, type]) => ({ bytes, type })),
      },
    );
  }

  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(value, fc.constantFrom(...JSON_TYPES), encodingOf)
        .map(([v, type, enc]) =>
          encode({ bytes: Buffer.from(JSON.stringify(v) ?? 'null'), type }, enc),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          valid(schema, ctx),
          fc.constantFrom(...BAD_UTF8),
          fc.nat(),
          fc.constantFrom(...JSON_TYPES),
        )
        .map(([v, bad, pick, type]) => ({
          bytes: withBadUtf8(v, bad, pick),
          type,
          mustReject: 'invalid UTF-8 in a JSON body',
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(value, fc.constantFrom(...ODD_TYPES))
        .map(([v, type]) => ({ bytes: urlencoded(v, [], undefined), type })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(raw, fc.constantFrom(...JSON_TYPES, ...ODD_TYPES), encodingOf)
        .map(([bytes, type, enc]) => encode({ bytes, type }, enc)),
    },
  );
}

const COOKIE_NOISE = [
  'eqi_session=%',
  'eqi_session=%E0%A4%A',
  'eqi_session=%ff',
  'eqi_session=',
  'eqi_session=not.a.jwt',
  'eqi_session="quoted"',
  'eqi_csrf=%',
  'eqi_csrf=' + 'A'.repeat(43),
  'lang=%',
  'lang=xx',
  'lang=en',
  '=%',
  'a',
  '%=%',
  ';;;',
];

const AUTH_NOISE = [
  'Bearer',
  'Bearer ',
  'Bearer not.a.jwt',
  'Bearer %',
  'Basic YTpi',
  'bearer x.y.z',
  `Bearer ${'a'.repeat(5000)}`,
  'Bearer a.b.c d',
];

/** One whole request to `t`. */
export function requestFor(t: Target, ctx: FuzzContext): fc.Arbitrary<FuzzCase> {
  const identities: Identity[] = t.role
    ? [t.role, t.role, t.role, 'anonymous', t.role === 'admin' ? 'company' : 'admin']
    : ['anonymous', 'anonymous', 'admin', 'company'];
  const paramArbs = Object.fromEntries(
    t.params.map((p) => [p.name, wireValue(p.schema, ctx, p.name)]),
  );
  type QueryPart = { key: string; text: string; hex?: boolean };
  const fieldValue = (f: Target['query'][number]) =>
    wireValue(f.schema, ctx, f.name).map((v): QueryPart => ({ key: f.name, ...v }));
  const mixed = fc.array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: t.query.length
          ? fc.constantFrom(...t.query).chain(fieldValue)
          : fc.constant(undefined),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.constantFrom('lang', 'x', '__proto__', 'q[$gt]', 'page[]', '%', '', 'a%00'),
            nastyString,
          )
          .map(([key, v]): QueryPart => ({ key, text: pct(v) })),
      },
    ),
    { maxLength: 5 },
  );
  // One field alone with a value that must be refused on its own: broken percent-encoding, hex.
  const probe = t.query.length
    ? fc.constantFrom(...t.query).chain((f) =>
        fc
          .oneof(
            brokenPct.map((text): QueryPart => ({ key: f.name, text })),
            ...(f.schema.type === 'integer'
              ? [
                  fc
                    .constantFrom('0x10', '0x1', '0XA')
                    .map((text): QueryPart => ({ key: f.name, text, hex: true })),
                ]
              : []),
          )
          .map((q) => [q]),
      )
    : mixed;
  const queryArb = fc.oneof({ weight: 4, arbitrary: mixed }, { weight: 1, arbitrary: probe });
  return fc
    .record({
      identity: fc.constantFrom(...identities),
      via: fc.constantFrom<'bearer' | 'cookie'>('bearer', 'bearer', 'cookie'),
      method: fc.oneof(
        { weight: 12, arbitrary: fc.constant(t.method) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE', 'GET', 'POST'),
        },
      ),
      params: fc.record(paramArbs),
      query: queryArb,
      csrf: fc.constantFrom<'right' | 'wrong' | 'none'>('right', 'right', 'right', 'wrong', 'none'),
      cookies: fc.oneof(
        { weight: 4, arbitrary: fc.constant([] as string[]) },
        { weight: 2, arbitrary: fc.constantFrom(...COOKIE_NOISE.slice(0, 5)).map((k) => [k]) },
        { weight: 1, arbitrary: fc.subarray(COOKIE_NOISE, { maxLength: 3 }) },
      ),
      auth: fc.option(fc.constantFrom(...AUTH_NOISE), { freq: 8, nil: undefined }),
      accept: fc.constantFrom<string | undefined>(
        'application/json',
        'text/html,application/xhtml+xml',
        '*/*',
        undefined,
        'application/problem+json',
        'image/png',
        'text/html;q=abc',
      ),
      lang: fc.option(
        fc.constantFrom('zh-CN', 'en-US,en;q=0.9', '*', 'xx;q=abc', 'a'.repeat(300), '\xff'),
        { nil: undefined },
      ),
      extra: fc.subarray<[string, string]>(
        [
          ['X-Forwarded-For', '1.2.3.4, garbage'],
          ['If-None-Match', '*'],
          ['If-None-Match', 'W/"0-0"'],
          ['Range', 'bytes=0-10'],
          ['Range', 'bytes=abc'],
          ['Origin', 'https://evil.example'],
          ['X-CSRF-Token', '%'],
          ['Accept-Encoding', 'gzip, br'],
          ['X-Http-Method-Override', 'DELETE'],
          ['Expect', 'x'],
        ],
        { maxLength: 2 },
      ),
    })
    .chain((r) => {
      const signedIn = r.identity !== 'anonymous';
      const sessionToken = signedIn ? ctx.tokens[r.identity as 'admin' | 'company'] : undefined;
      const viaCookie = signedIn && (!t.api || r.via === 'cookie');
      const csrfField = !t.form
        ? undefined
        : r.csrf === 'none'
          ? undefined
          : r.csrf === 'wrong'
            ? 'x'.repeat(43)
            : t.form.csrf === 'session' && signedIn
              ? ctx.sessionCsrf[r.identity as 'admin' | 'company']
              : ctx.anonymousCsrf.token;
      return bodyFor(t, ctx, csrfField).map((body): FuzzCase => {
        const params = Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, v.text]));
        const query = r.query.filter((q): q is NonNullable<typeof q> => q !== undefined);
        const target =
          fillPath(t.path, params) +
          (query.length ? '?' + query.map((q) => `${q.key}=${q.text}`).join('&') : '');
        const cookies: string[] = [];
        if (t.form || t.upload) cookies.push(`eqi_csrf=${ctx.anonymousCsrf.cookie}`);
        if (viaCookie && sessionToken) cookies.push(`eqi_session=${sessionToken}`);
        cookies.push(...r.cookies);
        const headers: Array<[string, string]> = [];
        if (r.accept) headers.push(['Accept', r.accept]);
        if (r.lang) headers.push(['Accept-Language', r.lang]);
        if (signedIn && !viaCookie) headers.push(['Authorization', `Bearer ${sessionToken}`]);
        else if (r.auth) headers.push(['Authorization', r.auth]);
        if (viaCookie && t.api && r.csrf === 'right')
          headers.push(['X-CSRF-Token', ctx.sessionCsrf[r.identity as 'admin' | 'company']]);
        if (cookies.length) headers.push(['Cookie', cookies.join('; ')]);
        headers.push(...r.extra);
        const sendsBody = !['GET', 'HEAD', 'OPTIONS'].includes(r.method);
        if (sendsBody && body.type !== undefined) headers.push(['Content-Type', body.type]);
        if (sendsBody && body.encoding) headers.push(['Content-Encoding', body.encoding]);
        const hex =
          t.api && (Object.values(r.params).some((v) => v.hex) || query.some((q) => q.hex))
            ? 'a number written in hex'
            : undefined;
        const mustReject =
          r.method === t.method
            ? (hex ?? (sendsBody && t.body && !t.form ? body.mustReject : undefined))
            : undefined;
        return {
          target: t,
          identity: r.identity,
          request: { method: r.method, target, headers, body: sendsBody ? body.bytes : undefined },
          mustReject,
        };
      });
    });
}
