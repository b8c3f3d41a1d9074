// Lua routing end to end: routes[].script with the real interpreter, npm `smpp` ESMEs and SMSCs.
// The script sees the client's tier and tags, the upstreams' tags, the decoded text; what it
// returns picks a route or an upstream; nil, an error, a runaway loop or a name that is nothing
// goes on to the next route without holding the message up; a reload reads the script again and
// a script that does not compile is refused (at validate, and on reload, keeping the old one).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const h = require('./daemon_harness');

const { status: st, waitUntil, startSmsc, upstreamsBound } = h;

const SCRIPT = `
-- Counted per worker thread: globals live on between calls.
calls = (calls or 0) + 1

function route(msg, ctx)
  if msg.text == "loop" then while true do end end
  if msg.text == "boom" then error("boom asked for") end
  if msg.text == "nowhere" then return "no-such-thing" end
  if msg.text == "io" then return io.open("/etc/passwd") end
  if msg.text == "Привет" and msg.data_coding == 8 then return "direct" end
  if msg.text == "cheap" then
    -- the upstream whose tag says it costs least
    local best, price = nil, math.huge
    for name, u in pairs(ctx.upstreams) do
      local p = tonumber(u.tags and u.tags.cost_per_sms or "")
      if p and p < price and u.healthy then best, price = name, p end
    end
    return best
  end
  if ctx.client_tier == "premium" and ctx.client_tags.team == "ops"
     and msg.destination_addr:match("^258") then
    return "mz-direct"
  end
  return nil
end
`;

function config(dir, direct, other) {
  return {
    listeners: [h.listener('smpp')],
    upstreams: [
      h.upstream('direct', [direct], { tags: { cost_per_sms: '0.010' } }),
      h.upstream('other', [other], { tags: { cost_per_sms: '0.020' } }),
    ],
    routes: [
      { name: 'lua', match: { destination_addr: '*' }, script: path.join(dir, 'routing.lua') },
      { name: 'mz-direct', match: { destination_addr: '999*' }, upstream: 'direct' },
      { name: 'default', match: { destination_addr: '*' }, upstream: 'other' },
    ],
    clients: [
      { system_id: 'alice', password: 'alice-pw', tier: 'premium', tags: { team: 'ops' } },
      { system_id: 'bob', password: 'bob-pw' },
    ],
  };
}

test('the script picks routes and upstreams from tier, tags and text; failures go to the next route', async () => {
  const direct = await startSmsc();
  const other = await startSmsc();
  const dir = h.tempDir();
  fs.writeFileSync(path.join(dir, 'routing.lua'), SCRIPT);
  try {
    await h.withSmppd(config(dir, direct, other), async (d) => {
      await upstreamsBound(d, 2);
      const alice = await h.bound(d.ports.smpp, 'bind_transmitter', 'alice', 'alice-pw');
      const bob = await h.bound(d.ports.smpp, 'bind_transmitter', 'bob', 'bob-pw');
      const send = async (s, to, text, extra = {}) =>
        (await h.request(s, 'submit_sm', { destination_addr: to, short_message: text, ...extra })).command_status;
      const last = (smsc) => smsc.received.at(-1).destination_addr;

      // alice is premium in team ops: her 258 traffic takes the route mz-direct.
      assert.strictEqual(await send(alice, '258841000001', 'hello'), st.ESME_ROK);
      assert.strictEqual(last(direct), '258841000001');
      // bob is not: nil, then the next routes (mz-direct does not match 258): default.
      assert.strictEqual(await send(bob, '258841000002', 'hello'), st.ESME_ROK);
      assert.strictEqual(last(other), '258841000002');
      // An upstream by name, chosen from the upstreams' tags.
      assert.strictEqual(await send(bob, '271000003', 'cheap'), st.ESME_ROK);
      assert.strictEqual(last(direct), '271000003');
      // UCS-2 text reaches the script decoded.
      assert.strictEqual(await send(bob, '271000004', Buffer.from('Привет', 'utf16le').swap16(), { data_coding: 8 }), st.ESME_ROK);
      assert.strictEqual(last(direct), '271000004');

      // A runaway loop, an error, a sandboxed io call and a name that is nothing: each goes on
      // to the default route, and the client is answered at once (the budget stops the loop).
      const started = Date.now();
      for (const text of ['loop', 'boom', 'io', 'nowhere']) {
        assert.strictEqual(await send(alice, '440000005', text), st.ESME_ROK, text);
        assert.strictEqual(last(other), '440000005', text);
      }
      assert.ok(Date.now() - started < 2000, `failures took ${Date.now() - started} ms`);
      await waitUntil(() => d.grep(/route 'lua': script: /).length >= 1, 3000, 'the failure logged');
      assert.match(d.text(), /route 'lua': script: .*(instruction|budget|time)/);
      assert.strictEqual(direct.received.length + other.received.length, 8);

      // A reload reads the script again: now everything goes to 'direct'.
      fs.writeFileSync(path.join(dir, 'routing.lua'), 'function route(msg, ctx) return "direct" end\n');
      d.child.kill('SIGHUP');
      await d.waitFor(/reload \(SIGHUP\): .* applied: /);
      assert.strictEqual(await send(bob, '440000006', 'x'), st.ESME_ROK);
      assert.strictEqual(last(direct), '440000006');

      // A script that does not compile is refused: the running one stays.
      fs.writeFileSync(path.join(dir, 'routing.lua'), 'function route(msg, ctx)\n  return = 1\nend\n');
      d.child.kill('SIGHUP');
      await d.waitFor(/reload \(SIGHUP\): .* is not valid, the running configuration stays/);
      // (Its errors are logged on the lines after that one.)
      await d.waitFor(/routing\.lua:2: unexpected symbol near '='/);
      assert.strictEqual(await send(bob, '440000007', 'x'), st.ESME_ROK);
      assert.strictEqual(last(direct), '440000007');
      alice.close();
      bob.close();
      const r = await d.stop();
      assert.strictEqual(r.code, 0);
      assert.strictEqual(r.counters['smppd_route_script_errors_total{route="lua",kind="budget"}'], 1, d.text());
      assert.strictEqual(r.counters['smppd_route_script_errors_total{route="lua",kind="error"}'], 2);
      assert.strictEqual(r.counters['smppd_route_script_errors_total{route="lua",kind="unknown_target"}'], 1);
    });
  } finally {
    direct.close();
    other.close();
  }
});

test('smppd validate compiles the script and names its line', () => {
  const dir = h.tempDir();
  fs.writeFileSync(path.join(dir, 'routing.lua'), '-- routing\nfunction route(msg, ctx)\n  if then\nend\n');
  const file = path.join(dir, 'smppd.yaml');
  fs.writeFileSync(file, JSON.stringify({
    listeners: [h.listener('smpp')],
    upstreams: [{ name: 'a', type: 'simulator' }],
    routes: [{ name: 'lua', match: { destination_addr: '*' }, script: path.join(dir, 'routing.lua') }],
  }, null, 2));
  const bad = spawnSync(h.binary, ['validate', '--config', file], { encoding: 'utf8' });
  assert.strictEqual(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /smppd\.yaml:\d+:\d+: error: .*routing\.lua.*routing\.lua:3: unexpected symbol near 'then'/);
  // A script that compiles but defines no route() is refused too.
  fs.writeFileSync(path.join(dir, 'routing.lua'), 'return nil\n');
  const none = spawnSync(h.binary, ['validate', '--config', file], { encoding: 'utf8' });
  assert.strictEqual(none.status, 1, none.stderr);
  assert.match(none.stderr, /defines no function 'route'/);
  fs.writeFileSync(path.join(dir, 'routing.lua'), 'function route(msg, ctx) return nil end\n');
  const good = spawnSync(h.binary, ['validate', '--config', file], { encoding: 'utf8' });
  assert.strictEqual(good.status, 0, good.stderr);
  assert.doesNotMatch(good.stderr, /script/);
});

test('without reassembly, the parts of a long message go to the upstream of the first, whatever the script says of the others', async () => {
  const direct = await startSmsc();
  const other = await startSmsc();
  const dir = h.tempDir();
  // Routes each part by its own text: the first part says "direct", the second would go elsewhere.
  fs.writeFileSync(path.join(dir, 'routing.lua'), `
function route(msg, ctx)
  if msg.text and msg.text:sub(1, 6) == "direct" then return "direct" end
  return "other"
end
`);
  try {
    // (With multipart.reassembly the script would see the whole text: reassembly.test.js.)
    await h.withSmppd({ ...config(dir, direct, other), multipart: { reassembly: { enabled: false } } }, async (d) => {
      await upstreamsBound(d, 2);
      const s = await h.bound(d.ports.smpp, 'bind_transmitter', 'bob', 'bob-pw');
      const part = (seq, text) => Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 0x7A, 0x02, seq]), Buffer.from(text)]);
      for (const [seq, text] of [[1, 'direct: the first part'], [2, 'and the second part']]) {
        const r = await h.request(s, 'submit_sm', { destination_addr: '447700900123', esm_class: 0x40,
          short_message: part(seq, text) });
        assert.strictEqual(r.command_status, st.ESME_ROK);
      }
      assert.strictEqual(direct.received.length, 2, 'both parts where the first went');
      assert.strictEqual(other.received.length, 0);
      // Another message's single part is routed as the script says.
      const r = await h.request(s, 'submit_sm', { destination_addr: '447700900123', short_message: 'alone' });
      assert.strictEqual(r.command_status, st.ESME_ROK);
      assert.strictEqual(other.received.length, 1);
      s.close();
    });
  } finally {
    direct.close();
    other.close();
  }
});
