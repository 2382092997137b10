import assert from 'node:assert/strict';
import { PledgeStatus } from '../../models/pledge';
import { en } from '../../src/i18n/messages/en';
import { zhCN } from '../../src/i18n/messages/zh-CN';

// The company page and the badges build their keys from the stored status
// (`me.explain.<status>`, `status.<status>`); a missing key shows the raw key to the company.
describe('pledge status texts', () => {
  for (const [name, catalog] of [
    ['zh-CN', zhCN],
    ['en', en],
  ] as const) {
    for (const status of Object.values(PledgeStatus)) {
      it(`when a pledge is ${status}, then the ${name} catalog explains it and names its badge`, () => {
        const texts = catalog as Record<string, string | undefined>;
        assert.ok(texts[`me.explain.${status}`]?.trim(), `me.explain.${status}`);
        assert.ok(texts[`status.${status}`]?.trim(), `status.${status}`);
      });
    }
  }
});
