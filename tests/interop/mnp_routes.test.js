// Routes by the number portability answer (routes[].match.mcc / mnc / is_ported), end to end:
// an npm `smpp` ESME sends, a local HTTP MNP service (the xconnect provider's GET) answers fast,
// slowly (past mnp's timeout: the fallback, "not ported"), with HTTP 500, with nonsense, or
// never; three npm `smpp` SMSCs are the upstreams the answers choose between. Concurrent
// lookups of one number make one request; a message waiting for its lookup is answered when
// smppd stops; a flood of distinct numbers beyond what the provider's queue holds falls back at
// once instead of hanging; a reload that changes the provider keeps the cache.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const h = require('./daemon_harness');

const { status: st, waitUntil, startSmsc, upstream, upstreamsBound } = h;

const alice = { system_id: 'alice', password: 'alice-pw' };

// The MNP service: `behaviour(number)` says what to do with a lookup of `number` (the digits):
// { network: { mcc, mnc, ported } } answered at once; { delay, network } later; { status, body }
// as given; { hang: true } never (until close()). `held`: answers waiting for release().
async function startMnp(behaviour) {
  const mnp = { requests: [], hung: [], held: [], holding: false };
  const server = http.createServer((req, res) => {
    const number = new URL(req.url, 'http://x').searchParams.get('number');
    mnp.requests.push(number);
    const b = behaviour(number) || {};
    const send = () => {
      if (b.status) {
        res.writeHead(b.status, { 'content-type': 'application/json' });
        res.end(b.body || '');
        return;
      }
      const n = b.network || { mcc: '655', mnc: '99', ported: false };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ number: `+${number}`, mcc: n.mcc, mnc: n.mnc, ported: n.ported }));
    };
    if (b.hang) {
      mnp.hung.push(res);
    } else if (mnp.holding) {
      mnp.held.push(send);
    } else if (b.delay) {
      setTimeout(send, b.delay);
    } else {
      send();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  mnp.port = server.address().port;
  mnp.url = `http://127.0.0.1:${mnp.port}/npq?number={number}`;
  mnp.count = (number) => mnp.requests.filter((n) => n === number).length;
  mnp.release = () => {
    mnp.holding = false;
    for (const send of mnp.held.splice(0)) send();
  };
  mnp.close = () => new Promise((resolve) => {
    for (const res of mnp.hung) res.destroy();
    server.closeAllConnections();
    server.close(resolve);
  });
  return mnp;
}

// Vodacom (655/01) and MTN (655/10) by the answer; everything else (no answer, the fallback,
// another network) to `other`.
function config(mnp, smscs, extra = {}, mnpExtra = {}) {
  return {
    listeners: [h.listener('smpp', { smpp: { window_size: 2000 } })],
    upstreams: [upstream('vodacom', [smscs.vodacom]), upstream('mtn', [smscs.mtn]),
      upstream('other', [smscs.other])],
    routes: [
      { name: 'vodacom', match: { mcc: '655', mnc: '01' }, upstream: 'vodacom' },
      { name: 'mtn', match: { mcc: '655', mnc: '10' }, upstream: 'mtn' },
      { name: 'other', match: { destination_addr: '*' }, upstream: 'other' },
    ],
    clients: [alice],
    metrics: { prometheus: { address: '127.0.0.1:0' } },
    mnp: {
      enabled: true,
      provider: 'xconnect',
      xconnect: { url: mnp.url, timeout: '400ms', max_concurrent: 4, ...mnpExtra },
    },
    ...extra,
  };
}
const listeners = ['smpp', 'metrics'];

async function smscs() {
  return { vodacom: await startSmsc(), mtn: await startSmsc(), other: await startSmsc() };
}
function closeAll(s) {
  for (const smsc of Object.values(s)) smsc.close();
}
// Which SMSC took the message to `to` ('vodacom', 'mtn', 'other'; '-' for none).
function landedOn(s, to) {
  const names = Object.keys(s).filter((k) => s[k].received.some((p) => p.destination_addr === to));
  return names.length === 1 ? names[0] : names.length === 0 ? '-' : names.join('+');
}

const submit = (s, to, ms) => h.request(s, 'submit_sm',
  { destination_addr: to, dest_addr_ton: 1, short_message: 'hello' }, ms);

async function metric(d, series) {
  const r = await h.httpCall(d.ports.metrics, '/metrics');
  const line = r.text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

test('each message lands on the upstream its MNP answer chooses: fast, slow, failing, malformed, cached, not a number', async () => {
  const answers = {
    27821000001: { network: { mcc: '655', mnc: '01', ported: false } },  // Vodacom's own
    27821000002: { network: { mcc: '655', mnc: '10', ported: true } },   // ported to MTN
    27821000003: { delay: 1500, network: { mcc: '655', mnc: '01' } },    // past the timeout
    27821000004: { status: 500, body: '{"message":"database down"}' },
    27821000005: { status: 200, body: '{"mcc": "6x5", "mnc": [' },        // nonsense
    27821000006: { status: 200, body: '{"result": "maybe"}' },             // names no network
  };
  const mnp = await startMnp((n) => answers[n]);
  const s = await smscs();
  try {
    await h.withSmppd(config(mnp, s), async (d) => {
      await upstreamsBound(d, 3);
      const esme = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      for (const to of Object.keys(answers)) {
        assert.strictEqual((await submit(esme, to)).command_status, st.ESME_ROK, to);
      }
      assert.strictEqual(landedOn(s, '27821000001'), 'vodacom');
      assert.strictEqual(landedOn(s, '27821000002'), 'mtn');
      // Slow, failing, nonsense: routed as not ported, on no network: the default route.
      for (const to of ['27821000003', '27821000004', '27821000005', '27821000006']) {
        assert.strictEqual(landedOn(s, to), 'other', to);
      }
      // Each number was asked once; the second message to Vodacom's number is answered by the
      // cache, and a failure is remembered (mnp.cache.negative_ttl): no second request.
      assert.strictEqual((await submit(esme, '+27821000001')).command_status, st.ESME_ROK);
      assert.strictEqual((await submit(esme, '27821000004')).command_status, st.ESME_ROK);
      assert.strictEqual(s.vodacom.received.length, 2);
      for (const n of Object.keys(answers)) assert.strictEqual(mnp.count(n), 1, n);
      // Not a number: no lookup, no MNP answer, the default route.
      assert.strictEqual((await h.request(esme, 'submit_sm',
        { destination_addr: 'ACME', dest_addr_ton: 5, short_message: 'x' })).command_status, st.ESME_ROK);
      assert.strictEqual(landedOn(s, 'ACME'), 'other');
      assert.strictEqual(mnp.requests.length, Object.keys(answers).length);

      assert.strictEqual(await metric(d, 'smppd_mnp_answers_total{source="provider"}'), 2);
      assert.strictEqual(await metric(d, 'smppd_mnp_answers_total{source="cache"}'), 1);
      assert.strictEqual(await metric(d, 'smppd_mnp_answers_total{source="fallback"}'), 5);
      assert.strictEqual(await metric(d, 'smppd_mnp_requests_total{result="answered"}'), 2);
      assert.strictEqual(await metric(d, 'smppd_mnp_requests_total{result="failed"}'), 4);
      assert.strictEqual(await metric(d, 'smppd_mnp_waiting'), 0);
      esme.close();
    }, { listeners });
  } finally {
    closeAll(s);
    await mnp.close();
  }
});

test('concurrent messages to one number wait for one provider request, then all take its answer', async () => {
  const mnp = await startMnp(() => ({ network: { mcc: '655', mnc: '10', ported: true } }));
  mnp.holding = true;
  const s = await smscs();
  try {
    await h.withSmppd(config(mnp, s, {}, { timeout: '10s' }), async (d) => {
      await upstreamsBound(d, 3);
      const esme = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const sent = [];
      for (let i = 0; i < 20; i++) sent.push(submit(esme, '27821234567', 10000));
      // Every message is waiting for the one request the provider holds.
      await waitUntil(async () => (await metric(d, 'smppd_mnp_waiting')) === 20, 5000,
        '20 messages waiting for their MNP answer');
      assert.strictEqual(mnp.requests.length, 1);
      assert.strictEqual(s.mtn.received.length + s.other.received.length, 0);
      mnp.release();
      for (const r of await Promise.all(sent)) assert.strictEqual(r.command_status, st.ESME_ROK);
      assert.strictEqual(s.mtn.received.length, 20);
      assert.strictEqual(mnp.requests.length, 1);
      assert.strictEqual(await metric(d, 'smppd_mnp_merged_total'), 19);
      esme.close();
    }, { listeners });
  } finally {
    closeAll(s);
    await mnp.close();
  }
});

test('a provider that never answers: each message is answered after the timeout, on the fallback route', async () => {
  const mnp = await startMnp(() => ({ hang: true }));
  const s = await smscs();
  try {
    await h.withSmppd(config(mnp, s), async (d) => {
      await upstreamsBound(d, 3);
      const esme = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const numbers = ['27821000011', '27821000012', '27821000013'];
      const answered = await Promise.all(numbers.map((n) => submit(esme, n)));
      for (const r of answered) assert.strictEqual(r.command_status, st.ESME_ROK);
      for (const n of numbers) assert.strictEqual(landedOn(s, n), 'other', n);
      assert.strictEqual(mnp.requests.length, 3);
      assert.strictEqual(await metric(d, 'smppd_mnp_answers_total{source="fallback"}'), 3);
      esme.close();
    }, { listeners });
  } finally {
    closeAll(s);
    await mnp.close();
  }
});

test('messages waiting for their lookup when smppd stops are answered (ESME_RSYSERR), not lost', async () => {
  const mnp = await startMnp(() => ({ hang: true }));
  const s = await smscs();
  try {
    const d = await h.startSmppd(config(mnp, s, {}, { timeout: '30s' }), { listeners });
    try {
      await upstreamsBound(d, 3);
      const esme = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      let unbound = false;
      esme.on('unbind', (pdu) => {
        unbound = true;
        esme.send(pdu.response());
      });
      const sent = ['27821000021', '27821000022', '27821000023'].map((n) => submit(esme, n, 10000));
      await waitUntil(async () => (await metric(d, 'smppd_mnp_waiting')) === 3, 5000,
        '3 messages waiting');
      const stopped = d.stopClean();
      for (const r of await Promise.all(sent)) assert.strictEqual(r.command_status, st.ESME_RSYSERR);
      await stopped;
      // Answered first, then unbound (smppd unbinds a session once its requests are answered).
      assert.ok(unbound);
      assert.strictEqual(s.other.received.length, 0);
    } catch (e) {
      d.kill();
      throw e;
    }
  } finally {
    closeAll(s);
    await mnp.close();
  }
});

test('a flood of lookups for distinct numbers beyond what the provider can take falls back, not a hang', async () => {
  // One request at a time to a provider that never answers, and the HTTP client's queue of
  // 1,000 behind it: the lookups beyond fall back at once, those queued by the timeout.
  const mnp = await startMnp(() => ({ hang: true }));
  const s = await smscs();
  try {
    await h.withSmppd(config(mnp, s, {}, { timeout: '2s', max_concurrent: 1 }), async (d) => {
      await upstreamsBound(d, 3);
      const esme = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const count = 1200;
      const sent = [];
      for (let i = 0; i < count; i++) sent.push(submit(esme, `2782${String(1000000 + i)}`, 20000));
      const answered = await Promise.all(sent);
      assert.strictEqual(answered.filter((r) => r.command_status === st.ESME_ROK).length, count);
      assert.strictEqual(s.other.received.length, count);
      assert.strictEqual(s.vodacom.received.length + s.mtn.received.length, 0);
      // The provider saw a handful of requests, not one per number.
      assert.ok(mnp.requests.length < count / 10, `${mnp.requests.length} requests`);
      assert.strictEqual(await metric(d, 'smppd_mnp_answers_total{source="fallback"}'), count);
      assert.strictEqual(await metric(d, 'smppd_mnp_waiting'), 0);
      esme.close();
    }, { listeners });
  } finally {
    closeAll(s);
    await mnp.close();
  }
});

test('with storage, a message is stored, then sent where its MNP answer chooses', async () => {
  const mnp = await startMnp((n) => (n === '27821000031'
    ? { delay: 100, network: { mcc: '655', mnc: '10', ported: true } }
    : { network: { mcc: '655', mnc: '01', ported: false } }));
  const s = await smscs();
  const dir = h.tempDir();
  try {
    const cfg = config(mnp, s, { storage: { enabled: true, sqlite: { path: path.join(dir, 'messages.db') } } });
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 3);
      const esme = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      assert.strictEqual((await submit(esme, '27821000031')).command_status, st.ESME_ROK);
      assert.strictEqual((await submit(esme, '27821000032')).command_status, st.ESME_ROK);
      await waitUntil(() => s.mtn.received.length === 1 && s.vodacom.received.length === 1, 5000,
        'both sent from the store');
      assert.strictEqual(landedOn(s, '27821000031'), 'mtn');
      assert.strictEqual(landedOn(s, '27821000032'), 'vodacom');
      esme.close();
    }, { dir, listeners });
  } finally {
    closeAll(s);
    await mnp.close();
  }
});

test('a reload that changes the provider keeps the cache; one that disables mnp (and its routes) stops the lookups', async () => {
  const first = await startMnp(() => ({ network: { mcc: '655', mnc: '01', ported: false } }));
  const second = await startMnp(() => ({ network: { mcc: '655', mnc: '10', ported: true } }));
  const s = await smscs();
  const rewrite = (d, cfg) => fs.writeFileSync(path.join(d.dir, 'smppd.yaml'), JSON.stringify(cfg, null, 2) + '\n');
  try {
    const cfg = config(first, s);
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 3);
      const esme = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      assert.strictEqual((await submit(esme, '27821000041')).command_status, st.ESME_ROK);
      assert.strictEqual(landedOn(s, '27821000041'), 'vodacom');

      rewrite(d, config(second, s));
      d.child.kill('SIGHUP');
      await d.waitFor(/reload \(SIGHUP\): .* applied: .*mnp changed \(xconnect, the cache kept\)/);
      // The number answered before is still answered from the cache; a new one asks the new
      // provider.
      assert.strictEqual((await submit(esme, '27821000041')).command_status, st.ESME_ROK);
      assert.strictEqual((await submit(esme, '27821000042')).command_status, st.ESME_ROK);
      assert.strictEqual(s.vodacom.received.length, 2);
      assert.strictEqual(landedOn(s, '27821000042'), 'mtn');
      assert.deepStrictEqual(first.requests, ['27821000041']);
      assert.deepStrictEqual(second.requests, ['27821000042']);
      // Counted across both clients.
      assert.strictEqual(await metric(d, 'smppd_mnp_requests_total{result="answered"}'), 2);

      const off = config(second, s);
      off.mnp = { enabled: false };
      off.routes = off.routes.filter((r) => r.name === 'other');
      rewrite(d, off);
      d.child.kill('SIGHUP');
      await d.waitFor(/reload \(SIGHUP\): .* applied: .*mnp disabled/);
      assert.strictEqual((await submit(esme, '27821000043')).command_status, st.ESME_ROK);
      assert.strictEqual(landedOn(s, '27821000043'), 'other');
      assert.strictEqual(second.requests.length, 1);
      esme.close();
    }, { listeners });
  } finally {
    closeAll(s);
    await first.close();
    await second.close();
  }
});
