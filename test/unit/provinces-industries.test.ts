import assert from 'node:assert/strict';
import {
  INDUSTRIES,
  INDUSTRY_CODES,
  industryByCode,
  isIndustryCode,
} from '../../src/domain/industries';
import {
  isProvinceCode,
  PROVINCES,
  provinceByCode,
  provinceFromUscc,
} from '../../src/domain/provinces';

describe('provinces (GB/T 2260)', () => {
  it('when listed, then all 34 province-level divisions are there once, in code order', () => {
    assert.equal(PROVINCES.length, 34);
    const codes = PROVINCES.map((p) => p.code);
    assert.deepEqual(codes, [...codes].sort());
    assert.equal(new Set(codes).size, 34);
    assert.ok(PROVINCES.every((p) => /^\d\d$/.test(p.code) && p.zh && p.en));
  });

  it('when looked up by code, then the Chinese and English names come back', () => {
    assert.deepEqual(provinceByCode('15'), { code: '15', zh: '内蒙古', en: 'Inner Mongolia' });
    assert.deepEqual(provinceByCode('82'), { code: '82', zh: '澳门', en: 'Macao' });
    assert.equal(provinceByCode('99'), undefined);
    assert.ok(isProvinceCode('44'));
    assert.ok(!isProvinceCode('10'));
  });

  it('when given a USCC, then its province is read from characters 3–4', () => {
    assert.equal(provinceFromUscc('91350100M000100Y43')?.en, 'Fujian');
    assert.equal(provinceFromUscc('9144030027939873X7')?.zh, '广东');
    assert.equal(provinceFromUscc('91990100M000100Y43'), undefined);
  });
});

describe('industries (GB/T 4754-2017)', () => {
  it('when listed, then sections A–T are there once, in order', () => {
    assert.deepEqual(
      INDUSTRIES.map((i) => i.code),
      'ABCDEFGHIJKLMNOPQRST'.split(''),
    );
    assert.deepEqual([...INDUSTRY_CODES], 'ABCDEFGHIJKLMNOPQRST'.split(''));
  });

  it('when looked up by code, then the names come back; unknown codes give undefined', () => {
    assert.deepEqual(industryByCode('C'), { code: 'C', zh: '制造业', en: 'Manufacturing' });
    assert.equal(industryByCode('I')?.en, 'IT and software');
    assert.equal(industryByCode('U'), undefined);
    assert.equal(industryByCode('c'), undefined);
    assert.ok(isIndustryCode('T'));
    assert.ok(!isIndustryCode('Z'));
  });
});
