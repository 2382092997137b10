import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sameBytes, sameSecret } from '../../src/auth/compare';

describe('constant-time secret comparison', () => {
  it('when two strings are compared, then the answer is exactly string equality', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        assert.equal(sameSecret(a, b), a === b);
        assert.equal(sameSecret(a, a), true);
      }),
    );
  });

  it('when the secrets differ in one character, in length or in Unicode form, then they are not the same', () => {
    assert.equal(sameSecret('token-abc', 'token-abd'), false);
    assert.equal(sameSecret('token', 'token '), false);
    assert.equal(sameSecret('', 'x'), false);
    assert.equal(sameSecret('é', 'e\u0301'), false);
    assert.equal(sameSecret('', ''), true);
  });

  it('when byte strings are compared, then the answer is byte equality, and unequal lengths are simply unequal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        assert.equal(sameBytes(a, b), Buffer.from(a).equals(Buffer.from(b)));
        assert.equal(sameBytes(a, Uint8Array.from(a)), true);
      }),
    );
  });
});
