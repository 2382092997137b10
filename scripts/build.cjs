#!/usr/bin/env node
/**
 * `npm run build`: compiles the production code (tsconfig.build.json: no tests, no benchmarks)
 * into dist/ and copies the templates and static files in beside it, so dist/ mirrors the
 * source tree and every `__dirname`-relative path (views/, public/) resolves the same from
 * sources and from dist/. Plain JavaScript: it runs before anything is compiled.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** Non-code directories the running service reads, relative to the project root. */
const ASSETS = ['views', 'public', 'certificates/fonts'];

// A stale file from a deleted source must not ship, so every build starts empty.
fs.rmSync(DIST, { recursive: true, force: true });

const tsc = spawnSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

for (const dir of ASSETS) {
  fs.cpSync(path.join(ROOT, dir), path.join(DIST, dir), { recursive: true });
}
// The API reference's renderer is a devDependency: ship only its browser bundle (and licence).
fs.mkdirSync(path.join(DIST, 'vendor'));
for (const file of ['redoc.standalone.js', 'redoc.standalone.js.LICENSE.txt']) {
  fs.copyFileSync(require.resolve(`redoc/bundles/${file}`), path.join(DIST, 'vendor', file));
}
process.stdout.write(`built ${path.relative(process.cwd(), DIST) || 'dist'}/\n`);
