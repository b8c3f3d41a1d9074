// Store and forward (storage.enabled), end to end: the npm `smpp` package as the client and as
// the SMSC, smppd in between with a real SQLite file. Each test checks that its situation
// really happened (the SMSC held or refused, smppd was killed, the upstream was down).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./daemon_harness');

const { status: st, waitUntil, receipts, startSmsc, upstream, upstreamsBound } = h;
const alice = { system_id: 'alice', password: 'secret1' };

function config(dir, upstreams, extra = {}) {
  return {
    listeners: [h.listener('smpp')],
    clients: [alice],
    upstreams,
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: upstreams[0].name }],
    storage: { enabled: true, sqlite: { path: path.join(dir, 'messages.db') } },
    ...extra,
  };
}

async function run(cfg, dir, body) {
  const d = await h.startSmppd(cfg, { dir });
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

const receiptText = (pdu) => Buffer.from(pdu.short_message.message || pdu.short_message).toString();

test('a message is answered ESME_ROK once stored, before the SMSC answers; its receipt comes back with smppd\'s id', async () => {
  const smsc = await startSmsc({ hold: true });
  const dir = h.tempDir();
  try {
    const cfg = config(dir, [upstream('carrier', [smsc])]);
    await run(cfg, dir, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const r = await h.request(s, 'submit_sm', {
        destination_addr: '258841234567', short_message: 'stored first', registered_delivery: 1,
      });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      assert.match(r.message_id, /^[0-9a-f]{12}$/);
      // The SMSC has it and has not answered: the client's ESME_ROK came from the store.
      await waitUntil(() => smsc.received.length === 1, 3000, 'the submit at the SMSC');
      assert.strictEqual(smsc.answered, 0);
      smsc.release();
      await waitUntil(() => got.length === 1, 5000, 'the receipt');
      const text = receiptText(got[0]);
      assert.match(text, new RegExp(`^id:${r.message_id} `));
      assert.match(text, /stat:DELIVRD/);
      assert.strictEqual(smsc.received[0].short_message.message, 'stored first');
    });
  } finally {
    smsc.close();
  }
});

test('a message the SMSC refuses after it was accepted comes back as a REJECTD receipt with the SMSC\'s status in err:', async () => {
  const smsc = await startSmsc({ onSubmit: () => ({ status: st.ESME_RINVDSTADR }) });
  const dir = h.tempDir();
  try {
    const cfg = config(dir, [upstream('carrier', [smsc])]);
    const counters = await run(cfg, dir, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const r = await h.request(s, 'submit_sm', {
        source_addr: 'ACME', destination_addr: '258841234567', short_message: 'refused later',
        registered_delivery: 1,
      });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      await waitUntil(() => got.length === 1, 5000, 'the receipt smppd makes');
      assert.strictEqual(smsc.received.length, 1);
      const text = receiptText(got[0]);
      assert.match(text, new RegExp(`^id:${r.message_id} sub:001 dlvrd:000 `));
      assert.match(text, /stat:REJECTD err:011/);
      assert.strictEqual(got[0].esm_class & 0x3c, 0x04);
      assert.strictEqual(got[0].source_addr, '258841234567');
      assert.strictEqual(got[0].destination_addr, 'ACME');
      // And the store says so.
      const q = await h.request(s, 'query_sm', { message_id: r.message_id, source_addr: 'ACME' });
      assert.strictEqual(q.command_status, st.ESME_ROK);
      assert.strictEqual(q.message_state, 8);  // REJECTED
      assert.strictEqual(q.error_code, 11);
    });
    assert.strictEqual(counters['smppd_receipts_made_total{client="alice",state="rejected"}'], 1);
  } finally {
    smsc.close();
  }
});
