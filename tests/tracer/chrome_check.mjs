// SPDX-License-Identifier: MIT
// chrome_check.mjs -- check a `coscope export --format chrome` file the way
// its consumers will read it (used by tests/tracer/cli.sh).
//
//   node chrome_check.mjs FILE [--modules DIR] [--expect-thread NAME]...
//                              [--expect-flow NAME]... [--expect-slice TEXT]...
//
// 1. our own reading: the JSON Object Format shape, every event's fields,
//    slices that nest properly on every track (X and B/E, with timestamps
//    truncated to integer ns as Perfetto's importer does), flows that pair
//    up and start/end inside a slice of their track;
// 2. with --modules DIR (a node_modules folder holding them), two real
//    consumers from the npm registry: @tracerbench/trace-model (builds the
//    process/thread/slice model) and @paulirish/trace_engine (the DevTools
//    Performance panel's engine: tracks, slice trees and flow binding).
// Prints one line per failed check and "chrome_check: ok ..." at the end;
// exits 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const file = args.shift();
let modules = null;
const expectThreads = [], expectFlows = [], expectSlices = [];
while (args.length) {
  const a = args.shift();
  if (a === '--modules') modules = args.shift();
  else if (a === '--expect-thread') expectThreads.push(args.shift());
  else if (a === '--expect-flow') expectFlows.push(args.shift());
  else if (a === '--expect-slice') expectSlices.push(args.shift());
  else { console.error(`chrome_check: unknown argument ${a}`); process.exit(2); }
}

let failures = 0;
function fail(msg) { failures++; console.log(`chrome_check: FAIL ${msg}`); }

const trace = JSON.parse(fs.readFileSync(file, 'utf8'));
if (typeof trace !== 'object' || Array.isArray(trace) || !Array.isArray(trace.traceEvents))
  fail('not the JSON Object Format (an object with a traceEvents array)');
const events = trace.traceEvents || [];

// ---- 1. fields -------------------------------------------------------------
const PHASES = new Set(['X', 'B', 'E', 'i', 'I', 'M', 'b', 'e', 'n', 's', 't', 'f', 'C']);
const ns = (us) => Math.trunc(us * 1000); // what Perfetto does with a JSON double
for (const [i, e] of events.entries()) {
  const where = `event ${i} (${JSON.stringify(e).slice(0, 80)})`;
  if (!PHASES.has(e.ph)) fail(`${where}: unknown ph`);
  if (!Number.isInteger(e.pid) || !Number.isInteger(e.tid)) fail(`${where}: pid/tid not integers`);
  if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) fail(`${where}: bad ts`);
  if (typeof e.name !== 'string') fail(`${where}: no name`);
  if (typeof e.cat !== 'string') fail(`${where}: no cat`);
  if (e.ph === 'X' && !(typeof e.dur === 'number' && e.dur >= 0)) fail(`${where}: X without dur >= 0`);
  if ('sfbe'.includes(e.ph) && e.id === undefined) fail(`${where}: ${e.ph} without id`);
  if (e.ph === 'i' && !['t', 'p', 'g'].includes(e.s)) fail(`${where}: instant scope`);
  if (e.ph === 'M' && !(e.args && 'name sort_index'.split(' ').some((k) => k in e.args))) fail(`${where}: M without args`);
}

// ---- nesting per track ---------------------------------------------------
const tracks = new Map(); // "pid/tid" -> [{start, end, name}]
const track = (e) => {
  const k = `${e.pid}/${e.tid}`;
  if (!tracks.has(k)) tracks.set(k, []);
  return tracks.get(k);
};
const open = new Map();
for (const e of [...events].sort((a, b) => a.ts - b.ts)) {
  if (e.ph === 'X') track(e).push({ start: ns(e.ts), end: ns(e.ts) + ns(e.dur), name: e.name, cat: e.cat });
  else if (e.ph === 'B') {
    const k = `${e.pid}/${e.tid}`;
    if (!open.has(k)) open.set(k, []);
    open.get(k).push(e);
  } else if (e.ph === 'E') {
    const b = open.get(`${e.pid}/${e.tid}`)?.pop();
    if (!b) fail(`E without B on ${e.pid}/${e.tid} at ${e.ts}`);
    else track(e).push({ start: ns(b.ts), end: ns(e.ts), name: b.name, cat: b.cat });
  }
}
for (const [k, st] of open) if (st.length) fail(`${st.length} B without E on ${k}`);
let slices = 0;
for (const [k, list] of tracks) {
  list.sort((a, b) => a.start - b.start || b.end - a.end);
  const stack = [];
  for (const s of list) {
    slices++;
    while (stack.length && stack[stack.length - 1].end <= s.start) stack.pop();
    const top = stack[stack.length - 1];
    if (top && s.end > top.end)
      fail(`track ${k}: '${s.name}' [${s.start}, ${s.end}] overlaps '${top.name}' [${top.start}, ${top.end}] without nesting`);
    stack.push(s);
  }
}

// ---- flows ---------------------------------------------------------------
const flows = new Map();
for (const e of events) {
  if (e.ph !== 's' && e.ph !== 'f') continue;
  if (!flows.has(e.id)) flows.set(e.id, {});
  const f = flows.get(e.id);
  if (f[e.ph]) fail(`flow ${e.id}: two '${e.ph}' events`);
  f[e.ph] = e;
}
const inSlice = (e) => (tracks.get(`${e.pid}/${e.tid}`) || []).some((s) => s.start <= ns(e.ts) && ns(e.ts) <= s.end);
const flowNames = new Map();
for (const [id, f] of flows) {
  if (!f.s || !f.f) { fail(`flow ${id}: unpaired`); continue; }
  if (f.s.name !== f.f.name || f.s.cat !== f.f.cat) fail(`flow ${id}: s and f differ in name/cat`);
  if (f.s.ts > f.f.ts) fail(`flow ${id}: ends before it starts`);
  if (!inSlice(f.s)) fail(`flow ${id}: 's' at ${f.s.ts} is in no slice of its track ${f.s.tid}`);
  if (!inSlice(f.f)) fail(`flow ${id}: 'f' at ${f.f.ts} is in no slice of its track ${f.f.tid}`);
  flowNames.set(f.s.name, (flowNames.get(f.s.name) || 0) + 1);
}
for (const n of expectFlows) if (!flowNames.has(n)) fail(`no flow named '${n}' (have: ${[...flowNames.keys()].join(', ')})`);

const threadNames = events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args.name);
for (const n of expectThreads)
  if (!threadNames.some((t) => t.startsWith(n))) fail(`no track named '${n}...' (have: ${threadNames.slice(0, 10).join(', ')})`);
const sliceNames = new Set([...tracks.values()].flat().map((s) => s.name));
for (const n of expectSlices)
  if (![...sliceNames].some((s) => s.includes(n))) fail(`no slice named like '${n}'`);

// ---- 2. real consumers ---------------------------------------------------
let consumers = 'no npm consumers';
if (modules) {
  const require = createRequire(path.join(path.resolve(modules), 'x.js'));
  // @tracerbench/trace-model: processes, named threads, complete events with
  // parents assigned by containment.
  const { buildModel } = require('@tracerbench/trace-model');
  const model = buildModel(trace);
  const pids = new Set(events.filter((e) => e.ph !== 'M').map((e) => e.pid));
  if (model.processes.length !== pids.size) fail(`trace-model: ${model.processes.length} processes, expected ${pids.size}`);
  const modelThreads = model.processes.flatMap((p) => p.threads);
  for (const n of threadNames)
    if (!modelThreads.some((t) => t.name === n)) fail(`trace-model: no thread named '${n}'`);
  let complete = 0;
  for (const t of modelThreads)
    for (const e of t.events) {
      if (!e.isComplete()) continue;
      complete++;
      if (e.parent && (e.start < e.parent.start || e.end > e.parent.end)) fail(`trace-model: '${e.name}' outside its parent`);
    }
  const xs = events.filter((e) => e.ph === 'X').length;
  if (complete < xs) fail(`trace-model: ${complete} complete events, expected at least ${xs}`);

  // @paulirish/trace_engine (DevTools): the per-thread slice trees and the
  // flows it binds (by ts/pid/tid/cat, stricter than Perfetto).
  const engineDir = path.join(path.resolve(modules), 'node_modules', '@paulirish', 'trace_engine');
  const { polyfillDOMRect } = await import(pathToFileURL(path.join(engineDir, 'analyze-trace.mjs')).href);
  if (typeof polyfillDOMRect === 'function') polyfillDOMRect();
  const Trace = await import(pathToFileURL(path.join(engineDir, 'models', 'trace', 'trace.js')).href);
  const engine = Trace.TraceModel.Model.createWithAllHandlers();
  await engine.parse(events);
  const data = engine.parsedTrace().data;
  const proc = data.Renderer.processes.get(1);
  const withSlices = new Set(events.filter((e) => e.ph === 'X' && e.pid === 1).map((e) => e.tid));
  if (!proc) fail('trace_engine: no process 1');
  else {
    if (proc.threads.size < withSlices.size) fail(`trace_engine: ${proc.threads.size} threads, expected ${withSlices.size}`);
    for (const [tid, t] of proc.threads) {
      const want = events.filter((e) => e.ph === 'X' && e.pid === 1 && e.tid === tid).length;
      if (t.entries.length !== want) fail(`trace_engine: thread ${tid} has ${t.entries.length} entries, expected ${want}`);
      if (withSlices.has(tid) && !threadNames.includes(t.name)) fail(`trace_engine: thread ${tid} named '${t.name}'`);
    }
  }
  const bound = data.Flows.flows.length;
  if (bound !== flows.size) fail(`trace_engine: bound ${bound} of ${flows.size} flows to slices`);
  consumers = `trace-model ${complete} slices, trace_engine ${proc ? proc.threads.size : 0} tracks / ${bound} flows`;
}

if (failures) {
  console.log(`chrome_check: ${failures} problem(s) in ${file}`);
  process.exit(1);
}
console.log(`chrome_check: ok ${events.length} events, ${tracks.size} tracks, ${slices} slices, ${flows.size} flows` +
            ` (${[...flowNames].map(([n, c]) => `${c} ${n}`).join(', ')}); ${consumers}`);
