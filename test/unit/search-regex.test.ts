import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapeRegex } from '../../src/pledges/queries';

describe('search terms as regular expressions', () => {
  it('when any text is escaped, then the pattern has no raw control character and matches exactly that text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.string({ maxLength: 5 }),
        (term, around) => {
          const source = escapeRegex(term);
          // eslint-disable-next-line no-control-regex
          assert.doesNotMatch(source, /[\u0000-\u001f\u007f]/);
          const rx = new RegExp(`^${source}$`, 'u');
          assert.ok(rx.test(term));
          if (around !== '') assert.equal(rx.test(around + term), false);
        },
      ),
      { seed: 20260110, numRuns: 2000 },
    );
  });
});
