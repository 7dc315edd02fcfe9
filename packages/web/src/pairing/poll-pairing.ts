import { CountersignError } from "@countersign/protocol";
import { api } from "../api/api.ts";
import type { Pairing, PairingState } from "../api/types.ts";

const INTERVAL_MS = 1000;
const ENDED: ReadonlySet<PairingState> = new Set(["failed", "expired", "canceled"]);

/**
 * Polls a pairing until it reaches one of `wanted`. An ended pairing (failed, expired, canceled)
 * throws its coded error, and so does aborting.
 */
export async function pollPairing(id: string, wanted: readonly PairingState[], signal: AbortSignal): Promise<Pairing> {
  for (;;) {
    if (signal.aborted) throw new CountersignError("pairing_closed");
    const { pairing } = await api<{ pairing: Pairing }>("GET", `/v1/me/pairings/${id}`);
    if (wanted.includes(pairing.state)) return pairing;
    if (ENDED.has(pairing.state)) {
      throw new CountersignError(pairing.state === "expired" ? "pairing_expired" : "pairing_failed");
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, INTERVAL_MS);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
