<?xml version="1.0" encoding="utf-8"?>
<!-- Herald: shows an RSS feed as a readable page in a browser. Feed readers ignore it. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
<xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>
<xsl:template match="/">
<html>
<xsl:if test="/rss/channel/language"><xsl:attribute name="lang"><xsl:value-of select="/rss/channel/language"/></xsl:attribute></xsl:if>
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title><xsl:value-of select="/rss/channel/title"/> (RSS feed)</title>
<style>
:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#f6f6f8;--card:#fff;--muted:#66666e;--line:#e0e0e6;--link:#0b57d0;--accent:#e8710a;--note:#fff4e5}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8ea;--bg:#111113;--card:#1b1b1f;--muted:#a0a0a8;--line:#2f2f36;--link:#8ab4f8;--accent:#fcad70;--note:#2b2116}}
*{box-sizing:border-box}
body{margin:0;padding:1rem;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:46rem;margin:0 auto}
a{color:var(--link)}
h1{font-size:1.6rem;line-height:1.25;margin:.8rem 0 .3rem}
.muted{color:var(--muted)}
.note{background:var(--note);border:1px solid var(--accent);border-radius:.6rem;padding:.8rem 1rem;margin:.5rem 0 1rem}
.note p{margin:.2rem 0 .5rem}
.note input{width:100%;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;padding:.35rem .5rem;border:1px solid var(--line);border-radius:.4rem;background:var(--card);color:var(--fg)}
ol{list-style:none;margin:1rem 0;padding:0}
li{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:.7rem 1rem;margin:0 0 .6rem}
li h2{font-size:1.05rem;margin:0 0 .2rem;overflow-wrap:anywhere}
li p{margin:.3rem 0 0;font-size:.92rem}
.meta{color:var(--muted);font-size:.85rem;margin:0}
</style>
</head>
<body>
<main>
<div class="note">
<p><strong>This is a web feed</strong>, also known as an RSS feed. <strong>Subscribe</strong> by copying the address below into your feed reader (for example NetNewsWire, Feedly, Inoreader, Thunderbird or Miniflux). You will then see new articles there as they are published.</p>
<input type="text" readonly="readonly" onclick="this.select()" aria-label="Feed address" value="{/rss/channel/atom:link[@rel='self']/@href}"/>
</div>
<h1><xsl:value-of select="/rss/channel/title"/></h1>
<p class="muted"><xsl:value-of select="/rss/channel/description"/></p>
<p><a href="{/rss/channel/link}">Visit the site →</a></p>
<ol>
<xsl:for-each select="/rss/channel/item">
<li>
<h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
<xsl:if test="pubDate"><p class="meta"><xsl:value-of select="pubDate"/></p></xsl:if>
<xsl:if test="description"><p><xsl:value-of select="description" disable-output-escaping="yes"/></p></xsl:if>
</li>
</xsl:for-each>
</ol>
</main>
</body>
</html>
</xsl:template>
</xsl:stylesheet>
