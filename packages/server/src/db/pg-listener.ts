import { Client, type ClientConfig } from "pg";
import { createChannelRegistry } from "./channel-registry.ts";

/** Options for {@link createPgListener}. */
export interface PgListenerOptions {
  /** Connection settings for the dedicated LISTEN connection. */
  connection: ClientConfig;
  /** First delay before reconnecting a dropped connection; doubles up to `maxReconnectDelayMs`. */
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
  /** Receives connection failures and errors thrown by notification callbacks. */
  onError: (error: Error) => void;
}

/** LISTEN/NOTIFY over one dedicated PostgreSQL connection. */
export interface PgListener {
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * A LISTEN connection kept outside the pool: a pooled connection would lose its subscriptions
 * when released. It connects on the first `listen`, re-subscribes every channel after it drops
 * (with exponential back-off), and is closed with the database.
 */
export function createPgListener(options: PgListenerOptions): PgListener {
  let client: Client | undefined;
  let connecting: Promise<Client> | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let reconnectDelay = options.reconnectDelayMs;
  let closed = false;

  const registry = createChannelRegistry({
    async subscribe(quoted) {
      const connected = await ensureClient();
      // connect() also subscribes every channel already registered; LISTEN is idempotent.
      await connected.query(`LISTEN ${quoted}`);
    },
    async unsubscribe(quoted) {
      // A connection that is down has no subscription to remove, and the reconnect will not
      // restore this one.
      await client?.query(`UNLISTEN ${quoted}`).catch(() => {});
    },
    onError: options.onError,
  });

  const dropped = (lost: Client): void => {
    if (client !== lost) {
      return;
    }
    client = undefined;
    lost.removeAllListeners("notification");
    void lost.end().catch(() => {});
    scheduleReconnect();
  };

  const connect = async (): Promise<Client> => {
    const next = new Client(options.connection);
    next.on("notification", (message) => registry.dispatch(message.channel, message.payload ?? ""));
    // Without an 'error' handler a dropped connection would crash the process.
    next.on("error", (error) => {
      options.onError(new Error("the PostgreSQL LISTEN connection failed; reconnecting", { cause: error }));
      dropped(next);
    });
    next.on("end", () => dropped(next));
    try {
      await next.connect();
      for (const quoted of registry.quotedChannels()) {
        await next.query(`LISTEN ${quoted}`);
      }
    } catch (error) {
      next.removeAllListeners("end");
      void next.end().catch(() => {});
      throw error;
    }
    return next;
  };

  function ensureClient(): Promise<Client> {
    if (closed) {
      return Promise.reject(new Error("the database is closed"));
    }
    if (client !== undefined) {
      return Promise.resolve(client);
    }
    connecting ??= connect().then(
      (connected) => {
        connecting = undefined;
        if (closed) {
          connected.removeAllListeners("end");
          void connected.end().catch(() => {});
          throw new Error("the database is closed");
        }
        client = connected;
        reconnectDelay = options.reconnectDelayMs;
        return connected;
      },
      (error: unknown) => {
        connecting = undefined;
        throw error;
      },
    );
    return connecting;
  }

  function scheduleReconnect(): void {
    if (closed || registry.quotedChannels().length === 0 || reconnectTimer !== undefined) {
      return;
    }
    const delay = reconnectDelay;
    reconnectDelay = Math.min(reconnectDelay * 2, options.maxReconnectDelayMs);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      ensureClient().catch((error: unknown) => {
        if (!closed) {
          options.onError(new Error("reconnecting the PostgreSQL LISTEN connection failed", { cause: error }));
          scheduleReconnect();
        }
      });
    }, delay);
    // A pending reconnect alone should not keep a finished process alive.
    reconnectTimer.unref();
  }

  return {
    listen(channel, onPayload) {
      if (closed) {
        return Promise.reject(new Error("the database is closed"));
      }
      return registry.listen(channel, onPayload);
    },
    async close() {
      closed = true;
      clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      registry.clear();
      const current = client ?? (await connecting?.catch(() => undefined));
      client = undefined;
      if (current !== undefined) {
        current.removeAllListeners("end");
        await current.end().catch(() => {});
      }
    },
  };
}
