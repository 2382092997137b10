/**
 * Text from clients must be UTF-8. Decoders elsewhere are lenient (querystring and body-parser
 * turn bytes that are not UTF-8 into U+FFFD), which would store a name other than the one sent
 * without telling anyone; these checks refuse such requests at the edge instead.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { badRequest } from '../errors';

/** Whether a percent-encoded string decodes to UTF-8 (a `%` that starts no escape stays a `%`). */
export function isUtf8PercentEncoded(s: string): boolean {
  return isUtf8(percentDecodeBytes(s));
}

const HEX = /^[0-9a-fA-F]{2}$/;

/** The bytes `s` stands for: `%XX` escapes decoded; other characters read as latin1 bytes. */
function percentDecodeBytes(s: string): Buffer {
  const out = Buffer.alloc(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const hex = s.charCodeAt(i) === 0x25 ? s.slice(i + 1, i + 3) : '';
    if (HEX.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else {
      out[n++] = s.charCodeAt(i) & 0xff;
    }
  }
  return out.subarray(0, n);
}

/** Refuses a URL (path or query) whose percent-encoding is not UTF-8: a 400 before any route. */
export const requireUtf8Url: RequestHandler = (req, _res, next) => {
  if (req.url.includes('%') && !isUtf8PercentEncoded(req.url)) {
    throw badRequest('The address contains percent-encoding that is not UTF-8.', {
      code: 'malformed-url',
    });
  }
  next();
};

/** body-parser handles these as client errors (see toAppError in src/errors.ts). */
class BodyEncodingError extends Error {
  constructor(
    readonly status: 400 | 415,
    readonly type: 'encoding.invalid' | 'charset.unsupported',
    message: string,
  ) {
    super(message);
  }
}

function requireUtf8Charset(encoding: string): void {
  if (encoding.toLowerCase().replace('_', '-') !== 'utf-8') {
    throw new BodyEncodingError(415, 'charset.unsupported', 'Send the body as UTF-8.');
  }
}

/** A body parser's `verify`: the declared charset must be UTF-8 and `valid(body)` must hold. */
function utf8Verify(valid: (body: Buffer) => boolean, detail: string) {
  return (_req: IncomingMessage, _res: unknown, body: Buffer, encoding: string): void => {
    requireUtf8Charset(encoding);
    if (!valid(body)) throw new BodyEncodingError(400, 'encoding.invalid', detail);
  };
}

/** `verify` for express.json: the raw body must be UTF-8 (RFC 8259 §8.1), and say so. */
export const verifyUtf8Json = utf8Verify(isUtf8, 'The request body is not valid UTF-8.');

/** `verify` for express.urlencoded: the percent-encoded values must decode to UTF-8. */
export const verifyUtf8Form = utf8Verify(
  (body) => isUtf8PercentEncoded(body.toString('latin1')),
  'The form data is not valid UTF-8.',
);
