import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type PackedSdk, packSdk } from "../scripts/pack-sdk.ts";
import { EXIT } from "./cli/exit-codes.ts";
import { type AgentTestWorld, createAgentTestWorld } from "./test-support/agent-test-world.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const NUMBER = /Number: (\d{3}) (\d{3}) .*?(apr_[A-Za-z0-9_-]{22})/;

/**
 * The packages as a user installs them: `npm run pack:sdk`'s tarballs unpacked into the
 * node_modules of a project outside the repository, beside the packages they declare as
 * dependencies and nothing else (symlinked from the workspace's install, since tests reach no
 * registry). Node refuses TypeScript under node_modules, so anything that still pointed at a
 * source file would fail here.
 */
describe("the packed SDK, installed in another project", () => {
  let root: string;
  let project: string;
  let packed: PackedSdk;

  before(() => {
    root = mkdtempSync(join(tmpdir(), "cs-packed-"));
    packed = packSdk(join(root, "tarballs"));
    project = join(root, "project");
    mkdirSync(join(project, "node_modules", "@countersign"), { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    const declared = new Set<string>(["@types/node"]);
    for (const [name, tarball] of Object.entries(packed)) {
      const target = join(project, "node_modules", "@countersign", name);
      mkdirSync(target);
      const untar = spawnSync("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"], { encoding: "utf8" });
      assert.equal(untar.status, 0, untar.stderr);
      const manifest = JSON.parse(readFileSync(join(target, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
      };
      for (const dependency of Object.keys(manifest.dependencies ?? {})) declared.add(dependency);
    }
    for (const dependency of declared) {
      if (dependency.startsWith("@countersign/")) continue;
      const link = join(project, "node_modules", dependency);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(realpathSync(join(REPO, "node_modules", dependency)), link, "dir");
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("holds JavaScript and declarations, no TypeScript sources or tests", () => {
    for (const tarball of Object.values(packed)) {
      const listing = spawnSync("tar", ["-tzf", tarball], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
      assert.ok(listing.includes("package/dist/index.js"), `${tarball} has dist/index.js`);
      assert.ok(listing.includes("package/dist/index.d.ts"), `${tarball} has dist/index.d.ts`);
      assert.ok(listing.includes("package/LICENSE"));
      assert.ok(listing.includes("package/README.md"), `${tarball} has its README`);
      const stray = listing.filter((file) => (file.endsWith(".ts") && !file.endsWith(".d.ts")) || /test/.test(file));
      assert.deepEqual(stray, [], `${tarball} holds only built files`);
    }
  });

  it("loads every entry point from node_modules and signs a request", () => {
    const script = `
      import * as sdk from "@countersign/agent";
      import * as mcp from "@countersign/agent/mcp";
      import * as cli from "@countersign/agent/node";
      import * as protocol from "@countersign/protocol";
      const { privateKey } = await protocol.generateEd25519KeyPair();
      const parts = { method: "GET", authority: "api.example.com", path: "/v1/agent/whoami", query: "", headers: {} };
      const headers = await protocol.signRequest(parts, { keyId: "k1", privateKey });
      console.log(JSON.stringify({
        sdk: typeof sdk.createAgentClient, receipts: typeof sdk.verifyReceipt,
        mcp: typeof mcp.createApprovalMcpServer, cli: typeof cli.runCli,
        signed: Object.keys(headers).sort(),
      }));`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: project,
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      sdk: "function",
      receipts: "function",
      mcp: "function",
      cli: "function",
      signed: ["signature", "signature-input"],
    });
  });

  it("gives a TypeScript project real types, and the README's example type-checks against them", () => {
    // The example the package's README shows, as a user would paste it.
    const readme = readFileSync(join(REPO, "packages", "agent", "README.md"), "utf8");
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example?.includes("createAgentClient"), "the README has a TypeScript example");
    writeFileSync(join(project, "readme-example.mts"), example ?? "");
    writeFileSync(
      join(project, "use.ts"),
      [
        'import { createAgentClient } from "@countersign/agent";',
        'import { signRequest } from "@countersign/protocol";',
        "export const client: typeof createAgentClient = createAgentClient;",
        "export const sign: typeof signRequest = signRequest;",
        "// @ts-expect-error typed, not any: a function is not a number",
        "export const wrong: number = createAgentClient;",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2024",
          lib: ["es2024", "dom"],
          types: ["node"],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
        },
        files: ["use.ts", "readme-example.mts"],
      }),
    );
    const result = spawnSync(
      process.execPath,
      [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", project],
      {
        encoding: "utf8",
      },
    );
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });

  describe("its countersign-agent executable", () => {
    let world: AgentTestWorld;
    before(async () => {
      world = await createAgentTestWorld({ startAt: Date.now() });
    });
    after(() => world.close());

    it("enrols, asks, and prints the receipt once approved", async () => {
      // Spawned, not spawnSync: the server runs in this process and must keep answering.
      const bin = join(project, "node_modules", "@countersign", "agent", "bin", "countersign-agent.js");
      const env = { ...process.env, COUNTERSIGN_KEY_FILE: join(world.dir, "packed-key.json") };
      const enroll = startBin(
        bin,
        project,
        ["enroll", "--server", world.server, "--code", await world.enrollmentCode()],
        env,
      );
      assert.equal(await enroll.exit, 0, enroll.stderr());

      const request = startBin(
        bin,
        project,
        ["request", "--action", "deploy.production", "--title", "Deploy", "--wait"],
        env,
      );
      const shown = await request.waitForStderr(NUMBER);
      await world.decide(shown[3] ?? "", `${shown[1]}${shown[2]}`);
      assert.equal(await request.exit, EXIT.approved, request.stderr());
      assert.match(request.stdout().trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/, "the receipt, a compact JWS");
    });
  });
});

/** The installed executable as its own process, from the consumer project's directory. */
function startBin(bin: string, cwd: string, argv: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [bin, ...argv], { cwd, env });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8");
  });
  const exit = new Promise<number | null>((resolve) => child.once("close", resolve));
  return {
    exit,
    stdout: () => out,
    stderr: () => err,
    waitForStderr: (pattern: RegExp) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const match = err.match(pattern);
          if (match !== null) resolve(match);
        };
        child.stderr.on("data", check);
        void exit.then(() => {
          check();
          reject(new Error(`exited before ${pattern} appeared on stderr:\n${err}`));
        });
        check();
      }),
  };
}
