// A client's own limits (clients[].rate_limit) across all its sessions on every listener, with
// npm smpp peers: messages_per_second (with burst) answered ESME_RTHROTTLED, window_size (its
// requests in flight) answered ESME_RMSGQFUL; other clients untouched; slots given back by
// answers and by a session that closes mid-window; the metric and the management API; a
// reload that changes the rate.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./daemon_harness');

const { status: st, waitUntil, startSmsc, upstream, upstreamsBound } = h;

const alice = { system_id: 'alice', password: 'alice-pw' };
const bob = { system_id: 'bob', password: 'bob-pw' };

function config(smsc, aliceLimit) {
  return {
    listeners: [h.listener('smpp'), h.listener('other')],
    upstreams: [upstream('carrier', [smsc])],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
    clients: [{ ...alice, rate_limit: aliceLimit }, bob],
    metrics: { prometheus: { address: '127.0.0.1:0' } },
    management: { address: '127.0.0.1:0' },
  };
}
const listeners = ['smpp', 'other', 'metrics', 'management'];

const get = (port, target) => h.httpCall(port, target);

async function hits(d, client, limit) {
  const r = await get(d.ports.metrics, '/metrics');
  const re = new RegExp(`^smppd_rate_limit_hits_total\\{client="${client}",limit="${limit}"\\} (\\S+)$`, 'm');
  const m = re.exec(r.text);
  assert.ok(m, `no smppd_rate_limit_hits_total for ${client}/${limit} in:\n${r.text}`);
  return Number(m[1]);
}

async function clientInfo(d, client) {
  const r = await get(d.ports.management, `/api/clients/${client}`);
  assert.strictEqual(r.status, 200, r.text);
  return JSON.parse(r.text);
}

const submit = (s, to) => h.request(s, 'submit_sm', { destination_addr: to, short_message: to });

test('window_size bounds a client\'s requests in flight across its sessions on two listeners; answers and a closed session give the places back', async () => {
  const smsc = await startSmsc({ hold: true });
  try {
    await h.withSmppd(config(smsc, { window_size: 5 }), async (d) => {
      await upstreamsBound(d);
      const a1 = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const a2 = await h.bound(d.ports.other, 'bind_transmitter', alice.system_id, alice.password);
      const b = await h.bound(d.ports.smpp, 'bind_transmitter', bob.system_id, bob.password);

      // Six at once, three on each session: five go to the SMSC (held there), one is refused.
      const first = [];
      for (let i = 0; i < 3; i++) first.push(submit(a1, `1${i}`), submit(a2, `2${i}`));
      await waitUntil(() => smsc.received.length >= 5, 5000, 'five at the SMSC');
      const refusedEarly = await Promise.race([
        Promise.any(first.map((p) => p.then((r) => (r.command_status === st.ESME_RMSGQFUL ? r : Promise.reject())))),
        h.sleep(3000).then(() => null),
      ]);
      assert.ok(refusedEarly, 'one of the six answered ESME_RMSGQFUL while the others are held');
      // bob has his own limits: his message goes while alice's window is full.
      const bobs = submit(b, '30');
      await waitUntil(() => smsc.received.length === 6, 5000, 'bob\'s message at the SMSC');

      smsc.release();
      const answers = await Promise.all([...first, bobs]);
      const statuses = answers.map((r) => r.command_status);
      assert.strictEqual(statuses.filter((s) => s === st.ESME_ROK).length, 6, JSON.stringify(statuses));
      assert.strictEqual(statuses.filter((s) => s === st.ESME_RMSGQFUL).length, 1);
      assert.strictEqual(await hits(d, 'alice', 'window_size'), 1);
      assert.strictEqual(await hits(d, 'bob', 'window_size'), 0);

      // Answers gave the places back: five in flight again, three of them on a1; a1 then goes
      // away without its answers: its three places come back at once.
      smsc.holding = true;
      const held = [submit(a1, '40'), submit(a1, '41'), submit(a1, '42'), submit(a2, '43'), submit(a2, '44')];
      await waitUntil(() => smsc.received.length === 11, 5000, 'five more at the SMSC');
      let info = await clientInfo(d, 'alice');
      assert.strictEqual(info.rate_limit.in_flight, 5);
      assert.strictEqual(info.rate_limit.window_full, 1);
      assert.strictEqual(info.rate_limit.window_size, 5);
      a1.destroy();
      await waitUntil(async () => (await clientInfo(d, 'alice')).bound === 1, 5000, 'a1 gone');
      info = await clientInfo(d, 'alice');
      assert.strictEqual(info.rate_limit.in_flight, 2);
      const more = [submit(a2, '50'), submit(a2, '51'), submit(a2, '52')];
      await waitUntil(() => smsc.received.length === 14, 5000, 'three more in a1\'s places');
      smsc.release();
      for (const r of await Promise.all([...held.slice(3), ...more])) {
        assert.strictEqual(r.command_status, st.ESME_ROK);
      }
      await Promise.allSettled(held.slice(0, 3));
      assert.strictEqual(await hits(d, 'alice', 'window_size'), 1);
      await waitUntil(async () => (await clientInfo(d, 'alice')).rate_limit.in_flight === 0, 5000,
        'nothing in flight');
      a2.destroy();
      b.destroy();
    }, { listeners });
  } finally {
    smsc.close();
  }
});

test('messages_per_second with a burst is one budget across a client\'s sessions; beyond it ESME_RTHROTTLED; a reload lifts it', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config(smsc, { messages_per_second: 2, burst: 6 }), async (d) => {
      await upstreamsBound(d);
      const a1 = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const a2 = await h.bound(d.ports.other, 'bind_transceiver', alice.system_id, alice.password);
      const b = await h.bound(d.ports.smpp, 'bind_transmitter', bob.system_id, bob.password);

      // Twenty at once, ten on each session: the burst of six passes (one more if 500 ms went
      // by meanwhile), the rest is throttled and never reaches the SMSC.
      const started = h.now();
      const sent = [];
      for (let i = 0; i < 10; i++) sent.push(submit(a1, `1${i}`), submit(a2, `2${i}`));
      const bobs = [];
      for (let i = 0; i < 10; i++) bobs.push(submit(b, `3${i}`));
      const answers = await Promise.all(sent);
      const elapsed = h.now() - started;
      const ok = answers.filter((r) => r.command_status === st.ESME_ROK).length;
      const throttled = answers.filter((r) => r.command_status === st.ESME_RTHROTTLED).length;
      assert.strictEqual(ok + throttled, 20, JSON.stringify(answers.map((r) => r.command_status)));
      assert.ok(ok >= 6 && ok <= 6 + Math.floor(elapsed / 500), `${ok} passed in ${elapsed} ms`);
      for (const r of await Promise.all(bobs)) assert.strictEqual(r.command_status, st.ESME_ROK);
      const fromAlice = smsc.received.filter((p) => /^[12]/.test(p.destination_addr)).length;
      assert.strictEqual(fromAlice, ok, 'only what passed reached the SMSC');
      assert.strictEqual(await hits(d, 'alice', 'messages_per_second'), throttled);
      assert.strictEqual(await hits(d, 'bob', 'messages_per_second'), 0);
      assert.strictEqual((await clientInfo(d, 'alice')).rate_limit.throttled, throttled);
      await d.waitFor(/client alice: submit_sm beyond its rate_limit: ESME_RTHROTTLED/);

      // At the rate: one every 500 ms passes.
      await h.sleep(600);
      assert.strictEqual((await submit(a1, '60')).command_status, st.ESME_ROK);

      // The rate as a plain number, then lifted by a reload: applies to the next message on
      // the sessions already bound.
      const next = config(smsc, 1000000);
      fs.writeFileSync(path.join(d.dir, 'smppd.yaml'), JSON.stringify(next, null, 2) + '\n');
      d.child.kill('SIGHUP');
      await d.waitFor(/reload \(SIGHUP\): .* applied: .*client alice changed/);
      assert.ok(!d.grep(/client alice changed \(applies to its next bind\)/).length, 'a new rate applies at once');
      const after = await Promise.all(Array.from({ length: 30 }, (_, i) => submit(i % 2 ? a1 : a2, `7${i}`)));
      for (const r of after) assert.strictEqual(r.command_status, st.ESME_ROK);
      for (const s of [a1, a2, b]) s.destroy();
    }, { listeners });
  } finally {
    smsc.close();
  }
});
