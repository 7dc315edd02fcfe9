import assert from "node:assert/strict";
import { before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type TestAgent,
  type TestPerson,
} from "./test-support/approval-test-kit.ts";

// What an agent may put in a request (DESIGN §4.4), each limit at its boundary; text that could
// render differently from what it says (T-9); and what is sealed at rest (T-5).

describeEachDatabase("approval request input", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;
  let agent: TestAgent;
  let types = 0;

  before(async () => {
    // Every accepted boundary below is a new request: the throttles are not what is tested.
    kit = await createApprovalTestKit(ctx.db, {
      env: {
        COUNTERSIGN_APPROVAL_THROTTLE_AGENT_PER_MINUTE: "1000",
        COUNTERSIGN_APPROVAL_THROTTLE_USER_PER_MINUTE: "1000",
      },
    });
    alice = await kit.newPerson();
    agent = await kit.newAgent(alice, { allowed_actions: ["deploy.*", "x.*"] });
  });

  /** An action type no other request used, so an accepted one is always new (201). */
  function freshType(): string {
    types += 1;
    return `deploy.input${types}`;
  }

  async function rowCount(): Promise<number> {
    const { rows } = await ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM approval_requests WHERE agent_id = $1",
      [agent.id],
    );
    return rows[0]?.n ?? -1;
  }

  async function accepted(body: Record<string, unknown>, what: string): Promise<string> {
    const res = await kit.ask(agent, { ...ASK, action_type: freshType(), ...body });
    assert.equal(res.status, 201, `${what}: ${JSON.stringify(res.body)}`);
    return res.body.id;
  }

  async function refused(body: Record<string, unknown>, what: string): Promise<void> {
    const before = await rowCount();
    const res = await kit.ask(agent, { action_type: freshType(), ...body });
    assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
    assert.equal(res.code, "validation_failed", what);
    assert.equal(await rowCount(), before, `${what}: nothing written`);
  }

  const withAsk = (body: Record<string, unknown>) => ({ title: ASK.title, body: ASK.body, ...body });

  it("takes action types of the pattern up to 64 characters and refuses the others", async () => {
    const max = `deploy.${"a".repeat(57)}`;
    assert.equal(max.length, 64);
    await accepted({ action_type: max }, "64 characters");
    await accepted({ action_type: "x.0-9._:z" }, "every allowed character");
    for (const actionType of [
      `${max}a`,
      "Deploy.web",
      ".deploy",
      "-deploy",
      "deploy web",
      "deploy/web",
      "déploy.web",
      "",
    ]) {
      await refused(withAsk({ action_type: actionType }), `action_type ${JSON.stringify(actionType)}`);
    }
  });

  it("takes a title of 1 to 120 characters, a body up to 2,000 and a binding message of 1 to 64", async () => {
    await accepted({ title: "t".repeat(120) }, "title 120");
    await accepted({ title: "t" }, "title 1");
    await accepted({ body: "b".repeat(2000) }, "body 2000");
    await accepted({ body: "" }, "empty body");
    await accepted({ binding_message: "m".repeat(64) }, "binding_message 64");
    await refused(withAsk({ title: "t".repeat(121) }), "title 121");
    await refused(withAsk({ title: "" }), "empty title");
    await refused({ body: ASK.body }, "no title");
    await refused(withAsk({ body: "b".repeat(2001) }), "body 2001");
    await refused(withAsk({ binding_message: "m".repeat(65) }), "binding_message 65");
    await refused(withAsk({ binding_message: "" }), "empty binding_message");
    await refused(withAsk({ title: 42 }), "a title that is not text");
  });

  it("takes a TTL of 30 to 1,800 whole seconds", async () => {
    await accepted({ ttl_seconds: 30 }, "ttl 30");
    await accepted({ ttl_seconds: 1800 }, "ttl 1800");
    for (const ttl of [29, 1801, 0, -30, 30.5, "60"]) {
      await refused(withAsk({ ttl_seconds: ttl }), `ttl ${JSON.stringify(ttl)}`);
    }
  });

  it("takes a context object of at most 16 KiB, measured in UTF-8 bytes of its JSON", async () => {
    // {"k":"…"} is 8 bytes around the value; "é" is 2 bytes in UTF-8 but 1 character.
    const context = (valueBytes: number) => ({
      k: `${"é".repeat(Math.floor(valueBytes / 2))}${"a".repeat(valueBytes % 2)}`,
    });
    const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");
    assert.equal(size(context(16384 - 8)), 16384);
    assert.equal(size(context(16385 - 8)), 16385);
    await accepted({ context: context(16384 - 8) }, "16,384 bytes");
    await refused(withAsk({ context: context(16385 - 8) }), "16,385 bytes");
    await accepted({ context: {} }, "an empty object");
    for (const value of [[], ["a"], "text", 42, null, true]) {
      await refused(withAsk({ context: value }), `context ${JSON.stringify(value)}`);
    }
  });

  it("refuses fields it does not know", async () => {
    await refused(withAsk({ priority: "high" }), "an unknown field");
    await refused(withAsk({ number_match: "123456" }), "a number chosen by the agent");
    await refused(withAsk({ status: "approved" }), "a status chosen by the agent");
  });

  it("refuses bidirectional overrides, zero-width and control characters in anything shown", async () => {
    const tricks: [string, string][] = [
      ["right-to-left override", "\u202E"],
      ["left-to-right isolate", "\u2066"],
      ["zero-width space", "\u200B"],
      ["zero-width joiner", "\u200D"],
      ["byte order mark", "\uFEFF"],
      ["bell", "\u0007"],
      ["escape", "\u001B"],
      ["delete", "\u007F"],
      ["C1 control", "\u0085"],
      ["carriage return", "\r"],
    ];
    for (const [name, c] of tricks) {
      const text = `Deploy${c}api`;
      await refused(withAsk({ title: text }), `${name} in the title`);
      await refused(withAsk({ body: text }), `${name} in the body`);
      await refused(withAsk({ binding_message: text }), `${name} in the binding message`);
      await refused(withAsk({ context: { [text]: "value" } }), `${name} in a context key`);
      await refused(withAsk({ context: { key: text } }), `${name} in a context value`);
      await refused(withAsk({ context: { deep: { list: ["ok", text] } } }), `${name} deep in the context`);
    }
    await refused(withAsk({ title: "Line one\nline two" }), "a line break in the title");
    await refused(withAsk({ binding_message: "tab\there" }), "a tab in the binding message");
    await refused(withAsk({ context: { "key\nwith break": "value" } }), "a line break in a context key");
    // Plain line breaks and tabs are text in the body and in context values.
    await accepted({ body: "Line one\nline two\n\tindented", context: { notes: "a\nb" } }, "a multi-line body");
  });

  it("keeps the title, the body and the context sealed at rest, in the request row and the audit log", async () => {
    const secrets = {
      title: "Wire 48,200 EUR to ACME Holdings",
      body: "Invoice INV-SEALED-7731 for the quarterly retainer.",
      binding: "Payment ref PR-SEALED-55",
      contextValue: "acct-DE89370400440532013000",
      contextKey: "iban_sealed_key",
    };
    const id = await accepted(
      {
        title: secrets.title,
        body: secrets.body,
        binding_message: secrets.binding,
        context: { [secrets.contextKey]: secrets.contextValue, amount: "48200.00-SEALED" },
      },
      "a request with sensitive text",
    );
    // The person does see it: the texts searched for below are really in the request.
    const shown = await kit.personCall(alice, "GET", `/v1/me/approvals/${id}`);
    assert.equal(shown.body.approval.display_payload.title, secrets.title);
    assert.equal(shown.body.approval.display_payload.context[secrets.contextKey], secrets.contextValue);

    const row = await ctx.db.query("SELECT * FROM approval_requests WHERE id = $1", [id]);
    assert.equal(row.rows.length, 1);
    const audit = await ctx.db.query<{ text: string }>(
      "SELECT convert_from(entry, 'UTF8') AS text FROM audit_log WHERE subject_id = $1",
      [id],
    );
    assert.ok(audit.rows.length >= 1, "the creation is audited");
    const idempotency = await ctx.db.query("SELECT * FROM agent_idempotency_keys WHERE agent_id = $1", [agent.id]);
    const stored = [
      ["approval_requests", JSON.stringify(row.rows)],
      ["audit_log", JSON.stringify(audit.rows)],
      ["agent_idempotency_keys", JSON.stringify(idempotency.rows)],
    ];
    for (const [table, text] of stored) {
      for (const [name, secret] of Object.entries({ ...secrets, amount: "48200.00-SEALED" })) {
        assert.ok(!text?.includes(secret), `${name} is not in ${table} in plaintext`);
      }
    }
    assert.match(String(row.rows[0]?.sealed), /^v1\./, "sealed in the versioned envelope");
  });

  it("keeps the number sealed in the stored Idempotency-Key response, and replays it intact", async () => {
    const key = crypto.randomUUID();
    const first = await kit.ask(agent, { ...ASK, action_type: "deploy.sealed-replay" }, key);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const number = first.body.number_match as string;
    const { rows } = await ctx.db.query<{ response_body: string }>(
      "SELECT response_body FROM agent_idempotency_keys WHERE agent_id = $1 AND idempotency_key = $2",
      [agent.id, key],
    );
    assert.match(String(rows[0]?.response_body), /^v1\.idem1\./, "stored in the versioned envelope");
    assert.ok(!String(rows[0]?.response_body).includes(number), "the number is not stored in plaintext");
    assert.ok(!String(rows[0]?.response_body).includes(first.body.id), "nor is the rest of the answer");

    const replay = await kit.ask(agent, { ...ASK, action_type: "deploy.sealed-replay" }, key);
    assert.equal(replay.headers["idempotency-replayed"], "true");
    assert.deepEqual(replay.body, first.body);
  });
});
