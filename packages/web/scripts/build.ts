// Builds the approver app into packages/web/dist: Vite for the app, then the service worker
// (types stripped, the shell's file list written in), then prints the first-load JavaScript size.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "vite";

/** The budget of issue 7: JavaScript needed for the first load, gzip. */
const FIRST_LOAD_BUDGET = 150 * 1024;

const root = fileURLToPath(new URL("..", import.meta.url));
const target = join(root, "dist");
// Built aside and swapped in at the end, so a running server or a concurrent build (two test
// runs at once) never sees a half-written dist/. node_modules/ is ignored by git and the linter.
const scratch = join(root, "node_modules", ".countersign-web-build");
mkdirSync(scratch, { recursive: true });
const dist = join(scratch, `next-${process.pid}`);
const retired = join(scratch, `old-${process.pid}`);

await build({
  root,
  base: "/",
  logLevel: "warn",
  publicDir: join(root, "public"),
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: dist,
    emptyOutDir: true,
    target: "es2022",
    // The polyfill would be an inline-ish helper; every browser with passkeys has modulepreload.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    sourcemap: false,
  },
});

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
const built = files(dist).map((path) => `/${relative(dist, path).split("\\").join("/")}`);

// The service worker: the shell to cache, and a build id that changes whenever a file does.
const precache = ["/", ...built.filter((path) => path !== "/index.html" && path !== "/sw.js")].sort();
const hash = createHash("sha256");
for (const path of precache) hash.update(path === "/" ? readFileSync(join(dist, "index.html")) : path);
const buildId = hash.digest("hex").slice(0, 16);
const source = readFileSync(join(root, "src/sw/service-worker.ts"), "utf8");
const worker = stripTypeScriptTypes(source, { mode: "strip" }).replace(/^\/\/\/ <reference[^\n]*\n/m, "");
writeFileSync(
  join(dist, "sw.js"),
  `const BUILD_ID = ${JSON.stringify(buildId)};\nconst PRECACHE = ${JSON.stringify(precache)};\n${worker}`,
);

// First load: the entry script and every module it preloads, as index.html names them.
const index = readFileSync(join(dist, "index.html"), "utf8");
const scripts = [...index.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+\.js)"/g)].map(
  (match) => match[1] ?? "",
);
if (/<script(?![^>]*\ssrc=)[^>]*>/.test(index)) throw new Error("index.html has an inline script; the CSP forbids it");
const gzipSize = (path: string) => gzipSync(readFileSync(join(dist, path)), { level: 9 }).length;
const jsBytes = scripts.reduce((sum, path) => sum + gzipSize(path), 0);
const cssBytes = built.filter((path) => path.endsWith(".css")).reduce((sum, path) => sum + gzipSize(path), 0);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
process.stdout.write(
  `web: first-load JS ${kb(jsBytes)} gzip (budget ${kb(FIRST_LOAD_BUDGET)}), CSS ${kb(cssBytes)} gzip, ` +
    `${built.length} files in packages/web/dist\n`,
);
if (jsBytes > FIRST_LOAD_BUDGET) {
  process.stderr.write(`web: first-load JS is over the ${kb(FIRST_LOAD_BUDGET)} budget\n`);
  process.exitCode = 1;
}

for (let attempt = 0; ; attempt++) {
  try {
    renameSync(target, retired);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  try {
    renameSync(dist, target);
    break;
  } catch (error) {
    // Another build swapped its dist/ in between: retire that one too (the builds are identical).
    const code = (error as NodeJS.ErrnoException).code;
    if ((code !== "ENOTEMPTY" && code !== "EEXIST") || attempt === 5) throw error;
    rmSync(retired, { recursive: true, force: true });
  }
}
rmSync(retired, { recursive: true, force: true });
