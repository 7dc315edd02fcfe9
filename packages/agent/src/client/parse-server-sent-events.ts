/**
 * One dispatched server-sent event.
 *
 * @example
 * ```ts
 * const event: ServerSentEvent = { event: "approval", data: "{\"status\":\"pending\"}", id: undefined };
 * ```
 */
export interface ServerSentEvent {
  /** The `event:` field; "message" when the event had none. */
  readonly event: string;
  /** The `data:` lines joined with "\n". */
  readonly data: string;
  /** The `id:` field, when the event had one. */
  readonly id: string | undefined;
}

/**
 * Parses a `text/event-stream` body into events, following the HTML standard's "Parsing an event
 * stream": UTF-8, lines ended by CRLF, LF or CR, comments (`:`) ignored, `data` lines joined with
 * LF, an event dispatched at each blank line, an unfinished event at the end dropped.
 *
 * @example
 * ```ts
 * for await (const { event, data } of parseServerSentEvents(response.body)) console.log(event, data);
 * ```
 */
export async function* parseServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  let pendingCr = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      let text = decoder.decode(value, { stream: true });
      // A CR that ended the previous chunk already ended its line; an LF right after it is part of that break.
      if (pendingCr && text.startsWith("\n")) text = text.slice(1);
      pendingCr = text.endsWith("\r");
      buffer += text;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "") {
          if (data.length > 0) yield { event: event === "" ? "message" : event, data: data.join("\n"), id };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id" && !value.includes("\0")) id = value;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
