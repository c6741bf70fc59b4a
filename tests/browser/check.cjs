// Drives Chromium over the DevTools protocol (playwright-core) against a running Herald.
// Usage: node check.cjs BASE_URL ARTIFACT_DIR CHROMIUM_PATH
"use strict";
const { chromium } = require("playwright-core");
const path = require("path");

const [base, out, executablePath] = process.argv.slice(2);
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForServer() {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(base + "/healthz")).ok) return;
    } catch (e) {}
    await sleep(100);
  }
  throw new Error("Herald did not start at " + base);
}

// Names of the category rows the user can see.
const visibleNames = (page) =>
  page.$$eval("#feeds > li", (rows) =>
    rows.filter((r) => r.offsetParent !== null).map((r) => r.getAttribute("data-name")));

(async () => {
  await waitForServer();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      // The embed check loads Herald (127.0.0.1) from another local origin; Chromium's
      // Local Network Access would ask the user first. Real embedders and Herald are public.
      "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests"],
  });
  try {
    // Without JavaScript: everything is listed and linked, the filter box stays hidden.
    {
      const ctx = await browser.newContext({ javaScriptEnabled: false });
      const page = await ctx.newPage();
      await page.goto(base + "/");
      const names = await visibleNames(page);
      check(names.length > 5, `no JS: ${names.length} categories listed`);
      check(!(await page.isVisible("#filter")), "no JS: the filter box is hidden");
      check(!(await page.isVisible("button[data-copy]")), "no JS: no copy buttons");
      check((await page.$$("#feeds a[href*='/feeds/']")).length >= names.length * 2,
        "no JS: every category links its RSS and Atom feeds");
      await ctx.close();
    }

    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    const page = await ctx.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(base + "/");
    const all = await visibleNames(page);
    check(all.length > 5, `${all.length} categories visible`);
    await page.screenshot({ path: path.join(out, "index.png"), fullPage: true });

    // Filter: Chinese, case-insensitive Latin, no match, Escape clears.
    await page.fill("#filter", "烹饪");
    let shown = await visibleNames(page);
    check(shown.length === 1 && shown[0] === "烹饪", `filter 烹饪 → ${JSON.stringify(shown)}`);
    check((await page.textContent("#filter-status")).startsWith("1 of "), "filter status counts");
    await page.fill("#filter", "");
    await page.type("#filter", "TOKYO");
    shown = await visibleNames(page);
    check(shown.length === 1 && shown[0] === "Tokyo Sakura Group", `filter TOKYO → ${JSON.stringify(shown)}`);
    await page.fill("#filter", "喜马拉雅");
    shown = await visibleNames(page);
    check(shown.length >= 1 && shown.every((n) => n.includes("喜马拉雅")), `filter 喜马拉雅 → ${JSON.stringify(shown)}`);
    await page.fill("#filter", "no such category zzz");
    check((await visibleNames(page)).length === 0 && (await page.isVisible("#no-match")),
      "filter without match shows the no-match note");
    await page.press("#filter", "Escape");
    check((await visibleNames(page)).length === all.length, "Escape clears the filter");

    // Copy with the Clipboard API.
    const url = await page.inputValue("#url-1");
    await page.click("button[data-copy='url-1']");
    await sleep(200);
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    check(clip === url, `copy puts ${url} on the clipboard (got ${clip})`);
    check((await page.textContent("button[data-copy='url-1']")) === "Copied", "copy button says Copied");

    // Copy fallback: the Clipboard API refuses, the address is selected instead.
    {
      const p2 = await ctx.newPage();
      await p2.addInitScript(() => {
        Object.defineProperty(navigator, "clipboard", { value: undefined });
      });
      await p2.goto(base + "/");
      await p2.click("button[data-copy='url-2']");
      const sel = await p2.evaluate(() => {
        const f = document.getElementById("url-2");
        return { active: document.activeElement === f, text: f.value.slice(f.selectionStart, f.selectionEnd), value: f.value };
      });
      check(sel.active && sel.text === sel.value && sel.value.length > 0,
        `fallback selects the whole address (${sel.text})`);
      await p2.close();
    }

    // The embed snippet, pasted into a page of another origin, lists the newest titles.
    {
      await page.click("#feeds > li:first-child details.embed summary");
      const snippet = await page.inputValue("#embed-1");
      const p3 = await ctx.newPage();
      // Another origin on the loopback interface (Chromium keeps public origins from reading
      // local addresses): localhost instead of 127.0.0.1, the page itself faked.
      const other = base.replace("127.0.0.1", "localhost") + "/embed-test";
      await p3.route(other, (route) =>
        route.fulfill({ contentType: "text/html; charset=utf-8",
          body: `<!DOCTYPE html><meta charset="utf-8"><title>Embed test</title><h1>Another site</h1>${snippet}` }));
      p3.on("console", (m) => console.log("  console:", m.text()));
      p3.on("requestfailed", (r) => console.log("  request failed:", r.url(), r.failure() && r.failure().errorText));
      await p3.goto(other);
      await p3.waitForSelector("[data-herald-state=done], [data-herald-state=error]",
        { state: "attached", timeout: 10000 });
      const state = await p3.getAttribute("[data-herald-feed]", "data-herald-state");
      const links = await p3.$$eval(".herald-feed-list a", (as) => as.map((a) => [a.textContent, a.href]));
      check(state === "done" && links.length >= 1 && links.length <= 5,
        `embed on another origin renders ${links.length} titles (state ${state})`);
      check(links.every(([t, h]) => t.length > 0 && /^https?:\/\//.test(h)), "embed titles are links");
      await p3.screenshot({ path: path.join(out, "embed.png") });
      await p3.close();
    }

    // A hostile feed: titles stay text, only http(s) links become hrefs.
    {
      const p4 = await ctx.newPage();
      const origin = base.replace("127.0.0.1", "localhost");
      await p4.route(origin + "/hostile.atom", (route) =>
        route.fulfill({ contentType: "application/atom+xml", body:
          '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">' +
          '<entry><title>&lt;img src=x onerror="window.pwned=1"&gt;</title><link href="javascript:window.pwned=2"/></entry>' +
          '<entry><title type="html">&lt;b&gt;bold&lt;/b&gt;</title><link href="https://example.org/ok"/></entry></feed>' }));
      await p4.route(origin + "/hostile-page", (route) =>
        route.fulfill({ contentType: "text/html; charset=utf-8", body:
          `<!DOCTYPE html><div data-herald-feed="${origin}/hostile.atom"></div><script src="${base}/embed.js"></script>` }));
      await p4.goto(origin + "/hostile-page");
      await p4.waitForSelector("[data-herald-state=done], [data-herald-state=error]", { state: "attached", timeout: 10000 });
      const r = await p4.evaluate(() => ({
        imgs: document.querySelectorAll(".herald-feed-list img, .herald-feed-list b").length,
        texts: Array.from(document.querySelectorAll(".herald-feed-list li > :first-child")).map((e) => [e.tagName, e.textContent, e.getAttribute("href")]),
        pwned: window.pwned || 0,
      }));
      check(r.imgs === 0 && r.pwned === 0, `hostile titles stay text (${JSON.stringify(r.texts)})`);
      check(r.texts.length === 2 && r.texts[0][0] === "SPAN" && r.texts[1][2] === "https://example.org/ok",
        "a javascript: link is dropped, an https link kept");
      await p4.close();
    }
    check(errors.length === 0, `no script errors ${JSON.stringify(errors)}`);

    // Phone size.
    {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      const p = await phone.newPage();
      await p.goto(base + "/");
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 0, `phone: no horizontal scrolling (overflow ${overflow}px)`);
      await p.screenshot({ path: path.join(out, "index-phone.png"), fullPage: false });
      const cat = await p.getAttribute("#feeds > li:first-child h3 a", "href");
      await p.goto(cat);
      await p.screenshot({ path: path.join(out, "category-phone.png"), fullPage: false });
      await phone.close();
    }

    // A category page and a feed as a person sees them.
    {
      await page.goto(base + "/");
      await page.click("#feeds > li:first-child h3 a");
      check((await page.$$(".items > li")).length >= 1, `category page ${page.url()} lists its articles`);
      await page.screenshot({ path: path.join(out, "category.png"), fullPage: true });
      for (const feed of ["all.atom", "all.rss"]) {
        await page.goto(base + "/feeds/" + feed);
        const note = await page.textContent(".note").catch(() => "");
        check(note.includes("Subscribe"), `${feed} is shown through its stylesheet with a subscribe note`);
        await page.screenshot({ path: path.join(out, `feed-${feed.replace(".", "-")}.png`) });
      }
    }
  } finally {
    await browser.close();
  }
  console.log(failures ? `${failures} browser check(s) failed` : "browser checks passed");
  console.log(`screenshots in ${out}`);
  process.exit(failures ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
