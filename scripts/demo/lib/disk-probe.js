// The disk's own durable-write latency, measured beside a benchmark's load: a worker thread
// writes 8 KiB into a small preallocated file and fdatasyncs it, once every few milliseconds, in
// the folder given (the database's file system), and keeps each sync's start and duration.
//
// Why: a payment is acknowledged only after its ledger commit is on disk (synchronous commit, one
// WAL flush per group of payments), so no acknowledged payment can be faster than the disk's
// flush at that moment. Where a flush of this file stalls, every flush on the device stalls with
// it (tried on this machine: two such probes on different files and file systems of one disk
// stall at the same instants, for the same time, with the machine otherwise idle), so the probe
// tells which of the benchmark's requests waited on the disk rather than on the service.
"use strict";
const fs = require("fs");
const path = require("path");
const { Worker, isMainThread, parentPort, workerData } = require("worker_threads");

const BLOCK = 8192;
const BLOCKS = 16;

if (!isMainThread && workerData && workerData.diskProbe) {
  const { file, intervalMs, control } = workerData;
  const stop = new Int32Array(control); // [0]: stop when 1; [1]: flushes so far
  const fd = fs.openSync(file, "w");
  const block = Buffer.alloc(BLOCK, 0x5a);
  for (let i = 0; i < BLOCKS; i++) fs.writeSync(fd, block, 0, BLOCK, i * BLOCK);
  fs.fsyncSync(fd);
  const starts = [];
  const durations = [];
  const { performance } = require("perf_hooks");
  for (let i = 0; Atomics.load(stop, 0) === 0; i++) {
    fs.writeSync(fd, block, 0, BLOCK, (i % BLOCKS) * BLOCK);
    const started = performance.now();
    fs.fdatasyncSync(fd);
    const ended = performance.now();
    starts.push(performance.timeOrigin + started);
    durations.push(ended - started);
    Atomics.add(stop, 1, 1);
    Atomics.wait(stop, 0, 0, intervalMs);
  }
  fs.closeSync(fd);
  fs.rmSync(file, { force: true });
  parentPort.postMessage({ starts: Float64Array.from(starts), durations: Float64Array.from(durations) });
}

/**
 * Starts a probe writing in `dir`; `stop()` resolves to its samples: `starts` (epoch ms, as
 * `performance.timeOrigin + performance.now()`, the clock of the load generator's schedule) and
 * `durations` (ms) of each fdatasync.
 */
function startDiskProbe(dir, intervalMs = 10) {
  const control = new SharedArrayBuffer(8);
  const file = path.join(dir, `.bench-disk-probe-${process.pid}`);
  const worker = new Worker(__filename, { workerData: { diskProbe: true, file, intervalMs, control } });
  const done = new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the disk probe stopped (exit ${code}) before it reported`)));
  });
  return {
    file,
    /** The flushes made so far. */
    flushes() {
      return Atomics.load(new Int32Array(control), 1);
    },
    async stop() {
      Atomics.store(new Int32Array(control), 0, 1);
      Atomics.notify(new Int32Array(control), 0);
      return done;
    },
  };
}

/**
 * What the probe saw, and which requests overlapped a disk stall (a sync slower than
 * `stallMs`) or the time after it that the queue it built takes to clear (as long again):
 * `requests` as [{at: scheduled epoch ms, ms: latency}]. Those waited on the disk for some of
 * their time (a commit's flush queues behind the stalled one); the others show the service's own
 * latency at that load.
 */
function diskReport(samples, requests, stallMs, percentile) {
  const n = samples.durations.length;
  const sorted = Float64Array.from(samples.durations).sort();
  const stalls = [];
  let stalledMs = 0;
  for (let i = 0; i < n; i++) {
    if (samples.durations[i] > stallMs) {
      // The stall, and as long again after it: at half load the service runs at twice the
      // arrival rate, so the requests that queued during a stall of d ms take about d ms more to
      // clear; a request in that time still waits on the stall, not on the service.
      stalls.push([samples.starts[i], samples.starts[i] + 2 * samples.durations[i]]);
      stalledMs += samples.durations[i];
    }
  }
  const windowMs = n === 0 ? 0 : samples.starts[n - 1] + samples.durations[n - 1] - samples.starts[0];
  const overlaps = (r) => stalls.some(([from, to]) => r.at < to && r.at + r.ms > from);
  const clear = requests.filter((r) => !overlaps(r)).map((r) => r.ms);
  const clearSorted = Float64Array.from(clear).sort();
  return {
    syncs: n,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: n === 0 ? NaN : sorted[n - 1],
    stalls: stalls.length,
    stalledShare: windowMs > 0 ? stalledMs / windowMs : NaN,
    requestsClear: clear.length,
    requestsTotal: requests.length,
    clearP99: percentile(clearSorted, 99),
  };
}

module.exports = { startDiskProbe, diskReport };
