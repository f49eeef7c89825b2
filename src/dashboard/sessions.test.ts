import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SESSIONS, Sessions, clearedCookie, csrfMatches, readCookie, sessionCookie } from './sessions.ts';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('a session lives until its lifetime, its idle timeout or a rotation', () => {
  const c = clock();
  let epoch = 'a';
  const s = new Sessions({ epoch: () => epoch, now: c.now, lifetimeMs: 10_000, idleMs: 4_000 });
  const one = s.create();
  assert.ok(s.get(one.id));
  c.advance(3_000);
  assert.ok(s.get(one.id), 'used within the idle timeout');
  c.advance(3_000);
  assert.ok(s.get(one.id));
  c.advance(4_000);
  assert.equal(s.get(one.id), undefined, 'idle too long, or past its lifetime');

  const two = s.create();
  c.advance(3_000);
  assert.ok(s.get(two.id));
  epoch = 'b';
  assert.equal(s.get(two.id), undefined, 'the token was rotated');

  const three = s.create();
  for (let i = 0; i < 3; i++) {
    c.advance(3_000);
    assert.ok(s.get(three.id));
  }
  c.advance(1_001);
  assert.equal(s.get(three.id), undefined, 'past its absolute lifetime though used');
});

test('ids and CSRF tokens are random, unknown ids find nothing, logout ends one', () => {
  const s = new Sessions({ epoch: () => 'e' });
  const a = s.create();
  const b = s.create();
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.session.csrf, b.session.csrf);
  assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(s.get('nope'), undefined);
  assert.equal(s.get(undefined), undefined);
  assert.equal(s.get(''), undefined);
  s.delete(a.id);
  assert.equal(s.get(a.id), undefined);
  assert.ok(s.get(b.id));
  assert.ok(csrfMatches(b.session, b.session.csrf));
  assert.ok(!csrfMatches(b.session, a.session.csrf));
  assert.ok(!csrfMatches(b.session, undefined));
  assert.ok(!csrfMatches(b.session, ''));
});

test('at most MAX_SESSIONS are held; the oldest goes first', () => {
  const s = new Sessions({ epoch: () => 'e' });
  const first = s.create();
  for (let i = 0; i < MAX_SESSIONS; i++) s.create();
  assert.equal(s.size, MAX_SESSIONS);
  assert.equal(s.get(first.id), undefined);
});

test('cookies: HttpOnly, SameSite=Strict, bounded; parsed from a Cookie header', () => {
  const c = sessionCookie('abc', 12 * 3600 * 1000);
  assert.match(c, /^nv_session=abc; /);
  assert.match(c, /HttpOnly/);
  assert.match(c, /SameSite=Strict/);
  assert.match(c, /Max-Age=43200/);
  assert.match(clearedCookie(), /Max-Age=0/);
  assert.equal(readCookie('a=1; nv_session=xyz; b=2', 'nv_session'), 'xyz');
  assert.equal(readCookie(['a=1', 'nv_session=q'], 'nv_session'), 'q');
  assert.equal(readCookie('nv_sessionx=1', 'nv_session'), undefined);
  assert.equal(readCookie(undefined, 'nv_session'), undefined);
});
