// The plotting libraries a report page carries inline: Vega and Vega-Lite's minified bundles, embedded in the
// program at build time from jobs/report/web/node_modules (scripts/install_deps.sh fetches them with npm ci), so a
// page opens offline with nothing beside it and a report made on a cluster node needs no network.
#pragma once

#include <string_view>

namespace tessera::jobs::report {

// False in a build made before `npm ci` had fetched the libraries; `tessera report` then says how to get them.
bool have_plotting_libraries();
std::string_view vega_script();        // vega.min.js
std::string_view vega_lite_script();   // vega-lite.min.js
std::string_view plotting_versions();  // "Vega 6.2.0, Vega-Lite 6.4.1", for the page's footer

}  // namespace tessera::jobs::report
