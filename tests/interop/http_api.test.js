// The HTTP face (listeners of type http), end to end: node's own HTTP client against smppd, an
// npm `smpp` SMSC behind it. What reaches the SMSC, what the client is answered, and every way
// a request is refused: authentication, field errors, sizes, rates, CORS, health, storage.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const path = require('node:path');
const h = require('./daemon_harness');

const { waitUntil, startSmsc, upstream, upstreamsBound } = h;

const alice = { system_id: 'alice', password: 'alice-pw', api_keys: ['alice-key-0123456789'] };
const bob = { system_id: 'bob', password: 'bob-pw' };

function config(smscs, { listener = {}, clients = [alice, bob], extra = {} } = {}) {
  return {
    listeners: [{ name: 'api', type: 'http', address: '127.0.0.1:0', ...listener }],
    upstreams: [upstream('carrier', smscs)],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
    clients,
    ...extra,
  };
}

const call = h.httpCall;
// `smppd health ARGS`, synchronously: {status, stdout, stderr}.
const probe = (args) => require('node:child_process').spawnSync(h.binary, ['health', ...args],
  { encoding: 'utf8', timeout: 10000 });

const send = (d, body, options = {}) =>
  call(d.ports.api, '/v1/messages', { method: 'POST', auth: 'alice:alice-pw', body, ...options });

test('POST /v1/messages: the message reaches the SMSC as given, its id is the one the receipt names, GET shows it', async () => {
  const smsc = await startSmsc({ receiptDelay: 20 });
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      const r = await send(d, { to: '+258841234567', from: 'MYAPP', text: 'Hello World', registered_delivery: true });
      assert.strictEqual(r.status, 202, r.text);
      assert.match(r.json.message_id, /^[0-9a-f]{12}$/);
      assert.deepStrictEqual({ ...r.json, message_id: 'x' },
        { to: '+258841234567', message_id: 'x', status: 'accepted', parts: 1 });
      assert.strictEqual(smsc.received.length, 1);
      const pdu = smsc.received[0];
      assert.strictEqual(pdu.destination_addr, '258841234567');
      assert.strictEqual(pdu.dest_addr_ton, 1);
      assert.strictEqual(pdu.source_addr, 'MYAPP');
      assert.strictEqual(pdu.source_addr_ton, 5);
      assert.strictEqual(pdu.registered_delivery, 1);
      assert.strictEqual(pdu.data_coding, 0);
      assert.strictEqual(pdu.short_message.message.toString(), 'Hello World');
      // The receipt comes back to the id map: GET says so (its client only).
      await waitUntil(() => smsc.receiptsSent === 1, 5000, 'the receipt');
      await waitUntil(async () => (await call(d.ports.api, `/v1/messages/${r.json.message_id}`,
        { auth: 'alice:alice-pw' })).json.final_receipt === true, 5000, 'the receipt seen');
      const other = await call(d.ports.api, `/v1/messages/${r.json.message_id}`, { auth: 'bob:bob-pw' });
      assert.strictEqual(other.status, 404, 'another client does not see it');
      const bad = await call(d.ports.api, '/v1/messages/not-an-id!', { auth: 'alice:alice-pw' });
      assert.strictEqual(bad.status, 400);

      // A long text in UCS-2: two parts with a UDH, each its own id.
      const text = '\u00e9\u4f60'.repeat(40);  // 80 UTF-16 units
      const long = await send(d, { to: ['+258841234567'], from: '12345', text });
      assert.strictEqual(long.status, 200, long.text);
      const entry = long.json.results[0];
      assert.strictEqual(entry.status, 'accepted');
      assert.strictEqual(entry.parts, 2);
      assert.strictEqual(entry.part_ids.length, 2);
      assert.strictEqual(entry.message_id, entry.part_ids[0]);
      const parts = smsc.received.slice(1);
      assert.strictEqual(parts.length, 2);
      for (const p of parts) {
        assert.strictEqual(p.data_coding, 8);
        assert.strictEqual(p.esm_class & 0x40, 0x40, 'UDHI');
        assert.strictEqual(p.source_addr_ton, 0);
      }
      const udh = parts.map((p) => p.short_message.udh[0]);
      assert.deepStrictEqual(udh.map((u) => [u[0], u[1], u[3], u[4]]), [[0, 3, 2, 1], [0, 3, 2, 2]]);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});

test('lists and batches are answered per recipient and per message; one bad item fails only itself', async () => {
  const smsc = await startSmsc({ onSubmit: (pdu) => (pdu.destination_addr === '666' ? { status: 0x45 } : {}) });
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      const list = await send(d, { to: ['111', '666', '+222'], from: 'X', text: 'hi' });
      assert.strictEqual(list.status, 200, list.text);
      assert.deepStrictEqual(list.json.results.map((e) => [e.to, e.status, e.command_status]),
        [['111', 'accepted', undefined], ['666', 'refused', 'ESME_RSUBMITFAIL'], ['+222', 'accepted', undefined]]);
      assert.deepStrictEqual([list.json.accepted, list.json.refused], [2, 1]);

      const batch = await call(d.ports.api, '/v1/messages/batch', {
        method: 'POST', bearer: 'alice-key-0123456789',
        body: { messages: [{ to: '333', from: 'X', text: 'a', client_ref: 'r1' }, { to: '444', text: 'no sender' },
          { to: ['555', '556'], from: 'X', text: 'b' }] },
      });
      assert.strictEqual(batch.status, 200, batch.text);
      const [first, second, third] = batch.json.results;
      assert.strictEqual(first.status, 'accepted');
      assert.strictEqual(first.client_ref, 'r1');
      assert.deepStrictEqual([second.status, second.field, second.detail], ['refused', 'messages[1].from', 'required']);
      assert.deepStrictEqual(third.recipients.map((e) => e.status), ['accepted', 'accepted']);
      const got = smsc.received.map((p) => p.destination_addr);
      assert.deepStrictEqual(got.sort(), ['111', '222', '333', '555', '556', '666']);

      // A batch of lists naming more recipients than one request may: refused before anything
      // is built (the body is within its bound).
      const many = Array.from({ length: 1000 }, (_, i) => String(1000 + i));
      const tooMany = await call(d.ports.api, '/v1/messages/batch', { method: 'POST', auth: 'alice:alice-pw',
        body: { messages: Array.from({ length: 11 }, () => ({ to: many, from: 'X', text: 'y' })) } });
      assert.strictEqual(tooMany.status, 413, tooMany.text);
      assert.strictEqual(tooMany.json.error, 'too many recipients');
      assert.strictEqual(smsc.received.length, 6, 'nothing of it sent');

      // One message refused by the SMSC: 422 with its status; no route is 422 too.
      const refused = await send(d, { to: '666', from: 'X', text: 'c' });
      assert.strictEqual(refused.status, 422);
      assert.strictEqual(refused.json.command_status, 'ESME_RSUBMITFAIL');
      assert.strictEqual(refused.json.error, 'refused');
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});

test('authentication: none, wrong, a bearer key, an address or bind type the client may not use', async () => {
  const smsc = await startSmsc();
  try {
    const clients = [alice,
      { system_id: 'fenced', password: 'fenced', allowed_ips: ['10.0.0.0/8'] },
      { system_id: 'rx', password: 'rx-pw', bind_types: ['receiver'] }];
    await h.withSmppd(config([smsc], { clients }), async (d) => {
      await upstreamsBound(d);
      const body = { to: '1', from: 'X', text: 'y' };
      let r = await call(d.ports.api, '/v1/messages', { method: 'POST', body });
      assert.strictEqual(r.status, 401);
      assert.strictEqual(r.headers['www-authenticate'], 'Basic realm="smppd"');
      assert.strictEqual(r.json.error, 'authentication required');
      r = await send(d, body, { auth: 'alice:wrong' });
      assert.deepStrictEqual([r.status, r.json.detail], [401, 'wrong credentials']);
      r = await send(d, body, { auth: 'nobody:x' });
      assert.deepStrictEqual([r.status, r.json.detail], [401, 'wrong credentials'], 'an unknown client looks the same');
      r = await send(d, body, { auth: undefined, bearer: 'alice-key-0123456789' });
      assert.strictEqual(r.status, 202, r.text);
      r = await send(d, body, { auth: undefined, bearer: 'alice-key-wrong-456789' });
      assert.strictEqual(r.status, 401);
      r = await send(d, body, { auth: 'fenced:fenced' });
      assert.deepStrictEqual([r.status, r.json.detail], [403, 'client_ip_not_allowed']);
      r = await send(d, body, { auth: 'rx:rx-pw' });
      assert.deepStrictEqual([r.status, r.json.detail], [403, 'bind_type_not_allowed']);
      assert.strictEqual(smsc.received.length, 1, 'only the authenticated message went');
      // Failures count with SMPP binds': each further one from this address is answered later
      // (250 ms, doubling), without holding up anyone else.
      const t0 = h.now();
      r = await send(d, body, { auth: 'alice:guess-1' });
      const slow = h.now() - t0;
      assert.strictEqual(r.status, 401);
      assert.ok(slow >= 1500, `a failure after four others answered after ${slow} ms`);
      const t1 = h.now();
      assert.strictEqual((await call(d.ports.api, '/v1/health')).status, 200);
      assert.ok(h.now() - t1 < 500, 'others are not held');
      r = await send(d, body);
      assert.strictEqual(r.status, 202, 'the right password still goes (the address is not locked yet)');
      // No secret in the log.
      assert.ok(!d.text().includes('alice-key-0123456789'));
      assert.ok(!d.text().includes('alice-pw'));
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});

test('bad requests get a 4xx naming the problem; sizes are bounded (413, 431); unknown paths 404', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([smsc], { listener: { http: { max_body_bytes: 2048, max_header_bytes: 2048 } } }), async (d) => {
      await upstreamsBound(d);
      const cases = [
        ['{not json', '', /^malformed JSON at byte 1/],
        [{ to: '1', from: 'X', text: 'y', registred_delivery: true }, 'registred_delivery', /unknown field/],
        [{ to: 1, from: 'X', text: 'y' }, 'to', /expected a string/],
        [{ to: '1', from: 'X', text: 'y', registered_delivery: 1 }, 'registered_delivery', /true or false/],
        [{ to: '1', from: 'X', text: 'y'.repeat(1600) }, 'text', /parts/],
        [{ to: '1', from: 'X', text: 'y', callback_url: 'ftp://example.com/cb' }, 'callback_url', /http:\/\/ or https:\/\//],
      ];
      for (const [body, field, detail] of cases) {
        const r = await send(d, body);
        assert.strictEqual(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
        assert.strictEqual(r.json.field, field, r.text);
        assert.match(r.json.detail, detail, r.text);
      }
      let r = await send(d, { to: '1', from: 'X', text: 'y'.repeat(3000) });
      assert.strictEqual(r.status, 413);
      assert.strictEqual(r.json.error, 'request body too large');
      r = await call(d.ports.api, '/v1/messages', { method: 'POST', auth: 'alice:alice-pw', headers: { 'x-big': 'z'.repeat(3000) }, body: {} });
      assert.strictEqual(r.status, 431);
      r = await call(d.ports.api, '/v2/other', { auth: 'alice:alice-pw' });
      assert.strictEqual(r.status, 404);
      r = await call(d.ports.api, '/v1/messages', { auth: 'alice:alice-pw' });
      assert.strictEqual(r.status, 405);
      assert.strictEqual(smsc.received.length, 0);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});

test('rates: the listener\'s requests_per_second and the client\'s own rate_limit answer 429 with Retry-After', async () => {
  const smsc = await startSmsc();
  try {
    const clients = [{ ...alice, rate_limit: { messages_per_second: 1, burst: 2 } }, bob];
    await h.withSmppd(config([smsc], { clients, listener: { rate_limit: { requests_per_second: 1, burst: 6 } } }), async (d) => {
      await upstreamsBound(d);
      const body = { to: '1', from: 'X', text: 'y' };
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await send(d, body)).status);
      assert.deepStrictEqual(statuses, [202, 202, 429], 'the client\'s burst of 2');
      const throttled = await send(d, body);
      assert.strictEqual(throttled.json.command_status, 'ESME_RTHROTTLED');
      assert.strictEqual(throttled.headers['retry-after'], '1');
      // bob has no limit of his own, but the listener's 6 requests are spent now.
      const b1 = await send(d, body, { auth: 'bob:bob-pw' });
      const b2 = await send(d, body, { auth: 'bob:bob-pw' });
      const b3 = await send(d, body, { auth: 'bob:bob-pw' });
      assert.deepStrictEqual([b1.status, b2.status, b3.status], [202, 202, 429]);
      assert.strictEqual(b3.json.error, 'too many requests');
      assert.strictEqual(b3.headers['retry-after'], '1');
      assert.strictEqual(smsc.received.length, 4);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});

test('CORS: a preflight from an allowed origin is answered, others are refused; answers carry the origin', async () => {
  const smsc = await startSmsc();
  try {
    const cors = { enabled: true, allowed_origins: ['https://app.example.com'], allowed_methods: ['GET', 'POST'],
      allowed_headers: ['Authorization', 'Content-Type'] };
    await h.withSmppd(config([smsc], { listener: { cors } }), async (d) => {
      await upstreamsBound(d);
      let r = await call(d.ports.api, '/v1/messages', { method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
      assert.strictEqual(r.status, 204);
      assert.strictEqual(r.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.strictEqual(r.headers['access-control-allow-methods'], 'GET, POST');
      assert.strictEqual(r.headers['access-control-allow-headers'], 'Authorization, Content-Type');
      r = await call(d.ports.api, '/v1/messages', { method: 'OPTIONS',
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
      assert.strictEqual(r.status, 403);
      r = await call(d.ports.api, '/v1/messages', { method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'DELETE' } });
      assert.strictEqual(r.status, 403);
      r = await send(d, { to: '1', from: 'X', text: 'y' }, { headers: { origin: 'https://app.example.com' } });
      assert.strictEqual(r.status, 202);
      assert.strictEqual(r.headers['access-control-allow-origin'], 'https://app.example.com');
      r = await send(d, { to: '1', from: 'X', text: 'y' }, { headers: { origin: 'https://evil.example.com' } });
      assert.strictEqual(r.headers['access-control-allow-origin'], undefined);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});

test('health follows the upstream; metrics need credentials; a slow SMSC holds the answer, not the listener', async () => {
  const smsc = await startSmsc({ hold: true });
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d);
      let r = await call(d.ports.api, '/v1/health');
      assert.deepStrictEqual([r.status, r.json.status], [200, 'ready']);
      r = await call(d.ports.api, '/health');
      assert.strictEqual(r.status, 200);
      // `smppd health` (a container's HEALTHCHECK): exit 0 when ready, 1 when not or not there.
      const url = `http://127.0.0.1:${d.ports.api}`;
      assert.strictEqual(probe(['--url', url]).status, 0);
      assert.strictEqual(probe(['--url', url, '--live']).status, 0);
      r = await call(d.ports.api, '/v1/metrics');
      assert.strictEqual(r.status, 401);
      // The SMSC holds its answers: the request waits for them, others are served meanwhile.
      const waiting = send(d, { to: '1', from: 'X', text: 'held' });
      await waitUntil(() => smsc.received.length === 1, 5000, 'the held message at the SMSC');
      r = await call(d.ports.api, '/v1/metrics', { auth: 'alice:alice-pw' });
      assert.strictEqual(r.status, 200);
      assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
      assert.match(r.text, /smppd_http_requests_total\{listener="api",code="401"\} 1/);
      smsc.release();
      assert.strictEqual((await waiting).status, 202);
      // A client that goes away before its answer: smppd goes on.
      smsc.holding = true;
      const gone = new Promise((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: d.ports.api, path: '/v1/messages', method: 'POST',
          headers: { authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` } });
        req.on('error', () => resolve());
        req.end(JSON.stringify({ to: '2', from: 'X', text: 'abandoned' }));
        setTimeout(() => { req.destroy(); resolve(); }, 200);
      });
      await gone;
      smsc.release();
      await waitUntil(() => smsc.received.length === 2, 5000, 'the abandoned message still sent');
      assert.strictEqual((await send(d, { to: '3', from: 'X', text: 'after' })).status, 202);
      // The SMSC goes away: not ready.
      smsc.close();
      await waitUntil(async () => (await call(d.ports.api, '/v1/health')).status === 503, 10000, 'not ready');
      r = await call(d.ports.api, '/v1/health');
      assert.strictEqual(r.json.detail, 'no upstream is bound and healthy');
      // Alive all the same: an orchestrator must not restart it for its carrier.
      r = await call(d.ports.api, '/health/live');
      assert.deepStrictEqual([r.status, r.json.status], [200, 'alive']);
      assert.strictEqual((await call(d.ports.api, '/v1/health/live', { method: 'POST' })).status, 405);
      const notReady = probe(['--url', url]);
      assert.strictEqual(notReady.status, 1);
      assert.match(notReady.stdout, /503 .*no upstream is bound and healthy/);
      assert.strictEqual(probe(['--url', url, '--live']).status, 0);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});

test('with storage: accepted once stored, the history shows its way, another client sees nothing', async () => {
  const smsc = await startSmsc({ receiptDelay: 10 });
  const dir = h.tempDir();
  try {
    const cfg = config([smsc], { extra: { storage: { sqlite: { path: path.join(dir, 'messages.db') } } } });
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const r = await send(d, { to: '+4912345', from: 'SHOP', text: 'stored', registered_delivery: true });
      assert.strictEqual(r.status, 202, r.text);
      await waitUntil(async () => (await call(d.ports.api, `/v1/messages/${r.json.message_id}`,
        { auth: 'alice:alice-pw' })).json.state === 'delivered', 5000, 'delivered');
      const m = await call(d.ports.api, `/v1/messages/${r.json.message_id}`, { auth: 'alice:alice-pw' });
      assert.strictEqual(m.json.client, 'alice');
      assert.strictEqual(m.json.destination, '4912345');
      assert.ok(m.json.history.length >= 2, m.text);
      const other = await call(d.ports.api, `/v1/messages/${r.json.message_id}`, { auth: 'bob:bob-pw' });
      assert.strictEqual(other.status, 404);
      const health = await call(d.ports.api, '/v1/health');
      assert.strictEqual(health.status, 200);
    }, { listeners: ['api'], dir });
  } finally {
    smsc.close();
  }
});

test('a W3C traceparent on the request: the message\'s spans join the caller\'s trace', async () => {
  const smsc = await startSmsc();
  const collector = await h.startCollector();
  try {
    const cfg = config([smsc], { extra: {
      tracing: { otlp: { endpoint: `http://127.0.0.1:${collector.port}` }, sampling: { ratio: 0 } } } });
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      // Sampled by the caller (flags 01), though smppd's own ratio is 0.
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parentId = '00f067aa0ba902b7';
      const r = await send(d, { to: '1', from: 'X', text: 'traced' },
        { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
      assert.strictEqual(r.status, 202, r.text);
      await waitUntil(() => collector.spans.some((s) => s.name === 'smpp.upstream.submit_sm'), 5000, 'the spans');
      const root = collector.spans.find((s) => s.name === 'smpp.submit_sm');
      assert.strictEqual(root.traceId, traceId);
      assert.strictEqual(root.parentSpanId, parentId);
      assert.notStrictEqual(root.spanId, parentId);
      // Without one, nothing at ratio 0.
      const before = collector.spans.length;
      assert.strictEqual((await send(d, { to: '1', from: 'X', text: 'untraced' })).status, 202);
      await h.sleep(1500);
      assert.strictEqual(collector.spans.length, before);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
    collector.close();
  }
});

test('a client that sends requests and never reads the answers is cut off after write_timeout; others are served meanwhile', async () => {
  const net = require('node:net');
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([smsc], { listener: { http: { write_timeout: '1s' } } }), async (d) => {
      await upstreamsBound(d);
      const auth = Buffer.from('alice:alice-pw').toString('base64');
      const one = `GET /v1/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\n\r\n`;
      const metrics = await call(d.ports.api, '/v1/metrics', { auth: 'alice:alice-pw' });
      // Enough pipelined answers to fill the socket buffers on both sides many times over.
      const count = Math.ceil((64 << 20) / Math.max(metrics.text.length, 1000));
      const sock = net.connect(d.ports.api, '127.0.0.1');
      await new Promise((resolve) => sock.on('connect', resolve));
      sock.pause();  // never read
      sock.write(one.repeat(Math.min(count, 20000)));
      const started = Date.now();
      // Others are served while it is stuck.
      for (let i = 0; i < 5; i++) {
        const r = await call(d.ports.api, '/health');
        assert.strictEqual(r.status, 200);
      }
      assert.ok(Date.now() - started < 1000, 'served at once');
      // Within a few seconds smppd gives up on it: reading now finds the end of the stream.
      await h.sleep(3000);
      let received = 0;
      const ended = new Promise((resolve) => { sock.on('end', resolve); sock.on('close', resolve); sock.on('error', resolve); });
      sock.on('data', (c) => { received += c.length; });
      sock.resume();
      await h.within(5000, ended, 'the connection closed by smppd');
      assert.ok(received < count * metrics.text.length, `only part of the answers came (${received} bytes)`);
    }, { listeners: ['api'] });
  } finally {
    smsc.close();
  }
});
