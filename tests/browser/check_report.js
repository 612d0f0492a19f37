// Opens a report.html in Debian's headless Chromium and checks that it loads without console
// errors or failed requests, and that every plot rendered: each <svg class="plot"> has a
// non-empty rendered box and as many drawn points as its data-points attribute says.
// At each width of REPORT_WIDTHS (default "1400,800") it also checks that nothing scrolls
// sideways (the page is no wider than the window; a wide table scrolls inside its own box), that
// every scatter plot shows tick values and its slope/r note, and, with SCREENSHOTS=DIR, saves
// DIR/report-WIDTH.png (full page) to look at.
// Usage: node check_report.js REPORT.html   (prints JSON; exit 1 on any failure)
const { chromium } = require("playwright-core");
const path = require("path");

async function main() {
  const file = path.resolve(process.argv[2]);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const problems = [];
  try {
    const widths = (process.env.REPORT_WIDTHS || "1400,800").split(",").map(Number);
    const page = await browser.newPage({ viewport: { width: widths[0], height: 900 } });
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
    page.on("request", (r) => { if (!r.url().startsWith("file:")) problems.push(`network request: ${r.url()}`); });
    await page.goto("file://" + file, { waitUntil: "load" });
    const plots = await page.$$eval("svg.plot", (svgs) => svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const points = Array.from(svg.querySelectorAll("circle.pt")).filter((c) => {
        const b = c.getBBox();
        return b.width > 0 && b.height > 0 && isFinite(b.x) && isFinite(b.y);
      }).length;
      return { id: svg.id, width: box.width, height: box.height, expected: Number(svg.getAttribute("data-points")), points };
    }));
    const title = await page.title();
    const layout = [];
    for (const width of widths) {
      await page.setViewportSize({ width, height: 900 });
      const info = await page.evaluate(() => {
        const scatters = Array.from(document.querySelectorAll("svg.plot[id^=scatter]"));
        return {
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          scattersWithTicks: scatters.filter((s) => s.querySelectorAll("text.tick").length >= 4).length,
          scattersWithNote: scatters.filter((s) => /slope .* r .* n /.test(s.querySelector("text.note")?.textContent || "")).length,
          scatters: scatters.length,
          effectsAxis: !!document.querySelector("#effects text.label") && document.querySelectorAll("#effects text.tick").length >= 3,
        };
      });
      layout.push({ width, ...info });
      if (info.scrollWidth > info.innerWidth) problems.push(`at ${width} px the page scrolls sideways (${info.scrollWidth} px wide)`);
      if (info.scattersWithTicks !== info.scatters) problems.push(`at ${width} px ${info.scatters - info.scattersWithTicks} scatter plots lack tick values`);
      if (info.scattersWithNote !== info.scatters) problems.push(`at ${width} px ${info.scatters - info.scattersWithNote} scatter plots lack their slope and r`);
      if (!info.effectsAxis) problems.push("the training-effect chart has no axis");
      if (process.env.SCREENSHOTS) {
        await page.screenshot({ path: path.join(process.env.SCREENSHOTS, `report-${width}.png`), fullPage: true });
      }
    }
    for (const p of plots) {
      if (!(p.width > 0 && p.height > 0)) problems.push(`plot ${p.id} has an empty box`);
      if (p.points !== p.expected) problems.push(`plot ${p.id} drew ${p.points} points, expected ${p.expected}`);
      if (p.expected === 0) problems.push(`plot ${p.id} has no points`);
    }
    if (plots.length === 0) problems.push("no plots in the page");
    console.log(JSON.stringify({ title, plots, layout, problems }));
  } finally {
    await browser.close();
  }
  process.exit(problems.length === 0 ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(2); });
