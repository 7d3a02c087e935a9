#!/usr/bin/env node
// The Node peer of `trioasyncio bench -peers`: the project's workloads on
// Node's event loop.
//
//     node node_peer.js CASE N      (W7 cases: the script on stdin)
//     node node_peer.js --check
//
// prints one JSON line: {"impl", "ns_per_op", "cpu_ns_per_op"}, or {"skip"}
// for a case it does not run; --check prints {"impl", "cases"}. Timed
// regions exclude start-up, as in the Go workloads (internal/workloads).
// W1 uses setImmediate (Node's callback queue), W3 promises, W4 async
// functions each awaiting one setImmediate; the W7 cases run the very
// script gojaloop runs, with n, done(), delays and sample() defined.
'use strict';

const fs = require('fs');
const net = require('net');

const CASES = ['W1', 'W2', 'W3', 'W4', 'W5', 'W7-timeout-chain', 'W7-pending-timers', 'W7-promise-chain'];
const impl = 'Node ' + process.version;
// What makes a figure differ from the others' in kind, not only in speed.
const NOTES = {
  'W1': 'setImmediate chain',
  'W3': 'promises',
  'W7-timeout-chain': 'Node clamps setTimeout(f, 0) to 1 ms (n capped at 2,000)',
};

// minstd from 42: W2's delays over 500 ns of window per timer (in ms), or
// W7's delays up to 100 ms.
function minstd(n, windowMs) {
  const m = 2147483647;
  let x = 42;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    x = Number((48271n * BigInt(x)) % BigInt(m));
    out[i] = windowMs * x / m;
  }
  return out;
}

function deferred() {
  let resolve;
  const p = new Promise((r) => { resolve = r; });
  p.resolve = resolve;
  return p;
}

class Clock {
  start() { this.t0 = process.hrtime.bigint(); this.c0 = process.cpuUsage(); }
  stop() {
    this.wall = Number(process.hrtime.bigint() - this.t0);
    const c = process.cpuUsage(this.c0);
    this.cpu = (c.user + c.system) * 1000;
  }
}

const workloads = {
  W1(n, clock) {
    return new Promise((resolve) => {
      let count = 0;
      function cb() {
        if (++count < n) setImmediate(cb); else resolve();
      }
      clock.start();
      setImmediate(cb);
    }).then(() => clock.stop());
  },
  W2(n, clock) {
    const delays = minstd(n, n * 500e-6);
    return new Promise((resolve) => {
      const want = Math.floor((n + 1) / 2);
      let fired = 0;
      const fire = () => { if (++fired === want) resolve(); };
      clock.start();
      const hs = delays.map((d) => setTimeout(fire, d));
      for (let i = 1; i < n; i += 2) clearTimeout(hs[i]);
    }).then(() => clock.stop());
  },
  async W3(n, clock) {
    const rounds = Math.max(Math.floor(n / 2), 1);
    const box = [deferred(), null];
    async function ponger() {
      for (let i = 0; i < rounds; i++) {
        await box[0];
        box[0] = deferred();
        box[1].resolve(i);
      }
    }
    async function pinger() {
      for (let i = 0; i < rounds; i++) {
        const fa = deferred();
        box[1] = fa;
        box[0].resolve(i);
        await fa;
      }
    }
    clock.start();
    const p = ponger();
    const q = pinger();
    await p;
    await q;
    clock.stop();
  },
  async W4(n, clock) {
    async function child(i) {
      await new Promise((r) => setImmediate(r));
      return i;
    }
    clock.start();
    const tasks = [];
    for (let i = 0; i < n; i++) tasks.push(child(i));
    const results = await Promise.all(tasks);
    clock.stop();
    let sum = 0;
    for (const v of results) sum += v;
    if (sum !== n * (n - 1) / 2) throw new Error('W4: wrong sum ' + sum);
  },
  // 50 clients, round trips of 64 bytes against an echo server, all
  // connected before timing, TCP_NODELAY on both ends.
  async W5(n, clock) {
    const clients = 50, size = 64, msg = Buffer.alloc(size);
    const server = net.createServer((s) => {
      s.setNoDelay(true);
      s.on('data', (d) => s.write(d));
      s.on('error', () => {});
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const port = server.address().port;
    let left = 0, finish;
    const done = new Promise((r) => { finish = r; });
    const conns = [];
    for (let i = 0; i < clients; i++) {
      const rounds = Math.floor(n / clients) + (i < n % clients ? 1 : 0);
      if (rounds > 0) left++;
      const c = net.connect(port, '127.0.0.1');
      c.setNoDelay(true);
      let got = 0, remaining = rounds;
      c.on('data', (d) => {
        got += d.length;
        while (got >= size) {
          got -= size;
          remaining--;
          if (remaining > 0) c.write(msg);
          else if (remaining === 0 && --left === 0) finish();
        }
      });
      await new Promise((r) => c.once('connect', r));
      conns.push([c, rounds]);
    }
    clock.start();
    for (const [c, rounds] of conns) if (rounds > 0) c.write(msg);
    if (left > 0) await done;
    clock.stop();
    for (const [c] of conns) c.destroy();
    await new Promise((r) => server.close(r));
  },
};

function script(n, clock, source) {
  const delays = minstd(n, 100);
  return new Promise((resolve) => {
    const run = new Function('n', 'done', 'delays', 'sample', source);
    clock.start();
    run(n, () => { clock.stop(); resolve(); }, delays, () => {});
  });
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--check') {
    console.log(JSON.stringify({ impl, cases: CASES }));
    return;
  }
  const [c, nArg] = args;
  const nArg0 = parseInt(nArg, 10);
  if (!c || !(nArg0 > 0)) {
    console.error('usage: node node_peer.js CASE N | --check');
    process.exit(2);
  }
  if (!CASES.includes(c)) {
    console.log(JSON.stringify({ impl, skip: impl + ' does not run ' + c }));
    return;
  }
  const clock = new Clock();
  let n = nArg0;
  // Each step of this chain waits out the 1 ms clamp: a small n tells the
  // same per op.
  if (c === 'W7-timeout-chain') n = Math.min(n, 2000);
  if (c.startsWith('W7')) {
    await script(n, clock, fs.readFileSync(0, 'utf8'));
  } else {
    await workloads[c](n, clock);
  }
  const out = { impl, case: c, n, ns_per_op: clock.wall / n, cpu_ns_per_op: clock.cpu / n };
  if (NOTES[c]) out.note = NOTES[c];
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
