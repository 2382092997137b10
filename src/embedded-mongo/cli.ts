/**
 * Runs the embedded store on its own, so several app processes can share one:
 *   npm run db -- --data ./data/db --port 27017 [--host 127.0.0.1] [--memory]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedMongo } from './index';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: './data/db' },
      port: { type: 'string', default: '27017' },
      host: { type: 'string', default: '127.0.0.1' },
      memory: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run db -- [--data DIR] [--port N] [--host ADDR] [--memory]\n');
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0..65535, got ${values.port}`);
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  const db = await startEmbeddedMongo({
    dataDir: values.memory ? undefined : path.resolve(values.data!),
    inMemory: values.memory,
    host: values.host,
    port,
    log,
  });
  const where = db.dataDir ? `data in ${db.dataDir}` : 'in memory only';
  const r = db.recovery;
  log(
    `embedded mongo listening on ${db.uri} (${where}; recovered ${r.snapshotRecords + r.journalRecords} records in ${r.millis} ms)`,
  );
  if (db.socketUri) log(`embedded mongo also listening on ${db.socketUri} (Unix socket)`);
  // Machine-readable line for scripts and tests that start it as a child process: the TCP URI,
  // then the Unix socket's if there is one.
  process.stdout.write(`READY ${db.uri}${db.socketUri ? ` ${db.socketUri}` : ''}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    db.close().then(
      () => process.exit(0),
      (e) => {
        log(`error while closing: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  process.stderr.write(`embedded mongo failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
