'use strict';
// smppd's upstream side over TLS: smppd binds as an ESME to an SMSC made with the npm package
// `smpp` (given key and cert, its createServer is a node tls.Server and takes tls options such
// as ca, requestCert and rejectUnauthorized). Certificates are generated at test time by the
// openssl CLI (h.makeCertificates). An npm ESME bound to smppd drives the traffic.
//
// Run by ctest (tests/interop/CMakeLists.txt), which passes the daemon in SMPPD.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./daemon_harness');

const { smpp, status: st, waitUntil, receipts } = h;

const alice = { system_id: 'alice', password: 'secret1' };
const certs = h.makeCertificates();
// makeCertificates also leaves the CA that signed `stranger` beside the others.
const otherCa = path.join(path.dirname(certs.ca.cert), 'other-ca.crt');
const read = (file) => fs.readFileSync(file);

// A TLS SMSC on 127.0.0.1 with the server certificate (CN and SAN localhost, SAN 127.0.0.1),
// `tlsOptions` added to what node's tls.createServer gets. It records the TLS sockets that
// completed a handshake (`secured`), the handshakes that failed (`tlsErrors`), the binds and the
// submits it received; it accepts every bind, answers submits with ids from 1000 and sends a
// receipt for those that ask for one.
function startTlsSmsc(tlsOptions = {}) {
  const smsc = { secured: [], tlsErrors: [], binds: [], received: [], sessions: [], nextId: 1000 };
  const server = smpp.createServer({
    key: read(certs.server.key), cert: read(certs.server.cert), ...tlsOptions,
  }, (session) => {
    smsc.sessions.push(session);
    smsc.secured.push(session.socket);
    session.on('error', () => {});
    for (const bind of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
      session.on(bind, (pdu) => {
        smsc.binds.push({ pdu, socket: session.socket });
        session.send(pdu.response({ sc_interface_version: 0x34 }));
      });
    }
    session.on('enquire_link', (pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu) => {
      pdu.socket = session.socket;
      smsc.received.push(pdu);
      const id = String(smsc.nextId++);
      session.send(pdu.response({ message_id: id }));
      if (pdu.registered_delivery & 1) {
        session.deliver_sm({
          source_addr: pdu.destination_addr,
          destination_addr: pdu.source_addr,
          esm_class: 4,
          short_message: `id:${id} sub:001 dlvrd:001 submit date:2611271200 ` +
            'done date:2611271201 stat:DELIVRD err:000 text:hello',
        });
      }
    });
  });
  // A handshake that fails on the server side (the client refused our certificate, or sent no
  // certificate when one is required).
  server.on('tlsClientError', (e) => smsc.tlsErrors.push(e));
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      smsc.port = server.address().port;
      smsc.close = () => {
        for (const s of smsc.sessions) s.destroy();
        server.close();
      };
      resolve(smsc);
    });
  });
}

// smppd with one client (alice) and one upstream `carrier` on `smsc` with `tls`, every message
// routed to it. A short response timeout: a submit to an upstream that never binds fails fast.
function config(smsc, tls) {
  return {
    listeners: [h.listener('smpp')],
    clients: [alice],
    upstreams: [{
      name: 'carrier',
      hosts: [{ address: `127.0.0.1:${smsc.port}` }],
      bind: { system_id: 'smppd', password: 'pw' },
      timeouts: { response: '1s' },
      tls,
    }],
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
  };
}

// Runs `body(d, smsc)` with a TLS SMSC (`smscTls`) and smppd's upstream to it (`upstreamTls`).
async function withTlsCarrier(smscTls, upstreamTls, body) {
  const smsc = await startTlsSmsc(smscTls);
  try {
    await h.withSmppd(config(smsc, upstreamTls), (d) => body(d, smsc));
  } finally {
    smsc.close();
  }
}

// smppd connected and tried, and its upstream did not get bound: the handshake failed at the
// SMSC (a `tlsClientError` there, no completed handshake), no bind reached the SMSC, smppd logged
// no bind, and a client's submit fails with ESME_RSYSERR once timeouts.response (1s) is over,
// with nothing delivered to the SMSC.
async function assertNotBound(d, smsc) {
  await waitUntil(() => smsc.tlsErrors.length >= 1, 5000, 'a failed TLS handshake at the SMSC');
  const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
  const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'x' });
  assert.strictEqual(r.command_status, st.ESME_RSYSERR);
  assert.strictEqual(smsc.received.length, 0, 'nothing reaches the SMSC');
  assert.strictEqual(smsc.secured.length, 0, 'no handshake completed at the SMSC');
  assert.strictEqual(smsc.binds.length, 0, 'no bind reaches the SMSC');
  assert.deepStrictEqual(d.grep(/upstream carrier: .*: bound/), []);
  // The failed submit is in the log too, with what the pool had.
  await d.waitFor(/upstream carrier: 1 request\(s\) ran out of time \(timeouts\.response, 1000 ms\) .*0 of 1 connections bound/);
  s.destroy();
}

// smppd's log line that tells why its upstream connection failed: an attempt that ends before
// the bind ("not bound: TLS handshake failed: ...") is logged at warn, once per attempt (by the
// time assertNotBound is done, smppd has failed at least one handshake and retried).
const handshakeFailureLine = /upstream carrier: \S+: .*(TLS|handshake|certificate|verify)/i;

test('smppd verifies the SMSC against ca and server_name, binds over TLS, and a submit goes through', async () => {
  await withTlsCarrier({}, { ca: certs.ca.cert, server_name: 'localhost' }, async (d, smsc) => {
    await d.waitFor(/upstream carrier: \S+: bound/);
    // SNI carries server_name, although smppd connects to 127.0.0.1.
    assert.strictEqual(smsc.binds.length, 1);
    assert.strictEqual(smsc.binds[0].socket.encrypted, true);
    assert.strictEqual(smsc.binds[0].socket.servername, 'localhost');
    assert.strictEqual(smsc.binds[0].pdu.system_id, 'smppd');

    const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
    const got = receipts(s);
    const resp = await h.request(s, 'submit_sm', {
      source_addr: 'ACME', destination_addr: '258841234567', short_message: 'over tls',
      registered_delivery: 1,
    });
    assert.strictEqual(resp.command_status, st.ESME_ROK);
    // smppd's own id, not the SMSC's (1000).
    assert.match(resp.message_id, /^[0-9a-f]{12}$/);
    assert.strictEqual(smsc.received.length, 1);
    const sent = smsc.received[0];
    assert.strictEqual(sent.socket.encrypted, true);
    assert.strictEqual(sent.destination_addr, '258841234567');
    assert.strictEqual(sent.short_message.message.toString(), 'over tls');
    // The receipt comes back over the TLS upstream with smppd's id in place of the SMSC's.
    await waitUntil(() => got.length === 1, 3000, 'the receipt');
    const text = got[0].short_message.message.toString();
    assert.match(text, new RegExp(`^id:${resp.message_id} `), text);
    assert.strictEqual(smsc.tlsErrors.length, 0);
    s.destroy();
  });
});

// The SMSC demands a client certificate signed by our CA.
const mtlsSmsc = { ca: read(certs.ca.cert), requestCert: true, rejectUnauthorized: true };

test('mTLS: with cert and key smppd binds and the SMSC sees its client certificate', async () => {
  const tls = { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key };
  await withTlsCarrier(mtlsSmsc, tls, async (d, smsc) => {
    await d.waitFor(/upstream carrier: \S+: bound/);
    const socket = smsc.binds[0].socket;
    assert.strictEqual(socket.authorized, true, String(socket.authorizationError));
    assert.strictEqual(socket.getPeerCertificate().subject.CN, 'esme-client');
    const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
    const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'mtls' });
    assert.strictEqual(r.command_status, st.ESME_ROK);
    assert.strictEqual(smsc.received.length, 1);
    assert.strictEqual(smsc.received[0].socket.getPeerCertificate().subject.CN, 'esme-client');
    s.destroy();
  });
});

test('mTLS: without cert and key smppd does not get bound and a submit fails', async () => {
  await withTlsCarrier(mtlsSmsc, { ca: certs.ca.cert }, async (d, smsc) => {
    await assertNotBound(d, smsc);
    assert.strictEqual(smsc.tlsErrors[0].code, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    assert.notDeepStrictEqual(d.grep(handshakeFailureLine), [],
      'smppd logged nothing about its failed TLS handshake with the SMSC');
  });
});

test('an SMSC certificate from another CA, or for another name, is refused: no bind, no traffic', async () => {
  const cases = [
    { name: 'another CA', tls: { ca: otherCa }, alert: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' },
    { name: 'another name', tls: { ca: certs.ca.cert, server_name: 'smsc.example.net' },
      alert: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' },
  ];
  const unlogged = [];
  for (const c of cases) {
    await withTlsCarrier({}, c.tls, async (d, smsc) => {
      await assertNotBound(d, smsc);
      // smppd, not the SMSC, ended the handshake: with the alert of a failed verification.
      assert.strictEqual(smsc.tlsErrors[0].code, c.alert, c.name);
      if (d.grep(handshakeFailureLine).length === 0) unlogged.push(c.name);
    });
  }
  assert.deepStrictEqual(unlogged, [], 'smppd logged nothing about refusing the SMSC certificate');
});

test('skip_verify: smppd binds to an SMSC its ca and server_name would refuse', async () => {
  const tls = { ca: otherCa, server_name: 'smsc.example.net', skip_verify: true };
  await withTlsCarrier({}, tls, async (d, smsc) => {
    await d.waitFor(/upstream carrier: \S+: bound/);
    assert.strictEqual(smsc.binds[0].socket.encrypted, true);
    const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
    const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'x' });
    assert.strictEqual(r.command_status, st.ESME_ROK);
    assert.strictEqual(smsc.received.length, 1);
    s.destroy();
  });
});
