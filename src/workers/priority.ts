/**
 * A worker thread's CPU priority below the thread that serves requests, for work that can wait:
 * checking uploaded PDFs, which a hostile upload can make long. Linux keeps a nice value per
 * thread, and setpriority() with a thread id changes only that thread; elsewhere this does
 * nothing. Certificate rendering keeps the default priority: at nice 10 it moved neither the
 * GET p99 while issuing nor throughput in alternating runs (#15), and it let other processes
 * delay the certificates of a signing burst past 5 s on a shared machine.
 */
import fs from 'node:fs';
import os from 'node:os';

/** The nice value of verification workers: far below the request thread's (0), yet never starved. */
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
