// Hot reload (SIGHUP and POST /api/config/reload) while messages flow: a valid file applies
// what it changes without dropping a bound session or losing or doubling a message; an invalid
// one changes nothing and says why at file:line; what needs a restart is named and kept.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./daemon_harness');

const { status: st, waitUntil, startSmsc, upstream, upstreamsBound } = h;

const alice = { system_id: 'alice', password: 'alice-pw' };
const bob = { system_id: 'bob', password: 'bob-pw' };

function post(port, p) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method: 'POST' }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function base(smscs) {
  return {
    listeners: [h.listener('smpp')],
    upstreams: [upstream('carrier', smscs)],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
    clients: [alice, bob],
    management: { address: '127.0.0.1:0' },
  };
}

function rewrite(d, cfg) {
  fs.writeFileSync(path.join(d.dir, 'smppd.yaml'), JSON.stringify(cfg, null, 2) + '\n');
}

// Submits one message after another (window of `window`) until stop() is called; every answer
// is kept. Resolves with the answers once the last one is in.
function flow(session, window = 5) {
  const answers = [];
  let stopped = false;
  let n = 0;
  const worker = async () => {
    while (!stopped) {
      const i = n++;
      const r = await h.request(session, 'submit_sm', { destination_addr: `49${i}`, short_message: `m${i}` });
      answers.push({ i, status: r.command_status });
    }
  };
  const workers = Array.from({ length: window }, worker);
  return {
    answers,
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      return answers;
    },
  };
}

const listeners = ['smpp', 'management'];

test('SIGHUP with a valid file applies routes, clients and listeners while messages flow: no session dropped, no message lost or doubled', async () => {
  const carrier = await startSmsc();
  const other = await startSmsc();
  try {
    const cfg = base([carrier]);
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      let aClosed = false;
      a.on('close', () => { aClosed = true; });
      const traffic = flow(a);
      await waitUntil(() => traffic.answers.length >= 50, 5000, 'traffic');

      // A new upstream and a route to it for 44*, bob's password changed, carol added, and a
      // second listener.
      const next = base([carrier]);
      next.upstreams.push(upstream('other', [other]));
      next.routes.unshift({ name: 'uk', match: { destination_addr: '44*' }, upstream: 'other' });
      next.clients = [alice, { system_id: 'bob', password: 'bob-new' }, { system_id: 'carol', password: 'carol-pw' }];
      next.listeners.push(h.listener('second'));
      rewrite(d, next);
      d.child.kill('SIGHUP');
      await d.waitFor(/reload \(SIGHUP\): .* applied: /);
      const line = d.grep(/reload \(SIGHUP\): .* applied: /)[0];
      for (const what of ['routes', 'upstream other added', 'client bob changed', 'client carol added', 'listener second added']) {
        assert.ok(line.includes(what), `${what} in: ${line}`);
      }
      await waitUntil(() => d.grep(/upstream other: \S+: bound/).length === 1, 5000, 'the new upstream');
      await waitUntil(() => traffic.answers.length >= 150, 5000, 'traffic after the reload');
      const answers = await traffic.stop();

      assert.ok(!aClosed, 'the bound session stayed up');
      assert.ok(answers.every((r) => r.status === st.ESME_ROK), 'every message accepted');
      const seen = carrier.received.map((p) => p.short_message.message);
      assert.strictEqual(seen.length, answers.length, 'each message reached the SMSC once');
      assert.strictEqual(new Set(seen).size, seen.length, 'none twice');

      // The new route, the new password, the new client, the new listener.
      const uk = await h.request(a, 'submit_sm', { destination_addr: '447700900000', short_message: 'uk' });
      assert.strictEqual(uk.command_status, st.ESME_ROK);
      assert.strictEqual(other.received.length, 1);
      const old = await h.connect(d.ports.smpp);
      assert.strictEqual((await h.request(old, 'bind_transceiver', bob)).command_status, st.ESME_RINVPASWD);
      old.destroy();
      const b = await h.bound(d.ports.smpp, 'bind_transceiver', 'bob', 'bob-new');
      const m = /listener second listening on 127\.0\.0\.1:(\d+)/.exec(d.grep(/listener second listening/)[0]);
      const c = await h.bound(Number(m[1]), 'bind_transceiver', 'carol', 'carol-pw');
      assert.strictEqual((await h.request(c, 'submit_sm', { destination_addr: '1', short_message: 'c' })).command_status, st.ESME_ROK);
      a.destroy();
      b.destroy();
      c.destroy();
    }, { listeners });
  } finally {
    carrier.close();
    other.close();
  }
});

test('an invalid file changes nothing: the errors come back with file and line, traffic goes on', async () => {
  const carrier = await startSmsc();
  try {
    const cfg = base([carrier]);
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const traffic = flow(a);
      await waitUntil(() => traffic.answers.length >= 20, 5000, 'traffic');
      const file = path.join(d.dir, 'smppd.yaml');
      // A route to an upstream that does not exist, on line 3 of a YAML file.
      fs.writeFileSync(file, [
        'listeners: [{name: smpp, type: smpp, address: "127.0.0.1:0"}]',
        'management: {address: "127.0.0.1:0"}',
        'routes: [{name: r, match: {destination_addr: "*"}, upstream: nowhere}]',
        'clients: [{system_id: alice, password: x}]',
      ].join('\n') + '\n');
      const r = await post(d.ports.management, '/api/config/reload');
      assert.strictEqual(r.status, 422);
      assert.strictEqual(r.json.ok, false);
      assert.strictEqual(r.json.error, 'invalid configuration');
      assert.ok(r.json.errors.some((e) => e.startsWith(`${file}:3:`) && /nowhere/.test(e)), r.json.errors.join('\n'));
      d.child.kill('SIGHUP');
      await d.waitFor(/reload \(SIGHUP\): .* is not valid, the running configuration stays/);
      await waitUntil(() => traffic.answers.length >= 60, 5000, 'traffic after the refused reloads');
      const answers = await traffic.stop();
      assert.ok(answers.every((x) => x.status === st.ESME_ROK));
      // alice's old password still binds: nothing of the bad file applied.
      const again = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      again.destroy();
      a.destroy();
    }, { listeners });
  } finally {
    carrier.close();
  }
});

test('an upstream moved to another SMSC while messages flow: in-flight ones finish on the old one, none lost or sent twice', async () => {
  const first = await startSmsc({ answerDelay: 20 });
  const second = await startSmsc();
  try {
    const cfg = base([first]);
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const traffic = flow(a, 10);
      await waitUntil(() => traffic.answers.length >= 40, 5000, 'traffic');
      rewrite(d, base([second]));
      const r = await post(d.ports.management, '/api/config/reload');
      assert.strictEqual(r.status, 200);
      assert.ok(r.json.applied.includes('upstream carrier changed'), JSON.stringify(r.json));
      await waitUntil(() => second.received.length >= 40, 5000, 'messages at the new SMSC');
      const answers = await traffic.stop();
      assert.ok(answers.every((x) => x.status === st.ESME_ROK), JSON.stringify(answers.filter((x) => x.status)));
      const all = [...first.received, ...second.received].map((p) => p.short_message.message);
      assert.strictEqual(all.length, answers.length, 'each message reached an SMSC once');
      assert.strictEqual(new Set(all).size, all.length, 'none twice');
      // The old connection unbinds once drained.
      await waitUntil(() => first.unbinds.length === 1, 5000, 'the old pool to unbind');
      a.destroy();
    }, { listeners });
  } finally {
    first.close();
    second.close();
  }
});

test('a removed client is unbound; a removed listener stops; storage changes wait for a restart', async () => {
  const carrier = await startSmsc();
  const dir = h.tempDir();
  try {
    const cfg = base([carrier]);
    cfg.listeners.push(h.listener('second'));
    cfg.storage = { sqlite: { path: `${dir}/a.db` } };
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const b = await h.bound(d.ports.second, 'bind_transceiver', bob.system_id, bob.password);
      b.on('unbind', (pdu) => b.send(pdu.response()));
      const next = base([carrier]);
      next.clients = [alice];
      next.storage = { sqlite: { path: `${dir}/b.db` } };
      next.routes[0].name = 'renamed';
      rewrite(d, next);
      const r = await post(d.ports.management, '/api/config/reload');
      assert.strictEqual(r.status, 200, JSON.stringify(r.json));
      assert.deepStrictEqual(r.json.restart_needed, ['storage']);
      assert.ok(r.json.applied.includes('client bob removed'));
      assert.ok(r.json.applied.includes('listener second removed'));
      await h.closed(b, 5000);
      await assert.rejects(h.connect(d.ports.second), 'the removed listener accepts no more');
      assert.ok(!fs.existsSync(`${dir}/b.db`), 'the store stays where it was');
      // alice's session is untouched and her messages still go (through the store).
      assert.strictEqual((await h.request(a, 'submit_sm', { destination_addr: '1', short_message: 'x' })).command_status, st.ESME_ROK);
      a.destroy();
    }, { listeners: ['smpp', 'second', 'management'], dir });
  } finally {
    carrier.close();
  }
});

test('with storage: an upstream moved, one removed with messages waiting on disk and added again, while messages flow: none lost or sent twice', async () => {
  const first = await startSmsc({ answerDelay: 20 });
  const second = await startSmsc();
  const uk = await startSmsc();
  const nowhere = await new Promise((resolve) => {
    const srv = require('node:net').createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
  const dir = h.tempDir();
  const withStorage = (carrierSmscs, ukHosts) => {
    const cfg = base(carrierSmscs);
    if (ukHosts) {
      cfg.upstreams.push({ ...upstream('uk', []), hosts: ukHosts });
      cfg.routes.unshift({ name: 'uk', match: { destination_addr: '44*' }, upstream: 'uk' });
    }
    cfg.storage = { sqlite: { path: `${dir}/messages.db` } };
    return cfg;
  };
  const ukHost = [{ address: `127.0.0.1:${uk.port}` }];
  try {
    // uk points nowhere at first: its messages are stored and wait on disk.
    await h.withSmppd(withStorage([first], [{ address: `127.0.0.1:${nowhere}` }]), async (d) => {
      await upstreamsBound(d);
      const a = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      for (let i = 0; i < 5; i++) {
        const r = await h.request(a, 'submit_sm', { destination_addr: `44${i}`, short_message: `uk${i}` });
        assert.strictEqual(r.command_status, st.ESME_ROK, 'stored');
      }
      const traffic = flow(a, 10);
      await waitUntil(() => traffic.answers.length >= 40, 5000, 'traffic');

      // carrier moves to another SMSC; uk goes, with its five messages on disk.
      rewrite(d, withStorage([second], null));
      let r = await post(d.ports.management, '/api/config/reload');
      assert.strictEqual(r.status, 200, JSON.stringify(r.json));
      assert.deepStrictEqual(r.json.restart_needed, []);
      assert.ok(r.json.applied.includes('upstream carrier changed'), JSON.stringify(r.json));
      assert.ok(r.json.applied.includes('upstream uk removed (messages stored for it wait on disk until it is configured again)'), JSON.stringify(r.json));
      await waitUntil(() => second.received.length >= 40, 5000, 'messages at the new SMSC');

      // uk comes back, at a real SMSC: the five go there.
      rewrite(d, withStorage([second], ukHost));
      r = await post(d.ports.management, '/api/config/reload');
      assert.strictEqual(r.status, 200, JSON.stringify(r.json));
      assert.ok(r.json.applied.includes('upstream uk added'), JSON.stringify(r.json));
      await waitUntil(() => uk.received.length === 5, 10000, 'the stored messages at uk');
      assert.deepStrictEqual(uk.received.map((p) => p.short_message.message.toString()).sort(),
        ['uk0', 'uk1', 'uk2', 'uk3', 'uk4']);

      const answers = await traffic.stop();
      assert.ok(answers.every((x) => x.status === st.ESME_ROK), JSON.stringify(answers.filter((x) => x.status)));
      // Stored and answered: each reaches an SMSC once (the last ones maybe a moment later).
      await waitUntil(() => first.received.length + second.received.length >= answers.length, 10000,
        'every stored message sent');
      await h.sleep(200);
      const all = [...first.received, ...second.received].map((p) => p.short_message.message.toString());
      assert.strictEqual(all.length, answers.length, 'each message reached an SMSC once');
      assert.strictEqual(new Set(all).size, all.length, 'none twice');
      await waitUntil(() => first.unbinds.length === 1, 5000, 'the old pool to unbind');
      a.destroy();
    }, { listeners, dir });
  } finally {
    first.close();
    second.close();
    uk.close();
  }
});

test('HTTP listeners reload: a changed one takes over its port (requests in flight finish), one is added, one removed', async () => {
  const carrier = await startSmsc({ answerDelay: 400 });
  try {
    const cfg = base([carrier]);
    cfg.listeners.push({ name: 'api', type: 'http', address: '127.0.0.1:0' });
    cfg.listeners.push({ name: 'old', type: 'http', address: '127.0.0.1:0' });
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const kannel = `/cgi-bin/sendsms?username=alice&password=alice-pw&from=X&to=1&text=hi`;
      assert.strictEqual((await h.httpCall(d.ports.api, kannel)).status, 404, 'no compat yet');
      // A request the SMSC answers late is on its way while the listener changes.
      const inFlight = h.httpCall(d.ports.api, '/v1/messages', { method: 'POST', auth: 'alice:alice-pw',
        body: { to: '1', from: 'X', text: 'in flight' } });
      await waitUntil(() => carrier.received.length === 1, 5000, 'the request at the SMSC');
      const next = base([carrier]);
      next.listeners.push({ name: 'api', type: 'http', address: `127.0.0.1:${d.ports.api}`, compat: ['kannel'] });
      next.listeners.push({ name: 'added', type: 'http', address: '127.0.0.1:0' });
      rewrite(d, next);
      const r = await post(d.ports.management, '/api/config/reload');
      assert.strictEqual(r.status, 200, JSON.stringify(r.json));
      assert.deepStrictEqual(r.json.restart_needed, []);
      for (const a of ['listener api (http) changed (new requests)', 'listener added (http) added',
        'listener old (http) removed']) {
        assert.ok(r.json.applied.includes(a), `${a} not in ${JSON.stringify(r.json.applied)}`);
      }
      assert.strictEqual((await inFlight).status, 202, 'the request in flight finished on the old server');
      const sent = await h.httpCall(d.ports.api, kannel);
      assert.deepStrictEqual([sent.status, sent.text], [202, '0: Accepted for delivery'], 'the same port, the new settings');
      const line = d.lines.find((l) => /listener added listening on 127\.0\.0\.1:(\d+)/.test(l));
      const port = Number(/:(\d+) \(HTTP\)/.exec(line)[1]);
      assert.strictEqual((await h.httpCall(port, '/health')).status, 200);
      await assert.rejects(h.httpCall(d.ports.old, '/health'), 'the removed listener accepts no more');
    }, { listeners: ['smpp', 'api', 'old', 'management'] });
  } finally {
    carrier.close();
  }
});
