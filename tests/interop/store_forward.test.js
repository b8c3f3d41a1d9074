// Store and forward (storage.enabled), end to end: the npm `smpp` package as the client and as
// the SMSC, smppd in between with a real SQLite file. Each test checks that its situation
// really happened (the SMSC held or refused, smppd was killed, the upstream was down).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const h = require('./daemon_harness');

const { status: st, waitUntil, receipts, startSmsc, upstream, upstreamsBound } = h;
const alice = { system_id: 'alice', password: 'secret1' };

function config(dir, upstreams, extra = {}) {
  return {
    listeners: [h.listener('smpp')],
    clients: [alice],
    upstreams,
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: upstreams[0].name }],
    storage: { enabled: true, sqlite: { path: path.join(dir, 'messages.db') } },
    ...extra,
  };
}

async function run(cfg, dir, body) {
  const d = await h.startSmppd(cfg, { dir });
  try {
    await body(d);
  } catch (e) {
    d.kill();
    await d.exited;
    if (e instanceof Error) e.message += `\n--- smppd log ---\n${d.text()}`;
    throw e;
  }
  return (await d.stopClean()).counters;
}

const receiptText = (pdu) => Buffer.from(pdu.short_message.message || pdu.short_message).toString();

test('a message is answered ESME_ROK once stored, before the SMSC answers; its receipt comes back with smppd\'s id', async () => {
  const smsc = await startSmsc({ hold: true });
  const dir = h.tempDir();
  try {
    const cfg = config(dir, [upstream('carrier', [smsc])]);
    await run(cfg, dir, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const r = await h.request(s, 'submit_sm', {
        destination_addr: '258841234567', short_message: 'stored first', registered_delivery: 1,
      });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      assert.match(r.message_id, /^[0-9a-f]{12}$/);
      // The SMSC has it and has not answered: the client's ESME_ROK came from the store.
      await waitUntil(() => smsc.received.length === 1, 3000, 'the submit at the SMSC');
      assert.strictEqual(smsc.answered, 0);
      smsc.release();
      await waitUntil(() => got.length === 1, 5000, 'the receipt');
      const text = receiptText(got[0]);
      assert.match(text, new RegExp(`^id:${r.message_id} `));
      assert.match(text, /stat:DELIVRD/);
      assert.strictEqual(smsc.received[0].short_message.message, 'stored first');
      s.close();
    });
  } finally {
    smsc.close();
  }
});

test('a message the SMSC refuses after it was accepted comes back as a REJECTD receipt with the SMSC\'s status in err:', async () => {
  const smsc = await startSmsc({ onSubmit: () => ({ status: st.ESME_RINVDSTADR }) });
  const dir = h.tempDir();
  try {
    const cfg = config(dir, [upstream('carrier', [smsc])]);
    const counters = await run(cfg, dir, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const r = await h.request(s, 'submit_sm', {
        source_addr: 'ACME', destination_addr: '258841234567', short_message: 'refused later',
        registered_delivery: 1,
      });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      await waitUntil(() => got.length === 1, 5000, 'the receipt smppd makes');
      assert.strictEqual(smsc.received.length, 1);
      const text = receiptText(got[0]);
      assert.match(text, new RegExp(`^id:${r.message_id} sub:001 dlvrd:000 `));
      assert.match(text, /stat:REJECTD err:011/);
      assert.strictEqual(got[0].esm_class & 0x3c, 0x04);
      assert.strictEqual(got[0].source_addr, '258841234567');
      assert.strictEqual(got[0].destination_addr, 'ACME');
      // And the store says so.
      const q = await h.request(s, 'query_sm', { message_id: r.message_id, source_addr: 'ACME' });
      assert.strictEqual(q.command_status, st.ESME_ROK);
      assert.strictEqual(q.message_state, 8);  // REJECTED
      assert.strictEqual(q.error_code, 11);
      s.close();
    });
    assert.strictEqual(counters['smppd_receipts_made_total{client="alice",state="rejected"}'], 1);
  } finally {
    smsc.close();
  }
});

// ---- a carrier that behaves like a real SMSC across smppd's restarts ----

const smpp = require('smpp');

// Records every submit_sm (by its text); sends each receipt `receiptDelay` ms after the submit
// on whichever session is bound then, and again every 300 ms until smppd answers it ESME_ROK
// (SMSCs retry receipts that were not acknowledged). `down` refuses binds (ESME_RBINDFAIL).
function startCarrier({ receiptDelay = 50, down = false } = {}) {
  const c = { received: [], texts: new Map(), sessions: [], nextId: 5000, down,
    pendingReceipts: 0, receiptsAcked: 0 };
  const live = () => c.sessions.filter((s) => s.bound && !s.closed);
  const sendReceipt = (pdu, id) => {
    if (c.closed) return;
    const s = live().pop();
    if (!s) {
      setTimeout(() => sendReceipt(pdu, id), 300);
      return;
    }
    let answered = false;
    const retry = setTimeout(() => { if (!answered) sendReceipt(pdu, id); }, 1000);
    s.deliver_sm({
      source_addr: pdu.destination_addr,
      destination_addr: pdu.source_addr,
      esm_class: 4,
      short_message: `id:${id} sub:001 dlvrd:001 submit date:2612070000 done date:2612070001 ` +
        'stat:DELIVRD err:000 text:x',
    }, (resp) => {
      answered = true;
      clearTimeout(retry);
      if (resp.command_status === 0) {
        c.pendingReceipts -= 1;
        c.receiptsAcked += 1;
      } else {
        setTimeout(() => sendReceipt(pdu, id), 300);
      }
    });
  };
  const server = smpp.createServer((session) => {
    c.sessions.push(session);
    session.on('error', () => {});
    session.on('close', () => { session.closed = true; });
    for (const bind of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
      session.on(bind, (pdu) => {
        if (c.down) {
          session.send(pdu.response({ command_status: st.ESME_RBINDFAIL }));
          return;
        }
        session.bound = true;
        session.send(pdu.response({ sc_interface_version: 0x34 }));
      });
    }
    session.on('enquire_link', (pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu) => { session.send(pdu.response()); session.close(); });
    session.on('submit_sm', (pdu) => {
      const text = Buffer.from(pdu.short_message.message || '').toString();
      c.received.push(text);
      c.texts.set(text, (c.texts.get(text) || 0) + 1);
      const id = String(c.nextId++);
      session.send(pdu.response({ message_id: id }));
      if (pdu.registered_delivery & 1) {
        c.pendingReceipts += 1;
        setTimeout(() => sendReceipt(pdu, id), receiptDelay);
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      c.port = server.address().port;
      c.close = () => {
        c.closed = true;
        for (const s of c.sessions) s.destroy();
        server.close();
      };
      resolve(c);
    });
  });
}

// Sends `texts` as submit_sm with registered_delivery, `window` at a time; resolves with the
// acknowledged ones (text -> smppd's id) when all are answered or the connection is lost.
function load(session, texts, window = 50) {
  const acked = new Map();
  return new Promise((resolve) => {
    let next = 0, inFlight = 0, done = false;
    const finish = () => { if (!done) { done = true; resolve(acked); } };
    session.on('close', finish);
    const pump = () => {
      while (!done && inFlight < window && next < texts.length) {
        const text = texts[next++];
        inFlight += 1;
        session.submit_sm({ destination_addr: '258840000000', short_message: text,
          registered_delivery: 1 }, (r) => {
          inFlight -= 1;
          if (r.command_status === 0) acked.set(text, r.message_id);
          if (next >= texts.length && inFlight === 0) finish(); else pump();
        });
      }
    };
    pump();
  });
}

test('kill -9 mid-load: every message a client saw acknowledged reaches the SMSC after the restart, and its receipt reaches the client', async () => {
  const carrier = await startCarrier({ receiptDelay: 200 });
  const dir = h.tempDir();
  const cfg = config(dir, [upstream('carrier', [carrier])]);
  let d = await h.startSmppd(cfg, { dir });
  try {
    await upstreamsBound(d);
    const s1 = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
    const receiptIds = [];
    const collect = (s) => s.on('deliver_sm', (pdu) => {
      const m = /^id:(\S+)/.exec(receiptText(pdu));
      if (m) receiptIds.push(m[1]);
      s.send(pdu.response());
    });
    // The first session never acknowledges its receipts: whatever it got before the crash was
    // taken from the SMSC and not yet delivered for good.
    const unacknowledged = [];
    s1.on('deliver_sm', (pdu) => unacknowledged.push(pdu));
    const texts = Array.from({ length: 20000 }, (_, i) => `crash-${i}`);
    const loading = load(s1, texts);
    // Mid-load: some acknowledged, receipts on their way, messages in flight both ways.
    await waitUntil(() => carrier.received.length >= 3000 && unacknowledged.length > 0, 20000,
      '3,000 messages at the SMSC and a receipt at the client');
    d.child.kill('SIGKILL');
    const exit = await d.exited;
    assert.strictEqual(exit.signal, 'SIGKILL');
    const acked = await loading;
    // Mid-load. (Acknowledgements on their way at the kill are lost: the client may have seen
    // fewer than the SMSC got.)
    assert.ok(acked.size >= 1000 && acked.size < texts.length,
      `killed mid-load: ${acked.size} of ${texts.length} acknowledged`);
    const beforeRestart = carrier.received.length;

    d = await h.startSmppd(cfg, { dir });
    await upstreamsBound(d);
    // Stored receipts come as soon as it binds: listen first.
    const s2 = await h.connect(d.ports.smpp);
    collect(s2);
    const bind = await h.request(s2, 'bind_transceiver', alice);
    assert.strictEqual(bind.command_status, st.ESME_ROK);
    // Every acknowledged message at the SMSC, and its receipt at the client.
    await waitUntil(() => [...acked.keys()].every((t) => carrier.texts.has(t)), 30000,
      'every acknowledged message at the SMSC');
    const wanted = new Set(acked.values());
    await waitUntil(() => { const got = new Set(receiptIds); return [...wanted].every((id) => got.has(id)); },
      15000, `every acknowledged message's receipt at the client (${wanted.size})`);
    // Receipts were waiting in the store at the restart (taken from the SMSC, not yet
    // acknowledged by the client): the crash hit deliveries in flight too.
    const waiting = /store: \d+ message\(s\) to send, \d+ scheduled, (\d+) deliveries waiting/.exec(d.text());
    assert.ok(waiting && Number(waiting[1]) > 0, 'no delivery was waiting at the restart');
    // Only what was in flight towards the SMSC at the crash may have gone twice: smppd counted it.
    const twice = [...carrier.texts.values()].filter((n) => n > 1).length;
    process.stderr.write(`crash test: ${acked.size} acknowledged, ${beforeRestart} at the SMSC before the restart, ${carrier.received.length} after, ${twice} twice, ${receiptIds.length} receipts\n`);
    const line = await d.waitFor(/store: (\d+) message\(s\) were being sent when smppd stopped|store: 0 message\(s\) to send/);
    const resent = Number((/store: (\d+) message\(s\) were being sent/.exec(line) || [0, 0])[1]);
    assert.ok(twice <= resent, `${twice} sent twice, ${resent} counted as in flight at the crash`);
    assert.ok(carrier.received.length > beforeRestart || resent === 0,
      'the restart sent what was waiting');
    s2.close();
    await d.stopClean();
  } catch (e) {
    d.kill();
    e.message += `\n--- smppd log ---\n${d.text()}`;
    throw e;
  } finally {
    carrier.close();
  }
});

test('an upstream that is down: messages are accepted and wait on disk (memory stays flat), then drain in order when it comes back', async () => {
  const carrier = await startCarrier({ down: true });
  const dir = h.tempDir();
  const cfg = config(dir, [upstream('carrier', [carrier], {
    retry: { delay: '100ms', max_delay: '300ms' }, window: { size: 100 },
    // One connection: the SMSC sees them in one stream (over several, order is per connection).
    pool: { min_connections: 1, max_connections: 1 },
  })]);
  // Under AddressSanitizer freed memory is held in quarantine and RSS measures nothing: this
  // smppd reuses it at once, so RSS is what is live (times ASan's own overhead).
  const asan = process.env.ASAN_OPTIONS;
  process.env.ASAN_OPTIONS = `${asan ? `${asan}:` : ''}quarantine_size_mb=0:thread_local_quarantine_size_kb=0`;
  try {
    await run(cfg, dir, async (d) => {
      if (asan === undefined) delete process.env.ASAN_OPTIONS; else process.env.ASAN_OPTIONS = asan;
      await d.waitFor(/upstream carrier: .*bind refused/);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const texts = Array.from({ length: 30000 }, (_, i) => `wait-${i}`);
      const rssBefore = h.rssKiB(d.child.pid);
      const acked = await load(s, texts.slice(0, 5000), 100);
      assert.strictEqual(acked.size, 5000, 'accepted while the upstream is down');
      const rssAfterFirst = h.rssKiB(d.child.pid);
      const more = await load(s, texts.slice(5000), 100);
      assert.strictEqual(more.size, 25000);
      const rssAfterAll = h.rssKiB(d.child.pid);
      // 25,000 more messages waiting cost no more memory than the store's caches (6 MiB): they
      // are on disk (in memory they would take over 25 MB).
      assert.ok(rssAfterAll - rssAfterFirst < 9 * 1024,
        `RSS ${rssBefore} -> ${rssAfterFirst} -> ${rssAfterAll} KiB while 30,000 messages wait`);
      assert.strictEqual(carrier.received.length, 0, 'nothing reached the SMSC while it was down');
      carrier.down = false;
      await waitUntil(() => carrier.received.length >= texts.length, 30000,
        `the backlog at the SMSC (${carrier.received.length})`);
      // In the order they were accepted, each once.
      assert.deepStrictEqual(carrier.received, texts);
      s.close();
    });
  } finally {
    carrier.close();
  }
});

test('schedule_delivery_time: smppd keeps the message until then and sends it without the schedule', async () => {
  const smsc = await startSmsc();
  const dir = h.tempDir();
  try {
    const cfg = config(dir, [upstream('carrier', [smsc])]);
    await run(cfg, dir, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const sent = Date.now();
      // Relative: in 2 seconds.
      const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'later',
        schedule_delivery_time: '000000000002000R' });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      await h.sleep(1000);
      assert.strictEqual(smsc.received.length, 0, 'sent before its time');
      await waitUntil(() => smsc.received.length === 1, 5000, 'the scheduled message');
      assert.ok(Date.now() - sent >= 1900, `sent after ${Date.now() - sent} ms`);
      assert.strictEqual(smsc.received[0].schedule_delivery_time, '');
      s.close();
    });
  } finally {
    smsc.close();
  }
});

test('validity_period: a message that could not be sent in time is not sent, and the client gets an EXPIRED receipt', async () => {
  const carrier = await startCarrier({ down: true });
  const dir = h.tempDir();
  const cfg = config(dir, [upstream('carrier', [carrier], {
    retry: { delay: '100ms', max_delay: '200ms' },
  })]);
  try {
    await run(cfg, dir, async (d) => {
      await d.waitFor(/upstream carrier: .*bind refused/);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const r = await h.request(s, 'submit_sm', { source_addr: 'ACME', destination_addr: '1',
        short_message: 'too late', registered_delivery: 1, validity_period: '000000000001000R' });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      await h.sleep(1500);
      carrier.down = false;
      await waitUntil(() => got.length === 1, 5000, 'the EXPIRED receipt');
      assert.match(receiptText(got[0]), new RegExp(`^id:${r.message_id} .*stat:EXPIRED`));
      await h.sleep(300);
      assert.strictEqual(carrier.received.length, 0, 'an expired message was sent');
      s.close();
    });
  } finally {
    carrier.close();
  }
});

test('a second smppd on the same database refuses to start and names the first', async () => {
  const smsc = await startSmsc();
  const dir = h.tempDir();
  const cfg = config(dir, [upstream('carrier', [smsc])]);
  try {
    await run(cfg, dir, async (d) => {
      // Its own folder for the configuration, the same database.
      const file = path.join(h.tempDir(), 'smppd.yaml');
      fs.writeFileSync(file, JSON.stringify(cfg));
      const second = spawnSync(h.binary, ['--config', file], { encoding: 'utf8', timeout: 10000 });
      assert.strictEqual(second.status, 1, `exit ${second.status}: ${second.stdout}${second.stderr}`);
      assert.match(second.stdout + second.stderr, new RegExp(
        `messages\\.db: the database is in use by another smppd \\(pid ${d.child.pid},`));
      // The first is untouched: it still takes messages.
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'still here' });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      s.close();
    });
  } finally {
    smsc.close();
  }
});

test('CDRs: one line per final outcome in the CDR folder, and smppd cdr export writes the same period', async () => {
  let n = 0;
  const smsc = await startSmsc({ onSubmit: () => ((n++ % 3 === 2) ? { status: 0x45 } : {}) });
  const dir = h.tempDir();
  const cdrDir = path.join(dir, 'cdr');
  fs.mkdirSync(cdrDir);
  const cfg = config(dir, [upstream('carrier', [smsc], { tags: { cost_per_sms: '0.012', region: 'mz' } })]);
  cfg.storage.cdr = { enabled: true, path: cdrDir, format: 'json' };
  try {
    const ids = [];
    await run(cfg, dir, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      for (let i = 0; i < 6; i++) {
        const r = await h.request(s, 'submit_sm', { source_addr: 'ACME', destination_addr: `25884000000${i}`,
          short_message: `cdr ${i}`, registered_delivery: 1 });
        assert.strictEqual(r.command_status, st.ESME_ROK);
        ids.push(r.message_id);
      }
      await waitUntil(() => got.length === 6, 5000, 'six receipts');
      s.close();
    });
    // The writer flushes within a second and at exit.
    const lines = fs.readdirSync(cdrDir).filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => fs.readFileSync(path.join(cdrDir, f), 'utf8').split('\n').filter(Boolean))
      .map((l) => JSON.parse(l));
    assert.strictEqual(lines.length, 6, JSON.stringify(lines));
    const byId = new Map(lines.map((l) => [l.message_id, l]));
    for (let i = 0; i < 6; i++) {
      const cdr = byId.get(ids[i]);
      assert.ok(cdr, `no CDR for ${ids[i]}`);
      assert.strictEqual(cdr.client, 'alice');
      assert.strictEqual(cdr.upstream, 'carrier');
      assert.deepStrictEqual(cdr.upstream_tags, { cost_per_sms: '0.012', region: 'mz' });
      assert.strictEqual(cdr.route, 'all');
      assert.strictEqual(cdr.source, 'ACME');
      assert.strictEqual(cdr.destination, `25884000000${i}`);
      assert.strictEqual(cdr.state, i % 3 === 2 ? 'rejected' : 'delivered');
      assert.strictEqual(cdr.error, i % 3 === 2 ? 0x45 : 0);
    }
    // The export reads the same from the store.
    const today = new Date().toISOString().slice(0, 10);
    const out = spawnSync(h.binary, ['cdr', 'export', '--config', path.join(dir, 'smppd.yaml'),
      '--from', today, '--to', today, '--format', 'csv'], { encoding: 'utf8' });
    assert.strictEqual(out.status, 0, out.stderr);
    const rows = out.stdout.trim().split('\r\n');
    assert.strictEqual(rows.length, 7, out.stdout);  // the header and six
    for (const id of ids) assert.ok(out.stdout.includes(id), `${id} not exported`);
    assert.ok(rows.slice(1).every((r) => r.endsWith(',cost_per_sms=0.012;region=mz')), out.stdout);
  } finally {
    smsc.close();
  }
});

test('receipts for a client that is not bound wait in the store, across a restart, and come in order when it binds', async () => {
  const smsc = await startSmsc({ receiptDelay: 10 });
  const dir = h.tempDir();
  const cfg = config(dir, [upstream('carrier', [smsc])]);
  try {
    const ids = [];
    // Only a transmitter: nowhere to deliver the receipts.
    await run(cfg, dir, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      for (let i = 0; i < 40; i++) {
        const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: `away ${i}`,
          registered_delivery: 1 });
        assert.strictEqual(r.command_status, st.ESME_ROK);
        ids.push(r.message_id);
      }
      // The SMSC sent every receipt and smppd took each (stored).
      await waitUntil(() => smsc.receiptAnswers.length === 40, 5000, 'the SMSC\'s receipts answered');
      assert.deepStrictEqual(smsc.receiptAnswers, new Array(40).fill(0));
      s.close();
    });
    // A new smppd process on the same store; the client binds a receiver at last.
    await run(cfg, dir, async (d) => {
      await d.waitFor(/store: 0 message\(s\) to send, 0 scheduled, 40 deliveries waiting for clients/);
      const r = await h.connect(d.ports.smpp);
      const got = receipts(r);
      assert.strictEqual((await h.request(r, 'bind_receiver', alice)).command_status, st.ESME_ROK);
      await waitUntil(() => got.length === 40, 5000, 'the 40 stored receipts');
      assert.deepStrictEqual(got.map((p) => /^id:(\S+)/.exec(receiptText(p))[1]), ids);
      r.close();
    });
    // Acknowledged: gone from the store.
    await run(cfg, dir, async (d) => {
      await d.waitFor(/store: 0 message\(s\) to send, 0 scheduled, 0 deliveries waiting for clients/);
    });
  } finally {
    smsc.close();
  }
});

test('a full disk: new messages are refused with ESME_RMSGQFUL, nothing stored is lost, and they are taken again once there is room', { skip: process.getuid() !== 0 && 'mounting a tmpfs needs root' }, async () => {
  const smsc = await startSmsc({ hold: true });
  const dir = h.tempDir();
  const disk = path.join(dir, 'small');
  fs.mkdirSync(disk);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]);
  try {
    const cfg = config(dir, [upstream('carrier', [smsc])]);
    cfg.storage.sqlite.path = path.join(disk, 'messages.db');
    await run(cfg, dir, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      // The SMSC holds its answers: everything stays in the store. Long texts fill 1 MiB fast.
      const text = 'x'.repeat(250);
      let accepted = 0, refused = 0, i = 0;
      while (refused === 0 && i < 10000) {
        const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: `${i++} ${text}`.slice(0, 254) });
        if (r.command_status === st.ESME_ROK) accepted += 1;
        else if (r.command_status === 0x14) refused += 1;  // ESME_RMSGQFUL
        else assert.fail(`status ${r.command_status}`);
      }
      assert.ok(accepted > 100 && refused === 1, `${accepted} accepted, then ${refused} refused`);
      await d.waitFor(/store: cannot write: .*messages\.db.*disk is full/);
      // Room again: writing resumes by itself.
      execFileSync('mount', ['-o', 'remount,size=64m', disk]);
      let ok = false;
      for (let tries = 0; tries < 50 && !ok; tries++) {
        const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'after' });
        ok = r.command_status === st.ESME_ROK;
        if (!ok) await h.sleep(100);
      }
      assert.ok(ok, 'still refused once the disk had room');
      // Everything acknowledged reaches the SMSC.
      smsc.release();
      await waitUntil(() => smsc.received.length >= accepted + 1, 10000,
        `the ${accepted + 1} acknowledged at the SMSC (${smsc.received.length})`);
      s.close();
    });
  } finally {
    smsc.close();
    try { execFileSync('umount', ['-l', disk]); } catch (_) { /* already gone */ }
  }
});

test('retention: a message done longer ago than submit_sm.retention is purged from the store', async () => {
  const smsc = await startSmsc({ onSubmit: () => ({ status: 0x45 }) });  // final at once: rejected
  const dir = h.tempDir();
  const cfg = config(dir, [upstream('carrier', [smsc])]);
  cfg.storage.submit_sm = { retention: '1s' };
  try {
    await run(cfg, dir, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const r = await h.request(s, 'submit_sm', { source_addr: 'ACME', destination_addr: '1', short_message: 'brief' });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      await waitUntil(() => smsc.received.length === 1, 3000, 'the message at the SMSC');
      // Known while it is young (answered from the store: it is final).
      let young;
      for (let i = 0; i < 20; i++) {
        young = await h.request(s, 'query_sm', { message_id: r.message_id, source_addr: 'ACME' });
        if (young.command_status === 0 && young.message_state === 8) break;
        await h.sleep(50);
      }
      assert.strictEqual(young.message_state, 8, 'REJECTED, from the store');
      let gone = false;
      for (let i = 0; i < 40 && !gone; i++) {
        await h.sleep(100);
        const q = await h.request(s, 'query_sm', { message_id: r.message_id, source_addr: 'ACME' });
        gone = q.command_status === 0x0c;
      }
      assert.ok(gone, 'still in the store 4 s after a retention of 1 s');
      s.close();
    });
  } finally {
    smsc.close();
  }
});

test('a damaged database, or a folder smppd cannot write: smppd refuses to start and says what to do', async () => {
  const dir = h.tempDir();
  const cfg = config(dir, [{ name: 'carrier', hosts: [{ address: '127.0.0.1:9' }],
    bind: { system_id: 'smppd', password: 'pw' } }]);
  const file = path.join(dir, 'smppd.yaml');
  const start = () => spawnSync(h.binary, ['--config', file], { encoding: 'utf8', timeout: 10000 });
  // Not a database at all (a file that something else wrote there).
  fs.writeFileSync(cfg.storage.sqlite.path, 'these are not the pages of a database '.repeat(100));
  fs.writeFileSync(file, JSON.stringify(cfg));
  let r = start();
  assert.strictEqual(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr,
    /messages\.db: not an SQLite database \(or encrypted, or truncated\); move it away or point storage\.sqlite\.path elsewhere/);
  // A folder on a read-only disk (as root, permissions alone would not stop smppd).
  if (process.getuid() === 0) {
    const ro = path.join(dir, 'ro');
    fs.mkdirSync(ro);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
    try {
      cfg.storage.sqlite.path = path.join(ro, 'messages.db');
      fs.writeFileSync(file, JSON.stringify(cfg));
      r = start();
      assert.strictEqual(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /ro\/messages\.db.*(not writable|Read-only file system)/);
      const v = spawnSync(h.binary, ['validate', '--config', file], { encoding: 'utf8' });
      assert.strictEqual(v.status, 1, v.stdout + v.stderr);
      assert.match(v.stdout + v.stderr, /storage.*sqlite.*path.*(not writable|Read-only)/i);
    } finally {
      execFileSync('umount', ['-l', ro]);
    }
  }
});

test('an SMSC that throttles past the deadline: the stored message goes back to disk and is sent again until it is taken', async () => {
  let refusals = 0;
  const smsc = await startSmsc({ onSubmit: () => (refusals++ < 6 ? { status: st.ESME_RTHROTTLED } : {}) });
  const dir = h.tempDir();
  const cfg = config(dir, [upstream('carrier', [smsc], { timeouts: { response: '300ms' } })]);
  try {
    const counters = await run(cfg, dir, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
      const got = receipts(s);
      const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'persist',
        registered_delivery: 1 });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      await waitUntil(() => got.length === 1, 15000, 'the receipt once the SMSC took it');
      assert.match(receiptText(got[0]), new RegExp(`^id:${r.message_id} .*stat:DELIVRD`));
      // The SMSC refused it six times; smppd put it back on disk at least once on the way.
      assert.strictEqual(smsc.received.length, 7);
      await d.waitFor(/stored message [0-9a-f]{12} refused for now \(ESME_RTHROTTLED\): back on disk/);
      s.close();
    });
    assert.ok(counters['smppd_messages_requeued_total{upstream="carrier"}'] >= 1, JSON.stringify(counters));
  } finally {
    smsc.close();
  }
});

test('failover: with its upstream down, a stored message goes to the route\'s failover upstream', async () => {
  const down = await startCarrier({ down: true });
  const backup = await startSmsc();
  const dir = h.tempDir();
  const cfg = config(dir, [upstream('primary', [down], { retry: { delay: '100ms', max_delay: '200ms' } }),
    upstream('backup', [backup])]);
  cfg.routes = [{ name: 'all', match: { destination_addr: '*' }, upstream: 'primary', failover: 'backup' }];
  try {
    await run(cfg, dir, async (d) => {
      await d.waitFor(/upstream primary: .*bind refused/);
      await d.waitFor(/upstream backup: \S+: bound/);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      for (let i = 0; i < 5; i++) {
        const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: `via backup ${i}` });
        assert.strictEqual(r.command_status, st.ESME_ROK);
      }
      await waitUntil(() => backup.received.length === 5, 5000, 'the messages at the backup');
      assert.strictEqual(down.received.length, 0);
      s.close();
    });
  } finally {
    down.close();
    backup.close();
  }
});
