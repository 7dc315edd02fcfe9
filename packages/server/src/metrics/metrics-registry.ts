/**
 * A minimal Prometheus counter registry: counters with labels, rendered in the text exposition
 * format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats). Enough for the operator's
 * `/metrics` without a client library; histograms and gauges can be added when something needs
 * them.
 */

/** A counter with a fixed set of label names. */
export interface Counter<L extends string = string> {
  /** Adds `value` (default 1) to the series with these label values. */
  inc(labels: Readonly<Record<L, string>>, value?: number): void;
  /** The current value of one series (0 when never incremented). */
  get(labels: Readonly<Record<L, string>>): number;
}

/** Holds every counter of one process and renders them. */
export interface MetricsRegistry {
  /**
   * The counter named `name`, created on first use. Asking again with the same name returns the
   * same counter, so each part of the app can declare what it uses.
   *
   * @throws TypeError for a malformed name or label, or a name reused with other labels.
   */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L>;
  /** Every counter in the text exposition format, ending with a newline. */
  render(): string;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// Bounds the number of series one counter keeps, so that label values coming from requests
// (error codes, modes: small fixed sets today) can never grow memory without limit.
const MAX_SERIES = 1_000;

interface CounterEntry {
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly series: Map<string, { labels: readonly string[]; value: number }>;
}

/** Creates an empty registry. */
export function createMetricsRegistry(): MetricsRegistry {
  const counters = new Map<string, CounterEntry>();

  return Object.freeze({
    counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
      if (!METRIC_NAME.test(name)) throw new TypeError(`bad metric name ${name}`);
      for (const label of labelNames) {
        if (!LABEL_NAME.test(label) || label.startsWith("__")) throw new TypeError(`bad label name ${label}`);
      }
      let entry = counters.get(name);
      if (entry === undefined) {
        entry = { help, labelNames: [...labelNames], series: new Map() };
        counters.set(name, entry);
      } else if (entry.labelNames.join(",") !== labelNames.join(",")) {
        throw new TypeError(`metric ${name} already exists with other labels`);
      }
      const { series } = entry;
      const values = (labels: Readonly<Record<L, string>>) => labelNames.map((label) => String(labels[label]));
      return Object.freeze({
        inc(labels: Readonly<Record<L, string>>, value = 1) {
          if (!(Number.isFinite(value) && value >= 0)) throw new RangeError("a counter only goes up");
          const labelValues = values(labels);
          const key = JSON.stringify(labelValues);
          const current = series.get(key);
          if (current !== undefined) current.value += value;
          else if (series.size < MAX_SERIES) series.set(key, { labels: labelValues, value });
        },
        get(labels: Readonly<Record<L, string>>) {
          return series.get(JSON.stringify(values(labels)))?.value ?? 0;
        },
      });
    },

    render(): string {
      const lines: string[] = [];
      for (const [name, entry] of counters) {
        lines.push(`# HELP ${name} ${escapeHelp(entry.help)}`, `# TYPE ${name} counter`);
        for (const { labels, value } of entry.series.values()) {
          const pairs = labels.map((v, i) => `${entry.labelNames[i]}="${escapeLabelValue(v)}"`);
          lines.push(`${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${value}`);
        }
      }
      return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
    },
  });
}

// Exposition format: HELP escapes backslash and newline; label values also escape the quote.
function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabelValue(text: string): string {
  return escapeHelp(text).replaceAll('"', '\\"');
}
