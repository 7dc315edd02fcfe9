import { useEffect, useState } from "preact/hooks";
import { api } from "../api/api.ts";
import type { Approval, ApprovalList } from "../api/types.ts";
import { AgentBadge, Countdown, ErrorMessage, Loading, ScreenTitle } from "../components/common.tsx";
import { t } from "../i18n/i18n.ts";
import { approvalsVersion, liveConnected } from "../live/approval-events.ts";
import { now } from "../state.ts";

/**
 * The inbox: open requests, refetched whenever the live stream reports a change. Each row only
 * opens the request; deciding happens on the detail screen and nowhere else.
 */
export function Inbox() {
  const [list, setList] = useState<Approval[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const version = approvalsVersion.value;

  useEffect(() => {
    let current = true;
    api<ApprovalList>("GET", "/v1/me/approvals?state=open&limit=100")
      .then((res) => {
        if (!current) return;
        setList(res.approvals);
        setError(null);
      })
      .catch((caught) => {
        if (current) setError(caught);
      });
    return () => {
      current = false;
    };
  }, [version]);

  const open = (list ?? []).filter((item) => new Date(item.expires_at).getTime() > now.value);

  return (
    <section>
      <div class="title-row">
        <ScreenTitle>{t("inbox.title")}</ScreenTitle>
        <span class={liveConnected.value ? "live on" : "live"} role="status">
          {liveConnected.value ? t("inbox.live") : t("inbox.reconnecting")}
        </span>
      </div>
      <ErrorMessage error={error} />
      {list === null && error === null && <Loading />}
      <p class="visually-hidden" aria-live="polite">
        {list === null ? "" : t("inbox.count", { n: open.length })}
      </p>
      {list !== null && open.length === 0 && <p class="empty">{t("inbox.empty")}</p>}
      <ul class="cards" data-testid="inbox-list">
        {open.map((item) => (
          <li key={item.id} class="card" data-approval-id={item.id}>
            <a class="card-link" href={`/requests/${item.id}`}>
              <span class="card-top">
                <span class="agent-name">{item.display_payload?.agent_name ?? item.agent_id}</span>
                <AgentBadge verified={item.display_payload?.agent_verified ?? false} />
              </span>
              <span class="card-title">{item.display_payload?.title ?? item.action_type}</span>
              <span class="card-bottom">
                <code class="action">{item.action_type}</code>
                <Countdown expiresAt={item.expires_at} />
              </span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
