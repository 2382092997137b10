/**
 * How command-line tools reach the database: MONGODB_URI when set; else the embedded store a
 * running server already serves from $DATA_DIR/db; else the embedded store opened here.
 */
import path from 'node:path';
import type { Config } from '../src/config';
import { connectDatabase, disconnectDatabase } from '../src/db';
import { runningStoreUri, startEmbeddedMongo } from '../src/embedded-mongo';
import type { Logger } from '../src/logger';

export async function withToolDatabase<T>(
  config: Config,
  logger: Logger,
  fn: () => Promise<T>,
): Promise<T> {
  let embedded: Awaited<ReturnType<typeof startEmbeddedMongo>> | undefined;
  let uri = config.mongodbUri;
  if (!uri) {
    const dataDir = path.join(config.dataDir, 'db');
    uri = (await runningStoreUri(dataDir)) ?? undefined;
    if (!uri) {
      embedded = await startEmbeddedMongo({ dataDir });
      uri = embedded.uri;
    }
  }
  await connectDatabase(uri, logger);
  try {
    return await fn();
  } finally {
    await disconnectDatabase();
    await embedded?.close();
  }
}
