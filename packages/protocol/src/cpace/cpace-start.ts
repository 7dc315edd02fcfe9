import { sha512 } from "../crypto/sha2.ts";
import { assertBytes, concatBytes, randomBytes, timingSafeEqual } from "../encoding/bytes.ts";
import { CountersignError } from "../errors/countersign-error.ts";
import { calculateGenerator } from "./calculate-generator.ts";
import { decodeCpaceMessage, encodeCpaceMessage, MAX_AD_BYTES } from "./cpace-message.ts";
import { DSI_ISK, FIELD_SIZE_BYTES, SID_OUTPUT_PREFIX } from "./cpace-suite.ts";
import { confirmationMacKey, confirmationTag } from "./key-confirmation.ts";
import { lvCat } from "./lv-cat.ts";
import { isNeutral, scalarMultVfy } from "./scalar-mult-vfy.ts";

/** One party's CPace inputs ("CPace inputs"); `ad` is ADa for the initiator, ADb for the responder. */
export interface CpaceSetup {
  /** The password-related string: for a pairing code, `utf8(normalizePairingCode(code))`. */
  prs: Uint8Array;
  /** Channel identifier, e.g. {@link pairingChannelId}. */
  ci: Uint8Array;
  /** Session identifier (the pairing's server-chosen sid). */
  sid: Uint8Array;
  /** Associated data sent in clear with this party's message (Countersign: the device id). */
  ad: Uint8Array;
}

/** This party's CPace message, to send to the peer. */
export interface CpaceStarted {
  /** MSGa (initiator) or MSGb (responder): lv_cat(Y, AD). */
  message: Uint8Array;
}

/** The outcome of a CPace run with key confirmation. */
export interface CpaceResult {
  /** The intermediate session key, 64 bytes; derive keys from it (see pairingTransferKey). */
  isk: Uint8Array;
  /** sid_output = SHA-512(b"CPaceSidOutput" ‖ transcript_ir), 64 bytes. */
  sidOutput: Uint8Array;
  /** My key-confirmation tag: Ta for the initiator, Tb for the responder. */
  confirmationTag: Uint8Array;
  /** The AD the peer sent (ADb for the initiator, ADa for the responder), for the caller to check. */
  peerAd: Uint8Array;
  /** Checks the peer's tag (Tb for the initiator, Ta for the responder) in constant time. */
  verifyPeerTag(tag: Uint8Array): boolean;
}

/**
 * Starts CPACE-X25519-SHA512 in the initiator-responder setting (draft-irtf-cfrg-cpace at the
 * version in test-vectors/cpace/SOURCE, "CPace protocol instructions"), with the draft's
 * explicit key confirmation. The initiator is A, the responder B; both call this first, send
 * `message`, and call `finish` with the peer's message. `finish` may be called once: the secret
 * scalar is wiped afterwards, because the draft forbids reusing it ("Nonce values").
 *
 * @param scalar the secret scalar y (32 bytes), for known-answer tests only; by default it is
 *   G.sample_scalar() = sample_random_bytes(32).
 * @throws CountersignError `pairing_message_invalid` from `finish` when the peer's message is
 *   malformed or its point is of low order (K = G.I, where the draft says to abort).
 *
 * @example
 * ```ts
 * const a = cpaceStart("initiator", { prs, ci, sid, ad: utf8(myDeviceId) });
 * // send a.message, receive msgB and tagB
 * const result = a.finish(msgB);
 * if (!result.verifyPeerTag(tagB)) throw new CountersignError("pairing_failed");
 * ```
 */
export function cpaceStart(
  role: "initiator" | "responder",
  setup: CpaceSetup,
  scalar?: Uint8Array,
): CpaceStarted & { finish(peerMessage: Uint8Array): CpaceResult } {
  if (role !== "initiator" && role !== "responder") throw new TypeError('role must be "initiator" or "responder"');
  assertBytes(setup.prs, "setup.prs");
  assertBytes(setup.ci, "setup.ci");
  assertBytes(setup.sid, "setup.sid");
  assertBytes(setup.ad, "setup.ad");
  if (setup.ad.length > MAX_AD_BYTES) throw new TypeError(`setup.ad must be at most ${MAX_AD_BYTES} bytes`);
  if (scalar !== undefined) assertBytes(scalar, "scalar", FIELD_SIZE_BYTES);

  const sid = setup.sid.slice();
  // g = G.calculate_generator(H, PRS, CI, sid); y = G.sample_scalar(); Y = G.scalar_mult(y, g).
  const g = calculateGenerator(setup.prs, setup.ci, sid);
  const y = scalar === undefined ? randomBytes(FIELD_SIZE_BYTES) : scalar.slice();
  const myY = scalarMultVfy(y, g);
  const message = encodeCpaceMessage({ y: myY, ad: setup.ad.slice() });
  let finished = false;

  function finish(peerMessage: Uint8Array): CpaceResult {
    if (finished) throw new Error("cpaceStart: finish() may be called only once");
    finished = true;
    try {
      const peer = decodeCpaceMessage(peerMessage);
      // K = G.scalar_mult_vfy(y, Y_peer); "MUST abort if K = G.I".
      const k = scalarMultVfy(y, peer.y);
      if (isNeutral(k)) throw new CountersignError("pairing_message_invalid");

      const peerEncoded = encodeCpaceMessage(peer);
      const [messageA, messageB] = role === "initiator" ? [message, peerEncoded] : [peerEncoded, message];
      // transcript_ir(Ya, ADa, Yb, ADb) = lv_cat(Ya, ADa) ‖ lv_cat(Yb, ADb).
      const transcript = concatBytes(messageA, messageB);
      // ISK = H.hash(lv_cat(G.DSI ‖ b"_ISK", sid, K) ‖ transcript(Ya, ADa, Yb, ADb)).
      const isk = sha512(concatBytes(lvCat(DSI_ISK, sid, k), transcript));
      k.fill(0);
      // sid_output = H.hash(b"CPaceSidOutput" ‖ transcript(Ya, ADa, Yb, ADb)).
      const sidOutput = sha512(concatBytes(SID_OUTPUT_PREFIX, transcript));

      const macKey = confirmationMacKey(sid, isk);
      const myTag = confirmationTag(macKey, message);
      const expectedPeerTag = confirmationTag(macKey, peerEncoded);
      return {
        isk,
        sidOutput,
        confirmationTag: myTag,
        peerAd: peer.ad,
        verifyPeerTag: (tag: Uint8Array) => tag instanceof Uint8Array && timingSafeEqual(tag, expectedPeerTag),
      };
    } finally {
      y.fill(0);
    }
  }

  return { message, finish };
}
