// multipart.reassembly end to end, with npm `smpp` ESMEs and SMSCs: when a transform of the text
// or a route script must see a long message whole, its parts are held (each answered at once,
// so a client that waits for every answer goes on) and joined; the whole message is
// transformed and routed, then sent cut again — as its client cut it when its text is
// unchanged — and its receipt comes back to the id of the part that completed it. Parts that
// never complete, a full buffer and a whole message the SMSC refuses are told to the client:
// nothing answered ESME_ROK is dropped silently.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./daemon_harness');

const { status: st, waitUntil, startSmsc, upstreamsBound, receipts } = h;

const alice = { system_id: 'alice', password: 'alice-pw' };

// A part of a message cut by its client: UDH IEI 0x00 (8-bit reference), then the text.
function udhPart(ref, total, seq, text) {
  return Buffer.concat([Buffer.from([0x05, 0x00, 0x03, ref, total, seq]), Buffer.from(text, 'latin1')]);
}

function submitPart(s, ref, total, seq, text, fields = {}) {
  return h.request(s, 'submit_sm', { destination_addr: '258841234567', esm_class: 0x40,
    short_message: udhPart(ref, total, seq, text), ...fields });
}

// What the SMSC received as one message's parts: [reference, total, seq] and text of each.
function parts(pdus) {
  return pdus.map((p) => {
    const udh = p.short_message.udh[0];
    assert.deepStrictEqual([...udh.subarray(0, 2)], [0x00, 0x03], 'concatenation, 8-bit reference');
    return { ref: udh[2], total: udh[3], seq: udh[4], text: String(p.short_message.message),
      registered_delivery: p.registered_delivery };
  });
}

test('a transform of the text sees the whole message: parts answered at once, the text rewritten whole and cut again, one receipt to the completing part\'s id', async () => {
  const smsc = await startSmsc();
  try {
    const cfg = {
      listeners: [h.listener('smpp')],
      upstreams: [h.upstream('carrier', [smsc])],
      routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
      clients: [alice],
      middleware: [{ type: 'transform', rules: [
        { match: { service_type: 'MKTG' }, transform: { short_message: '${short_message} Reply STOP' } }] }],
    };
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const texts = ['a'.repeat(153), 'b'.repeat(153), 'c'.repeat(20)];
      const ids = [];
      // A client that waits for each answer before its next part: every part is answered.
      for (const [i, text] of texts.entries()) {
        const r = await submitPart(s, 0x42, 3, i + 1, text, { service_type: 'MKTG', registered_delivery: 1 });
        assert.strictEqual(r.command_status, st.ESME_ROK, `part ${i + 1}`);
        ids.push(r.message_id);
        if (i < 2) assert.strictEqual(smsc.received.length, 0, 'held until the message is whole');
      }
      assert.strictEqual(new Set(ids).size, 3, 'an id for each part');
      // The opt-out is appended once, to the whole text: 337 septets, three parts of 153.
      await waitUntil(() => smsc.received.length === 3, 3000, 'the parts at the SMSC');
      const sent = parts(smsc.received);
      assert.strictEqual(sent.map((p) => p.text).join(''), texts.join('') + ' Reply STOP');
      assert.deepStrictEqual(sent.map((p) => [p.total, p.seq]), [[3, 1], [3, 2], [3, 3]]);
      assert.strictEqual(new Set(sent.map((p) => p.ref)).size, 1, 'one reference');
      assert.deepStrictEqual(sent.map((p) => p.registered_delivery), [0, 0, 1], 'one receipt asked');
      await waitUntil(() => got.length === 1, 3000, 'the receipt');
      await h.sleep(200);
      assert.strictEqual(got.length, 1, 'one receipt for the message');
      const receipt = String(got[0].short_message.message);
      assert.match(receipt, new RegExp(`^id:${ids[2]} `), receipt);

      // A message the rule does not rewrite goes out as its client cut it (its reference, its
      // cuts, its UDH), even when its parts came in another order.
      const before = smsc.received.length;
      const second = await submitPart(s, 0x43, 2, 2, 'second half');
      assert.strictEqual(second.command_status, st.ESME_ROK);
      const first = await submitPart(s, 0x43, 2, 1, 'first half, ');
      assert.strictEqual(first.command_status, st.ESME_ROK);
      await waitUntil(() => smsc.received.length === before + 2, 3000, 'both parts');
      const asSent = smsc.received.slice(before);
      assert.deepStrictEqual(asSent.map((p) => Buffer.concat([
        Buffer.from([0x05]), p.short_message.udh[0], Buffer.from(String(p.short_message.message), 'latin1')])),
      [udhPart(0x43, 2, 1, 'first half, '), udhPart(0x43, 2, 2, 'second half')]);
      s.close();
    });
  } finally {
    smsc.close();
  }
});

test('a route script reads the whole text of parts sent over two sessions; a whole message the SMSC refuses is told to the parts answered before', async () => {
  const fast = await startSmsc({ onSubmit: (pdu) => (String(pdu.short_message.message).includes('REFUSE') ? { status: 0x45 } : undefined) });
  const slow = await startSmsc();
  const dir = h.tempDir();
  fs.writeFileSync(path.join(dir, 'routing.lua'), `
function route(msg, ctx)
  if msg.text:find("URGENT", 1, true) then return "fast" end
  return nil
end
`);
  try {
    const cfg = {
      listeners: [h.listener('smpp')],
      upstreams: [h.upstream('fast', [fast]), h.upstream('slow', [slow])],
      routes: [
        { name: 'lua', match: { destination_addr: '*' }, script: path.join(dir, 'routing.lua') },
        { name: 'default', match: { destination_addr: '*' }, upstream: 'slow' },
      ],
      clients: [alice],
    };
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 2);
      const s1 = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const s2 = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = [...[s1, s2].map((s) => receipts(s))];
      // "URGENT" spans the two parts: only the whole text has it.
      let r = await submitPart(s1, 7, 2, 1, 'this is URG');
      assert.strictEqual(r.command_status, st.ESME_ROK);
      r = await submitPart(s2, 7, 2, 2, 'ENT, call back');
      assert.strictEqual(r.command_status, st.ESME_ROK);
      await waitUntil(() => fast.received.length === 2, 3000, 'both parts at fast');
      assert.strictEqual(slow.received.length, 0);
      assert.deepStrictEqual(parts(fast.received).map((p) => [p.ref, p.seq, p.text]),
        [[7, 1, 'this is URG'], [7, 2, 'ENT, call back']]);
      // Without the word, the next route.
      r = await submitPart(s1, 8, 2, 1, 'nothing ');
      r = await submitPart(s1, 8, 2, 2, 'pressing');
      await waitUntil(() => slow.received.length === 2, 3000, 'both parts at slow');

      // The SMSC refuses the whole message: the completing part is answered with its status,
      // and the part answered ESME_ROK before gets a receipt saying the message was rejected.
      const held = await submitPart(s1, 9, 2, 1, 'REFUSE this URGENT ', { registered_delivery: 1 });
      assert.strictEqual(held.command_status, st.ESME_ROK);
      const last = await submitPart(s1, 9, 2, 2, 'message', { registered_delivery: 1 });
      assert.strictEqual(last.command_status, 0x45, 'the SMSC\'s refusal');
      const all = () => got.flat();
      await waitUntil(() => all().length === 1, 3000, 'the receipt of the held part');
      const text = String(all()[0].short_message.message);
      assert.match(text, new RegExp(`^id:${held.message_id} `), text);
      assert.match(text, / stat:REJECTD err:069/, text);
      s1.close();
      s2.close();
      const { counters } = await d.stop();
      assert.strictEqual(counters['smppd_messages_reassembled_total{client="alice"}'], 3);
      assert.strictEqual(counters['smppd_reassembly_given_up_total{client="alice",reason="refused"}'], 1);
    });
  } finally {
    fast.close();
    slow.close();
  }
});

test('parts that never complete expire with a receipt; a full buffer refuses ESME_RMSGQFUL; a flood of first parts is bounded and every part answered', async () => {
  const smsc = await startSmsc();
  try {
    const cfg = {
      listeners: [h.listener('smpp')],
      upstreams: [h.upstream('carrier', [smsc])],
      routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
      clients: [alice],
      middleware: [{ type: 'transform', rules: [{ transform: { short_message: '${short_message}!' } }] }],
      multipart: { reassembly: { timeout: '1s', buffer_size: 300 } },
    };
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const lonely = await submitPart(s, 1, 2, 1, 'x'.repeat(153), { registered_delivery: 1 });
      assert.strictEqual(lonely.command_status, st.ESME_ROK);
      // 153 + 153 octets would pass buffer_size: the client is asked to send it again later.
      const full = await submitPart(s, 2, 2, 1, 'y'.repeat(153), { registered_delivery: 1 });
      assert.strictEqual(full.command_status, st.ESME_RMSGQFUL);
      // The first never completes: its receipt says so, under its id.
      await waitUntil(() => got.length === 1, 4000, 'the expiry receipt');
      const text = String(got[0].short_message.message);
      assert.match(text, new RegExp(`^id:${lonely.message_id} .* stat:EXPIRED err:000`), text);
      assert.strictEqual(got[0].esm_class & 0x04, 0x04, 'a delivery receipt');
      assert.strictEqual(smsc.received.length, 0, 'nothing sent of it');
      // Room again.
      const again = await submitPart(s, 2, 2, 1, 'y'.repeat(153));
      assert.strictEqual(again.command_status, st.ESME_ROK);

      // A client flooding first parts without waiting: each is answered, held or refused; the
      // buffer never holds more than buffer_size.
      const flood = await Promise.all(Array.from({ length: 60 }, (_, i) =>
        h.request(s, 'submit_sm', { destination_addr: `25884${String(i).padStart(7, '0')}`, esm_class: 0x40,
          short_message: udhPart(i, 3, 1, 'z'.repeat(100)) })));
      const statuses = flood.map((r) => r.command_status);
      assert.ok(statuses.every((c) => c === st.ESME_ROK || c === st.ESME_RMSGQFUL), statuses.join());
      assert.strictEqual(statuses.filter((c) => c === st.ESME_ROK).length, 1, '147 octets held, room for one more');
      s.close();
      const { counters } = await d.stop();
      assert.strictEqual(counters['smppd_reassembly_given_up_total{client="alice",reason="expired"}'], 1);
      assert.strictEqual(counters['smppd_reassembly_parts_total{client="alice",outcome="refused"}'], 60);
      assert.strictEqual(counters['smppd_reassembly_parts_total{client="alice",outcome="held"}'], 3);
      // What was still held at the stop is named too.
      assert.strictEqual(counters['smppd_reassembly_given_up_total{client="alice",reason="stopping"}'], 2);
      assert.ok(d.grep(/a long message from .* went no further \(expired\)/).length >= 1, d.text());
    });
  } finally {
    smsc.close();
  }
});

test('nothing that needs the whole text: parts go on as they come, at once', async () => {
  const smsc = await startSmsc();
  try {
    const cfg = {
      listeners: [h.listener('smpp')],
      upstreams: [h.upstream('carrier', [smsc])],
      routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
      clients: [alice],
      middleware: [{ type: 'transform', rules: [{ set: { source_addr: 'BRAND' } }] }],
    };
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const r = await submitPart(s, 5, 2, 1, 'first');
      assert.strictEqual(r.command_status, st.ESME_ROK);
      assert.strictEqual(smsc.received.length, 1, 'the first part went before the second came');
      assert.strictEqual(smsc.received[0].source_addr, 'BRAND');
      s.close();
      const { counters } = await d.stop();
      assert.strictEqual(counters['smppd_messages_reassembled_total{client="alice"}'], undefined);
    });
  } finally {
    smsc.close();
  }
});

test('with storage: the whole message is stored once (the completing part is answered when it is), sent cut for an SMSC that takes no long message, its receipt to that part\'s id', async () => {
  const smsc = await startSmsc();
  const dir = h.tempDir();
  try {
    const cfg = {
      listeners: [h.listener('smpp')],
      upstreams: [h.upstream('carrier', [smsc], { message: { max_length: 160 } })],
      routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
      clients: [alice],
      middleware: [{ type: 'transform', rules: [{ transform: { short_message: '${short_message} STOP' } }] }],
      storage: { enabled: true, sqlite: { path: path.join(dir, 'messages.db') } },
    };
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const first = await submitPart(s, 0x21, 2, 1, 'p'.repeat(153), { registered_delivery: 1 });
      assert.strictEqual(first.command_status, st.ESME_ROK);
      const last = await submitPart(s, 0x21, 2, 2, 'q'.repeat(10), { registered_delivery: 1 });
      assert.strictEqual(last.command_status, st.ESME_ROK);
      await waitUntil(() => smsc.received.length === 2, 3000, 'the parts at the SMSC');
      const sent = parts(smsc.received);
      assert.strictEqual(sent.map((p) => p.text).join(''), 'p'.repeat(153) + 'q'.repeat(10) + ' STOP');
      assert.deepStrictEqual(sent.map((p) => p.registered_delivery), [0, 1]);
      await waitUntil(() => got.length === 1, 3000, 'the receipt');
      const text = String(got[0].short_message.message);
      assert.match(text, new RegExp(`^id:${last.message_id} `), text);
      s.close();
      const { counters } = await d.stop();
      assert.strictEqual(counters['smppd_messages_stored_total'] ?? counters['smppd_messages_stored_total{client="alice"}'], 1, JSON.stringify(counters));
    });
  } finally {
    smsc.close();
  }
});
