import { useEffect } from "preact/hooks";
import { ErrorMessage, Loading } from "./components/common.tsx";
import { KeyringBanner } from "./components/keyring-banner.tsx";
import { LANGUAGES, type Lang, lang, setLang, t } from "./i18n/i18n.ts";
import { location, navigate, screenFor } from "./router.ts";
import { Agents } from "./screens/agents.tsx";
import { Devices } from "./screens/devices.tsx";
import { History } from "./screens/history.tsx";
import { Inbox } from "./screens/inbox.tsx";
import { Recover } from "./screens/recover.tsx";
import { RequestDetail } from "./screens/request-detail.tsx";
import { Settings } from "./screens/settings.tsx";
import { SignIn } from "./screens/sign-in.tsx";
import { SignUp } from "./screens/sign-up.tsx";
import { online, session } from "./state.ts";

const TABS = [
  { href: "/", key: "nav.inbox", screen: "inbox" },
  { href: "/history", key: "nav.history", screen: "history" },
  { href: "/agents", key: "nav.agents", screen: "agents" },
  { href: "/devices", key: "nav.devices", screen: "devices" },
  { href: "/settings", key: "nav.settings", screen: "settings" },
] as const;

/** The shell: header with the language switch, the current screen, and the tab bar when signed in. */
export function App({ startupError }: { startupError: unknown }) {
  const screen = screenFor(location.value.path);
  const state = session.value;
  const publicScreen = screen.name === "signin" || screen.name === "signup" || screen.name === "recover";

  useEffect(() => {
    if (state.status === "signed-out" && !publicScreen) navigate("/signin", { replace: true });
    if (state.status === "signed-in" && publicScreen && screen.name === "signin") navigate("/", { replace: true });
  }, [state.status, screen.name]);

  let body = null;
  if (startupError !== null && state.status === "loading") body = <ErrorMessage error={startupError} />;
  else if (state.status === "loading") body = <Loading />;
  else if (screen.name === "signin") body = <SignIn />;
  else if (screen.name === "signup") body = <SignUp />;
  else if (screen.name === "recover") body = <Recover />;
  else if (state.status !== "signed-in") body = <Loading />;
  else if (screen.name === "inbox") body = <Inbox />;
  else if (screen.name === "request") body = <RequestDetail id={screen.id} />;
  else if (screen.name === "history") body = <History />;
  else if (screen.name === "agents") body = <Agents />;
  else if (screen.name === "devices") body = <Devices />;
  else if (screen.name === "settings") body = <Settings />;
  else body = <ErrorMessage error={new Error("not found")} />;

  const signedIn = state.status === "signed-in";
  const activeTab = screen.name === "request" ? "inbox" : screen.name;

  return (
    <>
      <a class="skip" href="#main">
        {t("app.skip")}
      </a>
      <header class="top">
        <a class="brand" href="/">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          {t("app.name")}
        </a>
        <label class="visually-hidden" for="lang-switch">
          {t("lang.label")}
        </label>
        <select
          id="lang-switch"
          class="lang"
          value={lang.value}
          onChange={(e) => setLang(e.currentTarget.value as Lang)}
        >
          {LANGUAGES.map((item) => (
            <option key={item.code} value={item.code}>
              {item.name}
            </option>
          ))}
        </select>
      </header>
      {!online.value && (
        <p class="offline" role="status">
          {t("common.offline")}
        </p>
      )}
      <main id="main" tabIndex={-1} key={location.value.path}>
        {/* The devices screen tells the whole story, and a request says it per request. */}
        {signedIn && !publicScreen && screen.name !== "devices" && screen.name !== "request" && <KeyringBanner />}
        {body}
      </main>
      {signedIn && (
        <nav class="tabs" aria-label={t("nav.label")}>
          {TABS.map((tab) => (
            <a key={tab.href} href={tab.href} aria-current={activeTab === tab.screen ? "page" : undefined}>
              {t(tab.key)}
            </a>
          ))}
        </nav>
      )}
    </>
  );
}
