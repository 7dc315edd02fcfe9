import packageJson from "../../package.json" with { type: "json" };

/**
 * The version of `@countersign/agent`, reported to MCP clients.
 *
 * @example
 * ```ts
 * new McpServer({ name: "countersign", version: PACKAGE_VERSION });
 * ```
 */
export const PACKAGE_VERSION: string = packageJson.version;
