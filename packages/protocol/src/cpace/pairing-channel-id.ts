import { utf8 } from "../encoding/bytes.ts";
import { lvCat } from "./lv-cat.ts";

const CHANNEL_LABEL = utf8("countersign/pairing/v1");

/**
 * The CPace channel identifier (CI) of a Countersign device pairing:
 * lv_cat("countersign/pairing/v1", UTF-8 origin, UTF-8 user id).
 *
 * The draft asks that identities known to both sides at the start go into CI, which keeps them
 * off the wire ("Guidance regarding party identifier integration"). Both devices know the account
 * and the app's origin, so a code typed into another account or a look-alike origin yields
 * another generator and no shared key. Device ids are not known to the initiator at the start;
 * they travel in ADa/ADb and the application checks them.
 */
export function pairingChannelId(userId: string, origin: string): Uint8Array {
  if (typeof userId !== "string" || userId.length === 0) throw new TypeError("userId must be a non-empty string");
  if (typeof origin !== "string" || origin.length === 0) throw new TypeError("origin must be a non-empty string");
  return lvCat(CHANNEL_LABEL, utf8(origin), utf8(userId));
}
