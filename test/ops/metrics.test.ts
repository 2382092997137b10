/**
 * GET /metrics (Prometheus text, bearer token) and the access log: request durations by route
 * pattern, figures from the database, rate-limit rejections; log lines without raw paths.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import request from 'supertest';
import { makeSerial } from '../../certificates';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import { resetStoreFigures } from '../../src/metrics';
import { sign } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

const TOKEN = 'metrics-token-for-tests-0123456789';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is a HELP, a TYPE or a
 * sample (empty lines are ignored, as the format allows); every sample belongs to a family declared by TYPE before it; label values are quoted
 * with only \\, \" and \n escaped; values are floats, +Inf, -Inf or NaN.
 */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  assert.ok(text.endsWith('\n'), 'ends with a line break');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleRe = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
  const labelRe = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/;
  for (const [i, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') continue; // the format ignores empty lines
    if (line.startsWith('# HELP ')) {
      assert.match(line, new RegExp(`^# HELP ${NAME} .*$`), where);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(
        line,
      );
      assert.ok(m, where);
      assert.ok(!types.has(m[1]), `TYPE declared twice, ${where}`);
      types.set(m[1], m[2]);
      continue;
    }
    const m = sampleRe.exec(line);
    assert.ok(m, `not a sample, ${where}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest.length > 0) {
      const l = labelRe.exec(rest);
      assert.ok(l, `bad labels, ${where}`);
      labels[l[1]] = l[2];
      rest = rest.slice(l[0].length);
    }
    assert.match(
      m[3],
      /^(?:[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|\.\d+)|[-+]Inf|NaN)$/i,
      `bad value, ${where}`,
    );
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(
      types.has(m[1]) || types.get(family) === 'histogram' || types.get(family) === 'summary',
      `no TYPE for ${m[1]}`,
    );
    samples.push({ name: m[1], labels, value: Number(m[3].replace(/^\+?Inf$/i, 'Infinity')) });
  }
  return { types, samples };
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number {
  const s = samples.find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return s?.value ?? 0;
}

describe('metrics and access log', () => {
  const r = useRegistry({ METRICS_TOKEN: TOKEN, RATE_LIMIT_LOGIN_PER_MIN: '2' });

  async function scrape() {
    resetStoreFigures();
    const res = await request(r.app)
      .get('/metrics')
      .set('Authorization', `Bearer ${TOKEN}`)
      .expect(200);
    assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    return parsePrometheus(res.text);
  }

  it('when /metrics is asked without the token or with a wrong one, then it answers 401 problem details and no figures', async () => {
    for (const auth of [
      undefined,
      'Bearer wrong-token-wrong-token-0000',
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
    ]) {
      const req = request(r.app).get('/metrics');
      if (auth) req.set('Authorization', auth);
      const res = await req.expect(401);
      assert.match(res.headers['content-type'], /application\/problem\+json/);
      assert.doesNotMatch(res.text, /eqi_http_request_duration_seconds/);
    }
  });

  it('when production has no METRICS_TOKEN, then /metrics is refused with 403', async () => {
    const app = createApp({
      config: { ...r.config, isProduction: true, metricsToken: undefined },
      logger: createLogger({ level: 'silent' }),
    });
    await request(app).get('/metrics').expect(403);
  });

  it('when the token is given, then the answer is strict Prometheus text with the declared families', async () => {
    const { types } = await scrape();
    assert.equal(types.get('eqi_http_request_duration_seconds'), 'histogram');
    assert.equal(types.get('eqi_rate_limit_rejections_total'), 'counter');
    for (const g of [
      'eqi_pledges',
      'eqi_certificates',
      'eqi_queue_depth',
      'eqi_store_up',
      'eqi_store_ping_seconds',
    ]) {
      assert.equal(types.get(g), 'gauge', g);
    }
    assert.equal(types.get('nodejs_eventloop_lag_seconds'), 'gauge');
  });

  it('when requests are made, then the duration histogram counts them by route pattern and status, not by raw path', async () => {
    const before = (await scrape()).samples;
    const labels = { method: 'GET', route: '/api/v1/certificates/:serial', status: '404' };
    const count0 = value(before, 'eqi_http_request_duration_seconds_count', labels);
    await request(r.app)
      .get(`/api/v1/certificates/${makeSerial(2026, 990_001)}`)
      .expect(404);
    await request(r.app)
      .get(`/api/v1/certificates/${makeSerial(2026, 990_002)}`)
      .expect(404);
    await request(r.app).get('/api/v1/initiative').expect(200);
    const after = (await scrape()).samples;
    assert.equal(value(after, 'eqi_http_request_duration_seconds_count', labels), count0 + 2);
    const inf = value(after, 'eqi_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' });
    assert.equal(inf, count0 + 2);
    assert.ok(
      value(after, 'eqi_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/v1/initiative',
        status: '200',
      }) >= 1,
    );
    assert.ok(!after.some((s) => s.labels.route?.includes('99000')), 'no raw path in labels');
  });

  it('when a pledge is signed, then the pledges gauge counts it and the store is up', async () => {
    const before = (await scrape()).samples;
    await sign(r.app);
    const after = (await scrape()).samples;
    assert.equal(
      value(after, 'eqi_pledges', { status: 'pending_confirmation' }),
      value(before, 'eqi_pledges', { status: 'pending_confirmation' }) + 1,
    );
    assert.equal(value(after, 'eqi_store_up', {}), 1);
    assert.ok(value(after, 'eqi_store_ping_seconds', {}) > 0);
  });

  it('when a rate limit refuses a request, then the rejection counter of its route moves', async () => {
    const labels = { route: '/api/v1/auth/login' };
    const before = value((await scrape()).samples, 'eqi_rate_limit_rejections_total', labels);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await request(r.app)
        .post('/api/v1/auth/login')
        .send({ email: 'nobody@caq.test', password: 'not the password at all' });
      statuses.push(res.status);
    }
    const refused = statuses.filter((s) => s === 429).length;
    assert.ok(refused >= 1, `statuses ${statuses}`);
    assert.equal(
      value((await scrape()).samples, 'eqi_rate_limit_rejections_total', labels),
      before + refused,
    );
  });

  it('when a request is served, then one info access-log line has method, route pattern, status, ms and request id, and no path or query', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const app = createApp({
      config: r.config,
      logger: createLogger({ level: 'info' }, sink),
      routes: r.registry.routes,
    });
    const res = await request(app)
      .get(`/api/v1/certificates/${makeSerial(2026, 990_003)}?token=secret-link-token`)
      .expect(404);
    const access = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request');
    assert.equal(access.length, 1, lines.join('\n'));
    assert.equal(access[0].level, 30);
    assert.equal(access[0].method, 'GET');
    assert.equal(access[0].route, '/api/v1/certificates/:serial');
    assert.equal(access[0].status, 404);
    assert.equal(typeof access[0].ms, 'number');
    assert.equal(access[0].requestId, res.headers['x-request-id']);
    const all = lines.join('\n');
    assert.doesNotMatch(all, /secret-link-token/);
    assert.doesNotMatch(all, /990003/);
  });
});
