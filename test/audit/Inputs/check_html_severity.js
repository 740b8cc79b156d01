// Opens a concguard-audit HTML report in headless Chromium (as check_html.js
// does, network blocked) and prints the severity every table row shows (its
// text and the class that colours it) and the bars of the severity chart.
//   node check_html_severity.js <report dir>
"use strict";
const path = require("path");
const { chromium } = require("playwright-core");

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run"],
  });
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  await page.route("**/*", (route) =>
    route.request().url().startsWith("file:") ? route.continue() : route.abort());
  await page.goto("file://" + path.resolve(process.argv[2], "index.html"));

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
