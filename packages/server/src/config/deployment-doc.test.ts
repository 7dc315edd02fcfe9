import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "../cli/commands.ts";
import { ConfigError } from "./config-error.ts";
import { loadConfig } from "./load-config.ts";
import { generateSecretsDocument } from "./server-secrets.ts";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const GUIDE = readFileSync(join(REPO, "docs/deployment.md"), "utf8");
const CONFIG_DIR = fileURLToPath(new URL("./", import.meta.url));

/** The code block after `<!-- example: NAME -->` in the guide, exactly as printed. */
function example(name: string): string {
  const start = GUIDE.indexOf(`<!-- example: ${name} -->`);
  assert.notEqual(start, -1, `the guide has the ${name} example`);
  const match = /```sh\n([\s\S]*?)```/.exec(GUIDE.slice(start));
  assert.ok(match?.[1]);
  return match[1];
}

/** `KEY=value` lines as an environment, as systemd's EnvironmentFile reads them. */
function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    assert.ok(eq > 0, `"${line}" is KEY=value`);
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

describe("docs/deployment.md", () => {
  const dir = mkdtempSync(join(tmpdir(), "countersign-deployment-doc-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("its production environment file starts the server in production mode, with nothing missing", () => {
    const env = parseEnvironmentFile(example("env"));
    // The secrets file of step 3, where the test can write it: mode 0600, as the server demands.
    const secretsFile = join(dir, "secrets.json");
    writeFileSync(secretsFile, JSON.stringify(generateSecretsDocument()), { mode: 0o600 });
    assert.equal(env.COUNTERSIGN_SECRETS_FILE, "/etc/countersign/secrets.json");
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig({ ...env, COUNTERSIGN_SECRETS_FILE: secretsFile }, { cwd: dir });
    } catch (error) {
      if (error instanceof ConfigError) assert.fail(`the guide's environment is refused: ${error.problems.join("; ")}`);
      throw error;
    }
    assert.equal(config.environment, "production");
    assert.equal(config.database.kind, "postgres");
    assert.equal(config.publicUrl, "https://approve.example.com");
    assert.equal(config.secrets.source, "file");
    assert.deepEqual([...config.trustProxy], ["127.0.0.1"]);
    // And the guide's "production insists on" list holds: without any one of them it is refused.
    for (const name of ["DATABASE_URL", "SMTP_URL", "COUNTERSIGN_SECRETS_FILE"]) {
      const without: Record<string, string> = { ...env, COUNTERSIGN_SECRETS_FILE: secretsFile };
      delete without[name];
      assert.throws(() => loadConfig(without, { cwd: dir }), ConfigError, `production without ${name}`);
    }
    assert.throws(
      () =>
        loadConfig(
          { ...env, COUNTERSIGN_SECRETS_FILE: secretsFile, COUNTERSIGN_PUBLIC_URL: "http://approve.example.com" },
          { cwd: dir },
        ),
      ConfigError,
    );
  });

  it("names only variables the configuration reads", () => {
    const source = readdirSync(CONFIG_DIR)
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
      .map((file) => readFileSync(join(CONFIG_DIR, file), "utf8"))
      .join("\n");
    const named = new Set(GUIDE.match(/\b(?:COUNTERSIGN_[A-Z0-9_]+|DATABASE_URL|SMTP_URL|NODE_ENV)\b/g) ?? []);
    assert.ok(named.size >= 10, "the guide names the variables it relies on");
    for (const name of named) assert.ok(source.includes(`"${name}"`), `${name} is read by src/config`);
  });

  it("runs only commands that exist, from paths that exist", () => {
    const commands = new Set(COMMANDS.map((command) => command.name));
    const used = [...GUIDE.matchAll(/countersign(?: --)? ((?:audit|keys|secrets) [a-z-]+|serve|migrate)\b/g)].map(
      (match) => match[1] as string,
    );
    assert.ok(used.includes("migrate") && used.includes("serve") && used.includes("secrets generate"));
    for (const name of used) assert.ok(commands.has(name), `countersign ${name} exists`);
    for (const path of [
      "packages/server/sql/app-role.sql",
      "packages/server/bin/countersign.js",
      // The Node 24 binary the service starts, from the `node` devDependency.
      "node_modules/.bin/node",
    ]) {
      assert.ok(GUIDE.includes(path), `the guide names ${path}`);
      assert.ok(existsSync(join(REPO, path)), `${path} exists`);
    }
  });
});
