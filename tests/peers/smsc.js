#!/usr/bin/env node
// A small SMSC for telroute's SMPP integration tests, built on the npm package `smpp` (0.5.1),
// a peer we did not write. It checks bind credentials, answers submit_sm with ids, queues
// delivery receipts and delivers them (retrying until acknowledged, across reconnects), sends
// mobile-originated messages on request, and can be told to misbehave.
//
//   NODE_PATH=$(scripts/install-smpp-peer) node tests/peers/smsc.js \
//       --port 0 --system-id telroute --password secret
//
// It listens on 127.0.0.1 only and prints {"listening": PORT} as its first stdout line. Then it
// reads one JSON command per line on stdin and answers each with one JSON line on stdout:
//   {"cmd": "config", ...settings}   change settings (see `settings` below)
//   {"cmd": "stats"}                 counters, max outstanding submits, queued receipts
//   {"cmd": "received"}              the messages submitted so far, long ones reassembled
//   {"cmd": "mo", "from", "to", "parts": [..], "coding": "gsm"|"ucs2", "via": "udh"|"sar"}
//                                    send a mobile-originated message; answers the resp statuses
//   {"cmd": "enquire"}               send enquire_link to each bound session
//   {"cmd": "raw", "hex": "..."}     write raw octets to each bound session (invalid PDUs)
//   {"cmd": "drop"}                  destroy every connection at once
//   {"cmd": "unbind"}                ask each bound session to unbind
//   {"cmd": "restart", "down_ms": N} close all connections and the listener, listen again later
//   {"cmd": "wait_dlrs", "timeout_ms": N}  wait until no receipt is queued or awaiting its resp
//   {"cmd": "fault", "kind": ..., ...}  misbehave towards the submits to come (see `armFault`):
//       "refuse"  answer `status` (default ESME_RTHROTTLED) to `count` submits, one in every `every`
//       "nack"    answer generic_nack (`status`, default ESME_RINVCMDID) to `count` submits
//       "drop"    leave submits unanswered until `count` are outstanding on a session, then destroy it
//       "silence" the sessions bound now never answer another submit (they still answer the rest)
//   {"cmd": "unknown_dlr", "id": "..."}  send a receipt for an id we never gave; answers its resp status
//   {"cmd": "submit_counts"}         submit_sm received so far, by destination_addr (answered or not)
//   {"cmd": "quit"}                  exit (closing stdin does the same)
'use strict';

const readline = require('readline');
const smpp = require('smpp');

const args = parseArgs(process.argv.slice(2));
const HOST = '127.0.0.1';
const state = {
  port: Number(args.port || 0),
  systemId: args['system-id'] || 'telroute',
  password: args.password || 'secret',
};

const settings = {
  id_format: 'dec', // submit_sm_resp message_id: 'dec' or 'hex'
  id_pad: 0, // left-pad the submit_sm_resp id with zeros to this width
  id_start: 1000000,
  dlr_id_format: 'same', // the id in receipts: 'same' as the resp, or 'dec' / 'hex' unpadded
  dlr_mode: 'text', // 'text' (short_message), 'tlv', 'both', or 'none'
  dlr_delay_ms: 20,
  dlr_stat: 'DELIVRD',
  response_delay_ms: 0, // delay every submit_sm_resp
  throttle_ms: 0, // answer ESME_RTHROTTLED for this long, from the moment it is set
  reject_status: 0, // answer every submit_sm with this command_status (0 = accept)
  refuse_binds: false,
  answer_enquire_link: true, // false: leave enquire_link unanswered, like a dead link
};

const stats = {
  binds: 0,
  bind_failures: 0,
  submits: 0,
  accepted: 0,
  throttled: 0,
  rejected: 0,
  outstanding: 0,
  max_outstanding: 0,
  dlrs_sent: 0,
  dlrs_acked: 0,
  enquire_links: 0,
  unbinds: 0,
  generic_nacks: [],
  connections: 0,
  refused: 0, // answered by a "refuse" fault
  nacked: 0, // answered with generic_nack by a "nack" fault
  held: 0, // never answered: held by a "drop" fault or sent to a silenced session
  dropped: 0, // sessions destroyed by a "drop" fault
};

let nextId = settings.id_start;
let throttleUntil = 0;
let server = null;
const sessions = new Set(); // bound sessions able to receive deliver_sm
const dlrQueue = []; // receipts waiting for a bound session
const dlrInFlight = new Map(); // session -> Set of receipts sent and not yet acknowledged
const received = []; // messages submitted to us, reassembled
const submitCounts = {}; // destination_addr -> submit_sm received, answered or not
let fault = null; // the misbehaviour armed by {"cmd": "fault"}, until it is spent
const silenced = new WeakSet(); // sessions that no longer answer submits
const held = new WeakMap(); // session -> submits held unanswered by a "drop" fault
const partials = new Map();

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

function log(...parts) {
  process.stderr.write('[smsc] ' + parts.join(' ') + '\n');
}

// --- sessions ------------------------------------------------------------------------------

function onSession(session) {
  stats.connections += 1;
  dlrInFlight.set(session, new Set());
  session.on('error', (err) => log('session error', err.message));
  session.on('close', () => forget(session));
  for (const command of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
    session.on(command, (pdu) => onBind(session, command, pdu));
  }
  session.on('submit_sm', (pdu) => onSubmit(session, pdu));
  session.on('enquire_link', (pdu) => {
    stats.enquire_links += 1;
    if (settings.answer_enquire_link) session.send(pdu.response());
  });
  session.on('unbind', (pdu) => {
    stats.unbinds += 1;
    session.send(pdu.response());
    forget(session);
    session.close();
  });
  session.on('generic_nack', (pdu) => stats.generic_nacks.push(pdu.command_status));
  session.on('unknown', (pdu) => session.send(pdu.response()));
}

function onBind(session, command, pdu) {
  let status = 0;
  if (settings.refuse_binds) status = smpp.ESME_RBINDFAIL;
  else if (pdu.system_id !== state.systemId) status = smpp.ESME_RINVSYSID;
  else if (pdu.password !== state.password) status = smpp.ESME_RINVPASWD;
  if (status) {
    stats.bind_failures += 1;
    session.send(pdu.response({ command_status: status }), () => session.close());
    return;
  }
  stats.binds += 1;
  session.send(pdu.response({ system_id: 'peer-smsc' }));
  if (command !== 'bind_transmitter') {
    sessions.add(session);
    flushReceipts();
  }
}

function forget(session) {
  sessions.delete(session);
  const unacked = dlrInFlight.get(session);
  if (unacked) {
    for (const dlr of unacked) dlrQueue.push(dlr); // never acknowledged: deliver it again
    dlrInFlight.delete(session);
  }
}

// --- submits -------------------------------------------------------------------------------

function onSubmit(session, pdu) {
  stats.submits += 1;
  submitCounts[pdu.destination_addr] = (submitCounts[pdu.destination_addr] || 0) + 1;
  if (misbehave(session, pdu)) return;
  stats.outstanding += 1;
  stats.max_outstanding = Math.max(stats.max_outstanding, stats.outstanding);
  const answer = () => {
    stats.outstanding -= 1;
    if (!session.socket.writable) return; // the client never sees this answer
    if (Date.now() < throttleUntil) {
      stats.throttled += 1;
      session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
    } else if (settings.reject_status) {
      stats.rejected += 1;
      session.send(pdu.response({ command_status: settings.reject_status }));
    } else {
      accept(session, pdu);
    }
  };
  if (settings.response_delay_ms > 0) setTimeout(answer, settings.response_delay_ms);
  else answer();
}

function accept(session, pdu) {
  const number = nextId++;
  const messageId = formatId(number, settings.id_format, settings.id_pad);
  stats.accepted += 1;
  session.send(pdu.response({ message_id: messageId }));
  record(pdu, messageId);
  if (settings.dlr_mode !== 'none' && pdu.registered_delivery) {
    const dlrId = settings.dlr_id_format === 'same' ? messageId : formatId(number, settings.dlr_id_format, 0);
    const dlr = { id: dlrId, to: pdu.source_addr, from: pdu.destination_addr, stat: settings.dlr_stat,
      submitted: new Date(), text: textOf(pdu.short_message, pdu.message_payload) };
    setTimeout(() => {
      dlrQueue.push(dlr);
      flushReceipts();
    }, settings.dlr_delay_ms);
  }
}

function formatId(number, format, pad) {
  const text = format === 'hex' ? number.toString(16).toUpperCase() : String(number);
  return text.padStart(pad, '0');
}

function textOf(shortMessage, payload) {
  const value = payload && payload.message !== undefined ? payload : shortMessage;
  if (value === undefined || value === null) return '';
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  return typeof value.message === 'string' ? value.message : String(value.message || '');
}

function concatInfo(pdu) {
  const udh = pdu.short_message && pdu.short_message.udh;
  for (const ie of udh || []) {
    if (ie[0] === 0x00 && ie[1] === 3) return { ref: ie[2], total: ie[3], seq: ie[4] };
    if (ie[0] === 0x08 && ie[1] === 4) return { ref: ie.readUInt16BE(2), total: ie[4], seq: ie[5] };
  }
  if (pdu.sar_msg_ref_num !== undefined) {
    return { ref: pdu.sar_msg_ref_num, total: pdu.sar_total_segments, seq: pdu.sar_segment_seqnum };
  }
  return null;
}

function record(pdu, messageId) {
  const text = textOf(pdu.short_message, pdu.message_payload);
  const info = concatInfo(pdu);
  const base = { from: pdu.source_addr, to: pdu.destination_addr, data_coding: pdu.data_coding,
    esm_class: pdu.esm_class, payload: pdu.message_payload !== undefined };
  if (!info) {
    received.push({ ...base, text, parts: 1, ids: [messageId], lengths: [shortLength(pdu)] });
    return;
  }
  const key = [pdu.source_addr, pdu.destination_addr, info.ref, info.total].join('|');
  const group = partials.get(key) || { parts: new Map() };
  group.parts.set(info.seq, { text, id: messageId, length: shortLength(pdu) });
  partials.set(key, group);
  if (group.parts.size < info.total) return;
  partials.delete(key);
  const ordered = [...Array(info.total).keys()].map((i) => group.parts.get(i + 1));
  received.push({ ...base, text: ordered.map((p) => p.text).join(''), parts: info.total,
    ids: ordered.map((p) => p.id), lengths: ordered.map((p) => p.length) });
}

function shortLength(pdu) {
  const value = pdu.short_message;
  if (Buffer.isBuffer(value)) return value.length;
  return value && value.message ? Buffer.byteLength(value.message) : 0;
}

// --- faults --------------------------------------------------------------------------------

function armFault(command) {
  const { kind, count = 1, every = 1, status } = command;
  if (kind === 'silence') {
    for (const session of sessions) silenced.add(session);
    return { silenced: sessions.size };
  }
  const defaults = { refuse: smpp.ESME_RTHROTTLED, nack: smpp.ESME_RINVCMDID, drop: 0 };
  if (!(kind in defaults)) throw new Error(`unknown fault ${kind}`);
  fault = { kind, remaining: count, every, seen: 0, status: status === undefined ? defaults[kind] : status };
  return { fault };
}

// True when the armed fault (or a silenced session) took care of this submit.
function misbehave(session, pdu) {
  if (silenced.has(session)) {
    stats.held += 1;
    return true;
  }
  if (!fault) return false;
  if (fault.kind === 'drop') return holdForDrop(session);
  fault.seen += 1;
  if (fault.seen % fault.every !== 0) return false;
  if (fault.kind === 'refuse') {
    stats.refused += 1;
    session.send(pdu.response({ command_status: fault.status }));
  } else {
    stats.nacked += 1;
    session.send(new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: fault.status }));
  }
  if (--fault.remaining <= 0) fault = null;
  return true;
}

function holdForDrop(session) {
  const count = (held.get(session) || 0) + 1;
  held.set(session, count);
  stats.held += 1;
  if (count >= fault.remaining) {
    fault = null;
    stats.dropped += 1;
    forget(session);
    session.destroy();
  }
  return true;
}

async function sendUnknownReceipt(command) {
  const session = [...sessions][0];
  if (!session) throw new Error('no bound session');
  const fields = { source_addr: command.to || '12065550000', destination_addr: command.from || '12015550000',
    esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT, data_coding: 0,
    short_message: Buffer.from(receiptText({ id: command.id, stat: 'DELIVRD', submitted: new Date(), text: '' }),
      'latin1') };
  const status = await new Promise((resolve) => session.deliver_sm(fields, (r) => resolve(r.command_status)));
  return { status };
}

// --- receipts and mobile-originated messages ------------------------------------------------

function flushReceipts() {
  while (dlrQueue.length && sessions.size) {
    const session = [...sessions][0];
    sendReceipt(session, dlrQueue.shift());
  }
}

function sendReceipt(session, dlr) {
  const mode = settings.dlr_mode;
  const fields = { source_addr: dlr.from, destination_addr: dlr.to, esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
    data_coding: 0, short_message: Buffer.alloc(0) };
  if (mode === 'text' || mode === 'both') fields.short_message = Buffer.from(receiptText(dlr), 'latin1');
  if (mode === 'tlv' || mode === 'both') {
    fields.receipted_message_id = dlr.id;
    fields.message_state = dlr.stat === 'DELIVRD' ? smpp.MESSAGE_STATE.DELIVERED : smpp.MESSAGE_STATE.UNDELIVERABLE;
    fields.network_error_code = Buffer.from([3, 0, dlr.stat === 'DELIVRD' ? 0 : 21]);
  }
  dlrInFlight.get(session).add(dlr);
  stats.dlrs_sent += 1;
  session.deliver_sm(fields, (resp) => {
    const unacked = dlrInFlight.get(session);
    if (unacked) unacked.delete(dlr);
    if (resp.command_status === 0) stats.dlrs_acked += 1;
    else setTimeout(() => { dlrQueue.push(dlr); flushReceipts(); }, 50);
  });
}

function receiptText(dlr) {
  const date = smppDate(dlr.submitted);
  const err = dlr.stat === 'DELIVRD' ? '000' : '021';
  return `id:${dlr.id} sub:001 dlvrd:${dlr.stat === 'DELIVRD' ? '001' : '000'} submit date:${date} ` +
    `done date:${smppDate(new Date())} stat:${dlr.stat} err:${err} text:${dlr.text.slice(0, 20)}`;
}

function smppDate(date) {
  const two = (n) => String(n).padStart(2, '0');
  return two(date.getUTCFullYear() % 100) + two(date.getUTCMonth() + 1) + two(date.getUTCDate()) +
    two(date.getUTCHours()) + two(date.getUTCMinutes());
}

async function sendMo(command) {
  const session = [...sessions][0];
  if (!session) throw new Error('no bound session');
  const parts = command.parts || [command.text];
  const encode = command.coding === 'ucs2' ? smpp.encodings.UCS2 : smpp.encodings.ASCII;
  const ref = command.ref === undefined ? 42 : command.ref;
  const pdus = parts.map((text, i) => moPdu(command, encode.encode(text), ref, parts.length, i + 1));
  const order = command.reverse ? pdus.reverse() : pdus;
  const statuses = [];
  for (const fields of order) {
    statuses.push(await new Promise((resolve) => session.deliver_sm(fields, (r) => resolve(r.command_status))));
  }
  return { statuses };
}

function moPdu(command, body, ref, total, seq) {
  const fields = { source_addr: command.from, destination_addr: command.to,
    data_coding: command.coding === 'ucs2' ? 8 : 0, short_message: body };
  if (total === 1) return fields;
  if (command.via === 'sar') {
    return { ...fields, sar_msg_ref_num: ref, sar_total_segments: total, sar_segment_seqnum: seq };
  }
  fields.short_message = { udh: Buffer.from([5, 0, 3, ref, total, seq]), message: body };
  return fields;
}

async function enquireAll() {
  const statuses = await Promise.all([...sessions].map((session) =>
    new Promise((resolve) => session.enquire_link({}, (r) => resolve(r.command_status)))));
  return { statuses };
}

// --- control channel -----------------------------------------------------------------------

function listen() {
  return new Promise((resolve, reject) => {
    server = smpp.createServer({}, onSession);
    server.once('error', reject);
    server.listen(state.port, HOST, () => {
      state.port = server.address().port;
      resolve();
    });
  });
}

function dropAll() {
  for (const session of server.sessions.slice()) {
    forget(session);
    session.destroy();
  }
}

async function restart(downMs) {
  await new Promise((resolve) => {
    server.close(resolve);
    dropAll();
  });
  await new Promise((resolve) => setTimeout(resolve, downMs || 0));
  await listen();
  return { port: state.port };
}

async function waitReceipts(timeoutMs) {
  const deadline = Date.now() + (timeoutMs || 5000);
  const pending = () => dlrQueue.length + [...dlrInFlight.values()].reduce((n, s) => n + s.size, 0);
  while (pending() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return { pending: pending() };
}

async function run(command) {
  switch (command.cmd) {
    case 'config': {
      const { cmd, ...changes } = command;
      Object.assign(settings, changes);
      if ('throttle_ms' in changes) throttleUntil = Date.now() + changes.throttle_ms;
      if ('id_start' in changes) nextId = changes.id_start;
      return { settings };
    }
    case 'stats':
      return { ...stats, bound_sessions: sessions.size, dlrs_queued: dlrQueue.length };
    case 'received':
      return { messages: received };
    case 'mo':
      return sendMo(command);
    case 'enquire':
      return enquireAll();
    case 'raw':
      for (const session of sessions) session.socket.write(Buffer.from(command.hex, 'hex'));
      return {};
    case 'drop':
      dropAll();
      return {};
    case 'unbind':
      for (const session of sessions) session.unbind();
      return {};
    case 'restart':
      return restart(command.down_ms);
    case 'wait_dlrs':
      return waitReceipts(command.timeout_ms);
    case 'fault':
      return armFault(command);
    case 'unknown_dlr':
      return sendUnknownReceipt(command);
    case 'submit_counts':
      return { counts: submitCounts };
    case 'quit':
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw new Error(`unknown command ${command.cmd}`);
  }
}

function reply(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

async function main() {
  await listen();
  reply({ listening: state.port });
  const lines = readline.createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  lines.on('line', (line) => {
    if (!line.trim()) return;
    chain = chain.then(async () => {
      try {
        reply({ ok: true, ...(await run(JSON.parse(line))) });
      } catch (err) {
        reply({ ok: false, error: err.message });
      }
    });
  });
  lines.on('close', () => chain.then(() => process.exit(0)));
}

main().catch((err) => {
  log('fatal', err.stack);
  process.exit(1);
});
