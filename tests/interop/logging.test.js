// The log as an operator reads it: JSON lines in a file that rotates by size and keeps
// max_files; a peer that repeats an error gets a count, not a line each; no password or token
// ever written.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./daemon_harness');

const { waitUntil, startSmsc, upstream, upstreamsBound } = h;

test('a JSON log file rotates by size, keeps max_files, never holds a secret, and counts repeats', async () => {
  const smsc = await startSmsc();
  const dir = h.tempDir();
  const logDir = path.join(dir, 'log');
  fs.mkdirSync(logDir);
  const logFile = path.join(logDir, 'smppd.log');
  const secrets = ['Alic3-Pw', 'Gu3ss-99', 'Ops-Secret-7', 'Smsc-P42'];
  try {
    const cfg = {
      listeners: [h.listener('smpp')],
      upstreams: [{ ...upstream('carrier', [smsc]), bind: { system_id: 'smppd', password: secrets[3] } }],
      routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
      clients: [{ system_id: 'alice', password: secrets[0] }],
      management: { address: '127.0.0.1:0', auth: { type: 'basic', username: 'ops', password: secrets[2] } },
      logging: { level: 'debug', format: 'json', output: 'file',
        file: { path: logFile, rotation: { size: '16KB', max_files: 2 } } },
    };
    // The harness reads listening lines from the output: with a log file, read them from it.
    const d = await startWithFileLog(cfg, dir, logFile);
    try {
      await waitUntil(() => fs.readFileSync(logFile, 'utf8').includes('upstream carrier:'), 5000, 'the upstream bind in the log');
      const a = await h.bound(d.port, 'bind_transceiver', 'alice', secrets[0]);
      // Enough lines to rotate several times: sessions that bind, send and leave.
      for (let round = 0; round < 150; round++) {
        const c = await h.bound(d.port, 'bind_transmitter', 'alice', secrets[0]);
        await h.request(c, 'submit_sm', { destination_addr: `4${round}`, short_message: 'x' });
        c.destroy();
      }
      // A peer guessing a password, again and again.
      for (let i = 0; i < 6; i++) {
        const s = await h.connect(d.port);
        await h.request(s, 'bind_transceiver', { system_id: 'alice', password: secrets[1] }, 15000);
        s.destroy();
      }
      a.destroy();
      await h.sleep(1200);  // the aggregated counts are written every second
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
    const files = fs.readdirSync(logDir).sort();
    assert.deepStrictEqual(files, ['smppd.1.log', 'smppd.2.log', 'smppd.log'], 'rotated, at most max_files kept');
    let all = '';
    for (const f of files) {
      const text = fs.readFileSync(path.join(logDir, f), 'utf8');
      assert.ok(Buffer.byteLength(text) <= 16 * 1024 + 4096, `${f} is ${Buffer.byteLength(text)} bytes`);
      for (const line of text.split('\n').filter(Boolean)) {
        const j = JSON.parse(line);
        assert.deepStrictEqual(Object.keys(j), ['time', 'level', 'msg']);
        assert.match(j.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      }
      all += text;
    }
    for (const secret of secrets) assert.ok(!all.includes(secret), `the log holds ${secret}`);
    // The repeated wrong password: a few lines, then a count.
    const refused = all.split('\n').filter((l) => /bind_transceiver as 'alice' refused: wrong_password/.test(l));
    assert.ok(refused.length >= 1 && refused.length < 6, `${refused.length} lines for 6 refusals`);
    assert.match(all, /more .*not logged one by one|and \d+ more/);
  } finally {
    smsc.close();
  }
});

async function startWithFileLog(cfg, dir, logFile) {
  const { spawn } = require('node:child_process');
  const file = path.join(dir, 'smppd.yaml');
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  const child = spawn(h.binary, ['--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => { output += c; });
  child.stderr.on('data', (c) => { output += c; });
  const d = { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  await waitUntil(() => fs.existsSync(logFile) && /smppd running/.test(fs.readFileSync(logFile, 'utf8')), 10000, 'smppd to start').catch((e) => { throw new Error(`${e.message}: ${output}`); });
  const m = /listener smpp listening on 127\.0\.0\.1:(\d+)/.exec(fs.readFileSync(logFile, 'utf8'));
  d.port = Number(m[1]);
  return d;
}

test('lines about a message name its client, its upstream and the id the client was given', async () => {
  // The SMSC refuses one stored message for good; the client refuses a receipt; a message to a
  // slow SMSC times out.
  const smsc = await startSmsc({
    receiptDelay: 10,
    onSubmit: (pdu) => (pdu.destination_addr === '666' ? { status: 0x45 } : {}),
  });
  const slow = await startSmsc({ hold: true });
  const dir = h.tempDir();
  try {
    const cfg = {
      listeners: [h.listener('smpp')],
      upstreams: [upstream('carrier', [smsc]),
        { ...upstream('slowpoke', [slow]), timeouts: { response: '300ms' } }],
      routes: [{ name: 'slow', match: { destination_addr: '777' }, upstream: 'slowpoke' },
        { name: 'all', match: { destination_addr: '*' }, upstream: 'carrier' }],
      clients: [{ system_id: 'alice', password: 'alice-pw' }],
    };
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 2);
      const a = await h.bound(d.port, 'bind_transceiver', 'alice', 'alice-pw');
      // The receipt for this one is refused by the client for good (ESME_RX_P_APPN).
      a.on('deliver_sm', (pdu) => a.send(pdu.response({ command_status: 0x65 })));
      const r = await h.request(a, 'submit_sm', { destination_addr: '123', short_message: 'x', registered_delivery: 1 });
      const given = r.message_id;
      const refused = await d.waitFor(/client alice: receipt for message \S+ refused with/);
      assert.ok(refused.includes(`receipt for message ${given} refused with ESME_RX_P_APPN`), refused);
      // No response from slowpoke: the line names the upstream, its host and the client.
      await h.request(a, 'submit_sm', { destination_addr: '777', short_message: 'y' });
      const unknown = await d.waitFor(/no response for message/);
      assert.match(unknown, /upstream slowpoke \(127\.0\.0\.1:\d+\): no response for message [0-9a-f]{12} of alice/);
      a.destroy();
    });

    // With storage: a stored message refused by the SMSC after the client was answered.
    cfg.storage = { sqlite: { path: path.join(dir, 'messages.db') } };
    await h.withSmppd(cfg, async (d) => {
      await upstreamsBound(d, 2);
      const a = await h.bound(d.port, 'bind_transmitter', 'alice', 'alice-pw');
      const r = await h.request(a, 'submit_sm', { destination_addr: '666', short_message: 'z' });
      const line = await d.waitFor(/stored message \S+ of alice refused/);
      assert.ok(line.includes(`upstream carrier (127.0.0.1:${smsc.port}): stored message ${r.message_id} of alice refused: ESME_RSUBMITFAIL`), line);
      a.destroy();
    }, { dir });
  } finally {
    smsc.close();
    slow.close();
  }
});
