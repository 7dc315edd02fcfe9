import type { Page } from "playwright-core";
import type { E2eServer } from "./e2e-server.ts";

/**
 * Walks the app's sign-up in `page` up to the Recovery Kit: the email, the emailed code and a
 * first passkey named `passkeyName` on the page's virtual authenticator. Ends once the kit shows.
 */
export async function signUpToRecoveryKit(
  page: Page,
  server: E2eServer,
  account: { email: string; passkeyName: string },
): Promise<void> {
  await page.goto(`${server.url}/signup`);
  await page.getByLabel("Email address").fill(account.email);
  const mailed = server.mailer.sent.length;
  await page.getByRole("button", { name: "Send code" }).click();
  await page.getByLabel("Code from the email").fill(await server.codeMailedAfter(account.email, mailed));
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Name for this passkey").fill(account.passkeyName);
  await page.getByRole("button", { name: "Create passkey" }).click();
  await page.getByRole("heading", { name: "Your Recovery Kit" }).waitFor();
}
