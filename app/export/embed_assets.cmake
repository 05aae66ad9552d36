# Writes OUTPUT, a C++ file defining the explorer's web assets as string constants (see
# explorer_assets.h), from ASSET_DIR/explorer.{html,css,js}. Run by a custom command at build
# time, so the assets are edited as ordinary web files.
set(content "// Generated from app/export/explorer/ by app/export/embed_assets.cmake: do not edit.\n")
string(APPEND content "#include \"app/export/explorer_assets.h\"\n\nnamespace qkv {\n")
foreach(pair "kExplorerHtml;explorer.html" "kExplorerCss;explorer.css" "kExplorerJs;explorer.js")
  list(GET pair 0 name)
  list(GET pair 1 file)
  file(READ "${ASSET_DIR}/${file}" text)
  string(FIND "${text}" ")qkv_asset\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw-string delimiter )qkv_asset\"")
  endif()
  string(APPEND content "const char ${name}[] = R\"qkv_asset(${text})qkv_asset\";\n")
endforeach()
string(APPEND content "}  // namespace qkv\n")
file(WRITE "${OUTPUT}.tmp" "${content}")
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${OUTPUT}.tmp" "${OUTPUT}")
