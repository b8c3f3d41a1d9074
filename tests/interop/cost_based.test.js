// Cost-based balancing end to end: two npm `smpp` SMSCs as the hosts of one upstream with cost
// tables; each message goes to the host cheapest for its destination, and to the next cheapest
// when that one goes down.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');

const { status: st, waitUntil, startSmsc, upstreamsBound } = h;

test('each message to the host cheapest for its destination; the next cheapest when it is down', async () => {
  const a = await startSmsc();
  const b = await startSmsc();
  a.host = { cost: { '+27': 0.010, '*': 0.025 } };
  b.host = { cost: { '+258': 0.012, '+27': 0.012, '*': 0.020 } };
  const cfg = {
    listeners: [h.listener('smpp')],
    upstreams: [h.upstream('carriers', [a, b], { load_balancing: { algorithm: 'cost_based' } })],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carriers' }],
    clients: [{ system_id: 'alice', password: 'alice-pw' }],
  };
  try {
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 2);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', 'alice', 'alice-pw');
      const send = async (to) => (await h.request(s, 'submit_sm', { destination_addr: to, dest_addr_ton: 1, short_message: 'x' })).command_status;
      for (let i = 0; i < 5; i++) {
        assert.strictEqual(await send(`25884123456${i}`), st.ESME_ROK);  // B: 0.012 < A's 0.025
        assert.strictEqual(await send(`2782123456${i}`), st.ESME_ROK);   // A: 0.010 < B's 0.012
        assert.strictEqual(await send(`4915112345${i}`), st.ESME_ROK);   // B: 0.020 < 0.025
      }
      assert.deepStrictEqual(a.received.map((p) => p.destination_addr.slice(0, 2)), Array(5).fill('27'));
      assert.deepStrictEqual(b.received.map((p) => p.destination_addr.slice(0, 3)).sort(),
        [...Array(5).fill('258'), ...Array(5).fill('491')]);
      // B goes away: its destinations go to A, dearer but up.
      b.close();
      await waitUntil(() => d.grep(/upstream carriers: 127\.0\.0\.1:\d+: connection closed/).length >= 1, 5000, 'B down');
      assert.strictEqual(await send('258841239999'), st.ESME_ROK);
      assert.strictEqual(a.received.at(-1).destination_addr, '258841239999');
      s.close();
    });
  } finally {
    a.close();
  }
});
