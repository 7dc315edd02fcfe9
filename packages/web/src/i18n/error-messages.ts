import type { ErrorCode } from "@countersign/protocol";

/** A message in each of the app's languages. */
export type Translated = { readonly en: string; readonly ko: string; readonly ja: string };

/**
 * What the app says for each coded error (packages/protocol/src/errors/error-codes.ts), written
 * for the person holding the phone rather than for a developer. `error-messages.test.ts` checks
 * that every code in the registry has one.
 */
export const ERROR_MESSAGES: Partial<Record<ErrorCode, Translated>> = {
  invalid_request: {
    en: "That did not work. Reload the page and try again.",
    ko: "처리하지 못했습니다. 페이지를 새로 고치고 다시 시도하세요.",
    ja: "処理できませんでした。ページを再読み込みしてもう一度お試しください。",
  },
  validation_failed: {
    en: "Some of what you entered is not valid. Check it and try again.",
    ko: "입력한 내용 중 올바르지 않은 것이 있습니다. 확인 후 다시 시도하세요.",
    ja: "入力内容に正しくないものがあります。確認してもう一度お試しください。",
  },
  invalid_json: {
    en: "The app sent something the server could not read. Reload the page.",
    ko: "앱이 서버가 읽을 수 없는 내용을 보냈습니다. 페이지를 새로 고치세요.",
    ja: "アプリがサーバーで読み取れない内容を送信しました。ページを再読み込みしてください。",
  },
  unsupported_media_type: {
    en: "The app sent something the server could not read. Reload the page.",
    ko: "앱이 서버가 읽을 수 없는 내용을 보냈습니다. 페이지를 새로 고치세요.",
    ja: "アプリがサーバーで読み取れない内容を送信しました。ページを再読み込みしてください。",
  },
  payload_too_large: {
    en: "That is too long to send.",
    ko: "보내기에는 너무 깁니다.",
    ja: "送信するには長すぎます。",
  },
  not_found: {
    en: "This no longer exists.",
    ko: "더 이상 존재하지 않습니다.",
    ja: "これはもう存在しません。",
  },
  method_not_allowed: {
    en: "The server does not allow that. Reload the page.",
    ko: "서버가 허용하지 않는 작업입니다. 페이지를 새로 고치세요.",
    ja: "サーバーが許可していない操作です。ページを再読み込みしてください。",
  },
  misdirected_request: {
    en: "Open Countersign at its own address to use it.",
    ko: "Countersign은 정해진 주소에서 열어야 사용할 수 있습니다.",
    ja: "Countersign は正しいアドレスで開いてください。",
  },
  rate_limited: {
    en: "Too many tries in a short time. Wait a minute and try again.",
    ko: "짧은 시간에 너무 많이 시도했습니다. 잠시 후 다시 시도하세요.",
    ja: "短時間に試行が多すぎます。少し待ってからもう一度お試しください。",
  },
  internal_error: {
    en: "Countersign had a problem. Try again in a moment.",
    ko: "Countersign에 문제가 생겼습니다. 잠시 후 다시 시도하세요.",
    ja: "Countersign で問題が発生しました。しばらくしてからもう一度お試しください。",
  },
  service_unavailable: {
    en: "Countersign is starting or unavailable. Try again in a moment.",
    ko: "Countersign이 시작 중이거나 사용할 수 없습니다. 잠시 후 다시 시도하세요.",
    ja: "Countersign は起動中か利用できません。しばらくしてからもう一度お試しください。",
  },
  signature_missing: {
    en: "The agent's request was not signed.",
    ko: "에이전트의 요청에 서명이 없습니다.",
    ja: "エージェントのリクエストに署名がありません。",
  },
  invalid_signature: {
    en: "The agent's signature is not valid.",
    ko: "에이전트의 서명이 올바르지 않습니다.",
    ja: "エージェントの署名が無効です。",
  },
  signature_expired: {
    en: "The agent's signature is too old or from the future; check its clock.",
    ko: "에이전트의 서명 시각이 맞지 않습니다. 에이전트의 시계를 확인하세요.",
    ja: "エージェントの署名の時刻がずれています。エージェントの時計を確認してください。",
  },
  nonce_replay: {
    en: "The agent's request was a replay and was refused.",
    ko: "에이전트의 요청이 재전송되어 거부되었습니다.",
    ja: "エージェントのリクエストは再送と判断され拒否されました。",
  },
  digest_mismatch: {
    en: "The agent's request was altered on the way.",
    ko: "에이전트의 요청이 전송 중에 변경되었습니다.",
    ja: "エージェントのリクエストが途中で改変されました。",
  },
  unknown_agent: {
    en: "This agent is not known.",
    ko: "알 수 없는 에이전트입니다.",
    ja: "不明なエージェントです。",
  },
  agent_revoked: {
    en: "This agent has been revoked.",
    ko: "이 에이전트는 폐기되었습니다.",
    ja: "このエージェントは失効しています。",
  },
  agent_suspended: {
    en: "This agent is suspended. Resume it first.",
    ko: "이 에이전트는 일시 중지되었습니다. 먼저 재개하세요.",
    ja: "このエージェントは停止中です。先に再開してください。",
  },
  agent_credentials_rotated: {
    en: "This agent's key was rotated; it must enrol again.",
    ko: "이 에이전트의 키가 교체되었습니다. 다시 등록해야 합니다.",
    ja: "このエージェントの鍵は更新されました。再登録が必要です。",
  },
  ip_not_allowed: {
    en: "The agent asked from an address it may not use.",
    ko: "에이전트가 허용되지 않은 주소에서 요청했습니다.",
    ja: "エージェントが許可されていないアドレスから依頼しました。",
  },
  action_not_allowed: {
    en: "This agent may not ask for that kind of action.",
    ko: "이 에이전트는 그런 종류의 작업을 요청할 수 없습니다.",
    ja: "このエージェントはその種類のアクションを依頼できません。",
  },
  bearer_not_allowed: {
    en: "Bearer-token agents are turned off on this server. Use a signed agent.",
    ko: "이 서버에서는 베어러 토큰 에이전트를 사용할 수 없습니다. 서명 에이전트를 사용하세요.",
    ja: "このサーバーではベアラートークンのエージェントは無効です。署名エージェントを使ってください。",
  },
  idempotency_key_required: {
    en: "The agent's request lacked an Idempotency-Key.",
    ko: "에이전트의 요청에 Idempotency-Key가 없습니다.",
    ja: "エージェントのリクエストに Idempotency-Key がありません。",
  },
  idempotency_key_reused: {
    en: "The agent reused a request key for a different request.",
    ko: "에이전트가 다른 요청에 같은 요청 키를 다시 사용했습니다.",
    ja: "エージェントが別のリクエストに同じキーを再使用しました。",
  },
  idempotency_key_in_progress: {
    en: "The same request is still being processed. Try again shortly.",
    ko: "같은 요청이 아직 처리 중입니다. 잠시 후 다시 시도하세요.",
    ja: "同じリクエストがまだ処理中です。しばらくしてからもう一度お試しください。",
  },
  enrollment_code_invalid: {
    en: "The enrolment code is wrong or has expired. Rotate the agent for a new one.",
    ko: "등록 코드가 틀렸거나 만료되었습니다. 에이전트 키를 교체해 새 코드를 받으세요.",
    ja: "登録コードが誤っているか期限切れです。鍵を更新して新しいコードを取得してください。",
  },
  agent_key_in_use: {
    en: "That key is already enrolled. The agent must make a new key pair.",
    ko: "그 키는 이미 등록되어 있습니다. 에이전트가 새 키 쌍을 만들어야 합니다.",
    ja: "その鍵はすでに登録されています。エージェントは新しい鍵ペアを作成する必要があります。",
  },
  approval_not_found: {
    en: "This request does not exist, or is not yours.",
    ko: "이 요청은 없거나 내 요청이 아닙니다.",
    ja: "このリクエストは存在しないか、あなたのものではありません。",
  },
  approval_not_pending: {
    en: "This request was already decided or canceled. Nothing was changed.",
    ko: "이 요청은 이미 결정되었거나 취소되었습니다. 아무것도 바뀌지 않았습니다.",
    ja: "このリクエストはすでに決定またはキャンセルされています。変更はありません。",
  },
  approval_expired: {
    en: "This request has expired. Ask the agent to send a new one if it is still needed.",
    ko: "이 요청은 만료되었습니다. 아직 필요하면 에이전트에게 새 요청을 보내게 하세요.",
    ja: "このリクエストは期限切れです。まだ必要ならエージェントに新しく依頼させてください。",
  },
  number_mismatch: {
    en: "That is not the number the agent shows. Check it and type it again.",
    ko: "에이전트가 보여 주는 숫자가 아닙니다. 확인하고 다시 입력하세요.",
    ja: "エージェントが表示している番号と違います。確認してもう一度入力してください。",
  },
  display_hash_mismatch: {
    en: "The request changed from what you saw. It was not approved; look at it again.",
    ko: "요청 내용이 본 것과 달라졌습니다. 승인되지 않았으니 다시 확인하세요.",
    ja: "リクエストの内容が表示と異なります。承認されていません。もう一度確認してください。",
  },
  decision_nonce_invalid: {
    en: "This screen was out of date. It has been reloaded; try again.",
    ko: "이 화면이 오래되었습니다. 다시 불러왔으니 다시 시도하세요.",
    ja: "この画面は古くなっていました。再読み込みしたのでもう一度お試しください。",
  },
  cooldown_active: {
    en: "You rejected a similar request recently, so this agent must wait before asking again.",
    ko: "최근에 비슷한 요청을 거부했으므로 이 에이전트는 잠시 기다린 후 다시 요청해야 합니다.",
    ja: "最近同様のリクエストを拒否したため、このエージェントはしばらく待つ必要があります。",
  },
  slow_down: {
    en: "The agent is checking too often.",
    ko: "에이전트가 너무 자주 확인하고 있습니다.",
    ja: "エージェントの確認が頻繁すぎます。",
  },
  throttled: {
    en: "Too many requests at once. Try again later.",
    ko: "한꺼번에 요청이 너무 많습니다. 나중에 다시 시도하세요.",
    ja: "一度にリクエストが多すぎます。後でもう一度お試しください。",
  },
  unauthenticated: {
    en: "Sign in to continue.",
    ko: "계속하려면 로그인하세요.",
    ja: "続けるにはサインインしてください。",
  },
  session_expired: {
    en: "You were signed out after a while. Sign in again.",
    ko: "시간이 지나 로그아웃되었습니다. 다시 로그인하세요.",
    ja: "時間が経ったためサインアウトしました。もう一度サインインしてください。",
  },
  step_up_required: {
    en: "Confirm with your passkey to continue.",
    ko: "계속하려면 패스키로 확인하세요.",
    ja: "続けるにはパスキーで確認してください。",
  },
  forbidden: {
    en: "You may not do this.",
    ko: "이 작업을 할 수 없습니다.",
    ja: "この操作は許可されていません。",
  },
  origin_mismatch: {
    en: "This page is not the Countersign app. Open it from its own address.",
    ko: "이 페이지는 Countersign 앱이 아닙니다. 정해진 주소에서 여세요.",
    ja: "このページは Countersign アプリではありません。正しいアドレスから開いてください。",
  },
  code_invalid: {
    en: "That code is wrong or has expired. Check the latest email, or ask for a new code.",
    ko: "코드가 틀렸거나 만료되었습니다. 최신 이메일을 확인하거나 새 코드를 요청하세요.",
    ja: "コードが誤っているか期限切れです。最新のメールを確認するか、新しいコードを依頼してください。",
  },
  too_many_attempts: {
    en: "Too many attempts. Wait a while before trying again.",
    ko: "시도 횟수가 너무 많습니다. 잠시 기다렸다가 다시 시도하세요.",
    ja: "試行回数が多すぎます。しばらく待ってからもう一度お試しください。",
  },
  passkey_verification_failed: {
    en: "That passkey could not be verified. Use a passkey registered for this account.",
    ko: "패스키를 확인하지 못했습니다. 이 계정에 등록된 패스키를 사용하세요.",
    ja: "パスキーを確認できませんでした。このアカウントに登録したパスキーを使ってください。",
  },
  last_passkey: {
    en: "This is your only passkey. Add another before revoking it.",
    ko: "유일한 패스키입니다. 폐기하기 전에 다른 패스키를 추가하세요.",
    ja: "これは唯一のパスキーです。失効する前に別のパスキーを追加してください。",
  },
  recovery_failed: {
    en: "Recovery did not work. Check the codes and try again.",
    ko: "복구하지 못했습니다. 코드를 확인하고 다시 시도하세요.",
    ja: "復旧できませんでした。コードを確認してもう一度お試しください。",
  },
  invalid_credentials: {
    en: "The email address or password is not correct.",
    ko: "이메일 주소 또는 비밀번호가 올바르지 않습니다.",
    ja: "メールアドレスまたはパスワードが正しくありません。",
  },
  device_not_found: {
    en: "That device is no longer registered.",
    ko: "그 기기는 더 이상 등록되어 있지 않습니다.",
    ja: "そのデバイスはもう登録されていません。",
  },
  pairing_failed: {
    en: "Pairing failed. Start again on both devices.",
    ko: "페어링에 실패했습니다. 두 기기에서 다시 시작하세요.",
    ja: "ペアリングに失敗しました。両方のデバイスでやり直してください。",
  },
  audit_index_out_of_range: {
    en: "That part of the audit log does not exist.",
    ko: "감사 로그의 그 부분은 존재하지 않습니다.",
    ja: "監査ログのその部分は存在しません。",
  },
  push_not_configured: {
    en: "This server does not send notifications of this kind.",
    ko: "이 서버는 이런 종류의 알림을 보내지 않습니다.",
    ja: "このサーバーはこの種類の通知を送信しません。",
  },
  push_subscription_invalid: {
    en: "This device could not be signed up for notifications. Try again.",
    ko: "이 기기를 알림에 등록하지 못했습니다. 다시 시도하세요.",
    ja: "このデバイスを通知に登録できませんでした。もう一度お試しください。",
  },
  push_subscription_not_found: {
    en: "This device was not signed up for notifications.",
    ko: "이 기기는 알림에 등록되어 있지 않습니다.",
    ja: "このデバイスは通知に登録されていません。",
  },
  push_subscription_limit: {
    en: "Too many devices get notifications. Turn them off on one first.",
    ko: "알림을 받는 기기가 너무 많습니다. 먼저 한 기기에서 알림을 끄세요.",
    ja: "通知を受け取るデバイスが多すぎます。先にどれかで通知をオフにしてください。",
  },
  device_revoked: {
    en: "This device was removed from your account. Sign in again to add it back.",
    ko: "이 기기는 계정에서 제거되었습니다. 다시 추가하려면 다시 로그인하세요.",
    ja: "このデバイスはアカウントから削除されました。追加し直すには再度サインインしてください。",
  },
  device_required: {
    en: "This browser is not registered as a device yet. Reload the app and try again.",
    ko: "이 브라우저는 아직 기기로 등록되지 않았습니다. 앱을 다시 불러온 후 다시 시도하세요.",
    ja: "このブラウザーはまだデバイスとして登録されていません。アプリを再読み込みしてもう一度お試しください。",
  },
  device_signature_invalid: {
    en: "This device could not prove who it is. Sign in again.",
    ko: "이 기기를 확인할 수 없습니다. 다시 로그인하세요.",
    ja: "このデバイスを確認できませんでした。再度サインインしてください。",
  },
  bundle_not_available: {
    en: "This device cannot unlock end-to-end encrypted context yet. Pair it with another device or use your recovery secret.",
    ko: "이 기기는 아직 종단 간 암호화된 내용을 열 수 없습니다. 다른 기기와 페어링하거나 복구 비밀을 사용하세요.",
    ja: "このデバイスはまだエンドツーエンド暗号化された内容を開けません。別のデバイスとペアリングするか、リカバリーシークレットを使ってください。",
  },
  account_key_exists: {
    en: "Your account already has its encryption keys.",
    ko: "계정에 이미 암호화 키가 있습니다.",
    ja: "アカウントにはすでに暗号鍵があります。",
  },
  account_key_missing: {
    en: "Your account has no encryption keys yet. Open the app on your device first.",
    ko: "계정에 아직 암호화 키가 없습니다. 먼저 기기에서 앱을 여세요.",
    ja: "アカウントにはまだ暗号鍵がありません。先にデバイスでアプリを開いてください。",
  },
  account_key_changed: {
    en: "Your account's encryption keys changed. Check the fingerprint and enrol the agent again.",
    ko: "계정의 암호화 키가 바뀌었습니다. 지문을 확인하고 에이전트를 다시 등록하세요.",
    ja: "アカウントの暗号鍵が変わりました。フィンガープリントを確認してエージェントを登録し直してください。",
  },
  e2e_context_required: {
    en: "This agent must encrypt its details end to end.",
    ko: "이 에이전트는 세부 내용을 종단 간 암호화해야 합니다.",
    ja: "このエージェントは詳細をエンドツーエンドで暗号化する必要があります。",
  },
  e2e_not_enabled: {
    en: "This agent is not set up for end-to-end encryption.",
    ko: "이 에이전트는 종단 간 암호화가 설정되어 있지 않습니다.",
    ja: "このエージェントはエンドツーエンド暗号化に設定されていません。",
  },
  e2e_decrypt_failed: {
    en: "The encrypted details could not be opened on this device.",
    ko: "이 기기에서 암호화된 세부 내용을 열 수 없습니다.",
    ja: "このデバイスでは暗号化された詳細を開けませんでした。",
  },
  recovery_secret_invalid: {
    en: "That recovery secret is not right. Check each group of characters.",
    ko: "복구 비밀이 올바르지 않습니다. 각 문자 묶음을 확인하세요.",
    ja: "リカバリーシークレットが正しくありません。各グループの文字を確認してください。",
  },
  pairing_code_invalid: {
    en: "That pairing code is not valid. It has 8 letters and digits.",
    ko: "페어링 코드가 올바르지 않습니다. 코드는 문자와 숫자 8자입니다.",
    ja: "ペアリングコードが正しくありません。英数字8文字です。",
  },
  pairing_message_invalid: {
    en: "Pairing failed. Start again on your other device.",
    ko: "페어링에 실패했습니다. 다른 기기에서 다시 시작하세요.",
    ja: "ペアリングに失敗しました。もう一方のデバイスでやり直してください。",
  },
  pairing_not_found: {
    en: "No pairing is waiting. Start one on your other device first.",
    ko: "대기 중인 페어링이 없습니다. 먼저 다른 기기에서 시작하세요.",
    ja: "待機中のペアリングはありません。先にもう一方のデバイスで開始してください。",
  },
  pairing_closed: {
    en: "This pairing code was already used. Start a new pairing.",
    ko: "이 페어링 코드는 이미 사용되었습니다. 새 페어링을 시작하세요.",
    ja: "このペアリングコードはすでに使われました。新しいペアリングを開始してください。",
  },
  pairing_expired: {
    en: "This pairing has expired. Start a new one.",
    ko: "이 페어링은 만료되었습니다. 새로 시작하세요.",
    ja: "このペアリングは期限切れです。新しく開始してください。",
  },
  pairing_rate_limited: {
    en: "Too many pairings this hour. Try again later.",
    ko: "이번 시간에 페어링을 너무 많이 시도했습니다. 나중에 다시 시도하세요.",
    ja: "この1時間のペアリングが多すぎます。後でもう一度お試しください。",
  },
  pairing_role_mismatch: {
    en: "This device is not part of that pairing.",
    ko: "이 기기는 해당 페어링에 포함되어 있지 않습니다.",
    ja: "このデバイスはそのペアリングに含まれていません。",
  },
};
