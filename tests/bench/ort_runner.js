#!/usr/bin/env node
// The ONNX Runtime side of bench_vs_ort.py: loads an .onnx model with
// onnxruntime-node (CPU execution provider, graph optimizations 'all',
// intraOpNumThreads = --threads, interOpNumThreads 1, sequential execution,
// denormals flushed with the session config entry
// session.set_denormal_as_zero = "1") and times forward passes on the same
// pseudo-random input as `tvw bench` (the same LCG, values in [-1, 1)).
//
// Two modes:
//
//   node ort_runner.js MODEL.onnx --batch 1 --size 224 --threads 2 --iterations 20
//     loads, runs --warmup (default 3) untimed and --iterations timed passes
//     and prints one JSON object like `tvw bench --json` (plus "times_ms",
//     every timed pass in run order).
//
//   node ort_runner.js MODEL.onnx --batch 1 --size 224 --threads 2 --serve
//     loads once, runs one pass, prints {"ready": true, "load_ms": ...,
//     "output_head": [the first 8 output values]}, then for each line
//     "ITERATIONS WARMUP" read on stdin runs the passes and prints one JSON
//     object as above; exits at the end of stdin.  bench_vs_ort.py keeps
//     one such process for the whole run: spawning node per round would
//     make each ORT round pay for session creation and graph optimization
//     again, which is not part of a forward pass.  Between rounds the
//     process blocks on stdin, so its threads sleep (after ORT's brief
//     spin) while the other side is timed, and each round starts with
//     WARMUP untimed passes, as each `tvw bench` round does.
//
// onnxruntime-node must be resolvable by require(); bench_vs_ort.py
// installs it into a cache folder and sets NODE_PATH.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const ort = require('onnxruntime-node');
const readline = require('node:readline');

function parseArgs(argv) {
  const args = { model: null, batch: 1, size: 224, threads: 2, iterations: 20, warmup: 3,
                 serve: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--batch') args.batch = parseInt(next(), 10);
    else if (a === '--size') args.size = parseInt(next(), 10);
    else if (a === '--threads') args.threads = parseInt(next(), 10);
    else if (a === '--iterations') args.iterations = parseInt(next(), 10);
    else if (a === '--warmup') args.warmup = parseInt(next(), 10);
    else if (a === '--serve') args.serve = true;
    else if (a === '--verbose') args.verbose = true;  // ORT's own log, to check the options
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else args.model = a;
  }
  if (!args.model) throw new Error('usage: ort_runner.js MODEL.onnx [--batch N] [--size S] '
                                   + '[--threads T] [--iterations K] [--warmup W] [--serve]');
  return args;
}

// The input of cli/tvw-cmd-bench.c: seed = seed * 1664525 + 1013904223 from
// seed 1, value = (seed >> 8) / 2^24 * 2 - 1.
function benchInput(batch, size) {
  const data = new Float32Array(batch * 3 * size * size);
  let seed = 1;
  for (let i = 0; i < data.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    data[i] = (seed >>> 8) / 16777216.0 * 2.0 - 1.0;
  }
  return new ort.Tensor('float32', data, [batch, 3, size, size]);
}

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

async function timePasses(session, feeds, iterations, warmup) {
  const times = [];
  for (let i = -warmup; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= 0) times.push(ms);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { iterations, median_ms: median(sorted), min_ms: sorted[0],
           max_ms: sorted[sorted.length - 1], times_ms: times };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { set_denormal_as_zero: '1' } },
  };
  if (args.verbose) options.logSeverityLevel = 0;

  const loadStart = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(args.model, options);
  const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
  const feeds = { [session.inputNames[0]]: benchInput(args.batch, args.size) };
  const info = { ort_version: ort.env.versions.common, batch: args.batch, size: args.size,
                 threads: args.threads };

  if (!args.serve) {
    const r = await timePasses(session, feeds, args.iterations, args.warmup);
    console.log(JSON.stringify({ model: args.model, ...info, ...r,
                                 images_per_s: args.batch * 1000 / r.median_ms,
                                 load_ms: loadMs }));
    return;
  }

  // One untimed pass whose first logits let bench_vs_ort.py check that the
  // exported graph computes what the PyTorch model does.
  const out = await session.run(feeds);
  const head = Array.from(out[session.outputNames[0]].data.slice(0, 8));
  console.log(JSON.stringify({ ready: true, ...info, load_ms: loadMs, output_head: head }));
  const lines = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const [iterations, warmup] = line.trim().split(/\s+/).map((s) => parseInt(s, 10));
    console.log(JSON.stringify(await timePasses(session, feeds, iterations, warmup || 0)));
  }
}

main().catch((e) => {
  console.error(`ort_runner.js: ${e.message || e}`);
  process.exit(1);
});
