import type { Page } from "playwright-core";
import type { E2eServer } from "./e2e-server.ts";

/**
 * Walks the app's account recovery (/recover) in `page`: the email, the emailed code, one of the
 * account's recovery codes and a new passkey named `passkeyName` on the page's virtual
 * authenticator. Ends on the step that asks for the Recovery Kit's secret.
 */
export async function recoverAccount(
  page: Page,
  server: E2eServer,
  account: { email: string; recoveryCode: string; passkeyName: string },
): Promise<void> {
  await page.goto(`${server.url}/recover`);
  await page.getByLabel("Email address").fill(account.email);
  const mailed = server.mailer.sent.length;
  await page.getByRole("button", { name: "Send code" }).click();
  await page.getByLabel("Code from the email").fill(await server.codeMailedAfter(account.email, mailed));
  await page.getByLabel("One of your recovery codes").fill(account.recoveryCode);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Name for this passkey").fill(account.passkeyName);
  await page.getByRole("button", { name: "Create passkey" }).click();
}

/**
 * On the step {@link recoverAccount} ends on, says the person has no recovery secret and waits
 * for the app's warning that old end-to-end context stays unreadable.
 */
export async function declineRecoverySecret(page: Page): Promise<void> {
  await page.getByRole("button", { name: "I do not have the recovery secret" }).click();
  await page.getByText("stays unreadable for good", { exact: false }).waitFor();
}
