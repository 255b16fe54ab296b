// The Node host: drives the jco-transpiled gossip:persistence@0.2.0 component
// (world testable-store) through the fixed scenario in scenario.json and
// asserts every expected outcome. The Rust host runs the same file
// (host/embed/tests/host/node_scenario), so both hosts answer to one expectation
// file.
//
// Stores are constructed without arguments (auto-complete on); a scenario
// store made with "auto-complete": false gets it turned off through its
// controller (`testing.ledgerController` / `testing.sinkController`) before
// any write. Listings are read page by page, with small pages so the
// scenario's few rows cross page boundaries, and checked against one read of
// the largest page.
//
// Run it with scripts/node-test.sh, which transpiles the component into
// $GOSSIP_NODE_HOST_DIR (default: <repo>/target/node-host).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { canonical, digest, fromWit, toWit, u64 } from './wire.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const hostDir = process.env.GOSSIP_NODE_HOST_DIR ?? join(here, '..', '..', 'target', 'node-host');
const modulePath = join(hostDir, 'gossip_persistence.js');

async function loadComponent() {
  try {
    return await import(pathToFileURL(modulePath).href);
  } catch (error) {
    throw new Error(
      `cannot load the transpiled component ${modulePath} (run scripts/node-test.sh): ${error.message}`,
      { cause: error },
    );
  }
}

// ---- the scenario file ----

const MAX_REFERENCE_DEPTH = 16;

function resolve(value, names, depth = 0) {
  if (depth > MAX_REFERENCE_DEPTH) throw new Error(`references nest deeper than ${MAX_REFERENCE_DEPTH}: a cycle?`);
  if (typeof value === 'string' && value.startsWith('@')) {
    const name = value.slice(1);
    if (!Object.hasOwn(names, name)) throw new Error(`undefined reference @${name}`);
    return resolve(names[name], names, depth + 1);
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, names, depth));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, names, depth)]));
  }
  return value;
}

function loadSteps() {
  const file = JSON.parse(readFileSync(join(here, 'scenario.json'), 'utf8'));
  const names = {};
  for (const section of ['digests', 'defs']) {
    for (const [name, value] of Object.entries(file[section])) {
      if (Object.hasOwn(names, name)) throw new Error(`${JSON.stringify(name)} is defined twice`);
      names[name] = value;
    }
  }
  return file.steps.map((step) => resolve(step, names));
}

// ---- the interpreter ----

const COMMON = ['op', 'note', 'expect'];

// The largest page a read may ask for (`max-page`), and the page size the
// listings are read with besides it.
const MAX_PAGE = 10_000;
const SMALL_PAGE = 2;

// The keys each op takes, and whether it reports a value (and so must have
// an `expect`) or only has to succeed. Kept in step with the Rust runner.
const SIGNATURES = {
  'new-ledger': [['store', 'auto-complete'], false],
  'new-sink': [['store', 'auto-complete'], false],
  'batch-upsert': [['store', 'records', 'repeat', 'handle'], true],
  'upsert-batch': [['store', 'findings', 'occurrences', 'observations', 'handle'], true],
  poll: [['handle'], true],
  'batch-get': [['store', 'tenant', 'policy', 'ovids'], true],
  'list-done-hashes': [['store', 'tenant', 'policy'], true],
  'count-done-hashes': [['store', 'tenant', 'policy'], true],
  'get-record': [['store', 'key'], true],
  'get-finding': [['store', 'tenant', 'id'], true],
  'get-occurrence': [['store', 'tenant', 'id'], true],
  'get-observation': [['store', 'tenant', 'id'], true],
  snapshot: [['store'], true],
  'durable-counts': [['store'], true],
  'findings-snapshot': [['store'], true],
  'occurrences-snapshot': [['store'], true],
  'observations-snapshot': [['store'], true],
  'set-auto-complete': [['store', 'on'], false],
  'delay-next-writes': [['store', 'count'], false],
  'fail-next-submissions': [['store', 'count'], false],
  'fail-next-commits': [['store', 'count'], false],
  'release-next': [['store', 'order'], true],
  'release-all': [['store', 'order'], true],
  'release-specific': [['store', 'op-id'], true],
  'pending-ids': [['store'], true],
  'pending-count': [['store'], true],
};

/** A result<_, store-error> the bindings threw as a ComponentError. */
function componentError(error) {
  return error instanceof Error && error.constructor?.name === 'ComponentError' && 'payload' in error;
}

/** A new store and its controller, through the `testing` export. */
function withController(store, controllerOf) {
  return [store, controllerOf(store)];
}

/**
 * Every row of a paged listing, read in pages of SMALL_PAGE: `read(after,
 * limit)` returns the rows strictly after the cursor `after` (undefined: from
 * the start), and a page shorter than `limit` is the last; `cursor(row)` is
 * where the next page starts. The pages must add up to one read of MAX_PAGE
 * rows (the scenario's listings are far shorter), in no more pages than that
 * takes, so a cursor that does not advance fails instead of looping.
 */
function readAll(read, cursor) {
  const whole = read(undefined, MAX_PAGE);
  assert.ok(whole.length < MAX_PAGE, 'a scenario listing fits one page of the largest size');
  const rows = [];
  let after;
  for (let pages = 0; ; pages++) {
    assert.ok(pages <= whole.length / SMALL_PAGE, `more pages than ${whole.length} rows make`);
    const page = read(after, SMALL_PAGE);
    assert.ok(page.length <= SMALL_PAGE, `a page of ${page.length} rows for a limit of ${SMALL_PAGE}`);
    rows.push(...page);
    if (page.length < SMALL_PAGE) break;
    after = cursor(page[page.length - 1]);
  }
  assert.deepStrictEqual(fromWit(rows), fromWit(whole), 'the pages differ from the whole listing');
  return rows;
}

// Where the next page of a findings layer starts: the row's (tenant, id).
const findingRef = ({ tenantId, findingId }) => ({ tenantId, findingId });
const occurrenceRef = ({ tenantId, occurrenceId }) => ({ tenantId, occurrenceId });
const observationRef = ({ tenantId, observationId }) => ({ tenantId, observationId });

class Runner {
  #api;
  #stores = new Map(); // name -> { kind, store, controller }
  #handles = new Map(); // name -> write resource

  constructor(api) {
    this.#api = api;
  }

  #store(step, kind) {
    const entry = this.#stores.get(step.store);
    if (!entry || (kind && entry.kind !== kind)) throw new Error(`no ${kind ?? 'store'} named ${step.store}`);
    return entry;
  }

  /** Runs a submission; its op id, or the store error it was rejected with. */
  #submit(step, submit) {
    let write;
    try {
      write = submit();
    } catch (error) {
      if (componentError(error)) return { error: fromWit(error.payload) };
      throw error;
    }
    if (this.#handles.has(step.handle)) throw new Error(`handle name ${step.handle} is already in use`);
    this.#handles.set(step.handle, write);
    return { 'op-id': fromWit(write.operationId()) };
  }

  /** What the step reports, in the scenario's JSON; undefined if nothing. */
  run(step) {
    const { op } = step;
    switch (op) {
      case 'new-ledger':
      case 'new-sink': {
        if (this.#stores.has(step.store)) throw new Error(`store name ${step.store} is already in use`);
        if (typeof step['auto-complete'] !== 'boolean') throw new Error('auto-complete must be true or false');
        const { doneLedger, findings, testing } = this.#api;
        const [kind, store, controller] = op === 'new-ledger'
          ? ['ledger', ...withController(new doneLedger.DoneLedger(), testing.ledgerController)]
          : ['sink', ...withController(new findings.FindingsSink(), testing.sinkController)];
        // A new store auto-completes; the scenario's flag is a setting of
        // the store's controls, made before anything else happens to it.
        if (!step['auto-complete']) controller.setAutoComplete(false);
        this.#stores.set(step.store, { kind, store, controller });
        return undefined;
      }
      case 'batch-upsert': {
        const { store } = this.#store(step, 'ledger');
        const once = step.records.map(toWit);
        const times = step.repeat === undefined ? 1 : Number(u64(step.repeat));
        const records = Array.from({ length: once.length * times }, (_, i) => once[i % once.length]);
        return this.#submit(step, () => store.batchUpsert(records));
      }
      case 'upsert-batch': {
        const { store } = this.#store(step, 'sink');
        const [findings, occurrences, observations] =
          [step.findings, step.occurrences, step.observations].map((rows) => rows.map(toWit));
        return this.#submit(step, () => store.upsertBatch(findings, occurrences, observations));
      }
      case 'poll': {
        const write = this.#handles.get(step.handle);
        if (!write) throw new Error(`no accepted write named ${step.handle}`);
        const outcome = write.poll();
        if (outcome === undefined) return 'pending';
        // The outcome is handed out once; the Rust host cannot poll a
        // settled handle at all, so neither does the scenario.
        this.#handles.delete(step.handle);
        if (outcome.tag === 'ok') return { receipt: fromWit(outcome.val) };
        if (outcome.tag === 'err') return { error: fromWit(outcome.val) };
        throw new Error(`poll returned ${String(outcome)}`);
      }
      case 'batch-get':
        return fromWit(this.#store(step, 'ledger').store.batchGet(
          digest(step.tenant), digest(step.policy), step.ovids.map(digest)));
      case 'list-done-hashes': {
        const { store } = this.#store(step, 'ledger');
        const [tenant, policy] = [digest(step.tenant), digest(step.policy)];
        const hashes = fromWit(readAll((after, limit) => store.listDoneHashes(tenant, policy, after, limit), (h) => h));
        // Ascending by bytes: for hex digests, as strings.
        assert.deepStrictEqual(hashes, [...hashes].sort(), 'list-done-hashes must be ascending');
        return hashes;
      }
      case 'count-done-hashes':
        return fromWit(this.#store(step, 'ledger').store.countDoneHashes(digest(step.tenant), digest(step.policy)));
      case 'get-record':
        return fromWit(this.#store(step, 'ledger').store.getRecord(toWit(step.key)));
      case 'snapshot': {
        const { store } = this.#store(step, 'ledger');
        return fromWit(readAll((after, limit) => store.snapshot(after, limit), (row) => row.key));
      }
      case 'durable-counts':
        return fromWit(this.#store(step, 'sink').store.durableCounts());
      case 'get-finding':
        return fromWit(this.#store(step, 'sink').store.getFinding(digest(step.tenant), digest(step.id)));
      case 'get-occurrence':
        return fromWit(this.#store(step, 'sink').store.getOccurrence(digest(step.tenant), digest(step.id)));
      case 'get-observation':
        return fromWit(this.#store(step, 'sink').store.getObservation(digest(step.tenant), digest(step.id)));
      case 'findings-snapshot': {
        const { store } = this.#store(step, 'sink');
        return fromWit(readAll((after, limit) => store.findingsSnapshot(after, limit), findingRef));
      }
      case 'occurrences-snapshot': {
        const { store } = this.#store(step, 'sink');
        return fromWit(readAll((after, limit) => store.occurrencesSnapshot(after, limit), occurrenceRef));
      }
      case 'observations-snapshot': {
        const { store } = this.#store(step, 'sink');
        return fromWit(readAll((after, limit) => store.observationsSnapshot(after, limit), observationRef));
      }
      default:
        return this.#control(step);
    }
  }

  #control(step) {
    const { controller } = this.#store(step);
    switch (step.op) {
      case 'set-auto-complete':
        if (typeof step.on !== 'boolean') throw new Error('on must be true or false');
        controller.setAutoComplete(step.on);
        return undefined;
      case 'delay-next-writes':
        controller.delayNextWrites(u64(step.count));
        return undefined;
      case 'fail-next-submissions':
        controller.failNextSubmissions(u64(step.count));
        return undefined;
      case 'fail-next-commits':
        controller.failNextCommits(u64(step.count));
        return undefined;
      case 'release-next':
        return fromWit(controller.releaseNext(step.order));
      case 'release-specific':
        return controller.releaseSpecific(u64(step['op-id']));
      case 'release-all':
        return fromWit(controller.releaseAll(step.order));
      case 'pending-ids':
        return fromWit(controller.pendingIds());
      case 'pending-count':
        return fromWit(controller.pendingCount());
      default:
        throw new Error(`unknown op ${step.op}`);
    }
  }

  /** Runs one step and compares its outcome with the step's `expect`. */
  check(step) {
    const signature = SIGNATURES[step.op];
    if (!signature) throw new Error(`unknown op ${JSON.stringify(step.op)}`);
    const [own, reports] = signature;
    const unknown = Object.keys(step).find((k) => !COMMON.includes(k) && !own.includes(k));
    if (unknown) throw new Error(`unknown field ${JSON.stringify(unknown)} (allowed: ${[...COMMON, ...own]})`);
    const hasExpect = Object.hasOwn(step, 'expect');
    if (reports && !hasExpect) throw new Error(`${step.op} reports an outcome, so the step needs an "expect"`);
    if (!reports && hasExpect) throw new Error(`${step.op} reports nothing; remove its "expect"`);
    const actual = this.run(step);
    if (reports) assert.deepStrictEqual(canonical(actual), canonical(step.expect));
    else assert.equal(actual, undefined);
  }
}

function label(index, step) {
  return `step ${index} (${step.op} ${step.handle ?? step.store ?? ''})`;
}

// ---- the tests ----

test('the transpiled component needs no imports (no WASI shim)', () => {
  const source = readFileSync(modulePath, 'utf8');
  const imports = source.split('\n').filter((line) => /^\s*import\s/.test(line));
  assert.deepStrictEqual(imports, [], `${modulePath} imports something`);
});

test('scenario.json through the jco-transpiled component', async () => {
  const api = await loadComponent();
  const steps = loadSteps();
  const runner = new Runner(api);
  steps.forEach((step, index) => {
    try {
      runner.check(step);
    } catch (error) {
      error.message = `${label(index, step)}: ${error.message}`;
      throw error;
    }
  });
});
