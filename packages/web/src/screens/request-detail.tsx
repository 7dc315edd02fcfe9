import {
  type Decision,
  type DisplayPayload,
  decisionChallenge,
  displayPayloadHash,
  toBase64Url,
} from "@countersign/protocol";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/api.ts";
import { ApiError } from "../api/api-error.ts";
import { decisionBody } from "../api/decision-body.ts";
import { asServed } from "../api/served-payload.ts";
import type { Approval, ApprovalDetail } from "../api/types.ts";
import { AgentBadge, ConfirmDialog, Countdown, ErrorMessage, Loading, ScreenTitle } from "../components/common.tsx";
import { ContextTable } from "../components/context-table.tsx";
import { NumberKeypad } from "../components/keypad.tsx";
import { UnlockWithPasskeyButton } from "../components/unlock-with-passkey-button.tsx";
import { keyring } from "../device/keyring.ts";
import type { ContextState } from "../device/open-approval-context.ts";
import { formatDateTime, t } from "../i18n/i18n.ts";
import { lastApprovalEvent } from "../live/approval-events.ts";
import { now } from "../state.ts";
import { usePasskey } from "../webauthn/ceremonies.ts";
import { DecisionRecord } from "./decision-record.tsx";

/** What the screen shows, and the hash of exactly that. */
interface Shown {
  detail: ApprovalDetail;
  /** The display payload as rendered: a frozen copy, the single source of every shown field. */
  payload: Readonly<DisplayPayload> | null;
  /** `displayPayloadHash(payload)`, computed here from what is rendered (T-9, DESIGN §4.5). */
  hash: string | null;
  /** Whether the context is plaintext, opened here, or end-to-end and unreadable on this device. */
  context: ContextState;
}

const OPEN = new Set(["pending", "delivered"]);

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * One request, and the only place a decision can be made (DESIGN §4.6). Every field of the
 * display payload is shown; the hash sent with the decision is computed from that same rendered
 * object; Approve stays disabled until six digits are typed; an expired or closed request, or one
 * whose hash does not match what the agent was told, cannot be acted on.
 */
export function RequestDetail({ id }: { id: string }) {
  const [shown, setShown] = useState<Shown | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const [digits, setDigits] = useState("");
  const [busy, setBusy] = useState(false);
  const busyRef = useRef(false);
  busyRef.current = busy;
  const [confirmReport, setConfirmReport] = useState(false);

  const load = async () => {
    try {
      const detail = await api<ApprovalDetail>("GET", `/v1/me/approvals/${id}`);
      const opened =
        detail.approval.e2e === true
          ? await (await import("../device/open-approval-context.ts")).openApprovalContext(detail.approval)
          : {
              payload: detail.approval.display_payload === null ? null : asServed(detail.approval.display_payload),
              context: { kind: "plain" } as const,
            };
      const payload = opened.payload === null ? null : deepFreeze(structuredClone(opened.payload));
      const hash = payload === null ? null : await displayPayloadHash(payload);
      setShown({ detail, payload, hash, context: opened.context });
      setLoadError(null);
      // This device has shown the request: pending → delivered (§4.10). Best effort.
      if (detail.approval.status === "pending" && detail.decision !== null) {
        api("POST", `/v1/me/approvals/${id}/delivered`).catch(() => undefined);
      }
    } catch (caught) {
      setLoadError(caught);
    }
  };

  useEffect(() => {
    setShown(null);
    setDigits("");
    setError(null);
    void load();
  }, [id]);

  // The decision nonce is short-lived: fetch a fresh one just before it lapses, so a person who
  // reads slowly is not refused (the typed digits stay).
  const nonceExpiresAt = shown?.detail.decision?.nonce_expires_at;
  useEffect(() => {
    if (nonceExpiresAt === undefined) return;
    const delay = Math.max(1_000, new Date(nonceExpiresAt).getTime() - Date.now() - 5_000);
    const timer = setTimeout(() => {
      if (!busyRef.current) void load();
    }, delay);
    return () => clearTimeout(timer);
  }, [nonceExpiresAt]);

  // Unlocking (pairing, recovery) while the request is open: open its context now.
  const keyringState = keyring.value;
  const keyringStatus = keyringState.status;
  useEffect(() => {
    if (shown !== null && shown.context.kind !== "plain" && !busy) void load();
  }, [keyringStatus]);

  // The request changed elsewhere (expired, canceled, decided on another device): show it.
  const event = lastApprovalEvent.value;
  useEffect(() => {
    if (event !== null && event.approval_id === id && !busy) void load();
  }, [event]);

  if (shown === null) {
    return (
      <section>
        <ScreenTitle>{t("detail.title")}</ScreenTitle>
        {loadError === null ? <Loading /> : <ErrorMessage error={loadError} />}
        <p>
          <a href="/">{t("detail.back")}</a>
        </p>
      </section>
    );
  }

  const { detail, payload, hash, context } = shown;
  const approval = detail.approval;
  const ticket = detail.decision;
  const expired = new Date(approval.expires_at).getTime() <= now.value;
  // A plaintext request's hash is the server's to match; an end-to-end one has none until decided
  // (the server cannot read it), so what this device opened and hashed is what the passkey signs.
  const hashMatches =
    hash !== null &&
    (context.kind === "plain"
      ? hash === approval.display_payload_hash
      : approval.display_payload_hash === null || hash === approval.display_payload_hash);
  const readable = context.kind === "plain" || context.kind === "opened";
  const open = OPEN.has(approval.status) && ticket !== null && !expired;
  // Unreadable end-to-end context: nobody approves what they cannot see, but rejecting is safe.
  const rejectable = open && payload !== null && hash !== null && (readable ? hashMatches : true);
  const actionable = rejectable && readable;

  const decide = async (decision: Decision, notRequested = false) => {
    if (!(decision === "approve" ? actionable : rejectable) || ticket === null || hash === null) return;
    if (decision === "approve" && digits.length !== 6) return;
    setBusy(true);
    setError(null);
    try {
      const challenge = await decisionChallenge({
        requestId: approval.id,
        decision,
        displayPayloadHash: hash,
        nonce: ticket.nonce,
      });
      const credential = await usePasskey({
        challenge: toBase64Url(challenge),
        rpId: ticket.rp_id,
        allowCredentials: ticket.allow_credentials,
        userVerification: "required",
        timeout: 120_000,
      });
      await api<Approval>(
        "POST",
        `/v1/me/approvals/${approval.id}/decision`,
        decisionBody({
          decision,
          digits,
          displayPayloadHash: hash,
          nonce: ticket.nonce,
          credential,
          notRequested,
          context: context.kind,
        }),
      );
    } catch (caught) {
      setError(caught);
      if (caught instanceof ApiError && caught.code === "number_mismatch") setDigits("");
    } finally {
      // A fresh nonce and the new state (tries left, or the outcome) either way.
      await load();
      setBusy(false);
    }
  };

  return (
    <section class="detail">
      <p>
        <a href="/">← {t("detail.back")}</a>
      </p>
      <ScreenTitle>{payload?.title ?? approval.action_type}</ScreenTitle>
      {payload !== null && (
        <dl class="fields">
          <div>
            <dt>{t("detail.agent")}</dt>
            <dd>
              <span class="agent-name">{payload.agent_name}</span> <AgentBadge verified={payload.agent_verified} />
            </dd>
          </div>
          <div>
            <dt>{t("detail.agentId")}</dt>
            <dd>
              <code>{payload.agent_id}</code>
            </dd>
          </div>
          <div>
            <dt>{t("detail.action")}</dt>
            <dd>
              <code class="action">{payload.action_type}</code>
            </dd>
          </div>
          <div>
            <dt>{t("detail.titleField")}</dt>
            <dd>{payload.title}</dd>
          </div>
          {payload.binding_message !== null && (
            <div>
              <dt>{t("detail.binding")}</dt>
              <dd class="binding">{payload.binding_message}</dd>
            </div>
          )}
          <div>
            <dt>{t("detail.body")}</dt>
            <dd class="body-text">{payload.body}</dd>
          </div>
          <div>
            <dt>{t("detail.created")}</dt>
            <dd>
              <time dateTime={payload.created_at}>{formatDateTime(payload.created_at)}</time>
            </dd>
          </div>
          <div>
            <dt>{t("detail.expires")}</dt>
            <dd>
              <time dateTime={payload.expires_at}>{formatDateTime(payload.expires_at)}</time>{" "}
              {OPEN.has(approval.status) && <Countdown expiresAt={payload.expires_at} />}
            </dd>
          </div>
        </dl>
      )}
      {payload !== null && (
        <>
          <h2>
            {t("detail.context")}
            {context.kind !== "plain" && <span class="badge badge-ok">{t("detail.e2e")}</span>}
          </h2>
          {readable ? (
            <ContextTable context={payload.context} />
          ) : context.kind === "locked" ? (
            <div class="notice" data-testid="context-locked">
              <p>{t("detail.locked")}</p>
              {keyringState.status === "locked" && keyringState.needsPasskey ? (
                <UnlockWithPasskeyButton />
              ) : (
                <p class="row wrap">
                  <a class="button small" href="/devices?unlock=pair">
                    {t("unlock.pair")}
                  </a>
                  <a class="button small" href="/devices?unlock=recover">
                    {t("unlock.recover")}
                  </a>
                </p>
              )}
            </div>
          ) : (
            <div class="notice" data-testid="context-unreadable">
              <p>{t("detail.unreadable")}</p>
              <ErrorMessage error={context.error} />
            </div>
          )}
        </>
      )}

      {OPEN.has(approval.status) && readable && !hashMatches && (
        <p class="error" role="alert">
          {t("detail.hashMismatch")}
        </p>
      )}

      {open ? (
        <div class="decide">
          <NumberKeypad value={digits} onChange={setDigits} disabled={busy || !actionable} />
          {approval.number_attempts_remaining < 3 && (
            <p class="muted" role="status">
              {t("detail.attempts", { n: approval.number_attempts_remaining })}
            </p>
          )}
          <div class="decide-buttons">
            <button
              type="button"
              class="button primary wide"
              disabled={!actionable || busy || digits.length !== 6}
              onClick={() => decide("approve")}
            >
              {t("detail.approve")}
            </button>
            <button type="button" class="button wide" disabled={!rejectable || busy} onClick={() => decide("reject")}>
              {t("detail.reject")}
            </button>
            <button
              type="button"
              class="button danger-outline wide"
              disabled={!rejectable || busy}
              onClick={() => setConfirmReport(true)}
            >
              {t("detail.notRequested")}
            </button>
          </div>
          {busy && (
            <p class="muted" role="status">
              {t("detail.working")}
            </p>
          )}
          <ConfirmDialog
            open={confirmReport}
            message={t("detail.notRequestedConfirm")}
            confirmLabel={t("detail.confirmReport")}
            danger
            onCancel={() => setConfirmReport(false)}
            onConfirm={() => {
              setConfirmReport(false);
              void decide("reject", true);
            }}
          />
        </div>
      ) : (
        <DecisionRecord approval={approval} expiredNow={OPEN.has(approval.status) && expired} />
      )}
      <ErrorMessage error={error} />
    </section>
  );
}
