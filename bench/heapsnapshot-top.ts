/**
 * `node --require tsx/cjs bench/heapsnapshot-top.ts <file.heapsnapshot> [n]`: the n (default 15)
 * largest groups of a V8 heap snapshot by self size, grouped by node type and constructor name
 * (strings by their V8 kind: flat, concatenated, sliced), with counts, to see what a process keeps.
 */
import fs from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function topGroups(
  snap: Snapshot,
  n = 15,
): Array<{ group: string; bytes: number; count: number; share: number }> {
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const groups = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const size = snap.nodes[i + sizeAt]!;
    // Strings and numbers are named by their value: group them by kind only.
    const named = type === 'object' || type === 'closure' || type === 'native' || type === 'hidden';
    const key = named ? `${type} ${snap.strings[snap.nodes[i + nameAt]!]}` : type;
    const g = groups.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += size;
    g.count++;
    groups.set(key, g);
    total += size;
  }
  return [...groups.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, n)
    .map(([group, g]) => ({ group, bytes: g.bytes, count: g.count, share: g.bytes / total }));
}

if (require.main === module) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: heapsnapshot-top.ts <file.heapsnapshot> [n]\n');
    process.exit(2);
  }
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  for (const g of topGroups(snap, Number(n ?? 15)))
    process.stdout.write(
      `${(g.bytes / 1048576).toFixed(1).padStart(8)} MiB ${(g.share * 100).toFixed(1).padStart(5)}% ${String(g.count).padStart(9)}×  ${g.group}\n`,
    );
}
