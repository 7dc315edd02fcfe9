import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_WEBHOOK_RETRY_DELAY_MS, webhookRetryDelayMs } from "./webhook-retry-delay.ts";

describe("webhookRetryDelayMs", () => {
  it("doubles from 2 s without jitter at the midpoint", () => {
    const mid = () => 0.5;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => webhookRetryDelayMs(n, mid)),
      [2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000],
    );
  });

  it("caps at one hour however many attempts", () => {
    assert.equal(
      webhookRetryDelayMs(12, () => 0.5),
      MAX_WEBHOOK_RETRY_DELAY_MS,
    );
    assert.equal(
      webhookRetryDelayMs(30, () => 0.5),
      MAX_WEBHOOK_RETRY_DELAY_MS,
    );
    assert.equal(
      webhookRetryDelayMs(1_000, () => 0.5),
      MAX_WEBHOOK_RETRY_DELAY_MS,
    );
  });

  it("spreads by ±20 % with the random source", () => {
    assert.equal(
      webhookRetryDelayMs(3, () => 0),
      6_400,
    );
    assert.equal(
      webhookRetryDelayMs(3, () => 0.999_999),
      9_600,
    );
    assert.equal(
      webhookRetryDelayMs(12, () => 0),
      2_880_000,
    );
    const seen = new Set(Array.from({ length: 50 }, () => webhookRetryDelayMs(5)));
    for (const ms of seen) assert.ok(ms >= 25_600 && ms <= 38_400, String(ms));
    assert.ok(seen.size > 1, "Math.random jitters by default");
  });

  it("refuses an attempt count below one", () => {
    assert.throws(() => webhookRetryDelayMs(0), RangeError);
    assert.throws(() => webhookRetryDelayMs(1.5), RangeError);
  });
});
