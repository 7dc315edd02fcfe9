// Draws the app's PNG icons (a white check on a blue rounded square, as favicon.svg) with no
// image library: a few signed distances, then a hand-written PNG encoder. Run once after a design
// change: `node packages/web/scripts/make-icons.ts`; the PNGs are committed.
import { writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

const BLUE = [0x1d, 0x3f, 0x91];
const WHITE = [0xff, 0xff, 0xff];

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** RGBA pixels of the icon at `size`; `inset` shrinks the artwork (maskable icons' safe zone). */
function draw(size: number, options: { rounded: boolean; inset: number }): Buffer {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  const scale = size / 64;
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      // Coordinates in the 64-unit design space of favicon.svg.
      const u = (x + 0.5) / scale;
      const v = (y + 0.5) / scale;
      const r = 14;
      const cx = Math.min(Math.max(u, r), 64 - r);
      const cy = Math.min(Math.max(v, r), 64 - r);
      const inside = !options.rounded || Math.hypot(u - cx, v - cy) <= r;
      const k = 1 - options.inset;
      const su = 32 + (u - 32) / k;
      const sv = 32 + (v - 32) / k;
      const check = Math.min(segmentDistance(su, sv, 18, 33, 27, 42), segmentDistance(su, sv, 27, 42, 46, 22)) <= 3.5;
      const color = check ? WHITE : BLUE;
      const at = y * (size * 4 + 1) + 1 + x * 4;
      raw[at] = color[0] ?? 0;
      raw[at + 1] = color[1] ?? 0;
      raw[at + 2] = color[2] ?? 0;
      raw[at + 3] = inside ? 255 : 0;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", new Uint8Array()),
  ]);
}

const dir = new URL("../public/icons/", import.meta.url);
writeFileSync(new URL("icon-192.png", dir), draw(192, { rounded: true, inset: 0 }));
writeFileSync(new URL("icon-512.png", dir), draw(512, { rounded: true, inset: 0 }));
writeFileSync(new URL("icon-maskable-512.png", dir), draw(512, { rounded: false, inset: 0.2 }));
