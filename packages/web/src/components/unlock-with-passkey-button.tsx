import { useState } from "preact/hooks";
import { t } from "../i18n/i18n.ts";
import { ErrorMessage } from "./common.tsx";

/** "Unlock with your passkey": for a device that holds a bundle the server keeps back until then. */
export function UnlockWithPasskeyButton() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <button
        type="button"
        class="button small primary"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            const { unlockWithPasskey } = await import("../device/unlock-with-passkey.ts");
            await unlockWithPasskey();
          } catch (caught) {
            setError(caught);
          } finally {
            setBusy(false);
          }
        }}
      >
        {t("unlock.withPasskey")}
      </button>
      <ErrorMessage error={error} />
    </>
  );
}
