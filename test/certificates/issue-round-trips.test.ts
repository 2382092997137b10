/**
 * Regression guard for certificate issuing's database round trips (issue #15), counted with the
 * driver's command monitoring while `issuePending` issues one certificate for a newly active
 * pledge. Counts, not timings; the sequencer's own work (another loop) is left out.
 */
import assert from 'node:assert/strict';
import type { CommandStartedEvent } from 'mongodb';
import mongoose from 'mongoose';
import {
  activePledge,
  pledgeDoc,
  settleCarriedWork,
  useManualCertificates,
} from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

describe('database round trips of issuing one certificate (driver command monitoring)', () => {
  const r = useRegistry({}, { monitorCommands: true });
  const manual = useManualCertificates(r);
  const seen: string[] = [];
  const intentReads: unknown[] = [];
  const listener = (e: CommandStartedEvent) => {
    const cmd = e.command as Record<string, unknown>;
    // The sealer and the mail sender move audit events and mail that pledges carry: their loops.
    const text = JSON.stringify(cmd);
    const carriedWork =
      /"(pendingEvents|mail)[."]/.test(text) ||
      (cmd.insert === 'events' && text.includes('"type":"pledge"'));
    if (!carriedWork) seen.push(`${e.commandName} ${String(cmd[e.commandName])}`);
    const filter = cmd.filter as { _id?: unknown } | undefined;
    if (e.commandName === 'find' && cmd.find === 'log_intents' && typeof filter?._id === 'string')
      intentReads.push(filter._id);
  };

  it('when a new active pledge gets its certificate, then issuing reads neither the pledge again, an absent certificate nor its own log entry, and draws the status index with one insert', async () => {
    // A first certificate warms what is cached (the initiative's title).
    await activePledge(r, manual.admin.token);
    await r.registry.certificates.issuePending();
    const p = await activePledge(r, manual.admin.token);
    // The activation's deferred work (its sequence release) is not issuing's: done before counting.
    await settleCarriedWork();

    const client = mongoose.connection.getClient();
    client.on('commandStarted', listener);
    try {
      assert.equal(await r.registry.certificates.issuePending(), 1);
    } finally {
      client.off('commandStarted', listener);
    }
    assert.ok((await pledgeDoc(p.id))?.certificateSerial, 'the certificate was issued');

    // Other loops run meanwhile: log sequencing, mail delivery and the audit sealer.
    const issuing = seen.filter(
      (c) =>
        !/ (leases|log_entries|log_tiles|log_checkpoints|log_intents|outboxes)$/.test(c) &&
        !/^(find|update) events$/.test(c),
    );
    const count = (c: string) => issuing.filter((s) => s === c).length;
    const show = issuing.join(', ');
    assert.equal(count('find certificates'), 0, show);
    assert.equal(count('find initiatives'), 0, show);
    assert.equal(count('find status_list_entries'), 0, show);
    assert.equal(count('insert status_list_entries'), 1, show);
    // Claim, reserve the serial, point the pledge to its certificate; never a plain re-read.
    assert.equal(count('find pledges'), 0, show);
    // The claim, a second lane's empty claim, the serial counter and reservation, the status
    // index, the PDF, the record, its audit event and the pledge's pointer: 9 (was 27 with 16
    // lanes claiming at once and the reads above).
    if (process.env.SHOW_ROUND_TRIPS) console.log(show);
    assert.ok(issuing.length <= 9, `${issuing.length}: ${show}`);
    // The log proof comes from the pass that integrated the entry here, not from reading back
    // the intent, the entry and the checkpoint it just wrote.
    assert.deepEqual(intentReads, []);
  });
});
