// The README's refresh recipe with Apollo Client 4 against a real server:
// an expired access token is answered as a GraphQL error (HTTP 200,
// UNAUTHENTICATED/TOKEN_EXPIRED) that an error link sees, refreshes on
// (with the stale header still set) and retries once; and two tabs
// refreshing one token at once both get the same new refresh token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql as tag } from '@apollo/client';
import { ErrorLink } from '@apollo/client/link/error';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { from, switchMap } from 'rxjs';
import { startCluster, newDoctor, gql, sleep } from './cluster.js';

let cluster;
before(async () => { cluster = await startCluster({ HEALTHMED_TOKEN_TTL: '2s' }); });
after(async () => { await cluster?.stop(); });

const refreshOp = 'mutation($t: String!) { refreshSession(refreshToken: $t) { token refreshToken } }';

test('an auth link refreshes an expired token and retries', async () => {
  const url = cluster.replicas[0].url;
  const doctor = await newDoctor(url);
  const store = { token: doctor.token, refreshToken: doctor.refreshToken, refreshes: 0 };

  let refreshing = null; // one refresh at a time
  const refreshOnce = () => {
    refreshing ??= fetch(url + '/graphql', {
      method: 'POST',
      // The stale header goes along, as an auth link sends it.
      headers: { 'Content-Type': 'application/json', authorization: `Bearer ${store.token}` },
      body: JSON.stringify({ query: refreshOp, variables: { t: store.refreshToken } }),
    }).then((r) => r.json()).then(({ data, errors }) => {
      if (errors) throw new Error('signed out: ' + JSON.stringify(errors));
      store.refreshes++;
      Object.assign(store, data.refreshSession);
    }).finally(() => { refreshing = null; });
    return refreshing;
  };
  const auth = new ApolloLink((op, forward) => {
    op.setContext(({ headers }) => ({ headers: { ...headers, authorization: `Bearer ${store.token}` } }));
    return forward(op);
  });
  const retryExpired = new ErrorLink(({ error, operation, forward }) => {
    if (CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.reason === 'TOKEN_EXPIRED')) {
      return from(refreshOnce()).pipe(switchMap(() => forward(operation)));
    }
  });
  const client = new ApolloClient({
    link: ApolloLink.from([retryExpired, auth, new HttpLink({ uri: url + '/graphql' })]),
    cache: new InMemoryCache(),
  });
  const viewer = tag`query { viewer { __typename ... on Doctor { id timezone } } }`;

  await sleep(3500); // the access token (2 s) has expired
  const res = await client.query({ query: viewer, fetchPolicy: 'no-cache' });
  assert.equal(res.data.viewer.__typename, 'Doctor');
  assert.equal(store.refreshes, 1);

  // Two tabs with the same refresh token: the same new one for both,
  // and it works.
  const [a, b] = await Promise.all([gql(url, '', refreshOp, { t: store.refreshToken }), gql(url, '', refreshOp, { t: store.refreshToken })]);
  assert.equal(a.refreshSession.refreshToken, b.refreshSession.refreshToken);
  await gql(url, '', refreshOp, { t: a.refreshSession.refreshToken });
});
