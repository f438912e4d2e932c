// The error shapes the client recognises, as Apollo Client 4 raises them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { errorReason, isRefetchRequired, isTokenRefused, isUnauthenticated } from '../src/index.js';

const body = (code: string, reason?: string, path?: string[]) =>
  JSON.stringify({ errors: [{ message: 'm', ...(path ? { path } : {}), extensions: { code, ...(reason ? { reason } : {}) } }] });

test('a refused token is recognised in each shape a server may answer', () => {
  const http401 = new ServerError('401', { response: new Response(body('UNAUTHENTICATED'), { status: 401 }), bodyText: body('UNAUTHENTICATED') });
  const inResult = JSON.parse(body('UNAUTHENTICATED', 'TOKEN_EXPIRED')) as { errors: [] };
  const combined = new CombinedGraphQLErrors(inResult);
  assert.ok(isUnauthenticated(http401));
  assert.ok(isUnauthenticated(inResult));
  assert.ok(isUnauthenticated(combined));
  assert.equal(errorReason(combined.errors[0]), 'TOKEN_EXPIRED');

  const forbidden = new CombinedGraphQLErrors(JSON.parse(body('FORBIDDEN')) as { errors: [] });
  const http503 = new ServerError('503', { response: new Response('', { status: 503 }), bodyText: '' });
  assert.ok(!isUnauthenticated(forbidden));
  assert.ok(!isUnauthenticated(http503));
  assert.ok(!isUnauthenticated(new Error('network')));
});

test('a resumption the server cannot serve asks for a refetch', () => {
  assert.ok(isRefetchRequired(new CombinedGraphQLErrors(JSON.parse(body('CONFLICT', 'REFETCH_REQUIRED')) as { errors: [] })));
  assert.ok(!isRefetchRequired(new CombinedGraphQLErrors(JSON.parse(body('CONFLICT', 'SLOT_TAKEN')) as { errors: [] })));
});

test('only a refusal of the token is worth a refresh, not a wrong password', () => {
  const http401 = new ServerError('401', { response: new Response(body('UNAUTHENTICATED'), { status: 401 }), bodyText: body('UNAUTHENTICATED') });
  const request = JSON.parse(body('UNAUTHENTICATED')) as { errors: [] };
  const expiredOnField = JSON.parse(body('UNAUTHENTICATED', 'TOKEN_EXPIRED', ['appointments'])) as { errors: [] };
  const wrongPassword = JSON.parse(body('UNAUTHENTICATED', undefined, ['loginPatient'])) as { errors: [] };
  assert.ok(isTokenRefused(http401));
  assert.ok(isTokenRefused(request));
  assert.ok(isTokenRefused(expiredOnField));
  assert.ok(!isTokenRefused(wrongPassword));
  assert.ok(isUnauthenticated(wrongPassword));
});
