/**
 * `node --require tsx/cjs bench/cpuprofile-top.ts <file.cpuprofile> [n]`: the n (default 10)
 * frames with the most self time in a V8 CPU profile (node --cpu-prof), by function and place,
 * as ms and share of the samples (idle and GC listed as V8 names them), then the self time by
 * package: a frame in node_modules counts for its package, one of Node's or V8's own (a socket
 * write, a microtask run) for the nearest package or our code that called it.
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
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

const IDLE_OR_GC = new Set(['(idle)', '(garbage collector)', '(program)']);

/** Who a frame's code belongs to: a package in node_modules, 'our code', or null for Node/V8. */
function ownerOf(url: string): string | null {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (!url || url.startsWith('node:')) return null;
  return 'our code';
}

/** Self time by package (Node's and V8's own frames charged to their nearest caller that has one). */
export function byPackage(profile: Profile): Array<{ owner: string; ms: number; share: number }> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const ownerCache = new Map<number, string>();
  const ownerOfNode = (id: number): string => {
    const known = ownerCache.get(id);
    if (known) return known;
    const f = byId.get(id)!.callFrame;
    let owner: string;
    if (IDLE_OR_GC.has(f.functionName)) owner = f.functionName;
    else {
      const own = ownerOf(f.url);
      const up = parent.get(id);
      owner = own ?? (up === undefined ? 'node/V8' : ownerOfNode(up));
      if (owner === '(root)') owner = 'node/V8';
    }
    ownerCache.set(id, owner);
    return owner;
  };
  const selfUs = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const owner = ownerOfNode(id);
    selfUs.set(owner, (selfUs.get(owner) ?? 0) + dt);
    total += dt;
  });
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([owner, us]) => ({ owner, ms: us / 1000, share: us / total }));
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
  process.stdout.write('by package:\n');
  for (const t of byPackage(profile).slice(0, 15))
    process.stdout.write(
      `${t.ms.toFixed(0).padStart(7)} ms ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.owner}\n`,
    );
}
