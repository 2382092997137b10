/** What people type into the serial box reaches the certificate: spaces, lower case, no dashes. */
import assert from 'node:assert/strict';
import request from 'supertest';
import { Pledge } from '../../models/pledge';
import { seed } from '../../scripts/seed';
import { useRegistry } from '../helpers/registry';

describe('site: typed serials', () => {
  const r = useRegistry();
  let serial = '';

  before(async function () {
    this.timeout(60_000);
    await seed(1);
    await r.registry.certificateIssuer.idle();
    r.registry.certificateIssuer.poke();
    await r.registry.certificateIssuer.idle();
    serial = (await Pledge.findOne({ sequence: 1 }).lean())!.certificateSerial!;
    assert.ok(serial);
  });

  it('when a serial is typed with spaces, in lower case or without dashes, then /verify leads to its canonical page, which says valid', async () => {
    const spaced = serial.replace(/-/g, ' ');
    for (const typed of [
      spaced,
      ` ${spaced.toLowerCase()} `,
      serial.replace(/-/g, ''),
      serial.toLowerCase(),
      spaced.replace(' ', '-'),
    ]) {
      const go = await request(r.app).get('/verify').query({ serial: typed }).expect(303);
      assert.equal(go.headers.location, `/verify/${serial}`, typed);
    }
    const page = await request(r.app).get(`/verify/${serial}`).expect(200);
    assert.match(page.text, /class="verdict verdict-valid"/);
  });

  it('when a non-canonical serial is opened as an address, then it redirects to the canonical one', async () => {
    for (const typed of [
      serial.replace(/-/g, ' '),
      serial.toLowerCase(),
      serial.replace(/-/g, ''),
    ]) {
      const res = await request(r.app)
        .get(`/verify/${encodeURIComponent(typed)}`)
        .expect(301);
      assert.equal(res.headers.location, `/verify/${serial}`, typed);
    }
    // The language choice survives the redirect.
    const en = await request(r.app)
      .get(`/verify/${encodeURIComponent(serial.toLowerCase())}?lang=en`)
      .expect(301);
    assert.equal(en.headers.location, `/verify/${serial}?lang=en`);
  });

  it('when the input cannot be a serial, then /verify still passes it on as typed (the verdict page says not found)', async () => {
    const go = await request(r.app).get('/verify').query({ serial: ' not a serial ' }).expect(303);
    assert.equal(go.headers.location, '/verify/not%20a%20serial');
  });
});
