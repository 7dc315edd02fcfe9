import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { utf8 } from "@countersign/protocol";
import { parseServerSentEvents, type ServerSentEvent } from "./parse-server-sent-events.ts";

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function parse(chunks: Uint8Array[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of parseServerSentEvents(streamOf(chunks))) events.push(event);
  return events;
}

const TEXT =
  'retry: 2000\n: a comment\nevent: approval\nid: apr_1:pending\ndata: {"status":"pending",\ndata: "x":1}\n\n' +
  ':\r\nevent: approval\r\ndata:{"status":"approved"}\r\n\r\n' +
  "data: no event name\r\r" +
  "event: unfinished\ndata: dropped";

const EXPECTED: ServerSentEvent[] = [
  { event: "approval", data: '{"status":"pending",\n"x":1}', id: "apr_1:pending" },
  { event: "approval", data: '{"status":"approved"}', id: "apr_1:pending" },
  { event: "message", data: "no event name", id: "apr_1:pending" },
];

describe("parseServerSentEvents", () => {
  it("parses LF, CRLF and CR line breaks, comments, multi-line data, and drops an unfinished event", async () => {
    assert.deepEqual(await parse([utf8(TEXT)]), EXPECTED);
  });

  it("gives the same events however the bytes are split, even inside a CRLF or a UTF-8 character", async () => {
    const bytes = utf8(`${TEXT.slice(0, 40)}é€${TEXT.slice(40)}`);
    const whole = await parse([bytes]);
    assert.equal(whole.length, 3);
    for (let cut = 1; cut < bytes.length; cut += 1) {
      assert.deepEqual(await parse([bytes.slice(0, cut), bytes.slice(cut)]), whole, `cut at ${cut}`);
    }
    assert.deepEqual(await parse([...bytes].map((b) => Uint8Array.of(b))), whole, "byte by byte");
  });
});
