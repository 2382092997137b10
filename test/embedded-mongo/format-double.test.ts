/**
 * mongod writes a double in $toString/$convert with C's printf "%g" (see format-double.ts). The
 * vectors are printf's own answers (fixtures/printf-g/generate.py: Python's % operator, correctly
 * rounded half to even like glibc), including exact ties at the sixth digit.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { formatDoubleAsMongod } from '../../src/embedded-mongo/engine/format-double';

const VECTORS = path.join(__dirname, 'fixtures', 'printf-g', 'vectors.txt');

describe('embedded mongo: doubles formatted as mongod formats them', () => {
  it('when each printf %g vector is formatted, then the string is printf’s', () => {
    const lines = fs.readFileSync(VECTORS, 'utf8').trim().split('\n');
    assert.ok(lines.length > 4000, 'the vector file is complete');
    const wrong: string[] = [];
    for (const line of lines) {
      const [hex, want] = line.split(' ') as [string, string];
      const x = Buffer.from(hex, 'hex').readDoubleBE(0);
      const got = formatDoubleAsMongod(x);
      if (got !== want) wrong.push(`${hex}: ${got} ≠ ${want}`);
    }
    assert.deepEqual(wrong.slice(0, 10), []);
  });

  it('when the value is -0, NaN or an infinity, then it is spelled as mongod spells it', () => {
    assert.deepEqual([-0, NaN, Infinity, -Infinity, 0].map(formatDoubleAsMongod), [
      '-0',
      'NaN',
      'Infinity',
      '-Infinity',
      '0',
    ]);
  });
});
