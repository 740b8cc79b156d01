// Opens a concguard-audit HTML report (<dir>/index.html) in headless
// Chromium with every request outside file: blocked, for the check_html_*.js
// scripts; errors the page throws are collected in `problems`.
"use strict";
const path = require("path");
const { chromium } = require("playwright-core");

async function openReport(dir) {
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
  await page.goto("file://" + path.resolve(dir, "index.html"));
  return { browser, page, problems };
}

module.exports = { openReport };
