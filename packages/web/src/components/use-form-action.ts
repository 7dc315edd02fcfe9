import { useState } from "preact/hooks";

/**
 * The submit handling of a multi-step form screen (sign-up, recovery): `run(action)` makes an
 * onSubmit handler that stops the browser's own submit, marks the screen busy, clears the last
 * error, and keeps whatever `action` throws for the screen to show.
 */
export function useFormAction() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = (action: (form: HTMLFormElement | null) => Promise<void>) => async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget instanceof HTMLFormElement ? event.currentTarget : null;
    setBusy(true);
    setError(null);
    try {
      await action(form);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run };
}

/** The trimmed value of the form's input called `name` ("" when there is none). */
export function formField(form: HTMLFormElement | null, name: string): string {
  return ((form?.elements.namedItem(name) as HTMLInputElement | null)?.value ?? "").trim();
}
