/**
 * Compile-time checks, run by `npm run lint` (`tsc -p e2e`): the types the app reads the API by
 * describe exactly the JSON the server's response schemas allow, field for field. The approval
 * and agent views are one definition (the protocol package); the other shapes are still written
 * twice, as the app's interfaces and the server's TypeBox schemas, and this file is what keeps
 * the two from drifting. A mismatch is a type error naming the pair.
 */
import type { AgentApprovalView, AgentView, PersonApprovalView } from "@countersign/protocol";
import type { Static } from "typebox";
import type { AccountSchema } from "../packages/server/src/accounts/account-routes.ts";
import type { PasskeyBody } from "../packages/server/src/accounts/account-schemas.ts";
import type { AgentViewSchema, IssuedCredentialSchema } from "../packages/server/src/agents/agent-schemas.ts";
import type {
  AgentApprovalSchema,
  PersonApprovalDetailSchema,
  PersonApprovalSchema,
  PersonListSchema,
  SettingsSchema,
} from "../packages/server/src/approvals/approval-schemas.ts";
import type {
  AccountKeyInput,
  AccountKeyView,
  BundleBody,
  DeviceList,
  DeviceView,
  OpenPairingBody,
  PairingView,
  RecoveryBody,
} from "../packages/server/src/devices/device-schemas.ts";
import type { SessionSchema } from "../packages/server/src/sessions/session-routes.ts";
import type * as App from "../packages/web/src/api/types.ts";

/** True when each type is assignable to the other: the same JSON, as far as types can tell. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Each entry names a pair; a `false` there fails the compile with the pair's name. */
export const API_SHAPES_MATCH: {
  [name: string]: true;
} = {
  "agent's approval view / AgentApprovalSchema": true satisfies Same<
    AgentApprovalView,
    Static<typeof AgentApprovalSchema>
  >,
  "person's approval view / PersonApprovalSchema": true satisfies Same<
    PersonApprovalView,
    Static<typeof PersonApprovalSchema>
  >,
  "agent view / AgentViewSchema": true satisfies Same<AgentView, Static<typeof AgentViewSchema>>,
  "app ApprovalList / PersonListSchema": true satisfies Same<App.ApprovalList, Static<typeof PersonListSchema>>,
  "app ApprovalDetail / PersonApprovalDetailSchema": true satisfies Same<
    App.ApprovalDetail,
    Static<typeof PersonApprovalDetailSchema>
  >,
  "app Settings / SettingsSchema": true satisfies Same<App.Settings, Static<typeof SettingsSchema>>,
  "app IssuedCredential / IssuedCredentialSchema": true satisfies Same<
    App.IssuedCredential,
    Static<typeof IssuedCredentialSchema>
  >,
  "app Device / DeviceView": true satisfies Same<App.Device, Static<typeof DeviceView>>,
  "app DeviceList / DeviceList": true satisfies Same<App.DeviceList, Static<typeof DeviceList>>,
  "app AccountKeyInfo / AccountKeyView": true satisfies Same<App.AccountKeyInfo, Static<typeof AccountKeyView>>,
  "app BundleAnswer / BundleBody": true satisfies Same<App.BundleAnswer, Static<typeof BundleBody>>,
  "app RecoveryWrap / RecoveryBody": true satisfies Same<App.RecoveryWrap, Static<typeof RecoveryBody>>,
  "app AccountKeyBody / AccountKeyInput": true satisfies Same<App.AccountKeyBody, Static<typeof AccountKeyInput>>,
  "app Pairing / PairingView": true satisfies Same<App.Pairing, Static<typeof PairingView>>,
  "app OpenPairing / OpenPairingBody.pairing": true satisfies Same<
    App.OpenPairing,
    Static<typeof OpenPairingBody>["pairing"]
  >,
  "app Passkey / PasskeyBody": true satisfies Same<App.Passkey, Static<typeof PasskeyBody>>,
  "app SessionInfo / SessionSchema": true satisfies Same<App.SessionInfo, Static<typeof SessionSchema>>,
  "app Account / AccountSchema": true satisfies Same<App.Account, Static<typeof AccountSchema>>,
};
