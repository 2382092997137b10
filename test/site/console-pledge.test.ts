/**
 * The console's pledge page as an admin reads it (issue #17): approving and rejecting are separate
 * forms, audit events read as "field: before → after" in the admin's language, and a refused
 * action says why in that language (by the error's code), not in the API's English.
 */
import assert from 'node:assert/strict';
import { Pledge } from '../../models/pledge';
import { useRegistry } from '../helpers/registry';
import { csrfFrom, pledgeInConsole, type Agent } from './helpers';

/** Posts the pledge page's approve form (evidence ticked) with the token of `page`. */
function postApprove(a: Agent, id: string, page: string, query = '') {
  return a
    .post(`/admin/pledges/${id}/approve${query}`)
    .type('form')
    .send({ _csrf: csrfFrom(page), evidenceChecked: 'yes' });
}

/** Approves from the pledge page; answers that page, whose token later forms reuse. */
async function approveFromPage(a: Agent, id: string): Promise<string> {
  const page = (await a.get(`/admin/pledges/${id}`).expect(200)).text;
  await postApprove(a, id, page).expect(303);
  return page;
}

/** The element with this class that holds `needle`, from its opening tag to its matching close. */
function block(html: string, tag: string, cls: string, needle: string): string {
  const re = new RegExp(`<${tag}\\b[^>]*class="[^"]*\\b${cls}\\b[^"]*"[^>]*>`, 'g');
  for (let m = re.exec(html); m; m = re.exec(html)) {
    let depth = 1;
    const step = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
    step.lastIndex = m.index + m[0].length;
    for (let s = step.exec(html); s; s = step.exec(html)) {
      depth += s[1] ? -1 : 1;
      if (depth === 0) {
        const inner = html.slice(m.index, s.index + s[0].length);
        if (inner.includes(needle)) return inner;
        break;
      }
    }
  }
  assert.fail(`no <${tag} class="${cls}"> holding ${needle}`);
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('console: the pledge page', () => {
  const r = useRegistry();

  it('when a pledge awaits review, then approving and rejecting are separate groups, and only rejecting asks for a reason', async () => {
    const { p, a } = await pledgeInConsole(r);
    const page = await a.get(`/admin/pledges/${p.id}`).expect(200);
    const approve = block(page.text, 'div', 'decision', `/admin/pledges/${p.id}/approve`);
    const reject = block(page.text, 'div', 'decision', `/admin/pledges/${p.id}/reject`);
    assert.notEqual(approve, reject);
    assert.doesNotMatch(approve, /<textarea|required|理由/);
    assert.match(approve, /<h3[^>]*>[^<]*通过审核/);
    assert.match(approve, /<button[^>]*>通过审核<\/button>/);
    assert.match(reject, /<h3[^>]*>[^<]*不予通过/);
    assert.match(reject, /<textarea[^>]*name="reason"[^>]*required/);
    assert.match(reject, /<button[^>]*>不予通过<\/button>/);
    assert.doesNotMatch(reject, /\/approve"/);
    // Each group names itself for assistive technology.
    for (const g of [approve, reject]) assert.match(g, /role="group" aria-labelledby="[^"]+"/);
  });

  it('when a pledge was approved, then its events read as field: before → after in Chinese, and in English with ?lang=en, with no JSON', async () => {
    const { p, a } = await pledgeInConsole(r);
    await approveFromPage(a, p.id);
    const zh = await a.get(`/admin/pledges/${p.id}`).expect(200);
    const zhText = text(zh.text);
    assert.match(zhText, /状态： 待审核 → 有效/);
    assert.match(zhText, /签署序号： \d+/);
    assert.match(zhText, /统一社会信用代码： [0-9A-Z]{18}/);
    assert.doesNotMatch(zh.text, /&quot;status&quot;|\{"status"|"initiativeVersion"/);
    const audit = await a.get(`/admin/audit?subject=${p.id}`).expect(200);
    assert.match(text(audit.text), /状态： 待审核 → 有效/);
    assert.doesNotMatch(audit.text, /&quot;status&quot;|\{"status"/);
    const en = await a.get(`/admin/pledges/${p.id}?lang=en`).expect(200);
    assert.match(text(en.text), /Status: Under review → Active/);
    assert.match(text(en.text), /Founding number: \d+/);
  });

  it('when a correction is recorded, then its event shows each changed field with its label, old and new value, and the reason', async () => {
    const { p, a } = await pledgeInConsole(r);
    await approveFromPage(a, p.id);
    await r.registry.certificateIssuer.idle();
    r.registry.certificateIssuer.poke();
    await r.registry.certificateIssuer.idle();
    const before = await Pledge.findById(p.id).lean();
    const page = await a.get(`/admin/pledges/${p.id}`).expect(200);
    await a
      .post(`/admin/pledges/${p.id}/correct`)
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        name: '更正后的企业名称有限公司',
        nameEn: '',
        industry: '',
        reason: '营业执照名称变更',
      })
      .expect(303);
    const after = text((await a.get(`/admin/pledges/${p.id}`).expect(200)).text);
    assert.ok(
      after.includes(`企业名称（中文）： ${before!.companyName} → 更正后的企业名称有限公司`),
      after,
    );
    assert.match(after, /理由： 营业执照名称变更/);
  });

  it("when an action is refused, then the page says why in the admin's language, by the error's code", async () => {
    const { p, a } = await pledgeInConsole(r);
    const page = await approveFromPage(a, p.id);
    const again = await postApprove(a, p.id, page).expect(409);
    assert.match(again.text, /操作未执行：该承诺已不在待审核状态/);
    assert.doesNotMatch(again.text, /awaiting review/);
    const en = await postApprove(a, p.id, page, '?lang=en').expect(409);
    assert.match(en.text, /no longer awaiting review/);
  });
});
