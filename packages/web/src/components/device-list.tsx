import { useState } from "preact/hooks";
import { api } from "../api/api.ts";
import type { Device } from "../api/types.ts";
import { forgetDeviceRecord } from "../device/device-db.ts";
import { formatDateTime, t } from "../i18n/i18n.ts";
import { signedOut } from "../session.ts";
import { session } from "../state.ts";
import { withStepUp } from "../webauthn/ceremonies.ts";
import { ConfirmDialog, ErrorMessage } from "./common.tsx";

/** A device's name; null once the account's data key was erased (the name was sealed under it). */
function nameOf(device: Device): string {
  return device.name ?? t("devices.unnamedDevice");
}

/**
 * The account's devices (spec §2): this one marked, whether each can read end-to-end context,
 * and revoke (after a passkey confirmation), which ends its sessions and deletes its bundle.
 */
export function DeviceList({ devices, onChanged }: { devices: Device[]; onChanged: () => void }) {
  const [revoking, setRevoking] = useState<Device | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const revoke = async (device: Device) => {
    setBusy(true);
    setError(null);
    try {
      await withStepUp(() => api("DELETE", `/v1/me/devices/${device.id}`));
      if (device.current) {
        // This browser's sessions are gone with it; its keys are of no further use.
        if (session.value.status === "signed-in") await forgetDeviceRecord(session.value.account.id);
        signedOut();
        return;
      }
      onChanged();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <ErrorMessage error={error} />
      <ul class="cards" data-testid="device-list">
        {devices.map((device) => (
          <li key={device.id} class="card" data-device-id={device.id}>
            <h3 class="card-title">
              {nameOf(device)}
              {device.current && <span class="badge badge-ok">{t("devices.thisDevice")}</span>}
            </h3>
            <p class="muted small">
              {t("devices.added", { date: formatDateTime(device.created_at) })} ·{" "}
              {t("devices.seen", { date: formatDateTime(device.last_seen_at) })}
            </p>
            <p class="small">
              {device.has_bundle ? t("devices.canRead") : t("devices.cannotRead")}
              {` · ${device.has_push ? t("devices.push") : t("devices.noPush")}`}
            </p>
            <button type="button" class="button small danger" disabled={busy} onClick={() => setRevoking(device)}>
              {t("devices.revokeDevice")}
            </button>
          </li>
        ))}
      </ul>
      <ConfirmDialog
        open={revoking !== null}
        message={
          revoking === null
            ? ""
            : t(revoking.current ? "devices.revokeThisConfirm" : "devices.revokeDeviceConfirm", {
                name: nameOf(revoking),
              })
        }
        confirmLabel={t("devices.revokeDevice")}
        danger
        onCancel={() => setRevoking(null)}
        onConfirm={() => {
          const target = revoking;
          setRevoking(null);
          if (target !== null) void revoke(target);
        }}
      />
    </>
  );
}
