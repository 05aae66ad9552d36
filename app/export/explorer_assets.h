// The HTML explorer's web assets (app/export/explorer/explorer.{html,css,js}), embedded at
// build time by app/export/embed_assets.cmake so that the explorer is one self-contained file.
#pragma once

namespace qkv {

extern const char kExplorerHtml[];  ///< page template with @@TITLE@@, @@CSS@@, @@DATA@@, @@JS@@
extern const char kExplorerCss[];
extern const char kExplorerJs[];

}  // namespace qkv
