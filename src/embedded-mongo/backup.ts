/**
 * Online backup and restore of the embedded store's data directory (storage/file-storage.ts).
 *
 * A consistent cut without stopping the store, from the storage's own guarantees:
 *   - snapshot-S.bson is immutable once renamed into place and is the state when journal S began;
 *   - every record (one command's writes) is one CRC-framed append, so any whole-frame prefix
 *     of the journals is a state the store passed through;
 *   - journal N+1 is created only after every record before the switch is written to journal N.
 * So: list the files, open the newest complete snapshot S and journals S..K (open descriptors
 * survive a compaction deleting them), copy S and journals S..K-1 whole (they were closed when
 * K existed), and journal K up to its last whole frame. Journal K+1, if it appears meanwhile,
 * is left out. A file deleted between listing and opening means a compaction finished: start over.
 *
 * The backup file: a JSON header line `{"format":"eqi-embedded-backup","version":1,"files":[{name,
 * bytes,sha256}]}` then the files' bytes in order. Restore writes them into an empty directory.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HEADER_BYTES } from './storage/frames';

const FORMAT = 'eqi-embedded-backup';
const SNAPSHOT_RE = /^snapshot-(\d{6,})\.bson$/;
const JOURNAL_RE = /^journal-(\d{6,})\.log$/;
const SNAPSHOT_END = '$snapshotEnd';

interface Header {
  format: typeof FORMAT;
  version: 1;
  createdAt: string;
  files: { name: string; bytes: number; sha256: string }[];
}

export interface BackupResult {
  file: string;
  files: Header['files'];
  bytes: number;
}

const gen = (name: string, re: RegExp): number => Number(re.exec(name)![1]);

/** Whether a snapshot file ends with the end marker (else it is a torn one: not a snapshot). */
function snapshotComplete(fd: number): boolean {
  const size = fs.fstatSync(fd).size;
  const tail = Buffer.alloc(Math.min(size, 256));
  fs.readSync(fd, tail, 0, tail.length, size - tail.length);
  return tail.includes(Buffer.from(SNAPSHOT_END));
}

/** Bytes of whole frames at the start of `buf` (a frame still being written is cut off). */
function wholeFrames(buf: Buffer): number {
  let pos = 0;
  while (pos + HEADER_BYTES <= buf.length) {
    const len = buf.readUInt32LE(pos);
    if (pos + HEADER_BYTES + len > buf.length) break;
    pos += HEADER_BYTES + len;
  }
  return pos;
}

function readAll(fd: number, limit?: number): Buffer {
  const size = limit ?? fs.fstatSync(fd).size;
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = fs.readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** One attempt at a cut; null when a compaction removed a listed file before it was opened. */
function cut(dataDir: string): { name: string; data: Buffer }[] | null {
  const names = fs.readdirSync(dataDir);
  const fds = new Map<string, number>();
  try {
    const snapshots = names
      .filter((n) => SNAPSHOT_RE.test(n))
      .sort((a, b) => gen(b, SNAPSHOT_RE) - gen(a, SNAPSHOT_RE));
    let start = 0;
    let snapshot: string | undefined;
    for (const s of snapshots) {
      const fd = fs.openSync(path.join(dataDir, s), 'r');
      if (snapshotComplete(fd)) {
        fds.set(s, fd);
        snapshot = s;
        start = gen(s, SNAPSHOT_RE);
        break;
      }
      fs.closeSync(fd);
    }
    const journals = names
      .filter((n) => JOURNAL_RE.test(n) && gen(n, JOURNAL_RE) >= start)
      .sort((a, b) => gen(a, JOURNAL_RE) - gen(b, JOURNAL_RE));
    for (const j of journals) fds.set(j, fs.openSync(path.join(dataDir, j), 'r'));
    const out: { name: string; data: Buffer }[] = [];
    if (snapshot) out.push({ name: snapshot, data: readAll(fds.get(snapshot)!) });
    journals.forEach((j, i) => {
      const data = readAll(fds.get(j)!);
      // Closed journals are whole; the open one is cut at its last whole frame.
      out.push({
        name: j,
        data: i === journals.length - 1 ? data.subarray(0, wholeFrames(data)) : data,
      });
    });
    return out;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  } finally {
    for (const fd of fds.values()) fs.closeSync(fd);
  }
}

/** Writes a consistent backup of `dataDir` (the store may be running) to `outFile`. */
export function backupDataDir(dataDir: string, outFile: string): BackupResult {
  if (!fs.existsSync(dataDir)) throw new Error(`no data directory at ${dataDir}`);
  let files: { name: string; data: Buffer }[] | null = null;
  for (let attempt = 0; attempt < 10 && !files; attempt++) files = cut(dataDir);
  if (!files) throw new Error('the store kept compacting during the backup; try again');
  const header: Header = {
    format: FORMAT,
    version: 1,
    createdAt: new Date().toISOString(),
    files: files.map((f) => ({
      name: f.name,
      bytes: f.data.length,
      sha256: createHash('sha256').update(f.data).digest('hex'),
    })),
  };
  const tmp = `${outFile}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(header)}\n`);
    for (const f of files) fs.writeSync(fd, f.data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, outFile);
  return { file: outFile, files: header.files, bytes: fs.statSync(outFile).size };
}

/** Restores a backup into `dataDir`, which must be missing or empty (never over live data). */
export function restoreDataDir(inFile: string, dataDir: string): Header['files'] {
  if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} is not empty: restore only into an empty data directory`);
  }
  const buf = fs.readFileSync(inFile);
  const nl = buf.indexOf(0x0a);
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(0, nl).toString('utf8')) as Header;
  } catch {
    throw new Error(`${inFile} is not an embedded-store backup`);
  }
  if (header.format !== FORMAT || header.version !== 1)
    throw new Error(`${inFile} is not an embedded-store backup (version 1)`);
  let pos = nl + 1;
  const files: { name: string; data: Buffer }[] = [];
  for (const f of header.files) {
    if (!SNAPSHOT_RE.test(f.name) && !JOURNAL_RE.test(f.name))
      throw new Error(`unexpected file ${f.name} in backup`);
    const data = buf.subarray(pos, pos + f.bytes);
    pos += f.bytes;
    if (data.length !== f.bytes || createHash('sha256').update(data).digest('hex') !== f.sha256) {
      throw new Error(`${inFile} is damaged: ${f.name} does not match its checksum`);
    }
    files.push({ name: f.name, data });
  }
  if (pos !== buf.length)
    throw new Error(`${inFile} is damaged: unexpected bytes after the last file`);
  fs.mkdirSync(dataDir, { recursive: true });
  for (const f of files) {
    const fd = fs.openSync(path.join(dataDir, f.name), 'wx', 0o600);
    try {
      fs.writeSync(fd, f.data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  const dirFd = fs.openSync(dataDir, 'r');
  fs.fsyncSync(dirFd);
  fs.closeSync(dirFd);
  return header.files;
}
