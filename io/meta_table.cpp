#include "io/meta_table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>

#include "engine/error.h"

namespace tessera::io {

std::optional<std::pair<std::size_t, std::size_t>> first_duplicate(const std::vector<std::string>& ids) {
  std::vector<std::pair<std::size_t, std::size_t>> keyed(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) keyed[i] = {std::hash<std::string_view>{}(ids[i]), i};
  std::sort(keyed.begin(), keyed.end());
  std::size_t first = 0, second = ids.size();
  for (std::size_t group = 0; group < keyed.size();) {
    std::size_t end = group + 1;
    while (end < keyed.size() && keyed[end].first == keyed[group].first) ++end;
    for (std::size_t j = group + 1; j < end; ++j)
      for (std::size_t i = group; i < j; ++i)
        if (keyed[j].second < second && ids[keyed[i].second] == ids[keyed[j].second]) {
          first = keyed[i].second;
          second = keyed[j].second;
        }
    group = end;
  }
  if (second == ids.size()) return std::nullopt;
  return std::make_pair(first, second);
}

bool MetaColumn::is_missing(std::size_t i) const {
  if (type == MetaType::kString) return text[i].empty() || text[i] == "-666" || text[i] == "-666.0";
  return std::isnan(numbers[i]);
}

std::vector<double> MetaColumn::as_numbers(std::string_view where) const {
  if (type != MetaType::kString) return numbers;
  std::vector<double> values(text.size(), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_missing(i)) continue;
    const std::string& value = text[i];
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), values[i]);
    TESSERA_CHECK(error == std::errc() && end == value.data() + value.size(), where, ": field '", name, "' holds '",
                  value, "' at row ", i, ", not a number; it must hold numbers (e.g. 0 / 1)");
  }
  return values;
}

std::string MetaColumn::as_string(std::size_t i) const {
  if (type == MetaType::kString) return text[i];
  const double v = numbers[i];
  if (std::isnan(v)) return "-666";
  char buffer[64];
  if (type == MetaType::kInt32 || type == MetaType::kInt64) {
    // Integers are held as doubles: an unsigned 64-bit id of 2^63 or more is outside int64, so it is written from
    // the double itself, still without a decimal point.
    if (v >= -0x1p63 && v < 0x1p63) return std::to_string(std::int64_t(v));
    return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::fixed).ptr);
  }
  const auto result = type == MetaType::kFloat32 ? std::to_chars(buffer, buffer + sizeof buffer, float(v))
                                                 : std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, result.ptr);
}

const MetaColumn* MetaTable::find(std::string_view name) const {
  for (const auto& field : fields)
    if (field.name == name) return &field;
  return nullptr;
}

std::string MetaTable::field_list() const {
  std::string names;
  for (const auto& field : fields) names += (names.empty() ? "" : ", ") + field.name;
  return names.empty() ? "none" : names;
}

const MetaColumn& MetaTable::require(std::string_view name, std::string_view where) const {
  if (const auto* field = find(name)) return *field;
  TESSERA_FAIL(where, ": metadata field '", name, "' is missing (fields present: ", field_list(),
               "); add it to the file or name another field in the options");
}

MetaTable MetaTable::subset(std::span<const std::int64_t> indices) const {
  MetaTable out;
  out.ids.reserve(indices.size());
  for (auto i : indices) out.ids.push_back(ids[std::size_t(i)]);
  for (const auto& field : fields) {
    MetaColumn column{field.name, field.type, {}, {}};
    for (auto i : indices) {
      if (field.type == MetaType::kString)
        column.text.push_back(field.text[std::size_t(i)]);
      else
        column.numbers.push_back(field.numbers[std::size_t(i)]);
    }
    out.fields.push_back(std::move(column));
  }
  return out;
}

void MetaTable::set_text(const std::string& name, std::vector<std::string> values) {
  TESSERA_CHECK(values.size() == ids.size(), "metadata field '", name, "' has ", values.size(), " values for ",
                ids.size(), " ids");
  for (auto& field : fields) {
    if (field.name == name) {
      field = MetaColumn{name, MetaType::kString, std::move(values), {}};
      return;
    }
  }
  fields.push_back(MetaColumn{name, MetaType::kString, std::move(values), {}});
}

}  // namespace tessera::io
