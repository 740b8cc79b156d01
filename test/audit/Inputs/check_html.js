// Opens a concguard-audit HTML report in headless Chromium (the system's
// /usr/bin/chromium, driven by playwright-core, which never downloads a
// browser) with every network request blocked, and prints what a reader
// sees: the summary counts, the rows under filters and sorting, a finding's
// details, and the charts. Saves a screenshot.
//   node check_html.js <report dir> <report.json> <screenshot.png> [summary.md]
// With the Markdown summary of the same run, also whether the two count the
// same findings, new, unchanged and fixed ones.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const [dir, jsonPath, shot, markdownPath] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(jsonPath, "utf8"));

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") problems.push("console error: " + m.text()); });
  let external = 0;
  await page.route("**/*", (route) => {
    if (route.request().url().startsWith("file:")) return route.continue();
    external++;
    return route.abort();
  });
  await page.goto("file://" + path.resolve(dir, "index.html"));

  const text = async (sel) => (await page.textContent(sel)).trim();
  const rows = async () => page.locator("#findings tbody tr.finding").count();
  console.log("total " + (await text("#total-findings")) + " (report: " + report.findings.length + ")");
  for (const id of ["new-findings", "unchanged-findings", "fixed-findings", "unit-count", "error-count"])
    console.log(id + " " + (await text("#" + id)) + (await page.isVisible("#" + id) ? "" : " (hidden)"));
  console.log("rows " + (await rows()) + "; " + (await text("#shown-count")));
  if (markdownPath) {
    // "**N findings** in U translation units: a new, b unchanged, c fixed."
    const md = fs.readFileSync(markdownPath, "utf8");
    const m = md.match(/\*\*(\d+) findings\*\* in (\d+) translation units(?:: (\d+) new, (\d+) unchanged, (\d+) fixed)?/);
    const html = [];
    for (const id of ["total-findings", "unit-count", "new-findings", "unchanged-findings", "fixed-findings"])
      html.push(await text("#" + id));
    console.log("markdown " + (m ? m.slice(1).join(",") : "no summary line") + "; html " + html.join(",") +
                "; agree " + (!!m && m.slice(1).join(",") === html.join(",")));
  }

  // Charts: one bar per check, per severity and per directory.
  const dist = (f) => new Set(report.findings.map(f)).size;
  console.log("bars by check " + (await page.locator("#chart-check svg rect.bar").count()) +
              " (checks: " + dist((x) => x.check) + ")");
  console.log("bars by directory " + (await page.locator("#chart-directory svg rect.bar").count()) +
              " (directories: " + dist((x) => x.location.path.replace(/\/[^/]*$/, "")) + ")");

  // Filters.
  await page.fill("#filter-text", "util.h");
  console.log("filter text util.h: " + (await rows()) + " rows; " + (await text("#shown-count")));
  await page.fill("#filter-text", "");
  await page.selectOption("#filter-check", "readability-braces-around-statements");
  console.log("filter check braces: " + (await rows()) + " rows; " + (await text("#shown-count")));
  if (await page.isVisible("#filter-state")) {
    await page.selectOption("#filter-check", "");
    await page.selectOption("#filter-state", "new");
    console.log("filter state new: " + (await rows()) + " rows; " + (await text("#shown-count")));
    await page.selectOption("#filter-state", "");
  }
  await page.selectOption("#filter-check", "");
  // A click on a chart bar filters by that check.
  await page.locator("#chart-check svg rect.bar").first().click();
  console.log("chart click: check filter " + (await page.inputValue("#filter-check")) + ", " + (await rows()) + " rows");
  await page.selectOption("#filter-check", "");

  // Sorting by message, both ways.
  await page.click("#findings th[data-key=message]");
  const first = async () => (await page.locator("#findings tbody tr.finding td:nth-child(4)").first().textContent());
  const msgs = report.findings.map((f) => f.message).sort();
  console.log("sorted by message: first is smallest " + (await first()).startsWith(msgs[0]));
  await page.click("#findings th[data-key=message]");
  console.log("sorted by message descending: first is largest " + (await first()).startsWith(msgs[msgs.length - 1]));

  // Details of the finding with a fix-it: excerpt with the highlighted line,
  // its note, and the fix preview.
  await page.click("#findings th[data-key=location]");
  await page.fill("#filter-text", "reporter.cpp:21");
  await page.locator("#findings tbody tr.finding").first().click();
  const detail = page.locator("#findings tbody tr.detail").first();
  console.log("highlighted line " + (await detail.locator("pre.excerpt:not(.fix-preview) span.hl").first().getAttribute("data-n")));
  console.log("note " + (await detail.locator("ul.notes li").first().textContent()));
  console.log("fix preview removed " + JSON.stringify(await detail.locator("pre.fix-preview span.del").allTextContents()));
  console.log("fix preview added " + (await detail.locator("pre.fix-preview span.add").first().textContent()).trim());
  console.log("fixed list " + (await page.locator("#fixed-list li").count()) + ", linked to their check's page " +
              (await page.locator("#fixed-list li a[href$='.md'], #fixed-list li a[href$='.html']").count()));
  // Each note with its source line; the check links to its documentation.
  console.log("note code " + (await detail.locator("ul.notes li pre.note-code").first().textContent()).trim());
  const row = page.locator("#findings tbody tr.finding").first();
  console.log("check link " + (await row.locator("td a").first().getAttribute("href")));
  // Rows are reachable with Tab and open and close with Enter or Space.
  await page.focus("#filter-text");
  await page.keyboard.press("Tab");
  for (let i = 0; i < 10 && !(await row.evaluate((r) => r === document.activeElement)); ++i)
    await page.keyboard.press("Tab");
  console.log("row focused by Tab " + (await row.evaluate((r) => r === document.activeElement)));
  await page.keyboard.press("Enter");
  console.log("Enter: details " + (await page.locator("#findings tbody tr.detail").count()) +
              ", aria-expanded " + (await row.getAttribute("aria-expanded")));
  await page.keyboard.press(" ");
  console.log("Space: details " + (await page.locator("#findings tbody tr.detail").count()) +
              ", aria-expanded " + (await row.getAttribute("aria-expanded")));

  // The column headers and the chart bars are controls too: Tab reaches
  // them, Enter sorts or filters.
  await page.fill("#filter-text", "");
  await page.focus("#filter-text");
  const header = page.locator("#findings th[data-key=severity]");
  let tabs = 0;
  while (tabs < 20 && !(await header.evaluate((th) => th.contains(document.activeElement)))) {
    await page.keyboard.press("Tab");
    ++tabs;
  }
  console.log("header reached by Tab " + (await header.evaluate((th) => th.contains(document.activeElement))));
  await page.keyboard.press("Enter");
  console.log("Enter on header: aria-sort " + (await header.getAttribute("aria-sort")));
  const bar = page.locator("#chart-check svg rect.bar").first();
  await page.focus("#filter-check");
  for (let i = 0; i < 30 && !(await bar.evaluate((b) => b === document.activeElement)); ++i)
    await page.keyboard.press("Shift+Tab");
  console.log("bar reached by Shift+Tab " + (await bar.evaluate((b) => b === document.activeElement)));
  await page.keyboard.press("Enter");
  console.log("Enter on bar: check filter " + (await page.inputValue("#filter-check")) + ", " + (await rows()) + " rows");
  await page.selectOption("#filter-check", "");

  // The screenshot: the whole table with the fix-it finding opened.
  await page.fill("#filter-text", "");
  await page.locator("#findings tbody tr.finding", { hasText: "src/reporter.cpp:21:15" }).click();
  await page.screenshot({ path: shot, fullPage: true });
  console.log("external requests " + external);
  console.log("problems " + problems.length);
  for (const p of problems) console.log("  " + p);
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
