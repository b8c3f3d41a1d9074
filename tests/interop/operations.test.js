// Operating smppd: the Prometheus endpoint scraped under traffic and checked against what the
// test sent; the management API with and without credentials (basic, bearer, over TLS), each
// endpoint and its errors; an operator's disconnect and suspend seen by the peers they touch.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const net = require('node:net');
const fs = require('node:fs');
const h = require('./daemon_harness');

const { status: st, waitUntil, startSmsc, upstream, upstreamsBound } = h;

const alice = { system_id: 'alice', password: 'alice-pw' };
const bob = { system_id: 'bob', password: 'bob-pw' };

function config(upstreams, extra = {}) {
  return {
    listeners: [h.listener('smpp')],
    upstreams,
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: upstreams[0].name }],
    clients: [alice, bob],
    metrics: { prometheus: { address: '127.0.0.1:0' } },
    management: { address: '127.0.0.1:0', auth: { type: 'basic', username: 'ops', password: 's3cret' } },
    ...extra,
  };
}

const listeners = ['smpp', 'metrics', 'management'];

const call = h.httpCall;

const ops = (port, path, options = {}) => call(port, path, { auth: 'ops:s3cret', ...options });

// The text exposition, parsed as a scraper would: every family's HELP and TYPE, every sample.
// Fails on a line that is none of these, a sample before its family's TYPE, or a family twice.
function parseExposition(text) {
  const families = {};
  const samples = {};
  let current = null;
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.split('\n').slice(0, -1)) {
    let m = /^# HELP (\S+) (.*)$/.exec(line);
    if (m) {
      assert.ok(!families[m[1]], `family ${m[1]} appears twice`);
      families[m[1]] = { help: m[2] };
      current = m[1];
      continue;
    }
    m = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (m) {
      assert.strictEqual(m[1], current, 'TYPE follows its HELP');
      families[m[1]].type = m[2];
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const base = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(m[1] === current || (families[current].type === 'histogram' && base === current),
      `sample ${m[1]} outside its family (${current})`);
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value), `a number: ${line}`);
    samples[m[1] + (m[2] || '')] = value;
  }
  return { families, samples };
}

async function scrape(d) {
  const r = await call(d.ports.metrics, '/metrics');
  assert.strictEqual(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  return parseExposition(r.text);
}

async function submitMany(session, n, extra = {}) {
  const sent = [];
  for (let i = 0; i < n; i++) {
    sent.push(h.request(session, 'submit_sm',
      { destination_addr: `4670000${i}`, short_message: `m${i}`, ...extra }));
  }
  return Promise.all(sent);
}

test('the metrics under traffic count exactly what was sent, per client, status and upstream', async () => {
  const smsc = await startSmsc({
    receiptDelay: 5,
    onSubmit: (pdu) => (pdu.short_message.message.startsWith('refuse') ? { status: 0x45 } : {}),
  });
  try {
    await h.withSmppd(config([upstream('carrier', [smsc])]), async (d) => {
      await upstreamsBound(d);
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const b = await h.bound(d.ports.smpp, 'bind_transceiver', bob.system_id, bob.password);
      const gotA = h.receipts(a);
      h.receipts(b);
      const before = await scrape(d);
      assert.strictEqual(before.samples['smppd_connections_active{type="bound",client="alice"}'], 1);
      assert.strictEqual(before.samples['smppd_connections_active{type="bound",client="bob"}'], 1);
      await submitMany(a, 120, { registered_delivery: 1 });
      await submitMany(b, 30);
      const refused = await h.request(a, 'submit_sm', { destination_addr: '1', short_message: 'refuse me' });
      assert.strictEqual(refused.command_status, 0x45);
      await waitUntil(() => gotA.length === 120, 5000, 'alice\'s receipts');
      const { families, samples } = await scrape(d);
      const mt = (client, status) =>
        samples[`smppd_messages_total{direction="mt",client="${client}",upstream="carrier",status="${status}"}`];
      assert.strictEqual(mt('alice', 'ESME_ROK'), 120);
      assert.strictEqual(mt('alice', 'ESME_RSUBMITFAIL'), 1);
      assert.strictEqual(mt('bob', 'ESME_ROK'), 30);
      assert.strictEqual(samples['smppd_receipts_total{upstream="carrier",client="alice"}'], 120);
      assert.strictEqual(samples['smppd_route_matches_total{route="all"}'], 151);
      // PDUs on both sides, and the refusal where it came from and where it went.
      const pdus = (side, dir, cmd) => samples[`smppd_pdus_total{side="${side}",direction="${dir}",command="${cmd}"}`];
      assert.strictEqual(pdus('client', 'received', 'submit_sm'), 151);
      assert.strictEqual(pdus('client', 'sent', 'submit_sm_resp'), 151);
      assert.strictEqual(pdus('client', 'received', 'bind_transceiver'), 2);
      assert.strictEqual(pdus('upstream', 'sent', 'submit_sm'), 151);
      assert.strictEqual(pdus('upstream', 'received', 'deliver_sm'), 120);
      assert.strictEqual(pdus('client', 'sent', 'deliver_sm'), 120);
      assert.strictEqual(
        samples['smppd_pdu_errors_total{side="upstream",direction="received",command_status="ESME_RSUBMITFAIL"}'], 1);
      assert.strictEqual(
        samples['smppd_pdu_errors_total{side="client",direction="sent",command_status="ESME_RSUBMITFAIL"}'], 1);
      assert.strictEqual(samples['smppd_upstream_connects_total{upstream="carrier",result="bound"}'], 1);
      // The response latency: one observation per response, buckets cumulative up to +Inf.
      const lat = (suffix, le) => samples[`smppd_message_latency_seconds_${suffix}{upstream="carrier",stage="response"${le ? `,le="${le}"` : ''}}`];
      assert.strictEqual(lat('count'), 151);
      assert.strictEqual(lat('bucket', '+Inf'), 151);
      assert.ok(lat('sum') > 0 && lat('sum') < 151 * 5, `sum ${lat('sum')}`);
      let previous = 0;
      for (const [key, v] of Object.entries(samples)) {
        if (!key.startsWith('smppd_message_latency_seconds_bucket{upstream="carrier",stage="response"')) continue;
        assert.ok(v >= previous, 'cumulative buckets');
        previous = v;
      }
      assert.strictEqual(samples['smppd_message_latency_seconds_count{upstream="carrier",stage="receipt"}'], 120);
      assert.strictEqual(samples['smppd_upstream_health{upstream="carrier"}'], 1);
      assert.strictEqual(samples['smppd_upstream_connections{upstream="carrier",state="bound"}'], 1);
      assert.strictEqual(samples['smppd_upstream_queue_depth{upstream="carrier"}'], 0);
      const info = Object.keys(samples).filter((k) => k.startsWith('smppd_build_info{'));
      assert.strictEqual(info.length, 1);
      assert.match(info[0], /^smppd_build_info\{version="0\.1\.0",revision="[0-9a-zA-Z._+-]+"\}$/);
      assert.strictEqual(samples[info[0]], 1);
      assert.ok(samples.smppd_process_resident_memory_bytes > 1e6);
      assert.ok(samples.smppd_open_fds >= 6);
      // Every family has a real help text and a type.
      for (const [name, f] of Object.entries(families)) {
        assert.ok(f.type, `${name} has a TYPE`);
        assert.notStrictEqual(f.help, 'smppd metric.', `${name} has its own help text`);
      }
      assert.strictEqual(families.smppd_messages_total.type, 'counter');
      assert.strictEqual(families.smppd_message_latency_seconds.type, 'histogram');
      a.destroy();
      b.destroy();
      await waitUntil(async () => {
        const s = (await scrape(d)).samples;
        return s['smppd_connections_active{type="bound",client="alice"}'] === 0 &&
          s['smppd_connections_active{type="bound",client="bob"}'] === 0;
      }, 3000, 'the sessions to be counted as gone');
      const other = await call(d.ports.metrics, '/other');
      assert.strictEqual(other.status, 404);
      assert.strictEqual(other.json.error, 'not found');
      const post = await call(d.ports.metrics, '/metrics', { method: 'POST', body: '' });
      assert.strictEqual(post.status, 405);
    }, { listeners });
  } finally {
    smsc.close();
  }
});

test('a peer cannot grow the number of series: unknown statuses and system_ids share bounded labels', async () => {
  let next = 0x400;
  const smsc = await startSmsc({ onSubmit: () => ({ status: next++ }) });
  try {
    await h.withSmppd(config([upstream('carrier', [smsc])]), async (d) => {
      await upstreamsBound(d);
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const answers = await submitMany(a, 50);
      assert.ok(answers.every((r) => r.command_status >= 0x400));
      // Binds with made-up system_ids (few: failed binds are slowed down on purpose).
      for (let i = 0; i < 4; i++) {
        const s = await h.connect(d.ports.smpp);
        const r = await h.request(s, 'bind_transceiver', { system_id: `x${i}`, password: 'p' }, 15000);
        assert.notStrictEqual(r.command_status, 0);
        s.destroy();
      }
      const { samples } = await scrape(d);
      const keys = Object.keys(samples);
      assert.strictEqual(
        samples['smppd_messages_total{direction="mt",client="alice",upstream="carrier",status="ESME_VENDOR"}'], 50);
      assert.ok(!keys.some((k) => /x\d+/.test(k)), 'no series names a made-up system_id');
      assert.ok(keys.length < 150, `${keys.length} series`);
      a.destroy();
    }, { listeners });
  } finally {
    smsc.close();
  }
});

test('the management API answers only with credentials, and every error is JSON', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([upstream('carrier', [smsc])]), async (d) => {
      await upstreamsBound(d);
      const port = d.ports.management;
      for (const path of ['/api/status', '/api/clients', '/api/upstreams', '/api/routes']) {
        const none = await call(port, path);
        assert.strictEqual(none.status, 401, path);
        assert.deepStrictEqual(Object.keys(none.json), ['error', 'detail']);
        assert.match(none.headers['www-authenticate'], /^Basic/);
        const wrong = await call(port, path, { auth: 'ops:s3cre' });
        assert.strictEqual(wrong.status, 401);
        const longer = await call(port, path, { auth: 'ops:s3cret!' });
        assert.strictEqual(longer.status, 401);
        const user = await call(port, path, { auth: 'opx:s3cret' });
        assert.strictEqual(user.status, 401);
        assert.strictEqual((await ops(port, path)).status, 200, path);
      }
      const garbage = await call(port, '/api/status', { headers: { authorization: 'Basic !!!!' } });
      assert.strictEqual(garbage.status, 401);
      const notFound = await ops(port, '/api/nothing');
      assert.strictEqual(notFound.status, 404);
      assert.strictEqual(typeof notFound.json.detail, 'string');
      const method = await ops(port, '/api/status', { method: 'DELETE' });
      assert.strictEqual(method.status, 405);
      assert.strictEqual(method.headers.allow, 'GET');
      assert.strictEqual((await ops(port, '/api/clients/nobody')).status, 404);
      assert.strictEqual((await ops(port, '/api/upstreams/nowhere')).status, 404);
      assert.strictEqual((await ops(port, '/api/upstreams/nowhere/suspend', { method: 'POST' })).status, 404);
      assert.strictEqual((await ops(port, '/api/clients/%zz')).status, 400);
      const reload = await ops(port, '/api/config/reload', { method: 'POST' });
      assert.strictEqual(reload.status, 200);
      assert.deepStrictEqual(reload.json, { ok: true, applied: ['nothing changed'], restart_needed: [] });
      assert.strictEqual((await call(port, '/api/config/reload', { method: 'POST' })).status, 401);
      // A body beyond the bound: 413, as JSON.
      const big = await ops(port, '/api/config/reload', { method: 'POST', body: 'x'.repeat(100 * 1024) });
      assert.strictEqual(big.status, 413);
      assert.strictEqual(big.json.error, 'request body too large');
      // Not HTTP at all: 400, JSON, and the connection is closed.
      const raw = await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.write('HELLO THERE\r\n\r\n'));
        let text = '';
        s.on('data', (c) => { text += c; });
        s.on('close', () => resolve(text));
      });
      assert.match(raw, /^HTTP\/1\.1 400/);
      assert.match(raw, /"error":"bad request"/);
      // The password never appears in an answer.
      const everything = await Promise.all(['/api/status', '/api/clients', '/api/upstreams']
        .map((p) => ops(port, p)));
      for (const r of everything) {
        assert.ok(!r.text.includes('s3cret') && !r.text.includes('alice-pw') && !r.text.includes('"pw"'));
      }
    }, { listeners });
  } finally {
    smsc.close();
  }
});

test('status, clients, upstreams and routes describe the running daemon', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([upstream('carrier', [smsc])]), async (d) => {
      await upstreamsBound(d);
      const port = d.ports.management;
      const a = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const a2 = await h.bound(d.ports.smpp, 'bind_receiver', alice.system_id, alice.password);
      await submitMany(a, 7);
      const status = (await ops(port, '/api/status')).json;
      assert.strictEqual(status.version, '0.1.0');
      assert.match(status.revision, /^[0-9a-zA-Z._+-]+$/);
      assert.match(status.config.file, /smppd\.yaml$/);
      assert.match(status.config.sha256, /^[0-9a-f]{64}$/);
      assert.strictEqual(status.config.sha256, require('node:crypto').createHash('sha256')
        .update(fs.readFileSync(status.config.file)).digest('hex'));
      assert.deepStrictEqual(status.listeners.map((l) => l.name), ['smpp', 'metrics', 'management']);
      assert.strictEqual(status.listeners[0].address, `127.0.0.1:${d.ports.smpp}`);
      assert.strictEqual(status.counts.sessions_bound, 2);
      assert.strictEqual(status.counts.clients_bound, 1);
      assert.strictEqual(status.counts.upstreams_healthy, 1);
      assert.strictEqual(status.counts.messages_accepted, 7);
      assert.ok(status.uptime_seconds >= 0);

      const clients = (await ops(port, '/api/clients')).json.clients;
      assert.deepStrictEqual(clients.map((c) => c.system_id), ['alice', 'bob']);
      const one = (await ops(port, '/api/clients/alice')).json;
      assert.strictEqual(one.bound, 2);
      assert.deepStrictEqual(one.sessions.map((s) => s.bind).sort(), ['receiver', 'transmitter']);
      for (const s of one.sessions) {
        assert.match(s.address, /^127\.0\.0\.1:\d+$/);
        assert.match(s.version, /^(3\.4|5\.0)$/);
        assert.strictEqual(s.in_flight_from_client, 0);
      }
      // The bind and the seven submits.
      assert.strictEqual(one.sessions.find((s) => s.bind === 'transmitter').requests_received, 8);
      assert.deepStrictEqual(one.messages.submitted_by_status, { ESME_ROK: 7 });
      assert.strictEqual((await ops(port, '/api/clients/bob')).json.bound, 0);

      const ups = (await ops(port, '/api/upstreams')).json.upstreams;
      assert.strictEqual(ups.length, 1);
      const u = (await ops(port, '/api/upstreams/carrier')).json;
      assert.strictEqual(u.name, 'carrier');
      assert.strictEqual(u.healthy, true);
      assert.strictEqual(u.hosts[0].address, `127.0.0.1:${smsc.port}`);
      assert.strictEqual(u.connections[0].state, 'bound');
      assert.strictEqual(u.queued, 0);

      const routes = (await ops(port, '/api/routes')).json.routes;
      assert.deepStrictEqual(routes, [{ name: 'all', position: 0, upstream: 'carrier', failover: '', matched: 7 }]);
      a.destroy();
      a2.destroy();
    }, { listeners });
  } finally {
    smsc.close();
  }
});

test('disconnecting a client unbinds its sessions once their messages in flight are answered', async () => {
  const smsc = await startSmsc({ hold: true });
  try {
    await h.withSmppd(config([upstream('carrier', [smsc])]), async (d) => {
      await upstreamsBound(d);
      const port = d.ports.management;
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const b = await h.bound(d.ports.smpp, 'bind_transceiver', bob.system_id, bob.password);
      // In the order they arrive.
      const events = [];
      a.on('pdu', (pdu) => events.push(`${pdu.command} ${pdu.command_status}`));
      a.on('unbind', (pdu) => a.send(pdu.response()));
      const inFlight = h.request(a, 'submit_sm', { destination_addr: '1', short_message: 'x' });
      await waitUntil(() => smsc.received.length === 1, 3000, 'the message at the SMSC');
      const r = await ops(port, '/api/clients/alice/connections', { method: 'DELETE' });
      assert.strictEqual(r.status, 200);
      assert.deepStrictEqual(r.json, { client: 'alice', disconnected: 1 });
      await h.sleep(200);
      assert.deepStrictEqual(events, [], 'no unbind while a message is in flight');
      smsc.release();
      await inFlight;
      await waitUntil(() => events.length === 2, 3000, 'the unbind');
      assert.deepStrictEqual(events, ['submit_sm_resp 0', 'unbind 0']);
      await h.closed(a);
      // Bob is untouched.
      const still = await h.request(b, 'submit_sm', { destination_addr: '2', short_message: 'y' });
      assert.strictEqual(still.command_status, st.ESME_ROK);
      assert.strictEqual((await ops(port, '/api/clients/alice')).json.bound, 0);
      await waitUntil(() => d.grep(/client alice: 1 session\(s\) unbound by the operator/).length === 1);
      b.destroy();
    }, { listeners });
  } finally {
    smsc.close();
  }
});

test('a suspended upstream takes nothing; its route fails over; resume brings it back', async () => {
  const primary = await startSmsc();
  const backup = await startSmsc();
  try {
    const cfg = config([upstream('primary', [primary]), upstream('backup', [backup])]);
    cfg.routes = [{ name: 'all', match: { destination_addr: '*' }, upstream: 'primary', failover: 'backup' }];
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 2);
      const port = d.ports.management;
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      await submitMany(a, 3);
      assert.strictEqual(primary.received.length, 3);
      const s = await ops(port, '/api/upstreams/primary/suspend', { method: 'POST' });
      assert.deepStrictEqual(s.json, { upstream: 'primary', suspended: true });
      assert.strictEqual((await ops(port, '/api/upstreams/primary/suspend')).status, 405);
      let m = (await scrape(d)).samples;
      assert.strictEqual(m['smppd_upstream_suspended{upstream="primary"}'], 1);
      assert.strictEqual(m['smppd_upstream_health{upstream="primary"}'], 0);
      await submitMany(a, 4);
      assert.strictEqual(primary.received.length, 3, 'nothing more reached the suspended upstream');
      assert.strictEqual(backup.received.length, 4);
      const r = await ops(port, '/api/upstreams/primary/resume', { method: 'POST' });
      assert.deepStrictEqual(r.json, { upstream: 'primary', suspended: false });
      await submitMany(a, 2);
      assert.strictEqual(primary.received.length, 5);
      m = (await scrape(d)).samples;
      assert.strictEqual(m['smppd_upstream_suspended{upstream="primary"}'], 0);
      assert.strictEqual(m['smppd_upstream_health{upstream="primary"}'], 1);
      a.destroy();
    }, { listeners });
  } finally {
    primary.close();
    backup.close();
  }
});

test('bearer tokens, HTTPS, and a message looked up in the store by the id its client got', async () => {
  const certs = h.makeCertificates();
  const smsc = await startSmsc({ receiptDelay: 5 });
  const dir = h.tempDir();
  try {
    const cfg = config([upstream('carrier', [smsc])], {
      storage: { sqlite: { path: `${dir}/messages.db` } },
      management: {
        address: '127.0.0.1:0',
        tls: { cert: certs.server.cert, key: certs.server.key },
        auth: { type: 'bearer', token: 'tok-123' },
      },
    });
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const tls = { ca: fs.readFileSync(certs.ca.cert), servername: 'localhost' };
      const port = d.ports.management;
      assert.strictEqual((await call(port, '/api/status', { tls })).status, 401);
      assert.strictEqual((await call(port, '/api/status', { tls, bearer: 'tok-12' })).status, 401);
      const ok = await call(port, '/api/status', { tls, bearer: 'tok-123' });
      assert.strictEqual(ok.status, 200);
      assert.strictEqual(ok.json.storage, true);
      // Plain HTTP on the TLS port gets nothing.
      await assert.rejects(call(port, '/api/status', { bearer: 'tok-123' }));

      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = h.receipts(a);
      const resp = await h.request(a, 'submit_sm',
        { destination_addr: '4912345', short_message: 'hello', registered_delivery: 1 });
      assert.strictEqual(resp.command_status, st.ESME_ROK);
      await waitUntil(() => got.length === 1, 5000, 'the receipt');
      const msg = await call(port, `/api/messages/${resp.message_id}`, { tls, bearer: 'tok-123' });
      assert.strictEqual(msg.status, 200);
      assert.strictEqual(msg.json.client, 'alice');
      assert.strictEqual(msg.json.destination, '4912345');
      assert.strictEqual(msg.json.upstream, 'carrier');
      assert.strictEqual(msg.json.state, 'delivered');
      assert.ok(msg.json.history.length >= 2);
      const none = await call(port, '/api/messages/ffffffffff', { tls, bearer: 'tok-123' });
      assert.strictEqual(none.status, 404);
      const bad = await call(port, '/api/messages/not-an-id!', { tls, bearer: 'tok-123' });
      assert.strictEqual(bad.status, 400);
      a.destroy();
    }, { listeners, dir });
  } finally {
    smsc.close();
  }
});

// ---- the command line ----

const { execFile } = require('node:child_process');

function cli(...argv) {
  return new Promise((resolve) => {
    execFile(h.binary, argv, { timeout: 20000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

test('smppd status, client, upstream and stats talk to the running daemon, and say when it is not', async () => {
  const smsc = await startSmsc({ hold: false });
  const dir = h.tempDir();
  try {
    await h.withSmppd(config([upstream('carrier', [smsc])]), async (d) => {
      await upstreamsBound(d);
      const api = ['--api', `http://127.0.0.1:${d.ports.management}`, '--user', 'ops', '--password', 's3cret'];
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      await submitMany(a, 5);

      let r = await cli('status', ...api);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stdout, /^smppd 0\.1\.0 at http:\/\/127\.0\.0\.1:\d+: running/);
      assert.match(r.stdout, /sessions +1 bound of 1 open; 1 of 2 clients bound/);
      assert.match(r.stdout, /messages +5 accepted, 0 refused/);
      assert.match(r.stdout, new RegExp(`smpp +smpp +127\\.0\\.0\\.1:${d.ports.smpp} +no`));
      r = await cli('status', ...api, '--json');
      assert.strictEqual(JSON.parse(r.stdout).counts.sessions_bound, 1);

      r = await cli('client', 'list', ...api);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stdout, /^CLIENT +SESSIONS +MESSAGES/);
      assert.match(r.stdout, /\nalice +1 +5 ok, 0 refused +0 +transceiver 127\.0\.0\.1:\d+\n/);
      assert.match(r.stdout, /\nbob +0 +0 ok, 0 refused +0 +-\n/);

      r = await cli('stats', '--client', 'alice', ...api);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stdout, /alice +5 ok, 0 refused/);
      assert.doesNotMatch(r.stdout, /UPSTREAM/);
      r = await cli('stats', '--upstream', 'carrier', ...api, '--json');
      assert.strictEqual(JSON.parse(r.stdout).upstreams[0].name, 'carrier');
      r = await cli('stats', '--routes', ...api);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stdout, /^# +ROUTE +UPSTREAM +FAILOVER +MATCHED\n0 +all +carrier +- +5\n$/);

      r = await cli('upstream', 'list', ...api);
      assert.match(r.stdout, /\ncarrier +healthy +1\/1 +0 +0 +1\n/);
      r = await cli('upstream', 'suspend', 'carrier', ...api);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match((await cli('upstream', 'list', ...api)).stdout, /\ncarrier +suspended/);
      r = await cli('upstream', 'resume', 'carrier', ...api);
      assert.strictEqual(r.code, 0, r.stderr);
      r = await cli('upstream', 'suspend', 'nowhere', ...api);
      assert.strictEqual(r.code, 1);
      assert.match(r.stderr, /smppd refused \(404\): no such upstream: nowhere/);

      a.on('unbind', (pdu) => a.send(pdu.response()));
      r = await cli('client', 'disconnect', 'alice', ...api);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stdout, /client alice: 1 session\(s\) unbinding/);
      await h.closed(a);

      r = await cli('status', '--api', `http://127.0.0.1:${d.ports.management}`, '--user', 'ops', '--password', 'nope');
      assert.strictEqual(r.code, 1);
      assert.match(r.stderr, /refused the credentials \(401\)/);
      // The configuration file gives the address and the credentials.
      const file = `${dir}/ops.yaml`;
      fs.writeFileSync(file, JSON.stringify(config([upstream('carrier', [smsc])], {
        management: { address: `127.0.0.1:${d.ports.management}`,
          auth: { type: 'basic', username: 'ops', password: 's3cret' } },
      })));
      r = await cli('status', '--config', file);
      assert.strictEqual(r.code, 0, r.stderr);
      // Nothing there: said plainly.
      const closedPort = await new Promise((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = s.address();
          s.close(() => resolve(port));
        });
      });
      r = await cli('status', '--api', `http://127.0.0.1:${closedPort}`);
      assert.strictEqual(r.code, 1);
      assert.match(r.stderr, new RegExp(`smppd is not running at http://127\\.0\\.0\\.1:${closedPort} \\(connection refused\\)`));
      const noManagement = `${dir}/plain.yaml`;
      fs.writeFileSync(noManagement, JSON.stringify({ listeners: [h.listener('smpp')] }));
      r = await cli('status', '--config', noManagement);
      assert.strictEqual(r.code, 2);
      assert.match(r.stderr, /the management API is not enabled/);
      r = await cli('status', '--config', `${dir}/missing.yaml`);
      assert.strictEqual(r.code, 2);
    }, { listeners });
  } finally {
    smsc.close();
  }
});

// ---- traces ----

const { startCollector } = h;

for (const stored of [false, true]) test(`traces${stored ? ', with store and forward' : ''}: each sampled message's life reaches the OTLP collector as spans of one trace`, async () => {
  const smsc = await startSmsc({ receiptDelay: 5 });
  const collector = await startCollector();
  const dir = h.tempDir();
  try {
    const cfg = config([upstream('carrier', [smsc])], {
      tracing: { otlp: { endpoint: `http://127.0.0.1:${collector.port}` }, sampling: { ratio: 1 } },
      ...(stored ? { storage: { sqlite: { path: `${dir}/messages.db` } } } : {}),
    });
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = h.receipts(a);
      const answers = await submitMany(a, 5, { registered_delivery: 1 });
      await waitUntil(() => got.length === 5, 5000, 'the receipts');
      // Batches go out at least once a second.
      await waitUntil(() => collector.spans.length >= 20, 5000, 'the spans at the collector');
      const roots = collector.spans.filter((s) => s.name === 'smpp.submit_sm');
      assert.strictEqual(roots.length, 5);
      for (const root of roots) {
        assert.strictEqual(root.service, 'smppd');
        assert.strictEqual(root.kind, 2);  // server
        assert.strictEqual(root.attrs['smpp.system_id'], 'alice');
        assert.strictEqual(root.attrs['smpp.command_status'], 'ESME_ROK');
        if (stored) assert.strictEqual(root.attrs['smppd.stored'], true);
        assert.ok(!root.parentSpanId);
        const mine = collector.spans.filter((s) => s.traceId === root.traceId);
        assert.deepStrictEqual(mine.map((s) => s.name).sort(),
          ['smpp.receipt', 'smpp.submit_sm', 'smpp.upstream.submit_sm', 'smppd.route']);
        for (const s of mine) {
          if (s !== root) assert.strictEqual(s.parentSpanId, root.spanId, s.name);
          assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
        }
        const up = mine.find((s) => s.name === 'smpp.upstream.submit_sm');
        assert.strictEqual(up.attrs['smppd.upstream'], 'carrier');
        assert.ok(smsc.received.length === 5 && up.attrs['smpp.smsc_message_id']);
        assert.strictEqual(mine.find((s) => s.name === 'smpp.receipt').attrs['smpp.message_state'], 'DELIVRD');
        assert.strictEqual(mine.find((s) => s.name === 'smppd.route').attrs['smppd.route'], 'all');
      }
      assert.ok(answers.every((r) => r.command_status === 0));
      const m = (await scrape(d)).samples;
      assert.ok(m['smppd_trace_spans_total{result="exported"}'] >= 20);
      assert.strictEqual(m['smppd_trace_spans_total{result="dropped_buffer_full"}'], 0);
      a.destroy();
    }, { listeners, dir });
  } finally {
    smsc.close();
    collector.close();
  }
});

test('traces: at ratio 0 nothing is sent; a dead collector costs the messages nothing', async () => {
  const smsc = await startSmsc();
  const collector = await startCollector();
  const deadPort = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  try {
    for (const [endpoint, ratio] of [[`http://127.0.0.1:${collector.port}`, 0], [`http://127.0.0.1:${deadPort}`, 1]]) {
      const cfg = config([upstream('carrier', [smsc])], {
        tracing: { otlp: { endpoint }, sampling: { ratio } },
      });
      await h.withSmppd(cfg, async (d) => {
        await upstreamsBound(d);
        const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
        const answers = await submitMany(a, 200);
        assert.ok(answers.every((r) => r.command_status === 0));
        a.destroy();
      }, { listeners });
    }
    await h.sleep(1500);
    assert.strictEqual(collector.posts, 0, 'ratio 0: no spans');
  } finally {
    smsc.close();
    collector.close();
  }
});
