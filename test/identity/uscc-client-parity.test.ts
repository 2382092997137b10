/**
 * The browser's USCC check (public/js/site.js) is a copy of src/domain/uscc.ts's rule: run the
 * shipped file in a node vm and compare its verdicts with the server's, over random strings,
 * near-valid codes and valid ones, with the tables the sign page gives it (issue #12 item 6).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import fc from 'fast-check';
import request from 'supertest';
import { PROVINCES } from '../../src/domain/provinces';
import {
  makeUscc,
  orgCodeCheckChar,
  USCC_ALPHABET,
  USCC_AUTHORITY_TYPES,
  usccCheckChar,
  validateUscc,
} from '../../src/domain/uscc';
import { useRegistry } from '../helpers/registry';

type ClientVerdict = { ok: true; province: string } | { ok: false; reason: string };
type ClientCheck = (
  value: string,
  provinces: Record<string, string>,
  authorities: Record<string, string>,
) => ClientVerdict;

function loadClientCheck(): ClientCheck {
  const source = readFileSync(path.join(__dirname, '../../public/js/site.js'), 'utf8');
  // No form on this "page": the script defines its check and stops before touching the DOM.
  const context = vm.createContext({ document: { querySelector: () => null } });
  vm.runInContext(source, context, { filename: 'site.js' });
  const check = (context as { eqiCheckUscc?: ClientCheck }).eqiCheckUscc;
  assert.equal(typeof check, 'function', 'site.js exposes its check');
  return check!;
}

const PROVINCE_NAMES = Object.fromEntries(PROVINCES.map((p) => [p.code, `province ${p.code}`]));

/** The server's verdict in the client's shape. */
function serverVerdict(value: string): ClientVerdict {
  const r = validateUscc(value);
  return r.ok
    ? { ok: true, province: PROVINCE_NAMES[r.provinceCode] }
    : { ok: false, reason: r.reason };
}

const codeChar = fc.constantFrom(...USCC_ALPHABET);
const anyChar = fc.constantFrom(...`${USCC_ALPHABET}IOSVZ abcxyz-_.é中０`);
const valid = fc
  .record({
    province: fc.constantFrom(...PROVINCES.map((p) => p.code)),
    kind: fc.constantFrom(
      ...Object.entries(USCC_AUTHORITY_TYPES).flatMap(([a, types]) => [...types].map((t) => a + t)),
    ),
    serial: fc.integer({ min: 0, max: 31 ** 6 - 1 }),
  })
  .map(({ province, kind, serial }) => makeUscc({ provinceCode: province as never, kind, serial }));

describe('the browser USCC check matches the server rule', () => {
  const check = loadClientCheck();
  const client = (v: string) => {
    const r = check(v, PROVINCE_NAMES, { ...USCC_AUTHORITY_TYPES });
    // Only the verdict and, when valid, the province: the message values are the form's business.
    return r.ok ? { ok: true, province: r.province } : { ok: false, reason: r.reason };
  };

  it('when the issue’s example 91440300123456780W (wrong organisation-code check digit) is checked, then both refuse it for character 17, and accept the code with the right digit', () => {
    assert.deepEqual(client('91440300123456780W'), { ok: false, reason: 'org-check' });
    assert.deepEqual(client('91440300123456780W'), serverVerdict('91440300123456780W'));
    const first17 = `9144030012345678${orgCodeCheckChar('12345678')}`;
    const right = first17 + usccCheckChar(first17);
    assert.deepEqual(client(right), { ok: true, province: 'province 44' });
  });

  it('when any string up to 20 characters is checked, then the browser and the server give the same verdict', () => {
    fc.assert(
      fc.property(fc.string({ unit: anyChar, maxLength: 20 }), (s) => {
        assert.deepEqual(client(s), serverVerdict(s));
      }),
      { numRuns: 3000 },
    );
  });

  it('when any 18 code characters are checked, then the same verdict (mostly authority, type, region and check failures)', () => {
    fc.assert(
      fc.property(fc.string({ unit: codeChar, minLength: 18, maxLength: 18 }), (s) => {
        assert.deepEqual(client(s), serverVerdict(s));
      }),
      { numRuns: 3000 },
    );
  });

  it('when a valid code, or one with a single character changed, in any case and with spaces around, is checked, then the same verdict', () => {
    fc.assert(
      fc.property(
        valid,
        fc.integer({ min: 0, max: 17 }),
        fc.option(codeChar, { nil: undefined }),
        fc.boolean(),
        (code, at, replacement, lower) => {
          assert.equal(client(code).ok, true);
          let s =
            replacement === undefined ? code : code.slice(0, at) + replacement + code.slice(at + 1);
          if (lower) s = ` ${s.toLowerCase()}\t`;
          assert.deepEqual(client(s), serverVerdict(s));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('the sign page gives the browser the server’s tables and every message', () => {
  const r = useRegistry();

  it('when the sign page is rendered, then the code field carries the authority table, every province and a message for each failure the rule names', async () => {
    const page = await request(r.app).get('/sign').expect(200);
    const tag = page.text.match(/<input id="f-uscc"[^>]*>/)?.[0] ?? '';
    const attr = (name: string) =>
      tag
        .match(new RegExp(`${name}="([^"]*)"`))?.[1]
        ?.replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&');
    assert.deepEqual(JSON.parse(attr('data-authorities') ?? 'null'), USCC_AUTHORITY_TYPES);
    assert.deepEqual(
      Object.keys(JSON.parse(attr('data-provinces') ?? '{}')).sort(),
      PROVINCES.map((p) => p.code).sort(),
    );
    for (const reason of [
      'length',
      'charset',
      'authority',
      'type',
      'region',
      'org-check',
      'checksum',
    ])
      assert.ok(attr(`data-msg-${reason}`), `a message for ${reason}`);
    assert.match(attr('data-msg-org-check') ?? '', /第 17 位/);
  });
});
