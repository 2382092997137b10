/**
 * Preloaded into the app by `npm run bench -- signing` (`node --require bench/db-commands-probe.ts`,
 * with `monitorCommands=true` in MONGODB_URI): counts every command the driver sends on the
 * app's own mongoose connection, split by whether an HTTP request sent it (the request context,
 * src/request-context.ts) or background work (issuer, mailer, log sequencer). On SIGUSR2 it
 * prints one line `EQI_DB_COMMANDS {...}` with the running counts, so the benchmark can take
 * the difference over its load window. Nothing in src/ changes for it.
 *
 * `phases` splits the request counts further by route (`POST /api/v1/pledges/confirm`, with ids
 * shown as `:id`) and `command collection`, and counts apart what a request's context still
 * sends after its answer went out (background work it woke, which inherits its context).
 */
import http from 'node:http';
import mongoose from 'mongoose';
import { currentRequestId } from '../src/request-context';

type Counts = Record<string, number>;
const counts: {
  request: Counts;
  background: Counts;
  phases: Record<string, Counts>;
} = { request: {}, background: {}, phases: {} };

/** Request id → its route and whether its answer has been sent. */
const routes = new Map<string, { route: string; done: boolean }>();

const routeOf = (req: http.IncomingMessage): string =>
  `${req.method} ${(req.url ?? '').split('?')[0].replace(/\/[0-9a-f]{24}(?=\/|$)/g, '/:id')}`;

// The app names each request with an X-Request-Id header (src/app.ts); remember the route under it.
const setHeader = http.ServerResponse.prototype.setHeader;
http.ServerResponse.prototype.setHeader = function (this: http.ServerResponse, name, value) {
  if (String(name).toLowerCase() === 'x-request-id' && typeof value === 'string' && this.req) {
    const entry = { route: routeOf(this.req), done: false };
    routes.set(value, entry);
    this.once('finish', () => {
      entry.done = true;
      // Background work woken by the request may run a while after; forget it later.
      setTimeout(() => routes.delete(value), 60_000).unref();
    });
  }
  return setHeader.call(this, name, value);
};

function attach(): void {
  const client = mongoose.connection.getClient();
  if ((client as unknown as { __eqiProbe?: true }).__eqiProbe) return;
  (client as unknown as { __eqiProbe?: true }).__eqiProbe = true;
  client.on('commandStarted', (e) => {
    const id = currentRequestId();
    const where = id ? counts.request : counts.background;
    where[e.commandName] = (where[e.commandName] ?? 0) + 1;
    const r = id ? routes.get(id) : undefined;
    const phase = !id
      ? 'background'
      : r
        ? `${r.route}${r.done ? ' (after answering)' : ''}`
        : 'unknown request';
    const cmd = e.command as Record<string, unknown>;
    const coll = typeof cmd[e.commandName] === 'string' ? (cmd[e.commandName] as string) : '';
    const key = `${e.commandName} ${coll}`.trim();
    const p = (counts.phases[phase] ??= {});
    p[key] = (p[key] ?? 0) + 1;
  });
}

mongoose.connection.on('connected', attach);
process.on('SIGUSR2', () => {
  process.stdout.write(`EQI_DB_COMMANDS ${JSON.stringify(counts)}\n`);
});
