/** A name a person recognises for this browser in the devices list, e.g. "Chrome on Android". */
export function deviceName(userAgent: string = navigator.userAgent): string {
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : "Browser";
  const os = /Android/.test(userAgent)
    ? "Android"
    : /iPhone|iPad|iPod/.test(userAgent)
      ? "iOS"
      : /Mac OS X/.test(userAgent)
        ? "macOS"
        : /Windows/.test(userAgent)
          ? "Windows"
          : /CrOS/.test(userAgent)
            ? "ChromeOS"
            : /Linux/.test(userAgent)
              ? "Linux"
              : "";
  return os === "" ? browser : `${browser} on ${os}`;
}

/** The platform string sent with the device (≤ 64 characters). */
export function devicePlatform(): string {
  const data = (navigator as { userAgentData?: { platform?: string } }).userAgentData;
  return (data?.platform || navigator.platform || "").slice(0, 64);
}
