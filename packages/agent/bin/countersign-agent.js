#!/usr/bin/env node
// The sources are TypeScript run by Node's type stripping (Node >= 22.18), as in packages/server.
const { main } = await import("../src/cli/main.ts");
await main();
