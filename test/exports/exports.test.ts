/**
 * Signatory exports against the real app and database: every format read back the way its users
 * read it (a CSV parser, exceljs, JSON, pdftotext), compared row for row with the database.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import ExcelJS from 'exceljs';
import mongoose from 'mongoose';
import { PDFDict, PDFDocument, PDFName, PDFRawStream, PDFRef } from 'pdf-lib';
import request from 'supertest';
import { verifyCredential } from '../../certificates/jws';
import { parseTtf } from '../../certificates/ttf';
import { Company } from '../../models/company';
import { Event } from '../../models/event';
import { ExportRecord } from '../../models/export';
import { Pledge, PledgeStatus } from '../../models/pledge';
import { settleCarriedEvents } from '../../src/audit/carried';
import { signSession } from '../../src/auth/jwt';
import { makeUscc } from '../../src/domain/uscc';
import { activatePledge } from '../../src/pledges/activation';
import { useRegistry } from '../helpers/registry';
import { syntheticPledge } from './fixtures';
import {
  CSV_KEYS,
  download,
  expectedRows,
  neutralised,
  poppler,
  readCsv,
  type Expected,
} from './helpers';

const URL = '/api/v1/admin/exports/signatories';
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;

/** Companies whose names a spreadsheet would run as formulas, or that need CSV quoting. */
const HOSTILE = [
  {
    name: '=HYPERLINK("http://x.example","点击喆")',
    nameEn: '+1 Formula Co., Ltd.',
    signatory: { name: '@SUM(A1:A9)', title: '-2+3', phone: '+86 10 1234 5678' },
  },
  {
    name: '\t制表符开头示例有限公司',
    nameEn: '\rCarriage "Return", Co.\nLtd.',
    signatory: { name: '李"引号"堃', title: '总经理,董事' },
  },
  {
    name: '垚犇昇玥珺示例（集团）有限公司',
    nameEn: '-Minus Example Group',
    signatory: { name: '王玥', title: '=1+1' },
  },
];

/** Two activations either side of midnight in China (23:30 and 00:30, UTC+8). */
const LATE = new Date('2025-03-01T23:30:00+08:00');
const EARLY = new Date('2025-03-02T00:30:00+08:00');

describe('exports (admin and open data)', () => {
  const r = useRegistry();
  let admin: { id: string; token: string };
  let companyToken = '';
  let total = 0;

  before(async function () {
    this.timeout(60_000);
    // Rows must not change between an export and the expectation read from the database.
    await r.registry.certificateIssuer.stop();
    admin = await r.makeAdmin();
    // Three pledges through the real activation (sequences 1–3, founding numbers 1–3).
    for (const [k, h] of HOSTILE.entries()) {
      const uscc = makeUscc({ provinceCode: '11', serial: 900_000 + k });
      const company = await Company.create({
        uscc,
        name: h.name,
        nameEn: h.nameEn,
        province: '11',
        industry: 'C',
      });
      const p = await Pledge.create({
        company: company._id,
        uscc,
        companyName: h.name,
        companyNameEn: h.nameEn,
        province: '11',
        industry: 'C',
        initiative: { version: 1, sha256: 'a'.repeat(64) },
        signatory: { email: `hostile${k}@example.org`, ...h.signatory },
        status: PledgeStatus.PendingReview,
      });
      await activatePledge(p._id, `admin:${admin.id}`);
      if (k < 2)
        await Pledge.updateOne(
          { _id: p._id },
          { $set: { certificateSerial: `EQI-2026-00000${k + 1}-X` } },
        );
    }
    // Then synthetic signatories 4–142, inserted in shuffled order so stored order is not export order.
    const docs = Array.from({ length: 139 }, (_, j) => syntheticPledge(j + 3));
    docs[137]!.activatedAt = LATE;
    docs[138]!.activatedAt = EARLY;
    for (let i = docs.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [docs[i], docs[j]] = [docs[j]!, docs[i]!];
    }
    await mongoose.connection.db!.collection('pledges').insertMany(docs);
    total = await Pledge.countDocuments({ status: 'active', sequence: { $gte: 1 } });
    companyToken = signSession(
      {
        sub: new mongoose.Types.ObjectId().toHexString(),
        role: 'company',
        company: new mongoose.Types.ObjectId().toHexString(),
      },
      r.config.jwtSecret,
    );
  });

  const get = (path: string, accept?: string) => download(r.app, path, admin.token, accept);

  /** CSV cells as the writer must produce them from the expected row. */
  const csvRow = (e: Expected, keys: Array<keyof Expected> = CSV_KEYS) =>
    keys.map((k) => neutralised(e[k]));

  describe('access', () => {
    it('when there is no token, then every export and manifest answers 401; with a company token, then 403', async () => {
      for (const path of [
        `${URL}.csv`,
        `${URL}.xlsx`,
        `${URL}.json`,
        `${URL}.pdf`,
        `/api/v1/admin/exports/${new mongoose.Types.ObjectId().toHexString()}/manifest`,
      ]) {
        const anon = await download(r.app, path, undefined);
        assert.equal(anon.status, 401, path);
        assert.match(String(anon.headers['content-type']), /application\/problem\+json/);
        const company = await download(r.app, path, companyToken);
        assert.equal(company.status, 403, path);
        assert.match(String(company.headers['content-type']), /application\/problem\+json/);
      }
    });

    it('when the query is invalid, then 400 problem+json names the field', async () => {
      const cases: Array<[string, string]> = [
        [`${URL}.csv?from=2025-03-02&to=2025-03-01`, 'to'],
        [`${URL}.csv?province=99`, 'province'],
        [`${URL}.csv?status=pending_review`, 'status'],
        [`${URL}.csv?founders=yes`, 'founders'],
        [`${URL}.pdf?includeContacts=1`, 'includeContacts'],
      ];
      for (const [path, field] of cases) {
        const res = await request(r.app).get(path).set('Authorization', `Bearer ${admin.token}`);
        assert.equal(res.status, 400, path);
        assert.match(String(res.headers['content-type']), /application\/problem\+json/);
        assert.ok(
          res.body.errors?.some((e: { path: string }) => e.path === field),
          `${path}: ${JSON.stringify(res.body)}`,
        );
      }
    });
  });

  describe('formats', () => {
    it('when CSV is exported, then it starts with a BOM, parses as RFC 4180 and matches the database row for row, Chinese intact', async () => {
      const res = await get(`${URL}.csv`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
      assert.match(
        String(res.headers['content-disposition']),
        /^attachment; filename="signatories-\d{4}-\d{2}-\d{2}\.csv"$/,
      );
      const csv = readCsv(res.body);
      assert.deepEqual(csv.header.slice(0, 3), [
        '序号 Sequence',
        '发起企业编号 Founding No.',
        '企业名称 Company',
      ]);
      const expected = await expectedRows({ status: 'active' });
      assert.equal(csv.rows.length, expected.length);
      assert.equal(expected.length, total);
      assert.deepEqual(
        csv.rows,
        expected.map((e) => csvRow(e)),
      );
      assert.ok(
        csv.rows.some((row) => row[2] === '垚犇昇玥珺示例（集团）有限公司'),
        'characters outside GB2312 survive',
      );
      // Every line ends in CRLF; the only bare LF is inside a quoted cell.
      assert.ok(res.body.toString('utf8').endsWith('\r\n'));
    });

    it('when a pledge activated at 23:30 Beijing time is exported, then every format shows that wall-clock time with +08:00 and the status in Chinese beside the code in JSON', async () => {
      const late = (await Pledge.findOne({ activatedAt: LATE }).lean())!;
      const revoked = (await Pledge.findOne({ status: 'revoked', sequence: { $gte: 1 } })
        .sort({ sequence: 1 })
        .lean())!;
      const withdrawn = (await Pledge.findOne({ status: 'withdrawn', sequence: { $gte: 1 } })
        .sort({ sequence: 1 })
        .lean())!;
      const seq = String(late.sequence);
      const at = CSV_KEYS.indexOf('activatedAt');
      const st = CSV_KEYS.indexOf('statusLabel');
      const csv = readCsv((await get(`${URL}.csv?status=all`)).body);
      assert.equal(csv.header[at], '生效时间 Activated at');
      assert.equal(csv.header[st], '状态 Status');
      const csvBy = (n: number) => csv.rows.find((row) => row[0] === String(n))!;
      assert.equal(csvBy(late.sequence!)[at], '2025-03-01T23:30:00+08:00');
      assert.equal(csvBy(late.sequence!)[st], '有效');
      assert.equal(csvBy(revoked.sequence!)[st], '已撤销');
      assert.equal(csvBy(withdrawn.sequence!)[st], '已撤回');

      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load((await get(`${URL}.xlsx?status=all`)).body as unknown as ArrayBuffer);
      const xrow = wb.worksheets[0]!.getRows(2, csv.rows.length)!.find(
        (row) => String(row.getCell(1).value) === seq,
      )!;
      assert.equal(xrow.getCell(at + 1).value, '2025-03-01T23:30:00+08:00');
      assert.equal(xrow.getCell(st + 1).value, '有效');

      const json = JSON.parse((await get(`${URL}.json?status=all`)).body.toString('utf8')) as Array<
        Record<string, unknown>
      >;
      const jsonBy = (n: number) => json.find((o) => o.sequence === n)!;
      assert.equal(jsonBy(late.sequence!).activatedAt, '2025-03-01T23:30:00+08:00');
      assert.equal(
        Date.parse(String(jsonBy(late.sequence!).activatedAt)),
        LATE.getTime(),
        'the offset makes it the same instant',
      );
      assert.deepEqual(
        [jsonBy(late.sequence!).status, jsonBy(late.sequence!).statusLabel],
        ['active', '有效'],
      );
      assert.deepEqual(
        [jsonBy(revoked.sequence!).status, jsonBy(revoked.sequence!).statusLabel],
        ['revoked', '已撤销'],
      );
      assert.deepEqual(
        [jsonBy(withdrawn.sequence!).status, jsonBy(withdrawn.sequence!).statusLabel],
        ['withdrawn', '已撤回'],
      );
    });

    it('when CSV cells start with = + - @ tab or CR, then they are neutralised with an apostrophe and quoted where needed', async () => {
      const csv = readCsv((await get(`${URL}.csv?founders=1`)).body);
      const [a, b, c] = csv.rows;
      assert.equal(a![2], `'=HYPERLINK("http://x.example","点击喆")`);
      assert.equal(a![3], "'+1 Formula Co., Ltd.");
      assert.equal(a![7], "'@SUM(A1:A9)");
      assert.equal(a![8], "'-2+3");
      assert.equal(b![2], "'\t制表符开头示例有限公司");
      assert.equal(b![3], `'\rCarriage "Return", Co.\nLtd.`);
      assert.equal(b![7], '李"引号"堃');
      assert.equal(b![8], '总经理,董事');
      assert.equal(c![3], "'-Minus Example Group");
      assert.equal(c![8], "'=1+1");
      // No cell anywhere begins with a formula character.
      for (const row of csv.rows) for (const cell of row) assert.doesNotMatch(cell, /^[=+\-@\t\r]/);
      // And the raw bytes quote what holds quotes, commas or line breaks.
      const raw = (await get(`${URL}.csv?founders=1`)).body.toString('utf8');
      assert.ok(raw.includes(`"'=HYPERLINK(""http://x.example"",""点击喆"")"`), raw.slice(0, 600));
    });

    it('when XLSX is exported, then exceljs reads the same rows as typed text (no formulas), a bold frozen header and set widths', async () => {
      const res = await get(`${URL}.xlsx?status=all`);
      assert.equal(res.status, 200);
      assert.equal(
        res.headers['content-type'],
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      );
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(res.body as unknown as ArrayBuffer);
      const ws = wb.worksheets[0]!;
      assert.equal(ws.name, '签署企业 Signatories');
      assert.equal(ws.getRow(1).getCell(1).value, '序号 Sequence');
      assert.equal(ws.getRow(1).font?.bold, true);
      assert.equal(ws.views[0]?.state, 'frozen');
      assert.equal((ws.views[0] as { ySplit?: number }).ySplit, 1);
      assert.ok((ws.getColumn(3).width ?? 0) >= 30, 'company column is wide');
      const expected = await expectedRows({ status: { $in: ['active', 'withdrawn', 'revoked'] } });
      assert.equal(ws.rowCount, expected.length + 1);
      expected.forEach((e, i) => {
        const row = ws.getRow(i + 2);
        const cells = CSV_KEYS.map((_, c) => row.getCell(c + 1));
        assert.equal(cells[0]!.value, Number(e.sequence));
        assert.equal(cells[1]!.value, e.foundingNumber ? Number(e.foundingNumber) : null);
        for (const [c, k] of CSV_KEYS.entries()) {
          if (c === 0 || c === 1 || k === 'initiativeVersion') continue;
          // Typed text, never a formula, as stored (no apostrophes needed in XLSX); XML reads a CR as a line feed.
          assert.equal(
            cells[c]!.type,
            e[k] === '' ? ExcelJS.ValueType.Null : ExcelJS.ValueType.String,
            `${k} of row ${i + 2}`,
          );
          assert.equal(cells[c]!.value ?? '', e[k].replace(/\r\n?/g, '\n'), `${k} of row ${i + 2}`);
        }
      });
    });

    it('when JSON is exported, then it is one array matching the database; with Accept: application/x-ndjson, then one object per line', async () => {
      const expected = await expectedRows({ status: 'active' });
      const toJson = (e: Expected) => ({
        sequence: Number(e.sequence),
        foundingNumber: e.foundingNumber ? Number(e.foundingNumber) : null,
        companyName: e.companyName,
        companyNameEn: e.companyNameEn,
        uscc: e.uscc,
        province: e.province,
        industry: e.industry,
        signatoryName: e.signatoryName,
        signatoryTitle: e.signatoryTitle,
        initiativeVersion: Number(e.initiativeVersion),
        activatedAt: e.activatedAt,
        status: e.status,
        statusLabel: e.statusLabel,
        certificateSerial: e.certificateSerial,
      });
      const json = await get(`${URL}.json`);
      assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(JSON.parse(json.body.toString('utf8')), expected.map(toJson));

      const nd = await get(`${URL}.json`, 'application/x-ndjson');
      assert.equal(nd.headers['content-type'], 'application/x-ndjson; charset=utf-8');
      assert.match(String(nd.headers['content-disposition']), /\.ndjson"$/);
      const lines = nd.body.toString('utf8').split('\n');
      assert.equal(lines.pop(), '', 'ends with a newline');
      assert.deepEqual(
        lines.map((l) => JSON.parse(l)),
        expected.map(toJson),
      );

      const empty = await get(`${URL}.json?province=54&industry=A`);
      assert.deepEqual(JSON.parse(empty.body.toString('utf8')), []);
    });
  });

  describe('PDF roster', () => {
    /** pdftotext -layout lines, whitespace collapsed. */
    const layoutLines = (pdf: Buffer) =>
      poppler('pdftotext', pdf, ['-layout'])
        .split('\n')
        .map((l) => l.replace(/\s+/g, ' ').trim());
    /** What the roster prints for a stored value (control characters become spaces). */
    const printed = (s: string) =>
      s
        // eslint-disable-next-line no-control-regex
        .replace(/[\u0000-\u001f]/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();

    const STATUS: Record<string, [string, string]> = {
      active: ['有效', 'Active'],
      withdrawn: ['已撤回', 'Withdrawn'],
      revoked: ['已撤销', 'Revoked'],
    };

    /**
     * Every expected row, in order, in the text as drawn (pdftotext -raw keeps content-stream
     * order, so a wrapped cell reads on; whitespace is ignored): numbers, company zh then en,
     * USCC, province zh/en, industry zh/en, activation day (China), status zh/en, serial.
     */
    function assertRowsInOrder(pdf: Buffer, expected: Expected[], founders: boolean): void {
      assertCellsInOrder(
        rawText(pdf),
        expected,
        (e) => [
          ...(founders ? [e.foundingNumber, e.sequence] : [e.sequence, e.foundingNumber || '—']),
          ...publicCells(e),
          e.certificateSerial || '—',
        ],
        (e) => `row ${e.sequence} is in the roster, after the previous one`,
      );
    }

    /** The text as drawn with whitespace removed (pdftotext -raw keeps content-stream order). */
    const rawText = (pdf: Buffer) => poppler('pdftotext', pdf, ['-raw']).replace(/\s+/g, '');

    /** The cells every roster prints: company zh then en, USCC, province, industry, day, status. */
    const publicCells = (e: Expected) => [
      printed(e.companyName),
      printed(e.companyNameEn),
      e.uscc,
      e.province,
      e.provinceEn,
      e.industry,
      e.industryEn,
      e.activatedDay,
      ...STATUS[e.status]!,
    ];

    /** Each expected row's cells stand in `raw` one row after the other, in order. */
    function assertCellsInOrder(
      raw: string,
      expected: Expected[],
      cellsOf: (e: Expected) => Array<string | number>,
      what: (e: Expected) => string,
    ): void {
      let at = 0;
      for (const e of expected) {
        const cells = cellsOf(e);
        const row = cells.join('').replace(/\s+/g, '');
        const i = raw.indexOf(row, at);
        assert.ok(i >= at, `${what(e)}: ${cells.join(' | ')}\nnear: ${raw.slice(at, at + 300)}`);
        at = i + row.length;
      }
    }

    it('when the roster is exported, then pdftotext shows every row in sequence order, bilingual, with title, filters, time and page numbers', async () => {
      const res = await get(`${URL}.pdf`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/pdf');
      assert.equal(res.body.subarray(0, 5).toString('latin1'), '%PDF-');
      const pages = Number(/Pages:\s+(\d+)/.exec(poppler('pdfinfo', res.body))![1]);
      assert.ok(pages >= 5, `${pages} pages`);
      assert.match(poppler('pdfinfo', res.body), /Page size:\s+841.89 x 595.28 pts \(A4\)/);
      const lines = layoutLines(res.body);
      const text = lines.join('\n');
      assert.ok(lines[0]!.startsWith('企业质量诚信倡议 · 签署企业名录'), 'Chinese title first');
      assert.ok(text.includes('Enterprise Quality Integrity Initiative · Signatories'));
      assert.ok(text.includes('筛选条件：状态：有效') && text.includes('Filters: status: active'));
      const stamp = /生成时间：(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})（北京时间）/.exec(text);
      assert.ok(stamp, 'generation time in China time');
      assert.ok(
        Math.abs(Date.parse(`${stamp[1]!.replace(' ', 'T')}+08:00`) - Date.now()) < 120_000,
      );
      assert.ok(text.includes(`导出编号 Export ID：${String(res.headers['x-export-id'])}`));
      for (let p = 1; p <= pages; p++)
        assert.ok(text.includes(`第 ${p} 页 / Page ${p}`), `page number ${p}`);
      assert.ok(text.includes(`共 ${total} 家企业 · ${total} signatories in total`));
      assertRowsInOrder(res.body, await expectedRows({ status: 'active' }), false);
    });

    it('when founders=1, then the roster is the founding signatories ("发起企业名录 / Founding Signatories") in number order', async () => {
      const res = await get(`${URL}.pdf?founders=1&status=all`);
      assert.match(
        String(res.headers['content-disposition']),
        /filename="founding-signatories-\d{4}-\d{2}-\d{2}\.pdf"/,
      );
      const lines = layoutLines(res.body);
      const text = lines.join('\n');
      assert.ok(lines[0]!.startsWith('企业质量诚信倡议 · 发起企业名录'));
      assert.ok(text.includes('Enterprise Quality Integrity Initiative · Founding Signatories'));
      assert.ok(text.includes('筛选条件：发起企业；状态：全部'));
      assert.ok(
        text.includes('已撤回') && text.includes('Withdrawn'),
        'withdrawn founders are listed with their status',
      );
      const expected = await expectedRows({ foundingNumber: { $gte: 1 } }, { foundingNumber: 1 });
      assert.equal(expected.length, 100);
      assertRowsInOrder(res.body, expected, true);
      assert.ok(text.includes('共 100 家发起企业 · 100 founding signatories in total'));
    });

    it('when anyone downloads the public founders roster, then pdftotext shows every founder in number order with the public columns, and no signatory, contact, sequence or serial', async () => {
      const res = await download(r.app, '/api/v1/open-data/founders.pdf', undefined);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/pdf');
      assert.match(
        String(res.headers['content-disposition']),
        /^attachment; filename="eqi-founders-\d{4}-\d{2}-\d{2}\.pdf"$/,
      );
      assert.equal(res.headers['cache-control'], 'public, max-age=300');
      assert.equal(res.headers['x-export-id'], undefined, 'no manifest for anonymous downloads');
      const lines = layoutLines(res.body);
      const text = lines.join('\n');
      assert.ok(lines[0]!.startsWith('企业质量诚信倡议 · 发起企业名录'));
      const note =
        '公开版：不含签署人姓名、职务及联系方式 · Public edition: no signatory names, titles or contacts';
      assert.ok(text.includes(note));
      assert.ok(text.includes('共 100 家发起企业 · 100 founding signatories in total'));
      assert.doesNotMatch(text, /导出编号|Export ID|manifest/);
      // Column heads: the public ones, and neither the sequence nor the certificate serial.
      for (const head of [
        '发起编号',
        '企业名称',
        '统一社会信用代码',
        '省份',
        '行业',
        '生效日期',
        '状态',
      ])
        assert.ok(text.includes(head), head);
      assert.doesNotMatch(
        text.replace(note, ''),
        /序号|证书编号|Certificate serial|签署人|Signatory|职务/,
      );

      const founders = await expectedRows({ foundingNumber: { $gte: 1 } }, { foundingNumber: 1 });
      assert.equal(founders.length, 100);
      assert.ok(
        founders.some((f) => f.status !== 'active'),
        'withdrawn and revoked founders keep their place',
      );
      const raw = rawText(res.body);
      assertCellsInOrder(
        raw,
        founders,
        (e) => [e.foundingNumber, ...publicCells(e)],
        (e) => `founder ${e.foundingNumber} follows the previous one`,
      );
      // Nobody's name, title, e-mail or phone, and no certificate serial.
      const people = new Set(
        founders
          .flatMap((f) => [f.signatoryName, f.signatoryTitle])
          .map((s) => s.replace(/\s+/g, '')),
      );
      assert.ok(people.has('王喆') && people.has('@SUM(A1:A9)'));
      for (const s of people) assert.ok(!raw.includes(s), `"${s}" is not in the public roster`);
      assert.doesNotMatch(raw, EMAIL);
      assert.doesNotMatch(raw, /\+8610|EQI-\d{4}/);

      const openApi = await request(r.app).get('/api/v1/openapi.json').expect(200);
      const op = openApi.body.paths['/api/v1/open-data/founders.pdf']?.get;
      assert.ok(op, 'documented in the OpenAPI document');
      assert.ok(op.tags.includes('public'));
      assert.deepEqual(op.security, [], 'public: no sign-in');
    });

    it('when filters are given, then the roster lists only matching rows and says which filters', async () => {
      const res = await get(`${URL}.pdf?province=11&industry=C&from=2024-01-01&to=2026-12-31`);
      const lines = layoutLines(res.body);
      const text = lines.join('\n');
      assert.ok(
        text.includes(
          '筛选条件：状态：有效；省份：北京；行业：C 制造业；生效日期：2024-01-01 至 2026-12-31（北京时间）',
        ),
        text.slice(0, 400),
      );
      assert.ok(
        text.includes(
          'Filters: status: active; province: Beijing; industry: C Manufacturing; activated: 2024-01-01 to 2026-12-31 (China time)',
        ),
      );
      const expected = await expectedRows({ status: 'active', province: '11', industry: 'C' });
      assert.ok(expected.length >= 3);
      assertRowsInOrder(res.body, expected, false);
      const usccs = lines.filter((l) => /\b9\d{7}[0-9A-Z]{10}\b/.test(l));
      assert.equal(usccs.length, expected.length, 'no other rows');
    });

    it('when the roster is checked like a reader would, then its only font is an embedded subset of Noto Sans SC holding exactly the characters drawn, and the glyphs render', async () => {
      const pdf = (await get(`${URL}.pdf?founders=1`)).body;
      const fonts = poppler('pdffonts', pdf).trim().split('\n').slice(2);
      assert.equal(fonts.length, 1, fonts.join('\n'));
      assert.match(
        fonts[0]!,
        /^[A-Z]{6}\+NotoSansSC-Regular\s+CID TrueType\s+Identity-H\s+yes yes yes/,
      );
      assert.doesNotMatch(poppler('pdffonts', pdf), /Helvetica|Times|Courier/);

      // The embedded font program, its CID → glyph map and its ToUnicode map, read with pdf-lib.
      const doc = await PDFDocument.load(pdf);
      const ctx = doc.context;
      const dicts = ctx
        .enumerateIndirectObjects()
        .map(([, o]) => o)
        .filter((o): o is PDFDict => o instanceof PDFDict);
      const descriptor = dicts.find(
        (d) => d.get(PDFName.of('Type')) === PDFName.of('FontDescriptor'),
      )!;
      const cidFont = dicts.find(
        (d) => d.get(PDFName.of('Subtype')) === PDFName.of('CIDFontType2'),
      )!;
      const type0 = dicts.find((d) => d.get(PDFName.of('Subtype')) === PDFName.of('Type0'))!;
      const bytesOf = (ref: unknown) =>
        zlib.inflateSync((ctx.lookup(ref as PDFRef) as PDFRawStream).contents);
      const font = parseTtf(bytesOf(descriptor.get(PDFName.of('FontFile2'))));
      const cidToGid = bytesOf(cidFont.get(PDFName.of('CIDToGIDMap')));
      const toUnicode = bytesOf(type0.get(PDFName.of('ToUnicode'))).toString('latin1');

      // Exactly the characters on the pages: nothing missing (it would vanish), nothing extra.
      const drawn = new Set(
        [...poppler('pdftotext', pdf, ['-raw'])]
          .map((c) => c.codePointAt(0)!)
          .filter((cp) => !/\s/.test(String.fromCodePoint(cp))),
      );
      const inFont = new Set(
        [...font.cmap.keys()].filter((cp) => !/\s/.test(String.fromCodePoint(cp))),
      );
      assert.deepEqual(
        [...inFont].sort((a, b) => a - b),
        [...drawn].sort((a, b) => a - b),
      );
      for (const ch of '发起企业名录第页喆堃犇垚昇玥珺')
        assert.ok(inFont.has(ch.codePointAt(0)!), ch);

      // Every drawn CID maps to the subset glyph of the very character its ToUnicode names.
      const bfchars = [...toUnicode.matchAll(/beginbfchar\n([^]*?)endbfchar/g)]
        .map((m) => m[1])
        .join('');
      const pairs = [...bfchars.matchAll(/<([0-9a-f]{4})> <([0-9a-f]{4,8})>/g)];
      assert.ok(pairs.length > 50);
      for (const [, cidHex, uniHex] of pairs) {
        const cid = parseInt(cidHex!, 16);
        const cp = String.fromCharCode(
          ...(uniHex!.match(/.{4}/g) ?? []).map((h) => parseInt(h, 16)),
        ).codePointAt(0)!;
        assert.equal(
          cidToGid.readUInt16BE(2 * cid),
          font.cmap.get(cp),
          `CID ${cid} (U+${cp.toString(16)})`,
        );
      }

      // Rendered, the first page carries ink (broken or blank CJK glyphs would leave only rules and tints).
      const pgm = Buffer.from(
        poppler('pdftoppm', pdf, ['-r', '72', '-gray', '-f', '1', '-l', '1']),
        'latin1',
      );
      const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(pgm.subarray(0, 40).toString('latin1'))!;
      const pixels = pgm.subarray(header[0].length);
      let dark = 0;
      for (const v of pixels) if (v < 110) dark++;
      assert.ok(dark > 5000, `${dark} dark pixels`);
    });

    it('when nothing matches, then the roster still is a valid one-page PDF saying so', async () => {
      const pdf = (await get(`${URL}.pdf?province=54&industry=A`)).body;
      assert.match(poppler('pdfinfo', pdf), /Pages:\s+1\b/);
      assert.ok(layoutLines(pdf).join('\n').includes('无符合条件的记录 · No matching records'));
    });
  });

  describe('filters', () => {
    const rowsOf = async (query: string) => readCsv((await get(`${URL}.csv?${query}`)).body).rows;

    it('when status, province or industry is given, then exactly the matching rows come, in sequence order', async () => {
      for (const [query, filter] of [
        ['status=withdrawn', { status: 'withdrawn' }],
        ['status=revoked', { status: 'revoked' }],
        ['status=all', { status: { $in: ['active', 'withdrawn', 'revoked'] } }],
        ['province=11', { status: 'active', province: '11' }],
        ['industry=C&province=11', { status: 'active', industry: 'C', province: '11' }],
        [
          'industry=T&status=all',
          { industry: 'T', status: { $in: ['active', 'withdrawn', 'revoked'] } },
        ],
      ] as const) {
        const expected = await expectedRows(filter);
        assert.ok(expected.length > 0, query);
        assert.deepEqual(
          await rowsOf(query),
          expected.map((e) => csvRow(e)),
          query,
        );
      }
    });

    it('when from/to are given, then days are China days (midnight at UTC+8), both ends included', async () => {
      const seqOf = (rows: string[][]) => rows.map((r) => Number(r[0]));
      const late = (await Pledge.findOne({ activatedAt: LATE }).lean())!.sequence!;
      const early = (await Pledge.findOne({ activatedAt: EARLY }).lean())!.sequence!;
      // 23:30 on 1 March in China is 15:30 UTC the same day; 00:30 on 2 March is 16:30 UTC on 1 March.
      assert.deepEqual(seqOf(await rowsOf('from=2025-03-01&to=2025-03-01')), [late]);
      assert.deepEqual(seqOf(await rowsOf('from=2025-03-02&to=2025-03-02')), [early]);
      assert.deepEqual(seqOf(await rowsOf('from=2025-03-01&to=2025-03-02')), [late, early]);
      const upTo = await rowsOf('to=2024-01-01');
      assert.deepEqual(
        upTo.map((r) => r[0]),
        (
          await expectedRows({
            status: 'active',
            activatedAt: { $lt: new Date('2024-01-02T00:00:00+08:00') },
          })
        ).map((e) => e.sequence),
      );
      assert.ok(upTo.length > 0);
    });

    it('when founders=1, then only founding signatories come, in founding-number order', async () => {
      const rows = await rowsOf('founders=1&status=all');
      assert.equal(rows.length, 100);
      assert.deepEqual(
        rows.map((r) => Number(r[1])),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      const active = await rowsOf('founders=1');
      assert.deepEqual(
        active,
        (
          await expectedRows(
            { status: 'active', foundingNumber: { $gte: 1 } },
            { foundingNumber: 1 },
          )
        ).map((e) => csvRow(e)),
      );
    });
  });

  describe('personal data', () => {
    it('when includeContacts=1, then e-mail and phone columns come and an audit event names the admin and the export', async () => {
      const res = await get(`${URL}.csv?includeContacts=1`);
      const csv = readCsv(res.body);
      assert.deepEqual(csv.header.slice(-2), ['电子邮箱 E-mail', '电话 Phone']);
      const expected = await expectedRows({ status: 'active' });
      assert.deepEqual(
        csv.rows,
        expected.map((e) => csvRow(e, [...CSV_KEYS, 'email', 'phone'])),
      );
      assert.ok(
        csv.rows.some((row) => row.at(-1) === "'+86 10 1234 5678"),
        'a phone number starting with + is neutralised too',
      );
      const id = String(res.headers['x-export-id']);
      const event = await Event.findOne({ action: 'export.contacts', 'subject.id': id }).lean();
      assert.ok(event, 'the contacts export is in the audit log');
      assert.equal(event.actor, `admin:${admin.id}`);
      assert.equal((event.after as { format: string }).format, 'csv');

      const xlsx = await get(`${URL}.xlsx?includeContacts=1`);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(xlsx.body as unknown as ArrayBuffer);
      assert.equal(wb.worksheets[0]!.getRow(2).getCell(14).value, expected[0]!.email);
      assert.ok(
        await Event.exists({
          action: 'export.contacts',
          'subject.id': String(xlsx.headers['x-export-id']),
        }),
      );
    });

    it('when includeContacts is not given, then no e-mail address appears anywhere in any format, and no contacts event is logged', async () => {
      const before = await Event.countDocuments({ action: 'export.contacts' });
      for (const [path, accept] of [
        [`${URL}.csv?status=all`],
        [`${URL}.json?status=all`],
        [`${URL}.json?status=all`, 'application/x-ndjson'],
        [`${URL}.pdf?status=all`],
      ] as Array<[string, string?]>) {
        const res = await get(path, accept);
        const text = path.includes('.pdf')
          ? poppler('pdftotext', res.body)
          : res.body.toString('utf8');
        assert.doesNotMatch(text, EMAIL, path);
        assert.doesNotMatch(text, /电子邮箱|E-mail|"email"/, path);
      }
      const xlsx = await get(`${URL}.xlsx?status=all`);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(xlsx.body as unknown as ArrayBuffer);
      wb.worksheets[0]!.eachRow((row) =>
        row.eachCell((cell) => assert.doesNotMatch(String(cell.value), EMAIL)),
      );
      assert.equal(await Event.countDocuments({ action: 'export.contacts' }), before);
    });
  });

  describe('manifest', () => {
    it('when an export finishes, then its manifest (found by X-Export-Id) has the SHA-256 and row count of the bytes, and its JWS verifies against /.well-known/jwks.json', async () => {
      const jwks = (await request(r.app).get('/.well-known/jwks.json').expect(200)).body;
      for (const [path, accept, format, rows] of [
        [`${URL}.csv`, undefined, 'csv', total],
        [
          `${URL}.xlsx?province=11`,
          undefined,
          'xlsx',
          await Pledge.countDocuments({ status: 'active', province: '11' }),
        ],
        [
          `${URL}.json?status=all`,
          undefined,
          'json',
          await Pledge.countDocuments({ sequence: { $gte: 1 } }),
        ],
        [`${URL}.json`, 'application/x-ndjson', 'ndjson', total],
        [
          `${URL}.pdf?founders=1`,
          undefined,
          'pdf',
          await Pledge.countDocuments({ status: 'active', foundingNumber: { $gte: 1 } }),
        ],
      ] as Array<[string, string | undefined, string, number]>) {
        const res = await get(path, accept);
        const id = String(res.headers['x-export-id']);
        assert.match(id, /^[0-9a-f]{24}$/);
        assert.equal(
          res.headers['link'],
          `</api/v1/admin/exports/${id}/manifest>; rel="describedby"`,
        );
        const m = await request(r.app)
          .get(`/api/v1/admin/exports/${id}/manifest`)
          .set('Authorization', `Bearer ${admin.token}`)
          .expect(200);
        const { manifest, jws } = m.body;
        assert.equal(manifest.id, id);
        assert.equal(manifest.format, format);
        assert.equal(manifest.sha256, createHash('sha256').update(res.body).digest('hex'), path);
        assert.equal(manifest.bytes, res.body.length);
        assert.equal(manifest.rows, rows, path);
        assert.equal(manifest.keyId, r.registry.keys.signingKey.kid);
        assert.ok(Math.abs(Date.parse(manifest.createdAt) - Date.now()) < 60_000);
        // The signature is the registry's, and it covers exactly this manifest.
        assert.deepEqual(verifyCredential(jws, jwks), manifest);
        const tampered = jws.split('.');
        tampered[1] = Buffer.from(
          JSON.stringify({ ...manifest, rows: manifest.rows + 1 }),
        ).toString('base64url');
        assert.throws(() => verifyCredential(tampered.join('.'), jwks), /does not verify/);
      }
      const filtered = await request(r.app)
        .get(
          `/api/v1/admin/exports/${String((await get(`${URL}.csv?province=11&from=2024-01-01`)).headers['x-export-id'])}/manifest`,
        )
        .set('Authorization', `Bearer ${admin.token}`)
        .expect(200);
      assert.deepEqual(filtered.body.manifest.filters, {
        status: 'active',
        province: '11',
        from: '2024-01-01',
      });
      assert.ok(
        await Event.exists({ action: 'export.completed', 'subject.id': filtered.body.manifest.id }),
      );
    });

    it('when the manifest id is unknown, then 404', async () => {
      const res = await request(r.app)
        .get(`/api/v1/admin/exports/${new mongoose.Types.ObjectId().toHexString()}/manifest`)
        .set('Authorization', `Bearer ${admin.token}`);
      assert.equal(res.status, 404);
    });
  });

  describe('open data', () => {
    it('when anyone downloads the open-data CSV, then it lists the active signatories without signatory names, titles or contacts, and stores nothing', async () => {
      const records = await ExportRecord.countDocuments();
      // The activations in before() carry their events on the pledges until the sealer moves
      // them (every 200 ms here): moved now, so a pass during the download adds nothing.
      while ((await settleCarriedEvents()) > 0);
      const events = await Event.countDocuments();
      const res = await download(r.app, '/api/v1/open-data/signatories.csv', undefined);
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-export-id'], undefined);
      assert.match(String(res.headers['cache-control']), /public/);
      const csv = readCsv(res.body);
      assert.deepEqual(csv.header, [
        '序号 Sequence',
        '发起企业编号 Founding No.',
        '企业名称 Company',
        '英文名称 Company (English)',
        '统一社会信用代码 USCC',
        '省份 Province',
        '行业 Industry',
        '倡议书版本 Initiative version',
        '生效时间 Activated at',
        '状态 Status',
        '证书编号 Certificate serial',
      ]);
      const keys = CSV_KEYS.filter((k) => k !== 'signatoryName' && k !== 'signatoryTitle');
      assert.deepEqual(
        csv.rows,
        (await expectedRows({ status: 'active' })).map((e) => csvRow(e, keys)),
      );
      const text = res.body.toString('utf8');
      assert.doesNotMatch(text, EMAIL);
      for (const p of await Pledge.find({ sequence: { $gte: 1 } }).lean()) {
        assert.ok(
          !csv.rows.some((row) => row.includes(p.signatory.name)),
          `signatory ${p.signatory.name} is not published`,
        );
        if (p.signatory.phone) assert.ok(!text.includes(p.signatory.phone));
      }
      assert.equal(await ExportRecord.countDocuments(), records);
      assert.equal(await Event.countDocuments(), events);
    });

    it('when anyone downloads the daily counts, then active signatories per China day, province and industry add up', async () => {
      const res = await download(r.app, '/api/v1/open-data/daily-counts.csv', undefined);
      assert.equal(res.status, 200);
      const csv = readCsv(res.body);
      assert.equal(csv.header[0], '日期 Date (China time)');
      assert.equal(
        csv.rows.reduce((n, row) => n + Number(row.at(-1)), 0),
        total,
      );
      const late = (await Pledge.findOne({ activatedAt: LATE }).lean())!;
      const early = (await Pledge.findOne({ activatedAt: EARLY }).lean())!;
      assert.ok(
        csv.rows.some(
          (row) =>
            row[0] === '2025-03-01' &&
            row[1] === late.province &&
            row[4] === late.industry &&
            row.at(-1) === '1',
        ),
      );
      assert.ok(
        csv.rows.some(
          (row) =>
            row[0] === '2025-03-02' &&
            row[1] === early.province &&
            row[4] === early.industry &&
            row.at(-1) === '1',
        ),
      );
      const days = csv.rows.map((row) => row[0]!);
      assert.deepEqual(days, [...days].sort());
    });
  });
});
