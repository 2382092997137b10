import assert from 'node:assert/strict';
import { AppError, conflict, toAppError } from '../../src/errors';
import { catalogKeys, errorDetail } from '../../src/i18n';
import { plainErrorPage } from '../../src/site/error-page';

describe('error codes in words', () => {
  it('when an error code has catalog wording, then each language gets it; otherwise the English detail', () => {
    const e = conflict('This pledge is not awaiting review (it may have been decided already).', {
      code: 'pledge-not-pending-review',
    });
    assert.equal(errorDetail('zh-CN', e), '该承诺已不在待审核状态（可能已被其他管理员处理）。');
    assert.match(errorDetail('en', e), /no longer awaiting review/);
    const unknown = conflict('Something specific happened.', {
      code: 'no-such-code-in-any-catalog',
    });
    assert.equal(errorDetail('zh-CN', unknown), 'Something specific happened.');
    assert.equal(errorDetail('zh-CN', { code: 'x', title: 'Conflict' }), 'Conflict');
  });

  it('when every error code in the catalogs is listed, then both languages have the same ones', () => {
    const codes = (l: 'zh-CN' | 'en') =>
      catalogKeys(l)
        .filter((k) => /^(error\.[a-z-]+|http\.\d+)$/.test(k))
        .sort();
    assert.ok(codes('zh-CN').length >= 20);
    assert.deepEqual(codes('en'), codes('zh-CN'));
  });

  it('when the plain page shows a coded error, then it gives the Chinese wording and the English detail, escaped', () => {
    const e = conflict('Only an active pledge can be corrected.', { code: 'pledge-not-active' });
    const html = plainErrorPage(e.toProblem('/x'));
    assert.match(html, /409 与现有记录冲突/);
    assert.match(html, /只有生效中的承诺可以更正。/);
    assert.match(html, /<p lang="en">Only an active pledge can be corrected\.<\/p>/);
    const raw = plainErrorPage(new AppError({ status: 418, detail: '<b>tea</b>' }).toProblem());
    assert.match(raw, /418 请求有误/);
    assert.doesNotMatch(raw, /<b>/);
  });

  it('when an error is made by the code, then it is trusted; an unknown throw becomes an untrusted 500', () => {
    assert.equal(conflict('x').trusted, true);
    assert.equal(toAppError(conflict('x')).unexpected, false);
    const wrapped = toAppError(new Error('boom'));
    assert.equal(wrapped.error.trusted, false);
    assert.equal(wrapped.unexpected, true);
    assert.equal(toAppError(new AppError({ status: 503, trusted: false })).unexpected, true);
  });
});
