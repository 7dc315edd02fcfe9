import { CountersignError } from "@countersign/protocol";

/**
 * How one gated tool is put to the person.
 *
 * @example
 * ```ts
 * const rule: GateRule = { actionType: "mcp.deploy", title: "Deploy {service}", ttlSeconds: 300 };
 * ```
 */
export interface GateRule {
  /** The action type the approval request carries; must be in the agent's allowlist. */
  readonly actionType: string;
  /** A title template: `{tool}` and `{argument_name}` are replaced; "Run {tool}" by default. */
  readonly title?: string;
  /** A plain-text body template, with the same placeholders. */
  readonly body?: string;
  /** 30–1,800 seconds; the agent's default when left out. */
  readonly ttlSeconds?: number;
}

/**
 * Which tools of the upstream MCP server need approval; from {@link parseGatePolicy}.
 *
 * @example
 * ```ts
 * if (policy.ruleFor("delete_file") !== null) console.log("delete_file needs approval");
 * ```
 */
export interface GatePolicy {
  /** The rule for a tool name, or null when the tool runs without approval. */
  ruleFor(tool: string): GateRule | null;
}

/**
 * Reads a gate policy. The file is JSON:
 *
 * ```json
 * {
 *   "tools": {
 *     "deploy": { "action_type": "mcp.deploy", "title": "Deploy {service} to {environment}", "ttl_seconds": 300 },
 *     "delete_*": { "action_type": "mcp.delete" }
 *   }
 * }
 * ```
 *
 * A key is a tool name, or a prefix ending in `*` (`"*"` alone gates every tool). An exact name
 * wins over a prefix, and a longer prefix over a shorter one. Tools that match nothing are passed
 * through. Unknown fields are refused, so a misspelt rule does not silently gate nothing.
 *
 * @throws CountersignError `validation_failed` naming the problem.
 *
 * @example
 * ```ts
 * const policy = parseGatePolicy(JSON.parse(await readFile("gate-policy.json", "utf8")));
 * policy.ruleFor("deploy"); // { actionType: "mcp.deploy", … }
 * ```
 */
export function parseGatePolicy(value: unknown): GatePolicy {
  const problem = (message: string): CountersignError =>
    new CountersignError("validation_failed", { message: `The gate policy is not valid: ${message}.` });
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw problem("it must be a JSON object");
  const unknownTop = Object.keys(value).filter((key) => key !== "tools" && key !== "$schema");
  if (unknownTop.length > 0) throw problem(`unknown field ${unknownTop[0]}`);
  const tools = (value as { tools?: unknown }).tools;
  if (typeof tools !== "object" || tools === null || Array.isArray(tools) || Object.keys(tools).length === 0) {
    throw problem('"tools" must be an object naming at least one tool');
  }
  const exact = new Map<string, GateRule>();
  const prefixes: Array<[string, GateRule]> = [];
  for (const [name, raw] of Object.entries(tools)) {
    const rule = parseRule(name, raw, problem);
    if (name.endsWith("*")) prefixes.push([name.slice(0, -1), rule]);
    else exact.set(name, rule);
  }
  prefixes.sort((a, b) => b[0].length - a[0].length);
  return Object.freeze({
    ruleFor(tool: string): GateRule | null {
      return exact.get(tool) ?? prefixes.find(([prefix]) => tool.startsWith(prefix))?.[1] ?? null;
    },
  });
}

const RULE_FIELDS = new Set(["action_type", "title", "body", "ttl_seconds"]);

function parseRule(name: string, raw: unknown, problem: (message: string) => CountersignError): GateRule {
  if (name === "" || name.indexOf("*") !== name.lastIndexOf("*") || (name.includes("*") && !name.endsWith("*"))) {
    throw problem(`"${name}": a tool name, or a prefix ending in *`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw problem(`"${name}" must be an object`);
  const fields = raw as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !RULE_FIELDS.has(key));
  if (unknown !== undefined) throw problem(`"${name}": unknown field ${unknown}`);
  if (typeof fields.action_type !== "string" || !/^[a-z0-9][a-z0-9._:-]{0,63}$/.test(fields.action_type)) {
    throw problem(`"${name}": action_type must match [a-z0-9][a-z0-9._:-]{0,63}`);
  }
  for (const key of ["title", "body"] as const) {
    if (fields[key] !== undefined && typeof fields[key] !== "string")
      throw problem(`"${name}": ${key} must be a string`);
  }
  const ttl = fields.ttl_seconds;
  if (ttl !== undefined && !(Number.isInteger(ttl) && (ttl as number) >= 30 && (ttl as number) <= 1800)) {
    throw problem(`"${name}": ttl_seconds must be an integer from 30 to 1800`);
  }
  return Object.freeze({
    actionType: fields.action_type,
    ...(typeof fields.title === "string" ? { title: fields.title } : {}),
    ...(typeof fields.body === "string" ? { body: fields.body } : {}),
    ...(typeof ttl === "number" ? { ttlSeconds: ttl } : {}),
  });
}

/**
 * Fills a title or body template: `{tool}` with the tool name, `{name}` with that argument
 * (JSON for anything but a string), `{{` and `}}` with braces; then cuts it to `max` characters.
 *
 * @example
 * ```ts
 * fillTemplate("Deploy {service}", "deploy", { service: "api" }, 120); // "Deploy api"
 * ```
 */
export function fillTemplate(template: string, tool: string, args: Record<string, unknown>, max: number): string {
  const filled = template.replace(/\{\{|\}\}|\{([A-Za-z0-9_.-]+)\}/g, (match, name: string | undefined) => {
    if (match === "{{") return "{";
    if (match === "}}") return "}";
    if (name === "tool") return tool;
    if (name === undefined || !Object.hasOwn(args, name)) return match;
    const value = args[name];
    return typeof value === "string" ? value : JSON.stringify(value);
  });
  return filled.length <= max ? filled : `${filled.slice(0, max - 1)}…`;
}
