// Metadata text as UTF-8. Some released files store text in Latin-1 (LINCS2020 Level 5 writes `pert_idose` as
// "10 \xb5M"), while users type UTF-8 ("10 µM") and terminals show UTF-8. Readers pass every text value through
// as_utf8() so that comparisons, filters and printed values all see one encoding.
#pragma once

#include <string>
#include <string_view>

namespace tessera::io {

// True when `text` is well-formed UTF-8 (shortest forms only, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` unchanged when it is valid UTF-8 (plain ASCII included); otherwise it is read as Latin-1 (ISO 8859-1,
// where every byte is the code point of the same value) and re-encoded as UTF-8.
std::string as_utf8(std::string_view text);

}  // namespace tessera::io
