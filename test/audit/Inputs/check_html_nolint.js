// Opens the HTML report of the Inputs/nolint project in headless Chromium
// (as check_html.js does, network blocked) and prints what a reader sees of
// suppressed findings and regions: the count card, the list below the table
// (and that the table leaves them out), and the highlighted lines of the
// finding whose region spans two lines.
//   node check_html_nolint.js <report dir>
"use strict";
const { openReport } = require("./report_page");

(async () => {
  const { browser, page, problems } = await openReport(process.argv[2]);

  console.log("suppressed-count " + (await page.textContent("#suppressed-count")).trim());
  console.log("suppressed list " + (await page.locator("#suppressed-list li").count()) +
              (await page.isVisible("#suppressed-section") ? "" : " (hidden)"));
  for (const li of await page.locator("#suppressed-list li").allTextContents())
    console.log("  " + li);
  console.log("rows " + (await page.locator("#findings tbody tr.finding").count()));
  await page.locator("#findings tbody tr.finding", { hasText: "ignoring return value" }).click();
  const detail = page.locator("#findings tbody tr.detail").first();
  const lit = await detail.locator("pre.excerpt span.hl").evaluateAll(
    (spans) => spans.map((s) => s.getAttribute("data-n")));
  console.log("highlighted lines " + lit.join(","));
  console.log("problems " + problems.length);
  for (const p of problems) console.log("  " + p);
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
