/**
 * A worker for the generic pool's tests (test/workers/pool.test.ts): each job says what to do,
 * so a test can make a worker answer, wait, ask the main thread, throw, exit or hang.
 */
import { parentPort, threadId } from 'node:worker_threads';

export type FixtureTask =
  | { op: 'echo'; value: number; ms?: number }
  | { op: 'ask'; value: number }
  | { op: 'cancels' | 'throw' | 'exit' | 'never' | 'spin' };

export type FixtureMessage =
  | { id: number; value: number; thread: number }
  | { id: number; question: number }
  | { id: number; failed: string };

type ToFixture =
  | ({ id: number } & FixtureTask)
  | { type: 'reply'; id: number; value: number }
  | { type: 'cancel'; id: number };

const port = parentPort!;
const waiting = new Map<number, (v: number) => void>();
const send = (m: FixtureMessage) => port.postMessage(m);
let cancels = 0;

port.on('message', (m: ToFixture) => {
  if ('type' in m) {
    if (m.type === 'cancel') cancels++;
    else waiting.get(m.id)?.(m.value);
    waiting.delete(m.id);
    return;
  }
  switch (m.op) {
    case 'echo':
      setTimeout(() => send({ id: m.id, value: m.value, thread: threadId }), m.ms ?? 0);
      break;
    case 'ask':
      waiting.set(m.id, (v) => send({ id: m.id, value: v, thread: threadId }));
      send({ id: m.id, question: m.value });
      break;
    case 'cancels':
      send({ id: m.id, value: cancels, thread: threadId });
      break;
    case 'throw':
      setImmediate(() => {
        throw new Error('fixture worker broke');
      });
      break;
    case 'exit':
      process.exit(3);
      break;
    case 'never':
      break;
    case 'spin':
      for (;;);
  }
});
