/**
 * Preloaded into the embedded store's process by bench/embedded-mongo.ts (NODE_OPTIONS
 * "--expose-gc --require"), so the benchmark can look inside without a store command:
 *   SIGUSR2   full GC, then one line on stderr: "PROBE-MEM rss=… heapUsed=… external=… arrayBuffers=…"
 *             (bytes); with BENCH_HEAP_SNAPSHOT=<file> also writes a heap snapshot there.
 *   SIGWINCH  starts a CPU profile; the next one stops it and writes it to BENCH_CPU_PROFILE.
 */
'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');
const inspector = require('node:inspector');

process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') global.gc();
  if (process.env.BENCH_HEAP_SNAPSHOT) v8.writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT);
  const m = process.memoryUsage();
  process.stderr.write(
    `PROBE-MEM rss=${m.rss} heapUsed=${m.heapUsed} heapTotal=${m.heapTotal} external=${m.external} arrayBuffers=${m.arrayBuffers} gc=${typeof global.gc === 'function'}\n`,
  );
  // Per heap space (MiB committed/used), to tell fragmentation and young-generation room from live data.
  const spaces = v8
    .getHeapSpaceStatistics()
    .map(
      (s) =>
        `${s.space_name}=${(s.physical_space_size / 1048576).toFixed(1)}/${(s.space_used_size / 1048576).toFixed(1)}`,
    );
  process.stderr.write(`PROBE-SPACES ${spaces.join(' ')}\n`);
});

let session = null;
process.on('SIGWINCH', () => {
  if (!session) {
    session = new inspector.Session();
    session.connect();
    session.post('Profiler.enable', () => session.post('Profiler.start'));
    process.stderr.write('PROBE-PROF started\n');
    return;
  }
  const s = session;
  session = null;
  s.post('Profiler.stop', (err, res) => {
    if (!err && process.env.BENCH_CPU_PROFILE)
      fs.writeFileSync(process.env.BENCH_CPU_PROFILE, JSON.stringify(res.profile));
    s.disconnect();
    process.stderr.write(
      `PROBE-PROF written ${err ? err.message : process.env.BENCH_CPU_PROFILE}\n`,
    );
  });
});
