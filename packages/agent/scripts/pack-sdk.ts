/**
 * `npm run pack:sdk [-- OUT_DIR]`: builds `@countersign/protocol` and `@countersign/agent` to
 * JavaScript and packs each into an npm tarball (`npm pack`) that installs and runs outside this
 * repository.
 *
 * Why a build: in the repository the packages are TypeScript, run by Node's type stripping, which
 * Node refuses for files under `node_modules` (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING), so an
 * installed copy of the sources would not load. The workspace keeps importing the sources (the
 * server, the app and the tests see every edit at once, with no build in between); only the packed
 * package.json points at `dist/`, with declarations beside the JavaScript.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));

/** The tarballs {@link packSdk} wrote. */
export interface PackedSdk {
  readonly protocol: string;
  readonly agent: string;
}

type Manifest = Record<string, unknown> & {
  name: string;
  version: string;
  exports?: Record<string, unknown>;
  imports?: Record<string, unknown>;
  bin?: Record<string, string>;
};

// The agent's executable in the package: the same entry point as bin/countersign-agent.js, on the
// built JavaScript.
const PACKED_BIN = `#!/usr/bin/env node
const { main } = await import("../dist/cli/main.js");
await main();
`;

/** Builds both packages and packs them into `outDir`; returns the tarballs' paths. */
export function packSdk(outDir: string): PackedSdk {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  return { protocol: packOne("protocol", out), agent: packOne("agent", out) };
}

function packOne(name: "protocol" | "agent", out: string): string {
  const dir = join(REPO, "packages", name);
  const stage = join(out, `stage-${name}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  // Built straight into the staging directory: the workspace itself is left as it was.
  const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
  run(process.execPath, [tsc, "-p", join(dir, "tsconfig.build.json"), "--outDir", join(stage, "dist")]);
  cpSync(join(REPO, "LICENSE"), join(stage, "LICENSE"));
  cpSync(join(dir, "README.md"), join(stage, "README.md"));
  const source = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
  const manifest = packedManifest(source);
  if (source.bin !== undefined) {
    mkdirSync(join(stage, "bin"));
    for (const file of Object.values(source.bin)) {
      writeFileSync(join(stage, file), PACKED_BIN);
      chmodSync(join(stage, file), 0o755);
    }
  }
  writeFileSync(join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);

  const packed = run("npm", ["pack", "--json", "--pack-destination", out], stage);
  const [result] = JSON.parse(packed) as [{ filename: string }];
  rmSync(stage, { recursive: true, force: true });
  return join(out, result.filename);
}

/**
 * The package.json to publish: every `./src/….ts` target becomes `./dist/….js`, with a `types`
 * condition first pointing at its declaration; `files` is what the tarball holds; the workspace's
 * development dependencies and scripts stay behind.
 */
export function packedManifest(source: Manifest): Manifest {
  const { devDependencies: _dev, scripts: _scripts, files: _files, ...rest } = source;
  const manifest: Manifest = { ...rest, files: source.bin === undefined ? ["dist"] : ["dist", "bin"] };
  if (source.exports !== undefined) manifest.exports = mapTargets(source.exports);
  if (source.imports !== undefined) manifest.imports = mapTargets(source.imports);
  return manifest;
}

function mapTargets(map: Record<string, unknown>): Record<string, unknown> {
  const mapped: Record<string, unknown> = {};
  for (const [key, target] of Object.entries(map)) {
    if (typeof target === "string") {
      mapped[key] = isSource(target) ? { types: declarationOf(target), default: javascriptOf(target) } : target;
    } else if (typeof target === "object" && target !== null) {
      const conditions: Record<string, unknown> = {};
      for (const [condition, path] of Object.entries(target)) {
        if (typeof path !== "string" || !isSource(path)) throw new Error(`cannot map ${key}.${condition}`);
        conditions[condition] = condition === "types" ? declarationOf(path) : javascriptOf(path);
      }
      mapped[key] = conditions;
    } else {
      throw new Error(`cannot map the target of ${key}`);
    }
  }
  return mapped;
}

const isSource = (path: string) => path.startsWith("./src/") && path.endsWith(".ts");
const javascriptOf = (path: string) => `./dist/${path.slice("./src/".length, -".ts".length)}.js`;
const declarationOf = (path: string) => `./dist/${path.slice("./src/".length, -".ts".length)}.d.ts`;

function run(command: string, args: string[], cwd: string = REPO): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const packed = packSdk(process.argv[2] ?? join(REPO, "dist", "packages"));
  process.stdout.write(`${packed.protocol}\n${packed.agent}\n`);
}
