import { useEffect, useState } from "preact/hooks";
import { api } from "../api/api.ts";
import type { Settings as SettingsBody } from "../api/types.ts";
import { ConfirmDialog, ErrorMessage, Loading, ScreenTitle } from "../components/common.tsx";
import { PushToggle } from "../components/push-toggle.tsx";
import { LANGUAGES, type Lang, lang, setLang, t } from "../i18n/i18n.ts";
import { navigate } from "../router.ts";
import { signedOut } from "../session.ts";
import { session } from "../state.ts";
import { withStepUp } from "../webauthn/ceremonies.ts";

/** The default TTL choices: 30 s to 30 min (DESIGN §4.4). */
const TTL_CHOICES = [30, 60, 120, 300, 600, 900, 1800] as const;

/** Default TTL, notifications, language, sign out (here or everywhere). */
export function Settings() {
  const [settings, setSettings] = useState<SettingsBody | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [confirmAll, setConfirmAll] = useState(false);

  useEffect(() => {
    api<SettingsBody>("GET", "/v1/me/settings").then(setSettings).catch(setError);
  }, []);

  const save = async (change: Partial<SettingsBody>) => {
    setSaved(false);
    setError(null);
    try {
      setSettings(await api<SettingsBody>("PATCH", "/v1/me/settings", change));
      setSaved(true);
    } catch (caught) {
      setError(caught);
    }
  };

  const signOut = async (everywhere: boolean) => {
    setError(null);
    try {
      if (everywhere) await withStepUp(() => api("POST", "/v1/sessions/revoke-others"));
      await api("POST", "/v1/auth/sign-out");
      signedOut();
      navigate("/signin", { replace: true });
    } catch (caught) {
      setError(caught);
    }
  };

  const ttlLabel = (seconds: number) =>
    seconds < 60 ? t("settings.seconds", { n: seconds }) : t("settings.minutes", { n: seconds / 60 });
  const current = session.value;

  return (
    <section>
      <ScreenTitle>{t("settings.title")}</ScreenTitle>
      {current.status === "signed-in" && <p class="muted">{t("settings.account", { email: current.account.email })}</p>}
      <ErrorMessage error={error} />
      {settings === null && error === null && <Loading />}
      {settings !== null && (
        <div class="panel">
          <label for="ttl">{t("settings.ttl")}</label>
          <select
            id="ttl"
            aria-describedby="ttl-hint"
            value={settings.default_ttl_seconds === null ? "" : String(settings.default_ttl_seconds)}
            onChange={(e) => {
              const value = e.currentTarget.value;
              void save({ default_ttl_seconds: value === "" ? null : Number(value) });
            }}
          >
            <option value="">{t("settings.ttlServer")}</option>
            {TTL_CHOICES.map((seconds) => (
              <option key={seconds} value={String(seconds)}>
                {ttlLabel(seconds)}
              </option>
            ))}
          </select>
          <p id="ttl-hint" class="muted small">
            {t("settings.ttlHint")}
          </p>
          <p class="check">
            <input
              id="notifications"
              type="checkbox"
              checked={settings.notifications_enabled}
              onChange={(e) => void save({ notifications_enabled: e.currentTarget.checked })}
            />
            <label for="notifications">{t("settings.notifications")}</label>
          </p>
          <p class="muted small" role="status">
            {saved ? t("common.saved") : ""}
          </p>
        </div>
      )}
      <PushToggle />
      <div class="panel">
        <label for="language">{t("lang.label")}</label>
        <select id="language" value={lang.value} onChange={(e) => setLang(e.currentTarget.value as Lang)}>
          {LANGUAGES.map((item) => (
            <option key={item.code} value={item.code}>
              {item.name}
            </option>
          ))}
        </select>
      </div>
      <div class="row wrap">
        <button type="button" class="button" onClick={() => signOut(false)}>
          {t("settings.signOut")}
        </button>
        <button type="button" class="button danger" onClick={() => setConfirmAll(true)}>
          {t("settings.signOutAll")}
        </button>
      </div>
      <ConfirmDialog
        open={confirmAll}
        message={t("settings.signOutAllConfirm")}
        confirmLabel={t("settings.signOutAll")}
        danger
        onCancel={() => setConfirmAll(false)}
        onConfirm={() => {
          setConfirmAll(false);
          void signOut(true);
        }}
      />
    </section>
  );
}
