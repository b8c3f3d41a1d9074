// The multipart policy end to end: an upstream that takes no long messages
// (upstreams[].message.max_length) gets a long message_payload as parts cut the way
// multipart.segmentation says (UDH or SAR TLVs, at most max_parts), on one connection, and the
// client gets one response and one receipt for its one message; too many parts is refused, never
// sent cut short. A 3.3 SMSC (which takes no message_payload) gets the same treatment.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');

const { status: st, waitUntil, startSmsc, upstreamsBound, receipts } = h;

const alice = { system_id: 'alice', password: 'alice-pw' };

function config(smsc, multipart, extra = {}) {
  return {
    listeners: [h.listener('smpp')],
    upstreams: [h.upstream('carrier', [smsc], { message: { max_length: 160 }, ...extra })],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
    clients: [alice],
    multipart,
  };
}

test('a long message_payload reaches an upstream with max_length as UDH parts; one response, one receipt', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config(smsc, { segmentation: { method: 'udh', max_parts: 5 } }), async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const text = 'x'.repeat(320) + 'END';  // 153 + 153 + 17 septets
      const r = await h.request(s, 'submit_sm', { destination_addr: '258841234567', registered_delivery: 1,
        message_payload: Buffer.from(text, 'latin1') });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      assert.strictEqual(smsc.received.length, 3, 'three parts');
      for (const [i, p] of smsc.received.entries()) {
        assert.ok(p.esm_class & 0x40, `part ${i + 1} has UDHI`);
        assert.strictEqual(p.message_payload, undefined);
        assert.strictEqual(p.registered_delivery, i === 2 ? 1 : 0, `part ${i + 1}'s registered_delivery`);
      }
      // npm smpp decodes a UDH message into {udh, message}: the parts' texts joined are the text.
      assert.strictEqual(smsc.received.map((p) => p.short_message.message).join(''), text);
      const refs = smsc.received.map((p) => p.short_message.udh[0][2]);
      assert.strictEqual(new Set(refs).size, 1, 'one reference for the three');
      // One receipt, for the client's one id.
      await waitUntil(() => got.length === 1, 3000, 'the receipt');
      await h.sleep(200);
      assert.strictEqual(got.length, 1, 'exactly one receipt');
      const receipt = got[0].short_message.message.toString();
      assert.match(receipt, new RegExp(`^id:${r.message_id} `), receipt);
      s.close();
    });
  } finally {
    smsc.close();
  }
});

test('sar_tlv: the parts carry SAR TLVs; beyond max_parts the message is refused, nothing sent', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config(smsc, { segmentation: { method: 'sar_tlv', max_parts: 3 } }), async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const r = await h.request(s, 'submit_sm', { destination_addr: '1', message_payload: Buffer.from('y'.repeat(200)) });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      assert.strictEqual(smsc.received.length, 2);
      assert.deepStrictEqual(smsc.received.map((p) => [p.sar_total_segments, p.sar_segment_seqnum]), [[2, 1], [2, 2]]);
      assert.strictEqual(smsc.received[0].sar_msg_ref_num, smsc.received[1].sar_msg_ref_num);
      assert.ok(!(smsc.received[0].esm_class & 0x40));
      // 4 parts needed, 3 allowed.
      const refused = await h.request(s, 'submit_sm', { destination_addr: '1', message_payload: Buffer.from('z'.repeat(500)) });
      assert.strictEqual(refused.command_status, st.ESME_RINVMSGLEN);
      assert.strictEqual(smsc.received.length, 2, 'nothing of it sent');
      // A short one goes whole, its payload in short_message.
      const short = await h.request(s, 'submit_sm', { destination_addr: '1', message_payload: Buffer.from('short') });
      assert.strictEqual(short.command_status, st.ESME_ROK);
      assert.strictEqual(smsc.received.at(-1).message_payload, undefined);
      s.close();
      await waitUntil(() => d.grep(/refused with ESME_RINVMSGLEN: it is longer than message.max_length/).length === 1, 3000, 'the log line');
    });
  } finally {
    smsc.close();
  }
});

test('a 3.3 SMSC: a long payload is cut (UDH), one receipt asked; max_parts holds there too', async () => {
  const smsc = await startSmsc({ announceVersion: false });
  try {
    const cfg = config(smsc, { segmentation: { max_parts: 2 }, reference: { mode: 'sequential' } });
    delete cfg.upstreams[0].message;
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const r = await h.request(s, 'submit_sm', { destination_addr: '1', registered_delivery: 1,
        message_payload: Buffer.from('w'.repeat(300)) });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      assert.strictEqual(smsc.received.length, 2);
      assert.deepStrictEqual(smsc.received.map((p) => p.registered_delivery), [0, 1]);
      const tooLong = await h.request(s, 'submit_sm', { destination_addr: '1', message_payload: Buffer.from('w'.repeat(600)) });
      assert.strictEqual(tooLong.command_status, st.ESME_RINVMSGLEN);
      assert.strictEqual(smsc.received.length, 2);
      s.close();
    });
  } finally {
    smsc.close();
  }
});
