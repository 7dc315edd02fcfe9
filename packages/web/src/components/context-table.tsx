import { t } from "../i18n/i18n.ts";

/** A context value as text: strings as they are, everything else as JSON. */
function show(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2) ?? String(value);
}

/** The request's context as a key/value table (every key, in the order the agent sent them). */
export function ContextTable({ context }: { context: Record<string, unknown> }) {
  const entries = Object.entries(context);
  if (entries.length === 0) return <p class="muted">{t("detail.noContext")}</p>;
  return (
    <table class="kv">
      <caption class="visually-hidden">{t("detail.context")}</caption>
      <thead class="visually-hidden">
        <tr>
          <th scope="col">{t("detail.key")}</th>
          <th scope="col">{t("detail.value")}</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>{typeof value === "object" && value !== null ? <pre>{show(value)}</pre> : show(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
