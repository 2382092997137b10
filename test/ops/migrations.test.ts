/**
 * Migrations (src/migrations): ordered, recorded, idempotent steps that build the declared
 * indexes, safe with several runners at once; a production start refuses a database that lacks
 * an invariant index.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { createDevP12, exportSigningKeyPem, generateSigningKey } from '../../certificates';
import { loadConfig } from '../../src/config';
import { connectDatabase, disconnectDatabase } from '../../src/db';
import { startEmbeddedMongo } from '../../src/embedded-mongo';
import { silentLogger } from '../../src/logger';
import {
  declaredIndexes,
  migrate,
  migrationSteps,
  MIGRATIONS_COLLECTION,
  missingInvariantIndexes,
  MissingIndexError,
  runMigrations,
  type Migration,
} from '../../src/migrations';
import { startServer } from '../../src/server';

type Store = Awaited<ReturnType<typeof startEmbeddedMongo>>;

/** Every model initialised, then every index but _id dropped: a database as migrations find it. */
async function dropAllIndexes(db: mongoose.mongo.Db): Promise<void> {
  await Promise.all(mongoose.modelNames().map((n) => mongoose.model(n).init()));
  for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) {
    await db.collection(c.name).dropIndexes();
  }
}

async function indexNames(db: mongoose.mongo.Db): Promise<string[]> {
  const names: string[] = [];
  for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) {
    for (const ix of await db.collection(c.name).listIndexes().toArray())
      names.push(`${c.name}.${ix.name}`);
  }
  return names.sort();
}

describe('migrations', () => {
  let store: Store;
  let dbName: string;
  const db = () => mongoose.connection.db!;

  before(async function () {
    this.timeout(60_000);
    store = await startEmbeddedMongo({ inMemory: true });
  });
  after(async function () {
    this.timeout(60_000);
    await store?.close();
  });
  beforeEach(async function () {
    this.timeout(30_000);
    dbName = `mig_${randomBytes(4).toString('hex')}`;
    await connectDatabase(store.uri, silentLogger(), { dbName, autoIndex: false });
    await dropAllIndexes(db());
  });
  afterEach(async function () {
    this.timeout(30_000);
    if (mongoose.connection.readyState === mongoose.ConnectionStates.connected)
      await mongoose.connection.dropDatabase();
    await disconnectDatabase();
  });

  it('when the migrations run on a database without indexes, then every declared index exists and each step is recorded', async () => {
    assert.ok(
      (await missingInvariantIndexes(db())).length > 5,
      'the dropped database lacks the invariant indexes',
    );
    const { applied } = await migrate(silentLogger());
    assert.deepEqual(
      applied,
      migrationSteps().map((s) => s.id),
    );
    assert.deepEqual(await missingInvariantIndexes(db()), []);
    // Not only the unique ones: every declared index, each by its key.
    for (const want of declaredIndexes()) {
      const have = await db().collection(want.collection).listIndexes().toArray();
      assert.ok(
        have.some(
          (h) => JSON.stringify(Object.entries(h.key)) === JSON.stringify(Object.entries(want.key)),
        ),
        `${want.collection} ${JSON.stringify(want.key)} was built`,
      );
    }
    const records = await db().collection(MIGRATIONS_COLLECTION).find().toArray();
    assert.deepEqual(
      records.map((r) => r._id),
      applied,
    );
    for (const r of records) assert.ok(r.appliedAt instanceof Date && typeof r.ms === 'number');
  });

  it('when the migrations run a second time, then nothing is applied and the indexes and records are unchanged', async () => {
    await migrate(silentLogger());
    const indexesBefore = await indexNames(db());
    const recordsBefore = await db().collection(MIGRATIONS_COLLECTION).find().toArray();
    const second = await migrate(silentLogger());
    assert.deepEqual(second.applied, []);
    assert.deepEqual(
      second.skipped,
      migrationSteps().map((s) => s.id),
    );
    assert.deepEqual(await indexNames(db()), indexesBefore);
    assert.deepEqual(await db().collection(MIGRATIONS_COLLECTION).find().toArray(), recordsBefore);
  });

  it('when steps are pending, then they run in order and a failed step is not recorded and runs again next time', async () => {
    const ran: string[] = [];
    let failOnce = true;
    const steps: Migration[] = [
      { id: '0001-a', description: 'a', up: async () => void ran.push('a') },
      {
        id: '0002-b',
        description: 'b',
        up: async () => {
          ran.push('b');
          if (failOnce) {
            failOnce = false;
            throw new Error('b failed');
          }
        },
      },
      { id: '0003-c', description: 'c', up: async () => void ran.push('c') },
    ];
    await assert.rejects(runMigrations(db(), steps, { logger: silentLogger() }), /b failed/);
    assert.deepEqual(
      (await db().collection(MIGRATIONS_COLLECTION).find().toArray()).map((r) => r._id),
      ['0001-a'],
    );
    const again = await runMigrations(db(), steps, { logger: silentLogger() });
    assert.deepEqual(again.applied, ['0002-b', '0003-c']);
    assert.deepEqual(ran, ['a', 'b', 'b', 'c']);
  });

  it('when several instances migrate at once, then each step runs exactly once', async () => {
    let runs = 0;
    const steps: Migration[] = [
      {
        id: '0001-slow',
        description: 'slow',
        up: async () => {
          runs += 1;
          await new Promise((r) => setTimeout(r, 300));
        },
      },
    ];
    const results = await Promise.all(
      [1, 2, 3].map(() => runMigrations(db(), steps, { logger: silentLogger() })),
    );
    assert.equal(runs, 1);
    assert.equal(results.flatMap((r) => r.applied).length, 1);
    assert.equal(results.flatMap((r) => r.skipped).length, 2);
  });

  it('when an invariant index was dropped after its step was recorded, then migrate builds it again', async () => {
    await migrate(silentLogger());
    await db().collection('pledges').dropIndex('openUscc_1');
    assert.equal((await missingInvariantIndexes(db())).length, 1);
    await migrate(silentLogger());
    assert.deepEqual(await missingInvariantIndexes(db()), []);
  });

  describe('production start', () => {
    let dir: string;
    let prodEnv: Record<string, string>;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-mig-'));
      const keyFile = path.join(dir, 'key.pem');
      fs.writeFileSync(keyFile, exportSigningKeyPem(generateSigningKey()));
      const p12 = createDevP12({ commonName: 'migrations test', passphrase: 'pw' });
      const p12File = path.join(dir, 'sign.p12');
      fs.writeFileSync(p12File, Buffer.from(p12.p12));
      prodEnv = {
        NODE_ENV: 'production',
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATA_DIR: dir,
        PUBLIC_URL: 'https://registry.example.org',
        JWT_SECRET: 'p'.repeat(40),
        SIGNING_KEY: keyFile,
        SIGNING_P12: p12File,
        SIGNING_P12_PASSWORD: p12.passphrase,
        SMTP_URL: 'smtp://127.0.0.1:9',
        ASSOCIATION_NAME_ZH: '示例质量协会',
        ASSOCIATION_NAME_EN: 'Example Quality Association',
      };
    });

    /** The database of the current test, reached the way a production server would. */
    async function productionStart(extra: Record<string, string>) {
      await disconnectDatabase();
      const config = loadConfig({
        ...prodEnv,
        MONGODB_URI: `${store.uri.replace(/\/?(\?.*)?$/, '')}/${dbName}`,
        ...extra,
      });
      return startServer(config, { logger: silentLogger(), shutdownGraceMs: 100 });
    }

    it('when an invariant index is missing and MIGRATE_ON_START=false, then a production start is refused naming the index', async function () {
      this.timeout(30_000);
      await migrate(silentLogger());
      await db().collection('pledges').dropIndex('openUscc_1');
      await assert.rejects(productionStart({ MIGRATE_ON_START: 'false' }), (err: unknown) => {
        assert.ok(err instanceof MissingIndexError, String(err));
        assert.match(err.message, /pledges \{"openUscc":1\} \(unique, sparse\)/);
        assert.match(err.message, /npm run migrate/);
        return true;
      });
      await connectDatabase(store.uri, silentLogger(), { dbName, autoIndex: false });
    });

    it('when production starts on a database without indexes, then the migrations build them before it serves', async function () {
      this.timeout(30_000);
      const running = await productionStart({});
      try {
        assert.deepEqual(await missingInvariantIndexes(db()), []);
        const ready = await fetch(`${running.url}/readyz`);
        assert.equal(ready.status, 200);
      } finally {
        await running.close();
      }
      await connectDatabase(store.uri, silentLogger(), { dbName, autoIndex: false });
    });
  });
});
