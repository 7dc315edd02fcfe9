/**
 * `npm run bench [-- name…]`: runs every benchmark in bench/ (or the named ones) one after
 * another, each in its own Node process so one's heap and JIT state can't skew the next.
 * Benchmarks print figures; none of them is a test and none fails on a slow machine.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const available = readdirSync(dir)
  .filter((file) => file.endsWith(".ts") && file !== "run.ts")
  .map((file) => file.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(2);
}

let failed = 0;
for (const name of wanted.length > 0 ? wanted : available) {
  console.log(`\n── bench/${name} ${"─".repeat(60 - name.length)}`);
  const result = spawnSync(process.execPath, [`${dir}${name}.ts`], { stdio: "inherit" });
  if (result.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
