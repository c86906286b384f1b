// Records a HAR of a page talking WebSocket, with Debian's Chromium driven by playwright-core.
// node record_har.mjs PAGE_URL HAR_PATH USER_DATA_DIR CONTENT   (CONTENT: embed or attach)
// The page (page.html) says it is done in its title once its conversation closed; the HAR is written when the
// browser context closes.
import { chromium } from "playwright-core";

const [pageUrl, harPath, userDataDir, content] = process.argv.slice(2);
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
  recordHar: { path: harPath, content },
});
try {
  const page = await context.newPage();
  await page.goto(pageUrl);
  await page.waitForFunction(() => document.title === "done" || document.title.startsWith("error"), null,
                             { timeout: 30000 });
  const title = await page.title();
  if (title !== "done") throw new Error(`the page says: ${title}`);
} finally {
  await context.close();
}
console.log("recorded");
