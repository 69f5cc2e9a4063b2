// Row or column metadata of a GCT/GCTX file: one id per row (gene) or column (signature) plus named fields.
//
// Field values keep the type they had in the file (string, 32/64-bit float, 32/64-bit integer) so that a file
// read and written again keeps its types, as cmapPy does. Missing values follow CMap's convention: -666 in the
// file. Numbers hold NaN for a missing value (written back as -666); strings keep their text and is_missing()
// recognises "-666", "-666.0" and "".
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::io {

enum class MetaType { kString, kFloat32, kFloat64, kInt32, kInt64 };

struct MetaColumn {
  std::string name;
  MetaType type = MetaType::kString;
  std::vector<std::string> text;  // used when type == kString
  std::vector<double> numbers;    // used for numeric types; NaN = missing

  std::size_t size() const { return type == MetaType::kString ? text.size() : numbers.size(); }
  bool is_missing(std::size_t i) const;
  // The value as text: strings verbatim, integers without a decimal point, floats in shortest round-trip form,
  // missing numbers as "-666".
  std::string as_string(std::size_t i) const;
  // Every value as a number: a numeric column's values; a text column's parsed (a categorical such as the `fold`
  // and `imputed` obs columns of Tessera's .h5ad tables holds "0", "1"), missing text as NaN. An Error naming
  // `where`, the field, the row and the value when a text value is not a number.
  std::vector<double> as_numbers(std::string_view where) const;
};

// The duplicate id whose second occurrence comes first, as (first position, second position), or nothing when
// the ids are unique. Sorts (hash, position) pairs: several times faster than a node-based hash map on 10^5..10^6
// ids, which matters because every rank checks every file it reads.
std::optional<std::pair<std::size_t, std::size_t>> first_duplicate(const std::vector<std::string>& ids);

struct MetaTable {
  std::vector<std::string> ids;
  std::vector<MetaColumn> fields;  // in file order, without "id"

  std::size_t size() const { return ids.size(); }
  const MetaColumn* find(std::string_view name) const;
  // The fields' names for messages: "a, b, c", or "none".
  std::string field_list() const;
  // The field, or an Error naming `where` (a file), the missing field and the fields that exist.
  const MetaColumn& require(std::string_view name, std::string_view where) const;
  // The rows at `indices`, in that order.
  MetaTable subset(std::span<const std::int64_t> indices) const;
  // Adds or replaces a string field.
  void set_text(const std::string& name, std::vector<std::string> values);
};

}  // namespace tessera::io
