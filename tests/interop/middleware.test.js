// The middleware chain end to end: a client's address rules refuse what they say over SMPP and
// over HTTP alike (the status, the log line naming filter and rule, the metric), the logger
// writes a line per message, a reload changes the rules for the next message, and a bad pattern
// fails `smppd validate` with its file and line.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { spawnSync } = require('node:child_process');
const h = require('./daemon_harness');

const { status: st, startSmsc, upstream, upstreamsBound } = h;

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

test('a pattern that is not one fails smppd validate with its file and line; transform rules are said not to be built', () => {
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
  fs.writeFileSync(file, [
    'listeners:',
    '  - name: smpp',
    '    type: smpp',
    '    address: 127.0.0.1:0',
    'middleware:',
    '  - type: transform',
    '    rules:',
    '      - match: { client: alice }',
    '        set: { source_addr: X }',
    '',
  ].join('\n'));
  const w = spawnSync(h.binary, ['validate', '--config', file], { encoding: 'utf8' });
  assert.match(w.stdout + w.stderr, /smppd\.yaml:7:.*transform rules are not built yet/);
});
