/**
 * The TCP side: one framer per connection, requests handled in order per connection, writes
 * acknowledged only after the journal has them on disk.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Document } from 'bson';
import { CommandExecutor, FailPoints, toErrorReply } from './commands';
import { CursorManager } from './cursors';
import { Catalog, WriteBatch } from './engine/catalog';
import { PAUSE, type Sliced } from './engine/slices';
import type { DurableStorage } from './storage/types';
import {
  encodeOpMsg,
  encodeOpReply,
  MessageFramer,
  MSG_MORE_TO_COME,
  parseMessage,
  type Request,
} from './wire';

export interface ServerOptions {
  storage: DurableStorage;
  catalog: Catalog;
  cursorTimeoutMs: number;
  /** Compact the journal into a snapshot once it grows past this many bytes. */
  compactAtBytes: number;
  ttlIntervalMs: number;
  log: (msg: string) => void;
  /** Serve mongod's test commands (configureFailPoint). */
  testCommands?: boolean;
}

const HANDSHAKE_COMMANDS = new Set(['hello', 'ismaster', 'isMaster']);

export class WireServer {
  readonly tcp: net.Server;
  /** The Unix domain socket's server and file, once listenUnix was called. */
  private unix: { server: net.Server; file: string } | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly executor: CommandExecutor;
  private readonly cursors: CursorManager;
  private nextConnectionId = 1;
  private timers: NodeJS.Timeout[] = [];
  private compacting: Promise<void> | null = null;
  private closed = false;
  /** Commands (and sweeps) under way, possibly between slices; close() lets them finish. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly opts: ServerOptions) {
    this.cursors = new CursorManager(opts.cursorTimeoutMs);
    this.executor = new CommandExecutor(
      opts.catalog,
      this.cursors,
      {
        connections: () => this.sockets.size,
        totalConnections: () => this.nextConnectionId - 1,
      },
      (record) => opts.storage.append(record),
      opts.testCommands ? new FailPoints() : undefined,
    );
    this.tcp = net.createServer((socket) => this.accept(socket));
    this.timers.push(
      setInterval(
        () => this.cursors.reap(),
        Math.min(60_000, Math.max(50, opts.cursorTimeoutMs / 4)),
      ).unref(),
    );
    this.timers.push(setInterval(() => void this.sweepExpired(), opts.ttlIntervalMs).unref());
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(port, host, () => {
        this.tcp.off('error', reject);
        resolve((this.tcp.address() as net.AddressInfo).port);
      });
    });
  }

  private accept(socket: net.Socket): void {
    const connectionId = this.nextConnectionId++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const framer = new MessageFramer();
    let queue: Promise<void> = Promise.resolve();
    socket.on('data', (chunk) => {
      let messages: Buffer[];
      try {
        messages = framer.push(chunk);
      } catch (e) {
        this.opts.log(
          `connection ${connectionId}: closing after protocol error: ${(e as Error).message}`,
        );
        socket.destroy();
        return;
      }
      for (const raw of messages) {
        queue = queue
          .then(() => this.handle(socket, connectionId, raw))
          .catch((e) => {
            // A bug must cost one connection, never the server.
            this.opts.log(
              `connection ${connectionId}: closing after internal error: ${(e as Error).stack ?? e}`,
            );
            socket.destroy();
          });
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private async handle(socket: net.Socket, connectionId: number, raw: Buffer): Promise<void> {
    if (socket.destroyed) return;
    let req: Request;
    try {
      req = parseMessage(raw);
    } catch (e) {
      // Malformed framing or BSON: the connection's state is unknown, so close it (mongod does too).
      this.opts.log(
        `connection ${connectionId}: closing after bad message: ${(e as Error).message}`,
      );
      socket.destroy();
      return;
    }
    if (req.kind === 'query') {
      socket.write(encodeOpReply(req.header.requestId, this.legacyQuery(req, connectionId)));
      return;
    }
    const { reply, batch } = await this.track(this.executor.execute(req.command, { connectionId }));
    const final = await this.makeDurable(reply, batch);
    if (req.flags & MSG_MORE_TO_COME) return; // fire-and-forget (w:0, endSessions): no reply
    if (!socket.destroyed) socket.write(encodeOpMsg(req.header.requestId, final));
  }

  /** OP_QUERY is only for the handshake since MongoDB 6; anything else gets mongod's error. */
  private legacyQuery(req: Extract<Request, { kind: 'query' }>, connectionId: number): Document {
    const q = (req.query.$query ?? req.query) as Document;
    const name = Object.keys(q)[0];
    if (!req.collection.endsWith('.$cmd') || !HANDSHAKE_COMMANDS.has(name)) {
      return {
        ok: 0,
        errmsg: `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`,
        code: 352,
        codeName: 'UnsupportedOpQueryCommand',
      };
    }
    return this.executor.hello({ connectionId });
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p)).catch(() => undefined);
    return p;
  }

  private async makeDurable(reply: Document, batch: WriteBatch): Promise<Document> {
    if (!batch.wrote) return reply;
    try {
      await batch.durable();
    } catch (e) {
      return toErrorReply(
        new Error(
          `the write was applied in memory but could not be made durable: ${(e as Error).message}`,
        ),
      );
    }
    this.maybeCompact();
    return reply;
  }

  private maybeCompact(): void {
    if (this.compacting || this.closed || this.opts.storage.journalBytes < this.opts.compactAtBytes)
      return;
    const started = Date.now();
    this.compacting = this.opts.storage
      .compact(() => this.opts.catalog.dump())
      .then(() => this.opts.log(`compacted journal into a snapshot in ${Date.now() - started} ms`))
      .catch((e) =>
        this.opts.log(`compaction failed (the journal is still intact): ${(e as Error).message}`),
      )
      .finally(() => (this.compacting = null));
  }

  /** Compacts the journal into a snapshot now (tests, benchmarks); shares one under way. */
  compactNow(): Promise<void> {
    return this.opts.storage.compact(() => this.opts.catalog.dump());
  }

  /** TTL indexes: delete documents whose indexed date is older than expireAfterSeconds (in slices, like a deleteMany). */
  async sweepExpired(now = Date.now()): Promise<number> {
    const batch = new WriteBatch((record) => this.opts.storage.append(record));
    const removed = await this.track(this.executor.run(this.expire(now, batch), batch));
    await batch.durable();
    return removed;
  }

  private *expire(now: number, batch: WriteBatch): Sliced<number> {
    let removed = 0;
    for (const db of this.opts.catalog.databaseNames()) {
      for (const coll of this.opts.catalog.collections(db)) {
        for (const ix of [...coll.indexes.values()]) {
          const ttl = ix.spec.expireAfterSeconds;
          if (ttl === undefined || ix.fields.length !== 1) continue;
          const field = ix.fields[0][0];
          const cutoff = new Date(now - ttl * 1000);
          for (const doc of coll.find({ [field]: { $lt: cutoff } })) {
            if (doc === PAUSE) {
              yield PAUSE;
              if (this.opts.catalog.get(coll.db, coll.name) !== coll) break; // dropped meanwhile
              continue;
            }
            coll.remove(doc);
            batch.remove(coll, doc._id);
            removed++;
          }
        }
      }
    }
    return removed;
  }

  /** The in-memory catalog, for tests and benchmarks (read it; do not write through it). */
  get catalog(): Catalog {
    return this.opts.catalog;
  }

  get openCursors(): number {
    return this.cursors.size;
  }

  reapCursors(now?: number): number {
    return this.cursors.reap(now);
  }

  /**
   * Also accepts connections on a Unix domain socket, as mongod does (/tmp/mongodb-<port>.sock):
   * a round trip through it costs both sides about a third less CPU than loopback TCP. Only its
   * owner may connect (mode 0700, mongod's default too).
   */
  async listenUnix(file: string): Promise<void> {
    // A file left by a store that died on this port (mongod removes a stale one too).
    fs.rmSync(file, { force: true });
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(file, 0o700);
    this.unix = { server, file };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    const listeners = [this.tcp, ...(this.unix ? [this.unix.server] : [])];
    const closing = Promise.all(
      listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))),
    );
    for (const s of this.sockets) s.destroy();
    await closing;
    if (this.unix) fs.rmSync(this.unix.file, { force: true });
    // Commands between slices finish (their writes are journaled) before the storage closes.
    while (this.running.size) await Promise.allSettled([...this.running]);
    this.cursors.closeAll();
    await this.compacting;
  }
}
