#include "io/aggregate.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <span>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/log.h"

namespace tessera::io {

const engine::NameTable<ControlCentering>& name_table(ControlCentering) {
  static const engine::NameTable<ControlCentering> table{
      {ControlCentering::kAuto, "auto"}, {ControlCentering::kNone, "none"}, {ControlCentering::kRequired, "required"}};
  return table;
}

namespace {

// The metadata fields aggregation reads; dose and time are null when their filter is off.
struct Fields {
  const MetaColumn* cell = nullptr;
  const MetaColumn* pert = nullptr;
  const MetaColumn* type = nullptr;
  const MetaColumn* dose = nullptr;
  const MetaColumn* time = nullptr;
};

// What happens to each signature (over ALL signatures, so every rank computes the same plan without talking).
struct SignaturePlan {
  std::vector<std::int64_t> entry;         // table entry of a kept treated signature, else -1
  std::vector<std::int64_t> control_cell;  // cell of a control used for the control mean, else -1
  std::int64_t treated = 0;
  std::int64_t controls = 0;
};

std::string join(const std::set<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "'" : ", '") + v + "'";
  return out.empty() ? "none" : out;
}

std::string display(const MetaColumn& field, std::size_t i) {
  return field.is_missing(i) ? std::string("-666 (missing)") : field.as_string(i);
}

// Error for the case where the dose/time filter leaves nothing: say which values the treated signatures have.
[[noreturn]] void fail_no_treated(const MetaTable& cols, const AggregationOptions& options,
                                  const std::vector<bool>& is_control, const std::string& source) {
  if (options.dose.empty() && options.time.empty()) {
    TESSERA_FAIL(source, ": no treated signatures: every signature's ", options.type_field,
                 " is a control type; check --control-types (the ", options.type_field, " values that mark controls)");
  }
  std::set<std::string> doses, times;
  const MetaColumn* dose = cols.find(options.dose_field);
  const MetaColumn* time = cols.find(options.time_field);
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (is_control[i]) continue;
    if (dose) doses.insert(display(*dose, i));
    if (time) times.insert(display(*time, i));
  }
  TESSERA_FAIL(source, ": no treated signatures left after the filter (", options.dose_field, " = '",
               options.dose.empty() ? "any" : options.dose, "', ", options.time_field, " = '",
               options.time.empty() ? "any" : options.time, "'); ", options.dose_field,
               " values present: ", dose ? join(doses) : "field absent", "; ", options.time_field,
               " values present: ", time ? join(times) : "field absent",
               "; give --dose and --time one of them, or "
               "leave them out to pool every dose and time");
}

bool is_control_type(const MetaColumn& type, std::size_t i, const std::vector<std::string>& control_types) {
  if (type.is_missing(i)) return false;
  const std::string value = type.as_string(i);
  return std::find(control_types.begin(), control_types.end(), value) != control_types.end();
}

// Decides, from metadata alone, which signatures feed which entry; fills the table's ids and counts.
SignaturePlan plan_signatures(const MetaTable& cols, const AggregationOptions& options, const Fields& fields,
                              const std::string& source, PerturbationTable& table) {
  const std::size_t n = cols.size();
  std::vector<bool> is_control(n), keep(n);
  std::set<std::string> cells, perts;
  for (std::size_t i = 0; i < n; ++i) {
    is_control[i] = is_control_type(*fields.type, i, options.control_types);
    const bool time_ok = !fields.time || fields.time->as_string(i) == options.time;
    // Controls carry no dose, so the dose filter applies to treated signatures only; the time filter applies to
    // both, so a cell is centred by controls taken at the same time point.
    const bool dose_ok = is_control[i] || !fields.dose || fields.dose->as_string(i) == options.dose;
    keep[i] = time_ok && dose_ok;
    if (!keep[i] || is_control[i]) continue;
    for (const MetaColumn* field : {fields.cell, fields.pert}) {
      TESSERA_CHECK(!field->is_missing(i), source, ": treated signature '", cols.ids[i], "' has no value in field '",
                    field->name, "'; fill it in or filter the signature out");
    }
    cells.insert(fields.cell->as_string(i));
    perts.insert(fields.pert->as_string(i));
  }
  if (perts.empty()) fail_no_treated(cols, options, is_control, source);

  table.cells.assign(cells.begin(), cells.end());
  table.perts.assign(perts.begin(), perts.end());
  table.observed.assign(std::size_t(table.num_entries()), 0);
  table.replicates.assign(std::size_t(table.num_entries()), 0);
  table.control_counts.assign(table.cells.size(), 0);

  SignaturePlan plan;
  plan.entry.assign(n, -1);
  plan.control_cell.assign(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    if (!keep[i] || fields.cell->is_missing(i)) continue;
    const std::int64_t cell = table.find_cell(fields.cell->as_string(i));
    if (cell < 0) continue;  // a control of a cell type with no treated signature: nothing to centre
    if (is_control[i]) {
      plan.control_cell[i] = cell;
      ++table.control_counts[std::size_t(cell)];
      ++plan.controls;
    } else {
      const std::int64_t entry = table.entry(cell, table.find_pert(fields.pert->as_string(i)));
      plan.entry[i] = entry;
      ++table.replicates[std::size_t(entry)];
      table.observed[std::size_t(entry)] = 1;
      ++plan.treated;
    }
  }
  return plan;
}

void subtract_controls(PerturbationTable& table, ControlCentering center, const std::string& source) {
  if (center == ControlCentering::kNone) return;
  if (center == ControlCentering::kRequired) {
    std::string missing;
    for (std::int64_t c = 0; c < table.num_cells(); ++c)
      if (table.control_counts[std::size_t(c)] == 0) missing += (missing.empty() ? "" : ", ") + table.cells[c];
    TESSERA_CHECK(missing.empty(), source, ": control centering is required but these cell types have no control ",
                  "signatures: ", missing, "; add controls, change --control-types, or use --center auto");
  }
  for (std::int64_t c = 0; c < table.num_cells(); ++c) {
    if (table.control_counts[std::size_t(c)] == 0) continue;
    for (std::int64_t p = 0; p < table.num_perts(); ++p) {
      const std::int64_t e = table.entry(c, p);
      if (table.observed[std::size_t(e)]) table.signature(e) -= table.controls.col(c);
    }
  }
}

// LINCS2020 beta names the cell line `cell_iname` (its siginfo has no cell_id), older releases `cell_id`: the
// default cell field falls back to cell_iname when the metadata has no cell_id, so both read without an option. A
// field named explicitly (any other name) has no fallback.
const MetaColumn* cell_field(const MetaTable& cols, const std::string& name, const std::string& source) {
  const MetaColumn* field = cols.find(name);
  if (field == nullptr && name == AggregationOptions{}.cell_field) field = cols.find(kBetaCellField);
  return field != nullptr ? field : &cols.require(name, source);
}

}  // namespace

PerturbationTable aggregate(const engine::Context& ctx, LocalGctx<float> signatures, const AggregationOptions& options,
                            const std::string& source) {
  const MetaTable& cols = signatures.cols;
  const auto& range = signatures.signatures;
  const std::int64_t num_genes = std::int64_t(signatures.rows.size());
  // Checked on every rank and agreed on, so that one malformed block fails all ranks instead of hanging them.
  const bool range_ok = range.begin >= 0 && range.begin <= range.end && range.end <= std::int64_t(cols.size());
  const bool shape_ok = signatures.values.rows() == num_genes && signatures.values.cols() == range.size();
  const bool any_bad = engine::allreduce_any(ctx, !(range_ok && shape_ok));
  TESSERA_CHECK(range_ok, source, ": local signature range [", range.begin, ", ", range.end, ") is outside the ",
                cols.size(), " signatures");
  TESSERA_CHECK(shape_ok, source, ": local values are ", signatures.values.rows(), " x ", signatures.values.cols(),
                ", expected ", num_genes, " genes x ", range.size(), " signatures");
  TESSERA_CHECK(!any_bad, source, ": another rank's block of signatures is malformed (see its error)");

  Fields fields;
  fields.cell = cell_field(cols, options.cell_field, source);
  fields.pert = &cols.require(options.pert_field, source);
  fields.type = &cols.require(options.type_field, source);
  if (!options.dose.empty()) fields.dose = &cols.require(options.dose_field, source);
  if (!options.time.empty()) fields.time = &cols.require(options.time_field, source);

  PerturbationTable table;
  table.genes = signatures.rows.ids;
  if (const MetaColumn* symbols = signatures.rows.find("pr_gene_symbol")) {
    for (std::size_t g = 0; g < signatures.rows.size(); ++g) table.gene_symbols.push_back(symbols->as_string(g));
  }
  const SignaturePlan plan = plan_signatures(cols, options, fields, source, table);

  // Sums of the observed entries, and of the controls per cell (every rank knows from the metadata which entries
  // are observed, so the buffer is the size of the measurements). The sums become the table's signatures, divided
  // in place: the table's doubles are never held twice.
  table.index_observed();
  const std::int64_t num_observed = table.num_observed();
  Eigen::MatrixXd().swap(table.signatures);
  Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(num_genes, num_observed);
  Eigen::MatrixXd control_sums = Eigen::MatrixXd::Zero(num_genes, table.num_cells());
  std::int64_t first_bad = -1;
  for (std::int64_t j = 0; j < range.size(); ++j) {
    const std::size_t i = std::size_t(range.begin + j);
    const bool treated = plan.entry[i] >= 0, control = plan.control_cell[i] >= 0;
    if (!treated && !control) continue;
    const auto signature = signatures.values.col(j);
    if (first_bad < 0 && !signature.allFinite()) first_bad = std::int64_t(i);
    (treated ? sums.col(table.column_of[std::size_t(plan.entry[i])]) : control_sums.col(plan.control_cell[i])) +=
        signature.cast<double>();
  }
  // Agree on bad input before the allreduce, so every rank throws the same error instead of some hanging.
  const auto bad = engine::allgatherv(ctx, std::span<const std::int64_t>(&first_bad, 1));
  for (const std::int64_t i : bad) {
    TESSERA_CHECK(i < 0, source, ": signature '", cols.ids[std::size_t(i)], "' (column ", i,
                  ") has NaN or infinite values; remove it or repair the file");
  }
  signatures.values.resize(0, 0);  // summed: free the slab before the allreduce's buffers
  engine::allreduce_sum(ctx, sums);
  engine::allreduce_sum(ctx, control_sums);

  for (std::int64_t e = 0; e < table.num_entries(); ++e) {
    const std::int64_t column = table.column_of[std::size_t(e)];
    if (column >= 0) sums.col(column) /= double(table.replicates[std::size_t(e)]);
  }
  table.signatures = std::move(sums);
  table.controls = Eigen::MatrixXd::Zero(num_genes, table.num_cells());
  for (std::int64_t c = 0; c < table.num_cells(); ++c) {
    const int count = table.control_counts[std::size_t(c)];
    if (count > 0) table.controls.col(c) = control_sums.col(c) / count;
  }
  subtract_controls(table, options.center, source);

  const std::int64_t observed = table.num_observed(), num_entries = table.num_entries();
  engine::info("aggregate ", source, ": ", table.num_cells(), " cell types x ", table.num_perts(), " perturbations, ",
               observed, " observed entries (density ", 100.0 * double(observed) / double(num_entries), "%), ",
               plan.treated, " signatures pooled, ", plan.controls, " controls");
  return table;
}

}  // namespace tessera::io
