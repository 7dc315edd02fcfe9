// A Node agent that asks its person before a destructive step, with @countersign/agent.
//
//   countersign-agent enroll --server https://api.countersign.example --code cs_enr_…
//   node examples/node-agent.ts sessions
//
// Exit codes follow the CLI's: 0 approved (and done), 1 rejected, 2 expired, 3 canceled, 4 error.
import { createAgentClient, isCountersignError } from "@countersign/agent";

const table = process.argv[2] ?? "sessions";
const client = await createAgentClient({ keyFile: process.env.COUNTERSIGN_KEY_FILE ?? "agent-key.json" });

const approval = await client.requestApproval({
  actionType: "db.migrate",
  title: `Drop the ${table} table`,
  body: `Drops ${table} in the production database. A backup was taken 5 minutes ago.`,
  context: { database: "production", table },
  ttlSeconds: 120,
});
// Show the number at once: the person types it on their phone.
console.error(`Approve on your phone by typing ${approval.numberMatch} (request ${approval.id})`);

const controller = new AbortController();
process.once("SIGINT", () => controller.abort(new Error("interrupted")));
try {
  const outcome = await approval.wait({ signal: controller.signal });
  switch (outcome.status) {
    case "approved":
      // Hand the receipt to whatever performs the action; it verifies it (verifyReceipt) first.
      console.log(JSON.stringify({ dropped: table, approval: outcome.id, receipt: outcome.receipt }));
      process.exitCode = 0;
      break;
    case "rejected":
      console.error(`Not dropping ${table}: rejected${outcome.reason ? ` (${outcome.reason})` : ""}.`);
      process.exitCode = 1;
      break;
    case "expired":
      console.error(`Not dropping ${table}: nobody approved in time.`);
      process.exitCode = 2;
      break;
    case "canceled":
      console.error(`Not dropping ${table}: canceled.`);
      process.exitCode = 3;
      break;
  }
} catch (error) {
  if (controller.signal.aborted) {
    await approval.cancel();
    process.exitCode = 3;
  } else {
    // Every error is a CountersignError with a stable code: switch on it, never on the message.
    console.error(isCountersignError(error) ? `${error.code}: ${error.message}` : error);
    process.exitCode = 4;
  }
}
