// The error shapes the client recognises, as Apollo Client 4 raises them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { errorReason, isRefetchRequired, isUnauthenticated } from '../src/index.js';

const body = (code: string, reason?: string) =>
  JSON.stringify({ errors: [{ message: 'm', extensions: { code, ...(reason ? { reason } : {}) } }] });

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
