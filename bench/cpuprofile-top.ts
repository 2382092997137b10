/**
 * `node --require tsx/cjs bench/cpuprofile-top.ts <file.cpuprofile> [n]`: the n (default 10)
 * frames with the most self time in a V8 CPU profile (node --cpu-prof), by function and place,
 * as ms and share of the samples (idle and GC listed as V8 names them).
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function topFrames(
  profile: Profile,
  n = 10,
): Array<{ frame: string; ms: number; share: number }> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  let total = 0;
  // Each sample's time is the delta to the next one; the frame it hit gets it as self time.
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const f = byId.get(id)!.callFrame;
    const where = f.url
      ? ` ${path.relative(process.cwd(), f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}`
      : '';
    const key = `${f.functionName || '(anonymous)'}${where}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, us]) => ({ frame, ms: us / 1000, share: us / total }));
}

if (require.main === module) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: cpuprofile-top.ts <file.cpuprofile> [n]\n');
    process.exit(2);
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  for (const t of topFrames(profile, Number(n ?? 10)))
    process.stdout.write(
      `${t.ms.toFixed(0).padStart(7)} ms ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.frame}\n`,
    );
}
