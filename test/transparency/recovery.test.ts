/**
 * The log's recovery pass (src/transparency/intents.ts recoverIntents): every public state
 * change is written with `logPending`, so a pass reads only the changes since the last one and
 * adds the intents a crash between the state write and the intent lost. The crash states here
 * are written as such a crash leaves them: the state with its flag, no intent.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CommandStartedEvent } from 'mongodb';
import mongoose, { Types } from 'mongoose';
import { Certificate } from '../../models/certificate';
import { Counter } from '../../models/counter';
import { Pledge, PledgeStatus } from '../../models/pledge';
import { LogIntent } from '../../models/transparency-log';
import { recoverIntents } from '../../src/transparency/intents';
import { activePledgeWithCertificate, useManualCertificates } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { insertPledge } from '../helpers/use-cases';

describe('transparency log recovery', () => {
  const r = useRegistry({}, { monitorCommands: true });
  useManualCertificates(r);

  const flagged = async () => ({
    pledges: await Pledge.countDocuments({ logPending: true }),
    certificates: await Certificate.countDocuments({ logPending: true }),
  });
  const intentExists = async (key: string) => (await LogIntent.exists({ _id: key })) !== null;

  /**
   * The find commands a recovery pass sends to pledges and certificates, with their filters
   * (only the pass's own: the registry's background passes share the client).
   */
  async function findsOfOnePass(): Promise<string[]> {
    const finds: string[] = [];
    const pass = new AsyncLocalStorage<true>();
    const listener = (e: CommandStartedEvent) => {
      const c = e.command as Record<string, unknown>;
      if (!pass.getStore()) return;
      if (e.commandName === 'find' && ['pledges', 'certificates'].includes(String(c.find)))
        finds.push(`${String(c.find)} ${JSON.stringify(c.filter)}`);
    };
    const client = mongoose.connection.getClient();
    client.on('commandStarted', listener);
    try {
      await pass.run(true, () => recoverIntents());
    } finally {
      client.off('commandStarted', listener);
    }
    return finds;
  }

  it('when a pledge is activated and its certificate issued, then both carry logPending until a recovery pass has seen their intents', async () => {
    const p = await activePledgeWithCertificate(r);
    assert.equal((await Pledge.findById(p.id).lean())?.logPending, true);
    assert.equal((await Certificate.findOne({ serial: p.serial }).lean())?.logPending, true);
    await recoverIntents();
    assert.deepEqual(await flagged(), { pledges: 0, certificates: 0 });
    assert.ok(await intentExists(`pledge.activated:${p.sequence}`));
    assert.ok(await intentExists(`certificate.issued:${p.serial}`));
  });

  it('when nothing changed since the last pass, then a pass reads no pledge or certificate beyond the flagged ones', async () => {
    await activePledgeWithCertificate(r);
    await activePledgeWithCertificate(r);
    await recoverIntents();
    assert.deepEqual(await findsOfOnePass(), [
      'pledges {"logPending":true}',
      'certificates {"logPending":true}',
    ]);
  });

  it('when a crash came between an activation write and its intent, then the pass appends exactly that intent and clears the flag', async () => {
    const sequence = 9_000 + Math.floor(Math.random() * 1000);
    const id = await insertPledge(PledgeStatus.Active, {
      extra: { sequence, activatedAt: new Date(), logPending: true },
    });
    assert.equal(await intentExists(`pledge.activated:${sequence}`), false);
    await recoverIntents();
    assert.ok(await intentExists(`pledge.activated:${sequence}`));
    assert.equal((await Pledge.findById(id).lean())?.logPending, undefined);
  });

  it('when a crash came between a revocation write and its intent, then the pass appends the revocation', async () => {
    const p = await activePledgeWithCertificate(r);
    await recoverIntents();
    // The revocation's own write, as the use case makes it; the process died before its intent.
    await Certificate.updateOne(
      { serial: p.serial },
      {
        $set: {
          status: 'revoked',
          revocationReason: 'other',
          statusReason: 'test',
          logPending: true,
        },
        $unset: { currentFor: 1 },
        $push: { history: { status: 'revoked', at: new Date(), actor: 'admin:test' } },
      },
    );
    await recoverIntents();
    assert.ok(await intentExists(`certificate.revoked:${p.serial}`));
    assert.deepEqual(await flagged(), { pledges: 0, certificates: 0 });
  });

  it('when the database holds state from before the flag (no sweep recorded), then the first pass checks everything once', async () => {
    const sequence = 10_000 + Math.floor(Math.random() * 1000);
    await insertPledge(PledgeStatus.Active, { extra: { sequence, activatedAt: new Date() } });
    await Counter.collection.deleteOne({ _id: 'log-recovery-swept' as unknown as Types.ObjectId });
    await recoverIntents();
    assert.ok(await intentExists(`pledge.activated:${sequence}`));
    assert.ok(await Counter.collection.findOne({ _id: 'log-recovery-swept' as never }));
    // Later passes read the flagged documents only.
    assert.deepEqual(await findsOfOnePass(), [
      'pledges {"logPending":true}',
      'certificates {"logPending":true}',
    ]);
  });

  it('when the last full sweep is more than a day old, then the next pass sweeps everything again (a change written without the flag is found) and records the time', async () => {
    const sequence = 11_000 + Math.floor(Math.random() * 1000);
    await insertPledge(PledgeStatus.Active, { extra: { sequence, activatedAt: new Date() } });
    const longAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    await Counter.collection.updateOne(
      { _id: 'log-recovery-swept' as never },
      { $set: { at: longAgo } },
    );
    await recoverIntents();
    assert.ok(await intentExists(`pledge.activated:${sequence}`));
    const marker = await Counter.collection.findOne({ _id: 'log-recovery-swept' as never });
    assert.ok((marker?.at as Date).getTime() > Date.now() - 60_000, 'the sweep time is recorded');
  });
});
