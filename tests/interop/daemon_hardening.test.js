'use strict';
// smppd against peers that misbehave and operators who slip: a client that never reads, one that
// pipelines its unbind, SIGTERM with an SMSC's window full, SIGHUP, an SMSC that announces no
// version, one that answers late, one that floods unknown receipts. Each test failed on the code
// before the hardening it names (issue "Harden the core").
//
// Run by ctest (tests/interop/CMakeLists.txt), which passes the daemon in SMPPD.

const test = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');

const alice = { system_id: 'alice', password: 'secret1' };

function config(smscs, { listenerExtra = {}, upstreamExtra = {}, extra = {} } = {}) {
  return {
    listeners: [h.listener('smpp-in', listenerExtra)],
    clients: [alice],
    upstreams: smscs.length > 0 ? [h.upstream('smsc', smscs, upstreamExtra)] : [],
    routes: smscs.length > 0 ? [{ name: 'all', match: { destination_addr: '*' }, upstream: 'smsc' }]
      : [],
    ...extra,
  };
}

// A raw client bound as alice (transceiver); the bind_resp is read.
async function rawBound(port) {
  const c = await h.RawClient.connect(port);
  c.write(h.pduBytes('bind_transceiver', alice, 1));
  const resp = await c.next();
  assert.strictEqual(resp.id, h.ids.bind_transceiver_resp);
  assert.strictEqual(resp.status, 0);
  return c;
}

// Writes `pdu` as fast as the socket takes it until `ms` have passed or the peer closed;
// resolves with the number written. The client reads nothing meanwhile.
async function flood(socket, pdu, ms) {
  const until = h.now() + ms;
  let written = 0;
  let closed = false;
  socket.on('close', () => { closed = true; });
  socket.on('error', () => { closed = true; });
  const burst = Buffer.concat(Array.from({ length: 256 }, () => pdu));
  while (!closed && h.now() < until) {
    if (!socket.write(burst)) {
      // Full: wait for room (smppd reads again), the end, or the time.
      await new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          socket.removeListener('drain', done);
          resolve();
        };
        const timer = setTimeout(done, 50);
        socket.once('drain', done);
      });
    }
    written += 256;
    if (written % 4096 === 0) await h.sleep(0);
  }
  return written;
}

// The highest resident memory of `pid` (KiB) sampled every 20 ms while `work` runs.
async function peakRss(pid, work) {
  let peak = h.rssKiB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, h.rssKiB(pid));
    } catch (e) { /* exited */ }
  }, 20);
  try {
    const result = await work();
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

// ---- 1. bounded memory per connection ----

test('a peer that never binds and never reads, flooding enquire_link, is closed; memory stays bounded',
  async () => {
    await h.withSmppd(config([]), async (d) => {
      const before = h.rssKiB(d.child.pid);
      const raw = await h.RawClient.connect(d.port);
      raw.socket.pause();  // reads nothing: every enquire_link_resp stays with smppd
      const { result: written, peak } = await peakRss(d.child.pid,
        () => flood(raw.socket, h.pduBytes('enquire_link', {}, 5), 4000));
      await d.waitFor(/closed: the peer does not read its responses \(\d+ bytes pending before bind\)/);
      const grown = peak - before;
      assert.ok(written > 20000, `the flood wrote ${written} PDUs`);
      assert.ok(grown < 40 * 1024, `smppd grew by ${grown} KiB`);
      raw.destroy();
    });
  });

test('a bound client that stops reading and floods unknown commands is paused, then closed',
  async () => {
    const cfg = config([], { listenerExtra: { timeouts: { write: '3s' } } });
    await h.withSmppd(cfg, async (d) => {
      const before = h.rssKiB(d.child.pid);
      const raw = await rawBound(d.port);
      raw.socket.pause();
      // An unknown command id: answered generic_nack (ESME_RINVCMDID) each time.
      const unknown = h.header(16, 0x000000ff, 0, 9);
      const { result: written, peak } = await peakRss(d.child.pid,
        () => flood(raw.socket, unknown, 4000));
      // Paused at the output cap; the write timeout (3 s) then closes it.
      await d.waitFor(/as alice: closed: .*the peer does not read/, 8000);
      const grown = peak - before;
      assert.ok(written > 20000, `the flood wrote ${written} PDUs`);
      assert.ok(grown < 40 * 1024, `smppd grew by ${grown} KiB`);
      raw.destroy();
    });
  });

// ---- 2. unbind pipelined after submits ----

test('N submit_sm then unbind in one write: every submit is answered before unbind_resp',
  async () => {
    const smsc = await h.startSmsc({ answerDelay: 150 });
    try {
      await h.withSmppd(config([smsc]), async (d) => {
        await h.upstreamsBound(d);
        const raw = await rawBound(d.port);
        const n = 60;
        const parts = [];
        for (let i = 0; i < n; ++i) {
          parts.push(h.pduBytes('submit_sm', {
            source_addr: 'Bank', destination_addr: '+258841234567', short_message: `m${i}`,
          }, 10 + i));
        }
        parts.push(h.pduBytes('unbind', {}, 1000));
        raw.write(Buffer.concat(parts));
        const got = [];
        for (;;) {
          const pdu = await raw.next(5000);
          got.push(pdu);
          if (pdu.id === h.ids.unbind_resp) break;
        }
        await raw.closed();
        const responses = got.filter((p) => p.id === h.ids.submit_sm_resp);
        assert.strictEqual(responses.length, n, `submit_sm_resp before unbind_resp: ${responses.length}`);
        assert.ok(responses.every((p) => p.status === 0), 'every submit accepted');
        assert.deepStrictEqual(responses.map((p) => p.seq).sort((a, b) => a - b),
          Array.from({ length: n }, (_, i) => 10 + i));
        assert.strictEqual(got[got.length - 1].seq, 1000);
        assert.strictEqual(smsc.received.length, n);
      });
    } finally {
      smsc.close();
    }
  });

// ---- 3. shutdown drains the SMSC's window first ----

test('SIGTERM under load: the SMSC window drains before unbind; nothing it took is reported failed',
  async () => {
    // An SMSC that answers after 200 ms and closes as soon as it is sent unbind.
    const smsc = await h.startSmsc({ answerDelay: 200 });
    let d;
    try {
      d = await h.startSmppd(config([smsc], { upstreamExtra: { pool: { min_connections: 2 } } }));
      await h.upstreamsBound(d, 2);
      const clients = [];
      for (let i = 0; i < 4; ++i) {
        clients.push(await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password));
      }
      const stats = { sent: 0, answered: 0, ok: 0, other: {} };
      let sending = true;
      // 4 clients at 100 msg/s each.
      const loops = clients.map(async (c) => {
        // A well-behaved client sends nothing once it has answered unbind (3.4 §4.2).
        let unbound = false;
        c.on('unbind', (pdu) => {
          unbound = true;
          c.send(pdu.response());
        });
        while (sending && !unbound) {
          const sent = c.submit_sm({ source_addr: 'Bank', destination_addr: '+258841234567',
            short_message: 'load' }, (resp) => {
            stats.answered++;
            if (resp.command_status === 0) stats.ok++;
            else stats.other[resp.command_status] = (stats.other[resp.command_status] || 0) + 1;
          });
          if (sent) stats.sent++;
          await h.sleep(10);
        }
      });
      await h.sleep(1000);
      const stopped = d.stop(15000);
      await h.sleep(300);
      sending = false;
      await Promise.all(loops);
      const { code, counters } = await stopped;
      assert.strictEqual(code, 0, d.text());
      // The sessions count what they refused; the rest of the refusals were queued in the pool,
      // never sent, and answered by it.
      const refusedCount = Object.values(stats.other).reduce((a, b) => a + b, 0);
      assert.ok(
        (counters['smppd_requests_refused_total{listener="smpp-in",reason="shutting_down"}'] || 0)
          <= refusedCount, JSON.stringify(counters));
      await h.waitUntil(() => stats.answered === stats.sent, 3000, 'every submit answered');
      assert.ok(stats.sent > 200, `only ${stats.sent} submits sent`);
      // Every message the SMSC received was answered to it before it was sent unbind, and its
      // client was told ESME_ROK; the rest were refused for the shutdown (come back later).
      assert.strictEqual(stats.ok, smsc.received.length,
        `OK at clients ${stats.ok}, received by the SMSC ${smsc.received.length}, ` +
        `others ${JSON.stringify(stats.other)}`);
      // Refused, not taken: ESME_RTHROTTLED while smppd drains, also for a submit that crossed
      // smppd's unbind.
      for (const s of Object.keys(stats.other)) {
        assert.strictEqual(Number(s), h.status.ESME_RTHROTTLED, `status ${s}`);
      }
      assert.strictEqual(d.grep(/outcome is unknown/).length, 0, d.text());
    } finally {
      if (d) d.kill();
      smsc.close();
    }
  });

// ---- 4. SIGHUP (reload: reload.test.js tests what changes) ----

test('SIGHUP reloads an unchanged file: sessions stay bound, smppd goes on and stops cleanly',
  async () => {
    const smsc = await h.startSmsc();
    try {
      await h.withSmppd(config([smsc]), async (d) => {
        await h.upstreamsBound(d);
        const c = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
        d.child.kill('SIGHUP');
        await d.waitFor(/reload \(SIGHUP\): .* applied: nothing changed/);
        d.child.kill('SIGHUP');
        await h.waitUntil(() => d.grep(/reload \(SIGHUP\): .* applied/).length === 2, 3000,
          'the second SIGHUP');
        const resp = await h.request(c, 'submit_sm', { source_addr: 'Bank',
          destination_addr: '+258841234567', short_message: 'after SIGHUP' });
        assert.strictEqual(resp.command_status, 0);
        assert.strictEqual(d.child.exitCode, null);
        c.on('unbind', (pdu) => c.send(pdu.response()));
      });
    } finally {
      smsc.close();
    }
  });

// ---- 5. an SMSC that announces no version ----

function text(pdu) {
  const sm = pdu.short_message;
  if (sm && sm.message !== undefined) return Buffer.from(sm.message).toString();
  return Buffer.isBuffer(sm) ? sm.toString() : String(sm);
}

test('an SMSC without sc_interface_version: message_payload and SAR arrive as short_message and UDH; what does not fit is refused',
  async () => {
    const smsc = await h.startSmsc({ announceVersion: false });
    try {
      await h.withSmppd(config([smsc]), async (d) => {
        await h.upstreamsBound(d);
        await d.waitFor(/announces no sc_interface_version/);
        const c = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
        const to = { source_addr: 'Bank', destination_addr: '+258841234567' };
        let resp = await h.request(c, 'submit_sm',
          { ...to, message_payload: Buffer.from('text carried in the payload TLV') });
        assert.strictEqual(resp.command_status, 0);
        resp = await h.request(c, 'submit_sm', { ...to, short_message: 'part one of two',
          sar_msg_ref_num: 0x1234, sar_total_segments: 2, sar_segment_seqnum: 1 });
        assert.strictEqual(resp.command_status, 0);
        // Too long for one short_message: segmented, the parts in order on one connection.
        const got = h.receipts(c);
        const long = 'A'.repeat(150) + 'B'.repeat(150);
        resp = await h.request(c, 'submit_sm',
          { ...to, message_payload: Buffer.from(long), registered_delivery: 1 });
        assert.strictEqual(resp.command_status, 0);
        const longId = resp.message_id;
        // Too long, with a port of its own to merge into every part: refused, nothing sent.
        resp = await h.request(c, 'submit_sm',
          { ...to, message_payload: Buffer.alloc(300, 0x41), dest_port: 2948 });
        assert.strictEqual(resp.command_status, h.status.ESME_RINVMSGLEN);
        assert.strictEqual(smsc.received.length, 4, 'the one that cannot be expressed is not sent');
        const [payload, part, first, second] = smsc.received;
        for (const [i, p] of [first, second].entries()) {
          assert.strictEqual(p.esm_class & 0x40, 0x40);
          const ie = [...Buffer.from(p.short_message.udh[0])];
          assert.deepStrictEqual([ie[0], ie[1], ie[3], ie[4]], [0x00, 0x03, 2, i + 1]);
          assert.strictEqual(p.via, first.via, 'both parts on one connection');
        }
        assert.strictEqual(text(first) + text(second), long);
        // Only the last part asks for a receipt (multipart policy): one, under the message's id.
        assert.deepStrictEqual([first.registered_delivery, second.registered_delivery], [0, 1]);
        await h.waitUntil(() => got.length === 1, 5000, 'the receipt of the last part');
        await h.sleep(200);
        assert.strictEqual(got.length, 1, 'one receipt for one message');
        assert.strictEqual(/id:(\S+)/.exec(text(got[0]))[1], longId);
        assert.strictEqual(text(payload), 'text carried in the payload TLV');
        assert.strictEqual(payload.message_payload, undefined);
        assert.strictEqual(part.esm_class & 0x40, 0x40, 'UDHI set');
        const udh = Buffer.from(part.short_message.udh[0]);
        // IEI 0x08: 16-bit reference 0x1234, 2 parts, this is part 1.
        assert.deepStrictEqual([...udh], [0x08, 0x04, 0x12, 0x34, 0x02, 0x01]);
        assert.strictEqual(text(part), 'part one of two');
        assert.strictEqual(part.sar_msg_ref_num, undefined);
        c.on('unbind', (pdu) => c.send(pdu.response()));
      });
    } finally {
      smsc.close();
    }
  });

test('an SMSC without sc_interface_version and an explicit bind.version: TLVs pass as they are',
  async () => {
    const smsc = await h.startSmsc({ announceVersion: false });
    try {
      const cfg = config([smsc], { upstreamExtra: {
        bind: { system_id: 'smppd', password: 'pw', version: '3.4' } } });
      await h.withSmppd(cfg, async (d) => {
        await h.upstreamsBound(d);
        await d.waitFor(/bind\.version is used as configured/);
        const c = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
        const resp = await h.request(c, 'submit_sm', { source_addr: 'Bank',
          destination_addr: '+258841234567', message_payload: Buffer.alloc(300, 0x42) });
        assert.strictEqual(resp.command_status, 0);
        assert.strictEqual(smsc.received.length, 1);
        const mp = smsc.received[0].message_payload;
        assert.strictEqual(mp.message !== undefined ? mp.message.length : mp.length, 300);
        c.on('unbind', (pdu) => c.send(pdu.response()));
      });
    } finally {
      smsc.close();
    }
  });

test('a 3.3 client is sent an MO\'s message_payload as short_message, segmented when long',
  async () => {
    const smsc = await h.startSmsc();
    try {
      const cfg = config([smsc], { extra: {
        mo_routes: [{ name: 'shortcode', match: { destination_addr: '12345' }, client: 'alice' }],
      } });
      await h.withSmppd(cfg, async (d) => {
        await h.upstreamsBound(d);
        const c = await h.connect(d.port);
        const resp = await h.request(c, 'bind_receiver',
          { ...alice, interface_version: 0x33 });
        assert.strictEqual(resp.command_status, 0);
        const got = h.receipts(c);
        const mo = { source_addr: '+258841234567', destination_addr: '12345' };
        smsc.mo({ ...mo, message_payload: Buffer.from('a short MO in the payload TLV') });
        await h.waitUntil(() => got.length === 1, 5000, 'the MO');
        assert.strictEqual(text(got[0]), 'a short MO in the payload TLV');
        const long = 'C'.repeat(160) + 'D'.repeat(140);
        smsc.mo({ ...mo, message_payload: Buffer.from(long) });
        await h.waitUntil(() => got.length === 3, 5000, 'both parts of the long MO');
        assert.ok(got.slice(1).every((p) => (p.esm_class & 0x40) === 0x40));
        assert.strictEqual(text(got[1]) + text(got[2]), long);
        c.on('unbind', (pdu) => c.send(pdu.response()));
      });
    } finally {
      smsc.close();
    }
  });

// ---- 8. log floods ----

test('a flood of receipts for unknown ids is a few log lines and a count, not a line each',
  async () => {
    const smsc = await h.startSmsc();
    let d;
    try {
      d = await h.startSmppd(config([smsc]));
      await h.upstreamsBound(d);
      const n = 5000;
      for (let i = 0; i < n; ++i) {
        smsc.sessions[0].deliver_sm({ source_addr: '+258841234567', destination_addr: 'Bank',
          esm_class: 4, short_message: `id:${900000 + i} sub:001 dlvrd:001 submit date:2611271200 ` +
            'done date:2611271201 stat:DELIVRD err:000 text:x' });
      }
      // Each is held about 4.3 s for a message that may still come, then given up.
      const r = await (async () => {
        await h.sleep(6000);
        return d.stop();
      })();
      assert.strictEqual(r.code, 0, d.text());
      // Each is either given up (unmatched) or, if smppd stopped first, dropped at shutdown.
      const unmatched = r.counters['smppd_receipts_unmatched_total{upstream="smsc"}'] || 0;
      const dropped =
        r.counters['smppd_receipts_dropped_total{upstream="smsc",reason="shutdown"}'] || 0;
      assert.strictEqual(unmatched + dropped, n, JSON.stringify(r.counters));
      assert.ok(unmatched > 0, JSON.stringify(r.counters));
      const lines = d.grep(/matches no message/).length;
      assert.ok(lines >= 1 && lines <= 3, `${lines} lines for ${n} unmatched receipts`);
    } finally {
      if (d) d.kill();
      smsc.close();
    }
  });

// ---- 10. late responses ----

test('a submit_sm_resp after timeouts.response is logged and its receipt still reaches the client',
  async () => {
    // Answered after 1.5 s, with a receipt 100 ms later; smppd waits 1 s for the answer, and
    // keeps the request another 1 s for a late one (margins of 0.5 s for a loaded machine).
    const smsc = await h.startSmsc({ answerDelay: 1500, receiptDelay: 100 });
    try {
      const cfg = config([smsc], { upstreamExtra: { timeouts: { response: '1s' } } });
      await h.withSmppd(cfg, async (d) => {
        await h.upstreamsBound(d);
        const c = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
        const got = h.receipts(c);
        const resp = await h.request(c, 'submit_sm', { source_addr: 'Bank',
          destination_addr: '+258841234567', short_message: 'late', registered_delivery: 1 });
        assert.strictEqual(resp.command_status, h.status.ESME_RSYSERR);
        await d.waitFor(/late submit_sm_resp for message [0-9a-f]{12} of alice .*ESME_ROK, SMSC id 1000/);
        await h.waitUntil(() => got.length === 1, 5000, 'the receipt of the late message');
        assert.match(text(got[0]), /stat:DELIVRD/);
        assert.strictEqual(d.grep(/matches no message/).length, 0, d.text());
        c.on('unbind', (pdu) => c.send(pdu.response()));
      });
    } finally {
      smsc.close();
    }
  });
