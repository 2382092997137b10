/**
 * Links on the public lists: a directory row leads to its company's certificate verify page, and
 * the founders roster PDF is offered before the table (not after a hundred rows).
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import { seed } from '../../scripts/seed';
import { clearPublicCaches } from '../../src/pledges/queries';
import { useRegistry } from '../helpers/registry';

/** The <tr> of the directory table that names `company`. */
function rowOf(html: string, company: string): string {
  const row = html.split(/<tr\b/).find((r) => r.includes(company));
  assert.ok(row, `a row names ${company}`);
  return row.slice(0, row.indexOf('</tr>'));
}

describe('site: links on the public lists', () => {
  const r = useRegistry();
  let issued: PledgeDoc[] = [];
  let waiting: PledgeDoc;

  before(async function () {
    this.timeout(60_000);
    await seed(3);
    // The real issuer gives the three their certificates ...
    await r.registry.certificateIssuer.idle();
    r.registry.certificateIssuer.poke();
    await r.registry.certificateIssuer.idle();
    // ... then stops, so a fourth signatory is active with its certificate still to come.
    await r.registry.certificateIssuer.stop();
    await seed(4);
    const all = await Pledge.find({ sequence: { $gte: 1 } })
      .sort({ sequence: 1 })
      .lean<PledgeDoc[]>();
    issued = all.filter((p) => p.certificateSerial);
    waiting = all.find((p) => !p.certificateSerial)!;
    assert.equal(issued.length, 3);
    assert.ok(waiting, 'one signatory has no certificate yet');
    clearPublicCaches();
  });

  it("when the directory lists a signatory with a certificate, then its row links that certificate's verify page; without one, then no link", async () => {
    for (const lang of ['zh-CN', 'en']) {
      const res = await request(r.app).get(`/directory?lang=${lang}`).expect(200);
      for (const p of issued) {
        const row = rowOf(res.text, p.companyName);
        assert.ok(
          row.includes(`href="/verify/${p.certificateSerial}"`),
          `${lang}: row of ${p.companyName} links /verify/${p.certificateSerial}`,
        );
        assert.ok(row.includes(p.certificateSerial!), 'the serial is shown');
      }
      const row = rowOf(res.text, waiting.companyName);
      assert.doesNotMatch(row, /href="\/verify\//, `${lang}: no link without a certificate`);
    }
    const zh = await request(r.app).get('/directory').expect(200);
    assert.match(zh.text, /<th scope="col">证书<\/th>/);
    // The accessible name starts with the visible text (the serial), then says where the link leads.
    assert.ok(
      rowOf(zh.text, issued[0]!.companyName).includes(
        `aria-label="${issued[0]!.certificateSerial}（查验${issued[0]!.companyName}的证书）"`,
      ),
    );
    const en = await request(r.app).get('/directory?lang=en').expect(200);
    assert.match(en.text, /<th scope="col">Certificate<\/th>/);
  });

  it('when the directory is searched, then the found row still links its certificate', async () => {
    const p = issued[1]!;
    const res = await request(r.app)
      .get(`/directory?q=${encodeURIComponent(p.uscc)}`)
      .expect(200);
    assert.ok(rowOf(res.text, p.companyName).includes(`href="/verify/${p.certificateSerial}"`));
  });

  it('when the founders page is opened, then the roster PDF link comes before the table', async () => {
    for (const lang of ['zh-CN', 'en']) {
      const res = await request(r.app).get(`/founders?lang=${lang}`).expect(200);
      const link = res.text.indexOf('href="/api/v1/open-data/founders.pdf"');
      const table = res.text.indexOf('<table');
      assert.ok(link > 0 && table > 0, `${lang}: both are on the page`);
      assert.ok(
        link < table,
        `${lang}: the PDF link (at ${link}) comes before the table (at ${table})`,
      );
      assert.equal(res.text.split('open-data/founders.pdf').length - 1, 1, `${lang}: offered once`);
    }
  });
});
