import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import { SessionEndedError, type Session } from './session.js';

export interface LiveClientOptions {
  /** The websocket endpoint, e.g. `wss://api.example.org/graphql`. */
  url: string;
  session: Session;
  /** A WebSocket implementation where the platform has none (Node: `ws`). */
  webSocketImpl?: unknown;
  /** Ping interval; a pong missing for as long closes the socket, which then reconnects. */
  keepAliveMs?: number;
  /** More graphql-ws options (lazy, on...), given as they are. */
  options?: Partial<ClientOptions>;
}

// The server's close codes (README, "Websocket clients"): 4403 for a
// token it does not take (missing, expired, or its sign-in ended), 1012
// while it stops. graphql-ws retries on both; 4403 also tells the session
// that its token is refused, whatever the device's clock says.
const TOKEN_REFUSED = 4403;

/**
 * liveClient opens the subscriptions' websocket. connectionParams is a
 * function, so every reconnect hands over a fresh token; retries go on
 * without a limit while signed in. The server resumes each subscription
 * where the sign-in left it, so nothing else is needed to miss no event
 * across a dropped network, a deploy or a token refresh.
 */
export function liveClient(opts: LiveClientOptions): Client {
  const { session } = opts;
  let sent: string | null = null;
  let socket: { readyState: number; close(code?: number, reason?: string): void } | null = null;
  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  const keepAlive = opts.keepAliveMs ?? 10_000;
  const on = opts.options?.on ?? {};

  return createClient({
    lazy: true,
    ...opts.options,
    url: opts.url,
    webSocketImpl: opts.webSocketImpl,
    keepAlive,
    connectionParams: async () => {
      sent = await session.accessToken();
      // Signed out: a client error graphql-ws does not retry; a later
      // subscription after signing in again opens a new socket.
      if (!sent) throw new SessionEndedError();
      return { authorization: `Bearer ${sent}` };
    },
    retryAttempts: Infinity,
    // A lost network shows as an error, not a close: retry those too.
    shouldRetry: () => session.signedIn,
    retryWait: (retries) => new Promise((r) => setTimeout(r, Math.min(250 * 2 ** retries, 4000) + Math.random() * 250)),
    on: {
      ...on,
      connected: (s, payload, wasRetry) => {
        socket = s as typeof socket;
        on.connected?.(s, payload, wasRetry);
      },
      ping: (received, payload) => {
        // a ping of ours waits for its pong for one interval
        if (!received && keepAlive > 0) {
          clearTimeout(pongTimer);
          pongTimer = setTimeout(() => {
            if (socket?.readyState === 1) socket.close(4408, 'pong timeout');
          }, keepAlive);
        }
        on.ping?.(received, payload);
      },
      pong: (received, payload) => {
        if (received) clearTimeout(pongTimer);
        on.pong?.(received, payload);
      },
      closed: (event) => {
        clearTimeout(pongTimer);
        socket = null;
        if ((event as { code?: number } | null)?.code === TOKEN_REFUSED && sent) session.refused(sent);
        on.closed?.(event);
      },
    },
  });
}
