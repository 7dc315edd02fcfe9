import { useState } from "preact/hooks";
import { t } from "../i18n/i18n.ts";
import { CopyButton } from "./common.tsx";

/**
 * The Recovery Kit (D-3): the recovery secret, grouped for reading aloud and copying by hand, a
 * print button (the print stylesheet prints only the kit), and "I have saved it" before going on.
 */
export function RecoveryKit({ secret, email, onDone }: { secret: string; email: string; onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  const groups = secret.split("-");
  return (
    <div class="recovery-kit-step">
      <p>{t("kit.lead")}</p>
      <section class="recovery-kit" aria-labelledby="kit-title">
        <h2 id="kit-title">{t("kit.title")}</h2>
        <p class="print-only">{t("kit.printAccount", { email, origin: window.location.origin })}</p>
        <p class="label">{t("kit.secretLabel")}</p>
        <p class="kit-secret" data-testid="recovery-secret">
          {groups.map((group, index) => (
            <code key={`${index}-${group}`}>{group}</code>
          ))}
        </p>
        <p class="print-only">{t("kit.printHow")}</p>
      </section>
      <p class="muted small">{t("kit.warning")}</p>
      <div class="row">
        <button type="button" class="button small" onClick={() => window.print()}>
          {t("kit.print")}
        </button>
        <CopyButton text={secret} />
      </div>
      <p class="check">
        <input
          id="kit-saved"
          type="checkbox"
          checked={saved}
          onChange={(e) => setSaved((e.currentTarget as HTMLInputElement).checked)}
        />
        <label for="kit-saved">{t("kit.savedCheck")}</label>
      </p>
      <button type="button" class="button primary wide" disabled={!saved} onClick={onDone}>
        {t("kit.continue")}
      </button>
    </div>
  );
}
