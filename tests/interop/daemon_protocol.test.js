'use strict';
// The smppd daemon under pipelined traffic and malformed input: many requests in flight on one
// session (the window), and bytes no ESME library would send, written over a raw `net` socket.
//
// Run by ctest (tests/interop/CMakeLists.txt), which passes the daemon in SMPPD.

const test = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');

const { status: st, ids } = h;

const alice = { system_id: 'alice', password: 'secret1' };

function config(listenerExtra = {}) {
  return { listeners: [h.listener('smpp-in', listenerExtra)], clients: [alice] };
}

// A raw session bound as alice (transceiver, 3.4).
async function rawBound(port) {
  const raw = await h.RawClient.connect(port);
  raw.write(h.pduBytes('bind_transceiver', { ...alice, interface_version: 0x34 }, 1));
  const resp = await raw.next();
  assert.strictEqual(resp.id, ids.bind_transceiver_resp);
  assert.strictEqual(resp.status, st.ESME_ROK);
  return raw;
}

// Asserts that `seqs` holds first .. first+count-1, each once.
function checkAnswered(seqs, first, count) {
  const seen = new Map();
  for (const s of seqs) seen.set(s, (seen.get(s) || 0) + 1);
  const missing = [];
  for (let seq = first; seq < first + count; ++seq) if (seen.get(seq) !== 1) missing.push(seq);
  assert.deepStrictEqual(missing, [], 'sequence numbers not answered exactly once');
  assert.strictEqual(seqs.length, count);
}

// ---- pipelining ----

// An SMSC (h.startSmsc) as the upstream of every message, with a "*" route to it.
function configWith(smsc, listenerExtra = {}) {
  return {
    ...config(listenerExtra),
    upstreams: [h.upstream('carrier', [smsc])],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
  };
}

// smppd started with `smsc` as its upstream, once that upstream is bound.
async function withCarrier(smsc, listenerExtra, body) {
  try {
    await h.withSmppd(configWith(smsc, listenerExtra), async (d) => {
      await h.upstreamsBound(d);
      await body(d);
    });
  } finally {
    smsc.close();
  }
}

// With window_size 10 smppd reads no further on a session while 10 of its requests wait for
// their answers: an SMSC that holds its answers sees exactly 10, and the rest once it answers.
test('500 submit_sm sent back to back on one session: at most window_size (10) in flight, ' +
  'then all answered once', async () => {
  const smsc = await h.startSmsc({ hold: true });
  await withCarrier(smsc, { smpp: { window_size: 10 } }, async (d) => {
    const s = await h.bound(d.port, 'bind_transmitter', alice.system_id, alice.password);
    const count = 500;
    const pending = [];
    for (let i = 0; i < count; ++i) {
      pending.push(h.request(s, 'submit_sm',
        { destination_addr: `1555${i}`, short_message: `message ${i}` }, 20000));
    }
    await h.waitUntil(() => smsc.received.length >= 10, 5000, '10 submit_sm at the SMSC');
    await h.sleep(300);
    assert.strictEqual(smsc.received.length, 10, 'more requests in flight than the window');
    smsc.release();
    const responses = await Promise.all(pending);
    assert.strictEqual(responses.length, count);
    for (const r of responses) {
      assert.strictEqual(r.command, 'submit_sm_resp');
      assert.strictEqual(r.command_status, st.ESME_ROK);
    }
    checkAnswered(responses.map((r) => r.sequence_number), 2, count);  // the bind was 1
    assert.strictEqual(new Set(responses.map((r) => r.message_id)).size, count,
      'every message has its own id');
    // In order: the upstream's window (100) never fills, so one connection carries them all.
    assert.deepStrictEqual(smsc.received.map((p) => p.short_message.message.toString()),
      Array.from({ length: count }, (_, i) => `message ${i}`), 'each sent once, in order');
    const el = await h.request(s, 'enquire_link');
    assert.strictEqual(el.command_status, st.ESME_ROK);
    s.destroy();
  });
});

test('500 submit_sm in a single write are each answered with their sequence number',
  async () => {
    const smsc = await h.startSmsc();
    await withCarrier(smsc, { smpp: { window_size: 10 } }, async (d) => {
      const raw = await rawBound(d.port);
      const count = 500;
      const pdus = [];
      for (let i = 0; i < count; ++i) {
        pdus.push(h.pduBytes('submit_sm', { destination_addr: `1555${i}`, short_message: 'x' },
          i + 2));
      }
      raw.write(Buffer.concat(pdus));
      const seqs = [];
      for (let i = 0; i < count; ++i) {
        const r = await raw.next(10000);
        assert.strictEqual(r.id, ids.submit_sm_resp);
        assert.strictEqual(r.status, st.ESME_ROK);
        seqs.push(r.seq);
      }
      checkAnswered(seqs, 2, count);
      assert.strictEqual(smsc.received.length, count);
      raw.destroy();
    });
  });

test('a bind written one byte at a time is served', async () => {
  await h.withSmppd(config(), async (d) => {
    const raw = await h.RawClient.connect(d.port);
    raw.socket.setNoDelay(true);
    const bytes = h.pduBytes('bind_transceiver', { ...alice, interface_version: 0x34 }, 9);
    for (const b of bytes) {
      assert.strictEqual(raw.pdus.length, 0, 'nothing answered before the last byte');
      raw.write(Buffer.from([b]));
      // smppd has read this byte before the next is written: each of its reads gets one byte.
      await h.peerHasRead(raw.socket);
    }
    const resp = await raw.next();
    assert.strictEqual(resp.id, ids.bind_transceiver_resp);
    assert.strictEqual(resp.status, st.ESME_ROK);
    assert.strictEqual(resp.seq, 9);
    raw.destroy();
  });
});

// ---- malformed input ----

test('an unknown command_id gets generic_nack ESME_RINVCMDID; the session stays usable',
  async () => {
    await h.withSmppd(config(), async (d) => {
      const raw = await rawBound(d.port);
      raw.write(h.header(16, 0x00000077, 0, 42));
      const nack = await raw.next();
      assert.strictEqual(nack.id, ids.generic_nack);
      assert.strictEqual(nack.status, st.ESME_RINVCMDID);
      assert.strictEqual(nack.seq, 42);
      raw.write(h.header(16, ids.enquire_link, 0, 43));
      const el = await raw.next();
      assert.strictEqual(el.id, ids.enquire_link_resp);
      assert.strictEqual(el.status, st.ESME_ROK);
      assert.strictEqual(el.seq, 43);
      // Still bound: a submit_sm is not a state error.
      raw.write(h.pduBytes('submit_sm', { destination_addr: '1555', short_message: 'x' }, 44));
      const sm = await raw.next();
      assert.strictEqual(sm.id, ids.submit_sm_resp);
      assert.strictEqual(sm.seq, 44);
      assert.notStrictEqual(sm.status, st.ESME_RINVBNDSTS);
      assert.ok(!raw.isClosed);
      raw.destroy();
    });
  });

test('an unknown command_id before bind gets generic_nack; the session can still bind',
  async () => {
    await h.withSmppd(config(), async (d) => {
      const raw = await h.RawClient.connect(d.port);
      raw.write(h.header(16, 0x0000abcd, 0, 5));
      const nack = await raw.next();
      assert.strictEqual(nack.id, ids.generic_nack);
      assert.strictEqual(nack.status, st.ESME_RINVCMDID);
      assert.strictEqual(nack.seq, 5);
      raw.write(h.pduBytes('bind_transceiver', alice, 6));
      const bind = await raw.next();
      assert.strictEqual(bind.id, ids.bind_transceiver_resp);
      assert.strictEqual(bind.status, st.ESME_ROK);
      raw.destroy();
    });
  });

test('command_length above the maximum PDU size: generic_nack ESME_RINVCMDLEN, then close',
  async () => {
    await h.withSmppd(config(), async (d) => {
      const raw = await rawBound(d.port);
      raw.write(Buffer.concat([h.header(0x00100000, 0x00000004, 0, 7), Buffer.alloc(64)]));
      const nack = await raw.next();
      assert.strictEqual(nack.id, ids.generic_nack);
      assert.strictEqual(nack.status, st.ESME_RINVCMDLEN);
      await raw.closed();
      assert.strictEqual(raw.pdus.length, 0, 'nothing after the generic_nack');
      await d.waitFor(/closed: invalid command_length/);
    });
  });

test('command_length 8 (shorter than a header): generic_nack ESME_RINVCMDLEN, then close',
  async () => {
    await h.withSmppd(config(), async (d) => {
      const raw = await h.RawClient.connect(d.port);
      raw.write(h.header(8, ids.enquire_link, 0, 3));
      const nack = await raw.next();
      assert.strictEqual(nack.id, ids.generic_nack);
      assert.strictEqual(nack.status, st.ESME_RINVCMDLEN);
      await raw.closed();
      await d.waitFor(/closed: invalid command_length/);
    });
  });

test('protocol errors are counted at exit', async () => {
  const d = await h.startSmppd(config());
  try {
    const raw = await rawBound(d.port);
    raw.write(h.header(16, 0x00000077, 0, 2));
    await raw.next();
    raw.write(h.header(16, 0x00000078, 0, 3));
    await raw.next();
    raw.destroy();
    await d.waitFor(/closed: peer closed the connection/);
  } catch (e) {
    d.kill();
    throw e;
  }
  const { code, counters } = await d.stop();
  assert.strictEqual(code, 0);
  assert.strictEqual(
    counters['smppd_protocol_errors_total{listener="smpp-in",kind="undecodable"}'], 2,
    JSON.stringify(counters));
});
