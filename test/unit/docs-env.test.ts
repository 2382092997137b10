import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { rewriteEnvTable } from '../../scripts/docs-env';
import { ENV_VARS, envVarsMarkdownTable } from '../../src/config';

const HEADER = '| Variable | Default | Required in production | Description |';
const TABLE = `${HEADER}\n| --- | --- | --- | --- |\n| \`NEW\` | — | no | generated |`;

describe('npm run docs:env (README configuration table)', () => {
  it('when the README has an old table, then only the lines from its header to the next blank line are replaced', () => {
    const readme = [
      '# Title',
      '',
      'Intro text.',
      '',
      HEADER,
      '| --- | --- | --- | --- |',
      '| `OLD` | `1` | no | stale |',
      '| `GONE` | — | yes | removed |',
      '',
      'After the table.',
      '',
    ].join('\n');
    assert.equal(
      rewriteEnvTable(readme, TABLE),
      ['# Title', '', 'Intro text.', '', TABLE, '', 'After the table.', ''].join('\n'),
    );
  });

  it('when the table ends the file, then it is replaced up to the end', () => {
    assert.equal(rewriteEnvTable(`x\n\n${HEADER}\n| a |`, TABLE), `x\n\n${TABLE}`);
  });

  it('when the README has no configuration table, then it is refused rather than left unchanged', () => {
    assert.throws(() => rewriteEnvTable('# No table here\n', TABLE), /no configuration table/);
  });

  it('when text surrounds the table, then rewriting keeps it and is idempotent', () => {
    const line = fc.stringMatching(/^[^\n|]*$/);
    fc.assert(
      fc.property(fc.array(line), fc.array(line), (before, after) => {
        const readme = [...before, '', HEADER, '| x |', '', ...after].join('\n');
        const once = rewriteEnvTable(readme, TABLE);
        assert.equal(once, [...before, '', TABLE, '', ...after].join('\n'));
        assert.equal(rewriteEnvTable(once, TABLE), once);
      }),
    );
  });

  it('when the generated table is read, then it has one row per variable in ENV_VARS order', () => {
    const rows = envVarsMarkdownTable().split('\n').slice(2);
    assert.deepEqual(
      rows.map((r) => /^\| `([A-Z0-9_]+)` \|/.exec(r)?.[1]),
      ENV_VARS.map((v) => v.name),
    );
  });

  it('when README.md is checked, then its table is exactly what npm run docs:env writes', () => {
    const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    assert.equal(
      readme,
      rewriteEnvTable(readme),
      'README.md is out of date: run `npm run docs:env`',
    );
  });
});
