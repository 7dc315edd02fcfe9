import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { SMTPServer, type SMTPServerSession } from "smtp-server";
import { createTestConfig } from "../../test-support/test-app.ts";
import { createMailer } from "./create-mailer.ts";
import { createSmtpMailer } from "./smtp-mailer.ts";

interface Received {
  readonly mailFrom: string;
  readonly rcptTo: string[];
  readonly raw: string;
}

/** A real SMTP server on 127.0.0.1 (random port, no TLS, no AUTH) that keeps what it receives. */
async function startRelay(options: { refuse?: string } = {}) {
  const received: Received[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address === options.refuse) return callback(new Error("550 no such mailbox"));
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const envelope = session.envelope;
        received.push({
          mailFrom: envelope.mailFrom === false ? "" : envelope.mailFrom.address,
          rcptTo: envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Splits a raw message into unfolded headers (by lower-case name) and the body. */
function parse(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf("\r\n\r\n");
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, " ")
    .split("\r\n")) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(split + 4) };
}

describe("mail over SMTP (nodemailer against a real local SMTP server)", () => {
  let relay: Awaited<ReturnType<typeof startRelay>>;
  before(async () => {
    relay = await startRelay({ refuse: "nobody@example.com" });
  });
  after(() => relay.close());

  it("delivers a code mail with the right envelope, headers and body, and the code can be read from it", async () => {
    const mailer = createSmtpMailer({ smtpUrl: relay.url, from: "Countersign <no-reply@countersign.test>" });
    try {
      await mailer.send({
        to: "ada@example.com",
        subject: "Your Countersign code",
        text: "Your sign-up code is 482913.\nIt expires in 10 minutes.",
      });
    } finally {
      await mailer.close();
    }
    const mail = relay.received.at(-1);
    assert.ok(mail);
    assert.equal(mail.mailFrom, "no-reply@countersign.test");
    assert.deepEqual(mail.rcptTo, ["ada@example.com"]);
    const { headers, body } = parse(mail.raw);
    assert.equal(headers.get("from"), "Countersign <no-reply@countersign.test>");
    assert.equal(headers.get("to"), "ada@example.com");
    assert.equal(headers.get("subject"), "Your Countersign code");
    assert.match(headers.get("content-type") ?? "", /^text\/plain; charset=utf-8$/i);
    assert.match(headers.get("message-id") ?? "", /^<[^>]+@countersign\.test>$/);
    assert.ok(headers.has("date"));
    assert.equal(headers.has("bcc"), false);
    assert.equal(body.trimEnd(), "Your sign-up code is 482913.\r\nIt expires in 10 minutes.");
    assert.equal(/\b(\d{6})\b/.exec(body)?.[1], "482913");
  });

  it("encodes a non-ASCII subject and body (RFC 2047, quoted-printable)", async () => {
    const mailer = createSmtpMailer({ smtpUrl: relay.url, from: "Countersign <no-reply@countersign.test>" });
    await mailer.send({ to: "zoë@example.com", subject: "Votre code — Countersign", text: "Code : 120034 ✓" });
    await mailer.close();
    const { headers, body } = parse(relay.received.at(-1)?.raw ?? "");
    assert.match(headers.get("subject") ?? "", /^=\?UTF-8\?[QB]\?/);
    assert.match(body, /120034/);
  });

  it("is what createMailer builds when SMTP_URL is set", async () => {
    const config = createTestConfig({ SMTP_URL: relay.url, COUNTERSIGN_MAIL_FROM: "Ops <ops@countersign.test>" });
    const mailer = createMailer(config, { out: { write: () => assert.fail("printed instead of sent") } });
    await mailer.send({ to: "bob@example.com", subject: "Hello", text: "Body" });
    await mailer.close();
    const mail = relay.received.at(-1);
    assert.deepEqual(mail?.rcptTo, ["bob@example.com"]);
    assert.equal(mail?.mailFrom, "ops@countersign.test");
  });

  it("rejects with a fixed message and the cause when the relay refuses the recipient", async () => {
    const mailer = createSmtpMailer({ smtpUrl: relay.url, from: "no-reply@countersign.test" });
    await assert.rejects(mailer.send({ to: "nobody@example.com", subject: "Code", text: "secret 999111" }), (error) => {
      assert.ok(error instanceof Error);
      assert.equal(error.message, "the mail relay did not accept the message");
      assert.ok(error.cause instanceof Error);
      assert.doesNotMatch(`${error.message} ${(error.cause as Error).message}`, /999111/);
      return true;
    });
    await mailer.close();
  });

  it("rejects when the relay cannot be reached", async () => {
    const closed = await startRelay();
    await closed.close();
    const mailer = createSmtpMailer({ smtpUrl: closed.url, from: "no-reply@countersign.test" });
    await assert.rejects(mailer.send({ to: "ada@example.com", subject: "Code", text: "x" }), {
      message: "the mail relay did not accept the message",
    });
    await mailer.close();
    await assert.rejects(mailer.send({ to: "ada@example.com", subject: "Code", text: "x" }), /closed/);
  });

  it("refuses header injection and lists of recipients before anything is sent", async () => {
    const mailer = createSmtpMailer({ smtpUrl: relay.url, from: "no-reply@countersign.test" });
    const count = relay.received.length;
    for (const message of [
      { to: "ada@example.com", subject: "Code\r\nBcc: eve@example.com", text: "x" },
      { to: "ada@example.com\r\nBcc: eve@example.com", subject: "Code", text: "x" },
      { to: "ada@example.com, eve@example.com", subject: "Code", text: "x" },
      { to: "Ada <ada@example.com>", subject: "Code", text: "x" },
      { to: "ada@example.com", subject: "", text: "x" },
      { to: "ada@example.com", subject: "Code", text: "\ud800" },
    ]) {
      await assert.rejects(mailer.send(message), TypeError, JSON.stringify(message));
    }
    await mailer.close();
    assert.equal(relay.received.length, count);
  });
});
