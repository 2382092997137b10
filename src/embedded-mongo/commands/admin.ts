/** Handshake, diagnostics and the catalog: hello, ping, buildInfo, serverStatus, list*, create, drop…, dbStats, collStats, validate. */
import { Long, UUID, type Document } from 'bson';
import { Codes, MongoServerError, unsupported } from '../errors';
import type { WriteBatch } from '../engine/catalog';
import { bsonSize, Collection, validateDocument } from '../engine/collection';
import { compileFilter } from '../engine/query';
import { blobCacheStats, largeDocBytes } from '../engine/large-docs';
import { isPlainObject, type Doc } from '../engine/values';
import { PAUSE, withPauses, type Sliced } from '../engine/slices';
import {
  GENERIC_FIELDS,
  batchSizeOf,
  collectionName,
  noTransactions,
  stillLive,
  type CommandContext,
  type Handler,
  type Handlers,
  type Store,
} from './shared';

export const WIRE_VERSION = 21;
export const SERVER_VERSION = '7.0.0';

export function hello(ctx: CommandContext): Document {
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

function buildInfo(): Document {
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

function serverStatus(store: Store): Document {
  return {
    host: 'embedded',
    version: SERVER_VERSION,
    process: 'eqi-embedded-mongo',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor((Date.now() - store.startedAt) / 1000),
    localTime: new Date(),
    connections: {
      current: store.stats.connections(),
      totalCreated: store.stats.totalConnections(),
    },
    metrics: { cursor: { open: { total: store.cursors.size } } },
    embeddedStorage: documentMemory(store),
    ok: 1,
  };
}

/**
 * Where the documents' bytes are: RAM slabs, or the data files (large documents of a file-backed
 * store, engine/large-docs.ts), and the read cache of the latter.
 */
function documentMemory(store: Store): Document {
  let ramDocBytes = 0;
  let diskDocBytes = 0;
  let diskDocs = 0;
  for (const db of store.catalog.databaseNames())
    for (const c of store.catalog.collections(db)) {
      ramDocBytes += c.docs.ramBytes;
      diskDocBytes += c.docs.diskBytes;
      diskDocs += c.docs.diskDocs;
    }
  const cache = blobCacheStats();
  return {
    ramDocBytes,
    diskDocBytes,
    diskDocs,
    largeDocBytes: largeDocBytes(),
    diskReadCacheBytes: cache.bytes,
    diskReads: cache.reads,
    diskReadCacheHits: cache.hits,
  };
}

function listDatabases(store: Store, cmd: Document): Document {
  let databases = store.catalog.databaseNames().map((name) => ({
    name,
    sizeOnDisk: store.catalog.collections(name).reduce((n, c) => n + c.docs.size, 0) * 256,
    empty: store.catalog.collections(name).every((c) => c.docs.size === 0),
  }));
  if (cmd.filter) {
    const m = compileFilter(cmd.filter);
    databases = databases.filter((d) => m(d));
  }
  if (cmd.nameOnly) return { databases: databases.map((d) => ({ name: d.name })), ok: 1 };
  const totalSize = databases.reduce((n, d) => n + d.sizeOnDisk, 0);
  return { databases, totalSize, totalSizeMb: Math.round(totalSize / 1048576), ok: 1 };
}

function listCollections(store: Store, cmd: Document, db: string): Sliced<Document> {
  let infos: Doc[] = store.catalog.collections(db).map((c) => ({
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
  return store.cursors.start(
    `${db}.$cmd.listCollections`,
    infos,
    null,
    batchSizeOf(cmd.cursor),
    false,
  );
}

function create(store: Store, cmd: Document, db: string, batch: WriteBatch): Document {
  const name = collectionName(cmd, 'create');
  const opts: Doc = {};
  for (const [k, v] of Object.entries(cmd)) {
    if (k === 'create' || GENERIC_FIELDS.has(k)) continue;
    if (k === 'collation' && isPlainObject(v) && v.locale === 'simple') continue;
    throw unsupported(`the collection option '${k}'`);
  }
  store.catalog.createCollection(batch, db, name, opts);
  return { ok: 1 };
}

function drop(store: Store, cmd: Document, db: string, batch: WriteBatch): Document {
  const name = collectionName(cmd, 'drop');
  const coll = store.catalog.dropCollection(batch, db, name);
  // Since 7.0 dropping a missing collection succeeds.
  if (!coll) return { ok: 1 };
  return { nIndexesWas: coll.indexes.size + 1, ns: coll.ns, ok: 1 };
}

/** renameCollection: {renameCollection: 'db.from', to: 'db.to', dropTarget?}, run against admin. */
function renameCollection(store: Store, cmd: Document, db: string, batch: WriteBatch): Document {
  if (db !== 'admin')
    throw new MongoServerError(
      Codes.Unauthorized,
      'renameCollection may only be run against the admin database.',
    );
  const from = cmd.renameCollection;
  const to = cmd.to;
  if (typeof from !== 'string' || !from.includes('.'))
    throw new MongoServerError(Codes.InvalidNamespace, `Invalid source namespace: ${String(from)}`);
  if (typeof to !== 'string' || !to.includes('.'))
    throw new MongoServerError(Codes.InvalidNamespace, `Invalid target namespace: ${String(to)}`);
  store.catalog.renameCollection(batch, from, to, cmd.dropTarget === true);
  return { ok: 1 };
}

/**
 * Document sizes are the BSON sizes of the documents held (what mongod calls dataSize; nothing is
 * compressed, so storageSize is the same). Index sizes are estimates: the store keeps no index
 * pages to measure, so each entry counts a fixed 28 bytes plus 8 per key field.
 */
const INDEX_ENTRY_BYTES = 28;

interface Sizes {
  count: number;
  dataSize: number;
  indexSizes: Doc;
  totalIndexSize: number;
}

function* sizesOf(coll: Collection): Sliced<Sizes> {
  let dataSize = 0;
  for (const d of withPauses(coll.docs.values())) {
    if (d === PAUSE) yield PAUSE;
    else dataSize += bsonSize(d);
  }
  const indexSizes: Doc = { _id_: coll.docs.size * INDEX_ENTRY_BYTES };
  for (const [name, ix] of coll.indexes)
    indexSizes[name] = ix.size * (INDEX_ENTRY_BYTES + 8 * ix.fields.length);
  const totalIndexSize = Object.values(indexSizes).reduce((n: number, v) => n + (v as number), 0);
  return { count: coll.docs.size, dataSize, indexSizes, totalIndexSize };
}

function* dbStats(store: Store, cmd: Document, db: string): Sliced<Document> {
  const colls = store.catalog.collections(db);
  const scale = scaleOf(cmd);
  let objects = 0;
  let dataSize = 0;
  let indexSize = 0;
  for (const c of colls) {
    const s = yield* sizesOf(c);
    objects += s.count;
    dataSize += s.dataSize;
    indexSize += s.totalIndexSize;
  }
  return {
    db,
    collections: colls.length,
    views: 0,
    objects,
    avgObjSize: objects ? dataSize / objects : 0,
    dataSize: dataSize / scale,
    storageSize: dataSize / scale,
    indexes: colls.reduce((n, c) => n + c.indexes.size + 1, 0),
    indexSize: indexSize / scale,
    totalSize: (dataSize + indexSize) / scale,
    scaleFactor: scale,
    ok: 1,
  };
}

/** collStats' fields for one collection (also $collStats' storageStats). */
export function* storageStats(coll: Collection, scale: number): Sliced<Doc> {
  const s = yield* sizesOf(coll);
  const indexSizes = Object.fromEntries(
    Object.entries(s.indexSizes).map(([k, v]) => [k, (v as number) / scale]),
  );
  return {
    ns: coll.ns,
    count: s.count,
    size: s.dataSize / scale,
    avgObjSize: s.count ? s.dataSize / s.count : 0,
    storageSize: s.dataSize / scale,
    nindexes: coll.indexes.size + 1,
    indexSizes,
    totalIndexSize: s.totalIndexSize / scale,
    totalSize: (s.dataSize + s.totalIndexSize) / scale,
    scaleFactor: scale,
  };
}

function* collStats(store: Store, cmd: Document, db: string): Sliced<Document> {
  const name = collectionName(cmd, 'collStats');
  const coll = store.catalog.get(db, name);
  if (!coll)
    throw new MongoServerError(Codes.NamespaceNotFound, `Collection [${db}.${name}] not found.`);
  return { ...(yield* storageStats(coll, scaleOf(cmd))), ok: 1 };
}

/**
 * validate: checks every document (BSON size, _id, field names) and every index against the
 * documents (each holds exactly the keys the documents give it, in order). A failure is reported
 * in errors[] with valid: false, as mongod reports corruption, never as a command error.
 */
function* validate(store: Store, cmd: Document, db: string): Sliced<Document> {
  const name = collectionName(cmd, 'validate');
  const coll = store.catalog.get(db, name);
  if (!coll)
    throw new MongoServerError(
      Codes.NamespaceNotFound,
      `Collection '${db}.${name}' does not exist to validate.`,
    );
  for (const k of ['repair', 'metadata', 'checkBSONConformance'])
    if (cmd[k] === true) throw unsupported(`the validate option '${k}'`);
  const errors: string[] = [];
  const expected = new Map<string, number>([...coll.indexes.keys()].map((n) => [n, 0]));
  let nrecords = 0;
  let nInvalidDocuments = 0;
  for (const entry of withPauses(coll.docs.entries())) {
    if (entry === PAUSE) {
      yield PAUSE;
      stillLive(store, coll);
      continue;
    }
    const [, doc] = entry;
    nrecords++;
    try {
      validateDocument(doc);
    } catch (e) {
      nInvalidDocuments++;
      if (errors.length < 20)
        errors.push(`Document with _id ${String(doc._id)} is invalid: ${(e as Error).message}`);
    }
    for (const [ixName, ix] of coll.indexes)
      expected.set(ixName, expected.get(ixName)! + ix.keysFor(doc).length);
  }
  const keysPerIndex: Doc = { _id_: coll.docs.size };
  const indexDetails: Doc = { _id_: { valid: true } };
  for (const [ixName, ix] of coll.indexes) {
    keysPerIndex[ixName] = ix.size;
    const ok = ix.size === expected.get(ixName);
    indexDetails[ixName] = { valid: ok };
    if (!ok)
      errors.push(
        `index ${ixName} has ${ix.size} keys but the documents give ${expected.get(ixName)}`,
      );
  }
  if (nrecords !== coll.docs.size)
    errors.push(`${coll.docs.size} records counted but ${nrecords} read`);
  return {
    ns: coll.ns,
    uuid: new UUID(coll.uuid),
    nInvalidDocuments,
    nNonCompliantDocuments: nInvalidDocuments,
    nrecords,
    nIndexes: coll.indexes.size + 1,
    keysPerIndex,
    indexDetails,
    valid: errors.length === 0,
    repaired: false,
    warnings: [],
    errors,
    extraIndexEntries: [],
    missingIndexEntries: [],
    corruptRecords: [],
    ok: 1,
  };
}

export function scaleOf(cmd: Document): number {
  if (cmd.scale === undefined) return 1;
  const n = Number(cmd.scale);
  if (!Number.isInteger(n) || n < 1)
    throw new MongoServerError(Codes.BadValue, 'Scale factor must be a positive integer');
  return n;
}

const helloHandler: Handler = (_s, _c, _db, _b, ctx) => hello(ctx);
const ok = (): Document => ({ ok: 1 });

export const adminCommands: Handlers = {
  hello: helloHandler,
  ismaster: helloHandler,
  isMaster: helloHandler,
  ping: ok,
  buildInfo,
  buildinfo: buildInfo,
  endSessions: ok,
  killAllSessions: ok,
  connectionStatus: () => ({
    authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] },
    ok: 1,
  }),
  serverStatus,
  whatsmyuri: () => ({ you: 'embedded', ok: 1 }),
  getParameter: () => ({ featureCompatibilityVersion: { version: '7.0' }, ok: 1 }),
  listDatabases,
  listCollections,
  create,
  drop,
  dropDatabase: (s, _c, db, b) => (s.catalog.dropDatabase(b, db), { dropped: db, ok: 1 }),
  dbStats,
  collStats,
  validate,
  renameCollection,
  commitTransaction: () => {
    throw noTransactions();
  },
  abortTransaction: () => {
    throw noTransactions();
  },
};
