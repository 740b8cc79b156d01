// Opens a concguard-audit HTML report in headless Chromium (as check_html.js
// does, network blocked) and prints the severity every table row shows (its
// text and the class that colours it) and the bars of the severity chart.
//   node check_html_severity.js <report dir>
"use strict";
const { openReport } = require("./report_page");

(async () => {
  const { browser, page, problems } = await openReport(process.argv[2]);

  const text = async (loc) => (await loc.textContent()).trim();
  for (const row of await page.locator("#findings tbody tr.finding").all()) {
    const cell = row.locator("td:nth-child(1)");
    const where = (await text(row.locator("td:nth-child(3)"))).replace(/:\d+$/, "");
    console.log("row " + where + " " + (await text(row.locator("td:nth-child(2)"))) + " " +
                (await text(cell)) + " (" + (await cell.getAttribute("class")) + ")");
  }
  for (const bar of await page.locator("#chart-severity svg rect.bar").all())
    console.log("bar " + (await bar.getAttribute("aria-label")));
  console.log("problems " + problems.length);
  for (const p of problems) console.log("  " + p);
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
