/**
 * The process-wide failure policy, end to end in a real child process started by runServer (as
 * `npm start` does): a failing request is answered 500 and the server serves on; an error that
 * escapes every handler is logged with its request id, the server stops cleanly, exit code 1.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAppProcess, type AppProcess } from '../helpers/app-process';

const FIXTURE = 'test/hardening/fixtures/server-with-faulty-routes.ts';

function logLines(app: AppProcess): Array<Record<string, unknown>> {
  return app
    .log()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function exitOf(
  app: AppProcess,
  timeoutMs = 30_000,
): Promise<{ code: number | null; signal: string | null }> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) {
    return Promise.resolve({ code: app.child.exitCode, signal: app.child.signalCode });
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no exit within ${timeoutMs} ms:\n${app.log()}`)),
      timeoutMs,
    );
    app.child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

describe('input: failures that escape a request (child process)', function () {
  this.timeout(60_000);
  let app: AppProcess | undefined;
  const start = async () => {
    app = await startAppProcess(
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        PORT: '0',
        DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-failures-')),
      },
      60_000,
      FIXTURE,
    );
    return app;
  };
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('when handlers throw, reject or fail in a stream, then each request gets a 500 with its id logged and the server serves on', async () => {
    const a = await start();
    for (const p of ['/faulty/throws', '/faulty/rejects', '/faulty/stream']) {
      const res = await fetch(`${a.url}${p}`);
      assert.equal(res.status, 500, p);
      const body = (await res.json()) as { requestId?: string };
      assert.equal(body.requestId, res.headers.get('x-request-id'));
      await new Promise((r) => setTimeout(r, 50));
      const logged = logLines(a).find((l) => l.requestId === body.requestId && l.level === 50);
      assert.ok(logged, `${p}: an error line with the request id\n${a.log()}`);
      assert.equal((await fetch(`${a.url}/healthz`)).status, 200, `${p}: still serving`);
    }
    assert.equal(a.child.exitCode, null, 'still running');
  });

  for (const [kind, route] of [
    ['uncaughtException', '/faulty/uncaught'],
    ['unhandledRejection', '/faulty/unhandled'],
  ] as const) {
    it(`when an ${kind} escapes a request, then it is logged with the request id, the server stops cleanly and the exit code is 1`, async () => {
      const a = await start();
      const res = await fetch(`${a.url}${route}`);
      const requestId = res.headers.get('x-request-id');
      const { code } = await exitOf(a);
      assert.equal(code, 1, a.log());
      const lines = logLines(a);
      const fatal = lines.find((l) => l.level === 60);
      assert.ok(fatal, `a fatal line\n${a.log()}`);
      assert.equal(fatal.kind, kind);
      assert.equal(fatal.requestId, requestId);
      const fatalAt = lines.indexOf(fatal);
      assert.ok(
        lines.slice(fatalAt).some((l) => l.msg === 'stopped'),
        `the clean stop finished before the exit\n${a.log()}`,
      );
    });
  }
});
