import assert from "node:assert/strict";
import { before, it } from "node:test";
import { displayPayloadHash, toBase64Url, utf8 } from "@countersign/protocol";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type TestAgent,
  type TestPerson,
} from "./test-support/approval-test-kit.ts";

// What the person's app reads (DESIGN §4.4–4.5): the inbox and history with keyset pagination
// and filters, one request with its display payload (T-9), never the number (T-1), the
// settings, and which TTL a request gets.

describeEachDatabase("the person's views", (ctx) => {
  let kit: ApprovalTestKit;

  before(async () => {
    // Many requests per minute below: the throttles are not what is tested here.
    kit = await createApprovalTestKit(ctx.db, {
      env: {
        COUNTERSIGN_APPROVAL_THROTTLE_AGENT_PER_MINUTE: "1000",
        COUNTERSIGN_APPROVAL_THROTTLE_USER_PER_MINUTE: "1000",
      },
    });
  });

  async function ask(agent: TestAgent, actionType: string, extra: Record<string, unknown> = {}) {
    const res = await kit.ask(agent, { ...ASK, action_type: actionType, ...extra });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; number_match: string; display_payload_hash: string } & Record<string, string>;
  }

  async function list(person: TestPerson, query: string) {
    const res = await kit.personCall(person, "GET", `/v1/me/approvals${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { approvals: { id: string; created_at: string; status: string }[]; next_cursor: string | null };
  }

  async function idsOf(person: TestPerson, query: string): Promise<string[]> {
    return (await list(person, query)).approvals.map((item) => item.id).sort();
  }

  /** Every page of `?limit=<limit>`, following next_cursor to the end. */
  async function allPages(person: TestPerson, limit: number) {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=${limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page = await list(person, query);
      pages.push(page.approvals.map((item) => item.id));
      cursor = page.next_cursor;
      assert.ok(pages.length <= 20, "pagination ends");
    } while (cursor !== null);
    return pages;
  }

  it("lists newest first, page by page, with no duplicates and no gaps, ties included", async () => {
    const person = await kit.newPerson();
    const agents = [await kit.newAgent(person), await kit.newAgent(person)];
    const asked: string[] = [];
    for (let i = 0; i < 9; i++) {
      // Three requests share each instant: the order falls back to the id.
      if (i % 3 === 0) kit.clock.advance(1_000);
      asked.push((await ask(agents[i % 2] as TestAgent, `deploy.page${i}`)).id);
    }

    const whole = await list(person, "?limit=100");
    assert.equal(whole.next_cursor, null);
    const order = whole.approvals.map((item) => item.id);
    assert.deepEqual([...order].sort(), [...asked].sort());
    const times = whole.approvals.map((item) => Date.parse(item.created_at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      "newest first",
    );
    assert.deepEqual(order.slice(0, 3).sort(), asked.slice(6).sort(), "the last three asked come first");

    for (const limit of [4, 3, 1]) {
      const pages = await allPages(person, limit);
      assert.deepEqual(pages.flat(), order, `limit=${limit}: the pages put together are the whole list`);
      for (const page of pages) assert.ok(page.length > 0 && page.length <= limit);
      assert.equal(pages.length, Math.ceil(9 / limit), `limit=${limit}: no empty last page`);
    }
    assert.equal((await list(person, "")).approvals.length, 9, "25 by default");
  });

  it("filters by state, status and agent", async () => {
    const person = await kit.newPerson();
    const first = await kit.newAgent(person);
    const second = await kit.newAgent(person);
    const approved = await ask(first, "deploy.f1");
    assert.equal((await kit.decide(person, approved.id)).res.body.status, "approved");
    const rejected = await ask(first, "deploy.f2");
    assert.equal((await kit.decide(person, rejected.id, { decision: "reject" })).res.body.status, "rejected");
    const pending = await ask(first, "deploy.f3");
    const delivered = await ask(second, "deploy.f4");
    assert.equal((await kit.personCall(person, "POST", `/v1/me/approvals/${delivered.id}/delivered`)).status, 200);
    const canceled = await ask(second, "deploy.f5");
    assert.equal((await kit.agentCall(second, "DELETE", `/v1/approvals/${canceled.id}`)).status, 200);

    const sorted = (...items: { id: string }[]) => items.map((item) => item.id).sort();
    assert.deepEqual(await idsOf(person, "?state=all"), sorted(approved, rejected, pending, delivered, canceled));
    assert.deepEqual(await idsOf(person, "?state=open"), sorted(pending, delivered));
    assert.deepEqual(await idsOf(person, "?state=closed"), sorted(approved, rejected, canceled));
    assert.deepEqual(await idsOf(person, "?status=approved"), sorted(approved));
    assert.deepEqual(await idsOf(person, "?status=delivered"), sorted(delivered));
    assert.deepEqual(await idsOf(person, "?status=expired"), []);
    assert.deepEqual(await idsOf(person, `?agent_id=${second.id}`), sorted(delivered, canceled));
    assert.deepEqual(await idsOf(person, `?agent_id=${second.id}&state=closed`), sorted(canceled));
    assert.deepEqual(await idsOf(person, `?agent_id=${first.id}&status=rejected`), sorted(rejected));
    // Another person's agent filters to nothing, never to that person's requests.
    const stranger = await kit.newPerson();
    assert.deepEqual(await idsOf(stranger, `?agent_id=${second.id}`), []);
  });

  it("refuses a cursor it did not make and out-of-range parameters with 400", async () => {
    const person = await kit.newPerson();
    const forged = [
      "not-a-cursor",
      toBase64Url(utf8("2026-11-21T12:00:00.000Z|apr_short")),
      toBase64Url(utf8("yesterday|apr_AAAAAAAAAAAAAAAAAAAAAA")),
      toBase64Url(utf8("2026-13-45T12:00:00.000Z|apr_AAAAAAAAAAAAAAAAAAAAAA")),
      "%00",
    ];
    for (const cursor of forged) {
      const res = await kit.personCall(person, "GET", `/v1/me/approvals?cursor=${encodeURIComponent(cursor)}`);
      assert.equal(res.status, 400, cursor);
      assert.equal(res.code, "validation_failed", cursor);
    }
    for (const query of ["?limit=0", "?limit=101", "?limit=ten", "?state=pending", "?status=done", "?agent_id=x"]) {
      const res = await kit.personCall(person, "GET", `/v1/me/approvals${query}`);
      assert.equal(res.status, 400, query);
    }
  });

  it("never shows the person the number, open or decided", async () => {
    const person = await kit.newPerson();
    const agent = await kit.newAgent(person);
    const asked = await ask(agent, "deploy.secret-number");
    const texts = async () => [
      JSON.stringify((await kit.personCall(person, "GET", "/v1/me/approvals")).body),
      JSON.stringify((await kit.personCall(person, "GET", `/v1/me/approvals/${asked.id}`)).body),
    ];
    const check = (text: string) => {
      assert.ok(!text.includes(asked.number_match), "the number is not in the person's view");
      assert.ok(!/"number(_match)?"/.test(text), "no number field");
    };
    for (const text of await texts()) check(text);
    assert.equal((await kit.decide(person, asked.id)).res.body.status, "approved");
    for (const text of await texts()) check(text);
  });

  it("shows one request with a display payload whose hash is the display_payload_hash", async () => {
    const person = await kit.newPerson();
    const agent = await kit.newAgent(person, { name: "Release bot" });
    const asked = await ask(agent, "deploy.display", {
      binding_message: "Ticket OPS-1234",
      context: { commit: "a1b2c3", services: ["api", "web"], canary: { percent: 5 } },
    });
    const shown = await kit.personCall(person, "GET", `/v1/me/approvals/${asked.id}`);
    assert.equal(shown.status, 200);
    const { approval } = shown.body;
    assert.equal(approval.display_payload_hash, asked.display_payload_hash);
    assert.equal(await displayPayloadHash(approval.display_payload), approval.display_payload_hash);
    assert.deepEqual(approval.display_payload, {
      agent_id: agent.id,
      agent_name: "Release bot",
      agent_verified: true,
      action_type: "deploy.display",
      title: ASK.title,
      body: ASK.body,
      context: { commit: "a1b2c3", services: ["api", "web"], canary: { percent: 5 } },
      binding_message: "Ticket OPS-1234",
      created_at: approval.created_at,
      expires_at: approval.expires_at,
    });
    assert.equal(approval.number_attempts_remaining, 3);
    assert.match(shown.body.decision.nonce, /^[A-Za-z0-9_-]{43}$/);
  });

  it("reads and changes the settings", async () => {
    const person = await kit.newPerson();
    const settings = (body?: Record<string, unknown>) =>
      kit.personCall(person, body === undefined ? "GET" : "PATCH", "/v1/me/settings", body);
    assert.deepEqual((await settings()).body, { default_ttl_seconds: null, notifications_enabled: true });

    const changed = await settings({ default_ttl_seconds: 120 });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.body, { default_ttl_seconds: 120, notifications_enabled: true });
    assert.deepEqual((await settings({ notifications_enabled: false })).body, {
      default_ttl_seconds: 120,
      notifications_enabled: false,
    });
    assert.deepEqual((await settings()).body, { default_ttl_seconds: 120, notifications_enabled: false });
    assert.deepEqual((await settings({ default_ttl_seconds: null })).body, {
      default_ttl_seconds: null,
      notifications_enabled: false,
    });

    for (const bad of [{ default_ttl_seconds: 29 }, { default_ttl_seconds: 1801 }, { theme: "dark" }]) {
      const res = await settings(bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
    }
    assert.deepEqual((await settings()).body, { default_ttl_seconds: null, notifications_enabled: false });
  });

  it("takes the TTL from the request, else the agent, else the person's setting, else 300 s", async () => {
    const person = await kit.newPerson();
    const withDefault = await kit.newAgent(person, { default_ttl_seconds: 600 });
    const plain = await kit.newAgent(person);
    const ttlOf = (answer: Record<string, string>) =>
      (Date.parse(answer.expires_at as string) - Date.parse(answer.created_at as string)) / 1000;
    assert.equal((await kit.personCall(person, "PATCH", "/v1/me/settings", { default_ttl_seconds: 120 })).status, 200);

    assert.equal(ttlOf(await ask(withDefault, "deploy.ttl1", { ttl_seconds: 45 })), 45);
    assert.equal(ttlOf(await ask(plain, "deploy.ttl1", { ttl_seconds: 1800 })), 1800);
    assert.equal(ttlOf(await ask(withDefault, "deploy.ttl2")), 600);
    const fromSetting = await ask(plain, "deploy.ttl2");
    assert.equal(ttlOf(fromSetting), 120);
    assert.equal(Number(fromSetting.expires_in), 120);

    await kit.personCall(person, "PATCH", "/v1/me/settings", { default_ttl_seconds: null });
    assert.equal(ttlOf(await ask(plain, "deploy.ttl3")), 300);
    assert.equal(ttlOf(await ask(withDefault, "deploy.ttl3")), 600);
  });
});
