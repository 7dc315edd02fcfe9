import { useEffect, useState } from "preact/hooks";
import { api } from "../api/api.ts";
import type { Device, DeviceList as DeviceListAnswer, Passkey, SessionInfo } from "../api/types.ts";
import { AddDevice } from "../components/add-device.tsx";
import { ConfirmDialog, ErrorMessage, Loading, ScreenTitle } from "../components/common.tsx";
import { DeviceList } from "../components/device-list.tsx";
import { KeyringPanel } from "../components/keyring-panel.tsx";
import { keyring } from "../device/keyring.ts";
import { formatDateTime, t } from "../i18n/i18n.ts";
import { consumeLinkedPairCode, linkedPairCode } from "../pairing/pairing-link.ts";
import { location } from "../router.ts";
import { signedOut } from "../session.ts";
import { createPasskey, withStepUp } from "../webauthn/ceremonies.ts";

/**
 * This device and the account's end-to-end key (unlock, pair, recover), the account's devices
 * (revoke, add one by pairing), its passkeys (list, rename, revoke, add) and its signed-in
 * sessions. The pairing QR code's `#pair=CODE` (taken out of the address at start-up, see
 * pairing-link.ts) opens the pairing form with the code filled in.
 */
export function Devices() {
  const query = new URLSearchParams(location.value.query);
  const [pairCode, setPairCode] = useState(() => consumeLinkedPairCode() ?? "");
  // The link opened again while this screen shows (only the fragment changed).
  const linked = linkedPairCode.value;
  useEffect(() => {
    if (linked !== null) setPairCode(consumeLinkedPairCode() ?? "");
  }, [linked]);
  const unlockParam = query.get("unlock");
  const unlockMode =
    pairCode !== "" || unlockParam === "pair" ? "pair" : unlockParam === "recover" ? "recover" : undefined;
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [passkeys, setPasskeys] = useState<Passkey[] | null>(null);
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<Passkey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    try {
      const [mine, keys, list] = await Promise.all([
        api<DeviceListAnswer>("GET", "/v1/me/devices"),
        api<{ passkeys: Passkey[] }>("GET", "/v1/passkeys"),
        api<{ sessions: SessionInfo[] }>("GET", "/v1/sessions"),
      ]);
      setDevices(mine.devices);
      setPasskeys(keys.passkeys);
      setSessions(list.sessions);
    } catch (caught) {
      setError(caught);
    }
  };
  // On opening, and whenever unlocking, pairing or a new key set changes which devices hold a bundle.
  const keyringStatus = keyring.value.status;
  useEffect(() => {
    void load();
  }, [keyringStatus]);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      await load();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <ScreenTitle>{t("devices.title")}</ScreenTitle>
      <ErrorMessage error={error} />
      <KeyringPanel unlockMode={unlockMode} code={pairCode} />
      <h2>{t("devices.devices")}</h2>
      {devices === null && error === null && <Loading />}
      {devices !== null && <DeviceList devices={devices} onChanged={() => void load()} />}
      {keyringStatus === "unlocked" && <AddDevice onPaired={() => void load()} />}
      <h2>{t("devices.passkeys")}</h2>
      {passkeys === null && error === null && <Loading />}
      <ul class="cards">
        {(passkeys ?? []).map((passkey) => (
          <li key={passkey.id} class="card">
            {renaming === passkey.id ? (
              <form
                onSubmit={(event) => {
                  event.preventDefault();
                  const input = (event.currentTarget as HTMLFormElement).elements.namedItem("name") as HTMLInputElement;
                  void run(async () => {
                    await api("PATCH", `/v1/passkeys/${passkey.id}`, { name: input.value.trim() });
                    setRenaming(null);
                  });
                }}
              >
                <label for={`name-${passkey.id}`}>{t("devices.newName", { name: passkey.name })}</label>
                <input id={`name-${passkey.id}`} name="name" required maxLength={64} value={passkey.name} />
                <div class="row">
                  <button type="button" class="button small" onClick={() => setRenaming(null)}>
                    {t("common.cancel")}
                  </button>
                  <button type="submit" class="button small primary" disabled={busy}>
                    {t("common.save")}
                  </button>
                </div>
              </form>
            ) : (
              <>
                <h3 class="card-title">{passkey.name}</h3>
                <p class="muted small">
                  {t("devices.added", { date: formatDateTime(passkey.created_at) })} ·{" "}
                  {t("devices.used", { date: formatDateTime(passkey.last_used_at) })}
                </p>
                {passkey.counter_regressed_at !== null && <p class="error">{t("devices.cloned")}</p>}
                <div class="row">
                  <button type="button" class="button small" onClick={() => setRenaming(passkey.id)}>
                    {t("devices.rename")}
                  </button>
                  <button
                    type="button"
                    class="button small danger"
                    disabled={busy || (passkeys ?? []).length < 2}
                    onClick={() => setRevoking(passkey)}
                  >
                    {t("devices.revoke")}
                  </button>
                </div>
              </>
            )}
          </li>
        ))}
      </ul>
      <button
        type="button"
        class="button wide"
        disabled={busy}
        onClick={() =>
          run(async () => {
            const options = await withStepUp(() => api<Record<string, unknown>>("POST", "/v1/passkeys/options"));
            const credential = await createPasskey(options);
            await api("POST", "/v1/passkeys", { credential });
          })
        }
      >
        {t("devices.add")}
      </button>

      <h2>{t("devices.sessions")}</h2>
      <ul class="cards">
        {(sessions ?? []).map((item) => (
          <li key={item.id} class="card">
            <h3 class="card-title">
              {item.user_agent ?? t("devices.unknownBrowser")}
              {item.current && <span class="badge badge-ok">{t("devices.thisDevice")}</span>}
            </h3>
            <p class="muted small">
              {formatDateTime(item.created_at)} · {formatDateTime(item.last_seen_at)}
            </p>
            <button
              type="button"
              class="button small"
              disabled={busy}
              onClick={() =>
                run(async () => {
                  await withStepUp(() => api("DELETE", `/v1/sessions/${item.id}`));
                  if (item.current) signedOut();
                })
              }
            >
              {t("devices.end")}
            </button>
          </li>
        ))}
      </ul>
      <ConfirmDialog
        open={revoking !== null}
        message={revoking === null ? "" : t("devices.revokeConfirm", { name: revoking.name })}
        confirmLabel={t("devices.revoke")}
        danger
        onCancel={() => setRevoking(null)}
        onConfirm={() => {
          const target = revoking;
          setRevoking(null);
          if (target !== null) void run(() => withStepUp(() => api("DELETE", `/v1/passkeys/${target.id}`)));
        }}
      />
    </section>
  );
}
