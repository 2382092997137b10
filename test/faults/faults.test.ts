/**
 * kill -9 under mixed load, 3 rounds of the app and 3 of the standalone store (issue #10); the
 * 20-round version is `npm run soak`. See faults.ts for the load and the invariants.
 */
import assert from 'node:assert/strict';
import { runFaultRounds, type FaultReport } from './faults';

describe('faults: kill -9 of the app and of the store under mixed load', function () {
  // About 1-2 minutes on an idle 2-core machine (restarts, then settling held mail).
  this.timeout(300_000);
  let report: FaultReport;

  before(async function () {
    this.timeout(300_000);
    report = await runFaultRounds({
      appRounds: 3,
      storeRounds: 3,
      recoverNow: true,
      log: (l) => console.log(`faults: ${l}`),
    });
    console.log(`faults: ${JSON.stringify(report)}`);
  });

  it('when the app is killed mid-load and restarted at once, then every round keeps the invariants', () => {
    assert.equal(report.rounds.app, 3);
    assert.deepEqual(
      report.violations.filter((v) => /kill -9 app/.test(v)),
      [],
    );
    assert.equal(report.survived.app, 3);
  });

  it('when the store is killed under the app and restarted at once, then every round keeps the invariants', () => {
    assert.equal(report.rounds.store, 3);
    assert.deepEqual(
      report.violations.filter((v) => /kill -9 store/.test(v)),
      [],
    );
    assert.equal(report.survived.store, 3);
  });

  it('when background work has settled, then no acknowledged write is lost and mail, certificates and the audit chain are done', () => {
    assert.ok(
      report.acknowledged > 20,
      `only ${report.acknowledged} writes acknowledged: the load did not run`,
    );
    assert.equal(report.lost, 0);
    assert.deepEqual(report.violations, []);
  });
});
