import { utf8 } from "../encoding/bytes.ts";

/**
 * Constants of CPACE-X25519-SHA512 (draft-irtf-cfrg-cpace, "CPace cipher suites" and
 * "CPace group objects G_X25519 …"), at the version in test-vectors/cpace/SOURCE.
 */

/** G_X25519.DSI = b"CPace255". */
export const DSI = utf8("CPace255");
/** G.DSI ‖ b"_ISK", the first field of the ISK hash ("CPace protocol instructions"). */
export const DSI_ISK = utf8("CPace255_ISK");
/** G_X25519.field_size_bytes. */
export const FIELD_SIZE_BYTES = 32;
/** G_X25519.field_size_bits. */
export const FIELD_SIZE_BITS = 255;
/** H.s_in_bytes for SHA-512: its input block size. */
export const SHA512_BLOCK_BYTES = 128;
/** G_X25519.I, the encoding of the neutral element: 32 zero bytes. */
export const NEUTRAL = new Uint8Array(FIELD_SIZE_BYTES);
/** Prefix of sid_output ("Calculating a session identifier alongside with the CPace run"). */
export const SID_OUTPUT_PREFIX = utf8("CPaceSidOutput");
/** Prefix of mac_key ("Key confirmation"). */
export const MAC_PREFIX = utf8("CPaceMac");
