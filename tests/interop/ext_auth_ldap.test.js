// External authentication against OpenLDAP (auth.ldap), with a real slapd started by the test
// (tests/interop/auth_servers.js) and npm smpp peers: accept, wrong password, unknown user, an
// empty password, a filter injection, the cache, the entry's attributes (docs/auth/smppd.schema)
// observed in the session's limits and the management API, the defaults for an entry without
// them, ldaps:// and StartTLS with a test CA (and a CA that does not match), the server down,
// paused past the timeout, restarted (the kept connection is replaced), and a wrong search
// password (named, never shown).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const h = require('./daemon_harness');
const { startSlapd } = require('./auth_servers');

const { status: st, waitUntil, startSmsc, upstream, upstreamsBound, bindStatus } = h;
const metric = h.metricValue;

const entries = {
  ext1: { password: 'pw1' },
  limited: {
    password: 'pw2',
    attrs: { smppRateLimit: '1', smppBindType: 'transmitter', smppMaxConnections: '1',
      smppTier: 'gold', smppTag: ['plan=otp', 'team=ops'] },
  },
  elsewhere: { password: 'pw3', attrs: { smppAllowedIp: ['10.0.0.0/8', '192.168.1.1'] } },
  forced: { password: 'pw4', attrs: { smppUpstream: 'second' } },
  badrate: { password: 'pw5', attrs: { smppRateLimit: 'fast' } },
};

let certs;
let slapd;
test.before(async () => {
  certs = h.makeCertificates();
  slapd = await startSlapd(h.tempDir(), entries, certs);
});
test.after(async () => { if (slapd) await slapd.stop(); });

function config(smscs, ldap = {}, auth = {}) {
  return {
    listeners: [h.listener('smpp')],
    upstreams: [upstream('first', [smscs[0]]), upstream('second', [smscs[1] || smscs[0]])],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'first' }],
    clients: [{ system_id: 'local', password: 'localpw' }],
    auth: {
      ldap: { url: slapd.url, bind_dn: `cn=smppd,${slapd.suffix}`, bind_password: 'reader-secret',
        base_dn: `ou=smpp,${slapd.suffix}`, timeout: '1s', cache_ttl: '5m', ...ldap },
      ...auth,
    },
    metrics: { prometheus: { address: '127.0.0.1:0' } },
    management: { address: '127.0.0.1:0' },
  };
}
const listeners = ['smpp', 'metrics', 'management'];

test('ldap: accept, wrong password, unknown user, empty password, a filter injection; the cache; defaults for an entry without attributes', async () => {
  const smsc = await startSmsc();
  try {
    const cfg = config([smsc], {}, { defaults: { rate_limit: 7, tier: 'bronze' } });
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 2);
      const before = slapd.userBinds('ext1');
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1');
      const r = await h.request(s, 'submit_sm', { destination_addr: '123', short_message: 'hi' });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      await waitUntil(() => slapd.userBinds('ext1') === before + 1, 3000, 'the bind as the entry');
      // Within cache_ttl: slapd is not asked again.
      (await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1')).destroy();
      await h.sleep(200);
      assert.strictEqual(slapd.userBinds('ext1'), before + 1, 'a cache hit');
      // The defaults apply to an entry without smppd's attributes.
      const info = (await h.httpCall(d.ports.management, '/api/clients/ext1')).json;
      assert.strictEqual(info.rate_limit.messages_per_second, 7);
      assert.strictEqual(info.tier, 'bronze');
      assert.strictEqual(info.authenticated_by, 'external');
      s.destroy();

      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'wrong'), st.ESME_RINVPASWD);
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'nobody', 'x'), st.ESME_RINVSYSID);
      // An empty password would be an anonymous bind that LDAP lets through: never a way in.
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', ''), st.ESME_RINVPASWD);
      // The system_id is escaped in the filter: '*' matches no entry.
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', '*', 'pw1'), st.ESME_RINVSYSID);
      assert.strictEqual(await metric(d, /^smppd_auth_backend_requests_total\{backend="ldap",outcome="accepted"\} (\S+)$/m), 1);
      assert.strictEqual(await metric(d, /^smppd_auth_backend_requests_total\{backend="ldap",outcome="unknown"\} (\S+)$/m), 2);
      // (The empty password is refused before LDAP is asked.)
      assert.strictEqual(await metric(d, /^smppd_auth_backend_requests_total\{backend="ldap",outcome="refused"\} (\S+)$/m), 1);
      for (const secret of ['pw1', 'reader-secret']) {
        assert.ok(!d.text().includes(secret), `'${secret}' appears in the log`);
      }
    }, { listeners });
  } finally {
    await smsc.close();
  }
});

test('ldap: the entry\'s attributes are the session\'s limits: rate, bind type, max_connections, allowed_ips, forced upstream, tier and tags; a bad value refuses', async () => {
  const first = await startSmsc();
  const second = await startSmsc();
  try {
    await h.withSmppd(config([first, second]), async (d) => {
      await upstreamsBound(d, 2);
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'limited', 'pw2'), st.ESME_RBINDFAIL);
      await d.waitFor(/as 'limited' refused: bind_type_not_allowed/);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', 'limited', 'pw2');
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transmitter', 'limited', 'pw2'), st.ESME_RBINDFAIL);
      await d.waitFor(/as 'limited' refused: client_max_connections/);
      // 1 message per second (a burst of one): of three at once, one goes.
      const answers = await Promise.all([1, 2, 3].map((i) =>
        h.request(s, 'submit_sm', { destination_addr: `55${i}`, short_message: 'x' })));
      const statuses = answers.map((a) => a.command_status);
      assert.strictEqual(statuses.filter((x) => x === st.ESME_ROK).length, 1, JSON.stringify(statuses));
      assert.strictEqual(statuses.filter((x) => x === st.ESME_RTHROTTLED).length, 2, JSON.stringify(statuses));
      const info = (await h.httpCall(d.ports.management, '/api/clients/limited')).json;
      assert.strictEqual(info.tier, 'gold');
      assert.deepStrictEqual(info.tags, { plan: 'otp', team: 'ops' });
      assert.deepStrictEqual(info.bind_types, ['transmitter']);
      assert.strictEqual(info.max_connections, 1);
      assert.strictEqual(info.rate_limit.throttled, 2);
      s.destroy();

      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'elsewhere', 'pw3'), st.ESME_RBINDFAIL);
      await d.waitFor(/as 'elsewhere' refused: client_ip_not_allowed/);
      assert.deepStrictEqual((await h.httpCall(d.ports.management, '/api/clients')).json.clients
        .find((c) => c.system_id === 'limited').allowed_ips, []);

      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'badrate', 'pw5'), st.ESME_RBINDFAIL);
      await d.waitFor(/the entry of 'badrate': smppRateLimit: 'fast' is not a rate/);

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

test('ldap: ldaps:// and StartTLS with the test CA; a CA that does not match fails the bind and says so', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([smsc], { url: slapd.ldapsUrl, ca_file: certs.ca.cert }), async (d) => {
      await upstreamsBound(d, 2);
      (await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1')).destroy();
    }, { listeners });
    await h.withSmppd(config([smsc], { start_tls: true, ca_file: certs.ca.cert }), async (d) => {
      await upstreamsBound(d, 2);
      (await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1')).destroy();
    }, { listeners });
    const other = h.makeCertificates();
    await h.withSmppd(config([smsc], { url: slapd.ldapsUrl, ca_file: other.stranger.cert }), async (d) => {
      await upstreamsBound(d, 2);
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1'), st.ESME_RBINDFAIL);
      await d.waitFor(/auth: 'ext1' from 127\.0\.0\.1: no backend could answer: ldap: /);
    }, { listeners });
  } finally {
    await smsc.close();
  }
});

test('ldap: down, paused past the timeout, restarted: refusals in time with the reason, then the kept connection is replaced', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([smsc], { cache_ttl: '0s' }), async (d) => {
      await upstreamsBound(d, 2);
      (await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1')).destroy();

      // Paused: connections are taken by the kernel, nothing answers.
      slapd.pause();
      let t0 = Date.now();
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1'), st.ESME_RBINDFAIL);
      let took = Date.now() - t0;
      assert.ok(took >= 800 && took < 3500, `refused after ${took} ms`);
      await d.waitFor(/auth: 'ext1' from 127\.0\.0\.1: no backend could answer: ldap: /);
      slapd.resume();

      // Restarted: the connection smppd kept is dead; the next bind takes a new one.
      await slapd.stop();
      t0 = Date.now();
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1'), st.ESME_RBINDFAIL);
      took = Date.now() - t0;
      assert.ok(took < 2500, `refused after ${took} ms while down`);
      await slapd.start();
      (await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1')).destroy();
      (await h.bound(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1')).destroy();
      assert.strictEqual(slapd.userBinds('ext1'), 2, 'asked again each time (cache_ttl 0)');
      assert.ok(await metric(d, /^smppd_auth_backend_requests_total\{backend="ldap",outcome="failed"\} (\S+)$/m) >= 2);
    }, { listeners });
  } finally {
    slapd.resume();
    await smsc.close();
  }
});

test('ldap: a wrong search password names the search identity, never the password', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config([smsc], { bind_password: 'not-the-secret' }), async (d) => {
      await upstreamsBound(d, 2);
      assert.strictEqual(await bindStatus(d.ports.smpp, 'bind_transceiver', 'ext1', 'pw1'), st.ESME_RBINDFAIL);
      await d.waitFor(/ldap: bind as 'cn=smppd,dc=example,dc=com' failed: Invalid credentials/);
      assert.ok(!d.text().includes('not-the-secret'));
    }, { listeners });
  } finally {
    await smsc.close();
  }
});
