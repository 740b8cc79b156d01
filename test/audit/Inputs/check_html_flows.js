// Opens a concguard-audit HTML report in headless Chromium (as check_html.js
// does, network blocked), opens every finding and prints what its code-flow
// section shows, in the format of flows.py (which prints a SARIF log's code
// flows), so that the two can be compared line by line; each step's source
// line follows it as "| text".
//   node check_html_flows.js <report dir>
"use strict";
const { openReport } = require("./report_page");

(async () => {
  const { browser, page, problems } = await openReport(process.argv[2]);

  const text = async (loc) => (await loc.textContent()).trim();
  const rows = page.locator("#findings tbody tr.finding");
  const n = await rows.count();
  for (let i = 0; i < n; ++i) {
    const row = rows.nth(i);
    const where = await text(row.locator("td:nth-child(3)"));
    const check = await text(row.locator("td:nth-child(2)"));
    await row.click();
    const detail = page.locator("#findings tbody tr.detail").first();
    const flows = detail.locator("section.code-flow");
    const count = await flows.count();
    console.log(where + " " + check + ": " + (count ? count + " code flow(s)" : "no code flow"));
    for (const flow of await flows.all()) {
      console.log("  flow: " + (await text(flow.locator("div.muted").first())).replace(/^Code flow: /, ""));
      for (const thread of await flow.locator("div.thread-flow").all()) {
        console.log("    thread: " + (await text(thread.locator("h3"))).replace(/^Thread: /, ""));
        for (const step of await thread.locator("ol > li.flow-step").all()) {
          const kind = await step.getAttribute("data-kind");
          const nesting = Number(await step.getAttribute("data-nesting"));
          const essential = (await step.getAttribute("class")).split(" ").includes("essential");
          // What the reader sees: "<location> <access|call>: <message>".
          const shown = await text(step.locator("span.step-what"));
          const label = kind === "memory" ? "access" : kind;
          if (!shown.startsWith(label + ": "))
            problems.push("step shown as '" + shown + "', kind " + kind);
          // The indentation the reader sees follows the nesting level.
          const indent = await step.evaluate((e) => parseFloat(getComputedStyle(e).marginLeft));
          if ((indent > 0) !== (nesting > 0))
            problems.push("step at nesting " + nesting + " indented by " + indent + "px");
          console.log("      " + "  ".repeat(nesting) + (await text(step.locator("code").first())) + " " +
                      kind + (essential ? " (essential)" : "") + ": " + shown.slice(label.length + 2));
          const code = step.locator("pre.note-code");
          if (await code.count())
            console.log("      " + "  ".repeat(nesting) + "| " + (await text(code)));
        }
      }
    }
    await row.click();
  }
  console.log("problems " + problems.length);
  for (const p of problems) console.log("  " + p);
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
