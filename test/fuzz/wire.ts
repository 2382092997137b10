/**
 * Raw HTTP/1.1 for the fuzz suite: requests are written byte for byte on a socket of their own,
 * so nothing between the generator and the server tidies them up (node's http client refuses
 * control characters in headers, supertest re-encodes paths and bodies). Each request can be
 * printed as a shell command that sends the same bytes with curl.
 */
import net from 'node:net';

export interface RawRequest {
  method: string;
  /** Request target exactly as sent: path and query, percent-encoding included (ASCII only). */
  target: string;
  /** Header lines in order, duplicates allowed; Host, Connection and Content-Length are added. */
  headers: Array<[string, string]>;
  body?: Buffer;
}

export interface RawResponse {
  /** 0 when no status line came back (connection closed or reset first). */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  ms: number;
  /** Set when the socket failed or the deadline passed before a full answer. */
  error?: string;
}

/** Sends one request on a new connection (`Connection: close`) and reads the answer to its end. */
export function send(base: URL, req: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const body = req.body ?? Buffer.alloc(0);
  const lines = [`${req.method} ${req.target} HTTP/1.1`, `Host: ${base.host}`, 'Connection: close'];
  for (const [k, v] of req.headers) lines.push(`${k}: ${v}`);
  if (body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method))
    lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        ...parse(Buffer.concat(chunks)),
        ms: Date.now() - started,
        ...(error ? { error } : {}),
      });
    };
    const socket = net.connect(Number(base.port), base.hostname, () => {
      // Not end(): a half-closed socket makes node's server drop a request still being handled.
      // The server may answer (413, 400) before the body is in; a reset while writing is fine.
      socket.write(Buffer.concat([head, body]));
    });
    const timer = setTimeout(() => finish(`no complete answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (complete(Buffer.concat(chunks), req.method)) finish();
    });
    socket.on('end', () => finish());
    socket.on('error', (e: NodeJS.ErrnoException) => {
      // An answer already read stands; a reset after the server refused the body is not a fault.
      finish(chunks.length ? undefined : `socket: ${e.code ?? e.message}`);
    });
  });
}

function headEnd(buf: Buffer): number {
  return buf.indexOf('\r\n\r\n');
}

function parse(buf: Buffer): Omit<RawResponse, 'ms'> {
  const end = headEnd(buf);
  if (end < 0) return { status: 0, headers: {}, body: Buffer.alloc(0) };
  const [statusLine, ...rest] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of rest) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = buf.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  return { status, headers, body };
}

/** Whether a full response is in: known length reached, or the last chunk seen. */
function complete(buf: Buffer, method: string): boolean {
  const end = headEnd(buf);
  if (end < 0) return false;
  const head = buf.subarray(0, end).toString('latin1');
  const rest = buf.length - end - 4;
  if (method === 'HEAD' || /^HTTP\/1\.[01] (1\d\d|204|304)/.test(head)) return true;
  const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (len) return rest >= Number(len[1]);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head))
    return (
      buf.subarray(end + 4).includes('\r\n0\r\n\r\n') ||
      buf.subarray(end + 4).indexOf('0\r\n\r\n') === 0
    );
  return false;
}

function dechunk(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (!size) break;
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** Bytes as a bash $'…' string (printable ASCII kept, everything else as \xHH). */
function shellBytes(b: Buffer): string {
  let s = '';
  for (const c of b) {
    if (c === 0x27 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return `$'${s}'`;
}

/** Bytes as a printf format (so NUL bytes survive, which $'…' cannot hold). */
function printfBytes(b: Buffer): string {
  let s = '';
  for (const c of b) {
    if (c === 0x25) s += '%%';
    else if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f && c !== 0x27) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return s;
}

/**
 * A bash command that sends the same request (curl keeps the target as given with
 * --path-as-is; a long body is cut short in the listing but its size is shown).
 */
export function curlOf(base: URL, req: RawRequest, maxBody = 2000): string {
  const parts = [
    'curl',
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    "'%{http_code}\\n'",
    '--path-as-is',
    '-X',
    req.method,
  ];
  for (const [k, v] of req.headers)
    parts.push('-H', shellBytes(Buffer.from(`${k}: ${v}`, 'latin1')));
  const url = shellBytes(Buffer.from(`${base.origin}${req.target}`, 'latin1'));
  if (!req.body?.length) return [...parts, url].join(' ');
  const shown = req.body.subarray(0, maxBody);
  const cut = req.body.length > maxBody ? ` # body cut: ${req.body.length} bytes in all` : '';
  return `printf '${printfBytes(shown)}' | ${[...parts, '--data-binary', '@-', url].join(' ')}${cut}`;
}
