'use strict';
// End-to-end tests of `smppd sim` (the built-in SMSC simulator) with an independent ESME: the npm
// package `smpp` (node-smpp, pinned in package-lock.json). Each test starts its own simulator
// as a child process on port 0, reads the port from its first line of output, and stops it with
// SIGTERM, which must unbind the clients and exit 0.
//
// The simulator is deterministic (outcome mix and error injection are round robins, not random),
// so the tests count exactly. Receipt delays are short (100 ms) and every wait has a deadline, so
// a test fails quickly instead of hanging.
//
// Run by ctest (tests/interop/CMakeLists.txt), which passes the binary in SMPPD. Only plain Node
// APIs: Debian 12's Node 18 must run it.

const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const path = require('node:path');
const smpp = require('smpp');

const smppd = process.env.SMPPD ||
  path.join(__dirname, '..', '..', 'build', 'debug', 'src', 'cli', 'smppd');

const ESME_ROK = 0x00;
const ESME_RSYSERR = 0x08;
const ESME_RCANCELFAIL = 0x11;
const ESME_RREPLACEFAIL = 0x13;
const ESME_RTHROTTLED = 0x58;
const ESME_RQUERYFAIL = 0x67;

const STATE = { ENROUTE: 1, DELIVERED: 2, EXPIRED: 3, DELETED: 4, UNDELIVERABLE: 5 };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The simulator's stats once `pred` holds for them (polled every 20 ms), or a failure naming
// `what` after `ms`.
async function statsWhen(sim, pred, what, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    const stats = await sim.stats();
    if (pred(stats)) return stats;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(stats)}`);
    await sleep(20);
  }
}

// Rejects after `ms` with `what` in the message.
function deadline(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- the simulator process ----

class Sim {
  constructor(args) {
    this.proc = spawn(smppd, ['sim', '--listen', '127.0.0.1:0', ...args],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.lines = [];
    this.waiters = [];
    let buffered = '';
    this.proc.stdout.on('data', (d) => {
      buffered += d;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        this.lines.push(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        this.waiters.forEach((w) => w());
      }
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  // The first stdout line matching `re` (waiting for it).
  line(re, ms = 5000) {
    return deadline(new Promise((resolve) => {
      const check = () => {
        const found = this.lines.find((l) => re.test(l));
        if (found !== undefined) {
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(found);
        }
      };
      this.waiters.push(check);
      check();
    }), ms, `a line matching ${re} from smppd sim`);
  }

  command(text) {
    this.proc.stdin.write(text + '\n');
  }

  // The simulator's counters, from the `stats` command.
  async stats() {
    const before = this.lines.length;
    this.command('stats');
    const line = await deadline(new Promise((resolve) => {
      const check = () => {
        const l = this.lines.slice(before).find((x) => x.startsWith('stats '));
        if (l) {
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(l);
        }
      };
      this.waiters.push(check);
      check();
    }), 5000, 'stats');
    return Object.fromEntries(line.split(' ').slice(1).map((kv) => {
      const [k, v] = kv.split('=');
      return [k, Number(v)];
    }));
  }

  async terminate(ms = 5000) {
    this.proc.kill('SIGTERM');
    return deadline(this.exited, ms, 'smppd sim to exit after SIGTERM');
  }

  kill() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

async function startSim(args = []) {
  const sim = new Sim(args.includes('--receipt-delay') ? args : ['--receipt-delay', '100ms', ...args]);
  const exitedEarly = sim.exited.then(({ code, signal }) => {
    throw new Error(`smppd sim exited (${code ?? signal}) before listening: ${sim.stderr}`);
  });
  const line = await Promise.race([sim.line(/^sim listening on /), exitedEarly]);
  exitedEarly.catch(() => {});
  const m = /^sim listening on 127\.0\.0\.1:(\d+)$/.exec(line);
  assert.ok(m, `unexpected first line: ${line}`);
  sim.port = Number(m[1]);
  assert.ok(sim.port > 0);
  return sim;
}

// Runs `body(sim)` against a fresh simulator; always stops it, and checks it exits 0.
async function withSim(args, body) {
  const sim = await startSim(args);
  const clients = [];
  try {
    await body(sim, clients);
    const { code, signal } = await sim.terminate();
    assert.strictEqual(signal, null, `smppd sim died of ${signal}: ${sim.stderr}`);
    assert.strictEqual(code, 0, `smppd sim exited ${code}: ${sim.stderr}`);
  } finally {
    sim.kill();
    clients.forEach((c) => c.destroy());
  }
}

// ---- the ESME side ----

// Sends a request and resolves with its response.
function call(session, command, params = {}) {
  return deadline(new Promise((resolve) => {
    session[command](params, (pdu) => resolve(pdu));
  }), 5000, `${command}_resp`);
}

// Connects and binds; every deliver_sm is answered and collected in `session.delivered`, and an
// unbind from the simulator is answered (and remembered in `session.unbound`).
async function bind(sim, clients, kind, params = {}) {
  const session = smpp.connect({ host: '127.0.0.1', port: sim.port });
  clients.push(session);
  session.on('error', () => {});
  session.delivered = [];
  session.deliveryWaiters = [];
  session.unbound = false;
  session.closed = new Promise((resolve) => session.on('close', resolve));
  session.on('deliver_sm', (pdu) => {
    session.send(pdu.response());
    session.delivered.push(pdu);
    session.deliveryWaiters.forEach((w) => w());
  });
  session.on('unbind', (pdu) => {
    session.unbound = true;
    session.send(pdu.response());
  });
  await deadline(new Promise((resolve) => session.on('connect', resolve)), 5000, 'connect');
  const resp = await call(session, `bind_${kind}`,
    { system_id: 'esme', password: 'secret', ...params });
  assert.strictEqual(resp.command_status, ESME_ROK, `bind_${kind} refused`);
  session.bindResp = resp;
  return session;
}

// Resolves once `session` has received at least `n` deliver_sm.
function delivered(session, n, ms = 5000) {
  return deadline(new Promise((resolve) => {
    const check = () => {
      if (session.delivered.length >= n) {
        session.deliveryWaiters = session.deliveryWaiters.filter((w) => w !== check);
        resolve(session.delivered.slice(0, n));
      }
    };
    session.deliveryWaiters.push(check);
    check();
  }), ms, `${n} deliver_sm (got ${session.delivered.length})`);
}

const receiptText = (pdu) => (typeof pdu.short_message === 'object' && pdu.short_message !== null
  ? pdu.short_message.message : String(pdu.short_message));

function parseReceipt(pdu) {
  const text = receiptText(pdu);
  const m = /^id:(\S+) sub:(\d{3}) dlvrd:(\d{3}) submit date:(\d{10}) done date:(\d{10}) stat:(\S+) err:(\d{3}) text:(.*)$/.exec(text);
  assert.ok(m, `not an Appendix B receipt: ${text}`);
  return { id: m[1], sub: m[2], dlvrd: m[3], submit: m[4], done: m[5], stat: m[6], err: m[7],
    text: m[8] };
}

const countBy = (items, key) => items.reduce((acc, x) => {
  acc[key(x)] = (acc[key(x)] || 0) + 1;
  return acc;
}, {});

// ---- tests ----

test('binds as transmitter, receiver and transceiver', { timeout: 20000 }, async () => {
  await withSim([], async (sim, clients) => {
    const tx = await bind(sim, clients, 'transmitter');
    const rx = await bind(sim, clients, 'receiver');
    const trx = await bind(sim, clients, 'transceiver', { interface_version: 0x34 });
    for (const s of [tx, rx, trx]) assert.strictEqual(s.bindResp.system_id, 'smppd-sim');
    assert.strictEqual(tx.bindResp.sc_interface_version, 0x50);  // the npm package asks for 5.0
    assert.strictEqual(trx.bindResp.sc_interface_version, 0x34);
    // A receiver may not submit: the bind state machine answers ESME_RINVBNDSTS.
    const refused = await call(rx, 'submit_sm', { destination_addr: '1', short_message: 'x' });
    assert.strictEqual(refused.command_status, 0x04);
    assert.strictEqual((await sim.stats()).binds, 3);
  });
});

test('the system id in bind responses is configurable', { timeout: 20000 }, async () => {
  await withSim(['--system-id', 'acme-smsc'], async (sim, clients) => {
    const s = await bind(sim, clients, 'transceiver');
    assert.strictEqual(s.bindResp.system_id, 'acme-smsc');
  });
});

test('submit_sm gets an id and a receipt with it on a transceiver', { timeout: 20000 }, async () => {
  await withSim([], async (sim, clients) => {
    const s = await bind(sim, clients, 'transceiver');
    const resp = await call(s, 'submit_sm', {
      source_addr: '4477001', destination_addr: '4477002', registered_delivery: 1,
      short_message: 'Hello from the npm client, a long text',
    });
    assert.strictEqual(resp.command_status, ESME_ROK);
    assert.match(resp.message_id, /^[0-9A-F]{8}$/);
    const [receipt] = await delivered(s, 1);
    assert.strictEqual(receipt.esm_class, 0x04);
    assert.strictEqual(receipt.receipted_message_id, resp.message_id);
    assert.strictEqual(receipt.message_state, STATE.DELIVERED);
    // From the handset, to the sender.
    assert.strictEqual(receipt.source_addr, '4477002');
    assert.strictEqual(receipt.destination_addr, '4477001');
    const r = parseReceipt(receipt);
    assert.strictEqual(r.id, resp.message_id);
    assert.strictEqual(r.stat, 'DELIVRD');
    assert.strictEqual(r.dlvrd, '001');
    assert.strictEqual(r.err, '000');
    assert.strictEqual(r.text, 'Hello from the npm c');
  });
});

test('receipts follow the outcome mix exactly', { timeout: 20000 }, async () => {
  await withSim(['--delivered', '50', '--undeliverable', '25', '--expired', '25'],
    async (sim, clients) => {
      const s = await bind(sim, clients, 'transceiver');
      const ids = [];
      for (let i = 0; i < 8; i++) {
        const r = await call(s, 'submit_sm',
          { destination_addr: '100' + i, short_message: 'm' + i, registered_delivery: 1 });
        ids.push(r.message_id);
      }
      const receipts = await delivered(s, 8);
      const byStat = countBy(receipts, (p) => parseReceipt(p).stat);
      assert.deepStrictEqual(byStat, { DELIVRD: 4, UNDELIV: 2, EXPIRED: 2 });
      const tlvFor = { DELIVRD: STATE.DELIVERED, UNDELIV: STATE.UNDELIVERABLE,
        EXPIRED: STATE.EXPIRED };
      for (const p of receipts) {
        const r = parseReceipt(p);
        assert.strictEqual(p.message_state, tlvFor[r.stat]);
        assert.strictEqual(r.err, r.stat === 'DELIVRD' ? '000' : '001');
        assert.strictEqual(p.receipted_message_id, r.id);
      }
      // One receipt per message, in submit order (one FIFO, one delay).
      assert.deepStrictEqual(receipts.map((p) => p.receipted_message_id), ids);
      const stats = await sim.stats();
      assert.deepStrictEqual([stats.delivered, stats.undeliverable, stats.expired], [4, 2, 2]);
    });
});

test('registered_delivery: 0 none, 2 failures only, 3 successes only', { timeout: 20000 },
  async () => {
    await withSim(['--delivered', '50', '--undeliverable', '50'], async (sim, clients) => {
      const s = await bind(sim, clients, 'transceiver');
      const submit = (rd, i) => call(s, 'submit_sm',
        { destination_addr: '200' + i, short_message: `rd${rd} ${i}`, registered_delivery: rd });
      // The mix alternates delivered, undeliverable: each group of 4 has 2 of each.
      for (let i = 0; i < 4; i++) await submit(0, i);
      for (let i = 0; i < 4; i++) await submit(2, i);
      for (let i = 0; i < 4; i++) await submit(3, i);
      // A last one that always gets its receipt: receipts come in submit order, so once it is
      // in, every receipt of the messages before it has arrived too.
      const last = await submit(1, 9);
      const receipts = await delivered(s, 5);
      assert.strictEqual(receipts[4].receipted_message_id, last.message_id);
      await sleep(50);
      assert.strictEqual(s.delivered.length, 5, 'no more receipts than asked for');
      const texts = receipts.slice(0, 4).map((p) => parseReceipt(p));
      assert.deepStrictEqual(texts.map((r) => [r.text.slice(0, 3), r.stat]),
        [['rd2', 'UNDELIV'], ['rd2', 'UNDELIV'], ['rd3', 'DELIVRD'], ['rd3', 'DELIVRD']]);
    });
  });

test('receipts for a transmitter go to a receiver of the same system_id bound later',
  { timeout: 20000 }, async () => {
    await withSim([], async (sim, clients) => {
      const other = await bind(sim, clients, 'receiver', { system_id: 'other' });
      const tx = await bind(sim, clients, 'transmitter', { system_id: 'acme' });
      const ids = [];
      for (let i = 0; i < 3; i++) {
        const r = await call(tx, 'submit_sm',
          { destination_addr: '300' + i, short_message: 'queued ' + i, registered_delivery: 1 });
        ids.push(r.message_id);
      }
      // The receipts come due with no receiver of acme to take them: they wait in the queue.
      const waiting = await statsWhen(sim, (st) => st.queued === 3, 'three queued receipts');
      assert.strictEqual(waiting.receipts_sent, 0);
      const rx = await bind(sim, clients, 'receiver', { system_id: 'acme' });
      const receipts = await delivered(rx, 3);
      assert.deepStrictEqual(receipts.map((p) => p.receipted_message_id), ids);
      assert.strictEqual(other.delivered.length, 0, 'receipts go to their own system_id only');
      assert.strictEqual((await sim.stats()).queued, 0);
    });
  });

test('throttle and error injection: exact counts', { timeout: 20000 }, async () => {
  await withSim(['--throttle-rate', '10', '--error-rate', '20'], async (sim, clients) => {
    const s = await bind(sim, clients, 'transmitter');
    const statuses = [];
    for (let i = 0; i < 50; i++) {
      const r = await call(s, 'submit_sm', { destination_addr: '400' + i, short_message: 'x' });
      statuses.push(r.command_status);
      if (r.command_status === ESME_ROK) assert.match(r.message_id, /^[0-9A-F]{8}$/);
    }
    assert.deepStrictEqual(countBy(statuses, (x) => x),
      { [ESME_ROK]: 35, [ESME_RTHROTTLED]: 5, [ESME_RSYSERR]: 10 });
    const stats = await sim.stats();
    assert.deepStrictEqual([stats.submits, stats.throttled, stats.errors], [35, 5, 10]);
  });
});

test('throttling alone fails exactly every 1/rate-th submit', { timeout: 20000 }, async () => {
  await withSim(['--throttle-rate', '25'], async (sim, clients) => {
    const s = await bind(sim, clients, 'transmitter');
    const throttled = [];
    for (let i = 1; i <= 12; i++) {
      const r = await call(s, 'submit_sm', { destination_addr: '5', short_message: 'x' });
      if (r.command_status === ESME_RTHROTTLED) throttled.push(i);
    }
    assert.deepStrictEqual(throttled, [4, 8, 12]);
  });
});

test('a 3.3 ESME gets ids of at most 8 characters and no TLVs', { timeout: 20000 }, async () => {
  await withSim([], async (sim, clients) => {
    const tx = await bind(sim, clients, 'transmitter', { system_id: 'old', interface_version: 0x33 });
    const rx = await bind(sim, clients, 'receiver', { system_id: 'old', interface_version: 0x33 });
    assert.strictEqual(tx.bindResp.sc_interface_version, undefined,
      'no sc_interface_version for a 3.3 ESME');
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(tx, 'submit_sm',
        { destination_addr: '600', short_message: 'three three', registered_delivery: 1 });
      assert.strictEqual(r.command_status, ESME_ROK);
      // The simulator's ids: 8 uppercase hex digits for every version (sim/message_id.hpp).
      assert.match(r.message_id, /^[0-9A-F]{8}$/);
      ids.push(r.message_id);
    }
    const receipts = await delivered(rx, 3);
    for (const [i, p] of receipts.entries()) {
      assert.strictEqual(p.esm_class, 0x04);
      assert.strictEqual(p.receipted_message_id, undefined);
      assert.strictEqual(p.message_state, undefined);
      assert.strictEqual(parseReceipt(p).id, ids[i]);
    }
    // The session has no TLVs at all for it.
    for (const p of receipts) {
      assert.deepStrictEqual(Object.keys(p).filter((k) => /^\d+$/.test(k)), []);
    }
  });
});

test('an MO from stdin arrives as deliver_sm', { timeout: 20000 }, async () => {
  await withSim([], async (sim, clients) => {
    // Sent before anyone can receive it: it waits in the queue.
    sim.command('mo 447700900123 12345 Hello from the handset');
    await statsWhen(sim, (st) => st.queued === 1, 'the MO in the queue');
    const rx = await bind(sim, clients, 'receiver');
    const [mo] = await delivered(rx, 1);
    assert.strictEqual(mo.esm_class, 0x00);
    assert.strictEqual(mo.source_addr, '447700900123');
    assert.strictEqual(mo.destination_addr, '12345');
    assert.strictEqual(mo.short_message.message, 'Hello from the handset');

    // Longer than one message: concatenated parts with a UDH.
    const long = 'A long MO text. '.repeat(12);  // 192 characters
    sim.command(`mo 447700900123 12345 ${long}`);
    const parts = (await delivered(rx, 3)).slice(1);
    assert.ok(parts.every((p) => (p.esm_class & 0x40) === 0x40), 'UDHI set');
    assert.strictEqual(parts.map((p) => p.short_message.message).join(''), long.trimEnd());
    const stats = await sim.stats();
    assert.strictEqual(stats.mos_sent, 3);
  });
});

test('spontaneous MOs every mo_interval', { timeout: 20000 }, async () => {
  await withSim(['--mo-interval', '100ms'], async (sim, clients) => {
    const rx = await bind(sim, clients, 'receiver');
    const mos = await delivered(rx, 2, 3000);
    for (const p of mos) {
      assert.strictEqual(p.esm_class, 0x00);
      assert.match(p.short_message.message, /^Simulated MO message \d+$/);
    }
  });
});

test('query_sm and cancel_sm', { timeout: 20000 }, async () => {
  await withSim(['--receipt-delay', '400ms'], async (sim, clients) => {
    const s = await bind(sim, clients, 'transceiver');
    const submit = (text) => call(s, 'submit_sm',
      { destination_addr: '700', short_message: text, registered_delivery: 1 });
    const a = await submit('kept');
    const b = await submit('cancelled');

    let q = await call(s, 'query_sm', { message_id: a.message_id });
    assert.strictEqual(q.command_status, ESME_ROK);
    assert.strictEqual(q.message_id, a.message_id);
    assert.strictEqual(q.message_state, STATE.ENROUTE);

    const c = await call(s, 'cancel_sm', { message_id: b.message_id });
    assert.strictEqual(c.command_status, ESME_ROK);
    const again = await call(s, 'cancel_sm', { message_id: b.message_id });
    assert.strictEqual(again.command_status, ESME_RCANCELFAIL);
    q = await call(s, 'query_sm', { message_id: b.message_id });
    assert.strictEqual(q.message_state, STATE.DELETED);

    // Ids it never gave out, or gave to someone else.
    const unknown = (parseInt(b.message_id, 16) + 1000).toString(16).toUpperCase();
    assert.strictEqual((await call(s, 'query_sm', { message_id: unknown })).command_status,
      ESME_RQUERYFAIL);
    assert.strictEqual((await call(s, 'query_sm', { message_id: 'not-an-id' })).command_status,
      ESME_RQUERYFAIL);
    const stranger = await bind(sim, clients, 'transceiver', { system_id: 'stranger' });
    assert.strictEqual((await call(stranger, 'query_sm', { message_id: a.message_id }))
      .command_status, ESME_RQUERYFAIL);

    // The receipt of a; none for b. Then a is final: not cancellable any more.
    const [receipt] = await delivered(s, 1);
    assert.strictEqual(receipt.receipted_message_id, a.message_id);
    q = await call(s, 'query_sm', { message_id: a.message_id });
    assert.strictEqual(q.message_state, STATE.DELIVERED);
    assert.ok(q.final_date, 'final_date is set once final');
    assert.strictEqual((await call(s, 'cancel_sm', { message_id: a.message_id })).command_status,
      ESME_RCANCELFAIL);
    await sleep(100);
    assert.strictEqual(s.delivered.length, 1, 'no receipt for the cancelled message');
  });
});

test('replace_sm while pending changes the text of the receipt', { timeout: 20000 }, async () => {
  await withSim(['--receipt-delay', '300ms'], async (sim, clients) => {
    const s = await bind(sim, clients, 'transceiver');
    const a = await call(s, 'submit_sm',
      { destination_addr: '800', short_message: 'original', registered_delivery: 1 });
    const r = await call(s, 'replace_sm',
      { message_id: a.message_id, short_message: 'replaced', registered_delivery: 1 });
    assert.strictEqual(r.command_status, ESME_ROK);
    const [receipt] = await delivered(s, 1);
    assert.strictEqual(parseReceipt(receipt).text, 'replaced');
    const late = await call(s, 'replace_sm',
      { message_id: a.message_id, short_message: 'too late' });
    assert.strictEqual(late.command_status, ESME_RREPLACEFAIL);
  });
});

test('data_sm and submit_multi get ids and receipts', { timeout: 20000 }, async () => {
  await withSim([], async (sim, clients) => {
    const s = await bind(sim, clients, 'transceiver');
    const d = await call(s, 'data_sm', {
      source_addr: '900', destination_addr: '901', registered_delivery: 1,
      message_payload: 'data sm payload',
    });
    assert.strictEqual(d.command_status, ESME_ROK);
    assert.match(d.message_id, /^[0-9A-F]{8}$/);
    const m = await call(s, 'submit_multi', {
      source_addr: '900', registered_delivery: 1, short_message: 'to many',
      dest_address: [{ destination_addr: '911' }, { destination_addr: '912' }],
    });
    assert.strictEqual(m.command_status, ESME_ROK);
    assert.match(m.message_id, /^[0-9A-F]{8}$/);
    assert.notStrictEqual(m.message_id, d.message_id);
    const receipts = await delivered(s, 3);
    assert.strictEqual(receipts[0].receipted_message_id, d.message_id);
    assert.strictEqual(parseReceipt(receipts[0]).text, 'data sm payload');
    // One receipt per destination, each with the one id.
    assert.deepStrictEqual(receipts.slice(1).map((p) => [p.receipted_message_id, p.source_addr]),
      [[m.message_id, '911'], [m.message_id, '912']]);
  });
});

test('SIGTERM unbinds every client and exits 0', { timeout: 20000 }, async () => {
  const sim = await startSim();
  const clients = [];
  try {
    const trx = await bind(sim, clients, 'transceiver');
    const tx = await bind(sim, clients, 'transmitter');
    const { code, signal } = await sim.terminate();
    assert.strictEqual(signal, null);
    assert.strictEqual(code, 0, sim.stderr);
    assert.ok(trx.unbound, 'the transceiver got an unbind');
    assert.ok(tx.unbound, 'the transmitter got an unbind');
    await deadline(Promise.all([trx.closed, tx.closed]), 5000, 'the connections to close');
  } finally {
    sim.kill();
    clients.forEach((c) => c.destroy());
  }
});

test('invalid options are refused with exit code 2', { timeout: 20000 }, async () => {
  for (const args of [['--delivered', '80'], ['--receipt-delay', 'soon'],
    ['--throttle-rate', '60', '--error-rate', '50']]) {
    const sim = new Sim(args);
    try {
      const { code } = await deadline(sim.exited, 5000, 'smppd sim to refuse ' + args.join(' '));
      assert.strictEqual(code, 2, `${args.join(' ')}: ${sim.stderr}`);
    } finally {
      sim.kill();
    }
  }
});
