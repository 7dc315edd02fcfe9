import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** Where `npm run build -w packages/web` writes the approver app. */
export const WEB_DIST_DIR = fileURLToPath(new URL("../../../web/dist/", import.meta.url));

/** One file of the built app, held in memory with its gzip form when that is smaller. */
export interface WebAppFile {
  readonly body: Buffer;
  readonly gzip: Buffer | null;
  readonly contentType: string;
}

/** The built app: files by their path under the dist directory, `/`-separated, no leading slash. */
export type WebAppFiles = ReadonlyMap<string, WebAppFile>;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".webmanifest", ".svg", ".txt"]);

/**
 * Reads the whole built app into memory once, at start: it is a few hundred kilobytes, and
 * answering from a map keyed by exact path means no request path ever reaches the file system
 * (no traversal to guard against). Files of unknown types are left out rather than served with
 * a guessed type. A missing directory gives an empty map (the server runs; the app routes say
 * the app is not built).
 */
export function loadWebAppFiles(dir: string = WEB_DIST_DIR): WebAppFiles {
  const files = new Map<string, WebAppFile>();
  if (!existsSync(dir)) return files;
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const ext = extname(name).toLowerCase();
      const contentType = CONTENT_TYPES[ext];
      if (contentType === undefined) continue;
      const body = readFileSync(path);
      const packed = COMPRESSIBLE.has(ext) && body.length > 256 ? gzipSync(body, { level: 9 }) : null;
      files.set(relative(dir, path).split(sep).join("/"), {
        body,
        gzip: packed !== null && packed.length < body.length ? packed : null,
        contentType,
      });
    }
  };
  walk(dir);
  return files;
}
