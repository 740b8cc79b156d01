// Opens a concguard-audit HTML report in headless Chromium (as check_html.js
// does, network blocked), opens every finding and prints, per finding, its
// location and each note with the source line shown under it.
//   node check_html_notes.js <report dir>
"use strict";
const { openReport } = require("./report_page");

(async () => {
  const { browser, page, problems } = await openReport(process.argv[2]);

  const rows = page.locator("#findings tbody tr.finding");
  const n = await rows.count();
  for (let i = 0; i < n; ++i) {
    const row = rows.nth(i);
    console.log("finding " + (await row.locator("td:nth-child(3)").textContent()).trim());
    await row.click();
    const detail = page.locator("#findings tbody tr.detail").first();
    for (const li of await detail.locator("ul.notes li").all()) {
      const where = (await li.locator("code").first().textContent()).trim();
      const code = li.locator("pre.note-code");
      console.log("  note " + where + ": " +
                  ((await code.count()) ? "| " + (await code.textContent()).trim() : "(no source line)"));
    }
    await row.click();
  }
  console.log("problems " + problems.length);
  for (const p of problems) console.log("  " + p);
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
