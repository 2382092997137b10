import assert from 'node:assert/strict';
describe('toolchain', () => {
  it('when TypeScript tests run under mocha, then strict assertions work', () => {
    assert.equal([1, 2, 3].map((n) => n * 2).join(','), '2,4,6');
  });
});
