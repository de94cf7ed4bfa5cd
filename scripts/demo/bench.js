// Load generator of scripts/bench-api against a running backend (API_URL, CHAIN_RPC_URL).
// Measures, on the same server and with the same client:
//  - POST /api/v1/transfers (JWT, a fresh Idempotency-Key per request, 1 base unit) against a
//    trivial authenticated GET (/api/v1/accounts/me), closed loop at the concurrency where POST
//    peaked in a short search: requests per second, p50 and p99;
//  - both again open loop at half of those rates, latency from each request's scheduled send
//    time (so a stalled server is not hidden by a client that waits: no coordinated omission);
//  - transfers per second through POST /api/v1/transfers/batch, 1,000 transfers per request.
// Prints a table and ratios; the last line is one JSON object. Bounded: about 75 s of load after
// a warm-up of up to a minute (until the server's JIT is mostly done, BENCH_WARMUP_MAX_SECONDS).
//
// Environment: API_URL, CHAIN_RPC_URL, AGENT_PRIVATE_KEYS (default Hardhat dev accounts #4..#7),
// BENCH_SECONDS (per measured run, default 8), BENCH_SEARCH_SECONDS (per search step, default 3),
// BENCH_CONCURRENCY (skip the search: a fixed concurrency), BENCH_BATCH_SIZE (default 1000),
// BENCH_GET_PATH (the authenticated GET to compare with, default /api/v1/accounts/me),
// BENCH_TRACE_FILE (write each half-load POST as a JSON line: wall-clock scheduled time in ms,
// latency, send lag; to line the tail up with the server's GC log, settlements and blocks; then
// the disk probe's flushes), BENCH_DISK_PROBE_DIR (a folder on the database's disk: its flushes
// are probed during the half-load POSTs, see lib/disk-probe.js; scripts/bench-api sets it).
"use strict";
const crypto = require("crypto");
const os = require("os");
const { performance, monitorEventLoopDelay } = require("perf_hooks");
const { Pool } = require("undici");
const { ethers } = require("ethers");
const { Agent, Api, agentKeys, waitFor } = require("./lib/agent");
const { startDiskProbe, diskReport } = require("./lib/disk-probe");

const API_URL = (process.env.API_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
const RPC_URL = process.env.CHAIN_RPC_URL || "http://127.0.0.1:8545";
const SECONDS = Number(process.env.BENCH_SECONDS || 8);
const SEARCH_SECONDS = Number(process.env.BENCH_SEARCH_SECONDS || 3);
const SEARCH_LEVELS = [4, 16, 64, 256];
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE || 1000);
const GET_PATH = process.env.BENCH_GET_PATH || "/api/v1/accounts/me";
const BATCH_CONCURRENCY_LEVELS = [1, 4];
const MAX_ERROR_SHARE = 0.01;
// The half-load p99 target; a disk flush slower than this is a stall (see lib/disk-probe.js).
const POST_P99_TARGET_MS = 25;
const DISK_PROBE_DIR = process.env.BENCH_DISK_PROBE_DIR || "";

const log = (...args) => console.log("[bench]", ...args);

/** p-th percentile (0..100) of an unsorted array of milliseconds. */
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function stats(name, latencies, ok, errors, seconds, cpuStart, loopDelay, extra = {}) {
  const sorted = Float64Array.from(latencies).sort();
  const cpu = process.cpuUsage(cpuStart);
  loopDelay.disable();
  return {
    name, ok, errors: errors.count, errorSample: errors.sample, seconds,
    rps: ok / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99),
    // The load generator's own CPU (one Node thread) as a share of one core: near 1 it would be the bottleneck.
    clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    // How late the client's own event loop ran (a timer due every 10 ms, measured by Node): a
    // client that is starved of CPU or pauses for its own GC shows here, not only in the latencies.
    clientLoopDelayP99: loopDelay.percentile(99) / 1e6, clientLoopDelayMax: loopDelay.max / 1e6,
    loadAverage: os.loadavg()[0], ...extra,
  };
}

/** Node's own measure of its event loop's lateness during a phase (nanoseconds). */
function loopDelayMonitor() {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return histogram;
}

function newErrors() {
  return { count: 0, sample: null };
}

function noteError(errors, text) {
  errors.count += 1;
  if (!errors.sample) errors.sample = String(text).slice(0, 300);
}

/**
 * Sends one request made by `make(i)` and checks its status; resolves to the number of items
 * that succeeded (1 for a single request, the committed items of a batch), 0 on failure.
 */
async function send(pool, request, errors, countItems) {
  try {
    const { statusCode, body } = await pool.request(request.spec);
    if (!request.expect.includes(statusCode)) {
      noteError(errors, `${request.spec.method} ${request.spec.path} -> ${statusCode} ${await body.text()}`);
      return 0;
    }
    if (countItems) return countItems(await body.json(), errors);
    await body.dump();
    return 1;
  } catch (error) {
    noteError(errors, `${request.spec.method} ${request.spec.path}: ${error.message}`);
    return 0;
  }
}

/**
 * `concurrency` clients, each sending its next request when the previous one answered; a client
 * stops when `make` answers null (a finite workload) or the time is up.
 */
async function closedLoop(name, make, concurrency, seconds, countItems) {
  const pool = new Pool(API_URL, { connections: concurrency, pipelining: 1 });
  const latencies = [];
  const errors = newErrors();
  let ok = 0;
  let sequence = 0;
  const loopDelay = loopDelayMonitor();
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const end = started + seconds * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const request = make(sequence++);
      if (request === null) return;
      const sent = performance.now();
      const items = await send(pool, request, errors, countItems);
      if (items > 0) {
        ok += items;
        latencies.push(performance.now() - sent);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return stats(name, latencies, ok, errors, elapsed, cpuStart, loopDelay, { concurrency, requests: sequence });
}

/**
 * Open loop: request i is due at start + i / rate whatever the server does; its latency runs
 * from that scheduled time to the answer, so queueing in the client counts against the server
 * (no coordinated omission). How late the client itself handed each request to its connection
 * pool (`dispatchLag`: a timer that fired late, a client GC, the client starved of CPU) is
 * reported beside it, so a tail that is the load generator's own shows as such.
 */
async function openLoop(name, make, rate, seconds, connections, countItems, trace) {
  const pool = new Pool(API_URL, { connections, pipelining: 1 });
  const latencies = [];
  const dispatchLags = [];
  const errors = newErrors();
  let ok = 0;
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  // The connections are opened before the schedule starts, one untimed request each, as a client
  // that keeps its connections has them: otherwise the first requests wait for TCP handshakes and
  // the server's new connections, and in one traced run the first 110 ms of a half-load phase (50
  // requests, 1.2 % of them) came back 25-92 ms late for that alone, above the p99 by themselves.
  await Promise.all(Array.from({ length: connections }, () =>
    pool.request({ method: "GET", path: "/api/v1/tokens" }).then(({ body }) => body.dump())));
  const loopDelay = loopDelayMonitor();
  const cpuStart = process.cpuUsage();
  const started = performance.now() + 5;
  const inFlight = new Set();
  let i = 0;
  while (i < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - started) / interval) + 1);
    for (; i < due; i++) {
      const scheduled = started + i * interval;
      dispatchLags.push(now - scheduled);
      const promise = send(pool, make(i), errors, countItems).then((items) => {
        if (items > 0) {
          ok += items;
          latencies.push(performance.now() - scheduled);
        }
        if (trace) trace.push({ at: Number((performance.timeOrigin + scheduled).toFixed(1)), ms: Number((performance.now() - scheduled).toFixed(2)), lag: Number((now - scheduled).toFixed(2)), ok: items > 0 });
        inFlight.delete(promise);
      });
      inFlight.add(promise);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all([...inFlight]);
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  const lags = Float64Array.from(dispatchLags).sort();
  return stats(name, latencies, ok, errors, elapsed, cpuStart, loopDelay, {
    targetRate: rate, requests: total, dispatchLagP99: percentile(lags, 99), dispatchLagMax: lags[lags.length - 1],
  });
}

/**
 * Runs `round(i)` (the measured requests) again and again until the server's JIT is mostly done: a
 * round's compile time (jvm_compilation_time_ms_total) under a tenth of its length, or
 * BENCH_WARMUP_MAX_SECONDS (default 60) in all. A few seconds were not enough on 2 cores: C2 then
 * compiled through the measured phases (tens of seconds of compile time, up to half a core),
 * taking the CPU the requests were measured on. Logs the compile time per round; returns the
 * seconds it took.
 */
async function warmUpJit(round) {
  const maxSeconds = Number(process.env.BENCH_WARMUP_MAX_SECONDS || 60);
  if (!Number.isFinite(maxSeconds) || maxSeconds < 0) {
    throw new Error(`BENCH_WARMUP_MAX_SECONDS must be a number of seconds >= 0, not '${process.env.BENCH_WARMUP_MAX_SECONDS}'`);
  }
  const maxMs = maxSeconds * 1000;
  const started = performance.now();
  const jitTimes = [];
  for (;;) {
    const before = sumOf(await serverMeters(), "jvm_compilation_time_ms_total", []);
    const roundStarted = performance.now();
    await round(jitTimes.length);
    const jit = sumOf(await serverMeters(), "jvm_compilation_time_ms_total", []) - before;
    jitTimes.push(Math.round(jit));
    if (jit < (performance.now() - roundStarted) / 10 || performance.now() - started > maxMs) break;
  }
  const seconds = (performance.now() - started) / 1000;
  log(`warmed up in ${seconds.toFixed(0)} s; the JIT's compile time per round: ${jitTimes.join(", ")} ms`);
  return seconds;
}

/** The server's Prometheus meters now, by their full name with labels. */
async function serverMeters() {
  try {
    const response = await fetch(`${API_URL}/actuator/prometheus`);
    const meters = new Map();
    for (const line of (await response.text()).split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const space = line.lastIndexOf(" ");
      meters.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return meters;
  } catch (error) {
    return new Map();
  }
}

function sumOf(meters, name, labels) {
  let sum = 0;
  for (const [key, value] of meters) {
    if (key.startsWith(`${name}{`) && labels.every((label) => key.includes(label))) sum += value;
  }
  return sum;
}

/**
 * Where a phase's time went, from the server's own meters: the mean time a request spent inside the
 * server (Spring's http.server.requests: from the servlet filters to the answer), and the mean wait
 * for a pooled database connection (Hikari). The client's latency minus the server's is queueing
 * outside the handler (sockets, Tomcat, the client).
 */
function serverSide(before, after, method, uri) {
  const delta = (name, labels) => sumOf(after, name, labels) - sumOf(before, name, labels);
  const labels = [`method="${method}"`, `uri="${uri}"`];
  const count = delta("http_server_requests_seconds_count", labels);
  const acquired = delta("hikaricp_connections_acquire_seconds_count", []);
  const steps = {};
  for (const step of ["idempotency-claim", "daily-reservation", "ledger", "idempotency-response"]) {
    const n = delta("agentescrow_api_step_seconds_count", [`step="${step}"`]);
    if (n > 0) steps[step] = Number(((delta("agentescrow_api_step_seconds_sum", [`step="${step}"`]) / n) * 1000).toFixed(2));
  }
  // Stop-the-world GC pauses of the server JVM during the phase: while more than 1 % of the phase is
  // paused, the p99 of requests that meet a pause is at least of the order of one pause.
  const pauses = delta("jvm_gc_pause_seconds_count", []);
  const pausedMs = delta("jvm_gc_pause_seconds_sum", []) * 1000;
  return {
    gcPauses: pauses,
    gcPausedMs: Number(pausedMs.toFixed(1)),
    gcPauseMeanMs: pauses > 0 ? Number((pausedMs / pauses).toFixed(1)) : 0,
    // The JIT's compile time in the phase (its threads take the same cores as the requests).
    jitMs: delta("jvm_compilation_time_ms_total", []),
    serverCpuMsPerRequest: count > 0 ? delta("process_cpu_time_ns_total", []) / 1e6 / count : NaN,
    stepMeanMs: steps,
    serverMeanMs: count > 0 ? (delta("http_server_requests_seconds_sum", labels) / count) * 1000 : NaN,
    poolAcquireMeanMs: acquired > 0 ? (delta("hikaricp_connections_acquire_seconds_sum", []) / acquired) * 1000 : NaN,
    poolAcquiresPerRequest: count > 0 ? acquired / count : NaN,
  };
}

/** Runs `phase` and adds the server's side of it to its result. */
async function withServerSide(method, uri, phase) {
  const before = await serverMeters();
  const result = await phase();
  return { ...result, ...serverSide(before, await serverMeters(), method, uri) };
}

function fmtMs(ms) {
  return Number.isFinite(ms) ? ms.toFixed(ms < 10 ? 2 : 1) : "-";
}

function row(result, label) {
  const errors = result.errors ? `  errors ${result.errors}` : "";
  const steps = Object.entries(result.stepMeanMs || {}).map(([step, ms]) => `${step} ${fmtMs(ms)}`).join(", ");
  const server = Number.isFinite(result.serverMeanMs) ? `  server mean ${fmtMs(result.serverMeanMs)} ms, pool wait ${fmtMs(result.poolAcquireMeanMs)} ms` +
    ` (${fmtMs(result.poolAcquiresPerRequest)} connections taken per request)${steps ? ` (${steps})` : ""}` : "";
  const gc = Number.isFinite(result.serverMeanMs) ? `, gc ${result.gcPauses} pauses ${fmtMs(result.gcPausedMs)} ms, jit ${Math.round(result.jitMs)} ms, cpu ${fmtMs(result.serverCpuMsPerRequest)} ms/request` : "";
  const lag = Number.isFinite(result.dispatchLagP99) ? `, send lag p99 ${fmtMs(result.dispatchLagP99)} ms` : "";
  return `${label.padEnd(44)} ${Math.round(result.rps).toString().padStart(8)}/s  p50 ${fmtMs(result.p50).padStart(7)} ms  p99 ${fmtMs(result.p99).padStart(7)} ms  ` +
    `client cpu ${(result.clientCpu * 100).toFixed(0).padStart(3)} %, loop delay p99 ${fmtMs(result.clientLoopDelayP99)} ms${lag}  ` +
    `load ${result.loadAverage.toFixed(1)}${server}${gc}${errors}`;
}

function checkErrors(result) {
  const share = result.errors / Math.max(1, result.requests);
  if (result.errors > 0) {
    log(`${result.name}: ${result.errors} of ${result.requests} requests failed, e.g. ${result.errorSample}`);
  }
  if (share > MAX_ERROR_SHARE) {
    throw new Error(`${result.name}: ${(share * 100).toFixed(1)} % of the requests failed; the figures would not mean anything`);
  }
}

async function main() {
  const startedAt = Date.now();
  const loadBefore = os.loadavg()[0];
  const api = new Api(API_URL);
  const provider = new ethers.JsonRpcProvider(RPC_URL, undefined, { staticNetwork: true, pollingInterval: 250 });
  const agents = agentKeys([4, 5, 6, 7]).map((key, i) => new Agent(`bench${i}`, key, api, provider));
  await Promise.all(agents.map((agent) => agent.login()));
  const { body: tokens } = await agents[0].get("/tokens");
  const token = tokens.tokens[0];
  const tokenAddress = ethers.getAddress(token.address);
  const deposit = 100n * 10n ** BigInt(token.decimals);
  log(`${agents.length} agents signed in; depositing ${ethers.formatUnits(deposit, token.decimals)} ${token.symbol} each`);
  const before = await Promise.all(agents.map((agent) => agent.balance(tokenAddress)));
  // One after another: four permits estimated at once sometimes ran out of gas on the local node
  // (each estimated against a vault state the others had changed by the time it was mined).
  for (const agent of agents) await agent.depositWithPermit(tokenAddress, token.vault, deposit);
  await Promise.all(agents.map((agent, i) => waitFor(`${agent.name}'s deposit credit`, 60, async () =>
    BigInt((await agent.balance(tokenAddress)).available) >= BigInt(before[i].available) + deposit)));
  const sumBefore = (await Promise.all(agents.map((agent) => agent.balance(tokenAddress))))
    .reduce((sum, b) => sum + BigInt(b.available), 0n);

  const headers = agents.map((agent) => ({ authorization: `Bearer ${agent.token}` }));
  const postTransfer = (i) => {
    const from = i % agents.length;
    const to = (from + 1 + (Math.floor(i / agents.length) % (agents.length - 1))) % agents.length;
    return {
      spec: {
        method: "POST", path: "/api/v1/transfers",
        headers: { ...headers[from], "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
        body: JSON.stringify({ to: agents[to].address, token: tokenAddress, amount: "1", reference: "bench" }),
      },
      expect: [201],
    };
  };
  const getAccount = (i) => ({
    spec: { method: "GET", path: GET_PATH, headers: headers[i % agents.length] },
    expect: [200],
  });
  const postBatch = (i) => {
    const from = i % agents.length;
    const transfers = Array.from({ length: BATCH_SIZE }, (_, k) => ({
      to: agents[(from + 1 + (k % (agents.length - 1))) % agents.length].address,
      token: tokenAddress, amount: "1", reference: "bench",
    }));
    return {
      spec: {
        method: "POST", path: "/api/v1/transfers/batch",
        headers: { ...headers[from], "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
        body: JSON.stringify({ transfers, atomic: false }),
      },
      expect: [200, 201],
    };
  };
  const countCommitted = (body, errors) => {
    const results = body.results || [];
    const committed = results.filter((r) => r.id && !r.code).length;
    if (committed !== BATCH_SIZE) noteError(errors, `a batch committed ${committed} of ${BATCH_SIZE}: ${JSON.stringify(results.find((r) => r.code) || {})}`);
    return committed;
  };

  const warmPool = new Pool(API_URL, { connections: 1 });
  const warmupSeconds = await warmUpJit(async (round) => {
    await closedLoop("warm-up GET", getAccount, 16, 1);
    await closedLoop("warm-up POST", postTransfer, 16, 2);
    await send(warmPool, postBatch(round), newErrors(), countCommitted);
  });
  await warmPool.close();

  let best;
  if (process.env.BENCH_CONCURRENCY) {
    best = { concurrency: Number(process.env.BENCH_CONCURRENCY), rps: NaN };
  } else {
    log(`searching the concurrency of POST /transfers (${SEARCH_SECONDS} s per level) ...`);
    for (const concurrency of SEARCH_LEVELS) {
      const result = await closedLoop("search POST", postTransfer, concurrency, SEARCH_SECONDS);
      checkErrors(result);
      log(row(result, `  POST /transfers, ${concurrency} clients`));
      if (!best || result.rps > best.rps * 1.05) {
        best = result;
      } else {
        break;
      }
    }
  }
  const c = best.concurrency;
  log(`best concurrency: ${c}; measuring ${SECONDS} s per run ...`);
  const get = await withServerSide("GET", GET_PATH, () => closedLoop("GET /accounts/me", getAccount, c, SECONDS));
  checkErrors(get);
  const post = await withServerSide("POST", "/api/v1/transfers",
    () => closedLoop("POST /transfers", postTransfer, c, SECONDS));
  checkErrors(post);
  const connections = Math.max(8, c * 2);
  const getHalf = await withServerSide("GET", GET_PATH,
    () => openLoop("GET /accounts/me at half load", getAccount, get.rps / 2, SECONDS, connections));
  checkErrors(getHalf);
  const trace = [];
  const probe = DISK_PROBE_DIR ? startDiskProbe(DISK_PROBE_DIR) : null;
  const postHalf = await withServerSide("POST", "/api/v1/transfers",
    () => openLoop("POST /transfers at half load", postTransfer, post.rps / 2, SECONDS, connections, undefined, trace));
  const flushes = probe ? await probe.stop() : null;
  const disk = flushes ? diskReport(flushes, trace.filter((t) => t.ok), POST_P99_TARGET_MS, percentile) : null;
  checkErrors(postHalf);
  if (process.env.BENCH_TRACE_FILE) {
    // The POSTs, then the disk probe's flushes as {"flushAt", "flushMs"} lines.
    const lines = trace.map((t) => JSON.stringify(t));
    if (flushes) flushes.starts.forEach((at, i) => lines.push(JSON.stringify({ flushAt: Number(at.toFixed(1)), flushMs: Number(flushes.durations[i].toFixed(2)) })));
    require("fs").writeFileSync(process.env.BENCH_TRACE_FILE, lines.join("\n") + "\n");
  }
  let batch;
  for (const concurrency of BATCH_CONCURRENCY_LEVELS) {
    const result = await withServerSide("POST", "/api/v1/transfers/batch",
      () => closedLoop(`POST /transfers/batch`, postBatch, concurrency, SECONDS / 2, countCommitted));
    checkErrors(result);
    log(row(result, `  POST /transfers/batch (${BATCH_SIZE}), ${concurrency} clients`).replace("/s", " transfers/s"));
    if (!batch || result.rps > batch.rps) batch = result;
  }

  const sumAfter = (await Promise.all(agents.map((agent) => agent.balance(tokenAddress))))
    .reduce((sum, b) => sum + BigInt(b.available), 0n);
  if (sumAfter !== sumBefore) {
    throw new Error(`the agents' available balances summed to ${sumBefore} before the load and ${sumAfter} after: transfers among them must not change the sum`);
  }

  const ratio = post.rps / get.rps;
  console.log("");
  console.log(`API benchmark on ${API_URL} (${agents.length} paying agents, JWT, 1 base unit per transfer)`);
  console.log(row(get, `GET  ${GET_PATH.replace("/api/v1", "").padEnd(17)} closed loop, ${c} clients`));
  console.log(row(post, `POST /transfers        closed loop, ${c} clients`));
  console.log(row(getHalf, `GET  ${GET_PATH.replace("/api/v1", "").padEnd(17)} open loop ${Math.round(getHalf.targetRate)}/s`));
  console.log(row(postHalf, `POST /transfers        open loop ${Math.round(postHalf.targetRate)}/s`));
  console.log(`POST /transfers/batch  ${BATCH_SIZE} per request, ${batch.concurrency} clients: ${Math.round(batch.rps)} transfers/s ` +
    `(p50 ${fmtMs(batch.p50)} ms, p99 ${fmtMs(batch.p99)} ms per request)`);
  console.log(`ratios: POST/GET requests per second ${ratio.toFixed(2)} (target >= 0.5); POST p99 at half load ` +
    `${fmtMs(postHalf.p99)} ms (target <= 25); batch ${Math.round(batch.rps)} transfers/s (target >= 20,000)`);
  if (disk) {
    console.log(`the disk meanwhile (an fdatasync of 8 KiB every 10 ms in ${DISK_PROBE_DIR}): p50 ${fmtMs(disk.p50)} ms, ` +
      `p99 ${fmtMs(disk.p99)} ms, max ${fmtMs(disk.max)} ms; ${disk.stalls} flushes over ${POST_P99_TARGET_MS} ms stalled the disk ` +
      `${(disk.stalledShare * 100).toFixed(1)} % of the time; POSTs that overlapped no stall: ${disk.requestsClear} of ` +
      `${disk.requestsTotal}, p99 ${fmtMs(disk.clearP99)} ms`);
  } else {
    console.log("the disk meanwhile: not probed (BENCH_DISK_PROBE_DIR unset)");
  }
  console.log(`zero-sum check: the agents' available balances sum to ${sumAfter} before and after; ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  console.log(JSON.stringify({
    post_rps: Math.round(post.rps),
    get_rps: Math.round(get.rps),
    post_p99_ms_half_load: Number(postHalf.p99.toFixed(2)),
    batch_transfers_per_s: Math.round(batch.rps),
    post_get_ratio: Number(ratio.toFixed(3)),
    concurrency: c,
    post_p50_ms: Number(post.p50.toFixed(2)),
    post_p99_ms: Number(post.p99.toFixed(2)),
    get_p50_ms: Number(get.p50.toFixed(2)),
    get_p99_ms: Number(get.p99.toFixed(2)),
    post_p50_ms_half_load: Number(postHalf.p50.toFixed(2)),
    get_p99_ms_half_load: Number(getHalf.p99.toFixed(2)),
    batch_concurrency: batch.concurrency,
    batch_step_mean_ms: batch.stepMeanMs,
    post_server_mean_ms_half_load: Number(postHalf.serverMeanMs.toFixed(2)),
    post_pool_wait_mean_ms_half_load: Number(postHalf.poolAcquireMeanMs.toFixed(2)),
    post_pool_acquires_per_request_half_load: Number(postHalf.poolAcquiresPerRequest.toFixed(2)),
    post_step_mean_ms_half_load: postHalf.stepMeanMs,
    post_gc_paused_ms_half_load: postHalf.gcPausedMs,
    post_gc_pauses_half_load: postHalf.gcPauses,
    post_jit_ms_half_load: Math.round(postHalf.jitMs),
    warmup_s: Number(warmupSeconds.toFixed(1)),
    post_server_cpu_ms_per_request_half_load: Number(postHalf.serverCpuMsPerRequest.toFixed(2)),
    post_send_lag_p99_ms_half_load: Number(postHalf.dispatchLagP99.toFixed(2)),
    client_loop_delay_p99_ms_half_load: Number(postHalf.clientLoopDelayP99.toFixed(2)),
    load_avg_1m_post_half_load: Number(postHalf.loadAverage.toFixed(2)),
    client_cpu_post: Number(post.clientCpu.toFixed(2)),
    client_cpu_get: Number(get.clientCpu.toFixed(2)),
    cpus: os.cpus().length,
    load_avg_1m_before: Number(loadBefore.toFixed(2)),
    load_avg_1m_after: Number(os.loadavg()[0].toFixed(2)),
    disk_fsync_p99_ms_half_load: disk ? Number(disk.p99.toFixed(2)) : null,
    disk_fsync_max_ms_half_load: disk ? Number(disk.max.toFixed(1)) : null,
    disk_stalled_share_half_load: disk ? Number(disk.stalledShare.toFixed(4)) : null,
    post_p99_ms_half_load_clear_of_disk_stalls: disk ? Number(disk.clearP99.toFixed(2)) : null,
    post_share_clear_of_disk_stalls: disk ? Number((disk.requestsClear / Math.max(1, disk.requestsTotal)).toFixed(4)) : null,
    setup: process.env.BENCH_SETUP || null,
  }));
}

if (require.main === module) {
  main().catch((error) => {
    console.error(`[bench] FAILED: ${error.message}`);
    process.exit(1);
  });
}

module.exports = { closedLoop, openLoop, percentile, serverMeters, sumOf, warmUpJit };
