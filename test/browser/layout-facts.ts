/**
 * Layout facts measured in the page (shared by the browser tests): whether a button's label wraps
 * (a button must be exactly one line box tall) and whether a filter bar fits its box, on one or
 * two rows on a desktop and stacked on a phone.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

export interface ButtonFact {
  label: string;
  lines: number;
  height: number;
  oneLineBox: number;
}

/** Each visible button: how many lines its text takes, its height, and the height of a one-line button. */
export function buttonFacts(page: Page, scope: string): Promise<ButtonFact[]> {
  return page.evaluate(`(() => {
    const lineCount = (el) => {
      const tops = [];
      const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        if (!n.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        for (const r of range.getClientRects()) if (r.width > 0 && !tops.some((t) => Math.abs(t - r.top) < 3)) tops.push(r.top);
      }
      return tops.length;
    };
    const out = [];
    for (const el of document.querySelectorAll(${JSON.stringify(scope)} + ' button, ' + ${JSON.stringify(scope)} + ' .button')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const s = getComputedStyle(el);
      const px = (v) => parseFloat(v) || 0;
      const line = s.lineHeight === 'normal' ? px(s.fontSize) * 1.2 : px(s.lineHeight);
      const chrome = px(s.paddingTop) + px(s.paddingBottom) + px(s.borderTopWidth) + px(s.borderBottomWidth);
      out.push({ label: el.textContent.trim(), lines: lineCount(el), height: box.height, oneLineBox: Math.max(px(s.minHeight), line + chrome) });
    }
    return out;
  })()`);
}

export function assertNoButtonWraps(facts: ButtonFact[], where: string): void {
  assert.ok(facts.length > 0, `${where}: there are buttons to measure`);
  for (const f of facts) {
    assert.equal(f.lines, 1, `${where}: the label "${f.label}" is on one line`);
    assert.ok(
      Math.abs(f.height - f.oneLineBox) <= 1,
      `${where}: "${f.label}" is ${f.height}px tall, one line box is ${f.oneLineBox}px`,
    );
  }
}

export interface FilterFacts {
  formLeft: number;
  formRight: number;
  contentWidth: number;
  overflow: boolean;
  items: Array<{
    label: string;
    left: number;
    right: number;
    top: number;
    bottom: number;
    width: number;
    labelLines: number;
  }>;
  pageOverflow: boolean;
}

export function filterFacts(page: Page): Promise<FilterFacts> {
  return page.evaluate(`(() => {
    const form = document.querySelector('form.filters');
    const fr = form.getBoundingClientRect();
    const s = getComputedStyle(form);
    const lines = (el) => {
      if (!el) return 0;
      const range = document.createRange();
      range.selectNodeContents(el);
      const tops = [];
      for (const r of range.getClientRects()) if (r.width > 0 && !tops.some((t) => Math.abs(t - r.top) < 3)) tops.push(r.top);
      return tops.length;
    };
    const items = [...form.children].filter((c) => c.getBoundingClientRect().height > 0 && getComputedStyle(c).display !== 'none' && c.type !== 'hidden').map((c) => {
      const r = c.getBoundingClientRect();
      const label = c.querySelector('label');
      return { label: label ? label.textContent.trim() : c.className, left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, labelLines: lines(label) };
    });
    return {
      formLeft: fr.left,
      formRight: fr.right,
      contentWidth: form.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight),
      overflow: form.scrollWidth > form.clientWidth + 1,
      items,
      pageOverflow: document.documentElement.scrollWidth > window.innerWidth + 1,
    };
  })()`);
}

/** Rows the items sit on: items whose boxes overlap vertically by more than half share a row (they are bottom-aligned, not top-aligned). */
export function rows(items: FilterFacts['items']): number {
  const found: Array<{ top: number; bottom: number }> = [];
  for (const i of items) {
    const h = i.bottom - i.top;
    const row = found.find(
      (r) =>
        Math.min(r.bottom, i.bottom) - Math.max(r.top, i.top) > 0.5 * Math.min(h, r.bottom - r.top),
    );
    if (row) {
      row.top = Math.min(row.top, i.top);
      row.bottom = Math.max(row.bottom, i.bottom);
    } else found.push({ top: i.top, bottom: i.bottom });
  }
  return found.length;
}

export function assertFilterLayout(f: FilterFacts, width: number, where: string): void {
  assert.ok(f.items.length >= 3, `${where}: the filter bar has fields`);
  assert.equal(f.overflow, false, `${where}: nothing overflows the filter bar`);
  assert.equal(f.pageOverflow, false, `${where}: the page does not scroll sideways`);
  for (const i of f.items) {
    assert.ok(
      i.left >= f.formLeft - 0.5 && i.right <= f.formRight + 0.5,
      `${where}: "${i.label}" lies inside the filter bar`,
    );
    if (i.labelLines)
      assert.equal(i.labelLines, 1, `${where}: the label "${i.label}" is on one line`);
  }
  if (width >= 1280)
    assert.ok(
      rows(f.items) <= 2,
      `${where}: ${rows(f.items)} rows at ${width}px (one or two wanted)`,
    );
  else {
    assert.equal(rows(f.items), f.items.length, `${where}: stacked at ${width}px, one item a row`);
    for (const i of f.items)
      assert.ok(
        i.width >= f.contentWidth - 1,
        `${where}: "${i.label}" spans the bar (${i.width} of ${f.contentWidth}px)`,
      );
  }
}
