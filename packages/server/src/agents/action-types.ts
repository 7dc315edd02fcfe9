/**
 * Action types (DESIGN §4.4) and the patterns an agent's allowlist holds: exact names, or
 * `prefix.*` for every action type under `prefix.` (not `prefix` itself).
 */

/** An action type: lowercase letters, digits and `._:-`, starting with a letter or digit, ≤ 64. */
export const ACTION_TYPE_SOURCE = "^[a-z0-9][a-z0-9._:-]{0,63}$";
/** An allowlist entry: an action type, or an action-type prefix followed by `.*` (≤ 64 in all). */
export const ALLOWED_ACTION_SOURCE = "^(?:[a-z0-9][a-z0-9._:-]{0,63}|[a-z0-9][a-z0-9._:-]{0,61}\\.\\*)$";

const ACTION_TYPE = new RegExp(ACTION_TYPE_SOURCE);
const ALLOWED_ACTION = new RegExp(ALLOWED_ACTION_SOURCE);

/** Whether `value` is a well-formed action type. */
export function isActionType(value: unknown): value is string {
  return typeof value === "string" && ACTION_TYPE.test(value);
}

/** Whether `value` is a well-formed allowlist entry (an action type or `prefix.*`). */
export function isAllowedActionPattern(value: unknown): value is string {
  return typeof value === "string" && ALLOWED_ACTION.test(value);
}

/**
 * Whether an agent whose allowlist is `patterns` may ask for `actionType`. `deploy.*` allows
 * `deploy.web` and `deploy.web.eu`, not `deploy` nor `deployment.web`; matching is exact,
 * character by character, with no other wildcard.
 */
export function actionAllowed(patterns: readonly string[], actionType: string): boolean {
  if (!isActionType(actionType)) return false;
  for (const pattern of patterns) {
    if (pattern.endsWith(".*")) {
      const prefix = pattern.slice(0, -1);
      if (actionType.length > prefix.length && actionType.startsWith(prefix)) return true;
    } else if (pattern === actionType) {
      return true;
    }
  }
  return false;
}
