import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTestConfig } from "../../test-support/test-app.ts";
import { createConsoleMailer } from "./console-mailer.ts";
import { createMailer } from "./create-mailer.ts";
import { createMemoryMailer } from "./memory-mailer.ts";

describe("the development mailers", () => {
  it("prints the whole message to its output when there is no SMTP_URL", async () => {
    let printed = "";
    const mailer = createMailer(createTestConfig(), { out: { write: (text: string) => (printed += text) } });
    await mailer.send({ to: "ada@example.com", subject: "Your Countersign code", text: "Your code is 482913." });
    await mailer.close();
    assert.match(printed, /From: Countersign <no-reply@localhost>\n/);
    assert.match(printed, /To: ada@example\.com\n/);
    assert.match(printed, /Subject: Your Countersign code\n/);
    assert.match(printed, /Your code is 482913\./);
  });

  it("checks messages like the SMTP mailer does", async () => {
    const mailer = createConsoleMailer({ from: "x@y.z", out: { write: () => assert.fail("printed") } });
    await assert.rejects(mailer.send({ to: "a@b.c", subject: "a\nb", text: "" }), TypeError);
  });

  it("keeps messages in memory for tests", async () => {
    const mailer = createMemoryMailer();
    await mailer.send({ to: "a@b.c", subject: "S", text: "T" });
    assert.deepEqual(mailer.sent, [{ to: "a@b.c", subject: "S", text: "T" }]);
    await assert.rejects(mailer.send({ to: "a@b.c, d@e.f", subject: "S", text: "T" }), TypeError);
    assert.equal(mailer.sent.length, 1);
  });
});
