'use strict';
// `smppd upstream test NAME --config FILE`, the real binary, against an SMSC made with the npm
// package `smpp` (h.startSmsc): each step of a good host, a refused bind, a port nobody listens
// on, the --json object, and the usage errors (exit 2).
//
// Run by ctest (tests/interop/CMakeLists.txt), which passes the daemon in SMPPD.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { execFile } = require('node:child_process');
const h = require('./daemon_harness');

// Runs `smppd upstream test ...args` (asynchronously: the SMSC lives in this process) and
// resolves with { code, stdout, stderr }.
function upstreamTest(args) {
  return new Promise((resolve) => {
    execFile(h.binary, ['upstream', 'test', ...args], { timeout: 30000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? error.code : 0, stdout, stderr });
      });
  });
}

// A configuration file with `upstreams` (and the listener every configuration needs).
function configFile(upstreams) {
  const file = path.join(h.tempDir(), 'smppd.yaml');
  fs.writeFileSync(file,
    JSON.stringify({ listeners: [h.listener('smpp')], upstreams }, null, 2) + '\n');
  return file;
}

// A port on 127.0.0.1 that was free a moment ago and that nobody listens on now.
function closedPort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// The step lines of the human output: { name: { ok, ms, detail } }.
function steps(stdout) {
  const out = {};
  for (const line of stdout.split('\n')) {
    const m = /^ {2}(\w+)\s+(ok|FAILED)\s+([\d.]+) ms {2}(.*)$/.exec(line);
    if (m) out[m[1]] = { ok: m[2] === 'ok', ms: Number(m[3]), detail: m[4] };
  }
  return out;
}

const lastLine = (text) => text.trimEnd().split('\n').pop();

test('a good host: every step is timed, the SMSC sees the bind, enquire_link and unbind; exit 0', async () => {
  const smsc = await h.startSmsc();
  try {
    const file = configFile([h.upstream('carrier', [smsc],
      { bind: { system_id: 'smppd', password: 'Secr3t' } })]);
    const r = await upstreamTest(['carrier', '--config', file]);
    assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const s = steps(r.stdout);
    assert.deepStrictEqual(Object.keys(s), ['resolve', 'connect', 'bind', 'enquire_link', 'unbind'],
      r.stdout);
    for (const [name, step] of Object.entries(s)) {
      assert.ok(step.ok, `${name}: ${r.stdout}`);
      assert.ok(step.ms >= 0 && step.ms < 5000, `${name}: ${step.ms} ms`);
    }
    assert.match(s.connect.detail, new RegExp(`^127\\.0\\.0\\.1:${smsc.port}$`));
    assert.match(s.bind.detail, /sc_interface_version 0x34: SMPP 3\.4/);
    assert.match(lastLine(r.stdout), /^OK: every host of upstream carrier passed$/);
    assert.ok(!r.stdout.includes('Secr3t'), 'the password is never printed');
    await h.waitUntil(() => smsc.unbinds.length === 1, 3000, 'the unbind at the SMSC');
    assert.strictEqual(smsc.binds.length, 1);
    assert.strictEqual(smsc.binds[0].command, 'bind_transceiver');
    assert.strictEqual(smsc.binds[0].system_id, 'smppd');
    assert.strictEqual(smsc.binds[0].password, 'Secr3t');
    assert.strictEqual(smsc.enquireLinks.length, 1);
  } finally {
    smsc.close();
  }
});

test('a wrong password: the bind step fails with the status the SMSC sent; exit 1', async () => {
  const smsc = await h.startSmsc({
    onBind: (pdu) => (pdu.password === 'right' ? 0 : h.status.ESME_RINVPASWD),
  });
  try {
    const file = configFile([h.upstream('carrier', [smsc],
      { bind: { system_id: 'smppd', password: 'wrong1', type: 'transmitter' } })]);
    const r = await upstreamTest(['carrier', '-c', file]);
    assert.strictEqual(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const s = steps(r.stdout);
    assert.deepStrictEqual(Object.keys(s), ['resolve', 'connect', 'bind'], r.stdout);
    assert.strictEqual(s.bind.ok, false);
    assert.strictEqual(s.bind.detail, 'refused: ESME_RINVPASWD (0x0000000E, Invalid Password)');
    assert.strictEqual(smsc.binds[0].command, 'bind_transmitter');
    assert.match(lastLine(r.stdout), /^FAILED: 1 of 1 host of upstream carrier failed$/);
    assert.ok(!r.stdout.includes('wrong1') && !r.stderr.includes('wrong1'),
      'the password is never printed');
  } finally {
    smsc.close();
  }
});

test('a port nobody listens on: connect fails, refused; exit 1', async () => {
  const port = await closedPort();
  const file = configFile([{ name: 'carrier', hosts: [{ address: `127.0.0.1:${port}` }],
    bind: { system_id: 'smppd', password: 'pw' } }]);
  const r = await upstreamTest(['carrier', '--config', file]);
  assert.strictEqual(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const s = steps(r.stdout);
  assert.deepStrictEqual(Object.keys(s), ['resolve', 'connect'], r.stdout);
  assert.strictEqual(s.connect.detail, `127.0.0.1:${port}: Connection refused`);
  assert.match(r.stdout, /^ {2}FAILED at connect$/m);
});

test('--json: one object with every host and its steps; a good and a closed host, exit 1', async () => {
  const smsc = await h.startSmsc({ announceVersion: false });
  const port = await closedPort();
  try {
    const file = configFile([{
      name: 'carrier',
      hosts: [{ address: `127.0.0.1:${smsc.port}` }, { address: `127.0.0.1:${port}` }],
      bind: { system_id: 'smppd', password: 'pw', version: '3.4' },
    }]);
    const r = await upstreamTest(['carrier', '--config', file, '--json']);
    assert.strictEqual(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const o = JSON.parse(r.stdout);
    assert.strictEqual(o.upstream, 'carrier');
    assert.strictEqual(o.ok, false);
    assert.strictEqual(o.hosts.length, 2);
    const [good, closed] = o.hosts;
    assert.strictEqual(good.host, `127.0.0.1:${smsc.port}`);
    assert.strictEqual(good.ok, true);
    assert.deepStrictEqual(good.steps.map((s) => s.step),
      ['resolve', 'connect', 'bind', 'enquire_link', 'unbind']);
    for (const s of good.steps) assert.ok(s.ok && typeof s.ms === 'number' && s.ms >= 0);
    assert.strictEqual(good.bind_status, 'ESME_ROK');
    assert.strictEqual(good.bind_status_code, 0);
    assert.strictEqual(good.sc_interface_version, null);
    assert.strictEqual(good.version, '3.4');  // bind.version is written: kept
    assert.strictEqual(closed.ok, false);
    assert.deepStrictEqual(closed.steps.map((s) => [s.step, s.ok]),
      [['resolve', true], ['connect', false]]);
    assert.match(closed.steps[1].detail, /Connection refused/);
    assert.strictEqual(closed.bind_status, null);
    assert.strictEqual(closed.version, null);
  } finally {
    smsc.close();
  }
});

test('usage errors exit 2: an unknown upstream (the configured ones are listed), a simulator, a broken file', async () => {
  const file = configFile([
    { name: 'carrier', hosts: [{ address: '127.0.0.1:1' }], bind: { system_id: 'a' } },
    { name: 'lab', type: 'simulator' },
  ]);
  let r = await upstreamTest(['carier', '--config', file]);
  assert.strictEqual(r.code, 2);
  assert.match(r.stderr, /no upstream 'carier' in .*smppd\.yaml \(did you mean 'carrier'\?\); its upstreams: carrier, lab/);
  assert.strictEqual(r.stdout, '');

  r = await upstreamTest(['lab', '--config', file]);
  assert.strictEqual(r.code, 2);
  assert.match(r.stderr, /upstream 'lab' is of type simulator: .* no hosts/);

  r = await upstreamTest(['carrier', '--config', file, '--timeout', 'soon']);
  assert.strictEqual(r.code, 2);
  assert.match(r.stderr, /--timeout: /);

  const broken = path.join(h.tempDir(), 'broken.yaml');
  fs.writeFileSync(broken, 'listeners:\n  - address: 127.0.0.1:0\nupstreams:\n  - name: carrier\n' +
    '    hostz: []\n');
  r = await upstreamTest(['carrier', '--config', broken]);
  assert.strictEqual(r.code, 2);
  assert.match(r.stderr, /broken\.yaml:5:5: error: unknown key 'hostz'/);
});
