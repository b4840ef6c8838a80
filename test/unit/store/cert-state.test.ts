import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CertStateStore } from '../../../src/store/cert-state.ts';

const since = new Date('2027-01-01T00:00:00Z');

test('records survive a save and a load; the file is 0600; records of lines gone are dropped', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cert-state-'));
  const file = CertStateStore.fileIn(path.join(dir, '.certfleet'));
  const store = await CertStateStore.load(file);
  assert.equal(store.problem, null);
  store.set('a.pem', { issued: { certId: 'A.1', directory: 'https://ca/dir', account: 't', profile: null, at: '2027-02-01T00:00:00.000Z' } });
  store.set('gone.pem', { issued: { certId: 'G.1', directory: 'https://ca/dir', account: 't', profile: null, at: '2027-02-01T00:00:00.000Z' } });
  store.ledger.orders.push({ at: '2026-12-01T00:00:00.000Z', account: 't' }, { at: '2027-02-01T00:00:00.000Z', account: 't' });
  await store.save(new Set(['a.pem']), since);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const again = await CertStateStore.load(file);
  assert.equal(again.get('a.pem').issued?.certId, 'A.1');
  assert.deepEqual(again.get('gone.pem'), {});
  assert.deepEqual(again.ledger.orders.map((o) => o.at), ['2027-02-01T00:00:00.000Z'], 'ledger entries older than the cut are pruned');
});

test('a damaged file is read as empty with a warning, and a wrong-shaped record keeps only its sound parts', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cert-state-'));
  const file = path.join(dir, 'state.json');
  await writeFile(file, '{"version":1,"certs":{"x.pem":{"ari":{"certId":"X","nextPoll":7},"failure":{"context":"c","count":2,"until":"2027-01-01T01:00:00Z","last":"2027-01-01T00:00:00Z"}}}}');
  const partial = await CertStateStore.load(file);
  assert.equal(partial.problem, null);
  assert.equal(partial.get('x.pem').ari, undefined, 'an ARI record with a wrong field is dropped (costs a poll)');
  assert.equal(partial.get('x.pem').failure?.count, 2);
  await writeFile(file, 'garbage{');
  const broken = await CertStateStore.load(file);
  assert.match(broken.problem!, /state\.json: .*start afresh/);
  assert.deepEqual(broken.get('x.pem'), {});
  broken.set('y.pem', {});
  await broken.save(null, since);
  assert.equal(JSON.parse(await readFile(file, 'utf8')).version, 1, 'replaced at the next save');
});
