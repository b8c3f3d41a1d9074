// External authentication against an HTTP service (auth.http), with npm smpp peers and a local
// auth service: accept, wrong password, unknown user, the service down, slow past the timeout,
// restarted, the cache (and its negative side), a stale answer while the service is down, the
// settings it gives observed in the session's limits (rate, window, allowed_ips, bind types,
// forced upstream, tags in the management API), what it is sent, and a flood of binds while it
// is slow that must not delay the traffic of a bound client (measured).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const h = require('./daemon_harness');

const { status: st, waitUntil, startSmsc, upstream, upstreamsBound, bindStatus } = h;
const metric = h.metricValue;

// The auth service: `users` by system_id ({ password, answer }); `mode`: 'ok', 'hang' (never
// answers), 'error' (500), 'garbage' (200 that is not JSON).
async function startAuthService(users, port = 0) {
  const svc = { users, requests: [], mode: 'ok', delay: 0, hung: [] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const entry = { headers: req.headers, body: JSON.parse(body || '{}'), url: req.url };
      svc.requests.push(entry);
      const reply = () => {
        if (svc.mode === 'hang') { svc.hung.push(res); return; }
        if (svc.mode === 'error') { res.writeHead(500); res.end('oops'); return; }
        if (svc.mode === 'garbage') { res.writeHead(200); res.end('<html>'); return; }
        const u = svc.users[entry.body.system_id];
        if (!u) { res.writeHead(404); res.end(); return; }
        if (u.password !== entry.body.password) { res.writeHead(401); res.end(); return; }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(u.answer || {}));
      };
      if (svc.delay > 0) setTimeout(reply, svc.delay); else reply();
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  svc.port = server.address().port;
  svc.url = `http://127.0.0.1:${svc.port}/verify`;
  svc.close = () => new Promise((resolve) => {
    for (const res of svc.hung.splice(0)) res.destroy();
    server.closeAllConnections();
    server.close(resolve);
  });
  return svc;
}

const users = {
  ext1: { password: 'pw1' },
  limited: {
    password: 'pw2',
    answer: { rate_limit: { messages_per_second: 1, burst: 2 }, bind_types: ['transmitter'],
      tier: 'gold', tags: { plan: 'otp' }, max_connections: 1 },
  },
  elsewhere: { password: 'pw3', answer: { allowed_ips: ['10.0.0.0/8'] } },
  forced: { password: 'pw4', answer: { upstream: 'second' } },
  badip: { password: 'pw5', answer: { allowed_ips: 'not-an-address' } },
};

function config(svc, smscs, extra = {}) {
  return {
    listeners: [h.listener('smpp')],
    upstreams: [upstream('first', [smscs[0]]), upstream('second', [smscs[1] || smscs[0]])],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'first' }],
    clients: [{ system_id: 'local', password: 'localpw' }],
    auth: { http: { url: svc.url, timeout: '1s', cache_ttl: '5m', headers: { 'X-Api-Key': 'k-123' },
      ...(extra.http || {}) }, ...(extra.auth || {}) },
    metrics: { prometheus: { address: '127.0.0.1:0' } },
    management: { address: '127.0.0.1:0' },
  };
}
const listeners = ['smpp', 'metrics', 'management'];

test('http: accept, wrong password, unknown user; what the service is sent; the cache and the negative cache', async () => {
  const svc = await startAuthService(users);
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config(svc, [smsc], { auth: { negative_ttl: '1m' } }), async (d) => {
      await upstreamsBound(d, 2);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1');
      const r = await h.request(s, 'submit_sm', { destination_addr: '123', short_message: 'hi' });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      await waitUntil(() => smsc.received.length === 1, 5000, 'the message at the SMSC');
      assert.strictEqual(svc.requests.length, 1);
      const sent = svc.requests[0];
      assert.deepStrictEqual(Object.keys(sent.body).sort(), ['bind_type', 'ip', 'listener', 'password', 'system_id']);
      assert.strictEqual(sent.body.system_id, 'ext1');
      assert.strictEqual(sent.body.password, 'pw1');
      assert.strictEqual(sent.body.ip, '127.0.0.1');
      assert.strictEqual(sent.body.bind_type, 'transceiver');
      assert.strictEqual(sent.body.listener, 'smpp');
      assert.strictEqual(sent.headers['x-api-key'], 'k-123');
      assert.match(sent.headers['content-type'], /application\/json/);

      // Within cache_ttl the same credentials from the same address do not ask again.
      const s2 = await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1');
      assert.strictEqual(svc.requests.length, 1, 'a cache hit');
      s2.destroy();
      // Another password is another key: asked, refused.
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'nope'), st.ESME_RINVPASWD);
      assert.strictEqual(svc.requests.length, 2);
      // The refusal is remembered (negative_ttl): not asked again.
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'nope'), st.ESME_RINVPASWD);
      assert.strictEqual(svc.requests.length, 2, 'a negative cache hit');
      // Unknown to the service (404): ESME_RINVSYSID.
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ghost', 'x'), st.ESME_RINVSYSID);
      // A configured client never reaches the service.
      const local = await h.bound(d.ports.smpp, 'bind_transceiver', 'local', 'localpw');
      local.destroy();
      assert.strictEqual(svc.requests.length, 3);
      assert.ok(!svc.requests.some((q) => q.body.system_id === 'local'));
      assert.strictEqual(await metric(d, /^smppd_auth_backend_requests_total\{backend="http",outcome="accepted"\} (\S+)$/m), 1);
      assert.strictEqual(await metric(d, /^smppd_auth_backend_requests_total\{backend="http",outcome="refused"\} (\S+)$/m), 1);
      assert.strictEqual(await metric(d, /^smppd_auth_backend_requests_total\{backend="http",outcome="unknown"\} (\S+)$/m), 1);
      assert.strictEqual(await metric(d, /^smppd_auth_external_total\{outcome="cached_accept"\} (\S+)$/m), 1);
      assert.strictEqual(await metric(d, /^smppd_auth_external_total\{outcome="cached_refusal"\} (\S+)$/m), 1);
      s.destroy();
      // No secret in the log: neither the passwords nor the service's header value.
      for (const secret of ['pw1', 'nope', 'k-123']) {
        assert.ok(!d.text().includes(secret), `'${secret}' appears in the log`);
      }
    }, { listeners });
  } finally {
    await svc.close();
    await smsc.close();
  }
});

test('http: the settings it answers are the session\'s: rate, bind types, allowed_ips, max_connections, forced upstream, tags; a bad one refuses', async () => {
  const svc = await startAuthService(users);
  const first = await startSmsc();
  const second = await startSmsc();
  try {
    await h.withSmppd(config(svc, [first, second]), async (d) => {
      await upstreamsBound(d, 2);
      // bind_types: transmitter only.
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_receiver', 'limited', 'pw2'), st.ESME_RBINDFAIL);
      await d.waitFor(/bind_receiver as 'limited' refused: bind_type_not_allowed/);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', 'limited', 'pw2');
      // max_connections: 1.
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transmitter', 'limited', 'pw2'), st.ESME_RBINDFAIL);
      // rate 1/s with a burst of 2: of five at once, two go, three are throttled.
      const answers = await Promise.all([1, 2, 3, 4, 5].map((i) =>
        h.request(s, 'submit_sm', { destination_addr: `55${i}`, short_message: 'x' })));
      const statuses = answers.map((a) => a.command_status);
      assert.strictEqual(statuses.filter((x) => x === st.ESME_ROK).length, 2, JSON.stringify(statuses));
      assert.strictEqual(statuses.filter((x) => x === st.ESME_RTHROTTLED).length, 3, JSON.stringify(statuses));
      // The management API shows what it was admitted with.
      const info = (await h.httpCall(d.ports.management, '/api/clients/limited')).json;
      assert.strictEqual(info.authenticated_by, 'external');
      assert.strictEqual(info.tier, 'gold');
      assert.deepStrictEqual(info.tags, { plan: 'otp' });
      assert.deepStrictEqual(info.bind_types, ['transmitter']);
      assert.strictEqual(info.rate_limit.messages_per_second, 1);
      assert.strictEqual(info.rate_limit.throttled, 3);
      assert.strictEqual(info.bound, 1);
      const list = (await h.httpCall(d.ports.management, '/api/clients')).json.clients.map((c) => c.system_id);
      assert.ok(list.includes('limited') && list.includes('local'), JSON.stringify(list));
      s.destroy();

      // allowed_ips that do not hold 127.0.0.1.
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'elsewhere', 'pw3'), st.ESME_RBINDFAIL);
      await d.waitFor(/as 'elsewhere' refused: client_ip_not_allowed/);
      // A value that does not parse: refused, and the log says which.
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'badip', 'pw5'), st.ESME_RBINDFAIL);
      await d.waitFor(/allowed_ips: 'not-an-address' is not an address or address block/);

      // A forced upstream: the routes say 'first', the service says 'second'.
      const f = await h.bound(d.ports.smpp, 'bind_transceiver', 'forced', 'pw4');
      const r = await h.request(f, 'submit_sm', { destination_addr: '999', short_message: 'to second' });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      await waitUntil(() => second.received.length === 1, 5000, 'the message at the second SMSC');
      assert.strictEqual(first.received.filter((p) => p.short_message.message === 'to second').length, 0);
      f.destroy();
    }, { listeners });
  } finally {
    await svc.close();
    await first.close();
    await second.close();
  }
});

test('http: down, slow past the timeout, 500 and garbage fail the bind (ESME_RBINDFAIL) in time and say why; back up, binds work again; a stale answer when allowed', async () => {
  const svc = await startAuthService(users);
  const port = svc.port;
  const smsc = await startSmsc();
  let svc2 = null;
  try {
    await h.withSmppd(config(svc, [smsc], { http: { cache_ttl: '1s' }, auth: { stale_ttl: '1h' } }), async (d) => {
      await upstreamsBound(d, 2);
      (await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1')).destroy();

      // A 200 that is not JSON: a failure, not an accept. (Failure lines are aggregated: the
      // first of each 10 s is logged, the others counted.)
      svc.mode = 'garbage';
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'limited', 'pw2'), st.ESME_RBINDFAIL);
      await d.waitFor(/auth: 'limited' from 127\.0\.0\.1: no backend could answer: http: its answer for 'limited': the answer is not JSON/);

      // Slow past the timeout (1 s): refused by then, not later.
      svc.mode = 'hang';
      let t0 = Date.now();
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'limited', 'pw2'), st.ESME_RBINDFAIL);
      let took = Date.now() - t0;
      assert.ok(took >= 900 && took < 3000, `refused after ${took} ms`);

      svc.mode = 'error';
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'limited', 'pw2'), st.ESME_RBINDFAIL);

      // Down: nothing listens.
      await svc.close();
      t0 = Date.now();
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'limited', 'pw2'), st.ESME_RBINDFAIL);
      took = Date.now() - t0;
      assert.ok(took < 2000, `refused after ${took} ms`);
      // ext1 was accepted before (cache_ttl 1 s, past now): the stale answer admits it.
      await h.sleep(1100);
      const stale = await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1');
      await d.waitFor(/'ext1' admitted on a stale answer of http/);
      stale.destroy();
      assert.ok(await metric(d, /^smppd_auth_backend_requests_total\{backend="http",outcome="failed"\} (\S+)$/m) >= 4);
      assert.strictEqual(await metric(d, /^smppd_auth_external_total\{outcome="stale"\} (\S+)$/m), 1);

      // Back on the same port: binds work again.
      svc2 = await startAuthService(users, port);
      (await h.bound(d.ports.smpp, 'bind_transmitter', 'limited', 'pw2')).destroy();
      assert.strictEqual(svc2.requests.length, 1);
    }, { listeners });
  } finally {
    if (svc2) await svc2.close();
    await smsc.close();
  }
});

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

test('http: a flood of binds while the service hangs does not delay a bound client\'s traffic (measured)', async () => {
  const svc = await startAuthService(users);
  const smsc = await startSmsc();
  try {
    const cfg = config(svc, [smsc], { http: { timeout: '3s' } });
    cfg.listeners = [h.listener('smpp', { rate_limit: { binds_per_second: 10000 },
      max_unbound_connections_per_ip: 1000, max_connections_per_ip: 1000 })];
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 2);
      const local = await h.bound(d.ports.smpp, 'bind_transceiver', 'local', 'localpw');
      const sendMany = async (n) => {
        const times = [];
        for (let i = 0; i < n; i++) {
          const t0 = process.hrtime.bigint();
          const r = await h.request(local, 'submit_sm', { destination_addr: `7${i}`, short_message: 'x' });
          times.push(Number(process.hrtime.bigint() - t0) / 1e6);
          assert.strictEqual(r.command_status, st.ESME_ROK);
        }
        return times;
      };
      const quiet = await sendMany(200);

      svc.mode = 'hang';
      if (!(await h.hasSecondLoopbackAddress())) {
        process.stdout.write('# skipped: no 127.0.0.2 on this host\n');
        return;
      }
      const flood = [];
      for (let i = 0; i < 200; i++) {
        // From 40 addresses (5 each): from one, the failure throttle would lock the address
        // after 10 binds in flight, and the backend would see few of them.
        flood.push(h.connect(d.ports.smpp, { localAddress: `127.0.1.${10 + (i % 40)}` }).then(async (s) => {
          const r = await h.request(s, 'bind_transceiver', { system_id: `flood${i % 20}`, password: `p${i}` }, 10000);
          s.destroy();
          return r.command_status;
        }));
      }
      await waitUntil(() => svc.requests.length >= 20, 5000, 'the flood at the service');
      const during = await sendMany(200);
      const statuses = await Promise.all(flood);
      assert.ok(statuses.every((x) => x === st.ESME_RBINDFAIL), JSON.stringify(statuses.slice(0, 5)));
      const q = percentile(quiet, 0.99);
      const f = percentile(during, 0.99);
      process.stdout.write(`# submit round trip p99: quiet ${q.toFixed(2)} ms, during a flood of 200 binds held by a hung auth service ${f.toFixed(2)} ms\n`);
      // The binds wait off the workers: the bound client's round trips stay in the same range.
      assert.ok(f < Math.max(10 * q, 50), `p99 ${f} ms during the flood against ${q} ms before`);
      local.destroy();
    }, { listeners });
  } finally {
    await svc.close();
    await smsc.close();
  }
});

test('validate: auth.http with a bad URL, a missing url, a header with a line break', async () => {
  const bad = [
    [{ http: { url: 'ftp://x/verify' } }, /'url' in auth.http must be an http:\/\/ or https:\/\/ URL/],
    [{ http: { enabled: true } }, /auth.http needs 'url'/],
    [{ radius: { server: '127.0.0.1:1812' } }, /auth.radius needs 'secret'/],
    [{ ldap: { url: 'ldap://127.0.0.1', filter: 'uid=x' } }, /auth.ldap needs 'base_dn'|'filter' in auth.ldap must be an LDAP filter/],
    [{ ldap: { url: 'http://x', base_dn: 'dc=x' } }, /must be ldap:\/\/ or ldaps:\/\/ URLs/],
    [{ order: ['ldap', 'kerberos'], http: { url: 'http://x/' } }, /invalid value 'kerberos'/],
    [{ http: { url: 'http://x/', ca_file: '/nonexistent/ca.pem' } }, /ca_file.*(No such file|cannot)/],
  ];
  for (const [auth, re] of bad) {
    const r = h.validate({ listeners: [h.listener('smpp')], clients: [], auth });
    assert.notStrictEqual(r.status, 0, JSON.stringify(auth));
    assert.match(r.output, re, JSON.stringify(auth));
    assert.match(r.output, /smppd\.yaml:\d+/, 'file and line');
  }
  const ok = h.validate({ listeners: [h.listener('smpp')], clients: [],
    auth: { http: { url: 'https://auth.example.com/verify' } } });
  assert.strictEqual(ok.status, 0, ok.output);
  assert.ok(!/not built/.test(ok.output), ok.output);
  assert.ok(!/warning/.test(ok.output), ok.output);
  // Passwords in clear text: valid, with a warning at the line.
  const clear = h.validate({ listeners: [h.listener('smpp')], clients: [],
    auth: { http: { url: 'http://auth.example.com/verify' },
      ldap: { url: 'ldap://ldap.example.com', base_dn: 'dc=example,dc=com' } } });
  assert.strictEqual(clear.status, 0, clear.output);
  assert.match(clear.output, /smppd\.yaml:\d+:\d+: warning: auth.http: clients' passwords go to an http:\/\/ URL in clear text/);
  assert.match(clear.output, /smppd\.yaml:\d+:\d+: warning: auth.ldap: clients' passwords go to ldap:\/\/ in clear text/);
});

// ---- the HTTP and gRPC faces ----

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const grpcPkg = grpc.loadPackageDefinition(loader.loadSync(['smppd/v1/smppd.proto'],
  { includeDirs: [path.join(__dirname, '..', '..', 'proto')], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }));

function basicMetadata(user, password) {
  const m = new grpc.Metadata();
  m.set('authorization', `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
  return m;
}

function grpcUnary(client, method, request, metadata) {
  return new Promise((resolve) => {
    client[method](request, metadata, { deadline: Date.now() + 10000 }, (err, res) => resolve({ err, res }));
  });
}

test('http and grpc faces: external clients by Basic credentials (REST, Kannel, gRPC unary and stream), cached, refused, the backend down', async () => {
  const svc = await startAuthService(users);
  const first = await startSmsc();
  const second = await startSmsc();
  try {
    const cfg = config(svc, [first, second]);
    cfg.listeners.push({ name: 'api', type: 'http', address: '127.0.0.1:0', compat: ['kannel'] },
      { name: 'grpc', type: 'grpc', address: '127.0.0.1:0' });
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 2);
      // REST: accepted through the service; its forced upstream holds here too.
      let r = await h.httpCall(d.ports.api, '/v1/messages', { method: 'POST', auth: 'forced:pw4',
        body: { from: 'APP', to: '+258841234567', text: 'rest' } });
      assert.strictEqual(r.status, 202, r.text);
      await waitUntil(() => second.received.length === 1, 5000, 'the REST message at the second SMSC');
      assert.strictEqual(svc.requests.length, 1);
      assert.strictEqual(svc.requests[0].body.bind_type, 'transmitter');
      assert.strictEqual(svc.requests[0].body.listener, 'api');
      // Cached: not asked again.
      r = await h.httpCall(d.ports.api, '/v1/messages', { method: 'POST', auth: 'forced:pw4',
        body: { from: 'APP', to: '+258841234568', text: 'rest 2' } });
      assert.strictEqual(r.status, 202, r.text);
      assert.strictEqual(svc.requests.length, 1);
      // Its rate limit holds across requests: 1/s with a burst of 2.
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const x = await h.httpCall(d.ports.api, '/v1/messages', { method: 'POST', auth: 'limited:pw2',
          body: { from: 'APP', to: `+25884000000${i}`, text: 'x' } });
        statuses.push(x.status);
      }
      assert.ok(statuses.filter((s) => s === 202).length <= 2 && statuses.includes(429), JSON.stringify(statuses));
      r = await h.httpCall(d.ports.api, '/v1/messages', { method: 'POST', auth: 'ext1:wrong', body: { from: 'APP', to: '+1', text: 'x' } });
      assert.strictEqual(r.status, 401, r.text);

      // Kannel's sendsms with username and password in the query.
      r = await h.httpCall(d.ports.api, '/cgi-bin/sendsms?username=ext1&password=pw1&from=APP&to=258841234000&text=kannel');
      assert.strictEqual(r.status, 202, r.text);
      await waitUntil(() => first.received.some((p) => p.short_message.message === 'kannel'), 5000, 'the Kannel message');

      // gRPC: unary and a stream.
      const c = new grpcPkg.smppd.v1.Messaging(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure());
      const u = await grpcUnary(c, 'Send', { from: 'APP', to: ['258841234001'], text: 'grpc' }, basicMetadata('ext1', 'pw1'));
      assert.ifError(u.err);
      const bad = await grpcUnary(c, 'Send', { from: 'APP', to: ['258841234001'], text: 'grpc' }, basicMetadata('ext1', 'nope'));
      assert.strictEqual(bad.err.code, grpc.status.UNAUTHENTICATED);
      const stream = c.SendStream(basicMetadata('forced', 'pw4'));
      const answers = [];
      stream.on('data', (a) => answers.push(a));
      stream.on('error', () => {});
      for (let i = 0; i < 3; i++) stream.write({ from: 'APP', to: [`25884123410${i}`], text: `s${i}`, request_id: String(i) });
      await waitUntil(() => answers.length === 3, 5000, 'three stream answers');
      stream.end();
      await waitUntil(() => second.received.length === 5, 5000, 'the stream\'s messages at the second SMSC');

      // Streams cancelled while their credentials are with a hung service: nothing breaks
      // when the answer (a timeout) comes after the calls are gone.
      svc.mode = 'hang';
      const events = c.Events(basicMetadata('ext1', 'other-pw'));
      events.on('error', () => {});
      const pending = c.SendStream(basicMetadata('limited', 'other-pw'));
      pending.on('error', () => {});
      await waitUntil(() => svc.hung.length === 2, 5000, 'both asks at the service');
      events.cancel();
      pending.cancel();
      await h.sleep(1300);  // past the service's timeout (1 s)
      svc.mode = 'ok';
      const after = await grpcUnary(c, 'Send', { from: 'APP', to: ['258841234002'], text: 'after' }, basicMetadata('ext1', 'pw1'));
      assert.ifError(after.err);

      // The service down: the faces say so (503 / UNAVAILABLE), not "wrong credentials".
      await svc.close();
      r = await h.httpCall(d.ports.api, '/v1/messages', { method: 'POST', auth: 'elsewhere:pw3', body: { from: 'APP', to: '+1', text: 'x' } });
      assert.strictEqual(r.status, 503, r.text);
      const down = await grpcUnary(c, 'Send', { from: 'APP', to: ['258841234001'], text: 'grpc' }, basicMetadata('badip', 'pw5'));
      assert.strictEqual(down.err.code, grpc.status.UNAVAILABLE);
      c.close();
    }, { listeners: [...listeners, 'api', 'grpc'] });
  } finally {
    await svc.close();
    await first.close();
    await second.close();
  }
});
