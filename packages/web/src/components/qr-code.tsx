import { useEffect, useState } from "preact/hooks";

/** The QR code's modules as one SVG path, and its size in modules. */
async function qrPath(text: string): Promise<{ path: string; size: number }> {
  // Loaded on demand: only the "Add a device" screen draws a QR code.
  const { encode } = await import("uqr");
  const { data, size } = encode(text, { ecc: "M", border: 2 });
  let path = "";
  data.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) path += `M${x} ${y}h1v1h-1z`;
    });
  });
  return { path, size };
}

/**
 * A QR code drawn as one SVG path from uqr's module matrix (no markup string, so nothing needs a
 * Trusted Types policy). `label` is its text alternative.
 */
export function QrCode({ text, label }: { text: string; label: string }) {
  const [drawn, setDrawn] = useState<{ path: string; size: number } | null>(null);
  useEffect(() => {
    let live = true;
    qrPath(text)
      .then((next) => live && setDrawn(next))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [text]);
  const size = drawn?.size ?? 1;
  return (
    <svg class="qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={label} shape-rendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      {drawn !== null && <path d={drawn.path} fill="#000" />}
    </svg>
  );
}
