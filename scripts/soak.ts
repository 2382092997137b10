/**
 * Soak test (issue #10): kill -9 of the app, then of the standalone store, under mixed load,
 * each restarted at once, with the invariants checked after every round and once settled.
 *   npm run soak -- [--app-rounds 20] [--store-rounds 20]
 * Exits 1 when any invariant failed or an acknowledged write was lost.
 */
import { parseArgs } from 'node:util';
import { runFaultRounds } from '../test/faults/faults';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'app-rounds': { type: 'string', default: '20' },
      'store-rounds': { type: 'string', default: '20' },
    },
  });
  const appRounds = Number(values['app-rounds']);
  const storeRounds = Number(values['store-rounds']);
  if (
    !Number.isInteger(appRounds) ||
    !Number.isInteger(storeRounds) ||
    appRounds < 0 ||
    storeRounds < 0
  )
    throw new Error('--app-rounds and --store-rounds take whole numbers');
  const report = await runFaultRounds({
    appRounds,
    storeRounds,
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(
    `\nsoak: ${report.rounds.app} app kills (${report.survived.app} survived), ${report.rounds.store} store kills (${report.survived.store} survived), ` +
      `${report.requests} requests, ${report.acknowledged} acknowledged writes, ${report.lost} lost, ` +
      `worst restart ${report.worstRestartMs.app} ms (app) / ${report.worstRestartMs.store} ms (store), ${report.seconds} s\n`,
  );
  for (const v of report.violations) process.stdout.write(`VIOLATION ${v}\n`);
  return report.violations.length || report.lost ? 1 : 0;
}

// Exit explicitly: a failed start may leave sockets or timers that would keep the process up.
main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`soak failed: ${(e as Error).stack ?? e}\n`);
    process.exit(2);
  },
);
