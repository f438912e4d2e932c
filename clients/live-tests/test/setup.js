// The client set-up the README gives front-end developers, and nothing
// more: a connectionParams function (called again on every reconnect, so
// it hands over a fresh access token) and retries on anything, without
// a limit. The
// server resumes each subscription where the sign-in left it.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export function liveClient(url, auth) {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${await auth.accessToken()}` }),
    retryAttempts: Infinity,
    // A lost network shows as an error, not a close: retry that too.
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((r) => setTimeout(r, Math.min(250 * 2 ** retries, 4000) + Math.random() * 250)),
  });
}

export const agendaUpdated = 'subscription { agendaUpdated { id kind slot { id } } }';
