/** Steps shared by the site's page tests: read a form's CSRF token, fill and post forms like a browser. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { makeUscc } from '../../src/domain/uscc';
import type { ProvinceCode } from '../../src/domain/provinces';

export type Agent = ReturnType<typeof request.agent>;

/** Browsers send this; without it the error handler answers problem+json. */
export const HTML = 'text/html,application/xhtml+xml';

export function agent(app: Express): Agent {
  return request.agent(app).set('Accept', HTML);
}

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  assert.ok(m, 'the page has a CSRF field');
  return m[1];
}

export function hiddenValue(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  assert.ok(m, `the page has a hidden ${name}`);
  return m[1];
}

let serial = 0;
/** Valid sign-form fields for a new fictional company (province 35 unless given). */
export function signFields(
  over: Record<string, string> = {},
  provinceCode: ProvinceCode = '35',
): Record<string, string> {
  serial += 1;
  const n = serial + 4000 + (process.pid % 1000) * 10;
  return {
    uscc: makeUscc({ provinceCode, serial: n }),
    name: `页面测试示例${n}精密制造有限公司`,
    nameEn: `Page Test Example ${n} Precision Co., Ltd.`,
    industry: 'C',
    address: '福建省福州市示例路 1 号',
    website: 'https://example.cn',
    signatoryName: '林示例',
    title: '总经理',
    email: `site-${n}@example.cn`,
    phone: '+86 591 1234 5678',
    agree: 'yes',
    ...over,
  };
}

/** Opens /sign, then posts the fields with the page's token and initiative version; checks the status. */
export async function postSignForm(
  a: Agent,
  fields: Record<string, string>,
  status: number,
): Promise<request.Response> {
  const page = await a.get('/sign').expect(200);
  const res = await a
    .post('/sign')
    .type('form')
    .send({
      _csrf: csrfFrom(page.text),
      version: hiddenValue(page.text, 'version'),
      sha256: hiddenValue(page.text, 'sha256'),
      ...fields,
    });
  assert.equal(res.status, status, res.text.slice(0, 2000));
  return res;
}
