import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Response } from 'express';
import pino from 'pino';
import { withRequestContext } from '../../src/request-context';
import { processFailureHandler } from '../../src/server';

/** A real pino logger writing into memory, and the lines it wrote. */
function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** Resolves with the exit code the handler asked for. */
function exitSpy() {
  const codes: number[] = [];
  let resolve!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolve = r));
  return { codes, exited, exit: (code: number) => (codes.push(code), resolve(code)) };
}

describe('process failure policy (units)', () => {
  it('when an uncaught exception arrives, then it is logged as fatal, the server stops cleanly and the exit code is 1', async () => {
    const { logger, lines } = memoryLogger();
    const spy = exitSpy();
    const order: string[] = [];
    const handle = processFailureHandler({
      logger,
      shutdown: async () => {
        order.push('shutdown');
      },
      exit: (c) => (order.push('exit'), spy.exit(c)),
    });
    handle('uncaughtException', new Error('boom'));
    assert.equal(await spy.exited, 1);
    assert.deepEqual(order, ['shutdown', 'exit']);
    const fatal = lines.find((l) => l.level === 60);
    assert.ok(fatal, 'a fatal line');
    assert.equal(fatal.kind, 'uncaughtException');
    assert.equal((fatal.err as { message: string }).message, 'boom');
  });

  it('when the failure happens while serving a request, then the fatal line names the request id', async () => {
    const { logger, lines } = memoryLogger();
    const spy = exitSpy();
    const handle = processFailureHandler({
      logger,
      shutdown: async () => undefined,
      exit: spy.exit,
    });
    const res = { locals: { requestId: 'req-1234' } } as unknown as Response;
    withRequestContext({} as never, res, () => {
      setImmediate(() => handle('unhandledRejection', new Error('lost')));
    });
    await spy.exited;
    const fatal = lines.find((l) => l.level === 60);
    assert.equal(fatal?.requestId, 'req-1234');
    assert.equal(fatal?.kind, 'unhandledRejection');
  });

  it('when more failures arrive during the stop, then each is logged and the server is stopped once and exits once', async () => {
    const { logger, lines } = memoryLogger();
    const spy = exitSpy();
    let shutdowns = 0;
    let finish!: () => void;
    const handle = processFailureHandler({
      logger,
      shutdown: () => ((shutdowns += 1), new Promise<void>((r) => (finish = r))),
      exit: spy.exit,
    });
    handle('unhandledRejection', new Error('first'));
    handle('uncaughtException', new Error('second'));
    handle('unhandledRejection', 'not even an Error');
    finish();
    await spy.exited;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(shutdowns, 1);
    assert.deepEqual(spy.codes, [1]);
    assert.equal(lines.filter((l) => l.level === 60).length, 3);
  });

  it('when the clean stop hangs, then the process exits with 1 at the deadline', async () => {
    const { logger, lines } = memoryLogger();
    const spy = exitSpy();
    const handle = processFailureHandler({
      logger,
      shutdown: () => new Promise<void>(() => undefined),
      exit: spy.exit,
      deadlineMs: 50,
    });
    handle('uncaughtException', new Error('stuck'));
    assert.equal(await spy.exited, 1);
    assert.ok(lines.some((l) => /took too long/.test(String(l.msg))));
  });

  it('when the clean stop fails, then that is logged and the exit code is still 1', async () => {
    const { logger, lines } = memoryLogger();
    const spy = exitSpy();
    const handle = processFailureHandler({
      logger,
      shutdown: () => Promise.reject(new Error('store would not close')),
      exit: spy.exit,
    });
    handle('uncaughtException', new Error('x'));
    assert.equal(await spy.exited, 1);
    assert.ok(lines.some((l) => l.level === 50 && /clean stop failed/.test(String(l.msg))));
  });
});
