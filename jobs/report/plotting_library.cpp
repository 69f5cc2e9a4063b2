#include "jobs/report/plotting_library.h"

#ifdef TESSERA_VEGA_JS
// .incbin copies the files' bytes into the object as they are: no 800 kB string literal to compile, and the
// build re-embeds them when they change (OBJECT_DEPENDS in CMakeLists.txt).
asm(".pushsection .rodata\n"
    ".global tessera_vega_js_begin\n"
    "tessera_vega_js_begin:\n"
    ".incbin \"" TESSERA_VEGA_JS
    "\"\n"
    ".global tessera_vega_js_end\n"
    "tessera_vega_js_end:\n"
    ".global tessera_vega_lite_js_begin\n"
    "tessera_vega_lite_js_begin:\n"
    ".incbin \"" TESSERA_VEGA_LITE_JS
    "\"\n"
    ".global tessera_vega_lite_js_end\n"
    "tessera_vega_lite_js_end:\n"
    ".popsection\n");
extern "C" const char tessera_vega_js_begin[], tessera_vega_js_end[];
extern "C" const char tessera_vega_lite_js_begin[], tessera_vega_lite_js_end[];
#endif

namespace tessera::jobs::report {

#ifdef TESSERA_VEGA_JS
bool have_plotting_libraries() { return true; }
std::string_view vega_script() {
  return {tessera_vega_js_begin, static_cast<std::size_t>(tessera_vega_js_end - tessera_vega_js_begin)};
}
std::string_view vega_lite_script() {
  return {tessera_vega_lite_js_begin, static_cast<std::size_t>(tessera_vega_lite_js_end - tessera_vega_lite_js_begin)};
}
std::string_view plotting_versions() { return TESSERA_VEGA_VERSIONS; }
#else
bool have_plotting_libraries() { return false; }
std::string_view vega_script() { return {}; }
std::string_view vega_lite_script() { return {}; }
std::string_view plotting_versions() { return {}; }
#endif

}  // namespace tessera::jobs::report
