/**
 * The console's exports page lists the recent exports, each with a link to its signed manifest,
 * and says in one sentence how to check a file that was handed on.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { seed } from '../../scripts/seed';
import { useRegistry } from '../helpers/registry';
import { binary } from '../exports/helpers';
import { adminConsole } from './helpers';

describe('console: exports page', () => {
  const r = useRegistry();

  before(async function () {
    this.timeout(60_000);
    await seed(5);
  });

  it('when there are no exports yet, then the page says so and still explains how to check a handed-on file', async () => {
    const { a } = await adminConsole(r);
    const page = await a.get('/admin/exports').expect(200);
    assert.match(page.text, /还没有导出记录/);
    assert.match(page.text, /sha256sum/);
    assert.match(page.text, /href="\/\.well-known\/jwks\.json"/);
  });

  it("when exports were made, then each is listed newest first with a manifest link whose SHA-256 is the file's", async () => {
    const { a } = await adminConsole(r);
    const made: Array<{ id: string; sha256: string }> = [];
    for (const url of [
      '/api/v1/admin/exports/signatories.csv?status=all',
      '/api/v1/admin/exports/signatories.json',
    ]) {
      const res = await a
        .get(url)
        .buffer(true)
        .parse(binary as never)
        .expect(200);
      made.push({
        id: String(res.headers['x-export-id']),
        sha256: createHash('sha256')
          .update(res.body as Buffer)
          .digest('hex'),
      });
    }
    const page = await a.get('/admin/exports').expect(200);
    const links = [
      ...page.text.matchAll(/href="\/api\/v1\/admin\/exports\/([0-9a-f]{24})\/manifest"/g),
    ].map((m) => m[1]);
    assert.deepEqual(links.slice(0, 2), [made[1]!.id, made[0]!.id], 'newest first');
    for (const m of made) {
      assert.ok(page.text.includes(m.sha256.slice(0, 12)), 'the digest is shown');
      const manifest = await a.get(`/api/v1/admin/exports/${m.id}/manifest`).expect(200);
      assert.equal(
        manifest.body.manifest.sha256,
        m.sha256,
        'the linked manifest describes the downloaded bytes',
      );
    }
    const en = await a.get('/admin/exports?lang=en').expect(200);
    assert.match(en.text, /Recent exports/);
    assert.match(en.text, /sha256sum/);
  });
});
