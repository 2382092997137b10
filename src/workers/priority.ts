/**
 * A worker thread's CPU priority below the thread that serves requests. Rendering and checking
 * PDFs is the work that can wait: on a machine with as many busy threads as cores, the kernel
 * then runs the event loop first whenever it has work, so answers stay quick while PDFs are
 * made (#15: GET p99 while certificates are issued). Linux keeps a nice value per thread, and
 * setpriority() with a thread id changes only that thread; elsewhere this does nothing.
 */
import fs from 'node:fs';
import os from 'node:os';

/** The nice value of PDF workers: far below the request thread's (0), yet never starved. */
export const WORKER_NICE = 10;

/** Lowers the calling thread's priority (call it first thing in a worker); true if it did. */
export function lowerThreadPriority(nice = WORKER_NICE): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // "<pid>/task/<tid>": the thread that reads the link is the thread it names.
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    os.setPriority(tid, Math.max(os.getPriority(tid), nice));
    return true;
  } catch {
    return false; // a sandbox without /proc: the worker runs at the default priority
  }
}
