import type { LookupFunction } from "node:net";
import type { ResolvedAddress } from "./resolve-delivery-addresses.ts";

/**
 * A `lookup` for `http.request` / `https.request` (passed down to `net.connect`) that answers
 * every name with addresses already vetted, instead of asking DNS again. The request keeps its
 * host name for the Host header, TLS SNI and certificate check; only the connection is pinned.
 * With `all` (Node's happy-eyeballs connect) it offers every vetted address, all equally safe.
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  const [first] = addresses;
  if (first === undefined) throw new RangeError("pinnedLookup needs at least one address");
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
    const chosen = usable[0];
    if (chosen === undefined) {
      const error: NodeJS.ErrnoException = new Error("no vetted address of the requested family");
      error.code = "ENOTFOUND";
      callback(error, "", 0);
      return;
    }
    if ((options as { all?: boolean }).all === true) {
      callback(
        null,
        usable.map(({ address, family }) => ({ address, family })),
      );
    } else {
      callback(null, chosen.address, chosen.family);
    }
  };
}
