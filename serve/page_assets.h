// The live page of `qkv serve` (serve/page/page.html: markup, style and script in one file),
// embedded at build time by app/export/embed_assets.cmake: requests never reach the disk.
#pragma once

namespace qkv {

extern const char kServePageHtml[];

}  // namespace qkv
