import { t } from "../i18n/i18n.ts";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;

/**
 * The number the agent shows, typed by the person (T-1): a labelled numeric field, for a keyboard
 * or a screen reader, and a large keypad for the thumb. Only digits, at most six.
 */
export function NumberKeypad(props: { value: string; onChange: (next: string) => void; disabled: boolean }) {
  const { value, onChange, disabled } = props;
  const press = (digit: string) => {
    if (value.length < 6) onChange(value + digit);
  };
  return (
    <div class="number-entry">
      <label for="number-input">{t("detail.number")}</label>
      <input
        id="number-input"
        class="number-input"
        type="text"
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9]{6}"
        maxLength={6}
        spellcheck={false}
        value={value}
        disabled={disabled}
        onInput={(event) => onChange(event.currentTarget.value.replace(/\D/g, "").slice(0, 6))}
      />
      <fieldset class="keypad">
        <legend class="visually-hidden">{t("keypad.label")}</legend>
        {KEYS.map((digit) => (
          <button key={digit} type="button" class="key" disabled={disabled} onClick={() => press(digit)}>
            {digit}
          </button>
        ))}
        <button type="button" class="key key-small" disabled={disabled} onClick={() => onChange("")}>
          {t("keypad.clear")}
        </button>
        <button type="button" class="key" disabled={disabled} onClick={() => press("0")}>
          0
        </button>
        <button
          type="button"
          class="key key-small"
          disabled={disabled}
          aria-label={t("keypad.delete")}
          onClick={() => onChange(value.slice(0, -1))}
        >
          ⌫
        </button>
      </fieldset>
    </div>
  );
}
