'use strict';
// What the daemon tests share: start an smppd child with a generated configuration, read its
// log, stop it; drive it with the npm package `smpp` (an independent ESME) or with raw bytes
// over a `net` socket; generate TLS certificates with the openssl CLI.
//
// Only plain Node APIs (Debian 12's Node 18 must run it).

const assert = require('node:assert');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const smpp = require('smpp');

const binary = process.env.SMPPD ||
  path.join(__dirname, '..', '..', 'build', 'debug', 'src', 'cli', 'smppd');

// ---- time ----

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => Number(process.hrtime.bigint() / 1000000n);

// Rejects with `what` when `promise` has not settled within `ms`.
function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- the daemon ----

// Temporary directories, removed when the test process exits.
const tempDirs = [];
process.on('exit', () => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smppd-it-'));
  tempDirs.push(dir);
  return dir;
}

// A listener with the defaults the tests build on: loopback, port 0, short timeouts.
function listener(name, extra = {}) {
  return { name, type: 'smpp', address: '127.0.0.1:0', ...extra };
}

// Daemons still running when the test process exits (a test that threw) are killed.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

const LISTEN_RE = /listener (\S+) listening on (\[[^\]]+\]|[^\s:]+):(\d+)/;

// Starts smppd with `config` (an object, written as JSON, which is YAML; or YAML text as it is,
// with `listeners` naming its listeners) and waits until every listener logs its address.
// Returns a handle: ports by listener name, the log, stop().
async function startSmppd(config, { dir = tempDir(), listeners } = {}) {
  const file = path.join(dir, 'smppd.yaml');
  fs.writeFileSync(file,
    typeof config === 'string' ? config : JSON.stringify(config, null, 2) + '\n');
  const child = spawn(binary, ['--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const d = new Daemon(child, dir);
  const names = listeners || (config.listeners || []).map((l) => l.name);
  try {
    await within(10000, d.waitFor(/smppd running/), 'smppd to start');
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${e.message}\n--- smppd log ---\n${d.text()}`);
  }
  for (const name of names) {
    const line = d.lines.find((l) => { const m = LISTEN_RE.exec(l); return m && m[1] === name; });
    assert.ok(line, `no 'listening' line for listener ${name}:\n${d.text()}`);
    const m = LISTEN_RE.exec(line);
    d.ports[name] = Number(m[3]);
    d.hosts[name] = m[2].replace(/^\[|\]$/g, '');
  }
  return d;
}

class Daemon {
  constructor(child, dir) {
    this.child = child;
    this.dir = dir;
    this.lines = [];
    this.ports = {};
    this.hosts = {};
    this.waiters = [];
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        pending += chunk;
        const parts = pending.split('\n');
        pending = parts.pop();
        for (const line of parts) this.addLine(line);
      });
    }
  }

  addLine(line) {
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.re.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  get port() {
    return Object.values(this.ports)[0];
  }

  text() {
    return this.lines.join('\n');
  }

  // The first log line (past or future) matching `re`.
  waitFor(re, ms = 5000) {
    const seen = this.lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return within(ms, new Promise((resolve) => this.waiters.push({ re, resolve })),
      `a log line matching ${re}\n--- smppd log ---\n${this.text()}`);
  }

  // Log lines matching `re`.
  grep(re) {
    return this.lines.filter((l) => re.test(l));
  }

  // SIGTERM, then the exit. Returns { code, signal, ms, counters }. Kills with SIGKILL when it
  // has not exited within `ms` and fails.
  async stop(ms = 15000) {
    const started = now();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    let result;
    try {
      result = await within(ms, this.exited, 'smppd to exit after SIGTERM');
    } catch (e) {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`${e.message}\n--- smppd log ---\n${this.text()}`);
    }
    await sleep(20);  // the last lines of the pipes
    if (process.env.SMPPD_IT_LOG) process.stderr.write(`--- smppd log ---\n${this.text()}\n`);
    return { ...result, ms: now() - started, counters: this.counters() };
  }

  // Stops and asserts a clean exit (code 0).
  async stopClean(ms) {
    const r = await this.stop(ms);
    assert.strictEqual(r.code, 0, `smppd exit code ${r.code} (signal ${r.signal})\n${this.text()}`);
    return r;
  }

  // `counter NAME{labels} VALUE` lines logged at exit, as { 'NAME{labels}': VALUE }.
  counters() {
    const out = {};
    for (const line of this.lines) {
      const m = /counter (\S+) (\d+)\s*$/.exec(line);
      if (m) out[m[1]] = Number(m[2]);
    }
    return out;
  }

  kill() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

// Runs `body(daemon)` against an smppd started with `config`; the daemon is stopped afterwards
// and must exit with code 0. If the body fails, the daemon is killed and its log is added to the
// error.
async function withSmppd(config, body, options = {}) {
  const d = await startSmppd(config, options);
  try {
    await body(d);
  } catch (e) {
    d.kill();
    await d.exited;
    if (e instanceof Error) e.message += `\n--- smppd log ---\n${d.text()}`;
    throw e;
  }
  await d.stopClean();
}

// ---- the npm smpp ESME ----

// Connects with the npm package; resolves with the session once connected (after the TLS
// handshake for ssmpp). Errors after that are kept in session.errors rather than thrown.
function connect(port, options = {}) {
  const host = options.host || '127.0.0.1';
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const url = `${options.tls ? 'ssmpp' : 'smpp'}://${bracketed}:${port}`;
  const { tls: _tls, host: _host, ...rest } = options;
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ url, ...rest });
    session.errors = [];
    let connected = false;
    session.on('error', (e) => {
      session.errors.push(e);
      if (!connected) reject(e);
    });
    session.closedPromise = new Promise((r) => session.on('close', r));
    session.on(options.tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      resolve(session);
    });
  });
}

// Sends a request and resolves with its response PDU.
function request(session, command, params = {}, ms = 5000) {
  return within(ms, new Promise((resolve, reject) => {
    const sent = session[command](params, resolve, undefined, (pdu, err) => {
      reject(err || new Error(`${command} could not be sent`));
    });
    if (!sent) reject(new Error(`${command}: socket not writable`));
  }), `the response to ${command}`);
}

function closed(session, ms = 3000) {
  return within(ms, session.closedPromise, 'the connection to close');
}

// A session bound with `bind` ('bind_transceiver', ...) as system_id / password.
async function bound(port, bind, system_id, password, options = {}) {
  const session = await connect(port, options);
  const resp = await request(session, bind, { system_id, password });
  assert.strictEqual(resp.command_status, 0,
    `${bind} as ${system_id}: status ${resp.command_status}`);
  return session;
}

// The command_status of a bind on a new connection (closed afterwards).
async function bindStatus(port, bind, system_id, password) {
  const s = await connect(port);
  const r = await request(s, bind, { system_id, password }, 10000);
  s.destroy();
  return r.command_status;
}

// The value of the first line of smppd's /metrics (on the `metrics` listener) matching `re` (its
// group 1), 0 when none does.
async function metricValue(d, re) {
  const r = await httpCall(d.ports.metrics, '/metrics');
  const m = re.exec(r.text);
  return m ? Number(m[1]) : 0;
}

// ---- raw bytes ----

function header(commandLength, commandId, status, seq) {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(commandLength, 0);
  b.writeUInt32BE(commandId >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(seq >>> 0, 12);
  return b;
}

// The bytes of a PDU built with the npm package.
function pduBytes(command, params = {}, seq = 1) {
  return new smpp.PDU(command, { sequence_number: seq, ...params }).toBuffer();
}

// A plain socket that frames what it receives into PDU headers { length, id, status, seq, body }.
class RawClient {
  static connect(port, { host = '127.0.0.1', localAddress } = {}) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, localAddress });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.pdus = [];
    this.waiters = [];
    this.isClosed = false;
    this.errors = [];
    this.closedPromise = new Promise((resolve) => socket.on('close', () => {
      this.isClosed = true;
      resolve();
      this.wake();
    }));
    socket.on('error', (e) => this.errors.push(e));
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 16) {
        const length = this.buffer.readUInt32BE(0);
        if (length < 16 || this.buffer.length < length) break;
        this.pdus.push({
          length,
          id: this.buffer.readUInt32BE(4),
          status: this.buffer.readUInt32BE(8),
          seq: this.buffer.readUInt32BE(12),
          body: this.buffer.subarray(16, length),
        });
        this.buffer = this.buffer.subarray(length);
      }
      this.wake();
    });
  }

  wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  write(bytes) {
    this.socket.write(bytes);
  }

  // The next PDU received; rejects if none arrives within `ms` or the connection closes first.
  async next(ms = 3000) {
    const deadline = now() + ms;
    for (;;) {
      if (this.pdus.length > 0) return this.pdus.shift();
      if (this.isClosed) throw new Error('connection closed before a PDU arrived');
      const left = deadline - now();
      if (left <= 0) throw new Error(`no PDU within ${ms} ms`);
      let timer;
      await new Promise((resolve) => {
        this.waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  closed(ms = 3000) {
    return within(ms, this.closedPromise, 'the raw connection to close');
  }

  destroy() {
    this.socket.destroy();
  }
}

// ---- TLS material ----

// A CA, a server certificate for localhost / 127.0.0.1 / ::1 and a client certificate, all
// signed by the CA, plus a client certificate from another CA. Paths in the returned object.
function makeCertificates(dir = tempDir()) {
  const p = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ca = (name) => {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`),
      '-out', p(`${name}.crt`), '-days', '2', '-subj', `/CN=smppd test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  };
  const leaf = (name, issuer, cn, ext) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`),
      '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`);
    fs.writeFileSync(p(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${issuer}.crt`),
      '-CAkey', p(`${issuer}.key`), '-CAcreateserial', '-out', p(`${name}.crt`), '-days', '2',
      '-extfile', p(`${name}.ext`));
  };
  ca('ca');
  ca('other-ca');
  leaf('server', 'ca', 'localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'ca', 'esme-client', 'extendedKeyUsage=clientAuth\n');
  leaf('stranger', 'other-ca', 'esme-stranger', 'extendedKeyUsage=clientAuth\n');
  const files = {};
  for (const name of ['ca', 'server', 'client', 'stranger']) {
    files[name] = { cert: p(`${name}.crt`), key: p(`${name}.key`) };
  }
  return files;
}

// ---- the machine ----

// Whether ::1 can be listened on and connected to here.
function hasIpv6Loopback() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

// Whether 127.0.0.2 can be used as a local address (Linux routes all of 127/8 to lo).
function hasSecondLoopbackAddress() {
  return new Promise((resolve) => {
    const server = net.createServer((s) => s.destroy());
    server.listen(0, '127.0.0.1', () => {
      const socket = net.connect({ port: server.address().port, host: '127.0.0.1',
        localAddress: '127.0.0.2' });
      socket.once('connect', () => { socket.destroy(); server.close(() => resolve(true)); });
      socket.once('error', () => server.close(() => resolve(false)));
    });
  });
}

// SMPP command ids and statuses the tests assert (numbers, so a failure prints them).
const ids = {
  generic_nack: 0x80000000,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
  bind_transceiver_resp: 0x80000009,
  submit_sm_resp: 0x80000004,
  unbind_resp: 0x80000006,
};
// Polls `pred` every 10 ms until it holds; throws after `ms`, naming `what`.
// `pred` may be async (it is awaited).
async function waitUntil(pred, ms = 5000, what = 'condition') {
  const until = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// ---- what the kernel holds ----

// The queues of the established TCP connections of this machine (/proc/net/tcp and tcp6), by
// 'localPort>remotePort': { tx: written and not yet acknowledged by the peer, rx: arrived and not
// yet read by the socket's owner }.
function tcpQueues() {
  const out = {};
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5 || f[3] !== '01') continue;  // ESTABLISHED
      const port = (address) => parseInt(address.split(':').pop(), 16);
      const [tx, rx] = f[4].split(':').map((x) => parseInt(x, 16));
      out[`${port(f[1])}>${port(f[2])}`] = { tx, rx };
    }
  }
  return out;
}

// Resolves once everything written on the loopback `socket` has been read by the process at its
// other end: nothing left in node's buffer, nothing unacknowledged by the peer's kernel, nothing
// unread in the peer's socket. A test knows then that smppd has read those bytes (not merely
// that time has passed) before it writes the next ones or signals smppd.
async function peerHasRead(socket, ms = 5000) {
  await waitUntil(() => {
    if (socket.writableLength > 0) return false;
    const queues = tcpQueues();
    const ours = queues[`${socket.localPort}>${socket.remotePort}`];
    const theirs = queues[`${socket.remotePort}>${socket.localPort}`];
    return ours !== undefined && theirs !== undefined && ours.tx === 0 && theirs.rx === 0;
  }, ms, `the peer to read what was written from port ${socket.localPort}`);
}

// Collects the deliver_sm a session receives, answering each with ESME_ROK.
function receipts(session) {
  const got = [];
  session.on('deliver_sm', (pdu) => {
    got.push(pdu);
    session.send(pdu.response());
  });
  return got;
}

// An SMSC made with the npm package. `onSubmit(pdu)` may return { status } to refuse, or
// { id } to choose the message id. Receipts follow accepted submits that ask for one.
// With `hold`, submit_sm are taken but not answered until `smsc.release()` (which answers those
// held and stops holding): a client's requests then stay in flight for as long as a test needs.
// `receiptsSent` counts the receipts sent, `receiptAnswers` the command_status of each
// deliver_sm_resp smppd gave them; `answered` the submit_sm accepted so far; `unbinds` each
// unbind received: { via: its session's index, answered: `answered` at that moment }; `sent` the
// submit_sm_resp ('submit_sm_resp') and receipts ('deliver_sm') it wrote, in the order written.
// `answerDelay` (ms): each submit_sm is answered that long after it arrives. With
// `announceVersion: false` the bind_resp carries no sc_interface_version (as many SMSCs send it,
// the npm package's own server among them). `onBind(pdu)` may return a command_status to refuse
// the bind with (a bind_resp without body, as 3.4 §4.1 has it). `binds` and `enquireLinks` hold
// the bind PDUs and the enquire_link PDUs received.
function startSmsc({ onSubmit, onBind, receiptDelay = 20, hexReceiptIds = false, port = 0,
  receiptFirst = false, hold = false, answerDelay = 0, announceVersion = true } = {}) {
  const smsc = { received: [], sessions: [], nextId: 1000, held: [], holding: hold,
    receiptsSent: 0, receiptAnswers: [], answered: 0, unbinds: [], sent: [], binds: [],
    enquireLinks: [] };
  smsc.release = () => {
    smsc.holding = false;
    for (const answer of smsc.held.splice(0)) answer();
  };
  const server = smpp.createServer((session) => {
    smsc.sessions.push(session);
    session.on('error', () => {});
    for (const bind of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
      session.on(bind, (pdu) => {
        smsc.binds.push(pdu);
        const refusal = onBind ? onBind(pdu) : 0;
        if (refusal) {
          session.send(pdu.response({ command_status: refusal }));
          return;
        }
        session.send(pdu.response(announceVersion ? { sc_interface_version: 0x34 } : {}));
      });
    }
    session.on('enquire_link', (pdu) => {
      smsc.enquireLinks.push(pdu);
      session.send(pdu.response());
    });
    session.on('unbind', (pdu) => {
      smsc.unbinds.push({ via: smsc.sessions.indexOf(session), answered: smsc.answered });
      session.send(pdu.response());
      session.close();
    });
    const sessionIndex = smsc.sessions.length - 1;
    session.on('submit_sm', (pdu) => {
      pdu.via = sessionIndex;
      smsc.received.push(pdu);
      const answer = () => {
        const r = (onSubmit && onSubmit(pdu, smsc)) || {};
        if (r.status) {
          session.send(pdu.response({ command_status: r.status }));
          return;
        }
        const id = r.id || String(smsc.nextId++);
        const respond = () => {
          smsc.answered += 1;
          smsc.sent.push('submit_sm_resp');
          session.send(pdu.response({ message_id: id }));
        };
        // receiptFirst: the receipt overtakes the response (as on a separate receiver bind).
        if (receiptFirst) setTimeout(respond, 30); else respond();
        if (pdu.registered_delivery & 1) {
          // The receipt text gives the id in decimal; the TLV (when sent) as given.
          const textId = hexReceiptIds ? parseInt(id, 16).toString(10) : id;
          setTimeout(() => {
            smsc.receiptsSent += 1;
            smsc.sent.push('deliver_sm');
            session.deliver_sm({
              source_addr: pdu.destination_addr,
              destination_addr: pdu.source_addr,
              esm_class: 4,
              short_message: `id:${textId} sub:001 dlvrd:001 submit date:2611271200 ` +
                'done date:2611271201 stat:DELIVRD err:000 text:hello',
            }, (resp) => smsc.receiptAnswers.push(resp.command_status));
          }, receiptFirst ? 0 : receiptDelay);
        }
      };
      if (smsc.holding) smsc.held.push(answer);
      else if (answerDelay > 0) setTimeout(answer, answerDelay);
      else answer();
    });
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      smsc.port = server.address().port;
      smsc.close = () => {
        for (const s of smsc.sessions) s.destroy();
        server.close();
      };
      smsc.mo = (fields) => smsc.sessions[0].deliver_sm(fields);
      resolve(smsc);
    });
  });
}

// The `upstreams` entry for the SMSCs `smscs` (startSmsc), one host each.
function upstream(name, smscs, extra = {}) {
  return {
    name,
    hosts: smscs.map((s) => ({ address: `127.0.0.1:${s.port}`, ...(s.host || {}) })),
    bind: { system_id: 'smppd', password: 'pw' },
    ...extra,
  };
}

// smppd logs "upstream NAME: HOST: bound" once a pool connection is up.
async function upstreamsBound(d, n = 1) {
  await waitUntil(() => d.grep(/upstream \S+: \S+: bound/).length >= n, 5000, 'upstream binds');
}

// The resident memory of process `pid`, in KiB.
function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

const status = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVCMDLEN: 0x02,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RSYSERR: 0x08,
  ESME_RINVDSTADR: 0x0b,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RMSGQFUL: 0x14,
  ESME_RTHROTTLED: 0x58,
};

// A local OTLP/HTTP receiver: every span POSTed to /v1/traces, flattened.
async function startCollector() {
  const collector = { spans: [], posts: 0 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      collector.posts += 1;
      assert.strictEqual(req.url, '/v1/traces');
      assert.match(req.headers['content-type'], /^application\/json/);
      const doc = JSON.parse(body);
      for (const rs of doc.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name');
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            const attrs = {};
            for (const a of s.attributes || []) attrs[a.key] = a.value.stringValue ?? a.value.intValue ?? a.value.boolValue;
            collector.spans.push({ ...s, attrs, service: service && service.value.stringValue });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  collector.port = server.address().port;
  collector.close = () => server.close();
  return collector;
}

// A local HTTP server that takes smppd's callbacks: every request recorded as { method, url,
// headers, body, at }. `answer(req, index)` says what to answer: { status, body, hang } (hang:
// never answer); 200 with an empty body by default. `port`: a fixed port (for a restart).
async function startReceiver({ answer, port = 0 } = {}) {
  const receiver = { requests: [], hung: [] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const entry = { method: req.method, url: req.url, headers: req.headers, body, at: Date.now() };
      receiver.requests.push(entry);
      const a = (answer && answer(entry, receiver.requests.length - 1)) || {};
      if (a.hang) {
        receiver.hung.push(res);
        return;
      }
      res.writeHead(a.status || 200, { 'content-type': 'text/plain' });
      res.end(a.body || '');
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.port = server.address().port;
  receiver.url = (p) => `http://127.0.0.1:${receiver.port}${p}`;
  receiver.close = () => new Promise((resolve) => {
    for (const res of receiver.hung) res.destroy();
    server.closeAllConnections();
    server.close(resolve);
  });
  return receiver;
}

// `smppd validate` of `config` (an object, written as JSON); resolves { status, output } with
// stdout and stderr together.
function validate(config, dir = tempDir()) {
  const file = path.join(dir, 'smppd.yaml');
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  const r = require('node:child_process').spawnSync(binary, ['validate', '--config', file],
    { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

// One HTTP exchange with smppd's HTTP endpoints; resolves { status, headers, text, json }.
// `body`: a string as is, anything else as JSON (with its content-type). `tls`: https, with
// these options (ca, servername...).
function httpCall(port, p, { method = 'GET', auth, bearer, body, tls, headers = {} } = {}) {
  const hdrs = { ...headers };
  if (auth) hdrs.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  if (bearer) hdrs.authorization = `Bearer ${bearer}`;
  const data = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
  if (data !== undefined) {
    if (typeof body !== 'string') hdrs['content-type'] = hdrs['content-type'] || 'application/json';
    hdrs['content-length'] = Buffer.byteLength(data);
  }
  const lib = tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request({ host: '127.0.0.1', port, path: p, method, headers: hdrs, ...(tls || {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { text += c; });
        res.on('end', () => {
          let json;
          try { json = JSON.parse(text); } catch { json = undefined; }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

module.exports = {
  httpCall,
  bindStatus,
  metricValue,
  validate,
  startCollector,
  startReceiver,
  binary, sleep, now, within, tempDir, listener, startSmppd, withSmppd, connect, request, closed,
  bound, header, pduBytes, RawClient, makeCertificates, hasIpv6Loopback, hasSecondLoopbackAddress,
  ids, status, smpp, waitUntil, peerHasRead, receipts, startSmsc, upstream, upstreamsBound,
  rssKiB,
};
