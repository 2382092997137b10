import assert from 'node:assert/strict';
import { Router } from 'express';
import mongoose from 'mongoose';
import request from 'supertest';
import { z } from 'zod';
import { badRequest, tooManyRequests } from '../../src/errors';
import { testApp } from '../helpers/app';

const PROBLEM_JSON = /^application\/problem\+json/;

// Routes that fail in each of the ways the handler must map.
function failingRoutes(): Router {
  const r = Router();
  r.post('/echo', (req, res) => {
    res.json(req.body);
  });
  r.get('/boom', () => {
    throw new Error('secret: mongodb://admin:hunter2@db.internal');
  });
  r.get('/boom-async', async () => {
    await Promise.resolve();
    throw new Error('async secret hunter2');
  });
  r.get('/bad-input', () => {
    throw badRequest('Name <script>alert(1)</script> is not allowed', {
      errors: [{ path: 'company.name', message: '<img src=x onerror=alert(1)>' }],
    });
  });
  r.post('/validate', (req, res) => {
    const body = z.strictObject({ email: z.email() }).parse(req.body);
    res.json(body);
  });
  r.get('/cast', () => {
    throw new mongoose.Error.CastError('ObjectId', 'nope', 'id');
  });
  r.get('/duplicate', () => {
    throw new mongoose.mongo.MongoServerError({
      message: 'E11000',
      code: 11000,
      keyValue: { uscc: 'X' },
    });
  });
  r.get('/slow-down', () => {
    throw tooManyRequests(42);
  });
  return r;
}

describe('error handling', () => {
  const app = testApp({
    routes: [
      { path: '/t', router: failingRoutes() },
      { path: '/api/t', router: failingRoutes() },
    ],
  });

  it('when the JSON body is malformed, then 400 problem+json', async () => {
    const res = await request(app)
      .post('/t/echo')
      .set('Content-Type', 'application/json')
      .set('Accept', 'application/json')
      .send('{"a": ');
    assert.equal(res.status, 400);
    assert.match(res.headers['content-type'], PROBLEM_JSON);
    assert.equal(res.body.status, 400);
    assert.equal(res.body.type, '/problems/malformed-body');
    assert.equal(res.body.title, 'Bad Request');
    assert.equal(res.body.instance, '/t/echo');
    assert.doesNotMatch(res.text, /SyntaxError|at JSON\.parse|node_modules/);
  });

  it('when the body is 1 MB, then 413 problem+json', async () => {
    const res = await request(app)
      .post('/api/t/echo')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ blob: 'x'.repeat(1024 * 1024) }));
    assert.equal(res.status, 413);
    assert.match(res.headers['content-type'], PROBLEM_JSON);
    assert.equal(res.body.type, '/problems/payload-too-large');
    assert.match(res.body.detail, /100 kB/);
  });

  it('when a body is under the limit, then it is parsed', async () => {
    const res = await request(app).post('/t/echo').send({ ok: true });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ok: true });
  });

  it('when a route does not exist and the client wants JSON, then 404 problem+json', async () => {
    const res = await request(app)
      .get('/no/such/thing?token=abc')
      .set('Accept', 'application/json');
    assert.equal(res.status, 404);
    assert.match(res.headers['content-type'], PROBLEM_JSON);
    assert.deepEqual(res.body, {
      type: '/problems/not-found',
      title: 'Not Found',
      status: 404,
      detail: 'There is nothing at this address.',
      instance: '/no/such/thing',
    });
  });

  it('when a route does not exist and a browser asks, then a friendly HTML page without a stack trace', async () => {
    const res = await request(app)
      .get('/no/such/page')
      .set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    assert.equal(res.status, 404);
    assert.match(res.headers['content-type'], /^text\/html/);
    assert.match(res.text, /<html lang="zh-CN">/);
    assert.match(res.text, /404 页面不存在/);
    assert.match(res.text, /Not Found/);
    assert.doesNotMatch(res.text, /\bat \S+ \(|Error:|node_modules/);
  });

  it('when an /api route fails for a browser, then it still gets problem+json', async () => {
    const res = await request(app).get('/api/t/nothing').set('Accept', 'text/html');
    assert.equal(res.status, 404);
    assert.match(res.headers['content-type'], PROBLEM_JSON);
  });

  it('when no Accept header is sent, then problem+json', async () => {
    const res = await request(app).get('/nothing');
    assert.match(res.headers['content-type'], PROBLEM_JSON);
  });

  for (const path of ['/t/boom', '/t/boom-async']) {
    it(`when ${path} throws an unknown error, then a generic 500 that leaks nothing, JSON and HTML`, async () => {
      const json = await request(app).get(path).set('Accept', 'application/json');
      assert.equal(json.status, 500);
      assert.equal(json.body.type, '/problems/internal-error');
      assert.equal(json.body.requestId, json.headers['x-request-id']);
      assert.doesNotMatch(json.text, /hunter2|secret|internal\b.*\bat /);
      const html = await request(app).get(path).set('Accept', 'text/html');
      assert.equal(html.status, 500);
      assert.match(html.text, /服务器内部错误/);
      assert.match(html.text, new RegExp(html.headers['x-request-id']));
      assert.doesNotMatch(html.text, /hunter2|secret|\bat \S+ \(/);
    });
  }

  it('when an error carries client text, then the HTML page escapes it', async () => {
    const res = await request(app).get('/t/bad-input').set('Accept', 'text/html');
    assert.equal(res.status, 400);
    assert.doesNotMatch(res.text, /<script>|<img/);
    assert.match(res.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(res.text, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  it('when a zod schema rejects the body, then 400 naming each field, unknown ones included', async () => {
    const res = await request(app).post('/api/t/validate').send({ email: 'nope', admin: true });
    assert.equal(res.status, 400);
    assert.equal(res.body.type, '/problems/validation-failed');
    assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path).sort(), [
      'admin',
      'email',
    ]);
  });

  it('when a body smuggles an operator, then it is a validation error, not a query', async () => {
    const res = await request(app)
      .post('/api/t/validate')
      .send({ email: { $gt: '' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].path, 'email');
  });

  it('when mongoose cannot cast an id, then 400', async () => {
    const res = await request(app).get('/api/t/cast');
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors, [{ path: 'id', message: 'must be a valid ObjectId' }]);
  });

  it('when a unique index is violated, then 409', async () => {
    const res = await request(app).get('/api/t/duplicate');
    assert.equal(res.status, 409);
    assert.equal(res.body.type, '/problems/duplicate');
  });

  it('when rate limited, then 429 with Retry-After', async () => {
    const res = await request(app).get('/api/t/slow-down');
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '42');
  });

  it('when any response is sent, then helmet headers are on and x-powered-by is off', async () => {
    const res = await request(app).get('/healthz');
    assert.equal(res.headers['x-powered-by'], undefined);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.headers['content-security-policy']);
    assert.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  });
});
