import { print } from 'graphql';
import { LogoutDocument, RefreshSessionDocument, type AuthTokensFragment } from './generated/graphql.js';
import { errorCode, type GraphQLErrorLike } from './errors.js';

/** A sign-in's token pair, as every sign-in mutation returns it. */
export type Tokens = AuthTokensFragment;

export interface SessionOptions {
  /** The API's HTTP endpoint, e.g. `https://api.example.org/graphql`. */
  url: string;
  /** A pair kept from an earlier run of the app. */
  tokens?: Tokens | null;
  /**
   * Called with each new pair (sign-in, refresh) and with null when the
   * sign-in ends: keep it where the platform keeps secrets.
   */
  onChange?: (tokens: Tokens | null) => void;
  fetch?: typeof fetch;
  /**
   * How long before `expiresAt` the token is refreshed: 30 s by default,
   * and never more than a fifth of the token's lifetime.
   */
  refreshAheadMs?: number;
  /** The device's clock, which may be wrong: the server's refusal corrects it. */
  now?: () => number;
}

/** The sign-in is over (signed out, revoked, or the refresh token refused). */
export class SessionEndedError extends Error {
  constructor(message = 'signed out') {
    super(message);
    this.name = 'SessionEndedError';
  }
}

/**
 * Session holds one sign-in and refreshes its access token one exchange
 * at a time: a refresh token is used up by its exchange, so every caller
 * that finds the token stale, or sees it refused, waits for the same
 * exchange rather than starting its own.
 */
export class Session {
  readonly #url: string;
  readonly #fetch: typeof fetch;
  readonly #onChange: (tokens: Tokens | null) => void;
  readonly #ahead: number;
  readonly #now: () => number;
  #tokens: Tokens | null;
  #refused: string | null = null;
  #refreshAt = 0;
  #refreshing: Promise<string> | null = null;

  constructor(opts: SessionOptions) {
    this.#url = opts.url;
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#onChange = opts.onChange ?? (() => {});
    this.#ahead = opts.refreshAheadMs ?? 30_000;
    this.#now = opts.now ?? Date.now;
    this.#tokens = null;
    if (opts.tokens) this.#keep(opts.tokens);
  }

  #keep(tokens: Tokens): void {
    const expires = Date.parse(tokens.expiresAt);
    this.#tokens = tokens;
    this.#refused = null;
    this.#refreshAt = expires - Math.min(this.#ahead, Math.max(0, expires - this.#now()) / 5);
  }

  get signedIn(): boolean {
    return this.#tokens !== null;
  }

  get tokens(): Tokens | null {
    return this.#tokens;
  }

  /** Starts a sign-in with the pair a login or registration returned. */
  signIn(tokens: Tokens): void {
    this.#keep(tokens);
    this.#onChange(tokens);
  }

  /** Forgets the sign-in locally; signOut also ends it on the server. */
  end(): void {
    if (this.#tokens === null) return;
    this.#tokens = null;
    this.#onChange(null);
  }

  /** Ends the sign-in on the server (every device's token of it) and here. */
  async signOut(): Promise<void> {
    const t = this.#tokens;
    this.end();
    if (t) await this.#post(print(LogoutDocument), { refreshToken: t.refreshToken }).catch(() => {});
  }

  /**
   * The token to send now, refreshed first when it is about to expire or
   * was refused; null when signed out.
   */
  async accessToken(): Promise<string | null> {
    if (this.#refreshing) return this.#refreshing;
    const t = this.#tokens;
    if (!t) return null;
    if (t.token !== this.#refused && this.#now() < this.#refreshAt) return t.token;
    return this.refresh(t.token);
  }

  /**
   * Called when the server refused stale: the first caller exchanges the
   * refresh token, everyone else waits for that exchange, and a caller
   * whose token was already replaced gets the new one at once. Rejects
   * with SessionEndedError when the sign-in is over.
   */
  refresh(stale: string): Promise<string> {
    if (this.#refreshing) return this.#refreshing;
    const t = this.#tokens;
    if (!t) return Promise.reject(new SessionEndedError());
    if (t.token !== stale) return Promise.resolve(t.token);
    const exchange = this.#exchange(t);
    this.#refreshing = exchange;
    const clear = () => {
      if (this.#refreshing === exchange) this.#refreshing = null;
    };
    exchange.then(clear, clear);
    return exchange;
  }

  /**
   * Marks token as refused without a round trip of its own (a websocket
   * closed with 4403): the next accessToken refreshes.
   */
  refused(token: string): void {
    if (this.#tokens?.token === token) this.#refused = token;
  }

  async #exchange(t: Tokens): Promise<string> {
    const body = await this.#post(print(RefreshSessionDocument), { refreshToken: t.refreshToken });
    const next = (body.data as { refreshSession?: Tokens } | null | undefined)?.refreshSession;
    // Signed out, or signed in again, while the exchange was under way.
    if (this.#tokens !== t) {
      if (this.#tokens) return this.#tokens.token;
      throw new SessionEndedError();
    }
    if (next) {
      this.signIn(next);
      return next.token;
    }
    const err = body.errors?.[0];
    if (errorCode(err) === 'UNAUTHENTICATED') {
      this.end();
      throw new SessionEndedError(err?.message);
    }
    throw new Error(`refreshSession failed: ${err?.message ?? 'no data'}`);
  }

  // The refresh is sent without the Authorization header: the token it
  // would carry is the stale one.
  async #post(query: string, variables: Record<string, unknown>): Promise<{ data?: unknown; errors?: GraphQLErrorLike[] }> {
    const res = await this.#fetch(this.#url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    try {
      return JSON.parse(text) as { data?: unknown; errors?: GraphQLErrorLike[] };
    } catch {
      throw new Error(`refreshSession: HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
  }
}
