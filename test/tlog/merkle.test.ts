import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  MemoryHashReader,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../src/tlog/merkle';

// Copied from ../shared/testdata/tlog (transparency-dev/merkle's vectors, Apache-2.0: see the README and LICENSE beside them).
const VECTORS = path.join(__dirname, 'fixtures', 'merkle');

// The tree the shared vectors come from (README there).
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => Buffer.from(h, 'hex'));
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

function jsonFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) =>
      d.isDirectory()
        ? jsonFiles(path.join(dir, d.name))
        : d.name.endsWith('.json')
          ? [path.join(dir, d.name)]
          : [],
    );
}
const b64 = (s: string | null | undefined): Buffer => Buffer.from(s ?? '', 'base64');
const proofOf = (p: string[] | null): Buffer[] => (p ?? []).map(b64);

// ---- An independent reference, written from RFC 9162 §2.1 definitions directly (recursion on
// hashes, no plans, no readers), to check the library against.
const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const refLeaf = (e: Uint8Array): Buffer => sha(Buffer.from([0]), e);
function refK(n: number): number {
  let k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}
function refMth(d: Buffer[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return d[0];
  const k = refK(d.length);
  return sha(Buffer.from([1]), refMth(d.slice(0, k)), refMth(d.slice(k)));
}
function refPath(m: number, d: Buffer[]): Buffer[] {
  if (d.length <= 1) return [];
  const k = refK(d.length);
  return m < k
    ? [...refPath(m, d.slice(0, k)), refMth(d.slice(k))]
    : [...refPath(m - k, d.slice(k)), refMth(d.slice(0, k))];
}
function refSubproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [refMth(d)];
  const k = refK(d.length);
  return m <= k
    ? [...refSubproof(m, d.slice(0, k), b), refMth(d.slice(k))]
    : [...refSubproof(m - k, d.slice(k), false), refMth(d.slice(0, k))];
}
const refProof = (m: number, d: Buffer[]): Buffer[] => refSubproof(m, d, true);
/** Root from an inclusion path by the same recursion as PATH (top sibling last); null if the length is wrong. */
function refRootFromPath(m: number, n: number, leaf: Buffer, p: Buffer[]): Buffer | null {
  if (n === 1) return p.length === 0 ? leaf : null;
  if (p.length === 0) return null;
  const k = refK(n);
  const sibling = p[p.length - 1];
  const below =
    m < k
      ? refRootFromPath(m, k, leaf, p.slice(0, -1))
      : refRootFromPath(m - k, n - k, leaf, p.slice(0, -1));
  if (!below) return null;
  return m < k ? sha(Buffer.from([1]), below, sibling) : sha(Buffer.from([1]), sibling, below);
}
/** Both roots from a consistency proof by the SUBPROOF recursion (top element last); null if the length is wrong. */
function refRoots(
  m: number,
  n: number,
  p: Buffer[],
  b: boolean,
  root1: Buffer,
): [Buffer, Buffer] | null {
  if (m === n) {
    if (b) return p.length === 0 ? [root1, root1] : null;
    return p.length === 1 ? [p[0], p[0]] : null;
  }
  if (p.length === 0) return null;
  const k = refK(n);
  const sibling = p[p.length - 1];
  const H = (l: Buffer, r: Buffer): Buffer => sha(Buffer.from([1]), l, r);
  if (m <= k) {
    const below = refRoots(m, k, p.slice(0, -1), b, root1);
    return below && [below[0], H(below[1], sibling)];
  }
  const below = refRoots(m - k, n - k, p.slice(0, -1), false, root1);
  return below && [H(sibling, below[0]), H(sibling, below[1])];
}
const refVerifyConsistency = (
  m: number,
  n: number,
  p: Buffer[],
  root1: Buffer,
  root2: Buffer,
): boolean => {
  if (m <= 0 || m > n) return false;
  const r = refRoots(m, n, p, true, root1);
  return !!r && r[0].equals(root1) && r[1].equals(root2);
};
const refVerify = (m: number, n: number, leaf: Buffer, p: Buffer[], root: Buffer): boolean =>
  m < n && (refRootFromPath(m, n, leaf, p)?.equals(root) ?? false);

function flipByte(proof: Buffer[], i: number, bit: number): Buffer[] {
  return proof.map((p, j) => {
    if (j !== i % proof.length) return p;
    const c = Buffer.from(p);
    c[Math.floor(bit / 8) % 32] ^= 1 << (bit % 8);
    return c;
  });
}

describe('tlog merkle (RFC 9162 §2.1)', () => {
  it('when hashing, then the leaf, node and empty-tree hashes have the RFC prefixes', () => {
    assert.equal(emptyRoot().toString('hex'), ROOTS[0]);
    assert.deepEqual(leafHash(Buffer.from('abc')), sha(Buffer.from([0]), Buffer.from('abc')));
    const a = sha(Buffer.from('a'));
    const b = sha(Buffer.from('b'));
    assert.deepEqual(nodeHash(a, b), sha(Buffer.from([1]), a, b));
    assert.notDeepEqual(nodeHash(a, b), nodeHash(b, a));
  });

  it('when computing the roots of the vector tree by size 0..8, then each is the listed root', async () => {
    const hashes = LEAVES.map(leafHash);
    for (let n = 0; n <= 8; n++) {
      assert.equal(rootFromLeafHashes(hashes.slice(0, n)).toString('hex'), ROOTS[n], `size ${n}`);
      assert.equal(
        (await treeRoot(n, new MemoryHashReader(hashes.slice(0, n)))).toString('hex'),
        ROOTS[n],
        `size ${n} via reader`,
      );
    }
  });

  const inclusion = jsonFiles(path.join(VECTORS, 'inclusion'));
  const consistency = jsonFiles(path.join(VECTORS, 'consistency'));

  it('when the vector folders are read, then they hold cases of both outcomes', () => {
    assert.ok(
      inclusion.length >= 40 && consistency.length >= 80,
      `${inclusion.length} / ${consistency.length}`,
    );
  });

  it('when verifying every shared inclusion vector, then wantErr cases are rejected and the others verify', () => {
    let good = 0;
    let bad = 0;
    for (const f of inclusion) {
      const v = JSON.parse(fs.readFileSync(f, 'utf8'));
      const ok = verifyInclusion(
        v.leafIdx,
        v.treeSize,
        b64(v.leafHash),
        proofOf(v.proof),
        b64(v.root),
      );
      assert.equal(ok, !v.wantErr, `${path.relative(VECTORS, f)}: ${v.desc}`);
      if (v.wantErr) bad++;
      else good++;
    }
    assert.ok(good > 0 && bad > 0);
  });

  it('when verifying every shared consistency vector, then wantErr cases are rejected and the others verify', () => {
    let good = 0;
    let bad = 0;
    for (const f of consistency) {
      const v = JSON.parse(fs.readFileSync(f, 'utf8'));
      const ok = verifyConsistency(v.size1, v.size2, proofOf(v.proof), b64(v.root1), b64(v.root2));
      assert.equal(ok, !v.wantErr, `${path.relative(VECTORS, f)}: ${v.desc}`);
      if (v.wantErr) bad++;
      else good++;
    }
    assert.ok(good > 0 && bad > 0);
  });

  it('when generating proofs for the vector tree, then they equal the happy-path vectors', async () => {
    const hashes = LEAVES.map(leafHash);
    const reader = new MemoryHashReader(hashes);
    for (const f of inclusion.filter((f) => f.endsWith('happy-path.json'))) {
      const v = JSON.parse(fs.readFileSync(f, 'utf8'));
      const r = new MemoryHashReader(hashes.slice(0, v.treeSize));
      assert.deepEqual(await inclusionProof(v.leafIdx, v.treeSize, r), proofOf(v.proof), f);
    }
    for (const f of consistency.filter((f) => f.endsWith('happy-path.json'))) {
      const v = JSON.parse(fs.readFileSync(f, 'utf8'));
      assert.deepEqual(
        await consistencyProof(v.size1, v.size2, new MemoryHashReader(hashes.slice(0, v.size2))),
        proofOf(v.proof),
        f,
      );
    }
    assert.equal(reader.size, 8);
  });

  it('when asking for impossible proofs, then they are refused', async () => {
    const reader = new MemoryHashReader(LEAVES.map(leafHash));
    await assert.rejects(inclusionProof(8, 8, reader), /not below/);
    await assert.rejects(inclusionProof(-1, 8, reader), /non-negative/);
    await assert.rejects(consistencyProof(5, 4, reader), /above/);
    await assert.rejects(consistencyProof(0, 4, reader), /empty tree/);
    await assert.rejects(inclusionProof(0, 9, reader), /not a complete subtree/);
  });

  it('when trees are random, then every proof equals the reference, verifies, and fails once tampered with', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 12 }), { minLength: 1, maxLength: 70 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        fc.nat({ max: 255 }),
        async (entries, a, b, which, bit) => {
          const d = entries.map(refLeaf);
          const n = d.length;
          const reader = new MemoryHashReader(entries.map((e) => leafHash(e)));
          const root = refMth(d);
          assert.deepEqual(rootFromLeafHashes(d), root);

          // Inclusion.
          const m = a % n;
          const proof = await inclusionProof(m, n, reader);
          assert.deepEqual(proof, refPath(m, d));
          assert.equal(verifyInclusion(m, n, d[m], proof, root), true);
          if (proof.length)
            assert.equal(
              verifyInclusion(m, n, d[m], flipByte(proof, which, bit), root),
              false,
              'flipped proof byte',
            );
          assert.equal(
            verifyInclusion(m, n, flipByte([d[m]], 0, bit)[0], proof, root),
            false,
            'flipped leaf byte',
          );
          assert.equal(
            verifyInclusion(m, n, d[m], proof, flipByte([root], 0, bit)[0]),
            false,
            'flipped root byte',
          );
          // A wrong index or size fails unless it gives the proof the very same shape (e.g. leaf 0 of
          // 3 and of 4): the size is bound by the signed checkpoint, not by the proof. The reference
          // verifier says which; the library must agree with it, and accept only the true pair.
          for (const idx of new Set([(m + 1 + (b % n)) % n, (m + 1) % n, m ^ 1])) {
            if (idx === m || idx >= n) continue;
            assert.equal(
              verifyInclusion(idx, n, d[m], proof, root),
              refVerify(idx, n, d[m], proof, root),
              `wrong index ${idx}`,
            );
            if (!d[idx].equals(d[m]))
              assert.equal(verifyInclusion(idx, n, d[m], proof, root), false, `wrong index ${idx}`);
          }
          for (const size of [n + 1, n - 1, n * 2, m + 1]) {
            if (size <= m || size === n) continue;
            assert.equal(
              verifyInclusion(m, size, d[m], proof, root),
              refVerify(m, size, d[m], proof, root),
              `wrong size ${size}`,
            );
            if (refPath(m, d.slice(0, Math.min(size, n))).length !== proof.length)
              assert.equal(
                verifyInclusion(m, size, d[m], proof, root),
                false,
                `wrong size ${size}`,
              );
          }
          assert.equal(verifyInclusion(m, n, d[m], [...proof, d[m]], root), false, 'extra element');
          if (proof.length)
            assert.equal(verifyInclusion(m, n, d[m], proof.slice(0, -1), root), false, 'truncated');

          // Consistency.
          const size1 = 1 + (b % n);
          const root1 = refMth(d.slice(0, size1));
          const cproof = await consistencyProof(size1, n, reader);
          assert.deepEqual(cproof, size1 === n ? [] : refProof(size1, d));
          assert.equal(verifyConsistency(size1, n, cproof, root1, root), true);
          if (cproof.length) {
            assert.equal(
              verifyConsistency(size1, n, flipByte(cproof, which, bit), root1, root),
              false,
              'flipped consistency byte',
            );
            assert.equal(
              verifyConsistency(size1, n, cproof.slice(0, -1), root1, root),
              false,
              'truncated consistency',
            );
          }
          assert.equal(
            verifyConsistency(size1, n, cproof, flipByte([root1], 0, bit)[0], root),
            false,
            'flipped old root',
          );
          assert.equal(
            verifyConsistency(size1, n, cproof, root1, flipByte([root], 0, bit)[0]),
            false,
            'flipped new root',
          );
          // As for inclusion, a wrong size only passes where the reference says the shape is the same.
          for (const size2 of [n + 1, n - 1, n * 2]) {
            if (size2 < size1 || size2 === n) continue;
            assert.equal(
              verifyConsistency(size1, size2, cproof, root1, root),
              refVerifyConsistency(size1, size2, cproof, root1, root),
              `wrong new size ${size2}`,
            );
          }
          if (size1 > 1 && size1 < n) {
            const other = refMth(d.slice(0, size1 - 1));
            assert.equal(
              verifyConsistency(size1 - 1, n, cproof, other, root),
              refVerifyConsistency(size1 - 1, n, cproof, other, root),
              'wrong old size',
            );
          }
          assert.equal(
            refVerifyConsistency(size1, n, cproof, root1, root),
            true,
            'the reference accepts it too',
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
