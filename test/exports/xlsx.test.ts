/**
 * The XLSX writer (src/exports/xlsx.ts) on its own: the ZIP passes unzip's CRC and size checks,
 * and exceljs reads every cell back as written, text that XML must escape included.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { xlsxWriter } from '../../src/exports/formats';
import { COLUMNS, type ExportRow } from '../../src/exports/rows';

const TEXTS = [
  'a & b',
  '<tag>',
  'say "hi"',
  "it's",
  '=1+2',
  '  padded  ',
  '喆信精密制造',
  'x\u0001y',
];

function row(i: number): ExportRow {
  return {
    sequence: i + 1,
    foundingNumber: i % 3 === 0 ? i + 1 : null,
    companyName: `${TEXTS[i % TEXTS.length]} ${i}`,
    companyNameEn: i % 5 === 0 ? '' : `Co. ${i}`,
    uscc: `9111${String(i).padStart(14, '0')}`,
    province: '北京',
    industry: 'C 制造业',
    signatoryName: '王喆',
    signatoryTitle: '董事长',
    initiativeVersion: 1,
    activatedAt: '2024-01-01T00:00:00+08:00',
    status: 'active',
    statusLabel: '有效',
    certificateSerial: `EQI-2024-${i}`,
    provinceCode: '11',
    industryCode: 'C',
    activated: null,
  };
}

describe('XLSX writer', () => {
  it('when 3,000 rows are written in batches, then unzip finds no errors and exceljs reads every cell back as written', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        setImmediate(cb);
      },
    });
    const w = xlsxWriter(sink, COLUMNS);
    const rows = Array.from({ length: 3000 }, (_, i) => row(i));
    for (let i = 0; i < rows.length; i += 500) await w.writeRows(rows.slice(i, i + 500));
    await w.end();
    const file = Buffer.concat(chunks);

    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'xlsx-')), 'x.xlsx');
    fs.writeFileSync(tmp, file);
    const tested = execFileSync('unzip', ['-t', tmp], { encoding: 'utf8' });
    assert.match(tested, /No errors detected/);
    fs.rmSync(path.dirname(tmp), { recursive: true, force: true });

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(file as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    assert.equal(ws.rowCount, rows.length + 1);
    rows.forEach((r, i) => {
      const cells = ws.getRow(i + 2);
      COLUMNS.forEach((c, k) => {
        const v = r[c.key];
        const cell = cells.getCell(k + 1);
        if (v === null || v === '')
          assert.equal(cell.type, ExcelJS.ValueType.Null, `${c.key} ${i}`);
        else if (typeof v === 'number') assert.equal(cell.value, v, `${c.key} ${i}`);
        else {
          assert.equal(cell.type, ExcelJS.ValueType.String, `${c.key} ${i}`);
          // XML 1.0 cannot carry U+0001: the writer puts U+FFFD in its place.
          assert.equal(cell.value, String(v).replace('\u0001', '\ufffd'), `${c.key} ${i}`);
        }
      });
    });
  });
});
