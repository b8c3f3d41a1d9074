// Real authentication servers for the external authentication tests, started in temporary
// folders on loopback ports: OpenLDAP's slapd (ldap:// and ldaps:// with a test CA) with a
// small directory, and FreeRADIUS with a users file and a client secret. Each can be stopped,
// started again on the same ports (same data), and paused (SIGSTOP: a server that accepts and
// never answers) and resumed. Debian 12's binaries (scripts/install-deps.sh installs them).
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const dgram = require('node:dgram');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const repo = path.resolve(__dirname, '..', '..');
const children = new Set();
process.on('exit', () => {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
});

function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A child process with its output kept; `ready(text)` says when it has started.
function run(cmd, args, ready, what, env = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  const p = { child, output: '', exited: null };
  child.on('exit', (code, signal) => { p.exited = { code, signal }; children.delete(child); });
  const take = (b) => { p.output += b.toString('utf8'); };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  p.started = (async () => {
    const until = Date.now() + 15000;
    while (Date.now() < until) {
      if (p.exited) throw new Error(`${what} exited (${JSON.stringify(p.exited)}):\n${p.output}`);
      if (await ready(p.output)) return;
      await sleep(50);
    }
    child.kill('SIGKILL');
    throw new Error(`${what} did not start in 15 s:\n${p.output}`);
  })();
  p.stop = async () => {
    if (p.exited) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(5000)]);
    if (!p.exited) {
      child.kill('SIGKILL');
      await gone;
    }
  };
  return p;
}

// ---- slapd ----

const suffix = 'dc=example,dc=com';

// `entries`: { uid: { password, attrs: { smppRateLimit: '1', smppTag: ['a=b'] } } }.
// `certs`: makeCertificates()'s files (ldaps:// and StartTLS with them).
async function startSlapd(dir, entries, certs) {
  const db = path.join(dir, 'db');
  fs.mkdirSync(db, { recursive: true });
  const conf = path.join(dir, 'slapd.conf');
  fs.writeFileSync(conf, [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    `include ${path.join(repo, 'docs', 'auth', 'smppd.schema')}`,
    `pidfile ${path.join(dir, 'slapd.pid')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `TLSCACertificateFile ${certs.ca.cert}`,
    `TLSCertificateFile ${certs.server.cert}`,
    `TLSCertificateKeyFile ${certs.server.key}`,
    'database mdb',
    'maxsize 10485760',
    `suffix "${suffix}"`,
    `rootdn "cn=admin,${suffix}"`,
    'rootpw admin-secret',
    `directory ${db}`,
    'index uid eq',
    // The search identity reads; clients' passwords are for binds only.
    `access to attrs=userPassword by dn.exact="cn=smppd,${suffix}" none by anonymous auth by * none`,
    `access to * by dn.exact="cn=smppd,${suffix}" read by * none`,
    '',
  ].join('\n'));
  const ldif = [
    `dn: ${suffix}`, 'objectClass: dcObject', 'objectClass: organization', 'o: Example', 'dc: example', '',
    `dn: cn=smppd,${suffix}`, 'objectClass: organizationalRole', 'objectClass: simpleSecurityObject',
    'cn: smppd', 'userPassword: reader-secret', '',
    `dn: ou=smpp,${suffix}`, 'objectClass: organizationalUnit', 'ou: smpp', '',
  ];
  for (const [uid, e] of Object.entries(entries)) {
    ldif.push(`dn: uid=${uid},ou=smpp,${suffix}`, 'objectClass: inetOrgPerson');
    if (e.attrs && Object.keys(e.attrs).length > 0) ldif.push('objectClass: smppClient');
    ldif.push(`uid: ${uid}`, `cn: ${uid}`, `sn: ${uid}`, `userPassword: ${e.password}`);
    for (const [name, value] of Object.entries(e.attrs || {})) {
      for (const v of [].concat(value)) ldif.push(`${name}: ${v}`);
    }
    ldif.push('');
  }
  fs.writeFileSync(path.join(dir, 'base.ldif'), ldif.join('\n'));
  execFileSync('/usr/sbin/slapadd', ['-f', conf, '-l', path.join(dir, 'base.ldif')], { stdio: 'pipe' });
  const ports = { ldap: await freeTcpPort(), ldaps: await freeTcpPort() };
  const s = { dir, ports, suffix, proc: null };
  s.url = `ldap://127.0.0.1:${ports.ldap}`;
  s.ldapsUrl = `ldaps://127.0.0.1:${ports.ldaps}`;
  s.start = async () => {
    s.proc = run('/usr/sbin/slapd', ['-f', conf, '-h', `${s.url}/ ${s.ldapsUrl}/`, '-d', 'stats'],
      async () => (await tcpOpen(ports.ldap)) && (await tcpOpen(ports.ldaps)), 'slapd');
    await s.proc.started;
  };
  s.stop = async () => { if (s.proc) await s.proc.stop(); };
  s.pause = () => s.proc.child.kill('SIGSTOP');
  s.resume = () => s.proc.child.kill('SIGCONT');
  // Binds as a client's entry slapd has seen (since it last started).
  // (slapd's stats level logs each BIND twice: its request, with method=, then its outcome.)
  s.userBinds = (uid) => (s.proc.output.match(new RegExp(`BIND dn="uid=${uid},ou=smpp,[^"]*" method=128`, 'g')) || []).length;
  await s.start();
  return s;
}

// ---- freeradius ----

// `users`: { name: { password, reply: ['Smppd-Rate-Limit = "1"', ...] } }; `secret`: the
// client's (smppd's) shared secret.
async function startRadius(dir, users, secret) {
  fs.chmodSync(dir, 0o700);
  const port = await freeUdpPort();
  const usersFile = path.join(dir, 'users');
  const lines = [];
  for (const [name, u] of Object.entries(users)) {
    lines.push(`${name} Cleartext-Password := "${u.password}"`);
    const reply = u.reply || [];
    reply.forEach((r, i) => lines.push(`\t${r}${i < reply.length - 1 ? ',' : ''}`));
    lines.push('');
  }
  fs.writeFileSync(usersFile, lines.join('\n'));
  fs.writeFileSync(path.join(dir, 'dictionary'),
    `$INCLUDE ${path.join(repo, 'docs', 'auth', 'dictionary.smppd')}\n`);
  fs.writeFileSync(path.join(dir, 'radiusd.conf'), [
    'prefix = /usr',
    `raddbdir = ${dir}`,
    `confdir = ${dir}`,
    `run_dir = ${dir}`,
    `logdir = ${dir}`,
    `localstatedir = ${dir}`,
    'libdir = /usr/lib/freeradius',
    'log {',
    '  destination = stderr',
    '  auth = yes',
    '}',
    'security {',
    '  reject_delay = 0',
    '  allow_core_dumps = no',
    '}',
    'client localhost {',
    '  ipaddr = 127.0.0.1',
    `  secret = ${secret}`,
    '  require_message_authenticator = yes',
    '}',
    'modules {',
    '  files {',
    `    filename = ${usersFile}`,
    '  }',
    '  pap {',
    '  }',
    '}',
    'server default {',
    '  listen {',
    '    type = auth',
    '    ipaddr = 127.0.0.1',
    `    port = ${port}`,
    '  }',
    '  authorize {',
    '    files',
    '    pap',
    '  }',
    '  authenticate {',
    '    Auth-Type PAP {',
    '      pap',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n'));
  const r = { dir, port, proc: null };
  r.start = async () => {
    r.proc = run('/usr/sbin/freeradius', ['-f', '-l', 'stdout', '-d', dir],
      async (out) => out.includes('Ready to process requests'), 'freeradius');
    await r.proc.started;
  };
  r.stop = async () => { if (r.proc) await r.proc.stop(); };
  r.pause = () => r.proc.child.kill('SIGSTOP');
  r.resume = () => r.proc.child.kill('SIGCONT');
  // Access-Requests for `name` it answered (since it last started).
  r.asked = (name) => (r.proc.output.match(new RegExp(`Login (OK|incorrect)[^\\n]*\\[${name}[/\\]]`, 'g')) || []).length;
  await r.start();
  return r;
}

module.exports = { startSlapd, startRadius, freeUdpPort, freeTcpPort };
