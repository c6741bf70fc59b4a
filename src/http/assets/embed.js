/* Herald embed: shows a feed's newest titles on any page.
 *
 *   <div data-herald-feed="https://feeds.example.org/feeds/news.atom" data-herald-items="5">
 *     <a href="https://feeds.example.org/categories/news">News</a></div>
 *   <script src="https://feeds.example.org/embed.js" async></script>
 *
 * The feed is fetched cross-origin (Herald's feeds send Access-Control-Allow-Origin: *).
 * Titles are set with textContent, links only when http(s): nothing from the feed becomes
 * markup. Without JavaScript, or when the fetch fails, the element's own content stays.
 */
(function () {
  "use strict";
  var ATOM = "http://www.w3.org/2005/Atom";

  function httpUrl(href, base) {
    try {
      var u = new URL(href, base);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function text(el, name, ns) {
    var found = ns ? el.getElementsByTagNameNS(ns, name) : el.getElementsByTagName(name);
    return found.length ? found[0].textContent.trim() : "";
  }

  // Entries as {title, link, date}, newest first as the feed orders them.
  function entries(doc, base) {
    var out = [];
    var atom = doc.getElementsByTagNameNS(ATOM, "entry");
    var i, j;
    for (i = 0; i < atom.length; i++) {
      var link = null;
      var links = atom[i].getElementsByTagNameNS(ATOM, "link");
      for (j = 0; j < links.length; j++) {
        var rel = links[j].getAttribute("rel") || "alternate";
        if (rel === "alternate") { link = links[j].getAttribute("href"); break; }
      }
      out.push({
        title: text(atom[i], "title", ATOM),
        link: link && httpUrl(link, base),
        date: text(atom[i], "published", ATOM) || text(atom[i], "updated", ATOM)
      });
    }
    if (!out.length) {
      var items = doc.getElementsByTagName("item");
      for (i = 0; i < items.length; i++) {
        var d = new Date(text(items[i], "pubDate"));
        out.push({
          title: text(items[i], "title"),
          link: httpUrl(text(items[i], "link"), base),
          date: isNaN(d) ? "" : d.toISOString()
        });
      }
    }
    return out;
  }

  function render(el) {
    if (el.getAttribute("data-herald-state")) return;
    var url = httpUrl(el.getAttribute("data-herald-feed") || "", document.baseURI);
    if (!url) return;
    el.setAttribute("data-herald-state", "loading");
    var n = parseInt(el.getAttribute("data-herald-items") || "5", 10);
    if (!(n > 0 && n <= 50)) n = 5;
    fetch(url, { mode: "cors", credentials: "omit" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (body) {
        var doc = new DOMParser().parseFromString(body, "application/xml");
        if (doc.getElementsByTagName("parsererror").length) throw new Error("not XML");
        var list = document.createElement("ul");
        list.className = "herald-feed-list";
        entries(doc, url).slice(0, n).forEach(function (e) {
          var li = document.createElement("li");
          var a = document.createElement(e.link ? "a" : "span");
          if (e.link) { a.href = e.link; a.rel = "noopener"; }
          a.textContent = e.title || "(untitled)";
          li.appendChild(a);
          if (e.date) {
            var t = document.createElement("time");
            t.dateTime = e.date;
            t.textContent = " " + e.date.slice(0, 10);
            li.appendChild(t);
          }
          list.appendChild(li);
        });
        el.appendChild(list);
        el.setAttribute("data-herald-state", "done");
      })
      .catch(function () {
        el.setAttribute("data-herald-state", "error");
      });
  }

  function all() {
    var els = document.querySelectorAll("[data-herald-feed]");
    for (var i = 0; i < els.length; i++) render(els[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
