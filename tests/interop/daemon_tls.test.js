'use strict';
// The smppd daemon over TLS, with certificates generated at test time by the openssl CLI: an
// ESME (the npm package `smpp`, which hands its options to tls.connect) verifies smppd's
// certificate and binds; with client_auth require only a certificate signed by the configured CA
// gets in; a plain TCP client on a TLS listener is not served.
//
// Run by ctest (tests/interop/CMakeLists.txt), which passes the daemon in SMPPD.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const h = require('./daemon_harness');

const { status: st } = h;

const alice = { system_id: 'alice', password: 'secret1' };
const certs = h.makeCertificates();
const read = (file) => fs.readFileSync(file);

function config(tls) {
  return {
    listeners: [h.listener('smpp-tls', {
      tls: { cert: certs.server.cert, key: certs.server.key, ...tls },
    })],
    clients: [alice],
  };
}

// TLS options for the npm ESME: verify smppd against our CA.
function tlsOptions(extra = {}) {
  return { tls: true, ca: read(certs.ca.cert), rejectUnauthorized: true, ...extra };
}

const clientCert = { cert: read(certs.client.cert), key: read(certs.client.key) };

// Tries to bind over TLS; resolves with { connectError } if the handshake fails on the client,
// { response } if a bind_resp arrives, or { closed: true } if the connection closes first.
async function tryBind(port, options) {
  let s;
  try {
    s = await h.connect(port, options);
  } catch (e) {
    return { connectError: e };
  }
  const response = new Promise((resolve) => {
    s.bind_transceiver(alice, (pdu) => resolve({ response: pdu }));
  });
  const closedFirst = s.closedPromise.then(() => ({ closed: true }));
  const result = await h.within(3000, Promise.race([response, closedFirst]), 'bind or close');
  s.destroy();
  return result;
}

test('an ESME verifies smppd\'s certificate and binds over TLS', async () => {
  await h.withSmppd(config({}), async (d) => {
    await d.waitFor(/listener smpp-tls listening on 127\.0\.0\.1:\d+ \(TLS\)/);
    const s = await h.connect(d.port, tlsOptions());
    assert.strictEqual(s.socket.authorized, true, String(s.socket.authorizationError));
    assert.strictEqual(s.socket.getPeerCertificate().subject.CN, 'localhost');
    const resp = await h.request(s, 'bind_transceiver', { ...alice, interface_version: 0x34 });
    assert.strictEqual(resp.command_status, st.ESME_ROK);
    assert.strictEqual(resp.system_id, 'smppd');
    assert.strictEqual(resp.sc_interface_version, 0x34);
    const el = await h.request(s, 'enquire_link');
    assert.strictEqual(el.command_status, st.ESME_ROK);
    const unbind = await h.request(s, 'unbind');
    assert.strictEqual(unbind.command_status, st.ESME_ROK);
    await h.closed(s);
  });
});

test('a plain TCP client on a TLS listener is not bound', async () => {
  await h.withSmppd(config({}), async (d) => {
    const result = await tryBind(d.port, {});
    assert.ok(!result.response, `a plain bind got a response: ${JSON.stringify(result.response)}`);
    assert.ok(result.closed, JSON.stringify(result));
    await d.waitFor(/closed: TLS handshake failed/);
  });
});

test('a TLS connection that never handshakes is closed after timeouts.bind', async () => {
  const cfg = config({});
  cfg.listeners[0].timeouts = { bind: '300ms' };
  await h.withSmppd(cfg, async (d) => {
    const started = h.now();
    const raw = await h.RawClient.connect(d.port);
    await raw.closed(3000);
    assert.ok(h.now() - started >= 280, `closed after ${h.now() - started} ms`);
    await d.waitFor(/closed: no bind within the bind timeout/);
  });
});

test('client_auth require: without a client certificate the connection fails', async () => {
  await h.withSmppd(config({ ca: certs.ca.cert, client_auth: 'require' }), async (d) => {
    const result = await tryBind(d.port, tlsOptions());
    assert.ok(!result.response, 'no bind_resp without a client certificate');
    assert.ok(result.connectError || result.closed, JSON.stringify(result));
    await d.waitFor(/closed: TLS handshake failed: .*certificate/);
  });
});

test('client_auth require: a certificate from another CA is refused', async () => {
  await h.withSmppd(config({ ca: certs.ca.cert, client_auth: 'require' }), async (d) => {
    const result = await tryBind(d.port, tlsOptions({
      cert: read(certs.stranger.cert), key: read(certs.stranger.key) }));
    assert.ok(!result.response, 'no bind_resp with a certificate of another CA');
    await d.waitFor(/closed: TLS handshake failed: certificate verify failed/);
  });
});

test('client_auth require: a CA-signed client certificate binds', async () => {
  await h.withSmppd(config({ ca: certs.ca.cert, client_auth: 'require' }), async (d) => {
    const s = await h.connect(d.port, tlsOptions(clientCert));
    const resp = await h.request(s, 'bind_transceiver', alice);
    assert.strictEqual(resp.command_status, st.ESME_ROK);
    s.destroy();
  });
});

test('client_auth request: a client without a certificate binds too', async () => {
  await h.withSmppd(config({ ca: certs.ca.cert, client_auth: 'request' }), async (d) => {
    const s = await h.connect(d.port, tlsOptions());
    const resp = await h.request(s, 'bind_transceiver', alice);
    assert.strictEqual(resp.command_status, st.ESME_ROK);
    s.destroy();
    // The certificate was asked for: one that is sent is checked (a client is sent no request
    // without client_auth, and would bind with any certificate).
    const stranger = await tryBind(d.port, tlsOptions({
      cert: read(certs.stranger.cert), key: read(certs.stranger.key) }));
    assert.ok(!stranger.response, 'no bind_resp with a certificate of another CA');
    await d.waitFor(/closed: TLS handshake failed: certificate verify failed/);
  });
});

test('min_version 1.3: a TLS 1.2 client cannot connect; a TLS 1.3 client binds', async () => {
  await h.withSmppd(config({ min_version: '1.3' }), async (d) => {
    const old = await tryBind(d.port, tlsOptions({ maxVersion: 'TLSv1.2' }));
    assert.ok(old.connectError, JSON.stringify(old));
    const s = await h.connect(d.port, tlsOptions({ minVersion: 'TLSv1.3' }));
    assert.strictEqual(s.socket.getProtocol(), 'TLSv1.3');
    const resp = await h.request(s, 'bind_transceiver', alice);
    assert.strictEqual(resp.command_status, st.ESME_ROK);
    s.destroy();
  });
});
