import { fromBase64Url } from "@countersign/protocol";
import { useState } from "preact/hooks";
import { api } from "../api/api.ts";
import type { Approval } from "../api/types.ts";
import { CopyButton, ErrorMessage } from "../components/common.tsx";
import { formatDateTime, t } from "../i18n/i18n.ts";
import type { StringKey } from "../i18n/strings-en.ts";

/** The claims of a compact JWS, read without verifying (the app shows them; verifiers verify). */
function receiptClaims(receipt: string): Record<string, unknown> | null {
  try {
    const payload = fromBase64Url(receipt.split(".")[1] ?? "");
    if (payload === null) return null;
    return JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** A closed request: its outcome, the signed receipt if approved, and the decision's evidence. */
export function DecisionRecord({ approval, expiredNow }: { approval: Approval; expiredNow: boolean }) {
  const [evidence, setEvidence] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const claims = approval.receipt === null ? null : receiptClaims(approval.receipt);
  const status = expiredNow ? "expired" : approval.status;

  return (
    <div class="record">
      <p class={`outcome outcome-${status}`} role="status" data-status={status}>
        {status === "expired" ? t("detail.expiredNow") : t(`status.${status}` as StringKey)}
      </p>
      <dl class="fields">
        {approval.reason !== null && (
          <div>
            <dt>{t("detail.reason")}</dt>
            <dd>{t(`reason.${approval.reason}` as StringKey)}</dd>
          </div>
        )}
        {approval.decided_at !== null && (
          <div>
            <dt>{t("detail.decidedAt")}</dt>
            <dd>
              <time dateTime={approval.decided_at}>{formatDateTime(approval.decided_at)}</time>
            </dd>
          </div>
        )}
      </dl>
      {approval.receipt !== null && (
        <div class="receipt">
          <h2>{t("detail.receipt")}</h2>
          <p class="muted">{t("detail.receiptLead")}</p>
          {claims !== null && (
            <table class="kv" data-testid="receipt-claims">
              <caption class="visually-hidden">{t("detail.claims")}</caption>
              <tbody>
                {Object.entries(claims).map(([key, value]) => (
                  <tr key={key}>
                    <th scope="row">{key}</th>
                    <td>
                      <code>{typeof value === "string" ? value : JSON.stringify(value)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <pre class="token" data-testid="receipt-token">
            {approval.receipt}
          </pre>
          <CopyButton text={approval.receipt} />
        </div>
      )}
      {approval.has_evidence && (
        <div class="evidence">
          <h2>{t("detail.evidence")}</h2>
          <p class="muted">{t("detail.evidenceLead")}</p>
          {evidence === null ? (
            <button
              type="button"
              class="button"
              onClick={async () => {
                try {
                  setEvidence(await api("GET", `/v1/me/approvals/${approval.id}/evidence`));
                } catch (caught) {
                  setError(caught);
                }
              }}
            >
              {t("detail.showEvidence")}
            </button>
          ) : (
            <pre class="token" data-testid="evidence">
              {JSON.stringify(evidence, null, 2)}
            </pre>
          )}
          <ErrorMessage error={error} />
        </div>
      )}
    </div>
  );
}
