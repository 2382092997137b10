/**
 * Error pages (404, 429, 500, …) in the site's style and the visitor's language, for the app's
 * one error handler (createApp's `renderErrorPage`). Only the problem's status, code and request
 * id are used: no exception text, let alone a stack trace, can reach the page.
 */
import type { Request } from 'express';
import { renderErrorPage as builtInErrorPage, type Problem } from '../errors';
import { catalogMessage, i18n, type MessageKey } from '../i18n';
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
      return builtInErrorPage(problem);
    }
  };
}
