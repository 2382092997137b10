#!/usr/bin/env node
/**
 * Runs one entry point of the registry, from dist/ in production and from the TypeScript
 * sources otherwise: `node scripts/run.cjs src/server [args…]`.
 *
 * - NODE_ENV=production: `dist/<entry>.js` (built by `npm run build`); tsx and the other
 *   devDependencies are not needed (`npm ci --omit=dev`).
 * - Anything else: `<entry>.ts` through tsx's require hook, so `npm ci && npm start` works on a
 *   fresh clone with nothing built.
 *
 * The entry runs in this process as the main module (`require.main === module` holds), so
 * signals reach it directly and no second Node process is spent.
 */
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const [entry, ...args] = process.argv.slice(2);

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

if (!entry) fail('usage: node scripts/run.cjs <entry, e.g. src/server> [args…]');

let file;
if (process.env.NODE_ENV === 'production') {
  file = path.join(ROOT, 'dist', `${entry}.js`);
  if (!fs.existsSync(file)) fail(`${file} does not exist: run \`npm run build\` first.`);
} else {
  file = path.join(ROOT, `${entry}.ts`);
  try {
    require('tsx/cjs');
  } catch {
    fail(
      'tsx (a devDependency) is not installed, so the TypeScript sources cannot run: ' +
        'install with `npm ci`, or build (`npm run build`) and run with NODE_ENV=production.',
    );
  }
}

process.argv = [process.argv[0], file, ...args];
Module.runMain(file);
