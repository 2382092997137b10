import assert from 'node:assert/strict';
import request from 'supertest';
import { createApp } from '../../src/app';
import { silentLogger } from '../../src/logger';
import { useRegistry } from '../helpers/registry';
import { agent, csrfFrom, HTML } from './helpers';

function assertSiteStyled(html: string): void {
  assert.match(html, /class="site-header"/);
  assert.match(html, /href="\/static\/css\/site\.[0-9a-f]{10}\.css"/);
  assert.doesNotMatch(html, /\bat [\w.<>]+ \(|node_modules|\.ts:\d+/, 'no stack trace');
}

describe('site error pages', () => {
  const r = useRegistry({ RATE_LIMIT_LOGIN_PER_MIN: '2' });

  it('when a page does not exist, then a 404 page in the site style and the visitor’s language', async () => {
    const zh = await request(r.app).get('/no/such/page').set('Accept', HTML).expect(404);
    assertSiteStyled(zh.text);
    assert.match(zh.text, /<html lang="zh-CN">/);
    assert.match(zh.text, /页面不存在/);
    assert.equal(zh.headers['cache-control'], 'no-store');
    assert.match(String(zh.headers['content-security-policy']), /script-src 'self'/);
    const en = await request(r.app)
      .get('/no/such/page')
      .set('Accept', HTML)
      .set('Accept-Language', 'en')
      .expect(404);
    assert.match(en.text, /<html lang="en">/);
    assert.match(en.text, /Page not found/);
  });

  it('when sign-in requests exceed the rate limit, then a 429 page with Retry-After', async () => {
    const a = agent(r.app);
    const form = await a.get('/login').expect(200);
    const post = () =>
      a
        .post('/login')
        .type('form')
        .send({ _csrf: csrfFrom(form.text), email: 'someone@example.cn' });
    // Two per minute: the third is refused (a fifth covers a window that turned over meanwhile).
    let limited;
    for (let i = 0; i < 5 && !limited; i++) {
      const res = await post();
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 303);
    }
    assert.ok(limited, 'a request was limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assertSiteStyled(limited.text);
    assert.match(limited.text, /操作过于频繁/);
  });

  it('when a request fails unexpectedly, then a 500 page with a reference and nothing of the error', async () => {
    const boom = {
      path: '/boom',
      router: () => Promise.reject(new Error('secret detail: mongodb://user:pw@db')),
    };
    const app = createApp({
      config: r.config,
      logger: silentLogger(),
      routes: [boom, ...r.registry.routes],
    });
    const res = await request(app).get('/boom').set('Accept', HTML).expect(500);
    assertSiteStyled(res.text);
    assert.match(res.text, /服务器出了点问题/);
    assert.doesNotMatch(res.text, /secret detail|mongodb:\/\//);
    const id = String(res.headers['x-request-id']);
    assert.ok(res.text.includes(`<code>${id}</code>`), 'the page shows the request id');
  });

  it('when a body is too large for a form post, then 413 in the site style', async () => {
    const res = await request(r.app)
      .post('/sign')
      .set('Accept', HTML)
      .type('form')
      .send({ name: 'x'.repeat(200_000) })
      .expect(413);
    assertSiteStyled(res.text);
    assert.match(res.text, /提交内容过大/);
  });
});
