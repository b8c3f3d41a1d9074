'use strict';
// The smppd daemon seen by an independent ESME (the npm package `smpp`): binds, bind
// authentication and its throttling, client restrictions, the bind state machine, enquire_link
// in both directions, unbind and the bind timeout. Each test runs its own smppd on port 0.
//
// Run by ctest (tests/interop/CMakeLists.txt), which passes the daemon in SMPPD.

const test = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');

const { status: st } = h;

const alice = { system_id: 'alice', password: 'secret1' };
const message = { destination_addr: '15551234', short_message: 'hi' };

function config(listenerExtra = {}, clients = [alice]) {
  return { listeners: [h.listener('smpp-in', listenerExtra)], clients };
}

// ---- binds ----

for (const [bind, mode] of [['bind_transmitter', 'transmitter'], ['bind_receiver', 'receiver'],
  ['bind_transceiver', 'transceiver']]) {
  test(`${bind} binds: status 0, system_id smppd, sc_interface_version 0x34`, async () => {
    await h.withSmppd(config(), async (d) => {
      const s = await h.connect(d.port);
      const resp = await h.request(s, bind, { ...alice, interface_version: 0x34 });
      assert.strictEqual(resp.command, `${bind}_resp`);
      assert.strictEqual(resp.command_status, st.ESME_ROK);
      assert.strictEqual(resp.system_id, 'smppd');
      assert.strictEqual(resp.sc_interface_version, 0x34);
      await d.waitFor(new RegExp(`bound as 'alice' \\(${mode}, SMPP 3\\.4\\)`));
      s.destroy();
    });
  });
}

test('a 5.0 bind is served as 5.0 (sc_interface_version 0x50)', async () => {
  await h.withSmppd(config(), async (d) => {
    const s = await h.connect(d.port);
    const resp = await h.request(s, 'bind_transceiver', { ...alice, interface_version: 0x50 });
    assert.strictEqual(resp.command_status, st.ESME_ROK);
    assert.strictEqual(resp.sc_interface_version, 0x50);
    s.destroy();
  });
});

test('a 3.3 bind gets no sc_interface_version TLV', async () => {
  await h.withSmppd(config(), async (d) => {
    const s = await h.connect(d.port);
    const resp = await h.request(s, 'bind_transmitter', { ...alice, interface_version: 0x33 });
    assert.strictEqual(resp.command_status, st.ESME_ROK);
    assert.strictEqual(resp.system_id, 'smppd');
    assert.ok(!('sc_interface_version' in resp), 'a 3.3 bind_resp carries no TLV');
    // Nothing after the system_id: the body is exactly "smppd\0".
    assert.strictEqual(resp.command_length, 16 + 6);
    await d.waitFor(/bound as 'alice' \(transmitter, SMPP 3\.3\)/);
    s.destroy();
  });
});

// ---- authentication ----

test('a wrong password is refused with ESME_RINVPASWD and the connection closes', async () => {
  await h.withSmppd(config(), async (d) => {
    const s = await h.connect(d.port);
    const resp = await h.request(s, 'bind_transceiver', { ...alice, password: 'wrong' });
    assert.strictEqual(resp.command_status, st.ESME_RINVPASWD);
    assert.strictEqual(resp.command_length, 16, 'a failed bind_resp has no body');
    await h.closed(s);
    await d.waitFor(/bind_transceiver as 'alice' refused: wrong_password \(0xe\)/);
  });
});

test('an unknown system_id is refused with ESME_RINVSYSID', async () => {
  await h.withSmppd(config(), async (d) => {
    const s = await h.connect(d.port);
    const resp = await h.request(s, 'bind_transmitter', { system_id: 'mallory', password: 'x' });
    assert.strictEqual(resp.command_status, st.ESME_RINVSYSID);
    await h.closed(s);
    await d.waitFor(/bind_transmitter as 'mallory' refused: unknown_system_id \(0xf\)/);
  });
});

test('repeated failed binds from one address are slowed down, logged and counted', async () => {
  const d = await h.startSmppd(config());
  try {
    const times = [];
    for (let i = 0; i < 3; ++i) {
      const s = await h.connect(d.port);
      const started = h.now();
      const resp = await h.request(s, 'bind_transceiver', { ...alice, password: `bad${i}` });
      times.push(h.now() - started);
      assert.strictEqual(resp.command_status, st.ESME_RINVPASWD);
      await h.closed(s);
    }
    // The throttle holds the 2nd reply 250 ms and the 3rd 500 ms.
    assert.ok(times[1] >= 240, `2nd failure answered after ${times[1]} ms`);
    assert.ok(times[2] >= 490, `3rd failure answered after ${times[2]} ms`);
    assert.ok(times[2] - times[0] >= 250, `1st ${times[0]} ms, 3rd ${times[2]} ms`);
    // The right password still binds (the throttle slows, it does not lock out).
    const ok = await h.connect(d.port);
    const resp = await h.request(ok, 'bind_transceiver', alice);
    assert.strictEqual(resp.command_status, st.ESME_ROK);
    ok.destroy();
    // Logged once per 10 s and reason (a peer can refuse itself at will: log_aggregate.hpp);
    // every one is counted.
    assert.strictEqual(
      d.grep(/bind_transceiver as 'alice' refused: wrong_password \(0xe\)/).length, 1, d.text());
  } catch (e) {
    d.kill();
    throw e;
  }
  const { code, counters } = await d.stop();
  assert.strictEqual(code, 0);
  assert.strictEqual(
    counters['smppd_binds_rejected_total{listener="smpp-in",reason="wrong_password"}'], 3,
    JSON.stringify(counters));
  assert.strictEqual(
    counters['smppd_binds_total{listener="smpp-in",client="alice",mode="transceiver"}'], 1,
    JSON.stringify(counters));
});

// Password guessing is limited in attempts, not only slowed in replies (issue 11, defect 6).
// These listeners lift the connection limits per address, so that what is tested is the bind
// throttle alone (the connection limits are tested in daemon_access.test.js).
const guessable = {
  max_connections_per_ip: 0, max_unbound_connections: 0, max_unbound_connections_per_ip: 0,
};
const secondLoopback = h.hasSecondLoopbackAddress();

// `n` binds at once from `localAddress`, each on its own connection; resolves with the
// bind_resp statuses.
async function bindsAtOnce(port, n, credentials, localAddress = '127.0.0.1') {
  return Promise.all(Array.from({ length: n }, async () => {
    const s = await h.connect(port, { localAddress });
    try {
      const resp = await h.request(s, 'bind_transceiver', credentials, 20000);
      return resp.command_status;
    } finally {
      s.destroy();
    }
  }));
}

const count = (statuses, status) => statuses.filter((x) => x === status).length;

test('1,000 wrong-password binds at once from one address: 10 get to the password, the rest ' +
  'are refused at once, and then even the right password is refused from there', async () => {
  const d = await h.startSmppd(config(guessable));
  let took;
  try {
    const started = h.now();
    const statuses = await bindsAtOnce(d.port, 1000, { ...alice, password: 'guess' });
    took = h.now() - started;
    assert.strictEqual(count(statuses, st.ESME_RINVPASWD), 10, 'answered wrong password');
    assert.strictEqual(count(statuses, st.ESME_RBINDFAIL), 990, 'refused before the check');
    // The guesser learns nothing more: a right guess is refused too, without the check.
    const s = await h.connect(d.port);
    const right = await h.request(s, 'bind_transceiver', alice);
    assert.strictEqual(right.command_status, st.ESME_RBINDFAIL);
    s.destroy();
    await d.waitFor(/from 127\.0\.0\.1:\d+: bind_transceiver as 'alice' refused: ip_locked \(0xd\)/);
    // alice from another address binds: 10 failures do not lock her system_id (20 do).
    if (await secondLoopback) {
      const other = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password,
        { localAddress: '127.0.0.2' });
      other.destroy();
    }
  } catch (e) {
    d.kill();
    throw e;
  }
  const { code, counters } = await d.stop();
  assert.strictEqual(code, 0);
  assert.strictEqual(
    counters['smppd_binds_rejected_total{listener="smpp-in",reason="wrong_password"}'], 10,
    JSON.stringify(counters));
  assert.strictEqual(
    counters['smppd_binds_rejected_total{listener="smpp-in",reason="ip_locked"}'], 991,
    JSON.stringify(counters));
  process.stdout.write(`# 1,000 parallel wrong-password binds: 10 password checks, all answered in ${took} ms\n`);
});

test('a success as one system_id does not clear the failures of another from that address',
  async () => {
    const bob = { system_id: 'bob', password: 'secret2' };
    await h.withSmppd(config(guessable, [alice, bob]), async (d) => {
      const nine = await bindsAtOnce(d.port, 9, { ...alice, password: 'guess' });
      assert.deepStrictEqual(nine, Array(9).fill(st.ESME_RINVPASWD));
      // bob binds from the same address (the guesser holds an account of its own).
      const b = await h.bound(d.port, 'bind_transceiver', bob.system_id, bob.password);
      b.destroy();
      // The tenth failure for alice still locks the address...
      const tenth = await bindsAtOnce(d.port, 1, { ...alice, password: 'guess' });
      assert.deepStrictEqual(tenth, [st.ESME_RINVPASWD]);
      // ...for bob too.
      const locked = await bindsAtOnce(d.port, 1, bob);
      assert.deepStrictEqual(locked, [st.ESME_RBINDFAIL]);
      await d.waitFor(/bind_transceiver as 'bob' refused: ip_locked \(0xd\)/);
    });
  });

test('20 addresses guessing one system_id lock it for new addresses, not where it binds from',
  async (t) => {
    if (!(await secondLoopback)) {
      t.skip('127.0.0.2 and above cannot be used as local addresses here');
      return;
    }
    await h.withSmppd(config(guessable), async (d) => {
      // alice binds from 127.0.0.1: that address is trusted for her from now on.
      const home = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
      home.destroy();
      const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        bindsAtOnce(d.port, 1, { ...alice, password: 'guess' }, `127.0.0.${10 + i}`)));
      assert.deepStrictEqual(guesses.flat(), Array(20).fill(st.ESME_RINVPASWD));
      const fresh = await bindsAtOnce(d.port, 1, alice, '127.0.0.30');
      assert.deepStrictEqual(fresh, [st.ESME_RBINDFAIL]);
      await d.waitFor(/from 127\.0\.0\.30:\d+: .*refused: system_id_locked \(0xd\)/);
      const again = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
      again.destroy();
    });
  });

test('bind_failure_status uniform: unknown system_id and wrong password both get ' +
  'ESME_RBINDFAIL; the log keeps the reason', async () => {
  await h.withSmppd(config({ bind_failure_status: 'uniform' }), async (d) => {
    const unknown = await bindsAtOnce(d.port, 1, { system_id: 'mallory', password: 'x' });
    const wrong = await bindsAtOnce(d.port, 1, { ...alice, password: 'x' });
    assert.deepStrictEqual([...unknown, ...wrong], [st.ESME_RBINDFAIL, st.ESME_RBINDFAIL]);
    await d.waitFor(/as 'mallory' refused: unknown_system_id \(0xd\)/);
    await d.waitFor(/as 'alice' refused: wrong_password \(0xd\)/);
    const ok = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    ok.destroy();
  });
});

test('a bind with an over-long system_id or password is refused like any failed bind', async () => {
  await h.withSmppd(config(), async (d) => {
    // system_id is at most 15 characters, password 8 (3.4 §4.1.1): refused, then closed.
    const s = await h.connect(d.port);
    const longId = await h.request(s, 'bind_transceiver',
      { system_id: 'a'.repeat(20), password: 'x' });
    assert.strictEqual(longId.command_status, st.ESME_RINVSYSID);
    await h.closed(s);
    const s2 = await h.connect(d.port);
    const longPassword = await h.request(s2, 'bind_transceiver',
      { system_id: 'alice', password: 'p'.repeat(12) });
    assert.strictEqual(longPassword.command_status, st.ESME_RINVPASWD);
    await h.closed(s2);
    await d.waitFor(/closed: bind refused: malformed bind/);
  });
});

test('a client restricted to bind_types [transmitter] cannot bind as receiver', async () => {
  const clients = [{ ...alice, bind_types: ['transmitter'] }];
  await h.withSmppd(config({}, clients), async (d) => {
    const rx = await h.connect(d.port);
    const refused = await h.request(rx, 'bind_receiver', alice);
    assert.strictEqual(refused.command_status, st.ESME_RBINDFAIL);
    await h.closed(rx);
    await d.waitFor(/bind_receiver as 'alice' refused: bind_type_not_allowed \(0xd\)/);
    const tx = await h.connect(d.port);
    const ok = await h.request(tx, 'bind_transmitter', alice);
    assert.strictEqual(ok.command_status, st.ESME_ROK);
    tx.destroy();
  });
});

test('a client with allowed_ips [10.0.0.0/8] cannot bind from 127.0.0.1', async () => {
  const clients = [{ ...alice, allowed_ips: ['10.0.0.0/8'] },
    { system_id: 'bob', password: 'pw', allowed_ips: ['127.0.0.0/8'] }];
  await h.withSmppd(config({}, clients), async (d) => {
    const s = await h.connect(d.port);
    const refused = await h.request(s, 'bind_transceiver', alice);
    assert.strictEqual(refused.command_status, st.ESME_RBINDFAIL);
    await h.closed(s);
    await d.waitFor(/bind_transceiver as 'alice' refused: client_ip_not_allowed \(0xd\)/);
    const bob = await h.connect(d.port);
    const ok = await h.request(bob, 'bind_transceiver', { system_id: 'bob', password: 'pw' });
    assert.strictEqual(ok.command_status, st.ESME_ROK);
    bob.destroy();
  });
});

// ---- the bind state machine ----

test('submit_sm before bind is answered ESME_RINVBNDSTS and the session stays open', async () => {
  await h.withSmppd(config(), async (d) => {
    const s = await h.connect(d.port);
    const resp = await h.request(s, 'submit_sm', message);
    assert.strictEqual(resp.command, 'submit_sm_resp');
    assert.strictEqual(resp.command_status, st.ESME_RINVBNDSTS);
    const bind = await h.request(s, 'bind_transceiver', alice);
    assert.strictEqual(bind.command_status, st.ESME_ROK);
    s.destroy();
  });
});

test('submit_sm on a receiver bind is answered ESME_RINVBNDSTS', async () => {
  await h.withSmppd(config(), async (d) => {
    const s = await h.bound(d.port, 'bind_receiver', alice.system_id, alice.password);
    const resp = await h.request(s, 'submit_sm', message);
    assert.strictEqual(resp.command_status, st.ESME_RINVBNDSTS);
    // Still bound: enquire_link is answered.
    const el = await h.request(s, 'enquire_link');
    assert.strictEqual(el.command_status, st.ESME_ROK);
    s.destroy();
  });
});

// Past the bind state check, the message goes on to routing: with no route here, it is refused
// as undeliverable (ESME_RINVDSTADR), not for the state of the session.
test('submit_sm on a transmitter bind goes on to routing (no route: ESME_RINVDSTADR)',
  async () => {
    await h.withSmppd(config(), async (d) => {
      const s = await h.bound(d.port, 'bind_transmitter', alice.system_id, alice.password);
      const resp = await h.request(s, 'submit_sm', message);
      assert.strictEqual(resp.command, 'submit_sm_resp');
      assert.strictEqual(resp.command_status, st.ESME_RINVDSTADR);
      s.destroy();
    });
  });

test('a second bind on a bound session is answered ESME_RALYBND', async () => {
  await h.withSmppd(config(), async (d) => {
    const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    const again = await h.request(s, 'bind_transmitter', alice);
    assert.strictEqual(again.command_status, st.ESME_RALYBND);
    const el = await h.request(s, 'enquire_link');
    assert.strictEqual(el.command_status, st.ESME_ROK, 'the first bind still holds');
    s.destroy();
  });
});

// ---- enquire_link ----

test('the client\'s enquire_link is answered, before and after bind', async () => {
  await h.withSmppd(config(), async (d) => {
    const s = await h.connect(d.port);
    const before = await h.request(s, 'enquire_link');
    assert.strictEqual(before.command, 'enquire_link_resp');
    assert.strictEqual(before.command_status, st.ESME_ROK);
    await h.request(s, 'bind_transceiver', alice);
    const after = await h.request(s, 'enquire_link');
    assert.strictEqual(after.command, 'enquire_link_resp');
    assert.strictEqual(after.command_status, st.ESME_ROK);
    s.destroy();
  });
});

test('smppd sends enquire_link to a silent client; answering keeps the session', async () => {
  const smpp = { enquire_link_interval: '200ms', enquire_link_timeout: '300ms' };
  await h.withSmppd(config({ smpp }), async (d) => {
    const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    const received = [];
    s.on('enquire_link', (pdu) => {
      received.push(h.now());
      s.send(pdu.response());
    });
    // One after each 200 ms of silence from the client.
    await h.waitUntil(() => received.length >= 3, 3000, 'three enquire_link');
    // The session outlived the first one's 300 ms timeout because it was answered.
    const span = received[2] - received[0];
    assert.ok(span >= 300, `three enquire_link within ${span} ms`);
    assert.ok(!s.closed, 'the session is still open');
    assert.deepStrictEqual(d.grep(/as alice: closed/), []);
    const el = await h.request(s, 'enquire_link');
    assert.strictEqual(el.command_status, st.ESME_ROK);
    s.destroy();
  });
});

test('a client that does not answer enquire_link is disconnected after the timeout', async () => {
  const smpp = { enquire_link_interval: '200ms', enquire_link_timeout: '300ms' };
  await h.withSmppd(config({ smpp }), async (d) => {
    const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    let enquired = 0;
    s.on('enquire_link', () => { enquired = h.now(); });
    const started = h.now();
    await h.closed(s, 3000);
    assert.ok(enquired > 0, 'an enquire_link came first');
    const waited = h.now() - enquired;
    assert.ok(waited >= 250, `closed ${waited} ms after the enquire_link`);
    assert.ok(h.now() - started >= 450, `closed after ${h.now() - started} ms`);
    await d.waitFor(/closed: no enquire_link_resp within the enquire_link timeout/);
  });
});

// ---- unbind and timeouts ----

test('unbind is answered with unbind_resp, then the connection closes', async () => {
  await h.withSmppd(config(), async (d) => {
    const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    const resp = await h.request(s, 'unbind');
    assert.strictEqual(resp.command, 'unbind_resp');
    assert.strictEqual(resp.command_status, st.ESME_ROK);
    await h.closed(s);
    await d.waitFor(/as alice: closed: unbound by the peer/);
  });
});

test('a connection that does not bind is closed after timeouts.bind', async () => {
  await h.withSmppd(config({ timeouts: { bind: '300ms' } }), async (d) => {
    const started = h.now();
    const raw = await h.RawClient.connect(d.port);
    await raw.closed(3000);
    const took = h.now() - started;
    assert.ok(took >= 280, `closed after ${took} ms`);
    assert.strictEqual(raw.pdus.length, 0, 'nothing is sent before closing');
    await d.waitFor(/closed: no bind within the bind timeout/);
  });
});

test('a bound session without requests is unbound after timeouts.idle', async () => {
  await h.withSmppd(config({ timeouts: { idle: '300ms' } }), async (d) => {
    const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    const started = h.now();
    let unbindAt = 0;
    s.on('unbind', (pdu) => {
      unbindAt = h.now();
      s.send(pdu.response());
    });
    await h.closed(s);
    assert.ok(unbindAt > 0, 'smppd sent unbind before closing');
    assert.ok(unbindAt - started >= 280, `unbind after ${unbindAt - started} ms`);
    await d.waitFor(/as alice: closed: idle timeout/);
  });
});

test('a session that sends nothing is closed after timeouts.read', async () => {
  await h.withSmppd(config({ timeouts: { read: '300ms' } }), async (d) => {
    const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    const started = h.now();
    await h.closed(s);
    assert.ok(h.now() - started >= 280, `closed after ${h.now() - started} ms`);
    await d.waitFor(/as alice: closed: nothing received within the read timeout/);
  });
});

test('a bound session is not closed by the bind timeout', async () => {
  await h.withSmppd(config({ timeouts: { bind: '300ms' } }), async (d) => {
    const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    await h.sleep(600);
    assert.ok(!s.closed);
    const el = await h.request(s, 'enquire_link');
    assert.strictEqual(el.command_status, st.ESME_ROK);
    s.destroy();
  });
});
