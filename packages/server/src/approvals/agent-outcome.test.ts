import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { fromUtf8 } from "@countersign/protocol";
import { recordingPool } from "../../test-support/recording-database.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Database } from "../db/database.ts";
import { sampleApprovalEvent } from "../notify/test-support/event-fixtures.ts";
import { verifyReceivedWebhook } from "../notify/webhooks/test-support/webhook-fixtures.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../notify/webhooks/test-support/webhook-receiver.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type Sent,
  type TestAgent,
  type TestPerson,
} from "./test-support/approval-test-kit.ts";
import { eventually, within } from "./test-support/eventually.ts";
import { type LiveServer, listenOnLoopback, openSse } from "./test-support/live-connection.ts";

// How an agent learns the outcome (DESIGN §4.4): polling no faster than `interval`, long-polling,
// an SSE stream per request, and a signed webhook to its callback_url; and the person's own
// event stream (T-3: a live stream while the app is open).

describeEachDatabase("how the agent learns the outcome", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;
  let agent: TestAgent;
  let live: LiveServer;
  let types = 0;

  before(async () => {
    kit = await createApprovalTestKit(ctx.db);
    alice = await kit.newPerson();
    agent = await kit.newAgent(alice);
    live = await listenOnLoopback(kit.app);
  });
  after(() => live.close());

  async function askNew(extra: Record<string, unknown> = {}): Promise<{ id: string; interval: number }> {
    types += 1;
    const res = await kit.ask(agent, { ...ASK, action_type: `deploy.outcome${types}`, ...extra });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  const poll = (id: string, query = "") => kit.agentCall(agent, "GET", `/v1/approvals/${id}${query}`);

  it("answers a poll faster than the interval with 429 slow_down and Retry-After, and the next one on time", async () => {
    const { id, interval } = await askNew();
    assert.equal(interval, 5);
    const [a, b] = await Promise.all([poll(id), poll(id)]);
    const slow = [a, b].find((res) => res.status === 429);
    const ok = [a, b].find((res) => res.status === 200);
    assert.ok(slow && ok, `one poll passes and one is refused: ${a.status}, ${b.status}`);
    assert.equal(slow.code, "slow_down");
    assert.equal(slow.headers["retry-after"], "5");
    assert.equal(slow.body.error.details.interval, 5);
    assert.equal(ok.body.status, "pending");

    kit.clock.advance(3_000);
    const early = await poll(id);
    assert.equal(early.code, "slow_down");
    assert.equal(early.headers["retry-after"], "2");

    kit.clock.advance(2_000);
    const onTime = await poll(id);
    assert.equal(onTime.status, 200);
    assert.equal(onTime.body.status, "pending");
  });

  it("answers a long-poll as soon as the request is approved, with the receipt", async () => {
    const { id } = await askNew();
    const waiting = poll(id, "?wait=5");
    const { res } = await kit.decide(alice, id);
    assert.equal(res.body.status, "approved");
    // The kit's clock never moves here, so the long-poll cannot end by its deadline: only the
    // decision can end it. The bound is generous and only keeps a failure from hanging.
    const answered = await within(4_000, "the long-poll's answer", waiting);
    assert.equal(answered.status, 200);
    assert.equal(answered.body.status, "approved");
    assert.match(answered.body.receipt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(answered.body.receipt, res.body.receipt);
  });

  it("answers a long-poll with the open state once the wait is over", async () => {
    const { id } = await askNew();
    const started = kit.clock.now();
    let settled = false;
    const waiting = poll(id, "?wait=1").finally(() => {
      settled = true;
    });
    // The route measures its deadline on the kit's clock: move it on until the wait is over.
    await within(
      5_000,
      "the end of the wait",
      (async () => {
        while (!settled) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          kit.clock.advance(250);
        }
      })(),
    );
    const answered = await waiting;
    assert.equal(answered.status, 200);
    assert.equal(answered.body.status, "pending");
    assert.equal(answered.body.receipt, null);
    assert.ok(kit.clock.now() - started >= 1_000);
  });

  it("refuses a long-poll longer than 30 s", async () => {
    const { id } = await askNew();
    for (const wait of ["31", "-1", "abc"]) {
      const res = await poll(id, `?wait=${wait}`);
      assert.equal(res.status, 400, wait);
      assert.equal(res.code, "validation_failed", wait);
    }
  });

  it("streams the state at once over SSE, then the approval with its receipt, then ends", async () => {
    const { id } = await askNew();
    const path = `/v1/approvals/${id}/events`;
    const stream = await openSse(live.port, path, await kit.signedHeaders(agent, "GET", path));
    assert.equal(stream.status, 200, JSON.stringify(stream.errorBody));
    assert.match(String(stream.headers["content-type"]), /^text\/event-stream/);

    const first = await stream.next();
    assert.equal(first.event, "approval");
    assert.equal(first.id, `${id}:pending`);
    assert.equal(first.data.id, id);
    assert.equal(first.data.status, "pending");

    const { res } = await kit.decide(alice, id);
    assert.equal(res.body.status, "approved");
    const second = await stream.next();
    assert.equal(second.event, "approval");
    assert.equal(second.id, `${id}:approved`);
    assert.equal(second.data.status, "approved");
    assert.equal(second.data.receipt, res.body.receipt);
    await within(5_000, "the end of the stream", stream.ended);
  });

  it("refuses the SSE stream of another agent's request with 404", async () => {
    const { id } = await askNew();
    const other = await kit.newAgent(alice);
    const path = `/v1/approvals/${id}/events`;
    const stream = await openSse(live.port, path, await kit.signedHeaders(other, "GET", path));
    assert.equal(stream.status, 404);
    assert.equal(stream.errorBody.error.code, "approval_not_found");
  });

  it("tells the person's open app about a new request of their agent, and not about other people's", async () => {
    const stream = await openSse(live.port, "/v1/me/events", { host: kit.config.appHost, cookie: alice.cookie });
    try {
      assert.equal(stream.status, 200, JSON.stringify(stream.errorBody));
      const ready = await stream.next();
      assert.equal(ready.event, "ready");
      assert.equal(ready.data.user_id, alice.userId);

      const bob = await kit.newPerson();
      const bobs = await kit.ask(await kit.newAgent(bob), ASK);
      assert.equal(bobs.status, 201);
      const { id } = await askNew();
      const event = await stream.next();
      assert.equal(event.event, "approval");
      assert.deepEqual(event.data, {
        type: "approval.created",
        approval_id: id,
        agent_id: agent.id,
        status: "pending",
      });
    } finally {
      stream.close();
    }
  });

  it("ends the person's stream once its session is signed out, sending nothing more", async () => {
    const cookie = await kit.accounts.signIn(alice.authenticator);
    const stream = await openSse(live.port, "/v1/me/events", { host: kit.config.appHost, cookie });
    try {
      assert.equal(stream.status, 200, JSON.stringify(stream.errorBody));
      assert.equal((await stream.next()).event, "ready");
      const out = await kit.accounts.call("POST", "/v1/auth/sign-out", {}, { cookie });
      assert.ok(out.statusCode < 300, out.body);
      // The next event for this person finds the session gone: the stream ends without it.
      await askNew();
      await Promise.race([
        stream.ended,
        new Promise((_, reject) => setTimeout(() => reject(new Error("the stream outlived its session")), 5_000)),
      ]);
      await assert.rejects(stream.next(200), "no approval event after the sign-out");
    } finally {
      stream.close();
    }
  });

  it("sends a webhook signed with the JWKS key, carrying the approval and its receipt", async () => {
    assert.equal(kit.config.webhooks.allowLoopbackHttp, true, "test configurations allow loopback http callbacks");
    const receiver: WebhookReceiver = await startWebhookReceiver();
    try {
      const { id } = await askNew({ callback_url: receiver.url });
      const { res } = await kit.decide(alice, id);
      assert.equal(res.body.status, "approved");
      const hook = await within(5_000, "the webhook", receiver.next());

      const jwks: Sent = await kit.send({
        method: "GET",
        url: "/.well-known/jwks.json",
        headers: { host: kit.config.apiHost },
      });
      const key = jwks.body.keys[0];
      const verified = await verifyReceivedWebhook(hook, key, Math.floor(kit.clock.now() / 1000));
      assert.equal(verified.ok, true, JSON.stringify(verified));
      assert.equal(verified.ok && verified.keyid, key.kid);

      const body = JSON.parse(fromUtf8(hook.body));
      assert.equal(body.type, "approval.approved");
      assert.equal(body.approval_id, id);
      assert.equal(body.status, "approved");
      assert.equal(body.receipt, res.body.receipt);
      assert.equal(hook.method, "POST");
    } finally {
      await receiver.close();
    }
  });

  it("refuses a callback_url over http to another host, or to a private or reserved address", async () => {
    for (const url of [
      "http://hooks.example.com/countersign",
      "https://10.0.0.7/hook",
      "https://192.168.1.20/hook",
      "https://169.254.169.254/latest/meta-data",
      "http://[::ffff:10.0.0.1]/hook",
      "ftp://hooks.example.com/hook",
    ]) {
      const res = await kit.ask(agent, { ...ASK, action_type: "deploy.callback", callback_url: url });
      assert.equal(res.status, 400, url);
      assert.equal(res.code, "validation_failed", url);
    }
    const { rows } = await ctx.db.query("SELECT 1 FROM approval_requests WHERE action_type = 'deploy.callback'");
    assert.equal(rows.length, 0);
  });
});

/**
 * A database whose `findForAgent` read can be held back once after it has run, to land a
 * decision between the long-poll's read and whatever it does next.
 */
function holdableDatabase(db: Database) {
  let armed: { reached: () => void; release: Promise<void> } | null = null;
  const isAgentRead = (sql: string) => /FROM approval_requests WHERE id = \$1 AND agent_id = \$2/.test(sql);
  const wrapped = new Proxy(db, {
    get(target, property) {
      if (property === "query") {
        return async (sql: string, params?: readonly unknown[]) => {
          const result = await target.query(sql, params);
          const hold = armed;
          if (hold !== null && isAgentRead(sql)) {
            armed = null;
            hold.reached();
            await hold.release;
          }
          return result;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    db: wrapped as Database,
    /** Holds the next agent read after it ran; `reached` resolves then, `release()` lets it go on. */
    holdNextAgentRead() {
      let reached = (): void => {};
      let release = (): void => {};
      const reachedPromise = new Promise<void>((resolve) => {
        reached = resolve;
      });
      const releasePromise = new Promise<void>((resolve) => {
        release = resolve;
      });
      armed = { reached, release: releasePromise };
      return { reached: reachedPromise, release };
    },
  };
}

describeEachDatabase("a decision racing the first read of a long-poll or a stream", (ctx) => {
  let kit: ApprovalTestKit;
  let holdable: ReturnType<typeof holdableDatabase>;
  let alice: TestPerson;
  let agent: TestAgent;
  let live: LiveServer;

  before(async () => {
    holdable = holdableDatabase(ctx.db);
    kit = await createApprovalTestKit(holdable.db);
    alice = await kit.newPerson();
    agent = await kit.newAgent(alice);
    live = await listenOnLoopback(kit.app);
  });
  after(() => live.close());

  /**
   * Asks, starts `follow` (which reads the request once), and lands the approval after that
   * read and before the follower goes on: committed and announced on the bus meanwhile.
   */
  async function approveDuringFirstRead<T>(actionType: string, follow: (id: string) => Promise<T>) {
    const asked = await kit.ask(agent, { ...ASK, action_type: actionType });
    assert.equal(asked.status, 201);
    const id = asked.body.id as string;
    const hold = holdable.holdNextAgentRead();
    const following = follow(id);
    await within(5_000, "the follower's first read", hold.reached);
    const { res } = await kit.decide(alice, id);
    assert.equal(res.body.status, "approved");
    await eventually(
      () => kit.events.some((e) => e.approvalId === id && e.status === "approved"),
      "the approval's event on the bus",
    );
    hold.release();
    return { id, following };
  }

  // Missing the event would hold the follower until its wait or the request's expiry: the
  // kit's clock never moves, so only the event or a real timer of seconds can end it.

  it("still ends a long-poll at once", async () => {
    const { following } = await approveDuringFirstRead("deploy.longpoll", (id) =>
      kit.agentCall(agent, "GET", `/v1/approvals/${id}?wait=5`),
    );
    const answered = await within(4_000, "the long-poll's answer", following);
    assert.equal(answered.body.status, "approved");
  });

  it("still streams the approval at once", async () => {
    const { id, following } = await approveDuringFirstRead("deploy.stream", async (approvalId) => {
      const path = `/v1/approvals/${approvalId}/events`;
      return openSse(live.port, path, await kit.signedHeaders(agent, "GET", path));
    });
    const stream = await following;
    try {
      assert.equal(stream.status, 200);
      const events = [await stream.next(), await stream.next(4_000)];
      assert.equal(events.at(-1)?.id, `${id}:approved`, JSON.stringify(events));
    } finally {
      stream.close();
    }
  });
});

describeEachDatabase("the person's event stream under a burst", (ctx) => {
  it("checks the session once for all the events that arrive while a check runs, and delivers each, in order", async (t) => {
    let checks = 0;
    const counting = recordingPool(ctx.db, (sql) => {
      if (sql.includes("FROM sessions WHERE handle")) checks++;
    });
    const kit = await createApprovalTestKit(counting);
    const alice = await kit.newPerson();
    const live = await listenOnLoopback(kit.app);
    t.after(() => live.close());
    const stream = await openSse(live.port, "/v1/me/events", { host: kit.config.appHost, cookie: alice.cookie });
    try {
      assert.equal(stream.status, 200, JSON.stringify(stream.errorBody));
      assert.equal((await stream.next()).event, "ready");
      checks = 0;
      const burst = Array.from({ length: 8 }, (_, n) =>
        sampleApprovalEvent(n, { userId: alice.userId, type: "approval.created", status: "pending" }),
      );
      // Published in one turn: the first starts a check, the other seven wait for the next one.
      await Promise.all(burst.map((event) => kit.services.events.publish(event)));
      const received = [];
      for (let n = 0; n < burst.length; n++) received.push((await stream.next()).data.approval_id);
      assert.deepEqual(
        received,
        burst.map((event) => event.approvalId),
      );
      assert.equal(checks, 2);
    } finally {
      stream.close();
    }
  });
});
