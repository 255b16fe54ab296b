// The scenario's JSON values <-> the values jco's bindings take and return.
//
// The scenario writes WIT names in kebab-case, digests as 64 hex digits,
// variants as {"case": payload} (or "case" without a payload) and u64 as
// numbers (decimal strings beyond 2^53). jco speaks camelCase, digests as
// [bigint x4] (little-endian words), u64 as bigint, variants as {tag, val}
// and none as undefined.

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** 64 hex digits -> WIT digest: four little-endian u64 words. */
export function digest(hex) {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/i.test(hex)) {
    throw new TypeError(`a digest is 64 hex digits, got ${JSON.stringify(hex)}`);
  }
  return [0, 1, 2, 3].map((word) => {
    let value = 0n;
    for (let byte = 7; byte >= 0; byte--) {
      const at = (word * 8 + byte) * 2;
      value = (value << 8n) | BigInt(parseInt(hex.slice(at, at + 2), 16));
    }
    return value;
  });
}

/** WIT digest -> 64 hex digits. */
export function hex(words) {
  return words
    .map((word) => {
      let out = '';
      for (let byte = 0; byte < 8; byte++) {
        out += Number((word >> BigInt(8 * byte)) & 0xffn).toString(16).padStart(2, '0');
      }
      return out;
    })
    .join('');
}

/** A scenario u64 (number, or decimal string) -> bigint. */
export function u64(value) {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^[0-9]+$/.test(value)) {
    const big = BigInt(value);
    if (big < 1n << 64n) return big;
  }
  throw new TypeError(`expected a u64, got ${JSON.stringify(value)}`);
}

const camel = (name) => name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
const kebab = (name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

// Every field a scenario input record may have, by how it is lowered.
const DIGEST_FIELDS = new Set([
  'tenant-id', 'policy-hash', 'ovid-hash', 'finding-id', 'stable-item-id', 'rule-fingerprint',
  'secret-hash', 'occurrence-id', 'object-version-id', 'observation-id',
]);
const SMALL_INT_FIELDS = new Set(['status', 'findings-count']); // u8, u32: JS numbers
const U64_FIELDS = new Set([
  'bytes-scanned', 'run-id', 'shard-id', 'fence-epoch', 'started-at', 'finished-at',
  'byte-offset', 'byte-length', 'seen-at',
]);
const TEXT_FIELDS = new Set(['error-code', 'display', 'url']);
const RECORD_FIELDS = new Set(['key', 'provenance', 'location']);

/** A scenario record (done-record, finding, ...) -> the jco value. */
export function toWit(record) {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new TypeError(`expected a record, got ${JSON.stringify(record)}`);
  }
  const out = {};
  for (const [name, value] of Object.entries(record)) {
    if (value === null) continue; // none
    let lowered;
    if (DIGEST_FIELDS.has(name)) lowered = digest(value);
    else if (U64_FIELDS.has(name)) lowered = u64(value);
    else if (SMALL_INT_FIELDS.has(name)) {
      if (!Number.isInteger(value)) throw new TypeError(`${name} must be an integer, got ${value}`);
      lowered = value;
    } else if (TEXT_FIELDS.has(name)) {
      if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
      lowered = value;
    } else if (RECORD_FIELDS.has(name)) lowered = toWit(value);
    else throw new TypeError(`unknown field ${JSON.stringify(name)}`);
    out[camel(name)] = lowered;
  }
  return out;
}

/** Any jco value -> the scenario's JSON form. */
export function fromWit(value) {
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'bigint':
      return value <= MAX_EXACT ? Number(value) : value.toString();
    case 'number':
    case 'boolean':
    case 'string':
      return value;
    default:
      break;
  }
  // list<u64> comes back as a BigUint64Array; a digest is a plain 4-tuple.
  if (ArrayBuffer.isView(value)) return Array.from(value, fromWit);
  if (Array.isArray(value)) {
    if (value.length === 4 && value.every((w) => typeof w === 'bigint')) return hex(value);
    return value.map(fromWit);
  }
  const keys = Object.keys(value);
  if (keys.includes('tag') && keys.every((k) => k === 'tag' || k === 'val')) {
    return value.val === undefined ? value.tag : { [value.tag]: fromWit(value.val) };
  }
  const out = {};
  for (const key of keys) {
    if (value[key] !== undefined) out[kebab(key)] = fromWit(value[key]);
  }
  return out;
}

/** Drops null object fields: an absent optional and null both mean none. */
export function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}
