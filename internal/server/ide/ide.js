// GraphiQL on this server's own endpoint: queries and mutations over
// HTTP, subscriptions over a websocket (graphql-transport-ws). The
// Headers tab is sent with both: on the socket as connection_init's
// payload, which is where the server reads the token.
(function () {
  'use strict';
  var wsScheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  var fetcher = GraphiQL.createFetcher({
    url: location.origin + '/graphql',
    subscriptionUrl: wsScheme + location.host + '/graphql',
  });
  var defaultQuery = [
    '# Sign in (make run prints the demo logins), then put the token in the',
    '# Headers tab below as {"Authorization": "Bearer <token>"}: queries and',
    '# subscriptions both send it.',
    'mutation SignIn {',
    '  loginPatient(login: "maria@demo.healthmed.dev", password: "") {',
    '    token',
    '    expiresAt',
    '  }',
    '}',
    '',
  ].join('\n');
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: 'headers',
    }),
  );
})();
