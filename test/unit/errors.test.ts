import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { z } from 'zod';
import {
  AppError,
  badRequest,
  conflict,
  forbidden,
  fromZodError,
  gone,
  notFound,
  parseInput,
  payloadTooLarge,
  serviceUnavailable,
  toAppError,
  tooManyRequests,
  unauthorized,
} from '../../src/errors';

describe('AppError and helpers', () => {
  it('when made by each helper, then status, code and type follow the HTTP status', () => {
    const cases: Array<[AppError, number, string]> = [
      [badRequest('x'), 400, 'bad-request'],
      [unauthorized(), 401, 'unauthorized'],
      [forbidden(), 403, 'forbidden'],
      [notFound(), 404, 'not-found'],
      [conflict('x'), 409, 'conflict'],
      [gone('x'), 410, 'gone'],
      [payloadTooLarge(), 413, 'payload-too-large'],
      [tooManyRequests(30), 429, 'too-many-requests'],
      [serviceUnavailable(), 503, 'service-unavailable'],
    ];
    for (const [error, status, code] of cases) {
      assert.ok(error instanceof AppError);
      assert.equal(error.status, status);
      assert.equal(error.code, code);
      assert.equal(error.type, `/problems/${code}`);
    }
  });

  it('when a helper gets a specific code and field errors, then the problem document carries them', () => {
    const error = conflict('This company already has a pledge.', {
      code: 'pledge-exists',
      errors: [{ path: 'company.uscc', message: 'already signed' }],
    });
    assert.deepEqual(error.toProblem('/api/v1/pledges'), {
      type: '/problems/pledge-exists',
      title: 'Conflict',
      status: 409,
      detail: 'This company already has a pledge.',
      instance: '/api/v1/pledges',
      errors: [{ path: 'company.uscc', message: 'already signed' }],
    });
  });

  it('when tooManyRequests gets fractional seconds, then Retry-After is rounded up to at least 1', () => {
    assert.equal(tooManyRequests(0.2).retryAfter, 1);
    assert.equal(tooManyRequests(12.1).retryAfter, 13);
  });

  it('when unauthorized, then a WWW-Authenticate challenge is attached', () => {
    assert.deepEqual(unauthorized().headers, { 'WWW-Authenticate': 'Bearer' });
  });
});

describe('zod errors → AppError', () => {
  const schema = z.strictObject({
    company: z.strictObject({ uscc: z.string().length(18), name: z.string().min(1) }),
    agree: z.literal(true),
  });

  it('when input fails a schema, then every bad field is named by its dotted path', () => {
    const result = schema.safeParse({
      company: { uscc: 'x', name: '', extra: 1 },
      agree: false,
      more: 2,
    });
    assert.ok(!result.success);
    const error = fromZodError(result.error);
    assert.equal(error.status, 400);
    assert.equal(error.code, 'validation-failed');
    const paths = error.errors?.map((e) => e.path).sort();
    assert.deepEqual(paths, ['agree', 'company.extra', 'company.name', 'company.uscc', 'more']);
  });

  it('when parseInput gets valid input, then it returns the parsed value; otherwise it throws a 400', () => {
    assert.deepEqual(parseInput(z.object({ n: z.coerce.number() }), { n: '3' }), { n: 3 });
    assert.throws(
      () => parseInput(schema, 'not an object'),
      (err: unknown) =>
        err instanceof AppError && err.status === 400 && err.errors?.[0].path === '(root)',
    );
  });
});

describe('toAppError', () => {
  it('when given a mongoose CastError, then it is a 400 naming the path without echoing the value', () => {
    const { error, unexpected } = toAppError(
      new mongoose.Error.CastError('ObjectId', '<b>x</b>', '_id'),
    );
    assert.equal(unexpected, false);
    assert.equal(error.status, 400);
    assert.deepEqual(error.errors, [{ path: '_id', message: 'must be a valid ObjectId' }]);
  });

  it('when given a mongoose ValidationError, then it is a 400 listing each path', async () => {
    const Thing = new mongoose.Schema({ name: { type: String, required: true }, n: Number });
    const model = mongoose.models.ErrorsTestThing ?? mongoose.model('ErrorsTestThing', Thing);
    const validation: unknown = await new model({ n: 'abc' })
      .validate()
      .catch((err: unknown) => err);
    assert.ok(validation instanceof mongoose.Error.ValidationError);
    const { error } = toAppError(validation);
    assert.equal(error.status, 400);
    assert.deepEqual(error.errors?.map((e) => e.path).sort(), ['n', 'name']);
    assert.equal(error.errors?.find((e) => e.path === 'n')?.message, 'must be a valid Number');
  });

  it('when given a duplicate key error, then it is a 409 naming the key', () => {
    const dup = new mongoose.mongo.MongoServerError({
      message:
        'E11000 duplicate key error collection: t.companies index: uscc_1 dup key: { uscc: "X" }',
      code: 11000,
      keyPattern: { uscc: 1 },
      keyValue: { uscc: 'X' },
    });
    const { error, unexpected } = toAppError(dup);
    assert.equal(unexpected, false);
    assert.equal(error.status, 409);
    assert.equal(error.code, 'duplicate');
    assert.deepEqual(error.errors, [{ path: 'uscc', message: 'is already taken' }]);
  });

  it('when given an unknown error, then it is an unexpected 500 that does not repeat the message', () => {
    const { error, unexpected } = toAppError(new Error('password=hunter2 at db.internal'));
    assert.equal(unexpected, true);
    assert.equal(error.status, 500);
    assert.doesNotMatch(JSON.stringify(error.toProblem()), /hunter2|db\.internal/);
  });

  it('when given a non-Error value, then it is still a 500', () => {
    assert.equal(toAppError('a string').error.status, 500);
    assert.equal(toAppError(undefined).error.status, 500);
  });
});
