/**
 * One error type for everything a client may see, and one express error handler that turns any
 * thrown error into RFC 9457 problem details (JSON) or an HTML page (rendered by the site layer,
 * src/site/error-page.ts), depending on who asks. Nothing but AppError text reaches a client:
 * unknown errors become a generic, untrusted 500. Each error has a stable `code`, which pages
 * translate through the i18n catalogs (`error.<code>`); the English `detail` is the API's text.
 */
import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import mongoose from 'mongoose';
import { z } from 'zod';
import type { Logger } from './logger';
import { duplicateKeyFields } from './db/errors';

export interface FieldError {
  /** Dotted path into the input, e.g. `company.uscc` or `items.0.name`. */
  path: string;
  message: string;
}

/** RFC 9457 problem details, plus `errors` (field-level) and `requestId` (5xx only). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  requestId?: string;
}

/** The default code of each status; the default title is the HTTP reason phrase. */
const STATUS_CODE_SLUGS: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  410: 'gone',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
  500: 'internal-error',
  503: 'service-unavailable',
};

function statusInfo(status: number): { code: string; en: string } {
  return {
    code: STATUS_CODE_SLUGS[status] ?? `http-${status}`,
    en: STATUS_CODES[status] ?? 'Error',
  };
}

/** Problem type URIs are stable relative references, the same on every deployment. */
export const PROBLEM_TYPE_PREFIX = '/problems/';

export interface AppErrorOptions {
  status: number;
  /** Machine-readable slug; the problem `type` is `/problems/<code>`. Defaults from the status. */
  code?: string;
  /** Short, fixed summary of the problem type; defaults to the HTTP reason phrase. */
  title?: string;
  /** What went wrong this time, in words a client can show. */
  detail?: string;
  errors?: FieldError[];
  /** Seconds; sent as Retry-After (429, 503). */
  retryAfter?: number;
  headers?: Record<string, string>;
  cause?: unknown;
  /**
   * False for a bug or an outage wrapped as an error (logged with its stack, its text never
   * shown); true, the default, for a condition the code expects and words for clients.
   */
  trusted?: boolean;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string>;
  readonly trusted: boolean;

  constructor(options: AppErrorOptions) {
    const info = statusInfo(options.status);
    super(options.detail ?? options.title ?? info.en, { cause: options.cause });
    this.name = 'AppError';
    this.status = options.status;
    this.code = options.code ?? info.code;
    this.title = options.title ?? info.en;
    this.detail = options.detail;
    this.errors = options.errors?.length ? options.errors : undefined;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers ?? {};
    this.trusted = options.trusted ?? true;
  }

  get type(): string {
    return PROBLEM_TYPE_PREFIX + this.code;
  }

  toProblem(instance?: string): Problem {
    const problem: Problem = { type: this.type, title: this.title, status: this.status };
    if (this.detail !== undefined) problem.detail = this.detail;
    if (instance !== undefined) problem.instance = instance;
    if (this.errors) problem.errors = this.errors;
    return problem;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Extra options for the helpers: a more specific code, field errors, the underlying cause. */
export type HelperOptions = Pick<
  AppErrorOptions,
  'code' | 'title' | 'errors' | 'cause' | 'headers'
>;

export const badRequest = (detail?: string, opts: HelperOptions = {}) =>
  new AppError({ status: 400, detail, ...opts });

/** 400 with field-level errors (what a form shows next to each field). */
export const validationFailed = (
  errors: FieldError[],
  detail = 'Some fields are missing or invalid.',
  opts: HelperOptions = {},
) =>
  new AppError({
    status: 400,
    code: 'validation-failed',
    title: 'Validation Failed',
    detail,
    errors,
    ...opts,
  });

export const unauthorized = (detail = 'Sign in to continue.', opts: HelperOptions = {}) =>
  // RFC 9110 wants a challenge with every 401.
  new AppError({ status: 401, detail, headers: { 'WWW-Authenticate': 'Bearer' }, ...opts });

export const forbidden = (detail = 'You are not allowed to do this.', opts: HelperOptions = {}) =>
  new AppError({ status: 403, detail, ...opts });

export const notFound = (detail = 'There is nothing at this address.', opts: HelperOptions = {}) =>
  new AppError({ status: 404, detail, ...opts });

export const conflict = (detail?: string, opts: HelperOptions = {}) =>
  new AppError({ status: 409, detail, ...opts });

export const gone = (detail?: string, opts: HelperOptions = {}) =>
  new AppError({ status: 410, detail, ...opts });

export const payloadTooLarge = (
  detail = 'The request body is too large.',
  opts: HelperOptions = {},
) => new AppError({ status: 413, detail, ...opts });

export const tooManyRequests = (
  retryAfterSeconds: number,
  detail = 'Too many requests; try again later.',
  opts: HelperOptions = {},
) =>
  new AppError({
    status: 429,
    detail,
    retryAfter: Math.max(1, Math.ceil(retryAfterSeconds)),
    ...opts,
  });

export const serviceUnavailable = (
  detail = 'The service is temporarily unavailable.',
  retryAfterSeconds?: number,
  opts: HelperOptions = {},
) => new AppError({ status: 503, detail, retryAfter: retryAfterSeconds, ...opts });

function joinPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** Zod issues as field errors; unknown keys are listed one by one so each is named. */
export function zodIssuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: joinPath([...issue.path, key]), message: 'is not an allowed field' });
      }
    } else {
      out.push({ path: joinPath(issue.path), message: issue.message });
    }
  }
  return out;
}

export function fromZodError(error: z.core.$ZodError, detail?: string): AppError {
  return validationFailed(zodIssuesToFieldErrors(error.issues), detail, { cause: error });
}

/** Parses client input; on failure throws a 400 naming every bad field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  detail?: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw fromZodError(result.error, detail);
  return result.data;
}

function formatBytes(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024} kB` : `${n} bytes`;
}

interface HttpErrorLike {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
  limit?: unknown;
  message?: unknown;
}

/**
 * Maps anything thrown to an AppError. `unexpected` (the error is not `trusted`) marks bugs or
 * outages (logged with their stack); their own message is never shown.
 */
export function toAppError(err: unknown): { error: AppError; unexpected: boolean } {
  if (err instanceof AppError) return { error: err, unexpected: !err.trusted };

  // Zod errors reaching the handler come from parsing request input (config is parsed before
  // the app exists), so they are the client's fault.
  if (err instanceof z.core.$ZodError) return { error: fromZodError(err), unexpected: false };

  // express decodes path parameters with decodeURIComponent and marks its URIError as a 400.
  if (err instanceof URIError && (err as HttpErrorLike).status === 400) {
    return {
      error: badRequest('The address contains percent-encoding that is not UTF-8.', {
        code: 'malformed-url',
        cause: err,
      }),
      unexpected: false,
    };
  }

  if (err instanceof mongoose.Error.CastError) {
    return {
      error: validationFailed(
        [{ path: err.path, message: `must be a valid ${err.kind}` }],
        undefined,
        {
          code: 'invalid-value',
          cause: err,
        },
      ),
      unexpected: false,
    };
  }
  if (err instanceof mongoose.Error.ValidationError) {
    const errors = Object.values(err.errors).map((e) => ({
      path: e.path,
      // A nested CastError's message quotes the raw value; keep the message about the field.
      message: e instanceof mongoose.Error.CastError ? `must be a valid ${e.kind}` : e.message,
    }));
    return { error: validationFailed(errors, undefined, { cause: err }), unexpected: false };
  }

  if (typeof err === 'object' && err !== null) {
    const e = err as HttpErrorLike;
    const keys = duplicateKeyFields(err);
    if (keys) {
      return {
        error: conflict('A record with the same value already exists.', {
          code: 'duplicate',
          errors: keys.map((path) => ({ path, message: 'is already taken' })),
          cause: err,
        }),
        unexpected: false,
      };
    }

    // body-parser (and other http-errors users) mark client errors with `expose` and `type`.
    const status = typeof e.status === 'number' ? e.status : e.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      switch (e.type) {
        case 'entity.parse.failed':
          return {
            error: badRequest('The request body is not valid JSON.', {
              code: 'malformed-body',
              cause: err,
            }),
            unexpected: false,
          };
        case 'encoding.invalid': // src/http/encoding.ts
          return {
            error: badRequest('The request body is not valid UTF-8.', {
              code: 'malformed-body',
              cause: err,
            }),
            unexpected: false,
          };
        case 'entity.too.large':
          return {
            error: payloadTooLarge(
              typeof e.limit === 'number'
                ? `The request body is larger than the ${formatBytes(e.limit)} limit.`
                : undefined,
              { cause: err },
            ),
            unexpected: false,
          };
        case 'parameters.too.many':
          return {
            error: payloadTooLarge('Too many form parameters.', { cause: err }),
            unexpected: false,
          };
        case 'encoding.unsupported':
        case 'charset.unsupported':
          return {
            error: new AppError({
              status: 415,
              detail: 'Unsupported request encoding.',
              cause: err,
            }),
            unexpected: false,
          };
      }
      // A 4xx marks the client's fault (the http-errors convention); its message is shown
      // only when the library says it may be.
      return {
        error: new AppError({
          status,
          detail: e.expose === true && typeof e.message === 'string' ? e.message : undefined,
          cause: err,
        }),
        unexpected: false,
      };
    }
  }

  return {
    error: new AppError({
      status: 500,
      detail: 'Something went wrong on our side. Please try again later.',
      cause: err,
      trusted: false,
    }),
    unexpected: true,
  };
}

function requestPath(req: Request): string {
  // The query string is left out: it can carry single-use tokens from e-mailed links.
  return req.originalUrl.split('?')[0];
}

function prefersHtml(req: Request): boolean {
  const p = requestPath(req);
  if (p === '/api' || p.startsWith('/api/')) return false;
  return req.accepts(['application/problem+json', 'application/json', 'text/html']) === 'text/html';
}

export interface ErrorHandlerOptions {
  logger: Logger;
  /** The HTML page for browsers (src/site/error-page.ts). Must escape everything. */
  renderHtml: (problem: Problem, req: Request) => string;
}

/** The one error handler, mounted last. */
export function createErrorHandler(options: ErrorHandlerOptions): ErrorRequestHandler {
  const render = options.renderHtml;
  return (err, req, res, next) => {
    const requestId = typeof res.locals.requestId === 'string' ? res.locals.requestId : undefined;
    const where = { requestId, method: req.method, path: requestPath(req) };
    if (res.headersSent) {
      // Too late for a response: express's default handler closes the connection.
      options.logger.error({ err, ...where }, 'error after the response started');
      next(err);
      return;
    }

    const { error } = toAppError(err);
    if (!error.trusted || error.status >= 500) {
      options.logger.error({ err, ...where }, 'request failed');
    } else {
      options.logger.debug({ status: error.status, code: error.code, ...where }, error.message);
    }

    const problem = error.toProblem(where.path);
    if (error.status >= 500 && requestId) problem.requestId = requestId;

    res.status(error.status);
    res.set(error.headers);
    if (error.retryAfter !== undefined) res.set('Retry-After', String(error.retryAfter));
    res.set('Cache-Control', 'no-store');
    if (prefersHtml(req)) {
      res.type('html').send(render(problem, req));
    } else {
      res.type('application/problem+json').send(JSON.stringify(problem));
    }
  };
}

/** The catch-all after every route. */
export const notFoundHandler: RequestHandler = (_req, _res, next) => {
  next(notFound());
};
