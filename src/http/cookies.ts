/**
 * Reading one cookie from the Cookie header. Cookie values come from clients as they are:
 * percent-encoding that does not decode (`%`, `%ff`) is kept as written, the way cookie-parser
 * does it, so a broken cookie is just a wrong value and never an exception.
 */

/** Percent-decodes a cookie value, or returns it unchanged when it is not valid encoding. */
export function decodeCookieValue(raw: string): string {
  let v = raw.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** The first cookie called `name` in a Cookie header, decoded as above. */
export function cookieFromHeader(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeCookieValue(part.slice(i + 1));
  }
  return undefined;
}
