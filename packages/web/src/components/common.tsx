import { isCountersignError } from "@countersign/protocol";
import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError, describeError } from "../api/api-error.ts";
import { formatRemaining, t } from "../i18n/i18n.ts";
import { now } from "../state.ts";

/** An error message, announced to screen readers as it appears. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  const requestId = error instanceof ApiError ? error.requestId : null;
  return (
    <div
      class="error"
      role="alert"
      data-code={error instanceof ApiError || isCountersignError(error) ? error.code : undefined}
    >
      <p>{describeError(error)}</p>
      {requestId !== null && <p class="muted small">{t("error.requestId", { id: requestId })}</p>}
    </div>
  );
}

/** The verified / unverified badge of an agent (T-7). */
export function AgentBadge({ verified }: { verified: boolean }) {
  return (
    <span class={verified ? "badge badge-ok" : "badge badge-warn"}>
      {verified ? t("badge.verified") : t("badge.unverified")}
    </span>
  );
}

/** Time left until `expiresAt`, updated every second. */
export function Countdown({ expiresAt }: { expiresAt: string }) {
  const left = new Date(expiresAt).getTime() - now.value;
  if (left <= 0) return <span class="countdown expired">{t("time.expired")}</span>;
  return (
    <span class={left < 30_000 ? "countdown soon" : "countdown"}>
      <time dateTime={expiresAt}>{t("time.left", { time: formatRemaining(left) })}</time>
    </span>
  );
}

/** A screen's heading; it takes the focus when the screen opens, so screen readers announce it. */
export function ScreenTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** A button that copies `text` and says so. */
export function CopyButton({ text, label }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="button small"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
          setTimeout(() => setCopied(false), 2000);
        } catch {
          setCopied(false);
        }
      }}
    >
      {copied ? t("common.copied") : (label ?? t("common.copy"))}
      <span class="visually-hidden" aria-live="polite">
        {copied ? t("common.copied") : ""}
      </span>
    </button>
  );
}

/** A modal confirmation (a native `<dialog>`: focus trapped, Escape cancels). */
export function ConfirmDialog(props: {
  open: boolean;
  message: string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  // Unique per dialog: a screen may hold more than one.
  const textId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={textId} onCancel={props.onCancel}>
      <p id={textId}>{props.message}</p>
      <div class="row">
        <button type="button" class="button" onClick={props.onCancel}>
          {t("common.cancel")}
        </button>
        <button type="button" class={props.danger ? "button danger" : "button primary"} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** Loading text, announced politely. */
export function Loading() {
  return (
    <p class="muted" role="status">
      {t("common.loading")}
    </p>
  );
}
