// Kannel's sendsms on smppd's HTTP listener (compat: [kannel]), as Kannel's real clients use it:
// RapidPro's courier and playSMS send GETs with dlr-mask and a dlr-url holding %d; the answers
// are Kannel's bytes exactly, and the delivery reports come back to the dlr-url by GET with
// Kannel's escapes filled in.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');

const { waitUntil, startSmsc, upstream, upstreamsBound, startReceiver } = h;

// The DLR receivers run on loopback: alice may call them.
const alice = { system_id: 'alice', password: 'alice-pw', callbacks: { allow_private_networks: true } };

function config(smscs, compat = ['kannel']) {
  return {
    listeners: [{ name: 'api', type: 'http', address: '127.0.0.1:0', compat }],
    upstreams: [upstream('carrier', smscs)],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
    clients: [alice],
  };
}

const sendsms = (d, query, options = {}) => h.httpCall(d.ports.api, `/cgi-bin/sendsms?${query}`, options);
const q = (fields) => Object.entries(fields).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

test('courier\'s GET: 202 "0: Accepted for delivery" exactly, and its dlr-url called with %d for the SMSC\'s ACK and the receipt', async () => {
  const smsc = await startSmsc({ receiptDelay: 50 });
  const receiver = await startReceiver();
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      // As nyaruka/courier's kannel handler builds it (dlr-mask 27: delivered, failed, ACK, NACK).
      const r = await sendsms(d, q({ username: 'alice', password: 'alice-pw', from: '2020',
        text: 'Hello World', to: '+258841234567',
        'dlr-url': receiver.url('/c/kn/8eb23e93/status?id=42&status=%d'), 'dlr-mask': '27' }));
      assert.strictEqual(r.status, 202);
      assert.strictEqual(r.text, '0: Accepted for delivery', 'no trailing newline');
      assert.match(r.headers['content-type'], /^text\/html/);
      assert.strictEqual(r.headers['cache-control'], 'no-cache');
      assert.strictEqual(r.headers.pragma, 'no-cache');
      const pdu = smsc.received[0];
      assert.deepStrictEqual([pdu.destination_addr, pdu.dest_addr_ton, pdu.source_addr, pdu.registered_delivery],
        ['258841234567', 1, '2020', 1]);
      assert.strictEqual(pdu.short_message.message.toString(), 'Hello World');
      await waitUntil(() => receiver.requests.length === 2, 5000, 'two reports');
      assert.deepStrictEqual(receiver.requests.map((x) => [x.method, x.url]), [
        ['GET', '/c/kn/8eb23e93/status?id=42&status=8'],
        ['GET', '/c/kn/8eb23e93/status?id=42&status=1'],
      ]);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});

test('playSMS\'s GET: UTF-16BE text with coding=2, dlr-mask 31 and the escapes it uses', async () => {
  const smsc = await startSmsc({ receiptDelay: 20 });
  const receiver = await startReceiver();
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      const text = Buffer.from('Ol\u00e1 \u4f60\u597d', 'utf16le').swap16();
      const dlr = receiver.url('/index.php?app=call&cat=gateway&plugin=kannel&access=dlr&type=%d&slid=77&uid=1&smsc=%i&to=%p&from=%P&ts=%T&fid=%F&acct=%o&a=%A');
      const query = `${q({ username: 'alice', password: 'alice-pw', from: 'PLAYSMS', to: '258841234567',
        coding: '2', charset: 'UTF-16BE', 'dlr-mask': '31', 'dlr-url': dlr, account: 'admin' })}` +
        `&text=${[...text].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`;
      const r = await sendsms(d, query);
      assert.strictEqual(r.status, 202, r.text);
      assert.strictEqual(r.text, '0: Accepted for delivery');
      assert.strictEqual(smsc.received[0].data_coding, 8);
      // (the npm peer decodes UCS-2 for us)
      assert.strictEqual(smsc.received[0].short_message.message, 'Ol\u00e1 \u4f60\u597d');
      await waitUntil(() => receiver.requests.length === 2, 5000, 'two reports');
      const final = new URL(receiver.requests[1].url, 'http://x');
      const p = Object.fromEntries(final.searchParams);
      assert.strictEqual(p.type, '1');
      assert.strictEqual(p.slid, '77');
      assert.strictEqual(p.smsc, 'carrier');
      assert.strictEqual(p.to, '258841234567');
      assert.strictEqual(p.from, 'PLAYSMS');
      assert.strictEqual(p.fid, '1000');
      assert.strictEqual(p.acct, 'admin');
      assert.ok(Math.abs(Number(p.ts) - Date.now() / 1000) < 30, `%T ${p.ts}`);
      assert.match(p.a, /^id:[0-9a-f]+ sub:001 dlvrd:001 .*stat:DELIVRD err:000/);
      assert.strictEqual(new URL(receiver.requests[0].url, 'http://x').searchParams.get('type'), '8');
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});

test('Kannel\'s refusals, byte for byte: credentials, fields, a message the SMSC refuses (with its NACK report)', async () => {
  const smsc = await startSmsc({ onSubmit: (pdu) => (pdu.destination_addr === '666' ? { status: 0x45 } : {}) });
  const receiver = await startReceiver();
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      const wrong = await sendsms(d, q({ username: 'alice', password: 'nope', from: 'X', to: '1', text: 'a' }));
      assert.deepStrictEqual([wrong.status, wrong.text], [403, 'Authorization failed for sendsms']);
      const stranger = await sendsms(d, q({ user: 'mallory', pass: 'x', from: 'X', to: '1', text: 'a' }));
      assert.deepStrictEqual([stranger.status, stranger.text], [403, 'Authorization failed for sendsms']);
      const noTo = await sendsms(d, q({ username: 'alice', password: 'alice-pw', from: 'X', text: 'a' }));
      assert.deepStrictEqual([noTo.status, noTo.text], [400, 'Missing receiver number, rejected']);
      const badMask = await sendsms(d, q({ username: 'alice', password: 'alice-pw', from: 'X', to: '1', text: 'a', 'dlr-mask': '99' }));
      assert.deepStrictEqual([badMask.status, badMask.text], [400, 'DLR-Mask field misformed, rejected']);
      assert.strictEqual(smsc.received.length, 0, 'nothing sent');

      const refused = await sendsms(d, q({ username: 'alice', password: 'alice-pw', from: 'X', to: '666', text: 'a',
        'dlr-mask': '16', 'dlr-url': receiver.url('/nack?t=%d&a=%A') }));
      assert.deepStrictEqual([refused.status, refused.text], [403, 'Not routable. Do not try again.']);
      await waitUntil(() => receiver.requests.length === 1, 5000, 'the NACK report');
      const p = new URL(receiver.requests[0].url, 'http://x').searchParams;
      assert.strictEqual(p.get('t'), '16');
      assert.strictEqual(p.get('a'), 'NACK/0x00000045/ESME_RSUBMITFAIL');

      // Other paths under /cgi-bin are not Kannel's business here: the JSON API's 404.
      const other = await h.httpCall(d.ports.api, '/cgi-bin/sendota');
      assert.strictEqual(other.status, 404);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});

test('a listener without compat: [kannel] does not serve sendsms', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([smsc], []), async (d) => {
      const r = await sendsms(d, q({ username: 'alice', password: 'alice-pw', from: 'X', to: '1', text: 'a' }));
      assert.strictEqual(r.status, 404);
      assert.strictEqual(r.json.error, 'not found');
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});

test('Kannel\'s POSTs: X-Kannel headers with the text as the body, and the XML document; a flash message by mclass', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      const headers = await h.httpCall(d.ports.api, '/cgi-bin/sendsms', { method: 'POST', body: 'Hello from a POST',
        headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-kannel-username': 'alice', 'x-kannel-password': 'alice-pw',
          'x-kannel-from': 'SHOP', 'x-kannel-to': '258841234567', 'x-kannel-mclass': '0', 'x-kannel-binfo': 'CMT' } });
      assert.deepStrictEqual([headers.status, headers.text], [202, '0: Accepted for delivery']);
      const first = smsc.received[0];
      assert.deepStrictEqual([first.source_addr, first.destination_addr, first.data_coding, first.service_type],
        ['SHOP', '258841234567', 0x10, 'CMT']);
      assert.strictEqual(first.short_message.message.toString(), 'Hello from a POST');

      const xml = '<?xml version="1.0"?>\n<message><submit>' +
        '<da><number>111</number></da><da><number>222</number></da><oa><number>SHOP</number></oa>' +
        '<ud>XML%20text</ud><from><username>alice</username><password>alice-pw</password></from>' +
        '</submit></message>';
      const doc = await h.httpCall(d.ports.api, '/cgi-bin/sendsms', { method: 'POST', body: xml,
        headers: { 'content-type': 'text/xml' } });
      assert.deepStrictEqual([doc.status, doc.text], [202, '0: Accepted for delivery']);
      assert.deepStrictEqual(smsc.received.slice(1).map((p) => [p.destination_addr, p.short_message.message.toString()]),
        [['111', 'XML text'], ['222', 'XML text']]);

      const noCredentials = await h.httpCall(d.ports.api, '/cgi-bin/sendsms', { method: 'POST', body: 'x',
        headers: { 'content-type': 'text/plain', 'x-kannel-to': '1', 'x-kannel-from': 'X' } });
      assert.deepStrictEqual([noCredentials.status, noCredentials.text], [403, 'Authorization failed for sendsms']);
      const form = await h.httpCall(d.ports.api, '/cgi-bin/sendsms', { method: 'POST', body: 'username=alice',
        headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.deepStrictEqual([form.status, form.text], [400, 'Invalid content-type']);
      assert.strictEqual(smsc.received.length, 3);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});
