// The message path end to end: the npm `smpp` package as the client (ESME) and as the SMSC,
// smppd in between. Each test starts its own SMSC(s) and smppd on loopback port 0.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./daemon_harness');

const { smpp, status: st, waitUntil, receipts, startSmsc, upstream, upstreamsBound } = h;
const alice = { system_id: 'alice', password: 'secret1' };

function config(upstreams, extra = {}) {
  return {
    listeners: [h.listener('smpp')],
    clients: [alice],
    upstreams,
    routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: upstreams[0].name }],
    mo_routes: [{ name: 'shortcode', match: { destination_addr: '12345' }, client: 'alice' }],
    ...extra,
  };
}

// A session bound with its deliver_sm handler in place before the bind: what waits for the
// client is sent right after the bind response, possibly in the same read.
async function boundReceiving(port, bind, id = alice.system_id, password = alice.password) {
  const session = await h.connect(port);
  const got = receipts(session);
  const resp = await h.request(session, bind, { system_id: id, password });
  assert.strictEqual(resp.command_status, 0);
  return { session, got };
}

// One SMSC (startSmsc options), smppd with it as the upstream `carrier` and the default routes,
// once that upstream is bound.
async function withCarrier(smscOptions, body) {
  const smsc = await startSmsc(smscOptions);
  try {
    await h.withSmppd(config([upstream('carrier', [smsc])]), async (d) => {
      await upstreamsBound(d);
      await body(d, smsc);
    });
  } finally {
    smsc.close();
  }
}

test('a submit reaches the SMSC as sent; the client gets smppd\'s id and the receipt with it', async () => {
  await withCarrier({}, async (d, smsc) => {
    const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
    const got = receipts(s);
    const resp = await h.request(s, 'submit_sm', {
      source_addr: 'ACME', destination_addr: '258841234567', dest_addr_ton: 1,
      short_message: 'hello', registered_delivery: 1,
    });
    assert.strictEqual(resp.command_status, 0);
    assert.match(resp.message_id, /^[0-9a-f]{12}$/);
    assert.strictEqual(smsc.received.length, 1);
    const sent = smsc.received[0];
    assert.strictEqual(sent.destination_addr, '258841234567');
    assert.strictEqual(sent.dest_addr_ton, 1);
    assert.strictEqual(sent.source_addr, 'ACME');
    assert.strictEqual(sent.short_message.message.toString(), 'hello');
    await waitUntil(() => got.length === 1, 3000, 'the receipt');
    const text = got[0].short_message.message.toString();
    assert.match(text, new RegExp(`^id:${resp.message_id} `), text);
    assert.ok(!text.includes('id:1000 '), 'the SMSC id must be replaced');
    s.destroy();
  });
});

test('an SMSC error status is passed back to the client', async () => {
  const smsc = await startSmsc({ onSubmit: (pdu) =>
    (pdu.destination_addr === '999' ? { status: st.ESME_RINVDSTADR } : {}) });
  try {
    await h.withSmppd(config([upstream('carrier', [smsc])]), async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const bad = await h.request(s, 'submit_sm', { destination_addr: '999', short_message: 'x' });
      assert.strictEqual(bad.command_status, st.ESME_RINVDSTADR);
      const good = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'x' });
      assert.strictEqual(good.command_status, 0);
      // Both reached the SMSC: the refusal is the SMSC's, not smppd's own.
      assert.deepStrictEqual(smsc.received.map((pdu) => pdu.destination_addr), ['999', '1']);
      s.destroy();
    });
  } finally {
    smsc.close();
  }
});

test('no matching route is ESME_RINVDSTADR and nothing reaches the SMSC', async () => {
  const smsc = await startSmsc();
  try {
    const cfg = config([upstream('carrier', [smsc])]);
    cfg.routes = [{ name: 'mz', match: { destination_addr: '+258*' }, upstream: 'carrier' }];
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const r = await h.request(s, 'submit_sm', { destination_addr: '4477001', short_message: 'x' });
      assert.strictEqual(r.command_status, st.ESME_RINVDSTADR);
      // A '+' pattern matches an international number sent without '+'.
      const ok = await h.request(s, 'submit_sm',
        { destination_addr: '258841234567', dest_addr_ton: 1, short_message: 'x' });
      assert.strictEqual(ok.command_status, 0);
      assert.strictEqual(smsc.received.length, 1);
      s.destroy();
    });
  } finally {
    smsc.close();
  }
});

test('a receipt waits for a client that binds a receiver later', async () => {
  await withCarrier({ receiptDelay: 10 }, async (d, smsc) => {
    const tx = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
    const resp = await h.request(tx, 'submit_sm',
      { destination_addr: '1', short_message: 'x', registered_delivery: 1 });
    assert.strictEqual(resp.command_status, 0);
    // The receipt reached smppd, and smppd took it (ESME_ROK), while no receiver was bound.
    await waitUntil(() => smsc.receiptAnswers.length === 1, 3000, 'smppd to take the receipt');
    assert.deepStrictEqual(smsc.receiptAnswers, [0]);
    const { session: rx, got } = await boundReceiving(d.ports.smpp, 'bind_receiver');
    await waitUntil(() => got.length === 1, 3000, 'the held receipt');
    assert.match(got[0].short_message.message.toString(), new RegExp(`id:${resp.message_id} `));
    tx.destroy();
    rx.destroy();
  });
});

test('receipts match when the SMSC gives hex in the response and decimal in the receipt', async () => {
  await withCarrier({ onSubmit: () => ({ id: '0A1B2C3D' }), hexReceiptIds: true }, async (d, smsc) => {
    const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
    const got = receipts(s);
    const resp = await h.request(s, 'submit_sm',
      { destination_addr: '1', short_message: 'x', registered_delivery: 1 });
    await waitUntil(() => got.length === 1, 3000, 'the receipt');
    assert.match(got[0].short_message.message.toString(), new RegExp(`id:${resp.message_id} `));
    s.destroy();
  });
});

test('an MO reaches the client named by mo_routes', async () => {
  await withCarrier({}, async (d, smsc) => {
    const s = await h.bound(d.ports.smpp, 'bind_receiver', alice.system_id, alice.password);
    const got = receipts(s);
    smsc.mo({ source_addr: '258841234567', destination_addr: '12345', short_message: 'STOP' });
    await waitUntil(() => got.length === 1, 3000, 'the MO');
    assert.strictEqual(got[0].short_message.message.toString(), 'STOP');
    assert.strictEqual(got[0].source_addr, '258841234567');
    s.destroy();
  });
});

test('a 3.3 client gets an 8-character id', async () => {
  await withCarrier({}, async (d, smsc) => {
    const s = await h.connect(d.ports.smpp);
    const b = await h.request(s, 'bind_transmitter', { ...alice, interface_version: 0x33 });
    assert.strictEqual(b.command_status, 0);
    const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'x' });
    assert.strictEqual(r.command_status, 0);
    // smppd's id in its 3.3 form: 8 base-62 characters (message_ids.hpp).
    assert.match(r.message_id, /^[0-9A-Za-z]{8}$/);
    s.destroy();
  });
});

test('a long message keeps its UDH byte for byte', async () => {
  await withCarrier({}, async (d, smsc) => {
    const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
    const udh = Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01]);
    const r = await h.request(s, 'submit_sm', {
      destination_addr: '1', esm_class: 0x40,
      short_message: { udh, message: 'part one' },
    });
    assert.strictEqual(r.command_status, 0);
    const sent = smsc.received[0];
    assert.strictEqual(sent.esm_class & 0x40, 0x40);
    // npm smpp decodes the UDH into its elements (without the length octet).
    assert.deepStrictEqual(Buffer.from(sent.short_message.udh[0]), udh.subarray(1));
    assert.strictEqual(sent.short_message.message.toString(), 'part one');
    s.destroy();
  });
});

test('a long message in SAR TLVs keeps them, and its parts share one connection', async () => {
  // Three connections of window 1 to an SMSC that holds its answers: once the first part is
  // out, its connection is busy, so the other parts (sent without waiting) could only stay on
  // it by waiting for it; without the sticky key they would take the two free connections.
  const smsc = await startSmsc({ hold: true });
  try {
    const up = upstream('carrier', [smsc],
      { pool: { min_connections: 3, max_connections: 3 }, window: { size: 1 } });
    await h.withSmppd(config([up]), async (d) => {
      await upstreamsBound(d, 3);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const part = (n) => h.request(s, 'submit_sm', {
        destination_addr: '1', short_message: `part ${n}`,
        sar_msg_ref_num: 0x1234, sar_total_segments: 3, sar_segment_seqnum: n,
      });
      const answers = [part(1), part(2), part(3),
        h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'other' })];
      // The other message goes on another connection past the parts that wait for theirs.
      await waitUntil(() => smsc.received.length >= 2, 3000, 'two submits at the SMSC');
      await h.sleep(100);  // nothing else is on its way
      assert.deepStrictEqual(smsc.received.map((pdu) => pdu.short_message.message.toString()),
        ['part 1', 'other'], 'parts 2 and 3 wait for the connection of part 1');
      assert.notStrictEqual(smsc.received[1].via, smsc.received[0].via);
      smsc.release();
      for (const r of await Promise.all(answers)) assert.strictEqual(r.command_status, 0);
      const parts = smsc.received.filter((pdu) => pdu.sar_msg_ref_num === 0x1234);
      assert.strictEqual(parts.length, 3);
      parts.forEach((pdu, i) => {
        assert.strictEqual(pdu.sar_total_segments, 3);
        assert.strictEqual(pdu.sar_segment_seqnum, i + 1);
      });
      // All three parts came over one of the three upstream connections.
      assert.strictEqual(new Set(parts.map((pdu) => pdu.via)).size, 1);
      s.destroy();
    });
  } finally {
    smsc.close();
  }
});

test('throttling from the SMSC is honoured without loss or duplicates', async () => {
  let throttles = 3;
  const smsc = await startSmsc({ onSubmit: () =>
    (throttles-- > 0 ? { status: st.ESME_RTHROTTLED } : {}) });
  try {
    await h.withSmppd(config([upstream('carrier', [smsc])]), async (d) => {
      await upstreamsBound(d);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'once' });
      assert.strictEqual(r.command_status, 0);
      // Three throttled attempts and one accepted: exactly one accepted copy.
      assert.strictEqual(smsc.received.length, 4);
      s.destroy();
    });
  } finally {
    smsc.close();
  }
});

test('a priority-2 host takes traffic only while the priority-1 host is down', async () => {
  const primary = await startSmsc();
  const backup = await startSmsc();
  primary.host = { priority: 1 };
  backup.host = { priority: 2 };
  try {
    await h.withSmppd(config([upstream('carrier', [primary, backup])]), async (d) => {
      await upstreamsBound(d, 2);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      for (let i = 0; i < 5; i++) {
        assert.strictEqual((await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'p' })).command_status, 0);
      }
      assert.strictEqual(primary.received.length, 5);
      assert.strictEqual(backup.received.length, 0);
      primary.close();  // the primary SMSC dies
      await waitUntil(() => d.grep(/upstream carrier: \S+: connection closed/).length >= 1, 5000, 'the drop');
      for (let i = 0; i < 5; i++) {
        assert.strictEqual((await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'b' })).command_status, 0);
      }
      assert.strictEqual(backup.received.length, 5);
      s.destroy();
    });
  } finally {
    backup.close();
  }
});

test('weighted hosts share the traffic by weight', async () => {
  const a = await startSmsc();
  const b = await startSmsc();
  a.host = { weight: 300 };
  b.host = { weight: 100 };
  try {
    const up = upstream('carrier', [a, b], { load_balancing: { algorithm: 'weighted_round_robin' } });
    await h.withSmppd(config([up]), async (d) => {
      await upstreamsBound(d, 2);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      for (let i = 0; i < 40; i++) {
        await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'w' });
      }
      assert.strictEqual(a.received.length, 30);
      assert.strictEqual(b.received.length, 10);
      s.destroy();
    });
  } finally {
    a.close();
    b.close();
  }
});

test('the demo configuration: a message reaches the built-in simulator and its receipt returns', async () => {
  // configs/demo.yaml as `./dev run` serves it, on a free port instead of 2775, and with the
  // simulator's receipts 50 ms late instead of 1 s, its store in a temporary folder.
  const dir = h.tempDir();
  const demo = fs.readFileSync(path.join(__dirname, '..', '..', 'configs', 'demo.yaml'), 'utf8');
  const yaml = demo.replace('address: :2775', 'address: 127.0.0.1:0')
    .replace('receipt_delay: 1s', 'receipt_delay: 50ms')
    .replace('outcomes: { delivered: 90, undeliverable: 5, expired: 5 }',
      'outcomes: { delivered: 100 }')
    .replace('path: var/messages.db', `path: ${path.join(dir, 'messages.db')}`)
    .replace('path: var/cdr', `path: ${dir}`)
    .replace('address: 127.0.0.1:9100', 'address: 127.0.0.1:0')
    .replace('address: 127.0.0.1:8081', 'address: 127.0.0.1:0');
  assert.notStrictEqual(yaml.indexOf(path.join(dir, 'messages.db')), -1, 'the demo stores');
  assert.notStrictEqual(yaml.indexOf('127.0.0.1:0'), -1, 'the demo listener is where expected');
  assert.strictEqual(yaml.indexOf('address: 127.0.0.1:9100'), -1, 'the demo metrics on a free port');
  assert.strictEqual(yaml.indexOf('address: 127.0.0.1:8081'), -1, 'the demo management API on a free port');
  await h.withSmppd(yaml, async (d) => {
    await upstreamsBound(d);
    await d.waitFor(/messages are answered once stored, then sent/);
    const s = await h.bound(d.ports.smpp, 'bind_transceiver', 'demo', 'demo');
    const got = receipts(s);
    const r = await h.request(s, 'submit_sm',
      { destination_addr: '258841234567', short_message: 'hi', registered_delivery: 1 });
    assert.strictEqual(r.command_status, 0);
    await waitUntil(() => got.length === 1, 3000, 'the receipt');
    assert.match(got[0].short_message.message.toString(), new RegExp(`id:${r.message_id} .*stat:DELIVRD`));
    // What the quick start says an operator can see.
    const status = await new Promise((resolve) => {
      require('node:child_process').execFile(h.binary,
        ['status', '--api', `http://127.0.0.1:${d.ports.management}`],
        (error, stdout) => resolve({ code: error ? error.code : 0, stdout }));
    });
    assert.strictEqual(status.code, 0);
    assert.match(status.stdout, /sessions +1 bound of 1 open; 1 of 1 clients bound/);
    s.destroy();
  }, { listeners: ['smpp', 'metrics', 'management'], dir });
});

test('a receipt that overtakes its submit_sm_resp is held until the message is known', async () => {
  await withCarrier({ receiptFirst: true }, async (d, smsc) => {
    const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
    const got = receipts(s);
    const resp = await h.request(s, 'submit_sm',
      { destination_addr: '1', short_message: 'x', registered_delivery: 1 });
    assert.strictEqual(resp.command_status, 0);
    await waitUntil(() => got.length === 1, 3000, 'the held receipt');
    assert.match(got[0].short_message.message.toString(), new RegExp(`id:${resp.message_id} `));
    assert.strictEqual(d.grep(/matches no message/).length, 0);
    // The receipt did overtake: the SMSC wrote it before the response, on the one connection.
    assert.deepStrictEqual(smsc.sent, ['deliver_sm', 'submit_sm_resp']);
    assert.deepStrictEqual(smsc.receiptAnswers, [0], 'smppd took the receipt');
    s.destroy();
  });
});

test('a route\'s failover upstream takes the traffic when its SMSC is killed', async () => {
  const main = await startSmsc();
  const spare = await startSmsc();
  try {
    const cfg = config([upstream('carrier', [main]), upstream('spare', [spare])]);
    cfg.routes = [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier',
      failover: 'spare' }];
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 2);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      assert.strictEqual((await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'a' })).command_status, 0);
      assert.strictEqual(main.received.length, 1);
      main.close();
      await waitUntil(() => d.grep(/upstream carrier: \S+: connection closed/).length >= 1, 5000, 'the drop');
      for (let i = 0; i < 3; i++) {
        assert.strictEqual((await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'b' })).command_status, 0);
      }
      assert.strictEqual(spare.received.length, 3);
      s.destroy();
    });
  } finally {
    spare.close();
  }
});

test('smppd reconnects when the SMSC comes back', async () => {
  const first = await startSmsc();
  const port = first.port;
  let second;
  try {
    await h.withSmppd(config([upstream('carrier', [first])]), async (d) => {
      await upstreamsBound(d);
      first.close();
      await waitUntil(() => d.grep(/connection closed/).length >= 1, 5000, 'the drop');
      second = await startSmsc({ port });
      await waitUntil(() => d.grep(/upstream carrier: \S+: bound/).length >= 2, 10000, 'the rebind');
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const r = await h.request(s, 'submit_sm', { destination_addr: '1', short_message: 'again' });
      assert.strictEqual(r.command_status, 0);
      assert.strictEqual(second.received.length, 1);
      s.destroy();
    });
  } finally {
    if (second) second.close();
  }
});

test('a receipt the client refuses for now (ESME_RX_T_APPN) is offered again', async () => {
  await withCarrier({}, async (d, smsc) => {
    const s = await h.bound(d.ports.smpp, 'bind_transceiver', alice.system_id, alice.password);
    const offers = [];
    s.on('deliver_sm', (pdu) => {
      offers.push(pdu);
      // The first offer is refused as "temporary application error"; the next one taken.
      s.send(pdu.response(offers.length === 1 ? { command_status: 0x64 } : {}));
    });
    const resp = await h.request(s, 'submit_sm',
      { destination_addr: '1', short_message: 'x', registered_delivery: 1 });
    await waitUntil(() => offers.length === 2, 5000, 'the second offer');
    for (const o of offers) {
      assert.match(o.short_message.message.toString(), new RegExp(`id:${resp.message_id} `));
    }
    await h.sleep(1500);
    assert.strictEqual(offers.length, 2, 'taken once: not offered again');
    s.destroy();
  });
});

test('receipts to a client with a small window: never more in flight than its window, each once', async () => {
  const smsc = await startSmsc({ receiptDelay: 0 });
  try {
    const cfg = config([upstream('carrier', [smsc])]);
    cfg.listeners = [h.listener('smpp', { smpp: { window_size: 2 } })];
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d);
      const tx = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
      const rx = await h.connect(d.ports.smpp);
      // The receiver answers slowly and counts what it holds unanswered.
      const got = [];
      let open = 0;
      let most = 0;
      rx.on('deliver_sm', (pdu) => {
        got.push(pdu.short_message.message.toString().match(/id:(\S+) /)[1]);
        open += 1;
        most = Math.max(most, open);
        setTimeout(() => {
          open -= 1;
          rx.send(pdu.response());
        }, 20);
      });
      const bound = await h.request(rx, 'bind_receiver',
        { system_id: alice.system_id, password: alice.password });
      assert.strictEqual(bound.command_status, 0);
      // Sent without waiting: the twenty receipts come about at once, more than the window.
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        h.request(tx, 'submit_sm',
          { destination_addr: '1', short_message: `m${i}`, registered_delivery: 1 })));
      const ids = responses.map((resp) => {
        assert.strictEqual(resp.command_status, 0);
        return resp.message_id;
      });
      await waitUntil(() => got.length >= 20, 5000, 'twenty receipts');
      await h.sleep(300);
      assert.strictEqual(got.length, 20, 'no receipt offered twice');
      assert.deepStrictEqual([...got].sort(), [...ids].sort());
      assert.ok(most <= 2, `at most the window in flight (saw ${most})`);
      // The window was filled: smppd had more to send than it let out.
      assert.strictEqual(most, 2, 'the window was never full: the test proves nothing');
      tx.destroy();
      rx.destroy();
    });
  } finally {
    smsc.close();
  }
});

test('a receiver that drops with a receipt unanswered: smppd goes on, and another receiver gets it', async () => {
  await withCarrier({ receiptDelay: 0 }, async (d, smsc) => {
    const tx = await h.bound(d.ports.smpp, 'bind_transmitter', alice.system_id, alice.password);
    // The first receiver takes deliveries and never answers them.
    const mute = await h.connect(d.ports.smpp);
    const heldByMute = [];
    mute.on('deliver_sm', (pdu) => heldByMute.push(pdu));
    const b1 = await h.request(mute, 'bind_receiver',
      { system_id: alice.system_id, password: alice.password });
    assert.strictEqual(b1.command_status, 0);
    const resp = await h.request(tx, 'submit_sm',
      { destination_addr: '1', short_message: 'x', registered_delivery: 1 });
    assert.strictEqual(resp.command_status, 0);
    await waitUntil(() => heldByMute.length === 1, 3000, 'the receipt at the mute receiver');
    // A second receiver binds; then the first one's connection drops with the receipt unanswered.
    const { session: rx, got } = await boundReceiving(d.ports.smpp, 'bind_receiver');
    mute.destroy();
    await waitUntil(() => got.length === 1, 3000, 'the receipt at the second receiver');
    assert.match(got[0].short_message.message.toString(), new RegExp(`id:${resp.message_id} `));
    // smppd is still there and serving.
    const again = await h.request(tx, 'submit_sm', { destination_addr: '1', short_message: 'y' });
    assert.strictEqual(again.command_status, 0);
    tx.destroy();
    rx.destroy();
  });
});
