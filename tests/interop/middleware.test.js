// The middleware chain end to end: a client's address rules refuse what they say over SMPP and
// over HTTP alike (the status, the log line naming filter and rule, the metric), the logger
// writes a line per message, a reload changes the rules for the next message, and a bad pattern
// fails `smppd validate` with its file and line. Transform rules rewrite what the SMSC gets
// (sender, destination, an appended opt-out text in GSM and UCS-2, a text grown into parts whose
// receipt comes back to the client under smppd's id).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { spawnSync } = require('node:child_process');
const h = require('./daemon_harness');

const { status: st, startSmsc, upstream, upstreamsBound, waitUntil } = h;

function config(smscs, addresses) {
  return {
    listeners: [h.listener('smpp'), { name: 'api', type: 'http', address: '127.0.0.1:0' }],
    upstreams: [upstream('carrier', smscs)],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
    clients: [{ system_id: 'alice', password: 'alice-pw', addresses }, { system_id: 'bob', password: 'bob-pw' }],
    middleware: [{ type: 'logger', level: 'info' }, { type: 'auth' }, { type: 'rate_limit' }, { type: 'address_filter' }],
    management: { address: '127.0.0.1:0' },
  };
}

const rules = { source: { allowed: ['SHOP', '+258*'] }, destination: { blocked: ['+1900*', '112'] } };

function reload(port) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/api/config/reload', method: 'POST' }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('address rules refuse over SMPP and HTTP alike, named in the log and the metric; the logger writes each message; a reload changes them', async () => {
  const smsc = await startSmsc();
  try {
    const d = await h.startSmppd(config([smsc], rules), { listeners: ['smpp', 'api', 'management'] });
    try {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', 'alice', 'alice-pw');
      const submit = (fields) => h.request(s, 'submit_sm', { short_message: 'x', ...fields });
      assert.strictEqual((await submit({ source_addr: 'SHOP', source_addr_ton: 5, destination_addr: '258841234567', dest_addr_ton: 1 })).command_status, st.ESME_ROK);
      assert.strictEqual((await submit({ source_addr: 'OTHER', source_addr_ton: 5, destination_addr: '258841234567' })).command_status, 0x0a);
      assert.strictEqual((await submit({ source_addr: 'SHOP', source_addr_ton: 5, destination_addr: '19005550000', dest_addr_ton: 1 })).command_status, 0x0b);
      assert.strictEqual((await submit({ source_addr: 'SHOP', source_addr_ton: 5, destination_addr: '112' })).command_status, 0x0b);
      // Not "+1900*": a national number at TON 0.
      assert.strictEqual((await submit({ source_addr: 'SHOP', source_addr_ton: 5, destination_addr: '19005550000', dest_addr_ton: 0 })).command_status, st.ESME_ROK);
      assert.strictEqual(smsc.received.length, 2, 'only what passed reached the SMSC');
      // The same client over HTTP: the same rule, answered 422 with the status.
      const r = await h.httpCall(d.ports.api, '/v1/messages', { method: 'POST', auth: 'alice:alice-pw',
        body: { to: '+19005550001', from: 'SHOP', text: 'x' } });
      assert.strictEqual(r.status, 422, r.text);
      assert.strictEqual(r.json.command_status, 'ESME_RINVDSTADR');
      // Another client has no rules.
      const b = await h.bound(d.ports.smpp, 'bind_transmitter', 'bob', 'bob-pw');
      assert.strictEqual((await h.request(b, 'submit_sm', { source_addr: 'OTHER', destination_addr: '112', short_message: 'y' })).command_status, st.ESME_ROK);
      // The first refusal is said at once (the next ones within the second are counted, then said).
      assert.ok(d.grep(/client alice: submit_sm refused by address_filter \(source\.allowed: 'OTHER'\): ESME_RINVSRCADR/).length === 1);
      assert.ok(d.grep(/client alice: submit_sm from 'SHOP' to '19005550000' service_type '': refused by address_filter \(destination\.blocked \+1900\*\)/).length === 1);
      assert.ok(d.grep(/client alice: submit_sm from 'SHOP' to '258841234567' service_type ''$/).length === 1, 'the logger line');
      assert.ok(d.grep(/client alice: submit_sm from 'OTHER' to '258841234567' service_type '': refused by address_filter \(source\.allowed\)/).length === 1);

      // A reload lifts the block on 112 for the next message.
      const next = config([smsc], { source: rules.source, destination: { blocked: ['+1900*'] } });
      fs.writeFileSync(path.join(d.dir, 'smppd.yaml'), JSON.stringify(next));
      const re = await reload(d.ports.management);
      assert.strictEqual(re.status, 200, JSON.stringify(re.json));
      assert.strictEqual((await submit({ source_addr: 'SHOP', source_addr_ton: 5, destination_addr: '112' })).command_status, st.ESME_ROK);
      // A reload that adds a transform rule (only the middleware changes): said, and applied to
      // the next message.
      const withRule = { ...next, middleware: [...next.middleware,
        { type: 'transform', rules: [{ set: { source_addr: 'REWRITTEN' } }] }] };
      fs.writeFileSync(path.join(d.dir, 'smppd.yaml'), JSON.stringify(withRule));
      const again = await reload(d.ports.management);
      assert.strictEqual(again.status, 200, JSON.stringify(again.json));
      assert.ok(JSON.stringify(again.json).includes('middleware'), JSON.stringify(again.json));
      assert.strictEqual((await submit({ source_addr: 'SHOP', destination_addr: '258841234567' })).command_status, st.ESME_ROK);
      assert.strictEqual(smsc.received.at(-1).source_addr, 'REWRITTEN');
      s.close();
      b.close();
    } catch (e) {
      d.kill();
      await d.exited;
      e.message += `\n--- smppd log ---\n${d.text()}`;
      throw e;
    }
    await d.stopClean();
    // (rule labels hold a space: the exit's counter lines are read as they are)
    const counter = (labels) => {
      const line = d.lines.find((l) => l.includes(`counter smppd_middleware_rejections_total{${labels}} `));
      return line ? Number(/ (\d+)\s*$/.exec(line)[1]) : undefined;
    };
    assert.strictEqual(counter('client="alice",filter="address_filter",rule="destination.blocked +1900*"'), 2);
    assert.strictEqual(counter('client="alice",filter="address_filter",rule="destination.blocked 112"'), 1);
    assert.strictEqual(counter('client="alice",filter="address_filter",rule="source.allowed"'), 1);
  } finally {
    smsc.close();
  }
});

test('a pattern that is not one fails smppd validate with its file and line, a transform rule\'s regex too', () => {
  const dir = h.tempDir();
  const file = path.join(dir, 'smppd.yaml');
  fs.writeFileSync(file, [
    'listeners:',
    '  - name: smpp',
    '    type: smpp',
    '    address: 127.0.0.1:0',
    'clients:',
    '  - system_id: alice',
    '    password: pw',
    '    addresses:',
    '      destination:',
    '        blocked: ["+19*00"]',
    '',
  ].join('\n'));
  const v = spawnSync(h.binary, ['validate', '--config', file], { encoding: 'utf8' });
  assert.strictEqual(v.status, 1, v.stdout + v.stderr);
  assert.match(v.stdout + v.stderr, /smppd\.yaml:10:.*\+19\*00/);
  const transform = (match) => [
    'listeners:',
    '  - name: smpp',
    '    type: smpp',
    '    address: 127.0.0.1:0',
    'middleware:',
    '  - type: transform',
    '    rules:',
    '      - match: { client: alice }',
    '        set: { source_addr: X }',
    `      - match: { destination_addr: "${match}" }`,
    '        transform: { destination_addr: "+258${destination_addr}" }',
    '',
  ].join('\n');
  fs.writeFileSync(file, transform('^8[0-9]{8}$'));
  const ok = spawnSync(h.binary, ['validate', '--config', file], { encoding: 'utf8' });
  assert.strictEqual(ok.status, 0, ok.stdout + ok.stderr);
  assert.doesNotMatch(ok.stdout + ok.stderr, /not built/);
  fs.writeFileSync(file, transform('^8[0-9{8}$'));
  const bad = spawnSync(h.binary, ['validate', '--config', file], { encoding: 'utf8' });
  assert.strictEqual(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout + bad.stderr, /smppd\.yaml:10:.*invalid regular expression '\^8\[0-9\{8\}\$'/);
});

// UTF-16BE, as data_coding 8 carries it.
const ucs2 = (text) => {
  const b = Buffer.from(text, 'utf16le');
  for (let i = 0; i + 1 < b.length; i += 2) [b[i], b[i + 1]] = [b[i + 1], b[i]];
  return b;
};

test('transform rules: the SMSC gets the rewritten sender and destination and the opt-out text exactly, in GSM and UCS-2; a text grown past one part goes as parts with one response and the receipt back to the client', async () => {
  const smsc = await startSmsc();
  try {
    const cfg = config([smsc], undefined);
    cfg.middleware = [
      { type: 'address_filter' },
      { type: 'transform', rules: [
        { match: { client: 'alice' }, set: { source_addr: 'BRAND', source_addr_ton: 5, source_addr_npi: 0 } },
        { match: { destination_addr: '^8[0-9]{8}$' }, transform: { destination_addr: '+258${destination_addr}' } },
        { match: { service_type: 'MKTG' }, transform: { short_message: '${short_message} Reply STOP to opt out.' } },
      ] },
    ];
    const d = await h.startSmppd(cfg, { listeners: ['smpp', 'api', 'management'] });
    try {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', 'alice', 'alice-pw');
      const got = h.receipts(s);
      const submit = (fields) => h.request(s, 'submit_sm', {
        source_addr: 'SHOP', source_addr_ton: 1, destination_addr: '841234567', service_type: 'MKTG', ...fields });
      // The text as the npm SMSC decodes it by data_coding.
      const raw = (pdu) => pdu.short_message.message;

      // GSM 03.38 (data_coding 0): the text stays GSM.
      let r = await submit({ data_coding: 0, short_message: Buffer.from('Sale today') });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      let sent = smsc.received.at(-1);
      assert.strictEqual(sent.source_addr, 'BRAND');
      assert.strictEqual(sent.source_addr_ton, 5);
      assert.strictEqual(sent.destination_addr, '258841234567');
      assert.strictEqual(sent.dest_addr_ton, 1);
      assert.strictEqual(sent.dest_addr_npi, 1);
      assert.strictEqual(sent.data_coding, 0);
      assert.strictEqual(sent.esm_class & 0x40, 0);
      assert.strictEqual(String(raw(sent)), 'Sale today Reply STOP to opt out.');

      // UCS-2 stays UCS-2, the opt-out appended in it.
      r = await submit({ data_coding: 8, short_message: ucs2('Скидка сегодня') });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      sent = smsc.received.at(-1);
      assert.strictEqual(sent.data_coding, 8);
      assert.strictEqual(String(raw(sent)), 'Скидка сегодня Reply STOP to opt out.');

      // A GSM text that the opt-out takes past 160 septets: two parts (UDH, one reference), one
      // response to the client, and the receipt under smppd's id.
      const before = smsc.received.length;
      const body = 'x'.repeat(150);
      r = await submit({ data_coding: 0, short_message: Buffer.from(body), registered_delivery: 1 });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      assert.match(r.message_id, /^[0-9a-f]{12}$/);
      await waitUntil(() => smsc.received.length === before + 2, 3000, 'both parts at the SMSC');
      const parts = smsc.received.slice(before);
      let whole = '';
      for (const [i, p] of parts.entries()) {
        assert.strictEqual(p.esm_class & 0x40, 0x40, 'UDHI');
        assert.strictEqual(p.destination_addr, '258841234567');
        assert.strictEqual(p.source_addr, 'BRAND');
        const udh = p.short_message.udh[0];
        assert.deepStrictEqual([...udh.subarray(0, 2)], [0x00, 0x03], 'concatenation, 8-bit reference');
        assert.strictEqual(udh[3], 2, 'two parts');
        assert.strictEqual(udh[4], i + 1);
        assert.strictEqual(udh[2], parts[0].short_message.udh[0][2], 'one reference');
        whole += String(p.short_message.message);
      }
      assert.strictEqual(whole, `${body} Reply STOP to opt out.`);
      // Only the last part asked for a receipt (one message, one receipt), under the message's id.
      assert.deepStrictEqual(parts.map((p) => p.registered_delivery), [0, 1]);
      await waitUntil(() => got.length === 1, 3000, 'the receipt of the last part');
      await h.sleep(200);
      assert.strictEqual(got.length, 1, 'one receipt');
      const text = String(got[0].short_message.message);
      assert.match(text, new RegExp(`^id:${r.message_id} `), text);

      // A destination the rule makes too long for submit_sm: refused, named.
      r = await h.request(s, 'submit_sm', { source_addr: 'SHOP', destination_addr: '8'.repeat(9), short_message: 'x' });
      assert.strictEqual(r.command_status, st.ESME_ROK, 'nine digits: 12 with the country code');
      const cfgLong = JSON.parse(JSON.stringify(cfg));
      cfgLong.middleware[1].rules[1] = { match: { destination_addr: '^8[0-9]+$' }, transform: { destination_addr: '+258000000000${destination_addr}' } };
      fs.writeFileSync(path.join(d.dir, 'smppd.yaml'), JSON.stringify(cfgLong));
      assert.strictEqual((await reload(d.ports.management)).status, 200);
      const count = smsc.received.length;
      r = await h.request(s, 'submit_sm', { source_addr: 'SHOP', destination_addr: '8'.repeat(9), short_message: 'x' });
      assert.strictEqual(r.command_status, 0x0b, 'ESME_RINVDSTADR');
      assert.strictEqual(smsc.received.length, count);
      assert.ok(d.grep(/client alice: submit_sm refused by transform \(rule #2 destination_addr: '\+258000000000888888888'\): ESME_RINVDSTADR/).length === 1, 'the refusal named');
      s.close();
    } catch (e) {
      d.kill();
      await d.exited;
      e.message += `\n--- smppd log ---\n${d.text()}`;
      throw e;
    }
    await d.stopClean();
  } finally {
    smsc.close();
  }
});
