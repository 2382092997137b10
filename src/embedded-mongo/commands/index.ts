/**
 * Database commands with the reply shapes mongod gives (and the driver depends on), one file per
 * family; this file is the registry and the executor that runs them.
 * A command runs against the in-memory catalog in one synchronous step, or, when it is long
 * (scans, sorts, index builds, multi-document writes), in slices of at most SLICE_MS: its handler
 * is a generator that offers checkpoints, and at each checkpoint past the budget the driver
 * journals what the slice changed (one record per slice, appended in the same step as the
 * changes) and lets the event loop run. Other commands may run between slices, as mongod
 * interleaves operations when it yields; the reply waits until every record is durable.
 */
import type { Document } from 'bson';
import { Codes, MongoServerError, unsupported } from '../errors';
import { WriteBatch, type Catalog } from '../engine/catalog';
import { isPlainObject } from '../engine/values';
import { SLICE_MS, isSliced, type Pause, type Sliced } from '../engine/slices';
import type { CursorManager } from '../cursors';
import { adminCommands, hello } from './admin';
import { aggregateCommands } from './aggregate';
import { bulkWriteCommands } from './bulk-write';
import { crudCommands } from './crud';
import { FailPoints } from './fail-points';
import { cursorCommands } from './cursors';
import { explainCommands } from './explain';
import { indexCommands } from './indexes';
import {
  noTransactions,
  toErrorReply,
  type CommandContext,
  type Handler,
  type Store,
} from './shared';

export { SERVER_VERSION, WIRE_VERSION } from './admin';
export { toErrorReply, type CommandContext } from './shared';
export { FailPoints } from './fail-points';

export interface CommandResult {
  reply: Document;
  batch: WriteBatch;
}

/** Appends one journal record; resolves once it is durable. */
export type Journal = (record: Document) => Promise<void>;

/** Every command by name; a Map, so no name reaches Object.prototype. */
const HANDLERS: ReadonlyMap<string, Handler> = new Map(
  [
    adminCommands,
    crudCommands,
    bulkWriteCommands,
    cursorCommands,
    indexCommands,
    aggregateCommands,
    explainCommands,
  ].flatMap((family) => Object.entries(family)),
);

export class CommandExecutor {
  private readonly store: Store;

  constructor(
    readonly catalog: Catalog,
    readonly cursors: CursorManager,
    stats: { connections: () => number; totalConnections: () => number },
    /** Where each slice's changes go; without one they accumulate in the batch (benchmarks). */
    private readonly journal?: Journal,
    /** mongod's fail points (configureFailPoint), when test commands are enabled. */
    private readonly failPoints?: FailPoints,
  ) {
    this.store = { catalog, cursors, stats, startedAt: Date.now() };
  }

  /**
   * Runs one command; errors become `{ok: 0, code, errmsg}` replies. Every change it made has been
   * handed to the journal when this resolves (`batch.durable()` says when it is on disk).
   */
  async execute(cmd: Document, ctx: CommandContext): Promise<CommandResult> {
    const batch = new WriteBatch(this.journal);
    let out: Document | Sliced<Document>;
    try {
      const name = Object.keys(cmd)[0];
      if (!name) throw new MongoServerError(Codes.FailedToParse, 'empty command');
      if (name === 'configureFailPoint' && this.failPoints) {
        batch.flush();
        return { reply: this.failPoints.configure(cmd, String(cmd.$db ?? 'admin')), batch };
      }
      const handler = HANDLERS.get(name);
      if (!handler) throw new MongoServerError(Codes.CommandNotFound, `no such command: '${name}'`);
      this.failPoints?.check(name);
      if (
        cmd.startTransaction !== undefined ||
        cmd.autocommit !== undefined ||
        cmd.txnNumber !== undefined
      )
        throw noTransactions();
      if (isPlainObject(cmd.collation) && cmd.collation.locale !== 'simple')
        throw unsupported('collation');
      const db = typeof cmd.$db === 'string' ? cmd.$db : 'admin';
      out = handler(this.store, cmd, db, batch, ctx);
    } catch (e) {
      batch.flush();
      return { reply: toErrorReply(e), batch };
    }
    if (!isSliced(out)) {
      batch.flush();
      return { reply: out, batch };
    }
    try {
      return { reply: await this.run(out, batch), batch };
    } catch (e) {
      return { reply: toErrorReply(e), batch };
    }
  }

  /**
   * Drives sliced work: each checkpoint past SLICE_MS ends the slice. The slice's changes are
   * journaled in the same synchronous step as they were made (so a compaction's view and the
   * journal never disagree, and records keep the order of the changes), also when it throws.
   */
  async run<R>(work: Sliced<R>, batch: WriteBatch): Promise<R> {
    let sliceStart = performance.now();
    for (;;) {
      let r: IteratorResult<Pause, R>;
      try {
        r = work.next();
      } catch (e) {
        batch.flush();
        throw e;
      }
      if (r.done) {
        batch.flush();
        return r.value;
      }
      if (performance.now() - sliceStart >= SLICE_MS) {
        batch.flush();
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
  }

  hello(ctx: CommandContext): Document {
    return hello(ctx);
  }
}
