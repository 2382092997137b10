import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapeHtml } from '../../src/text/html';

/** An independent decoder for the five entities (a browser would decode the same). */
function decode(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!,
  );
}

describe('HTML escaping', () => {
  it('when any text is escaped, then no markup character is left and decoding gives the text back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const out = escapeHtml(s);
        assert.doesNotMatch(out, /[<>"']/);
        assert.doesNotMatch(out, /&(?!amp;|lt;|gt;|quot;|#39;)/);
        assert.equal(decode(out), s);
      }),
      { numRuns: 2000 },
    );
  });

  it('when markup is escaped, then it reads as the usual entities', () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&amp;</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
    assert.equal(escapeHtml('质量诚信 · plain'), '质量诚信 · plain');
  });
});
