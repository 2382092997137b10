/**
 * An XLSX sheet holds at most 1,048,575 rows below its header. A list that does not fit is
 * refused before any byte is sent: a 422 problem from the API, and the reason on the console's
 * export form. Tests lower the limit (exportLimits) instead of storing a million pledges.
 */
import assert from 'node:assert/strict';
import { seed } from '../../scripts/seed';
import { exportLimits, XLSX_MAX_SHEET_ROWS } from '../../src/exports/service';
import { useRegistry } from '../helpers/registry';
import { adminConsole } from '../site/helpers';
import { download } from './helpers';

describe('exports: the XLSX row limit', () => {
  const r = useRegistry();
  let token = '';

  before(async function () {
    this.timeout(60_000);
    await seed(3);
    token = (await r.makeAdmin()).token;
  });
  afterEach(() => {
    exportLimits.xlsxRows = XLSX_MAX_SHEET_ROWS;
  });

  it('when the limit is Excel’s, then it is 1,048,575 rows below the header', () => {
    assert.equal(XLSX_MAX_SHEET_ROWS, 1_048_575);
  });

  it('when more active signatories match than one sheet holds, then the XLSX export is a 422 problem naming CSV and JSON, and CSV still downloads', async () => {
    exportLimits.xlsxRows = 2;
    const res = await download(r.app, '/api/v1/admin/exports/signatories.xlsx', token);
    assert.equal(res.status, 422);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.headers['content-disposition'], undefined, 'no file is offered');
    const problem = JSON.parse(res.body.toString('utf8'));
    assert.equal(problem.status, 422);
    assert.match(problem.detail, /More than 2 rows match/);
    assert.match(problem.detail, /CSV or JSON/);
    const csv = await download(r.app, '/api/v1/admin/exports/signatories.csv', token);
    assert.equal(csv.status, 200);
  });

  it('when exactly as many match as a sheet holds, then the XLSX export is the file', async () => {
    exportLimits.xlsxRows = 3;
    const res = await download(r.app, '/api/v1/admin/exports/signatories.xlsx', token);
    assert.equal(res.status, 200);
    assert.equal(res.body.subarray(0, 2).toString('latin1'), 'PK');
  });

  it('when the console form asks for an XLSX that does not fit, then the form says why in Chinese and nothing is redirected', async () => {
    exportLimits.xlsxRows = 2;
    const { a } = await adminConsole(r);
    const page = await a.get('/admin/exports/download?format=xlsx&status=active');
    assert.equal(page.status, 400);
    assert.equal(page.headers.location, undefined);
    assert.match(page.text, /符合条件的签署企业超过 2 家/);
    const ok = await a.get('/admin/exports/download?format=csv&status=active');
    assert.equal(ok.status, 303);
  });
});
