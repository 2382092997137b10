/**
 * Error pages (404, 429, 500, …) for the app's one error handler: in the site's style and the
 * visitor's language (createApp's `renderErrorPage`), or plain and bilingual when the site's
 * templates are not there or fail. Only the problem's status, code, detail and request id are
 * used: no exception text, let alone a stack trace, can reach the page.
 */
import type { Request } from 'express';
import type { Problem } from '../errors';
import { catalogMessage, errorDetail, i18n, type MessageKey } from '../i18n';
import { escapeHtml } from '../text/html';
import type { Assets } from './assets';
import { localeOf, pageContext, type Renderer } from './view';

/** Problem codes with their own wording (otherwise the status decides). */
const CODED = new Set(['csrf']);
const STATUSES = new Set([400, 401, 403, 404, 405, 410, 413, 429, 500, 503]);

export function errorMessageKeys(problem: Pick<Problem, 'status' | 'type'>): {
  title: MessageKey;
  message: MessageKey;
} {
  const code = problem.type.split('/').pop() ?? '';
  const base = CODED.has(code)
    ? `error.${code}`
    : STATUSES.has(problem.status)
      ? `error.${problem.status}`
      : problem.status >= 500
        ? 'error.5xx'
        : 'error.4xx';
  return { title: `${base}.title` as MessageKey, message: `${base}.message` as MessageKey };
}

export function createErrorPageRenderer(deps: {
  renderer: Renderer;
  assets: Assets;
}): (problem: Problem, req: Request) => string {
  return (problem, req) => {
    try {
      const locale = localeOf(req);
      const l = i18n(locale);
      const keys = errorMessageKeys(problem);
      // A wrong key must not turn an error page into a second error.
      const title =
        catalogMessage(locale, keys.title) ??
        l.t(problem.status >= 500 ? 'error.5xx.title' : 'error.4xx.title');
      const message =
        catalogMessage(locale, keys.message) ??
        l.t(problem.status >= 500 ? 'error.5xx.message' : 'error.4xx.message');
      return deps.renderer.render('pages/error.njk', {
        ...pageContext(req, locale, { assets: deps.assets, section: '/error' }),
        status: problem.status,
        title,
        message,
        requestId: problem.requestId,
        signIn: problem.status === 401,
      });
    } catch {
      return plainErrorPage(problem);
    }
  };
}

/** The problem's code, from its type URI (`/problems/<code>`). */
function codeOf(problem: Pick<Problem, 'type'>): string {
  return problem.type.split('/').pop() ?? '';
}

/**
 * The page without templates: bilingual (Chinese first, the registry's language), self-contained,
 * every value escaped. The Chinese status name and detail come from the catalogs; the English
 * line is the problem's own title and detail, as the API gives them.
 */
export function plainErrorPage(problem: Problem): string {
  const zh = i18n('zh-CN');
  const en = i18n('en');
  const status =
    catalogMessage('zh-CN', `http.${problem.status}`) ??
    zh.t(problem.status >= 500 ? 'error.5xx.title' : 'error.4xx.title');
  const detailZh =
    problem.detail === undefined
      ? undefined
      : errorDetail('zh-CN', { code: codeOf(problem), detail: problem.detail });
  const list = problem.errors
    ? `<ul>${problem.errors
        .map((e) => `<li><code>${escapeHtml(e.path)}</code> ${escapeHtml(e.message)}</li>`)
        .join('')}</ul>`
    : '';
  const ref = problem.requestId
    ? `<p class="ref">${escapeHtml(zh.t('error.reference'))} ${escapeHtml(en.t('error.reference'))} <code>${escapeHtml(problem.requestId)}</code></p>`
    : '';
  const detail =
    problem.detail === undefined
      ? ''
      : (detailZh !== problem.detail ? `<p>${escapeHtml(detailZh!)}</p>\n` : '') +
        `<p lang="en">${escapeHtml(problem.detail)}</p>`;
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${problem.status} ${escapeHtml(status)} · ${escapeHtml(problem.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222;line-height:1.6}h1{font-size:1.5rem}.ref{color:#666;font-size:.9rem}</style>
</head>
<body>
<main>
<h1>${problem.status} ${escapeHtml(status)}<br><span lang="en">${escapeHtml(problem.title)}</span></h1>
${detail}
${list}
${ref}
<p><a href="/">${escapeHtml(zh.t('error.home'))} · <span lang="en">${escapeHtml(en.t('error.home'))}</span></a></p>
</main>
</body>
</html>
`;
}
