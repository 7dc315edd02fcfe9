import type { CliOutput } from "./cli-io.ts";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * A live status line; see {@link startCountdown}.
 *
 * @example
 * ```ts
 * const countdown = startCountdown(io.stderr, 300_000);
 * countdown.status("delivered to the phone");
 * countdown.stop();
 * ```
 */
export interface Countdown {
  /** Shows a new state next to the time left ("delivered to the phone"). */
  status(text: string): void;
  /** Clears the line and stops the timer. Idempotent. */
  stop(): void;
}

/**
 * On a terminal, redraws one line every 250 ms with a spinner, the time left before the request
 * expires and its state; elsewhere (a CI log) writes one line and nothing more, so logs stay clean.
 *
 * @example
 * ```ts
 * const countdown = startCountdown(io.stderr, approval.expiresIn * 1000);
 * try { outcome = await approval.wait(); } finally { countdown.stop(); }
 * ```
 */
export function startCountdown(out: CliOutput, remainingMs: number, monotonicNow = () => performance.now()): Countdown {
  const endsAt = monotonicNow() + remainingMs;
  let state = "waiting for the person";
  if (!out.isTTY) {
    out.write(`Waiting for approval (expires in ${clock(remainingMs)})…\n`);
    return { status: (text) => out.write(`… ${text}\n`), stop: () => {} };
  }
  let frame = 0;
  const draw = (): void => {
    frame = (frame + 1) % SPINNER.length;
    const left = clock(endsAt - monotonicNow());
    out.write(`\r\x1b[2K${SPINNER[frame]} ${state} · ${left} left · Ctrl-C cancels`);
  };
  draw();
  const timer = setInterval(draw, 250);
  let stopped = false;
  return {
    status(text) {
      state = text;
      draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      out.write("\r\x1b[2K");
    },
  };
}

/** `m:ss`, never negative. */
function clock(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}
