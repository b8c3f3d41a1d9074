// The gRPC face end to end: an independent client (the npm packages @grpc/grpc-js and
// @grpc/proto-loader, reading proto/smppd/v1/smppd.proto) through smppd to an npm `smpp` SMSC.
// Every RPC, authentication (Basic and bearer, failures), the client's rate limit, the status
// table (with the SMPP command_status in the trailing metadata and the rich error details),
// field errors, TLS and mTLS, health and reflection, and the misbehaving client: oversized
// messages, a flood of streams, a stream whose answers are never read.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
const h = require('./daemon_harness');

const { status: st, waitUntil, startSmsc, upstreamsBound } = h;

const PROTO = path.join(__dirname, '..', '..', 'proto');
const TEST_PROTO = path.join(__dirname, 'proto');
const options = { includeDirs: [PROTO, TEST_PROTO], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const pkg = grpc.loadPackageDefinition(loader.loadSync(['smppd/v1/smppd.proto',
  'grpc/health/v1/health.proto', 'grpc/reflection/v1alpha/reflection.proto'], options));

// google.rpc.Status and smppd.v1.SmppError, to read the rich error details.
const richRoot = new protobuf.Root();
richRoot.resolvePath = (origin, target) => (fs.existsSync(path.join(PROTO, target)) ? path.join(PROTO, target) : target);
richRoot.loadSync(['google/rpc/status.proto', 'smppd/v1/smppd.proto'], { keepCase: true });
const RpcStatus = richRoot.lookupType('google.rpc.Status');
const SmppError = richRoot.lookupType('smppd.v1.SmppError');

const alice = { system_id: 'alice', password: 'alice-pw', api_keys: ['alice-key-0123456789'] };
const bob = { system_id: 'bob', password: 'bob-pw', rate_limit: { messages_per_second: 1, burst: 1 } };

function config(smsc, { listener = {}, clients = [alice, bob], extra = {} } = {}) {
  return {
    listeners: [{ name: 'grpc', type: 'grpc', address: '127.0.0.1:0', ...listener }],
    upstreams: [h.upstream('carrier', [smsc])],
    routes: [{ name: 'mz', match: { destination_addr: '258*' }, upstream: 'carrier' }],
    clients,
    ...extra,
  };
}

function messaging(port, creds = grpc.credentials.createInsecure(), opts = {}) {
  return new pkg.smppd.v1.Messaging(`127.0.0.1:${port}`, creds, opts);
}

function basic(user, password) {
  const m = new grpc.Metadata();
  m.set('authorization', `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
  return m;
}

function bearer(token) {
  const m = new grpc.Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}

function unary(client, method, request, metadata = new grpc.Metadata()) {
  return new Promise((resolve) => {
    client[method](request, metadata, { deadline: Date.now() + 10000 }, (err, res) => resolve({ err, res }));
  });
}

function details(err) {
  const bin = err.metadata.get('grpc-status-details-bin')[0];
  assert.ok(bin, 'rich error details');
  const status = RpcStatus.decode(bin);
  assert.strictEqual(status.code, err.code);
  const any = status.details[0];
  assert.strictEqual(any.type_url, 'type.googleapis.com/smppd.v1.SmppError');
  return SmppError.decode(any.value);
}

test('Send, SendBatch and GetMessage as a configured client: Basic and bearer, the SMSC gets the message, outcomes mapped to gRPC codes with the SMPP status', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config(smsc), async (d) => {
      await upstreamsBound(d);
      const c = messaging(d.ports.grpc);
      // Basic.
      let { err, res } = await unary(c, 'Send', { to: ['+258841234567'], from: 'SHOP', text: 'Olá from gRPC', registered_delivery: true, client_ref: 'r-1', request_id: '7' }, basic('alice', 'alice-pw'));
      assert.ifError(err);
      assert.strictEqual(res.request_id, '7');
      assert.strictEqual(res.client_ref, 'r-1');
      assert.strictEqual(res.recipients.length, 1);
      const id = res.recipients[0].message_id;
      assert.match(id, /^[0-9a-f]{12}$/);
      assert.strictEqual(res.recipients[0].parts, 1);
      assert.strictEqual(smsc.received.length, 1);
      const sent = smsc.received[0];
      assert.strictEqual(sent.destination_addr, '258841234567');
      assert.strictEqual(sent.dest_addr_ton, 1);
      assert.strictEqual(sent.source_addr, 'SHOP');
      assert.strictEqual(sent.source_addr_ton, 5);
      assert.strictEqual(sent.registered_delivery, 1);
      assert.strictEqual(String(sent.short_message.message), 'Olá from gRPC');
      // The message's state, for its client only.
      await waitUntil(() => smsc.receiptsSent === 1, 3000, 'the receipt');
      ({ err, res } = await unary(c, 'GetMessage', { message_id: id }, bearer('alice-key-0123456789')));
      assert.ifError(err);
      assert.strictEqual(res.message_id, id);
      assert.strictEqual(res.upstream, 'carrier');
      assert.strictEqual(res.smsc_message_id, '1000');
      ({ err } = await unary(c, 'GetMessage', { message_id: id }, basic('bob', 'bob-pw')));
      assert.strictEqual(err.code, grpc.status.NOT_FOUND, 'another client\'s message is not shown');
      ({ err } = await unary(c, 'GetMessage', { message_id: 'not-an-id!' }, basic('alice', 'alice-pw')));
      assert.strictEqual(err.code, grpc.status.INVALID_ARGUMENT);

      // Several recipients: each its own outcome; one without a route.
      ({ err, res } = await unary(c, 'Send', { to: ['258841111111', '447700900123'], from: '12345', text: 'two' }, bearer('alice-key-0123456789')));
      assert.ifError(err);
      assert.strictEqual(res.recipients[0].code, 0);
      assert.match(res.recipients[0].message_id, /^[0-9a-f]{12}$/);
      assert.strictEqual(res.recipients[1].to, '447700900123');
      assert.strictEqual(res.recipients[1].code, grpc.status.FAILED_PRECONDITION);
      assert.strictEqual(res.recipients[1].command_status, st.ESME_RINVDSTADR);
      assert.strictEqual(res.recipients[1].error, 'ESME_RINVDSTADR');

      // One recipient without a route: the call's status, with the SMPP status in the trailers
      // and the details.
      ({ err } = await unary(c, 'Send', { to: ['447700900123'], from: 'SHOP', text: 'nowhere' }, basic('alice', 'alice-pw')));
      assert.strictEqual(err.code, grpc.status.FAILED_PRECONDITION);
      assert.strictEqual(err.metadata.get('smpp-command-status')[0], String(st.ESME_RINVDSTADR));
      const e = details(err);
      assert.strictEqual(e.command_status, st.ESME_RINVDSTADR);
      assert.strictEqual(e.command_status_name, 'ESME_RINVDSTADR');
      assert.match(err.details, /ESME_RINVDSTADR \(0xb\)/);

      // Field errors name the field; an unknown enum value too.
      ({ err } = await unary(c, 'Send', { to: ['+1 (555) 010'], from: 'SHOP', text: 'x' }, basic('alice', 'alice-pw')));
      assert.strictEqual(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /^to: not a phone number/);
      ({ err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP' }, basic('alice', 'alice-pw')));
      assert.strictEqual(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /^text: required/);
      ({ err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'x', encoding: 9 }, basic('alice', 'alice-pw')));
      assert.strictEqual(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /^encoding: unknown value 9/);
      ({ err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'x', validity: { seconds: 60 * 86400 } }, basic('alice', 'alice-pw')));
      assert.strictEqual(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /^validity: at most 30 days/);

      // Bytes that are not the message (a string field that is not UTF-8, which proto3 forbids;
      // garbage): INVALID_ARGUMENT that says so, on every method; the channel goes on.
      const raw = new grpc.Client(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure());
      const send = (bytes, method = 'Send') => new Promise((resolve) => raw.makeUnaryRequest(`/smppd.v1.Messaging/${method}`,
        (x) => x, (b) => b, bytes, basic('alice', 'alice-pw'), (e2) => resolve(e2)));
      const field = (tag, bytes) => Buffer.concat([Buffer.from([tag, bytes.length]), bytes]);
      const valid = Buffer.concat([field(0x0a, Buffer.from('258841234567')), field(0x12, Buffer.from('SHOP'))]);
      let bad = await send(Buffer.concat([valid, field(0x1a, Buffer.from([0xff, 0xfe]))]));
      assert.strictEqual(bad.code, grpc.status.INVALID_ARGUMENT);
      assert.match(bad.details, /not a valid smppd\.v1\.SendRequest/);
      for (const method of ['Send', 'SendBatch', 'GetMessage']) {
        bad = await send(Buffer.from([0xff, 0xff, 0xff]), method);
        assert.strictEqual(bad.code, grpc.status.INVALID_ARGUMENT, method);
      }
      assert.strictEqual(await send(Buffer.concat([valid, field(0x1a, Buffer.from('fine'))])), null);
      // On a stream, such a message is answered and the stream goes on.
      const rawStream = raw.makeBidiStreamRequest('/smppd.v1.Messaging/SendStream', (x) => x, (b) => b, basic('alice', 'alice-pw'));
      const rawAnswers = [];
      rawStream.on('data', (b) => rawAnswers.push(b));
      rawStream.on('error', () => {});
      rawStream.write(Buffer.from([0xff, 0xff, 0xff]));
      rawStream.write(Buffer.concat([valid, field(0x1a, Buffer.from('after'))]));
      rawStream.end();
      await new Promise((resolve) => rawStream.on('end', resolve));
      assert.strictEqual(rawAnswers.length, 2);
      raw.close();

      // A batch: each message on its own, a field error failing only its message.
      ({ err, res } = await unary(c, 'SendBatch', { messages: [
        { to: ['258841000001'], from: 'SHOP', text: 'one', request_id: '1' },
        { to: ['258841000002'], from: 'SHOP', binary: Buffer.from([1, 2, 3]), request_id: '2' },
        { to: ['258841000003'], from: 'A name far too long', text: 'three', request_id: '3' },
      ] }, basic('alice', 'alice-pw')));
      assert.ifError(err);
      assert.strictEqual(res.accepted, 2);
      assert.strictEqual(res.refused, 1);
      assert.deepStrictEqual(res.messages.map((m) => m.request_id), ['1', '2', '3']);
      assert.match(res.messages[1].recipients[0].message_id, /^[0-9a-f]{12}$/);
      assert.strictEqual(res.messages[2].code, grpc.status.INVALID_ARGUMENT);
      assert.strictEqual(res.messages[2].field, 'messages[2].from');
      const binary = smsc.received.find((p) => p.destination_addr === '258841000002');
      assert.strictEqual(binary.data_coding, 4);
      ({ err } = await unary(c, 'SendBatch', { messages: [] }, basic('alice', 'alice-pw')));
      assert.strictEqual(err.code, grpc.status.INVALID_ARGUMENT);

      // Authentication failures.
      ({ err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'x' }));
      assert.strictEqual(err.code, grpc.status.UNAUTHENTICATED);
      assert.match(err.details, /authorization: Basic/);
      ({ err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'x' }, basic('alice', 'wrong')));
      assert.strictEqual(err.code, grpc.status.UNAUTHENTICATED);
      ({ err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'x' }, bearer('no-such-key')));
      assert.strictEqual(err.code, grpc.status.UNAUTHENTICATED);

      // The client's own rate_limit (1/s, burst 1): the second at once is RESOURCE_EXHAUSTED.
      ({ err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'b1' }, basic('bob', 'bob-pw')));
      assert.ifError(err);
      ({ err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'b2' }, basic('bob', 'bob-pw')));
      assert.strictEqual(err.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.strictEqual(details(err).command_status, st.ESME_RTHROTTLED);
      c.close();
      const { counters } = await d.stop();
      assert.ok(counters['smppd_grpc_requests_total{listener="grpc",method="Send",code="OK"}'] >= 3, JSON.stringify(counters));
      assert.ok(counters['smppd_grpc_requests_total{listener="grpc",method="Send",code="UNAUTHENTICATED"}'] >= 3);
    });
  } finally {
    smsc.close();
  }
});

test('SendStream: thousands of messages on one stream, each answered with its request_id; a client that never reads its answers holds bounded memory and does not slow another', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config(smsc), async (d) => {
      await upstreamsBound(d);
      const c = messaging(d.ports.grpc);
      const n = 3000;
      const answers = [];
      const stream = c.SendStream(basic('alice', 'alice-pw'));
      stream.on('data', (a) => answers.push(a));
      const ended = new Promise((resolve, reject) => { stream.on('end', resolve); stream.on('error', reject); });
      for (let i = 1; i <= n; ++i) {
        stream.write({ to: [`25884${String(i).padStart(7, '0')}`], from: 'SHOP', text: `m${i}`, request_id: String(i) });
      }
      // One field error in the middle: answered, the stream goes on.
      stream.write({ to: ['not a number'], from: 'SHOP', text: 'bad', request_id: '99999' });
      stream.end();
      await ended;
      assert.strictEqual(answers.length, n + 1);
      const ok = answers.filter((a) => a.code === 0);
      assert.strictEqual(ok.length, n);
      assert.deepStrictEqual(new Set(ok.map((a) => a.request_id)).size, n, 'every request_id once');
      const bad = answers.find((a) => a.request_id === '99999');
      assert.strictEqual(bad.code, grpc.status.INVALID_ARGUMENT);
      assert.strictEqual(bad.field, 'to');
      assert.strictEqual(smsc.received.length, n);

      // A client that writes and never reads: smppd stops reading it once its answers pile up.
      const rudeClient = messaging(d.ports.grpc);
      const rude = rudeClient.SendStream(basic('alice', 'alice-pw'));
      rude.on('error', () => {});
      rude.pause();
      const rssBefore = h.rssKiB(d.child.pid);
      let written = 0;
      const writeMore = () => {
        while (written < 60000) {
          written += 1;
          if (!rude.write({ to: ['258840000000'], from: 'SHOP', text: 'x'.repeat(100), request_id: String(written) })) {
            rude.once('drain', writeMore);
            return;
          }
        }
      };
      writeMore();
      await h.sleep(1500);
      // Another client is served meanwhile.
      const other = messaging(d.ports.grpc);
      const started = Date.now();
      const { err } = await unary(other, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'still here' }, basic('alice', 'alice-pw'));
      assert.ifError(err);
      assert.ok(Date.now() - started < 2000, 'answered promptly');
      assert.ok(written < 60000, `the writer was held back (${written} written)`);
      const grown = h.rssKiB(d.child.pid) - rssBefore;
      assert.ok(grown < 200 * 1024, `smppd grew ${grown} KiB`);
      rude.cancel();
      rudeClient.close();
      other.close();
      c.close();
    });
  } finally {
    smsc.close();
  }
});

test('TLS and mTLS, oversized messages, health and reflection', async () => {
  const certs = h.makeCertificates();
  const smsc = await startSmsc();
  const ca = fs.readFileSync(certs.ca.cert);
  try {
    const listener = {
      tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert, client_auth: 'require' },
      grpc: { max_recv_msg_size: 4096 },
    };
    await h.withSmppd(config(smsc, { listener }), async (d) => {
      await upstreamsBound(d);
      const opts = { 'grpc.ssl_target_name_override': 'localhost' };
      // With a client certificate of the CA: served.
      const mutual = messaging(d.ports.grpc, grpc.credentials.createSsl(ca,
        fs.readFileSync(certs.client.key), fs.readFileSync(certs.client.cert)), opts);
      let { err, res } = await unary(mutual, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'over mTLS' }, basic('alice', 'alice-pw'));
      assert.ifError(err);
      assert.match(res.recipients[0].message_id, /^[0-9a-f]{12}$/);
      // A message past max_recv_msg_size: refused by gRPC, the connection stays usable.
      ({ err } = await unary(mutual, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'y'.repeat(5000) }, basic('alice', 'alice-pw')));
      assert.strictEqual(err.code, grpc.status.RESOURCE_EXHAUSTED);
      ({ err } = await unary(mutual, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'after' }, basic('alice', 'alice-pw')));
      assert.ifError(err);
      // Without a client certificate, or with one of another CA: no call gets through.
      for (const creds of [grpc.credentials.createSsl(ca),
        grpc.credentials.createSsl(ca, fs.readFileSync(certs.stranger.key), fs.readFileSync(certs.stranger.cert))]) {
        const c = messaging(d.ports.grpc, creds, opts);
        ({ err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'x' }, basic('alice', 'alice-pw')));
        assert.strictEqual(err.code, grpc.status.UNAVAILABLE);
        c.close();
      }
      // Plain text to a TLS listener: nothing.
      const plain = messaging(d.ports.grpc);
      ({ err } = await unary(plain, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'x' }, basic('alice', 'alice-pw')));
      assert.strictEqual(err.code, grpc.status.UNAVAILABLE);
      plain.close();

      // grpc.health.v1 and server reflection (no credentials needed).
      const creds = grpc.credentials.createSsl(ca, fs.readFileSync(certs.client.key), fs.readFileSync(certs.client.cert));
      const health = new pkg.grpc.health.v1.Health(`127.0.0.1:${d.ports.grpc}`, creds, opts);
      ({ err, res } = await unary(health, 'Check', { service: '' }));
      assert.ifError(err);
      assert.strictEqual(res.status, 'SERVING');
      health.close();
      const reflection = new pkg.grpc.reflection.v1alpha.ServerReflection(`127.0.0.1:${d.ports.grpc}`, creds, opts);
      const services = await new Promise((resolve, reject) => {
        const s = reflection.ServerReflectionInfo();
        s.on('data', (r) => { resolve(r.list_services_response.service.map((x) => x.name)); s.end(); });
        s.on('error', reject);
        s.write({ list_services: '' });
      });
      assert.ok(services.includes('smppd.v1.Messaging'), services.join());
      assert.ok(services.includes('grpc.health.v1.Health'), services.join());
      reflection.close();
      mutual.close();
    });
  } finally {
    smsc.close();
  }
});

test('a client that opens hundreds of streams at once is held to a bound; others are served', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config(smsc), async (d) => {
      await upstreamsBound(d);
      const greedy = messaging(d.ports.grpc, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      const streams = [];
      for (let i = 0; i < 300; ++i) {
        const s = greedy.SendStream(basic('alice', 'alice-pw'));
        s.on('error', () => {});
        s.on('data', () => {});
        streams.push(s);
      }
      await h.sleep(500);
      // At most 100 streams at once on the connection (HTTP/2 MAX_CONCURRENT_STREAMS): the
      // rest wait on the client's side. Streams that got through take messages.
      const first = await new Promise((resolve, reject) => {
        const s = streams[0];
        s.once('data', resolve);
        s.once('error', reject);
        s.write({ to: ['258841234567'], from: 'SHOP', text: 'via a greedy stream', request_id: '1' });
      });
      assert.strictEqual(first.code, 0);
      // Another connection (grpc-js would share the greedy one's otherwise, and queue the call
      // behind its streams on its own side).
      const other = messaging(d.ports.grpc, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      const { err } = await unary(other, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'served' }, basic('alice', 'alice-pw'));
      assert.ifError(err);
      for (const s of streams) s.cancel();
      greedy.close();
      other.close();
    });
  } finally {
    smsc.close();
  }
});

// An Events stream: written to with `window` first, then acknowledgements. Collects events.
function events(client, metadata, window = 10) {
  const s = client.Events(metadata);
  const got = [];
  const waiters = [];
  s.on('data', (e) => {
    got.push(e);
    for (const w of waiters.splice(0)) w();
  });
  s.on('error', () => {});
  s.write({ window });
  return {
    got,
    ack: (ids) => s.write({ ack: ids.map(String) }),
    next: (n, ms = 5000) => waitUntil(() => got.length >= n, ms, `${n} event(s)`),
    close: () => s.cancel(),
    end: () => s.end(),
    stream: s,
  };
}

test('Events: receipts and MO as they come, held until acknowledged (at most the window), sent again on the next stream when not, in order', async () => {
  const smsc = await startSmsc();
  try {
    const extra = { mo_routes: [{ name: 'mo', match: { destination_addr: '12345' }, client: 'alice' }] };
    await h.withSmppd(config(smsc, { extra }), async (d) => {
      await upstreamsBound(d);
      const c = messaging(d.ports.grpc);
      const first = events(c, basic('alice', 'alice-pw'));
      await h.sleep(100);
      const { err, res } = await unary(c, 'Send', { to: ['258841234567'], from: '12345', text: 'with a receipt', registered_delivery: true }, basic('alice', 'alice-pw'));
      assert.ifError(err);
      const id = res.recipients[0].message_id;
      await first.next(1);
      const receipt = first.got[0];
      assert.strictEqual(receipt.kind, 'receipt');
      assert.strictEqual(receipt.receipt.message_id, id);
      assert.strictEqual(receipt.receipt.state, 'DELIVRD');
      assert.strictEqual(receipt.receipt.error, '000');
      assert.strictEqual(receipt.receipt.from, '258841234567');
      // An MO to the client's short code.
      smsc.mo({ source_addr: '258849999999', destination_addr: '12345', short_message: 'STOP' });
      await first.next(2);
      const mo = first.got[1];
      assert.strictEqual(mo.kind, 'mo');
      assert.strictEqual(mo.mo.from, '258849999999');
      assert.strictEqual(mo.mo.to, '12345');
      assert.strictEqual(mo.mo.text, 'STOP');
      // The MO is acknowledged, the receipt is not: the stream ends.
      first.ack([mo.event_id]);
      await h.sleep(100);
      first.close();
      await h.sleep(200);
      // The next stream gets the receipt again, with the same delivery_id; not the MO.
      const second = events(c, bearer('alice-key-0123456789'));
      await second.next(1);
      await h.sleep(200);
      assert.strictEqual(second.got.length, 1);
      assert.strictEqual(second.got[0].receipt.message_id, id);
      assert.strictEqual(second.got[0].delivery_id, receipt.delivery_id);
      second.ack([second.got[0].event_id]);
      await h.sleep(100);
      second.end();
      await h.sleep(200);
      const third = events(c, basic('alice', 'alice-pw'));
      await h.sleep(300);
      assert.strictEqual(third.got.length, 0, 'nothing left');
      third.close();
      // (Gone before the MO come: a delivery a closing stream hands back goes out after those
      // another stream took meanwhile.)
      await h.sleep(300);

      // 20 MO in a row to a stream with a window of 5.
      const fourth = events(c, basic('alice', 'alice-pw'), 5);
      for (let i = 0; i < 20; ++i) smsc.mo({ source_addr: '258849999999', destination_addr: '12345', short_message: `mo ${i}` });
      // A window of 5: the stream holds 5 until it acknowledges.
      await fourth.next(5);
      await h.sleep(200);
      assert.strictEqual(fourth.got.length, 5, 'at most the window unacknowledged');
      for (let k = 0; k < 4; ++k) {
        fourth.ack(fourth.got.slice(k * 5, k * 5 + 5).map((e) => e.event_id));
        await fourth.next((k + 2) * 5 > 20 ? 20 : (k + 2) * 5);
      }
      assert.deepStrictEqual(fourth.got.map((e) => e.mo.text), Array.from({ length: 20 }, (_, i) => `mo ${i}`), 'in order');
      fourth.end();

      // Without credentials: refused.
      const refused = c.Events(new grpc.Metadata());
      const status = await new Promise((resolve) => { refused.on('error', (e) => resolve(e.code)); refused.on('data', () => {}); });
      assert.strictEqual(status, grpc.status.UNAUTHENTICATED);
      c.close();
    });
  } finally {
    smsc.close();
  }
});

test('Events with storage: a receipt that came while the client was away, and one not acknowledged, survive a restart; an acknowledged one does not come back', async () => {
  const smsc = await startSmsc();
  const dir = h.tempDir();
  try {
    const extra = { storage: { enabled: true, sqlite: { path: path.join(dir, 'messages.db') } } };
    const cfg = config(smsc, { extra });
    let id;
    let deliveryId;
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const c = messaging(d.ports.grpc);
      const { err, res } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'stored', registered_delivery: true }, basic('alice', 'alice-pw'));
      assert.ifError(err);
      id = res.recipients[0].message_id;
      await waitUntil(() => smsc.receiptsSent === 1, 5000, 'the receipt sent');
      await h.sleep(300);
      c.close();
    });
    // Restarted: the receipt waits on disk for the client.
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const c = messaging(d.ports.grpc);
      const e = events(c, basic('alice', 'alice-pw'));
      await e.next(1);
      assert.strictEqual(e.got[0].receipt.message_id, id);
      assert.notStrictEqual(e.got[0].delivery_id, '0');
      // Not acknowledged: after another restart it comes again.
      e.close();
      await h.sleep(200);
      c.close();
      deliveryId = e.got[0].delivery_id;
    });
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const c = messaging(d.ports.grpc);
      const e = events(c, basic('alice', 'alice-pw'));
      await e.next(1);
      assert.strictEqual(e.got[0].receipt.message_id, id);
      assert.strictEqual(e.got[0].delivery_id, deliveryId, 'the same delivery_id across restarts');
      e.ack([e.got[0].event_id]);
      await h.sleep(300);
      e.end();
      await h.sleep(200);
      c.close();
    });
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const c = messaging(d.ports.grpc);
      const e = events(c, basic('alice', 'alice-pw'));
      await h.sleep(500);
      assert.strictEqual(e.got.length, 0, 'acknowledged: gone');
      e.close();
      c.close();
    });
  } finally {
    smsc.close();
  }
});

test('the listener\'s requests_per_second bounds calls; an Events stream that is never read holds no more than its window and slows no one', async () => {
  const smsc = await startSmsc();
  try {
    const extra = { mo_routes: [{ name: 'mo', match: { destination_addr: '12345' }, client: 'alice' }] };
    const listener = { rate_limit: { requests_per_second: 1, burst: 2 } };
    await h.withSmppd(config(smsc, { extra, listener }), async (d) => {
      await upstreamsBound(d);
      const c = messaging(d.ports.grpc);
      const codes = [];
      for (let i = 0; i < 3; ++i) {
        const { err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: `r${i}` }, basic('alice', 'alice-pw'));
        codes.push(err ? err.code : 0);
      }
      assert.deepStrictEqual(codes, [0, 0, grpc.status.RESOURCE_EXHAUSTED]);
      c.close();
    });
  } finally {
    smsc.close();
  }
  // (A new SMSC: smsc.mo() sends on its first session.)
  const mos = await startSmsc();
  try {
    const extra = { mo_routes: [{ name: 'mo', match: { destination_addr: '12345' }, client: 'alice' }] };
    await h.withSmppd(config(mos, { extra }), async (d) => {
      await upstreamsBound(d);
      // A stream that asks for events and never reads them.
      const lazy = messaging(d.ports.grpc, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      const s = lazy.Events(basic('alice', 'alice-pw'));
      s.on('error', () => {});
      s.write({ window: 50 });
      s.pause();
      await h.sleep(100);
      for (let i = 0; i < 300; ++i) mos.mo({ source_addr: '258849999999', destination_addr: '12345', short_message: `mo ${i}` });
      await h.sleep(500);
      const other = messaging(d.ports.grpc, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      const started = Date.now();
      const { err } = await unary(other, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'still served' }, basic('alice', 'alice-pw'));
      assert.ifError(err);
      assert.ok(Date.now() - started < 2000);
      // Once it goes away, another stream gets everything, in order, nothing lost.
      s.cancel();
      lazy.close();
      await h.sleep(500);
      const e = events(other, basic('alice', 'alice-pw'), 1000);
      await e.next(300);
      assert.deepStrictEqual(e.got.map((x) => x.mo.text), Array.from({ length: 300 }, (_, i) => `mo ${i}`));
      e.ack(e.got.map((x) => x.event_id));
      await h.sleep(100);
      e.end();
      other.close();
    });
  } finally {
    mos.close();
  }
});

test('SIGTERM while a SendStream writes and an Events stream waits: smppd answers what it took and exits cleanly within the grace', async () => {
  const smsc = await startSmsc({ answerDelay: 5 });
  try {
    const d = await h.startSmppd(config(smsc));
    await upstreamsBound(d);
    const c = messaging(d.ports.grpc);
    const e = events(c, basic('alice', 'alice-pw'));
    const s = c.SendStream(basic('alice', 'alice-pw'));
    const answers = [];
    s.on('data', (a) => answers.push(a));
    s.on('error', () => {});
    let writing = true;
    let n = 0;
    const pump = () => {
      while (writing && s.write({ to: ['258841234567'], from: 'SHOP', text: 'x', request_id: String(++n) })) { /* more */ }
      if (writing) s.once('drain', pump);
    };
    pump();
    await h.sleep(500);
    const r = await d.stop();
    writing = false;
    assert.strictEqual(r.code, 0, d.text());
    assert.ok(r.ms < 5000, `stopped in ${r.ms} ms`);
    assert.ok(answers.length > 0);
    // Every answer says accepted or why not; none is invented.
    for (const a of answers) assert.ok(a.code === 0 || a.code === grpc.status.UNAVAILABLE || a.code === grpc.status.RESOURCE_EXHAUSTED, JSON.stringify(a));
    e.close();
    c.close();
  } finally {
    smsc.close();
  }
});

test('max_send_msg_size: an answer larger than it is not sent (RESOURCE_EXHAUSTED), smaller ones are', async () => {
  const smsc = await startSmsc();
  try {
    await h.withSmppd(config(smsc, { listener: { grpc: { max_send_msg_size: 80 } } }), async (d) => {
      await upstreamsBound(d);
      const c = messaging(d.ports.grpc);
      let { err } = await unary(c, 'Send', { to: ['258841234567'], from: 'SHOP', text: 'small answer' }, basic('alice', 'alice-pw'));
      assert.ifError(err);
      const messages = Array.from({ length: 5 }, (_, i) => ({ to: [`25884100000${i}`], from: 'SHOP', text: `m${i}` }));
      ({ err } = await unary(c, 'SendBatch', { messages }, basic('alice', 'alice-pw')));
      assert.strictEqual(err.code, grpc.status.RESOURCE_EXHAUSTED, String(err && err.details));
      c.close();
    });
  } finally {
    smsc.close();
  }
});
