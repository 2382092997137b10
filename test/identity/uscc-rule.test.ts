/**
 * The USCC rule in full (issue #12 item 6): registration authority, organisation type, region,
 * the organisation code's own check digit (GB 11714, character 17) and the final check
 * character (GB 32100, character 18), each refused with its own message in zh and en.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import request from 'supertest';
import {
  USCC_ALPHABET,
  makeUscc,
  orgCodeCheckChar,
  usccCheckChar,
  validateUscc,
} from '../../src/domain/uscc';
import { PROVINCE_CODES } from '../../src/domain/provinces';
import { usccMessage } from '../../src/site/forms';
import { i18n } from '../../src/i18n';
import { useRegistry } from '../helpers/registry';
import { assertProblem, signBodyFor } from '../helpers/pledges';

/** Any code the full rule accepts: a known authority/type pair, a province, a random org code. */
const validCode = fc
  .record({
    kind: fc.constantFrom('91', '92', '93', '11', '12', '51', '52', '53', 'Y1', 'N2', '31'),
    province: fc.constantFrom(...PROVINCE_CODES),
    rest: fc.stringMatching(/^[0-9]{4}$/),
    org: fc
      .array(fc.constantFrom(...USCC_ALPHABET), { minLength: 8, maxLength: 8 })
      .map((a) => a.join('')),
  })
  .map(({ kind, province, rest, org }) => {
    const first17 = `${kind}${province}${rest}${org}${orgCodeCheckChar(org)}`;
    return first17 + usccCheckChar(first17);
  });

/** Replaces the first 17 characters' check so only the part under test is wrong. */
function withFinalCheck(first17: string): string {
  return first17 + usccCheckChar(first17);
}

describe('USCC rule in full (unit)', () => {
  it('when the organisation code check digit is wrong (91440300123456780W), then it is refused as org-check', () => {
    const r = validateUscc('91440300123456780W');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'org-check');
    assert.equal(orgCodeCheckChar('12345678'), '8');
    assert.ok(validateUscc(withFinalCheck('91440300123456788')).ok);
  });

  it('when the check digit computes to 10 or 11, then X and 0 are the only accepted characters', () => {
    // 27939873 → 10 → X (DOMAIN.md example); find an org code whose remainder is 0 → '0'.
    assert.equal(orgCodeCheckChar('27939873'), 'X');
    const zero = Array.from({ length: 1000 }, (_, n) => String(10_000_000 + n)).find(
      (o) => orgCodeCheckChar(o) === '0',
    )!;
    assert.ok(validateUscc(withFinalCheck(`91110108${zero}0`)).ok);
    for (const wrong of ['1', 'X', 'A']) {
      const r = validateUscc(withFinalCheck(`91110108${zero}${wrong}`));
      assert.equal(!r.ok && r.reason, 'org-check', wrong);
    }
  });

  it('when the registration authority is not one of GB 32100’s, then it is refused as authority', () => {
    for (const a of ['0', 'B', 'C', 'X', 'M']) {
      const r = validateUscc(withFinalCheck(`${a}1110108100000008`));
      assert.equal(!r.ok && r.reason, 'authority', a);
    }
  });

  it('when the organisation type does not exist under its authority, then it is refused as type', () => {
    for (const k of ['94', '90', '9A', '22', 'Y2', '14']) {
      const r = validateUscc(withFinalCheck(`${k}110108100000008`));
      assert.equal(!r.ok && r.reason, 'type', k);
    }
  });

  it('when characters 3–8 are not a division in a known province, then it is refused as region', () => {
    for (const d of ['990100', '000000', '1A0108', '100000', '390100']) {
      const r = validateUscc(withFinalCheck(`91${d}100000008`));
      assert.equal(!r.ok && r.reason, 'region', d);
    }
  });

  it('when any valid code is generated, then the full rule accepts it', () => {
    fc.assert(
      fc.property(validCode, (code) => validateUscc(code).ok),
      { numRuns: 2000 },
    );
    for (let i = 0; i < 300; i++) assert.ok(validateUscc(makeUscc()).ok);
  });

  it('when any single character of a valid code is changed, then the code is refused', () => {
    fc.assert(
      fc.property(
        validCode,
        fc.nat({ max: 17 }),
        fc.constantFrom(...USCC_ALPHABET, 'I', 'O', 'a', '-'),
        (code, i, ch) => {
          fc.pre(ch.toUpperCase() !== code[i]);
          return !validateUscc(code.slice(0, i) + ch + code.slice(i + 1)).ok;
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('when a code fails a part of the rule, then zh and en messages name that part and differ from each other part', () => {
    const bad: Record<string, string> = {
      authority: withFinalCheck('01110108100000008'),
      type: withFinalCheck('94110108100000008'),
      region: withFinalCheck('91990100100000008'),
      'org-check': '91440300123456780W',
      checksum: '91110108100000008C',
    };
    for (const locale of ['zh-CN', 'en'] as const) {
      const l = i18n(locale);
      const seen = new Set<string>();
      for (const [reason, code] of Object.entries(bad)) {
        const msg = usccMessage(code, l);
        assert.ok(msg && !msg.startsWith('uscc.'), `${locale} ${reason}: ${msg}`);
        seen.add(msg);
        const api = validateUscc(code);
        assert.equal(!api.ok && api.reason, reason);
      }
      assert.equal(seen.size, Object.keys(bad).length, `${locale}: one distinct message per part`);
    }
    assert.match(usccMessage(bad['org-check'], i18n('zh-CN'))!, /第 ?17 ?位/);
    assert.match(usccMessage(bad['org-check'], i18n('en'))!, /17/);
  });
});

describe('USCC rule in full (API)', () => {
  const r = useRegistry();

  /** Signs with `uscc`; asserts 400 naming company.uscc and answers that field's message. */
  async function refusedUsccMessage(uscc: string): Promise<string> {
    const body = await signBodyFor(r.app, { company: { uscc } });
    const res = await request(r.app).post('/api/v1/pledges').send(body);
    assertProblem(res, 400, ['company.uscc']);
    const err = (res.body.errors as Array<{ path: string; message: string }>).find(
      (e) => e.path === 'company.uscc',
    )!;
    return err.message;
  }

  it('when a company signs with 91440300123456780W, then 400 names company.uscc with the organisation-code message', async () => {
    assert.match(await refusedUsccMessage('91440300123456780W'), /character 17/i);
  });

  it('when a company signs with an unknown authority, type or region, then 400 says which part is wrong', async () => {
    const cases: Array<[string, RegExp]> = [
      [withFinalCheck('01110108100000008'), /registration authority/i],
      [withFinalCheck('94110108100000008'), /type/i],
      [withFinalCheck('91990100100000008'), /division|region/i],
    ];
    for (const [uscc, pattern] of cases) {
      assert.match(await refusedUsccMessage(uscc), pattern, uscc);
    }
  });
});
