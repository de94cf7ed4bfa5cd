// Load generator of scripts/bench-channels against a running backend (API_URL, CHAIN_RPC_URL).
// Measures, on the same server and with the same client, how fast the service stores channel
// balance proofs (POST /api/v1/channels/{id}/proofs: signature recovery on the request's thread,
// then the channel's lane writes the proofs that arrived meanwhile as one group, in one commit):
//  - a baseline in the same run: GET /api/v1/channels/{id} (authenticated, reads the same channel),
//    closed loop;
//  - one channel, one client (each proof sent when the previous one was answered);
//  - one channel, several clients at once (proofs overtaken by a newer one are answered 409 stale:
//    verified all the same, counted apart);
//  - across several channels, one client per channel;
//  - one channel open loop at a fixed rate (BENCH_RATE, default 1,000/s), latency from each proof's
//    scheduled send time (no coordinated omission);
//  - one channel open loop at the same rate of proofs sent in batches (POST .../proofs/batch,
//    BENCH_BATCH proofs each, default 50: 20 requests/s), latency from each batch's scheduled time.
// Proofs are signed before each phase (ethers, in worker threads; not timed). Prints a table and
// ratios against the baseline; the last line is one JSON object, with the rate per channel
// (per_channel_stored_per_s: the open loop's stored proofs per second on its one channel). Bounded
// in count (BENCH_PROOFS per phase and channel) and in time (BENCH_SECONDS per phase), after a
// warm-up of up to BENCH_WARMUP_MAX_SECONDS (default 60: until the server's JIT is mostly done).
//
// Environment: API_URL, CHAIN_RPC_URL, AGENT_PRIVATE_KEYS (default Hardhat dev accounts #4..#7: they
// hold test tokens and ETH), BENCH_SECONDS (default 5), BENCH_PROOFS (default 2000),
// BENCH_CHANNELS (default 4), BENCH_CONCURRENCY (default 8), BENCH_RATE (default 1000),
// BENCH_CONNECTIONS (the open loop's connections, default 64), BENCH_BATCH (proofs per batch, default 50),
// BENCH_BATCH_PROOFS (the batch phase's proofs, default BENCH_RATE x BENCH_SECONDS).
"use strict";
const os = require("os");
const path = require("path");
const { Worker } = require("worker_threads");
const { ethers } = require("ethers");
const { Agent, Api, agentKeys } = require("./lib/agent");
const { openChannel } = require("./lib/channel");
const { closedLoop, openLoop, serverMeters, sumOf, warmUpJit } = require("./bench");

const API_URL = (process.env.API_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
const RPC_URL = process.env.CHAIN_RPC_URL || "http://127.0.0.1:8545";
const SECONDS = Number(process.env.BENCH_SECONDS || 5);
const PROOFS = Number(process.env.BENCH_PROOFS || 2000);
const CHANNELS = Number(process.env.BENCH_CHANNELS || 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 8);
const RATE = Number(process.env.BENCH_RATE || 1000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 64);
const BATCH = Math.min(100, Math.max(1, Number(process.env.BENCH_BATCH || 50)));
const BATCH_PROOFS = Number(process.env.BENCH_BATCH_PROOFS || RATE * SECONDS);
const MAX_ERROR_SHARE = 0.01;
const PROOFS_URI = "/api/v1/channels/{id}/proofs";
const BATCH_URI = "/api/v1/channels/{id}/proofs/batch";

const log = (...args) => console.log("[bench]", ...args);

/** Signs `count` BalanceProofs (nonce and total 1..count after `offset`) of one channel in a worker thread. */
function signInWorker(privateKey, domain, channelId, offset, count) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, "lib", "sign-proofs.js"), {
      workerData: { privateKey, domain: { ...domain, chainId: domain.chainId.toString() }, channelId, offset, count },
    });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`signing worker exited with ${code}`)));
  });
}

/** `count` proofs of `channel` in order, signed by `signer` from nonce `offset + 1`, split over the cores. */
async function signProofs(signer, channel, offset, count) {
  const parts = Math.max(1, Math.min(os.cpus().length, 4));
  const size = Math.ceil(count / parts);
  const chunks = await Promise.all(Array.from({ length: parts }, (_, p) => signInWorker(signer.wallet.privateKey,
    channel.domain, channel.id, offset + p * size, Math.max(0, Math.min(size, count - p * size)))));
  return chunks.flat();
}

/** A phase's proofs of one channel: the request to store proof i (the receiver posts it), past the end: none. */
function proofRequests(receiver, channel, signed) {
  const headers = { authorization: `Bearer ${receiver.token}`, "content-type": "application/json" };
  return (i) => (i < signed.length ? {
    spec: { method: "POST", path: `/api/v1/channels/${channel.id}/proofs`, headers, body: JSON.stringify(signed[i]) },
    expect: [201, 409],
  } : null);
}

/** A phase's batches of one channel: the request to store proofs [i x BATCH, (i + 1) x BATCH), past the end: none. */
function batchRequests(receiver, channel, signed) {
  const headers = { authorization: `Bearer ${receiver.token}`, "content-type": "application/json" };
  return (i) => (i * BATCH < signed.length ? {
    spec: { method: "POST", path: `/api/v1/channels/${channel.id}/proofs/batch`, headers,
      body: JSON.stringify({ proofs: signed.slice(i * BATCH, (i + 1) * BATCH) }) },
    expect: [200],
  } : null);
}

function checkErrors(result) {
  if (result.errors > 0) log(`${result.name}: ${result.errors} of ${result.requests} requests failed, e.g. ${result.errorSample}`);
  if (result.errors / Math.max(1, result.requests) > MAX_ERROR_SHARE) {
    throw new Error(`${result.name}: too many failed requests; the figures would not mean anything`);
  }
}

/** Proofs of the channel the service holds now: the newest nonce stored. */
async function storedNonce(agent, channel) {
  const { body } = await agent.get(`/channels/${channel.id}`);
  return BigInt(body.proofs.sentByA ? body.proofs.sentByA.nonce : 0);
}

/**
 * Where a phase's server time went, from the service's own meters: the mean time inside the server
 * for POST /channels/{id}/proofs (Spring's http.server.requests) and the means of the proof's steps
 * (agentescrow.api.step: proof-verify = signature recovery, proof-wait = from queueing the proof on its
 * channel's lane to its group's commit, proof-group = one group's transaction, once per group) and the
 * mean group size. The rest of the server time is HTTP, security, JSON.
 */
async function withServerSide(phase, uri = PROOFS_URI) {
  const before = await serverMeters();
  const pgBefore = postgresCpuMs();
  const result = await phase();
  const pgAfter = postgresCpuMs();
  const after = await serverMeters();
  const delta = (name, labels) => sumOf(after, name, labels) - sumOf(before, name, labels);
  const labels = ['method="POST"', `uri="${uri}"`];
  const count = delta("http_server_requests_seconds_count", labels);
  const steps = {};
  for (const step of ["proof-verify", "proof-wait", "proof-group", "proof-group-read", "proof-group-write",
    "proof-group-commit"]) {
    const n = delta("agentescrow_api_step_seconds_count", [`step="${step}"`]);
    if (n > 0) steps[step] = Number(((delta("agentescrow_api_step_seconds_sum", [`step="${step}"`]) / n) * 1000).toFixed(3));
  }
  const serverMeanMs = count > 0 ? Number(((delta("http_server_requests_seconds_sum", labels) / count) * 1000).toFixed(3)) : null;
  // the group size has no labels of its own: "name" or "name{...}" (common tags)
  const plain = (meters, name) => meters.get(name) || sumOf(meters, name, []);
  const groups = plain(after, "agentescrow_channel_proof_group_size_count") - plain(before, "agentescrow_channel_proof_group_size_count");
  const groupSum = plain(after, "agentescrow_channel_proof_group_size_sum") - plain(before, "agentescrow_channel_proof_group_size_sum");
  const meanGroup = groups > 0 ? Number((groupSum / groups).toFixed(1)) : null;
  // CPU per request (all of the JVM's threads, and every PostgreSQL process of this system's cluster):
  // what the phase cost the machine per answered proof, whatever the load of other processes
  const plainDelta = (name) => plain(after, name) - plain(before, name);
  // (per proof: a batch request carries many)
  const proofs = uri === BATCH_URI ? result.stored + result.stale : count;
  const jvmCpuMs = proofs > 0 ? Number((plainDelta("process_cpu_time_ns_total") / 1e6 / proofs).toFixed(3)) : null;
  const pgCpuMs = proofs > 0 && pgBefore !== null && pgAfter !== null ? Number(((pgAfter - pgBefore) / proofs).toFixed(3)) : null;
  return { ...result, serverMeanMs, stepMeanMs: steps, meanGroup, jvmCpuMs, pgCpuMs };
}

/**
 * CPU time (ms) of the PostgreSQL cluster of this system so far: its postmaster (BENCH_PG_DIR's
 * postmaster.pid) and its children, from /proc; null if unknown (another machine, no such dir).
 */
function postgresCpuMs() {
  const dir = process.env.BENCH_PG_DIR;
  if (!dir) return null;
  try {
    const fs = require("fs");
    const postmaster = Number(fs.readFileSync(path.join(dir, "postmaster.pid"), "utf8").split("\n")[0]);
    const tick = 1000 / 100; // USER_HZ
    let ticks = 0;
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^[0-9]+$/.test(entry)) continue;
      let stat;
      try {
        stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch (gone) {
        continue;
      }
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(entry) === postmaster || Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks * tick;
  } catch (error) {
    return null;
  }
}

function fmtMs(ms) {
  return Number.isFinite(ms) ? ms.toFixed(ms < 10 ? 2 : 1) : "-";
}

function row(result, label) {
  const extra = result.storedPerS === undefined ? "" : `  stored ${Math.round(result.storedPerS).toString().padStart(6)}/s`;
  return `${label.padEnd(46)} ${Math.round(result.rps).toString().padStart(7)}/s${extra}  p50 ${fmtMs(result.p50).padStart(7)} ms  ` +
    `p99 ${fmtMs(result.p99).padStart(7)} ms  client cpu ${(result.clientCpu * 100).toFixed(0).padStart(3)} %` +
    (result.serverMeanMs ? `  server mean ${fmtMs(result.serverMeanMs)} ms (${Object.entries(result.stepMeanMs)
      .map(([step, ms]) => `${step} ${fmtMs(ms)}`).join(", ")})` : "") +
    (result.meanGroup ? `  group ${result.meanGroup}` : "") +
    (result.jvmCpuMs !== undefined && result.jvmCpuMs !== null ? `  cpu/req jvm ${fmtMs(result.jvmCpuMs)} ms` +
      (result.pgCpuMs !== null ? ` pg ${fmtMs(result.pgCpuMs)} ms` : "") : "");
}

/**
 * Counts a proof's answer (201 stored, 409 CHANNEL_PROOF_STALE: overtaken by a newer one, verified
 * all the same) into `tally`; any other answer counts as failed.
 */
function proofCounter(tally) {
  return (body) => {
    if (body && body.code === "CHANNEL_PROOF_STALE") {
      tally.stale += 1;
      return 1;
    }
    if (body && body.code) {
      tally.other += 1;
      if (!tally.sample) tally.sample = JSON.stringify(body).slice(0, 300);
      return 0;
    }
    tally.stored += 1;
    return 1;
  };
}

/** Counts a batch's items as {@link proofCounter} counts single answers; returns how many proofs were answered. */
function batchCounter(tally) {
  const one = proofCounter(tally);
  return (body) => {
    if (!body || !Array.isArray(body.items)) return one(body);
    return body.items.reduce((n, item) => n + (item.status === 201 ? one(item) : one({ code: item.code || `status ${item.status}`, ...item })), 0);
  };
}

/** The loop's result with what was stored and what was stale. */
function withTally(result, tally) {
  if (tally.other > 0) {
    throw new Error(`${result.name}: ${tally.other} proofs refused, e.g. ${tally.sample}`);
  }
  return { ...result, stored: tally.stored, stale: tally.stale, storedPerS: tally.stored / result.seconds };
}

/** Closed loop over a finite list of proofs (`make(i)` null past the end), bounded by `seconds`. */
async function proofsClosedLoop(name, make, concurrency, seconds) {
  const tally = { stored: 0, stale: 0, other: 0 };
  const counter = proofCounter(tally);
  return withTally(await closedLoop(name, make, concurrency, seconds, counter), tally);
}

/** Open loop: proof i is due at start + i / rate, its latency counted from then (no coordinated omission). */
async function proofsOpenLoop(name, make, total, rate, connections) {
  const tally = { stored: 0, stale: 0, other: 0 };
  return withTally(await openLoop(name, make, rate, total / rate, connections, proofCounter(tally)), tally);
}

/** Open loop of batches: batch i (BATCH proofs) due at start + i x BATCH / rate; latency per batch from then. */
async function batchesOpenLoop(name, make, total, rate, connections) {
  const tally = { stored: 0, stale: 0, other: 0 };
  return withTally(await openLoop(name, make, rate / BATCH, total / rate, connections, batchCounter(tally)), tally);
}

/** One client per channel at once, each sending its channel's signed proofs in order. */
async function acrossChannels(channels, signed) {
  const results = await Promise.all(channels.map((channel, c) =>
    proofsClosedLoop(`channel ${c + 1}`, proofRequests(channel.b, channel, signed[c]), 1, SECONDS)));
  const seconds = Math.max(...results.map((r) => r.seconds));
  const counts = { stored: results.reduce((n, r) => n + r.stored, 0), stale: results.reduce((n, r) => n + r.stale, 0) };
  const errors = { count: results.reduce((n, r) => n + r.errors, 0), sample: results.map((r) => r.errorSample).find(Boolean) || null };
  // Percentiles: the worst channel's (each loop keeps its own latencies). The loops run in one process:
  // each measured the whole process's CPU over the same time.
  return {
    name: `${channels.length} channels`, ...counts, errors: errors.count, errorSample: errors.sample, seconds,
    rps: (counts.stored + counts.stale) / seconds, storedPerS: counts.stored / seconds,
    p50: Math.max(...results.map((r) => r.p50)), p99: Math.max(...results.map((r) => r.p99)),
    clientCpu: Math.max(...results.map((r) => r.clientCpu)),
    requests: results.reduce((n, r) => n + r.requests, 0),
  };
}

/** An open loop's figures as JSON keys named `${prefix}_...` (rates in proofs per second: `perRequest` proofs a request). */
function openLoopFigures(prefix, r, perRequest) {
  return {
    [`${prefix}_target_per_s`]: Math.round(r.targetRate * perRequest),
    [`${prefix}_answered_per_s`]: Math.round(r.rps),
    [`${prefix}_stored_per_s`]: Math.round(r.storedPerS),
    [`${prefix}_p50_ms`]: Number(r.p50.toFixed(2)),
    [`${prefix}_p99_ms`]: Number(r.p99.toFixed(2)),
    [`${prefix}_server_mean_ms`]: r.serverMeanMs,
    [`${prefix}_step_mean_ms`]: r.stepMeanMs,
    [`${prefix}_mean_group`]: r.meanGroup,
    [`${prefix}_cpu_ms_per_proof`]: { jvm: r.jvmCpuMs, postgres: r.pgCpuMs },
  };
}

async function main() {
  const startedAt = Date.now();
  const loadBefore = os.loadavg()[0];
  const api = new Api(API_URL);
  const provider = new ethers.JsonRpcProvider(RPC_URL, undefined, { staticNetwork: true, pollingInterval: 250 });
  const agents = agentKeys([4, 5, 6, 7]).map((key, i) => new Agent(`bench${i}`, key, api, provider));
  if (agents.length < 2) throw new Error("the channel benchmark needs at least two agent keys");
  await Promise.all(agents.map((agent) => agent.login()));
  const { body: tokens } = await agents[0].get("/tokens");
  const token = ethers.getAddress(tokens.tokens[0].address);
  const unit = 10n ** BigInt(tokens.tokens[0].decimals);

  // Channels: i opens to i+1 (round robin over the agents), each side 1 token; one after another
  // (the agents' nonces), each checked OPEN through the service.
  const channels = [];
  for (let c = 0; c < CHANNELS; c++) {
    const a = agents[c % agents.length];
    const b = agents[(c + 1) % agents.length];
    const channel = await openChannel(a, b, token, unit, unit);
    channels.push({ ...channel, a, b, next: 0 });
    log(`channel ${c + 1}/${CHANNELS} ${channel.id} OPEN (${a.name} -> ${b.name})`);
  }
  const main = channels[0];
  // Each proof states 1 base unit more than the previous one: within A's deposit for 10^6 proofs.
  const take = async (channel, count) => {
    const signed = await signProofs(channel.a, channel, channel.next, count);
    channel.next += count;
    return signed;
  };

  const baselineHeaders = { authorization: `Bearer ${main.b.token}` };
  const baseline = () => ({ spec: { method: "GET", path: `/api/v1/channels/${main.id}`, headers: baselineHeaders }, expect: [200] });
  await warmUpJit(async () => {
    await closedLoop("warm-up GET", baseline, CONCURRENCY, 1);
    await proofsClosedLoop("warm-up proofs", proofRequests(main.b, main, await take(main, Math.min(PROOFS, 300))), 1, 2);
  });

  log(`measuring at most ${SECONDS} s and ${PROOFS} proofs per phase and channel ...`);
  const get = await closedLoop("GET /channels/{id}", baseline, CONCURRENCY, SECONDS);
  checkErrors(get);
  let signed = await take(main, PROOFS);
  const single = await withServerSide(() => proofsClosedLoop("one channel, 1 client", proofRequests(main.b, main, signed), 1, SECONDS));
  checkErrors(single);
  signed = await take(main, PROOFS);
  const parallel = await withServerSide(() => proofsClosedLoop(`one channel, ${CONCURRENCY} clients`,
    proofRequests(main.b, main, signed), CONCURRENCY, SECONDS));
  checkErrors(parallel);

  // Across channels: one client per channel, each sending its own channel's proofs in order.
  const perChannel = await Promise.all(channels.map((channel) => take(channel, PROOFS)));
  const across = await withServerSide(() => acrossChannels(channels, perChannel));
  checkErrors(across);

  // Open loop on one channel: proof i due at start + i / RATE; bounded by BENCH_PROOFS and BENCH_SECONDS.
  const openCount = Math.max(1, Math.min(PROOFS, Math.round(RATE * SECONDS)));
  signed = await take(main, openCount);
  const open = await withServerSide(() => proofsOpenLoop(`one channel open loop ${RATE}/s`, proofRequests(main.b, main, signed),
    openCount, RATE, CONNECTIONS));
  checkErrors(open);
  // The open loop sends every proof it signed, the newest last: the service must hold that one.
  const held = await storedNonce(main.b, main);
  if (held !== BigInt(main.next)) {
    throw new Error(`the service holds proof nonce ${held} of channel ${main.id}, the newest sent was ${main.next}`);
  }

  // Open loop of batches on the same channel: the same rate of proofs, BATCH per request.
  const batchCount = Math.max(BATCH, Math.round(BATCH_PROOFS / BATCH) * BATCH);
  signed = await take(main, batchCount);
  const batched = await withServerSide(() => batchesOpenLoop(`one channel batches of ${BATCH} open loop ${RATE}/s`,
    batchRequests(main.b, main, signed), batchCount, RATE, CONNECTIONS), BATCH_URI);
  checkErrors(batched);
  const heldAfterBatches = await storedNonce(main.b, main);
  if (heldAfterBatches !== BigInt(main.next)) {
    throw new Error(`after the batches the service holds proof nonce ${heldAfterBatches}, the newest sent was ${main.next}`);
  }

  console.log("");
  console.log(`Channel proof benchmark on ${API_URL} (${CHANNELS} channels, proofs of 1 base unit, JWT)`);
  console.log(row(get, `GET  /channels/{id}   baseline, ${CONCURRENCY} clients`));
  console.log(row(single, "POST proofs  one channel, 1 client"));
  console.log(row(parallel, `POST proofs  one channel, ${CONCURRENCY} clients`));
  console.log(row(across, `POST proofs  ${CHANNELS} channels, 1 client each`));
  console.log(row(open, `POST proofs  one channel open loop ${Math.round(open.targetRate)}/s`));
  console.log(row(batched, `POST batch   ${BATCH}/req open loop ${Math.round(batched.targetRate * BATCH)} proofs/s`));
  const ratio = (x) => Number((x / get.rps).toFixed(3));
  console.log(`ratios to the baseline GET: one channel 1 client ${ratio(single.rps)}, ${CONCURRENCY} clients ${ratio(parallel.rps)}, ` +
    `${CHANNELS} channels ${ratio(across.rps)}; open loop p99 ${fmtMs(open.p99)} ms from the scheduled time (target: 1,000 stored/s per channel)`);
  console.log(`the service holds the newest proof sent on the main channel; ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  console.log(JSON.stringify({
    one_channel_stored_per_s: Math.round(single.storedPerS),
    one_channel_p50_ms: Number(single.p50.toFixed(2)),
    one_channel_p99_ms: Number(single.p99.toFixed(2)),
    one_channel_concurrent_answered_per_s: Math.round(parallel.rps),
    one_channel_concurrent_stored_per_s: Math.round(parallel.storedPerS),
    across_channels_stored_per_s: Math.round(across.storedPerS),
    ...openLoopFigures("open_loop", open, 1),
    one_channel_server_mean_ms: single.serverMeanMs,
    one_channel_step_mean_ms: single.stepMeanMs,
    one_channel_cpu_ms_per_proof: { jvm: single.jvmCpuMs, postgres: single.pgCpuMs },
    one_channel_concurrent_mean_group: parallel.meanGroup,
    batch_size: BATCH,
    batch_stored_per_s: Math.round(batched.storedPerS),
    ...openLoopFigures("batch_open_loop", batched, BATCH),
    per_channel_stored_per_s: Math.round(open.storedPerS),
    per_channel_answered_per_s: Math.round(open.rps),
    per_channel_across_stored_per_s: Math.round(across.storedPerS / CHANNELS),
    per_channel_target_reached: open.storedPerS >= 0.95 * RATE,
    baseline_get_rps: Math.round(get.rps),
    ratio_one_channel_to_get: ratio(single.rps),
    ratio_concurrent_to_get: ratio(parallel.rps),
    ratio_across_to_get: ratio(across.rps),
    channels: CHANNELS,
    concurrency: CONCURRENCY,
    client_cpu_one_channel: Number(single.clientCpu.toFixed(2)),
    cpus: os.cpus().length,
    load_avg_1m_before: Number(loadBefore.toFixed(2)),
    load_avg_1m_after: Number(os.loadavg()[0].toFixed(2)),
  }));
}

main().catch((error) => {
  console.error(`[bench] FAILED: ${error.message}`);
  process.exit(1);
});
