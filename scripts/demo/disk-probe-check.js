// Checks lib/disk-probe.js (scripts/check-scripts runs it): a real probe in a temporary folder
// counts and reports its flushes and removes its file; the report counts a stall, its share of the time, and
// leaves out the requests that overlapped the stall or the time after it that its queue clears in.
"use strict";
const assert = require("assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { startDiskProbe, diskReport } = require("./lib/disk-probe");

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "disk-probe-"));
  const probe = startDiskProbe(dir, 5);
  // Until five flushes (a flush can take most of a second on a disk that stalls), at most 30 s.
  const deadline = Date.now() + 30_000;
  while (probe.flushes() < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const samples = await probe.stop();
  assert.ok(samples.durations.length >= 5, `only ${samples.durations.length} flushes in 30 s`);
  assert.strictEqual(probe.flushes(), samples.durations.length, "the count and the samples disagree");
  assert.ok(samples.durations.every((ms) => ms >= 0) && samples.starts.every((at, i) => i === 0 || at > samples.starts[i - 1]));
  assert.deepStrictEqual(fs.readdirSync(dir), [], "the probe's file is left behind");
  fs.rmdirSync(dir);

  // Flushes every 10 ms from t = 0 to 2,000 ms, one of them (at 1,000) stalled for 100 ms.
  const starts = [];
  const durations = [];
  for (let at = 0; at < 2000; at += 10) {
    starts.push(at);
    durations.push(at === 1000 ? 100 : 0.5);
  }
  const requests = [
    { at: 950, ms: 80 }, // in flight when the stall began
    { at: 1150, ms: 30 }, // after it, while its queue clears (up to 1,200)
    { at: 1300, ms: 5 }, // clear
    { at: 500, ms: 7 }, // clear
  ];
  const report = diskReport({ starts: Float64Array.from(starts), durations: Float64Array.from(durations) }, requests, 25, percentile);
  assert.strictEqual(report.stalls, 1);
  assert.strictEqual(report.max, 100);
  assert.ok(Math.abs(report.stalledShare - 100 / 1990.5) < 1e-9, `stalled share ${report.stalledShare}`);
  assert.strictEqual(report.requestsClear, 2);
  assert.strictEqual(report.requestsTotal, 4);
  assert.strictEqual(report.clearP99, 7);
  console.log("disk probe: ok");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
