import { quoteIdentifier } from "./quote-identifier.ts";

/** How a registry turns subscriptions into SQL on its connection. */
export interface ChannelRegistryOptions {
  /** Runs `LISTEN <quoted>`; resolves once it has run. */
  subscribe(quotedChannel: string): Promise<void>;
  /** Runs `UNLISTEN <quoted>`, best effort. */
  unsubscribe(quotedChannel: string): Promise<void>;
  /** Receives errors thrown by notification callbacks. */
  onError(error: Error): void;
}

/** The callbacks subscribed per channel, shared by both adapters' `listen`. */
export interface ChannelRegistry {
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Calls the callbacks of `channel`; an exception in one is reported and the rest still run. */
  dispatch(channel: string, payload: string): void;
  /** Channels with at least one subscriber, quoted, for re-subscribing after a reconnect. */
  quotedChannels(): string[];
  clear(): void;
}

interface ChannelState {
  callbacks: Set<(payload: string) => void>;
  /** Settles when the LISTEN for this channel has run. */
  subscribed: Promise<void>;
}

/**
 * Keeps one LISTEN per channel however many callbacks subscribe to it, and UNLISTENs when the
 * last one leaves. Channel names are case-sensitive and quoted, so `listen("Approvals")` hears
 * `pg_notify('Approvals', …)` on both databases.
 */
export function createChannelRegistry(options: ChannelRegistryOptions): ChannelRegistry {
  const channels = new Map<string, ChannelState>();

  return {
    async listen(channel, onPayload) {
      const quoted = quoteIdentifier(channel);
      let state = channels.get(channel);
      if (state === undefined) {
        const created: ChannelState = { callbacks: new Set(), subscribed: Promise.resolve() };
        created.subscribed = options.subscribe(quoted).catch((error: unknown) => {
          if (channels.get(channel) === created) {
            channels.delete(channel);
          }
          throw new Error(`cannot LISTEN on channel "${channel}"`, { cause: error });
        });
        channels.set(channel, created);
        state = created;
      }
      const current = state;
      // A wrapper per call, so the same function subscribed twice is unsubscribed once per call.
      const subscription = (payload: string): void => onPayload(payload);
      current.callbacks.add(subscription);
      try {
        // Every caller waits for the LISTEN, so a NOTIFY sent after listen() resolves arrives.
        await current.subscribed;
      } catch (error) {
        current.callbacks.delete(subscription);
        throw error;
      }
      let active = true;
      return async () => {
        if (!active) {
          return;
        }
        active = false;
        current.callbacks.delete(subscription);
        if (current.callbacks.size === 0 && channels.get(channel) === current) {
          channels.delete(channel);
          await options.unsubscribe(quoted);
        }
      };
    },
    dispatch(channel, payload) {
      for (const callback of channels.get(channel)?.callbacks ?? []) {
        try {
          callback(payload);
        } catch (error) {
          options.onError(new Error(`a listener on channel "${channel}" threw`, { cause: error }));
        }
      }
    },
    quotedChannels() {
      return [...channels.keys()].map(quoteIdentifier);
    },
    clear() {
      channels.clear();
    },
  };
}
