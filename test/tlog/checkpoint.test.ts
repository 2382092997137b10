import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fc from 'fast-check';
import {
  CheckpointError,
  formatCheckpoint,
  openCheckpoint,
  originFromPublicUrl,
  parseCheckpoint,
  signCheckpoint,
} from '../../src/tlog/checkpoint';
import { leafHash, rootFromLeafHashes } from '../../src/tlog/merkle';
import { NoteError, ed25519Signer, ed25519Verifier, parseNote } from '../../src/tlog/note';

// The example of c2sp.org/tlog-checkpoint (C2SP/C2SP at 5ba5ee8, CC BY 4.0).
const SPEC_NOTE =
  'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';
const ROOT = rootFromLeafHashes([leafHash(Buffer.from('a')), leafHash(Buffer.from('b'))]);

describe('tlog checkpoints (C2SP tlog-checkpoint)', () => {
  it("when parsing the spec's example, then origin, size and root are read", () => {
    const { text, signatures } = parseNote(SPEC_NOTE);
    const c = parseCheckpoint(text);
    assert.equal(c.origin, 'example.com/behind-the-sofa');
    assert.equal(c.size, 20852163);
    assert.equal(c.rootHash.toString('base64'), 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    assert.equal(signatures[0].name, c.origin);
    assert.equal(formatCheckpoint(c), text);
  });

  it('when formatting, then the body is origin, size and base64 root, one per line', () => {
    assert.equal(
      formatCheckpoint({ origin: 'registry.example.cn/log', size: 2, rootHash: ROOT }),
      `registry.example.cn/log\n2\n${ROOT.toString('base64')}\n`,
    );
    assert.equal(
      formatCheckpoint({ origin: 'o', size: 0, rootHash: ROOT, extensions: ['ext one'] }),
      `o\n0\n${ROOT.toString('base64')}\next one\n`,
    );
    assert.throws(
      () => formatCheckpoint({ origin: 'o', size: -1, rootHash: ROOT }),
      CheckpointError,
    );
    assert.throws(
      () => formatCheckpoint({ origin: 'o', size: 1, rootHash: ROOT.subarray(1) }),
      CheckpointError,
    );
    assert.throws(() => formatCheckpoint({ origin: '', size: 1, rootHash: ROOT }), CheckpointError);
    assert.throws(
      () => formatCheckpoint({ origin: 'o', size: 1, rootHash: ROOT, extensions: [''] }),
      CheckpointError,
    );
  });

  it('when a checkpoint text is not strictly canonical, then parsing refuses it', () => {
    const r = ROOT.toString('base64');
    for (const t of [
      `o\n01\n${r}\n`,
      `o\n+1\n${r}\n`,
      `o\n1.0\n${r}\n`,
      `o\n 1\n${r}\n`,
      `o\n0x1\n${r}\n`,
      `o\n\n${r}\n`,
      `o\n-0\n${r}\n`,
      `o\n9007199254740992\n${r}\n`,
      `\n1\n${r}\n`,
      `o\n1\n${r}`,
      `o\n1\n`,
      `o\n1\n${r}\n\n`,
      `o\n1\n${r}\next\n\n`,
      `o\n1\n${r.slice(0, -1)}\n`,
      `o\n1\n${Buffer.alloc(31).toString('base64')}\n`,
      `o\n1\n${Buffer.alloc(33).toString('base64')}\n`,
      `o\n1\n${r.replace('=', '')}\n`,
      `o\n1\n${ROOT.toString('base64url')}\n`,
      `o\n1\n ${r}\n`,
      `o\n١\n${r}\n`,
    ]) {
      assert.throws(() => parseCheckpoint(t), CheckpointError, JSON.stringify(t));
    }
  });

  it('when checkpoints are random, then format and parse round-trip', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => ![...s].some((c) => c < ' ')),
        fc.maxSafeNat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (origin, size, root) => {
          const c = { origin, size, rootHash: Buffer.from(root) };
          assert.deepEqual(parseCheckpoint(formatCheckpoint(c)), c);
        },
      ),
    );
  });

  it('when deriving the origin from PUBLIC_URL, then it is the scheme-less URL plus /log', () => {
    assert.equal(originFromPublicUrl('https://registry.example.cn'), 'registry.example.cn/log');
    assert.equal(originFromPublicUrl('https://registry.example.cn/'), 'registry.example.cn/log');
    assert.equal(originFromPublicUrl('http://localhost:3000/eqi/'), 'localhost:3000/eqi/log');
    for (const u of [
      'registry.example.cn',
      'ftp://x.example',
      'https://x.example/?a=1',
      'https://u:p@x.example',
      'https://x.example/a+b',
    ]) {
      assert.throws(() => originFromPublicUrl(u), CheckpointError, u);
    }
  });

  it('when a checkpoint is signed and opened, then the key name is the origin and a wrong key or origin fails', () => {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const origin = 'registry.example.cn/log';
    const note = signCheckpoint({ origin, size: 2, rootHash: ROOT }, [
      ed25519Signer(origin, privateKey),
    ]);
    assert.match(
      note,
      /^registry\.example\.cn\/log\n2\n[A-Za-z0-9+/]{43}=\n\n— registry\.example\.cn\/log [A-Za-z0-9+/]{91}=\n$/,
    );
    const verifier = ed25519Verifier(origin, crypto.createPublicKey(privateKey));
    const c = openCheckpoint(note, verifier);
    assert.equal(c.size, 2);
    assert.deepEqual(c.rootHash, ROOT);
    assert.throws(() => openCheckpoint(note, verifier, 'other.example/log'), CheckpointError);
    const other = crypto.generateKeyPairSync('ed25519');
    assert.throws(() => openCheckpoint(note, ed25519Verifier(origin, other.publicKey)), NoteError);
    assert.throws(
      () =>
        signCheckpoint({ origin, size: 2, rootHash: ROOT }, [
          ed25519Signer('other.example/log', privateKey),
        ]),
      /must equal the origin/,
    );
    const tampered = note.replace('\n2\n', '\n3\n');
    assert.throws(
      () => openCheckpoint(tampered, verifier),
      (e: unknown) => e instanceof NoteError && e.code === 'invalid-signature',
    );
  });
});
