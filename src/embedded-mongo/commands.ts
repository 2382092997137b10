/**
 * Database commands with the reply shapes mongod gives (and the driver depends on).
 * A command runs against the in-memory catalog in one synchronous step, or, when it is long
 * (scans, sorts, index builds, multi-document writes), in slices of at most SLICE_MS: its handler
 * is a generator that offers checkpoints, and at each checkpoint past the budget the driver
 * journals what the slice changed (one record per slice, appended in the same step as the
 * changes) and lets the event loop run. Other commands may run between slices, as mongod
 * interleaves operations when it yields; the reply waits until every record is durable.
 */
import { Aggregator, ProcessingMode } from 'mingo';
import { Long, type Document } from 'bson';
import { Codes, MongoServerError, badValue, unsupported } from './errors';
import { Catalog, WriteBatch, validateNamespace } from './engine/catalog';
import { Collection } from './engine/collection';
import { asBadValue, compileFilter, compileProjection, parseSort, rejectUnsupportedOperators } from './engine/query';
import { applyUpdate, buildUpsert, classifyUpdate, validateUpdate } from './engine/update';
import { compareValues, getPathValues, isPlainObject, sameDocument, type Doc } from './engine/values';
import { CursorManager } from './cursors';
import { validateIndexSpec, type IndexSpec } from './engine/indexes';
import { collect, first, PAUSE, SLICE_MS, sortInSlices, type Pause, type Scan, type Sliced } from './engine/slices';
import type { IndexBuild } from './engine/collection';

export const WIRE_VERSION = 21;
export const SERVER_VERSION = '7.0.0';

export interface CommandContext {
  connectionId: number;
}

export interface CommandResult {
  reply: Document;
  batch: WriteBatch;
}

type Handler = (cmd: Document, db: string, batch: WriteBatch, ctx: CommandContext) => Document | Sliced<Document>;

/** Appends one journal record; resolves once it is durable. */
export type Journal = (record: Document) => Promise<void>;

// Fields every command may carry that do not change what it does here.
const GENERIC_FIELDS = new Set(['$db', 'lsid', '$clusterTime', '$readPreference', 'readConcern', 'writeConcern', 'comment', 'maxTimeMS', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'bypassDocumentValidation', 'hint', 'allowDiskUse', '$audit', 'mayBypassWriteBlocking']);

const UNSUPPORTED_STAGES: Record<string, string> = {
  $out: 'the $out aggregation stage',
  $merge: 'the $merge aggregation stage',
  $changeStream: 'change streams',
  $search: 'Atlas Search ($search)',
  $searchMeta: 'Atlas Search ($searchMeta)',
  $vectorSearch: 'vector search ($vectorSearch)',
  $geoNear: 'the $geoNear aggregation stage (geospatial)',
  $currentOp: 'the $currentOp aggregation stage',
  $listSessions: 'the $listSessions aggregation stage',
  $listLocalSessions: 'the $listLocalSessions aggregation stage',
  $collStats: 'the $collStats aggregation stage',
  $indexStats: 'the $indexStats aggregation stage',
  $planCacheStats: 'the $planCacheStats aggregation stage',
};

export class CommandExecutor {
  private readonly startedAt = Date.now();
  private readonly handlers: Record<string, Handler>;

  constructor(
    readonly catalog: Catalog,
    readonly cursors: CursorManager,
    private readonly stats: { connections: () => number; totalConnections: () => number },
    /** Where each slice's changes go; without one they accumulate in the batch (benchmarks). */
    private readonly journal?: Journal,
  ) {
    const hello: Handler = (_c, _db, _b, ctx) => this.hello(ctx);
    this.handlers = {
      hello,
      ismaster: hello,
      isMaster: hello,
      ping: () => ({ ok: 1 }),
      buildInfo: () => this.buildInfo(),
      buildinfo: () => this.buildInfo(),
      endSessions: () => ({ ok: 1 }),
      killAllSessions: () => ({ ok: 1 }),
      connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
      serverStatus: () => this.serverStatus(),
      whatsmyuri: () => ({ you: 'embedded', ok: 1 }),
      getParameter: () => ({ featureCompatibilityVersion: { version: '7.0' }, ok: 1 }),
      listDatabases: (c) => this.listDatabases(c),
      listCollections: (c, db) => this.listCollections(c, db),
      create: (c, db, b) => this.create(c, db, b),
      drop: (c, db, b) => this.drop(c, db, b),
      dropDatabase: (_c, db, b) => (this.catalog.dropDatabase(b, db), { dropped: db, ok: 1 }),
      insert: (c, db, b) => this.insert(c, db, b),
      update: (c, db, b) => this.update(c, db, b),
      delete: (c, db, b) => this.delete(c, db, b),
      find: (c, db) => this.find(c, db),
      getMore: (c, db) => this.getMore(c, db),
      killCursors: (c) => this.killCursors(c),
      findAndModify: (c, db, b) => this.findAndModify(c, db, b),
      findandmodify: (c, db, b) => this.findAndModify(c, db, b),
      count: (c, db) => this.count(c, db),
      distinct: (c, db) => this.distinct(c, db),
      aggregate: (c, db) => this.aggregate(c, db),
      createIndexes: (c, db, b) => this.createIndexes(c, db, b),
      listIndexes: (c, db) => this.listIndexes(c, db),
      dropIndexes: (c, db, b) => this.dropIndexes(c, db, b),
      deleteIndexes: (c, db, b) => this.dropIndexes(c, db, b),
      dbStats: (_c, db) => this.dbStats(db),
      explain: () => {
        throw unsupported('explain');
      },
      commitTransaction: () => {
        throw noTransactions();
      },
      abortTransaction: () => {
        throw noTransactions();
      },
    };
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
      const handler = Object.prototype.hasOwnProperty.call(this.handlers, name) ? this.handlers[name] : undefined;
      if (!handler) throw new MongoServerError(Codes.CommandNotFound, `no such command: '${name}'`);
      if (cmd.startTransaction !== undefined || cmd.autocommit !== undefined || cmd.txnNumber !== undefined) throw noTransactions();
      if (isPlainObject(cmd.collation) && cmd.collation.locale !== 'simple') throw unsupported('collation');
      const db = typeof cmd.$db === 'string' ? cmd.$db : 'admin';
      out = handler(cmd, db, batch, ctx);
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
    return {
      helloOk: true,
      ismaster: true,
      isWritablePrimary: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId: ctx.connectionId,
      minWireVersion: 0,
      maxWireVersion: WIRE_VERSION,
      readOnly: false,
      ok: 1,
    };
  }

  private buildInfo(): Document {
    return {
      version: SERVER_VERSION,
      gitVersion: 'embedded',
      versionArray: [7, 0, 0, 0],
      bits: 64,
      maxBsonObjectSize: 16 * 1024 * 1024,
      storageEngines: ['eqi-embedded'],
      embedded: true,
      ok: 1,
    };
  }

  private serverStatus(): Document {
    return {
      host: 'embedded',
      version: SERVER_VERSION,
      process: 'eqi-embedded-mongo',
      pid: Long.fromNumber(process.pid),
      uptime: Math.floor((Date.now() - this.startedAt) / 1000),
      localTime: new Date(),
      connections: { current: this.stats.connections(), totalCreated: this.stats.totalConnections() },
      metrics: { cursor: { open: { total: this.cursors.size } } },
      ok: 1,
    };
  }

  private listDatabases(cmd: Document): Document {
    let databases = this.catalog.databaseNames().map((name) => ({
      name,
      sizeOnDisk: this.catalog.collections(name).reduce((n, c) => n + c.docs.size, 0) * 256,
      empty: this.catalog.collections(name).every((c) => c.docs.size === 0),
    }));
    if (cmd.filter) {
      const m = compileFilter(cmd.filter);
      databases = databases.filter((d) => m(d));
    }
    if (cmd.nameOnly) return { databases: databases.map((d) => ({ name: d.name })), ok: 1 };
    const totalSize = databases.reduce((n, d) => n + d.sizeOnDisk, 0);
    return { databases, totalSize, totalSizeMb: Math.round(totalSize / 1048576), ok: 1 };
  }

  private listCollections(cmd: Document, db: string): Document {
    let infos: Doc[] = this.catalog.collections(db).map((c) => ({
      name: c.name,
      type: 'collection',
      options: c.options,
      info: { readOnly: false },
      idIndex: Collection.idIndexSpec(),
    }));
    if (cmd.filter) {
      const m = compileFilter(cmd.filter);
      infos = infos.filter((i) => m(i));
    }
    if (cmd.nameOnly) infos = infos.map((i) => ({ name: i.name, type: i.type }));
    return this.cursors.start(`${db}.$cmd.listCollections`, infos, null, batchSizeOf(cmd.cursor), false);
  }

  private create(cmd: Document, db: string, batch: WriteBatch): Document {
    const name = collectionName(cmd, 'create');
    const opts: Doc = {};
    for (const [k, v] of Object.entries(cmd)) {
      if (k === 'create' || GENERIC_FIELDS.has(k)) continue;
      if (k === 'collation' && isPlainObject(v) && v.locale === 'simple') continue;
      throw unsupported(`the collection option '${k}'`);
    }
    this.catalog.createCollection(batch, db, name, opts);
    return { ok: 1 };
  }

  private drop(cmd: Document, db: string, batch: WriteBatch): Document {
    const name = collectionName(cmd, 'drop');
    const coll = this.catalog.dropCollection(batch, db, name);
    // Since 7.0 dropping a missing collection succeeds.
    if (!coll) return { ok: 1 };
    return { nIndexesWas: coll.indexes.size + 1, ns: coll.ns, ok: 1 };
  }

  private insert(cmd: Document, db: string, batch: WriteBatch): Document {
    const name = collectionName(cmd, 'insert');
    const docs = cmd.documents;
    if (!Array.isArray(docs) || docs.length === 0) throw badValue("'documents' must be a non-empty array");
    if (docs.length > 100_000) throw badValue('Write batch sizes must be between 1 and 100000');
    const ordered = cmd.ordered !== false;
    const coll = this.catalog.getOrCreate(batch, db, name);
    const writeErrors: Doc[] = [];
    let n = 0;
    for (let i = 0; i < docs.length; i++) {
      try {
        const doc = coll.prepareInsert(docs[i]);
        coll.insert(doc);
        batch.insert(coll, doc);
        n++;
      } catch (e) {
        writeErrors.push(writeError(i, e));
        if (ordered) break;
      }
    }
    return withWriteErrors({ n, ok: 1 }, writeErrors);
  }

  private *update(cmd: Document, db: string, batch: WriteBatch): Sliced<Document> {
    const name = collectionName(cmd, 'update');
    const updates = cmd.updates;
    if (!Array.isArray(updates) || updates.length === 0) throw badValue("'updates' must be a non-empty array");
    const ordered = cmd.ordered !== false;
    const writeErrors: Doc[] = [];
    const upserted: Doc[] = [];
    let n = 0;
    let nModified = 0;
    for (let i = 0; i < updates.length; i++) {
      try {
        const spec = updates[i] as Doc;
        if (!isPlainObject(spec)) throw badValue('each update must be an object');
        if (isPlainObject(spec.collation) && spec.collation.locale !== 'simple') throw unsupported('collation');
        const q = (spec.q ?? {}) as Doc;
        const kind = classifyUpdate(spec.u);
        validateUpdate(spec.u);
        if (spec.multi && kind === 'replacement') throw new MongoServerError(Codes.FailedToParse, 'multi update is not supported for replacement-style update');
        const arrayFilters = spec.arrayFilters as Doc[] | undefined;
        const coll = this.catalog.get(db, name);
        let matched = 0;
        // Each match is updated as the scan reaches it (in the step that tested it), so a write
        // made between slices is never overwritten with a stale version.
        for (const doc of coll ? coll.find(q, { limit: spec.multi ? 0 : 1 }) : []) {
          if (doc === PAUSE) {
            yield PAUSE;
            this.stillLive(coll!);
            continue;
          }
          matched++;
          const next = applyUpdate(doc, spec.u, { filter: q, arrayFilters });
          if (!sameDocument(doc, next)) {
            coll!.replace(doc, next);
            batch.replace(coll!, next);
            nModified++;
          }
          // Counted only once applied: a statement that fails (e.g. E11000) matched nothing.
          n++;
        }
        if (matched === 0 && spec.upsert) {
          const target = this.catalog.getOrCreate(batch, db, name);
          const doc = target.prepareInsert(buildUpsert(q, spec.u, arrayFilters));
          target.insert(doc);
          batch.insert(target, doc);
          upserted.push({ index: i, _id: doc._id });
          n++;
        }
      } catch (e) {
        writeErrors.push(writeError(i, e));
        if (ordered) break;
      }
    }
    const reply: Doc = { n, nModified };
    if (upserted.length) reply.upserted = upserted;
    reply.ok = 1;
    return withWriteErrors(reply, writeErrors);
  }

  private *delete(cmd: Document, db: string, batch: WriteBatch): Sliced<Document> {
    const name = collectionName(cmd, 'delete');
    const deletes = cmd.deletes;
    if (!Array.isArray(deletes) || deletes.length === 0) throw badValue("'deletes' must be a non-empty array");
    const ordered = cmd.ordered !== false;
    const writeErrors: Doc[] = [];
    let n = 0;
    for (let i = 0; i < deletes.length; i++) {
      try {
        const spec = deletes[i] as Doc;
        if (!isPlainObject(spec)) throw badValue('each delete must be an object');
        if (spec.limit !== 0 && spec.limit !== 1 && spec.limit !== undefined) throw badValue('The limit field in delete objects must be 0 or 1');
        const coll = this.catalog.get(db, name);
        if (!coll) continue;
        for (const doc of coll.find(spec.q ?? {}, { limit: spec.limit === 1 ? 1 : 0 })) {
          if (doc === PAUSE) {
            yield PAUSE;
            this.stillLive(coll);
            continue;
          }
          coll.remove(doc);
          batch.remove(coll, doc._id);
          n++;
        }
      } catch (e) {
        writeErrors.push(writeError(i, e));
        if (ordered) break;
      }
    }
    return withWriteErrors({ n, ok: 1 }, writeErrors);
  }

  private find(cmd: Document, db: string): Sliced<Document> {
    const name = collectionName(cmd, 'find');
    for (const f of ['tailable', 'awaitData', 'min', 'max', 'returnKey', 'showRecordId', 'let']) {
      if (cmd[f] !== undefined && cmd[f] !== false) throw unsupported(`the find option '${f}'`);
    }
    const coll = this.catalog.get(db, name);
    const ns = `${db}.${name}`;
    const project = compileProjection(cmd.projection);
    const limit = cmd.limit === undefined ? 0 : Number(cmd.limit);
    if (!Number.isInteger(limit)) throw badValue('limit must be an integer');
    if (cmd.batchSize !== undefined && (!Number.isInteger(Number(cmd.batchSize)) || Number(cmd.batchSize) < 0)) throw badValue('batchSize must be a non-negative integer');
    if (!coll) parseSort(cmd.sort); // still report a malformed sort on a missing collection
    const results = coll ? coll.find(cmd.filter, { sort: cmd.sort, skip: cmd.skip, limit }) : compileAndEmpty(cmd.filter);
    const singleBatch = cmd.singleBatch === true || limit < 0;
    let batchSize = cmd.batchSize === undefined ? undefined : Number(cmd.batchSize);
    if (limit !== 0 && (batchSize === undefined || batchSize > Math.abs(limit))) batchSize = Math.abs(limit);
    return this.cursors.start(ns, results, project, batchSize, singleBatch);
  }

  private getMore(cmd: Document, db: string): Sliced<Document> {
    const id = cmd.getMore;
    const big = typeof id === 'number' ? BigInt(id) : id instanceof Long ? id.toBigInt() : null;
    if (big === null) throw new MongoServerError(Codes.TypeMismatch, "Field 'getMore' must be of type long");
    if (typeof cmd.collection !== 'string') throw new MongoServerError(Codes.TypeMismatch, "Field 'collection' must be of type string");
    return this.cursors.more(big, `${db}.${cmd.collection}`, cmd.batchSize === undefined ? undefined : Number(cmd.batchSize));
  }

  private killCursors(cmd: Document): Document {
    if (!Array.isArray(cmd.cursors)) throw badValue("'cursors' must be an array");
    const ids = (cmd.cursors as unknown[]).map((c) => (c instanceof Long ? c.toBigInt() : BigInt(Number(c))));
    const { killed, notFound } = this.cursors.kill(ids);
    return {
      cursorsKilled: killed.map((i) => Long.fromBigInt(i)),
      cursorsNotFound: notFound.map((i) => Long.fromBigInt(i)),
      cursorsAlive: [],
      cursorsUnknown: [],
      ok: 1,
    };
  }

  private *findAndModify(cmd: Document, db: string, batch: WriteBatch): Sliced<Document> {
    const name = String(cmd.findAndModify ?? cmd.findandmodify);
    validateNamespace(db, name);
    const remove = cmd.remove === true;
    if (remove && cmd.update !== undefined) throw new MongoServerError(Codes.FailedToParse, 'Cannot specify both an update and remove=true');
    if (!remove && cmd.update === undefined) throw new MongoServerError(Codes.FailedToParse, 'Either an update or remove=true must be specified');
    if (remove && cmd.upsert) throw new MongoServerError(Codes.FailedToParse, 'Cannot specify both upsert=true and remove=true');
    const project = compileProjection(cmd.fields);
    const out = (d: Doc | null): Doc | null => (d && project ? project(d) : d);
    const query = (cmd.query ?? {}) as Doc;
    const coll = this.catalog.get(db, name);
    // The match is changed in the step that found it: nothing can write it in between.
    const match = coll ? yield* first(coll.find(query, { sort: cmd.sort, limit: 1 })) : undefined;
    if (coll) this.stillLive(coll);
    if (remove) {
      if (!coll || !match) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
      coll.remove(match);
      batch.remove(coll, match._id);
      return { lastErrorObject: { n: 1 }, value: out(match), ok: 1 };
    }
    validateUpdate(cmd.update);
    const arrayFilters = cmd.arrayFilters as Doc[] | undefined;
    if (match && coll) {
      const next = applyUpdate(match, cmd.update, { filter: query, arrayFilters });
      if (!sameDocument(match, next)) {
        coll.replace(match, next);
        batch.replace(coll, next);
      }
      return { lastErrorObject: { n: 1, updatedExisting: true }, value: out(cmd.new ? next : match), ok: 1 };
    }
    if (cmd.upsert) {
      const target = this.catalog.getOrCreate(batch, db, name);
      const doc = target.prepareInsert(buildUpsert(query, cmd.update, arrayFilters));
      target.insert(doc);
      batch.insert(target, doc);
      return { lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id }, value: out(cmd.new ? doc : null), ok: 1 };
    }
    return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
  }

  private *count(cmd: Document, db: string): Sliced<Document> {
    const name = collectionName(cmd, 'count');
    const coll = this.catalog.get(db, name);
    const skip = Number(cmd.skip ?? 0);
    const limit = Math.abs(Number(cmd.limit ?? 0));
    if (!coll) {
      compileFilter(cmd.query);
      return { n: 0, ok: 1 };
    }
    return { n: yield* coll.count(cmd.query, skip, limit), ok: 1 };
  }

  private *distinct(cmd: Document, db: string): Sliced<Document> {
    const name = collectionName(cmd, 'distinct');
    if (typeof cmd.key !== 'string' || cmd.key === '') throw new MongoServerError(Codes.TypeMismatch, "Field 'key' must be a non-empty string");
    const coll = this.catalog.get(db, name);
    const values: unknown[] = [];
    if (coll) {
      for (const doc of coll.find(cmd.query)) {
        if (doc === PAUSE) {
          yield PAUSE;
          continue;
        }
        for (const v of getPathValues(doc, cmd.key)) {
          for (const x of Array.isArray(v) ? v : [v]) {
            if (x === undefined) continue;
            if (!values.some((y) => compareValues(x, y) === 0)) values.push(x);
          }
        }
      }
    }
    return { values: yield* sortInSlices(values, compareValues), ok: 1 };
  }

  private *aggregate(cmd: Document, db: string): Sliced<Document> {
    if (typeof cmd.aggregate !== 'string') throw unsupported('database-level aggregation (aggregate: 1)');
    const name = cmd.aggregate;
    validateNamespace(db, name);
    if (cmd.explain) throw unsupported('explain');
    if (cmd.let !== undefined) throw unsupported("the aggregate option 'let'");
    if (!isPlainObject(cmd.cursor)) throw new MongoServerError(Codes.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
    const pipeline = cmd.pipeline;
    if (!Array.isArray(pipeline)) throw new MongoServerError(Codes.TypeMismatch, "'pipeline' option must be specified as an array");
    for (const stage of pipeline) {
      if (!isPlainObject(stage) || Object.keys(stage).length !== 1) throw new MongoServerError(Codes.Location40324, 'A pipeline stage specification object must contain exactly one field.');
      const stageName = Object.keys(stage)[0];
      if (stageName in UNSUPPORTED_STAGES) throw unsupported(UNSUPPORTED_STAGES[stageName]);
    }
    rejectUnsupportedOperators(pipeline);
    const ns = `${db}.${name}`;
    const coll = this.catalog.get(db, name);
    const results = yield* this.runPipeline(coll, db, pipeline as Doc[]);
    return yield* this.cursors.start(ns, results, null, batchSizeOf(cmd.cursor), false);
  }

  private *runPipeline(coll: Collection | undefined, db: string, pipeline: Doc[]): Sliced<Scan<Doc>> {
    // A leading $match/$sort/$skip/$limit runs on the collection's planner (and its indexes).
    let i = 0;
    let filter: unknown = {};
    let sort: unknown;
    let skip = 0;
    let limit = 0;
    if (pipeline[i]?.$match !== undefined) filter = pipeline[i++].$match;
    if (pipeline[i]?.$sort !== undefined) sort = pipeline[i++].$sort;
    if (sort !== undefined && pipeline[i]?.$skip !== undefined) skip = Number(pipeline[i++].$skip);
    if (pipeline[i]?.$limit !== undefined) limit = Number(pipeline[i++].$limit);
    const rest = pipeline.slice(i);
    // countDocuments(): [{$match}, ({$skip}, {$limit},)? {$group: {_id: 1, n: {$sum: 1}}}]
    if (rest.length === 1 && isCountGroup(rest[0])) {
      const n = coll ? yield* coll.count(filter, skip, limit) : 0;
      return n > 0 ? [{ _id: (rest[0].$group as Doc)._id, [countField(rest[0])]: n }] : [];
    }
    // countDocuments() as $count: the same count, without materialising the matches.
    if (rest.length === 1 && isCountStage(rest[0])) {
      const n = coll ? yield* coll.count(filter, skip, limit) : (compileFilter(filter), 0);
      return n > 0 ? [{ [rest[0].$count as string]: n }] : [];
    }
    const source = coll ? coll.find(filter, { sort, skip, limit }) : compileAndEmpty(filter);
    if (rest.length === 0) return source;
    const options = {
      scriptEnabled: false,
      processingMode: ProcessingMode.CLONE_INPUT,
      collectionResolver: (other: string) => [...(this.catalog.get(db, other)?.docs.values() ?? [])],
    };
    // Stages that look at one document at a time run over the source in chunks, a slice each;
    // the rest (grouping, sorting, lookups) runs once over what they produced.
    let streaming = 0;
    while (streaming < rest.length && PER_DOCUMENT_STAGES.has(Object.keys(rest[streaming])[0])) streaming++;
    try {
      let docs: Doc[];
      if (streaming === 0) docs = yield* collect(source);
      else {
        docs = [];
        let chunk: Doc[] = [];
        for (const d of source) {
          if (d !== PAUSE) chunk.push(d);
          if (chunk.length < STREAM_CHUNK && d !== PAUSE) continue;
          if (chunk.length) for (const out of runStages(rest.slice(0, streaming), chunk, options)) docs.push(out);
          chunk = [];
          yield PAUSE;
        }
        for (const out of runStages(rest.slice(0, streaming), chunk, options)) docs.push(out);
      }
      return runStages(rest.slice(streaming), docs, options);
    } catch (e) {
      throw asBadValue(e);
    }
  }

  /**
   * Builds every requested index in slices while writes go on, then makes them visible together in
   * one step (all or none, as mongod): a duplicate key present at that moment fails the command.
   */
  private *createIndexes(cmd: Document, db: string, batch: WriteBatch): Sliced<Document> {
    const name = collectionName(cmd, 'createIndexes');
    if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0) throw badValue("'indexes' must be a non-empty array");
    const existed = this.catalog.get(db, name) !== undefined;
    const coll = this.catalog.getOrCreate(batch, db, name);
    const before = coll.indexes.size + 1;
    const wanted = new Map<string, IndexSpec>();
    for (const raw of cmd.indexes as Doc[]) {
      if (!isPlainObject(raw)) throw badValue('each index specification must be an object');
      const spec = validateIndexSpec(raw);
      if (spec.name === '_id_' || JSON.stringify(spec.key) === '{"_id":1}') continue;
      if (isExistingIndex(coll, spec, wanted)) continue;
      wanted.set(spec.name, spec);
    }
    const builds: IndexBuild[] = [];
    try {
      for (const spec of wanted.values()) {
        builds.push(yield* coll.buildIndex(spec as unknown as Doc));
        this.stillLive(coll);
      }
      // The commit step: nothing else runs until the indexes are visible and journaled.
      this.stillLive(coll);
      const fresh = builds.filter((b) => !isExistingIndex(coll, b.index.spec, new Map())); // built meanwhile by another command
      for (const b of builds) if (!fresh.includes(b)) b.abandon();
      for (const b of fresh) b.commit();
      for (const b of fresh) {
        b.install();
        batch.createIndex(coll, b.index.spec as unknown as Doc);
      }
    } finally {
      for (const b of builds) b.abandon();
    }
    const after = coll.indexes.size + 1;
    const reply: Doc = { numIndexesBefore: before, numIndexesAfter: after, createdCollectionAutomatically: !existed };
    if (before === after) reply.note = 'all indexes already exist';
    reply.ok = 1;
    return reply;
  }

  private listIndexes(cmd: Document, db: string): Document {
    const name = collectionName(cmd, 'listIndexes');
    const coll = this.catalog.get(db, name);
    if (!coll) throw new MongoServerError(Codes.NamespaceNotFound, `ns does not exist: ${db}.${name}`);
    return this.cursors.start(`${db}.${name}`, coll.listIndexSpecs() as unknown as Doc[], null, batchSizeOf(cmd.cursor), false);
  }

  private dropIndexes(cmd: Document, db: string, batch: WriteBatch): Document {
    const name = String(cmd.dropIndexes ?? cmd.deleteIndexes);
    const coll = this.catalog.get(db, name);
    if (!coll) throw new MongoServerError(Codes.NamespaceNotFound, `ns not found ${db}.${name}`);
    const was = coll.indexes.size + 1;
    const target = cmd.index;
    let names: string[];
    if (target === '*') names = [...coll.indexes.keys()];
    else if (typeof target === 'string') names = [target];
    else if (Array.isArray(target)) names = target.map(String);
    else if (isPlainObject(target)) {
      const ix = coll.findIndexByKey(target);
      if (!ix) throw new MongoServerError(Codes.IndexNotFound, `can't find index with key: ${JSON.stringify(target)}`);
      names = [ix.spec.name];
    } else throw badValue("'index' must be a name, a key pattern, an array of names or '*'");
    for (const n of names) {
      if (n === '_id_') throw new MongoServerError(72, 'cannot drop _id index');
      if (!coll.indexes.has(n)) throw new MongoServerError(Codes.IndexNotFound, `index not found with name [${n}]`);
    }
    for (const n of names) {
      coll.indexes.delete(n);
      batch.dropIndex(coll, n);
    }
    return { nIndexesWas: was, ok: 1 };
  }

  /** After a pause: the collection may have been dropped (or dropped and created again) meanwhile. */
  private stillLive(coll: Collection): void {
    if (this.catalog.get(coll.db, coll.name) !== coll) {
      throw new MongoServerError(Codes.QueryPlanKilled, `collection ${coll.ns} was dropped during the operation`);
    }
  }

  private dbStats(db: string): Document {
    const colls = this.catalog.collections(db);
    return { db, collections: colls.length, objects: colls.reduce((n, c) => n + c.docs.size, 0), indexes: colls.reduce((n, c) => n + c.indexes.size + 1, 0), ok: 1 };
  }
}

/** Pipeline stages whose output for a document depends on that document alone. */
const PER_DOCUMENT_STAGES = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$unwind', '$replaceRoot', '$replaceWith']);
const STREAM_CHUNK = 500;

type AggregatorOptions = ConstructorParameters<typeof Aggregator>[1];

function runStages(stages: Doc[], input: Doc[], options: AggregatorOptions): Doc[] {
  if (stages.length === 0) return input;
  // mingo's $project puts _id last; MongoDB puts it first. Run up to each $project, then fix.
  let docs = input;
  let segment: Doc[] = [];
  for (const stage of stages) {
    segment.push(stage);
    if (stage.$project === undefined) continue;
    docs = (new Aggregator(segment, options).run(docs) as Doc[]).map(idFirst);
    segment = [];
  }
  return segment.length ? (new Aggregator(segment, options).run(docs) as Doc[]) : docs;
}

function isSliced(v: Document | Sliced<Document>): v is Sliced<Document> {
  return Object.prototype.toString.call(v) === '[object Generator]';
}

/** True if `coll` has this index already (or it is requested twice); throws if a different one has its name or key. */
function isExistingIndex(coll: Collection, spec: IndexSpec, requested: Map<string, IndexSpec>): boolean {
  const sameName = coll.indexes.get(spec.name)?.spec ?? requested.get(spec.name);
  if (sameName) {
    if (JSON.stringify(sameName) === JSON.stringify(spec)) return true;
    throw new MongoServerError(Codes.IndexKeySpecsConflict, `An existing index has the same name as the requested index but different options or key. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName)}`);
  }
  const want = JSON.stringify(spec.key);
  const sameKey = coll.findIndexByKey(spec.key)?.spec ?? [...requested.values()].find((r) => JSON.stringify(r.key) === want);
  if (sameKey) throw new MongoServerError(Codes.IndexOptionsConflict, `Index already exists with a different name: ${sameKey.name}`);
  return false;
}

function isCountStage(stage: Doc): boolean {
  const f = stage.$count;
  return typeof f === 'string' && f !== '' && !f.startsWith('$') && !f.includes('.') && !f.includes('\0');
}

function idFirst(d: Doc): Doc {
  if (d._id === undefined || Object.keys(d)[0] === '_id') return d;
  const { _id, ...rest } = d;
  return { _id, ...rest };
}

function noTransactions(): MongoServerError {
  return new MongoServerError(Codes.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos (transactions are not supported by the embedded store)');
}

function collectionName(cmd: Document, field: string): string {
  const name = cmd[field];
  if (typeof name !== 'string') throw new MongoServerError(Codes.InvalidNamespace, `collection name has invalid type ${typeof name}`);
  validateNamespace(typeof cmd.$db === 'string' ? cmd.$db : 'admin', name);
  return name;
}

function batchSizeOf(cursor: unknown): number | undefined {
  if (!isPlainObject(cursor) || cursor.batchSize === undefined) return undefined;
  const n = Number(cursor.batchSize);
  if (!Number.isInteger(n) || n < 0) throw badValue('batchSize must be a non-negative integer');
  return n;
}

function compileAndEmpty(filter: unknown): Doc[] {
  compileFilter(filter); // still report a malformed filter on a missing collection
  return [];
}

function isCountGroup(stage: Doc): boolean {
  const g = stage.$group;
  if (!isPlainObject(g) || Object.keys(g).length !== 2) return false;
  const field = countField(stage);
  const acc = g[field];
  return (g._id === 1 || g._id === null) && isPlainObject(acc) && Object.keys(acc).length === 1 && acc.$sum === 1;
}

function countField(stage: Doc): string {
  return Object.keys(stage.$group as Doc).find((k) => k !== '_id') ?? 'n';
}

function writeError(index: number, e: unknown): Doc {
  const err = e instanceof MongoServerError ? e : asBadValue(e);
  return { index, code: err.code, errmsg: err.message, ...err.extra };
}

function withWriteErrors(reply: Doc, writeErrors: Doc[]): Doc {
  if (writeErrors.length) reply.writeErrors = writeErrors;
  return reply;
}

export function toErrorReply(e: unknown): Document {
  if (e instanceof MongoServerError) return e.toReply();
  // Anything else is a bug in the store; report it as an ordinary error (never a retryable code).
  const message = e instanceof Error ? e.message : String(e);
  return { ok: 0, errmsg: `internal error in embedded store: ${message}`, code: 1, codeName: 'InternalError' };
}
