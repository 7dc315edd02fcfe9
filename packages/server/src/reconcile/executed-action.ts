/** One line of the actions file, validated (docs/reconciliation.md#the-actions-file). */
export interface ExecutedAction {
  /** 1-based line number in the file. */
  readonly line: number;
  /** The compact JWS receipt the executor was given, if the line has one. */
  readonly receipt: string | undefined;
  /** The approval request id, if the line names one. */
  readonly requestId: string | undefined;
  readonly actionType: string;
  /** Milliseconds since the epoch. */
  readonly executedAt: number;
  /** `sha256:<hex>` of the display payload the executor acted on, if it recorded one. */
  readonly displayPayloadHash: string | undefined;
  /** The whole line as parsed, every field kept for the report. */
  readonly record: Readonly<Record<string, unknown>>;
}
