// Receipts and MO to HTTP, end to end: messages sent through smppd's HTTP face (and an npm
// `smpp` ESME) to an npm `smpp` SMSC, whose receipts and MO come back to a local HTTP receiver
// as the callbacks say: signed JSON, retried while the receiver fails, given up when it refuses
// for good, shown in the message's status, kept across a restart with storage, and never in
// the way of the messages when the receiver hangs.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const path = require('node:path');
const h = require('./daemon_harness');

const { waitUntil, startSmsc, upstream, upstreamsBound, startReceiver } = h;

const secret = 'hmac-secret-of-alice';
// The receivers run on loopback: alice may call them (a customer's URLs may not reach private
// networks unless its client allows it).
const alice = { system_id: 'alice', password: 'alice-pw', callbacks: { secret, allow_private_networks: true } };
const bob = { system_id: 'bob', password: 'bob-pw' };

function config(smscs, { clients = [alice], extra = {} } = {}) {
  return {
    listeners: [{ name: 'api', type: 'http', address: '127.0.0.1:0' }, h.listener('smpp')],
    upstreams: [upstream('carrier', smscs)],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
    clients,
    ...extra,
  };
}

const send = (d, body) =>
  h.httpCall(d.ports.api, '/v1/messages', { method: 'POST', auth: 'alice:alice-pw', body });
const status = (d, id) => h.httpCall(d.ports.api, `/v1/messages/${id}`, { auth: 'alice:alice-pw' });

function verify(req) {
  const ts = req.headers['x-smppd-timestamp'];
  const expected = 'sha256=' + crypto.createHmac('sha256', secret).update(`${ts}.${req.body}`).digest('hex');
  return req.headers['x-smppd-signature'] === expected;
}

test('a message sent with callback_url gets its receipt POSTed there as signed JSON; the status shows the attempt', async () => {
  const smsc = await startSmsc({ receiptDelay: 20 });
  const receiver = await startReceiver();
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      // No registered_delivery asked: a callback_url asks for the receipt.
      const r = await send(d, { to: '+258841234567', from: 'SHOP', text: 'Your code is 1234',
        callback_url: receiver.url('/dlr?order=17'), client_ref: 'order-17' });
      assert.strictEqual(r.status, 202, r.text);
      assert.strictEqual(smsc.received[0].registered_delivery, 1);
      await waitUntil(() => receiver.requests.length === 1, 5000, 'the callback');
      const req = receiver.requests[0];
      assert.strictEqual(req.method, 'POST');
      assert.strictEqual(req.url, '/dlr?order=17');
      assert.match(req.headers['content-type'], /^application\/json/);
      assert.strictEqual(req.headers['x-smppd-event'], 'receipt');
      assert.ok(verify(req), `signature ${req.headers['x-smppd-signature']} does not verify`);
      const body = JSON.parse(req.body);
      assert.deepStrictEqual(
        [body.event, body.message_id, body.client_ref, body.to, body.from, body.state, body.stat, body.final, body.error],
        ['receipt', r.json.message_id, 'order-17', '258841234567', 'SHOP', 'delivered', 'DELIVRD', true, '000']);
      assert.strictEqual(body.smsc_id, '1000');
      assert.strictEqual(body.upstream, 'carrier');
      assert.strictEqual(body.submitted_at, '2026-11-27T12:00:00Z');
      assert.strictEqual(body.done_at, '2026-11-27T12:01:00Z');
      assert.match(body.receipt, new RegExp(`^id:${r.json.message_id} `), 'the receipt names the client\'s id');
      // The receipt did not also go to an SMPP receiver of alice: none is bound, and nothing waits.
      await waitUntil(async () => ((await status(d, r.json.message_id)).json.callbacks || []).length === 1,
        5000, 'the attempt in the status');
      const s = await status(d, r.json.message_id);
      assert.deepStrictEqual(s.json.callbacks.map((a) => [a.kind, a.http_status, a.outcome, a.final]),
        [['receipt', 200, 'delivered', true]]);
      // A tampered body does not verify.
      assert.ok(!verify({ ...req, body: req.body.replace('DELIVRD', 'UNDELIV') }));
    }, { listeners: ['api', 'smpp'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});

test('a failing receiver is retried with backoff until it takes the callback; one that refuses for good is given up', async () => {
  const smsc = await startSmsc({ receiptDelay: 10 });
  // /flaky fails twice (503, then a dropped answer), then takes it; /gone answers 410.
  let flaky = 0;
  const receiver = await startReceiver({
    answer: (req) => {
      if (req.url.startsWith('/flaky')) {
        flaky += 1;
        return flaky <= 2 ? { status: 503 } : { status: 204 };
      }
      return { status: 410, body: 'no such order' };
    },
  });
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      const a = await send(d, { to: '111', from: 'SHOP', text: 'a', callback_url: receiver.url('/flaky') });
      const b = await send(d, { to: '222', from: 'SHOP', text: 'b', callback_url: receiver.url('/gone') });
      assert.strictEqual(a.status, 202, a.text);
      assert.strictEqual(b.status, 202, b.text);
      await waitUntil(() => flaky === 3, 10000, 'three tries of the flaky receiver');
      const tries = receiver.requests.filter((r) => r.url === '/flaky');
      // 1 s, then 2 s apart (the backoff), each signed anew.
      assert.ok(tries[1].at - tries[0].at >= 900, `second try after ${tries[1].at - tries[0].at} ms`);
      assert.ok(tries[2].at - tries[1].at >= 1900, `third try after ${tries[2].at - tries[1].at} ms`);
      assert.ok(tries.every(verify));
      await waitUntil(async () => ((await status(d, a.json.message_id)).json.callbacks || []).length === 3,
        5000, 'three attempts shown');
      const shown = (await status(d, a.json.message_id)).json.callbacks;
      assert.deepStrictEqual(shown.map((x) => [x.http_status, x.outcome]),
        [[503, 'will retry'], [503, 'will retry'], [204, 'delivered']]);
      // 410: not tried again.
      await h.sleep(1500);
      assert.strictEqual(receiver.requests.filter((r) => r.url === '/gone').length, 1);
      const gone = (await status(d, b.json.message_id)).json.callbacks;
      assert.deepStrictEqual(gone.map((x) => [x.http_status, x.outcome, x.error]), [[410, 'given up', 'HTTP 410']]);
      assert.ok(d.grep(/client alice: receipt callback to http:\/\/127\.0\.0\.1:\d+\/gone given up after 1 attempt\(s\): HTTP 410/).length === 1,
        'the give-up is logged');
    }, { listeners: ['api', 'smpp'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});

test('a client\'s receipt_url takes the receipts of its SMPP messages, and mo_url its MO, long MO joined first', async () => {
  const smsc = await startSmsc({ receiptDelay: 10 });
  const receiver = await startReceiver();
  const client = { ...alice, callbacks: { secret, receipt_url: receiver.url('/receipts'), mo_url: receiver.url('/mo') } };
  try {
    await h.withSmppd(config([smsc], {
      clients: [client],
      extra: { mo_routes: [{ name: 'mo', match: { destination_addr: '3*' }, client: 'alice' }] },
    }), async (d) => {
      await upstreamsBound(d);
      // An SMPP transmitter: its receipts have nowhere to go by SMPP, and go to receipt_url.
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', 'alice', 'alice-pw');
      const r = await h.request(s, 'submit_sm', { source_addr: '3000', destination_addr: '5551', short_message: 'hi', registered_delivery: 1 });
      assert.strictEqual(r.command_status, 0);
      await waitUntil(() => receiver.requests.some((x) => x.url === '/receipts'), 5000, 'the receipt callback');
      const receipt = JSON.parse(receiver.requests.find((x) => x.url === '/receipts').body);
      assert.strictEqual(receipt.message_id, r.message_id);
      assert.strictEqual(receipt.state, 'delivered');

      // A long MO in two parts (UDH, UCS-2), then a short one in GSM.
      const udh = (seq) => Buffer.from([5, 0, 3, 0x42, 2, seq]);
      const text = 'Ol\u00e1 \u4f60\u597d, '.repeat(12);
      const ucs2 = Buffer.from(text, 'utf16le').swap16();
      const half = 66;  // code units
      smsc.mo({ source_addr: '258840000001', destination_addr: '3100', esm_class: 0x40, data_coding: 8,
        short_message: { udh: udh(1), message: ucs2.subarray(0, half * 2) } });
      smsc.mo({ source_addr: '258840000001', destination_addr: '3100', esm_class: 0x40, data_coding: 8,
        short_message: { udh: udh(2), message: ucs2.subarray(half * 2) } });
      smsc.mo({ source_addr: '258840000002', destination_addr: '3200', short_message: 'STOP' });
      await waitUntil(() => receiver.requests.filter((x) => x.url === '/mo').length === 2, 5000, 'two MO callbacks');
      const mos = receiver.requests.filter((x) => x.url === '/mo').map((x) => JSON.parse(x.body));
      const long = mos.find((m) => m.parts === 2);
      const short = mos.find((m) => m.parts === 1);
      assert.deepStrictEqual([long.event, long.from, long.to, long.text, long.data_coding, long.upstream],
        ['mo', '258840000001', '3100', text, 8, 'carrier']);
      assert.strictEqual(long.hex, ucs2.toString('hex'));
      assert.deepStrictEqual([short.text, short.from, short.to], ['STOP', '258840000002', '3200']);
      assert.ok(receiver.requests.filter((x) => x.url === '/mo').every(verify));
      s.close();
    }, { listeners: ['api', 'smpp'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});

test('a receiver that hangs holds only its callbacks: messages keep flowing at full speed', async () => {
  const smsc = await startSmsc({ receiptDelay: 1 });
  const receiver = await startReceiver({ answer: () => ({ hang: true }) });
  const client = { ...alice, callbacks: { timeout: '30s', max_concurrent: 2, allow_private_networks: true } };
  try {
    await h.withSmppd(config([smsc], { clients: [client] }), async (d) => {
      await upstreamsBound(d);
      const started = Date.now();
      const answers = [];
      for (let batch = 0; batch < 10; batch++) {
        answers.push(...await Promise.all(Array.from({ length: 30 }, (_, i) =>
          send(d, { to: String(1000 + batch * 30 + i), from: 'SHOP', text: 'x', callback_url: receiver.url('/hang') }))));
      }
      const took = Date.now() - started;
      assert.ok(answers.every((a) => a.status === 202), 'every message accepted');
      assert.ok(took < 5000, `300 messages took ${took} ms while the receiver hangs`);
      await waitUntil(() => smsc.receiptsSent === 300, 5000, 'every receipt sent');
      // The SMSC's receipts were all answered at once (taken), though none is called back yet.
      await waitUntil(() => smsc.receiptAnswers.length === 300, 5000, 'the receipts answered');
      assert.ok(smsc.receiptAnswers.every((s) => s === 0));
      // Only max_concurrent requests reached the hung receiver.
      await h.sleep(200);
      assert.strictEqual(receiver.requests.length, 2);
    }, { listeners: ['api', 'smpp'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});

test('with storage, a receipt and an MO whose callbacks could not be made yet are made after a restart', async () => {
  const smsc = await startSmsc({ receiptDelay: 10 });
  const dir = h.tempDir();
  // A port nothing listens on yet: connections are refused.
  const probe = await startReceiver();
  const port = probe.port;
  await probe.close();
  const client = { ...alice, callbacks: { secret, mo_url: `http://127.0.0.1:${port}/mo`, allow_private_networks: true } };
  const cfg = config([smsc], { clients: [client], extra: {
    storage: { enabled: true, sqlite: { path: path.join(dir, 'messages.db') } },
    mo_routes: [{ name: 'mo', match: { destination_addr: '3*' }, client: 'alice' }] } });
  let id;
  try {
    const d1 = await h.startSmppd(cfg, { dir });
    try {
      await upstreamsBound(d1);
      const r = await send(d1, { to: '4441', from: 'SHOP', text: 'stored', callback_url: `http://127.0.0.1:${port}/later`, client_ref: 'k1' });
      assert.strictEqual(r.status, 202, r.text);
      id = r.json.message_id;
      await waitUntil(() => smsc.receiptAnswers.length === 1, 5000, 'the receipt taken');
      await waitUntil(async () => ((await status(d1, id)).json.callbacks || []).length >= 1, 5000, 'a failed attempt');
      assert.match((await status(d1, id)).json.callbacks[0].error, /refused/);
      const moAnswers = [];
      smsc.sessions[0].deliver_sm({ source_addr: '258840000009', destination_addr: '3999', short_message: 'kept' },
        (resp) => moAnswers.push(resp.command_status));
      await waitUntil(() => moAnswers.length === 1, 5000, 'the MO taken');
      assert.deepStrictEqual(moAnswers, [0], 'stored, so the SMSC is told it is taken');
    } finally {
      await d1.stopClean();
    }
    const receiver = await startReceiver({ port });
    try {
      const d2 = await h.startSmppd(cfg, { dir });
      try {
        await waitUntil(() => receiver.requests.length === 2, 10000, 'the callbacks after the restart');
        const later = receiver.requests.find((x) => x.url === '/later');
        const body = JSON.parse(later.body);
        assert.deepStrictEqual([body.message_id, body.client_ref, body.state], [id, 'k1', 'delivered']);
        assert.ok(verify(later));
        const mo = JSON.parse(receiver.requests.find((x) => x.url === '/mo').body);
        assert.deepStrictEqual([mo.from, mo.to, mo.text], ['258840000009', '3999', 'kept']);
      } finally {
        await d2.stopClean();
      }
      // And once made, it is not made again by the next start.
      const d3 = await h.startSmppd(cfg, { dir });
      try {
        await h.sleep(1500);
        assert.strictEqual(receiver.requests.length, 2);
      } finally {
        await d3.stopClean();
      }
    } finally {
      await receiver.close();
    }
  } finally {
    smsc.close();
  }
});

test('a customer\'s callback_url may not reach loopback or private addresses unless its client allows it; the operator\'s receipt_url may', async () => {
  const smsc = await startSmsc({ receiptDelay: 10 });
  const receiver = await startReceiver();
  const carol = { system_id: 'carol', password: 'carol-pw', callbacks: { receipt_url: receiver.url('/operator') } };
  try {
    await h.withSmppd(config([smsc], { clients: [alice, bob, carol] }), async (d) => {
      await upstreamsBound(d);
      const r = await h.httpCall(d.ports.api, '/v1/messages', { method: 'POST', auth: 'bob:bob-pw',
        body: { to: '1', from: 'SHOP', text: 'x', callback_url: receiver.url('/internal') } });
      assert.strictEqual(r.status, 202, r.text);
      await waitUntil(async () => ((await h.httpCall(d.ports.api, `/v1/messages/${r.json.message_id}`,
        { auth: 'bob:bob-pw' })).json.callbacks || []).length === 1, 5000, 'the refused attempt');
      const shown = (await h.httpCall(d.ports.api, `/v1/messages/${r.json.message_id}`, { auth: 'bob:bob-pw' })).json.callbacks;
      assert.deepStrictEqual([shown[0].outcome, shown[0].final], ['given up', true]);
      assert.match(shown[0].error, /refused: 127\.0\.0\.1 is .*non-public address/);
      // The operator's own receipt_url (carol's) reaches loopback.
      const c = await h.httpCall(d.ports.api, '/v1/messages', { method: 'POST', auth: 'carol:carol-pw',
        body: { to: '2', from: 'SHOP', text: 'y', registered_delivery: true } });
      assert.strictEqual(c.status, 202, c.text);
      await waitUntil(() => receiver.requests.length === 1, 5000, 'the operator receipt');
      assert.strictEqual(receiver.requests[0].url, '/operator');
    }, { listeners: ['api', 'smpp'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});
