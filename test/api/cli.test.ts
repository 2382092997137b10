/**
 * The administration CLI (scripts/cli.ts) run as a child process, the way an operator runs it,
 * against a standalone embedded store chosen through MONGODB_URI. The test reads the store
 * through the app's own models and sign-in function.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { Account } from '../../models/account';
import { Event } from '../../models/event';
import { sealPendingEvents } from '../../src/audit/chain';
import { verifySession } from '../../src/auth/jwt';
import { verifyPassword } from '../../src/auth/passwords';
import { adminLogin } from '../../src/auth/service';
import { connectDatabase, disconnectDatabase } from '../../src/db';
import { spawnEmbeddedMongo, type SpawnedMongo } from '../../src/embedded-mongo/spawn';
import { silentLogger } from '../../src/logger';
import { runScript, type ScriptRun } from '../helpers/run-script';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

describe('administration CLI (scripts/cli.ts)', function () {
  this.timeout(90_000);
  let store: SpawnedMongo;
  let uri: string;
  let dataDir: string;

  /** Runs `node --require tsx/cjs scripts/cli.ts ...args` with `stdin` piped in. */
  function cli(args: string[], stdin = ''): Promise<ScriptRun> {
    return runScript('scripts/cli.ts', args, {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        MONGODB_URI: uri,
        DATA_DIR: dataDir,
      },
      stdin,
      timeoutMs: 60_000,
    });
  }

  const admins = (email: string) => Account.find({ email, role: 'admin' }).lean();
  const eventsAbout = (email: string) =>
    Event.find({ 'subject.type': 'account', 'subject.id': email }).sort({ at: 1, _id: 1 }).lean();

  before(async function () {
    this.timeout(90_000);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-cli-'));
    store = await spawnEmbeddedMongo({ memory: true });
    const dbName = `cli_${process.pid}_${randomBytes(4).toString('hex')}`;
    uri = `${store.uri}/${dbName}`;
    // The test reads what the CLI wrote through the app's models, on the same database.
    await connectDatabase(uri, silentLogger());
  });

  after(async function () {
    this.timeout(30_000);
    if (mongoose.connection.readyState === mongoose.ConnectionStates.connected)
      await mongoose.connection.dropDatabase();
    await disconnectDatabase();
    await store?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('when admin:create gets an e-mail and a long password on stdin, then it exits 0 and that admin can sign in', async () => {
    const password = 'the quality association 质量协会';
    const res = await cli(['admin:create', '--email', 'Ops@CAQ.test'], `${password}\n`);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /ops@caq\.test/);

    const [account, ...more] = await admins('ops@caq.test');
    assert.ok(account, 'the admin account was created');
    assert.equal(more.length, 0);
    assert.notEqual(account.disabled, true);
    assert.equal(await verifyPassword(password, account.passwordHash), true);
    assert.equal(await verifyPassword(`${password}\n`, account.passwordHash), false);
    assert.equal(await verifyPassword('the quality association', account.passwordHash), false);
    // The same function the login route uses.
    const token = await adminLogin('ops@caq.test', password, SECRET);
    const { sub, role } = verifySession(token, SECRET);
    assert.deepEqual({ sub, role }, { sub: String(account._id), role: 'admin' });
    await assert.rejects(adminLogin('ops@caq.test', 'a wrong password here', SECRET), {
      status: 401,
    });

    // Signing in may be audited too; what the CLI did is recorded under the actor 'cli'.
    const byCli = (await eventsAbout('ops@caq.test')).filter((e) => e.actor === 'cli');
    assert.equal(byCli.length, 1);
    assert.match(byCli[0].action, /^admin\.(created|reset)$/);
  });

  // Regression guard (found while writing these tests).
  it('when admin:create makes a new account, then the audit log records admin.created by cli', async () => {
    const res = await cli(['admin:create', '--email', 'fresh@caq.test'], 'a fresh long password\n');
    assert.equal(res.code, 0, res.stderr);
    const byCli = (await eventsAbout('fresh@caq.test')).filter((e) => e.actor === 'cli');
    assert.deepEqual(
      byCli.map((e) => e.action),
      ['admin.created'],
    );
  });

  it('when the password is shorter than 12 characters, then it exits non-zero, says so, and creates nothing', async () => {
    const res = await cli(['admin:create', '--email', 'short@caq.test'], '12345678901\n');
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /12/);
    assert.equal((await admins('short@caq.test')).length, 0);
    assert.equal(await Account.countDocuments({ email: 'short@caq.test' }), 0);
    assert.equal((await eventsAbout('short@caq.test')).length, 0);

    const empty = await cli(['admin:create', '--email', 'short@caq.test'], '');
    assert.notEqual(empty.code, 0);
    assert.equal(await Account.countDocuments({ email: 'short@caq.test' }), 0);
  });

  it('when admin:disable names an admin, then it exits 0, the account is disabled, cannot sign in, and cli is the audited actor', async () => {
    const password = 'to be disabled soon';
    assert.equal(
      (await cli(['admin:create', '--email', 'leaver@caq.test'], `${password}\n`)).code,
      0,
    );
    await adminLogin('leaver@caq.test', password, SECRET);

    const res = await cli(['admin:disable', '--email', 'leaver@caq.test']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /leaver@caq\.test/);
    const [account] = await admins('leaver@caq.test');
    assert.equal(account.disabled, true);
    await assert.rejects(adminLogin('leaver@caq.test', password, SECRET), { status: 401 });

    const disabled = (await eventsAbout('leaver@caq.test')).filter(
      (e) => e.action === 'admin.disabled',
    );
    assert.equal(disabled.length, 1);
    assert.equal(disabled[0].actor, 'cli');

    const twice = await cli(['admin:disable', '--email', 'leaver@caq.test']);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already disabled/i);
    assert.equal(
      (await eventsAbout('leaver@caq.test')).filter((e) => e.action === 'admin.disabled').length,
      1,
    );
  });

  it('when admin:create names a disabled admin, then it is enabled again with the new password (the way back in)', async () => {
    assert.equal(
      (await cli(['admin:create', '--email', 'locked@caq.test'], 'first long password\n')).code,
      0,
    );
    assert.equal((await cli(['admin:disable', '--email', 'locked@caq.test'])).code, 0);
    const res = await cli(['admin:create', '--email', 'locked@caq.test'], 'second long password\n');
    assert.equal(res.code, 0, res.stderr);
    const accounts = await admins('locked@caq.test');
    assert.equal(accounts.length, 1);
    assert.equal(accounts[0].disabled, false);
    await adminLogin('locked@caq.test', 'second long password', SECRET);
    await assert.rejects(adminLogin('locked@caq.test', 'first long password', SECRET), {
      status: 401,
    });
  });

  it('when admin:disable names an unknown e-mail, then it exits 1 with a message and writes nothing', async () => {
    const before = await Event.countDocuments({});
    const res = await cli(['admin:disable', '--email', 'nobody@caq.test']);
    assert.equal(res.code, 1);
    assert.ok(res.stderr.trim().length > 0, 'a message on stderr');
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await Account.countDocuments({ email: 'nobody@caq.test' }), 0);
    assert.equal(await Event.countDocuments({}), before);
  });

  /** Seals every pending audit event, as the running app's sealer would; returns the sealed count. */
  async function sealAll(): Promise<number> {
    while ((await sealPendingEvents()) > 0);
    assert.equal(await Event.countDocuments({ unsealed: true }), 0);
    return Event.countDocuments({ seq: { $gte: 1 } });
  }

  it('when the audit chain is intact, then audit:verify exits 0 and says how many events are sealed', async () => {
    assert.equal(
      (await cli(['admin:create', '--email', 'audit@caq.test'], 'a long audit password\n')).code,
      0,
    );
    const sealed = await sealAll();
    assert.ok(sealed >= 1);
    const res = await cli(['audit:verify']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `audit chain intact: ${sealed} sealed events\n`);
    assert.equal(res.stderr, '');
  });

  it('when a sealed event is changed in the database, then audit:verify exits 1 naming its seq, and 0 once it is restored', async () => {
    for (const email of ['chain1@caq.test', 'chain2@caq.test']) {
      assert.equal(
        (await cli(['admin:create', '--email', email], 'a long chain password\n')).code,
        0,
      );
    }
    const sealed = await sealAll();
    assert.ok(sealed >= 2);
    const target = await Event.findOne({ seq: 2 }).lean();
    assert.ok(target);
    await Event.collection.updateOne({ _id: target._id }, { $set: { actor: 'mallory' } });
    try {
      const res = await cli(['audit:verify']);
      assert.equal(res.code, 1, res.stdout);
      assert.match(res.stderr, /^audit chain broken at seq 2:/);
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(res.stdout, '');
    } finally {
      await Event.collection.updateOne({ _id: target._id }, { $set: { actor: target.actor } });
    }
    const again = await cli(['audit:verify']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `audit chain intact: ${sealed} sealed events\n`);
  });

  for (const args of [
    [],
    ['admin:create'],
    ['admin:delete', '--email', 'x@caq.test'],
    ['admin:create', '--email', 'not-an-email'],
    ['admin:disable', '--email', ''],
    ['audit:verify', '--email', 'x@caq.test'],
  ]) {
    it(`when run as \`cli ${args.join(' ')}\`, then it exits 2 with the usage and touches nothing`, async () => {
      const before = await Account.countDocuments({});
      const res = await cli(args, 'a long enough password\n');
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /usage/);
      assert.equal(await Account.countDocuments({}), before);
    });
  }

  // Regression guard (found while writing these tests).
  for (const args of [
    ['admin:create', '--email', 'x@caq.test', '--bogus'],
    ['admin:disable', '--email'],
  ]) {
    it(`when run as \`cli ${args.join(' ')}\` (a usage error), then it exits 2 with the usage`, async () => {
      const before = await Account.countDocuments({});
      const res = await cli(args, 'a long enough password\n');
      assert.equal(res.code, 2, `exit ${res.code}: ${res.stderr}`);
      assert.match(res.stderr, /usage/);
      assert.equal(await Account.countDocuments({}), before);
    });
  }
});
