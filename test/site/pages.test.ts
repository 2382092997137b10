import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import request from 'supertest';
import { seed } from '../../scripts/seed';
import { makeUscc } from '../../src/domain/uscc';
import { useRegistry } from '../helpers/registry';
import { tokenFromMail } from '../helpers/smtp';
import { agent, HTML } from './helpers';
import { uploadLetter } from '../helpers/pledges';

const PAGES: Array<{ path: string; zh: string[]; en: string[] }> = [
  {
    path: '/',
    zh: ['以质量立身，以诚信立业', '企业质量诚信倡议书', '签署倡议书', '已签署企业'],
    en: ['Quality as our foundation', 'Sign the initiative', 'Signatories'],
  },
  {
    path: '/sign',
    zh: ['统一社会信用代码', '所属行业', '倡议书全文', '提交签署'],
    en: ['Unified Social Credit Code', 'Industry', 'The initiative'],
  },
  {
    path: '/founders',
    zh: ['发起企业', '编号', '有效'],
    en: ['Founding signatories', 'No.', 'Active'],
  },
  {
    path: '/directory',
    zh: ['签署企业名录', '全部省份', '共 '],
    en: ['Directory of signatories', 'All provinces', 'companies, showing'],
  },
  {
    path: '/stats',
    zh: ['签署统计', '按省份', '按行业', '<svg class="chart"'],
    en: ['Statistics', 'By province', 'By industry'],
  },
  {
    path: '/verify',
    zh: ['证书查验', '证书编号', '上传证书文件查验', 'enctype="multipart/form-data"'],
    en: ['Verify a certificate', 'Certificate number', 'Check a certificate file'],
  },
  {
    path: '/login',
    zh: ['登录企业中心', '发送登录链接'],
    en: ['Sign in to the company area', 'Send the sign-in link'],
  },
  {
    path: '/sign/sent',
    zh: ['请查收确认邮件', '协会审核'],
    en: ['Check your e-mail', 'Review by the association'],
  },
  { path: '/login/sent', zh: ['请查收登录邮件'], en: ['Check your e-mail'] },
];

describe('site pages', () => {
  const r = useRegistry();

  before(async function () {
    this.timeout(60_000);
    await seed(25);
  });

  for (const page of PAGES) {
    it(`when ${page.path} is opened, then it is 200 in Chinese by default and in English with ?lang=en`, async () => {
      const zh = await request(r.app)
        .get(page.path)
        .expect(200)
        .expect('Content-Type', /text\/html/);
      assert.match(zh.text, /<html lang="zh-CN">/);
      for (const s of page.zh) assert.ok(zh.text.includes(s), `${page.path} (zh) shows ${s}`);
      const en = await request(r.app).get(`${page.path}?lang=en`).expect(200);
      assert.match(en.text, /<html lang="en">/);
      for (const s of page.en) assert.ok(en.text.includes(s), `${page.path} (en) shows ${s}`);
    });
  }

  it('when the browser prefers English, then pages are English; a chosen language is remembered in the lang cookie', async () => {
    const byHeader = await request(r.app)
      .get('/founders')
      .set('Accept-Language', 'en-US,en;q=0.9,zh;q=0.5')
      .expect(200);
    assert.match(byHeader.text, /<html lang="en">/);
    const a = agent(r.app);
    const chosen = await a.get('/founders?lang=en').set('Accept-Language', 'zh-CN').expect(200);
    assert.match(String(chosen.headers['set-cookie']), /lang=en;.*HttpOnly/);
    const next = await a.get('/directory').set('Accept-Language', 'zh-CN').expect(200);
    assert.match(next.text, /<html lang="en">/);
    const back = await a.get('/directory?lang=zh-CN').expect(200);
    assert.match(back.text, /<html lang="zh-CN">/);
    assert.match((await a.get('/').expect(200)).text, /<html lang="zh-CN">/);
  });

  it('when a page links to the other language, then the link keeps the page and its query', async () => {
    const res = await request(r.app).get('/directory?province=35&page=1').expect(200);
    assert.match(res.text, /href="\/directory\?province=35&amp;page=1&amp;lang=en" hreflang="en"/);
  });

  it('when any page is served, then its CSP forbids inline script and style, and no page has one', async () => {
    for (const { path } of PAGES) {
      const res = await request(r.app).get(path).expect(200);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'(;|$)/, csp);
      assert.match(csp, /style-src 'self'(;|$)/, csp);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.doesNotMatch(res.text, /<script(?![^>]*\ssrc=)[^>]*>/, `${path} has no inline script`);
      assert.doesNotMatch(res.text, /<[^>]+\sstyle=/, `${path} has no style attribute`);
      assert.doesNotMatch(res.text, /<style/, `${path} has no style element`);
      assert.doesNotMatch(res.text, /\son[a-z]+=/i, `${path} has no event handler attribute`);
    }
  });

  it('when a public page is fetched again with its validators, then 304; it carries a short public max-age', async () => {
    const first = await request(r.app).get('/founders').expect(200);
    assert.equal(first.headers['cache-control'], 'public, max-age=60');
    assert.ok(first.headers.etag);
    assert.ok(first.headers['last-modified']);
    assert.match(String(first.headers.vary), /Cookie/);
    assert.match(String(first.headers.vary), /Accept-Language/);
    await request(r.app).get('/founders').set('If-None-Match', first.headers.etag).expect(304);
    await request(r.app)
      .get('/founders')
      .set('If-Modified-Since', first.headers['last-modified'])
      .expect(304);
    const en = await request(r.app).get('/founders').set('Accept-Language', 'en').expect(200);
    assert.notEqual(en.headers.etag, first.headers.etag);
  });

  it('when a browser accepts gzip, then a list page comes compressed with its own validator, and the same page as without', async () => {
    const plain = await request(r.app)
      .get('/founders')
      .set('Accept-Encoding', 'identity')
      .expect(200);
    assert.equal(plain.headers['content-encoding'], undefined);
    // supertest would undo the gzip itself: read the bytes on the wire with node's client.
    const server = r.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const raw = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>(
        (resolve, reject) => {
          http
            .get(
              {
                host: '127.0.0.1',
                port,
                path: '/founders',
                headers: { 'Accept-Encoding': 'gzip, deflate, br' },
              },
              (res) => {
                const chunks: Buffer[] = [];
                res.on('data', (c: Buffer) => chunks.push(c));
                res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
              },
            )
            .on('error', reject);
        },
      );
      assert.equal(raw.headers['content-encoding'], 'gzip');
      assert.match(String(raw.headers.vary), /Accept-Encoding/);
      assert.ok(
        raw.body.length < Buffer.byteLength(plain.text) / 3,
        `${raw.body.length} compressed bytes for ${Buffer.byteLength(plain.text)}`,
      );
      assert.equal(gunzipSync(raw.body).toString('utf8'), plain.text);
      assert.notEqual(raw.headers.etag, plain.headers.etag);
      await request(r.app)
        .get('/founders')
        .set('Accept-Encoding', 'gzip')
        .set('If-None-Match', String(raw.headers.etag))
        .expect(304);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('when a page has a form with a token, then it is never stored', async () => {
    for (const path of [
      '/sign',
      '/login',
      '/confirm?token=abcdefghijklmnopqrstuvwxyz',
      '/verify',
    ]) {
      const res = await request(r.app).get(path);
      assert.equal(res.headers['cache-control'], 'no-store', path);
    }
  });

  it('when static assets are requested, then fingerprinted URLs are long-cached and unknown ones are 404', async () => {
    const home = await request(r.app).get('/').expect(200);
    const css = /href="(\/static\/css\/site\.[0-9a-f]{10}\.css)"/.exec(home.text)?.[1];
    const js = /src="(\/static\/js\/site\.[0-9a-f]{10}\.js)"/.exec(home.text)?.[1];
    assert.ok(css && js, 'the page links fingerprinted assets');
    const res = await request(r.app)
      .get(css)
      .expect(200)
      .expect('Content-Type', /text\/css/);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    await request(r.app).get(css).set('If-None-Match', String(res.headers.etag)).expect(304);
    await request(r.app)
      .get(js)
      .expect(200)
      .expect('Content-Type', /javascript/);
    await request(r.app).get('/static/css/site.0000000000.css').set('Accept', HTML).expect(404);
  });

  it('when the founders page is shown, then founders are listed in number order with province, industry and status', async () => {
    const res = await request(r.app).get('/founders').expect(200);
    const numbers = [...res.text.matchAll(/<span class="founder-no">(\d+)<\/span>/g)].map((m) =>
      Number(m[1]),
    );
    assert.deepEqual(
      numbers,
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    assert.match(res.text, /badge badge-active">有效</);
    assert.match(res.text, /发起企业席位尚余 75 个/);
  });

  it('when the founders page is shown, then it links the public PDF roster in both languages', async () => {
    const zh = await request(r.app).get('/founders').expect(200);
    assert.match(
      zh.text,
      /<a href="\/api\/v1\/open-data\/founders\.pdf" download>下载发起企业名录（PDF）<\/a> <span class="hint">中英双语，便于打印；不含签署人个人信息。<\/span>/,
    );
    const en = await request(r.app).get('/founders?lang=en').expect(200);
    assert.match(
      en.text,
      /<a href="\/api\/v1\/open-data\/founders\.pdf" download>Download the roster of founders \(PDF\)<\/a>/,
    );
    const pdf = await request(r.app)
      .get('/api/v1/open-data/founders.pdf')
      .responseType('blob')
      .expect(200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.equal((pdf.body as Buffer).subarray(0, 5).toString('latin1'), '%PDF-');
  });

  it('when the directory is filtered by province, industry or searched by USCC, then only matching rows show and URLs are canonical', async () => {
    const all = await request(r.app).get('/directory').expect(200);
    assert.match(all.text, /共 25 家企业，当前显示第 1–20 家/);
    assert.match(all.text, /<a href="\/directory\?page=2" rel="next">/);
    assert.match(all.text, /<a href="\/directory" aria-current="page">1<\/a>/);
    assert.match(
      all.text,
      /<a href="\/api\/v1\/open-data\/signatories\.csv" download>下载开放数据（CSV）<\/a>/,
    );
    const page2 = await request(r.app).get('/directory?page=2').expect(200);
    assert.match(page2.text, /当前显示第 21–25 家/);
    assert.match(page2.text, /<a href="\/directory" rel="prev">/);

    const province = await request(r.app).get('/directory?province=11&q=').expect(200);
    const provinces = [...province.text.matchAll(/data-label="省份">([^<]+)</g)].map((m) => m[1]);
    assert.ok(provinces.length > 0);
    assert.ok(
      provinces.every((p) => p === '北京'),
      provinces.join(),
    );
    assert.match(province.text, /<option value="11" selected>北京<\/option>/);

    const firstUscc = /<code class="code">([0-9A-Z]{18})<\/code>/.exec(all.text)![1];
    const byCode = await request(r.app).get(`/directory?q=${firstUscc.toLowerCase()}`).expect(200);
    assert.match(byCode.text, /共 1 家企业/);

    const none = await request(r.app).get('/directory?industry=T&province=82').expect(200);
    assert.match(none.text, /没有符合条件的企业/);
  });

  it('when directory parameters are invalid, then a 400 page in the site style says so', async () => {
    const res = await request(r.app).get('/directory?page=zero').set('Accept', HTML).expect(400);
    assert.match(res.text, /class="site-header"/);
    assert.match(res.text, /请求有误/);
  });

  it('when the statistics page is shown, then it draws server-side SVG charts with a data table', async () => {
    const res = await request(r.app).get('/stats?lang=en').expect(200);
    assert.match(
      res.text,
      /<svg class="chart" viewBox="0 0 \d+ \d+" role="img" aria-labelledby="chart-cumulative-title chart-cumulative-desc"/,
    );
    assert.match(res.text, /<polyline class="chart-line"/);
    assert.match(res.text, /<ol class="bars" aria-label="By province">/);
    assert.match(res.text, /Show the data as a table/);
    assert.match(res.text, /href="\/api\/v1\/open-data\/daily-counts\.csv"/);
  });

  it('when a company name contains HTML, then the directory and founders pages show it as text', async () => {
    const admin = await r.makeAdmin();
    const init = await request(r.app).get('/api/v1/initiative').expect(200);
    const name = '<script>alert("x")</script>示例 & <b>Co</b>';
    const email = 'xss-test@example.cn';
    const signed = await request(r.app)
      .post('/api/v1/pledges')
      .send({
        company: {
          uscc: makeUscc({ provinceCode: '44', serial: 777 }),
          name,
          nameEn: '"><img src=x onerror=alert(1)>',
          industry: 'C',
        },
        signatory: { name: '<i>王</i>', title: '总经理', email },
        initiative: { version: init.body.version, sha256: init.body.sha256 },
        agree: true,
      })
      .expect(201);
    const token = tokenFromMail(await r.smtp.waitFor(email, /confirm\?token=/), '/confirm');
    await uploadLetter(r.app, signed.body.id, token);
    await request(r.app).post('/api/v1/pledges/confirm').send({ token }).expect(200);
    await request(r.app)
      .post(`/api/v1/admin/pledges/${signed.body.id}/approve`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ evidenceChecked: true })
      .expect(200);

    for (const path of ['/directory?q=' + encodeURIComponent('示例 &'), '/founders']) {
      const res = await request(r.app).get(path).expect(200);
      assert.ok(
        res.text.includes(
          '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;示例 &amp; &lt;b&gt;Co&lt;/b&gt;',
        ),
        `${path} escapes the name`,
      );
      assert.ok(!res.text.includes('<script>alert'), `${path} has no live script`);
      assert.ok(!res.text.includes('<img src=x'), `${path} has no live img`);
      assert.ok(res.text.includes('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'));
    }
  });

  it('when /verify is given a serial, then it redirects to its own address, and an unknown serial gets a clear not-found verdict', async () => {
    const go = await request(r.app).get('/verify?serial=%20EQI-2026-000123-F%20').expect(303);
    assert.equal(go.headers.location, '/verify/EQI-2026-000123-F');
    const zh = await request(r.app).get('/verify/EQI-2026-000123-F').expect(404);
    assert.match(zh.text, /未找到该证书/);
    assert.match(zh.text, /class="verdict verdict-not-found"/);
    assert.match(zh.text, /<code>EQI-2026-000123-F<\/code>/);
    const en = await request(r.app).get('/verify/EQI-2026-000123-F?lang=en').expect(404);
    assert.match(en.text, /No such certificate/);
    const nasty = await request(r.app).get('/verify/%3Cscript%3Ex%3C%2Fscript%3E').expect(404);
    assert.ok(nasty.text.includes('&lt;script&gt;x&lt;/script&gt;'));
    assert.ok(!nasty.text.includes('<script>x'));
    const empty = await request(r.app).get('/verify?serial=').expect(200);
    assert.match(empty.text, /请填写证书编号/);
  });

  it('when an API path is unknown, then the site stays out of it (problem+json, no site CSP)', async () => {
    const res = await request(r.app).get('/api/v1/nope').set('Accept', HTML).expect(404);
    assert.match(String(res.headers['content-type']), /application\/problem\+json/);
  });
});
