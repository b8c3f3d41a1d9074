'use strict';
// Graceful shutdown of the smppd daemon as its ESMEs (the npm package `smpp`) see it: on SIGTERM
// every bound session is sent unbind, and smppd exits with code 0 once they have answered, or
// once the answer is overdue.
//
// Run by ctest (tests/interop/CMakeLists.txt), which passes the daemon in SMPPD.

const test = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');

const alice = { system_id: 'alice', password: 'secret1' };
const bob = { system_id: 'bob', password: 'secret2' };

function config(listenerExtra = {}) {
  return { listeners: [h.listener('smpp-in', listenerExtra)], clients: [alice, bob] };
}

// Records the unbind smppd sends to `s`, answering it unless `answer` is false.
function watchUnbind(s, answer) {
  const seen = { at: 0 };
  s.on('unbind', (pdu) => {
    seen.at = h.now();
    seen.pdu = pdu;
    if (answer) s.send(pdu.response());
  });
  return seen;
}

test('SIGTERM: each bound client is sent unbind; once they answer smppd exits 0 promptly',
  async () => {
    const d = await h.startSmppd(config());
    let a, b;
    try {
      a = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
      b = await h.bound(d.port, 'bind_receiver', bob.system_id, bob.password);
    } catch (e) {
      d.kill();
      throw e;
    }
    const unbindA = watchUnbind(a, true);
    const unbindB = watchUnbind(b, true);
    const { code, ms } = await d.stop(8000);
    assert.strictEqual(code, 0, d.text());
    assert.ok(unbindA.at > 0, 'alice got unbind');
    assert.ok(unbindB.at > 0, 'bob got unbind');
    assert.strictEqual(unbindA.pdu.command_status, 0);
    await h.closed(a);
    await h.closed(b);
    // The grace period is 10 s; answered unbinds end it at once.
    assert.ok(ms < 3000, `smppd took ${ms} ms to exit`);
    assert.strictEqual(d.grep(/as alice: closed: shutdown$/).length, 1, d.text());
    assert.strictEqual(d.grep(/as bob: closed: shutdown$/).length, 1, d.text());
    await d.waitFor(/smppd stopped$/);
  });

test('SIGTERM: a client that never answers unbind is closed when the answer is overdue',
  async () => {
    // The unbind waits for its answer at most timeouts.response (below the 10 s grace period).
    const d = await h.startSmppd(config({ timeouts: { response: '400ms' } }));
    let a, b;
    try {
      a = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
      b = await h.bound(d.port, 'bind_transceiver', bob.system_id, bob.password);
    } catch (e) {
      d.kill();
      throw e;
    }
    const silent = watchUnbind(a, false);
    const polite = watchUnbind(b, true);
    const silentClosedAt = a.closedPromise.then(() => h.now());
    const politeClosedAt = b.closedPromise.then(() => h.now());
    const { code, ms } = await d.stop(8000);
    assert.strictEqual(code, 0, d.text());
    assert.ok(silent.at > 0, 'the silent client got unbind');
    assert.ok(polite.at > 0, 'the polite client got unbind');
    await h.closed(a);
    await h.closed(b);
    assert.ok(ms >= 350, `smppd exited after ${ms} ms: it did not wait for the answer`);
    assert.ok(ms < 4000, `smppd took ${ms} ms to exit`);
    // The silent client's connection itself was held until its answer was overdue; the polite
    // one's ended before, on its answer.
    const silentHeld = (await silentClosedAt) - silent.at;
    assert.ok(silentHeld >= 350, `the silent client was closed ${silentHeld} ms after its unbind`);
    assert.ok(await politeClosedAt < await silentClosedAt, 'the polite client was closed first');
    await d.waitFor(/smppd stopped$/);
  });

test('SIGTERM: connections that have not bound are closed without unbind', async () => {
  const d = await h.startSmppd(config());
  let raw;
  try {
    raw = await h.RawClient.connect(d.port);
    raw.write(h.header(16, h.ids.enquire_link, 0, 1));
    await raw.next();
  } catch (e) {
    d.kill();
    throw e;
  }
  const { code, ms } = await d.stop(8000);
  assert.strictEqual(code, 0, d.text());
  await raw.closed();
  assert.strictEqual(raw.pdus.length, 0, 'no unbind to an unbound connection');
  assert.ok(ms < 3000, `smppd took ${ms} ms to exit`);
});

test('SIGTERM with no sessions: smppd exits 0 and logs its counters', async () => {
  const d = await h.startSmppd(config());
  const s = await h.bound(d.port, 'bind_transmitter', alice.system_id, alice.password);
  await h.request(s, 'unbind');
  await h.closed(s);
  await d.waitFor(/closed: unbound by the peer/);
  const { code, ms, counters } = await d.stop(8000);
  assert.strictEqual(code, 0);
  assert.ok(ms < 3000, `smppd took ${ms} ms to exit`);
  assert.strictEqual(counters['smppd_connections_total{listener="smpp-in"}'], 1,
    JSON.stringify(counters));
  assert.strictEqual(
    counters['smppd_binds_total{listener="smpp-in",client="alice",mode="transmitter"}'], 1);
  assert.strictEqual(counters['smppd_sessions_closed_total{listener="smpp-in"}'], 1);
  await d.waitFor(/signal SIGTERM received: shutting down/);
});

test('SIGTERM while a failed bind\'s reply is held back: smppd exits without waiting for it',
  async () => {
    const d = await h.startSmppd(config());
    let held;
    let heldReply;
    try {
      // Four failures: the next reply is held 2 s (0, 250 ms, 500 ms, 1 s, then 2 s).
      for (let i = 0; i < 4; ++i) {
        const s = await h.connect(d.port);
        const resp = await h.request(s, 'bind_transceiver', { ...alice, password: 'wrong' });
        assert.strictEqual(resp.command_status, 0x0e);
        await h.closed(s);
      }
      held = await h.connect(d.port);
      held.bind_transceiver({ ...alice, password: 'wrong' }, (pdu) => { heldReply = pdu; });
      // smppd has read the fifth bind (its reply is now held), not merely been given time to.
      await h.peerHasRead(held.socket);
      assert.strictEqual(heldReply, undefined, 'the fifth reply is held back');
    } catch (e) {
      d.kill();
      throw e;
    }
    const { code, ms, counters } = await d.stop(8000);
    assert.strictEqual(code, 0, d.text());
    assert.ok(ms < 1000, `smppd took ${ms} ms to exit (the held reply was due in 2 s)`);
    await h.closed(held);
    assert.strictEqual(heldReply, undefined, 'the held reply was never sent');
    // The fifth bind was checked (its failure counted) before smppd let it go.
    assert.strictEqual(
      counters['smppd_binds_rejected_total{listener="smpp-in",reason="wrong_password"}'], 5,
      JSON.stringify(counters));
  });
