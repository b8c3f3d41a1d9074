'use strict';
// Who may connect and bind to the smppd daemon: listener allowed_ips / blocked_ips, IPv6, and
// every connection and bind limit (max_connections, per IP, per client on a listener, a client's
// own max_connections across listeners, connections and binds a second).
//
// Run by ctest (tests/interop/CMakeLists.txt), which passes the daemon in SMPPD.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const h = require('./daemon_harness');

const { status: st, ids } = h;

const alice = { system_id: 'alice', password: 'secret1' };
const bob = { system_id: 'bob', password: 'secret2' };

function config(listenerExtra = {}, clients = [alice, bob]) {
  return { listeners: [h.listener('smpp-in', listenerExtra)], clients };
}

// A raw connection that smppd admitted: it answers an enquire_link on it.
async function admitted(port, options) {
  const raw = await h.RawClient.connect(port, options);
  raw.write(h.header(16, ids.enquire_link, 0, 1));
  const resp = await raw.next(2000);
  assert.strictEqual(resp.id, ids.enquire_link_resp);
  return raw;
}

// A raw connection that smppd refuses: closed at once, without a byte.
async function refused(port, options) {
  const raw = await h.RawClient.connect(port, options);
  raw.write(h.header(16, ids.enquire_link, 0, 1));
  await raw.closed(2000);
  assert.strictEqual(raw.pdus.length, 0, 'a refused connection gets no PDU');
}

const secondLoopback = h.hasSecondLoopbackAddress();
const ipv6 = h.hasIpv6Loopback();

// ---- address filters ----

test('blocked_ips [127.0.0.1/32]: the connection is closed at once, reason blocked_ips',
  async () => {
    const d = await h.startSmppd(config({ blocked_ips: ['127.0.0.1/32'] }));
    try {
      await refused(d.port);
      await d.waitFor(/connection from 127\.0\.0\.1:\d+ refused: blocked_ips/);
      if (await secondLoopback) {
        const other = await admitted(d.port, { localAddress: '127.0.0.2' });
        other.destroy();
      }
    } catch (e) {
      d.kill();
      throw e;
    }
    const { code, counters } = await d.stop();
    assert.strictEqual(code, 0);
    assert.strictEqual(
      counters['smppd_connections_rejected_total{listener="smpp-in",reason="blocked_ips"}'], 1,
      JSON.stringify(counters));
  });

test('allowed_ips [10.0.0.0/8]: a connection from 127.0.0.1 is refused, reason allowed_ips',
  async () => {
    await h.withSmppd(config({ allowed_ips: ['10.0.0.0/8'] }), async (d) => {
      await refused(d.port);
      await d.waitFor(/connection from 127\.0\.0\.1:\d+ refused: allowed_ips/);
    });
  });

test('allowed_ips [127.0.0.0/8] admits loopback; blocked_ips is checked first', async () => {
  await h.withSmppd(config({ allowed_ips: ['127.0.0.0/8'], blocked_ips: ['127.0.0.1/32'] }),
    async (d) => {
      await refused(d.port);
      await d.waitFor(/connection from 127\.0\.0\.1:\d+ refused: blocked_ips/);
      if (await secondLoopback) {
        const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password,
          { localAddress: '127.0.0.2' });
        s.destroy();
      }
    });
});

test('IPv6: a listener on [::1] binds over IPv6, and blocked_ips takes IPv6 prefixes',
  async (t) => {
    if (!(await ipv6)) {
      t.skip('no IPv6 loopback on this machine');
      return;
    }
    const cfg = {
      listeners: [h.listener('v6', { address: '[::1]:0' }),
        h.listener('v6-blocked', { address: '[::1]:0', blocked_ips: ['::1/128'] })],
      clients: [alice],
    };
    await h.withSmppd(cfg, async (d) => {
      await d.waitFor(/listener v6 listening on \[::1\]:\d+/);
      assert.strictEqual(d.hosts.v6, '::1');
      const s = await h.bound(d.ports.v6, 'bind_transceiver', alice.system_id, alice.password,
        { host: '::1' });
      await d.waitFor(/from \[::1\]:\d+: bound as 'alice'/);
      s.destroy();
      await refused(d.ports['v6-blocked'], { host: '::1' });
      await d.waitFor(/listener v6-blocked: connection from \[::1\]:\d+ refused: blocked_ips/);
    });
  });

test('IPv6: a listener on ":0" takes IPv4 too and logs IPv4 peers as IPv4', async (t) => {
  if (!(await ipv6)) {
    t.skip('no IPv6 on this machine');
    return;
  }
  await h.withSmppd(config({ address: ':0' }), async (d) => {
    await d.waitFor(/listener smpp-in listening on \[::\]:\d+/);
    const v4 = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    await d.waitFor(/from 127\.0\.0\.1:\d+: bound as 'alice'/);
    const v6 = await h.bound(d.port, 'bind_transceiver', bob.system_id, bob.password,
      { host: '::1' });
    await d.waitFor(/from \[::1\]:\d+: bound as 'bob'/);
    v4.destroy();
    v6.destroy();
  });
});

// ---- connection limits ----

test('max_connections 2: the third connection is refused until one closes', async () => {
  await h.withSmppd(config({ max_connections: 2 }), async (d) => {
    const a = await admitted(d.port);
    const b = await admitted(d.port);
    await refused(d.port);
    await d.waitFor(/connection from 127\.0\.0\.1:\d+ refused: max_connections$/);
    a.destroy();
    await d.waitFor(/closed: peer closed the connection/);
    const c = await admitted(d.port);
    b.destroy();
    c.destroy();
  });
});

test('max_connections_per_ip 1: a second connection from 127.0.0.1 is refused', async () => {
  await h.withSmppd(config({ max_connections_per_ip: 1 }), async (d) => {
    const a = await admitted(d.port);
    await refused(d.port);
    await d.waitFor(/connection from 127\.0\.0\.1:\d+ refused: max_connections_per_ip/);
    if (await secondLoopback) {
      const other = await admitted(d.port, { localAddress: '127.0.0.2' });
      other.destroy();
    }
    a.destroy();
  });
});

test('max_connections_per_client 1: a second bind as the same client is refused', async () => {
  await h.withSmppd(config({ max_connections_per_client: 1 }), async (d) => {
    const first = await h.bound(d.port, 'bind_transmitter', alice.system_id, alice.password);
    const second = await h.connect(d.port);
    const resp = await h.request(second, 'bind_transmitter', alice);
    assert.strictEqual(resp.command_status, st.ESME_RBINDFAIL);
    await h.closed(second);
    await d.waitFor(/bind_transmitter as 'alice' refused: max_connections_per_client \(0xd\)/);
    // Another client is not affected.
    const other = await h.bound(d.port, 'bind_transmitter', bob.system_id, bob.password);
    other.destroy();
    // Once the first session ends, alice binds again.
    await h.request(first, 'unbind');
    await h.closed(first);
    await d.waitFor(/as alice: closed: unbound by the peer/);
    const again = await h.bound(d.port, 'bind_transmitter', alice.system_id, alice.password);
    again.destroy();
  });
});

test('a client\'s max_connections 1 counts its sessions on every listener', async () => {
  const cfg = {
    listeners: [h.listener('smpp-a'), h.listener('smpp-b')],
    clients: [{ ...alice, max_connections: 1 }, bob],
  };
  await h.withSmppd(cfg, async (d) => {
    const onA = await h.bound(d.ports['smpp-a'], 'bind_transceiver', alice.system_id,
      alice.password);
    const onB = await h.connect(d.ports['smpp-b']);
    const resp = await h.request(onB, 'bind_transceiver', alice);
    assert.strictEqual(resp.command_status, st.ESME_RBINDFAIL);
    await h.closed(onB);
    await d.waitFor(
      /listener smpp-b: .*bind_transceiver as 'alice' refused: client_max_connections \(0xd\)/);
    const bobOnB = await h.bound(d.ports['smpp-b'], 'bind_transceiver', bob.system_id,
      bob.password);
    bobOnB.destroy();
    onA.destroy();
  });
});

// ---- unbound connections (issue 11, defect 7) ----

// smppd's resident memory in KiB, from /proc.
function rssKiB(d) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${d.child.pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

// Opens `n` plain connections from 127.0.0.1 that send nothing, `batch` at a time, as an
// attacker holding slots would. Resolves with the sockets (those smppd refused are closed).
async function idleFlood(port, n, batch = 500) {
  const sockets = [];
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      sockets.push(s);
      s.on('error', () => {});  // a refused connection may be reset
      s.once('connect', resolve);
      s.once('close', resolve);
    })));
  }
  return sockets;
}

test('10,000 idle connections from one address with the default limits: 10 are admitted, ' +
  'another address still connects and binds, the refusals are counted', async (t) => {
  if (!(await secondLoopback)) {
    t.skip('127.0.0.2 cannot be used as a local address here');
    return;
  }
  // Only the defaults: max_connections 10000, max_connections_per_ip 100,
  // max_unbound_connections 1000, max_unbound_connections_per_ip 10.
  const d = await h.startSmppd(config({ timeouts: { bind: '2m' } }));
  let sockets = [];
  try {
    const before = rssKiB(d);
    const started = h.now();
    sockets = await idleFlood(d.port, 10000);
    const flooded = h.now() - started;
    await h.waitUntil(() => sockets.filter((s) => !s.destroyed).length <= 10, 10000,
      'the refused connections to close');
    const peak = rssKiB(d);
    assert.strictEqual(sockets.filter((s) => !s.destroyed).length, 10);
    // The attacker reconnecting at once gets nowhere either.
    await refused(d.port);
    const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password,
      { localAddress: '127.0.0.2' });
    s.destroy();
    await d.waitFor(/connection from 127\.0\.0\.1:\d+ refused: max_unbound_connections_per_ip/);
    process.stdout.write(`# flood of 10,000 idle connections in ${flooded} ms; smppd RSS ` +
      `${before} KiB before, ${peak} KiB during (${rssKiB(d)} KiB after the bind)\n`);
  } catch (e) {
    d.kill();
    throw e;
  } finally {
    for (const s of sockets) s.destroy();
  }
  const { code, counters } = await d.stop();
  assert.strictEqual(code, 0);
  assert.strictEqual(counters[
    'smppd_connections_rejected_total{listener="smpp-in",reason="max_unbound_connections_per_ip"}'],
  9991, JSON.stringify(counters));
  // A line and a count per 10 s, not 9,991 lines (issue 11, defect 8).
  const lines = d.grep(/refused: max_unbound_connections_per_ip/).length;
  assert.ok(lines >= 1 && lines <= 3, `${lines} log lines for 9,991 refusals`);
});

test('max_unbound_connections 2: a third unbound connection is refused; a bind frees its slot',
  async () => {
    await h.withSmppd(config({ max_unbound_connections: 2, max_unbound_connections_per_ip: 0 }),
      async (d) => {
        const a = await admitted(d.port);
        const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
        const c = await admitted(d.port);  // s is bound: it no longer counts
        await refused(d.port);
        await d.waitFor(/connection from 127\.0\.0\.1:\d+ refused: max_unbound_connections$/);
        a.destroy();
        await d.waitFor(/closed: peer closed the connection/);
        const e = await admitted(d.port);
        for (const x of [s, c, e]) x.destroy();
      });
  });

test('max_unbound_connections_per_ip 1: a second unbound connection from 127.0.0.1 is refused, ' +
  'a bound one does not count', async () => {
  await h.withSmppd(config({ max_unbound_connections_per_ip: 1 }), async (d) => {
    const s = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    const a = await admitted(d.port);
    await refused(d.port);
    await d.waitFor(/connection from 127\.0\.0\.1:\d+ refused: max_unbound_connections_per_ip/);
    if (await secondLoopback) {
      const other = await admitted(d.port, { localAddress: '127.0.0.2' });
      other.destroy();
    }
    s.destroy();
    a.destroy();
  });
});

// ---- rates ----

test('rate_limit connections_per_second: a connection over the rate is refused', async () => {
  const rate_limit = { connections_per_second: 5, burst: 1 };
  await h.withSmppd(config({ rate_limit }), async (d) => {
    const a = await admitted(d.port);
    await refused(d.port);
    await d.waitFor(/connection from 127\.0\.0\.1:\d+ refused: connection_rate/);
    await h.sleep(300);  // one token back after 200 ms
    const b = await admitted(d.port);
    a.destroy();
    b.destroy();
  });
});

test('rate_limit binds_per_second: a bind over the rate gets ESME_RTHROTTLED', async () => {
  const rate_limit = { binds_per_second: 5, burst: 1 };
  await h.withSmppd(config({ rate_limit }), async (d) => {
    const a = await h.bound(d.port, 'bind_transceiver', alice.system_id, alice.password);
    const b = await h.connect(d.port);
    const resp = await h.request(b, 'bind_transceiver', bob);
    assert.strictEqual(resp.command_status, st.ESME_RTHROTTLED);
    await h.closed(b);
    await d.waitFor(/bind_transceiver as 'bob' refused: bind_rate \(0x58\)/);
    await h.sleep(300);
    const c = await h.bound(d.port, 'bind_transceiver', bob.system_id, bob.password);
    a.destroy();
    c.destroy();
  });
});
