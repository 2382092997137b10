import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { duplicateKeyFields, isDuplicateKey } from '../../src/db/errors';
import { useEmbeddedMongo } from '../helpers/db';

describe('duplicate-key detection', () => {
  useEmbeddedMongo();

  // A collection of its own with two unique indexes, so a clash on one is not taken for the other.
  const schema = new mongoose.Schema({ a: String, b: String, c: String });
  schema.index({ a: 1 }, { unique: true, name: 'by_a' });
  schema.index({ b: 1, c: 1 }, { unique: true });
  const Thing =
    mongoose.models.DupKeyThing ?? mongoose.model('DupKeyThing', schema, 'dupkey_things');

  before(async () => {
    await Thing.syncIndexes();
    await Thing.create({ a: 'x', b: 'y', c: 'z' });
  });

  async function refusal(doc: Record<string, string>): Promise<unknown> {
    try {
      await Thing.create(doc);
    } catch (e) {
      return e;
    }
    assert.fail('the insert was accepted');
  }

  it('when a unique index refuses an insert, then it is a duplicate key of that index and no other', async () => {
    const e = await refusal({ a: 'x', b: 'other', c: 'z' });
    assert.equal(isDuplicateKey(e), true);
    assert.equal(isDuplicateKey(e, { a: 1 }), true);
    assert.equal(isDuplicateKey(e, { b: 1, c: 1 }), false);
    assert.deepEqual(duplicateKeyFields(e), ['a']);
  });

  it('when a compound unique index refuses, then its keys match in any order, but not a subset', async () => {
    const e = await refusal({ a: 'new', b: 'y', c: 'z' });
    assert.equal(isDuplicateKey(e, { c: 1, b: 1 }), true);
    assert.equal(isDuplicateKey(e, { b: 1 }), false);
    assert.equal(isDuplicateKey(e, { a: 1 }), false);
  });

  it('when insertMany hits a duplicate, then it is a duplicate key, but of no index it can be taken for (the driver drops the key pattern)', async () => {
    let err: unknown;
    await Thing.insertMany([{ a: 'bulk1' }, { a: 'x' }]).catch((e: unknown) => (err = e));
    assert.equal(isDuplicateKey(err), true);
    assert.deepEqual(duplicateKeyFields(err), []);
    assert.equal(isDuplicateKey(err, { a: 1 }), false);
  });

  it('when the error is something else, even with "E11000" or an index name in its message, then it is not a duplicate key', () => {
    assert.equal(isDuplicateKey(new Error('E11000 duplicate key error index: openUscc_1')), false);
    assert.equal(isDuplicateKey(Object.assign(new Error('x'), { code: 121 })), false);
    assert.equal(isDuplicateKey(undefined), false);
    assert.equal(isDuplicateKey('E11000'), false);
    assert.equal(duplicateKeyFields(null), undefined);
  });

  it('when an old server reports 11001 without a key pattern, then it is a duplicate key of unknown index', () => {
    const e = Object.assign(new Error('dup'), { code: 11001 });
    assert.equal(isDuplicateKey(e), true);
    assert.equal(isDuplicateKey(e, { a: 1 }), false);
  });
});
