import { canonicalize, utf8 } from "@countersign/protocol";

/** The `purpose` of a device-attach signature, so it can never be taken for another signature. */
export const DEVICE_ATTACH_PURPOSE = "countersign/device-attach";

/**
 * What a device signs to bind a session to itself (spec §2): the UTF-8 of
 * JCS({v: 1, purpose, session: <session handle>, device_id}) (RFC 8785). Naming the session's
 * handle means a signature attaches that session only, so a captured one is worth nothing to
 * another session.
 */
export function deviceAttachMessage(sessionHandle: string, deviceId: string): Uint8Array {
  return utf8(canonicalize({ v: 1, purpose: DEVICE_ATTACH_PURPOSE, session: sessionHandle, device_id: deviceId }));
}
