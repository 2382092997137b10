import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EJSON, type Document } from 'bson';
import { MongoClient, MongoServerError, type Db } from 'mongodb';
import { uniqueDb, useClient, useStore } from './helpers';

/**
 * The OpenDocDB Compatibility Test Suite (vendored unmodified in fixtures/opendocdb-cts, see its
 * README), run the way its `opendocdb-cts` Go tool runs it: per suite a fresh database holding
 * every `*.fixture.json` (one collection each, documents shuffled), then each case's request in
 * case-name order, its reply compared with the recorded mongod reply after sorting every
 * document's fields by name (the only difference the tool ignores; arrays keep their order and
 * every value keeps its BSON type).
 */
const CTS_DIR = path.join(__dirname, 'fixtures', 'opendocdb-cts');

/**
 * Cases the store refuses by name ("... is not supported by the embedded store ...") instead of
 * answering. Only these may refuse; every other case must match mongod's reply exactly, and a
 * listed case that stops being refused fails so the entry is removed.
 */
const REFUSED: Record<string, string> = {
  // $currentOp lists mongod's own operations and threads; the store has none to report.
  'aggregation/stages/currentOp/simple': 'database-level aggregation ($currentOp) not supported',
  // Text search: text indexes, $text and $meta scores are not implemented.
  'projection/meta/1-createIndex': 'text indexes not supported',
  'projection/meta/2-textScore': '$meta (text search score) not supported',
  // JSON Schema validation is not implemented.
  'query/evaluation/jsonSchema/double': '$jsonSchema not supported',
  // Server-side JavaScript is never run by the store.
  'query/evaluation/where/number': '$where (server-side JavaScript) not supported',
  // Geospatial indexes and operators are not implemented.
  'query/geospatial/box/simple': 'geospatial ($geoWithin $box) not supported',
  'query/geospatial/center/simple': 'geospatial ($geoWithin $center) not supported',
  'query/geospatial/geoIntersects/simple': 'geospatial ($geoIntersects) not supported',
  'query/geospatial/geoWithin/simple': 'geospatial ($geoWithin) not supported',
  'query/geospatial/near/1-create-index': 'geospatial (2dsphere index) not supported',
  'query/geospatial/near/2-simple': 'geospatial ($near) not supported',
  'query/geospatial/nearSphere/1-create-index': 'geospatial (2dsphere index) not supported',
  'query/geospatial/nearSphere/2-simple': 'geospatial ($nearSphere) not supported',
  'query/geospatial/polygon/simple': 'geospatial ($geoWithin $polygon) not supported',
};

const REFUSAL = /is not supported by the embedded store/;

interface TestCase {
  request: Document;
  response: Document;
}

const parseCanonical = (text: string): unknown => EJSON.parse(text, { relaxed: false });

function loadFixtures(): Record<string, Document[]> {
  const out: Record<string, Document[]> = {};
  for (const f of fs.readdirSync(CTS_DIR).sort()) {
    if (!f.endsWith('.fixture.json')) continue;
    const text = fs.readFileSync(path.join(CTS_DIR, f), 'utf8');
    out[f.slice(0, -'.fixture.json'.length)] = parseCanonical(text) as Document[];
  }
  return out;
}

/** Suite names as the tool gives them: the path under cts/ without `.json`. */
function suiteNames(dir = CTS_DIR, prefix = ''): string[] {
  const names: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) names.push(...suiteNames(path.join(dir, e.name), rel));
    else if (e.name.endsWith('.json') && !e.name.endsWith('.fixture.json'))
      names.push(rel.slice(0, -'.json'.length));
  }
  return names.sort();
}

/** The suite file with the tool's one template variable substituted. */
function loadSuite(name: string, database: string): Record<string, TestCase> {
  const text = fs
    .readFileSync(path.join(CTS_DIR, `${name}.json`), 'utf8')
    .replaceAll('{{.Database}}', database);
  return parseCanonical(text) as Record<string, TestCase>;
}

/** Canonical Extended JSON with every document's fields sorted, as the tool's prepareDocument does. */
function normalized(doc: Document): string {
  const sortFields = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortFields);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, sortFields(o[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sortFields(EJSON.serialize(doc, { relaxed: false })), null, 2);
}

/**
 * The tool shuffles fixture documents so no case relies on insertion order; a seeded shuffle
 * keeps that property while making a failure reproducible.
 */
function shuffled<T>(items: T[], seedText: string): T[] {
  let seed = 0;
  for (const ch of seedText) seed = (Math.imul(seed, 31) + ch.charCodeAt(0)) | 0;
  const next = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Raw reply values keep their BSON types (Int32, Double, Long, BSONRegExp) for the comparison. */
const RAW_VALUES = { promoteValues: false, promoteLongs: false, bsonRegExp: true } as const;

/**
 * Sends a request as the tool does, to the database its `$db` names (the suite's, or admin),
 * and returns the reply document, error replies included.
 */
async function send(client: MongoClient, request: Document): Promise<Document> {
  const { $db: database, ...command } = request;
  try {
    return await client.db(String(database)).command(command, RAW_VALUES);
  } catch (e) {
    if (e instanceof MongoServerError && e.errorResponse) return e.errorResponse as Document;
    throw e;
  }
}

describe('embedded mongo: OpenDocDB compatibility test suite', () => {
  const store = useStore();
  const h = useClient(store);
  const fixtures = loadFixtures();

  it('when the refusal list is read, then every entry names a CTS case', () => {
    const ids = suiteNames().flatMap((suite) =>
      Object.keys(loadSuite(suite, 'db')).map((name) => `${suite}/${name}`),
    );
    assert.deepEqual(
      Object.keys(REFUSED).filter((id) => !ids.includes(id)),
      [],
    );
  });

  for (const suite of suiteNames()) {
    describe(suite, () => {
      const database = uniqueDb('cts');
      const cases = loadSuite(suite, database);
      let db: Db;
      before(async () => {
        db = h.client.db(database);
        await db.command({ dropDatabase: 1 });
        for (const [name, docs] of Object.entries(fixtures)) {
          const r = await db.command({ insert: name, documents: shuffled(docs, suite + name) });
          assert.equal(r.ok, 1, `${name} fixture insert failed`);
          assert.equal(r.n, docs.length, `${name} fixture insert: ${JSON.stringify(r)}`);
        }
      });

      for (const name of Object.keys(cases).sort()) {
        const id = `${suite}/${name}`;
        const then = REFUSED[id] ? 'it is refused by name' : "the reply is mongod's";
        it(`when ${id} is sent, then ${then}`, async () => {
          const { request, response } = cases[name];
          const reply = await send(h.client, request);
          const refused =
            reply.ok !== undefined && Number(reply.ok) === 0 && REFUSAL.test(String(reply.errmsg));
          if (REFUSED[id]) {
            assert.ok(
              refused,
              `${id} is on the refusal list (${REFUSED[id]}) but was answered: ${normalized(reply)}`,
            );
            return;
          }
          assert.equal(
            normalized(reply),
            normalized(response),
            `${id}: reply differs from mongod's`,
          );
        });
      }
    });
  }
});
