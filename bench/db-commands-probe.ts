/**
 * Preloaded into the app by `npm run bench -- signing` (`node --require bench/db-commands-probe.ts`,
 * with `monitorCommands=true` in MONGODB_URI): counts every command the driver sends on the
 * app's own mongoose connection, split by whether an HTTP request sent it (the request context,
 * src/request-context.ts) or background work (issuer, mailer, log sequencer). On SIGUSR2 it
 * prints one line `EQI_DB_COMMANDS {...}` with the running counts, so the benchmark can take
 * the difference over its load window. Nothing in src/ changes for it.
 */
import mongoose from 'mongoose';
import { currentRequestId } from '../src/request-context';

type Counts = Record<string, number>;
const counts: { request: Counts; background: Counts } = { request: {}, background: {} };

function attach(): void {
  const client = mongoose.connection.getClient();
  if ((client as unknown as { __eqiProbe?: true }).__eqiProbe) return;
  (client as unknown as { __eqiProbe?: true }).__eqiProbe = true;
  client.on('commandStarted', (e) => {
    const where = currentRequestId() ? counts.request : counts.background;
    where[e.commandName] = (where[e.commandName] ?? 0) + 1;
  });
}

mongoose.connection.on('connected', attach);
process.on('SIGUSR2', () => {
  process.stdout.write(`EQI_DB_COMMANDS ${JSON.stringify(counts)}\n`);
});
