import { keyring } from "../device/keyring.ts";
import { t } from "../i18n/i18n.ts";
import { UnlockWithPasskeyButton } from "./unlock-with-passkey-button.tsx";

/**
 * A banner over every screen but the devices screen (which shows the full story) while this
 * device cannot read end-to-end context: not set up, set-up failed, locked, or the server's key
 * refused.
 */
export function KeyringBanner() {
  const state = keyring.value;
  const status = state.status;
  if (state.status === "locked" && state.needsPasskey) {
    return (
      <aside class="banner" aria-labelledby="keyring-banner">
        <p id="keyring-banner">{t("unlock.passkeyLead")}</p>
        <UnlockWithPasskeyButton />
      </aside>
    );
  }
  if (status === "locked") {
    return (
      <aside class="banner" aria-labelledby="keyring-banner">
        <p id="keyring-banner">{t("banner.locked")}</p>
        <p class="row wrap">
          <a class="button small" href="/devices?unlock=pair">
            {t("unlock.pair")}
          </a>
          <a class="button small" href="/devices?unlock=recover">
            {t("unlock.recover")}
          </a>
        </p>
      </aside>
    );
  }
  if (status === "refused") {
    return (
      <aside class="banner" aria-labelledby="keyring-banner">
        <p id="keyring-banner">{t("banner.refused")}</p>
        <p>
          <a class="button small" href="/devices">
            {t("nav.devices")}
          </a>
        </p>
      </aside>
    );
  }
  if (status === "unregistered" || status === "failed") {
    return (
      <aside class="banner" aria-labelledby="keyring-banner">
        <p id="keyring-banner">{t("banner.unregistered")}</p>
        <p>
          <a class="button small" href="/devices">
            {t("keyring.setUp")}
          </a>
        </p>
      </aside>
    );
  }
  return null;
}
