// What docs/architecture.md promises about the message path, end to end: the npm `smpp` package
// as the client and as the SMSC, smppd in between. Each test checks that its situation really
// happened (the SMSC saw the requests, the log or the exit counters say so).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');

const { status: st, waitUntil, receipts, startSmsc, upstream, upstreamsBound } = h;
const alice = { system_id: 'alice', password: 'secret1' };

function config(upstreams, extra = {}) {
  return {
    listeners: [h.listener('smpp')],
    clients: [alice],
    upstreams,
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: upstreams[0].name }],
    mo_routes: [{ name: 'shortcode', match: { destination_addr: '12345' }, client: 'alice' }],
    ...extra,
  };
}

// Runs body(d) against smppd started with `cfg`; returns the exit's counters.
async function run(cfg, body) {
  const d = await h.startSmppd(cfg);
  try {
    await body(d);
  } catch (e) {
    d.kill();
    await d.exited;
    if (e instanceof Error) e.message += `\n--- smppd log ---\n${d.text()}`;
    throw e;
  }
  return (await d.stopClean()).counters;
}

// A deliver_sm from the SMSC's first session; resolves with smppd's command_status.
function fromSmsc(smsc, fields) {
  return h.within(3000, new Promise((resolve) => {
    smsc.sessions[0].deliver_sm(fields, (resp) => resolve(resp.command_status));
  }), 'the deliver_sm_resp');
}

test('a submit the SMSC never answers, or whose connection drops, is ESME_RSYSERR and never sent again', async () => {
  const smsc = await startSmsc({ hold: true });
  try {
    const cfg = config([upstream('carrier', [smsc], { timeouts: { response: '300ms' } })]);
    const counters = await run(cfg, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const first = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'a' });
      assert.strictEqual(first.command_status, st.ESME_RSYSERR);
      await d.waitFor(/no response for message [0-9a-f]{12} of alice: its outcome is unknown/);
      // The connection drops with the second in flight.
      const second = h.request(s, 'submit_sm', { destination_addr: '2', short_message: 'b' });
      await waitUntil(() => smsc.received.length === 2, 3000, 'the second submit at the SMSC');
      smsc.held.length = 0;
      smsc.holding = false;
      for (const session of smsc.sessions) session.destroy();
      assert.strictEqual((await second).command_status, st.ESME_RSYSERR);
      // Reconnected: a third is accepted, and the SMSC saw each message once.
      await upstreamsBound(d, 2);
      const third = await h.request(s, 'submit_sm', { destination_addr: '3', short_message: 'c' });
      assert.strictEqual(third.command_status, st.ESME_ROK);
      assert.deepStrictEqual(smsc.received.map((p) => p.destination_addr), ['1', '2', '3']);
      s.destroy();
    });
    assert.strictEqual(
      counters['smppd_messages_total{direction="mt",client="alice",upstream="carrier",status="ESME_RSYSERR"}'], 2);
    assert.strictEqual(
      counters['smppd_messages_total{direction="mt",client="alice",upstream="carrier",status="ESME_ROK"}'], 1);
  } finally {
    smsc.close();
  }
});

test('unrouted MO is ESME_RINVDSTADR; messages, MO, unrouted MO and unmatched receipts are counted', async () => {
  const smsc = await startSmsc({ receiptDelay: 0 });
  try {
    const cfg = config([upstream('carrier', [smsc])]);
    cfg.routes = [{ name: 'mz', match: { destination_addr: '258*' }, upstream: 'carrier' }];
    const counters = await run(cfg, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const ok = await h.request(s, 'submit_sm',
        { destination_addr: '258841234567', short_message: 'x', registered_delivery: 1 });
      assert.strictEqual(ok.command_status, st.ESME_ROK);
      const unrouted = await h.request(s, 'submit_sm', { destination_addr: '4477', short_message: 'x' });
      assert.strictEqual(unrouted.command_status, st.ESME_RINVDSTADR);
      await waitUntil(() => got.length === 1, 3000, 'the receipt');
      assert.strictEqual(await fromSmsc(smsc,
        { source_addr: '258841234567', destination_addr: '99999', short_message: 'lost' }),
      st.ESME_RINVDSTADR);
      assert.strictEqual(await fromSmsc(smsc,
        { source_addr: '258841234567', destination_addr: '12345', short_message: 'STOP' }), 0);
      await waitUntil(() => got.length === 2, 3000, 'the MO');
      // A receipt for an id smppd never gave: taken (it may overtake its message), held, looked
      // up again until the last retry (5 ms ... 3 s), then given up.
      assert.strictEqual(await fromSmsc(smsc, { source_addr: '1', destination_addr: '2', esm_class: 4,
        short_message: 'id:77777 sub:001 dlvrd:001 submit date:2611271200 done date:2611271201 ' +
          'stat:DELIVRD err:000 text:x' }), 0);
      await d.waitFor(/a delivery receipt for id '77777' matches no message/, 8000);
      assert.strictEqual(got.length, 2, 'the unmatched receipt reached no client');
      s.destroy();
    });
    assert.strictEqual(
      counters['smppd_messages_total{direction="mt",client="alice",upstream="carrier",status="ESME_ROK"}'], 1);
    assert.strictEqual(
      counters['smppd_messages_rejected_total{client="alice",reason="no_route"}'], 1);
    assert.strictEqual(counters['smppd_mo_unrouted_total{upstream="carrier"}'], 1);
    assert.strictEqual(counters['smppd_messages_total{direction="mo",client="alice",upstream="carrier",status="ESME_ROK"}'], 1);
    assert.strictEqual(counters['smppd_receipts_unmatched_total{upstream="carrier"}'], 1);
    assert.strictEqual(counters['smppd_receipts_total{upstream="carrier",client="alice"}'], 1);
  } finally {
    smsc.close();
  }
});

test('a deliver_sm the client does not answer (connection up) is delivered again', async () => {
  const smsc = await startSmsc();
  try {
    const cfg = config([upstream('carrier', [smsc])]);
    cfg.listeners = [h.listener('smpp', { timeouts: { response: '300ms' } })];
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const offers = [];
      s.on('deliver_sm', (pdu) => {
        offers.push(pdu);
        if (offers.length > 1) s.send(pdu.response());  // the first one is left unanswered
      });
      assert.strictEqual(await fromSmsc(smsc,
        { source_addr: '258841234567', destination_addr: '12345', short_message: 'STOP' }), 0);
      await waitUntil(() => offers.length === 2, 5000, 'the second offer');
      for (const o of offers) assert.strictEqual(o.short_message.message.toString(), 'STOP');
      assert.notStrictEqual(offers[1].sequence_number, offers[0].sequence_number);
      // The connection stayed up all along: the same session still submits.
      assert.strictEqual(s.errors.length, 0);
      const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'x' });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      s.destroy();
    });
  } finally {
    smsc.close();
  }
});

test('max_lifetime recycling waits for the responses in flight before it unbinds', async () => {
  const smsc = await startSmsc({ hold: true });
  try {
    const cfg = config([upstream('carrier', [smsc], { pool: { max_lifetime: '1s' } })]);
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const answers = [1, 2, 3].map((i) =>
        h.request(s, 'submit_sm', { destination_addr: String(i), short_message: 'x' }, 10000));
      await waitUntil(() => smsc.received.length === 3, 3000, 'three submits in flight');
      await d.waitFor(/recycling the connection to \S+ \(max_lifetime\)/, 5000);
      await h.sleep(200);
      assert.deepStrictEqual(smsc.unbinds, [], 'no unbind while responses are outstanding');
      smsc.release();
      for (const r of await Promise.all(answers)) assert.strictEqual(r.command_status, st.ESME_ROK);
      await waitUntil(() => smsc.unbinds.length >= 1, 5000, 'the unbind');
      assert.deepStrictEqual(smsc.unbinds[0], { via: 0, answered: 3 });
      await upstreamsBound(d, 2);  // and bound again
      s.destroy();
    });
  } finally {
    smsc.close();
  }
});

test('PDUs written one byte at a time (TCP_NODELAY, a pause between bytes) are framed and served', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([upstream('carrier', [smsc])]), async (d) => {
      await upstreamsBound(d);
      const raw = await h.RawClient.connect(d.ports.smpp);
      raw.socket.setNoDelay(true);
      const bytes = Buffer.concat([
        h.pduBytes('bind_transmitter', alice, 1),
        h.pduBytes('enquire_link', {}, 2),
        h.pduBytes('submit_sm', { destination_addr: '1', short_message: 'byte by byte' }, 3),
      ]);
      let segments = 0;
      for (const byte of bytes) {
        raw.write(Buffer.from([byte]));
        segments += 1;
        // smppd has read this byte before the next is written: each of its reads gets one byte.
        await h.peerHasRead(raw.socket);
      }
      assert.strictEqual(segments, bytes.length);
      const bind = await raw.next();
      assert.deepStrictEqual([bind.id, bind.status, bind.seq], [0x80000002, 0, 1]);
      const link = await raw.next();
      assert.deepStrictEqual([link.id, link.status, link.seq], [h.ids.enquire_link_resp, 0, 2]);
      const submit = await raw.next();
      assert.deepStrictEqual([submit.id, submit.status, submit.seq], [h.ids.submit_sm_resp, 0, 3]);
      assert.strictEqual(smsc.received.length, 1);
      assert.strictEqual(smsc.received[0].short_message.message.toString(), 'byte by byte');
      raw.destroy();
    });
  } finally {
    smsc.close();
  }
});

test('failover: after `threshold` timeouts the upstream is tripped; messages go to failover.fallback for recovery_time, then back', async () => {
  const primary = await startSmsc({ hold: true });
  const backup = await startSmsc();
  try {
    const cfg = config([
      upstream('primary', [primary], {
        timeouts: { response: '300ms' },
        failover: { threshold: 2, recovery_time: '1500ms', fallback: 'backup' },
        health: { enabled: false },
      }),
      upstream('backup', [backup]),
    ]);
    await run(cfg, async (d) => {
      await upstreamsBound(d, 2);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const send = (to) => h.request(s, 'submit_sm', { destination_addr: to, short_message: to });
      // Two timeouts at the primary (its connection stays up): tripped.
      assert.strictEqual((await send('1')).command_status, st.ESME_RSYSERR);
      assert.strictEqual((await send('2')).command_status, st.ESME_RSYSERR);
      await d.waitFor(/upstream primary: 2 consecutive failures: traffic goes to its failover/);
      const tripped = h.now();
      primary.release();  // answers from now on
      // While tripped: the fallback takes it, the primary sees nothing new.
      assert.strictEqual((await send('3')).command_status, st.ESME_ROK);
      assert.deepStrictEqual(backup.received.map((p) => p.destination_addr), ['3']);
      assert.strictEqual(primary.received.length, 2);
      // After recovery_time: back to the primary.
      await h.sleep(Math.max(0, 1600 - (h.now() - tripped)));
      assert.strictEqual((await send('4')).command_status, st.ESME_ROK);
      assert.deepStrictEqual(primary.received.map((p) => p.destination_addr), ['1', '2', '4']);
      assert.strictEqual(backup.received.length, 1);
    });
  } finally {
    primary.close();
    backup.close();
  }
});
