// Jasmin's HTTP and REST APIs on smppd's HTTP listener (compat: [jasmin]), as RapidPro's
// courier uses them: /send with dlr-url and dlr-level, answered `Success "<id>"`, and DLRs to
// the dlr-url with Jasmin's fields, made again until the receiver says ACK/Jasmin; the REST
// API's /secure/send and /secure/sendbatch with its batch callbacks; Jasmin's refusals.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');

const { waitUntil, startSmsc, upstream, upstreamsBound, startReceiver } = h;

// The DLR receivers run on loopback: alice may call them.
const alice = { system_id: 'alice', password: 'alice-pw', callbacks: { allow_private_networks: true } };

function config(smscs) {
  return {
    listeners: [{ name: 'api', type: 'http', address: '127.0.0.1:0', compat: ['jasmin'] }],
    upstreams: [upstream('carrier', smscs)],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
    clients: [alice],
  };
}

const q = (fields) => Object.entries(fields).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
const form = (body) => Object.fromEntries(new URLSearchParams(body));

test('courier\'s /send: Success "<id>", and its level-2 DLR POSTed with Jasmin\'s fields until ACK/Jasmin', async () => {
  const smsc = await startSmsc({ receiptDelay: 20 });
  let calls = 0;
  // The first DLR is answered without the acknowledgement: Jasmin's sender calls again.
  const receiver = await startReceiver({ answer: () => ((calls += 1) === 1 ? { body: 'OK' } : { body: 'ACK/Jasmin' }) });
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      // As nyaruka/courier's jasmin handler sends it.
      const r = await h.httpCall(d.ports.api, `/send?${q({ username: 'alice', password: 'alice-pw', from: '2020',
        to: '+258841234567', content: 'Simple Message', dlr: 'yes', 'dlr-level': '2', 'dlr-method': 'POST',
        'dlr-url': receiver.url('/c/js/uuid/status'), coding: '0' })}`);
      assert.strictEqual(r.status, 200, r.text);
      const m = /^Success "([0-9a-f]+)"$/.exec(r.text);
      assert.ok(m, r.text);
      assert.match(r.headers['content-type'], /^text\/plain/);
      assert.deepStrictEqual([smsc.received[0].destination_addr, smsc.received[0].registered_delivery], ['258841234567', 1]);
      await waitUntil(() => receiver.requests.length === 2, 5000, 'the DLR, twice');
      const [first, second] = receiver.requests;
      assert.strictEqual(first.method, 'POST');
      assert.match(first.headers['content-type'], /^application\/x-www-form-urlencoded/);
      const f = form(first.body);
      assert.deepStrictEqual([f.id, f.message_status, f.level, f.connector, f.id_smsc, f.sub, f.dlvrd, f.err, f.text],
        [m[1], 'DELIVRD', '2', 'carrier', '1000', '001', '001', '000', 'hello']);
      assert.deepStrictEqual([f.subdate, f.donedate], ['2611271200', '2611271201']);
      assert.strictEqual(second.body, first.body);
      assert.ok(second.at - first.at >= 900, 'called again after a second');
      await h.sleep(1500);
      assert.strictEqual(receiver.requests.length, 2, 'not called once acknowledged');
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});

test('dlr-level 3 by GET: level 1 with the SMSC\'s answer, then level 2; /ping, /balance, /rate; Jasmin\'s refusals', async () => {
  const smsc = await startSmsc({ receiptDelay: 50 });
  const receiver = await startReceiver({ answer: () => ({ body: 'ACK/Jasmin' }) });
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      const r = await h.httpCall(d.ports.api, `/send?${q({ username: 'alice', password: 'alice-pw', to: '1234',
        content: 'x', 'dlr-level': '3', 'dlr-method': 'get', 'dlr-url': receiver.url('/dlr?k=v') })}`);
      assert.strictEqual(r.status, 200, r.text);
      const id = /"(.*)"/.exec(r.text)[1];
      await waitUntil(() => receiver.requests.length === 2, 5000, 'two DLRs');
      const [one, two] = receiver.requests.map((x) => Object.fromEntries(new URL(x.url, 'http://x').searchParams));
      assert.deepStrictEqual(one, { k: 'v', id, message_status: 'ESME_ROK', level: '1', connector: 'carrier' });
      assert.deepStrictEqual([two.id, two.level, two.message_status], [id, '2', 'DELIVRD']);
      assert.ok(receiver.requests.every((x) => x.method === 'GET'));

      const ping = await h.httpCall(d.ports.api, '/ping');
      assert.deepStrictEqual([ping.status, ping.text], [200, 'Jasmin/PONG']);
      const balance = await h.httpCall(d.ports.api, `/balance?${q({ username: 'alice', password: 'alice-pw' })}`);
      assert.deepStrictEqual([balance.status, balance.json], [200, { balance: 'ND', sms_count: 'ND' }]);
      const rate = await h.httpCall(d.ports.api, `/rate?${q({ username: 'alice', password: 'alice-pw', to: '1', content: 'y'.repeat(200) })}`);
      assert.deepStrictEqual([rate.status, rate.json], [200, { submit_sm_count: 2, unit_rate: 0 }]);

      const unknown = await h.httpCall(d.ports.api, `/send?${q({ username: 'alice', password: 'alice-pw', to: '1', content: 'x', text: 'y' })}`);
      assert.deepStrictEqual([unknown.status, unknown.text], [400, 'Error "Argument [text] is unknown."']);
      const wrong = await h.httpCall(d.ports.api, `/send?${q({ username: 'alice', password: 'nope', to: '1', content: 'x' })}`);
      assert.deepStrictEqual([wrong.status, wrong.text], [403, 'Error "Authentication failure for username:alice"']);
      const both = await h.httpCall(d.ports.api, `/send?${q({ username: 'alice', password: 'alice-pw', to: '1', content: 'x', 'hex-content': '41' })}`);
      assert.deepStrictEqual([both.status, both.text], [400, 'Error "content and hex-content cannot be used both in same request."']);
      assert.strictEqual(smsc.received.length, 1, 'no refused request reached the SMSC');
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});

test('the REST API: /secure/send with Basic credentials, /secure/sendbatch with its callbacks', async () => {
  const smsc = await startSmsc({ onSubmit: (pdu) => (pdu.destination_addr === '666' ? { status: 0x45 } : {}) });
  const receiver = await startReceiver();
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      const sent = await h.httpCall(d.ports.api, '/secure/send', { method: 'POST', auth: 'alice:alice-pw',
        body: { to: '258841234567', from: 'SHOP', content: 'REST', dlr_level: 2, dlr_url: receiver.url('/dlr') } });
      assert.strictEqual(sent.status, 200, sent.text);
      assert.match(sent.json.data, /^Success "[0-9a-f]+$/, 'the closing quote dropped, as Jasmin does');
      const anonymous = await h.httpCall(d.ports.api, '/secure/send', { method: 'POST', body: { to: '1', content: 'x' } });
      assert.strictEqual(anonymous.status, 401);

      const batch = await h.httpCall(d.ports.api, '/secure/sendbatch', { method: 'POST', auth: 'alice:alice-pw',
        body: { globals: { from: 'SHOP' }, messages: [{ to: ['111', '222'], content: 'hi' }, { to: '666', content: 'no' }],
          batch_config: { callback_url: receiver.url('/ok'), errback_url: receiver.url('/err') } } });
      assert.strictEqual(batch.status, 200, batch.text);
      assert.strictEqual(batch.json.data.messageCount, 3);
      const batchId = batch.json.data.batchId;
      await waitUntil(() => receiver.requests.filter((x) => x.url.startsWith('/ok') || x.url.startsWith('/err')).length === 3,
        5000, 'the batch callbacks');
      const calls = receiver.requests.filter((x) => !x.url.startsWith('/dlr'))
        .map((x) => ({ path: x.url.split('?')[0], ...Object.fromEntries(new URL(x.url, 'http://x').searchParams) }));
      const byTo = Object.fromEntries(calls.map((c) => [c.to, c]));
      assert.deepStrictEqual([byTo['111'].path, byTo['111'].status, byTo['111'].batchId], ['/ok', '1', batchId]);
      assert.match(byTo['222'].statusText, /^Success "[0-9a-f]+"$/);
      assert.deepStrictEqual([byTo['666'].path, byTo['666'].status], ['/err', '0']);
      assert.match(byTo['666'].statusText, /^HTTPAPI error: Error "/);
      const badAuth = await h.httpCall(d.ports.api, '/secure/sendbatch', { method: 'POST', auth: 'alice:nope',
        body: { messages: [{ to: '1', content: 'x' }] } });
      assert.strictEqual(badAuth.status, 412);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
    await receiver.close();
  }
});

test('/send by POST: a form body and a JSON body (Content-Type exactly application/json)', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      const byForm = await h.httpCall(d.ports.api, '/send', { method: 'POST',
        body: q({ username: 'alice', password: 'alice-pw', to: '111', content: 'form body', priority: '2' }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.strictEqual(byForm.status, 200, byForm.text);
      const byJson = await h.httpCall(d.ports.api, '/send', { method: 'POST',
        body: { username: 'alice', password: 'alice-pw', to: '+222', 'hex-content': '004a0053004f004e', coding: 8 } });
      assert.strictEqual(byJson.status, 200, byJson.text);
      assert.deepStrictEqual(smsc.received.map((p) => [p.destination_addr, p.priority_flag, p.data_coding]),
        [['111', 2, 0], ['222', 0, 8]]);
      assert.strictEqual(smsc.received[0].short_message.message.toString(), 'form body');
      assert.strictEqual(smsc.received[1].short_message.message, 'JSON');
      assert.strictEqual(smsc.received[1].dest_addr_ton, 1);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});
