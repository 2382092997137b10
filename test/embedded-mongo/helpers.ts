/**
 * Shared helpers for the embedded store's wire-level tests: an in-memory store per suite, a raw
 * socket client that speaks hand-built OP_MSG / OP_QUERY bytes, and child-process launchers for
 * the standalone CLI.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import {
  calculateObjectSize,
  deserialize,
  serializeWithBufferAndIndex,
  setInternalBufferSize,
  type Document,
} from 'bson';
import { MongoClient } from 'mongodb';
import mongoose, { type Connection } from 'mongoose';
import {
  startEmbeddedMongo,
  type EmbeddedMongo,
  type EmbeddedMongoOptions,
} from '../../src/embedded-mongo';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;
export const MORE_TO_COME = 0x2;

const ROOT = path.join(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'src', 'embedded-mongo', 'cli.ts');

/** A loosely typed document, so tests can use any _id type with the driver's typed collections. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDoc = { [key: string]: any; _id?: string | number | boolean | object | null };

/** A database name nobody else uses. */
export function uniqueDb(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export interface StoreHandle {
  /** Set in the `before` hook. */
  db: EmbeddedMongo;
}

/** Call inside a `describe`: one in-memory store for the suite, closed afterwards. */
export function useStore(
  opts: Omit<EmbeddedMongoOptions, 'inMemory' | 'dataDir'> = {},
): StoreHandle {
  const handle = {} as StoreHandle;
  before(async () => {
    handle.db = await startEmbeddedMongo({ inMemory: true, ...opts });
  });
  after(async () => {
    await handle.db?.close();
  });
  return handle;
}

export interface ClientHandle {
  client: MongoClient;
}

/** Call inside a `describe` after `useStore`: a raw driver client for the suite. */
export function useClient(
  store: StoreHandle,
  opts: ConstructorParameters<typeof MongoClient>[1] = {},
): ClientHandle {
  const handle = {} as ClientHandle;
  before(async () => {
    handle.client = new MongoClient(store.db.uri, { serverSelectionTimeoutMS: 5000, ...opts });
    await handle.client.connect();
  });
  after(async () => {
    await handle.client?.close();
  });
  return handle;
}

// ---------------------------------------------------------------------------------------------
// Hand-built wire messages

let nextRequestId = 1000;
export function newRequestId(): number {
  return nextRequestId++;
}

/** BSON bytes of any size (bson serializes through a 17 MB internal buffer, grown here when needed). */
let internalBufferSize = 17 * 1024 * 1024;
export function bsonBytes(doc: Document): Buffer {
  const size = calculateObjectSize(doc);
  if (size > internalBufferSize) setInternalBufferSize((internalBufferSize = size));
  const buf = Buffer.alloc(size);
  serializeWithBufferAndIndex(doc, buf);
  return buf;
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

export interface OpMsgOptions {
  requestId?: number;
  flags?: number;
  /** Kind-1 document sequences: identifier → documents. */
  sequences?: Record<string, Document[]>;
}

/** An OP_MSG with one kind-0 body section and optional kind-1 sequences. */
export function opMsg(body: Document, opts: OpMsgOptions = {}): Buffer {
  const parts: Buffer[] = [];
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE(opts.flags ?? 0, 0);
  parts.push(flags, Buffer.from([0]), bsonBytes(body));
  for (const [id, docs] of Object.entries(opts.sequences ?? {})) {
    const payload = Buffer.concat([Buffer.from(`${id}\0`), ...docs.map(bsonBytes)]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + payload.length, 0);
    parts.push(Buffer.from([1]), size, payload);
  }
  const rest = Buffer.concat(parts);
  return Buffer.concat([
    header(16 + rest.length, opts.requestId ?? newRequestId(), 0, OP_MSG),
    rest,
  ]);
}

/** A legacy OP_QUERY (what drivers send for the first handshake). */
export function opQuery(
  ns: string,
  query: Document,
  opts: { requestId?: number; numberToReturn?: number } = {},
): Buffer {
  const flags = Buffer.alloc(4);
  const nums = Buffer.alloc(8);
  nums.writeInt32LE(0, 0); // numberToSkip
  nums.writeInt32LE(opts.numberToReturn ?? -1, 4);
  const rest = Buffer.concat([flags, Buffer.from(`${ns}\0`), nums, bsonBytes(query)]);
  return Buffer.concat([
    header(16 + rest.length, opts.requestId ?? newRequestId(), 0, OP_QUERY),
    rest,
  ]);
}

/** A message with any opcode and body bytes (for bad-input tests). */
export function rawMessage(opCode: number, body: Buffer, requestId = newRequestId()): Buffer {
  return Buffer.concat([header(16 + body.length, requestId, 0, opCode), body]);
}

export interface Reply {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
  /** OP_MSG flagBits or OP_REPLY responseFlags. */
  flags: number;
  /** OP_REPLY only. */
  numberReturned?: number;
  /** The (first) reply document, decoded with Longs kept as Long. */
  doc: Document;
  /** The whole message as received. */
  bytes: Buffer;
}

export function parseReply(buf: Buffer): Reply {
  const length = buf.readInt32LE(0);
  const requestId = buf.readInt32LE(4);
  const responseTo = buf.readInt32LE(8);
  const opCode = buf.readInt32LE(12);
  const decode = (off: number): Document =>
    deserialize(buf.subarray(off, off + buf.readInt32LE(off)), {
      promoteLongs: false,
      promoteValues: true,
    });
  if (opCode === OP_REPLY) {
    return {
      length,
      requestId,
      responseTo,
      opCode,
      flags: buf.readInt32LE(16),
      numberReturned: buf.readInt32LE(32),
      doc: decode(36),
      bytes: buf,
    };
  }
  if (opCode === OP_MSG) {
    const kind = buf.readUInt8(20);
    if (kind !== 0) throw new Error(`reply starts with section kind ${kind}`);
    const flags = buf.readUInt32LE(16);
    return { length, requestId, responseTo, opCode, flags, doc: decode(21), bytes: buf };
  }
  throw new Error(`unexpected reply opCode ${opCode}`);
}

// ---------------------------------------------------------------------------------------------
// Raw socket client

/** A TCP client that sends bytes as given and splits what comes back into messages. */
export class RawClient {
  private buffered = Buffer.alloc(0);
  private readonly messages: Buffer[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4) {
        const len = this.buffered.readInt32LE(0);
        if (this.buffered.length < len) break;
        this.messages.push(this.buffered.subarray(0, len));
        this.buffered = this.buffered.subarray(len);
      }
      this.wake();
    });
    socket.on('error', () => undefined); // ECONNRESET after the server closes on bad input
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RawClient(socket));
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private waitForEvent(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, ms);
      const done = (): void => {
        clearTimeout(t);
        resolve(true);
      };
      this.waiters.push(done);
    });
  }

  write(buf: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(buf, (e) => (e ? reject(e) : resolve())),
    );
  }

  /** Writes `buf` in pieces of `size` bytes, each a separate socket write, yielding between them. */
  async writeInPieces(buf: Buffer, size: number): Promise<void> {
    for (let i = 0; i < buf.length; i += size) {
      await this.write(buf.subarray(i, i + size));
      await new Promise((r) => setImmediate(r));
    }
  }

  /** The next whole message from the server; rejects after `ms` or if the connection closes first. */
  async next(ms = 5000): Promise<Reply> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.messages.shift();
      if (m) return parseReply(m);
      if (this.closed) throw new Error('connection closed before a reply arrived');
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.waitForEvent(left))) {
        if (this.messages.length) continue;
        throw new Error(`no reply within ${ms} ms`);
      }
    }
  }

  /** Resolves with whatever arrives within `ms`: a reply, 'closed', or 'nothing'. */
  async outcome(ms: number): Promise<Reply | 'closed' | 'nothing'> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.messages.shift();
      if (m) return parseReply(m);
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.waitForEvent(left))) {
        if (this.messages.length || this.closed) continue;
        return 'nothing';
      }
    }
  }

  /** Sends an OP_MSG command and returns the reply document. */
  async command(body: Document, opts: OpMsgOptions = {}): Promise<Document> {
    const requestId = opts.requestId ?? newRequestId();
    await this.write(opMsg(body, { ...opts, requestId }));
    const reply = await this.next();
    if (reply.responseTo !== requestId)
      throw new Error(`reply to ${reply.responseTo}, expected ${requestId}`);
    return reply.doc;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Opens a fresh connection and pings: true when the server still answers `ok: 1`. */
export async function pingsOk(port: number): Promise<boolean> {
  const c = await RawClient.connect(port);
  try {
    const r = await c.command({ ping: 1, $db: 'admin' });
    return r.ok === 1;
  } finally {
    c.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes

/**
 * Runs a TypeScript file as `node --import tsx file args…` (what `npx tsx` does, minus the
 * launcher), so that the child's pid is the script itself and a SIGKILL reaches it directly.
 */
export function spawnTs(file: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export interface StoreProcess {
  child: ChildProcessWithoutNullStreams;
  uri: string;
  port: number;
  stderr: () => string;
  /** Resolves once the process has exited (with the signal, if any). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the standalone store (`cli.ts`) and waits for its `READY <uri>` line. */
export function startStoreProcess(args: string[], timeoutMs = 15_000): Promise<StoreProcess> {
  const child = spawnTs(CLI, args);
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`store did not print READY within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /READY (mongodb:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(t);
        const port = Number(/:(\d+)$/.exec(m[1])![1]);
        resolve({ child, uri: m[1], port, stderr: () => stderr, exited });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(t);
      reject(
        new Error(`store exited (code ${code}, signal ${signal}) before READY; stderr: ${stderr}`),
      );
    });
  });
}

/** Collects a child's stdout and resolves with it when the child exits 0 (rejects otherwise). */
export function runToEnd(
  child: ChildProcessWithoutNullStreams,
  timeoutMs = 30_000,
): Promise<string> {
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not finish within ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`child exited with code ${code} signal ${signal}; stderr: ${err}`));
    });
  });
}

/** Awaits a promise that must reject; returns the error for further assertions. */
export async function rejection(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

/** Codes that make drivers retry, reset pools or mark the server unknown. */
export const RETRY_CODES = [91, 189, 262, 10107, 11600, 11602, 13435, 13436];

/** Asserts an error names the feature and uses a code drivers treat as an ordinary error. */
export function isClearUnsupported(
  e: Error & Record<string, unknown>,
  feature: RegExp,
): string | null {
  const code = e.code as number | undefined;
  if (code === undefined) return `no code on error: ${e.message}`;
  if (RETRY_CODES.includes(code)) return `retry-triggering code ${code}`;
  if (/not master|node is recovering/i.test(e.message))
    return `retry-triggering wording: ${e.message}`;
  if (!feature.test(e.message))
    return `message does not name the feature (${feature}): ${e.message}`;
  return null;
}

export interface MongooseHandle {
  conn: Connection;
}

/** Call inside a `describe` after `useStore`: a mongoose connection to `dbName()` (read in `before`). */
export function useMongoose(store: StoreHandle, dbName: () => string): MongooseHandle {
  const handle = {} as MongooseHandle;
  before(async () => {
    handle.conn = await mongoose
      .createConnection(store.db.uri, { dbName: dbName(), serverSelectionTimeoutMS: 5000 })
      .asPromise();
  });
  after(async () => {
    await handle.conn?.close();
  });
  return handle;
}
