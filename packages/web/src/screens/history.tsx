import { useEffect, useState } from "preact/hooks";
import { api } from "../api/api.ts";
import type { Agent, Approval, ApprovalList } from "../api/types.ts";
import { AgentBadge, ErrorMessage, Loading, ScreenTitle } from "../components/common.tsx";
import { formatDateTime, t } from "../i18n/i18n.ts";
import type { StringKey } from "../i18n/strings-en.ts";
import { approvalsVersion } from "../live/approval-events.ts";
import { location, navigate } from "../router.ts";

const STATUSES = ["approved", "rejected", "expired", "canceled"] as const;

/** Past decisions, filterable by agent and status; each opens its record, receipt and evidence. */
export function History() {
  const params = new URLSearchParams(location.value.query);
  const agentId = params.get("agent_id") ?? "";
  const status = params.get("status") ?? "";
  const [agents, setAgents] = useState<Agent[]>([]);
  const [items, setItems] = useState<Approval[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const query = (after: string | null) => {
    const q = new URLSearchParams({ state: "closed", limit: "25" });
    if (agentId !== "") q.set("agent_id", agentId);
    if (status !== "") q.set("status", status);
    if (after !== null) q.set("cursor", after);
    return `/v1/me/approvals?${q}`;
  };

  useEffect(() => {
    api<{ agents: Agent[] }>("GET", "/v1/agents")
      .then((res) => setAgents(res.agents))
      .catch(setError);
  }, []);

  useEffect(() => {
    let current = true;
    api<ApprovalList>("GET", query(null))
      .then((res) => {
        if (!current) return;
        setItems(res.approvals);
        setCursor(res.next_cursor);
      })
      .catch((caught) => current && setError(caught));
    return () => {
      current = false;
    };
  }, [agentId, status, approvalsVersion.value]);

  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(location.value.query);
    if (value === "") next.delete(name);
    else next.set(name, value);
    const search = next.toString();
    navigate(`/history${search === "" ? "" : `?${search}`}`, { replace: true });
  };

  return (
    <section>
      <ScreenTitle>{t("history.title")}</ScreenTitle>
      <fieldset class="filters">
        <legend>{t("history.filters")}</legend>
        <div>
          <label for="filter-agent">{t("history.agent")}</label>
          <select id="filter-agent" value={agentId} onChange={(e) => setFilter("agent_id", e.currentTarget.value)}>
            <option value="">{t("history.all")}</option>
            {agents.map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="filter-status">{t("history.status")}</label>
          <select id="filter-status" value={status} onChange={(e) => setFilter("status", e.currentTarget.value)}>
            <option value="">{t("history.all")}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}` as StringKey)}
              </option>
            ))}
          </select>
        </div>
      </fieldset>
      <ErrorMessage error={error} />
      {items === null && error === null && <Loading />}
      {items !== null && items.length === 0 && <p class="empty">{t("history.empty")}</p>}
      <ul class="cards" data-testid="history-list">
        {(items ?? []).map((item) => (
          <li key={item.id} class="card" data-approval-id={item.id}>
            <a class="card-link" href={`/requests/${item.id}`}>
              <span class="card-top">
                <span class="agent-name">{item.display_payload?.agent_name ?? item.agent_id}</span>
                <AgentBadge verified={item.display_payload?.agent_verified ?? false} />
              </span>
              <span class="card-title">{item.display_payload?.title ?? item.action_type}</span>
              <span class="card-bottom">
                <span class={`pill pill-${item.status}`}>{t(`status.${item.status}` as StringKey)}</span>
                <span class="muted small">{formatDateTime(item.decided_at ?? item.expires_at)}</span>
              </span>
            </a>
          </li>
        ))}
      </ul>
      {cursor !== null && (
        <button
          type="button"
          class="button wide"
          onClick={async () => {
            try {
              const res = await api<ApprovalList>("GET", query(cursor));
              setItems([...(items ?? []), ...res.approvals]);
              setCursor(res.next_cursor);
            } catch (caught) {
              setError(caught);
            }
          }}
        >
          {t("history.more")}
        </button>
      )}
    </section>
  );
}
