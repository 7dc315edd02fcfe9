import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { type AgentClient, createAgentClient } from "../packages/agent/src/index.ts";
import { spawnCli } from "../packages/agent/src/test-support/cli-process.ts";
import {
  CHROMIUM,
  launchChromium,
  openPhone,
  type Phone,
  SCREENSHOTS,
  seriousA11yViolations,
} from "./support/browser.ts";
import { buildWebApp, type E2eServer, startE2eServer } from "./support/e2e-server.ts";

const NUMBER = /Number: (\d{3}) (\d{3}) .*?(apr_[A-Za-z0-9_-]{22})/;
const EMAIL = "ada@example.com";

// The approver app as a person uses it (issue 7 §6): real server, built app, Chromium with a
// virtual platform authenticator, and an agent enrolled and driven by its own script.
const skip = existsSync(CHROMIUM) ? false : `needs Debian's Chromium at ${CHROMIUM} (apt-get install chromium)`;

describe("the approver app, end to end", { timeout: 290_000, skip }, () => {
  let server: E2eServer;
  let browser: Browser;
  let phone: Phone;
  let page: Page;
  let agent: AgentClient;
  let keyFile: string;
  const inboxLatencies: number[] = [];

  before(async () => {
    process.stdout.write(`${buildWebApp()}\n`);
    server = await startE2eServer();
    browser = await launchChromium();
    phone = await openPhone(browser);
    page = phone.page;
    keyFile = join(server.dir, "agent-key.json");
  });

  after(async () => {
    if (inboxLatencies.length > 0) {
      process.stdout.write(
        `e2e: inbox showed new requests ${inboxLatencies.map((ms) => `${ms} ms`).join(", ")} after their creation (target ≤ 1000 ms)\n`,
      );
    }
    await browser?.close();
    await server?.close();
  });

  /** Saves a 390×844 screenshot and checks the screen with axe-core (no serious or critical issue). */
  async function check(name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
    const violations = await seriousA11yViolations(page);
    assert.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 2)}`);
  }

  const env = () => ({ COUNTERSIGN_KEY_FILE: keyFile });

  /** Opens the inbox, asks as the agent, and returns the request once its card is on screen. */
  async function askAndSeeItLive(actionType: string, title: string, extra: Record<string, unknown> = {}) {
    await page.goto(`${server.url}/`);
    await page.getByText("Live", { exact: true }).waitFor();
    const asked = await agent.requestApproval({ actionType, title, ...extra });
    const created = Date.now();
    await page.locator(`[data-approval-id="${asked.id}"]`).waitFor({ timeout: 5_000 });
    inboxLatencies.push(Date.now() - created);
    return asked;
  }

  async function typeNumber(digits: string): Promise<void> {
    const keypad = page.getByRole("group", { name: "Number keypad" });
    for (const digit of digits) await keypad.getByRole("button", { name: digit, exact: true }).click();
  }

  it("signs up with an email code and a passkey, then shows the recovery codes once", async () => {
    await page.goto(`${server.url}/`);
    await page.waitForURL(/\/signin$/);
    await check("01-sign-in");
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByLabel("Email address").fill(EMAIL);
    await check("02-sign-up-email");
    await page.getByRole("button", { name: "Send code" }).click();
    await page.getByLabel("Code from the email").waitFor();
    await check("03-sign-up-code");
    await page.getByLabel("Code from the email").fill(server.lastCode(EMAIL));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByLabel("Name for this passkey").fill("Test phone");
    await check("04-sign-up-passkey");
    await page.getByRole("button", { name: "Create passkey" }).click();
    // The Recovery Kit of the account key set (issue 9) comes first; devices-pairing.test.ts covers it.
    await page.getByRole("heading", { name: "Your Recovery Kit" }).waitFor();
    await page.getByLabel("I have saved my recovery secret").check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
    assert.equal(await page.locator(".codes li").count(), 10);
    const finish = page.getByRole("button", { name: "Open my inbox" });
    assert.equal(await finish.isDisabled(), true, "the app waits for 'I saved them'");
    await check("05-sign-up-recovery-codes");
    await page.getByLabel("I saved these codes somewhere safe").check();
    await finish.click();
    await page.getByRole("heading", { name: "Inbox" }).waitFor();
    await page.getByText("Nothing is waiting for you", { exact: false }).waitFor();
    assert.equal((await phone.credentials()).length, 1, "one resident passkey on the authenticator");
    await check("06-inbox-empty");
  });

  it("creates an agent, whose script enrols with the code the app shows", async () => {
    await page.getByRole("link", { name: "Agents" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Deploy bot");
    await page.getByLabel("Allowed action types").fill("deploy.*, db.migrate");
    await page.getByRole("button", { name: "Create agent" }).click();
    const command = await page.getByTestId("enrol-command").textContent();
    assert.match(command ?? "", /^npx countersign-agent enroll --server http:\/\/localhost:\d+ --code \S+$/);
    await check("07-agents-enrolment-code");
    const code = (command ?? "").split(" --code ")[1] ?? "";

    const enroll = spawnCli(["enroll", "--server", server.url, "--code", code], { env: env() });
    assert.equal(await enroll.exit, 0, enroll.stderr());
    agent = await createAgentClient({ keyFile });

    await page.getByRole("button", { name: "Done" }).click();
    await page.reload();
    await page.getByText("Active", { exact: true }).waitFor();
    assert.equal(await page.getByText("Waiting for enrolment").count(), 0);
    await check("08-agents");
  });

  it("receives the request live, types the number, approves with the passkey and shows the receipt", async () => {
    await page.goto(`${server.url}/`);
    await page.getByText("Live", { exact: true }).waitFor();
    const request = spawnCli(
      [
        "request",
        "--action",
        "deploy.production",
        "--title",
        "Deploy api v2.3.1",
        "--body",
        "Rolls out 3 services.",
        "--context",
        '{"commit":"a1b2c3","services":3}',
        "--binding-message",
        "build 4711",
        "--wait",
      ],
      { env: env() },
    );
    const shown = await request.waitForStderr(NUMBER);
    const id = shown[3] ?? "";
    const number = `${shown[1]}${shown[2]}`;
    const card = page.locator(`[data-approval-id="${id}"]`);
    await card.waitFor({ timeout: 5_000 });
    assert.match(
      (await card.textContent()) ?? "",
      /Deploy bot.*Verified.*Deploy api v2\.3\.1.*deploy\.production.*left/s,
    );
    await check("09-inbox-request");

    await card.getByRole("link").click();
    await page.waitForURL(new RegExp(`/requests/${id}$`));
    await page.getByRole("heading", { name: "Deploy api v2.3.1" }).waitFor();
    for (const text of ["Rolls out 3 services.", "a1b2c3", "build 4711", "deploy.production", "Deploy bot"]) {
      await page.getByText(text, { exact: true }).first().waitFor();
    }
    const approve = page.getByRole("button", { name: "Approve" });
    assert.equal(await approve.isDisabled(), true, "Approve is disabled before the number is typed");
    await typeNumber(number.slice(0, 5));
    assert.equal(await approve.isDisabled(), true, "…and with five digits");
    await typeNumber(number.slice(5));
    assert.equal(await approve.isDisabled(), false, "…and enabled with six");
    await check("10-request-detail");
    await approve.click();

    await page.locator('[data-status="approved"]').waitFor();
    assert.equal(await request.exit, 0, request.stderr());
    const receipt = request.stdout().trim();
    assert.equal(await page.getByTestId("receipt-token").textContent(), receipt, "the receipt the agent got");
    const claims = (await page.getByTestId("receipt-claims").textContent()) ?? "";
    assert.match(claims, new RegExp(`jti${id}`));
    assert.match(claims, /actdeploy\.production/);
    await page.getByRole("button", { name: "Show the evidence" }).click();
    const evidence = JSON.parse((await page.getByTestId("evidence").textContent()) ?? "{}");
    assert.equal(evidence.request_id, id);
    assert.equal(evidence.decision, "approve");
    await check("11-request-approved");
  });

  it("shows each new request in the inbox within a second of its creation", async () => {
    // Measured here and in the tests below; printed at the end, not asserted (machines vary).
    const asked = await askAndSeeItLive("deploy.staging", "Deploy web to staging");
    await asked.cancel();
  });

  it("refuses a wrong number, says so with the tries left, then takes the right one", async () => {
    const asked = await askAndSeeItLive("db.migrate", "Migrate the orders table");
    await page.locator(`[data-approval-id="${asked.id}"] a`).click();
    const wrong = asked.numberMatch === "000000" ? "111111" : "000000";
    await typeNumber(wrong);
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByText("That is not the number the agent shows", { exact: false }).waitFor();
    await page.getByText("Tries left: 2").waitFor();
    assert.equal(await page.getByLabel("Type the 6-digit number the agent shows").inputValue(), "");
    await check("12-request-wrong-number");
    await typeNumber(asked.numberMatch ?? "");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.locator('[data-status="approved"]').waitFor();
    const outcome = await asked.wait();
    assert.equal(outcome.status, "approved");
  });

  it("rejects a request, and reports one as not requested, which suspends the agent", async () => {
    const first = await askAndSeeItLive("deploy.canary", "Deploy canary");
    await page.locator(`[data-approval-id="${first.id}"] a`).click();
    await page.getByRole("button", { name: "Reject" }).click();
    await page.locator('[data-status="rejected"]').waitFor();
    assert.equal((await first.wait()).status, "rejected");

    const second = await askAndSeeItLive("deploy.everything", "Delete every environment");
    await page.locator(`[data-approval-id="${second.id}"] a`).click();
    await page.getByRole("button", { name: "I didn't ask for this" }).click();
    await page.getByRole("dialog").waitFor();
    await check("13-request-report-dialog");
    await page.getByRole("button", { name: "Yes, reject and suspend" }).click();
    await page.locator('[data-status="rejected"]').waitFor();
    await page.getByText("Reported as not requested").waitFor();

    await page.getByRole("link", { name: "Agents" }).click();
    await page.getByTestId("agent-status").getByText("Suspended").waitFor();
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByTestId("agent-status").getByText("Active").waitFor();
  });

  it("shows a request expiring while it is open, and then refuses to act on it", async () => {
    const asked = await askAndSeeItLive("deploy.slow", "Deploy nobody answers", { ttlSeconds: 30 });
    await page.locator(`[data-approval-id="${asked.id}"] a`).click();
    await typeNumber(asked.numberMatch ?? "");
    await page.getByText("This request expired before it was decided.").waitFor({ timeout: 40_000 });
    assert.equal(await page.getByRole("button", { name: "Approve" }).count(), 0, "no Approve once expired");
    await check("14-request-expired");
    assert.equal((await asked.wait()).status, "expired");
  });

  it("lists past decisions, filterable by status", async () => {
    await page.getByRole("link", { name: "History" }).click();
    await page.getByTestId("history-list").locator("li").first().waitFor();
    const all = await page.getByTestId("history-list").locator("li").count();
    assert.ok(all >= 5, `history lists ${all} decisions`);
    await check("15-history");
    await page.getByLabel("Status").selectOption("rejected");
    await page.waitForURL(/status=rejected/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-list"] li').length === 2);
  });

  it("revokes the agent: the app shows it and the agent's script is refused", async () => {
    await page.getByRole("link", { name: "Agents" }).click();
    await page.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByTestId("agent-status").getByText("Revoked").waitFor();
    const refused = spawnCli(["request", "--action", "deploy.production", "--title", "After revocation"], {
      env: env(),
    });
    assert.equal(await refused.exit, 4);
    assert.match(refused.stderr(), /agent_revoked/);
  });

  it("shows devices and passkeys, and settings, in every language", async () => {
    await page.getByRole("link", { name: "Devices" }).click();
    await page.getByText("Test phone").waitFor();
    await check("16-devices");
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByLabel("Default time to decide").selectOption("300");
    await page.getByText("Saved", { exact: true }).waitFor();
    await check("17-settings");
    await page.getByLabel("Language").first().selectOption("ko");
    await page.getByRole("heading", { name: "설정" }).waitFor();
    await check("18-settings-ko");
    await page.getByLabel("언어").first().selectOption("ja");
    await page.getByRole("heading", { name: "設定" }).waitFor();
    await page.getByLabel("言語").first().selectOption("en");
  });

  it("shows a push as a notification with the title, the agent and the action type, and no actions", async () => {
    await phone.context.grantPermissions(["notifications"], { origin: server.url });
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    phone.cdp.on("ServiceWorker.workerRegistrationUpdated", (event) => registrations.push(...event.registrations));
    await phone.cdp.send("ServiceWorker.enable");
    await page.goto(`${server.url}/settings`);
    await page.getByRole("button", { name: "Notify this device" }).waitFor();
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const registrationId = registrations.find((r) => r.scopeURL === `${server.url}/`)?.registrationId;
    assert.ok(registrationId !== undefined, "the service worker is registered for the whole app");
    const id = "apr_AAAAAAAAAAAAAAAAAAAAAA";
    // Deliver only to an activated worker: a push handed to one still installing or activating
    // is dropped by Chromium, which made this test flaky on a busy machine.
    await page.waitForFunction(() => navigator.serviceWorker.controller?.state === "activated" || null, null, {
      timeout: 10_000,
    });
    const deliver = () =>
      phone.cdp.send("ServiceWorker.deliverPushMessage", {
        origin: server.url,
        registrationId,
        // What the server's Web Push sender puts in the encrypted payload (packages/server/src/push/push-message.ts).
        data: JSON.stringify({
          type: "approval.created",
          approval_id: id,
          title: "Deploy api v2.3.1",
          agent_name: "Deploy bot",
          action_type: "deploy.production",
        }),
      });
    // Polled from here: waitForFunction would take the async predicate's promise itself as truthy.
    const readNotification = () =>
      page.evaluate(async () => {
        const registration = await navigator.serviceWorker.ready;
        const [note] = await registration.getNotifications();
        if (note === undefined) return null;
        const actions = (note as unknown as { actions: unknown[] }).actions;
        return { title: note.title, body: note.body, tag: note.tag, data: note.data, actions: actions.length };
      });
    let shown: Awaited<ReturnType<typeof readNotification>> = null;
    // CDP's delivery is itself best effort (a push may still be lost while the worker restarts), so
    // it is tried up to three times; what is checked is the notification's content, unchanged, and
    // the tag (the request id) makes a repeated push replace the same notification.
    for (let attempt = 0; shown === null && attempt < 3; attempt++) {
      await deliver();
      for (let tries = 0; shown === null && tries < 50; tries++) {
        await page.waitForTimeout(100);
        shown = await readNotification();
      }
    }
    assert.deepEqual(shown, {
      title: "Deploy api v2.3.1",
      body: "Deploy bot · deploy.production",
      tag: id,
      data: { id },
      actions: 0,
    });
  });

  it("fits a 360 px wide screen and a desktop, and opens offline from the service worker's shell", async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    for (const path of ["/", "/history", "/agents", "/devices", "/settings"]) {
      await page.goto(`${server.url}${path}`);
      await page.locator("main h1").waitFor();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 360, `${path} is ${width} px wide at 360 px`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${server.url}/history`);
    await page.getByTestId("history-list").locator("li").first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "desktop-history.png") });
    assert.deepEqual(await seriousA11yViolations(page), []);
    await page.setViewportSize({ width: 390, height: 844 });

    await page.goto(`${server.url}/`);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await phone.context.setOffline(true);
    try {
      await page.reload();
      // The shell comes from the service worker's cache; the API cannot be reached, and says so.
      await page.getByRole("link", { name: "Countersign" }).waitFor();
      await page.getByText("Cannot reach Countersign", { exact: false }).waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, "19-offline.png") });
    } finally {
      await phone.context.setOffline(false);
    }
  });

  it("signs in again in a fresh browser context with the same passkey", async () => {
    const credentials = await phone.credentials();
    const fresh = await openPhone(browser, { credentials });
    try {
      await fresh.page.goto(`${server.url}/`);
      await fresh.page.waitForURL(/\/signin$/);
      await fresh.page.getByRole("button", { name: "Sign in with a passkey" }).click();
      await fresh.page.getByRole("heading", { name: "Inbox" }).waitFor();
      assert.deepEqual(fresh.problems, []);
    } finally {
      await fresh.context.close();
    }
  });

  it("loaded with no CSP or Trusted Types violation and no script error", async () => {
    assert.deepEqual(phone.problems, []);
  });
});
