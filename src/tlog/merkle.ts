/**
 * Merkle tree hashing and proofs of RFC 9162 §2.1 (unchanged from RFC 6962 §2.1), SHA-256.
 *
 * - leaf hash  = SHA-256(0x00 ‖ entry), node hash = SHA-256(0x01 ‖ left ‖ right), MTH({}) = SHA-256("")
 * - inclusion proofs: PATH(m, D[n]) of §2.1.3.1, verified with the algorithm of §2.1.3.2
 * - consistency proofs: PROOF(m, D[n]) of §2.1.4.1, verified with the algorithm of §2.1.4.2
 *
 * Proofs are generated in two steps, as in transparency-dev/merkle: a pure *plan* naming the
 * complete subtrees ("nodes") each proof element is made of, then the hashes of those nodes from a
 * HashReader (in memory, or backed by tlog-tiles, see tiles.ts) folded into proof elements.
 * A node {level, index} is the complete subtree of 2^level leaves starting at leaf index·2^level.
 *
 * Sizes and indexes are JavaScript numbers: exact up to 2^53 − 1, far beyond any log we run; bit
 * operations are written as arithmetic because JS bitwise operators truncate to 32 bits.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export function leafHash(entry: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** MTH of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}

/** A complete subtree: the 2^level leaves from index·2^level. */
export interface NodeId {
  level: number;
  index: number;
}

/** Returns the hashes of complete subtrees, in the order asked; may be backed by tiles or memory. */
export interface HashReader {
  readHashes(nodes: readonly NodeId[]): readonly Uint8Array[] | Promise<readonly Uint8Array[]>;
}

/** The problem with a proof request or a proof; verification failures are plain `false`. */
export class ProofError extends Error {
  override name = 'ProofError';
}

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ProofError(`${what} must be a non-negative safe integer, got ${n}`);
}

/** Largest power of two strictly below n (n ≥ 2): the split point k of RFC 9162 §2.1.1. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && Number.isInteger(Math.log2(n)) && 2 ** Math.log2(n) === n;
}

/**
 * The complete subtrees MTH(D[begin:end]) is built from, largest (leftmost) first, for a range
 * whose start is aligned as every range in the RFC's recursion is (begin is a multiple of the
 * power of two at or above end − begin). Its hash is these folded from the right.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  const nodes: NodeId[] = [];
  let at = begin;
  while (at < end) {
    let size = 1;
    while (size * 2 <= end - at && at % (size * 2) === 0) size *= 2;
    nodes.push({ level: Math.log2(size), index: at / size });
    at += size;
  }
  return nodes;
}

/** Folds the hashes of rangeNodes(...) into the range's MTH: h0 ‖ (h1 ‖ (h2 …)). */
export function foldRange(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) throw new ProofError('a range has at least one node');
  let h: Buffer = Buffer.from(hashes[hashes.length - 1]);
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i], h);
  return h;
}

/** A proof as the ranges [begin, end) whose MTHs are its elements, in proof order. */
export type ProofPlan = ReadonlyArray<{ begin: number; end: number }>;

/** PATH(m, D[0:n]) of RFC 9162 §2.1.3.1 as ranges, for leaf `index` in a tree of `size`. */
export function inclusionPlan(index: number, size: number): ProofPlan {
  checkSize(index, 'leaf index');
  checkSize(size, 'tree size');
  if (index >= size) throw new ProofError(`leaf index ${index} is not below tree size ${size}`);
  const plan: { begin: number; end: number }[] = [];
  const path = (m: number, begin: number, n: number): void => {
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      path(m, begin, k);
      plan.push({ begin: begin + k, end: begin + n });
    } else {
      path(m - k, begin + k, n - k);
      plan.push({ begin, end: begin + k });
    }
  };
  path(index, 0, size);
  return plan;
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1 as ranges; empty when m = n; m = 0 is refused (see verify). */
export function consistencyPlan(size1: number, size2: number): ProofPlan {
  checkSize(size1, 'first tree size');
  checkSize(size2, 'second tree size');
  if (size1 > size2)
    throw new ProofError(`first tree size ${size1} is above second tree size ${size2}`);
  if (size1 === 0)
    throw new ProofError('a consistency proof from the empty tree carries no information');
  const plan: { begin: number; end: number }[] = [];
  const subproof = (m: number, begin: number, n: number, complete: boolean): void => {
    if (m === n) {
      if (!complete) plan.push({ begin, end: begin + n });
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      subproof(m, begin, k, complete);
      plan.push({ begin: begin + k, end: begin + n });
    } else {
      subproof(m - k, begin + k, n - k, false);
      plan.push({ begin, end: begin + k });
    }
  };
  subproof(size1, 0, size2, true);
  return plan;
}

/** Every node a plan needs, in one list (for one batched read), and how to cut it back up. */
export function planNodes(plan: ProofPlan): { nodes: NodeId[]; counts: number[] } {
  const nodes: NodeId[] = [];
  const counts: number[] = [];
  for (const r of plan) {
    const ns = rangeNodes(r.begin, r.end);
    nodes.push(...ns);
    counts.push(ns.length);
  }
  return { nodes, counts };
}

/** Turns the hashes of planNodes(plan).nodes into the proof's elements. */
export function foldPlan(counts: readonly number[], hashes: readonly Uint8Array[]): Buffer[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (hashes.length !== total)
    throw new ProofError(`expected ${total} node hashes, got ${hashes.length}`);
  const proof: Buffer[] = [];
  let at = 0;
  for (const c of counts) {
    proof.push(foldRange(hashes.slice(at, at + c)));
    at += c;
  }
  return proof;
}

async function readPlan(plan: ProofPlan, reader: HashReader): Promise<Buffer[]> {
  const { nodes, counts } = planNodes(plan);
  const hashes = nodes.length ? await reader.readHashes(nodes) : [];
  for (const h of hashes)
    if (h.length !== HASH_SIZE)
      throw new ProofError('the hash reader returned a hash that is not 32 bytes');
  return foldPlan(counts, hashes);
}

export async function inclusionProof(
  index: number,
  size: number,
  reader: HashReader,
): Promise<Buffer[]> {
  return readPlan(inclusionPlan(index, size), reader);
}

export async function consistencyProof(
  size1: number,
  size2: number,
  reader: HashReader,
): Promise<Buffer[]> {
  if (size1 === size2 && size1 > 0) return [];
  return readPlan(consistencyPlan(size1, size2), reader);
}

/** MTH(D[0:size]) from the complete subtrees it is made of. */
export async function treeRoot(size: number, reader: HashReader): Promise<Buffer> {
  checkSize(size, 'tree size');
  if (size === 0) return emptyRoot();
  const nodes = rangeNodes(0, size);
  return foldRange(await reader.readHashes(nodes));
}

/**
 * MTH of a list of leaf hashes (RFC 9162 §2.1.1), in one pass with a stack of complete subtrees
 * (at most log2(n) + 1 hashes held), so a million leaves need no second copy.
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  if (leafHashes.length === 0) return emptyRoot();
  const stack: { hash: Buffer; size: number }[] = [];
  for (const h of leafHashes) {
    let top: { hash: Buffer; size: number } = { hash: Buffer.from(h), size: 1 };
    while (stack.length && stack[stack.length - 1].size === top.size) {
      const left = stack.pop()!;
      top = { hash: nodeHash(left.hash, top.hash), size: left.size * 2 };
    }
    stack.push(top);
  }
  let h = stack[stack.length - 1].hash;
  for (let i = stack.length - 2; i >= 0; i--) h = nodeHash(stack[i].hash, h);
  return h;
}

/** A HashReader over leaf hashes held in memory (tests, benchmarks, small logs). */
export class MemoryHashReader implements HashReader {
  /** levels[l][i] = hash of node {l, i}; filled up to the highest complete level. */
  private readonly levels: Buffer[][];

  constructor(leafHashes: readonly Uint8Array[]) {
    this.levels = [leafHashes.map((h) => Buffer.from(h))];
    for (let below = this.levels[0]; below.length >= 2;) {
      const up: Buffer[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) up.push(nodeHash(below[i], below[i + 1]));
      this.levels.push(up);
      below = up;
    }
  }

  get size(): number {
    return this.levels[0].length;
  }

  readHashes(nodes: readonly NodeId[]): Buffer[] {
    return nodes.map(({ level, index }) => {
      const h = this.levels[level]?.[index];
      if (!h)
        throw new ProofError(
          `node ${level}/${index} is not a complete subtree of a tree of size ${this.size}`,
        );
      return h;
    });
  }
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function allHashes(proof: readonly Uint8Array[]): boolean {
  return proof.every((p) => p instanceof Uint8Array && p.length === HASH_SIZE);
}

/**
 * RFC 9162 §2.1.3.2: does `proof` show the leaf with hash `leaf` at `index` in the tree of `size`
 * with root `root`? Malformed input (sizes, hash lengths) is simply `false`.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
    return false;
  if (leaf.length !== HASH_SIZE || root.length !== HASH_SIZE || !allHashes(proof)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && sameHash(r, root);
}

/**
 * RFC 9162 §2.1.4.2: is the tree (size2, root2) an append-only extension of (size1, root1)?
 * Edge cases as transparency-dev/merkle (the shared vectors): equal sizes need an empty proof and
 * equal roots; size1 = 0 is refused, as a proof from the empty tree proves nothing.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 <= 0 || size1 > size2)
    return false;
  if (size1 === size2)
    return proof.length === 0 && root1.length === root2.length && sameHash(root1, root2);
  if (
    proof.length === 0 ||
    !allHashes(proof) ||
    root1.length !== HASH_SIZE ||
    root2.length !== HASH_SIZE
  )
    return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && sameHash(fr, root1) && sameHash(sr, root2);
}
