// Parameters declared once. A parameter struct lists each of its knobs in one place, with its name, help, and
// the values it allows (a range, or an enum's name table), in the spirit of XGBoost's DMLC_DECLARE_FIELD:
//
//   struct DnppParams {
//     int k = 10;
//     template <typename Self, typename Declare>
//     static void declare_knobs(Self& self, Declare&& declare) {
//       declare(engine::knob("dnpp_k", self.k, "neighbour drugs averaged per prediction").at_least(1));
//     }
//     void validate() const { engine::check_knobs(*this); }
//   };
//
// The default is the member's initialiser. Everything else is generated from the declaration: validation
// (check_knobs), the command line, config-file keys and help text (jobs/command_line.h adapts knobs to
// Boost.Program_options), serialising a struct (for_each_knob), and later the Python keyword arguments. Checks
// that relate two knobs (weight_low <= weight_high) stay in the struct's validate(), after check_knobs.
//
// Enumerated choices are enums with one name table each (NameTable), found by argument-dependent lookup:
// declare `const engine::NameTable<Algorithm>& name_table(Algorithm);` beside `enum class Algorithm`, and a knob
// of that type takes its names from there. Knob names are snake_case and unique within a command (prefix a
// method's knobs with its name: dnpp_k); the command line spells them --with-dashes. Local, header-only, no
// Boost.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/error.h"

namespace tessera::engine {

// "snake_case" -> "snake-case": a knob's command-line spelling.
inline std::string option_spelling(const std::string& knob_name) {
  std::string name = knob_name;
  for (auto& c : name) c = (c == '_') ? '-' : c;
  return name;
}

// The items of a comma-list knob ("MCF7, PC3" -> {"MCF7", "PC3"}): blanks around items trimmed, empty items
// dropped.
inline std::vector<std::string> split_comma_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto first = item.find_first_not_of(" \t"), last = item.find_last_not_of(" \t");
    if (first != std::string::npos) items.push_back(item.substr(first, last - first + 1));
  }
  return items;
}

// Every combination of one index per list, for lists of the given sizes, the last index varying fastest (an
// odometer): the points of a parameter grid. One combination (empty) for no list; none when a size is 0.
inline std::vector<std::vector<std::size_t>> product_indices(const std::vector<std::size_t>& sizes) {
  std::vector<std::vector<std::size_t>> points;
  for (const auto size : sizes)
    if (size == 0) return points;
  std::vector<std::size_t> digits(sizes.size(), 0);
  for (;;) {
    points.push_back(digits);
    std::size_t i = sizes.size();
    while (i > 0 && ++digits[i - 1] == sizes[i - 1]) digits[--i] = 0;
    if (i == 0) return points;
  }
}

// A value as people write it: 0.1, not 0.10000000000000001; true, not 1.
template <typename T>
std::string value_text(const T& value) {
  std::ostringstream text;
  text.precision(15);
  text << std::boolalpha << value;
  return text.str();
}

// The names of an enum's values, both ways (SLATE's str2target / target2str in one table).
template <typename Enum>
class NameTable {
 public:
  using Entry = std::pair<Enum, const char*>;
  NameTable(std::initializer_list<Entry> entries) : entries_(entries) {}

  const char* name(Enum value) const {
    for (const auto& [v, n] : entries_)
      if (v == value) return n;
    TESSERA_FAIL("enum value ", static_cast<long long>(value), " has no name in its table");
  }
  std::optional<Enum> find(const std::string& name) const {
    for (const auto& [v, n] : entries_)
      if (name == n) return v;
    return std::nullopt;
  }
  // The value called `name`; else a tessera::Error "<what> 'x' is not one of a | b | c".
  Enum parse(const std::string& name, const std::string& what) const {
    if (const auto value = find(name)) return *value;
    TESSERA_FAIL(what, " '", name, "' is not one of ", choices());
  }
  std::vector<Enum> values() const {
    std::vector<Enum> all;
    for (const auto& entry : entries_) all.push_back(entry.first);
    return all;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> all;
    for (const auto& entry : entries_) all.emplace_back(entry.second);
    return all;
  }
  // "a | b | c".
  std::string choices() const {
    std::string list;
    for (const auto& entry : entries_) list += (list.empty() ? "" : " | ") + std::string(entry.second);
    return list;
  }

 private:
  std::vector<Entry> entries_;
};

// One knob: a name, the member it sets (whose initialiser is the default), help, and the values it allows.
// Built by knob(...) and the range setters, which return the knob so that they chain.
template <typename T>
class Knob {
 public:
  using Value = std::remove_cv_t<T>;

  Knob(const char* name, T& value, const char* help) : name_(name), value_(&value), help_(help) {}

  Knob& at_least(Value low) { return bound_below(low, false); }
  Knob& above(Value low) { return bound_below(low, true); }
  Knob& at_most(Value high) { return bound_above(high, false); }
  Knob& below(Value high) { return bound_above(high, true); }
  Knob& in(Value low, Value high) { return at_least(low).at_most(high); }
  // A one-letter abbreviation on the command line (-k for --top-k).
  Knob& letter(char abbreviation) {
    letter_ = abbreviation;
    return *this;
  }
  // A bool knob given on the command line as a switch (--pairs), not with a value (--si-intercept true).
  Knob& flag() {
    static_assert(std::is_same_v<Value, bool>, "only a bool knob is a flag");
    flag_ = true;
    return *this;
  }

  const char* name() const { return name_; }
  std::string option() const { return option_spelling(name_); }
  char letter() const { return letter_; }
  bool is_flag() const { return flag_; }
  const char* help() const { return help_; }
  T& value() const { return *value_; }

  // The enum's name table (enum knobs only).
  static const NameTable<Value>& names() {
    static_assert(std::is_enum_v<Value>, "only enum knobs have a name table");
    return name_table(Value{});
  }

  // What the knob allows, as a phrase that follows "must be": "at least 1", "in [0, 1)", "one of a | b"; "" when
  // every value of the type is allowed.
  std::string allowed() const {
    if constexpr (std::is_enum_v<Value>) {
      return "one of " + names().choices();
    } else if constexpr (std::is_arithmetic_v<Value> && !std::is_same_v<Value, bool>) {
      if (low_ && high_)
        return "in " + std::string(low_open_ ? "(" : "[") + value_text(*low_) + ", " + value_text(*high_) +
               (high_open_ ? ")" : "]");
      if (low_) return (low_open_ ? "above " : "at least ") + value_text(*low_);
      if (high_) return (high_open_ ? "below " : "at most ") + value_text(*high_);
    }
    return "";
  }

  // Whether `value` is allowed (NaN and infinities never are for a knob with a range).
  bool allows(const Value& value) const {
    if constexpr (std::is_floating_point_v<Value>) {
      if ((low_ || high_) && !std::isfinite(value)) return false;
    }
    if constexpr (std::is_arithmetic_v<Value> && !std::is_same_v<Value, bool>) {
      if (low_ && (low_open_ ? !(value > *low_) : !(value >= *low_))) return false;
      if (high_ && (high_open_ ? !(value < *high_) : !(value <= *high_))) return false;
    }
    return true;
  }

  // Why `value` is refused, naming the option and the member: "--dnpp-k 0 is invalid: the allowed values of
  // dnpp_k are at least 1". The command line and check() say the same.
  std::string refusal(const Value& value) const {
    return "--" + option() + " " + value_text(value) + " is invalid: the allowed values of " + name_ + " are " +
           allowed();
  }

  // tessera::Error refusal(value) when the member's value is not allowed.
  void check() const {
    if constexpr (std::is_enum_v<Value>) {
      names().name(*value_);  // an enum value outside its table (a cast) has no name: refused there
    } else {
      TESSERA_CHECK(allows(*value_), refusal(*value_));
    }
  }

 private:
  Knob& bound_below(Value low, bool open) {
    low_ = low, low_open_ = open;
    return *this;
  }
  Knob& bound_above(Value high, bool open) {
    high_ = high, high_open_ = open;
    return *this;
  }

  const char* name_;
  T* value_;
  const char* help_;
  std::optional<Value> low_, high_;
  bool low_open_ = false, high_open_ = false;
  char letter_ = 0;
  bool flag_ = false;
};

// The declaration of one knob: declare(knob("dnpp_k", self.k, "help").at_least(1)).
template <typename T>
Knob<T> knob(const char* name, T& value, const char* help) {
  return Knob<T>(name, value, help);
}

// visit(const Knob<T>&) for every knob that Params::declare_knobs declares, in declaration order.
template <typename Params, typename Visit>
void declare_each(Params& params, Visit&& visit) {
  std::remove_const_t<Params>::declare_knobs(params, visit);
}

// visit(name, value&, help) for every knob: for serialising a struct (logs, checkpoints, file attributes).
template <typename Params, typename Visit>
void for_each_knob(Params& params, Visit&& visit) {
  declare_each(params, [&](const auto& knob) { visit(knob.name(), knob.value(), knob.help()); });
}

// Sets the knob called `name` (snake_case, or its --dashed spelling) from `text` as a config file writes it: a
// number, true/false, an enum's name, or a string. Returns false when Params has no such knob; throws
// tessera::Error naming the knob when the text is not a value of its type or is outside what it allows. Used where
// values arrive as text outside the command line, such as a tuning grid (solvers/imputation/tuning.h).
template <typename Params>
bool set_knob(Params& params, const std::string& name, const std::string& text) {
  bool found = false;
  declare_each(params, [&](const auto& knob) {
    if (found || (name != knob.name() && name != knob.option())) return;
    found = true;
    using Value = typename std::remove_reference_t<decltype(knob)>::Value;
    Value value{};
    if constexpr (std::is_enum_v<Value>) {
      value = knob.names().parse(text, knob.option());
    } else if constexpr (std::is_same_v<Value, bool>) {
      TESSERA_CHECK(text == "true" || text == "false", knob.option(), " '", text, "' is not true or false");
      value = text == "true";
    } else if constexpr (std::is_arithmetic_v<Value>) {
      std::istringstream in(text);
      in >> value;
      TESSERA_CHECK(in && (in >> std::ws).eof(), knob.option(), " '", text, "' is not a number");
    } else {
      value = text;
    }
    if constexpr (!std::is_enum_v<Value>) TESSERA_CHECK(knob.allows(value), knob.refusal(value));
    knob.value() = value;
  });
  return found;
}

// Throws tessera::Error naming the first knob whose value its declaration does not allow.
template <typename Params>
void check_knobs(const Params& params) {
  declare_each(params, [](const auto& knob) { knob.check(); });
}

}  // namespace tessera::engine
