'use strict';
// Several smppd nodes as one cluster, through a real redis-server started here: they find each
// other, one killed with -9 is gone after node_timeout, one stopped cleanly at once, Redis
// going away leaves each node working alone and visible as such, a reload shows in the config
// hashes. (Membership; receipts, limits and config sync across nodes are not built yet.)

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const h = require('./daemon_harness');

const { waitUntil, tempDir } = h;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// redis-server on `port` in `dir`: stop() is kill -9, start() again on the same port.
async function startRedis(dir, port) {
  const r = { port, child: null };
  r.start = async () => {
    r.child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    await waitUntil(() => new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    }), 5000, 'redis-server listening');
  };
  r.stop = async () => {
    if (!r.child) return;
    const exited = new Promise((resolve) => r.child.on('exit', resolve));
    r.child.kill('SIGKILL');
    await exited;
    r.child = null;
  };
  await r.start();
  return r;
}

// One file for every node, as operators run them: the node_id from the environment, so that
// the nodes' configuration hashes agree.
const config = (redisPort, extra = {}) => ({
  listeners: [{ name: 'smpp', type: 'smpp', address: '127.0.0.1:0' }],
  upstreams: [{ name: 'sim', type: 'simulator' }],
  routes: [{ name: 'all', match: { destination_addr: '*' }, upstream: 'sim' }],
  clients: [{ system_id: 'alice', password: 'alice-pw' }],
  management: { address: '127.0.0.1:0' },
  metrics: { prometheus: { address: '127.0.0.1:0' } },
  cluster: {
    enabled: true,
    node_id: '${SMPPD_NODE_ID}',
    heartbeat_interval: '200ms',
    node_timeout: '3s',
    discovery: { method: 'static', static: { peers: ['a', 'b', 'c', 'd'] } },
    redis: { address: `127.0.0.1:${redisPort}` },
  },
  ...extra,
});

const listeners = ['smpp', 'management', 'metrics'];
// A node: the shared file, its node_id in its environment (spawn copies it then).
async function startNode(id, redisPort) {
  process.env.SMPPD_NODE_ID = id;
  try {
    return await h.startSmppd(config(redisPort), { dir: tempDir(), listeners });
  } finally {
    delete process.env.SMPPD_NODE_ID;
  }
}
const status = async (d) => (await h.httpCall(d.ports.management, '/api/status')).json;
const alive = (s) => s.cluster.nodes.filter((n) => n.alive).map((n) => n.id).sort();

test('nodes find each other; killed, stopped, Redis gone and back; a reload shows in the hashes', async () => {
  const dir = tempDir();
  const redis = await startRedis(dir, await freePort());
  const nodes = {};
  try {
    for (const id of ['a', 'b', 'c']) {
      nodes[id] = await startNode(id, redis.port);
    }
    const { a, b, c } = nodes;
    await waitUntil(async () => alive(await status(a)).length === 3, 5000, 'three nodes alive');
    let s = await status(a);
    assert.deepStrictEqual(alive(s), ['a', 'b', 'c']);
    assert.strictEqual(s.cluster.node_id, 'a');
    assert.strictEqual(s.cluster.redis.up, true);
    assert.deepStrictEqual(s.cluster.missing, ['d']);
    assert.deepStrictEqual(s.cluster.other_config, []);  // the same file
    const b_seen = s.cluster.nodes.find((n) => n.id === 'b');
    assert.strictEqual(b_seen.address, '127.0.0.1');
    assert.ok(b_seen.listeners.some((l) => l === `smpp 127.0.0.1:${b.ports.smpp}`), JSON.stringify(b_seen));
    assert.strictEqual(await h.metricValue(a, /^smppd_cluster_nodes\{state="alive"\} (\S+)$/m), 3);
    assert.strictEqual(await h.metricValue(a, /^smppd_cluster_redis_up (\S+)$/m), 1);
    assert.strictEqual(await h.metricValue(a, /^smppd_cluster_nodes_missing (\S+)$/m), 1);
    // A client bound on b is seen from a, per node (its heartbeat carries its sessions).
    const onB = await h.bound(b.ports.smpp, 'bind_transceiver', 'alice', 'alice-pw');
    await waitUntil(async () => {
      const r = await h.httpCall(a.ports.management, '/api/clients/alice');
      return r.json.cluster_sessions && r.json.cluster_sessions.b === 1;
    }, 5000, "alice's session on b seen from a");
    assert.deepStrictEqual((await h.httpCall(a.ports.management, '/api/clients/alice')).json.cluster_sessions, { b: 1 });
    assert.deepStrictEqual((await status(a)).cluster.nodes.find((n) => n.id === 'b').sessions, { alice: 1 });
    // `smppd status` shows the nodes.
    const cli = spawnSync(h.binary, ['status', '--api', `http://127.0.0.1:${a.ports.management}`],
      { encoding: 'utf8' });
    assert.strictEqual(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /cluster +node a; Redis redis:\/\/127\.0\.0\.1:\d+ up/);
    assert.match(cli.stdout, /\nc +alive/);
    assert.match(cli.stdout, /\nb +alive +127\.0\.0\.1 +1 /);
    onB.close();
    assert.match(cli.stdout, /missing +d \(expected by discovery/);

    // c killed: gone once its key expires (node_timeout 3 s after its last heartbeat).
    c.child.kill('SIGKILL');
    await c.exited;
    const killed = Date.now();
    await waitUntil(async () => alive(await status(a)).length === 2, 8000, 'c gone');
    assert.ok(Date.now() - killed >= 2500, 'gone before its key could expire');
    await a.waitFor(/cluster: node c is gone \(no heartbeat for 3000 ms\)/);

    // b stopped: it deletes its key on the way out, gone at the next heartbeat.
    await b.stopClean();
    const stopped = Date.now();
    await waitUntil(async () => alive(await status(a)).length === 1, 3000, 'b gone');
    assert.ok(Date.now() - stopped < 2000, `b seen gone after ${Date.now() - stopped} ms (not its key's expiry)`);

    // Redis gone: a goes on alone (a message still goes through), says so, and is back when
    // Redis is.
    await redis.stop();
    await waitUntil(async () => (await status(a)).cluster.redis.up === false, 5000, 'Redis down seen');
    await a.waitFor(/cluster: Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer/);
    const session = await h.bound(a.ports.smpp, 'bind_transceiver', 'alice', 'alice-pw');
    const r = await h.request(session, 'submit_sm', { destination_addr: '123', short_message: 'alone' });
    assert.strictEqual(r.command_status, 0);
    session.close();
    assert.strictEqual(await h.metricValue(a, /^smppd_cluster_redis_up (\S+)$/m), 0);
    await redis.start();
    await waitUntil(async () => (await status(a)).cluster.redis.up === true, 5000, 'Redis back');
    await a.waitFor(/cluster: Redis at .* answers again/);

    // A node with another configuration is flagged; a reload on it shows its new hash.
    nodes.e = await startNode('e', redis.port);
    await waitUntil(async () => alive(await status(a)).length === 2, 5000, 'e joined');
    assert.deepStrictEqual((await status(a)).cluster.other_config, []);
    const file = path.join(nodes.e.dir, 'smppd.yaml');
    fs.appendFileSync(file, '# changed on e only\n');
    const reload = await h.httpCall(nodes.e.ports.management, '/api/config/reload', { method: 'POST' });
    assert.strictEqual(reload.status, 200, reload.text);
    await waitUntil(async () => (await status(a)).cluster.other_config.includes('e'), 5000, 'e flagged');
    assert.strictEqual(await h.metricValue(a, /^smppd_cluster_nodes_other_config (\S+)$/m), 1);
  } finally {
    for (const d of Object.values(nodes)) {
      if (d.child.exitCode === null && d.child.signalCode === null) await d.stop();
    }
    await redis.stop();
  }
});

test('validate: consul is refused, Redis settings checked, what is not built said', () => {
  const base = config(6379);
  base.cluster.node_id = 'n';
  let v = h.validate({ ...base, cluster: { ...base.cluster, discovery: { method: 'consul' } } });
  assert.strictEqual(v.status, 1, v.output);
  assert.match(v.output, /smppd\.yaml:\d+:\d+: error: cluster\.discovery\.method consul is not built/);
  v = h.validate({ ...base, cluster: { ...base.cluster, node_timeout: '300ms' } });
  assert.strictEqual(v.status, 1, v.output);
  assert.match(v.output, /node_timeout must be at least twice heartbeat_interval/);
  v = h.validate({ ...base, cluster: { ...base.cluster, sync: { messages: true, sessions: true } } });
  assert.strictEqual(v.status, 0, v.output);
  assert.match(v.output, /cluster\.sync: messages: not built yet/);
  assert.match(v.output, /cluster\.sync: sessions: not built yet/);
});
