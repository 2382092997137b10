import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fc from 'fast-check';
import {
  NoteError,
  ed25519Signer,
  ed25519Verifier,
  formatSignerKey,
  formatVerifierKey,
  isValidKeyName,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from '../../src/tlog/note';

// Known values from golang.org/x/mod sumdb/note/note_test.go (commit fe2ec04; BSD-style licence,
// Copyright 2019 The Go Authors) and from the C2SP signed-note spec's example.
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const C2SP_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const C2SP_NOTE =
  'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

// ---- An independent mini-implementation of the signed-note rules, for cross-checking: written
// straight from the spec with regular expressions and raw JWK keys, sharing no code with the library.
const mini = {
  keyId(name: string, pub: Buffer): string {
    return crypto
      .createHash('sha256')
      .update(Buffer.concat([Buffer.from(name + '\n'), Buffer.from([1]), pub]))
      .digest()
      .subarray(0, 4)
      .toString('hex');
  },
  /** Returns the text if some signature by (name, pub) verifies; throws otherwise. */
  verify(note: string, name: string, pub: Buffer): string {
    // eslint-disable-next-line no-control-regex -- the spec's rule, written as a character class
    if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new Error('control character');
    const m = /^([\s\S]*\n)\n((?:— \S+ [A-Za-z0-9+/=]+\n)+)$/.exec(note);
    if (!m) throw new Error('shape');
    const key = crypto.createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') },
      format: 'jwk',
    });
    const id = mini.keyId(name, pub);
    for (const line of m[2].trimEnd().split('\n')) {
      const [, n, b64] = /^— (\S+) (\S+)$/.exec(line)!;
      const raw = Buffer.from(b64, 'base64');
      if (n === name && raw.subarray(0, 4).toString('hex') === id) {
        if (crypto.verify(null, Buffer.from(m[1]), key, raw.subarray(4))) return m[1];
        throw new Error('bad signature');
      }
    }
    throw new Error('no signature by that key');
  },
  sign(text: string, name: string, priv: crypto.KeyObject): string {
    const pub = Buffer.from(priv.export({ format: 'jwk' }).x!, 'base64url');
    const sig = crypto.sign(null, Buffer.from(text), priv);
    return `${text}\n— ${name} ${Buffer.concat([Buffer.from(mini.keyId(name, pub), 'hex'), sig]).toString('base64')}\n`;
  },
};

const noteError = (code: string) => (e: unknown) => e instanceof NoteError && e.code === code;

describe('tlog signed notes (C2SP signed-note, Ed25519)', () => {
  it("when signing Go's test text with Go's test key, then the note is byte for byte Go's", () => {
    const signer = parseSignerKey(PETER_SKEY);
    assert.equal(signer.name, 'PeterNeumann');
    assert.equal(signer.keyId, 0xc74f20a3);
    assert.equal(signNote(TEXT, [signer]), `${TEXT}\n${PETER_SIG}`);
    assert.equal(formatSignerKey('PeterNeumann', signer.privateKey), PETER_SKEY);
    assert.equal(
      formatVerifierKey('PeterNeumann', parseVerifierKey(PETER_VKEY).publicKey),
      PETER_VKEY,
    );
  });

  it("when opening Go's notes, then the known key verifies and the other signature is kept as unverified", () => {
    const peter = parseVerifierKey(PETER_VKEY);
    const enoch = parseVerifierKey(ENOCH_VKEY);
    const n = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter]);
    assert.equal(n.text, TEXT);
    assert.deepEqual(
      n.verified.map((s) => [s.name, s.keyId]),
      [['PeterNeumann', 0xc74f20a3]],
    );
    assert.deepEqual(
      n.unverified.map((s) => [s.name, s.keyId]),
      [['EnochRoot', 0xaf0cfe78]],
    );
    assert.equal(openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter, enoch]).verified.length, 2);
    assert.throws(() => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, []), noteError('unverified'));
    assert.throws(
      () => openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch, peter, enoch]),
      /ambiguous key EnochRoot\+af0cfe78/,
    );
    const dup = openNote(
      `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${ENOCH_SIG.slice(0, 60)}ABCD${ENOCH_SIG.slice(60)}`,
      [peter],
    );
    assert.equal(dup.verified.length, 1);
    assert.equal(dup.unverified.length, 2);
  });

  it("when a known key's signature is corrupted, then the note is refused", () => {
    const peter = parseVerifierKey(PETER_VKEY);
    assert.throws(
      () => openNote(`${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`, [peter]),
      /invalid signature for key PeterNeumann\+c74f20a3/,
    );
    const flipped = PETER_SIG.replace('x08go/ZJ', 'x08go/ZK');
    assert.throws(() => openNote(`${TEXT}\n${flipped}`, [peter]), noteError('invalid-signature'));
    assert.throws(
      () => openNote(`${TEXT.replace('answer', 'Answer')}\n${PETER_SIG}`, [peter]),
      noteError('invalid-signature'),
    );
  });

  it('when the key name or key ID differs from the known key, then the signature is ignored and the note unverified', () => {
    const peter = parseVerifierKey(PETER_VKEY);
    assert.throws(
      () => openNote(`${TEXT}\n${PETER_SIG.replace('PeterNeumann', 'CarmenSandiego')}`, [peter]),
      noteError('unverified'),
    );
    assert.throws(
      () => openNote(`${TEXT}\n${PETER_SIG.replace('x08g', 'xxxx')}`, [peter]),
      noteError('unverified'),
    );
  });

  it("when notes are malformed as in Go's list, then they are refused as malformed", () => {
    const peter = parseVerifierKey(PETER_VKEY);
    for (const msg of [
      TEXT,
      TEXT + '\n',
      TEXT + '\n' + PETER_SIG.slice(0, -1),
      '\x01' + TEXT + '\n' + PETER_SIG,
      '\ud800' + TEXT + '\n' + PETER_SIG,
      TEXT +
        '\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=',
      TEXT + '\n' + PETER_SIG + 'Unexpected line.\n',
      TEXT + '\n' + PETER_SIG.repeat(101),
      TEXT + '\n' + PETER_SIG.replace('—', '-'),
      TEXT + '\n' + PETER_SIG.replace('=\n', '\n'),
      TEXT + '\r\n' + PETER_SIG,
    ]) {
      assert.throws(() => openNote(msg, [peter]), noteError('malformed'), JSON.stringify(msg));
    }
    assert.throws(
      () =>
        openNote(Buffer.concat([Buffer.from([0xff]), Buffer.from(TEXT + '\n' + PETER_SIG)]), [
          peter,
        ]),
      noteError('malformed'),
    );
    assert.equal(openNote(Buffer.from(TEXT + '\n' + PETER_SIG), [peter]).text, TEXT);
    assert.equal(
      openNote(TEXT + '\n' + PETER_SIG.repeat(16), [peter]).verified.length,
      1,
      'at least 16 signatures are accepted',
    );
  });

  it("when reading the spec's example, then its vkey verifies its note", () => {
    const v = parseVerifierKey(C2SP_VKEY);
    assert.equal(openNote(C2SP_NOTE, [v]).text, 'This is an example message.\n');
    assert.equal(mini.verify(C2SP_NOTE, v.name, v.publicKey), 'This is an example message.\n');
  });

  it("when verifier keys are mangled as in Go's test, then every variant is refused", () => {
    const b = Buffer.from(PETER_VKEY);
    const bad: string[] = [];
    for (let i = 0; i <= b.length; i++)
      for (let j = i + 1; j <= b.length; j++)
        if (i !== 0 || j !== b.length) bad.push(b.subarray(i, j).toString());
    for (let i = 0; i < b.length; i++) {
      const c = Buffer.from(b);
      c[i]++;
      bad.push(c.toString('latin1'));
    }
    bad.push(
      'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
      'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      PETER_VKEY.replace('c74f20a3', 'C74F20A3'),
    );
    for (const k of bad) assert.throws(() => parseVerifierKey(k), noteError('bad-key'), k);
    const s = Buffer.from(PETER_SKEY);
    for (let i = 0; i < s.length; i++) {
      const c = Buffer.from(s);
      c[i]++;
      assert.throws(
        () => parseSignerKey(c.toString('latin1')),
        noteError('bad-key'),
        c.toString('latin1'),
      );
    }
  });

  it('when key names hold spaces or plus, then they are refused', () => {
    for (const n of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u3000b', 'a\u2028b', 'a\tb', '\ud800'])
      assert.equal(isValidKeyName(n), false, JSON.stringify(n));
    for (const n of ['registry.example.cn/log', 'PeterNeumann', '示例/log'])
      assert.equal(isValidKeyName(n), true, n);
  });

  it('when texts are invalid, then signing refuses them', () => {
    const signer = parseSignerKey(PETER_SKEY);
    for (const t of ['no newline', 'tab\there\n', 'cr\r\n', '\ud800\n', ''])
      assert.throws(() => signNote(t, [signer]), noteError('malformed'), JSON.stringify(t));
    assert.throws(() => signNote('ok\n', []), noteError('malformed'));
  });

  it('when random texts are signed, then the independent implementation verifies them, and its notes open here', () => {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const other = crypto.generateKeyPairSync('ed25519');
    const name = 'registry.example.cn/log';
    const signer = ed25519Signer(name, privateKey);
    const verifier = ed25519Verifier(name, crypto.createPublicKey(privateKey));
    const pub = Buffer.from(
      crypto.createPublicKey(privateKey).export({ format: 'jwk' }).x!,
      'base64url',
    );
    assert.equal(
      formatVerifierKey(name, pub),
      `${name}+${mini.keyId(name, pub)}+${Buffer.concat([Buffer.from([1]), pub]).toString('base64')}`,
    );
    const line = fc
      .string({
        unit: fc.oneof(
          fc.constantFrom('a', 'é', '—', '中', ' ', '+', '😀'),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
        ),
      })
      .filter((s) => [...s].every((c) => c >= ' '));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), (lines) => {
        const text = lines.join('\n') + '\n';
        const note = signNote(text, [signer, ed25519Signer('witness.example/w', other.privateKey)]);
        assert.equal(mini.verify(note, name, pub), text);
        assert.equal(openNote(note, [verifier]).text, text);
        const theirs = mini.sign(text, name, privateKey);
        assert.deepEqual(
          openNote(theirs, [verifier]).verified.map((s) => s.name),
          [name],
        );
        // An extra unknown signature does not stop it verifying.
        const cosigned =
          theirs + mini.sign(text, 'witness.example/w', other.privateKey).slice(text.length + 1);
        assert.equal(openNote(cosigned, [verifier]).unverified.length, 1);
      }),
      { numRuns: 60 },
    );
  });
});
