// SPDX-License-Identifier: MIT
// check.mjs -- read a `coscope export --format perfetto` file the way
// Perfetto would: every packet decoded by protobufjs against Perfetto's own
// perfetto_trace.proto (not a decoder or schema of ours), then the model
// trace_processor builds from it checked:
//
//   node check.mjs FILE --modules DIR --proto PROTO [--expect-track NAME]...
//        [--expect-slice NAME]... [--expect-flow-min N] [--expect-instant TEXT]...
//        [--summary]
//
//   - the framing: a Trace is `repeated TracePacket packet = 1`, nothing else;
//   - every packet on one trusted sequence, the first clearing its
//     incremental state, every TrackEvent packet needing it;
//   - tracks: unique uuids, every parent defined, every event's track_uuid
//     defined before it;
//   - interning: every name_iid / category_iids / source_location_iid
//     defined by an earlier (or the same) packet, never redefined otherwise;
//   - slices: on each track, in timestamp order (ties in file order),
//     BEGIN/END nest and all close;
//   - flows: each id leaves one slice BEGIN (flow_ids) and ends at one
//     (terminating_flow_ids), never earlier than it left.
// Prints a line per failed check and "perfetto_check: ok ..." with the
// counts; exits 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
let file = null;
const opt = { tracks: [], slices: [], instants: [], flowMin: 0, modules: null, proto: null, summary: false };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--modules') opt.modules = args[++i];
  else if (a === '--proto') opt.proto = args[++i];
  else if (a === '--expect-track') opt.tracks.push(args[++i]);
  else if (a === '--expect-slice') opt.slices.push(args[++i]);
  else if (a === '--expect-instant') opt.instants.push(args[++i]);
  else if (a === '--expect-flow-min') opt.flowMin = Number(args[++i]);
  else if (a === '--summary') opt.summary = true;
  else if (!a.startsWith('-') && file === null) file = a;
  else { console.log(`perfetto_check: unknown argument ${a}`); process.exit(2); }
}
const require = createRequire(path.join(path.resolve(opt.modules), 'node_modules', 'x.js'));
const protobuf = require('protobufjs');

let failures = 0;
function fail(msg) {
  if (failures < 20) console.log(`perfetto_check: ${msg}`);
  failures++;
}

let protoText = fs.readFileSync(opt.proto);
if (opt.proto.endsWith('.gz')) protoText = zlib.gunzipSync(protoText);
const root = protobuf.parse(protoText.toString('utf8'), { keepCase: true }).root;
const TracePacket = root.lookupType('perfetto.protos.TracePacket');
const Type = root.lookupEnum('perfetto.protos.TrackEvent.Type').values;

const buf = fs.readFileSync(file);
const reader = protobuf.Reader.create(buf);
// proto2 presence: protobufjs puts defaults on the prototype, set fields on the object.
const has = (o, f) => Object.prototype.hasOwnProperty.call(o, f);
const num = (v) => (v == null ? v : typeof v === 'number' ? v : Number(v.toString()));
const big = (v) => BigInt(v.toString());

const tracks = new Map();           // uuid -> {name, parent}
const names = new Map(), cats = new Map(), locs = new Map();
const events = new Map();           // track uuid -> [{ts, type, name, seq}]
const flowOut = new Map(), flowIn = new Map();  // id -> ts
let packets = 0, trackEvents = 0, instants = 0, seq = 0;
const sliceNames = new Set(), instantNames = new Set();

while (reader.pos < reader.len) {
  const tag = reader.uint32();
  if (tag >>> 3 !== 1 || (tag & 7) !== 2) {
    fail(`field ${tag >>> 3} wire type ${tag & 7} in Trace: only packet = 1 is expected`);
    reader.skipType(tag & 7);
    continue;
  }
  const p = TracePacket.decode(reader, reader.uint32());
  packets++;
  if (num(p.trusted_packet_sequence_id) !== 1) fail(`packet ${packets}: sequence id ${p.trusted_packet_sequence_id}`);
  if (packets === 1 && !(num(p.sequence_flags) & 1)) fail('the first packet does not clear the incremental state');
  if (has(p, 'interned_data')) {
    const d = p.interned_data;
    for (const [list, map, what] of [[d.event_names, names, 'name'], [d.event_categories, cats, 'category'],
                                     [d.source_locations, locs, 'source location']]) {
      for (const e of list || []) {
        const iid = num(e.iid);
        if (map.has(iid)) fail(`${what} iid ${iid} interned twice`);
        map.set(iid, what === 'source location' ? `${e.file_name}:${e.line_number}` : e.name);
      }
    }
  }
  if (has(p, 'track_descriptor')) {
    const t = p.track_descriptor;
    const uuid = big(t.uuid);
    if (tracks.has(uuid)) fail(`track ${uuid} described twice`);
    if (has(t, 'parent_uuid') && !tracks.has(big(t.parent_uuid))) fail(`track ${t.name}: parent ${t.parent_uuid} not described before`);
    tracks.set(uuid, { name: t.name || (has(t, 'process') ? t.process.process_name : ''), parent: t.parent_uuid });
  }
  if (has(p, 'track_event')) {
    const e = p.track_event;
    trackEvents++;
    if (!(num(p.sequence_flags) & 2)) fail(`packet ${packets}: a TrackEvent without SEQ_NEEDS_INCREMENTAL_STATE`);
    const uuid = big(e.track_uuid);
    if (!tracks.has(uuid)) fail(`packet ${packets}: track ${uuid} not described before`);
    const ts = big(p.timestamp);
    let name;
    if (has(e, 'name_iid')) {
      name = names.get(num(e.name_iid));
      if (name === undefined) fail(`packet ${packets}: name iid ${e.name_iid} not interned`);
    }
    for (const c of e.category_iids || []) if (!cats.has(num(c))) fail(`packet ${packets}: category iid ${c} not interned`);
    if (has(e, 'source_location_iid') && !locs.has(num(e.source_location_iid)))
      fail(`packet ${packets}: source location iid ${e.source_location_iid} not interned`);
    const type = num(e.type);
    if (type === Type.TYPE_INSTANT) { instants++; instantNames.add(name); }
    else if (type === Type.TYPE_SLICE_BEGIN) sliceNames.add(name);
    else if (type !== Type.TYPE_SLICE_END) fail(`packet ${packets}: event type ${type}`);
    if (!events.has(uuid)) events.set(uuid, []);
    events.get(uuid).push({ ts, type, name, seq: seq++ });
    for (const id of e.flow_ids || []) {
      const k = big(id);
      if (type !== Type.TYPE_SLICE_BEGIN) fail(`flow ${k} leaves an event that is not a slice begin`);
      if (flowOut.has(k)) fail(`flow ${k} leaves twice`);
      flowOut.set(k, ts);
    }
    for (const id of e.terminating_flow_ids || []) {
      const k = big(id);
      if (type !== Type.TYPE_SLICE_BEGIN) fail(`flow ${k} ends at an event that is not a slice begin`);
      if (flowIn.has(k)) fail(`flow ${k} ends twice`);
      flowIn.set(k, ts);
    }
  }
}

// Slices nest on every track, as trace_processor's slice tracker requires.
let slices = 0, maxDepth = 0;
for (const [uuid, list] of events) {
  list.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.seq - b.seq));
  const stack = [];
  for (const e of list) {
    if (e.type === Type.TYPE_SLICE_BEGIN) { stack.push(e); maxDepth = Math.max(maxDepth, stack.length); }
    else if (e.type === Type.TYPE_SLICE_END) {
      if (!stack.length) { fail(`track ${tracks.get(uuid)?.name}: END at ${e.ts} with no open slice`); continue; }
      stack.pop();
      slices++;
    }
  }
  if (stack.length) fail(`track ${tracks.get(uuid)?.name}: ${stack.length} slice(s) never end (first "${stack[0].name}" at ${stack[0].ts})`);
}
let flows = 0;
for (const [id, ts] of flowOut) {
  if (!flowIn.has(id)) { fail(`flow ${id} never ends`); continue; }
  if (flowIn.get(id) < ts) fail(`flow ${id} ends (${flowIn.get(id)}) before it leaves (${ts})`);
  flows++;
}
for (const id of flowIn.keys()) if (!flowOut.has(id)) fail(`flow ${id} ends but never leaves`);

const trackNames = new Set([...tracks.values()].map((t) => t.name));
for (const t of opt.tracks) if (!trackNames.has(t)) fail(`no track named "${t}"`);
for (const s of opt.slices) if (!sliceNames.has(s)) fail(`no slice named "${s}"`);
for (const s of opt.instants) if (![...instantNames].some((n) => n && n.includes(s))) fail(`no instant with "${s}"`);
if (flows < opt.flowMin) fail(`${flows} flows, expected at least ${opt.flowMin}`);

const summary = `${packets} packets, ${tracks.size} tracks, ${slices} slices (depth ${maxDepth}), ${flows} flows, ` +
  `${instants} instants, ${names.size} names interned`;
if (failures) {
  console.log(`perfetto_check: ${failures} failure(s); ${summary}`);
  process.exit(1);
}
console.log(`perfetto_check: ok: ${summary}`);
