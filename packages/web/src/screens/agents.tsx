import { useEffect, useState } from "preact/hooks";
import { api } from "../api/api.ts";
import type { Agent, AgentE2e, IssuedCredential } from "../api/types.ts";
import { AgentBadge, ConfirmDialog, CopyButton, ErrorMessage, Loading, ScreenTitle } from "../components/common.tsx";
import { checkAgentPin } from "../device/agent-pin.ts";
import { keyring } from "../device/keyring.ts";
import { formatDateTime, t } from "../i18n/i18n.ts";
import { withStepUp } from "../webauthn/ceremonies.ts";

type Action = "revoke" | "rotate" | "suspend" | "resume" | "report";
type Pending = { agent: Agent; action: Action } | null;

/** The command the agent's machine runs to enrol with `code` at the agent API (`server`). */
export function enrolCommand(code: string, server: string = window.location.origin): string {
  return `npx countersign-agent enroll --server ${server} --code ${code}`;
}

/**
 * The account key an agent is pinned to, as far as this device can vouch for it: the fingerprint
 * computed here when the pin is the key this device opened, a warning when it is another, and
 * "unlock to verify" when this device holds no opened key. The server's fingerprint is never shown.
 */
function PinnedKey({ pin, testId }: { pin: AgentE2e; testId: string }) {
  const check = checkAgentPin(pin, keyring.value);
  if (check.kind === "verified") {
    return (
      <code class="fingerprint" data-testid={testId}>
        {check.fingerprint}
      </code>
    );
  }
  if (check.kind === "mismatch") {
    return (
      <span class="error" role="alert" data-testid={`${testId}-mismatch`}>
        {t("agents.pinMismatch")}
      </span>
    );
  }
  return (
    <span class="muted" data-testid={`${testId}-unverified`}>
      {t("agents.pinUnverified")} <a href="/devices">{t("nav.devices")}</a>
    </span>
  );
}

/**
 * The person's agents: last used, mode, status; create one (its enrolment code and the command
 * to run, shown once); revoke, rotate, suspend, resume, and report as suspicious (a suspension).
 */
export function Agents() {
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [issued, setIssued] = useState<{ agent: Agent; credential: IssuedCredential } | null>(null);
  const [pending, setPending] = useState<Pending>(null);

  const load = async () => {
    try {
      setAgents((await api<{ agents: Agent[] }>("GET", "/v1/agents")).agents);
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const create = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const name = (form.elements.namedItem("agent-name") as HTMLInputElement).value.trim();
    const actions = (form.elements.namedItem("agent-actions") as HTMLInputElement).value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    const e2e = (form.elements.namedItem("agent-e2e") as HTMLInputElement | null)?.checked === true;
    setBusy(true);
    setError(null);
    try {
      const res = await withStepUp(() =>
        api<{ agent: Agent; credential: IssuedCredential }>("POST", "/v1/agents", {
          name,
          allowed_actions: actions,
          ...(e2e ? { e2e: true } : {}),
        }),
      );
      setIssued({ agent: res.agent, credential: res.credential });
      form.reset();
      await load();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const act = async ({ agent, action }: { agent: Agent; action: Action }) => {
    setPending(null);
    setBusy(true);
    setError(null);
    try {
      // "Report as suspicious" suspends: the agent can ask nothing more until its person resumes it.
      const path = action === "report" ? "suspend" : action;
      const res = await withStepUp(() =>
        api<{ agent: Agent; credential?: IssuedCredential }>("POST", `/v1/agents/${agent.id}/${path}`),
      );
      if (res.credential !== undefined) setIssued({ agent: res.agent, credential: res.credential });
      await load();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  // The agent is pinned to the account's public key, which a locked device knows too.
  const hasAccountKey = keyring.value.status === "unlocked" || keyring.value.status === "locked";

  const confirmText = (p: NonNullable<Pending>) =>
    p.action === "revoke"
      ? t("agents.revokeConfirm", { name: p.agent.name })
      : p.action === "rotate"
        ? t("agents.rotateConfirm", { name: p.agent.name })
        : t("agents.reportConfirm", { name: p.agent.name });

  return (
    <section>
      <ScreenTitle>{t("agents.title")}</ScreenTitle>

      {issued !== null && (
        <section class="panel issued" aria-labelledby="issued-title">
          <h2 id="issued-title">{t("agents.codeTitle", { name: issued.agent.name })}</h2>
          {issued.credential.kind === "enrollment_code" ? (
            <>
              <p>{t("agents.codeLead", { time: formatDateTime(issued.credential.expires_at) })}</p>
              <p class="label">{t("agents.command")}</p>
              <pre class="token" data-testid="enrol-command">
                {enrolCommand(issued.credential.code, issued.credential.api_base_url)}
              </pre>
              <div class="row">
                <CopyButton text={enrolCommand(issued.credential.code, issued.credential.api_base_url)} />
                <CopyButton text={issued.credential.code} label={t("agents.code")} />
              </div>
              {issued.agent.e2e != null && (
                <>
                  <p class="label">{t("agents.fingerprint")}</p>
                  <p>
                    <PinnedKey pin={issued.agent.e2e} testId="enrol-fingerprint" />
                  </p>
                  {checkAgentPin(issued.agent.e2e, keyring.value).kind === "verified" && (
                    <p class="muted small">{t("agents.fingerprintHint")}</p>
                  )}
                </>
              )}
            </>
          ) : (
            <pre class="token">{issued.credential.token}</pre>
          )}
          <button type="button" class="button" onClick={() => setIssued(null)}>
            {t("common.done")}
          </button>
        </section>
      )}

      <ErrorMessage error={error} />
      {agents === null && error === null && <Loading />}
      {agents !== null && agents.length === 0 && <p class="empty">{t("agents.empty")}</p>}
      <ul class="cards">
        {(agents ?? []).map((agent) => (
          <li key={agent.id} class="card agent" data-agent-id={agent.id}>
            <h2 class="card-title">
              {agent.name} <AgentBadge verified={agent.verified} />
            </h2>
            <dl class="fields compact">
              <div>
                <dt>{t("agents.status")}</dt>
                <dd data-testid="agent-status">
                  {t(`agents.status.${agent.status}`)}
                  {agent.status === "active" && !agent.enrolled ? ` · ${t("agents.notEnrolled")}` : ""}
                </dd>
              </div>
              <div>
                <dt>{t("agents.mode")}</dt>
                <dd>{t(`agents.mode.${agent.auth_mode}`)}</dd>
              </div>
              <div>
                <dt>{t("agents.lastUsed")}</dt>
                <dd>{formatDateTime(agent.last_used_at)}</dd>
              </div>
              <div>
                <dt>{t("agents.actions")}</dt>
                <dd>
                  <code>{agent.allowed_actions.join(", ")}</code>
                </dd>
              </div>
              {agent.e2e != null && (
                <div>
                  <dt>{t("agents.e2e")}</dt>
                  <dd>
                    <PinnedKey pin={agent.e2e} testId="agent-fingerprint" />
                  </dd>
                </div>
              )}
            </dl>
            {agent.status !== "revoked" && (
              <div class="row wrap">
                {agent.status === "active" ? (
                  <button
                    type="button"
                    class="button small"
                    disabled={busy}
                    onClick={() => act({ agent, action: "suspend" })}
                  >
                    {t("agents.suspend")}
                  </button>
                ) : (
                  <button
                    type="button"
                    class="button small"
                    disabled={busy}
                    onClick={() => act({ agent, action: "resume" })}
                  >
                    {t("agents.resume")}
                  </button>
                )}
                <button
                  type="button"
                  class="button small"
                  disabled={busy}
                  onClick={() => setPending({ agent, action: "rotate" })}
                >
                  {t("agents.rotate")}
                </button>
                {agent.status === "active" && (
                  <button
                    type="button"
                    class="button small danger-outline"
                    disabled={busy}
                    onClick={() => setPending({ agent, action: "report" })}
                  >
                    {t("agents.report")}
                  </button>
                )}
                <button
                  type="button"
                  class="button small danger"
                  disabled={busy}
                  onClick={() => setPending({ agent, action: "revoke" })}
                >
                  {t("agents.revoke")}
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>

      <form class="panel" onSubmit={create}>
        <h2>{t("agents.create")}</h2>
        <label for="agent-name">{t("agents.name")}</label>
        <input id="agent-name" name="agent-name" required maxLength={64} autoComplete="off" />
        <label for="agent-actions">{t("agents.actions")}</label>
        <input
          id="agent-actions"
          name="agent-actions"
          required
          aria-describedby="agent-actions-hint"
          autoComplete="off"
          autoCapitalize="none"
          spellcheck={false}
        />
        <p id="agent-actions-hint" class="muted small">
          {t("agents.actionsHint")}
        </p>
        <p class="check">
          <input
            id="agent-e2e"
            name="agent-e2e"
            type="checkbox"
            disabled={!hasAccountKey}
            aria-describedby="agent-e2e-hint"
          />
          <label for="agent-e2e">{t("agents.e2eCheck")}</label>
        </p>
        <p id="agent-e2e-hint" class="muted small">
          {hasAccountKey ? t("agents.e2eHint") : t("agents.e2eNoKey")}
        </p>
        <button type="submit" class="button primary wide" disabled={busy}>
          {t("agents.createButton")}
        </button>
      </form>

      <ConfirmDialog
        open={pending !== null}
        message={pending === null ? "" : confirmText(pending)}
        confirmLabel={t("agents.confirm")}
        danger={pending?.action !== "rotate"}
        onCancel={() => setPending(null)}
        onConfirm={() => pending !== null && act(pending)}
      />
    </section>
  );
}
