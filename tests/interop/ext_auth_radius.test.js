// External authentication against RADIUS (auth.radius), with a real FreeRADIUS started by the
// test (tests/interop/auth_servers.js; it requires a Message-Authenticator from smppd) and npm
// smpp peers: accept, reject, the cache, Vendor-Specific attributes (docs/auth/dictionary.smppd)
// observed in the session's limits, a wrong shared secret, the server down (port unreachable),
// paused past the timeout and its retries, a second server tried when the first does not answer,
// and a restart.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');
const { startRadius, freeUdpPort } = require('./auth_servers');

const { status: st, waitUntil, startSmsc, upstream, upstreamsBound, bindStatus } = h;
const metric = h.metricValue;

const secret = 'radius-shared-secret';
const users = {
  ext1: { password: 'pw1' },
  limited: {
    password: 'pw2',
    reply: ['Smppd-Rate-Limit = "1"', 'Smppd-Burst = "2"', 'Smppd-Bind-Type = "transmitter"',
      'Smppd-Tier = "gold"', 'Smppd-Tag = "plan=otp"', 'Smppd-Max-Connections = "1"'],
  },
  elsewhere: { password: 'pw3', reply: ['Smppd-Allowed-Ip = "10.0.0.0/8"'] },
  forced: { password: 'pw4', reply: ['Smppd-Upstream = "second"'] },
};

let radius;
test.before(async () => { radius = await startRadius(h.tempDir(), users, secret); });
test.after(async () => { if (radius) await radius.stop(); });

function config(smscs, r = {}) {
  return {
    listeners: [h.listener('smpp')],
    upstreams: [upstream('first', [smscs[0]]), upstream('second', [smscs[1] || smscs[0]])],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'first' }],
    clients: [{ system_id: 'local', password: 'localpw' }],
    auth: {
      radius: { server: `127.0.0.1:${radius.port}`, secret, vendor_id: 32473, timeout: '500ms',
        retries: 1, cache_ttl: '5m', ...r },
    },
    metrics: { prometheus: { address: '127.0.0.1:0' } },
    management: { address: '127.0.0.1:0' },
  };
}
const listeners = ['smpp', 'metrics', 'management'];

test('radius: accept, reject (wrong password and unknown user alike), the cache, no secret in the log', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([smsc]), async (d) => {
      await upstreamsBound(d, 2);
      const before = radius.asked('ext1');
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1');
      assert.strictEqual((await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'x' })).command_status, st.ESME_ROK);
      await waitUntil(() => radius.asked('ext1') === before + 1, 3000, 'the Access-Request at FreeRADIUS');
      (await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1')).destroy();
      await h.sleep(200);
      assert.strictEqual(radius.asked('ext1'), before + 1, 'a cache hit');
      s.destroy();
      // An Access-Reject does not say whether the user exists: a refusal either way.
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'wrong'), st.ESME_RINVPASWD);
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'nobody', 'x'), st.ESME_RINVPASWD);
      assert.strictEqual(await metric(d, /^smppd_auth_backend_requests_total\{backend="radius",outcome="accepted"\} (\S+)$/m), 1);
      assert.strictEqual(await metric(d, /^smppd_auth_backend_requests_total\{backend="radius",outcome="refused"\} (\S+)$/m), 2);
      for (const s2 of [secret, 'pw1']) assert.ok(!d.text().includes(s2), `'${s2}' in the log`);
    }, { listeners });
  } finally {
    await smsc.close();
  }
});

test('radius: the Access-Accept\'s attributes are the session\'s limits', async () => {
  const first = await startSmsc();
  const second = await startSmsc();
  try {
    await h.withSmppd(config([first, second]), async (d) => {
      await upstreamsBound(d, 2);
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_receiver', 'limited', 'pw2'), st.ESME_RBINDFAIL);
      await d.waitFor(/as 'limited' refused: bind_type_not_allowed/);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', 'limited', 'pw2');
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transmitter', 'limited', 'pw2'), st.ESME_RBINDFAIL);
      const answers = await Promise.all([1, 2, 3, 4, 5].map((i) =>
        h.request(s, 'submit_sm', { destination_addr: `55${i}`, short_message: 'x' })));
      const statuses = answers.map((a) => a.command_status);
      assert.strictEqual(statuses.filter((x) => x === st.ESME_ROK).length, 2, JSON.stringify(statuses));
      const info = (await h.httpCall(d.ports.management, '/api/clients/limited')).json;
      assert.strictEqual(info.tier, 'gold');
      assert.deepStrictEqual(info.tags, { plan: 'otp' });
      assert.strictEqual(info.rate_limit.burst, 2);
      s.destroy();
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'elsewhere', 'pw3'), st.ESME_RBINDFAIL);
      await d.waitFor(/as 'elsewhere' refused: client_ip_not_allowed/);
      const f = await h.bound(d.ports.smpp, 'bind_transceiver', 'forced', 'pw4');
      assert.strictEqual((await h.request(f, 'submit_sm', { destination_addr: '9', short_message: 'to second' })).command_status, st.ESME_ROK);
      await waitUntil(() => second.received.length === 1, 5000, 'the message at the second SMSC');
      f.destroy();
    }, { listeners });
  } finally {
    await first.close();
    await second.close();
  }
});

test('radius: a wrong shared secret gets no answer (FreeRADIUS drops it): refused in time, and said', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([smsc], { secret: 'not-the-secret' }), async (d) => {
      await upstreamsBound(d, 2);
      const t0 = Date.now();
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1'), st.ESME_RBINDFAIL);
      const took = Date.now() - t0;
      // Two tries of 500 ms.
      assert.ok(took >= 900 && took < 3000, `refused after ${took} ms`);
      await d.waitFor(/no backend could answer: radius: 127\.0\.0\.1:\d+: no answer within 500 ms/);
      assert.ok(!d.text().includes('not-the-secret'));
    }, { listeners });
  } finally {
    await smsc.close();
  }
});

test('radius: down, paused, a second server when the first does not answer, restarted', async () => {
  const smsc = await startSmsc();
  const dead = await freeUdpPort();
  try {
    const cfg = config([smsc], { cache_ttl: '0s' });
    delete cfg.auth.radius.server;
    cfg.auth.radius.servers = [`127.0.0.1:${dead}`, `127.0.0.1:${radius.port}`];
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 2);
      // The first server's port is closed (port unreachable): the second answers.
      (await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1')).destroy();

      radius.pause();
      let t0 = Date.now();
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1'), st.ESME_RBINDFAIL);
      let took = Date.now() - t0;
      assert.ok(took >= 900 && took < 3500, `refused after ${took} ms`);
      radius.resume();

      await radius.stop();
      t0 = Date.now();
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1'), st.ESME_RBINDFAIL);
      took = Date.now() - t0;
      assert.ok(took < 1500, `refused after ${took} ms while nothing listens`);
      await radius.start();
      (await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1')).destroy();
      assert.ok(await metric(d, /^smppd_auth_backend_requests_total\{backend="radius",outcome="failed"\} (\S+)$/m) >= 2);
    }, { listeners });
  } finally {
    radius.resume();
    await smsc.close();
  }
});
