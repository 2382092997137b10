/**
 * mongod's `failCommand` fail point, for tests (mongod serves it only with enableTestCommands;
 * here only with the store's `testCommands` option): `configureFailPoint: 'failCommand'` with a
 * mode (`'alwaysOn'`, `'off'`, `{times: n}`) and `data: {failCommands: [names], errorCode}` makes
 * the named commands fail with that code before they run, as drivers' own tests use it to stand
 * in for a server that lacks or refuses a command.
 */
import type { Document } from 'bson';
import { Codes, MongoServerError, badValue, unsupported } from '../errors';
import { isPlainObject } from '../engine/values';

export class FailPoints {
  private names = new Set<string>();
  private code = 0;
  /** Failures left; Infinity for alwaysOn. */
  private left = 0;

  configure(cmd: Document, db: string): Document {
    if (db !== 'admin')
      throw new MongoServerError(
        Codes.Unauthorized,
        'configureFailPoint may only be run against the admin database',
      );
    if (cmd.configureFailPoint !== 'failCommand')
      throw unsupported(`the fail point '${String(cmd.configureFailPoint)}'`);
    const mode = cmd.mode;
    if (mode === 'off') {
      this.left = 0;
      return { count: 0, ok: 1 };
    }
    if (mode === 'alwaysOn') this.left = Infinity;
    else if (isPlainObject(mode) && Number.isInteger(mode.times) && Number(mode.times) > 0)
      this.left = Number(mode.times);
    else throw unsupported(`the fail point mode ${JSON.stringify(mode)}`);
    const data = cmd.data;
    if (
      !isPlainObject(data) ||
      !Array.isArray(data.failCommands) ||
      typeof data.errorCode !== 'number'
    )
      throw badValue('failCommand needs data: {failCommands: [names], errorCode}');
    for (const k of Object.keys(data))
      if (k !== 'failCommands' && k !== 'errorCode') throw unsupported(`failCommand data '${k}'`);
    this.names = new Set(data.failCommands.map(String));
    this.code = data.errorCode;
    return { count: 0, ok: 1 };
  }

  /** Throws the configured error if command `name` is to fail now. */
  check(name: string): void {
    if (this.left <= 0 || !this.names.has(name)) return;
    this.left--;
    throw new MongoServerError(this.code, "Failing command via 'failCommand' failpoint");
  }
}
