// Metadata text decoding: UTF-8 kept as it is, Latin-1 (as LINCS2020 stores pert_idose) re-encoded as UTF-8.
#include <gtest/gtest.h>

#include "io/text_encoding.h"

using tessera::io::as_utf8;
using tessera::io::is_valid_utf8;

TEST(TextEncoding, Latin1MicroSignBecomesTheUtf8ThatUsersType) {
  EXPECT_EQ(as_utf8("10 \xb5M"), "10 \xc2\xb5M");  // U+00B5 MICRO SIGN, as "10 µM" typed in a UTF-8 terminal
  EXPECT_EQ(as_utf8("caf\xe9"), "caf\xc3\xa9");
}

TEST(TextEncoding, ValidUtf8AndAsciiAreUnchanged) {
  for (const char* text : {"", "10 uM", "10 \xc2\xb5M", "\xe2\x82\xac", "\xf0\x9f\xa7\xac"}) {
    EXPECT_TRUE(is_valid_utf8(text)) << text;
    EXPECT_EQ(as_utf8(text), text);
  }
}

TEST(TextEncoding, MalformedUtf8IsNotValid) {
  // A lone continuation byte, a cut-off sequence, an overlong '/', a surrogate, a code point past U+10FFFF.
  for (const char* text : {"\x80", "\xc2", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"})
    EXPECT_FALSE(is_valid_utf8(text)) << text;
  EXPECT_EQ(as_utf8("\xc2"), "\xc3\x82");  // read as Latin-1: the byte 0xC2 is U+00C2
}
